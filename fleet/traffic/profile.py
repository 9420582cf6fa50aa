"""The profile kernel: one vehicle's earliest safe time-distance profile against the table.

Steps 2 and 3 of the planner's method (``planner.py``; why it is safe and fast in
docs/traffic.md): given a route and the ``ReservationTable`` of everyone else's plans,
the constraints (``_Cons``: after or before each vehicle sharing a lane stretch or a
junction), then the earliest profile under them, flipping violated "before"s, and why
it stops short. Stop lines and their dwells (``_stations``) are part of it. It reads the
table and changes nothing: what to do with the profile is the planner's business.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Set
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fleet.traffic.reservations import EPS, INF, Floats, ReservationTable, _Bank, _Map, _Motion
from fleet.traffic.timed_route import SeparationRules


@dataclass(frozen=True)
class PlannerConfig:
    """The planner's settings (import it from ``fleet.traffic.planner``). Defined with the
    kernel, which reads all of them but ``max_passes``, so the kernel need not import the
    planner."""

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


@dataclass
class _Cons:
    """The constraints of one insertion as parallel arrays.

    Per constraint: the other vehicle, lane stretch or junction, ``delta`` (the other's
    route distance = own route distance + delta), own route range ``a``..``b`` shared
    with it (junction: the node's distance twice), whether we go after it, whether the
    order is forced by where both are now, where its front is now (own coordinates) and
    which of our lane pieces it is on (its start distance), and whether its front is on
    its own stretch of that lane now (it then cannot overtake whoever is ahead of it
    there; one still on its way to the lane may merge in ahead of them).
    """

    o: NDArray[np.intp]  # the other's slot
    lane: NDArray[np.bool_]  # lane (else junction)
    delta: Floats
    a: Floats
    b: Floats
    after: NDArray[np.bool_]
    forced: NDArray[np.bool_]
    o_pos: Floats
    piece: Floats
    o_on: NDArray[np.bool_]

    def take(self, idx: NDArray[np.intp] | NDArray[np.bool_]) -> _Cons:
        return _Cons(
            self.o[idx],
            self.lane[idx],
            self.delta[idx],
            self.a[idx],
            self.b[idx],
            self.after[idx],
            self.forced[idx],
            self.o_pos[idx],
            self.piece[idx],
            self.o_on[idx],
        )

    @staticmethod
    def concat(parts: list[_Cons]) -> _Cons:
        return _Cons(*(np.concatenate([getattr(p, f) for p in parts]) for f in _CONS_FIELDS))


_CONS_FIELDS = ("o", "lane", "delta", "a", "b", "after", "forced", "o_pos", "piece", "o_on")


def _undominated(cs: _Cons) -> NDArray[np.intp]:
    """Indices of the constraints left after dropping lane constraints implied by a nearer
    vehicle on the same stretch.

    On one lane nobody overtakes, so of the vehicles ahead of us now whose shared stretch
    is covered by a nearer one's, the nearer one passes every point later (it respects
    them), and its bounds imply theirs; likewise behind us (and implication chains, so a
    nearer one that is itself dropped still implies them). Keeps K near the handful of
    immediate neighbours instead of everyone on a long lane. Only vehicles already on
    the lane count: one still in a bay has a position "on the lane" only by projection,
    and those on the lane pass its merge before it (dropping them made a vehicle leaving
    a bay merge a few metres behind one that had just passed).
    """
    lf = cs.lane & cs.forced & cs.o_on
    keep = [np.flatnonzero(~lf)]
    idx = np.flatnonzero(lf)
    if idx.size:
        # Groups (our piece, ahead or behind), each nearest first.
        near = np.where(cs.after[idx], cs.o_pos[idx], -cs.o_pos[idx])
        idx = idx[np.lexsort((near, cs.after[idx], cs.piece[idx]))]
        piece, after, a, b = cs.piece[idx], cs.after[idx], cs.a[idx], cs.b[idx]
        same = (piece[:, None] == piece[None, :]) & (after[:, None] == after[None, :])
        covers = (a[None, :] <= a[:, None] + EPS) & (b[None, :] >= b[:, None] - EPS)
        earlier = np.tri(len(idx), k=-1, dtype=bool)  # [i, k]: k comes before i
        keep.append(idx[~(same & covers & earlier).any(axis=1)])
    return np.concatenate(keep).astype(np.intp)


class ProfileKernel:
    """One vehicle's earliest safe profile against a ``ReservationTable``.

    Holds only what is fixed for a planner's life (its config, the graph's edges, the
    stop lines); everything else is an argument: the table, the time, the route and the
    vehicle's handoff state. ``earliest`` never changes the table: the planner decides
    what to do with the profile. Methods rather than free functions so the hot code reads
    as it did inside the planner; the inner loops are vectorised numpy calls.
    """

    def __init__(self, cfg: PlannerConfig, mp: _Map, stops: Mapping[str, str]) -> None:
        self.cfg = cfg
        self._map = mp
        self._stops = stops  # stop line -> its reason (checkpoint, zero_line, ...)

    def _stations(
        self, me: _Motion, s_start: float, closed: Set[str], refused: bool, accepted: bool
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
                and self._map.edge[nodes[i], nodes[i + 1]]["zero_crossing"] is not None
            ):
                if refused:
                    return pos, dwell, "handoff refused"
                if not accepted and cfg.handoff_dwell_s is None:
                    return pos, dwell, "handoff"
        for i in range(1, len(nodes)):
            if ns[i] <= s_start + EPS:
                continue
            lane = self._map.edge[nodes[i - 1], nodes[i]]["lane_id"]
            if lane in closed and ns[i - 1] >= s_start - EPS:
                if pos[-1] < ns[i - 1] - EPS:
                    pos.append(ns[i - 1])
                return pos, dwell, f"lane {lane} closed"
            pos.append(ns[i])
            reason = self._stops.get(nodes[i])
            if reason is None or i == len(nodes) - 1:
                continue
            crossing = self._map.edge[nodes[i], nodes[i + 1]]["zero_crossing"] is not None
            if reason != "zero_line":
                dwell[ns[i]] = max(cfg.checkpoint_dwell_s, cfg.min_stop_s)
            elif refused and crossing:
                return pos, dwell, "handoff refused"
            elif accepted or not crossing:
                dwell[ns[i]] = cfg.min_stop_s
            elif cfg.handoff_dwell_s is None:
                return pos, dwell, "handoff"
            else:
                dwell[ns[i]] = max(cfg.handoff_dwell_s, cfg.min_stop_s)
        return pos, dwell, None

    def earliest(
        self,
        table: ReservationTable,
        now: float,
        vid: str,
        me: _Motion,
        s_start: float,
        *,
        closed: Set[str],
        refused: bool,
        accepted: bool,
    ) -> tuple[tuple[tuple[float, float], ...], str | None, set[str]] | None:
        """Earliest safe profile from s_start, why it stops short, who blocks; None: none safe.

        Constraints live in parallel arrays and are filtered, ordered and pre-checked in a
        few vectorised calls; only the few that can bind are evaluated one by one.
        """
        cfg, rules = self.cfg, self.cfg.rules
        spacing = rules.min_spacing_m + cfg.margin_m
        headway = rules.min_headway_s + cfg.margin_s
        length = rules.vehicle_length_m + cfg.margin_m
        stations, dwell_at, hold = self._stations(me, s_start, closed, refused, accepted)
        s_stop = stations[-1]
        bank = table.profile_bank(now)
        cs = self._constraints(table, now, vid, me, s_start, s_stop, bank)
        # Free-flow arrival bounds every arrival from below: a constraint whose other
        # vehicle has left the stretch (plus headroom) before we could possibly arrive can
        # never bind.
        st = np.array(stations)
        seg_t = np.diff(st) / self._speed_at(me, (st[:-1] + st[1:]) / 2)
        ff = now + np.concatenate(([0.0], np.cumsum(seg_t)))
        gone = bank.last(cs.o, np.where(cs.lane, cs.b, cs.a) + cs.delta + 2 * spacing)
        arrive = np.interp(np.where(cs.lane, cs.a - spacing, cs.a), st, ff)
        cs = cs.take(cs.forced | ~(gone + 2 * rules.min_headway_s < arrive))
        cs = cs.take(_undominated(cs))
        # Samples: route nodes + every constraint's breakpoints (+ one length past junctions).
        parts: list[Floats] = [st]
        ln = np.flatnonzero(cs.lane)
        if ln.size:  # the others' breakpoints (and a spacing either side) on shared stretches
            cnt = bank.n[cs.o[ln]]
            first_at = bank.lo[cs.o[ln]] - np.cumsum(cnt) + cnt
            xs0 = bank.ss[np.repeat(first_at, cnt) + np.arange(int(cnt.sum()))]
            xs0 = xs0 - np.repeat(cs.delta[ln], cnt)
            lo = np.repeat(cs.a[ln] - spacing, cnt)
            hi = np.repeat(cs.b[ln] + spacing, cnt)
            for shift in (0.0, spacing, -spacing):
                xs = xs0 - shift
                parts.append(xs[(xs >= lo) & (xs <= hi)])
            a_ln, b_ln = cs.a[ln], cs.b[ln]
            parts += [a_ln - spacing, a_ln, b_ln, b_ln + spacing]
        a_jn = cs.a[~cs.lane]
        parts += [a_jn, a_jn + length]
        pos = np.concatenate(parts)
        pos = np.unique(pos[(pos > s_start + EPS) & (pos <= s_stop + EPS)])
        # Merge samples closer than EPS, keep s_start first, double each dwell position.
        pos = np.concatenate(([s_start], pos))
        pos = pos[np.concatenate(([True], np.diff(pos) > 1e-6))]
        keys = [round(p, 6) for p in pos.tolist()]
        dwells = {round(s, 6): d for s, d in dwell_at.items()}
        if dwells:
            pos = np.repeat(pos, [2 if k in dwells else 1 for k in keys])
        seg = np.diff(pos)
        speed = self._speed_at(me, (pos[:-1] + pos[1:]) / 2)
        step = np.where(seg > EPS, seg / speed, 0.0)
        for jd in np.nonzero(seg <= EPS)[0].tolist():
            step[jd] = dwells.get(round(float(pos[jd]), 6), 0.0)
        clock = np.concatenate(([0.0], np.cumsum(step)))
        t_ff = now + clock
        # Every upper bound of a constraint is at least its floor and none applies beyond
        # its reach (the other's passing times grow along its route): arriving there (not
        # for good) before the floor satisfies them all, so only the rest is evaluated.
        x_floor = np.where(cs.lane, cs.a + cs.delta - spacing - 1e-5, cs.a + cs.delta)
        k = len(cs.o)
        firsts = bank.first(np.tile(cs.o, 2), np.concatenate((cs.a + cs.delta, x_floor)))
        floors = firsts[k:] - headway
        free = ~cs.forced  # the free ones start in free-flow arrival order
        if cfg.fill_gaps:
            after = np.where(free, firsts[:k] <= np.interp(cs.a, pos, t_ff), cs.after)
        else:
            after = cs.after | free
        reaches = np.where(cs.lane, cs.b + spacing, cs.a + length)
        floor_at = np.searchsorted(pos, reaches + EPS, side="right").astype(np.intp) - 1
        low = np.full(pos.shape, -INF)
        low[0] = now  # it is already at its start: nothing arrives there
        done = np.zeros(after.shape, dtype=bool)  # "after" bounds already folded into low
        while True:  # each pass flips at least one "before" to "after", or ends
            # The "after" set only grows, so each pass folds in just the new ones.
            new = np.flatnonzero(after & ~done)
            done[new] = True
            j, vals = self._lower(cs, new, pos, spacing, headway, length, bank)
            np.maximum.at(low, j, vals)
            low[0] = now
            with np.errstate(invalid="ignore"):
                t = clock + np.maximum.accumulate(low - clock)
            t = np.where(np.isnan(t), INF, t)
            finite = np.isfinite(t)
            last: int = int(np.argmin(finite)) - 1 if not finite.all() else len(t) - 1
            t_last = t.copy()
            if last >= 0:
                t_last[last] = INF  # it stands there for good
            clear = (floor_at >= 0) & (floor_at < last)
            clear &= t[np.maximum(floor_at, 0)] + 1e-3 < floors
            clear |= floors == INF  # it never gets there: nothing to stay ahead of
            check = np.flatnonzero(~clear & ~after)
            bad = check[self._violated(cs, check, pos, t, t_last, spacing, headway, length, bank)]
            if not bad.size:
                break
            if cs.forced[bad].any():
                return None  # it cannot stay ahead of one that is behind it now
            after[bad] = True
        if last < 0:
            return None
        blockers: set[str] = set()
        if last < len(t) - 1:
            # Only an infinite bound at the first sample it cannot reach blocks (-inf: that
            # constraint does not apply there).
            ia = np.flatnonzero(after)
            j, vals = self._lower(cs, ia, pos, spacing, headway, length, bank, only=last + 1)
            stuck = np.unique(ia[j[vals == INF]])
            if stuck.size:  # the nearest one binds; the others only matter once it has moved
                where = bank.s_end[cs.o[stuck]] - cs.delta[stuck]
                blockers.add(table.vid(int(cs.o[stuck[int(np.argmin(where))]])))
            hold = "vehicle " + ", ".join(sorted(blockers)) if blockers else "blocked"
        elif hold is not None:
            blockers.add(hold)
        prof: list[tuple[float, float]] = [] if t[0] <= now + EPS else [(now, float(pos[0]))]
        for tp, sp in zip(t[: last + 1].tolist(), pos[: last + 1].tolist(), strict=True):
            p = (tp, sp)
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
        edge = self._map.edge
        limits = np.array([edge[u, w]["speed_mps"] for u, w in itertools.pairwise(me.route.nodes)])
        return np.asarray(limits[idx], dtype=float)

    def _constraints(
        self,
        table: ReservationTable,
        now: float,
        vid: str,
        me: _Motion,
        s_start: float,
        s_stop: float,
        bank: _Bank,
    ) -> _Cons:
        """Everyone sharing a lane stretch or a junction with the route from s_start to
        s_stop, with the order forced by where both are now (lane pieces vectorised)."""
        rules = self.cfg.rules
        spacing = rules.min_spacing_m + self.cfg.margin_m
        length = rules.vehicle_length_m + self.cfg.margin_m
        me_slot = table.slot[vid]
        geo: list[tuple[Floats, ...]] = []
        for k, (lane, fx0, fx1, fs0) in enumerate(me.pieces):
            o, ox0, ox1, os0, o_last = table.lane_array(lane)
            # Stretches less than a spacing apart interact too (one may stand just short of
            # where the other's stretch of the lane begins).
            ext_f = spacing if k == len(me.pieces) - 1 else length
            lo = np.maximum(fx0, ox0)
            hi = np.minimum(fx1 + ext_f, ox1 + np.where(o_last, spacing, length))
            a = fs0 + lo - fx0
            b = np.maximum(a, fs0 + np.minimum(hi, fx1) - fx0)
            keep = (o != me_slot) & (hi > lo + EPS)
            keep &= (b + spacing >= s_start) & (a - spacing <= s_stop)
            delta = (os0 - ox0) - (fs0 - fx0)
            n_keep = int(keep.sum())
            geo.append(
                (
                    o[keep],
                    a[keep],
                    b[keep],
                    delta[keep],
                    np.full(n_keep, fs0),
                    os0[keep],
                    (os0 + ox1 - ox0)[keep],
                )
            )
        o, a, b, delta, piece, o_s0, o_s1 = (np.concatenate(x) for x in zip(*geo, strict=True))
        o = o.astype(np.intp)
        # Gone before we could get there: no constraint at all.
        keep = ~(bank.last(o, b + delta + spacing) < now - EPS)
        o, a, b, delta, piece = o[keep], a[keep], b[keep], delta[keep], piece[keep]
        o_front = bank.s_now[o]  # its front is on its stretch of the lane now?
        o_on = (o_front >= o_s0[keep] - EPS) & (o_front <= o_s1[keep] + EPS)
        o_now = bank.s_now[o] - delta  # the other's front, in our coordinates
        on = o_now >= a - EPS  # it is on the stretch: whoever is ahead stays ahead
        forced = on | (s_start >= a - spacing - EPS)  # else we are (almost) on it: we first
        after = on & (o_now > s_start)
        out = [_Cons(o, np.ones(o.shape, bool), delta, a, b, after, forced, o_now, piece, o_on)]
        jn: list[tuple[int, float, float, bool, bool]] = []
        for n, s_n, frm in me.junctions:
            if s_n + length < s_start or s_n > s_stop:
                continue
            users = [
                (oid, ofrm)
                for ofrm, vids in table.node_from[n].items()
                if frm is None or frm != ofrm  # off the same lane: the lane rules apply
                for oid in vids
                if oid != vid
            ]
            for oid, ofrm in users:
                om = table.motion[oid]
                for o_sn, o_frm in om.at_node[n]:
                    if o_frm != ofrm:
                        continue
                    if om.last(o_sn + length) < now - EPS:
                        continue
                    o_now_j = om.s_at(now)
                    mine, theirs = s_start >= s_n - EPS, o_now_j >= o_sn - EPS
                    if mine or theirs:
                        aft = theirs and (not mine or o_now_j - o_sn > s_start - s_n)
                        jn.append((table.slot[oid], o_sn - s_n, s_n, aft, True))
                    else:
                        jn.append((table.slot[oid], o_sn - s_n, s_n, False, False))
        m = np.array([(sl, d, s, a, f) for sl, d, s, a, f in jn], dtype=float).reshape(-1, 5)
        zeros = np.zeros(len(jn))
        out.append(
            _Cons(
                m[:, 0].astype(np.intp),
                np.zeros(len(jn), bool),
                m[:, 1],
                m[:, 2],
                m[:, 2],
                m[:, 3] > 0.5,
                m[:, 4] > 0.5,
                zeros,
                zeros,
                np.zeros(len(jn), bool),
            )
        )
        return _Cons.concat(out)

    @staticmethod
    def _pairs(lo: NDArray[np.intp], hi: NDArray[np.intp]) -> tuple[NDArray[np.intp], ...]:
        """(constraint, sample) index pairs for per-constraint sample ranges [lo, hi)."""
        n = np.maximum(hi - lo, 0)
        ci = np.repeat(np.arange(len(n)), n)
        j = np.repeat(lo - np.cumsum(n) + n, n) + np.arange(int(n.sum()))
        return ci, j.astype(np.intp)

    def _lower(
        self,
        cs: _Cons,
        idx: NDArray[np.intp],
        pos: Floats,
        spacing: float,
        headway: float,
        length: float,
        bank: _Bank,
        only: int | None = None,
    ) -> tuple[NDArray[np.intp], Floats]:
        """Lower bounds of constraints ``idx`` as (sample, bound) pairs (max them per sample).

        Lane: the other's front must already be a spacing ahead (right limit: past any
        wait there) and have left our point a headway ago. Junction: its back must have
        cleared the junction a headway ago. ``only``: just that sample (pairs then index
        ``idx`` instead of samples).
        """
        if not idx.size:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        a, b, d, o, lane = cs.a[idx], cs.b[idx], cs.delta[idx], cs.o[idx], cs.lane[idx]
        if only is None:
            lo = np.where(
                lane,
                np.searchsorted(pos, a - spacing - EPS, side="left"),
                np.searchsorted(pos, a - EPS, side="right"),
            ).astype(np.intp)
            hi = np.where(
                lane,
                np.searchsorted(pos, b + EPS, side="right"),
                np.searchsorted(pos, a + EPS, side="left"),
            ).astype(np.intp)
            ci, j = self._pairs(lo, hi)
            p = pos[j]
        else:
            ci = np.arange(len(idx), dtype=np.intp)
            p = np.full(len(idx), pos[only])
            inside = np.where(
                lane,
                (p >= a - spacing - EPS) & (p <= b + EPS),
                np.abs(p - a) < EPS,
            )
            ci, p = ci[inside], p[inside]
            j = ci
        a, d, o, lane = a[ci], d[ci], o[ci], lane[ci]
        sig = p + d
        n = len(o)
        # One bank query per kind for all points (numpy call overhead dominates here).
        lasts = bank.last(np.tile(o, 3), np.concatenate((sig + spacing, sig, a + d + length)))
        sep = np.where(
            np.abs(sig + spacing - bank.s_end[o]) <= EPS,
            bank.first(o, sig + spacing),
            lasts[:n],
        )
        gap = np.where(p >= a - EPS, lasts[n : 2 * n] + headway, -INF)
        return j, np.where(lane, np.maximum(sep, gap), lasts[2 * n :] + headway)

    def _violated(
        self,
        cs: _Cons,
        idx: NDArray[np.intp],
        pos: Floats,
        t: Floats,
        t_last: Floats,
        spacing: float,
        headway: float,
        length: float,
        bank: _Bank,
    ) -> NDArray[np.bool_]:
        """Which "before" constraints ``idx`` the profile breaks (per constraint).

        Staying ahead: arrival is bounded by the other's first time a spacing behind (it
        must not catch up while we approach), departure by its last time there (waiting
        behind us is fine), and both by its arrival at our point less the headway. At a
        junction we must have cleared it (one length past) a headway before it arrives;
        a route that ends on the junction would stand on it.
        """
        if not idx.size:
            return np.zeros(0, dtype=bool)
        a, b, d, o, lane = cs.a[idx], cs.b[idx], cs.delta[idx], cs.o[idx], cs.lane[idx]
        j_lo = np.searchsorted(pos, a + length - EPS, side="right")
        j_hi = np.searchsorted(pos, a + length + EPS, side="left")
        ends_on = ~lane & (j_hi <= j_lo)  # no sample one length past: it ends there
        lo = np.where(lane, np.searchsorted(pos, a - EPS, side="left"), j_lo)
        lo = np.where(ends_on, np.searchsorted(pos, pos[-1] - EPS, side="left"), lo)
        hi = np.where(lane, np.searchsorted(pos, b + spacing + EPS, side="right"), j_hi)
        hi = np.where(ends_on, len(pos), hi)
        ci, j = self._pairs(lo.astype(np.intp), hi.astype(np.intp))
        a, b, d, o, lane = a[ci], b[ci], d[ci], o[ci], lane[ci]
        p = pos[j]
        sig = p + d
        n = len(o)
        firsts = bank.first(np.tile(o, 3), np.concatenate((sig, sig - spacing, a + d)))
        head = np.where(p <= b + EPS, firsts[:n] - headway, INF)
        arr = np.minimum(firsts[n : 2 * n], head)
        dep = np.minimum(bank.last(o, sig - spacing), head)
        at_j = firsts[2 * n :] - headway
        arr = np.where(lane, arr, at_j)
        dep = np.where(lane, dep, at_j)
        bad = ((j >= 1) & (t[j] > arr + EPS)) | (t_last[j] > dep + EPS)
        return np.bincount(ci[bad], minlength=len(idx)) > 0


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
