"""kill -9 a real orchestrator process in the middle of a busy run, start it again.

The orchestrator (core + consignment desk + API + database) and the vehicles run as
separate processes (``tests/smartgate/storage/crashkit.py``); the vehicles live on through
the crash. Afterwards: every declaration posted is there exactly once, every
consignment's transition log is one legal, gap-free chain that matches its state,
no vehicle carries two consignments, the in-flight ones were recovered before any
new dispatch, and the run finishes with everything received on the other side.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from fleet.cargo.consignments import TRANSITIONS
from fleet.cargo.consignments import ConsignmentState as S
from smartgate.operators.accounts import Auth, UserExists
from smartgate.storage.store import Store, opened
from tests.conftest import REPO
from tests.smartgate.storage.dbkit import DATABASES
from tests.smartgate.storage.recordkit import declaration, fresh_database

N = 24  # consignments: 16 before the crash, 8 after; odd ones on Hữu Nghị, even on Tân Thanh
IN_FLIGHT = {S.LOADED, S.IN_TRANSIT, S.AT_ZERO_LINE}
pytestmark = pytest.mark.slow


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start(role: str, d: Path, *args: str) -> subprocess.Popen[bytes]:
    log = (d / f"{role}.log").open("ab")
    return subprocess.Popen(
        [sys.executable, "-m", "tests.smartgate.storage.crashkit", role, "--dir", str(d), *args],
        cwd=REPO,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_up(base: str, proc: subprocess.Popen[bytes], d: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, (d / "orchestrator.log").read_text()
        try:
            if httpx.get(f"{base}/api/v1/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError("orchestrator did not come up")


def operator_client(base: str, db_url: str) -> httpx.Client:
    """A logged-in controller (sessions live in the database: the token survives a kill)."""
    with opened(db_url) as store, contextlib.suppress(UserExists):
        Auth(store.engine).create_user("crash", "crash-password", "controller")
    r = httpx.post(
        f"{base}/api/v1/auth/login",
        json={"username": "crash", "password": "crash-password"},
        timeout=10,
    )
    r.raise_for_status()
    token = r.json()["token"]
    return httpx.Client(base_url=base, timeout=5, headers={"Authorization": f"Bearer {token}"})


def post(client: httpx.Client, path: str, body: dict[str, Any]) -> int:
    return client.post(path, json=body).status_code


def corridor_declaration(i: int) -> dict[str, Any]:
    return declaration(i, corridor="huu-nghi" if i % 2 else "tan-thanh")


def declare_and_clear(client: httpx.Client, i: int) -> int:
    """Post declaration ``i`` and its clearances; returns the declaration's status."""
    status = post(client, "/api/v1/consignments", corridor_declaration(i))
    cid = declaration(i)["id"]
    note = {"actor": "customs", "reason": "green channel"}
    assert (
        post(client, f"/api/v1/consignments/{cid}/customs", {"decision": "cleared", **note}) == 200
    )
    q = {"decision": "cleared", "actor": "quarantine", "reason": "ok"}
    assert post(client, f"/api/v1/consignments/{cid}/quarantine", q) == 200
    return status


def answer_the_other_side(client: httpx.Client) -> None:
    """The world around the desk: the VN yard's cranes lift what the desk ordered, and
    the other side takes what stands at the line."""
    for lift in client.get("/api/v1/yard/lifts").json():
        for event in ("started", "done"):
            report = {k: lift[k] for k in ("vehicle_id", "spot")} | {"event": event}
            client.post(f"/api/v1/consignments/{lift['consignment_id']}/lift", json=report)
    note = {"actor": "cn:youyiguan", "reason": "checked at km 0"}
    for c in client.get("/api/v1/consignments", params={"state": "at_zero_line"}).json():
        client.post(f"/api/v1/consignments/{c['id']}/handover", json={"accepted": True, **note})
    for c in client.get("/api/v1/consignments", params={"state": "handed_over"}).json():
        client.post(f"/api/v1/consignments/{c['id']}/received", json=note)


def states(url: str) -> dict[str, S]:
    store = Store(url)
    try:
        return {r.id: r.consignment.state for r in store.consignments()}
    finally:
        store.close()


def test_kill_9_in_a_busy_run_then_restart(db_url: str, tmp_path: Path) -> None:
    vehicles = start("vehicles", tmp_path)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    orch = start("orchestrator", tmp_path, "--db", db_url, "--port", str(port))
    procs = [vehicles, orch]
    try:
        wait_up(base, orch, tmp_path)
        posted: set[int] = set()
        # -- busy run: post, clear, answer at the line; kill once several are in flight --
        with operator_client(base, db_url) as client:
            for i in range(1, 17):
                assert declare_and_clear(client, i) == 201
                posted.add(i)
                answer_the_other_side(client)
                time.sleep(0.15)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                now = states(db_url)
                if sum(s in IN_FLIGHT for s in now.values()) >= 2:
                    break
                answer_the_other_side(client)
                time.sleep(0.1)
            else:
                raise AssertionError(f"never two in flight: {states(db_url)}")
        os.kill(orch.pid, signal.SIGKILL)
        orch.wait(timeout=10)
        at_crash = states(db_url)
        in_flight = {cid for cid, s in at_crash.items() if s in IN_FLIGHT}
        assert len(at_crash) == 16 and len(in_flight) >= 2, at_crash

        # -- restart: same database, the vehicles drove on meanwhile -------------------
        orch = start("orchestrator", tmp_path, "--db", db_url, "--port", str(port))
        procs.append(orch)
        wait_up(base, orch, tmp_path)
        with operator_client(base, db_url) as client:
            # The sender does not know what got through: it resends everything.
            assert {declare_and_clear(client, i) for i in sorted(posted)} == {200}
            for i in range(17, N + 1):
                assert declare_and_clear(client, i) == 201
            deadline = time.monotonic() + 180
            while time.monotonic() < deadline:
                answer_the_other_side(client)
                if set(states(db_url).values()) == {S.RECEIVED}:
                    break
                time.sleep(0.2)
            final = states(db_url)
            assert final == {declaration(i)["id"]: S.RECEIVED for i in range(1, N + 1)}, final
    finally:
        for p in procs:
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait(timeout=10)

    store = Store(db_url)
    try:
        assert store.count_consignments() == N
        # Every log is one legal chain, seq 0.., ending in the stored state.
        chains: dict[str, list[Any]] = {}
        for e in store.consignment_events():
            chains.setdefault(e.consignment_id, []).append(e)
        for rec in store.consignments():
            chain = chains[rec.id]
            assert [e.seq for e in chain] == list(range(len(chain)))
            assert chain[0].from_state == S.DECLARED
            for a, b in itertools.pairwise(chain):
                assert a.to_state == b.from_state
            for e in chain:
                assert S(e.to_state) in TRANSITIONS[S(e.from_state)] | {S.HELD}
            assert chain[-1].to_state == rec.consignment.state
            assert sum(e.to_state == S.HANDED_OVER for e in chain) == 1  # crossed once
            assert rec.vehicle_id is None
        # Recovery before new dispatch: after the restart, every in-flight consignment
        # was recovered, and only then was anything assigned.
        log = store.events()
        restart = max(i for i, e in enumerate(log) if e["event"] == "orchestrator_started")
        after = log[restart:]
        kinds = [e["event"] for e in after]
        recovered = {e["consignment_id"] for e in after if e["event"] == "consignment_recovered"}
        assert in_flight <= recovered
        first_assignment = kinds.index("consignment_assigned")
        assert kinds.index("recovery_complete") < first_assignment
        assert not any(k == "consignment_recovered" for k in kinds[first_assignment:])
    finally:
        store.close()
