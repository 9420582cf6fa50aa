"""The dispatcher's rules: eligibility, battery, tiers, corridors, queued-only, determinism."""

from __future__ import annotations

import itertools
import random
from typing import Any

import networkx as nx
import pytest

from fleet.cargo.consignments import (
    Consignment,
    Direction,
    FruitKind,
    Goods,
    GoodsCategory,
    LabTest,
    transition,
)
from fleet.cargo.consignments import ConsignmentState as S
from fleet.cargo.dispatch import (
    REEFER,
    DispatchError,
    DispatchStatus,
    FleetVehicle,
    GraphTravelTimes,
    Job,
    NotDispatchable,
    dispatch,
    energy_budget_kwh,
    job_from_consignment,
    rebalance,
    trip_energy_kwh,
)
from fleet.routing import fastest_route

# -- toy world -------------------------------------------------------------------


def line_graph(corridor: str = "toy") -> nx.DiGraph:
    """A straight two-way road: C(harger) - A - B - D - E, 1 km apart, 10 m/s."""
    g = nx.DiGraph(corridor=corridor)
    names = ["C", "A", "B", "D", "E"]
    for u, v in itertools.pairwise(names):
        for a, b in ((u, v), (v, u)):
            g.add_edge(a, b, length_m=1000.0, speed_mps=10.0, travel_time_s=100.0)
    return g


def random_graph(seed: int, n: int = 8, corridor: str = "toy") -> nx.DiGraph:
    """A strongly connected random road net (ring plus chords) with random lengths and speeds."""
    rng = random.Random(seed)
    g = nx.DiGraph(corridor=corridor)
    names = [f"n{i}" for i in range(n)]
    edges = [(names[i], names[(i + 1) % n]) for i in range(n)]
    edges += [(a, b) for a, b in (rng.sample(names, 2) for _ in range(n))]
    for u, v in edges:
        for a, b in ((u, v), (v, u)):
            length, speed = rng.uniform(200.0, 1500.0), rng.uniform(4.0, 8.0)
            g.add_edge(a, b, length_m=length, speed_mps=speed, travel_time_s=length / speed)
    return g


def veh(vid: str, node: str, **kw: Any) -> FleetVehicle:
    fields: dict[str, Any] = dict(
        id=vid,
        corridor="toy",
        node=node,
        charging_node="C",
        battery_soc=1.0,
        battery_kwh=100.0,
        consumption_kwh_per_km=1.0,
    )
    fields.update(kw)
    return FleetVehicle(**fields)


def job(jid: str, pickup: str, drop: str = "E", **kw: Any) -> Job:
    perishable = kw.pop("perishable", False)
    since = kw.pop("waiting_since", 0.0)
    priority = kw.pop("priority", 0)
    fields: dict[str, Any] = dict(
        id=jid,
        corridor="toy",
        pickup=pickup,
        drop=drop,
        perishable=perishable,
        needs_reefer=False,
        priority_key=(0 if perishable else 1, -priority, since, jid),
        waiting_since=since,
        priority=priority,
    )
    fields.update(kw)
    return Job(**fields)


@pytest.fixture(scope="module")
def line() -> GraphTravelTimes:
    return GraphTravelTimes({"toy": line_graph()})


def pairs(plan: Any) -> set[tuple[str, str]]:
    return {(a.vehicle_id, a.job_id) for a in plan.assignments}


# -- travel oracle -----------------------------------------------------------------


def test_graph_travel_times_match_fastest_route(graphs: dict[str, nx.DiGraph]) -> None:
    travel = GraphTravelTimes(graphs)
    for corridor, g in graphs.items():
        for a, b in [
            ("vn-spot-L1", "SL-E-zero"),
            ("cn-spot-L2", "SL-I-zero"),
            ("SL-E-zero", "cn-spot-C1"),
        ]:
            route = fastest_route(g, a, b)
            assert travel.time_s(corridor, a, b) == pytest.approx(route.free_flow_s)
            assert travel.distance_m(corridor, a, b) == pytest.approx(route.length_m)
        assert travel.time_s(corridor, "vn-spot-L1", "vn-spot-L1") == 0.0


def test_unknown_places_are_refused(line: GraphTravelTimes) -> None:
    with pytest.raises(DispatchError, match="unknown corridor 'nowhere'"):
        line.time_s("nowhere", "A", "B")
    with pytest.raises(DispatchError, match="unknown node 'Z' on corridor toy"):
        line.distance_m("toy", "A", "Z")


def test_unreachable_is_infinite() -> None:
    g = line_graph()
    g.add_node("island")
    travel = GraphTravelTimes({"toy": g})
    assert travel.time_s("toy", "A", "island") == float("inf")


# -- eligibility -----------------------------------------------------------------------


def test_nearest_vehicle_takes_the_job(line: GraphTravelTimes) -> None:
    plan = dispatch([veh("far", "E"), veh("near", "A")], [job("j", "B")], line, now=10.0)
    assert pairs(plan) == {("near", "j")}
    (a,) = plan.assignments
    assert a.eta_s == pytest.approx(100.0)
    # A->B 1 km, B->E 2 km, E->C 4 km at 1 kWh/km
    assert a.energy_kwh == pytest.approx(7.0)
    assert a.cost == pytest.approx(100.0 - 0.2 * 10.0)


def test_only_idle_vehicles_are_dispatched(line: GraphTravelTimes) -> None:
    busy = [veh(f"v{s}", "A", status=s) for s in DispatchStatus if s is not DispatchStatus.IDLE]
    plan = dispatch(busy, [job("j", "B")], line, now=0.0)
    assert plan.assignments == []
    assert "no idle vehicle" in plan.reasons["j"]


def test_reefer_goods_need_a_reefer_vehicle(line: GraphTravelTimes) -> None:
    jobs = [job("cold", "B", perishable=True, needs_reefer=True)]
    plan = dispatch([veh("plain", "B")], jobs, line, now=0.0)
    assert plan.assignments == []
    assert "reefer" in plan.reasons["cold"]
    cold = veh("cold1", "E", capabilities=frozenset({REEFER}))
    plan = dispatch([veh("plain", "B"), cold], jobs, line, now=0.0)
    assert pairs(plan) == {("cold1", "cold")}


def test_corridors_are_separate() -> None:
    travel = GraphTravelTimes({"hn": line_graph("hn"), "tt": line_graph("tt")})
    vs = [veh("h", "B", corridor="hn"), veh("t", "A", corridor="tt")]
    js = [
        job("jh", "A", corridor="hn"),
        job("jt", "B", corridor="tt"),
        job("jt2", "B", corridor="tt"),
    ]
    plan = dispatch(vs, js, travel, now=0.0)
    assert pairs(plan) == {("h", "jh"), ("t", "jt")}
    assert set(plan.reasons) == {"jt2"}


# -- battery ---------------------------------------------------------------------------


def test_a_trip_the_battery_cannot_finish_is_never_assigned(line: GraphTravelTimes) -> None:
    # From E: E->A 3 km, A->E 3 km, E->C 4 km = 10 kWh; budget (0.30-0.15)*50 = 7.5 kWh.
    v = veh("v", "E", battery_soc=0.30, battery_kwh=50.0)
    j = job("j", "A")
    assert trip_energy_kwh(v, j, line, ["C"]) == pytest.approx(10.0)
    assert energy_budget_kwh(v) == pytest.approx(7.5)
    plan = dispatch([v], [j], line, now=0.0)
    assert plan.assignments == []
    assert "charge" in plan.reasons["j"]
    assert plan.to_charge == ["v"]  # capable but too low for what waits: go charge
    # A nearby job fits: E->D 1 km, D->E 1 km, E->C 4 km = 6 kWh.
    plan = dispatch([v], [job("k", "D")], line, now=0.0)
    assert pairs(plan) == {("v", "k")}
    assert plan.to_charge == []


def test_low_charge_goes_to_charge_instead(line: GraphTravelTimes) -> None:
    plan = dispatch([veh("low", "B", battery_soc=0.2)], [job("j", "D")], line, now=0.0)
    assert plan.assignments == []
    assert plan.to_charge == ["low"]
    assert "below 25%" in plan.vehicle_reasons["low"]


def test_charging_nodes_of_the_corridor_count(line: GraphTravelTimes) -> None:
    # A charger at E makes the way back from the drop E zero.
    v = veh("v", "E", battery_soc=0.30, battery_kwh=50.0)
    plan = dispatch([v], [job("j", "A")], line, now=0.0, charging_nodes={"toy": ["E"]})
    assert pairs(plan) == {("v", "j")}
    assert plan.assignments[0].energy_kwh == pytest.approx(6.0)


# -- tiers -----------------------------------------------------------------------------


def test_perishables_first_even_when_farther(line: GraphTravelTimes) -> None:
    js = [
        job("chips", "A", waiting_since=-10_000.0),
        job("durian", "E", perishable=True, waiting_since=0.0),
    ]
    plan = dispatch([veh("v", "A")], js, line, now=0.0)
    assert pairs(plan) == {("v", "durian")}
    assert "ahead of it" in plan.reasons["chips"]


def test_higher_priority_first_within_perishability(line: GraphTravelTimes) -> None:
    js = [job("normal", "A"), job("urgent", "E", priority=2)]
    plan = dispatch([veh("v", "A")], js, line, now=0.0)
    assert pairs(plan) == {("v", "urgent")}


def test_window_pruning_never_idles_a_vehicle_next_to_a_fruit_job(
    line: GraphTravelTimes,
) -> None:
    """Front of the fruit queue needs reefers; the free vehicle is plain.

    The window (size 1 here) is drawn only from jobs a free vehicle can take,
    so the plain vehicle gets the ambient fruit job at the back of the queue,
    never the electronics job.
    """
    js = [
        job(f"cold{i}", "A", perishable=True, needs_reefer=True, waiting_since=float(i))
        for i in range(5)
    ]
    js += [job("mango", "E", perishable=True, waiting_since=99.0), job("chips", "A")]
    vs = [veh("plain", "A"), veh("reefer", "A", capabilities=frozenset({REEFER}))]
    plan = dispatch(vs, js, line, now=100.0, window_factor=1, min_window=1)
    assert pairs(plan) == {("reefer", "cold0"), ("plain", "mango")}
    assert "ahead of it" in plan.reasons["cold4"]


def test_the_window_keeps_queue_order(line: GraphTravelTimes) -> None:
    # Six equal jobs, two vehicles, window 2: the two oldest are served, not the nearest.
    js = [job(f"j{i}", "A" if i < 2 else "B", waiting_since=float(i)) for i in range(6)]
    vs = [veh("v1", "B"), veh("v2", "B")]
    plan = dispatch(vs, js, line, now=10.0, window_factor=1, min_window=1)
    assert {a.job_id for a in plan.assignments} == {"j0", "j1"}


# -- consignments -> jobs ----------------------------------------------------------------


def consignment(**kw: Any) -> Consignment:
    fields: dict[str, Any] = dict(
        id="C1",
        container_number="CSQU 305438 3",
        seal_number="ML-1234567",
        goods=Goods(GoodsCategory.FRUIT, FruitKind.DURIAN, 2.0, 5.0),
        direction=Direction.EXPORT,
        corridor="huu-nghi",
        customs_declaration="305123456789",
        gross_weight_kg=24_500.0,
        declared_at=100.0,
        quarantine_certificate="KD-1",
        lab_certificates={LabTest.CADMIUM: "LAB-CD-1", LabTest.AURAMINE_O: "LAB-AO-1"},
        customs_cleared=True,
        quarantine_cleared=True,
    )
    fields.update(kw)
    return Consignment(**fields)


def test_queued_consignment_becomes_a_job() -> None:
    c = consignment(priority=3)
    transition(c, S.CLEARED, now=200.0, actor="customs", reason="ok")
    transition(c, S.QUEUED, now=250.0, actor="yard", reason="ready")
    j = job_from_consignment(c, "vn-spot-L2")
    assert (j.id, j.corridor, j.pickup, j.drop) == ("C1", "huu-nghi", "vn-spot-L2", "SL-E-zero")
    assert j.perishable and j.needs_reefer and j.priority == 3
    assert j.waiting_since == 250.0
    assert j.tier == (0, -3)
    chips = consignment(id="C2", goods=Goods(GoodsCategory.ELECTRONICS), direction=Direction.IMPORT)
    transition(chips, S.CLEARED, now=200.0, actor="customs", reason="ok")
    transition(chips, S.QUEUED, now=210.0, actor="yard", reason="ready")
    k = job_from_consignment(chips, "cn-spot-L1")
    assert k.drop == "SL-I-zero" and not k.perishable and not k.needs_reefer


@pytest.mark.parametrize("path", [[], [S.CLEARED], [S.CLEARED, S.QUEUED, S.LOADED]])
def test_only_queued_consignments_are_dispatchable(path: list[S]) -> None:
    c = consignment()
    for i, s in enumerate(path):
        transition(c, s, now=200.0 + i, actor="t", reason="t")
    with pytest.raises(NotDispatchable, match="only queued consignments"):
        job_from_consignment(c, "vn-spot-L1")


def test_withdrawn_clearance_is_not_dispatchable() -> None:
    c = consignment()
    transition(c, S.CLEARED, now=200.0, actor="customs", reason="ok")
    transition(c, S.QUEUED, now=250.0, actor="yard", reason="ready")
    c.customs_cleared = False
    with pytest.raises(NotDispatchable, match="customs clearance missing"):
        job_from_consignment(c, "vn-spot-L1")


# -- input checks and determinism --------------------------------------------------------


def test_bad_input_is_refused(line: GraphTravelTimes) -> None:
    with pytest.raises(DispatchError, match=r"outside 0\.\.1"):
        veh("v", "A", battery_soc=1.5)
    with pytest.raises(DispatchError, match="battery_kwh"):
        veh("v", "A", battery_kwh=0.0)
    with pytest.raises(DispatchError, match="'v' appears more than once"):
        dispatch([veh("v", "A"), veh("v", "B")], [], line, now=0.0)
    with pytest.raises(DispatchError, match="finite"):
        dispatch([], [], line, now=float("nan"))


def test_deterministic_whatever_the_input_order() -> None:
    travel = GraphTravelTimes({"toy": random_graph(3, n=10)})
    rng = random.Random(7)
    nodes = [f"n{i}" for i in range(10)]
    vs = [
        veh(f"v{i}", rng.choice(nodes), charging_node="n0", battery_soc=rng.uniform(0.3, 1.0))
        for i in range(12)
    ]
    js = [
        job(
            f"j{i}",
            rng.choice(nodes),
            drop="n5",
            perishable=rng.random() < 0.4,
            waiting_since=rng.uniform(0, 100),
        )
        for i in range(40)
    ]
    first = dispatch(vs, js, travel, now=100.0)
    for _ in range(3):
        rng.shuffle(vs)
        rng.shuffle(js)
        again = dispatch(vs, js, travel, now=100.0)
        assert again == first
    assert len(first.assignments) == 12


# -- rebalancing -------------------------------------------------------------------------


def test_rebalance_follows_demand(line: GraphTravelTimes) -> None:
    vs = [veh("v1", "A"), veh("v2", "A"), veh("v3", "E"), veh("busy", "A", status="moving")]
    moves = rebalance(vs, line, {"toy": {"B": 2.0, "D": 0.6, "C": 0.0}})
    # Slots: B, B, D (ceil 0.6 = 1); v3 at E is nearest to D, v1 and v2 go to B.
    assert moves == [("v1", "B"), ("v2", "B"), ("v3", "D")]


def test_rebalance_leaves_vehicles_already_in_place(line: GraphTravelTimes) -> None:
    vs = [veh("v1", "B"), veh("v2", "E")]
    assert rebalance(vs, line, {"toy": {"B": 1.0}}) == []
    assert rebalance(vs, line, {}) == []
