"""The independent plan checker catches hand-made violations and passes safe plans."""

from __future__ import annotations

import networkx as nx
import pytest

from fleet.routing import fastest_route
from fleet.traffic.checker import Violation, check_plans
from fleet.traffic.timed_route import SeparationRules, TimedRoute


def plan(
    g: nx.DiGraph,
    vid: str,
    start: str,
    goal: str,
    t0: float = 0.0,
    dwell: dict[str, float] | None = None,
    speed_factor: float = 1.0,
) -> TimedRoute:
    """Free-flow timed route, optionally dwelling at some nodes."""
    r = fastest_route(g, start, goal)
    t, s = t0, 0.0
    prof = [(t, s)]
    for leg in r.legs:
        s += leg.length_m
        t += leg.length_m / (leg.speed_mps * speed_factor)
        prof.append((t, s))
        if dwell and leg.v in dwell:
            t += dwell[leg.v]
            prof.append((t, s))
    return TimedRoute(vid, r.nodes, tuple(prof))


@pytest.fixture
def g(graphs: dict[str, nx.DiGraph]) -> nx.DiGraph:
    return graphs["huu-nghi"]


def kinds(violations: list[Violation]) -> set[str]:
    return {v.kind for v in violations}


def test_a_single_free_flow_route_is_clean(g: nx.DiGraph) -> None:
    assert check_plans(g, [plan(g, "a", "vn-spot-L1", "SL-E-zero")]) == []


def test_vehicles_stay_where_their_routes_end(g: nx.DiGraph) -> None:
    # Safe spacing on the way, but all four end on the same stop line: a vehicle
    # stays where its route ends, so the checker must see the pile-up.
    routes = [plan(g, f"v{i}", "vn-spot-L1", "SL-E-zero", t0=12.0 * i) for i in range(4)]
    violations = check_plans(g, routes)
    assert violations, "vehicles piling onto the same stop line must be caught"
    assert kinds(violations) <= {"spacing", "headway"}


def test_followers_to_different_goals_are_clean(g: nx.DiGraph) -> None:
    a = plan(g, "a", "vn-spot-L1", "SL-E-zero")
    b = plan(g, "b", "vn-spot-L1", "vn-scan:exit@E-AUTO", t0=12.0)
    assert check_plans(g, [a, b]) == []


def test_too_close_behind_is_a_spacing_violation(g: nx.DiGraph) -> None:
    a = plan(g, "a", "vn-spot-L1", "SL-E-zero")
    b = plan(g, "b", "vn-spot-L1", "vn-scan:exit@E-AUTO", t0=4.0)  # 11 m behind in the yard
    (v,) = [x for x in check_plans(g, [a, b]) if x.kind == "spacing"][:1]
    assert set(v.vehicles) == {"a", "b"} and "need 24.50 m" in v.detail


def test_headway_is_checked_separately_from_distance(g: nx.DiGraph) -> None:
    a = plan(g, "a", "vn-spot-L1", "SL-E-zero")
    b = plan(g, "b", "vn-spot-L1", "vn-scan:exit@E-AUTO", t0=12.0)
    strict = SeparationRules(min_gap_m=1.0, min_headway_s=15.0)
    assert "headway" in kinds(check_plans(g, [a, b], strict))


def test_overtaking_a_stopped_vehicle_is_caught(g: nx.DiGraph) -> None:
    a = plan(g, "a", "vn-spot-L1", "SL-E-zero", dwell={"vn-quarantine:entry@E-AUTO": 120.0})
    b = plan(g, "b", "vn-spot-L1", "SL-E-zero", t0=30.0)
    assert "overtaking" in kinds(check_plans(g, [a, b]))


def test_merging_from_two_bays_at_once_is_a_junction_conflict(g: nx.DiGraph) -> None:
    # L2's exit is 25 m up the yard road from L1's: at yard speed (10 km/h) b reaches
    # L1's junction 9 s after leaving; a leaves 9 s later, so both arrive there at once.
    a = plan(g, "a", "vn-spot-L1", "vn-scan:exit@E-AUTO", t0=9.0)
    b = plan(g, "b", "vn-spot-L2", "vn-scan:exit@E-AUTO")
    junction = [v for v in check_plans(g, [a, b]) if v.kind == "junction"]
    assert junction and set(junction[0].vehicles) == {"a", "b"}


def test_wrong_way_speeding_and_bad_profiles(g: nx.DiGraph) -> None:
    good = plan(g, "a", "vn-spot-L1", "SL-E-zero")
    wrong_way = TimedRoute("w", tuple(reversed(good.nodes[-3:])), ((0.0, 0.0), (100.0, 50.0)))
    fast = plan(g, "f", "vn-spot-L1", "SL-E-zero", t0=600.0, speed_factor=1.5)
    backwards = TimedRoute("r", good.nodes, ((0.0, 0.0), (10.0, 20.0), (20.0, 10.0)))
    stuck_clock = TimedRoute("c", good.nodes, ((5.0, 0.0), (5.0, good.profile[-1][1])))
    length = good.profile[-1][1]
    short = TimedRoute("s", good.nodes, ((900.0, 0.0), (2000.0, length + 100.0)))
    negative = TimedRoute("n", good.nodes, ((-5.0, 0.0), (2000.0, good.profile[-1][1])))
    vs = check_plans(g, [wrong_way, fast, backwards, stuck_clock, short, negative])
    found = {(v.vehicles[0], v.kind, v.detail) for v in vs}

    def has(vid: str, kind: str, text: str) -> bool:
        return any(v == vid and k == kind and text in d for v, k, d in found)

    assert has("w", "bad_route", "against the lane direction")
    assert has("f", "speeding", "over the")
    assert has("r", "bad_profile", "reverses")
    assert has("c", "bad_profile", "time does not increase")
    assert has("s", "bad_profile", "profile spans")
    assert has("n", "bad_profile", "negative time")
    assert not any(v.vehicles[0] == "a" for v in vs)


def test_must_stop_at_the_zero_line_before_crossing(g: nx.DiGraph) -> None:
    through = plan(g, "a", "vn-spot-L1", "cn-spot-L1")
    stops = plan(g, "b", "vn-spot-L1", "cn-spot-L2", t0=3600.0, dwell={"SL-E-zero": 30.0})
    vs = check_plans(g, [through, stops], must_stop=frozenset({"SL-E-zero"}))
    assert [(v.kind, v.vehicles) for v in vs] == [("missing_stop", ("a",))]


def test_the_same_vehicle_twice_is_rejected(g: nx.DiGraph) -> None:
    r = plan(g, "a", "vn-spot-L1", "SL-E-zero")
    assert kinds(check_plans(g, [r, r])) == {"bad_route"}
