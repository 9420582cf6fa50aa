"""Vehicle-side path following: pure pursuit steering and a stopping speed profile.

Pure Python (no rclpy) so it is unit-tested directly; the guide_vehicle node
feeds it odometry and sends what it returns as cmd_vel. The speed profile
never plans past its limit: the end of the path or, if set lower, the end of
the vehicle's current reservation (:meth:`PathFollower.set_limit`), so the
vehicle always can, and does, stop there.
"""

from __future__ import annotations

import bisect
import itertools
import math
from dataclasses import dataclass

COMFORT_DECEL_MPS2 = 1.0
STOP_TOLERANCE_M = 0.3
# 2 x the 5.6 m turning radius x sin 45 deg: pure pursuit then cuts 90-degree corners
# inside, within the steering limit.
MIN_LOOKAHEAD_M = 8.0
LOCATE_AHEAD_M = 30.0  # a fix is searched for this far beyond the last one


@dataclass(frozen=True)
class Command:
    speed_mps: float
    yaw_rate: float
    remaining_m: float
    done: bool


class PathFollower:
    """Follows a list of timed waypoints (x, y, t) and stops at the last one."""

    def __init__(self, waypoints: list[tuple[float, float, float]], max_speed_mps: float) -> None:
        if len(waypoints) < 2:
            raise ValueError("a path needs at least two waypoints")
        self.pts = [(x, y) for x, y, _ in waypoints]
        self.cum = [0.0]
        for (x0, y0), (x1, y1) in zip(self.pts, self.pts[1:], strict=False):
            self.cum.append(self.cum[-1] + math.hypot(x1 - x0, y1 - y0))
        # Planned speed per segment from the waypoint times (the lane's limit).
        self.seg_speed = []
        for i in range(len(waypoints) - 1):
            dt = waypoints[i + 1][2] - waypoints[i][2]
            ds = self.cum[i + 1] - self.cum[i]
            self.seg_speed.append(min(max_speed_mps, ds / dt) if dt > 1e-6 else max_speed_mps)
        self.max_speed = max_speed_mps
        # Per segment, what every fix and speed look-ahead would otherwise recompute:
        # start point, direction vector, squared length; squared planned speed.
        self._segs = []
        for (x0, y0), (x1, y1) in itertools.pairwise(self.pts):
            dx, dy = x1 - x0, y1 - y0
            self._segs.append((x0, y0, dx, dy, dx * dx + dy * dy))
        self._speed_sq = [v**2 for v in self.seg_speed]
        # Per segment, the next one with another planned speed: along a run of equal
        # speeds the look-ahead's bound only grows, so its first segment decides.
        self._run_end = [len(self.seg_speed)] * len(self.seg_speed)
        for j in range(len(self.seg_speed) - 2, -1, -1):
            same = self._speed_sq[j + 1] == self._speed_sq[j]
            self._run_end[j] = self._run_end[j + 1] if same else j + 1
        self.idx = 0
        self.length = self.cum[-1]
        self.limit_m = self.length  # where the vehicle must stop (reservation end)
        self.progress_m = 0.0  # distance along the path at the last command
        self._located = False

    def set_limit(self, limit_m: float) -> None:
        """Stop at ``limit_m`` along the path (clamped to the path) instead of its end."""
        self.limit_m = max(0.0, min(self.length, limit_m))

    def crossing_m(self, line: list[tuple[float, float]]) -> float | None:
        """Distance along the path where it first crosses the polyline ``line``, if it does."""
        for i in range(len(self.pts) - 1):
            p, r = self.pts[i], self.pts[i + 1]
            for q, q2 in itertools.pairwise(line):
                t = _segment_hit(p, r, q, q2)
                if t is not None:
                    return self.cum[i] + t * (self.cum[i + 1] - self.cum[i])
        return None

    def _locate(self, x: float, y: float) -> float:
        """Distance along the path of the closest point, searching forward only."""
        best_i, best_d, best_t = self.idx, math.inf, 0.0
        # The first fix searches the whole path (a vehicle may start part-way along it);
        # later ones the next 40 segments within LOCATE_AHEAD_M (between two fixes a
        # vehicle moves a few metres; dense waypoints in curves make 40 segments short).
        end = len(self.pts) - 1
        if self._located:
            end = min(self.idx + 40, end)
            reach = self.cum[self.idx] + LOCATE_AHEAD_M
            end = min(end, bisect.bisect_right(self.cum, reach, self.idx, end) + 1)
        self._located = True
        segs = self._segs
        for i in range(self.idx, end):
            x0, y0, dx, dy, seg2 = segs[i]
            if seg2 == 0:
                t = 0.0
            else:
                t = ((x - x0) * dx + (y - y0) * dy) / seg2
                t = 0.0 if t < 0.0 else 1.0 if t > 1.0 else t  # max(0, min(1, t))
            d = (x0 + t * dx - x) ** 2 + (y0 + t * dy - y) ** 2
            if d < best_d:
                best_i, best_d, best_t = i, d, t
        self.idx = best_i
        return self.cum[best_i] + best_t * (self.cum[best_i + 1] - self.cum[best_i])

    def _point_at(self, s: float) -> tuple[float, float]:
        s = max(0.0, min(self.length, s))
        cum = self.cum
        i = max(0, min(len(cum) - 2, bisect.bisect_right(cum, s) - 1))
        seg = cum[i + 1] - cum[i]
        t = 0.0 if seg == 0 else (s - cum[i]) / seg
        x0, y0, dx, dy, _ = self._segs[i]
        return x0 + t * dx, y0 + t * dy

    def command(self, x: float, y: float, yaw: float, v: float) -> Command:
        s = self._locate(x, y)
        self.progress_m = s
        remaining = self.limit_m - s
        if remaining <= STOP_TOLERANCE_M:
            return Command(0.0, 0.0, max(0.0, remaining), True)
        segs = len(self.seg_speed)
        target = self.seg_speed[min(self.idx, segs - 1)]
        # Look ahead for slower segments and for the end of the path (sqrt is monotonic:
        # the least root is the root of the least square; within a run of one speed the
        # square grows with the distance ahead, so only each run's first segment counts).
        cum, speed_sq, decel2 = self.cum, self._speed_sq, 2 * COMFORT_DECEL_MPS2
        run_end = self._run_end
        reach = s + 40.0
        least = math.inf
        j = self.idx
        while j < segs and cum[j] < reach:
            ahead = cum[j] - s
            sq = speed_sq[j] + decel2 * (ahead if ahead > 0.0 else 0.0)
            if sq < least:
                least = sq
            j = run_end[j]
        if least < math.inf:
            target = min(target, math.sqrt(least))
        stop = math.sqrt(2 * COMFORT_DECEL_MPS2 * max(0.0, remaining - STOP_TOLERANCE_M / 2))
        target = min(target, stop, self.max_speed)
        # Creep the last centimetres instead of stalling short of the line.
        target = max(target, min(0.3, remaining))
        # Never closer than MIN_LOOKAHEAD_M: a shorter look at a corner asks for a tighter
        # turn than the steering allows, and the vehicle swings wide into the next lane.
        lookahead = max(MIN_LOOKAHEAD_M, 1.2 * v + 2.0)
        look = s + lookahead
        tx, ty = self._point_at(look)
        if look > self.length:  # extend the last segment so the end stays ahead
            (x0, y0), (x1, y1) = self.pts[-2], self.pts[-1]
            n = math.hypot(x1 - x0, y1 - y0) or 1.0
            extra = look - self.length
            tx, ty = x1 + (x1 - x0) / n * extra, y1 + (y1 - y0) / n * extra
        alpha = math.atan2(ty - y, tx - x) - yaw
        alpha = math.atan2(math.sin(alpha), math.cos(alpha))
        curvature = 2.0 * math.sin(alpha) / lookahead
        return Command(target, curvature * max(v, 0.5), remaining, False)


def _segment_hit(
    p: tuple[float, float], r: tuple[float, float], q: tuple[float, float], q2: tuple[float, float]
) -> float | None:
    """Fraction along p->r where it meets segment q->q2, or None."""
    dx, dy = r[0] - p[0], r[1] - p[1]
    ex, ey = q2[0] - q[0], q2[1] - q[1]
    den = dx * ey - dy * ex
    if abs(den) < 1e-12:
        return None
    t = ((q[0] - p[0]) * ey - (q[1] - p[1]) * ex) / den
    u = ((q[0] - p[0]) * dy - (q[1] - p[1]) * dx) / den
    return t if 0.0 <= t <= 1.0 and 0.0 <= u <= 1.0 else None
