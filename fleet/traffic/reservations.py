"""The reservation table: where every vehicle's timed route holds the corridor, and when.

Open-RMF keeps its schedule database apart from its planner; so does this package. The
planner (``planner.py``) decides every vehicle's timed route; the ``ReservationTable``
stores them and answers what an insertion asks of everyone else's: which plans use a
lane stretch or a junction (per-lane arrays, per-junction users), and when a vehicle's
front is at a point, along one route (``_Motion``) or for many (vehicle, point) pairs in
one numpy call (``_Bank``). It never decides anything and imports nothing of the
planner's. Names with a leading underscore are internal to ``fleet.traffic``.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_left, bisect_right
from collections import defaultdict

import networkx as nx
import numpy as np
from numpy.typing import NDArray

from fleet.traffic.timed_route import TimedRoute
from maps.lane_graph import EdgeAttrs, edges_with
from maps.queries import junctions

INF = math.inf
EPS = 1e-6
Floats = NDArray[np.float64]


class _Map:
    """The guide graph's edge data and junctions in plain dicts (networkx views are slow
    for the thousands of look-ups per plan); the graph is fixed for a planner's life."""

    def __init__(self, g: nx.DiGraph) -> None:
        self.edge: dict[tuple[str, str], EdgeAttrs] = {(u, v): d for u, v, d in edges_with(g)}
        self.junctions = junctions(g)


class _Motion:
    """Fast queries on one timed route: passing times, lane pieces, junction uses."""

    def __init__(self, mp: _Map, r: TimedRoute) -> None:
        self.route = r
        edge = mp.edge
        self.node_s = [0.0]
        for u, v in itertools.pairwise(r.nodes):
            self.node_s.append(self.node_s[-1] + edge[u, v]["length_m"])
        ts = np.array([p[0] for p in r.profile], dtype=float)
        ss = np.array([p[1] for p in r.profile], dtype=float)
        self.ts, self.ss = ts, ss
        self.t0, self.s0, self.s_end = float(ts[0]), float(ss[0]), float(ss[-1])
        # Python copies for the scalar queries (bisect is ~20x cheaper than numpy on one value).
        self.ts_l: list[float] = ts.tolist()
        self.ss_l: list[float] = ss.tolist()
        # Lane pieces: (lane, x0 lane coordinate, x1, s0 route distance at x0).
        self.pieces: list[tuple[str, float, float, float]] = []
        for i, (u, v) in enumerate(itertools.pairwise(r.nodes)):
            e = edge[u, v]
            lane, x0, s = e["lane_id"], float(e["offset_m"]), self.node_s[i]
            if self.pieces:
                pl, px0, _px1, ps0 = self.pieces[-1]
                if pl == lane and abs(px0 + (s - ps0) - x0) < 0.5:
                    self.pieces[-1] = (pl, px0, px0 + self.node_s[i + 1] - ps0, ps0)
                    continue
            self.pieces.append((lane, x0, x0 + e["length_m"], s))
        self.junctions: list[tuple[str, float, str | None]] = [
            (n, self.node_s[i], r.nodes[i - 1] if i else None)
            for i, n in enumerate(r.nodes)
            if n in mp.junctions
        ]
        # The same, keyed by lane / junction (others look these up for every plan).
        self.on_lane: dict[str, list[tuple[float, float, float, bool]]] = defaultdict(list)
        for k, (lane, x0, x1, s0) in enumerate(self.pieces):
            self.on_lane[lane].append((x0, x1, s0, k == len(self.pieces) - 1))
        self.at_node: dict[str, list[tuple[float, str | None]]] = defaultdict(list)
        for n, s_n, frm in self.junctions:
            self.at_node[n].append((s_n, frm))

    def s_at(self, t: float) -> float:
        ts, ss = self.ts_l, self.ss_l
        if t <= ts[0]:
            return ss[0]
        if t >= ts[-1]:
            return ss[-1]
        k = bisect_right(ts, t) - 1
        dt = ts[k + 1] - ts[k]
        return ss[k] if dt <= 0.0 else ss[k] + (t - ts[k]) / dt * (ss[k + 1] - ss[k])

    def _between1(self, s: float, k: int) -> float:
        """Scalar ``_between``."""
        ts, ss = self.ts_l, self.ss_l
        k = min(max(k, 0), len(ss) - 2)
        ds = ss[k + 1] - ss[k]
        frac = (s - ss[k]) / ds if ds > EPS else 0.0
        return ts[k] + frac * (ts[k + 1] - ts[k])

    def first(self, s: float) -> float:
        """Scalar ``t_first`` (same semantics, no array overhead)."""
        if s < self.s0 - EPS:
            return -INF
        if s > self.s_end + EPS:
            return INF
        ss = self.ss_l
        k = bisect_left(ss, s - EPS)
        if k < len(ss) and abs(ss[k] - s) <= EPS:
            return self.ts_l[k]
        return self._between1(s, k - 1)

    def last(self, s: float) -> float:
        """Scalar ``t_last`` (same semantics, no array overhead)."""
        if s >= self.s_end - EPS:
            return INF
        if s < self.s0 - EPS:
            return self.t0
        ss = self.ss_l
        k = bisect_right(ss, s + EPS) - 1
        if k >= 0 and abs(ss[k] - s) <= EPS:
            return self.ts_l[k]
        return self._between1(s, k)

    def _between(self, s: Floats, k: NDArray[np.intp]) -> Floats:
        """Time at s on the moving segment from breakpoint k to k + 1."""
        ts, ss = self.ts, self.ss
        k = np.minimum(np.maximum(k, 0), len(ss) - 2)
        ds = ss[k + 1] - ss[k]
        frac = np.divide(s - ss[k], ds, out=np.zeros_like(s), where=ds > EPS)
        return np.asarray(ts[k] + frac * (ts[k + 1] - ts[k]), dtype=float)

    def t_first(self, s: Floats) -> Floats:
        """First time the front is at s (arrival where it waits); -inf behind its start,
        +inf beyond its end."""
        ss = self.ss
        k = np.asarray(np.searchsorted(ss, s - EPS, side="left"), dtype=np.intp)
        kc = np.minimum(k, len(ss) - 1)
        exact = (k < len(ss)) & (np.abs(ss[kc] - s) <= EPS)
        out = np.where(exact, self.ts[kc], self._between(s, k - 1))
        out = np.where(s < self.s0 - EPS, -INF, out)
        return np.where(s > self.s_end + EPS, INF, out)

    def t_last(self, s: Floats) -> Floats:
        """Last time the front is at s (departure where it waits); +inf where it stands for
        good (its profile's end)."""
        ss = self.ss
        k = np.asarray(np.searchsorted(ss, s + EPS, side="right") - 1, dtype=np.intp)
        kc = np.maximum(k, 0)
        exact = (k >= 0) & (np.abs(ss[kc] - s) <= EPS)
        out = np.where(exact, self.ts[kc], self._between(s, k))
        out = np.where(s < self.s0 - EPS, self.t0, out)
        return np.where(s >= self.s_end - EPS, INF, out)


# Band width of one slot in the bank's keys: route distances stay far below it (a route
# is a few km). Slots are reused, so keys stay below ~2^26 for a few hundred vehicles and
# their rounding (~1e-8 m) is far inside EPS.
_BAND = float(2**17)


class _Bank:
    """Every vehicle's profile in one array: passing-time queries for many (vehicle, point)
    pairs in one numpy call instead of one Python call per constraint.

    Slot ``k`` owns the fixed block ``k * cap`` .. ``(k + 1) * cap`` (padded with its last
    point) and its distances are keyed ``+ k * _BAND``, so one sorted key array serves a
    ``searchsorted`` for all vehicles at once, and a new plan rewrites one block only.
    Same semantics as ``_Motion.first`` / ``_Motion.last``.
    """

    def __init__(self, motions: list[_Motion | None], now: float) -> None:
        self.now = now
        slots = len(motions)
        self.cap = max([len(m.ss) for m in motions if m is not None] + [2]) * 2
        self.lo = np.arange(slots, dtype=np.intp) * self.cap
        self.n = np.full(slots, 2, dtype=np.intp)
        self.ss = np.zeros(slots * self.cap)
        self.ts = np.zeros(slots * self.cap)
        self.key = np.zeros(slots * self.cap)
        self.s0 = np.zeros(slots)
        self.t0 = np.zeros(slots)
        self.s_end = np.zeros(slots)
        self.s_now = np.zeros(slots)
        for k, m in enumerate(motions):
            self.update(k, m)

    def update(self, k: int, m: _Motion | None) -> bool:
        """Store slot ``k``'s profile (None: an idle placeholder); False: it does not fit."""
        ss, ts = (m.ss, m.ts) if m is not None else (np.zeros(2), np.array([0.0, 1.0]))
        n = len(ss)
        if n > self.cap:
            return False
        lo = k * self.cap
        blk = slice(lo, lo + self.cap)
        self.ss[blk] = ss[-1]
        self.ts[blk] = ts[-1]
        self.ss[lo : lo + n] = ss
        self.ts[lo : lo + n] = ts
        self.key[blk] = self.ss[blk] + k * _BAND
        self.n[k] = n
        self.s0[k], self.t0[k], self.s_end[k] = ss[0], ts[0], ss[-1]
        self.s_now[k] = m.s_at(self.now) if m is not None else 0.0
        return True

    def _between(self, o: NDArray[np.intp], s: Floats, k: NDArray[np.intp]) -> Floats:
        g = self.lo[o] + np.minimum(np.maximum(k, 0), self.n[o] - 2)
        ds = self.ss[g + 1] - self.ss[g]
        frac = np.divide(s - self.ss[g], ds, out=np.zeros_like(s), where=ds > EPS)
        return np.asarray(self.ts[g] + frac * (self.ts[g + 1] - self.ts[g]), dtype=float)

    def first(self, o: NDArray[np.intp], s: Floats) -> Floats:
        """First time vehicle slot ``o`` has its front at ``s`` (per pair)."""
        q = s + o * _BAND
        k = np.searchsorted(self.key, q - EPS, side="left").astype(np.intp) - self.lo[o]
        g = self.lo[o] + np.minimum(k, self.n[o] - 1)
        exact = (k < self.n[o]) & (np.abs(self.ss[g] - s) <= EPS)
        out = np.where(exact, self.ts[g], self._between(o, s, k - 1))
        out = np.where(s < self.s0[o] - EPS, -INF, out)
        return np.where(s > self.s_end[o] + EPS, INF, out)

    def last(self, o: NDArray[np.intp], s: Floats) -> Floats:
        """Last time vehicle slot ``o`` has its front at ``s`` (per pair)."""
        q = s + o * _BAND
        k = np.searchsorted(self.key, q + EPS, side="right").astype(np.intp) - 1 - self.lo[o]
        g = self.lo[o] + np.maximum(k, 0)
        exact = (k >= 0) & (np.abs(self.ss[g] - s) <= EPS)
        out = np.where(exact, self.ts[g], self._between(o, s, k))
        out = np.where(s < self.s0[o] - EPS, self.t0[o], out)
        return np.where(s >= self.s_end[o] - EPS, INF, out)


class ReservationTable:
    """Every vehicle's current motion, indexed by where it runs: the table an insertion
    is planned against (the planner decides what goes in; this only stores and answers).

    Indexes: per lane, one array of every planned piece on it (slot, lane start, lane
    end, route distance at the start, last piece of its route?), so a lane's candidates
    are a few array operations; per junction and the node it is entered from, its users;
    every profile in one ``_Bank`` (a vehicle's slot is its block, reused after removal).
    Invariant: a vehicle's pieces and junction uses are indexed exactly while it is in
    ``motion`` (``replace`` swaps them as one), and a slot whose motion changed is marked
    dirty until the bank is next built. ``add``/``replace``/``remove`` cost O(P) for the P
    pieces on the lanes the route touches (array copies); ``lane_array`` O(1).
    """

    def __init__(self) -> None:
        self.motion: dict[str, _Motion] = {}  # vehicle -> its current motion
        # Per lane, every planned piece on it: rows (slot, x0, x1, s0, last piece of route?).
        self._lane_m: dict[str, Floats] = defaultdict(lambda: np.zeros((0, 5)))
        self.slot: dict[str, int] = {}  # a vehicle's index in the profile bank
        self._vid_of: list[str | None] = []  # slot -> vehicle (None: removed)
        self._free_slots: list[int] = []  # slots of removed vehicles, for reuse
        self._bank: _Bank | None = None  # every profile (see profile_bank)
        self._bank_dirty: set[int] = set()  # slots whose profile changed since
        # Per junction, per node it is entered from (None: the route starts there): users.
        self.node_from: dict[str, dict[str | None, set[str]]] = defaultdict(
            lambda: defaultdict(set)
        )

    def add(self, vid: str, m: _Motion) -> None:
        """Register a vehicle with its motion (a freed slot is reused first)."""
        if self._free_slots:
            self.slot[vid] = self._free_slots.pop()
            self._vid_of[self.slot[vid]] = vid
        else:
            self.slot[vid] = len(self._vid_of)
            self._vid_of.append(vid)
        self.motion[vid] = m
        self._index(vid)

    def replace(self, vid: str, m: _Motion) -> None:
        """The vehicle's motion is now ``m``: its old reservations go, the new ones come."""
        self._unindex(vid)
        self.motion[vid] = m
        self._index(vid)

    def remove(self, vid: str) -> None:
        """Drop a vehicle and free its slot."""
        self._unindex(vid)
        del self.motion[vid]
        slot = self.slot.pop(vid)
        self._vid_of[slot] = None
        self._free_slots.append(slot)

    def _index(self, vid: str) -> None:
        slot = float(self.slot[vid])
        for lane, rows in self.motion[vid].on_lane.items():
            new = np.array([(slot, *r[:3], float(r[3])) for r in rows], dtype=float)
            self._lane_m[lane] = np.concatenate((self._lane_m[lane], new))
        for n, _, frm in self.motion[vid].junctions:
            self.node_from[n][frm].add(vid)
        self._bank_dirty.add(self.slot[vid])

    def _unindex(self, vid: str) -> None:
        slot = float(self.slot[vid])
        for lane in self.motion[vid].on_lane:
            m = self._lane_m[lane]
            self._lane_m[lane] = m[m[:, 0] != slot]
        for n, _, frm in self.motion[vid].junctions:
            self.node_from[n][frm].discard(vid)
        self._bank_dirty.add(self.slot[vid])

    def vid(self, slot: int) -> str:
        """The vehicle holding ``slot`` (a live one: removed vehicles are in no index)."""
        vid = self._vid_of[slot]
        assert vid is not None, "a removed vehicle is in no index"
        return vid

    def profile_bank(self, now: float) -> _Bank:
        """The bank at ``now``: rebuilt when time moved or a slot was added, else only the
        blocks of the vehicles whose plan changed are rewritten."""
        bank = self._bank
        if bank is not None and (bank.now != now or len(bank.n) != len(self._vid_of)):
            bank = None
        if bank is not None:
            for k in self._bank_dirty:
                vid = self._vid_of[k]
                if not bank.update(k, self.motion[vid] if vid else None):
                    bank = None
                    break
        if bank is None:
            motions = [self.motion[vid] if vid else None for vid in self._vid_of]
            bank = _Bank(motions, now)
        self._bank, self._bank_dirty = bank, set()
        return bank

    def lane_array(
        self, lane: str
    ) -> tuple[NDArray[np.intp], Floats, Floats, Floats, NDArray[np.bool_]]:
        """Every planned piece on ``lane``: slot, lane start, lane end, route distance at the
        start, last piece of its route."""
        m = self._lane_m[lane]
        return m[:, 0].astype(np.intp), m[:, 1], m[:, 2], m[:, 3], m[:, 4] > 0.5
