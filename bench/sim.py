"""Simulator benchmark: a simulated day on both corridors, how fast and how much.

Case ``day``: 24 simulated hours (``--quick``: 1 hour), both corridors, 60
vehicles (30 each), the corridor targets as demand (3,500 and 2,500 consignments
per day), seed 1. Measured: wall time (from starting the worker processes to the
merged results and trace), real-time factor, CPU time of all processes, loaded
crossings per day per corridor, and collisions / headway violations found by the
independent trace checker on the full trace (outside the timing).

Implementations, all in the same run:

- ``smartgate``: the simulator without DDS (fleet control with the gap-filling
  planner, vehicle brains, kinematics, demand), the corridors simulated in
  parallel processes, one per corridor (the machine has 2 cores; ``workers`` in
  the results; :mod:`sim_worlds.parallel_run`). Each corridor's figures are
  those of that corridor simulated alone with the seed.
- ``fcfs-reservations``: the same day with the planner's first-come-first-served
  baseline (no gap filling), to show what the planner buys in throughput; also
  one process per corridor.
- ``kinematics-only``: the same number of vehicle steps with no fleet logic at
  all (each vehicle's brain and bicycle model on a fixed loop, one process): the
  floor on wall time that vehicle simulation alone costs in Python.

Run: ``python -m bench.sim [--quick]`` prints one JSON object.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from fleet.traffic.planner import PlannerConfig

VEHICLES = 30  # per corridor: 60 in all
TARGET_RTF = 700.0


def _cpu_s() -> float:
    """CPU seconds of this process and of its finished (joined) children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _day(hours: float, planner: PlannerConfig | None, trace: bool) -> dict[str, Any]:
    from sim_worlds.parallel_run import run_corridors, worker_count
    from sim_worlds.simulator import SimConfig, load_world
    from sim_worlds.trace_checker import check_trace, read_trace

    corridors = ["huu-nghi", "tan-thanh"]
    graphs, zero = load_world(corridors)
    cfg = SimConfig(
        vehicles={c: VEHICLES for c in corridors},
        demand_per_day={"huu-nghi": 3500.0, "tan-thanh": 2500.0},
        duration_s=hours * 3600.0,
        seed=1,
        planner_config=planner,
    )
    workers = worker_count(len(corridors))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "trace.csv"
        t0, c0 = time.perf_counter(), _cpu_s()
        sim = run_corridors(graphs, zero, cfg, path if trace else None, workers=workers)
        wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
        of_vehicle = {vid: v.corridor for vid, v in sim.vehicles.items()}
        check = check_trace(read_trace(path), groups=of_vehicle) if trace else None
    s = sim.summary()
    out: dict[str, Any] = {
        "sim_s": sim.t,
        "vehicles": len(sim.vehicles),
        "workers": workers,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "real_time_factor": round(sim.t / wall, 1),
        "cpu_real_time_factor": round(sim.t / cpu, 1),
        "meets_speed_target": sim.t / wall >= TARGET_RTF,
    }
    for c, r in s["corridors"].items():
        key = c.replace("-", "_")
        out[f"{key}_loaded_crossings"] = r["loaded_crossings"]
        out[f"{key}_crossings_per_day"] = round(r["crossings_per_day"], 1)
    if check is not None:
        out["collisions"] = check.collisions
        out["headway_violations"] = check.headway_violations
    return out


def _kinematics_only(hours: float) -> dict[str, Any]:
    """The same vehicle-steps with brains and bicycle models only, on a fixed loop path."""
    from vehicle.brain import VehicleBrain
    from vehicle.kinematics import KinematicVehicle

    dt = 0.5
    steps = int(hours * 3600 / dt)
    ring = [
        (500 * math.cos(a / 50 * 2 * math.pi), 500 * math.sin(a / 50 * 2 * math.pi), a * 10.0)
        for a in range(51)
    ]
    vs = []
    for i in range(2 * VEHICLES):
        b = VehicleBrain(f"k{i}", [(1e6, 1e6), (1e6 + 1, 1e6)])
        b.on_route(
            vehicle_id=f"k{i}",
            seq=1,
            mission_id="m",
            waypoints=ring,
            reservation_end_m=1e9,
            handoff_accepted=True,
            lanes=[("L", 0.0)],
        )
        x, y, _ = ring[0]
        vs.append((b, KinematicVehicle(x, y, math.pi / 2)))
    t0, c0 = time.perf_counter(), _cpu_s()
    t = 0.0
    for _ in range(steps):
        t += dt
        for b, m in vs:
            b.heartbeat(t)
            b.odometry(t)
            d = b.control(t, m.x, m.y, m.yaw, m.v, dt)
            m.step(d.speed_mps, d.yaw_rate, dt)
    wall, cpu = time.perf_counter() - t0, _cpu_s() - c0
    sim_s = steps * dt
    return {
        "sim_s": sim_s,
        "vehicles": len(vs),
        "workers": 1,
        "wall_s": round(wall, 2),
        "cpu_s": round(cpu, 2),
        "real_time_factor": round(sim_s / wall, 1),
        "cpu_real_time_factor": round(sim_s / cpu, 1),
    }


def run(quick: bool = False) -> dict[str, Any]:
    hours = 1.0 if quick else 24.0
    case = {"case": f"{hours:g}h-both-corridors-{2 * VEHICLES}-vehicles"}
    results = [
        {**case, "impl": "smartgate", **_day(hours, None, trace=True)},
        {**case, "impl": "fcfs-reservations", **_day(hours, PlannerConfig(fill_gaps=False), False)},
        {**case, "impl": "kinematics-only", **_kinematics_only(hours)},
    ]
    return {"bench": "sim", "target_real_time_factor": TARGET_RTF, "results": results}


def main() -> None:
    print(json.dumps(run(quick="--quick" in sys.argv[1:])))


if __name__ == "__main__":
    main()
