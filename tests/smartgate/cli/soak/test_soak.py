"""Soak: the demo's processes for 30 minutes (``SMARTGATE_SOAK_S``) under CPU stress on
both cores (stress-ng), with late, duplicated, reordered, future, malformed and
foreign vehicle reports injected by an outside ROS client the whole time.

It passes when the orchestrator never exits (same process from start to end, never
restarted by the supervisor), every kind of spoiled report reached it and was refused
and counted (never more than were sent), no vehicle drove past a reservation end the
orchestrator had sent it, and no internal_error or vehicle_isolated alarm was raised
(the test causes none: spoiled reports are refusals, not faults)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from smartgate.operators.accounts import Auth
from smartgate.storage.store import opened
from tests.conftest import REPO

pytestmark = [pytest.mark.ros, pytest.mark.slow]
SOAK_S = float(os.environ.get("SMARTGATE_SOAK_S", "1800"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _call(port: int, path: str, token: str = "", body: dict[str, Any] | None = None) -> Any:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=None if body is None else json.dumps(body).encode(),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def _orchestrator_pid(supervisor: int) -> int | None:
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(supervisor)], capture_output=True, text=True
    ).stdout
    for line in out.splitlines():
        pid, args = line.strip().split(" ", 1)
        if " run orchestrator" in args:
            return int(pid)
    return None


def _stop(proc: subprocess.Popen[Any], sig: int = signal.SIGINT, wait_s: float = 30) -> None:
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, sig)
            proc.wait(timeout=wait_s)
        except (ProcessLookupError, subprocess.TimeoutExpired):
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.mark.timeout(SOAK_S + 900)  # the soak plus starting, checking and stopping
def test_the_orchestrator_survives_half_an_hour_of_stress_and_spoiled_reports(
    tmp_path: Path,
) -> None:
    stress_ng = shutil.which("stress-ng")
    assert stress_ng is not None, "stress-ng (Debian) is installed by .ci/run"
    port = _free_port()
    db = tmp_path / "soak.db"
    with opened(f"sqlite:///{db}") as store:
        Auth(store.engine).create_user("soak", "soak-password-1", "controller")
    domain = str((int(os.environ["ROS_DOMAIN_ID"]) + 2) % 90 + 10)
    env = {**os.environ, "ROS_DOMAIN_ID": domain, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "demo.log").open("w")
    demo = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartgate.cli",
            "demo",
            "--port",
            str(port),
            "--domain-id",
            domain,
            "--db",
            f"sqlite:///{db}",
            "--peer-port",
            str(_free_port()),
        ],
        cwd=tmp_path,  # var/ (certificates, link databases) in the test's own folder
        env={**env, "PYTHONPATH": str(REPO)},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    report = tmp_path / "injected.json"
    injector = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "tests.smartgate.cli.soak.injectkit",
            "--seconds",
            str(SOAK_S),
            "--out",
            str(report),
        ],
        cwd=REPO,
        env=env,
        start_new_session=True,
    )
    # Both cores busy the whole time; it stops by itself even if this test is killed.
    stress = subprocess.Popen(
        [stress_ng, "--cpu", "2", "--timeout", f"{int(SOAK_S) + 120}s", "--quiet"],
        start_new_session=True,
    )
    pids: set[int] = set()
    token = ""
    try:
        deadline = time.monotonic() + 180
        while not token and time.monotonic() < deadline:
            time.sleep(1)
            try:
                token = _call(
                    port,
                    "/api/v1/auth/login",
                    body={"username": "soak", "password": "soak-password-1"},
                )["token"]
            except OSError:
                continue
        assert token, "the demo's API never came up"
        end = time.monotonic() + SOAK_S
        while time.monotonic() < end:
            assert demo.poll() is None, "the demo stopped"
            pid = _orchestrator_pid(demo.pid)
            assert pid is not None, "no orchestrator process"
            pids.add(pid)
            assert _call(port, "/api/v1/health")["status"] == "ok"
            time.sleep(min(15.0, max(0.0, end - time.monotonic())))
        assert injector.wait(timeout=60) == 0
        faults = _call(port, "/api/v1/faults", token)
        alarms = _call(port, "/api/v1/alarms?limit=1000", token)
        vehicles = _call(port, "/api/v1/vehicles", token)
    finally:
        _stop(stress, signal.SIGTERM)
        _stop(injector, signal.SIGTERM)
        _stop(demo)
        log.close()
    out = (tmp_path / "demo.log").read_text(errors="replace")
    assert len(pids) == 1, f"the orchestrator was restarted: {sorted(pids)}"
    assert "restarting 'orchestrator'" not in out
    assert "Traceback" not in out, out[-5000:]
    injected = json.loads(report.read_text())
    sent, refused = injected["sent"], faults["reports_refused"]
    summary = {"injected": injected, "faults": faults, "vehicles": len(vehicles)}
    (tmp_path / "summary.json").write_text(json.dumps(summary, indent=1))  # kept by pytest
    assert injected["commands_heard"] > 0 and injected["paths"] > 0
    assert not injected["violations"], injected["violations"]
    # Every kind reached the orchestrator and was refused (best-effort: some are lost).
    assert 0 < refused["future"] <= sent["future"]
    assert 0 < refused["malformed"] <= sent["nan"]
    assert 0 < refused["wrong_vehicle"] <= sent["empty_id"] + sent["other_vehicle"]
    assert refused["stale"] + refused["duplicate"] > 0
    assert (
        refused["stale"] + refused["duplicate"]
        <= sent["late"] + sent["duplicate"] + sent["reorder"]
    )
    assert faults["faults"] == 0 and not faults["isolated"], faults["recent"][:3]
    kinds = {a["kind"] for a in alarms}
    assert not kinds & {"internal_error", "vehicle_isolated"}, kinds
