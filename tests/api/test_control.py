"""Control actions, lanes, routes, the link, alarms, KPIs and the audit log over HTTP."""

from __future__ import annotations

import itertools
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from fleet.core import Command, ModeCommand
from fleet.vehicles import VehicleMode, VehicleReport
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store
from tests.api.apikit import headers
from tests.api.conftest import Clock
from tests.api.test_auth import is_problem
from tests.smartgate.storage.recordkit import declaration

V = "/api/v1"


def audit_of(client: TestClient, action: str) -> list[tuple[str | None, str, str]]:
    log = client.get(f"{V}/audit", headers=headers(client, "admin")).json()["entries"]
    return [(e["username"], e["result"], e["detail"]) for e in log if e["action"] == action]


def test_a_viewer_cannot_estop_and_the_refusal_is_audited(
    client: TestClient, sent: list[Command]
) -> None:
    viewer = headers(client, "viewer")
    body = is_problem(client.post(f"{V}/vehicles/hn_01/estop", json={}, headers=viewer), 403)
    assert "controller" in str(body["detail"])
    assert sent == []
    assert audit_of(client, "vehicle.estop") == [
        ("viewer", "error", "403: role 'viewer' may not vehicle.estop (needs controller)")
    ]


def test_controller_pauses_resumes_and_estops(client: TestClient, sent: list[Command]) -> None:
    ctl = headers(client, "controller")
    seqs = []
    for kind in ("pause", "resume", "estop"):
        r = client.post(f"{V}/vehicles/hn_01/{kind}", json={"reason": "drill"}, headers=ctl)
        assert r.status_code == 202, r.text
        out = r.json()
        assert out["vehicle_id"] == "hn_01" and out["command"] == kind
        seqs.append(out["seq"])
    assert [(c.kind.value, c.reason) for c in sent if isinstance(c, ModeCommand)] == [
        ("pause", "drill"),
        ("resume", "drill"),
        ("estop", "drill"),
    ]
    assert seqs == sorted(seqs) and len(set(seqs)) == 3
    is_problem(client.post(f"{V}/vehicles/ghost/estop", json={}, headers=ctl), 404)
    is_problem(client.post(f"{V}/vehicles/hn_01/estop", json={"reason": 5}, headers=ctl), 422)
    is_problem(client.post(f"{V}/vehicles/hn_01/estop", json={"why": "x"}, headers=ctl), 422)
    assert audit_of(client, "vehicle.estop") == [
        ("controller", "error", "404: unknown vehicle 'ghost'"),
        ("controller", "ok", ""),
    ]


def test_lanes_close_and_reopen(client: TestClient) -> None:
    ctl, viewer = headers(client, "controller"), headers(client, "viewer")
    lanes = {
        x["lane_id"]: x for x in client.get(f"{V}/corridors/huu-nghi/lanes", headers=viewer).json()
    }
    assert lanes["E-AUTO"]["reserved_for_guided"] and not lanes["E1"]["reserved_for_guided"]
    assert lanes["E-AUTO"]["direction"] == "export" and lanes["E-AUTO"]["length_m"] > 10
    assert not any(x["closed"] for x in lanes.values())
    url = f"{V}/corridors/huu-nghi/lanes/E-AUTO"
    is_problem(client.post(f"{url}/close", json={"reason": "debris"}, headers=viewer), 403)
    is_problem(client.post(f"{url}/close", json={}, headers=ctl), 422)
    lane = client.post(f"{url}/close", json={"reason": "debris"}, headers=ctl).json()
    assert lane["closed"] and lane["closed_reason"] == "debris"
    is_problem(client.post(f"{url}/close", json={"reason": "again"}, headers=ctl), 409)
    alarms = client.get(f"{V}/alarms", params={"active": True}, headers=viewer).json()
    assert [(a["kind"], a["subject"], a["severity"]) for a in alarms] == [
        ("lane_closed", "huu-nghi/E-AUTO", "warning")
    ]
    assert client.post(f"{url}/reopen", json={}, headers=ctl).json()["closed"] is False
    is_problem(client.post(f"{url}/reopen", json={}, headers=ctl), 409)
    is_problem(
        client.post(f"{V}/corridors/huu-nghi/lanes/X9/close", json={"reason": "r"}, headers=ctl),
        404,
    )
    is_problem(client.get(f"{V}/corridors/lao-cai/lanes", headers=viewer), 404)
    assert client.get(f"{V}/alarms", params={"active": True}, headers=viewer).json() == []
    cleared = client.get(f"{V}/alarms", params={"active": False}, headers=viewer).json()
    assert cleared[0]["kind"] == "lane_closed" and cleared[0]["cleared_at"]
    # Newest first: unknown lane (404), already closed (409), closed, viewer (403).
    assert [r for _, r, _ in audit_of(client, "lane.close")] == ["error", "error", "ok", "error"]


def test_routes_link_and_handoffs(client: TestClient, orch: Orchestrator) -> None:
    viewer = headers(client, "viewer")
    orch.send_to("hn_01", "SL-E-zero", 1.0)
    routes = {r["vehicle_id"]: r for r in client.get(f"{V}/routes", headers=viewer).json()}
    hn = routes["hn_01"]
    assert hn["route"]["type"] == "LineString" and len(hn["route"]["coordinates"]) >= 2
    lon, lat = hn["route"]["coordinates"][0]
    assert 106.70 < lon < 106.72 and 21.9 < lat < 22.0
    assert hn["plan_state"] in ("moving", "holding")
    assert routes["tt_01"]["plan_state"] == "idle" and routes["tt_01"]["route"]["coordinates"] == []
    link = client.get(f"{V}/handoff/link", headers=viewer).json()
    assert {x["corridor"] for x in link} == {"huu-nghi", "tan-thanh"}
    assert all(x["state"] in ("connected", "lagging", "down", "not_configured") for x in link)
    assert isinstance(client.get(f"{V}/handoffs?limit=5", headers=viewer).json(), list)
    is_problem(client.get(f"{V}/handoffs?limit=0", headers=viewer), 422)


def test_vehicle_alarms_follow_reports_and_are_acked_once(
    client: TestClient, orch: Orchestrator, clock: Clock
) -> None:
    viewer, ctl = headers(client, "viewer"), headers(client, "controller")
    v = orch.core.vehicles["hn_01"]
    orch.report(
        VehicleReport(
            "hn_01", 1.0, v.x, v.y, 0.0, 0.0, mode=VehicleMode.ESTOPPED, faults=("lidar",)
        ),
        1.0,
    )
    client.app.state.hub.flush()  # type: ignore[attr-defined]  # as the flusher would
    active = client.get(f"{V}/alarms?active=true", headers=viewer).json()
    kinds = {a["kind"]: a for a in active}
    assert set(kinds) == {"estop", "vehicle_fault"}
    assert kinds["estop"]["severity"] == "critical" and kinds["estop"]["subject"] == "hn_01"
    assert "lidar" in kinds["vehicle_fault"]["message_en"] and kinds["estop"]["message_vi"]
    aid = kinds["estop"]["id"]
    is_problem(client.post(f"{V}/alarms/{aid}/ack", json={}, headers=viewer), 403)
    a = client.post(f"{V}/alarms/{aid}/ack", json={"note": "seen"}, headers=ctl).json()
    assert a["acked_by"] == "controller" and a["acked_at"] and a["cleared_at"] is None
    is_problem(client.post(f"{V}/alarms/{aid}/ack", json={}, headers=ctl), 409)
    is_problem(client.post(f"{V}/alarms/999/ack", json={}, headers=ctl), 404)
    orch.report(VehicleReport("hn_01", 2.0, v.x, v.y, 0.0, 0.0, mode=VehicleMode.IDLE), 2.0)
    client.app.state.hub.flush()  # type: ignore[attr-defined]
    # The e-stop clears at once; a fault only once it stayed away 5 s (no flapping alarms).
    active = client.get(f"{V}/alarms?active=true", headers=viewer).json()
    assert [a["kind"] for a in active] == ["vehicle_fault"]
    fault_id = active[0]["id"]
    orch.report(VehicleReport("hn_01", 3.0, v.x, v.y, 0.0, 0.0, faults=("lidar",)), 3.0)
    clock.advance(3.0)
    orch.report(VehicleReport("hn_01", 4.0, v.x, v.y, 0.0, 0.0), 4.0)
    client.app.state.hub.flush()  # type: ignore[attr-defined]
    active = client.get(f"{V}/alarms?active=true", headers=viewer).json()
    assert [a["id"] for a in active] == [fault_id]  # came back within 5 s: the same alarm
    clock.advance(5.5)
    orch.report(VehicleReport("hn_01", 5.0, v.x, v.y, 0.0, 0.0), 5.0)
    client.app.state.hub.flush()  # type: ignore[attr-defined]
    assert client.get(f"{V}/alarms?active=true", headers=viewer).json() == []


def test_kpis(client: TestClient, orch: Orchestrator) -> None:
    k = client.get(f"{V}/kpis", headers=headers(client, "viewer")).json()
    assert k["generated_at"].startswith("2026-11-")
    by = {c["corridor"]: c for c in k["corridors"]}
    assert set(by) == {"huu-nghi", "tan-thanh"}
    hn = by["huu-nghi"]
    assert hn["vehicles_total"] == 1 and hn["vehicles_active"] == 0
    assert hn["vehicle_utilisation"] == 0.0 and hn["crossings_today"] == 0
    assert hn["target_per_day"] > 0 and hn["mean_crossing_time_s"] is None


def cleared(client: TestClient, i: int) -> str:
    ctl = headers(client, "controller")
    assert client.post(f"{V}/consignments", json=declaration(i), headers=ctl).status_code == 201
    cid = f"VN-2026-{i:06d}"
    note = {"actor": "customs", "reason": "ok"}
    client.post(
        f"{V}/consignments/{cid}/customs", json={"decision": "cleared", **note}, headers=ctl
    )
    client.post(
        f"{V}/consignments/{cid}/quarantine", json={"decision": "cleared", **note}, headers=ctl
    )
    return cid


def test_consignment_priority_hold_release_are_controller_actions(
    client: TestClient, store: Store
) -> None:
    cid = cleared(client, 1)
    viewer, ctl = headers(client, "viewer"), headers(client, "controller")
    url = f"{V}/consignments/{cid}"
    assert client.get(url, headers=viewer).json()["state"] in ("cleared", "queued")
    is_problem(
        client.post(f"{url}/priority", json={"priority": 5, "reason": "r"}, headers=viewer), 403
    )
    is_problem(client.post(f"{url}/hold", json={"reason": "x-ray"}, headers=viewer), 403)
    is_problem(client.post(f"{V}/consignments", json=declaration(2), headers=viewer), 403)
    for bad in ({"priority": 10, "reason": "r"}, {"priority": -1, "reason": "r"}, {"priority": 3}):
        is_problem(client.post(f"{url}/priority", json=bad, headers=ctl), 422)
    c = client.post(f"{url}/priority", json={"priority": 7, "reason": "perishing"}, headers=ctl)
    assert c.status_code == 200 and c.json()["priority"] == 7
    assert client.get(url, headers=viewer).json()["priority"] == 7
    # Who changed it, from what, and why stays with the consignment's events too.
    (ev,) = [e for e in store.events() if e.get("event") == "consignment_reprioritised"]
    assert (ev["consignment_id"], ev["to"], ev["actor"]) == (cid, 7, "controller")
    assert ev["reason"] == "perishing" and ev["from"] != 7
    held = client.post(f"{url}/hold", json={"reason": "x-ray"}, headers=ctl).json()
    assert held["state"] == "held" and held["history"][-1]["actor"] == "controller"
    is_problem(client.post(f"{url}/hold", json={"reason": "again"}, headers=ctl), 409)
    assert client.post(f"{url}/release", json={"reason": "clean"}, headers=ctl).status_code == 200
    is_problem(
        client.post(
            f"{V}/consignments/nope/priority", json={"priority": 1, "reason": "r"}, headers=ctl
        ),
        404,
    )
    assert [r for _, r, _ in audit_of(client, "consignment.priority")] == ["error", "ok", "error"]
    assert [r for _, r, _ in audit_of(client, "consignment.hold")] == ["error", "ok", "error"]


def test_audit_chain_detects_tampering(client: TestClient, store: Store) -> None:
    ctl, admin = headers(client, "controller"), headers(client, "admin")
    for kind in ("pause", "resume"):
        client.post(f"{V}/vehicles/hn_01/{kind}", json={}, headers=ctl)
    is_problem(client.get(f"{V}/audit", headers=headers(client, "viewer")), 403)
    page = client.get(f"{V}/audit", headers=ctl).json()
    assert page["chain_ok"] is True
    entries = page["entries"]
    assert [e["id"] for e in entries] == sorted((e["id"] for e in entries), reverse=True)
    assert all(a["prev_hash"] == b["hash"] for a, b in itertools.pairwise(entries))
    pause = next(e for e in entries if e["action"] == "vehicle.pause")
    assert pause["username"] == "controller" and pause["role"] == "controller"
    assert pause["target"] == "hn_01" and pause["result"] == "ok"
    older = client.get(f"{V}/audit", params={"before_id": pause["id"], "limit": 2}, headers=ctl)
    assert [e["id"] for e in older.json()["entries"]] == [pause["id"] - 1, pause["id"] - 2]
    ok = client.get(f"{V}/audit/verify", headers=admin).json()
    assert ok == {"ok": True, "entries": ok["entries"], "first_bad_id": None}
    with store.engine.begin() as conn:  # someone edits history behind the API's back
        conn.execute(
            text("UPDATE audit_log SET username = 'viewer' WHERE id = :id"), {"id": pause["id"]}
        )
    bad = client.get(f"{V}/audit/verify", headers=admin).json()
    assert bad["ok"] is False and bad["first_bad_id"] == pause["id"]
    assert client.get(f"{V}/audit", headers=admin).json()["chain_ok"] is False


def test_audit_chain_detects_a_removed_entry(client: TestClient, store: Store) -> None:
    ctl = headers(client, "controller")
    for kind in ("pause", "resume", "pause"):
        client.post(f"{V}/vehicles/hn_01/{kind}", json={}, headers=ctl)
    entries: list[dict[str, Any]] = client.get(f"{V}/audit", headers=ctl).json()["entries"]
    victim = entries[1]["id"]
    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM audit_log WHERE id = :id"), {"id": victim})
    bad = client.get(f"{V}/audit/verify", headers=ctl).json()
    assert bad["ok"] is False and bad["first_bad_id"] == victim + 1
