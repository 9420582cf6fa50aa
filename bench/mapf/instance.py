"""Compact, integer-indexed graph and MAPF instance.

Solvers index arrays by integer node ids; networkx node labels can be any
hashable. :class:`CompactGraph` fixes a stable node order (the graph's own
insertion order, which is deterministic) and stores out- and in-neighbours as
sorted tuples, so neighbour iteration in the hot loops is plain tuple indexing.
Building it is O(V + E).
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Node = Hashable


@dataclass(frozen=True)
class CompactGraph:
    """A graph as integer adjacency: node ``i`` is ``nodes[i]``.

    ``out_nbrs[i]`` are the nodes reachable from ``i`` in one move (both
    directions for an undirected graph); ``in_nbrs[i]`` those that can move
    into ``i``. Self-loops are dropped: waiting is always allowed in MAPF.
    """

    nodes: tuple[Node, ...]
    index: dict[Node, int]
    out_nbrs: tuple[tuple[int, ...], ...]
    in_nbrs: tuple[tuple[int, ...], ...]
    directed: bool

    @property
    def num_nodes(self) -> int:
        return len(self.nodes)

    @classmethod
    def from_networkx(cls, graph: Any) -> CompactGraph:
        """Index ``graph`` (``nx.Graph``/``nx.DiGraph`` or multigraph variants), O(V + E)."""
        nodes = tuple(graph.nodes)
        index = {v: i for i, v in enumerate(nodes)}
        directed = bool(graph.is_directed())
        out_sets: list[set[int]] = [set() for _ in nodes]
        in_sets: list[set[int]] = [set() for _ in nodes]
        for u, v in graph.edges():
            iu, iv = index[u], index[v]
            if iu == iv:
                continue
            out_sets[iu].add(iv)
            in_sets[iv].add(iu)
            if not directed:
                out_sets[iv].add(iu)
                in_sets[iu].add(iv)
        return cls(
            nodes=nodes,
            index=index,
            out_nbrs=tuple(tuple(sorted(s)) for s in out_sets),
            in_nbrs=tuple(tuple(sorted(s)) for s in in_sets),
            directed=directed,
        )

    def padded_in_nbrs(self) -> npt.NDArray[np.int64]:
        """In-neighbours as a ``(V + 1, max_degree)`` array, padded with sentinel ``V``.

        Row ``V`` is all-sentinel so vectorised gathers never need a mask.
        """
        n = self.num_nodes
        width = max((len(t) for t in self.in_nbrs), default=0) or 1
        arr = np.full((n + 1, width), n, dtype=np.int64)
        for i, nb in enumerate(self.in_nbrs):
            arr[i, : len(nb)] = nb
        return arr


def bfs_distances(graph: CompactGraph, target: int) -> list[int]:
    """Hop distance from every node *to* ``target`` (-1 if it cannot reach it), O(V + E)."""
    out: list[int] = distance_matrix(graph, [target])[0].tolist()
    return out


def distance_matrix(
    graph: CompactGraph, targets: Sequence[int], chunk: int = 64
) -> npt.NDArray[np.int32]:
    """``(len(targets), V)`` hop distances to each target; -1 where unreachable.

    BFS over in-neighbours (so directed graphs give distance *to* the target),
    run for ``chunk`` targets at once: all searches advance one level per
    step on one flat ``chunk x (V + 1)`` array, so the numpy call overhead is
    paid per level, not per level and target. Frontier duplicates are dropped
    in O(F) with an owner array (no sort). Total work O(K * (V + E)) for K
    targets; 4-6x faster than one vectorised BFS per target on MovingAI grids.
    Column ``V`` is a sentinel for the padding of
    :meth:`CompactGraph.padded_in_nbrs`, marked visited so it never expands.
    """
    n = graph.num_nodes
    padded = graph.padded_in_nbrs()
    width = n + 1
    blocks: list[npt.NDArray[np.int32]] = []
    for lo in range(0, len(targets), chunk):
        part = np.asarray(targets[lo : lo + chunk], dtype=np.int64)
        k = part.size
        dist = np.full(k * width, -1, dtype=np.int32)
        owner = np.empty(k * width, dtype=np.int32)
        rows = np.arange(k, dtype=np.int64) * width
        dist[rows + n] = 0
        frontier = rows + part
        dist[frontier] = 0
        level = 0
        while frontier.size:
            level += 1
            base = (frontier // width) * width
            cand = (padded[frontier - base] + base[:, None]).ravel()
            cand = cand[dist[cand] < 0]
            dist[cand] = level
            idx = np.arange(cand.size, dtype=np.int32)
            owner[cand] = idx
            frontier = cand[owner[cand] == idx]
        blocks.append(dist.reshape(k, width)[:, :n])
    if not blocks:
        return np.empty((0, n), dtype=np.int32)
    return np.concatenate(blocks)


def distance_tables(graph: CompactGraph, goals: Sequence[int]) -> list[list[int]]:
    """``dist[i][v]``: hops from ``v`` to agent ``i``'s goal; unreachable = V.

    One batched BFS (:func:`distance_matrix`) over the distinct goals,
    O(G * (V + E)). Lists, not arrays: the solvers read one entry at a time,
    where list indexing is several times faster than numpy scalar access.
    Agents sharing a goal share the list.
    """
    unique = list(dict.fromkeys(goals))
    matrix = distance_matrix(graph, unique)
    matrix[matrix < 0] = graph.num_nodes
    rows: list[list[int]] = matrix.tolist()
    by_goal = dict(zip(unique, rows, strict=True))
    return [by_goal[g] for g in goals]


@dataclass(frozen=True)
class MapfInstance:
    """A MAPF problem: ``graph`` (networkx), one start and one goal node per agent.

    Validates that starts and goals are known nodes, pairwise distinct, and
    equally many. ``compact``, ``start_ids`` and ``goal_ids`` are derived.
    """

    graph: Any
    starts: Sequence[Node]
    goals: Sequence[Node]
    compact: CompactGraph = field(init=False, repr=False, compare=False)
    start_ids: tuple[int, ...] = field(init=False, repr=False, compare=False)
    goal_ids: tuple[int, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if len(self.starts) != len(self.goals):
            raise ValueError(f"{len(self.starts)} starts but {len(self.goals)} goals")
        compact = CompactGraph.from_networkx(self.graph)
        ids: list[tuple[int, ...]] = []
        for label, seq in (("start", self.starts), ("goal", self.goals)):
            try:
                idx = tuple(compact.index[v] for v in seq)
            except KeyError as exc:
                raise ValueError(f"{label} node {exc.args[0]!r} is not in the graph") from None
            if len(set(idx)) != len(idx):
                raise ValueError(f"{label} nodes must be pairwise distinct")
            ids.append(idx)
        object.__setattr__(self, "compact", compact)
        object.__setattr__(self, "start_ids", ids[0])
        object.__setattr__(self, "goal_ids", ids[1])

    @property
    def num_agents(self) -> int:
        return len(self.start_ids)
