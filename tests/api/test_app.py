"""The operator API over HTTP and WebSocket (FastAPI TestClient, real app)."""

from __future__ import annotations

from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from fleet.vehicles import VehicleReport
from maps.corridor_map import CorridorMap
from smartgate.services.orchestrator import Orchestrator
from tests.api.apikit import FAST_HASHER, login, token


@pytest.fixture
def orch(maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> Orchestrator:
    o = Orchestrator(maps, graphs)
    o.add_vehicle("hn_01", "huu-nghi", "vn-spot-L1", 0.0)
    o.add_vehicle("tt_01", "tan-thanh", "vn-spot-L1", 0.0)
    return o


def test_corridors_and_maps(orch: Orchestrator) -> None:
    with TestClient(create_app(orch, hasher=FAST_HASHER)) as c:
        login(c, "viewer")
        cs = c.get("/api/v1/corridors").json()
        assert [x["id"] for x in cs] == ["huu-nghi", "tan-thanh"]
        lo_lon, lo_lat, hi_lon, hi_lat = cs[0]["bounds"]
        assert lo_lon < 106.7108 < hi_lon and lo_lat < 21.9711 < hi_lat
        m = c.get("/api/v1/corridors/huu-nghi/map").json()
        assert m["type"] == "FeatureCollection"
        assert any(f["properties"]["type"] == "zero_line" for f in m["features"])
        r = c.get("/api/v1/corridors/lao-cai/map")
        assert r.status_code == 404
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["detail"] == "unknown corridor 'lao-cai'"


def test_vehicles_and_live_stream(orch: Orchestrator) -> None:
    with TestClient(create_app(orch, hasher=FAST_HASHER)) as c:
        login(c, "viewer")
        vs = {v["id"]: v for v in c.get("/api/v1/vehicles").json()}
        assert vs["hn_01"]["status"] == "idle" and vs["hn_01"]["mission"] is None
        assert 106.70 < vs["hn_01"]["lon"] < 106.72
        assert c.get("/api/v1/vehicles/ghost").status_code == 404
        with c.websocket_connect(f"/ws/live?token={token(c, 'viewer')}") as ws:
            snap = ws.receive_json()
            assert snap["type"] == "snapshot" and len(snap["vehicles"]) == 2
            orch.send_to("hn_01", "SL-E-zero", 1.0)
            v = orch.core.vehicles["hn_01"]
            orch.report(VehicleReport("hn_01", 2.0, v.x, v.y + 1.0, 1.2, 2.5), 2.0)
            seen: list[dict[str, Any]] = []
            while not seen or seen[-1]["speed_mps"] != 2.5:
                msg = ws.receive_json()
                assert msg["type"] == "delta"
                seen += [v for v in msg.get("vehicles", []) if v["id"] == "hn_01"]
        last = seen[-1]
        assert last["id"] == "hn_01" and last["status"] == "moving"
        assert last["mission"]["goal"] == "SL-E-zero"
        assert last["mission"]["lanes"][-1] == "E-AUTO"
        assert last["mission"]["route"]["type"] == "LineString"
        # Compass heading: yaw 1.2 rad from east = 90 - 68.75 degrees from north.
        assert last["heading_deg"] == pytest.approx(90 - 68.75, abs=0.1)


def test_ui_and_its_map_library_are_served_offline(orch: Orchestrator) -> None:
    with TestClient(create_app(orch, hasher=FAST_HASHER)) as c:  # no login: the SPA is public
        index = c.get("/")
        assert index.status_code == 200 and "/vendor/leaflet/leaflet.js" in index.text
        assert c.get("/vendor/leaflet/leaflet.js").status_code == 200
        assert c.get("/app.js").status_code == 200
        assert "http://" not in index.text.replace("http://www.w3.org", "")
