"""The orchestrator service: the core behind a lock, with listeners.

The core is single-threaded and pure; the ROS executor thread and the API's
asyncio loop both reach it through this service, which serialises access and
fans out events (to the live WebSocket hub and to storage) after each change.
Data flows one way: commands go out through ``command_sink`` (the ROS
bridge), reports come back through :meth:`report`, views go to the UI.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import networkx as nx

from fleet.core import (
    Command,
    CommandAck,
    CommandAcked,
    Event,
    FleetCore,
    MissionCompleted,
    ModeCommand,
    OfflineVehicle,
    RouteCommand,
    Stretch,
    VehicleWentOffline,
)
from fleet.vehicles import MissionStatus, Vehicle, VehicleReport
from maps.corridor_map import CorridorMap

if TYPE_CHECKING:
    from smartgate.consignment_desk import ConsignmentDesk
    from smartgate.storage import Store

Listener = Callable[[list[Event], list[dict[str, Any]]], None]


class Orchestrator:
    def __init__(
        self,
        maps: dict[str, CorridorMap],
        graphs: dict[str, nx.DiGraph],
        stale_after_s: float = 2.0,
        store: Store | None = None,
    ) -> None:
        self.maps = maps
        self.graphs = graphs
        self.core = FleetCore(graphs, stale_after_s=stale_after_s)
        self.lock = threading.RLock()
        self.listeners: list[Listener] = []
        self.command_sink: Callable[[Command], None] | None = None  # the ROS bridge
        self.log: list[dict[str, Any]] = []  # events in order, for tests and the demo
        self.seen_at: dict[str, str] = {}  # vehicle id -> wall-clock ISO time of last report
        self.desk: ConsignmentDesk | None = None  # consignments; needs a store (database)
        if store is not None:
            from smartgate.consignment_desk import desk_for

            self.desk = desk_for(self, store)

    def add_vehicle(self, vehicle_id: str, corridor: str, node: str, now: float) -> Vehicle:
        with self.lock:
            v = self.core.add_vehicle(vehicle_id, corridor, node, now)
        if self.desk is not None:
            self.desk.register_vehicle(vehicle_id, corridor, node)
        return v

    def send_to(
        self, vehicle_id: str, goal: str, now: float, reserve_to_m: float | None = None
    ) -> RouteCommand:
        with self.lock:
            cmd = self.core.send_to(vehicle_id, goal, now, reserve_to_m)
            view = self.vehicle_view(self.core.vehicles[vehicle_id])
        self._record(
            {
                "event": "mission_started",
                "vehicle_id": vehicle_id,
                "mission_id": cmd.mission_id,
                "goal": goal,
                "t": now,
            }
        )
        if self.command_sink is not None:
            self.command_sink(cmd)
        self._emit([], [view])
        return cmd

    def report(self, r: VehicleReport, now: float) -> None:
        with self.lock:
            if r.vehicle_id not in self.core.vehicles:
                return  # unknown vehicle: the bridge only subscribes known ones
            events = self.core.on_report(r, now)
            self.seen_at[r.vehicle_id] = datetime.now(UTC).isoformat(timespec="milliseconds")
            views = [self.vehicle_view(self.core.vehicles[r.vehicle_id])] if events else []
        self._after(events, views)

    def tick(self, now: float) -> None:
        with self.lock:
            events = self.core.tick(now)
            ids = {e.vehicle_id for e in events}
            views = [self.vehicle_view(self.core.vehicles[i]) for i in sorted(ids)]
            due = self.core.due_commands(now)  # re-sends and resumes after a link loss
        self._after(events, views)
        for cmd in due:
            self._send(cmd)
        if self.desk is not None:  # after the core has marked stale vehicles offline
            self.desk.tick(now)

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
            cmd = self.core.extend(vehicle_id, reserve_to_m, now, handoff_accepted)
        self._send(cmd)
        return cmd

    def pause(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        with self.lock:
            cmd = self.core.pause(vehicle_id, now, reason)
        return self._send_mode(cmd, now)

    def resume(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        with self.lock:
            cmd = self.core.resume(vehicle_id, now, reason)
        return self._send_mode(cmd, now)

    def estop(self, vehicle_id: str, now: float, reason: str = "operator") -> ModeCommand:
        with self.lock:
            cmd = self.core.estop(vehicle_id, now, reason)
        return self._send_mode(cmd, now)

    def ack(self, ack: CommandAck, now: float) -> list[Event]:
        with self.lock:
            events = self.core.on_ack(ack, now)
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
        for listener in list(self.listeners):
            listener(events, views)

    def vehicle_view(self, v: Vehicle) -> dict[str, Any]:
        """The API/UI view of a vehicle: WGS84 position, compass heading."""
        frame = self.maps[v.corridor].frame
        lon, lat = frame.to_lonlat(v.x, v.y)
        m = v.mission
        mission = None
        if m is not None:
            coords = [list(frame.to_lonlat(x, y)) for x, y in m.route.line.coords]
            goal_attrs = self.graphs[v.corridor].nodes[m.goal]
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
            "clock_s": v.last_report,
        }


def _goal_label(attrs: dict[str, Any], lang: str) -> str:
    if attrs.get("stop_reason") == "zero_line":
        return "Handoff point (zero line)" if lang == "en" else "Điểm bàn giao (km 0)"
    if attrs.get("spot"):
        name = attrs.get("spot_name", attrs["spot"])
        return f"Yard spot {name}" if lang == "en" else f"Vị trí bãi {name}"
    return str(attrs.get("stop_line") or attrs.get("zone") or "")
