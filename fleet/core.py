"""The orchestrator core: vehicles, missions, commands and their acknowledgements.

Pure and deterministic: every method takes the current time (seconds on the
orchestrator's clock, ROS time in deployment, sim time in simulation) and
returns what should happen (commands, events); adapters do the I/O. Nothing
here blocks, sleeps, reads a clock or touches a socket.

Every command to a vehicle (route, reservation extension, handoff acceptance,
pause, resume, e-stop) carries a sequence number from one counter, so it is
strictly increasing per vehicle; the vehicle ignores what is not newer than
the last command it took on the same topic and says so in its ack. Commands
stay pending until acknowledged and :meth:`FleetCore.due_commands` re-sends
them (same seq: a vehicle that had it acks DUPLICATE).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum

import networkx as nx
from shapely import Point
from shapely.ops import substring

from fleet.routing import Route, RoutingError, fastest_route
from fleet.vehicles import (
    GUIDE_VEHICLE,
    Mission,
    MissionStatus,
    Vehicle,
    VehicleIdError,
    VehicleMode,
    VehicleReport,
    VehicleStatus,
    validate_vehicle_id,
)
from maps.lane_graph import heading_out_of, node_attrs
from maps.queries import nearest_node

ARRIVAL_TOLERANCE_M = 1.5
STOPPED_MPS = 0.1
NODE_SNAP_M = 5.0
VEHICLE_LENGTH_M = GUIDE_VEHICLE.length_m  # the stretch behind a last known front
ACK_TIMEOUT_S = 1.0  # re-send a command not acknowledged within this time
# A report stamped further ahead of the orchestrator clock than this is refused: taken, it
# would make the vehicle's genuine reports look stale until its clock caught up, so a
# forged one can hide a vehicle's reports this long at most (it is marked offline after
# stale_after_s and planned around meanwhile). Not smaller: on simulated time the
# orchestrator's clock is only as fresh as the last /clock its busy executor took, and it
# lagged its vehicles' by more than 2 s in the soak under stress-ng (with 2 s, 19 of
# 248,191 genuine reports were refused as from the future).
MAX_CLOCK_SKEW_S = 10.0


class FleetError(ValueError):
    """A request the core refuses, with a message meant for the requester."""


class ReportRefused(FleetError):
    """A vehicle report the core will not fold in (nothing changed); ``reason`` is one of
    ``malformed`` (a number that is not finite) or ``future`` (stamped ahead of the clock
    by more than the allowed skew)."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass(frozen=True)
class RouteCommand:
    """Drive this timed path, up to ``reservation_end_m`` along it; ``seq`` orders commands."""

    vehicle_id: str
    corridor: str
    mission_id: str
    seq: int
    issued_at: float
    goal: str
    waypoints: tuple[tuple[float, float, float], ...]  # x, y, planned time
    reservation_end_m: float = float("inf")  # clamped to the path by the vehicle
    handoff_accepted: bool = False
    lanes: tuple[tuple[str, float], ...] = ()  # (lane id, start along the path in m)


class ModeKind(StrEnum):
    PAUSE = "pause"  # controlled stop (deceleration limit), route kept
    RESUME = "resume"  # release pause / e-stop / safe stop
    ESTOP = "estop"  # hard brake now


@dataclass(frozen=True)
class ModeCommand:
    vehicle_id: str
    seq: int
    issued_at: float
    kind: ModeKind
    reason: str = ""


Command = RouteCommand | ModeCommand


class AckStatus(StrEnum):
    ACCEPTED = "accepted"
    DUPLICATE = "duplicate"
    OUT_OF_ORDER = "out_of_order"
    REJECTED = "rejected"


@dataclass(frozen=True)
class CommandAck:
    """A vehicle's answer to the command ``seq`` (from its ack topic)."""

    vehicle_id: str
    seq: int
    status: AckStatus
    stamp: float  # vehicle clock
    detail: str = ""


@dataclass(frozen=True)
class Stretch:
    """Part of a route a vehicle holds (reserved) or may be on (offline), map frame."""

    vehicle_id: str
    corridor: str
    from_m: float  # along the vehicle's route ("" route: around its last position)
    to_m: float
    lanes: tuple[str, ...]
    coords: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class OfflineVehicle:
    """A vehicle whose state went stale: where it was last seen and what to keep clear."""

    vehicle_id: str
    corridor: str
    since: float
    x: float
    y: float
    lane_id: str | None
    node: str | None
    blocked: Stretch


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


@dataclass(frozen=True)
class CommandAcked:
    vehicle_id: str
    seq: int
    status: AckStatus
    latency_s: float | None  # first send -> ack, on the orchestrator clock
    detail: str = ""


Event = VehicleChanged | MissionCompleted | VehicleWentOffline | CommandAcked


class FleetCore:
    """State of all guide vehicles on all corridors."""

    def __init__(
        self,
        graphs: dict[str, nx.DiGraph],
        stale_after_s: float = 2.0,
        first_seq: int = 1,
        ack_timeout_s: float = ACK_TIMEOUT_S,
        max_clock_skew_s: float = MAX_CLOCK_SKEW_S,
    ) -> None:
        """``first_seq``: where the command counter starts; a deployment passes a value
        above any it used before a restart (e.g. wall-clock microseconds), as vehicles
        ignore commands not newer than the last one they took."""
        self.graphs = graphs
        self.stale_after_s = stale_after_s
        self.max_clock_skew_s = max_clock_skew_s
        self.ack_timeout_s = ack_timeout_s
        self.vehicles: dict[str, Vehicle] = {}
        self._missions = 0
        self._next_seq = first_seq
        # (vehicle id, seq) -> [command, first sent, last sent]; removed on ack
        self.pending: dict[tuple[str, int], tuple[Command, float, float]] = {}
        self.acked_seq: dict[str, int] = {}  # highest seq acknowledged per vehicle
        self._resume_sent: dict[str, float] = {}

    # -- registry -------------------------------------------------------
    def add_vehicle(
        self,
        vehicle_id: str,
        corridor: str,
        node: str,
        now: float,
        pose: tuple[float, float, float] | None = None,
    ) -> Vehicle:
        """Register a vehicle standing at a lane-graph node (its home spot), or at
        ``pose`` (x, y, heading) when given (``node`` then only names the corridor's
        graph node nearest to it, if any: pass "")."""
        try:
            validate_vehicle_id(vehicle_id)
        except VehicleIdError as e:
            raise FleetError(str(e)) from None
        if vehicle_id in self.vehicles:
            raise FleetError(f"vehicle {vehicle_id!r} already exists")
        g = self._graph(corridor)
        if pose is not None:
            v = Vehicle(vehicle_id, corridor, pose[0], pose[1], pose[2], node=node or None)
            self.vehicles[vehicle_id] = v
            return v
        if node not in g:
            raise FleetError(f"unknown node {node!r} on corridor {corridor}")
        attrs = node_attrs(g, node)
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
    def send_to(
        self,
        vehicle_id: str,
        goal: str,
        now: float,
        reserve_to_m: float | None = None,
        handoff_accepted: bool = False,
    ) -> RouteCommand:
        """Plan the fastest route for an idle vehicle to ``goal``; return its command.

        ``reserve_to_m``: the extent of the vehicle's reservation along the route
        (default: all of it); extend it later with :meth:`extend`."""
        v = self.vehicle(vehicle_id)
        self._check_free(v)
        g = self._graph(v.corridor)
        start = v.node or nearest_node(g, v.x, v.y, NODE_SNAP_M)
        if start is None:
            raise FleetError(f"vehicle {vehicle_id!r} is not on the lane graph")
        try:
            route = fastest_route(g, start, goal)
        except RoutingError as e:
            raise FleetError(str(e)) from None
        return self.assign(vehicle_id, route, now, reserve_to_m, handoff_accepted)

    def assign(
        self,
        vehicle_id: str,
        route: Route,
        now: float,
        reserve_to_m: float | None = None,
        handoff_accepted: bool = False,
    ) -> RouteCommand:
        """Give an idle vehicle a route planned elsewhere (e.g. by the traffic planner).

        The vehicle may stand part-way along it: progress starts where it is."""
        v = self.vehicle(vehicle_id)
        self._check_free(v)
        if route.corridor != v.corridor:
            raise FleetError(f"route on {route.corridor}, vehicle {vehicle_id!r} on {v.corridor}")
        self._missions += 1
        seq = self._take_seq()
        mission = Mission(f"m-{self._missions}", vehicle_id, route.nodes[-1], route, now, seq)
        mission.progress_m = float(route.line.project(Point(v.x, v.y)))
        mission.reservation_end_m = route.length_m if reserve_to_m is None else reserve_to_m
        mission.handoff_accepted = handoff_accepted
        v.mission = mission
        v.node = None
        v.status = VehicleStatus.HOLDING
        return self._pend(self._route_command(v, mission, seq, now), now)

    def extend(
        self,
        vehicle_id: str,
        reserve_to_m: float,
        now: float,
        handoff_accepted: bool | None = None,
    ) -> RouteCommand:
        """Move the end of the active mission's reservation (and/or accept the handoff)."""
        v = self.vehicle(vehicle_id)
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vehicle_id!r} has no active mission")
        m.reservation_end_m = reserve_to_m
        if handoff_accepted is not None:
            m.handoff_accepted = handoff_accepted
        return self._pend(self._route_command(v, m, self._take_seq(), now), now)

    def reroute(
        self, vehicle_id: str, route: Route, now: float, reserve_to_m: float
    ) -> RouteCommand:
        """Replace the active mission's route (same goal or not) with one that passes where
        the vehicle is and covers what it holds; ``reserve_to_m`` is measured along the new
        route. Vehicles treat it as a new path (the mission's revision changes)."""
        v = self.vehicle(vehicle_id)
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vehicle_id!r} has no active mission")
        if route.corridor != v.corridor:
            raise FleetError(f"route on {route.corridor}, vehicle {vehicle_id!r} on {v.corridor}")
        m.route, m.goal, m.revision = route, route.nodes[-1], m.revision + 1
        m.issued_at = now
        m.progress_m = float(route.line.project(Point(v.x, v.y)))
        m.reservation_end_m = max(reserve_to_m, m.progress_m)
        return self._pend(self._route_command(v, m, self._take_seq(), now), now)

    def accept_handoff(self, vehicle_id: str, now: float) -> RouteCommand:
        """The other side accepted the vehicle: it may cross the zero line."""
        m = self.vehicle(vehicle_id).mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vehicle_id!r} has no active mission")
        return self.extend(vehicle_id, m.reservation_end_m, now, handoff_accepted=True)

    # -- pause / resume / emergency stop ---------------------------------
    def pause(self, vehicle_id: str, now: float, reason: str = "") -> ModeCommand:
        """Controlled stop (the vehicle's deceleration limit); the route is kept."""
        v = self.vehicle(vehicle_id)
        v.paused = True
        return self._mode(v, ModeKind.PAUSE, now, reason)

    def resume(self, vehicle_id: str, now: float, reason: str = "") -> ModeCommand:
        """Release a pause, an e-stop or a vehicle's safe stop after a link loss."""
        v = self.vehicle(vehicle_id)
        v.paused = v.estopped = False
        return self._mode(v, ModeKind.RESUME, now, reason)

    def estop(self, vehicle_id: str, now: float, reason: str = "") -> ModeCommand:
        """Emergency stop: hard brake now; stays in force until :meth:`resume`."""
        v = self.vehicle(vehicle_id)
        v.estopped = True
        return self._mode(v, ModeKind.ESTOP, now, reason)

    def estop_all(self, now: float, reason: str = "") -> list[ModeCommand]:
        return [self.estop(vid, now, reason) for vid in sorted(self.vehicles)]

    # -- acknowledgements --------------------------------------------------
    def on_ack(self, ack: CommandAck, now: float) -> list[Event]:
        """Fold a vehicle's ack in; any answer means the command reached it."""
        if ack.vehicle_id not in self.vehicles:
            return []
        entry = self.pending.pop((ack.vehicle_id, ack.seq), None)
        if entry is None and ack.status is not AckStatus.ACCEPTED:
            return []  # answer to a re-send we already had an answer for
        if ack.status is AckStatus.ACCEPTED or ack.status is AckStatus.DUPLICATE:
            self.acked_seq[ack.vehicle_id] = max(self.acked_seq.get(ack.vehicle_id, 0), ack.seq)
        latency = None if entry is None else now - entry[1]
        return [CommandAcked(ack.vehicle_id, ack.seq, ack.status, latency, ack.detail)]

    def due_commands(self, now: float) -> list[Command]:
        """Commands to (re)send now: unacknowledged ones past the ack timeout, and a
        RESUME for a vehicle that stopped on a link loss and is heard again (its
        reservation was kept, so it may go on), unless we paused or e-stopped it."""
        out: list[Command] = []
        for key, (cmd, first, last) in sorted(self.pending.items(), key=lambda kv: kv[0]):
            if now - last >= self.ack_timeout_s:
                self.pending[key] = (cmd, first, now)
                out.append(cmd)
        for v in self.vehicles.values():
            waiting = v.mode is VehicleMode.SAFE_STOP and "heartbeat_lost" in v.faults
            if not waiting or v.paused or v.estopped or v.status is VehicleStatus.OFFLINE:
                continue
            if now - self._resume_sent.get(v.id, -1e18) >= self.ack_timeout_s:
                self._resume_sent[v.id] = now
                out.append(self._mode(v, ModeKind.RESUME, now, "link restored"))
        return out

    # -- where vehicles are and what they hold ---------------------------
    def reserved_stretches(self) -> list[Stretch]:
        """Each active mission's stretch from the vehicle's front to its reservation end."""
        out = []
        for v in sorted(self.vehicles.values(), key=lambda v: v.id):
            m = v.mission
            if m is not None and m.status is MissionStatus.ACTIVE:
                out.append(self._stretch(v, m.progress_m, m.reservation_end_m))
        return out

    def offline_vehicles(self) -> list[OfflineVehicle]:
        """Vehicles whose state is stale, and the stretch to keep blocked for each.

        An offline vehicle may still be anywhere between its last known position and
        the end of its reservation (it never drives past that), so that whole stretch,
        plus a vehicle length behind its last known front, stays blocked."""
        out = []
        for v in sorted(self.vehicles.values(), key=lambda v: v.id):
            if v.status is not VehicleStatus.OFFLINE:
                continue
            m = v.mission
            if m is not None and m.status is MissionStatus.ACTIVE:
                blocked = self._stretch(v, m.progress_m - VEHICLE_LENGTH_M, m.reservation_end_m)
            else:
                blocked = Stretch(v.id, v.corridor, 0.0, 0.0, (), ((v.x, v.y),))
            since = v.offline_since if v.offline_since is not None else 0.0
            out.append(
                OfflineVehicle(v.id, v.corridor, since, v.x, v.y, v.lane_id, v.node, blocked)
            )
        return out

    # -- reports and time -----------------------------------------------
    def report_verdict(self, r: VehicleReport, now: float) -> str | None:
        """What :meth:`on_report` would do with ``r`` at ``now``: None (fold it in),
        ``duplicate`` or ``stale`` (dropped: a stamp not newer than the last one taken),
        ``malformed`` or ``future`` (refused with :class:`ReportRefused`). Unknown
        vehicles raise :class:`FleetError`."""
        v = self.vehicle(r.vehicle_id)
        numbers = (r.stamp, r.x, r.y, r.heading_rad, r.speed_mps)
        optional = (r.battery_soc, r.progress_m)
        if not all(math.isfinite(x) for x in numbers) or not all(
            x is None or math.isfinite(x) for x in optional
        ):
            return "malformed"
        if r.stamp > now + self.max_clock_skew_s:
            return "future"
        if v.last_stamp is not None and r.stamp <= v.last_stamp:
            return "duplicate" if r.stamp == v.last_stamp else "stale"
        return None

    def on_report(self, r: VehicleReport, now: float) -> list[Event]:
        """Fold a state report into the vehicle's state; stale or reordered reports are
        dropped (no events), malformed or future ones refused (:class:`ReportRefused`):
        either way nothing changes."""
        verdict = self.report_verdict(r, now)
        if verdict in ("malformed", "future"):
            raise ReportRefused(
                verdict,
                f"vehicle {r.vehicle_id!r}: report refused ({verdict}): stamp {r.stamp}, "
                f"x {r.x}, y {r.y}, heading {r.heading_rad}, speed {r.speed_mps} at {now}",
            )
        if verdict is not None:
            return []
        v = self.vehicle(r.vehicle_id)
        events: list[Event] = []
        v.last_stamp, v.last_report = r.stamp, now
        v.x, v.y, v.heading_rad, v.speed_mps = r.x, r.y, r.heading_rad, r.speed_mps
        v.mode, v.faults, v.offline_since = r.mode, r.faults, None
        if r.battery_soc is not None:
            v.battery_soc = r.battery_soc
        if r.lane_id:
            v.lane_id = r.lane_id
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
                v.offline_since = now
                events += [VehicleWentOffline(v.id, now), VehicleChanged(v.id)]
        return events

    # -- helpers --------------------------------------------------------
    def _check_free(self, v: Vehicle) -> None:
        if v.mission is not None and v.mission.status is MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {v.id!r} is busy with mission {v.mission.id}")
        if v.status is VehicleStatus.OFFLINE:
            raise FleetError(f"vehicle {v.id!r} is offline")

    def _take_seq(self) -> int:
        seq = self._next_seq
        self._next_seq += 1
        return seq

    def _pend(self, cmd: RouteCommand, now: float) -> RouteCommand:
        self.pending[(cmd.vehicle_id, cmd.seq)] = (cmd, now, now)
        return cmd

    def _mode(self, v: Vehicle, kind: ModeKind, now: float, reason: str) -> ModeCommand:
        cmd = ModeCommand(v.id, self._take_seq(), now, kind, reason)
        self.pending[(v.id, cmd.seq)] = (cmd, now, now)
        return cmd

    @staticmethod
    def _route_command(v: Vehicle, m: Mission, seq: int, now: float) -> RouteCommand:
        return RouteCommand(
            v.id,
            v.corridor,
            m.path_id,
            seq,
            now,
            m.goal,
            m.waypoints(),
            m.reservation_end_m,
            m.handoff_accepted,
            m.route.lane_starts,
        )

    @staticmethod
    def _stretch(v: Vehicle, from_m: float, to_m: float) -> Stretch:
        m = v.mission
        assert m is not None
        line = m.route.line
        lo = max(0.0, min(line.length, from_m))
        hi = max(lo, min(line.length, to_m))
        lanes: list[str] = []
        for leg in m.route.legs:
            if leg.start_m < hi and leg.start_m + leg.length_m > lo and leg.lane_id not in lanes:
                lanes.append(leg.lane_id)
        coords = tuple((float(x), float(y)) for x, y in substring(line, lo, hi).coords)
        return Stretch(v.id, v.corridor, lo, hi, tuple(lanes), coords)

    def _graph(self, corridor: str) -> nx.DiGraph:
        try:
            return self.graphs[corridor]
        except KeyError:
            raise FleetError(f"unknown corridor {corridor!r}") from None

    def _status_of(self, v: Vehicle) -> VehicleStatus:
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            g = self.graphs[v.corridor]
            stop = node_attrs(g, v.node).get("stop_reason") if v.node is not None else None
            if stop == "zero_line":
                return VehicleStatus.AT_HANDOFF
            return VehicleStatus.IDLE
        return VehicleStatus.MOVING if v.speed_mps >= STOPPED_MPS else VehicleStatus.HOLDING

    @staticmethod
    def _track(m: Mission, r: VehicleReport) -> None:
        """Advance progress along the route, searching only near the last progress.

        A window keeps a vehicle on the yard's in-connector from being matched
        to the parallel out-connector 3.5 m away.
        """
        length = m.route.polyline[1][-1]
        lo = max(0.0, m.progress_m - 5.0)
        hi = min(length, m.progress_m + 5.0 + 10.0 * max(r.speed_mps, 1.0))
        along, off = m.route.project_near(r.x, r.y, lo, hi)
        m.progress_m = max(m.progress_m, along)
        m.max_deviation_m = max(m.max_deviation_m, off)
