"""The profile kernel: one vehicle's earliest safe time-distance profile against the table.

Given a route and the ``ReservationTable`` of everyone else's plans, computes when the
vehicle passes each point (see ``planner.py`` for the method and docs/traffic.md for why
it is safe and fast). Pure: it reads the table and changes nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from fleet.traffic.reservations import EPS, Floats
from fleet.traffic.timed_route import SeparationRules


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
