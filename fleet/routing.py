"""Time-optimal routes on a corridor's guide graph.

A route is the fastest path by free-flow travel time (edge length / speed
limit) using Dijkstra's algorithm, O((V + E) log V). Conflict-free timing for
many vehicles is the traffic planner's job; this module answers "which lanes,
in which order, and where exactly", which every layer below needs.
"""

from __future__ import annotations

import itertools
import math
from bisect import bisect_right
from dataclasses import dataclass
from functools import cached_property

import networkx as nx
import shapely
from shapely import LineString

from maps.lane_graph import EdgeAttrs


class RoutingError(ValueError):
    """A route request that cannot be served (unknown node, unreachable goal...)."""


@dataclass(frozen=True)
class RouteLeg:
    """One lane-graph edge of a route."""

    u: str
    v: str
    lane_id: str
    kind: str
    length_m: float
    speed_mps: float
    start_m: float  # distance along the route where this leg starts


@dataclass(frozen=True)
class Route:
    corridor: str
    nodes: tuple[str, ...]
    legs: tuple[RouteLeg, ...]
    line: LineString  # metric polyline of the whole route

    @cached_property
    def length_m(self) -> float:
        return sum(leg.length_m for leg in self.legs)

    @cached_property
    def leg_starts(self) -> tuple[float, ...]:
        return tuple(leg.start_m for leg in self.legs)

    @cached_property
    def lane_starts(self) -> tuple[tuple[str, float], ...]:
        """(lane, start along the route) per leg: every route command carries them."""
        return tuple((leg.lane_id, leg.start_m) for leg in self.legs)

    @cached_property
    def leg_ends_reached(self) -> tuple[float, ...]:
        """Per leg, the farthest end (start + length) of it and the legs before it: all
        legs before ``bisect_right(leg_ends_reached, s)`` end at or before ``s``."""
        return tuple(itertools.accumulate((leg.start_m + leg.length_m for leg in self.legs), max))

    @cached_property
    def polyline(self) -> tuple[tuple[tuple[float, float], ...], tuple[float, ...]]:
        """The line's points and the distance along it of each (computed once: every
        state report is matched against it)."""
        pts = tuple((float(x), float(y)) for x, y in self.line.coords)
        cum = [0.0]
        for (x0, y0), (x1, y1) in itertools.pairwise(pts):
            cum.append(cum[-1] + math.hypot(x1 - x0, y1 - y0))
        return pts, tuple(cum)

    def project_near(self, x: float, y: float, lo: float, hi: float) -> tuple[float, float]:
        """(distance along the route, distance from it) of the point of the stretch
        [lo, hi] closest to (x, y); O(log n + k) for the k segments in the stretch."""
        pts, cum = self.polyline
        i = max(0, bisect_right(cum, lo) - 1)
        best_s, best_d2 = lo, math.inf
        while i < len(pts) - 1 and cum[i] <= hi:
            seg = cum[i + 1] - cum[i]
            (x0, y0), (x1, y1) = pts[i], pts[i + 1]
            if seg > 0.0:
                t = ((x - x0) * (x1 - x0) + (y - y0) * (y1 - y0)) / (seg * seg)
                t = min(max(t, (lo - cum[i]) / seg, 0.0), (hi - cum[i]) / seg, 1.0)
            else:
                t = 0.0
            px, py = x0 + t * (x1 - x0), y0 + t * (y1 - y0)
            d2 = (px - x) ** 2 + (py - y) ** 2
            if d2 < best_d2:
                best_s, best_d2 = cum[i] + t * seg, d2
            i += 1
        return best_s, math.sqrt(best_d2)

    @property
    def lanes(self) -> list[str]:
        """Lane/connector ids in travel order, without repeats."""
        out: list[str] = []
        for leg in self.legs:
            if not out or out[-1] != leg.lane_id:
                out.append(leg.lane_id)
        return out

    @property
    def free_flow_s(self) -> float:
        return sum(leg.length_m / leg.speed_mps for leg in self.legs)

    def leg_at(self, dist_m: float) -> RouteLeg:
        """The leg containing the point ``dist_m`` metres along the route."""
        i = max(0, bisect_right(self.leg_starts, dist_m) - 1)
        leg = self.legs[i]
        return leg if dist_m < leg.start_m + leg.length_m else self.legs[-1]

    def speed_limit_at(self, dist_m: float) -> float:
        return self.leg_at(dist_m).speed_mps

    def timed_waypoints(
        self, t0: float, spacing_m: float = 2.0
    ) -> list[tuple[float, float, float]]:
        """(x, y, planned time) every ``spacing_m`` metres at free-flow speed.

        The points are interpolated in one vectorised call (the same GEOS computation
        per point as ``line.interpolate``, without a Python round trip each)."""
        ds: list[float] = []
        ts: list[float] = []
        t = t0
        for leg in self.legs:
            n = max(1, int(leg.length_m // spacing_m))
            for i in range(n):
                ds.append(leg.start_m + leg.length_m * i / n)
                ts.append(t + (leg.length_m * i / n) / leg.speed_mps)
            t += leg.length_m / leg.speed_mps
        pts = shapely.get_coordinates(shapely.line_interpolate_point(self.line, ds)).tolist()
        out = [(x, y, tt) for (x, y), tt in zip(pts, ts, strict=True)]
        end = self.line.coords[-1]
        out.append((float(end[0]), float(end[1]), t))
        return out


def fastest_route(g: nx.DiGraph, start: str, goal: str) -> Route:
    """Fastest route from ``start`` to ``goal`` on a guide graph.

    Raises RoutingError naming the problem when a node is unknown or the goal
    is unreachable; never returns a partial route.
    """
    for name, node in (("start", start), ("goal", goal)):
        if node not in g:
            raise RoutingError(
                f"unknown {name} node {node!r} on corridor {g.graph.get('corridor')}"
            )
    if start == goal:
        raise RoutingError(f"start and goal are the same node {start!r}")
    try:
        nodes = nx.dijkstra_path(g, start, goal, weight="travel_time_s")
    except nx.NetworkXNoPath:
        raise RoutingError(f"goal {goal!r} is unreachable from {start!r}") from None
    return route_along(g, nodes)


def route_along(g: nx.DiGraph, nodes: list[str] | tuple[str, ...]) -> Route:
    """The route that follows ``nodes`` exactly (e.g. a path the traffic planner chose).

    Raises RoutingError when two consecutive nodes are not joined by a lane."""
    if len(nodes) < 2:
        raise RoutingError("a route needs at least two nodes")
    legs: list[RouteLeg] = []
    coords: list[tuple[float, float]] = []
    dist = 0.0
    for u, v in itertools.pairwise(nodes):
        if not g.has_edge(u, v):
            raise RoutingError(f"{u} -> {v} is not a lane of the guide graph")
        e: EdgeAttrs = g.edges[u, v]
        legs.append(RouteLeg(u, v, e["lane_id"], e["kind"], e["length_m"], e["speed_mps"], dist))
        dist += e["length_m"]
        pts = [(float(x), float(y)) for x, y in e["geometry"].coords]
        coords.extend(pts if not coords else pts[1:])
    return Route(str(g.graph.get("corridor", "")), tuple(nodes), tuple(legs), LineString(coords))
