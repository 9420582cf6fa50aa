"""The thin path through every layer over real DDS (rclpy + Fast DDS on loopback).

map -> lane graph -> route (core) -> nav_msgs/Path (fleet_bridge) -> guide_vehicle
-> cmd_vel -> sim_world -> odometry -> guide_vehicle state -> fleet_bridge -> core
-> API. All nodes run in this process on one executor; the simulator runs
faster than real time and every other node follows its /clock.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import networkx as nx
import pytest
import rclpy
from fastapi.testclient import TestClient
from rclpy.executors import SingleThreadedExecutor
from shapely import Point

from api.app import create_app
from maps.corridor_map import CorridorMap
from maps.queries import handoff_points
from ros_nodes.fleet_bridge import FleetBridgeNode
from ros_nodes.guide_vehicle import GuideVehicleNode
from ros_nodes.sim_world import SimWorldNode
from smartgate.services.orchestrator import Orchestrator
from tests.api.apikit import FAST_HASHER, login

pytestmark = pytest.mark.ros
RTF = 4.0  # 6 was flaky on a loaded 2-core machine (control lag in curves)


class World:
    def __init__(self, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> None:
        self.orch = Orchestrator(maps, graphs)
        self.sim = SimWorldNode(rtf=RTF)
        self.vehicles: dict[str, GuideVehicleNode] = {}
        self.ex = SingleThreadedExecutor()
        self.ex.add_node(self.sim)
        self.views: list[dict[str, Any]] = []
        self.orch.listeners.append(lambda events, views: self.views.extend(views))
        self.bridge: FleetBridgeNode | None = None

    def add(self, vid: str, corridor: str, home: str) -> None:
        v = self.orch.add_vehicle(vid, corridor, home, 0.0)
        self.sim.spawn(vid, corridor, v.x, v.y, v.heading_rad)
        node = GuideVehicleNode(vid, corridor, odom_timeout_s=0.25 * RTF)
        self.vehicles[vid] = node
        self.ex.add_node(node)

    def start_bridge(self) -> FleetBridgeNode:
        self.bridge = FleetBridgeNode(self.orch)
        self.ex.add_node(self.bridge)
        return self.bridge

    def spin_until(self, cond: Any, wall_s: float) -> bool:
        end = time.monotonic() + wall_s
        while time.monotonic() < end:
            self.ex.spin_once(timeout_sec=0.01)
            if cond():
                return True
        return False

    def close(self) -> None:
        for n in list(self.ex.get_nodes()):
            self.ex.remove_node(n)
            n.destroy_node()


@pytest.fixture
def world(maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> Iterator[World]:
    rclpy.init()
    w = World(maps, graphs)
    try:
        yield w
    finally:
        w.close()
        rclpy.shutdown()


def test_guide_vehicle_reaches_the_handoff_point_along_the_planned_lanes(
    world: World, graphs: dict[str, nx.DiGraph]
) -> None:
    world.add("hn_01", "huu-nghi", "vn-spot-L1")
    bridge = world.start_bridge()
    core_v = world.orch.core.vehicles["hn_01"]
    assert world.spin_until(lambda: core_v.last_report is not None, 20), "no state over DDS"
    goal = handoff_points(graphs["huu-nghi"])["export"]
    world.orch.send_to("hn_01", goal, bridge.now())
    route = core_v.mission.route if core_v.mission else None
    assert route is not None

    def done() -> bool:
        return any(e["event"] == "mission_completed" for e in world.orch.log)

    assert world.spin_until(done, route.free_flow_s * 1.6 / RTF + 30), world.orch.log
    # Every state the orchestrator received lies on the planned lanes.
    lanes = route.line.buffer(1.75)
    positions = [(v["x_m"], v["y_m"]) for v in world.views if v["id"] == "hn_01"]
    assert len(positions) > 100
    off = [p for p in positions if not lanes.contains(Point(p))]
    assert not off, f"{len(off)} reports off the planned lanes, e.g. {off[:3]}"
    g = graphs["huu-nghi"]
    assert Point(core_v.x, core_v.y).distance(Point(g.nodes[goal]["x"], g.nodes[goal]["y"])) < 1.5
    assert core_v.status.value == "at_handoff"
    # The vehicle did not cross the zero line (it has no accepted handoff).
    cmap_side = world.orch.maps["huu-nghi"].side_of
    assert all(cmap_side(x, y) == "VN" for x, y in positions)
    # The API serves the vehicle's live position.
    with TestClient(create_app(world.orch, hasher=FAST_HASHER)) as client:
        login(client, "viewer")
        (v,) = [x for x in client.get("/api/v1/vehicles").json() if x["id"] == "hn_01"]
    assert v["status"] == "at_handoff" and v["mission"]["progress"] > 0.99
    assert v["lane_id"] == "E-AUTO"


def test_vehicle_stops_when_the_orchestrator_heartbeat_is_lost(world: World) -> None:
    world.add("hn_01", "huu-nghi", "vn-spot-L1")
    bridge = world.start_bridge()
    core_v = world.orch.core.vehicles["hn_01"]
    assert world.spin_until(lambda: core_v.last_report is not None, 20)
    world.orch.send_to("hn_01", "SL-E-zero", bridge.now())
    sim_v = world.sim.vehicles["hn_01"].model
    assert world.spin_until(lambda: sim_v.v > 2.5, 60 / RTF + 10), "vehicle never got going"
    # The orchestrator dies: no more heartbeats, no more anything from it.
    world.ex.remove_node(bridge)
    bridge.destroy_node()
    lost_at = world.sim.t
    node = world.vehicles["hn_01"]
    assert world.spin_until(lambda: sim_v.v == 0.0, 30), "vehicle kept moving"
    stopped_after = world.sim.t - lost_at
    # heartbeat timeout + braking from <= 2.8 m/s at the comfort deceleration + jitter
    assert stopped_after < node.hb_timeout + 2.8 / 1.0 + 1.0
    x, y = sim_v.x, sim_v.y
    world.spin_until(lambda: False, 1.0)
    assert (sim_v.x, sim_v.y) == (x, y), "vehicle moved again without an orchestrator"


def test_bridge_publishes_map_and_fleet_markers_for_rviz(world: World) -> None:
    from visualization_msgs.msg import Marker, MarkerArray

    from ros_nodes import qos

    world.add("hn_01", "huu-nghi", "vn-spot-L1")
    world.start_bridge()
    viewer = rclpy.create_node("viewer")
    world.ex.add_node(viewer)
    maps_seen: list[MarkerArray] = []
    fleet_seen: list[MarkerArray] = []
    # Subscribing after the map was published: transient local still delivers it.
    viewer.create_subscription(MarkerArray, "/fleet/markers/map", maps_seen.append, qos.LATCHED)
    viewer.create_subscription(MarkerArray, "/fleet/markers/fleet", fleet_seen.append, qos.CONTROL)
    assert world.spin_until(lambda: len(maps_seen) >= 2 and fleet_seen, 20)
    frames = {m.header.frame_id for arr in maps_seen for m in arr.markers}
    assert frames == {"huu-nghi/map", "tan-thanh/map"}
    lanes = [m for arr in maps_seen for m in arr.markers if m.ns.endswith("/lanes")]
    assert len({(m.ns, m.id) for m in lanes}) == len(lanes)  # no id collisions across corridors
    boxes = [m for m in fleet_seen[-1].markers if m.ns == "vehicles"]
    assert [b.text for b in boxes] == ["hn_01"] and boxes[0].type == Marker.CUBE
    assert boxes[0].scale.x == pytest.approx(16.5)
