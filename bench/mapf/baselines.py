"""Reference planners for benchmarking LaCAM.

* :func:`independent_shortest_paths`: every agent follows its own BFS
  shortest path, ignoring the others. Optimal per agent, so its sum of costs
  is a lower bound, but it collides; the checker counts the conflicts.
* :func:`prioritised_planning`: agents plan one after another with space-time
  A* around a reservation table of earlier agents (vertex and edge
  reservations; a finished agent holds its goal forever). Collision-free
  when it succeeds, but incomplete: it fails when an agent finds no path
  within the horizon, e.g. because an earlier agent parked in a corridor.
"""

from __future__ import annotations

import heapq
import time
from collections.abc import Callable

from bench.mapf.instance import MapfInstance, distance_tables
from bench.mapf.lacam import FAILED, SOLVED, TIMEOUT, UNSOLVABLE, MapfResult


def _result(
    instance: MapfInstance, status: str, paths: list[list[int]] | None, elapsed: float
) -> MapfResult:
    nodes = instance.compact.nodes
    labels = None if paths is None else [[nodes[v] for v in p] for p in paths]
    return MapfResult(status, labels, paths, elapsed)


def _pad(paths: list[list[int]]) -> list[list[int]]:
    length = max((len(p) for p in paths), default=1)
    return [p + [p[-1]] * (length - len(p)) for p in paths]


def independent_shortest_paths(
    instance: MapfInstance,
    *,
    clock: Callable[[], float] = time.perf_counter,
) -> MapfResult:
    """Per-agent BFS shortest paths, no coordination; O(G * (V + E) + N * T).

    Status is ``"solved"`` whenever every goal is reachable (the plan may
    still contain conflicts). Ties go to the lowest node id, deterministically.
    """
    t0 = clock()
    graph = instance.compact
    dist = distance_tables(graph, instance.goal_ids)
    paths: list[list[int]] = []
    for i, s in enumerate(instance.start_ids):
        table = dist[i]
        if table[s] >= graph.num_nodes:
            return _result(instance, UNSOLVABLE, None, clock() - t0)
        path = [s]
        v = s
        while table[v]:
            v = min(graph.out_nbrs[v], key=table.__getitem__)
            path.append(v)
        paths.append(path)
    return _result(instance, SOLVED, _pad(paths), clock() - t0)


def prioritised_planning(
    instance: MapfInstance,
    time_limit: float = 10.0,
    *,
    horizon: int | None = None,
    clock: Callable[[], float] = time.perf_counter,
) -> MapfResult:
    """Plan agents in index order with space-time A*; ``"failed"`` if one gets stuck.

    ``horizon`` bounds the timesteps an agent may use (default: V plus the
    longest shortest path, enough to wait out any earlier agent on typical
    maps). Each A* search is O(V * H log(V * H)) in the worst case for
    horizon H, usually far less thanks to the exact BFS heuristic.
    """
    t0 = clock()
    deadline = t0 + time_limit
    graph = instance.compact
    n_nodes = graph.num_nodes
    dist = distance_tables(graph, instance.goal_ids)
    if any(dist[i][s] >= n_nodes for i, s in enumerate(instance.start_ids)):
        return _result(instance, UNSOLVABLE, None, clock() - t0)
    if horizon is None:
        horizon = n_nodes + max((dist[i][s] for i, s in enumerate(instance.start_ids)), default=0)
    vertex_res: set[tuple[int, int]] = set()  # (node, t)
    edge_res: set[tuple[int, int, int]] = set()  # (from, to, t): move during t -> t+1
    parked: dict[int, int] = {}  # node -> time from which it is occupied forever
    last_use: dict[int, int] = {}  # node -> latest reserved time (goal condition)
    moves = [(*nb, v) for v, nb in enumerate(graph.out_nbrs)]
    paths: list[list[int]] = []
    for i, (s, g) in enumerate(zip(instance.start_ids, instance.goal_ids, strict=True)):
        table = dist[i]
        earliest_park = last_use.get(g, -1) + 1
        came: dict[tuple[int, int], tuple[int, int]] = {}
        start = (s, 0)
        came[start] = start
        heap: list[tuple[int, int, int, int]] = [(table[s], 0, s, 0)]  # f, -g, node, t
        found: tuple[int, int] | None = None
        pops = 0
        while heap:
            _, _, v, t = heapq.heappop(heap)
            pops += 1
            if pops & 1023 == 0 and clock() > deadline:
                return _result(instance, TIMEOUT, None, clock() - t0)
            if v == g and t >= earliest_park:
                found = (v, t)
                break
            nt = t + 1
            if nt > horizon:
                continue
            for u in moves[v]:
                state = (u, nt)
                if state in came or state in vertex_res:
                    continue
                if parked.get(u, horizon + 1) <= nt:
                    continue
                if (u, v, t) in edge_res:
                    continue  # someone moves u -> v now: swap
                came[state] = (v, t)
                heapq.heappush(heap, (nt + table[u], -nt, u, nt))
        if found is None:
            return _result(instance, FAILED, None, clock() - t0)
        path: list[int] = []
        state = found
        while True:
            path.append(state[0])
            prev = came[state]
            if prev == state:
                break
            state = prev
        path.reverse()
        for t, v in enumerate(path):
            vertex_res.add((v, t))
            if last_use.get(v, -1) < t:
                last_use[v] = t
            if t + 1 < len(path):
                edge_res.add((v, path[t + 1], t))
        parked[g] = len(path) - 1
        paths.append(path)
    return _result(instance, SOLVED, _pad(paths), clock() - t0)
