"""Independent checker for sets of timed routes on a lane graph.

It shares no code with any planner (it reads only the graph and each route's
``nodes`` and ``profile``), so a planner bug cannot hide itself. Every
violation is reported, not just the first. Checked, for each route: it follows
existing edges in their direction, its profile lies within the route, time
increases, the vehicle never reverses or speeds, and it dwells at every
must-stop node it passes (e.g. the zero-line stop line before acceptance). A
route may start behind the vehicle's front (the stretch its body covers: its
profile then starts further along) and its profile may end short of the
last node (the vehicle holds there); either way a vehicle stands where its
profile ends until a new plan replaces it. Between routes: on a shared lane
(or stretches of one lane less than a spacing apart), followers keep the
minimum front-to-front spacing and time headway and never overtake; at a
junction (a node with several ways in or out), two vehicles not coming off
the same lane occupy it (front arrives .. back clears, plus the headway) at
different times.

Positions are piecewise linear in time, so minima are found exactly at
breakpoints: O(B log B) per compared pair for B breakpoints. Pairs are only
compared when they use the same lane or junction and their time windows
overlap (a sweep per lane or node), so typical corridors check in
O(V log V + P*B) for V routes and P interacting pairs.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

import networkx as nx

from fleet.traffic.timed_route import SeparationRules, TimedRoute
from maps.lane_graph import EdgeAttrs

EPS = 1e-6


@dataclass(frozen=True)
class Violation:
    kind: str  # bad_route | bad_profile | speeding | spacing | headway | overtaking |
    #            junction | missing_stop
    vehicles: tuple[str, ...]
    where: str
    t: float
    detail: str

    def __str__(self) -> str:
        who = ", ".join(self.vehicles)
        return f"{self.kind} [{who}] at {self.where}, t={self.t:.2f}: {self.detail}"


@dataclass(frozen=True)
class _Piece:
    """A stretch of one lane used by one route: lane coordinate x = x0 + (s - s0)."""

    vid: str
    lane: str
    s0: float
    s1: float
    x0: float
    last: bool = False  # the route ends on this piece


def _reach(p: _Piece, rules: SeparationRules) -> float:
    """How far past its end a piece still matters: a spacing where the route ends on it (the
    vehicle stands there), a body length where it turns off the lane (until its back clears)."""
    return p.x0 + p.s1 - p.s0 + (rules.min_spacing_m if p.last else rules.vehicle_length_m)


class _Motion:
    """Front position s(t) and passing times t(s) of one route's profile."""

    def __init__(self, r: TimedRoute) -> None:
        self.vid = r.vehicle_id
        self.ts = [p[0] for p in r.profile]
        self.ss = [p[1] for p in r.profile]

    @property
    def span(self) -> tuple[float, float]:
        """From the profile's start on; after its end the vehicle stands at its goal."""
        return self.ts[0], math.inf

    def s_at(self, t: float) -> float:
        ts, ss = self.ts, self.ss
        if t <= ts[0]:
            return ss[0]
        if t >= ts[-1]:
            return ss[-1]
        lo, hi = 0, len(ts) - 1
        while hi - lo > 1:
            mid = (lo + hi) // 2
            if ts[mid] <= t:
                lo = mid
            else:
                hi = mid
        return ss[lo] + (ss[hi] - ss[lo]) * (t - ts[lo]) / (ts[hi] - ts[lo])

    def times_at(self, s: float) -> tuple[float, float] | None:
        """First and last time the front is at s (None if it never is; last is inf at its goal).

        Distances never decrease along a profile, so both ends are found by bisection:
        O(log B) for B breakpoints.
        """
        ts, ss = self.ts, self.ss
        if s < ss[0] - EPS or s > ss[-1] + EPS:
            return None
        k1 = bisect_left(ss, s - EPS)
        if abs(ss[k1] - s) <= EPS:
            first = ts[k1]
        else:  # strictly inside the moving segment k1-1 .. k1
            first = ts[k1 - 1] + (ts[k1] - ts[k1 - 1]) * (s - ss[k1 - 1]) / (ss[k1] - ss[k1 - 1])
        k2 = bisect_right(ss, s + EPS) - 1
        if abs(ss[k2] - s) <= EPS:
            last = ts[k2]
        else:
            last = ts[k2] + (ts[k2 + 1] - ts[k2]) * (s - ss[k2]) / (ss[k2 + 1] - ss[k2])
        if abs(s - ss[-1]) <= EPS:
            last = math.inf
        return first, last


def check_plans(
    g: nx.DiGraph,
    routes: Iterable[TimedRoute],
    rules: SeparationRules | None = None,
    must_stop: frozenset[str] = frozenset(),
) -> list[Violation]:
    """All violations of the invariants in a set of timed routes (empty: the plan is safe)."""
    rules = rules or SeparationRules()
    out: list[Violation] = []
    valid: list[tuple[TimedRoute, _Motion, list[_Piece], list[float]]] = []
    seen: set[str] = set()
    for r in routes:
        if r.vehicle_id in seen:
            out.append(Violation("bad_route", (r.vehicle_id,), "-", 0.0, "vehicle planned twice"))
            continue
        seen.add(r.vehicle_id)
        problems = _check_route(g, r, must_stop)
        out.extend(problems)
        if not any(p.kind in ("bad_route", "bad_profile") for p in problems):
            pieces, node_s = _pieces(g, r)
            valid.append((r, _Motion(r), pieces, node_s))
    motions = {r.vehicle_id: m for r, m, _, _ in valid}
    by_lane: dict[str, list[_Piece]] = defaultdict(list)
    for _, _, pieces, _ in valid:
        for p in pieces:
            by_lane[p.lane].append(p)
    for lane, pieces in sorted(by_lane.items()):
        for a, b in _overlapping_pairs(pieces, motions, rules):
            out.extend(_check_following(lane, a, b, motions, rules))
    out.extend(_check_junctions(g, valid, rules))
    return out


def _check_route(g: nx.DiGraph, r: TimedRoute, must_stop: frozenset[str]) -> list[Violation]:
    v = r.vehicle_id
    bad: list[Violation] = []
    if len(r.nodes) < 2:
        return [Violation("bad_route", (v,), "-", 0.0, "a route needs at least two nodes")]
    for u, w in zip(r.nodes, r.nodes[1:], strict=False):
        if not g.has_edge(u, w):
            why = "against the lane direction" if g.has_edge(w, u) else "not an edge of the graph"
            bad.append(Violation("bad_route", (v,), f"{u}->{w}", 0.0, why))
    if bad:
        return bad
    prof = r.profile
    if len(prof) < 2:
        return [Violation("bad_profile", (v,), "-", 0.0, "a profile needs at least two points")]
    edges: list[EdgeAttrs] = [g.edges[u, w] for u, w in zip(r.nodes, r.nodes[1:], strict=False)]
    length = sum(e["length_m"] for e in edges)
    for (t0, s0), (t1, s1) in itertools.pairwise(prof):
        if not all(math.isfinite(x) for x in (t0, s0, t1, s1)):
            bad.append(Violation("bad_profile", (v,), "-", t0, "non-finite time or distance"))
        elif t1 <= t0:
            bad.append(
                Violation("bad_profile", (v,), "-", t0, f"time does not increase ({t0} -> {t1})")
            )
        elif s1 < s0 - EPS:
            bad.append(
                Violation("bad_profile", (v,), "-", t0, f"reverses from {s0:.2f} to {s1:.2f} m")
            )
    if prof[0][0] < 0:
        bad.append(Violation("bad_profile", (v,), "-", prof[0][0], "negative time"))
    if prof[0][1] < -0.5 or prof[-1][1] > length + 0.5:
        bad.append(
            Violation(
                "bad_profile",
                (v,),
                "-",
                prof[0][0],
                f"profile spans {prof[0][1]:.1f}..{prof[-1][1]:.1f} m, route is 0..{length:.1f} m",
            )
        )
    if bad:
        return bad
    # Speed limits, edge by edge.
    starts = [0.0]
    for e in edges:
        starts.append(starts[-1] + e["length_m"])
    for (t0, s0), (t1, s1) in itertools.pairwise(prof):
        speed = (s1 - s0) / (t1 - t0)
        for i, (u, w) in enumerate(zip(r.nodes, r.nodes[1:], strict=False)):
            if starts[i] < s1 - EPS and starts[i + 1] > s0 + EPS:
                limit = edges[i]["speed_mps"]
                if speed > limit * (1 + 1e-6) + 1e-9:
                    bad.append(
                        Violation(
                            "speeding",
                            (v,),
                            f"{u}->{w}",
                            t0,
                            f"{speed:.2f} m/s over the {limit:.2f} m/s limit",
                        )
                    )
    # Dwell at must-stop nodes passed (not where the profile ends: it stands there anyway).
    for i, n in enumerate(r.nodes[1:-1], start=1):
        if n in must_stop:
            s_n = starts[i]
            if not prof[0][1] + 0.5 < s_n < prof[-1][1] - 0.5:
                continue  # behind the start (its tail) or not reached by this plan
            dwell = any(
                abs(s0 - s_n) <= 0.5 and abs(s1 - s_n) <= 0.5 and t1 > t0
                for (t0, s0), (t1, s1) in itertools.pairwise(prof)
            )
            if not dwell:
                bad.append(
                    Violation(
                        "missing_stop",
                        (v,),
                        n,
                        prof[0][0],
                        "passes a must-stop node without stopping",
                    )
                )
    return bad


def _pieces(g: nx.DiGraph, r: TimedRoute) -> tuple[list[_Piece], list[float]]:
    pieces: list[_Piece] = []
    s = 0.0
    node_s = [0.0]
    for u, w in zip(r.nodes, r.nodes[1:], strict=False):
        e: EdgeAttrs = g.edges[u, w]
        length, lane, x0 = e["length_m"], e["lane_id"], e["offset_m"]
        last = pieces[-1] if pieces else None
        if last is not None and last.lane == lane and abs(last.x0 + (s - last.s0) - x0) < 0.5:
            pieces[-1] = _Piece(r.vehicle_id, lane, last.s0, s + length, last.x0)
        else:
            pieces.append(_Piece(r.vehicle_id, lane, s, s + length, x0))
        s += length
        node_s.append(s)
    pieces[-1] = _Piece(
        r.vehicle_id, pieces[-1].lane, pieces[-1].s0, pieces[-1].s1, pieces[-1].x0, True
    )
    return pieces, node_s


def _window(p: _Piece, m: _Motion, rules: SeparationRules) -> tuple[float, float]:
    """When this vehicle's body can be on the piece: front enters .. back leaves (+headway)."""
    enter = m.times_at(p.s0)
    t0 = enter[0] if enter else m.span[0]
    ext = _reach(p, rules) - (p.x0 + p.s1 - p.s0)
    if p.s1 + ext >= m.ss[-1]:
        t1 = math.inf  # it stops on (or just past) this piece and stays there
    else:
        leave = m.times_at(p.s1 + ext)
        t1 = leave[1] if leave else math.inf
    return t0 - rules.min_headway_s, t1 + rules.min_headway_s


def _overlapping_pairs(
    pieces: list[_Piece], motions: dict[str, _Motion], rules: SeparationRules
) -> list[tuple[_Piece, _Piece]]:
    spans = sorted(((_window(p, motions[p.vid], rules), p) for p in pieces), key=lambda x: x[0])
    out: list[tuple[_Piece, _Piece]] = []
    active: list[tuple[tuple[float, float], _Piece]] = []
    for (t0, t1), p in spans:
        active = [(w, q) for w, q in active if w[1] >= t0]
        for _, q in active:
            # Pieces reaching each other interact too: a vehicle standing just short of
            # where another one's piece of the same lane begins.
            if q.vid != p.vid and min(_reach(q, rules), _reach(p, rules)) > max(q.x0, p.x0):
                out.append((q, p))
        active.append(((t0, t1), p))
    return out


def _check_following(
    lane: str, a: _Piece, b: _Piece, motions: dict[str, _Motion], rules: SeparationRules
) -> list[Violation]:
    ma, mb = motions[a.vid], motions[b.vid]
    lo = max(a.x0, b.x0)
    hi = min(_reach(a, rules), _reach(b, rules))

    def xa(t: float) -> float:
        return a.x0 + ma.s_at(t) - a.s0

    def xb(t: float) -> float:
        return b.x0 + mb.s_at(t) - b.s0

    # Times when at least one front is on the shared stretch and both exist.
    t_lo = max(ma.span[0], mb.span[0])
    t_hi = min(ma.span[1], mb.span[1])
    if t_lo > t_hi:
        return []
    # |xa - xb| is piecewise linear: its minimum over the shared window lies at a
    # profile breakpoint or where a front enters or leaves the shared stretch.
    cand = set(ma.ts + mb.ts) | {t_lo} | ({t_hi} if math.isfinite(t_hi) else set())
    for p, m in ((a, ma), (b, mb)):
        for x in (lo, hi):
            hit = m.times_at(x - p.x0 + p.s0)
            if hit:
                cand |= set(hit)
    times = sorted(t for t in cand if t_lo <= t <= t_hi)
    rel = [(t, xa(t), xb(t)) for t in times]
    # Compare while both fronts are on this lane (from where each route enters it to as
    # far as its piece reaches: a vehicle that turned off and whose back has cleared the
    # turn is gone; one still on its way in is the junction rule's business) and at least
    # one of them is on the shared stretch.
    a_hi, b_hi = min(hi, a.x0 + a.s1 - a.s0), min(hi, b.x0 + b.s1 - b.s0)
    a_reach, b_reach = _reach(a, rules), _reach(b, rules)
    rel = [
        (t, x1, x2)
        for t, x1, x2 in rel
        if (lo - EPS <= x1 <= a_hi + EPS or lo - EPS <= x2 <= b_hi + EPS)
        and a.x0 - EPS <= x1 <= a_reach + EPS
        and b.x0 - EPS <= x2 <= b_reach + EPS
    ]
    if not rel:
        return []
    out: list[Violation] = []
    pair = (a.vid, b.vid)
    signs = {1 if x1 > x2 else -1 for _, x1, x2 in rel if abs(x1 - x2) > EPS}
    if len(signs) > 1:
        t = next(
            t for t, x1, x2 in rel if (1 if x1 > x2 else -1) != (1 if rel[0][1] > rel[0][2] else -1)
        )
        out.append(Violation("overtaking", pair, lane, t, "vehicles pass each other on one lane"))
        return out
    t_min, gap = min(((t, abs(x1 - x2)) for t, x1, x2 in rel), key=lambda x: x[1])
    if gap < rules.min_spacing_m - 1e-6:
        out.append(
            Violation(
                "spacing",
                pair,
                lane,
                t_min,
                f"fronts {gap:.2f} m apart, need {rules.min_spacing_m:.2f} m",
            )
        )
        return out
    # Time headway at every breakpoint position on the shared stretch.
    lead, follow, lp, fp = (ma, mb, a, b) if rel[0][1] > rel[0][2] else (mb, ma, b, a)
    xs = sorted({lp.x0 + s - lp.s0 for s in lead.ss} | {fp.x0 + s - fp.s0 for s in follow.ss})
    for x in (x for x in xs if lo - EPS <= x <= hi + EPS):
        tl = lead.times_at(x - lp.x0 + lp.s0)
        tf = follow.times_at(x - fp.x0 + fp.s0)
        if tl and tf and tf[0] - tl[1] < rules.min_headway_s - 1e-6:
            out.append(
                Violation(
                    "headway",
                    pair,
                    lane,
                    tf[0],
                    f"{tf[0] - tl[1]:.2f} s behind at {x:.1f} m, need {rules.min_headway_s:.2f} s",
                )
            )
            break
    return out


def _check_junctions(
    g: nx.DiGraph,
    valid: list[tuple[TimedRoute, _Motion, list[_Piece], list[float]]],
    rules: SeparationRules,
) -> list[Violation]:
    uses: dict[str, list[tuple[float, float, str, str | None]]] = defaultdict(list)
    for r, m, _, node_s in valid:
        for i, n in enumerate(r.nodes):
            if g.in_degree(n) < 2 and g.out_degree(n) < 2:
                continue
            arrive = m.times_at(node_s[i])
            if arrive is None:
                continue
            if node_s[i] + rules.vehicle_length_m >= m.ss[-1]:
                clear: tuple[float, float] | None = (math.inf, math.inf)  # stops on it
            else:
                clear = m.times_at(node_s[i] + rules.vehicle_length_m)
            if clear is None:
                continue
            came_from = r.nodes[i - 1] if i > 0 else None
            uses[n].append((arrive[0], clear[1] + rules.min_headway_s, r.vehicle_id, came_from))
    out: list[Violation] = []
    for n, us in sorted(uses.items()):
        us.sort()
        for i, (_t0, t1, v, frm) in enumerate(us):
            for t0b, _, vb, frmb in us[i + 1 :]:
                if t0b >= t1:
                    break
                if frm is not None and frm == frmb:
                    continue  # following off the same lane: the lane check judges it
                out.append(
                    Violation("junction", (v, vb), n, t0b, f"{vb} enters before {v} has cleared it")
                )
    return out
