"""The guide vehicle's logic without ROS: the rules both simulation modes share."""

from __future__ import annotations

import math

from fleet.core import AckStatus, ModeKind
from fleet.vehicles import VehicleMode
from vehicle.brain import ZERO_LINE_MARGIN_M, VehicleBrain
from vehicle.kinematics import KinematicVehicle

PATH = [(float(x), 0.0, x / 5.0) for x in range(0, 201, 10)]  # 200 m along +x at 5 m/s
ZERO = [(120.0, -10.0), (120.0, 10.0)]  # a zero line across the path at x = 120


def _brain() -> VehicleBrain:
    b = VehicleBrain("v1", ZERO)
    b.heartbeat(0.0)
    b.odometry(0.0)
    return b


def _route(b: VehicleBrain, seq: int, end: float, accepted: bool = False, mission: str = "m"):
    return b.on_route(
        vehicle_id="v1",
        seq=seq,
        mission_id=mission,
        waypoints=PATH,
        reservation_end_m=end,
        handoff_accepted=accepted,
        lanes=[("E-AUTO", 0.0)],
    )


def _drive(b: VehicleBrain, m: KinematicVehicle, t0: float, seconds: float, **kw) -> float:
    t = t0
    while t < t0 + seconds:
        t += 0.05
        b.heartbeat(t) if kw.get("heartbeat", True) else None
        b.odometry(t)
        d = b.control(t, m.x, m.y, m.yaw, m.v, 0.05, kw.get("obstacle"))
        m.step(d.speed_mps, d.yaw_rate, 0.05)
    return t


def test_sequence_numbers_duplicates_and_wrong_addressee() -> None:
    b = _brain()
    assert _route(b, 5, 50.0).status is AckStatus.ACCEPTED
    assert _route(b, 5, 80.0).status is AckStatus.DUPLICATE
    assert _route(b, 4, 80.0).status is AckStatus.OUT_OF_ORDER
    assert b.reservation_end_m == 50.0
    other = b.on_route(
        vehicle_id="v2",
        seq=9,
        mission_id="m",
        waypoints=PATH,
        reservation_end_m=80.0,
        handoff_accepted=False,
        lanes=[],
    )
    assert other.status is AckStatus.REJECTED
    ext = _route(b, 6, 80.0)
    assert ext.status is AckStatus.ACCEPTED and "extension" in ext.detail


def test_stops_at_reservation_end_and_never_crosses_the_zero_line_unaccepted() -> None:
    b, m = _brain(), KinematicVehicle(0.0, 0.0, 0.0)
    _route(b, 1, 200.0)  # reservation across the line, handoff not accepted
    assert b.reservation_end_m == 120.0 - ZERO_LINE_MARGIN_M
    t = _drive(b, m, 0.0, 80.0)
    assert m.x < 120.0 and m.v == 0.0 and b.mode is VehicleMode.HOLDING
    _route(b, 2, 200.0, accepted=True)
    _drive(b, m, t, 40.0)
    assert m.x > 190.0


def test_estop_is_immediate_pause_is_a_controlled_stop() -> None:
    b, m = _brain(), KinematicVehicle(0.0, 0.0, 0.0)
    _route(b, 1, 200.0, accepted=True)
    t = _drive(b, m, 0.0, 10.0)
    assert b.on_mode(2, ModeKind.PAUSE, "v1", "test").status is AckStatus.ACCEPTED
    d = b.control(t + 0.05, m.x, m.y, m.yaw, m.v, 0.05)
    assert 0.0 < d.speed_mps < m.v and not d.hard_brake  # ramps down at comfort decel
    b.on_mode(3, ModeKind.ESTOP, "v1", "test")
    d = b.control(t + 0.1, m.x, m.y, m.yaw, m.v, 0.05)
    assert d.speed_mps == 0.0 and d.hard_brake and b.mode is VehicleMode.ESTOPPED
    assert b.on_mode(3, ModeKind.RESUME, "v1", "").status is AckStatus.DUPLICATE
    assert b.on_mode(4, ModeKind.RESUME, "v1", "").status is AckStatus.ACCEPTED
    assert not b.estopped and not b.paused


def test_heartbeat_loss_latches_a_safe_stop_until_a_new_command() -> None:
    b, m = _brain(), KinematicVehicle(0.0, 0.0, 0.0)
    _route(b, 1, 200.0, accepted=True)
    t = _drive(b, m, 0.0, 10.0)
    t = _drive(b, m, t, 12.0, heartbeat=False)
    assert m.v == 0.0 and b.safe_stop and "heartbeat_lost" in b.faults
    t = _drive(b, m, t, 2.0)  # heard again: still waits for the orchestrator
    assert m.v == 0.0 and b.mode is VehicleMode.SAFE_STOP
    _route(b, 2, 200.0, accepted=True)
    _drive(b, m, t, 5.0)
    assert m.v > 1.0


def test_forward_sensor_stops_short_of_an_obstacle() -> None:
    b, m = _brain(), KinematicVehicle(0.0, 0.0, 0.0)
    _route(b, 1, 200.0, accepted=True)
    t = 0.0
    for _ in range(1200):
        t += 0.05
        b.heartbeat(t)
        b.odometry(t)
        d = b.control(t, m.x, m.y, m.yaw, m.v, 0.05, obstacle_m=max(0.0, 60.0 - m.x))
        m.step(d.speed_mps, d.yaw_rate, 0.05)
    assert 50.0 < m.x < 60.0 and m.v == 0.0  # stopped a few metres short
    assert b.obstacle_stop


def test_battery_drains_with_distance_and_time() -> None:
    b, m = _brain(), KinematicVehicle(0.0, 0.0, 0.0)
    _route(b, 1, 200.0, accepted=True)
    _drive(b, m, 0.0, 30.0)
    used = 1.0 - b.battery_soc
    assert 0.0 < used < 0.01
    r = b.report(30.0, m.x, m.y, m.yaw, m.v)
    assert (
        r.lane_id == "E-AUTO"
        and r.progress_m is not None
        and math.isclose(r.battery_soc or 0.0, b.battery_soc)
    )


def test_a_route_with_a_number_that_is_not_finite_is_refused_and_changes_nothing() -> None:
    b = _brain()
    assert _route(b, 1, 50.0).status is AckStatus.ACCEPTED
    bad_path = [*PATH[:3], (math.nan, 0.0, 1.0), *PATH[4:]]
    refused = b.on_route(
        vehicle_id="v1",
        seq=2,
        mission_id="other",  # a new path: its waypoints are checked
        waypoints=bad_path,
        reservation_end_m=80.0,
        handoff_accepted=False,
        lanes=[],
    )
    assert refused.status is AckStatus.REJECTED and "not finite" in refused.detail
    assert _route(b, 3, math.nan).status is AckStatus.REJECTED
    assert b.mission_id == "m" and b.reservation_end_m == 50.0 and b.route_seq == 1
    assert _route(b, 4, 80.0).status is AckStatus.ACCEPTED  # the old path, extended
    assert b.reservation_end_m == 80.0
