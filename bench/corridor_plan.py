"""Corridor traffic benchmark: lifelong planning on the real corridor graphs.

An instance places N vehicles at random free positions of a corridor's guide
lanes (seeded), each spaced one vehicle spacing from the next, and gives each
a random yard goal on the far side of the border (a loading spot of the other
country's yard). A vehicle that arrives dwells (loading) and then gets a new
random goal back across: lifelong operation for ``horizon_s`` simulated
seconds with perfect execution of the plans. Midway a vehicle on the export
lane breaks down for five minutes (a full re-plan each way).

Measured per case and implementation: full plan time for the N first goals,
incremental re-plan time per new goal (incl. the vehicles it releases; also
probed directly with the whole fleet present, ``probe_requests``), disruption
re-plan time, success (share of the N first goals reached within the horizon),
conflicts found by the independent checker on every vehicle's
stitched trace, crossings of the zero line per hour, and mean delay against
free flow per completed trip.

Implementations: ``smartgate`` (gap-filling prioritised planner),
``fcfs-reservations`` (the same reservation table, first come first served
at every shared lane and junction: the plain prioritised baseline) and
``independent`` (each vehicle's free-flow plan, no coordination).
"""

from __future__ import annotations

import heapq
import itertools
import random
import statistics
import time
from dataclasses import dataclass
from typing import Any

import networkx as nx

from fleet.routing import fastest_route
from fleet.traffic.checker import check_plans
from fleet.traffic.planner import PlanError, PlannerConfig, TrafficPlanner
from fleet.traffic.timed_route import SeparationRules, TimedRoute
from maps.lane_graph import EdgeAttrs, edge_attrs, edges_with, node_attrs, nodes_with
from maps.queries import yard_spots

LOAD_DWELL_S = 60.0
HANDOFF_DWELL_S = 20.0
RETRY_S = 30.0


@dataclass(frozen=True)
class Instance:
    corridor: str
    placements: tuple[tuple[str, tuple[str, str], float], ...]  # vid, edge, front s on it
    capacity: int  # how many vehicles the slot grid holds
    seed: int


def _slots(g: nx.DiGraph, rules: SeparationRules) -> list[tuple[tuple[str, str], float]]:
    """Standing positions one spacing apart whose bodies stay clear of junctions."""
    step = rules.min_spacing_m + 1.0
    out: list[tuple[tuple[str, str], float]] = []
    for u, v, d in sorted(edges_with(g)):
        s = step
        while s <= d["length_m"] + 1e-9:
            out.append(((u, v), s))
            s += step
    return out


def make_instance(g: nx.DiGraph, n: int, seed: int) -> Instance:
    rules = SeparationRules()
    slots = _slots(g, rules)
    rng = random.Random(seed)
    chosen = rng.sample(slots, n) if n <= len(slots) else []
    return Instance(
        str(g.graph.get("corridor", "")),
        tuple((f"v{i:03d}", e, s) for i, (e, s) in enumerate(chosen)),
        len(slots),
        seed,
    )


def _far_side(g: nx.DiGraph, edge: tuple[str, str]) -> str:
    lane = edge_attrs(g, *edge)["lane_id"]
    if lane == "E-AUTO" or lane.startswith("vn-"):
        return "CN"
    return "VN"


def _free_flow_s(g: nx.DiGraph, nodes: tuple[str, ...], must_stop: frozenset[str]) -> float:
    t = 0.0
    for u, v in itertools.pairwise(nodes):
        e: EdgeAttrs = g.edges[u, v]
        t += e["length_m"] / e["speed_mps"]
    stops = [node_attrs(g, n).get("stop_reason") for n in nodes[1:-1] if n in must_stop]
    return t + sum(HANDOFF_DWELL_S if r == "zero_line" else 5.0 for r in stops)


def _crossings(g: nx.DiGraph, traces: list[TimedRoute], horizon_s: float) -> int:
    count = 0
    for tr in traces:
        s = 0.0
        ts = [p[0] for p in tr.profile]
        ss = [p[1] for p in tr.profile]
        for u, v in itertools.pairwise(tr.nodes):
            e: EdgeAttrs = g.edges[u, v]
            s += e["length_m"]
            if e["zero_crossing"] is None:
                continue
            # The front passes the zero line on this edge: count when it left the stop line.
            start = s - e["length_m"]
            for (t0, s0), (_t1, s1) in itertools.pairwise(zip(ts, ss, strict=True)):
                if s0 <= start + 1e-6 < s1 and t0 <= horizon_s:
                    count += 1
                    break
    return count


def _pct(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, round(q * (len(xs) - 1)))], 3)


def run_planner(
    g: nx.DiGraph, inst: Instance, horizon_s: float, cfg: PlannerConfig, breakdown: bool = True
) -> dict[str, Any]:
    """Lifelong run of one planner configuration on one instance."""
    rng = random.Random(inst.seed + 1)
    spots = yard_spots(g)
    planner = TrafficPlanner(g, cfg)
    goals: dict[str, str] = {}
    for vid, (u, v), s in inst.placements:
        planner.add_vehicle(vid, (u, v), s, 0.0)
        goals[vid] = rng.choice(spots[_far_side(g, (u, v))])
    t0 = time.perf_counter()
    planner.request_many(goals, 0.0)
    full_ms = (time.perf_counter() - t0) * 1000.0
    first_goal = dict(goals)
    reached_first: set[str] = set()
    request_t: dict[str, float] = {vid: 0.0 for vid in goals}
    delays: list[float] = []
    replan_ms: list[float] = []
    disruption_ms: list[float] = []
    events: list[tuple[float, int, str, str]] = []  # (time, seq, kind, vehicle)
    seq = itertools.count()
    due: dict[str, float] = {}
    errors = 0

    def reschedule(now: float) -> None:
        """Push a 'next goal' event for every vehicle whose arrival time changed."""
        for vid in planner.vehicles():
            st = planner.status(vid)
            if st.eta_s is None or st.state == "broken":
                due.pop(vid, None)
                continue
            when = max(now, st.eta_s + LOAD_DWELL_S)
            if due.get(vid) != when:
                due[vid] = when
                heapq.heappush(events, (when, next(seq), "goal", vid))

    reschedule(0.0)
    for k in range(1, int(horizon_s // RETRY_S) + 1):
        heapq.heappush(events, (k * RETRY_S, next(seq), "retry", ""))
    victim = next((vid for vid in sorted(goals) if _on_lane(planner, vid, "E-AUTO")), None)
    if breakdown and victim:
        heapq.heappush(events, (horizon_s / 2, next(seq), "break", victim))
        heapq.heappush(events, (horizon_s / 2 + 300.0, next(seq), "repair", victim))
    while events:
        t, _, kind, vid = heapq.heappop(events)
        if t > horizon_s:
            break
        if kind == "retry":  # held without a vehicle to wait for (a refused plan): try again
            holding = [
                v
                for v in planner.vehicles()
                if planner.status(v).hold_reason in ("blocked", "no safe plan yet")
            ]
            if holding:
                planner.request_many({v: goals[v] for v in holding}, t)
        elif kind in ("break", "repair"):
            t1 = time.perf_counter()
            (planner.breakdown if kind == "break" else planner.repaired)(vid, t)
            disruption_ms.append((time.perf_counter() - t1) * 1000.0)
        elif due.get(vid) == t:
            del due[vid]
            st = planner.status(vid)
            assert st.eta_s is not None
            if goals[vid] == first_goal.get(vid):
                reached_first.add(vid)
            free = _free_flow_s(g, planner.route(vid).nodes, planner.must_stop)
            delays.append(st.eta_s - request_t[vid] - free)
            goals[vid] = rng.choice(spots["VN" if goals[vid].startswith("cn-") else "CN"])
            first_goal.pop(vid, None)
            request_t[vid] = t
            t1 = time.perf_counter()
            try:
                planner.request(vid, goals[vid], t)
            except PlanError:
                errors += 1
            replan_ms.append((time.perf_counter() - t1) * 1000.0)
        else:
            continue
        reschedule(t)
    traces = [planner.trace(v) for v in planner.vehicles()]
    violations = check_plans(g, traces, cfg.rules, planner.must_stop)
    n = len(inst.placements)
    return {
        "success_rate": round(len(reached_first) / n, 3) if n else None,
        "conflicts": len(violations),
        "crossings_per_h": round(_crossings(g, traces, horizon_s) * 3600.0 / horizon_s, 1),
        "mean_delay_s": round(statistics.fmean(delays), 1) if delays else None,
        "trips_done": len(delays),
        "full_plan_ms": round(full_ms, 2),
        "replan_ms_p50": _pct(replan_ms, 0.5),
        "replan_ms_p95": _pct(replan_ms, 0.95),
        "replans": len(replan_ms),
        "refused_requests": errors,
        "disruption_replan_ms_max": round(max(disruption_ms), 2) if disruption_ms else None,
    }


def probe_requests(
    g: nx.DiGraph, inst: Instance, cfg: PlannerConfig, count: int = 40, at_s: float = 60.0
) -> dict[str, Any]:
    """Incremental re-plan time with the whole fleet on the corridor.

    The lifelong run gets few new goals when the fleet is large (trips outlast its
    horizon), so this probe times ``count`` single requests directly: after the full
    plan, at ``at_s``, seeded random vehicles each get a new random spot on the side
    their current goal is on (a re-assignment), one request at a time.
    """
    rng = random.Random(inst.seed + 2)
    spots = yard_spots(g)
    planner = TrafficPlanner(g, cfg)
    goals: dict[str, str] = {}
    for vid, (u, v), s in inst.placements:
        planner.add_vehicle(vid, (u, v), s, 0.0)
        goals[vid] = rng.choice(spots[_far_side(g, (u, v))])
    planner.request_many(goals, 0.0)
    times: list[float] = []
    for vid in rng.sample(sorted(goals), min(count, len(goals))):
        goal = rng.choice(spots["CN" if goals[vid].startswith("cn-") else "VN"])
        t1 = time.perf_counter()
        try:
            planner.request(vid, goal, at_s)
        except PlanError:
            continue
        times.append((time.perf_counter() - t1) * 1000.0)
    violations = check_plans(g, planner.routes(), cfg.rules, planner.must_stop)
    return {
        "probe_replan_ms_p50": _pct(times, 0.5),
        "probe_replan_ms_p95": _pct(times, 0.95),
        "probe_requests": len(times),
        "probe_conflicts": len(violations),
    }


def _on_lane(planner: TrafficPlanner, vid: str, lane: str) -> bool:
    u, v, _ = planner.position(vid)
    return edge_attrs(planner.g, u, v)["lane_id"] == lane


def independent_conflicts(g: nx.DiGraph, inst: Instance, seed: int) -> dict[str, Any]:
    """Baseline without coordination: every vehicle drives its free-flow route at once."""
    rng = random.Random(seed + 1)
    spots = yard_spots(g)
    stop_reason = {n: r for n, d in nodes_with(g) if (r := d.get("stop_reason"))}
    must_stop = frozenset(stop_reason)
    routes: list[TimedRoute] = []
    t0 = time.perf_counter()
    for vid, (u, v), s in inst.placements:
        goal = rng.choice(spots[_far_side(g, (u, v))])
        path = fastest_route(g, v, goal).nodes if v != goal else (goal,)
        nodes = (u, *path)
        t, pos = 0.0, s
        prof = [(t, pos)]
        for a, b in itertools.pairwise(nodes):
            e: EdgeAttrs = g.edges[a, b]
            step = e["length_m"] - (s if a == u and pos == s else 0.0)
            pos += step
            t += step / e["speed_mps"]
            prof.append((t, pos))
            if b in must_stop and b != nodes[-1]:
                t += HANDOFF_DWELL_S if stop_reason[b] == "zero_line" else 5.0
                prof.append((t, pos))
        if len(prof) < 2:
            prof.append((1.0, s))
        routes.append(TimedRoute(vid, nodes, tuple(prof)))
    ms = (time.perf_counter() - t0) * 1000.0
    violations = check_plans(g, routes, SeparationRules(), must_stop)
    return {"conflicts": len(violations), "full_plan_ms": round(ms, 2)}
