"""LaCAM with PIBT as its configuration generator: complete MAPF on any graph.

PIBT (Okumura et al., AIJ 2022) moves all agents one step at a time: agents
act in priority order, each takes the free neighbour closest to its goal and,
if that cell is occupied, lends its priority to the occupant so it moves away
(priority inheritance, with backtracking when the occupant is stuck). One step
costs O(N * D log D) for N agents and max degree D, but PIBT alone can livelock
(e.g. in trees or corridors) and is not complete.

LaCAM (Okumura, AAAI 2023) wraps PIBT in a depth-first search over
*configurations* (everybody's location at once). Every high-level node keeps a
lazily grown *constraint tree*: a low-level node fixes the next location of
the first ``k`` agents in the node's priority order, and PIBT completes the
rest. Constraint trees are expanded breadth first, so given enough time each
high-level node enumerates every successor configuration; configurations are
never expanded twice. The configuration space is finite, hence the search is
complete: it finds a plan if one exists and otherwise proves there is none
(OPEN empties). This holds on directed graphs (one-way edges) as well: there
PIBT fails more often, but the constraint tree still enumerates all legal
joint moves along out-edges, so the search explores instead of looping.
Like the reference implementation, a re-generated known configuration is
pushed back on OPEN (re-insertion), which escapes dead ends much faster.
Constraint sets that already collide among themselves are not expanded (all
their extensions collide too), which keeps completeness and makes proofs of
unsolvability on small graphs far cheaper. PIBT includes LaCAM2's swap
operation for head-on meetings in corridors (undirected graphs only).
``refine=True`` turns the search into LaCAM* (eventually optimal).

Costs: distance tables are one batched BFS over the distinct goals,
O(G * (V + E)). Each high-level iteration is one PIBT call, O(N * D log D)
(agents resting on their goal take an O(1) fast path), plus O(N) hashing and
an O(k) copy for a constraint on k agents. The number of iterations is
exponential in the worst case (the state space is V^N) but close to the
plan's makespan in practice: PIBT usually succeeds at once and the search
only backs up in tight spots.

Plans are sequences of configurations, so agents move in lockstep; they are
free of vertex conflicts and of swaps along one edge, while followers into a
cell being vacated and rotations in cycles of length >= 3 are allowed
(standard MAPF semantics).
"""

from __future__ import annotations

import operator
import random
import time
from collections import deque
from collections.abc import Callable, Hashable
from dataclasses import dataclass

from bench.mapf.instance import CompactGraph, MapfInstance, distance_tables

Node = Hashable
Config = tuple[int, ...]

SOLVED = "solved"
TIMEOUT = "timeout"
UNSOLVABLE = "unsolvable"
FAILED = "failed"  # an incomplete method gave up; nothing proven


@dataclass(frozen=True)
class MapfResult:
    """Outcome of a solver call.

    ``status`` is ``"solved"``, ``"timeout"`` (time limit hit, nothing
    proven), ``"failed"`` (an incomplete method gave up) or ``"unsolvable"``
    (proven: some goal is unreachable or the search space was exhausted).
    When solved, ``paths[i]`` lists agent ``i``'s nodes (graph
    labels) at t = 0..makespan and ``index_paths`` the same as integer ids of
    :class:`~bench.mapf.instance.CompactGraph`; all paths have equal length
    and end at the goals. ``proven_optimal`` is set when LaCAM* exhausted
    its search (sum-of-loss optimal plan).
    """

    status: str
    paths: list[list[Node]] | None
    index_paths: list[list[int]] | None
    elapsed_s: float
    high_level_nodes: int = 0
    iterations: int = 0
    proven_optimal: bool = False

    @property
    def solved(self) -> bool:
        return self.status == SOLVED


class _HNode:
    """High-level search node: a configuration plus its lazy constraint tree.

    ``g`` is the best known cost from the start (sum of loss, see
    :func:`lacam`), ``h`` the admissible sum of distances to the goals, and
    ``neighbors`` the known successor nodes, needed to propagate cheaper
    ``g`` values when a shorter route to a known configuration shows up.
    ``at_goal`` has bit ``8 * i`` set iff agent ``i`` is on its goal, so the
    loss of an edge is one AND and a popcount instead of an O(N) loop.
    """

    __slots__ = (
        "at_goal",
        "config",
        "f",
        "g",
        "h",
        "neighbors",
        "order",
        "parent",
        "priorities",
        "tree",
    )

    def __init__(
        self,
        config: Config,
        parent: _HNode | None,
        priorities: list[float],
        g: int = 0,
        h: int = 0,
        at_goal: int = 0,
    ) -> None:
        self.config = config
        self.at_goal = at_goal
        self.parent = parent
        self.priorities = priorities
        self.g = g
        self.h = h
        self.f = g + h
        # A list, not a set: set order would follow id() and break determinism.
        self.neighbors: list[_HNode] = []
        # Highest priority first; ties by agent id keep it deterministic.
        self.order = sorted(range(len(config)), key=priorities.__getitem__, reverse=True)
        # Low-level nodes: (agents constrained, their forced next locations).
        self.tree: deque[tuple[tuple[int, ...], tuple[int, ...]]] = deque([((), ())])


class _Frame:
    """One pending PIBT call: agent, its ordered candidates, next index, swap partner."""

    __slots__ = ("agent", "cands", "k", "swap")

    def __init__(self, agent: int, cands: list[int], swap: int) -> None:
        self.agent = agent
        self.cands = cands
        self.k = 0
        self.swap = swap


class _Pibt:
    """PIBT one-step configuration generator honouring LaCAM constraints.

    Includes the *swap* operation of LaCAM2 (Okumura, IJCAI 2023): when two
    agents meet head-on in a corridor, plain PIBT livelocks (each pushes the
    other back). If a swap is required and possible, the agent instead backs
    up while *pulling* the other one after it until the corridor widens, which
    lets them pass. This reasoning assumes undirected edges, so it is only
    enabled on undirected graphs; on directed graphs plain PIBT + LaCAM's
    search do the work.

    Buffers are sized once (O(V + N)) and only touched entries are reset, so a
    call costs O(N * D log D) plus the corridor walks of the swap tests,
    regardless of the graph size.
    """

    def __init__(
        self,
        graph: CompactGraph,
        dist: list[list[int]],
        goals: tuple[int, ...],
        rng: random.Random,
    ) -> None:
        n_nodes = graph.num_nodes
        self.nbrs = graph.out_nbrs
        self.cands = [(*nb, v) for v, nb in enumerate(graph.out_nbrs)]
        self.dist = dist
        self.goals = goals
        self.rng = rng
        self.use_swap = not graph.directed
        self.walk_cap = n_nodes
        self.occ_now = [-1] * n_nodes
        self.occ_next = [-1] * n_nodes
        self.q_to = [-1] * len(dist)

    def generate(
        self,
        q_from: Config,
        order: list[int],
        who: tuple[int, ...],
        where: tuple[int, ...],
    ) -> Config | None:
        """Next configuration from ``q_from`` with ``who[k]`` forced to ``where[k]``.

        Returns ``None`` when the constraints conflict (vertex or swap) or
        PIBT cannot place some agent without a collision.
        """
        occ_now, occ_next, q_to = self.occ_now, self.occ_next, self.q_to
        for i, v in enumerate(q_from):
            occ_now[v] = i
        ok = True
        for i, v in zip(who, where, strict=True):
            if occ_next[v] != -1:
                ok = False  # vertex conflict between constraints
                break
            j = occ_next[q_from[i]]
            if j != -1 and j == occ_now[v]:
                ok = False  # i and j would swap
                break
            q_to[i] = v
            occ_next[v] = i
        if ok:
            dist = self.dist
            for i in order:
                if q_to[i] != -1:
                    continue
                here = q_from[i]
                if dist[i][here] == 0 and occ_next[here] == -1:
                    # Fast path, same outcome as PIBT: at its goal, staying
                    # ranks first and is free.
                    q_to[i] = here
                    occ_next[here] = i
                elif not self._pibt(i, q_from):
                    ok = False
                    break
        result = tuple(q_to) if ok else None
        for i, v in enumerate(q_from):
            occ_now[v] = -1
            u = q_to[i]
            if u != -1:
                occ_next[u] = -1
                q_to[i] = -1
        return result

    def _frame(self, i: int, v: int) -> _Frame:
        """Candidates of agent ``i`` at ``v``: nearest to goal first, random ties.

        Among equally near cells, currently empty ones come first (fewer pushes).
        With a swap partner the order is reversed: back off and pull.
        """
        table = self.dist[i]
        rnd = self.rng.random
        occ_now = self.occ_now
        keyed = [
            (table[u] + (0.5 if occ_now[u] != -1 else 0.0) + 0.4 * rnd(), u) for u in self.cands[v]
        ]
        keyed.sort()
        cands = [u for _, u in keyed]
        swap = self._swap_partner(i, v, cands[0]) if self.use_swap else -1
        if swap != -1:
            cands.reverse()
        return _Frame(i, cands, swap)

    def _pibt(self, root: int, q_from: Config) -> bool:
        """Priority inheritance with backtracking, iterative (no recursion limit)."""
        occ_now, occ_next, q_to = self.occ_now, self.occ_next, self.q_to
        stack = [self._frame(root, q_from[root])]
        child_ok = False
        while stack:
            f = stack[-1]
            i = f.agent
            here = q_from[i]
            if child_ok:  # the agent f pushed has moved away: f keeps its choice
                stack.pop()
                self._pull(f, here)
                continue
            cands = f.cands
            k = f.k
            pushed = success = False
            while k < len(cands):
                u = cands[k]
                k += 1
                if occ_next[u] != -1:
                    continue
                ak = occ_now[u]
                if ak != -1 and q_to[ak] == here:
                    continue  # would swap with ak
                occ_next[u] = i
                q_to[i] = u
                f.k = k
                if ak == -1 or ak == i or q_to[ak] != -1:
                    success = True
                else:
                    stack.append(self._frame(ak, q_from[ak]))
                    pushed = True
                break
            if pushed:
                continue
            stack.pop()
            if success:
                self._pull(f, here)
                child_ok = True
            else:
                # No candidate worked: stay (a pusher, if any, tries its next cell).
                occ_next[here] = i
                q_to[i] = here
                child_ok = False
        return child_ok

    def _pull(self, f: _Frame, here: int) -> None:
        """After backing off with its first choice, drag the swap partner into ``here``."""
        j = f.swap
        if f.k == 1 and j != -1 and self.q_to[j] == -1 and self.occ_next[here] == -1:
            self.q_to[j] = here
            self.occ_next[here] = j

    def _swap_partner(self, i: int, v: int, best: int) -> int:
        """Agent that ``i`` should swap with (LaCAM2 cases a-d), or -1."""
        if best == v:
            return -1  # i wants to stay
        occ_now = self.occ_now
        j = occ_now[best]
        if (
            j != -1
            and self.q_to[j] == -1
            and self._swap_required(i, j, v, best)
            and self._swap_possible(best, v)
        ):
            return j  # head-on: i backs off, pulling j
        for u in self.nbrs[v]:
            k = occ_now[u]
            if k == -1 or u == best:
                continue
            if self._swap_required(k, i, v, best) and self._swap_possible(best, v):
                return k  # clear the way: k must get past i
        return -1

    def _corridor_step(self, v_pusher: int, v_puller: int) -> tuple[int, int]:
        """Exits of ``v_puller`` other than ``v_pusher`` and dead ends held by parked agents.

        Returns (number of such exits, one of them or -1).
        """
        nbrs, occ_now, goals = self.nbrs, self.occ_now, self.goals
        count = 0
        nxt = -1
        for u in nbrs[v_puller]:
            if u == v_pusher:
                continue
            a = occ_now[u]
            if a != -1 and len(nbrs[u]) == 1 and goals[a] == u:
                continue
            count += 1
            nxt = u
        return count, nxt

    def _swap_required(self, pusher: int, puller: int, v_pusher: int, v_puller: int) -> bool:
        """True if pusher and puller are heading past each other in a corridor."""
        dp = self.dist[pusher]
        for _ in range(self.walk_cap):
            if dp[v_puller] >= dp[v_pusher]:
                break
            n, nxt = self._corridor_step(v_pusher, v_puller)
            if n >= 2:
                return False  # a side branch: plain PIBT can let them pass
            if n == 0:
                break
            v_pusher, v_puller = v_puller, nxt
        dq = self.dist[puller]
        return dq[v_pusher] < dq[v_puller] and (dp[v_pusher] == 0 or dp[v_puller] < dp[v_pusher])

    def _swap_possible(self, v_pusher: int, v_puller: int) -> bool:
        """True if backing up from ``v_puller`` reaches a branching cell to pass at."""
        origin = v_pusher
        for _ in range(self.walk_cap):
            if v_puller == origin:
                return False  # walked round a cycle
            n, nxt = self._corridor_step(v_pusher, v_puller)
            if n >= 2:
                return True
            if n == 0:
                return False
            v_pusher, v_puller = v_puller, nxt
        return False


def lacam(
    instance: MapfInstance,
    time_limit: float = 10.0,
    *,
    refine: bool = False,
    clock: Callable[[], float] = time.perf_counter,
    seed: int = 0,
) -> MapfResult:
    """Solve ``instance`` with LaCAM(PIBT); optionally refine it as LaCAM*.

    The search keeps LaCAM* bookkeeping (Okumura, IJCAI 2023): each node has
    a cost ``g`` and a neighbour set, and when a known configuration is
    reached again, cheaper costs are propagated through the explored graph
    (Dijkstra) and parents rewired, so even the first plan is shortcut where
    the search found shortcuts. Cost is *sum of loss*: per step, one for
    every agent not staying on its goal (a lower bound of the standard sum of
    costs, equal when no agent leaves its goal after arriving).

    With ``refine=False`` the first plan is returned. With ``refine=True``
    the search continues until ``time_limit``, pruning nodes whose
    ``g + h`` cannot beat the incumbent, and returns the best plan; if it
    exhausts the search space the plan is sum-of-loss optimal
    (``proven_optimal``). That is LaCAM*, complete and eventually optimal.

    ``time_limit`` is in seconds of ``clock`` (injected for deterministic
    tests); without any plan at expiry the status is ``"timeout"``. ``seed``
    drives PIBT tie-breaking and constraint order; same inputs, same output.

    Complexity: see the module docstring; a cost rewrite touches the
    descendants whose cost improves, O(N) per edge. Memory is O(H * N) for H
    high-level nodes.
    """
    t0 = clock()
    graph = instance.compact
    starts, goals = instance.start_ids, instance.goal_ids
    n_agents = len(starts)
    dist = distance_tables(graph, goals)

    def finish(status: str, node: _HNode | None, optimal: bool = False) -> MapfResult:
        paths = None if node is None else _backtrack(node, n_agents)
        return _result(graph, status, paths, clock() - t0, len(explored), iters, optimal)

    def summary(config: Config) -> tuple[int, int]:
        """(sum of distances to goals, at-goal byte mask), one O(N) pass."""
        ds = [d[v] for d, v in zip(dist, config, strict=True)]
        return sum(ds), int.from_bytes(bytes(map(operator.not_, ds)), "little")

    def loss(a: _HNode, b: _HNode) -> int:
        """Agents not staying on their goal along the edge a -> b."""
        return n_agents - (a.at_goal & b.at_goal).bit_count()

    def rewrite(source: _HNode) -> None:
        """Propagate a cheaper ``g`` from ``source`` through known edges."""
        queue = deque([source])
        while queue:
            a = queue.popleft()
            for b in a.neighbors:
                g = a.g + loss(a, b)
                if g < b.g:
                    b.g, b.f, b.parent = g, g + b.h, a
                    queue.append(b)
                    if best is not None and b.f < best.f:
                        open_stack.append(b)

    explored: dict[Config, _HNode] = {}
    iters = 0
    if _unreachable(graph, starts, dist):
        return finish(UNSOLVABLE, None)

    rng = random.Random(seed)
    pibt = _Pibt(graph, dist, goals, rng)
    cands = pibt.cands
    root = _HNode(starts, None, _initial_priorities(starts, dist), 0, *summary(starts))
    explored[starts] = root
    open_stack: list[_HNode] = [root]
    best: _HNode | None = None
    deadline = t0 + time_limit
    while open_stack:
        iters += 1
        if clock() > deadline:
            return finish(TIMEOUT, None) if best is None else finish(SOLVED, best)
        node = open_stack[-1]
        if best is not None and node.f >= best.f:
            open_stack.pop()  # cannot improve on the incumbent
            continue
        if best is None and node.config == goals:
            best = node
            if not refine:
                return finish(SOLVED, best)
            continue
        if not node.tree:
            open_stack.pop()
            continue
        who, where = node.tree.popleft()
        depth = len(who)
        config = node.config
        if depth < n_agents:
            i = node.order[depth]
            here = config[i]
            options = list(cands[here])
            rng.shuffle(options)
            child_who = (*who, i)
            for u in options:
                # Prune constraint sets that already collide: every extension
                # would collide too, so skipping them keeps completeness.
                if u in where:
                    continue
                if u != here and any(
                    config[j] == u and w == here for j, w in zip(who, where, strict=True)
                ):
                    continue
                node.tree.append((child_who, (*where, u)))
        new = pibt.generate(config, node.order, who, where)
        if new is None:
            continue
        known = explored.get(new)
        if known is not None:
            if known not in node.neighbors:
                node.neighbors.append(known)
            rewrite(node)
            if best is None or known.f < best.f:
                open_stack.append(known)  # re-insertion
            continue
        h, at_goal = summary(new)
        child = _HNode(new, node, _child_priorities(node.priorities, new, dist), 0, h, at_goal)
        child.g = node.g + loss(node, child)
        child.f = child.g + h
        node.neighbors.append(child)
        explored[new] = child
        if best is None or child.f < best.f:
            open_stack.append(child)
    if best is not None:
        return finish(SOLVED, best, optimal=True)
    return finish(UNSOLVABLE, None)


def pibt_rollout(
    instance: MapfInstance,
    max_steps: int = 1000,
    *,
    clock: Callable[[], float] = time.perf_counter,
    seed: int = 0,
) -> MapfResult:
    """PIBT alone, no search: one greedy step after another until all agents arrive.

    Incomplete: it can livelock (agents shuffling back and forth forever) or
    get stuck on one-way edges, which is why :func:`lacam` wraps it in a
    search. Status ``"failed"`` after ``max_steps`` steps or if a step cannot
    be generated. O(max_steps * N * D log D) time, O(max_steps * N) memory.
    """
    t0 = clock()
    graph = instance.compact
    starts, goals = instance.start_ids, instance.goal_ids
    dist = distance_tables(graph, goals)
    if _unreachable(graph, starts, dist):
        return _result(graph, UNSOLVABLE, None, clock() - t0, 0, 0)
    pibt = _Pibt(graph, dist, goals, random.Random(seed))
    node = _HNode(starts, None, _initial_priorities(starts, dist))
    for step in range(max_steps + 1):
        if node.config == goals:
            return _result(
                graph, SOLVED, _backtrack(node, len(starts)), clock() - t0, step + 1, step + 1
            )
        if step == max_steps:
            break
        new = pibt.generate(node.config, node.order, (), ())
        if new is None:
            break
        node = _HNode(new, node, _child_priorities(node.priorities, new, dist))
    return _result(graph, FAILED, None, clock() - t0, 0, 0)


def _result(
    graph: CompactGraph,
    status: str,
    paths: list[list[int]] | None,
    elapsed: float,
    nodes: int,
    iters: int,
    optimal: bool = False,
) -> MapfResult:
    labels = None if paths is None else [[graph.nodes[v] for v in p] for p in paths]
    return MapfResult(status, labels, paths, elapsed, nodes, iters, optimal)


def _unreachable(graph: CompactGraph, starts: Config, dist: list[list[int]]) -> bool:
    return any(dist[i][s] >= graph.num_nodes for i, s in enumerate(starts))


def _initial_priorities(starts: Config, dist: list[list[int]]) -> list[float]:
    """PIBT's initial priorities: farther from the goal first, all below 1."""
    n = max(len(starts), 1)
    return [dist[i][s] / n for i, s in enumerate(starts)]


def _child_priorities(prio: list[float], config: Config, dist: list[list[int]]) -> list[float]:
    """PIBT's dynamic priorities: +1 per step away from the goal, reset to the
    fractional tie-breaker on arrival, so long-waiting agents win conflicts."""
    return [prio[i] + 1.0 if dist[i][v] else prio[i] - int(prio[i]) for i, v in enumerate(config)]


def _backtrack(node: _HNode, n_agents: int) -> list[list[int]]:
    configs: list[Config] = []
    cur: _HNode | None = node
    while cur is not None:
        configs.append(cur.config)
        cur = cur.parent
    configs.reverse()
    return [[c[i] for c in configs] for i in range(n_agents)]
