"""The independent plan checker flags every kind of hand-made violation."""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx

from bench.mapf import checker
from bench.mapf.checker import (
    EMPTY_PATH,
    NON_EDGE,
    SWAP_CONFLICT,
    UNKNOWN_NODE,
    VERTEX_CONFLICT,
    WRONG_GOAL,
    WRONG_START,
    Violation,
    arrival_times,
    check_plan,
    count_conflicts,
    makespan,
    sum_of_costs,
)


def kinds(violations: list[Violation]) -> list[str]:
    return [v.kind for v in violations]


def test_checker_imports_no_solver_code() -> None:
    tree = ast.parse(Path(checker.__file__).read_text())
    imported: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add(node.module or "")
    assert not any(name.startswith("fleet") for name in imported), imported


def test_valid_plan_with_following_and_rotation() -> None:
    ring = nx.cycle_graph(4)
    # Full rotation on a 4-cycle is legal, and so is following on a path.
    paths = [[0, 1], [1, 2], [2, 3], [3, 0]]
    assert check_plan(ring, [0, 1, 2, 3], [1, 2, 3, 0], paths) == []
    line = nx.path_graph(4)
    assert check_plan(line, [1, 0], [2, 1], [[1, 2], [0, 1]]) == []


def test_vertex_conflict() -> None:
    g = nx.path_graph(3)
    found = check_plan(g, [0, 2], [1, 1], [[0, 1], [2, 1]])
    assert kinds(found) == [VERTEX_CONFLICT]
    assert found[0] == Violation(VERTEX_CONFLICT, 1, (0, 1), (1,))
    assert count_conflicts(found) == 1


def test_three_agents_on_one_node_give_three_pairs() -> None:
    star = nx.star_graph(3)  # centre 0
    found = check_plan(star, [1, 2, 3], [0, 0, 0], [[1, 0], [2, 0], [3, 0]])
    assert sorted(v.agents for v in found if v.kind == VERTEX_CONFLICT) == [
        (0, 1),
        (0, 2),
        (1, 2),
    ]


def test_swap_conflict() -> None:
    g = nx.path_graph(2)
    found = check_plan(g, [0, 1], [1, 0], [[0, 1], [1, 0]])
    assert kinds(found) == [SWAP_CONFLICT]
    assert found[0].time == 0 and found[0].agents == (0, 1)


def test_conflict_after_a_path_ends() -> None:
    # Agent 0 stops at node 1; agent 1 arrives there later.
    g = nx.path_graph(4)
    found = check_plan(g, [0, 3], [1, 1], [[0, 1], [3, 2, 1]])
    assert [(v.kind, v.time) for v in found] == [(VERTEX_CONFLICT, 2)]


def test_non_edge_move_and_directed_edges() -> None:
    g = nx.path_graph(3)
    found = check_plan(g, [0], [2], [[0, 2]])
    assert found == [Violation(NON_EDGE, 0, (0,), (0, 2))]
    one_way = nx.DiGraph([(0, 1)])
    assert check_plan(one_way, [0], [1], [[0, 0, 1]]) == []  # waiting is fine
    assert kinds(check_plan(one_way, [1], [0], [[1, 0]])) == [NON_EDGE]


def test_wrong_start_wrong_goal_unknown_and_empty() -> None:
    g = nx.path_graph(4)
    found = check_plan(g, [0, 3], [1, 3], [[1, 1], [3, 2]])
    assert found == [
        Violation(WRONG_START, 0, (0,), (1, 0)),
        Violation(WRONG_GOAL, 1, (1,), (2, 3)),
    ]
    g = nx.path_graph(3)
    found = check_plan(g, [0, 2], [1, 2], [[0, 9, 1], []])
    assert sorted(kinds(found)) == sorted([UNKNOWN_NODE, NON_EDGE, NON_EDGE, EMPTY_PATH])


def test_costs() -> None:
    goals = ["g", "h", "k"]
    paths = [
        ["a", "b", "g", "g"],  # arrives at t=2
        ["h", "x", "h", "h"],  # leaves its goal and returns: arrives at t=2
        ["k", "k", "k", "k"],  # never moves: cost 0
    ]
    assert arrival_times(paths, goals) == [2, 2, 0]
    assert sum_of_costs(paths, goals) == 4
    assert makespan(paths, goals) == 2
    assert makespan([], []) == 0
