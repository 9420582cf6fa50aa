"""Traffic planner: conflict-free timed routes for every guide vehicle of a corridor.

Prioritised planning in continuous time against a reservation table of every
other vehicle's timed route (the approach and why it is safe and live on the
corridor graphs are argued in docs/traffic.md). For one vehicle:

1. The path is the fastest route on the open lanes (Dijkstra), prefixed by the
   stretch the vehicle's body still covers (its *tail*), so that others see it.
2. Every other vehicle that shares a lane stretch or a junction with that path
   is one constraint. Per constraint the vehicle goes either *after* the other
   (a lower bound on its passing times: spacing, headway, junction clearance)
   or *before* it (an upper bound: it must stay ahead with the same margins).
   Order is forced by where both are now; otherwise it starts from free-flow
   arrival order, and a violated "before" flips to "after" until none is
   violated (each flip only delays, so this ends after at most one flip per
   constraint).
3. The earliest profile under the lower bounds is a running maximum,
   ``T(s) = C(s) + max_{s' <= s} (L(s') - C(s'))`` with ``C`` the free-flow
   clock incl. stop-line dwells. Samples are the route's nodes plus every
   breakpoint of every constraint, so between samples both the profile and
   the bounds are linear and checking at samples is exact.

A lower bound that is infinite (a vehicle standing at its goal, a closed lane,
a zero line not yet accepted) makes the plan end short: the vehicle *holds*
there and is re-planned when what blocks it changes. Cost per vehicle is
O((N + B) log(N + B) + K * N) for N samples, B breakpoints and K constraints;
a full re-plan of V vehicles runs that V times per pass.
"""

from __future__ import annotations

import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import IntEnum

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from fleet.timed_route import SeparationRules, TimedRoute

INF = math.inf
PAST_S = 30.0  # how much of its recent past a re-planned route keeps
CLOSED_PENALTY_S = 1e7  # route over a closed lane only when nothing else reaches the goal
EPS = 1e-6
Floats = NDArray[np.float64]


class PlanError(ValueError):
    """A request the planner refuses; nothing in the plan table changed."""


class Priority(IntEnum):
    """Who is planned first when several wait for the same lane or gap (lower first)."""

    EMERGENCY = 0
    OVERRIDE = 1  # a controller's manual override
    PERISHABLE = 2  # fruit
    STANDARD = 3


@dataclass(frozen=True)
class PlannerConfig:
    rules: SeparationRules = field(default_factory=SeparationRules)
    checkpoint_dwell_s: float = 5.0
    # Time stopped at the zero line for the handoff; None: hold until accepted.
    handoff_dwell_s: float | None = None
    min_stop_s: float = 1.0  # an already-accepted vehicle still stops this long
    margin_m: float = 0.05  # numerical slack on top of the rules
    margin_s: float = 0.01
    max_passes: int = 6
    # Insert into gaps between already planned vehicles (False: first come, first served
    # at every shared lane and junction; the plain reservation-table baseline).
    fill_gaps: bool = True


@dataclass(frozen=True)
class PlanStatus:
    vehicle_id: str
    state: str  # idle | moving | holding | broken
    goal: str | None
    hold_reason: str | None  # what the vehicle waits for when holding short of its goal
    eta_s: float | None  # planned arrival at the goal (None while holding)


class _Motion:
    """Fast queries on one timed route: passing times, lane pieces, junction uses."""

    def __init__(self, g: nx.DiGraph, r: TimedRoute) -> None:
        self.route = r
        self.node_s = [0.0]
        for u, v in itertools.pairwise(r.nodes):
            self.node_s.append(self.node_s[-1] + g.edges[u, v]["length_m"])
        ts = np.array([p[0] for p in r.profile], dtype=float)
        ss = np.array([p[1] for p in r.profile], dtype=float)
        self.ts, self.ss = ts, ss
        self.t0, self.s0, self.s_end = float(ts[0]), float(ss[0]), float(ss[-1])
        # Lane pieces: (lane, x0 lane coordinate, x1, s0 route distance at x0).
        self.pieces: list[tuple[str, float, float, float]] = []
        for i, (u, v) in enumerate(itertools.pairwise(r.nodes)):
            e = g.edges[u, v]
            lane, x0, s = e["lane_id"], float(e.get("offset_m", 0.0)), self.node_s[i]
            if self.pieces:
                pl, px0, _px1, ps0 = self.pieces[-1]
                if pl == lane and abs(px0 + (s - ps0) - x0) < 0.5:
                    self.pieces[-1] = (pl, px0, px0 + self.node_s[i + 1] - ps0, ps0)
                    continue
            self.pieces.append((lane, x0, x0 + e["length_m"], s))
        self.junctions: list[tuple[str, float, str | None]] = [
            (n, self.node_s[i], r.nodes[i - 1] if i else None)
            for i, n in enumerate(r.nodes)
            if g.in_degree(n) >= 2 or g.out_degree(n) >= 2
        ]

    def s_at(self, t: float) -> float:
        return float(np.interp(t, self.ts, self.ss))

    def _between(self, s: Floats, k: NDArray[np.intp]) -> Floats:
        """Time at s on the moving segment from breakpoint k to k + 1."""
        ts, ss = self.ts, self.ss
        k = np.clip(k, 0, len(ss) - 2)
        ds = ss[k + 1] - ss[k]
        frac = np.divide(s - ss[k], ds, out=np.zeros_like(s), where=ds > EPS)
        return np.asarray(ts[k] + frac * (ts[k + 1] - ts[k]), dtype=float)

    def t_first(self, s: Floats) -> Floats:
        """First time the front is at s (arrival where it waits); -inf behind its start,
        +inf beyond its end."""
        ss = self.ss
        k = np.asarray(np.searchsorted(ss, s - EPS, side="left"), dtype=np.intp)
        kc = np.clip(k, 0, len(ss) - 1)
        exact = (k < len(ss)) & (np.abs(ss[kc] - s) <= EPS)
        out = np.where(exact, self.ts[kc], self._between(s, k - 1))
        out = np.where(s < self.s0 - EPS, -INF, out)
        return np.where(s > self.s_end + EPS, INF, out)

    def t_last(self, s: Floats) -> Floats:
        """Last time the front is at s (departure where it waits); +inf where it stands for
        good (its profile's end)."""
        ss = self.ss
        k = np.asarray(np.searchsorted(ss, s + EPS, side="right") - 1, dtype=np.intp)
        kc = np.clip(k, 0, len(ss) - 1)
        exact = (k >= 0) & (np.abs(ss[kc] - s) <= EPS)
        out = np.where(exact, self.ts[kc], self._between(s, k))
        out = np.where(s < self.s0 - EPS, self.t0, out)
        return np.where(s >= self.s_end - EPS, INF, out)

    def t_clear(self, s: Floats) -> Floats:
        """When the front has moved on past s for good: the last time there, or the arrival
        where it ends (standing exactly there is enough for whoever waits behind)."""
        at_end = np.abs(s - self.s_end) <= EPS
        return np.where(at_end, self.t_first(s), self.t_last(s))


@dataclass
class _Vehicle:
    vid: str
    priority: Priority
    motion: _Motion
    goal: str | None = None
    accepted: bool = False  # handoff accepted for the zero line ahead
    refused: bool = False  # handoff refused: never across the zero line on this mission
    broken: bool = False
    hold_reason: str | None = None
    blocked_by: set[str] = field(default_factory=set)
    walk_base: int = 0  # index of the route's first node in the trace walk


@dataclass
class _Trace:
    """Everything a vehicle was planned to do, stitched into one walk (for audits)."""

    nodes: list[str]
    node_s: list[float]
    profile: list[tuple[float, float]]


@dataclass
class _Constraint:
    other: str
    kind: str  # lane | junction
    delta: float  # other's route distance = own route distance + delta
    a: float  # own route range shared with the other (junction: node's distance)
    b: float
    after: bool
    forced: bool
    o_pos: float = 0.0  # where the other's front is now, in our route's distance
    piece: float = 0.0  # which of our lane pieces (its start distance)


def _undominated(cons: list[_Constraint]) -> list[_Constraint]:
    """Drop lane constraints implied by a nearer vehicle on the same stretch.

    On one lane nobody overtakes, so of the vehicles ahead of us now whose shared stretch
    is covered by a nearer one's, the nearer one passes every point later (it respects
    them), and its bounds imply theirs; likewise behind us. Keeps K near the handful of
    immediate neighbours instead of everyone on a long lane.
    """
    keep: list[_Constraint] = [c for c in cons if c.kind != "lane" or not c.forced]
    groups: dict[tuple[float, bool], list[_Constraint]] = defaultdict(list)
    for c in cons:
        if c.kind == "lane" and c.forced:
            groups[(c.piece, c.after)].append(c)
    for (_, after), group in groups.items():
        group.sort(key=lambda c: c.o_pos if after else -c.o_pos)  # nearest first
        kept: list[_Constraint] = []
        for c in group:
            if not any(k.a <= c.a + EPS and k.b >= c.b - EPS for k in kept):
                kept.append(c)
        keep.extend(kept)
    return keep


class TrafficPlanner:
    """The reservation table of one corridor and the operations that change it.

    Every public operation either succeeds and leaves a conflict-free table or
    raises PlanError and changes nothing.
    """

    def __init__(self, g: nx.DiGraph, config: PlannerConfig | None = None) -> None:
        self.g = g
        self.cfg = config or PlannerConfig()
        self.now = 0.0
        self.closed: set[str] = set()
        self._v: dict[str, _Vehicle] = {}
        self._trace: dict[str, _Trace] = {}
        self._lane_users: dict[str, set[str]] = defaultdict(set)
        self._node_users: dict[str, set[str]] = defaultdict(set)
        self._stops = {n: d["stop_reason"] for n, d in g.nodes(data=True) if d.get("stop_reason")}
        self.must_stop = frozenset(self._stops)
        self.lanes = frozenset(d["lane_id"] for _, _, d in g.edges(data=True))

    # ----------------------------------------------------------------- queries

    def vehicles(self) -> list[str]:
        return sorted(self._v)

    def route(self, vid: str) -> TimedRoute:
        return self._get(vid).motion.route

    def routes(self) -> list[TimedRoute]:
        return [v.motion.route for _, v in sorted(self._v.items())]

    def status(self, vid: str) -> PlanStatus:
        v = self._get(vid)
        m = v.motion
        at_end = m.s_end >= m.node_s[-1] - 0.5
        moving = m.ts[-1] > self.now + EPS
        state = (
            "broken" if v.broken else "holding" if v.hold_reason else "moving" if moving else "idle"
        )
        eta = float(m.ts[-1]) if at_end and v.goal == m.route.nodes[-1] else None
        return PlanStatus(vid, state, v.goal, v.hold_reason, eta)

    def position(self, vid: str, t: float | None = None) -> tuple[str, str, float]:
        """(from node, to node, metres along that edge) of the vehicle's front at time t."""
        m = self._get(vid).motion
        s = m.s_at(self.now if t is None else t)
        i = max(0, min(len(m.node_s) - 2, int(np.searchsorted(m.node_s, s, side="right")) - 1))
        return m.route.nodes[i], m.route.nodes[i + 1], s - m.node_s[i]

    def trace(self, vid: str) -> TimedRoute:
        """The vehicle's planned motion since it was added, as one timed walk."""
        tr = self._trace[self._get(vid).vid]
        prof = list(tr.profile)
        if len(prof) < 2:  # never moved: it stands where it was added
            prof.append((prof[0][0] + 1.0, prof[0][1]))
        return TimedRoute(vid, tuple(tr.nodes), tuple(prof))

    # -------------------------------------------------------------- operations

    def add_vehicle(
        self,
        vid: str,
        nodes: Iterable[str],
        s: float,
        now: float,
        priority: Priority = Priority.STANDARD,
    ) -> None:
        """Register a vehicle standing with its front ``s`` metres along ``nodes``.

        ``nodes`` should reach back at least one vehicle spacing behind the
        front so that the others see its body.
        """
        self._advance(now)
        path = tuple(nodes)
        if vid in self._v:
            raise PlanError(f"vehicle {vid!r} is already on the corridor")
        self._check_path(path)
        length = sum(self.g.edges[u, w]["length_m"] for u, w in itertools.pairwise(path))
        if not 0.0 <= s <= length + 0.5:
            raise PlanError(f"{vid}: position {s:.1f} m is not on its {length:.1f} m path")
        s = min(s, length)
        route = TimedRoute(vid, path, ((now, s), (now + 1.0, s)))
        m = _Motion(self.g, route)
        for o in self._v.values():
            if self._too_close(m, o.motion, now):
                raise PlanError(f"{vid}: position is within one vehicle spacing of {o.vid}")
        v = _Vehicle(vid, priority, m)
        self._v[vid] = v
        ns = [0.0]
        for u, w in itertools.pairwise(path):
            ns.append(ns[-1] + self.g.edges[u, w]["length_m"])
        self._trace[vid] = _Trace(list(path), ns, [(now, s)])
        self._index(v)

    def request(
        self, vid: str, goal: str, now: float, priority: Priority | None = None
    ) -> TimedRoute:
        """Send one vehicle to ``goal``: an incremental insertion into the table.

        Emergency and override requests re-plan the corridor in priority order
        instead, so they go ahead of every vehicle that has not committed yet.
        """
        v = self._get(vid)
        if v.broken:
            raise PlanError(f"{vid} is broken down; repair it before sending it anywhere")
        prev = self.now
        self._advance(now)
        try:
            self._route_nodes(v, goal)  # validates before anything changes
        except PlanError:
            self.now = prev
            raise
        if priority is not None:
            v.priority = priority
        v.goal = goal
        v.accepted = v.refused = False
        if v.priority <= Priority.OVERRIDE:
            self.replan_all(now)
        else:
            self._plan_and_cascade([vid])
        return v.motion.route

    def request_many(self, goals: Mapping[str, str], now: float) -> None:
        """Several goals at once, planned in priority order (a batch's full plan)."""
        prev = self.now
        self._advance(now)
        try:
            for vid, goal in goals.items():
                self._route_nodes(self._get(vid), goal)
        except PlanError:
            self.now = prev
            raise
        for vid, goal in goals.items():
            self._v[vid].goal = goal
            self._v[vid].accepted = False
        self._plan_and_cascade(self._batch_order(list(goals)))

    def accept_handoff(self, vid: str, now: float) -> TimedRoute:
        """The other side accepted: the vehicle may cross the zero line ahead."""
        v = self._get(vid)
        self._advance(now)
        v.accepted = True
        if v.goal:
            self._plan_and_cascade([vid])
        return v.motion.route

    def refuse_handoff(self, vid: str, now: float, return_goal: str | None = None) -> TimedRoute:
        """The other side refused: the vehicle must not cross. Without ``return_goal`` it
        holds at the stop line; with one, it goes there without crossing the zero line (a
        turnaround must exist in the map, else PlanError and nothing changes)."""
        v = self._get(vid)
        if return_goal is not None:
            if return_goal not in self.g:
                raise PlanError(f"unknown goal node {return_goal!r}")
            self._path(vid, self._head(v), return_goal, avoid_crossing=True)  # validates
        self._advance(now)
        v.accepted, v.refused = False, True
        if return_goal is not None:
            v.goal = return_goal
        if v.goal:
            self._plan_and_cascade([vid])
        return v.motion.route

    def close_lane(self, lane: str, now: float) -> None:
        """No vehicle enters ``lane`` any more; those on it leave; the rest re-route or hold."""
        self._advance(now)
        if lane not in self.lanes:
            raise PlanError(f"unknown lane {lane!r}")
        self.closed.add(lane)
        self.replan_all(now)

    def reopen_lane(self, lane: str, now: float) -> None:
        self._advance(now)
        if lane not in self.closed:
            raise PlanError(f"lane {lane!r} is not closed")
        self.closed.discard(lane)
        self.replan_all(now)

    def breakdown(self, vid: str, now: float) -> None:
        """The vehicle stopped where it is and will not move until repaired."""
        v = self._get(vid)
        self._advance(now)
        v.broken = True
        self.replan_all(now)

    def repaired(self, vid: str, now: float) -> None:
        v = self._get(vid)
        self._advance(now)
        if not v.broken:
            raise PlanError(f"{vid} is not broken down")
        v.broken = False
        self.replan_all(now)

    def delayed(self, vid: str, s: float, now: float) -> None:
        """The vehicle reports it is at ``s`` on its route, behind its plan: re-plan from there."""
        v = self._get(vid)
        self._advance(now)
        planned = v.motion.s_at(now)
        if not v.motion.s0 - EPS <= s <= planned + EPS:
            raise PlanError(
                f"{vid}: reported {s:.1f} m, expected between {v.motion.s0:.1f} and {planned:.1f}"
            )
        self.replan_all(now, positions={vid: s})

    def remove_vehicle(self, vid: str, now: float) -> None:
        """Take a vehicle off the corridor (it left the guided area)."""
        v = self._get(vid)
        self._advance(now)
        self._unindex(v)
        del self._v[vid]
        waiting = [w.vid for w in self._v.values() if vid in w.blocked_by]
        self._plan_and_cascade(self._order(waiting))

    def replan_all(self, now: float, positions: Mapping[str, float] | None = None) -> None:
        """Re-plan every vehicle from where it is now, in priority order.

        Used after disruptions. Everyone is first frozen where it is (a static,
        conflict-free table), then inserted one by one, then passes retry the
        vehicles left holding behind someone who has since moved.
        """
        self._advance(now)
        positions = positions or {}
        for v in self._v.values():
            s = positions.get(v.vid, v.motion.s_at(now))
            past = self._recent_past(v, 0.0) if v.vid not in positions else ()
            standing = self._standing(v, s, now)
            self._set_route(v, TimedRoute(v.vid, standing.nodes, past + standing.profile))
        todo = self._batch_order([v.vid for v in self._v.values() if v.goal and not v.broken])
        self._plan_and_cascade(todo)
        for _ in range(self.cfg.max_passes):
            again = [vid for vid in todo if self._v[vid].hold_reason]
            if not again or not self._plan_and_cascade(again):
                break

    # ----------------------------------------------------------------- helpers

    def _get(self, vid: str) -> _Vehicle:
        try:
            return self._v[vid]
        except KeyError:
            raise PlanError(f"unknown vehicle {vid!r}") from None

    def _advance(self, now: float) -> None:
        if not math.isfinite(now) or now < 0:
            raise PlanError(f"time must be a non-negative number of seconds, got {now}")
        if now < self.now - EPS:
            raise PlanError(f"time went backwards: {now} s after {self.now} s")
        self.now = max(self.now, now)

    def _check_path(self, path: tuple[str, ...]) -> None:
        if len(path) < 2:
            raise PlanError("a position needs a path of at least two nodes")
        for n in path:
            if n not in self.g:
                raise PlanError(f"unknown node {n!r}")
        for u, w in itertools.pairwise(path):
            if not self.g.has_edge(u, w):
                raise PlanError(f"{u} -> {w} is not a lane of the guide graph")

    def _order(self, vids: list[str]) -> list[str]:
        """Priority first; then the vehicle furthest along its lane (leaders before followers)."""

        def key(vid: str) -> tuple[int, float, str]:
            m = self._v[vid].motion
            s = m.s_at(self.now)
            x = next((x0 + s - s0 for _, x0, x1, s0 in m.pieces if x0 <= x0 + s - s0 <= x1), s)
            return (int(self._v[vid].priority), -x, vid)

        return sorted(vids, key=key)

    def _route_nodes(self, v: _Vehicle, goal: str) -> tuple[list[str], int, float]:
        """New route nodes (tail + path), index of the front edge's head, front distance."""
        if goal not in self.g:
            raise PlanError(f"unknown goal node {goal!r} (guide vehicles use reserved lanes only)")
        m = v.motion
        s = m.s_at(self.now)
        ns = m.node_s
        k = self._head_index(v)
        j = k
        spacing = self.cfg.rules.min_spacing_m + self.cfg.margin_m
        while j > 0 and s - ns[j] < spacing:
            j -= 1
        head = m.route.nodes[k]
        if head == goal:
            path: list[str] = [goal]
        else:
            try:
                path = self._path(v.vid, head, goal, avoid_crossing=v.refused)
            except PlanError:
                if not v.refused:
                    raise
                path = self._path(v.vid, head, goal)  # only across: it holds at the line
        nodes = list(m.route.nodes[j : k + 1]) + path[1:]
        if len(nodes) < 2:
            nodes = list(m.route.nodes[max(0, k - 1) : k + 1])
            j = max(0, k - 1)
        return nodes, j, s - ns[j]

    def _head_index(self, v: _Vehicle) -> int:
        """Index of the first route node at or ahead of the vehicle's front now."""
        m = v.motion
        k = int(np.searchsorted(m.node_s, m.s_at(self.now) - EPS, side="left"))
        return min(k, len(m.node_s) - 1)

    def _head(self, v: _Vehicle) -> str:
        return v.motion.route.nodes[self._head_index(v)]

    def _batch_order(self, vids: list[str]) -> list[str]:
        """Leaders first: a vehicle standing on another's way ahead is planned before it.

        Kahn's algorithm on "stands on the way of" (O(V * path length)); ties and cycles
        (the corridor is a ring) go by priority, then position along the lane.
        """
        rank = {vid: i for i, vid in enumerate(self._order(vids))}
        where = {vid: self.position(vid) for vid in vids}
        before: dict[str, set[str]] = {vid: set() for vid in vids}
        for vid in vids:
            v = self._v[vid]
            if not v.goal:
                continue
            nodes, _, s_start = self._route_nodes(v, v.goal)
            me = _Motion(self.g, TimedRoute(vid, tuple(nodes), ((0.0, s_start), (1.0, s_start))))
            ahead = {
                (u, w): me.node_s[i]
                for i, (u, w) in enumerate(itertools.pairwise(nodes))
                if me.node_s[i + 1] > s_start + EPS
            }
            for oid in vids:
                u, w, off = where[oid]
                if oid != vid and (u, w) in ahead and ahead[(u, w)] + off > s_start + EPS:
                    before[vid].add(oid)
        out: list[str] = []
        left = set(vids)
        while left:
            ready = [x for x in left if not (before[x] & left)] or list(left)
            nxt = min(ready, key=rank.__getitem__)
            out.append(nxt)
            left.discard(nxt)
        return out

    def _path(self, vid: str, head: str, goal: str, avoid_crossing: bool = False) -> list[str]:
        """Fastest path; closed lanes only where no open way exists (it then holds there);
        never across the zero line when ``avoid_crossing``. Dijkstra, O((V + E) log V).
        """
        closed = self.closed

        def cost(_u: str, _w: str, d: dict[str, object]) -> float | None:
            if avoid_crossing and d.get("zero_crossing") is not None:
                return None  # networkx: a hidden edge
            t = float(d["travel_time_s"])  # type: ignore[arg-type]
            return t + CLOSED_PENALTY_S if d["lane_id"] in closed else t

        try:
            return list(nx.dijkstra_path(self.g, head, goal, weight=cost))
        except nx.NetworkXNoPath:
            raise PlanError(f"{vid}: goal {goal!r} is unreachable from {head!r}") from None

    def _standing(self, v: _Vehicle, s: float, now: float) -> TimedRoute:
        m = v.motion
        nodes = m.route.nodes
        k = min(int(np.searchsorted(m.node_s, s - EPS, side="left")), len(nodes) - 1)
        k = max(k, 1)
        return TimedRoute(v.vid, nodes[: k + 1], ((now, s), (now + 1.0, s)))

    def _set_route(self, v: _Vehicle, r: TimedRoute, base_shift: int = 0) -> None:
        """Replace a vehicle's route (``base_shift``: index of its first node in the old one)."""
        self._unindex(v)
        old = v.motion
        v.motion = _Motion(self.g, r)
        self._index(v)
        # Stitch the trace: cut it at now, continue along the new route.
        tr = self._trace[v.vid]
        now = self.now
        ts = [p[0] for p in tr.profile]
        s_now = float(np.interp(now, ts, [p[1] for p in tr.profile]))
        tr.profile = [p for p in tr.profile if p[0] < now - EPS] + [(now, s_now)]
        base = v.walk_base + base_shift
        common = 0
        for a, b in zip(old.route.nodes[base_shift:], r.nodes, strict=False):
            if a != b:
                break
            common += 1
        tr.nodes = tr.nodes[: base + common] + list(r.nodes[common:])
        tr.node_s = tr.node_s[: base + common]
        for i in range(len(tr.node_s), len(tr.nodes)):
            e = self.g.edges[tr.nodes[i - 1], tr.nodes[i]]
            tr.node_s.append(tr.node_s[-1] + e["length_m"])
        offset = tr.node_s[base]
        ahead = [(t, s + offset) for t, s in r.profile if t > now + EPS]
        s_new = float(np.interp(now, [p[0] for p in r.profile], [p[1] for p in r.profile]))
        if abs(s_new + offset - s_now) > 1e-3:  # a reported delay: it is not where planned
            tr.profile[-1] = (now, s_new + offset)
        tr.profile.extend(ahead)
        v.walk_base = base

    def _index(self, v: _Vehicle) -> None:
        for lane, *_ in v.motion.pieces:
            self._lane_users[lane].add(v.vid)
        for n, *_ in v.motion.junctions:
            self._node_users[n].add(v.vid)

    def _unindex(self, v: _Vehicle) -> None:
        for lane, *_ in v.motion.pieces:
            self._lane_users[lane].discard(v.vid)
        for n, *_ in v.motion.junctions:
            self._node_users[n].discard(v.vid)

    def _too_close(self, a: _Motion, b: _Motion, now: float) -> bool:
        d = self.cfg.rules.min_spacing_m
        for la, ax0, ax1, as0 in a.pieces:
            for lb, bx0, bx1, bs0 in b.pieces:
                if la != lb or min(ax1, bx1) < max(ax0, bx0) - d:
                    continue
                xa = ax0 + a.s_at(now) - as0
                xb = bx0 + b.s_at(now) - bs0
                if abs(xa - xb) < d and (ax0 <= xa <= ax1 or bx0 <= xb <= bx1):
                    return True
        return False

    # --------------------------------------------------------- the planning step

    def _plan_and_cascade(self, vids: list[str]) -> bool:
        """Plan these vehicles in order, then, round by round, everyone who was holding
        behind a plan that changed (each at most once per round)."""
        changed_any = False
        todo = list(vids)
        for _ in range(self.cfg.max_passes + 1):
            changed: set[str] = set()
            for vid in todo:
                v = self._v.get(vid)
                if v is None or v.broken or not v.goal:
                    continue
                before = v.motion.route
                self._plan_one(v)
                if _differs(v.motion.route, before):
                    changed.add(vid)
            if not changed:
                break
            changed_any = True
            todo = self._order(
                [w.vid for w in self._v.values() if w.blocked_by & changed and w.goal]
            )
            if not todo:
                break
        return changed_any

    def _plan_one(self, v: _Vehicle) -> None:
        assert v.goal is not None
        now = self.now
        nodes, base_shift, s_start = self._route_nodes(v, v.goal)
        r0 = TimedRoute(v.vid, tuple(nodes), ((now, s_start), (now + 1.0, s_start)))
        me = _Motion(self.g, r0)
        result = self._earliest(v, me, s_start)
        if result is None:  # no safe plan from here yet: keep the current (safe) one
            if v.motion.route.nodes[-1] != v.goal:
                v.hold_reason = v.hold_reason or "no safe plan yet"
            return
        profile, hold, blockers = result
        v.hold_reason = hold
        v.blocked_by = blockers
        past = self._recent_past(v, v.motion.node_s[base_shift])
        self._set_route(v, TimedRoute(v.vid, tuple(nodes), past + profile), base_shift)

    def _recent_past(self, v: _Vehicle, offset: float) -> tuple[tuple[float, float], ...]:
        """The last PAST_S seconds of the current profile, shifted by ``offset`` metres.

        Kept at the head of a new route so that followers still see when this vehicle
        passed the points just behind it (their headway), instead of "just now".
        """
        m, now = v.motion, self.now
        t_from = max(float(m.ts[0]), now - PAST_S)
        if t_from >= now - EPS:
            return ()
        pts = [(t_from, m.s_at(t_from))] + [
            (float(t), float(s)) for t, s in zip(m.ts, m.ss, strict=True) if t_from < t < now - EPS
        ]
        return tuple((t, s - offset) for t, s in pts if s - offset >= -EPS)

    def _stations(
        self, v: _Vehicle, me: _Motion, s_start: float
    ) -> tuple[list[float], dict[float, float], str | None]:
        """Route nodes ahead, dwell per stop line, and why the plan stops short (if it does)."""
        cfg = self.cfg
        nodes, ns = me.route.nodes, me.node_s
        pos = [s_start]
        dwell: dict[float, float] = {}
        for i in range(len(nodes) - 1):  # standing at the zero line: still not across
            if (
                abs(ns[i] - s_start) <= 1e-3
                and self._stops.get(nodes[i]) == "zero_line"
                and self.g.edges[nodes[i], nodes[i + 1]].get("zero_crossing") is not None
            ):
                if v.refused:
                    return pos, dwell, "handoff refused"
                if not v.accepted and cfg.handoff_dwell_s is None:
                    return pos, dwell, "handoff"
        for i in range(1, len(nodes)):
            if ns[i] <= s_start + EPS:
                continue
            lane = self.g.edges[nodes[i - 1], nodes[i]]["lane_id"]
            if lane in self.closed and ns[i - 1] >= s_start - EPS:
                if pos[-1] < ns[i - 1] - EPS:
                    pos.append(ns[i - 1])
                return pos, dwell, f"lane {lane} closed"
            pos.append(ns[i])
            reason = self._stops.get(nodes[i])
            if reason is None or i == len(nodes) - 1:
                continue
            crossing = self.g.edges[nodes[i], nodes[i + 1]].get("zero_crossing") is not None
            if reason != "zero_line":
                dwell[ns[i]] = max(cfg.checkpoint_dwell_s, cfg.min_stop_s)
            elif v.refused and crossing:
                return pos, dwell, "handoff refused"
            elif v.accepted or not crossing:
                dwell[ns[i]] = cfg.min_stop_s
            elif cfg.handoff_dwell_s is None:
                return pos, dwell, "handoff"
            else:
                dwell[ns[i]] = max(cfg.handoff_dwell_s, cfg.min_stop_s)
        return pos, dwell, None

    def _earliest(
        self, v: _Vehicle, me: _Motion, s_start: float
    ) -> tuple[tuple[tuple[float, float], ...], str | None, set[str]] | None:
        """Earliest safe profile from s_start, why it stops short, who blocks; None: none safe."""
        cfg, rules, now = self.cfg, self.cfg.rules, self.now
        spacing = rules.min_spacing_m + cfg.margin_m
        headway = rules.min_headway_s + cfg.margin_s
        length = rules.vehicle_length_m + cfg.margin_m
        stations, dwell_at, hold = self._stations(v, me, s_start)
        s_stop = stations[-1]
        cons = self._constraints(v, me, s_start, s_stop)
        # Free-flow arrival bounds every arrival from below: an "after" constraint whose
        # other vehicle is gone before we could possibly arrive can never bind.
        st = np.array(stations)
        seg_t = np.diff(st) / self._speed_at(me, (st[:-1] + st[1:]) / 2)
        ff = now + np.concatenate(([0.0], np.cumsum(seg_t)))
        cons = [c for c in cons if c.forced or not self._gone_before(c, st, ff, spacing)]
        cons = _undominated(cons)
        # Samples: route nodes + every constraint's breakpoints (+ one length past junctions).
        parts: list[Floats] = [np.array(stations)]
        for c in cons:
            o = self._v[c.other].motion
            if c.kind == "lane":
                lo, hi = c.a - spacing, c.b + spacing
                for shift in (0.0, spacing, -spacing):
                    xs = o.ss - c.delta - shift
                    parts.append(xs[(xs >= lo) & (xs <= hi)])
                parts.append(np.array([c.a - spacing, c.a, c.b, c.b + spacing]))
            else:
                parts.append(np.array([c.a, c.a + length]))
        pos = np.unique(np.concatenate(parts))
        pos = pos[(pos > s_start + EPS) & (pos <= s_stop + EPS)]
        # Merge samples closer than EPS, keep s_start first, double each dwell position.
        pos = np.concatenate(([s_start], pos))
        pos = pos[np.concatenate(([True], np.diff(pos) > 1e-6))]
        keys = [round(float(p), 6) for p in pos]
        dwells = {round(s, 6): d for s, d in dwell_at.items()}
        pos = np.array(
            [p for p, k in zip(pos, keys, strict=True) for _ in range(2 if k in dwells else 1)]
        )
        seg = np.diff(pos)
        speed = self._speed_at(me, (pos[:-1] + pos[1:]) / 2)
        step = np.where(seg > EPS, seg / speed, 0.0)
        for j in np.nonzero(seg <= EPS)[0]:
            step[j] = dwells.get(round(float(pos[j]), 6), 0.0)
        clock = np.concatenate(([0.0], np.cumsum(step)))
        t_ff = now + clock
        for c in cons:  # the free ones start in free-flow arrival order
            if not c.forced and not cfg.fill_gaps:
                c.after = True
            elif not c.forced:
                o = self._v[c.other].motion
                c.after = bool(o.t_first(np.array([c.a + c.delta]))[0] <= np.interp(c.a, pos, t_ff))
        lows: dict[int, Floats] = {}
        ups: dict[int, tuple[Floats, Floats]] = {}
        while True:  # each pass flips at least one "before" to "after", or ends
            low = np.full(pos.shape, -INF)
            for i, c in enumerate(cons):
                if c.after:
                    if i not in lows:
                        lows[i] = self._lower(c, pos, spacing, headway, length)
                    low = np.maximum(low, lows[i])
            low[0] = now  # it is already at its start: nothing arrives there
            with np.errstate(invalid="ignore"):
                t = clock + np.maximum.accumulate(low - clock)
            t = np.where(np.isnan(t), INF, t)
            finite = np.isfinite(t)
            last: int = int(np.argmin(finite)) - 1 if not finite.all() else len(t) - 1
            t_last = t.copy()
            if last >= 0:
                t_last[last] = INF  # it stands there for good
            flipped = False
            for i, c in enumerate(cons):
                if c.after:
                    continue
                if i not in ups:
                    ups[i] = self._upper(c, pos, spacing, headway, length)
                u_arr, u_dep = ups[i]
                if np.any(t[1:] > u_arr[1:] + EPS) or np.any(t_last > u_dep + EPS):
                    if c.forced:
                        return None  # it cannot stay ahead of one that is behind it now
                    c.after = flipped = True
            if not flipped:
                break
        if last < 0:
            return None
        blockers: set[str] = set()
        if last < len(t) - 1:
            at = pos[last + 1 : last + 2]
            stuck = [
                c
                for c in cons
                if c.after and not np.isfinite(self._lower(c, at, spacing, headway, length)[0])
            ]
            if stuck:  # the nearest one binds; the others only matter once it has moved

                def where(c: _Constraint) -> float:
                    return self._v[c.other].motion.s_end - c.delta

                blockers.add(min(stuck, key=where).other)
            hold = "vehicle " + ", ".join(sorted(blockers)) if blockers else "blocked"
        elif hold is not None:
            blockers.add(hold)
        prof: list[tuple[float, float]] = [] if t[0] <= now + EPS else [(now, float(pos[0]))]
        for i in range(last + 1):
            p = (float(t[i]), float(pos[i]))
            if prof and p[0] <= prof[-1][0] + EPS:
                if abs(p[1] - prof[-1][1]) < EPS:
                    continue
                p = (prof[-1][0] + 1e-4, p[1])
            prof.append(p)
        prof = _compress(prof)
        if len(prof) < 2:
            prof.append((prof[0][0] + 1.0, prof[0][1]))
        return tuple(prof), hold, blockers

    def _speed_at(self, me: _Motion, s: Floats) -> Floats:
        ns = np.array(me.node_s)
        idx = np.clip(np.searchsorted(ns, s, side="right") - 1, 0, len(ns) - 2)
        limits = np.array(
            [self.g.edges[u, w]["speed_mps"] for u, w in itertools.pairwise(me.route.nodes)]
        )
        return np.asarray(limits[idx], dtype=float)

    def _constraints(
        self, v: _Vehicle, me: _Motion, s_start: float, s_stop: float
    ) -> list[_Constraint]:
        rules, now = self.cfg.rules, self.now
        spacing = rules.min_spacing_m + self.cfg.margin_m
        length = rules.vehicle_length_m + self.cfg.margin_m
        out: list[_Constraint] = []
        for lane, fx0, fx1, fs0 in me.pieces:
            for oid in self._lane_users.get(lane, ()):
                if oid == v.vid:
                    continue
                o = self._v[oid].motion
                for olane, ox0, ox1, os0 in o.pieces:
                    if olane != lane:
                        continue
                    # Stretches less than a spacing apart interact too (one may stand just
                    # short of where the other's stretch of the lane begins).
                    ext_o = spacing if (olane, ox0, ox1, os0) == o.pieces[-1] else length
                    ext_f = spacing if (lane, fx0, fx1, fs0) == me.pieces[-1] else length
                    lo, hi = max(fx0, ox0), min(fx1 + ext_f, ox1 + ext_o)
                    if hi <= lo + EPS:
                        continue
                    a = fs0 + lo - fx0
                    b = max(a, fs0 + min(hi, fx1) - fx0)
                    if b + spacing < s_start or a - spacing > s_stop:
                        continue
                    delta = (os0 - ox0) - (fs0 - fx0)
                    # Gone before we could get there: no constraint at all.
                    done = o.t_last(np.array([b + delta + spacing]))[0]
                    if done < now - EPS:
                        continue
                    o_now = o.s_at(now) - delta  # the other's front, in our coordinates
                    if o_now >= a - EPS:  # it is on the stretch: whoever is ahead stays ahead
                        forced, after = True, o_now > s_start
                    elif s_start >= a - spacing - EPS:  # we are (almost) on it: we go first
                        forced, after = True, False
                    else:
                        forced, after = False, False
                    out.append(_Constraint(oid, "lane", delta, a, b, after, forced, o_now, fs0))
        for n, s_n, frm in me.junctions:
            if s_n + length < s_start or s_n > s_stop:
                continue
            for oid in self._node_users.get(n, ()):
                if oid == v.vid:
                    continue
                o = self._v[oid].motion
                for on, o_sn, ofrm in o.junctions:
                    if on != n or (frm is not None and frm == ofrm):
                        continue
                    if o.t_last(np.array([o_sn + length]))[0] < now - EPS:
                        continue
                    o_now = o.s_at(now)
                    mine, theirs = s_start >= s_n - EPS, o_now >= o_sn - EPS
                    if mine or theirs:
                        after = theirs and (not mine or o_now - o_sn > s_start - s_n)
                        forced = True
                    else:
                        forced, after = False, False
                    out.append(_Constraint(oid, "junction", o_sn - s_n, s_n, s_n, after, forced))
        return out

    def _gone_before(self, c: _Constraint, st: Floats, ff: Floats, spacing: float) -> bool:
        """The other has left the shared stretch (plus headroom) before our free-flow arrival."""
        o = self._v[c.other].motion
        if c.kind == "lane":
            gone = o.t_last(np.array([c.b + c.delta + 2 * spacing]))[0]
            arrive = float(np.interp(c.a - spacing, st, ff))
        else:
            gone = o.t_last(np.array([c.a + c.delta + 2 * spacing]))[0]
            arrive = float(np.interp(c.a, st, ff))
        return bool(gone + 2 * self.cfg.rules.min_headway_s < arrive)

    def _lower(
        self, c: _Constraint, pos: Floats, spacing: float, headway: float, length: float
    ) -> Floats:
        o = self._v[c.other].motion
        out = np.full(pos.shape, -INF)
        if c.kind == "junction":
            at = np.abs(pos - c.a) < EPS
            out[at] = o.t_last(np.array([c.a + c.delta + length]))[0] + headway
            return out
        near = (pos >= c.a - spacing - EPS) & (pos <= c.b + EPS)
        on = (pos >= c.a - EPS) & (pos <= c.b + EPS)
        sig = pos + c.delta
        # Its front must already be a spacing ahead (right limit: past any wait there), and
        # have left our point a headway ago.
        out[near] = o.t_clear(sig[near] + spacing)
        out[on] = np.maximum(out[on], o.t_last(sig[on]) + headway)
        return out

    def _upper(
        self, c: _Constraint, pos: Floats, spacing: float, headway: float, length: float
    ) -> tuple[Floats, Floats]:
        """Latest arrival and latest departure at each sample for staying ahead of the other.

        Arrival is bounded by the other's first time a spacing behind (it must not catch
        up while we approach), departure by its last time there (waiting behind us is fine).
        """
        o = self._v[c.other].motion
        arr = np.full(pos.shape, INF)
        dep = np.full(pos.shape, INF)
        if c.kind == "junction":
            at = np.abs(pos - (c.a + length)) < EPS
            if not at.any():  # the route ends on the junction: it would stand on it
                at = pos >= pos[-1] - EPS
            dep[at] = arr[at] = o.t_first(np.array([c.a + c.delta]))[0] - headway
            return arr, dep
        near = (pos >= c.a - EPS) & (pos <= c.b + spacing + EPS)
        on = (pos >= c.a - EPS) & (pos <= c.b + EPS)
        sig = pos + c.delta
        arr[near] = o.t_first(sig[near] - spacing)
        dep[near] = o.t_last(sig[near] - spacing)
        head = o.t_first(sig[on]) - headway  # it reaches our point a headway after we left
        arr[on] = np.minimum(arr[on], head)
        dep[on] = np.minimum(dep[on], head)
        return arr, dep


def _differs(a: TimedRoute, b: TimedRoute) -> bool:
    """A real change of plan (not float noise): worth re-planning those waiting on it."""
    if a.nodes != b.nodes or len(a.profile) != len(b.profile):
        return True
    return any(
        abs(t1 - t2) > 1e-6 or abs(s1 - s2) > 1e-6
        for (t1, s1), (t2, s2) in zip(a.profile, b.profile, strict=True)
    )


def _compress(prof: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Drop breakpoints where the speed does not change (fewer points, same motion)."""
    if len(prof) < 3:
        return prof
    out = [prof[0]]
    for i in range(1, len(prof) - 1):
        (t0, s0), (t1, s1), (t2, s2) = out[-1], prof[i], prof[i + 1]
        v01 = (s1 - s0) / (t1 - t0)
        v12 = (s2 - s1) / (t2 - t1)
        if abs(v01 - v12) > 1e-9:
            out.append(prof[i])
    out.append(prof[-1])
    return out
