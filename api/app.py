"""The operator API: REST under /api/v1, the live WebSocket, and the web UI.

A thin adapter: every handler reads views from the :class:`Orchestrator` and
never touches the core's internals, so the API cannot break the core's
invariants. Errors are RFC 9457 problem documents.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request, WebSocket, WebSocketDisconnect
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from api.consignments_api import consignments_router
from api.live import LiveHub
from smartgate.orchestrator import Orchestrator

WEB_DIR = Path(__file__).resolve().parent / "web"
LIVE_MAX_HZ = 10.0


def problem(status: int, title: str, detail: str) -> JSONResponse:
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
    )


def create_app(orch: Orchestrator, hub: LiveHub | None = None) -> FastAPI:
    hub = hub or LiveHub()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        hub.bind(asyncio.get_running_loop())
        listener = lambda events, views: hub.publish(views)  # noqa: E731
        orch.listeners.append(listener)
        try:
            yield
        finally:
            orch.listeners.remove(listener)

    app = FastAPI(
        title="smartgate",
        version="0.1.0",
        summary="Fleet orchestrator for the driverless lanes of the Hữu Nghị smart border gate.",
        lifespan=lifespan,
    )

    @app.exception_handler(HTTPException)
    async def http_problem(request: Request, exc: HTTPException) -> JSONResponse:
        return problem(
            exc.status_code,
            str(exc.detail) if exc.status_code != 404 else "Not Found",
            str(exc.detail),
        )

    @app.exception_handler(RequestValidationError)
    async def validation_problem(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(
            422,
            "Invalid request",
            "; ".join(f"{'.'.join(str(x) for x in e['loc'])}: {e['msg']}" for e in exc.errors()),
        )

    app.include_router(consignments_router(lambda: orch.desk), prefix="/api/v1")

    @app.get("/api/v1/health", tags=["system"])
    def health() -> dict[str, Any]:
        """Liveness: the process serves requests and knows its corridors."""
        return {"status": "ok", "corridors": sorted(orch.maps)}

    @app.get("/api/v1/corridors", tags=["map"])
    def corridors() -> list[dict[str, Any]]:
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

    @app.get("/api/v1/corridors/{corridor_id}/map", tags=["map"])
    def corridor_map(corridor_id: str) -> dict[str, Any]:
        """The corridor's map as GeoJSON (the validated map file)."""
        cmap = orch.maps.get(corridor_id)
        if cmap is None:
            raise HTTPException(404, f"unknown corridor {corridor_id!r}")
        return cmap.geojson

    @app.get("/api/v1/vehicles", tags=["fleet"])
    def vehicles() -> list[dict[str, Any]]:
        """Every guide vehicle: position, status, lane and current mission."""
        return orch.vehicles()

    @app.get("/api/v1/vehicles/{vehicle_id}", tags=["fleet"])
    def vehicle(vehicle_id: str) -> dict[str, Any]:
        for v in orch.vehicles():
            if v["id"] == vehicle_id:
                return v
        raise HTTPException(404, f"unknown vehicle {vehicle_id!r}")

    @app.websocket("/ws/live")
    async def live(ws: WebSocket) -> None:
        """A snapshot of all vehicles, then their changes, at most 10 batches a second."""
        await ws.accept()
        client = hub.connect()
        try:
            await ws.send_json({"type": "snapshot", "vehicles": orch.vehicles()})
            while True:
                batch = await hub.next_batch(client)
                for v in batch:
                    await ws.send_json({"type": "vehicle", "vehicle": v})
                await asyncio.sleep(1.0 / LIVE_MAX_HZ)
        except (WebSocketDisconnect, RuntimeError):
            pass
        finally:
            hub.disconnect(client)

    leaflet = WEB_DIR / "node_modules" / "leaflet" / "dist"
    if leaflet.is_dir():
        app.mount("/vendor/leaflet", StaticFiles(directory=leaflet), name="leaflet")
    app.mount("/", StaticFiles(directory=WEB_DIR / "static", html=True), name="ui")
    return app
