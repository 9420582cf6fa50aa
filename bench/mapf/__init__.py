"""Multi-agent path finding: LaCAM(PIBT) solver, independent checker, MovingAI I/O, baselines."""

from bench.mapf.baselines import independent_shortest_paths, prioritised_planning
from bench.mapf.checker import Violation, check_plan, count_conflicts, makespan, sum_of_costs
from bench.mapf.instance import CompactGraph, MapfInstance
from bench.mapf.lacam import MapfResult, lacam, pibt_rollout
from bench.mapf.movingai import load_map, load_scen, random_scenario

__all__ = [
    "CompactGraph",
    "MapfInstance",
    "MapfResult",
    "Violation",
    "check_plan",
    "count_conflicts",
    "independent_shortest_paths",
    "lacam",
    "load_map",
    "load_scen",
    "makespan",
    "pibt_rollout",
    "prioritised_planning",
    "random_scenario",
    "sum_of_costs",
]
