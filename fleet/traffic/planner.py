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

Code: this module orchestrates (vehicles, missions, paths, the order of planning,
re-planning, the audit trace); ``reservations.py`` is the table (every plan, indexed
by lane and junction, and the passing-time queries); ``profile.py`` is the kernel
(steps 2 and 3 for one vehicle).

Speed (docs/traffic.md, "How it is kept fast"): every profile lives in one array
(``_Bank``) so the K constraints are built, filtered and pre-checked in a few numpy
calls (``_Cons``); a cheap lower bound on each "before" constraint's upper bounds
skips most of them; and a holder is re-planned only when its blocker changed after it
was last planned.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import IntEnum

import networkx as nx
import numpy as np

from fleet.traffic.profile import PlannerConfig, ProfileKernel
from fleet.traffic.reservations import EPS, ReservationTable, _Map, _Motion
from fleet.traffic.timed_route import TimedRoute
from maps.lane_graph import EdgeAttrs, edges_with, nodes_with

__all__ = ["PlanError", "PlanStatus", "PlannerConfig", "Priority", "TrafficPlanner"]

PAST_S = 30.0  # how much of its recent past a re-planned route keeps
CLOSED_PENALTY_S = 1e7  # route over a closed lane only when nothing else reaches the goal


class PlanError(ValueError):
    """A request the planner refuses; nothing in the plan table changed."""


class Priority(IntEnum):
    """Who is planned first when several wait for the same lane or gap (lower first)."""

    EMERGENCY = 0
    OVERRIDE = 1  # a controller's manual override
    PERISHABLE = 2  # fruit
    STANDARD = 3


@dataclass(frozen=True)
class PlanStatus:
    vehicle_id: str
    state: str  # idle | moving | holding | broken
    goal: str | None
    hold_reason: str | None  # what the vehicle waits for when holding short of its goal
    eta_s: float | None  # planned arrival at the goal (None while holding)


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
    planned_at: int = 0  # planning step of its last planning attempt
    changed_at: int = 0  # planning step at which its plan last really changed


@dataclass
class _Trace:
    """Everything a vehicle was planned to do, stitched into one walk (for audits)."""

    nodes: list[str]
    node_s: list[float]
    profile: list[tuple[float, float]]


class TrafficPlanner:
    """One corridor's plans and the operations that change them (the plans are kept in a
    ``ReservationTable``; each vehicle's profile comes from the ``ProfileKernel``).

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
        self._table = ReservationTable()  # every vehicle's motion, indexed for queries
        self._step = 0  # planning steps so far (orders "planned" against "changed")
        stops = {n: r for n, d in nodes_with(g) if (r := d.get("stop_reason"))}
        self.must_stop = frozenset(stops)
        self.lanes = frozenset(d["lane_id"] for _, _, d in edges_with(g))
        self._map = _Map(g)
        self._kernel = ProfileKernel(self.cfg, self._map, stops)
        # Fastest paths by (head, goal, avoid crossing, closed lanes): the graph is fixed.
        self._paths: dict[tuple[str, str, bool, frozenset[str]], list[str] | None] = {}

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
        front so that the others see its body. If plans already in the table run
        through where it stands, the corridor is re-planned as after a disruption.
        """
        self._advance(now)
        path = tuple(nodes)
        if vid in self._v:
            raise PlanError(f"vehicle {vid!r} is already on the corridor")
        self._check_path(path)
        length = sum(self._map.edge[u, w]["length_m"] for u, w in itertools.pairwise(path))
        if not 0.0 <= s <= length + 0.5:
            raise PlanError(f"{vid}: position {s:.1f} m is not on its {length:.1f} m path")
        s = min(s, length)
        route = TimedRoute(vid, path, ((now, s), (now + 1.0, s)))
        m = _Motion(self._map, route)
        for o in self._v.values():
            if self._too_close(m, o.motion, now):
                raise PlanError(f"{vid}: position is within one vehicle spacing of {o.vid}")
        v = _Vehicle(vid, priority, m)
        self._v[vid] = v
        ns = [0.0]
        for u, w in itertools.pairwise(path):
            ns.append(ns[-1] + self._map.edge[u, w]["length_m"])
        self._trace[vid] = _Trace(list(path), ns, [(now, s)])
        self._table.add(vid, m)
        # Plans made before it was there may run through where it now stands: re-plan the
        # corridor then (everyone frozen where they are first, so the table stays safe).
        if self._others_run_through(vid, m, now):
            self.replan_all(now)

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
        v.accepted, v.refused = True, False  # a later acceptance overrides a refusal
        if v.goal:
            self._plan_and_cascade([vid])
        return v.motion.route

    def refuse_handoff(self, vid: str, now: float, return_goal: str | None = None) -> TimedRoute:
        """The other side refused: the vehicle must not cross. Without ``return_goal`` it
        holds at the stop line; with one, it goes there without crossing the zero line (a
        turnaround must exist in the map, else PlanError and nothing changes)."""
        v = self._get(vid)
        prev = self.now
        self._advance(now)
        if return_goal is not None:
            try:
                if return_goal not in self.g:
                    raise PlanError(f"unknown goal node {return_goal!r}")
                # From where it is now (not where it was at the previous call).
                self._path(vid, self._head(v), return_goal, avoid_crossing=True)
            except PlanError:
                self.now = prev
                raise
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

    def arrived(self, vid: str, goal: str, now: float) -> bool:
        """The vehicle reached ``goal``: if its plan already has it standing there by
        ``now``, close the mission in place (goal and handoff flags cleared, priority back
        to standard) and return True; nothing else is re-planned, because the table
        already holds what is true. False (nothing changed) when the plan still has it on
        its way: the caller must then place it anew (remove and add). O(log P)."""
        v = self._get(vid)
        self._advance(now)
        m = v.motion
        standing = m.ts_l[-1] <= now + EPS and m.s_at(now) >= m.node_s[-1] - EPS
        if not (standing and v.goal == goal and m.route.nodes[-1] == goal):
            return False
        self._end_mission(v)
        return True

    def place(self, vid: str, nodes: Iterable[str], s: float, now: float) -> None:
        """The vehicle now stands with its front ``s`` metres along ``nodes`` (it reached
        its goal ahead of its plan, or was moved by hand): its mission ends there.

        Checked first; on PlanError (unknown node, off the path, within a spacing of
        another) nothing changes. Unlike remove + add, nobody is planned into its place
        while it is briefly gone (re-adding it there could then fail, and the planner
        would lose it). Those that waited for it are re-planned; if other plans run
        through where it now stands, the whole corridor is."""
        v = self._get(vid)
        prev = self.now
        self._advance(now)
        path = tuple(nodes)
        try:
            self._check_path(path)
            length = sum(self._map.edge[u, w]["length_m"] for u, w in itertools.pairwise(path))
            if not 0.0 <= s <= length + 0.5:
                raise PlanError(f"{vid}: position {s:.1f} m is not on its {length:.1f} m path")
            m = _Motion(self._map, TimedRoute(vid, path, ((now, s), (now + 1.0, s))))
            for o in self._v.values():
                if o.vid != vid and self._too_close(m, o.motion, now):
                    raise PlanError(f"{vid}: position is within one vehicle spacing of {o.vid}")
        except PlanError:
            self.now = prev
            raise
        self._relocate(v, path, s, now)
        self._end_mission(v)
        if self._others_run_through(vid, v.motion, now):
            self.replan_all(now)
        else:
            waiting = [w.vid for w in self._v.values() if vid in w.blocked_by]
            self._plan_and_cascade(self._order(waiting))

    @staticmethod
    def _end_mission(v: _Vehicle) -> None:
        """Forget the vehicle's goal and everything tied to it (handoff, priority, waits)."""
        v.goal, v.hold_reason = None, None
        v.accepted = v.refused = False
        v.priority = Priority.STANDARD
        v.blocked_by.clear()

    def _others_run_through(self, vid: str, m: _Motion, now: float) -> bool:
        """Does another vehicle's plan still ahead of it use a lane or junction that
        ``m`` (standing there) occupies? Plans made before it stood there may."""
        lanes, nodes = set(m.on_lane), set(m.at_node)
        return any(
            o.vid != vid
            and o.motion.s_end > o.motion.s_at(now) + EPS
            and (lanes & o.motion.on_lane.keys() or nodes & o.motion.at_node.keys())
            for o in self._v.values()
        )

    def remove_vehicle(self, vid: str, now: float) -> None:
        """Take a vehicle off the corridor (it left the guided area)."""
        self._get(vid)  # PlanError if unknown
        self._advance(now)
        self._table.remove(vid)
        del self._v[vid]
        waiting = [w.vid for w in self._v.values() if vid in w.blocked_by]
        self._plan_and_cascade(self._order(waiting))

    def replan_all(
        self,
        now: float,
        positions: Mapping[str, float] | None = None,
        paths: Mapping[str, tuple[Sequence[str], float]] | None = None,
    ) -> None:
        """Re-plan every vehicle from where it is now, in priority order.

        Used after disruptions. Everyone is first frozen where it is (a static,
        conflict-free table), then inserted one by one, then passes retry the
        vehicles left holding behind someone who has since moved. ``positions``
        says where vehicles really are along their current routes; ``paths`` (nodes,
        metres along them) where they are on a way the planner did not give them
        (the way they were driving before a plan they could no longer take).
        """
        self._advance(now)
        positions = positions or {}
        for vid, (nodes, s_on) in (paths or {}).items():
            self._relocate(self._get(vid), tuple(nodes), s_on, now)
        for v in self._v.values():
            s = positions.get(v.vid, v.motion.s_at(now))
            past = self._recent_past(v, 0.0) if v.vid not in positions else ()
            standing = self._standing(v, s, now)
            self._set_route(v, TimedRoute(v.vid, standing.nodes, past + standing.profile))
        todo = self._batch_order([v.vid for v in self._v.values() if v.goal and not v.broken])
        self._plan_and_cascade(todo)
        for _ in range(self.cfg.max_passes):
            # Only holds that may have gone stale: re-planning a vehicle against the very
            # table it was planned against gives the same plan again.
            again = [vid for vid in todo if self._may_retry(self._v[vid])]
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
        junctions = self._map.junctions
        # Back a spacing behind the front, and past a junction there: a route that starts
        # on a junction forgets the lane it came in on, and its recent past (kept for
        # headways) would read as standing in the junction, entered from nowhere.
        while j > 0 and (s - ns[j] < spacing or m.route.nodes[j] in junctions):
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
            me = _Motion(self._map, TimedRoute(vid, tuple(nodes), ((0.0, s_start), (1.0, s_start))))
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
        key = (head, goal, avoid_crossing, frozenset(self.closed))
        if key not in self._paths:
            if len(self._paths) > 100_000:  # many closure states over a long day
                self._paths.clear()
            self._paths[key] = self._dijkstra(head, goal, avoid_crossing)
        path = self._paths[key]
        if path is None:
            raise PlanError(f"{vid}: goal {goal!r} is unreachable from {head!r}")
        return list(path)

    def _dijkstra(self, head: str, goal: str, avoid_crossing: bool) -> list[str] | None:
        closed = self.closed

        def cost(_u: str, _w: str, d: EdgeAttrs) -> float | None:
            if avoid_crossing and d["zero_crossing"] is not None:
                return None  # networkx: a hidden edge
            t = float(d["travel_time_s"])
            return t + CLOSED_PENALTY_S if d["lane_id"] in closed else t

        try:
            return list(nx.dijkstra_path(self.g, head, goal, weight=cost))
        except nx.NetworkXNoPath:
            return None

    def _standing(self, v: _Vehicle, s: float, now: float) -> TimedRoute:
        m = v.motion
        nodes = m.route.nodes
        k = min(int(np.searchsorted(m.node_s, s - EPS, side="left")), len(nodes) - 1)
        k = max(k, 1)
        return TimedRoute(v.vid, nodes[: k + 1], ((now, s), (now + 1.0, s)))

    def _set_route(self, v: _Vehicle, r: TimedRoute, base_shift: int = 0) -> None:
        """Replace a vehicle's route (``base_shift``: index of its first node in the old one)."""
        old = v.motion
        v.motion = _Motion(self._map, r)
        self._table.replace(v.vid, v.motion)
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
            e = self._map.edge[tr.nodes[i - 1], tr.nodes[i]]
            tr.node_s.append(tr.node_s[-1] + e["length_m"])
        offset = tr.node_s[base]
        ahead = [(t, s + offset) for t, s in r.profile if t > now + EPS]
        s_new = float(np.interp(now, [p[0] for p in r.profile], [p[1] for p in r.profile]))
        if abs(s_new + offset - s_now) > 1e-3:  # a reported delay: it is not where planned
            tr.profile[-1] = (now, s_new + offset)
        tr.profile.extend(ahead)
        v.walk_base = base

    def _relocate(self, v: _Vehicle, path: tuple[str, ...], s: float, now: float) -> None:
        """Put a vehicle standing ``s`` metres along ``path``; its planned walk (the audit
        trace) starts again there: where it was planned to be before no longer holds."""
        self._check_path(path)
        ns = [0.0]
        for u, w in itertools.pairwise(path):
            ns.append(ns[-1] + self._map.edge[u, w]["length_m"])
        s = max(0.0, min(s, ns[-1]))
        v.motion = _Motion(self._map, TimedRoute(v.vid, path, ((now, s), (now + 1.0, s))))
        self._table.replace(v.vid, v.motion)
        self._trace[v.vid] = _Trace(list(path), ns, [(now, s)])
        v.walk_base = 0

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

    def _stale(self, w: _Vehicle, among: set[str] | None = None) -> bool:
        """A vehicle it holds behind changed its plan after this one was planned."""
        for b in w.blocked_by:
            o = self._v.get(b)
            if o is not None and o.changed_at > w.planned_at and (among is None or b in among):
                return True
        return False

    def _may_retry(self, w: _Vehicle) -> bool:
        """Holding, and a new attempt may find a plan: its blocker moved since, or it has
        no vehicle to wait for (refused or blocked without a culprit)."""
        if not w.hold_reason:
            return False
        return w.hold_reason in ("blocked", "no safe plan yet") or self._stale(w)

    def _plan_and_cascade(self, vids: list[str]) -> bool:
        """Plan these vehicles in order, then, round by round, everyone who was holding
        behind a plan that changed after it was itself planned (each at most once per
        round; one planned after its blocker's change already saw it)."""
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
                self._step += 1
                v.planned_at = self._step
                if _differs(v.motion.route, before):
                    changed.add(vid)
                    v.changed_at = self._step
            if not changed:
                break
            changed_any = True
            todo = self._order(
                [w.vid for w in self._v.values() if w.goal and self._stale(w, changed)]
            )
            if not todo:
                break
        return changed_any

    def _plan_one(self, v: _Vehicle) -> None:
        assert v.goal is not None
        now = self.now
        nodes, base_shift, s_start = self._route_nodes(v, v.goal)
        r0 = TimedRoute(v.vid, tuple(nodes), ((now, s_start), (now + 1.0, s_start)))
        me = _Motion(self._map, r0)
        result = self._kernel.earliest(
            self._table,
            now,
            v.vid,
            me,
            s_start,
            closed=self.closed,
            refused=v.refused,
            accepted=v.accepted,
        )
        if result is None:  # no safe plan from here yet: keep the current (safe) one
            if v.motion.route.nodes[-1] != v.goal:
                # Not the reason the old plan gave (a handoff far ahead, say): that one no
                # longer holds it; saying so lets fleet control treat the hold as soft.
                v.hold_reason = "no safe plan yet"
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


def _differs(a: TimedRoute, b: TimedRoute) -> bool:
    """A real change of plan (not float noise): worth re-planning those waiting on it."""
    if a.nodes != b.nodes or len(a.profile) != len(b.profile):
        return True
    return any(
        abs(t1 - t2) > 1e-6 or abs(s1 - s2) > 1e-6
        for (t1, s1), (t2, s2) in zip(a.profile, b.profile, strict=True)
    )
