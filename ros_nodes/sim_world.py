"""sim_world: a ROS 2 node that simulates guide vehicles and owns the clock.

It plays the part Gazebo plays in a gz-sim run: it subscribes
``/model/<id>/cmd_vel`` (geometry_msgs/Twist), moves each vehicle with the
kinematic model of :mod:`vehicle.kinematics`, publishes
``/model/<id>/odometry`` (nav_msgs/Odometry) and ``/clock`` so every other
node runs on simulated time, ``rtf`` times faster than real time.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from rosgraph_msgs.msg import Clock

from ros_nodes import qos
from ros_nodes.contain import Contained
from ros_nodes.messages import make_odometry, map_frame, to_time
from vehicle.kinematics import KinematicVehicle

CMD_TIMEOUT_S = 0.5  # sim seconds without cmd_vel -> the model brakes to a stop
MAX_CATCHUP = 2  # sim steps per timer tick


@dataclass
class SimVehicle:
    id: str
    corridor: str
    model: KinematicVehicle
    cmd_v: float = 0.0
    cmd_w: float = 0.0
    cmd_at: float = -1.0


class SimWorldNode(Node):
    def __init__(self, rtf: float = 1.0, dt: float = 0.05, odom_every: int = 2) -> None:
        super().__init__("sim_world")
        self.rtf, self.dt, self.odom_every = rtf, dt, odom_every
        self.t = 0.0
        self.steps = 0
        self.vehicles: dict[str, SimVehicle] = {}
        self.odom_pubs: dict[str, object] = {}
        self.clock_pub = self.create_publisher(Clock, "/clock", 10)
        self._wall = time.monotonic()
        self.contained = Contained(self.get_logger())
        self.create_timer(dt / max(rtf, 1e-6) / 2, self.contained.wrap("step", self._tick))

    def spawn(self, vehicle_id: str, corridor: str, x: float, y: float, yaw: float) -> None:
        sv = SimVehicle(vehicle_id, corridor, KinematicVehicle(x, y, yaw))
        self.vehicles[vehicle_id] = sv

        def on_cmd(msg: Twist, sv: SimVehicle = sv) -> None:
            if math.isfinite(msg.linear.x) and math.isfinite(msg.angular.z):
                sv.cmd_v, sv.cmd_w, sv.cmd_at = msg.linear.x, msg.angular.z, self.t
            # else: as if no command came (the model brakes after CMD_TIMEOUT_S)

        self.create_subscription(
            Twist,
            f"/model/{vehicle_id}/cmd_vel",
            self.contained.wrap("cmd_vel", on_cmd),
            qos.CONTROL,
        )
        self.odom_pubs[vehicle_id] = self.create_publisher(
            Odometry, f"/model/{vehicle_id}/odometry", qos.STATE
        )

    def _tick(self) -> None:
        now = time.monotonic()
        due = int((now - self._wall) * self.rtf / self.dt)
        # At most MAX_CATCHUP steps at once; a bigger backlog (a starved CPU) is dropped, so
        # simulated time slows down instead of jumping ahead of the vehicles' control loops.
        for _ in range(min(due, MAX_CATCHUP)):
            self._step()
        if due > MAX_CATCHUP:
            self._wall = now
        elif due:
            self._wall += due * self.dt / self.rtf

    def _step(self) -> None:
        self.t += self.dt
        self.steps += 1
        for sv in self.vehicles.values():
            stale = self.t - sv.cmd_at > CMD_TIMEOUT_S
            sv.model.step(0.0 if stale else sv.cmd_v, 0.0 if stale else sv.cmd_w, self.dt)
        clk = Clock()
        clk.clock = to_time(self.t)
        self.clock_pub.publish(clk)
        if self.steps % self.odom_every == 0:
            for sv in self.vehicles.values():
                m = sv.model
                self.odom_pubs[sv.id].publish(  # type: ignore[attr-defined]
                    make_odometry(map_frame(sv.corridor), sv.id, self.t, m.x, m.y, m.yaw, m.v)
                )
