"""``smartgate bench plan``: the traffic planner on both corridors and on MAPF grids.

Corridor cases (see bench/corridor_plan.py for the instance and the lifelong
loop): both corridors with 10, 50, 100, 200 and 500 vehicles, seed 1. Small
fleets run lifelong for ``LIFELONG_S``; large ones for ``SHORT_S`` (the full
plan of every first goal dominates there). A fleet that does not fit on the
corridor's lanes at one spacing per vehicle is reported as such, not run.
Implementations: ``smartgate``, ``fcfs-reservations`` (first come first
served at every shared lane and junction) and ``independent`` (free-flow
routes, no coordination: its conflicts show what the planner prevents).
``probe_*`` metrics time single requests with the whole fleet present (see
``probe_requests``): the lifelong run gets few new goals with large fleets.

Grid cases: bench/mapf_grid.py (LaCAM vs. baselines on MovingAI maps), merged
into the same JSON with ``grid:`` case names.

Run: ``python -m bench.plan [--quick]`` prints the JSON.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

from bench import mapf_grid
from bench.corridor_plan import (
    independent_conflicts,
    make_instance,
    probe_requests,
    run_planner,
)
from fleet.traffic.planner import PlannerConfig
from maps.corridors import CORRIDORS, load_corridors

COUNTS = (10, 50, 100, 200, 500)
QUICK_COUNTS = (10,)
LIFELONG_S = 1800.0
SHORT_S = 300.0
QUICK_S = 900.0  # long enough for a trip across on both maps
IMPLS = {
    "smartgate": PlannerConfig(handoff_dwell_s=20.0),
    "fcfs-reservations": PlannerConfig(handoff_dwell_s=20.0, fill_gaps=False),
}


def corridor_results(quick: bool = False, seed: int = 1) -> list[dict[str, Any]]:
    _, graphs = load_corridors()
    out: list[dict[str, Any]] = []
    for corridor in CORRIDORS:
        g = graphs[corridor]
        for n in QUICK_COUNTS if quick else COUNTS:
            inst = make_instance(g, n, seed)
            case = f"corridor:{corridor}/n={n}"
            base = {"case": case, "vehicles": n, "corridor_capacity": inst.capacity}
            if not inst.placements:
                for impl in (*IMPLS, "independent"):
                    out.append(
                        {
                            **base,
                            "impl": impl,
                            "success": False,
                            "status": f"does not fit: {inst.capacity} vehicle spacings",
                        }
                    )
                continue
            horizon = QUICK_S if quick else (LIFELONG_S if n <= 50 else SHORT_S)
            for impl, cfg in IMPLS.items():
                t0 = time.perf_counter()
                res = run_planner(g, inst, horizon, cfg)
                probe = probe_requests(g, inst, cfg, count=10 if quick else 40)
                out.append(
                    {
                        **base,
                        "impl": impl,
                        "horizon_s": horizon,
                        "success": res["conflicts"] == 0 and probe["probe_conflicts"] == 0,
                        **res,
                        **probe,
                        "wall_s": round(time.perf_counter() - t0, 1),
                    }
                )
            ind = independent_conflicts(g, inst, seed)
            out.append({**base, "impl": "independent", "success": ind["conflicts"] == 0, **ind})
    return out


def run(quick: bool = False, grid_time_limit_s: float = 10.0) -> dict[str, Any]:
    results = corridor_results(quick)
    grid = mapf_grid.run(time_limit_s=grid_time_limit_s, quick=quick)
    for r in grid["results"]:
        results.append({**r, "case": f"grid:{r['case']}"})
    return {"bench": "plan", "results": results}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
