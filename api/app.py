"""The operator API: REST under /api/v1, the live WebSocket, and the web UI.

A thin adapter: every handler reads views from the :class:`Orchestrator` and
calls its public methods, never the core's internals, so the API cannot break
the core's invariants. Errors are RFC 9457 problem documents. Users, sessions,
the audit log and alarms live in the orchestrator's database (the store); an
orchestrator without one gets a private in-memory database (tests, tools).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from http import HTTPStatus
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import create_engine
from sqlalchemy.engine import Engine
from sqlalchemy.pool import StaticPool
from starlette.exceptions import HTTPException

from api.auth import Operators, User, auth_router
from api.consignments_api import consignments_router, yard_router
from api.live import LiveHub
from api.operator_api import (
    fault_conditions,
    lane_conditions,
    link_view,
    operator_router,
    route_view,
)
from smartgate.operators import kpis
from smartgate.operators.accounts import Auth
from smartgate.operators.alarms import AlarmBook, Condition
from smartgate.operators.audit import AuditLog
from smartgate.services.desk import record_view
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store, migrate


def json_text(doc: dict[str, Any]) -> str:
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


WEB_DIR = Path(__file__).resolve().parent / "web"
LIVE_MAX_HZ = 10.0
FAULT_ALARM_S = 600.0  # an internal_error alarm clears after this long without a fault
REFRESH_S = 1.0  # routes, link, consignments, KPIs: polled this often for the live stream
WS_UNAUTHORIZED = 4401  # close code: no or expired token
WS_TRY_AGAIN = 1013  # close code: dropped for falling too far behind


def problem(
    status: int, title: str, detail: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def memory_engine() -> Engine:
    """A private in-memory database shared by all threads (one connection)."""
    engine = create_engine(
        "sqlite://", poolclass=StaticPool, connect_args={"check_same_thread": False}
    )
    migrate(engine)
    return engine


def create_app(
    orch: Orchestrator,
    hub: LiveHub | None = None,
    *,
    store: Store | None = None,
    clock: Callable[[], float] = time.time,
    hasher: PasswordHasher | None = None,
    kpi_targets: dict[str, int] | None = None,
    refresh_s: float = REFRESH_S,
) -> FastAPI:
    """The app; ``clock`` (wall seconds) stamps sessions, audit entries and alarms."""
    hub = hub or LiveHub(max_hz=LIVE_MAX_HZ)
    if store is None and orch.desk is not None:
        store = orch.desk.store
    engine = store.engine if store is not None else memory_engine()
    ops = Operators(
        Auth(engine, clock=clock, hasher=hasher),
        AuditLog(engine, clock=clock),
        AlarmBook(engine, clock=clock),
    )
    last: dict[str, Any] = {}

    def refresh() -> None:
        """Poll what has no change events yet; publish what changed (worker thread)."""
        routes = {r["vehicle_id"]: route_view(r) for r in orch.routes()}
        old = last.get("routes", {})
        quiet = {"poke": False}  # ride along with the next vehicle frame
        hub.publish_items("routes", [r for k, r in routes.items() if old.get(k) != r], **quiet)
        last["routes"] = routes
        link = [link_view(lk) for lk in orch.link_status()]
        if link != last.get("link"):
            hub.publish_items("link", link, **quiet)
            last["link"] = link
        changed = ops.alarms.sync(
            "handoff_link_down",
            {
                lk["corridor"]: Condition(
                    lk["corridor"],
                    f"Handoff link to {lk['peer']} is down",
                    f"Mất liên kết bàn giao với {lk['peer']}",
                )
                for lk in link
                if lk["state"] == "down"
            },
        )
        changed += ops.alarms.sync("lane_closed", lane_conditions(orch))
        changed += ops.alarms.sync("internal_error", fault_conditions(orch, FAULT_ALARM_S))
        if orch.desk is not None:
            with orch.desk.lock:
                recs = list(orch.desk.records.values())
            versions = {r.id: r.version for r in recs}
            seen = last.get("consignments", {})
            hub.publish_items(
                "consignments",
                [record_view(r) for r in recs if seen.get(r.id) != r.version],
                **quiet,
            )
            last["consignments"] = versions
            changed += ops.alarms.sync(
                "consignment_hold",
                {
                    r.id: Condition(
                        r.consignment.corridor,
                        f"Consignment {r.id} is held for inspection",
                        f"Lô hàng {r.id} bị giữ để kiểm tra",
                    )
                    for r in recs
                    if r.consignment.state.value == "held"
                },
            )
        if changed:
            hub.publish_items("alarms", changed)
        doc = kpis.compute(orch.maps, orch.vehicles(), store, clock(), kpi_targets)
        if doc["corridors"] != last.get("kpis"):
            hub.publish_items("kpis", doc, **quiet)
            last["kpis"] = doc["corridors"]

    async def refresher() -> None:
        while True:
            await asyncio.sleep(refresh_s)
            try:
                await asyncio.to_thread(refresh)
            except Exception as e:  # keep the stream alive; the next round retries
                print(f"live refresh failed: {type(e).__name__}: {e}")

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        hub.on_vehicles.append(ops.alarms.observe_vehicles)
        listener = lambda events, views: hub.publish(views)  # noqa: E731
        orch.listeners.append(listener)
        views = orch.vehicles()
        hub.seed("vehicles", views)
        hub.seed("alarms", ops.alarms.observe_vehicles(views) + ops.alarms.active())
        await asyncio.to_thread(refresh)
        hub.flush()
        tasks = [asyncio.create_task(hub.run()), asyncio.create_task(refresher())]
        try:
            yield
        finally:
            orch.listeners.remove(listener)
            hub.on_vehicles.remove(ops.alarms.observe_vehicles)
            for t in tasks:
                t.cancel()
            for t in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await t

    app = FastAPI(
        title="smartgate",
        version="0.1.0",
        summary="Fleet orchestrator for the driverless lanes of the Hữu Nghị smart border gate.",
        lifespan=lifespan,
        description=(
            "REST under `/api/v1` for the control room: corridors and maps, vehicles and "
            "their control, consignments, routes and lanes, the handoff link, alarms, KPIs "
            "and the audit log. Log in at `POST /api/v1/auth/login` and send "
            "`Authorization: Bearer <token>`. Roles: viewer (read), controller (+ control "
            "actions), admin (+ users). Errors are RFC 9457 problem documents. Live "
            "changes: WebSocket `/ws/live?token=<token>` (a snapshot, then deltas at "
            "up to 10 Hz)."
        ),
    )
    app.state.ops = ops
    app.state.hub = hub

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        try:
            title = HTTPStatus(exc.status_code).phrase
        except ValueError:
            title = "Error"
        return problem(exc.status_code, title, str(exc.detail), getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def server_problem(request: Request, exc: Exception) -> JSONResponse:
        orch.fault(f"api {request.method} {request.url.path}", None, exc)  # logged, alarmed
        return problem(500, "Internal Server Error", f"{type(exc).__name__} (see the server log)")

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "Invalid request",
            "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()),
        )

    app.include_router(auth_router(), prefix="/api/v1")
    app.include_router(consignments_router(lambda: orch.desk), prefix="/api/v1")
    app.include_router(yard_router(lambda: orch.desk), prefix="/api/v1")
    app.include_router(
        operator_router(orch, hub, ops, lambda: store, kpi_targets, clock), prefix="/api/v1"
    )

    @app.get("/api/v1/health", tags=["system"], summary="Liveness (no login)")
    def health() -> dict[str, Any]:
        """Liveness: the process serves requests and knows its corridors."""
        return {"status": "ok", "corridors": sorted(orch.maps)}

    @app.get("/api/v1/corridors", tags=["map"], summary="Corridors")
    def corridors(who: User) -> list[dict[str, Any]]:
        """The corridors this orchestrator serves, with their bounds (WGS84)."""
        out = []
        for cmap in orch.maps.values():
            lons, lats = [], []
            for f in cmap.geojson["features"]:
                coords = f["geometry"]["coordinates"]
                stack: list[Any] = [coords]
                while stack:
                    c = stack.pop()
                    if c and isinstance(c[0], (int, float)):
                        lons.append(c[0])
                        lats.append(c[1])
                    else:
                        stack.extend(c)
            out.append(
                {
                    "id": cmap.id,
                    "name": cmap.name,
                    "name_en": cmap.name_en,
                    "markers": cmap.markers,
                    "bounds": [min(lons), min(lats), max(lons), max(lats)],
                }
            )
        return out

    @app.get(
        "/api/v1/corridors/{corridor_id}/map",
        tags=["map"],
        summary="Corridor map (GeoJSON)",
        responses={404: {}},
    )
    def corridor_map(corridor_id: str, who: User) -> dict[str, Any]:
        """The corridor's map as GeoJSON (the validated map file)."""
        cmap = orch.maps.get(corridor_id)
        if cmap is None:
            raise HTTPException(404, f"unknown corridor {corridor_id!r}")
        return cmap.geojson

    @app.get("/api/v1/vehicles", tags=["fleet"], summary="Vehicles")
    def vehicles(who: User) -> list[dict[str, Any]]:
        """Every guide vehicle: position, status, lane and current mission."""
        return orch.vehicles()

    @app.get(
        "/api/v1/vehicles/{vehicle_id}", tags=["fleet"], summary="One vehicle", responses={404: {}}
    )
    def vehicle(vehicle_id: str, who: User) -> dict[str, Any]:
        """Position, status, lane, mode, battery, faults and current mission (with route)."""
        for v in orch.vehicles():
            if v["id"] == vehicle_id:
                return v
        raise HTTPException(404, f"unknown vehicle {vehicle_id!r}")

    @app.websocket("/ws/live")
    async def live(ws: WebSocket) -> None:
        """``?token=``: a snapshot, then deltas (latest per id) at most 10 a second.

        Closed with 4401 without a valid session (or when it expires), with 1013
        if the client falls too far behind.
        """
        await ws.accept()
        token = ws.query_params.get("token", "")
        who = await asyncio.to_thread(ops.auth.resolve, token) if token else None
        if who is None:
            await ws.close(WS_UNAUTHORIZED, "log in first")
            return
        client = hub.connect()
        try:
            await ws.send_text(json_text(hub.snapshot()))
            while True:
                text = await hub.next_message(client)
                if text is None:
                    await ws.close(WS_TRY_AGAIN, "too far behind: reconnect")
                    return
                if clock() >= who.expires_at:
                    await ws.close(WS_UNAUTHORIZED, "session expired")
                    return
                await asyncio.wait_for(ws.send_text(text), hub.drop_after_s)
        except (WebSocketDisconnect, RuntimeError, TimeoutError):
            pass
        finally:
            hub.disconnect(client)

    leaflet = WEB_DIR / "node_modules" / "leaflet" / "dist"
    if leaflet.is_dir():
        app.mount("/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")
    app.mount("/", StaticFiles(directory=WEB_DIR / "static", html=True), name="ui")
    return app
