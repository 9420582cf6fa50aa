"""MAPF grid benchmark: LaCAM vs. two baselines on MovingAI maps.

Cases: ``random-32-32-10`` with its ``.scen`` at 50..400 agents, plus
``random_scenario(seed=1)`` instances on empty, maze, room and warehouse maps.
Every plan, whatever the solver claims, is verified by the independent checker;
``conflicts`` is the checker's count. Data directory: ``$SMARTGATE_MAPF_DIR``,
default ``<repo>/../shared/benchmarks/mapf``.

Run: ``python -m bench.mapf_grid [--quick]`` prints the JSON.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable, Hashable
from pathlib import Path
from typing import Any

from bench.mapf.baselines import independent_shortest_paths, prioritised_planning
from bench.mapf.checker import check_plan, count_conflicts, makespan, sum_of_costs
from bench.mapf.instance import MapfInstance
from bench.mapf.lacam import MapfResult, lacam
from bench.mapf.movingai import load_map, load_scen, random_scenario

SCEN_MAP = "random-32-32-10"
SCEN_FILE = "random-32-32-10-random-1.scen"
SCEN_COUNTS = (50, 100, 200, 300, 400)
GENERATED = {
    "empty-32-32": (50, 100, 200),
    "maze-32-32-2": (50, 100),
    "room-32-32-4": (50, 100, 200),
    "warehouse-10-20-10-2-1": (50, 100, 200),
}
QUICK_SCEN_COUNTS = (50,)
QUICK_GENERATED = {"empty-32-32": (50,)}

Solver = Callable[[MapfInstance, float], MapfResult]


def data_dir() -> Path:
    """``$SMARTGATE_MAPF_DIR`` or ``<repo>/../shared/benchmarks/mapf``."""
    env = os.environ.get("SMARTGATE_MAPF_DIR")
    if env:
        return Path(env)
    return Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks" / "mapf"


def _solvers() -> dict[str, Solver]:
    return {
        "smartgate": lambda inst, limit: lacam(inst, limit),
        "independent-shortest": lambda inst, limit: independent_shortest_paths(inst),
        "prioritised-astar": lambda inst, limit: prioritised_planning(inst, limit),
    }


def _measure(
    case: str, impl: str, solver: Solver, instance: MapfInstance, limit: float
) -> dict[str, Any]:
    t0 = time.perf_counter()
    res = solver(instance, limit)
    elapsed_ms = (time.perf_counter() - t0) * 1000.0
    conflicts = 0
    soc: int | None = None
    mk: int | None = None
    success = False
    if res.paths is not None:
        violations = check_plan(instance.graph, instance.starts, instance.goals, res.paths)
        conflicts = count_conflicts(violations)
        soc = sum_of_costs(res.paths, instance.goals)
        mk = makespan(res.paths, instance.goals)
        success = res.solved and not violations
    return {
        "case": case,
        "impl": impl,
        "agents": instance.num_agents,
        "success": success,
        "status": res.status,
        "conflicts": conflicts,
        "sum_of_costs": soc,
        "makespan": mk,
        "time_ms": round(elapsed_ms, 2),
    }


def _cases(root: Path, quick: bool) -> list[tuple[str, MapfInstance]]:
    out: list[tuple[str, MapfInstance]] = []
    graph = load_map(root / f"{SCEN_MAP}.map")
    pairs = load_scen(root / SCEN_FILE)
    scen_name = SCEN_FILE.removeprefix(f"{SCEN_MAP}-").removesuffix(".scen")
    for n in QUICK_SCEN_COUNTS if quick else SCEN_COUNTS:
        if n > len(pairs):
            raise ValueError(f"{SCEN_FILE} has {len(pairs)} agents, cannot run n={n}")
        starts: list[Hashable] = [s for s, _ in pairs[:n]]
        goals: list[Hashable] = [g for _, g in pairs[:n]]
        out.append((f"{SCEN_MAP}/{scen_name}/n={n}", MapfInstance(graph, starts, goals)))
    for name, counts in (QUICK_GENERATED if quick else GENERATED).items():
        graph = load_map(root / f"{name}.map")
        for n in counts:
            starts, goals = random_scenario(graph, n, seed=1)
            out.append((f"{name}/random-seed1/n={n}", MapfInstance(graph, starts, goals)))
    return out


def run(time_limit_s: float = 10.0, quick: bool = False) -> dict[str, Any]:
    """Run every case with every implementation; see the module docstring."""
    results: list[dict[str, Any]] = []
    solvers = _solvers()
    for case, instance in _cases(data_dir(), quick):
        for impl, solver in solvers.items():
            results.append(_measure(case, impl, solver, instance, time_limit_s))
    return {"bench": "plan-grid", "time_limit_s": time_limit_s, "results": results}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
