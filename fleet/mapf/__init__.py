"""Multi-agent path finding: LaCAM(PIBT) solver, independent checker, MovingAI I/O, baselines."""

from fleet.mapf.baselines import independent_shortest_paths, prioritised_planning
from fleet.mapf.checker import Violation, check_plan, count_conflicts, makespan, sum_of_costs
from fleet.mapf.instance import CompactGraph, MapfInstance
from fleet.mapf.lacam import MapfResult, lacam, pibt_rollout
from fleet.mapf.movingai import load_map, load_scen, random_scenario

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
