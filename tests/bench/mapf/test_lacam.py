"""LaCAM(PIBT): every plan is verified by the independent checker."""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from typing import Any

import networkx as nx
import pytest

from bench.mapf.checker import check_plan, makespan, sum_of_costs
from bench.mapf.instance import MapfInstance
from bench.mapf.lacam import MapfResult, lacam, pibt_rollout
from bench.mapf.movingai import load_map, load_scen
from bench.mapf_grid import data_dir

MAPF_DIR = data_dir()


def solve_and_check(
    graph: Any, starts: Sequence[Hashable], goals: Sequence[Hashable], limit: float = 5.0
) -> MapfResult:
    res = lacam(MapfInstance(graph, starts, goals), limit)
    assert res.solved, res.status
    assert res.paths is not None and res.index_paths is not None
    assert check_plan(graph, starts, goals, res.paths) == []
    assert len({len(p) for p in res.paths}) == 1  # padded to makespan + 1
    assert len(res.paths[0]) == makespan(res.paths, goals) + 1
    return res


def test_cycle_rotation_and_half_turn() -> None:
    ring = nx.cycle_graph(6)
    solve_and_check(ring, list(range(6)), [1, 2, 3, 4, 5, 0])  # only a rotation works
    solve_and_check(ring, [0, 1, 2, 3, 4], [3, 4, 5, 0, 1])


def test_corridor_with_passing_bay() -> None:
    corridor = nx.path_graph(7)
    corridor.add_edge(3, "bay")
    res = solve_and_check(corridor, [0, 6], [6, 0])
    assert res.paths is not None
    assert any("bay" in p for p in res.paths)


def test_tree_where_pibt_alone_livelocks() -> None:
    tree = nx.Graph(
        [("c", "a1"), ("a1", "a2"), ("a2", "a3"), ("c", "b1"), ("b1", "b2"), ("b2", "b3")]
    )
    tree.add_edge("c", "d1")  # the only side pocket
    starts, goals = ["a3", "a2", "b3", "b2"], ["b3", "b2", "a3", "a2"]
    instance = MapfInstance(tree, starts, goals)
    assert all(pibt_rollout(instance, 200, seed=s).status == "failed" for s in range(3))
    solve_and_check(tree, starts, goals)


def test_binary_tree_leaf_permutation() -> None:
    tree = nx.balanced_tree(2, 3)
    starts, goals = [7, 8, 9, 10], [10, 9, 8, 7]
    assert pibt_rollout(MapfInstance(tree, starts, goals), 200).status == "failed"
    solve_and_check(tree, starts, goals)


def test_directed_ring_and_one_way_shortcut() -> None:
    ring = nx.DiGraph([(i, (i + 1) % 6) for i in range(6)])
    solve_and_check(ring, [0, 1, 2, 3, 4], [2, 3, 4, 5, 0])
    shortcut = nx.DiGraph([(i, (i + 1) % 7) for i in range(7)])
    shortcut.add_edge(1, 6)
    starts, goals = [4, 2, 3, 0], [6, 1, 0, 3]
    assert pibt_rollout(MapfInstance(shortcut, starts, goals), 200).status == "failed"
    solve_and_check(shortcut, starts, goals)


def test_unsolvable_instances_are_proven() -> None:
    # Two agents cannot pass each other on a path: the search space is exhausted.
    res = lacam(MapfInstance(nx.path_graph(3), [0, 2], [2, 0]), 5.0)
    assert res.status == "unsolvable" and res.paths is None
    # One-way edge away from the goal: rejected before searching.
    res = lacam(MapfInstance(nx.DiGraph([(0, 1)]), [1], [0]), 5.0)
    assert res.status == "unsolvable"


def test_already_at_goal_and_no_agents() -> None:
    res = solve_and_check(nx.path_graph(3), [0, 2], [0, 2])
    assert res.paths == [[0], [2]]
    res = lacam(MapfInstance(nx.path_graph(3), [], []), 1.0)
    assert res.solved and res.paths == []


def test_timeout_uses_injected_clock() -> None:
    ticks = itertools.count()

    def clock() -> float:
        return float(next(ticks))

    res = lacam(MapfInstance(nx.path_graph(3), [0, 2], [2, 0]), 3.0, clock=clock)
    assert res.status == "timeout" and not res.solved and res.paths is None


def test_deterministic_for_a_seed() -> None:
    grid = nx.grid_2d_graph(5, 5)
    starts = [(0, 0), (4, 4), (0, 4), (4, 0), (2, 2)]
    goals = [(4, 4), (0, 0), (4, 0), (0, 4), (2, 3)]
    a = lacam(MapfInstance(grid, starts, goals), 5.0, seed=7)
    b = lacam(MapfInstance(grid, starts, goals), 5.0, seed=7)
    assert a.solved and a.paths == b.paths


def test_random_small_graphs_are_always_valid() -> None:
    """Any claimed plan passes the checker; solved-by-PIBT implies solved-by-LaCAM."""
    for seed in range(40):
        graph = nx.gnm_random_graph(8, 11, seed=seed, directed=seed % 2 == 1)
        nodes = list(graph.nodes)
        k = 2 + seed % 4
        starts, goals = nodes[:k], nodes[-k:]
        instance = MapfInstance(graph, starts, goals)
        res = lacam(instance, 1.0, seed=seed)
        if res.paths is not None:
            assert check_plan(graph, starts, goals, res.paths) == []
        if pibt_rollout(instance, 100, seed=seed).solved:
            assert res.solved


def test_instance_validation() -> None:
    g = nx.path_graph(3)
    with pytest.raises(ValueError, match="distinct"):
        MapfInstance(g, [0, 0], [1, 2])
    with pytest.raises(ValueError, match="not in the graph"):
        MapfInstance(g, [0], [7])
    with pytest.raises(ValueError, match="starts but"):
        MapfInstance(g, [0, 1], [2])


def test_random_32_32_10_with_50_agents_from_scen() -> None:
    graph = load_map(MAPF_DIR / "random-32-32-10.map")
    pairs = load_scen(MAPF_DIR / "random-32-32-10-random-1.scen")[:50]
    starts = [s for s, _ in pairs]
    goals = [g for _, g in pairs]
    res = solve_and_check(graph, starts, goals, limit=10.0)
    assert res.paths is not None
    # Lower bound: every agent needs at least its own shortest path.
    lower = sum(nx.shortest_path_length(graph, s, g) for s, g in pairs)
    assert sum_of_costs(res.paths, goals) >= lower


def test_refinement_proves_optimal_plans_on_small_instances() -> None:
    corridor = nx.path_graph(7)
    corridor.add_edge(3, "bay")
    instance = MapfInstance(corridor, [0, 6], [6, 0])
    res = lacam(instance, 10.0, refine=True)
    assert res.solved and res.proven_optimal and res.paths is not None
    assert check_plan(corridor, [0, 6], [6, 0], res.paths) == []
    # 6 + 6 moves, plus the bay detour (2) and one wait for the other agent.
    assert sum_of_costs(res.paths, [6, 0]) == 15

    tree = nx.balanced_tree(2, 3)
    starts, goals = [7, 8, 9, 10], [10, 9, 8, 7]
    first = lacam(MapfInstance(tree, starts, goals), 5.0)
    best = lacam(MapfInstance(tree, starts, goals), 10.0, refine=True)
    assert first.paths is not None and best.paths is not None and best.proven_optimal
    assert check_plan(tree, starts, goals, best.paths) == []
    assert sum_of_costs(best.paths, goals) <= sum_of_costs(first.paths, goals)
    assert not first.proven_optimal


def test_refinement_returns_the_incumbent_at_the_deadline() -> None:
    ticks = itertools.count()

    def clock() -> float:
        return next(ticks) * 0.01  # each clock read is 10 ms

    grid = nx.grid_2d_graph(6, 6)
    starts = [(0, 0), (5, 5), (0, 5), (5, 0), (2, 2), (3, 3)]
    goals = [(5, 5), (0, 0), (5, 0), (0, 5), (3, 3), (2, 2)]
    res = lacam(MapfInstance(grid, starts, goals), 2.0, refine=True, clock=clock)
    assert res.solved and not res.proven_optimal and res.paths is not None
    assert check_plan(grid, starts, goals, res.paths) == []
