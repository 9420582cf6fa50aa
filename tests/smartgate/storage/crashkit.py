"""Processes for the crash test: a real orchestrator (core + desk + API + database) and a
fleet of simulated vehicles in a separate process, so the vehicles live on when the
orchestrator is killed, exactly as real ones would.

They talk through files instead of DDS (one JSON file per vehicle each way, written
atomically): commands carry the route's waypoints, reports carry the pose.

    python -m tests.smartgate.storage.crashkit orchestrator --db URL --port N --dir D
    python -m tests.smartgate.storage.crashkit vehicles --dir D
"""

from __future__ import annotations

import argparse
import json
import math
import os
import threading
import time
from pathlib import Path
from typing import Any

FLEET = (
    ("hn_01", "huu-nghi", "vn-spot-P1"),
    ("hn_02", "huu-nghi", "vn-spot-C1"),
    ("hn_03", "huu-nghi", "vn-spot-L1"),
    ("tt_01", "tan-thanh", "vn-spot-P1"),
    ("tt_02", "tan-thanh", "vn-spot-C1"),
)
SPEED_MPS = 400.0  # simulated: fast (a return trip to the yard is ~7 km), so a run fits a test
SAMPLE_M = 5.0  # one report every 5 m driven
IDLE_REPORT_S = 0.25  # a standing vehicle reports 4 times a second
REPORTED_MPS = 3.0  # the speed reports say while moving: keeps the core's tracking window tight
PERIOD_S = 0.05


def write_json(path: Path, data: dict[str, Any]) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data))
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return None
    return data if isinstance(data, dict) else None


def run_vehicles(d: Path) -> None:
    """Each vehicle drives its latest command's waypoints to the end, then stands.

    It reports every ``SAMPLE_M`` metres (appending to its report stream), as a real
    vehicle reporting at 10-20 Hz at a few m/s would: dense enough for the core's
    progress tracking, however fast the simulation runs.
    """
    from maps.corridors import load_corridors

    _, graphs = load_corridors()
    state: dict[str, dict[str, Any]] = {}
    streams = {}
    for vid, corridor, home in FLEET:
        a = graphs[corridor].nodes[home]
        state[vid] = {"x": a["x"], "y": a["y"], "h": 0.0, "path": [], "seq": -1}
        streams[vid] = (d / f"reports-{vid}.jsonl").open("a", buffering=1)
    n = 0
    while True:
        t0 = time.time()
        for vid, s in state.items():
            cmd = read_json(d / f"cmd-{vid}.json")
            acks = []
            if cmd is not None and cmd["seq"] != s["seq"]:
                pid, seq = cmd["seq"]
                if pid != s.get("pid") or seq > s.get("n", -1):  # a re-send of an old one: no
                    s["pid"], s["n"] = pid, seq
                    s["path"] = [(x, y) for x, y, _ in cmd["waypoints"]]
                s["seq"] = cmd["seq"]
                acks.append(json.dumps({"ack": seq, "stamp": t0}))
            if not s["path"] and not acks and t0 - s.get("said", 0.0) < IDLE_REPORT_S:
                continue
            s["said"] = t0
            lines = acks
            budget = SPEED_MPS * PERIOD_S
            while True:
                step = min(SAMPLE_M, budget)
                moved = _advance(s, step)
                budget -= moved
                n += 1
                v = REPORTED_MPS if s["path"] else 0.0
                lines.append(
                    json.dumps(
                        {"stamp": t0 + n * 1e-6, "x": s["x"], "y": s["y"], "h": s["h"], "v": v}
                    )
                )
                if budget <= 1e-9 or not s["path"]:
                    break
            streams[vid].write("\n".join(lines) + "\n")
        time.sleep(max(0.0, PERIOD_S - (time.time() - t0)))


def _advance(s: dict[str, Any], step: float) -> float:
    """Move along the path by up to ``step`` metres; returns how far it went."""
    moved = 0.0
    while step > 1e-9 and s["path"]:
        tx, ty = s["path"][0]
        dx, dy = tx - s["x"], ty - s["y"]
        dist = math.hypot(dx, dy)
        if dist <= step:
            s["x"], s["y"] = tx, ty
            s["path"].pop(0)
            step -= dist
            moved += dist
        else:
            s["x"] += dx / dist * step
            s["y"] += dy / dist * step
            s["h"] = math.atan2(dy, dx)
            moved += step
            step = 0.0
    return moved


def run_orchestrator(db: str, port: int, d: Path) -> None:
    import uvicorn

    from api.app import create_app
    from fleet.core import AckStatus, Command, CommandAck, RouteCommand
    from fleet.vehicles import VehicleReport
    from fleet.yard.policy import YardRules
    from maps.corridors import load_corridors
    from smartgate.services.desk import attach_desk
    from smartgate.services.orchestrator import Orchestrator
    from smartgate.storage.store import Store

    maps, graphs = load_corridors()
    store = Store(db)
    store.append({"event": "orchestrator_started", "t": time.time(), "pid": os.getpid()})
    # Its stand-in vehicles drive whole paths and ignore reservations: no traffic planning.
    orch = attach_desk(Orchestrator(maps, graphs, plan_traffic=False), store)
    assert orch.desk is not None
    orch.desk.resend_after_s = 3.0
    # Its vehicles drive at 400 m/s: an empty one in the CN yard heads back after a second
    # rather than a minute (the yard rule's wait, scaled like the driving).
    orch.desk.yard.rules = YardRules(empty_run_after_s=1.0)
    orch.desk.recovery_timeout_s = 20.0
    for vid, corridor, home in FLEET:
        orch.add_vehicle(vid, corridor, home, time.time())

    def sink(cmd: Command) -> None:
        if isinstance(cmd, RouteCommand):  # pause/e-stop are not simulated here
            write_json(
                d / f"cmd-{cmd.vehicle_id}.json",
                {"seq": [os.getpid(), cmd.seq], "goal": cmd.goal, "waypoints": cmd.waypoints},
            )

    orch.command_sink = sink
    server = uvicorn.Server(
        uvicorn.Config(create_app(orch), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    streams = {}
    for vid, _, _ in FLEET:  # only what the vehicles say from now on
        f = (d / f"reports-{vid}.jsonl").open("a+")
        f.seek(0, os.SEEK_END)
        streams[vid] = f
    last_tick = 0.0
    while True:
        now = time.time()
        for vid, f in streams.items():
            while True:
                pos = f.tell()
                line = f.readline()
                if not line.endswith("\n"):
                    f.seek(pos)  # partly written: read it whole next time
                    break
                r = json.loads(line)
                if "ack" in r:
                    ok = AckStatus.ACCEPTED
                    orch.ack(CommandAck(vid, r["ack"], ok, r["stamp"]), now)
                    continue
                orch.report(VehicleReport(vid, r["stamp"], r["x"], r["y"], r["h"], r["v"]), now)
        if now - last_tick >= 0.2:
            last_tick = now
            orch.tick(now)
        time.sleep(0.02)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("role", choices=["orchestrator", "vehicles"])
    p.add_argument("--db", default="")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--dir", type=Path, required=True)
    a = p.parse_args()
    if a.role == "vehicles":
        run_vehicles(a.dir)
    else:
        run_orchestrator(a.db, a.port, a.dir)


if __name__ == "__main__":
    main()
