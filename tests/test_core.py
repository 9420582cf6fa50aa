"""The pure core: registry, missions, report handling, staleness."""

from __future__ import annotations

import networkx as nx
import pytest
from shapely import Point

from fleet.core import FleetCore, FleetError, MissionCompleted, VehicleWentOffline
from fleet.vehicles import MissionStatus, VehicleReport, VehicleStatus
from ros_nodes.path_follower import PathFollower
from sim_worlds.kinematics import KinematicVehicle


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
