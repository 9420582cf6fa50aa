"""50 guide vehicles over real DDS, driven by the orchestrator through a scenario with
no conflict: columns on both corridors' reserved export and import lanes, each vehicle
holding a reservation that ends a safe distance behind the one ahead's, started one
after another, then extended. The simulator's ground truth is recorded and checked:
no two vehicles on a lane ever closer than 24.5 m front to front (vehicle length plus
the minimum gap), nobody past its reservation, every command acknowledged."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import networkx as nx
import pytest
import rclpy
from rclpy.executors import SingleThreadedExecutor
from shapely import Point

from fleet.routing import Route, fastest_route
from fleet.traffic.timed_route import SeparationRules
from maps.corridor_map import CorridorMap
from ros_nodes.fleet_bridge import FleetBridgeNode
from ros_nodes.guide_vehicle import GuideVehicleNode
from ros_nodes.sim_world import SimWorldNode
from smartgate.services.orchestrator import Orchestrator

pytestmark = [pytest.mark.ros, pytest.mark.slow]
RTF = 1.0
SPACING_M = 32.0  # initial front-to-front spacing in a column
DRIVE_M = 60.0  # first reservation: this far ahead of each vehicle's start
EXTEND_M = 25.0  # then every reservation is extended by this much
STAGGER_S = 0.4  # each vehicle starts this long after the one ahead of it
LANES = (  # corridor, start spot, goal, reserved lane, vehicles
    ("huu-nghi", "vn-spot-L1", "SL-E-zero", "E-AUTO", 13),
    ("huu-nghi", "cn-spot-L1", "SL-I-zero", "I-AUTO", 13),
    ("tan-thanh", "vn-spot-L1", "SL-E-zero", "E-AUTO", 12),
    ("tan-thanh", "cn-spot-L1", "SL-I-zero", "I-AUTO", 12),
)


@pytest.fixture
def ros() -> Iterator[None]:
    rclpy.init()
    try:
        yield
    finally:
        rclpy.shutdown()


def _pose_at(route: Route, s: float) -> tuple[float, float, float]:
    p, q = route.line.interpolate(s), route.line.interpolate(s + 1.0)
    return float(p.x), float(p.y), math.atan2(q.y - p.y, q.x - p.x)


def test_fifty_vehicles_drive_their_reservations_without_conflict(
    ros: None, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    t_wall = time.monotonic()
    orch = Orchestrator(maps, graphs, stale_after_s=3.0)
    sim = SimWorldNode(rtf=RTF)
    ex = SingleThreadedExecutor()
    ex.add_node(sim)
    plan: list[tuple[str, str, Route, float]] = []  # id, lane, route, start along route
    for corridor, spot, goal, lane, n in LANES:
        route = fastest_route(graphs[corridor], spot, goal)
        lane_start = next(leg.start_m for leg in route.legs if leg.lane_id == lane)
        assert lane_start + (n - 1) * SPACING_M + DRIVE_M + EXTEND_M < route.length_m
        for k in range(n):  # k = 0 is the rear of the column
            vid = f"{corridor[:2]}_{lane[0].lower()}{k:02d}"
            s0 = lane_start + k * SPACING_M
            x, y, yaw = _pose_at(route, s0)
            orch.core.add_vehicle(vid, corridor, "", 0.0, pose=(x, y, yaw))
            sim.spawn(vid, corridor, x, y, yaw)
            ex.add_node(GuideVehicleNode(vid, corridor, odom_timeout_s=1.0))
            plan.append((vid, f"{corridor}/{lane}", route, s0))
    assert len(plan) == 50
    bridge = FleetBridgeNode(orch)
    ex.add_node(bridge)
    track: dict[str, list[tuple[float, float, float]]] = {vid: [] for vid, *_ in plan}

    def spin_until(cond: object, wall_s: float) -> bool:
        end = time.monotonic() + wall_s
        last_t = -1.0
        while time.monotonic() < end:
            ex.spin_once(timeout_sec=0.005)
            if sim.t != last_t:  # record the simulator's ground truth once per step
                last_t = sim.t
                for vid, sv in sim.vehicles.items():
                    track[vid].append((sim.t, sv.model.x, sv.model.y))
            if cond():  # type: ignore[operator]
                return True
        return False

    vehicles = orch.core.vehicles
    assert spin_until(lambda: all(v.last_report is not None for v in vehicles.values()), 60)
    # Start the columns front first, each vehicle STAGGER_S after the one ahead.
    order = sorted(plan, key=lambda p: (-p[3], p[1]))
    for vid, _, route, s0 in order:
        start = sim.t + STAGGER_S
        assert spin_until(lambda start=start: sim.t >= start, 10)
        bridge.publish_command(
            orch.core.assign(vid, route, bridge.now(), reserve_to_m=s0 + DRIVE_M)
        )
    # Extend every reservation while they drive.
    assert spin_until(lambda: any(v.speed_mps > 4.0 for v in vehicles.values()), 30)
    for vid, _, _, s0 in order:
        orch.extend(vid, s0 + DRIVE_M + EXTEND_M, bridge.now())

    def all_holding() -> bool:
        return all(
            v.mode is not None and v.mode.value == "holding" and v.speed_mps == 0.0
            for v in vehicles.values()
        )

    assert spin_until(all_holding, 120), sorted(
        (v.id, v.mode, round(v.speed_mps, 2)) for v in vehicles.values() if v.mode != "holding"
    )
    wall = time.monotonic() - t_wall
    assert spin_until(lambda: not orch.core.pending, 10), orch.core.pending.keys()
    ex.remove_node(bridge)
    for n in list(ex.get_nodes()):
        ex.remove_node(n)
        n.destroy_node()

    # Every vehicle stopped at the end of its extended reservation, never beyond it.
    for vid, _, route, s0 in plan:
        line = route.line
        along = [line.project(Point(x, y)) for _, x, y in track[vid]]
        end = s0 + DRIVE_M + EXTEND_M
        assert max(along) <= end, f"{vid} drove {max(along) - end:.2f} m past its reservation"
        assert along[-1] > end - 2.0, f"{vid} stopped {end - along[-1]:.1f} m short"
    # No two vehicles on the same lane ever closer than the minimum spacing.
    rules = SeparationRules()
    by_lane: dict[str, list[str]] = {}
    for vid, lane, _, _ in plan:
        by_lane.setdefault(lane, []).append(vid)
    closest = math.inf
    for vids in by_lane.values():
        for i, a in enumerate(vids):
            for b in vids[i + 1 :]:
                n = min(len(track[a]), len(track[b]))
                for (_, xa, ya), (_, xb, yb) in zip(track[a][:n], track[b][:n], strict=True):
                    closest = min(closest, math.hypot(xa - xb, ya - yb))
    assert closest >= rules.min_spacing_m, f"closest approach {closest:.2f} m"
    assert wall < 120, f"scenario took {wall:.0f} s"
