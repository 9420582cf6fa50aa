"""Assignment quality: the dispatcher's plan equals a brute-force optimum on small cases.

The objective, tier by tier in service order (perishables first, then by
declared priority): serve as many jobs of the tier as possible, then minimise
the tier's sum of (time to pickup - wait_weight * time waited). The brute
force enumerates every injective partial assignment with
``itertools.permutations`` and compares those keys lexicographically.
"""

from __future__ import annotations

import itertools
import random

import pytest

from fleet.cargo.dispatch import (
    DEFAULT_HORIZON_S,
    DEFAULT_LOW_SOC,
    DEFAULT_WAIT_WEIGHT,
    REEFER,
    FleetVehicle,
    GraphTravelTimes,
    Job,
    dispatch,
    energy_budget_kwh,
    trip_energy_kwh,
)
from tests.fleet.cargo.test_dispatch_rules import job, random_graph, veh

NOW = 1000.0
CHARGERS = ["n0"]


def instance(seed: int) -> tuple[GraphTravelTimes, list[FleetVehicle], list[Job]]:
    rng = random.Random(seed)
    n_nodes = 9
    travel = GraphTravelTimes({"toy": random_graph(seed, n=n_nodes)})
    nodes = [f"n{i}" for i in range(n_nodes)]
    n_vehicles, n_jobs = rng.randint(2, 5), rng.randint(2, 6)
    vehicles = [
        veh(
            f"v{i}",
            node,  # distinct nodes: no exact cost ties between vehicles
            charging_node="n0",
            battery_soc=rng.uniform(0.2, 1.0),
            battery_kwh=10.0,
            consumption_kwh_per_km=rng.uniform(1.0, 2.0),
            capabilities=frozenset({REEFER}) if rng.random() < 0.5 else frozenset(),
        )
        for i, node in enumerate(rng.sample(nodes, n_vehicles))
    ]
    jobs = []
    for n in range(n_jobs):
        pickup, drop = rng.sample(nodes, 2)
        perishable = rng.random() < 0.5
        jobs.append(
            job(
                f"j{n}",
                pickup,
                drop,
                perishable=perishable,
                needs_reefer=perishable and rng.random() < 0.5,
                priority=rng.choice((0, 0, 1)),
                waiting_since=rng.uniform(0.0, NOW),
            )
        )
    return travel, vehicles, jobs


def feasible(v: FleetVehicle, j: Job, travel: GraphTravelTimes) -> bool:
    return (
        v.battery_soc >= DEFAULT_LOW_SOC
        and (REEFER in v.capabilities or not j.needs_reefer)
        and travel.time_s("toy", v.node, j.pickup) <= DEFAULT_HORIZON_S
        and trip_energy_kwh(v, j, travel, CHARGERS) <= energy_budget_kwh(v)
    )


def key(
    chosen: list[tuple[FleetVehicle, Job]], tiers: list[tuple[int, int]], travel: GraphTravelTimes
) -> list[float]:
    """Lexicographic objective: per tier, (-jobs served, cost)."""
    out: list[float] = []
    for tier in tiers:
        mine = [(v, j) for v, j in chosen if j.tier == tier]
        cost = sum(
            travel.time_s("toy", v.node, j.pickup) - DEFAULT_WAIT_WEIGHT * (NOW - j.waiting_since)
            for v, j in mine
        )
        out += [-len(mine), cost]
    return out


def brute_force(
    travel: GraphTravelTimes, vehicles: list[FleetVehicle], jobs: list[Job]
) -> list[float]:
    tiers = sorted({j.tier for j in jobs})
    best: list[float] | None = None
    slots: list[Job | None] = [*jobs, *([None] * len(vehicles))]
    seen: set[tuple[str | None, ...]] = set()
    for perm in itertools.permutations(slots, len(vehicles)):
        sig = tuple(j.id if j else None for j in perm)
        if sig in seen:
            continue
        seen.add(sig)
        chosen = [(v, j) for v, j in zip(vehicles, perm, strict=True) if j is not None]
        if not all(feasible(v, j, travel) for v, j in chosen):
            continue
        k = key(chosen, tiers, travel)
        if best is None or k < best:
            best = k
    assert best is not None
    return best


@pytest.mark.parametrize("seed", range(12))
def test_matches_brute_force(seed: int) -> None:
    travel, vehicles, jobs = instance(seed)
    plan = dispatch(vehicles, jobs, travel, NOW)
    vby = {v.id: v for v in vehicles}
    jby = {j.id: j for j in jobs}
    chosen = [(vby[a.vehicle_id], jby[a.job_id]) for a in plan.assignments]
    assert all(feasible(v, j, travel) for v, j in chosen)
    ours = key(chosen, sorted({j.tier for j in jobs}), travel)
    assert ours == pytest.approx(brute_force(travel, vehicles, jobs), abs=1e-6)
    for a in plan.assignments:
        v, j = vby[a.vehicle_id], jby[a.job_id]
        assert a.cost == pytest.approx(a.eta_s - DEFAULT_WAIT_WEIGHT * (NOW - j.waiting_since))
        assert a.energy_kwh == pytest.approx(trip_energy_kwh(v, j, travel, CHARGERS))
    assert set(plan.reasons) == {j.id for j in jobs} - {a.job_id for a in plan.assignments}


def test_instances_are_not_trivial() -> None:
    """The seeds exercise infeasible pairs, unserved jobs and several tiers."""
    infeasible = unserved = multi_tier = 0
    for seed in range(12):
        travel, vehicles, jobs = instance(seed)
        infeasible += sum(not feasible(v, j, travel) for v in vehicles for j in jobs)
        unserved += len(dispatch(vehicles, jobs, travel, NOW).reasons)
        multi_tier += len({j.tier for j in jobs}) > 1
    assert infeasible > 0 and unserved > 0 and multi_tier > 3
