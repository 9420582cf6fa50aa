"""The traffic planner: every plan it makes passes the independent checker.

Each test checks both the current plan table and the stitched traces (what
every vehicle was told to do since it was added), so a re-plan that broke an
earlier promise is caught too.
"""

from __future__ import annotations

import itertools

import networkx as nx
import pytest

from bench.corridor_plan import make_instance, run_planner
from fleet.traffic.checker import check_plans
from fleet.traffic.planner import PlanError, PlannerConfig, Priority, TrafficPlanner
from fleet.traffic.timed_route import TimedRoute

HANDOFF = PlannerConfig(handoff_dwell_s=20.0)


@pytest.fixture
def g(graphs: dict[str, nx.DiGraph]) -> nx.DiGraph:
    return graphs["huu-nghi"]


def assert_safe(p: TrafficPlanner) -> None:
    now = check_plans(p.g, p.routes(), p.cfg.rules, p.must_stop)
    assert now == [], "\n".join(map(str, now))
    traces = check_plans(p.g, [p.trace(v) for v in p.vehicles()], p.cfg.rules, p.must_stop)
    assert traces == [], "\n".join(map(str, traces))


def in_bays(g: nx.DiGraph, cfg: PlannerConfig = HANDOFF, bays: str = "L1 L2 L3") -> TrafficPlanner:
    p = TrafficPlanner(g, cfg)
    for i, bay in enumerate(bays.split()):
        p.add_vehicle(f"v{i}", (f"vn-bay-{bay}:start", f"vn-spot-{bay}"), 55.0, 0.0)
    return p


def test_vehicles_from_three_bays_cross_without_conflict(g: nx.DiGraph) -> None:
    p = in_bays(g)
    for vid, goal in (("v0", "cn-spot-L1"), ("v1", "cn-spot-L2"), ("v2", "cn-spot-L3")):
        p.request(vid, goal, 0.0)
    assert all(p.status(v).state == "moving" for v in p.vehicles())
    assert_safe(p)
    # Every profile is within the speed limits and dwells at the zero line (checker),
    # and they leave the yard one after the other through the merges.
    etas = sorted(p.status(v).eta_s or 0.0 for v in p.vehicles())
    assert etas[1] - etas[0] > 2.0 and etas[2] - etas[1] > 2.0


def test_a_vehicle_holds_behind_one_standing_at_its_goal(g: nx.DiGraph) -> None:
    p = in_bays(g)
    p.request("v0", "cn-spot-L1", 0.0)
    p.request("v1", "cn-spot-L1", 0.0)  # same spot: v0 will stand there
    st = p.status("v1")
    assert st.state == "holding" and st.hold_reason == "vehicle v0" and st.eta_s is None
    assert_safe(p)
    # v0 gets a new goal when it has arrived: v1 is released and reaches the spot.
    t = (p.status("v0").eta_s or 0.0) + 30.0
    p.request("v0", "vn-spot-L4", t)
    assert p.status("v1").state == "moving"
    assert p.route("v1").nodes[-1] == "cn-spot-L1"
    assert_safe(p)


def test_arrival_closes_the_mission_in_place_only_once_the_plan_is_there(
    g: nx.DiGraph,
) -> None:
    p = in_bays(g)
    p.request("v0", "cn-spot-L1", 0.0, Priority.PERISHABLE)
    eta = p.status("v0").eta_s
    assert eta is not None
    # Reported early (the plan still has it driving): nothing changes, the caller must
    # place it anew.
    assert not p.arrived("v0", "cn-spot-L1", eta - 5.0)
    assert p.status("v0").goal == "cn-spot-L1"
    # Not its goal: nothing changes either.
    assert not p.arrived("v0", "cn-spot-L2", eta + 1.0)
    before = {vid: p.route(vid) for vid in p.vehicles()}
    assert p.arrived("v0", "cn-spot-L1", eta + 1.0)
    st = p.status("v0")
    assert st.goal is None and st.state == "idle"
    # No one was re-planned, and the vehicle stands where its plan put it.
    assert {vid: p.route(vid) for vid in p.vehicles()} == before
    assert p.position("v0", eta + 100.0)[1] == "cn-spot-L1"
    # Its next trip is planned from there, at standard priority.
    p.request("v0", "vn-spot-L4", eta + 2.0)
    assert p.route("v0").nodes[-1] == "vn-spot-L4"
    assert_safe(p)


def test_placing_a_vehicle_checks_first_and_never_loses_it(g: nx.DiGraph) -> None:
    p = in_bays(g)
    before = p.route("v0")
    # Onto another's place: refused, and nothing changes (remove + add used to lose it
    # when the others had meanwhile been planned into its place).
    with pytest.raises(PlanError, match="within one vehicle spacing of v1"):
        p.place("v0", ("vn-bay-L2:start", "vn-spot-L2"), 55.0, 1.0)
    assert "v0" in p.vehicles() and p.route("v0") == before
    p.request("v0", "cn-spot-L1", 1.0)
    p.request("v1", "cn-spot-L1", 1.0)  # waits for v0, which will stand at the spot
    assert p.status("v1").hold_reason == "vehicle v0"
    eta = p.status("v0").eta_s
    assert eta is not None
    # v0 is at its spot 10 s ahead of its plan: it stands there, its mission over.
    p.place("v0", ("cn-bay-L1:start", "cn-spot-L1"), 55.0, eta - 10.0)
    st = p.status("v0")
    assert st.goal is None and st.hold_reason is None
    assert len({s for _, s in p.route("v0").profile}) == 1  # standing, not driving on
    assert p.position("v0", eta + 50.0)[1] == "cn-spot-L1"
    assert p.status("v1").hold_reason == "vehicle v0"  # still behind it, re-planned
    assert_safe(p)


def test_the_zero_line_holds_until_the_handoff_is_accepted(g: nx.DiGraph) -> None:
    p = in_bays(g, PlannerConfig())  # no fixed dwell: hold for acceptance
    p.request("v0", "cn-spot-L1", 0.0)
    p.request("v1", "cn-spot-L2", 0.0)
    st = p.status("v0")
    assert st.state == "holding" and st.hold_reason == "handoff"
    zero_s = dict(zip(p.route("v0").nodes, _node_s(g, p.route("v0")), strict=True))["SL-E-zero"]
    assert p.route("v0").profile[-1][1] == pytest.approx(zero_s)
    assert p.status("v1").hold_reason in ("handoff", "vehicle v0")
    assert_safe(p)
    t_stop = p.route("v0").profile[-1][0] + 10.0
    p.breakdown("v2", t_stop - 5.0)  # a corridor re-plan while v0 stands at the line
    assert p.status("v0").hold_reason == "handoff"  # ...still not across without acceptance
    r = p.route("v0")
    at = dict(zip(r.nodes, _node_s(g, r), strict=True))
    assert r.profile[-1][1] == pytest.approx(at["SL-E-zero"])
    p.accept_handoff("v0", t_stop)
    assert p.status("v0").state == "moving"
    assert p.route("v0").nodes[-1] == "cn-spot-L1"
    assert_safe(p)


def test_closing_a_bay_reroutes_and_closing_the_lane_holds(g: nx.DiGraph) -> None:
    p = TrafficPlanner(g, HANDOFF)
    p.add_vehicle("a", ("I-AUTO:end", "vn-yard-in:end"), 140.0, 0.0)
    p.request("a", "E-AUTO:start", 0.0)
    assert "vn-spot-L1" in p.route("a").nodes  # through the first bay
    p.close_lane("vn-bay-L1", 1.0)
    assert "vn-spot-L1" not in p.route("a").nodes
    assert p.status("a").state == "moving"
    assert_safe(p)
    p.close_lane("vn-yard-out", 2.0)  # the only way out of the yard
    st = p.status("a")
    assert st.state == "holding" and st.hold_reason == "lane vn-yard-out closed"
    assert_safe(p)
    p.reopen_lane("vn-yard-out", 60.0)
    assert p.status("a").state == "moving"
    assert_safe(p)
    with pytest.raises(PlanError, match="not closed"):
        p.reopen_lane("vn-yard-out", 61.0)


def test_a_breakdown_stops_the_followers_and_a_repair_releases_them(g: nx.DiGraph) -> None:
    p = in_bays(g)
    p.request_many({"v0": "cn-spot-L1", "v1": "cn-spot-L2", "v2": "cn-spot-L3"}, 0.0)
    first = min(p.vehicles(), key=lambda v: p.status(v).eta_s or 1e9)
    p.breakdown(first, 120.0)  # on the export lane by then
    assert p.status(first).state == "broken"
    others = [v for v in p.vehicles() if v != first]
    assert all(p.status(v).state == "holding" for v in others)
    assert_safe(p)
    with pytest.raises(PlanError, match="broken down"):
        p.request(first, "cn-spot-L4", 130.0)
    p.repaired(first, 400.0)
    assert all(p.status(v).state == "moving" for v in p.vehicles())
    assert_safe(p)


def test_a_delayed_vehicle_is_replanned_from_where_it_is(g: nx.DiGraph) -> None:
    p = in_bays(g, bays="L1 L2")
    p.request("v0", "cn-spot-L1", 0.0)
    p.request("v1", "cn-spot-L2", 150.0)  # far enough behind to absorb the delay
    eta = p.status("v0").eta_s or 0.0
    s_planned = _s_at(p.route("v0"), 200.0)
    p.delayed("v0", s_planned - 20.0, 200.0)  # it is 20 m behind its plan
    assert (p.status("v0").eta_s or 0.0) > eta + 2.0
    assert_safe(p)
    with pytest.raises(PlanError, match="expected between"):
        p.delayed("v0", 1e6, 201.0)


def test_perishable_goes_first_when_both_wait_and_emergency_ahead_of_all(
    g: nx.DiGraph,
) -> None:
    # v0 stands one bay (25 m of yard road) further from the exit than the fruit: both
    # want the exit road at once, and (both standard) v0 would be out first.
    p = in_bays(g, bays="L3 L1 L4")
    p.add_vehicle("fruit", ("vn-bay-L2:start", "vn-spot-L2"), 55.0, 0.0, Priority.PERISHABLE)
    p.request_many({"v0": "cn-spot-L1", "fruit": "cn-spot-L4"}, 0.0)
    assert _leaves_yard(g, p.route("fruit")) < _leaves_yard(g, p.route("v0"))
    # The same two the other way round: order of the batch does not matter, priority does.
    q = in_bays(g, bays="L3 L1 L4")
    q.add_vehicle("fruit", ("vn-bay-L2:start", "vn-spot-L2"), 55.0, 0.0, Priority.PERISHABLE)
    q.request_many({"fruit": "cn-spot-L4", "v0": "cn-spot-L1"}, 0.0)
    assert q.status("fruit").eta_s == p.status("fruit").eta_s
    # An emergency request re-plans the corridor with it first.
    p.request("v1", "cn-spot-L2", 0.0, priority=Priority.EMERGENCY)
    etas = {v: p.status(v).eta_s or 1e9 for v in p.vehicles()}
    assert min(etas, key=lambda v: etas[v]) == "v1"
    assert_safe(p)


def test_bad_requests_fail_alone_and_change_nothing(
    g: nx.DiGraph, graphs: dict[str, nx.DiGraph]
) -> None:
    p = in_bays(g)
    p.request("v0", "cn-spot-L1", 0.0)
    before = p.routes()
    with pytest.raises(PlanError, match="unknown vehicle"):
        p.request("ghost", "cn-spot-L1", 1.0)
    with pytest.raises(PlanError, match="unknown goal node 'nowhere'"):
        p.request("v1", "nowhere", 1.0)
    with pytest.raises(PlanError, match="reserved lanes only"):
        p.request("v1", "E1:end", 1.0)  # a traditional lane: not in the guide graph
    with pytest.raises(PlanError, match="non-negative"):
        p.request("v1", "cn-spot-L2", -5.0)
    p.request("v1", "cn-spot-L2", 0.5)
    with pytest.raises(PlanError, match="backwards"):
        p.request("v2", "cn-spot-L3", 0.1)
    with pytest.raises(PlanError, match="already on the corridor"):
        p.add_vehicle("v0", ("vn-bay-L4:start", "vn-spot-L4"), 55.0, 1.0)
    with pytest.raises(PlanError, match="within one vehicle spacing"):
        p.add_vehicle("close", ("vn-bay-L1:start", "vn-spot-L1"), 40.0, 1.0)
    with pytest.raises(PlanError, match="unknown lane"):
        p.close_lane("Z9", 1.0)
    assert p.route("v0") == next(r for r in before if r.vehicle_id == "v0")
    assert_safe(p)
    # Unreachable: a one-way spur with no way back.
    spur = nx.DiGraph(g)
    spur.add_edge("vn-spot-L1", "dead-end", **dict(g.edges["vn-spot-L1", "vn-bay-L1:end"]))
    q = TrafficPlanner(spur, HANDOFF)
    q.add_vehicle("a", ("vn-bay-L2:start", "vn-spot-L2"), 55.0, 0.0)
    q.add_vehicle("b", ("vn-spot-L1", "dead-end"), 30.0, 0.0)
    with pytest.raises(PlanError, match="unreachable"):
        q.request("b", "vn-spot-L2", 1.0)


@pytest.mark.parametrize("corridor", ["huu-nghi", "tan-thanh"])
def test_lifelong_operation_with_a_breakdown_has_no_conflict(
    graphs: dict[str, nx.DiGraph], corridor: str
) -> None:
    g = graphs[corridor]
    inst = make_instance(g, 20, seed=7)
    out = run_planner(g, inst, 1200.0, HANDOFF)
    assert out["conflicts"] == 0
    assert out["trips_done"] >= 10 and out["refused_requests"] == 0
    assert out["crossings_per_h"] > 0


def test_the_checker_catches_a_tampered_plan(g: nx.DiGraph) -> None:
    p = in_bays(g, bays="L1 L2")
    p.request_many({"v0": "cn-spot-L1", "v1": "cn-spot-L2"}, 0.0)
    assert_safe(p)
    follower = max(p.vehicles(), key=lambda v: p.status(v).eta_s or 0.0)
    r = p.route(follower)
    early = TimedRoute(r.vehicle_id, r.nodes, tuple((t - 25.0, s) for t, s in r.profile))
    others = [x for x in p.routes() if x.vehicle_id != follower]
    kinds = {v.kind for v in check_plans(g, [*others, early], p.cfg.rules, p.must_stop)}
    assert kinds & {"spacing", "headway", "junction", "overtaking", "bad_profile"}


def _node_s(g: nx.DiGraph, r: TimedRoute) -> list[float]:
    out = [0.0]
    for u, v in zip(r.nodes, r.nodes[1:], strict=False):
        out.append(out[-1] + g.edges[u, v]["length_m"])
    return out


def _leaves_yard(g: nx.DiGraph, r: TimedRoute) -> float:
    """When the front reaches the export lane (the end of the VN yard's out-road)."""
    return r.time_at(_node_s(g, r)[r.nodes.index("E-AUTO:start")])[0]


def _s_at(r: TimedRoute, t: float) -> float:
    return r.position_at(t)


def test_a_refused_vehicle_never_crosses_and_turns_back_where_the_map_allows(
    g: nx.DiGraph,
) -> None:
    # Without a goal to go back to it holds at the stop line, and never crosses.
    p = in_bays(g, PlannerConfig(), bays="L1 L2")
    p.request("v0", "cn-spot-L1", 0.0)
    p.request("v1", "cn-spot-L2", 0.0)
    t = p.route("v0").profile[-1][0] + 5.0
    p.refuse_handoff("v0", t)
    st = p.status("v0")
    assert st.state == "holding" and st.hold_reason == "handoff refused"
    assert_safe(p)
    # The maps' turnaround at the export stop line leads back to the VN yard.
    p.refuse_handoff("v0", t + 1.0, return_goal="vn-spot-L3")
    r = p.route("v0")
    assert p.status("v0").state == "moving" and r.nodes[-1] == "vn-spot-L3"
    assert "handoff:exit@E-AUTO" not in r.nodes  # never across km 0
    assert any(g.edges[u, w]["lane_id"] == "vn-turnaround" for u, w in itertools.pairwise(r.nodes))
    assert_safe(p)
    # A goal only reachable across km 0 is refused, and nothing changes.
    before = p.route("v0")
    with pytest.raises(PlanError, match="unreachable"):
        p.refuse_handoff("v0", t + 2.0, return_goal="cn-spot-L3")
    assert p.route("v0") is before
