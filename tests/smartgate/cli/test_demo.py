"""`smartgate demo` as a user runs it: separate processes, HTTP, Ctrl-C."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
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

pytestmark = pytest.mark.ros


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _get(url: str, token: str) -> Any:
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    with urllib.request.urlopen(req, timeout=2) as r:
        return json.loads(r.read())


def _login(port: int, username: str, password: str) -> str:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/v1/auth/login",
        data=json.dumps({"username": username, "password": password}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=5) as r:
        token: str = json.loads(r.read())["token"]
        return token


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True)
    return [int(x) for x in out.stdout.split()]


def _args(pid: int) -> str:
    return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()


def test_demo_moves_a_vehicle_restarts_a_dead_child_and_stops_on_ctrl_c(
    tmp_path: Path,
) -> None:
    port = _free_port()
    db = tmp_path / "demo.db"
    with opened(f"sqlite:///{db}") as store:  # as `smartgate user add` would
        Auth(store.engine).create_user("tester", "tester-password", "viewer")
    domain = str((int(os.environ["ROS_DOMAIN_ID"]) + 1) % 90 + 10)
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "smartgate.cli",
            "demo",
            "--port",
            str(port),
            "--rtf",
            "3",
            "--domain-id",
            domain,
            "--db",
            f"sqlite:///{db}",
            "--corridor",
            "huu-nghi",
            "--peer-port",
            str(_free_port()),
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        moving: dict[str, Any] | None = None
        token = ""
        while time.monotonic() < deadline and moving is None:
            time.sleep(0.5)
            try:
                token = token or _login(port, "tester", "tester-password")
                vs = _get(f"http://127.0.0.1:{port}/api/v1/vehicles", token)
            except OSError:
                continue
            moving = next((v for v in vs if v["status"] == "moving" and v["speed_mps"] > 1), None)
        assert moving is not None, "no vehicle started moving in the demo"
        # The desk sent it for a truck's load (a loading bay) or on to the border with it.
        goal = moving["mission"]["goal"]
        assert goal.startswith("vn-spot-L") or goal == "SL-E-zero", goal
        page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2).read().decode()
        assert "leaflet" in page
        kids = _children(proc.pid)
        assert len(kids) == 4  # simulator, vehicles, orchestrator, the CN side's handoff peer
        # A child that dies is restarted, the others untouched: the CN peer, then the
        # orchestrator itself (it comes back with its state from the database, and the
        # vehicles report to it again).
        for name in ("peer", "run orchestrator"):
            victim = next(pid for pid in kids if name in _args(pid))
            os.kill(victim, signal.SIGKILL)
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                now = _children(proc.pid)
                if len(now) == 4 and victim not in now:
                    break
                time.sleep(0.2)
            assert len(now) == 4 and victim not in now, f"{name} was not restarted"
            assert set(kids) - {victim} <= set(now)  # the others kept running
            kids = now
        online: list[str] = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and len(online) < 4:
            time.sleep(0.5)
            try:
                token = _login(port, "tester", "tester-password")
                vs = _get(f"http://127.0.0.1:{port}/api/v1/vehicles", token)
            except OSError:
                continue
            online = [v["id"] for v in vs if v["status"] != "offline" and v["updated_at"]]
        assert len(online) == 4, "the restarted orchestrator does not hear its vehicles"
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "smartgate: stopped" in out
    assert "'peer' was killed by SIGKILL" in out and "restarting 'orchestrator'" in out
    assert "Traceback" not in out
    for pid in kids:  # no orphans
        assert (
            not Path(f"/proc/{pid}").exists()
            or "zombie" in Path(f"/proc/{pid}/status").read_text().lower()
        )
    with sqlite3.connect(db) as con:
        kinds = [r[0] for r in con.execute("SELECT kind FROM events ORDER BY id")]
        vehicles = dict(con.execute("SELECT id, status FROM vehicles").fetchall())
    assert "mission_started" in kinds
    assert set(vehicles) == {"hn_01", "hn_02", "hn_03", "hn_04"}
    # No admin existed: the demo made one and said its password once.
    assert out.count("created user admin, password ") == 1
