"""The orchestrator core: vehicles, missions and route commands.

Pure and deterministic: every method takes the current time (seconds on the
orchestrator's clock, ROS time in deployment, sim time in simulation) and
returns what should happen (commands, events); adapters do the I/O. Nothing
here blocks, sleeps, reads a clock or touches a socket.
"""

from __future__ import annotations

from dataclasses import dataclass

import networkx as nx
from shapely import Point
from shapely.ops import substring

from fleet.routing import RoutingError, fastest_route
from fleet.vehicles import (
    Mission,
    MissionStatus,
    Vehicle,
    VehicleIdError,
    VehicleReport,
    VehicleStatus,
    validate_vehicle_id,
)
from maps.lane_graph import heading_out_of

ARRIVAL_TOLERANCE_M = 1.5
STOPPED_MPS = 0.1
NODE_SNAP_M = 5.0


class FleetError(ValueError):
    """A request the core refuses, with a message meant for the requester."""


@dataclass(frozen=True)
class RouteCommand:
    """Drive this timed path; ``seq`` orders commands per vehicle."""

    vehicle_id: str
    corridor: str
    mission_id: str
    seq: int
    issued_at: float
    goal: str
    waypoints: tuple[tuple[float, float, float], ...]  # x, y, planned time


@dataclass(frozen=True)
class VehicleChanged:
    vehicle_id: str


@dataclass(frozen=True)
class MissionCompleted:
    vehicle_id: str
    mission_id: str
    goal: str
    at: float


@dataclass(frozen=True)
class VehicleWentOffline:
    vehicle_id: str
    at: float


Event = VehicleChanged | MissionCompleted | VehicleWentOffline


class FleetCore:
    """State of all guide vehicles on all corridors."""

    def __init__(self, graphs: dict[str, nx.DiGraph], stale_after_s: float = 2.0) -> None:
        self.graphs = graphs
        self.stale_after_s = stale_after_s
        self.vehicles: dict[str, Vehicle] = {}
        self._seq = 0

    # -- registry -------------------------------------------------------
    def add_vehicle(self, vehicle_id: str, corridor: str, node: str, now: float) -> Vehicle:
        """Register a vehicle standing at a lane-graph node (its home spot)."""
        try:
            validate_vehicle_id(vehicle_id)
        except VehicleIdError as e:
            raise FleetError(str(e)) from None
        if vehicle_id in self.vehicles:
            raise FleetError(f"vehicle {vehicle_id!r} already exists")
        g = self._graph(corridor)
        if node not in g:
            raise FleetError(f"unknown node {node!r} on corridor {corridor}")
        attrs = g.nodes[node]
        heading = heading_out_of(g, node)
        v = Vehicle(vehicle_id, corridor, attrs["x"], attrs["y"], heading, node=node)
        self.vehicles[vehicle_id] = v
        return v

    def vehicle(self, vehicle_id: str) -> Vehicle:
        try:
            return self.vehicles[vehicle_id]
        except KeyError:
            raise FleetError(f"unknown vehicle {vehicle_id!r}") from None

    # -- missions -------------------------------------------------------
    def send_to(self, vehicle_id: str, goal: str, now: float) -> RouteCommand:
        """Plan the fastest route for an idle vehicle to ``goal``; return its command."""
        v = self.vehicle(vehicle_id)
        if v.mission is not None and v.mission.status is MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vehicle_id!r} is busy with mission {v.mission.id}")
        if v.status is VehicleStatus.OFFLINE:
            raise FleetError(f"vehicle {vehicle_id!r} is offline")
        g = self._graph(v.corridor)
        start = v.node or self._nearest_node(g, v.x, v.y)
        if start is None:
            raise FleetError(f"vehicle {vehicle_id!r} is not on the lane graph")
        try:
            route = fastest_route(g, start, goal)
        except RoutingError as e:
            raise FleetError(str(e)) from None
        self._seq += 1
        mission = Mission(f"m-{self._seq}", vehicle_id, goal, route, now, self._seq)
        v.mission = mission
        v.node = None
        v.status = VehicleStatus.HOLDING
        return RouteCommand(
            vehicle_id,
            v.corridor,
            mission.id,
            mission.seq,
            now,
            goal,
            tuple(route.timed_waypoints(now)),
        )

    # -- reports and time -----------------------------------------------
    def on_report(self, r: VehicleReport, now: float) -> list[Event]:
        """Fold a state report into the vehicle's state; stale or reordered reports are dropped."""
        v = self.vehicle(r.vehicle_id)
        if v.last_stamp is not None and r.stamp <= v.last_stamp:
            return []
        events: list[Event] = []
        v.last_stamp, v.last_report = r.stamp, now
        v.x, v.y, v.heading_rad, v.speed_mps = r.x, r.y, r.heading_rad, r.speed_mps
        m = v.mission
        if m is not None and m.status is MissionStatus.ACTIVE:
            self._track(m, r)
            v.lane_id = m.route.leg_at(m.progress_m).lane_id
            if m.route.length_m - m.progress_m <= ARRIVAL_TOLERANCE_M and r.speed_mps < STOPPED_MPS:
                m.status, m.completed_at = MissionStatus.COMPLETED, now
                v.history.append(m.id)
                v.node = m.goal
                events.append(MissionCompleted(v.id, m.id, m.goal, now))
        v.status = self._status_of(v)
        events.append(VehicleChanged(v.id))
        return events

    def tick(self, now: float) -> list[Event]:
        """Mark vehicles whose reports went stale as offline."""
        events: list[Event] = []
        for v in self.vehicles.values():
            seen = v.last_report
            stale = seen is not None and now - seen > self.stale_after_s
            if stale and v.status is not VehicleStatus.OFFLINE:
                v.status = VehicleStatus.OFFLINE
                events += [VehicleWentOffline(v.id, now), VehicleChanged(v.id)]
        return events

    # -- helpers --------------------------------------------------------
    def _graph(self, corridor: str) -> nx.DiGraph:
        try:
            return self.graphs[corridor]
        except KeyError:
            raise FleetError(f"unknown corridor {corridor!r}") from None

    def _status_of(self, v: Vehicle) -> VehicleStatus:
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            node = self.graphs[v.corridor].nodes[v.node] if v.node is not None else {}
            if node.get("stop_reason") == "zero_line":
                return VehicleStatus.AT_HANDOFF
            return VehicleStatus.IDLE
        return VehicleStatus.MOVING if v.speed_mps >= STOPPED_MPS else VehicleStatus.HOLDING

    @staticmethod
    def _track(m: Mission, r: VehicleReport) -> None:
        """Advance progress along the route, searching only near the last progress.

        A window keeps a vehicle on the yard's in-connector from being matched
        to the parallel out-connector 3.5 m away.
        """
        line = m.route.line
        lo = max(0.0, m.progress_m - 5.0)
        hi = min(line.length, m.progress_m + 5.0 + 10.0 * max(r.speed_mps, 1.0))
        window = substring(line, lo, hi)
        p = Point(r.x, r.y)
        along = lo + window.project(p)
        m.progress_m = max(m.progress_m, along)
        m.max_deviation_m = max(m.max_deviation_m, window.distance(p))

    @staticmethod
    def _nearest_node(g: nx.DiGraph, x: float, y: float) -> str | None:
        best, best_d = None, NODE_SNAP_M**2
        for n, a in g.nodes(data=True):
            d = (a["x"] - x) ** 2 + (a["y"] - y) ** 2
            if d <= best_d:
                best, best_d = n, d
        return best
