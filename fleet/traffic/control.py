"""Fleet control: the traffic planner's timed routes executed through reservations.

The planner (:mod:`fleet.traffic.planner`) promises a conflict-free timed route
per vehicle; the core (:mod:`fleet.core`) turns routes into sequenced commands
and tracks what vehicles report. Real vehicles do not follow a plan to the
second (they accelerate slowly, stop, lose the link), so plans alone cannot
keep them apart. This module executes plans the way robust MAPF execution does
(an action-dependency view, Hönig et al. 2019), with two rules checked on every
tick against what vehicles *actually* did:

1. **Space**: a vehicle drives only within its reservation, a stretch of its
   route from its body to a reservation end. Reservations of different
   vehicles never come within the minimum gap of each other on a lane, and
   only one vehicle at a time holds the area around a junction. A reservation
   is only ever extended (never pulled back under a moving vehicle), and it is
   kept blocked while a vehicle is offline: it may be anywhere inside it.
2. **Order**: at every junction, vehicles reserve across it in the order
   their plans pass it. A vehicle planned second waits for the first even if
   it arrives early, so execution keeps the plan's (deadlock-free) order.

The reservation end follows the plan a few seconds ahead (``lookahead_s``), so
vehicles keep the plan's pace but never get ahead of it by more than that; a
vehicle that falls behind its plan by more than ``lag_m`` is re-planned from
where it really is. Everything is pure: the caller passes time in and sends the
returned commands out.
"""

from __future__ import annotations

import bisect
import contextlib
import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import networkx as nx

from fleet.core import (
    Command,
    CommandAck,
    Event,
    FleetCore,
    FleetError,
    MissionCompleted,
    RouteCommand,
    VehicleWentOffline,
)
from fleet.routing import Route, RouteLeg, RoutingError, route_along
from fleet.traffic.planner import PlanError, PlannerConfig, PlanStatus, Priority, TrafficPlanner
from fleet.traffic.timed_route import TimedRoute
from fleet.vehicles import Mission, MissionStatus, Vehicle, VehicleReport, VehicleStatus
from maps.lane_graph import EdgeAttrs, edge_attrs
from maps.queries import junctions

LOOKAHEAD_S = 8.0  # how far ahead of the plan's "now" a reservation reaches
MIN_STEP_M = 6.0  # smaller extensions wait for a later tick (fewer, smaller commands)
LAG_M = 30.0  # behind the plan by more than this: re-plan from the real position
RESYNC_EVERY_S = 5.0  # at most one lag re-plan per corridor this often
RETRY_S = 10.0  # a vehicle the planner could not place yet is tried again this often
JUNCTION_CLEAR_M = 2.0  # the least junction area on each lane that meets at a junction
STUCK_S = 20.0  # standing this long at a reservation end that only a plan keeps: go on
# Plan holds that are predictions about other vehicles, not rules (handoff, closed lane):
SOFT_HOLDS = ("vehicle", "no safe plan yet")
SIDE_CLEAR_M = 3.5  # centre lines this far apart: two vehicles side by side do not touch


@dataclass
class _Track:
    """What the controller knows about one vehicle's plan and its execution."""

    corridor: str
    plan: TimedRoute | None = None  # the planner route the core's mission follows
    offset_m: float = 0.0  # core route distance = planner route distance + offset
    broken: bool = False  # the planner plans around it (offline, or held at a fault)
    fault: bool = False  # held by :meth:`FleetControl.breakdown`: only ``repaired`` ends it
    mission_id: str | None = None  # the core mission this controller steers (others: manual)
    standing_since: float | None = None  # at its reservation end, not moving, since


class FleetControl:
    """Planner per corridor + the fleet core, executing plans through reservations."""

    def __init__(
        self,
        graphs: Mapping[str, nx.DiGraph],
        *,
        planner_config: PlannerConfig | None = None,
        stale_after_s: float = 2.0,
        first_seq: int = 1,
        lookahead_s: float = LOOKAHEAD_S,
    ) -> None:
        self.graphs = dict(graphs)
        self.core = FleetCore(self.graphs, stale_after_s=stale_after_s, first_seq=first_seq)
        self.cfg = planner_config or PlannerConfig()
        self.planners = {c: TrafficPlanner(g, self.cfg) for c, g in self.graphs.items()}
        self.lookahead_s = lookahead_s
        self._t: dict[str, _Track] = {}
        self.now = 0.0  # the latest time any call was made at; time never goes back
        self._last_resync: dict[str, float] = {}
        self._last_retry: dict[str, float] = {}
        self._order_cache: dict[str, tuple[tuple[int, ...], dict[str, list[str]]]] = {}
        self._held_cache: dict[
            str, tuple[tuple[object, ...], tuple[object, ...], list[tuple[str, str, float, float]]]
        ] = {}
        self.closed: dict[str, dict[str, str]] = {c: {} for c in self.graphs}
        self._junctions = {c: junctions(g) for c, g in self.graphs.items()}
        self._zone = {c: junction_zones(g, self._junctions[c]) for c, g in self.graphs.items()}

    # ----------------------------------------------------------------- registry

    def add_vehicle(
        self,
        vid: str,
        corridor: str,
        node: str,
        now: float,
        priority: Priority = Priority.STANDARD,
    ) -> Vehicle:
        """Register a vehicle standing at a lane-graph node (its home spot)."""
        self._at(now)
        v = self.core.add_vehicle(vid, corridor, node, now)
        g = self.graphs[corridor]
        nodes, s = _standing_path(g, node, self.cfg.rules.min_spacing_m)
        try:
            self.planners[corridor].add_vehicle(vid, nodes, s, now, priority)
        except PlanError as e:
            del self.core.vehicles[vid]
            raise FleetError(str(e)) from None
        self._t[vid] = _Track(corridor)
        return v

    def _at(self, now: float) -> None:
        """Refuse a time before the latest one seen, before anything changes: the planner
        would refuse it half-way through a change (the core and the plan disagreeing
        after). Callers that get times from several threads clamp them first."""
        if not math.isfinite(now):
            raise FleetError(f"time must be a number of seconds, got {now}")
        if now < self.now - 1e-6:
            raise FleetError(f"time went backwards: {now} s after {self.now} s")
        self.now = max(self.now, now)

    # ------------------------------------------------------------------ queries

    def plan_status(self, vid: str) -> PlanStatus:
        return self._planner(vid).status(vid)

    def timed_route(self, vid: str) -> TimedRoute:
        return self._planner(vid).route(vid)

    def closed_lanes(self) -> dict[str, dict[str, str]]:
        return {c: dict(lanes) for c, lanes in self.closed.items()}

    # --------------------------------------------------------------- operations

    def send_to(
        self, vid: str, goal: str, now: float, priority: Priority | None = None
    ) -> list[Command]:
        """Plan a conflict-free route to ``goal`` and start executing it."""
        self._at(now)
        v = self.core.vehicle(vid)
        if v.status is VehicleStatus.OFFLINE:
            raise FleetError(f"vehicle {vid!r} is offline")
        if v.mission is not None and v.mission.status is MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vid!r} is busy with mission {v.mission.id}")
        self._sync([vid], now)
        belief = self._planner(vid).route(vid)
        if v.node is not None and belief.nodes[-1] != v.node and goal != v.node:
            self._replace(vid, v.node, now)  # it stands elsewhere (moved by hand, a restart)
        try:
            self._planner(vid).request(vid, goal, now, priority)
        except PlanError as e:
            raise FleetError(str(e)) from None
        return self._follow_plans(v.corridor, now)

    def accept_handoff(self, vid: str, now: float) -> list[Command]:
        """The other side accepted: the vehicle may plan, reserve and drive across km 0."""
        self._at(now)
        v = self.core.vehicle(vid)
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            raise FleetError(f"vehicle {vid!r} has no active mission")
        self._planner(vid).accept_handoff(vid, now)
        out: list[Command] = [self.core.accept_handoff(vid, now)]
        return out + self._follow_plans(v.corridor, now)

    def refuse_handoff(self, vid: str, now: float, return_goal: str | None = None) -> list[Command]:
        """The other side refused: hold at the stop line, or go to ``return_goal``."""
        self._at(now)
        v = self.core.vehicle(vid)
        try:
            self._planner(vid).refuse_handoff(vid, now, return_goal)
        except PlanError as e:
            raise FleetError(str(e)) from None
        return self._follow_plans(v.corridor, now)

    def close_lane(self, corridor: str, lane: str, now: float, reason: str = "") -> list[Command]:
        """No vehicle enters ``lane`` any more; the rest re-route or hold."""
        self._at(now)
        p = self._corridor(corridor)
        if lane in self.closed[corridor]:
            raise FleetError(f"lane {lane!r} is already closed")
        self._sync(self._ids(corridor), now, force=True)
        try:
            p.close_lane(lane, now)
        except PlanError as e:
            raise FleetError(str(e)) from None
        self.closed[corridor][lane] = reason or "closed"
        return self._follow_plans(corridor, now)

    def reopen_lane(self, corridor: str, lane: str, now: float) -> list[Command]:
        self._at(now)
        p = self._corridor(corridor)
        if lane not in self.closed[corridor]:
            raise FleetError(f"lane {lane!r} is not closed")
        self._sync(self._ids(corridor), now, force=True)
        p.reopen_lane(lane, now)
        del self.closed[corridor][lane]
        return self._follow_plans(corridor, now)

    def breakdown(self, vid: str, now: float) -> list[Command]:
        """The vehicle cannot move (a fault, or held by the operator's side): others are
        planned around it until :meth:`repaired`, whatever it reports meanwhile."""
        self._at(now)
        t = self._track(vid)
        if not t.broken:
            self._sync([vid], now, force=True)
            self._planner(vid).breakdown(vid, now)
            t.broken = True
        t.fault = True
        return self._follow_plans(t.corridor, now)

    def repaired(self, vid: str, now: float) -> list[Command]:
        """The fault is over; an offline vehicle stays planned around until it reports."""
        self._at(now)
        t = self._track(vid)
        offline = self.core.vehicle(vid).status is VehicleStatus.OFFLINE
        if t.broken and not offline:
            self._sync([vid], now, force=True)
            self._planner(vid).repaired(vid, now)
            t.broken = False
        t.fault = False
        return self._follow_plans(t.corridor, now)

    def pause(self, vid: str, now: float, reason: str = "") -> list[Command]:
        return [self.core.pause(vid, now, reason)]

    def resume(self, vid: str, now: float, reason: str = "") -> list[Command]:
        return [self.core.resume(vid, now, reason)]

    def estop(self, vid: str, now: float, reason: str = "") -> list[Command]:
        return [self.core.estop(vid, now, reason)]

    # ------------------------------------------------------------ vehicle input

    def on_report(self, report: VehicleReport, now: float) -> list[Event]:
        """Fold a state report in; a vehicle back from offline is planned again."""
        self._at(now)
        v = self.core.vehicle(report.vehicle_id)
        was_offline = v.status is VehicleStatus.OFFLINE
        events = self.core.on_report(report, now)
        t = self._t.get(v.id)
        if t is None:  # registered with the core only (driven by hand): nothing to plan
            return events
        if was_offline and v.status is not VehicleStatus.OFFLINE and t.broken and not t.fault:
            self._sync([v.id], now, force=True)
            self._planner(v.id).repaired(v.id, now)
            t.broken = False
        for e in events:
            if isinstance(e, MissionCompleted) and e.mission_id == t.mission_id:
                # Arrived (within the core's tolerance): the planner is told it stands at
                # its goal, or it would send the vehicle the last metre again and again.
                # Mostly its plan already has it standing there: nothing to re-plan.
                if not self._planner(v.id).arrived(v.id, e.goal, now):
                    self._replace(v.id, e.goal, now)
            elif isinstance(e, MissionCompleted):
                self._replace(v.id, e.goal, now)  # a manual mission ended: where is it now
        return events

    def _replace(self, vid: str, node: str, now: float) -> None:
        """Tell the planner the vehicle now stands at ``node`` (moved by hand, or arrived)."""
        p = self._planner(vid)
        g = self.graphs[self._t[vid].corridor]
        nodes, s = _standing_path(g, node, self.cfg.rules.min_spacing_m)
        # Too close to another by the planner's rules: it keeps its old belief.
        with contextlib.suppress(PlanError):
            p.place(vid, nodes, s, now)
        self._t[vid].plan = p.route(vid)

    def on_ack(self, ack: CommandAck, now: float) -> list[Event]:
        return self.core.on_ack(ack, now)

    def tick(self, now: float) -> tuple[list[Event], list[Command]]:
        """Mark stale vehicles offline (and plan around them), re-plan laggards,
        extend reservations along the plans, and re-send unacknowledged commands."""
        self._at(now)
        events = self.core.tick(now)
        cmds: list[Command] = []
        for e in events:
            if isinstance(e, VehicleWentOffline) and e.vehicle_id in self._t:
                t = self._t[e.vehicle_id]
                if not t.broken:
                    self._sync([e.vehicle_id], now, force=True)
                    self._planner(e.vehicle_id).breakdown(e.vehicle_id, now)
                    t.broken = True
        for corridor in self.graphs:
            self._resync_laggards(corridor, now)
            self._retry_unplaced(corridor, now)
            cmds += self._follow_plans(corridor, now)
        sent = {(c.vehicle_id, c.seq) for c in cmds}
        cmds += [c for c in self.core.due_commands(now) if (c.vehicle_id, c.seq) not in sent]
        return events, cmds

    # -------------------------------------------------------------- execution

    def _follow_plans(self, corridor: str, now: float) -> list[Command]:
        """Missions follow the current plans; reservations are extended where allowed."""
        out: list[Command] = []
        p = self.planners[corridor]
        for vid in self._ids(corridor):
            cmd = self._adopt(vid, p.route(vid), now)
            if cmd is not None:
                out.append(cmd)
        out += self._extend(corridor, now)
        return out

    def _adopt(self, vid: str, plan: TimedRoute, now: float) -> RouteCommand | None:
        """Make the core's mission follow ``plan`` (a new mission, or a re-route)."""
        t = self._t[vid]
        v = self.core.vehicles[vid]
        if t.plan is plan or v.status is VehicleStatus.OFFLINE:
            return None
        m = v.mission
        active = m is not None and m.status is MissionStatus.ACTIVE
        plan_moves = plan.profile[-1][1] > plan.profile[0][1] + 1e-6
        g = self.graphs[t.corridor]
        if active:
            assert m is not None
            if m.id != t.mission_id:
                return None  # a mission given by hand (tests, manual override): not ours
            k = _suffix_at(m.route.nodes, plan.nodes)
            if k is not None:  # same way, the planner only re-timed it
                t.plan, t.offset_m = plan, m.route.legs[k].start_m if k < len(m.route.legs) else 0.0
                return None
            try:
                route = route_along(g, plan.nodes)
            except RoutingError:
                return None
            if not _same_way_until(m.route, route, m.reservation_end_m, m.progress_m):
                return None  # committed beyond the fork: re-planned once it stands
            t.plan, t.offset_m = plan, 0.0
            return self.core.reroute(vid, route, now, _carry(m.route, route, m.reservation_end_m))
        goal = self._planner(vid).status(vid).goal
        if not plan_moves and (goal is None or plan.nodes[-1] != goal or goal == v.node):
            t.plan = plan  # standing, with no way to a goal planned yet: nothing to drive
            return None
        try:
            route = route_along(g, plan.nodes)
        except RoutingError:
            return None
        t.plan, t.offset_m = plan, 0.0
        reserve = route.line.project(_point(v))
        cmd = self.core.assign(vid, route, now, reserve_to_m=float(reserve))
        t.mission_id = cmd.mission_id
        return cmd

    def _extend(self, corridor: str, now: float) -> list[Command]:
        """Grow each reservation towards the plan's position ``lookahead_s`` ahead.

        Walks the route leg by leg from the current reservation end and stops at the
        first place another vehicle holds (minus the gap), or before a junction that
        someone else holds or whose turn, by the plans' order, is not yet ours.
        O(V * (L + V * I)) for V vehicles, L legs ahead and I held intervals each."""
        gap = self.cfg.rules.min_gap_m
        junctions = self._junctions[corridor]
        ids = self._ids(corridor)
        # Who wants more road, and how far (each vehicle's own mission and plan decide):
        # the index of held intervals and the junction order are built only if someone
        # does, and only those are ordered (by their plans' arrival).
        wants: dict[str, float] = {}
        for vid in ids:
            want = self._want(vid, corridor, now)
            if want is not None:
                wants[vid] = want
        if not wants:
            return []
        held = {vid: self._held(vid) for vid in ids}
        index = _HeldIndex(held)
        order = self._junction_order(corridor, ids)
        closed = self.closed[corridor]

        def free_junction(vid: str, node: str) -> bool:
            if not self._my_turn(vid, node, order, held):
                return False
            return not any(
                self._touches(corridor, iv, node)
                for o, iv in index.at_node.get(node, ())
                if o != vid
            )

        out: list[Command] = []
        for vid in sorted(wants, key=lambda i: (self._eta(i), i)):
            m = self.core.vehicles[vid].mission
            assert m is not None
            want = wants[vid]
            end = m.reservation_end_m
            legs = m.route.legs
            # The legs that end before the reservation does are skipped below: start after.
            first = bisect.bisect_right(m.route.leg_ends_reached, end + 1e-9)
            for i, leg in enumerate(itertools.islice(legs, first, None), start=first):
                lo_s, length = leg.start_m, leg.length_m
                if lo_s + length <= end + 1e-9:
                    continue
                if lo_s >= want or leg.lane_id in closed:
                    break
                a = max(lo_s, end) - lo_s
                cap = min(length, want - lo_s)
                # The gap to whoever is ahead on this edge, or just past its end node (a
                # vehicle that has only just left a junction or the spot we are bound for).
                for o, olo in index.on_edge.get((leg.u, leg.v), ()):
                    if o != vid and olo >= a - 1e-9:
                        cap = min(cap, olo - gap)
                for o, (u, _w, olo, _ohi) in index.at_node.get(leg.v, ()):
                    if o != vid and u == leg.v and olo < gap:
                        cap = min(cap, length + olo - gap)
                # ... or on the route's next legs (an edge shorter than the gap must not
                # hide a vehicle standing just beyond it).
                cap = min(cap, length + _room_past(legs, i, index, vid, gap))
                # Coming within a gap of a junction's area claims the junction: only in
                # turn, only free; otherwise wait a gap short of it, so that whoever is in
                # it keeps the gap from this vehicle's front.
                zone = self._zone[corridor].get((leg.u, leg.v, leg.v), 0.0)
                if leg.v in junctions and cap > length - zone - gap:
                    mine = any(self._touches(corridor, iv, leg.v) for iv in held[vid])
                    if not mine and not free_junction(vid, leg.v):
                        cap = min(cap, length - zone - gap)
                if cap <= a + 1e-9:
                    break
                end = lo_s + cap
                if cap < min(length, want - lo_s) - 1e-9:
                    break
            grown = end - m.reservation_end_m
            if grown > 1e-6 and (grown >= MIN_STEP_M or end >= m.route.length_m - 1e-6):
                out.append(self.core.extend(vid, end, now))
                index.remove(vid, held[vid])
                held[vid] = self._held(vid)
                index.add(vid, held[vid])
        return out

    def _want(self, vid: str, corridor: str, now: float) -> float | None:
        """How far the vehicle's reservation should reach now (the plan ``lookahead_s``
        ahead, or on past a stale hold), if beyond where it ends; None: no more road."""
        v = self.core.vehicles[vid]
        m, t = v.mission, self._t[vid]
        if m is None or m.status is not MissionStatus.ACTIVE or t.plan is None:
            return None
        if v.status is VehicleStatus.OFFLINE or t.broken or m.id != t.mission_id:
            return None
        if v.paused or v.estopped:  # stopped by a controller: claims no more road
            return None
        want = min(m.route.length_m, t.plan.position_at(now + self.lookahead_s) + t.offset_m)
        if self._overdue(vid, now):
            # The plan waits for a picture that is wrong: go on, up to the zero line
            # unless the other side has taken the vehicle over.
            want = m.route.length_m if m.handoff_accepted else self._zero_stop_m(corridor, m)
        return want if want > m.reservation_end_m + 1e-6 else None

    def _overdue(self, vid: str, now: float) -> bool:
        """Has the vehicle stood at its reservation end for ``STUCK_S`` while its plan
        holds it only for other vehicles? Plans predict where others will be; when the
        prediction is wrong (a crane took longer, a sensor stopped someone) a plan can
        wait for a vehicle that is already gone, or find no plan at all from where the
        vehicles really are. The reservation rules keep it safe to
        go on regardless; a hard hold (handoff, closed lane, breakdown) is never
        overridden."""
        t = self._t[vid]
        v = self.core.vehicles[vid]
        m = v.mission
        assert m is not None
        if v.speed_mps > 0.1 or m.reservation_end_m - m.progress_m > 2.0:
            t.standing_since = None
            return False
        if t.standing_since is None:
            t.standing_since = now
            return False
        reason = self._planner(vid).status(vid).hold_reason
        if reason is not None and not reason.startswith(SOFT_HOLDS):
            return False
        return now - t.standing_since >= STUCK_S

    def _zero_stop_m(self, corridor: str, m: Mission) -> float:
        """Where the route meets the zero line's stop line (its length if it does not)."""
        g = self.graphs[corridor]
        for leg in m.route.legs:
            e: EdgeAttrs = g.edges[leg.u, leg.v]
            if e["zero_crossing"] is not None:
                return leg.start_m
        return m.route.length_m

    def _eta(self, vid: str) -> float:
        eta = self._planner(vid).status(vid).eta_s
        return 1e18 if eta is None else eta

    def _held(self, vid: str) -> list[tuple[str, str, float, float]]:
        """Edge intervals (u, w, from, to in metres along the edge) the vehicle holds:
        its body (from its rear) to its reservation end, or its body when it stands.

        Cached per vehicle until its mission, route, progress, reservation end, online
        state or (without a mission) planned route changes: most vehicles on a tick have
        not moved since the last report."""
        v = self.core.vehicles[vid]
        m = v.mission
        if m is not None:
            refs: tuple[object, ...] = (m, m.route)
            key: tuple[object, ...] = (
                id(m),
                id(m.route),
                m.status,
                m.progress_m,
                m.reservation_end_m,
                v.status is VehicleStatus.OFFLINE,
            )
        else:
            r = self._planner(vid).route(vid)
            refs, key = (r,), (id(r),)
        cached = self._held_cache.get(vid)
        if cached is not None and cached[0] == key:
            return cached[2]
        out = self._compute_held(vid)
        self._held_cache[vid] = (key, refs, out)  # refs: the ids stay theirs
        return out

    def _compute_held(self, vid: str) -> list[tuple[str, str, float, float]]:
        v = self.core.vehicles[vid]
        rules = self.cfg.rules
        m = v.mission
        g = self.graphs[v.corridor]
        if m is not None and m.status is MissionStatus.ACTIVE:
            lo = m.progress_m - rules.vehicle_length_m
            if v.status is VehicleStatus.OFFLINE:
                lo -= rules.vehicle_length_m  # it may be a little behind its last report
            return _shadowed(g, _route_intervals(m.route, g, lo, m.reservation_end_m))
        if m is not None:  # it stands where its last mission ended
            end = m.progress_m
            return _shadowed(g, _route_intervals(m.route, g, end - rules.vehicle_length_m, end))
        r = self._planner(vid).route(vid)
        s = r.profile[-1][1]
        return _shadowed(g, _intervals(r.nodes, g, s - rules.vehicle_length_m, s))

    def _junction_order(self, corridor: str, ids: list[str]) -> dict[str, list[str]]:
        """Junction -> vehicles in the order their current plans first pass it (cached
        until a plan changes)."""
        key = tuple(id(self._t[vid].plan) for vid in ids)
        cached = self._order_cache.get(corridor)
        if cached is not None and cached[0] == key:
            return cached[1]
        order = self._compute_junction_order(corridor, ids)
        self._order_cache[corridor] = (key, order)
        return order

    def _compute_junction_order(self, corridor: str, ids: list[str]) -> dict[str, list[str]]:
        g = self.graphs[corridor]
        passes: dict[str, list[tuple[float, str]]] = {}
        for vid in ids:
            t = self._t[vid]
            if t.plan is None:
                continue
            r = t.plan
            s = 0.0
            s_end = r.profile[-1][1]
            s_first = r.profile[0][1]
            for u, w in itertools.pairwise(r.nodes):
                if u in self._junctions[corridor] and s_first - 1e-6 <= s <= s_end + 1e-6:
                    at = min(max(s, s_first), s_end)  # on the profile despite rounding
                    passes.setdefault(u, []).append((r.time_at(at)[0], vid))
                e: EdgeAttrs = g.edges[u, w]
                s += e["length_m"]
        return {n: [vid for _, vid in sorted(p)] for n, p in passes.items()}

    def _touches(self, corridor: str, iv: tuple[str, str, float, float], node: str) -> bool:
        """Does the held interval reach into the junction area of ``node``, or, on the
        way in, within a gap of it (where it is waited for)?"""
        u, w, lo, hi = iv
        zone = self._zone[corridor]
        if u == node and lo <= zone.get((u, w, node), JUNCTION_CLEAR_M):
            return True
        if w == node:
            e: EdgeAttrs = self.graphs[corridor].edges[u, w]
            length = e["length_m"]
            reach = zone.get((u, w, node), JUNCTION_CLEAR_M) + self.cfg.rules.min_gap_m
            return bool(hi > length - reach + 0.01)
        return False

    def _my_turn(
        self,
        vid: str,
        node: str,
        order: dict[str, list[str]],
        held: Mapping[str, list[tuple[str, str, float, float]]],
    ) -> bool:
        """Every vehicle planned through ``node`` before ``vid`` has reserved across it,
        or cannot: plans go stale when vehicles lag them, so the plans' order is only
        kept where it still can be. A vehicle whose way to ``node`` runs through what
        ``vid`` holds cannot get there first (waiting for it would deadlock), and a
        vehicle whose plan no longer passes ``node`` at all is late, not last: it goes
        when the junction is free."""
        queue = order.get(node, [])
        if vid not in queue:
            return True
        mine = {(u, w) for u, w, _lo, _hi in held.get(vid, ())}
        for o in queue:
            if o == vid:
                return True
            if not self._past(o, node) and not self._through(o, node, mine):
                return False
        return True

    def _through(self, vid: str, node: str, edges: set[tuple[str, str]]) -> bool:
        """Does ``vid``'s way from where it is to ``node`` use one of ``edges``?"""
        m = self.core.vehicles[vid].mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            return False
        for leg in m.route.legs:
            if leg.start_m + leg.length_m <= m.progress_m:
                continue
            if leg.u == node:
                return False
            if (leg.u, leg.v) in edges:
                return True
        return False

    def _past(self, vid: str, node: str) -> bool:
        v = self.core.vehicles[vid]
        m = v.mission
        if m is None or m.status is not MissionStatus.ACTIVE:
            return True
        for leg in m.route.legs:
            if leg.u == node:
                return m.reservation_end_m > leg.start_m + 1e-6
        return True

    # ------------------------------------------------------------- re-planning

    def _lag(self, vid: str, now: float) -> float:
        """How far the vehicle is behind its plan (m, negative: ahead of it); 0 without a
        plan being driven."""
        t = self._t[vid]
        m = self.core.vehicles[vid].mission
        if t.plan is None or m is None or m.status is not MissionStatus.ACTIVE:
            return 0.0
        return t.plan.position_at(now) - (m.progress_m - t.offset_m)

    def _sync(self, vids: list[str], now: float, force: bool = False) -> None:
        """Tell the planner where vehicles really are when they are off their plans (behind,
        ahead after a re-timing, or on a way the planner no longer has for them)."""
        by_corridor: dict[str, dict[str, tuple[tuple[str, ...], float]]] = {}
        for vid in vids:
            t = self._t[vid]
            m = self.core.vehicles[vid].mission
            if t.plan is None or m is None or m.status is not MissionStatus.ACTIVE:
                continue
            if m.id != t.mission_id:
                continue  # driven by hand: the planner keeps it where it was put
            diverged = t.plan is not self.planners[t.corridor].route(vid)
            if diverged or abs(self._lag(vid, now)) > (1.0 if force else LAG_M):
                by_corridor.setdefault(t.corridor, {})[vid] = self._where(vid)
        for corridor, paths in by_corridor.items():
            try:
                self.planners[corridor].replan_all(now, paths=paths)
            except PlanError:
                continue
            self._last_resync[corridor] = now

    def _where(self, vid: str) -> tuple[tuple[str, ...], float]:
        """The vehicle's way from just behind its body to its goal, and its front along it."""
        m = self.core.vehicles[vid].mission
        assert m is not None
        back = m.progress_m - self.cfg.rules.min_spacing_m
        legs = m.route.legs
        i = next((k for k, leg in enumerate(legs) if leg.start_m + leg.length_m > back), 0)
        i = min(i, len(legs) - 1)
        return m.route.nodes[i:], m.progress_m - legs[i].start_m

    def _resync_laggards(self, corridor: str, now: float) -> None:
        """Once someone is ``LAG_M`` behind its plan, re-plan the corridor from where
        everyone really is (at most every ``RESYNC_EVERY_S``).

        Plans made for a vehicle that is not where the planner thinks (it waited at a
        crane, a sensor stopped it) keep others holding for it or ahead of it in a
        junction's order: that is how a busy yard would lock up."""
        if now - self._last_resync.get(corridor, -1e18) < RESYNC_EVERY_S:
            return
        ids = self._ids(corridor)
        off = any(abs(self._lag(vid, now)) > LAG_M or self._diverged(vid) for vid in ids)
        if off:
            self._sync(ids, now, force=True)
        self._last_resync.setdefault(corridor, now)

    def _diverged(self, vid: str) -> bool:
        """The vehicle drives a plan the planner has since replaced by one it could not
        take (it had already reserved past the fork): the planner's picture is wrong."""
        t = self._t[vid]
        m = self.core.vehicles[vid].mission
        if t.plan is None or m is None or m.status is not MissionStatus.ACTIVE:
            return False
        return m.id == t.mission_id and t.plan is not self.planners[t.corridor].route(vid)

    def _retry_unplaced(self, corridor: str, now: float) -> None:
        """The planner keeps a vehicle standing where it is when it found no safe plan from
        there (its route then ends short of its goal); nothing it waits for is named, so no
        change would wake it: try it again now and then."""
        p = self.planners[corridor]
        for vid in self._ids(corridor):
            st = p.status(vid)
            if st.state != "holding" or st.goal is None:
                continue
            stuck = st.hold_reason == "no safe plan yet" or p.route(vid).nodes[-1] != st.goal
            if not stuck:  # it waits for something named: the planner wakes it on a change
                continue
            if now - self._last_retry.get(vid, -1e18) < RETRY_S:
                continue
            self._last_retry[vid] = now
            self._sync([vid], now, force=True)
            try:
                p.request(vid, st.goal, now)
                m = self.core.vehicles[vid].mission
                if m is not None and m.status is MissionStatus.ACTIVE and m.handoff_accepted:
                    p.accept_handoff(vid, now)  # a new request forgets it; the core has it
            except PlanError:
                continue

    # ---------------------------------------------------------------- helpers

    def _ids(self, corridor: str) -> list[str]:
        return sorted(vid for vid, t in self._t.items() if t.corridor == corridor)

    def _track(self, vid: str) -> _Track:
        try:
            return self._t[vid]
        except KeyError:
            raise FleetError(f"unknown vehicle {vid!r}") from None

    def _planner(self, vid: str) -> TrafficPlanner:
        return self.planners[self._track(vid).corridor]

    def _corridor(self, corridor: str) -> TrafficPlanner:
        try:
            return self.planners[corridor]
        except KeyError:
            raise FleetError(f"unknown corridor {corridor!r}") from None


class _HeldIndex:
    """Held intervals by edge and by the nodes they touch: a reservation walk then looks
    only at what lies on or next to the edge it extends over, not at every interval of
    every vehicle (which made each tick O(V^2))."""

    def __init__(self, held: Mapping[str, list[tuple[str, str, float, float]]]) -> None:
        self.on_edge: dict[tuple[str, str], list[tuple[str, float]]] = {}
        self.at_node: dict[str, list[tuple[str, tuple[str, str, float, float]]]] = {}
        for vid, ivs in held.items():
            self.add(vid, ivs)

    def add(self, vid: str, ivs: list[tuple[str, str, float, float]]) -> None:
        for iv in ivs:
            u, w, lo, _hi = iv
            self.on_edge.setdefault((u, w), []).append((vid, lo))
            self.at_node.setdefault(u, []).append((vid, iv))
            self.at_node.setdefault(w, []).append((vid, iv))

    def remove(self, vid: str, ivs: list[tuple[str, str, float, float]]) -> None:
        for edge in {(u, w) for u, w, _lo, _hi in ivs}:
            self.on_edge[edge] = [e for e in self.on_edge[edge] if e[0] != vid]
        for node in {n for u, w, _lo, _hi in ivs for n in (u, w)}:
            self.at_node[node] = [e for e in self.at_node[node] if e[0] != vid]


def _room_past(legs: Sequence[RouteLeg], i: int, index: _HeldIndex, vid: str, gap: float) -> float:
    """How far past the end of ``legs[i]`` the vehicle may reserve: ``gap`` short of the
    nearest stretch another vehicle holds on the route's next legs, when one starts
    within ``gap`` of that end (a stop line 2 m before a checkpoint's entry, say);
    infinity otherwise. O(k + H) for the k legs within the gap and H intervals on them."""
    room = math.inf
    ahead = 0.0  # from the end of legs[i] to the start of nxt
    for nxt in itertools.islice(legs, i + 1, None):
        if ahead >= gap:
            break
        for o, olo in index.on_edge.get((nxt.u, nxt.v), ()):
            if o != vid and ahead + olo < gap:
                room = min(room, ahead + olo - gap)
        ahead += nxt.length_m
    return room


def _point(v: Vehicle) -> object:
    from shapely import Point

    return Point(v.x, v.y)


def _standing_path(g: nx.DiGraph, node: str, behind_m: float) -> tuple[list[str], float]:
    """A path ending at ``node`` reaching ``behind_m`` back (the body's stretch), and the
    front's distance along it; a node nothing leads into gets its first out-edge."""
    nodes = [node]
    length = 0.0
    while length < behind_m:
        preds = sorted(g.predecessors(nodes[0]))
        preds = [p for p in preds if p not in nodes]
        if not preds:
            break
        e: EdgeAttrs = g.edges[preds[0], nodes[0]]
        length += e["length_m"]
        nodes.insert(0, preds[0])
    if len(nodes) >= 2:
        return nodes, length
    succ = sorted(g.successors(node))
    if not succ:
        raise FleetError(f"node {node!r} is not on any lane")
    return [node, succ[0]], 0.0


def _suffix_at(route_nodes: tuple[str, ...], plan_nodes: tuple[str, ...]) -> int | None:
    """Index k with ``route_nodes[k:k + len(plan_nodes)] == plan_nodes``: the plan is the
    same way, re-timed (a suffix), or a stretch of it (a plan holding short: the
    reservation follows the plan, the mission keeps the way on to the goal)."""
    n = len(plan_nodes)
    for k in range(len(route_nodes) - n, -1, -1):
        if route_nodes[k : k + n] == plan_nodes:
            return k
    return None


def _same_way_until(old: Route, new: Route, until_m: float, at_m: float) -> bool:
    """The new route covers every edge of the old one from where the vehicle is up to
    ``until_m`` (what it holds), so switching cannot take it off its reservation."""
    new_edges = {(leg.u, leg.v) for leg in new.legs}
    for leg in old.legs:
        if leg.start_m >= until_m - 1e-6:
            break
        if leg.start_m + leg.length_m <= at_m - 1e-6:
            continue  # behind the vehicle
        if (leg.u, leg.v) not in new_edges:
            return False
    return True


def _carry(old: Route, new: Route, at_m: float) -> float:
    """The point ``at_m`` along ``old`` measured along ``new`` (which shares its edge)."""
    leg = old.leg_at(at_m)
    for nleg in new.legs:
        if (nleg.u, nleg.v) == (leg.u, leg.v):
            return nleg.start_m + min(leg.length_m, at_m - leg.start_m)
    return 0.0


def _intervals(
    nodes: tuple[str, ...], g: nx.DiGraph, lo: float, hi: float
) -> list[tuple[str, str, float, float]]:
    """Edge intervals (u, w, from, to) covering [lo, hi] along the path ``nodes``."""
    out = []
    s = 0.0
    for u, w in itertools.pairwise(nodes):
        e: EdgeAttrs = g.edges[u, w]
        length = e["length_m"]
        a, b = max(lo, s), min(hi, s + length)
        if b >= a and b > s - 1e-9 and a < s + length + 1e-9:
            out.append((u, w, a - s, b - s))
        s += length
    return out + _before_start(nodes, g, lo)


def _route_intervals(
    route: Route, g: nx.DiGraph, lo: float, hi: float
) -> list[tuple[str, str, float, float]]:
    """:func:`_intervals` along a route, from its legs: O(log L + k) for the k legs
    the stretch touches (it runs for every vehicle on every tick)."""
    out = []
    legs = route.legs
    i = max(0, bisect.bisect_right(route.leg_starts, lo - 1e-9) - 1)
    while i < len(legs):
        leg = legs[i]
        s, length = leg.start_m, leg.length_m
        if s > hi + 1e-9:
            break
        a, b = max(lo, s), min(hi, s + length)
        if b >= a and b > s - 1e-9 and a < s + length + 1e-9:
            out.append((leg.u, leg.v, a - s, b - s))
        i += 1
    return out + _before_start(route.nodes, g, lo)


def _before_start(
    nodes: tuple[str, ...], g: nx.DiGraph, lo: float
) -> list[tuple[str, str, float, float]]:
    """Where a body reaching back before the path's first node lies (lo < 0)."""
    if lo < 0 and nodes:
        first = nodes[0]
        for p in sorted(g.predecessors(first)):
            e: EdgeAttrs = g.edges[p, first]
            length = e["length_m"]
            return [(p, first, max(0.0, length + lo), length)]
    return []


def _shadowed(
    g: nx.DiGraph, held: list[tuple[str, str, float, float]]
) -> list[tuple[str, str, float, float]]:
    """``held`` plus the body's shadow on the other branches of a merge it is passing.

    A vehicle whose front is just past a merge still has its body on the branch it
    came from; one coming along another branch would otherwise close up to a gap from
    that body's *branch*, a body length nearer than the spacing on the lane they now
    share. The shadow puts the part of the body behind the merge on every branch."""
    out = list(held)
    for k in range(1, len(held)):
        u, _w, a, _b = held[k]
        if a > 1e-9:
            continue
        behind = sum(hi - lo for _pu, _pw, lo, hi in held[:k])
        prev = held[k - 1][0]
        for q in g.predecessors(u):
            if q != prev:
                e: EdgeAttrs = g.edges[q, u]
                length = e["length_m"]
                out.append((q, u, max(0.0, length - behind), length))
    return out


def junction_zones(g: nx.DiGraph, junctions: frozenset[str]) -> dict[tuple[str, str, str], float]:
    """(u, w, junction) -> how far from the junction, along edge (u, w), a vehicle's
    centre line is still within ``SIDE_CLEAR_M`` of another lane meeting there.

    A vehicle whose body is within that stretch stands in the junction's area: two
    converging lanes may be a body's width apart well before their common node.
    O(J * D * E) for J junctions, D sample points per edge and E edges meeting."""
    out: dict[tuple[str, str, str], float] = {}
    for n in junctions:
        edges = [(u, n) for u in g.predecessors(n)] + [(n, w) for w in g.successors(n)]
        for u, w in edges:
            line = edge_attrs(g, u, w)["geometry"]
            others = [edge_attrs(g, a, b)["geometry"] for a, b in edges if (a, b) != (u, w)]
            length = float(line.length)
            d = JUNCTION_CLEAR_M
            while d < length:
                at = length - d if w == n else d
                p = line.interpolate(at)
                if all(o.distance(p) >= SIDE_CLEAR_M for o in others):
                    break
                d += 0.5
            out[(u, w, n)] = min(d, length)
    return out
