"""Timed routes: what the traffic planner promises and the plan checker verifies.

A timed route is a vehicle's path on the lane graph (a node sequence) plus a
motion profile: breakpoints ``(t, s)`` where ``s`` is the distance of the
vehicle's front along the path. Between breakpoints the vehicle moves at
constant speed, so a profile can hold a vehicle anywhere (a queue in the
middle of a lane, a stop line, a checkpoint) and still be checked exactly:
positions are piecewise linear in time.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass

from fleet.vehicles import GUIDE_VEHICLE


@dataclass(frozen=True)
class SeparationRules:
    """Minimum spacing between guide vehicles (defaults: tractor + 40 ft container)."""

    vehicle_length_m: float = GUIDE_VEHICLE.length_m
    min_gap_m: float = 8.0  # bumper to bumper
    min_headway_s: float = 2.0  # time between two vehicles passing the same point

    @property
    def min_spacing_m(self) -> float:
        """Front-to-front distance needed between a follower and its leader."""
        return self.vehicle_length_m + self.min_gap_m


@dataclass(frozen=True)
class TimedRoute:
    vehicle_id: str
    nodes: tuple[str, ...]
    profile: tuple[tuple[float, float], ...]  # (time s, distance of the front along the path m)

    def position_at(self, t: float) -> float:
        """Front position at time t (held at the ends outside the profile's span)."""
        ts = [p[0] for p in self.profile]
        if t <= ts[0]:
            return self.profile[0][1]
        if t >= ts[-1]:
            return self.profile[-1][1]
        i = bisect_right(ts, t) - 1
        (t0, s0), (t1, s1) = self.profile[i], self.profile[i + 1]
        return s0 + (s1 - s0) * (t - t0) / (t1 - t0)

    def time_at(self, s: float) -> tuple[float, float]:
        """First and last time the front is at distance s (equal unless it waits there)."""
        first = last = None
        for (t0, s0), (t1, s1) in zip(self.profile, self.profile[1:], strict=False):
            if s0 <= s <= s1:
                t = t0 if s1 == s0 else t0 + (t1 - t0) * (s - s0) / (s1 - s0)
                first = t if first is None else first
                last = t1 if s1 == s0 else t
        if first is None or last is None:
            raise ValueError(f"{self.vehicle_id}: distance {s} m is not on its route")
        return first, last
