"""The pure core: registry, missions, report handling, staleness."""

from __future__ import annotations

import networkx as nx
import pytest
from shapely import Point

from fleet.core import FleetCore, FleetError, MissionCompleted, VehicleWentOffline
from fleet.vehicles import MissionStatus, VehicleReport, VehicleStatus
from vehicle.kinematics import KinematicVehicle
from vehicle.path_follower import PathFollower


@pytest.fixture
def core(graphs: dict[str, nx.DiGraph]) -> FleetCore:
    c = FleetCore(graphs, stale_after_s=2.0)
    c.add_vehicle("hn_01", "huu-nghi", "vn-spot-L1", 0.0)
    return c


def test_registry_rejects_bad_input(core: FleetCore) -> None:
    with pytest.raises(FleetError, match="invalid vehicle id 'hn-01'"):
        core.add_vehicle("hn-01", "huu-nghi", "vn-spot-L2", 0.0)
    with pytest.raises(FleetError, match="already exists"):
        core.add_vehicle("hn_01", "huu-nghi", "vn-spot-L2", 0.0)
    with pytest.raises(FleetError, match="unknown corridor"):
        core.add_vehicle("x_1", "lao-cai", "vn-spot-L2", 0.0)
    with pytest.raises(FleetError, match="unknown node"):
        core.add_vehicle("x_1", "huu-nghi", "nowhere", 0.0)
    with pytest.raises(FleetError, match="unknown vehicle 'ghost'"):
        core.send_to("ghost", "SL-E-zero", 0.0)
    with pytest.raises(FleetError, match="unknown vehicle"):
        core.on_report(VehicleReport("ghost", 1.0, 0, 0, 0, 0), 1.0)


def test_mission_command_and_busy_vehicle(core: FleetCore) -> None:
    cmd = core.send_to("hn_01", "SL-E-zero", 10.0)
    assert cmd.seq == 1 and cmd.issued_at == 10.0 and cmd.goal == "SL-E-zero"
    assert cmd.waypoints[0][2] == 10.0
    with pytest.raises(FleetError, match="busy"):
        core.send_to("hn_01", "vn-spot-L2", 11.0)
    assert core.vehicles["hn_01"].mission is not None
    with pytest.raises(FleetError, match="unknown goal node"):
        core.add_vehicle("hn_02", "huu-nghi", "vn-spot-L2", 0.0)
        core.send_to("hn_02", "E1:start", 0.0)  # a traditional lane node


def test_out_of_order_and_duplicate_reports_are_dropped(core: FleetCore) -> None:
    v = core.vehicles["hn_01"]
    assert core.on_report(VehicleReport("hn_01", 5.0, v.x + 1, v.y, 0, 0), 5.0)
    x_after = v.x
    assert core.on_report(VehicleReport("hn_01", 5.0, 999, 999, 0, 0), 5.1) == []
    assert core.on_report(VehicleReport("hn_01", 4.0, 999, 999, 0, 0), 5.2) == []
    assert v.x == x_after


def test_stale_vehicle_goes_offline_and_cannot_take_missions(core: FleetCore) -> None:
    v = core.vehicles["hn_01"]
    core.on_report(VehicleReport("hn_01", 1.0, v.x, v.y, 0, 0), 1.0)
    assert core.tick(2.9) == []
    events = core.tick(3.1)
    assert VehicleWentOffline("hn_01", 3.1) in events
    assert v.status is VehicleStatus.OFFLINE
    assert core.tick(4.0) == []  # reported once
    with pytest.raises(FleetError, match="offline"):
        core.send_to("hn_01", "SL-E-zero", 4.0)


def test_vehicle_reaches_handoff_point_along_the_planned_lanes(
    core: FleetCore, graphs: dict[str, nx.DiGraph]
) -> None:
    """In-process loop (no DDS): core -> follower -> kinematics -> reports -> core."""
    cmd = core.send_to("hn_01", "SL-E-zero", 0.0)
    v = core.vehicles["hn_01"]
    k = KinematicVehicle(v.x, v.y, v.heading_rad)
    follower = PathFollower(list(cmd.waypoints), k.params.max_speed_mps)
    route = v.mission.route if v.mission else None
    assert route is not None
    lanes_geom = route.line.buffer(1.75)  # half a lane width
    t, completed = 0.0, []
    while t < 400 and not completed:
        out = follower.command(k.x, k.y, k.yaw, k.v)
        k.step(out.speed_mps, out.yaw_rate, 0.05)
        t += 0.05
        assert lanes_geom.contains(Point(k.x, k.y)), f"left the planned lanes at t={t:.1f}"
        events = core.on_report(VehicleReport("hn_01", t, k.x, k.y, k.yaw, k.v), t)
        completed = [e for e in events if isinstance(e, MissionCompleted)]
    assert completed and completed[0].goal == "SL-E-zero"
    assert v.status is VehicleStatus.AT_HANDOFF
    assert v.mission is not None and v.mission.status is MissionStatus.COMPLETED
    goal = graphs["huu-nghi"].nodes["SL-E-zero"]
    assert Point(k.x, k.y).distance(Point(goal["x"], goal["y"])) < 1.5
    # It took about the free-flow time (accelerating and braking cost a little).
    assert route.free_flow_s < t < route.free_flow_s * 1.2


def test_commands_share_one_increasing_sequence_and_stay_pending_until_acked(
    core: FleetCore,
) -> None:
    from fleet.core import AckStatus, CommandAck, CommandAcked, ModeKind

    r = core.send_to("hn_01", "SL-E-zero", 1.0, reserve_to_m=50.0)
    ext = core.extend("hn_01", 80.0, 2.0)
    p = core.pause("hn_01", 3.0)
    assert (r.seq, ext.seq, p.seq) == (1, 2, 3) and p.kind is ModeKind.PAUSE
    assert r.reservation_end_m == 50.0 and ext.reservation_end_m == 80.0
    assert ext.waypoints == r.waypoints and ext.mission_id == r.mission_id
    assert r.lanes[0][1] == 0.0 and "E-AUTO" in {lane for lane, _ in r.lanes}
    assert set(core.pending) == {("hn_01", 1), ("hn_01", 2), ("hn_01", 3)}
    # Not acknowledged within the ack timeout: re-sent as they were (same seq).
    assert core.due_commands(3.5) == [r, ext]
    assert core.due_commands(3.6) == []
    ev = core.on_ack(CommandAck("hn_01", 2, AckStatus.ACCEPTED, 4.0), 4.0)
    assert ev == [CommandAcked("hn_01", 2, AckStatus.ACCEPTED, 2.0)]
    core.on_ack(CommandAck("hn_01", 1, AckStatus.OUT_OF_ORDER, 4.0), 4.0)
    core.on_ack(CommandAck("hn_01", 3, AckStatus.DUPLICATE, 4.0), 4.0)
    assert core.pending == {} and core.acked_seq["hn_01"] == 3
    assert core.on_ack(CommandAck("hn_01", 3, AckStatus.DUPLICATE, 4.1), 4.1) == []
    assert core.vehicles["hn_01"].paused
    assert core.resume("hn_01", 5.0).seq == 4 and not core.vehicles["hn_01"].paused


def test_vehicle_waiting_after_a_link_loss_gets_a_resume_unless_paused(core: FleetCore) -> None:
    from fleet.core import ModeKind
    from fleet.vehicles import VehicleMode

    v = core.vehicles["hn_01"]
    core.send_to("hn_01", "SL-E-zero", 0.0)
    core.pending.clear()
    waiting = VehicleReport(
        "hn_01", 1.0, v.x, v.y, 0, 0, mode=VehicleMode.SAFE_STOP, faults=("heartbeat_lost",)
    )
    core.on_report(waiting, 1.0)
    (cmd,) = core.due_commands(1.0)
    assert cmd.kind is ModeKind.RESUME  # type: ignore[union-attr]
    core.pending.clear()
    core.pause("hn_01", 1.1)
    core.pending.clear()
    assert core.due_commands(5.0) == []


def test_offline_vehicle_keeps_its_reserved_stretch_blocked(core: FleetCore) -> None:
    v = core.vehicles["hn_01"]
    core.send_to("hn_01", "SL-E-zero", 0.0, reserve_to_m=200.0)
    m = v.mission
    assert m is not None
    x, y = m.route.line.interpolate(120.0).coords[0]
    core.on_report(VehicleReport("hn_01", 1.0, x, y, 0, 5.0), 1.0)
    core.on_report(VehicleReport("hn_01", 1.1, x, y, 0, 5.0), 1.1)
    (held,) = core.reserved_stretches()
    assert held.to_m == 200.0 and held.from_m == pytest.approx(m.progress_m)
    assert core.offline_vehicles() == []
    core.tick(10.0)
    (off,) = core.offline_vehicles()
    assert off.since == 10.0 and (off.x, off.y) == (x, y)
    assert off.blocked.from_m == pytest.approx(m.progress_m - 16.5)
    assert off.blocked.to_m == 200.0 and "E-AUTO" in off.blocked.lanes
    # Heard again: online, nothing listed any more.
    core.on_report(VehicleReport("hn_01", 11.0, x, y, 0, 0.0), 11.0)
    assert v.status is not VehicleStatus.OFFLINE and core.offline_vehicles() == []
