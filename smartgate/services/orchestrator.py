"""The orchestrator service: the core behind a lock, with listeners.

The core is single-threaded and pure; the ROS executor thread and the API's
asyncio loop both reach it through this service, which serialises access and
fans out events (to the live WebSocket hub and to storage) after each change.
Data flows one way: commands go out through ``command_sink`` (the ROS
bridge), reports come back through :meth:`report`, views go to the UI.

It is also where faults are contained. The core stays strict (a bad call
raises and changes nothing); this service decides what that means for the
fleet. Times from different threads are clamped to the service's clock, so
the core never sees time go backwards. A report the core would not take
(unknown vehicle, another vehicle's topic, not finite, from the future, stale,
duplicated) is dropped and counted. An unexpected exception while handling
one vehicle is logged with its context, kept in :attr:`Orchestrator.faults`
(the ``internal_error`` alarm) and *isolates* that vehicle: paused, planned
around, refused new missions until a controller resumes it; the rest of the
fleet goes on.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import traceback
from collections import Counter, deque
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import networkx as nx

from fleet.core import (
    Command,
    CommandAck,
    CommandAcked,
    Event,
    FleetError,
    MissionCompleted,
    ModeCommand,
    OfflineVehicle,
    ReportRefused,
    RouteCommand,
    Stretch,
    VehicleWentOffline,
)
from fleet.traffic.control import FleetControl
from fleet.traffic.planner import Priority
from fleet.vehicles import MissionStatus, Vehicle, VehicleReport
from maps.corridor_map import CorridorMap
from maps.lane_graph import NodeAttrs, node_attrs
from smartgate.services.faults import RepeatLimiter, more_like_it

if TYPE_CHECKING:
    from smartgate.services.desk import ConsignmentDesk

Listener = Callable[[list[Event], list[dict[str, Any]]], None]

log = logging.getLogger("smartgate.services.orchestrator")

FAULTS_KEPT = 200  # contained exceptions kept for the API (newest last)


class Orchestrator:
    def __init__(
        self,
        maps: dict[str, CorridorMap],
        graphs: dict[str, nx.DiGraph],
        stale_after_s: float = 2.0,
        plan_traffic: bool = True,
    ) -> None:
        """``plan_traffic`` False: missions take the fastest route with all of it reserved
        (no traffic planner); only for stand-in fleets that ignore reservations (tests of
        storage and recovery), never with real vehicles sharing lanes."""
        self.maps = maps
        self.graphs = graphs
        self.plan_traffic = plan_traffic
        # Plans (one traffic planner per corridor) executed through reservations.
        self.control = FleetControl(graphs, stale_after_s=stale_after_s)
        self.core = self.control.core
        self.clock = 0.0  # the latest time the orchestrator was told (sim or ROS time)
        self.lock = threading.RLock()
        self.listeners: list[Listener] = []
        self.command_sink: Callable[[Command], None] | None = None  # the ROS bridge
        self.log: list[dict[str, Any]] = []  # events in order, for tests and the demo
        self.seen_at: dict[str, str] = {}  # vehicle id -> wall-clock ISO time of last report
        # Consignments, when there is a database: set by smartgate.services.desk.attach_desk
        # (the one place that ties the two together).
        self.desk: ConsignmentDesk | None = None
        # corridor -> a callable returning the handoff link's status (peer, state, since,
        # last_heard_at, outbox_pending); set by the runtime when a link is configured
        self.handoff_links: dict[str, Callable[[], dict[str, Any]]] = {}
        # Contained faults: reports not applied (by reason), reports applied at the clock
        # because they came in behind it, exceptions caught at an entry point, and the
        # vehicles isolated after one (vehicle id -> why, since when).
        self.reports_applied = 0
        self.reports_late = 0
        self.reports_refused: Counter[str] = Counter()
        self.faults: deque[dict[str, Any]] = deque(maxlen=FAULTS_KEPT)
        self.fault_count = 0
        self.isolated: dict[str, dict[str, Any]] = {}
        self._log_limiter = RepeatLimiter()

    def add_vehicle(self, vehicle_id: str, corridor: str, node: str, now: float) -> Vehicle:
        with self.lock:
            v = self.control.add_vehicle(vehicle_id, corridor, node, self._at(now))
        if self.desk is not None:
            self.desk.register_vehicle(vehicle_id, corridor, node)
        return v

    def send_to(
        self,
        vehicle_id: str,
        goal: str,
        now: float,
        reserve_to_m: float | None = None,
        priority: Priority | None = None,
    ) -> RouteCommand:
        """Send a vehicle to ``goal`` on a conflict-free planned route; with ``reserve_to_m``
        instead on its fastest route with that fixed reservation (a manual drive: the
        planner does not steer it, others are still kept out of what it holds).
        ``priority``: its traffic priority (its cargo's), else the planner's default."""
        with self.lock:
            now = self._at(now)
            if vehicle_id in self.isolated:
                raise FleetError(
                    f"vehicle {vehicle_id!r} is isolated after an internal error: "
                    "a controller resumes it first"
                )
            if reserve_to_m is not None or not self.plan_traffic:
                cmds: list[Command] = [self.core.send_to(vehicle_id, goal, now, reserve_to_m)]
            else:
                cmds = self.control.send_to(vehicle_id, goal, now, priority)
            view = self.vehicle_view(self.core.vehicles[vehicle_id])
        mine = [c for c in cmds if isinstance(c, RouteCommand) and c.vehicle_id == vehicle_id]
        if not mine:
            raise FleetError(f"{vehicle_id}: no route to {goal}")
        cmd = mine[0]
        self._record(
            {
                "event": "mission_started",
                "vehicle_id": vehicle_id,
                "mission_id": cmd.mission_id,
                "goal": goal,
                "t": now,
            }
        )
        for c in cmds:
            self._send(c)
        self._emit([], [view])
        return cmd

    def report(self, r: VehicleReport, now: float, topic: str | None = None) -> str | None:
        """Fold in a vehicle's report; None if it was applied, else why not (counted in
        :attr:`reports_refused`). ``topic``: the vehicle whose topic it came on (a report
        naming another vehicle is refused). A report that arrives behind the clock
        (another thread moved it on) is applied at the clock, and counted as late."""
        events: list[Event] = []
        views: list[dict[str, Any]] = []
        cmds: list[Command] = []
        reason: str | None = None
        with self.lock:
            late = now < self.clock
            now = self._at(now)
            refusal = self._refusal(r, now, topic)
            if refusal is not None:
                self.reports_refused[refusal] += 1
                return refusal
            try:
                events = self.control.on_report(r, now)
            except ReportRefused as e:  # the verdict said yes: only if the rules changed
                self.reports_refused[e.reason] += 1
                return e.reason
            except Exception as e:
                cmds = self._fault("report", r.vehicle_id, e, now)
                reason = "error"
            else:
                self.reports_applied += 1
                self.reports_late += late
                self.seen_at[r.vehicle_id] = datetime.now(UTC).isoformat(timespec="milliseconds")
            if events or cmds:
                views = [self.vehicle_view(self.core.vehicles[r.vehicle_id])]
        for c in cmds:
            self._send(c)
        self._after(events, views)
        return reason

    def refuse_report(self, reason: str) -> None:
        """Count a report an adapter could not even read (a malformed message)."""
        with self.lock:
            self.reports_refused[reason] += 1

    def _refusal(self, r: VehicleReport, now: float, topic: str | None) -> str | None:
        if topic is not None and r.vehicle_id != topic:
            return "wrong_vehicle"
        if r.vehicle_id not in self.core.vehicles:
            return "unknown_vehicle"  # the bridge subscribes only known ones
        return self.core.report_verdict(r, now)

    def tick(self, now: float) -> None:
        with self.lock:
            now = self._at(now)
            # offline marking, reservations grown along the plans, re-sends after a link loss
            try:
                events, due = self.control.tick(now)
            except Exception as e:  # vehicles hold at their reservation ends meanwhile
                self._fault("tick", None, e, now)
                events, due = [], []
            ids = {e.vehicle_id for e in events}
            views = [self.vehicle_view(self.core.vehicles[i]) for i in sorted(ids)]
        self._after(events, views)
        for cmd in due:
            self._send(cmd)
        if self.desk is not None:  # after the core has marked stale vehicles offline
            self.guard("desk tick", self.desk.tick, now)

    def guard(self, where: str, fn: Callable[..., Any], *args: Any) -> bool:
        """Run ``fn(*args)`` for an entry point (a timer, a callback, a poll): an
        exception is logged and kept as a fault instead of ending the caller's thread.
        True if it ran through."""
        try:
            fn(*args)
        except Exception as e:
            self.fault(where, None, e)
            return False
        return True

    def fault(self, where: str, vehicle_id: str | None, exc: BaseException) -> None:
        """An adapter caught ``exc`` at ``where`` (while handling ``vehicle_id``, if it
        knows): keep it, log it, raise the alarm; a known vehicle is isolated."""
        with self.lock:
            cmds = self._fault(where, vehicle_id, exc, self.clock)
        for c in cmds:
            self._send(c)

    def _fault(
        self, where: str, vehicle_id: str | None, exc: BaseException, now: float
    ) -> list[Command]:
        entry: dict[str, Any] = {
            "t": now,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "where": where,
            "vehicle_id": vehicle_id,
            "error": f"{type(exc).__name__}: {exc}",
        }
        tb = "".join(traceback.format_exception(exc))
        self.faults.append({**entry, "wall": time.time(), "traceback": tb})
        self.fault_count += 1
        self._log_fault(where, vehicle_id, exc)
        self._record({"event": "internal_error", **entry})
        if vehicle_id is None or vehicle_id not in self.core.vehicles:
            return []
        if vehicle_id in self.isolated:
            return []
        return self._isolate(vehicle_id, now, f"internal error in {where}: {entry['error']}")

    def _log_fault(self, where: str, vehicle_id: str | None, exc: BaseException) -> None:
        """The first of a kind in full, then a count once a minute: an isolated vehicle
        whose reports keep failing must not fill the log."""
        held = self._log_limiter.admit((where, vehicle_id, type(exc).__name__), time.monotonic())
        if held is None:
            return
        log.error(
            "contained %s in %s%s%s",
            type(exc).__name__,
            where,
            f" (vehicle {vehicle_id})" if vehicle_id else "",
            more_like_it(held),
            exc_info=exc,
        )

    def _isolate(self, vid: str, now: float, why: str) -> list[Command]:
        """Hold the vehicle (a controlled stop) and plan the others around it. Each step
        on its own: the state that failed may fail again, and the stop matters most."""
        cmds: list[Command] = []
        try:
            cmds += self.control.pause(vid, now, "isolated")
        except Exception as e:
            log.error("isolating %s: pause failed: %s", vid, e)
        try:
            cmds += self.control.breakdown(vid, now)
        except Exception as e:
            log.error("isolating %s: planning around it failed: %s", vid, e)
        self.isolated[vid] = {
            "since": now,
            "at": datetime.now(UTC).isoformat(timespec="milliseconds"),
            "reason": why,
        }
        self._record({"event": "vehicle_isolated", "vehicle_id": vid, "reason": why, "t": now})
        log.error("vehicle %s isolated: %s", vid, why)
        return cmds

    def report_stats(self) -> dict[str, Any]:
        """Counters of the vehicle link and of contained faults (for the API)."""
        with self.lock:
            return {
                "reports_applied": self.reports_applied,
                "reports_late": self.reports_late,
                "reports_refused": dict(sorted(self.reports_refused.items())),
                "faults": self.fault_count,
                "isolated": {k: dict(v) for k, v in sorted(self.isolated.items())},
            }

    def vehicles(self) -> list[dict[str, Any]]:
        with self.lock:
            return [self.vehicle_view(v) for v in self.core.vehicles.values()]

    def active_routes(self) -> dict[str, list[tuple[float, float]]]:
        """Vehicle id -> metric polyline of its active mission's route."""
        with self.lock:
            return {
                v.id: [(float(x), float(y)) for x, y in v.mission.route.line.coords]
                for v in self.core.vehicles.values()
                if v.mission is not None and v.mission.status is MissionStatus.ACTIVE
            }

    # -- vehicle commands beyond missions (ROS link) ---------------------
    def extend(
        self, vehicle_id: str, reserve_to_m: float, now: float, handoff_accepted: bool | None = None
    ) -> RouteCommand:
        with self.lock:
            now = self._at(now)
            cmd = self.core.extend(vehicle_id, reserve_to_m, now, handoff_accepted)
        self._send(cmd)
        return cmd

    def pause(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        with self.lock:
            now = self._at(now)
            cmd = self.core.pause(vehicle_id, now, reason)
        return self._send_mode(cmd, now)

    def resume(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        """Release a pause or e-stop; an isolated vehicle is planned again from here."""
        more: list[Command] = []
        with self.lock:
            now = self._at(now)
            cmd = self.core.resume(vehicle_id, now, reason)
            if vehicle_id in self.isolated:
                more = self.control.repaired(vehicle_id, now)
                del self.isolated[vehicle_id]
                self._record({"event": "vehicle_released", "vehicle_id": vehicle_id, "t": now})
        for c in more:
            self._send(c)
        return self._send_mode(cmd, now)

    def estop(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        with self.lock:
            now = self._at(now)
            cmd = self.core.estop(vehicle_id, now, reason)
        return self._send_mode(cmd, now)

    def ack(self, ack: CommandAck, now: float) -> list[Event]:
        with self.lock:
            now = self._at(now)
            events = self.control.on_ack(ack, now)
        for e in events:
            if isinstance(e, CommandAcked) and e.status.value == "rejected":
                self._record(
                    {
                        "event": "command_rejected",
                        "vehicle_id": e.vehicle_id,
                        "seq": e.seq,
                        "detail": e.detail,
                        "t": now,
                    }
                )
        return events

    def reserved_stretches(self) -> list[Stretch]:
        with self.lock:
            return self.core.reserved_stretches()

    def offline_vehicles(self) -> list[OfflineVehicle]:
        with self.lock:
            return self.core.offline_vehicles()

    def _send_mode(self, cmd: ModeCommand, now: float) -> ModeCommand:
        self._record({"event": f"vehicle_{cmd.kind.value}", "vehicle_id": cmd.vehicle_id, "t": now})
        self._send(cmd)
        return cmd

    def _send(self, cmd: Command) -> None:
        if self.command_sink is not None:
            self.command_sink(cmd)

    def _after(self, events: list[Event], views: list[dict[str, Any]]) -> None:
        for e in events:
            if isinstance(e, MissionCompleted):
                self._record(
                    {
                        "event": "mission_completed",
                        "vehicle_id": e.vehicle_id,
                        "mission_id": e.mission_id,
                        "goal": e.goal,
                        "t": e.at,
                    }
                )
            elif isinstance(e, VehicleWentOffline):
                self._record({"event": "vehicle_offline", "vehicle_id": e.vehicle_id, "t": e.at})
        if views:
            self._emit(events, views)

    def _record(self, entry: dict[str, Any]) -> None:
        with self.lock:
            self.log.append(entry)

    def _emit(self, events: list[Event], views: list[dict[str, Any]]) -> None:
        for listener in list(self.listeners):  # a failing listener does not stop the rest
            self.guard("listener", listener, events, views)

    def vehicle_view(self, v: Vehicle) -> dict[str, Any]:
        """The API/UI view of a vehicle: WGS84 position, compass heading."""
        frame = self.maps[v.corridor].frame
        lon, lat = frame.to_lonlat(v.x, v.y)
        m = v.mission
        mission = None
        if m is not None:
            coords = [list(frame.to_lonlat(x, y)) for x, y in m.route.line.coords]
            goal_attrs = node_attrs(self.graphs[v.corridor], m.goal)
            mission = {
                "id": m.id,
                "goal": m.goal,
                "goal_label": _goal_label(goal_attrs, "en"),
                "goal_label_en": _goal_label(goal_attrs, "en"),
                "goal_label_vi": _goal_label(goal_attrs, "vi"),
                "status": m.status.value,
                "lanes": m.route.lanes,
                "route": {"type": "LineString", "coordinates": coords},
                "progress": round(m.progress, 4),
                "length_m": round(m.route.length_m, 1),
                "max_deviation_m": round(m.max_deviation_m, 2),
            }
        return {
            "id": v.id,
            "corridor": v.corridor,
            "status": v.status.value,
            "lon": lon,
            "lat": lat,
            "x_m": round(v.x, 3),
            "y_m": round(v.y, 3),
            "heading_deg": round(math.degrees(math.pi / 2 - v.heading_rad) % 360.0, 1),
            "yaw_rad": round(v.heading_rad, 4),
            "speed_mps": round(v.speed_mps, 3),
            "lane_id": v.lane_id,
            "mode": v.mode.value if v.mode is not None else None,
            "battery_soc": None if v.battery_soc is None else round(v.battery_soc, 4),
            "faults": list(v.faults),
            "node": v.node,
            "mission": mission,
            "updated_at": self.seen_at.get(v.id),
            "isolated": self.isolated[v.id]["reason"] if v.id in self.isolated else None,
            "clock_s": v.last_report,
        }

    # -- operator actions and views beyond vehicles ------------------------
    def now(self) -> float:
        """The orchestrator clock: the latest time it was given (sim or ROS time)."""
        with self.lock:
            return self.clock

    def _at(self, now: float) -> float:
        """The time to apply a call at: ``now``, or the clock if another thread has moved
        it past ``now`` (or ``now`` is not a number); the clock never goes back."""
        if math.isfinite(now) and now > self.clock:
            self.clock = now
        return self.clock

    def close_lane(self, corridor: str, lane_id: str, now: float, reason: str) -> None:
        """No guide vehicle enters the lane any more; the traffic re-routes or holds."""
        with self.lock:
            now = self._at(now)
            cmds = self.control.close_lane(corridor, lane_id, now, reason or "closed")
        for c in cmds:
            self._send(c)
        self._record(
            {
                "event": "lane_closed",
                "corridor": corridor,
                "lane": lane_id,
                "reason": reason,
                "t": now,
            }
        )
        self._emit([], self.vehicles())

    def reopen_lane(self, corridor: str, lane_id: str, now: float) -> None:
        with self.lock:
            now = self._at(now)
            cmds = self.control.reopen_lane(corridor, lane_id, now)
        for c in cmds:
            self._send(c)
        self._record({"event": "lane_reopened", "corridor": corridor, "lane": lane_id, "t": now})
        self._emit([], self.vehicles())

    def accept_handoff(
        self,
        vehicle_id: str,
        now: float,
        goal: str | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """The other side accepted the vehicle: it may cross the zero line (and, with
        ``goal``, drive on to it: a vehicle whose mission ended at the stop line).
        ``record``: more for the log entry (handoff, consignment, direction)."""
        with self.lock:
            now = self._at(now)
            v = self.core.vehicle(vehicle_id)
            m = v.mission
            if m is not None and m.status is MissionStatus.ACTIVE and m.handoff_accepted:
                return  # already accepted (the link and the desk may both say so)
            cmds: list[Command]
            if not self.plan_traffic:
                if m is not None and m.status is MissionStatus.ACTIVE:
                    cmds = [self.core.accept_handoff(vehicle_id, now)]
                elif goal is None:
                    raise FleetError(f"{vehicle_id} stands at {v.node}: say where it goes next")
                else:
                    cmds = [self.core.send_to(vehicle_id, goal, now, handoff_accepted=True)]
            elif m is not None and m.status is MissionStatus.ACTIVE:
                cmds = self.control.accept_handoff(vehicle_id, now)
            else:
                if goal is None:
                    raise FleetError(f"{vehicle_id} stands at {v.node}: say where it goes next")
                cmds = self.control.send_to(vehicle_id, goal, now)  # holds at the line...
                cmds += self.control.accept_handoff(vehicle_id, now)  # ...until now
        for c in cmds:
            self._send(c)
        self._record(
            {"event": "handoff_accepted", "vehicle_id": vehicle_id, "t": now, **(record or {})}
        )

    def refuse_handoff(
        self,
        vehicle_id: str,
        now: float,
        return_goal: str | None = None,
        record: dict[str, Any] | None = None,
    ) -> None:
        """The other side refused: the vehicle holds at the stop line, or goes to
        ``return_goal`` without crossing (when the map has a way back). ``record``: more
        for the log entry (handoff, consignment, direction, reason)."""
        with self.lock:
            now = self._at(now)
            cmds = self.control.refuse_handoff(vehicle_id, now, return_goal)
        for c in cmds:
            self._send(c)
        self._record(
            {
                "event": "handoff_refused",
                "vehicle_id": vehicle_id,
                "goal": return_goal,
                "t": now,
                **(record or {}),
            }
        )

    def closed_lanes(self) -> dict[str, dict[str, str]]:
        with self.lock:
            return self.control.closed_lanes()

    def routes(self) -> list[dict[str, Any]]:
        """Per vehicle: planned route and reserved stretch (lon/lat), plan state, ETA."""
        with self.lock:
            held = {s.vehicle_id: s for s in self.core.reserved_stretches()}
            for o in self.core.offline_vehicles():
                held[o.vehicle_id] = o.blocked
            out: list[dict[str, Any]] = []
            for v in sorted(self.core.vehicles.values(), key=lambda v: v.id):
                frame = self.maps[v.corridor].frame
                m = v.mission
                active = m is not None and m.status is MissionStatus.ACTIVE
                route = None
                if m is not None and active:
                    coords = [list(frame.to_lonlat(x, y)) for x, y in m.route.line.coords]
                    route = {"type": "LineString", "coordinates": coords}
                s = held.get(v.id)
                reserved = None
                if s is not None and len(s.coords) >= 2:
                    coords = [list(frame.to_lonlat(x, y)) for x, y in s.coords]
                    reserved = {"type": "LineString", "coordinates": coords}
                st = self.control.plan_status(v.id)
                state = "broken" if v.status.value == "offline" else st.state
                if not active and state == "moving":
                    state = "idle"  # the planner's clock lags; the core knows it arrived
                out.append(
                    {
                        "vehicle_id": v.id,
                        "corridor": v.corridor,
                        "route": route,
                        "reserved": reserved,
                        "plan_state": state,
                        "hold_reason": st.hold_reason if active else None,
                        "eta_s": None if st.eta_s is None else round(st.eta_s, 1),
                    }
                )
            return out

    def link_status(self) -> list[dict[str, Any]]:
        """Per corridor: the handoff link to the other side, as its session reports it."""
        out = []
        for c in sorted(self.maps):
            link = self.handoff_links.get(c)
            if link is None:
                out.append(
                    {
                        "corridor": c,
                        "peer": None,
                        "state": "not_configured",
                        "since": None,
                        "last_heard_at": None,
                        "outbox_pending": 0,
                    }
                )
            else:
                out.append({"corridor": c, **link()})
        return out

    def handoffs(self, limit: int = 50) -> list[dict[str, Any]]:
        """Recent handoffs, newest first, from the orchestrator's event log."""
        with self.lock:
            rows = [e for e in self.log if str(e.get("event", "")).startswith("handoff_")]
        return list(reversed(rows))[:limit]


def _goal_label(attrs: NodeAttrs, lang: str) -> str:
    if attrs.get("stop_reason") == "zero_line":
        return "Handoff point (zero line)" if lang == "en" else "Điểm bàn giao (km 0)"
    if spot := attrs.get("spot"):
        name = attrs.get("spot_name", spot)
        return f"Yard spot {name}" if lang == "en" else f"Vị trí bãi {name}"
    return str(attrs.get("stop_line") or attrs.get("zone") or "")
