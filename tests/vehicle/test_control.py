"""Vehicle-side path following and the kinematic model."""

from __future__ import annotations

import math

import pytest

from fleet.vehicles import VehicleParams
from vehicle.kinematics import KinematicVehicle
from vehicle.path_follower import PathFollower


def _drive(wps: list[tuple[float, float, float]], seconds: float) -> tuple[KinematicVehicle, float]:
    k = KinematicVehicle(
        wps[0][0], wps[0][1], math.atan2(wps[1][1] - wps[0][1], wps[1][0] - wps[0][0])
    )
    f = PathFollower(wps, k.params.max_speed_mps)
    max_x = -math.inf
    for _ in range(int(seconds / 0.05)):
        c = f.command(k.x, k.y, k.yaw, k.v)
        k.step(c.speed_mps, c.yaw_rate, 0.05)
        max_x = max(max_x, k.x)
    return k, max_x


def test_stops_at_the_end_of_its_path_and_never_beyond() -> None:
    wps = [(float(x), 0.0, x / 5.0) for x in range(0, 101, 2)]
    k, max_x = _drive(wps, 60.0)
    assert k.v == pytest.approx(0.0, abs=1e-6)
    assert 99.5 <= k.x <= 100.0 + 1e-6
    assert max_x <= 100.0 + 1e-6  # never overshoots the end of its reservation


def test_holds_planned_speed_from_waypoint_times() -> None:
    wps = [(float(x), 0.0, x / 3.0) for x in range(0, 301, 2)]  # 3 m/s planned
    k = KinematicVehicle(0.0, 0.0, 0.0)
    f = PathFollower(wps, 7.0)
    for _ in range(400):  # 20 s
        c = f.command(k.x, k.y, k.yaw, k.v)
        k.step(c.speed_mps, c.yaw_rate, 0.05)
    assert k.v == pytest.approx(3.0, abs=0.05)


def test_kinematics_respect_acceleration_and_braking_limits() -> None:
    p = VehicleParams()
    k = KinematicVehicle(0.0, 0.0, 0.0, params=p)
    k.step(100.0, 0.0, 1.0)
    assert k.v == pytest.approx(p.max_accel_mps2)
    k.v = 6.0
    k.step(0.0, 0.0, 1.0)
    assert k.v == pytest.approx(6.0 - p.max_decel_mps2)
    k.step(0.0, 0.0, 10.0)
    assert k.v == 0.0


def test_rejects_degenerate_paths() -> None:
    with pytest.raises(ValueError, match="at least two"):
        PathFollower([(0.0, 0.0, 0.0)], 5.0)
