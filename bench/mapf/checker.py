"""Independent MAPF plan checker and cost metrics.

Deliberately shares no code with the solvers (only networkx), so a solver bug
cannot hide itself. Semantics: discrete time; at each step an agent waits or
moves along one edge (out-edge for directed graphs); after its path ends an
agent waits at its last node. Forbidden: two agents on one node at the same
time (vertex conflict) and two agents traversing one edge in opposite
directions in the same step (swap conflict). Following and rotations in
cycles of length >= 3 are allowed. Checking is O(N * T) for N agents and
makespan T, plus O(N * T) edge lookups.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import Any

Node = Hashable

WRONG_START = "wrong-start"
WRONG_GOAL = "wrong-goal"
EMPTY_PATH = "empty-path"
UNKNOWN_NODE = "unknown-node"
NON_EDGE = "non-edge"
VERTEX_CONFLICT = "vertex-conflict"
SWAP_CONFLICT = "swap-conflict"
CONFLICT_KINDS = frozenset({VERTEX_CONFLICT, SWAP_CONFLICT})


@dataclass(frozen=True)
class Violation:
    """One problem in a plan.

    ``time`` is the timestep at which it happens (for a move, the step it
    starts at; for a wrong goal, the path's last index). ``agents`` holds one
    agent, or two for conflicts (lower id first). ``nodes`` gives the node(s)
    involved: a move's endpoints, a conflict's node or edge.
    """

    kind: str
    time: int
    agents: tuple[int, ...]
    nodes: tuple[Node, ...]


def check_plan(
    graph: Any,
    starts: Sequence[Node],
    goals: Sequence[Node],
    paths: Sequence[Sequence[Node]],
) -> list[Violation]:
    """Every violation of ``paths`` as a MAPF solution; empty list = valid plan.

    ``graph`` is a networkx graph; for a ``DiGraph`` moves must follow edge
    direction. Staying in place is always legal.
    """
    out: list[Violation] = []
    if not (len(starts) == len(goals) == len(paths)):
        raise ValueError(
            f"{len(starts)} starts, {len(goals)} goals and {len(paths)} paths must match"
        )
    usable: list[bool] = []
    for a, path in enumerate(paths):
        if len(path) == 0:
            out.append(Violation(EMPTY_PATH, 0, (a,), ()))
            usable.append(False)
            continue
        ok = True
        for t, v in enumerate(path):
            if v not in graph:
                out.append(Violation(UNKNOWN_NODE, t, (a,), (v,)))
                ok = False
        if path[0] != starts[a]:
            out.append(Violation(WRONG_START, 0, (a,), (path[0], starts[a])))
        if path[-1] != goals[a]:
            out.append(Violation(WRONG_GOAL, len(path) - 1, (a,), (path[-1], goals[a])))
        for t in range(len(path) - 1):
            u, v = path[t], path[t + 1]
            if u != v and not graph.has_edge(u, v):
                out.append(Violation(NON_EDGE, t, (a,), (u, v)))
        usable.append(ok)

    horizon = max((len(p) for p in paths), default=0)
    agents = [a for a in range(len(paths)) if usable[a]]

    def at(a: int, t: int) -> Node:
        path = paths[a]
        return path[t] if t < len(path) else path[-1]

    for t in range(horizon):
        seen: dict[Node, list[int]] = {}
        for a in agents:
            seen.setdefault(at(a, t), []).append(a)
        for v, group in seen.items():
            for x in range(len(group)):
                for y in range(x + 1, len(group)):
                    out.append(Violation(VERTEX_CONFLICT, t, (group[x], group[y]), (v,)))
        if t + 1 >= horizon:
            break
        moves: dict[tuple[Node, Node], list[int]] = {}
        for a in agents:
            u, v = at(a, t), at(a, t + 1)
            if u != v:
                moves.setdefault((u, v), []).append(a)
        for (u, v), movers in moves.items():
            back = moves.get((v, u))
            if back is None:
                continue
            for a in movers:
                for b in back:
                    if a < b:
                        out.append(Violation(SWAP_CONFLICT, t, (a, b), (u, v)))
    return out


def count_conflicts(violations: Sequence[Violation]) -> int:
    """Number of pairwise vertex and swap conflicts among ``violations``."""
    return sum(1 for v in violations if v.kind in CONFLICT_KINDS)


def arrival_times(paths: Sequence[Sequence[Node]], goals: Sequence[Node]) -> list[int]:
    """Per agent: last timestep it is *not* at its goal, plus one (0 if always there)."""
    times: list[int] = []
    for path, goal in zip(paths, goals, strict=True):
        last = -1
        for t in range(len(path) - 1, -1, -1):
            if path[t] != goal:
                last = t
                break
        times.append(last + 1)
    return times


def sum_of_costs(paths: Sequence[Sequence[Node]], goals: Sequence[Node]) -> int:
    """Standard sum of costs: total of :func:`arrival_times` (waits before arrival count)."""
    return sum(arrival_times(paths, goals))


def makespan(paths: Sequence[Sequence[Node]], goals: Sequence[Node]) -> int:
    """Time the last agent arrives for good: max of :func:`arrival_times` (0 if no agents)."""
    return max(arrival_times(paths, goals), default=0)
