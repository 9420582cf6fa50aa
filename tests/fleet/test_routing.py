"""Fastest routes on the guide graph."""

from __future__ import annotations

import itertools

import networkx as nx
import pytest
from shapely import LineString

from fleet.routing import RoutingError, fastest_route
from maps.lane_graph import build_lane_graph


def _grid() -> nx.DiGraph:
    g = nx.DiGraph(corridor="t")
    pts = {"a": (0, 0), "b": (100, 0), "c": (100, 100), "d": (0, 100)}
    # a->b->c is short but slow; a->d->c is the same length and fast.
    for u, v, speed in [("a", "b", 2.0), ("b", "c", 2.0), ("a", "d", 10.0), ("d", "c", 10.0)]:
        geom = LineString([pts[u], pts[v]])
        g.add_edge(
            u,
            v,
            lane_id=f"{u}{v}",
            kind="connector",
            length_m=100.0,
            speed_mps=speed,
            travel_time_s=100.0 / speed,
            geometry=geom,
        )
    return g


def test_route_is_time_optimal_not_distance_optimal() -> None:
    r = fastest_route(_grid(), "a", "c")
    assert r.nodes == ("a", "d", "c")
    assert r.free_flow_s == pytest.approx(20.0)
    assert r.line.length == pytest.approx(200.0)


def test_matches_brute_force_on_the_corridor(graphs: dict[str, nx.DiGraph]) -> None:
    g = graphs["huu-nghi"]
    r = fastest_route(g, "vn-spot-L3", "SL-E-zero")
    best = min(
        sum(g.edges[u, v]["travel_time_s"] for u, v in itertools.pairwise(p))
        for p in nx.all_simple_paths(g, "vn-spot-L3", "SL-E-zero", cutoff=40)
    )
    assert r.free_flow_s == pytest.approx(best)
    assert r.lanes[-1] == "E-AUTO"
    assert r.line.coords[-1] == pytest.approx(
        (g.nodes["SL-E-zero"]["x"], g.nodes["SL-E-zero"]["y"])
    )


def test_timed_waypoints_follow_speed_limits(graphs: dict[str, nx.DiGraph]) -> None:
    r = fastest_route(graphs["tan-thanh"], "vn-spot-L1", "SL-E-zero")
    wps = r.timed_waypoints(100.0)
    assert wps[0][2] == pytest.approx(100.0)
    assert wps[-1][2] == pytest.approx(100.0 + r.free_flow_s)
    assert all(b[2] >= a[2] for a, b in itertools.pairwise(wps))


def test_bad_requests_get_clear_errors(graphs: dict[str, nx.DiGraph], maps: dict) -> None:
    g = graphs["huu-nghi"]
    with pytest.raises(RoutingError, match="unknown goal node 'nowhere'"):
        fastest_route(g, "vn-spot-L1", "nowhere")
    with pytest.raises(RoutingError, match="unknown start node"):
        fastest_route(g, "mars", "SL-E-zero")
    full = build_lane_graph(maps["huu-nghi"])
    traditional = next(u for u, v, k in full.edges(data="kind") if k == "traditional")
    with pytest.raises(RoutingError, match="unknown goal node"):
        fastest_route(g, "vn-spot-L1", traditional)  # traditional lanes are not in the guide graph
    cut = g.copy()
    cut.remove_edges_from(list(cut.in_edges("SL-E-zero")))
    with pytest.raises(RoutingError, match="unreachable"):
        fastest_route(cut, "vn-spot-L1", "SL-E-zero")


def test_matching_a_position_near_the_route_agrees_with_shapely(
    graphs: dict[str, nx.DiGraph],
) -> None:
    """``Route.project_near`` (every state report goes through it) is shapely's
    ``substring(line, lo, hi).project(p)`` and ``.distance(p)``, without building the
    substring: checked on a yard-to-yard route, at points off it, windows anywhere."""
    import random

    from shapely import Point
    from shapely.ops import substring

    r = fastest_route(graphs["huu-nghi"], "vn-spot-L3", "cn-spot-L5")
    rng = random.Random(7)
    for _ in range(300):
        lo = rng.uniform(0.0, r.length_m - 1.0)
        hi = min(r.length_m, lo + rng.uniform(1.0, 120.0))
        base = r.line.interpolate(rng.uniform(max(0.0, lo - 20.0), min(r.length_m, hi + 20.0)))
        p = Point(base.x + rng.uniform(-6.0, 6.0), base.y + rng.uniform(-6.0, 6.0))
        window = substring(r.line, lo, hi)
        along, off = r.project_near(p.x, p.y, lo, hi)
        assert off == pytest.approx(window.distance(p), abs=1e-6)
        # Same closest point (its distance along may differ only where two are as close).
        q = r.line.interpolate(along)
        assert q.distance(p) == pytest.approx(off, abs=1e-6)
        assert lo - 1e-6 <= along <= hi + 1e-6
