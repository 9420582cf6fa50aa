"""Baselines: uncoordinated shortest paths collide; prioritised planning is valid but incomplete."""

from __future__ import annotations

import networkx as nx

from bench.mapf.baselines import independent_shortest_paths, prioritised_planning
from bench.mapf.checker import SWAP_CONFLICT, check_plan, count_conflicts, sum_of_costs
from bench.mapf.instance import MapfInstance
from bench.mapf.lacam import lacam


def test_independent_paths_on_a_swap_instance_conflict() -> None:
    corridor = nx.path_graph(4)
    starts, goals = [0, 3], [3, 0]
    res = independent_shortest_paths(MapfInstance(corridor, starts, goals))
    assert res.paths == [[0, 1, 2, 3], [3, 2, 1, 0]]
    found = check_plan(corridor, starts, goals, res.paths)
    assert [v.kind for v in found] == [SWAP_CONFLICT]
    assert count_conflicts(found) == 1


def test_independent_paths_are_shortest() -> None:
    grid = nx.grid_2d_graph(4, 4)
    starts, goals = [(0, 0), (3, 3)], [(3, 3), (0, 3)]
    res = independent_shortest_paths(MapfInstance(grid, starts, goals))
    assert res.paths is not None
    assert sum_of_costs(res.paths, goals) == 6 + 3


def test_prioritised_planning_is_valid() -> None:
    grid = nx.grid_2d_graph(5, 5)
    starts = [(0, 0), (4, 4), (0, 4), (4, 0), (2, 2)]
    goals = [(4, 4), (0, 0), (4, 0), (0, 4), (2, 3)]
    res = prioritised_planning(MapfInstance(grid, starts, goals), 5.0)
    assert res.solved and res.paths is not None
    assert check_plan(grid, starts, goals, res.paths) == []


def test_prioritised_planning_is_incomplete() -> None:
    # Agent 0 plans first and parks on its goal (2) for good, walling off
    # agent 1's only route; LaCAM instead lets agent 0 step into the bay.
    g = nx.path_graph(5)
    g.add_edge(2, "bay")
    starts, goals = [1, 0], [2, 4]
    pp = prioritised_planning(MapfInstance(g, starts, goals), 5.0)
    assert pp.status == "failed" and pp.paths is None
    res = lacam(MapfInstance(g, starts, goals), 5.0)
    assert res.solved and res.paths is not None
    assert check_plan(g, starts, goals, res.paths) == []


def test_prioritised_planning_respects_one_way_edges() -> None:
    ring = nx.DiGraph([(i, (i + 1) % 5) for i in range(5)])
    starts, goals = [0, 2], [4, 1]
    res = prioritised_planning(MapfInstance(ring, starts, goals), 5.0)
    assert res.solved and res.paths is not None
    assert check_plan(ring, starts, goals, res.paths) == []
