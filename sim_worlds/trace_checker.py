"""Independent checker of a simulation trace: did vehicles ever collide or tailgate?

It reads only the trace CSV (``t_s,vehicle_id,lane_id,s_m,x_m,y_m,speed_mps``) and
shares no code with the planner, the plan checker or the fleet control, so a bug
there cannot hide itself here. Two checks per time step:

- **same lane** (spacing / headway): vehicles on one lane sorted by their distance
  along it; the follower's front must stay ``length + min_gap`` behind the leader's
  front (a tolerance absorbs the trace's rounding), unless the leader's body as it
  really lies (its trail: a vehicle just turned onto the lane is still across the one
  it came from) is ``min_gap`` or more from the follower's front.
- **bodies anywhere** (merges, junctions, neighbouring lanes): each body is the
  polyline from the front back through where the front was half and one body
  length of travel ago (its own trail), as a capsule of the vehicle's width whose
  round ends stay within its length; two capsules that meet are a collision.
"""

from __future__ import annotations

import csv
import itertools
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Its own figure on purpose: the checker shares no code with what it checks.
LENGTH_M = 16.5  # tractor + 40 ft trailer (fleet.vehicles.GUIDE_VEHICLE.length_m)
WIDTH_M = 2.55
MIN_GAP_M = 8.0
TOLERANCE_M = 0.5
HEADER = ["t_s", "vehicle_id", "lane_id", "s_m", "x_m", "y_m", "speed_mps"]


@dataclass(frozen=True)
class Violation:
    kind: str  # collision | headway
    t_s: float
    a: str
    b: str
    detail: str


@dataclass
class TraceReport:
    rows: int = 0
    vehicles: int = 0
    steps: int = 0
    violations: list[Violation] = field(default_factory=list)
    min_gap_m: float = math.inf  # smallest same-lane bumper gap seen while moving or not

    collision_count: int = 0  # rows-pairs (per time step) whose bodies overlap
    headway_count: int = 0  # row pairs (per time step) closer than the spacing on a lane
    headway_by_lane: dict[str, int] = field(default_factory=dict)

    @property
    def collisions(self) -> int:
        return self.collision_count

    @property
    def headway_violations(self) -> int:
        return self.headway_count


@dataclass
class Trace:
    t: np.ndarray
    vid: np.ndarray  # int codes
    lane: np.ndarray  # int codes ("" = not on a lane)
    s: np.ndarray
    x: np.ndarray
    y: np.ndarray
    v: np.ndarray
    vehicles: list[str]
    lanes: list[str]


def read_trace(path: Path | str) -> Trace:
    with open(path, newline="") as f:
        rd = csv.reader(f)
        header = next(rd)
        if header != HEADER:
            raise ValueError(f"{path}: header {header} is not {HEADER}")
        return trace_from_rows(rd)


def trace_from_rows(rows: Iterable[list[str]]) -> Trace:
    vids: dict[str, int] = {}
    lanes: dict[str, int] = {"": 0}
    t, vi, li, s, x, y, v = [], [], [], [], [], [], []
    for r in rows:
        t.append(float(r[0]))
        vi.append(vids.setdefault(r[1], len(vids)))
        li.append(lanes.setdefault(r[2], len(lanes)))
        s.append(float(r[3]))
        x.append(float(r[4]))
        y.append(float(r[5]))
        v.append(float(r[6]))
    return Trace(
        np.array(t),
        np.array(vi, dtype=np.int64),
        np.array(li, dtype=np.int64),
        np.array(s),
        np.array(x),
        np.array(y),
        np.array(v),
        list(vids),
        list(lanes),
    )


def check_trace(
    tr: Trace,
    length_m: float = LENGTH_M,
    width_m: float = WIDTH_M,
    min_gap_m: float = MIN_GAP_M,
    tolerance_m: float = TOLERANCE_M,
    max_reports: int = 100,
    groups: Mapping[str, str] | None = None,
) -> TraceReport:
    """Collisions and headway violations in ``tr``.

    ``groups`` (vehicle -> world, e.g. its corridor) keeps apart vehicles that never
    share a road: two corridors' traces use their own local frames and the same lane
    names, so without it a vehicle would be checked against one on the other corridor
    that only has the same coordinates. Vehicles it does not name form one group."""
    if groups:
        return _by_group(tr, groups, length_m, width_m, min_gap_m, tolerance_m, max_reports)
    rep = TraceReport(rows=len(tr.t), vehicles=len(tr.vehicles), steps=len(np.unique(tr.t)))
    if len(tr.t) == 0:
        return rep
    _same_lane(tr, rep, length_m, min_gap_m, tolerance_m, max_reports)
    _bodies(tr, rep, length_m, width_m, max_reports)
    return rep


def _by_group(
    tr: Trace,
    groups: Mapping[str, str],
    length_m: float,
    width_m: float,
    min_gap_m: float,
    tolerance_m: float,
    max_reports: int,
) -> TraceReport:
    names = sorted({groups.get(v, "") for v in tr.vehicles})
    of_vid = np.array([names.index(groups.get(v, "")) for v in tr.vehicles], dtype=np.int64)
    rep = TraceReport(rows=len(tr.t), vehicles=len(tr.vehicles), steps=len(np.unique(tr.t)))
    for k, name in enumerate(names):
        keep = of_vid[tr.vid] == k
        sub = Trace(
            tr.t[keep],
            tr.vid[keep],
            tr.lane[keep],
            tr.s[keep],
            tr.x[keep],
            tr.y[keep],
            tr.v[keep],
            tr.vehicles,
            tr.lanes,
        )
        r = check_trace(sub, length_m, width_m, min_gap_m, tolerance_m, max_reports)
        rep.violations += r.violations[: max(0, max_reports - len(rep.violations))]
        rep.min_gap_m = min(rep.min_gap_m, r.min_gap_m)
        rep.collision_count += r.collision_count
        rep.headway_count += r.headway_count
        for lane, n in r.headway_by_lane.items():
            key = f"{name}/{lane}" if len(names) > 1 else lane
            rep.headway_by_lane[key] = rep.headway_by_lane.get(key, 0) + n
    return rep


def _same_lane(
    tr: Trace, rep: TraceReport, length: float, gap: float, tol: float, cap: int
) -> None:
    on = tr.lane > 0
    order = np.lexsort((tr.s[on], tr.lane[on], tr.t[on]))
    t, lane, s, vid = tr.t[on][order], tr.lane[on][order], tr.s[on][order], tr.vid[on][order]
    same = (t[1:] == t[:-1]) & (lane[1:] == lane[:-1])
    spacing = s[1:] - s[:-1]  # leader front - follower front
    bumper = spacing - length
    # Closer than a body length on one lane is a headway violation for sure; whether the
    # bodies touch (a collision) is for the geometric check (a vehicle turning onto the
    # lane still has its body on the lane it came from).
    bad = same & (bumper < gap - tol)
    if bad.any():
        # Measured along the lane, a leader that has only just turned onto it seems to
        # have its body along the lane behind its front; the gap that matters is to its
        # body as it really lies (its trail), often still across the lane it came from.
        mx, my = _trail(tr, length / 2)
        rx, ry = _trail(tr, length)
        rows = np.flatnonzero(on)[order]
        for i in np.flatnonzero(bad):
            f, lead = rows[i], rows[i + 1]
            front = (float(tr.x[f]), float(tr.y[f]))
            body = (
                (float(tr.x[lead]), float(tr.y[lead])),
                (float(mx[lead]), float(my[lead])),
                (float(rx[lead]), float(ry[lead])),
            )
            clear = min(_pt_seg(front, body[0], body[1]), _pt_seg(front, body[1], body[2]))
            bumper[i] = clear  # the gap there really is
            if clear >= gap - tol:
                bad[i] = False
    if same.any():
        rep.min_gap_m = min(rep.min_gap_m, float(bumper[same].min()))
    for kind in ("headway",):
        hits = np.flatnonzero(bad)
        rep.headway_count += len(hits)
        for lane_code in np.unique(lane[hits]):
            name = tr.lanes[lane_code]
            rep.headway_by_lane[name] = int(np.sum(lane[hits] == lane_code))
        for i in hits[:cap]:
            rep.violations.append(
                Violation(
                    kind,
                    float(t[i]),
                    tr.vehicles[vid[i + 1]],
                    tr.vehicles[vid[i]],
                    f"lane {tr.lanes[lane[i]]}: fronts {spacing[i]:.2f} m apart",
                )
            )


def _trail(tr: Trace, back_m: float) -> tuple[np.ndarray, np.ndarray]:
    """Per row, where the front was ``back_m`` of travel earlier (its own trail)."""
    rx, ry = np.empty_like(tr.x), np.empty_like(tr.y)
    for k in range(len(tr.vehicles)):
        idx = np.flatnonzero(tr.vid == k)
        if idx.size == 0:
            continue  # checked with another group
        idx = idx[np.argsort(tr.t[idx], kind="stable")]
        x, y = tr.x[idx], tr.y[idx]
        step = np.hypot(np.diff(x), np.diff(y))
        travelled = np.concatenate(([0.0], np.cumsum(step)))
        j = np.searchsorted(travelled, travelled - back_m, side="right") - 1
        j = np.clip(j, 0, None)
        bx, by = x[j], y[j]
        # Before it has moved a body length, extend backwards along its first motion.
        short = travelled - travelled[j] < back_m - 1e-6
        moved = np.flatnonzero(step > 1e-6)
        if moved.size:
            i0 = moved[0]
            hx, hy = x[i0 + 1] - x[i0], y[i0 + 1] - y[i0]
        else:
            hx, hy = 0.0, 0.0  # never moved: heading unknown, the body is its front
        n = math.hypot(hx, hy) or 1.0
        rem = back_m - (travelled - travelled[j])
        bx = np.where(short, bx - hx / n * rem, bx)
        by = np.where(short, by - hy / n * rem, by)
        rx[idx], ry[idx] = bx, by
    return rx, ry


def _bodies(tr: Trace, rep: TraceReport, length: float, width: float, cap: int) -> None:
    # A body is two segments along its trail (front, middle, rear): curves stay inside.
    mx, my = _trail(tr, length / 2)
    rx, ry = _trail(tr, length)
    # Capsules (segment + radius width/2) with the caps inside the body's length: pull
    # both ends in by width/2, so bodies touching end to end are caught at contact.
    fx, fy = _pull(tr.x, tr.y, mx, my, width / 2)
    rx, ry = _pull(rx, ry, mx, my, width / 2)
    order = np.lexsort((tr.vid, tr.t))
    t = tr.t[order]
    bounds = np.flatnonzero(np.diff(t)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(t)]))
    reach = length + width
    found = 0
    for a, b in zip(starts, ends, strict=True):
        if b - a < 2:
            continue
        rows = order[a:b]
        x, y = tr.x[rows], tr.y[rows]
        dx = x[:, None] - x[None, :]
        dy = y[:, None] - y[None, :]
        near = (dx * dx + dy * dy) < reach * reach * 4
        ii, jj = np.nonzero(np.triu(near, 1))
        for i, j in zip(ii, jj, strict=True):
            p, q = rows[i], rows[j]
            body_p = (
                ((fx[p], fy[p]), (mx[p], my[p])),
                ((mx[p], my[p]), (rx[p], ry[p])),
            )
            body_q = (
                ((fx[q], fy[q]), (mx[q], my[q])),
                ((mx[q], my[q]), (rx[q], ry[q])),
            )
            d = min(_seg_dist(a1, a2, b1, b2) for a1, a2 in body_p for b1, b2 in body_q)
            if d < width:
                found += 1
                rep.collision_count += 1
                if found <= cap:
                    rep.violations.append(
                        Violation(
                            "collision",
                            float(tr.t[p]),
                            tr.vehicles[tr.vid[p]],
                            tr.vehicles[tr.vid[q]],
                            f"bodies {d:.2f} m apart (lanes {tr.lanes[tr.lane[p]]}, "
                            f"{tr.lanes[tr.lane[q]]})",
                        )
                    )


Point = tuple[float, float]


def _pull(
    x: np.ndarray, y: np.ndarray, tx: np.ndarray, ty: np.ndarray, d: float
) -> tuple[np.ndarray, np.ndarray]:
    """Move each point (x, y) up to ``d`` towards (tx, ty) (not past it)."""
    dx, dy = tx - x, ty - y
    n = np.hypot(dx, dy)
    k = np.where(n > 1e-9, np.minimum(d, n) / np.where(n > 1e-9, n, 1.0), 0.0)
    return x + dx * k, y + dy * k


def _seg_dist(p1: Point, p2: Point, q1: Point, q2: Point) -> float:
    """Distance between segments p1-p2 and q1-q2."""
    if _intersects(p1, p2, q1, q2):
        return 0.0
    return min(_pt_seg(p1, q1, q2), _pt_seg(p2, q1, q2), _pt_seg(q1, p1, p2), _pt_seg(q2, p1, p2))


def _pt_seg(p: Point, a: Point, b: Point) -> float:
    ax, ay = a
    dx, dy = b[0] - ax, b[1] - ay
    L2 = dx * dx + dy * dy
    u = 0.0 if L2 == 0 else max(0.0, min(1.0, ((p[0] - ax) * dx + (p[1] - ay) * dy) / L2))
    return math.hypot(ax + u * dx - p[0], ay + u * dy - p[1])


def _intersects(p1: Point, p2: Point, q1: Point, q2: Point) -> bool:
    def cross(o: Point, a: Point, b: Point) -> float:
        return (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0])

    d1, d2 = cross(q1, q2, p1), cross(q1, q2, p2)
    d3, d4 = cross(p1, p2, q1), cross(p1, p2, q2)
    return d1 * d2 < 0 and d3 * d4 < 0


def main(argv: list[str] | None = None) -> int:
    """``python -m sim_worlds.trace_checker TRACE.csv [--by-prefix]``: exit 1 on any
    violation. ``--by-prefix`` checks each vehicle-id prefix (``hn_``, ``tt_``: the
    simulator's corridors) on its own."""
    import sys

    args = sys.argv[1:] if argv is None else argv
    tr = read_trace(args[0])
    groups = {v: v.split("_")[0] for v in tr.vehicles} if "--by-prefix" in args else None
    rep = check_trace(tr, groups=groups)
    for v in itertools.islice(rep.violations, 20):
        print(f"{v.kind} t={v.t_s:.1f} {v.a} {v.b}: {v.detail}")
    print(
        f"{rep.rows} rows, {rep.vehicles} vehicles: {rep.collisions} collisions, "
        f"{rep.headway_violations} headway violations, min same-lane gap {rep.min_gap_m:.2f} m"
    )
    return 1 if rep.violations else 0


if __name__ == "__main__":
    raise SystemExit(main())
