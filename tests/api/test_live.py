"""The live WebSocket: login, snapshot, deltas, expiry; the hub's back-pressure."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.websockets import WebSocketDisconnect

from api.live import LiveHub
from fleet.vehicles import VehicleMode, VehicleReport
from smartgate.operators.accounts import SESSION_TTL_S
from smartgate.services.orchestrator import Orchestrator
from tests.api.apikit import token
from tests.api.conftest import Clock


def receive_until(ws: Any, want: Any, limit: int = 200) -> dict[str, Any]:
    for _ in range(limit):
        msg: dict[str, Any] = ws.receive_json()
        assert msg["type"] == "delta"
        if want(msg):
            return msg
    raise AssertionError("no such delta")


@pytest.mark.parametrize("query", ["", "?token=", "?token=forged"])
def test_without_a_valid_token_the_socket_is_closed_4401(client: TestClient, query: str) -> None:
    with (
        client.websocket_connect(f"/ws/live{query}") as ws,
        pytest.raises(WebSocketDisconnect) as e,
    ):
        ws.receive_json()
    assert e.value.code == 4401


def test_snapshot_then_deltas(client: TestClient, orch: Orchestrator) -> None:
    with client.websocket_connect(f"/ws/live?token={token(client, 'viewer')}") as ws:
        snap = ws.receive_json()
        assert snap["type"] == "snapshot"
        assert {v["id"] for v in snap["vehicles"]} == {"hn_01", "tt_01"}
        assert snap["alarms"] == [] and {x["corridor"] for x in snap["link"]} == {
            "huu-nghi",
            "tan-thanh",
        }
        assert {c["corridor"] for c in snap["kpis"]["corridors"]} == {"huu-nghi", "tan-thanh"}
        assert {r["vehicle_id"] for r in snap["routes"]} == {"hn_01", "tt_01"}
        v = orch.core.vehicles["hn_01"]
        orch.report(VehicleReport("hn_01", 1.0, v.x, v.y, 0.0, 0.0, mode=VehicleMode.ESTOPPED), 1.0)
        msg = receive_until(ws, lambda m: m.get("alarms"))
        assert [(a["kind"], a["subject"]) for a in msg["alarms"]] == [("estop", "hn_01")]
        assert [x["mode"] for x in msg["vehicles"]] == ["estopped"]
        orch.send_to("tt_01", "SL-E-zero", 2.0)  # a new route: the refresher sends it
        msg = receive_until(
            ws, lambda m: any(r["vehicle_id"] == "tt_01" for r in m.get("routes", []))
        )
        (r,) = [r for r in msg["routes"] if r["vehicle_id"] == "tt_01"]
        assert len(r["route"]["coordinates"]) >= 2


def test_the_socket_closes_when_the_session_expires(
    client: TestClient, orch: Orchestrator, clock: Clock
) -> None:
    with client.websocket_connect(f"/ws/live?token={token(client, 'viewer')}") as ws:
        assert ws.receive_json()["type"] == "snapshot"
        clock.advance(SESSION_TTL_S + 1)
        v = orch.core.vehicles["hn_01"]
        orch.report(VehicleReport("hn_01", 1.0, v.x + 1, v.y, 0.0, 0.5), 1.0)
        with pytest.raises(WebSocketDisconnect) as e:
            for _ in range(100):
                ws.receive_json()
        assert e.value.code == 4401


def view(vid: str, x: float) -> dict[str, Any]:
    return {"id": vid, "x_m": x}


def test_a_slow_client_gets_coalesced_deltas_then_is_dropped() -> None:
    asyncio.run(slow_client())


async def slow_client() -> None:
    hub = LiveHub(max_hz=10.0, drop_after_s=5.0)
    fast, slow = hub.connect(), hub.connect()
    for i in range(5):  # five frames: a, then b moving, a moving
        hub.publish([view("a", i), view("b", 10 * i)] if i % 2 else [view("a", i)])
        hub.flush(now=100.0 + i * 0.1)
        text = await hub.next_message(fast)  # the fast client takes each frame as it comes
        assert text is not None and f'"x_m":{i}' in text
    merged = await hub.next_message(slow)  # one message: the latest state of each vehicle
    assert merged is not None
    body = json.loads(merged)
    assert body["type"] == "delta"
    assert sorted((v["id"], v["x_m"]) for v in body["vehicles"]) == [("a", 4), ("b", 30)]
    assert slow.coalesced == 1 and fast.coalesced == 0
    hub.publish([view("a", 5)])
    hub.flush(now=101.0)  # slow falls behind again: its oldest unsent frame is 101.0
    assert await hub.next_message(fast) is not None
    hub.publish([view("a", 6)])
    hub.flush(now=106.5)  # 5.5 s later, still not taken: dropped
    assert slow.dropped and slow not in hub.clients and hub.dropped == 1
    assert await hub.next_message(slow) is None
    assert not fast.dropped and await hub.next_message(fast) is not None


def test_publish_never_waits_for_the_loop() -> None:
    hub = LiveHub()  # not bound to a loop (no server yet): publishing is just an append
    for i in range(10_000):
        hub.publish([view("a", i)])
    frame = hub.flush(now=1.0)
    assert frame is not None and frame.items["vehicles"]["a"]["x_m"] == 9999


def test_nothing_changed_sends_nothing() -> None:
    hub = LiveHub()
    hub.publish([])
    hub.publish_items("routes", [])
    hub.publish_items("alarms", [])
    assert hub.flush(now=1.0) is None
