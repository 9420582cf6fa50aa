"""The consignment endpoints over HTTP (FastAPI TestClient, real app, real SQLite store)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from fleet.core import VehicleReport
from maps.corridor_map import CorridorMap
from smartgate.services.desk import attach_desk
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store
from tests.api.apikit import FAST_HASHER, login
from tests.smartgate.storage.recordkit import declaration

URL = "/api/v1/consignments"
NOTE = {"actor": "customs:huu-nghi", "reason": "documents in order"}


@pytest.fixture
def client(
    tmp_path: Path, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> Iterator[TestClient]:
    store = Store(f"sqlite:///{tmp_path}/api.db")
    orch = attach_desk(Orchestrator(maps, graphs), store)
    with TestClient(create_app(orch, hasher=FAST_HASHER)) as c:
        yield login(c, "controller")
    store.close()


def is_problem(r: Any, status: int) -> dict[str, Any]:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = r.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def test_declare_is_idempotent_and_a_conflict_is_409(client: TestClient) -> None:
    r = client.post(URL, json=declaration(1))
    assert r.status_code == 201 and r.headers["location"] == f"{URL}/VN-2026-000001"
    c = r.json()
    assert c["state"] == "declared" and c["history"] == []
    assert c["clearance"]["problems"] == [
        "customs clearance missing",
        "quarantine clearance missing",
    ]
    cn = c["container_number"]  # the same, spelt as printed on the box
    again = client.post(
        URL, json=declaration(1, container_number=f"{cn[:4].lower()} {cn[4:10]} {cn[10]}")
    )
    assert again.status_code == 200 and again.json()["id"] == "VN-2026-000001"
    body = is_problem(client.post(URL, json=declaration(1, gross_weight_kg=30000)), 409)
    assert body["conflicting_fields"] == ["gross_weight_kg"]
    assert body["existing_id"] == "VN-2026-000001"
    assert "gross_weight_kg" in body["detail"]
    assert len(client.get(URL).json()) == 1


def test_invalid_declarations_list_every_problem(client: TestClient) -> None:
    bad = declaration(2, container_number="CSQU3054384", corridor="lao-cai", extra=1)
    body = is_problem(client.post(URL, json=bad), 422)
    fields = {e["field"] for e in body["errors"]}
    assert fields == {"container_number", "corridor", "extra"}
    assert is_problem(client.post(URL, json=[1, 2]), 422)["errors"][0]["field"] == ""
    r = client.post(URL, content=b"{not json", headers={"content-type": "application/json"})
    is_problem(r, 400)
    assert client.get(URL).json() == []


def test_clearance_hold_release_and_history(client: TestClient) -> None:
    durian = declaration(3, goods={"category": "fruit", "fruit_kind": "durian"})
    assert client.post(URL, json=durian).status_code == 201
    one = f"{URL}/VN-2026-000003"
    assert client.post(f"{one}/customs", json={"decision": "cleared", **NOTE}).json()["state"] == (
        "declared"
    )
    q = {"decision": "cleared", "certificate": "KD-9", "actor": "quarantine", "reason": "ok"}
    c = client.post(f"{one}/quarantine", json=q).json()
    assert c["state"] == "declared"  # durian still needs its lab certificates
    assert c["clearance"]["problems"] == ["lab certificate missing for durian: auramine_o, cadmium"]
    for test in ("cadmium", "auramine_o"):
        lab = {
            "test": test,
            "certificate": f"LAB-{test}",
            "actor": "lab:vinacontrol",
            "reason": "ok",
        }
        c = client.post(f"{one}/lab-certificates", json=lab).json()
    assert c["state"] == "cleared" and c["clearance"]["quarantine_certificate"] == "KD-9"
    c = client.post(f"{one}/hold", json={"actor": "border-guard", "reason": "x-ray"}).json()
    assert c["state"] == "held"
    c = client.post(f"{one}/release", json={"actor": "border-guard", "reason": "clean"}).json()
    assert c["state"] == "cleared"
    got = client.get(one).json()
    assert [(h["from"], h["to"], h["actor"]) for h in got["history"]] == [
        ("declared", "cleared", "lab:vinacontrol"),
        ("cleared", "held", "border-guard"),
        ("held", "cleared", "border-guard"),
    ]
    assert got["history"][1]["reason"] == "x-ray"


def test_errors_404_409_422(client: TestClient) -> None:
    is_problem(client.get(f"{URL}/nope"), 404)
    is_problem(client.post(f"{URL}/nope/hold", json={"actor": "a", "reason": "r"}), 404)
    client.post(URL, json=declaration(4))
    one = f"{URL}/VN-2026-000004"
    # Illegal: handover before it is even cleared; release when not held.
    body = is_problem(client.post(f"{one}/handover", json={"accepted": True, **NOTE}), 409)
    assert "cannot go from declared to handed_over" in body["detail"]
    is_problem(client.post(f"{one}/release", json=NOTE), 409)
    is_problem(client.post(f"{one}/customs", json={"decision": "maybe", **NOTE}), 422)
    is_problem(client.post(f"{one}/customs", json={"decision": "cleared", "actor": "x"}), 422)
    is_problem(client.post(f"{one}/hold", json={**NOTE, "colour": "red"}), 422)
    assert client.get(one).json()["state"] == "declared"


def test_list_filters(client: TestClient) -> None:
    client.post(URL, json=declaration(5))
    client.post(URL, json=declaration(6, corridor="tan-thanh"))
    client.post(f"{URL}/VN-2026-000006/hold", json=NOTE)
    assert [c["id"] for c in client.get(URL, params={"corridor": "tan-thanh"}).json()] == [
        "VN-2026-000006"
    ]
    assert [c["id"] for c in client.get(URL, params={"state": "declared"}).json()] == [
        "VN-2026-000005"
    ]
    assert [c["id"] for c in client.get(URL, params={"limit": 1, "offset": 1}).json()] == [
        "VN-2026-000006"
    ]
    is_problem(client.get(URL, params={"state": "lost"}), 422)


def test_without_a_database_the_endpoints_say_so(
    maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    with TestClient(create_app(Orchestrator(maps, graphs), hasher=FAST_HASHER)) as c:
        is_problem(c.get(URL), 401)  # a login comes first
        login(c, "controller")
        is_problem(c.get(URL), 503)
        is_problem(c.post(URL, json=declaration(1)), 503)


def test_crane_reports_load_the_consignment_and_bad_ones_are_refused(
    tmp_path: Path, maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]
) -> None:
    """A vehicle at its loading spot gets a lift ordered; the crane's reports make it
    loaded; reports that do not fit are 409, unknown vehicles and spots 422; every one
    is audited."""
    store = Store(f"sqlite:///{tmp_path}/api.db")
    orch = attach_desk(Orchestrator(maps, graphs), store)
    desk = orch.desk
    assert desk is not None
    with TestClient(create_app(orch, hasher=FAST_HASHER)) as c:
        login(c, "controller")
        assert c.post(URL, json=declaration(7)).status_code == 201
        cid = "VN-2026-000007"
        spot = desk.loading_spots("huu-nghi", "VN")[0]
        v = orch.add_vehicle("hn_01", "huu-nghi", spot, 0.0)
        desk.register_vehicle("hn_01", "huu-nghi", "vn-spot-P1")
        for what in ("customs", "quarantine"):
            c.post(f"{URL}/{cid}/{what}", json={"decision": "cleared", **NOTE})
        one = f"{URL}/{cid}"
        report = {"vehicle_id": "hn_01", "spot": spot, "event": "started"}
        body = is_problem(c.post(f"{one}/lift", json=report), 409)
        assert "no lift is ordered" in body["detail"]
        for t in (1.0, 2.0, 3.0):  # reports, dispatch, the vehicle stands at its spot
            orch.report(VehicleReport("hn_01", t, v.x, v.y, v.heading_rad, 0.0), t)
            orch.tick(t)
        lifts = c.get("/api/v1/yard/lifts").json()
        assert [(x["consignment_id"], x["vehicle_id"], x["spot"]) for x in lifts] == [
            (cid, "hn_01", spot)
        ]
        assert c.get(one).json()["lift"]["started_at"] is None
        is_problem(c.post(f"{one}/lift", json={**report, "event": "done"}), 409)
        is_problem(c.post(f"{one}/lift", json={**report, "vehicle_id": "hn_77"}), 422)
        is_problem(c.post(f"{one}/lift", json={**report, "spot": "vn-spot-P1"}), 422)
        is_problem(c.post(f"{one}/lift", json={**report, "event": "dropped"}), 422)
        is_problem(c.post(f"{URL}/VN-2026-000099/lift", json=report), 404)
        assert c.get(one).json()["state"] == "queued"
        assert c.post(f"{one}/lift", json=report).json()["lift"]["started_at"] is not None
        assert c.post(f"{one}/lift", json=report).status_code == 200  # again: harmless
        done = c.post(f"{one}/lift", json={**report, "event": "done", "reason": "on board"})
        got = done.json()
        assert got["state"] == "loaded" and got["history"][-1]["actor"] == "controller"
        assert c.get("/api/v1/yard/lifts").json() == []
        audit = c.get("/api/v1/audit", params={"limit": 50}).json()["entries"]
        lifts_audited = [e for e in audit if e["action"].startswith("consignment.lift")]
        assert len(lifts_audited) == 8  # every report, refused or not
        assert sum(e["result"] == "error" for e in lifts_audited) == 5
    store.close()
