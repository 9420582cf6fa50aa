"""The control room's API: fleet control, lanes, routes, the handoff link, alarms,
KPIs and the audit log (all under ``/api/v1``).

Reads need any login (viewer); control actions need a controller and are
audited through :meth:`api.auth.Operators.act`; the audit log is for
controllers and admins. Handlers read the orchestrator's views and call its
public methods only.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from api.auth import ActionFailed, Operators, Ops, User, iso, require
from api.live import LiveHub
from fleet.core import FleetError
from maps.lane_graph import edges_with
from smartgate.operators import kpis
from smartgate.operators.accounts import Principal
from smartgate.operators.alarms import AlreadyAcked, Condition, UnknownAlarm
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store

Id = Annotated[str, Path(min_length=1, max_length=64)]
Reason = Annotated[str, Field(min_length=1, max_length=500)]
Controller = Annotated[Principal, Depends(require("controller"))]


class ModeBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Annotated[str, Field(max_length=500)] | None = None


class ModeOut(BaseModel):
    vehicle_id: str
    command: Literal["pause", "resume", "estop"]
    seq: int


class CloseBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    reason: Reason


class EmptyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Lane(BaseModel):
    lane_id: str
    kind: str
    direction: str
    reserved_for_guided: bool
    closed: bool
    closed_reason: str | None
    length_m: float


class LineString(BaseModel):
    type: Literal["LineString"] = "LineString"
    coordinates: list[list[float]]


class RouteOut(BaseModel):
    vehicle_id: str
    corridor: str
    route: LineString
    reserved: LineString | None
    plan_state: str | None = Field(description='"moving", "holding", "idle", "broken" or null')
    hold_reason: str | None
    eta_s: float | None


class LinkOut(BaseModel):
    corridor: str
    peer: str | None
    state: Literal["connected", "lagging", "down", "not_configured"]
    since: str | None
    last_heard_at: str | None
    outbox_pending: int


class HandoffOut(BaseModel):
    id: str
    vehicle_id: str | None
    consignment_id: str | None
    direction: str | None
    state: str
    offered_at: str | None
    decided_at: str | None
    crossed_at: str | None


class AlarmOut(BaseModel):
    id: int
    severity: Literal["critical", "warning", "info"]
    kind: str
    corridor: str | None
    subject: str
    message_en: str
    message_vi: str
    raised_at: str
    cleared_at: str | None
    acked_by: str | None
    acked_at: str | None


class AckBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    note: Annotated[str, Field(max_length=500)] | None = None


class CorridorKpis(BaseModel):
    corridor: str
    crossings_today: int
    target_per_day: int
    queue_length: int
    mean_crossing_time_s: float | None
    vehicle_utilisation: float = Field(ge=0, le=1)
    vehicles_total: int
    vehicles_active: int


class KpisOut(BaseModel):
    generated_at: str
    corridors: list[CorridorKpis]


class AuditEntry(BaseModel):
    id: int
    at: str
    username: str | None
    role: str | None
    action: str
    target: str | None
    params: dict[str, Any]
    result: Literal["ok", "error"]
    detail: str
    prev_hash: str
    hash: str


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    chain_ok: bool


class AuditVerification(BaseModel):
    ok: bool
    entries: int
    first_bad_id: int | None


def line(geometry: Any) -> dict[str, Any] | None:
    """A GeoJSON LineString from one, or from its bare coordinates; None stays None."""
    if geometry is None or isinstance(geometry, dict):
        return geometry
    return {"type": "LineString", "coordinates": [list(c) for c in geometry]}


def route_view(r: dict[str, Any]) -> dict[str, Any]:
    """An orchestrator route entry as the API's shape (no route: an empty LineString)."""
    return {
        **r,
        "route": line(r.get("route")) or {"type": "LineString", "coordinates": []},
        "reserved": line(r.get("reserved")),
    }


def _when(t: Any) -> str | None:
    """A time as the API shows it: ISO 8601 kept, epoch seconds converted."""
    if t is None or isinstance(t, str):
        return t
    return iso(float(t))


def link_view(lk: dict[str, Any]) -> dict[str, Any]:
    return {**lk, "since": _when(lk.get("since")), "last_heard_at": _when(lk.get("last_heard_at"))}


def handoff_view(e: dict[str, Any], n: int) -> dict[str, Any]:
    """A handoff record (or a ``handoff_*`` log event) in the API's shape."""
    state = e.get("state") or str(e.get("event", "")).removeprefix("handoff_") or "unknown"
    return {
        "id": str(e.get("id") or e.get("handoff_id") or n),
        "vehicle_id": e.get("vehicle_id"),
        "consignment_id": e.get("consignment_id"),
        "direction": e.get("direction"),
        "state": str(state),
        "offered_at": _when(e.get("offered_at", e.get("t"))),
        "decided_at": _when(e.get("decided_at")),
        "crossed_at": _when(e.get("crossed_at")),
    }


def lanes_of(orch: Orchestrator, corridor: str) -> list[dict[str, Any]]:
    cmap = orch.maps.get(corridor)
    if cmap is None:
        raise HTTPException(404, f"unknown corridor {corridor!r}")
    closed = orch.closed_lanes().get(corridor, {})
    lengths: dict[str, float] = {}
    for _, _, d in edges_with(orch.graphs[corridor]):
        if d["lane_id"]:
            lengths[d["lane_id"]] = lengths.get(d["lane_id"], 0.0) + float(d["length_m"])
    out = []
    for f in cmap.geojson["features"]:
        p = f["properties"]
        if p.get("type") != "lane":
            continue
        lid = str(f["id"])
        out.append(
            {
                "lane_id": lid,
                "kind": p.get("kind", ""),
                "direction": p.get("direction", ""),
                "reserved_for_guided": p.get("kind") == "driverless",
                "closed": lid in closed,
                "closed_reason": closed.get(lid),
                "length_m": round(lengths.get(lid) or float(cmap.lines[lid].line.length), 1),
            }
        )
    return out


def lane_conditions(orch: Orchestrator) -> dict[str, Condition]:
    return {
        f"{c}/{lane}": Condition(
            c, f"Lane {lane} ({c}) is closed: {why}", f"Làn {lane} ({c}) đã đóng: {why}"
        )
        for c, lanes in orch.closed_lanes().items()
        for lane, why in lanes.items()
    }


def fault_conditions(orch: Orchestrator, within_s: float) -> dict[str, Condition]:
    """Entry points that contained an exception within the last ``within_s`` seconds (wall
    clock): one ``internal_error`` alarm per place, cleared once it stays quiet."""
    since = time.time() - within_s
    with orch.lock:
        recent = [f for f in orch.faults if f["wall"] >= since]
    out: dict[str, Condition] = {}
    for f in recent:  # oldest first: the newest of each place wins
        out[f["where"]] = Condition(
            None,
            f"Internal error contained in {f['where']}: {f['error']} (see /api/v1/faults)",
            f"Lỗi nội bộ đã được cô lập tại {f['where']}: {f['error']} (xem /api/v1/faults)",
        )
    return out


def operator_router(
    orch: Orchestrator,
    hub: LiveHub,
    ops: Operators,
    store_of: Callable[[], Store | None],
    targets: dict[str, int] | None = None,
    wall: Callable[[], float] = time.time,
) -> APIRouter:
    router = APIRouter()

    # -- vehicles ---------------------------------------------------------------
    def mode(kind: Literal["pause", "resume", "estop"]) -> Any:
        def handler(vehicle_id: Id, body: ModeBody, who: User, ops: Ops) -> ModeOut:
            def run() -> ModeOut:
                if vehicle_id not in {v["id"] for v in orch.vehicles()}:
                    raise ActionFailed(404, f"unknown vehicle {vehicle_id!r}")
                reason = body.reason or f"operator {who.username}"
                cmd = getattr(orch, kind)(vehicle_id, orch.now(), reason)
                return ModeOut(vehicle_id=vehicle_id, command=kind, seq=cmd.seq)

            return ops.act(
                who,
                "controller",
                f"vehicle.{kind}",
                vehicle_id,
                body.model_dump(exclude_none=True),
                run,
                {FleetError: 409},
            )

        return handler

    for kind, summary in (
        ("pause", "Pause a vehicle (controlled stop, route kept)"),
        ("resume", "Resume a paused or e-stopped vehicle"),
        ("estop", "Emergency-stop a vehicle (hard brake; until resumed)"),
    ):
        router.add_api_route(
            f"/vehicles/{{vehicle_id}}/{kind}",
            mode(kind),  # type: ignore[arg-type]
            methods=["POST"],
            status_code=202,
            tags=["fleet control"],
            summary=summary + " (controller)",
            description="Sends the command to the vehicle; 202: sent (acknowledged later). "
            "Audited.",
            responses={403: {}, 404: {}, 409: {}},
        )

    # -- routes and lanes -------------------------------------------------------
    @router.get("/routes", tags=["traffic"], summary="Routes and reservations")
    def routes(who: User) -> list[RouteOut]:
        """Per vehicle: planned path and the stretch it holds now (GeoJSON, lon/lat)."""
        return [RouteOut.model_validate(route_view(r)) for r in orch.routes()]

    @router.get("/corridors/{corridor_id}/lanes", tags=["traffic"], summary="Lanes")
    def lanes(corridor_id: Id, who: User) -> list[Lane]:
        """The corridor's lanes, which are reserved for guided vehicles, which are closed."""
        return [Lane.model_validate(x) for x in lanes_of(orch, corridor_id)]

    def lane_action(corridor_id: str, lane_id: str, close: bool, reason: str | None) -> Lane:
        if corridor_id not in orch.maps:
            raise ActionFailed(404, f"unknown corridor {corridor_id!r}")
        if lane_id not in orch.maps[corridor_id].lines:
            raise ActionFailed(404, f"unknown lane {lane_id!r} in {corridor_id!r}")
        try:
            if close:
                orch.close_lane(corridor_id, lane_id, orch.now(), reason or "")
            else:
                orch.reopen_lane(corridor_id, lane_id, orch.now())
        except FleetError as e:
            raise ActionFailed(409, str(e)) from None
        hub.publish_items("alarms", ops.alarms.sync("lane_closed", lane_conditions(orch)))
        (lane,) = [x for x in lanes_of(orch, corridor_id) if x["lane_id"] == lane_id]
        return Lane.model_validate(lane)

    @router.post(
        "/corridors/{corridor_id}/lanes/{lane_id}/close",
        tags=["traffic"],
        summary="Close a lane (controller)",
        responses={403: {}, 404: {}, 409: {}},
    )
    def close_lane(corridor_id: Id, lane_id: Id, body: CloseBody, who: User, ops: Ops) -> Lane:
        """No new route uses the lane until reopened; 409 if already closed. Audited."""
        return ops.act(
            who,
            "controller",
            "lane.close",
            f"{corridor_id}/{lane_id}",
            {"reason": body.reason},
            lambda: lane_action(corridor_id, lane_id, True, body.reason),
        )

    @router.post(
        "/corridors/{corridor_id}/lanes/{lane_id}/reopen",
        tags=["traffic"],
        summary="Reopen a lane (controller)",
        responses={403: {}, 404: {}, 409: {}},
    )
    def reopen_lane(corridor_id: Id, lane_id: Id, body: EmptyBody, who: User, ops: Ops) -> Lane:
        """Undo a closure; 409 if the lane is open. Audited."""
        return ops.act(
            who,
            "controller",
            "lane.reopen",
            f"{corridor_id}/{lane_id}",
            {},
            lambda: lane_action(corridor_id, lane_id, False, None),
        )

    # -- the handoff link -------------------------------------------------------
    @router.get("/handoff/link", tags=["handoff"], summary="Handoff link status")
    def link(who: User) -> list[LinkOut]:
        """Per corridor: the link to the other side's orchestrator and its backlog."""
        return [LinkOut.model_validate(link_view(x)) for x in orch.link_status()]

    @router.get("/handoffs", tags=["handoff"], summary="Recent handoffs")
    def handoffs(who: User, limit: Annotated[int, Query(ge=1, le=500)] = 50) -> list[HandoffOut]:
        """The latest handoffs at the zero line, newest first."""
        return [
            HandoffOut.model_validate(handoff_view(x, n))
            for n, x in enumerate(orch.handoffs(limit), 1)
        ]

    # -- alarms -----------------------------------------------------------------
    @router.get("/alarms", tags=["alarms"], summary="Alarms")
    def alarms(
        who: User,
        ops: Ops,
        active: Annotated[bool | None, Query(description="only active / only cleared")] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 200,
    ) -> list[AlarmOut]:
        """Alarms, newest first: vehicle offline/fault/e-stop, link down, holds, closed lanes."""
        return [AlarmOut.model_validate(a) for a in ops.alarms.list(active, limit)]

    @router.post(
        "/alarms/{alarm_id}/ack",
        tags=["alarms"],
        summary="Acknowledge an alarm (controller)",
        responses={403: {}, 404: {}, 409: {}},
    )
    def ack(
        alarm_id: Annotated[int, Path(ge=1, le=2**62)], body: AckBody, who: User, ops: Ops
    ) -> AlarmOut:
        """Record that a controller has seen it; 409 if already acknowledged. Audited."""
        a = ops.act(
            who,
            "controller",
            "alarm.ack",
            str(alarm_id),
            body.model_dump(exclude_none=True),
            lambda: ops.alarms.ack(alarm_id, who.username, body.note),
            {UnknownAlarm: 404, AlreadyAcked: 409},
        )
        hub.publish_items("alarms", [a])
        return AlarmOut.model_validate(a)

    # -- contained faults -----------------------------------------------------------
    @router.get("/faults", tags=["system"], summary="Contained faults (controller, admin)")
    def faults(who: Controller, limit: Annotated[int, Query(ge=1, le=200)] = 50) -> dict[str, Any]:
        """What the orchestrator survived: vehicle reports refused (by reason) or applied
        late, exceptions caught at an entry point (newest first, with their traceback)
        and the vehicles isolated after one (held until a controller resumes them)."""
        with orch.lock:
            recent = list(orch.faults)[-limit:]
        return {**orch.report_stats(), "recent": list(reversed(recent))}

    # -- KPIs ---------------------------------------------------------------------
    @router.get("/kpis", tags=["kpis"], summary="Key figures per corridor")
    def kpi(who: User) -> KpisOut:
        """Crossings today vs target, queue length, mean crossing time, vehicle use."""
        doc = kpis.compute(orch.maps, orch.vehicles(), store_of(), wall(), targets)
        return KpisOut.model_validate(doc)

    # -- audit --------------------------------------------------------------------
    @router.get("/audit", tags=["audit"], summary="The audit log (controller, admin)")
    def audit(
        who: Controller,
        ops: Ops,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        before_id: Annotated[int | None, Query(ge=1, le=2**62)] = None,
    ) -> AuditPage:
        """Entries newest first (page back with ``before_id``), and whether the chain holds."""
        entries = [
            AuditEntry.model_validate({**e, "at": iso(e["at"])})
            for e in ops.audit.entries(limit, before_id)
        ]
        return AuditPage(entries=entries, chain_ok=ops.audit.verify().ok)

    @router.get("/audit/verify", tags=["audit"], summary="Verify the audit hash chain")
    def verify(who: Controller, ops: Ops) -> AuditVerification:
        """Recompute every hash; ``first_bad_id`` is the first entry that was altered."""
        v = ops.audit.verify()
        return AuditVerification(ok=v.ok, entries=v.entries, first_bad_id=v.first_bad_id)

    return router
