"""Kinematic bicycle model of a guide vehicle (tractor with a 40 ft container).

The same model serves the ROS simulator node and in-process simulation, so
both modes move vehicles identically. Inputs follow the Gazebo
AckermannSteering convention: a Twist with forward speed (linear.x) and yaw
rate (angular.z); the model turns these into a speed change within the
acceleration/braking limits and a steering angle within the steering limit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from fleet.vehicles import VehicleParams


@dataclass
class KinematicVehicle:
    x: float
    y: float
    yaw: float
    v: float = 0.0
    params: VehicleParams = field(default_factory=VehicleParams)

    def step(self, cmd_v: float, cmd_yaw_rate: float, dt: float) -> None:
        """Advance ``dt`` seconds under a (speed, yaw rate) command."""
        p = self.params
        target = max(0.0, min(cmd_v, p.max_speed_mps))
        dv = target - self.v
        dv = max(-p.max_decel_mps2 * dt, min(p.max_accel_mps2 * dt, dv))
        self.v = max(0.0, self.v + dv)
        if self.v > 1e-3:
            steer = math.atan2(cmd_yaw_rate * p.wheelbase_m, self.v)
            steer = max(-p.max_steer_rad, min(p.max_steer_rad, steer))
            self.yaw += self.v / p.wheelbase_m * math.tan(steer) * dt
            self.yaw = math.atan2(math.sin(self.yaw), math.cos(self.yaw))
        self.x += self.v * math.cos(self.yaw) * dt
        self.y += self.v * math.sin(self.yaw) * dt
