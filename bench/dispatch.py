"""Dispatch benchmark: the tiered optimal dispatcher vs. a greedy nearest-vehicle baseline.

Cases: 50 x 500, 200 x 2,000 and 500 x 5,000 (vehicles x waiting jobs), drawn
with a seeded RNG on the real corridor guide graphs (``load_corridors()``):
two thirds of the fleet on Hữu Nghị, a third on Tân Thanh (the trucks/day
ratio), export jobs from Vietnamese loading spots to ``SL-E-zero`` (mostly
fruit, mostly refrigerated), import jobs from Chinese loading spots to
``SL-I-zero`` (electronics). Every plan, whatever the implementation, is
checked by the same scalar code: eligibility, battery, and perishables first.
The one-off all-pairs precomputation is timed once as ``setup_ms``; each
repetition times one full dispatch decision.

Run: ``python -m bench.dispatch [--quick]`` prints the JSON.
"""

from __future__ import annotations

import json
import math
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from fleet.cargo.dispatch import (
    DEFAULT_LOW_SOC,
    DEFAULT_RESERVE_FRACTION,
    DEFAULT_WAIT_WEIGHT,
    REEFER,
    DispatchStatus,
    FleetVehicle,
    GraphTravelTimes,
    Job,
    dispatch,
    energy_budget_kwh,
    trip_energy_kwh,
)
from maps.corridors import load_corridors

CASES = ((50, 500), (200, 2000), (500, 5000))
QUICK_CASES = ((50, 500), (500, 5000))
REPEATS = 20
QUICK_REPEATS = 3
NOW = 100_000.0
SHARE = {"huu-nghi": 2 / 3, "tan-thanh": 1 / 3}

Pair = tuple[str, str]  # vehicle id, job id
Impl = Callable[[list[FleetVehicle], list[Job], GraphTravelTimes], list[Pair]]


def make_case(n_vehicles: int, n_jobs: int, seed: int) -> tuple[list[FleetVehicle], list[Job]]:
    """A seeded random fleet and queue on the two corridors."""
    rng = random.Random(seed * 1_000_003 + n_vehicles * 7 + n_jobs)
    spots = ["vn-spot-L1", "vn-spot-L2", "vn-spot-L3", "vn-spot-L4", "vn-spot-P1", "vn-spot-C1"]
    spots += [s.replace("vn-", "cn-") for s in spots] + ["SL-E-zero", "SL-I-zero"]
    statuses = [DispatchStatus.IDLE] * 17 + [
        DispatchStatus.MOVING,
        DispatchStatus.CHARGING,
        DispatchStatus.FAULT,
    ]
    vehicles: list[FleetVehicle] = []
    for i in range(n_vehicles):
        corridor = "huu-nghi" if i < round(n_vehicles * SHARE["huu-nghi"]) else "tan-thanh"
        side = rng.choice(("vn", "cn"))
        vehicles.append(
            FleetVehicle(
                id=f"V{i:04d}",
                corridor=corridor,
                node=rng.choice(spots),
                charging_node=f"{side}-spot-C1",
                battery_soc=round(rng.uniform(0.15, 1.0), 3),
                battery_kwh=60.0,
                consumption_kwh_per_km=round(rng.uniform(1.5, 2.2), 2),
                capabilities=frozenset({REEFER}) if rng.random() < 0.4 else frozenset(),
                status=rng.choice(statuses),
            )
        )
    jobs: list[Job] = []
    for n in range(n_jobs):
        corridor = "huu-nghi" if rng.random() < SHARE["huu-nghi"] else "tan-thanh"
        export = rng.random() < 0.5
        perishable = export and rng.random() < 0.6
        priority = 1 if rng.random() < 0.1 else 0
        declared = NOW - rng.uniform(0.0, 4 * 3600.0)
        jid = f"C{n:05d}"
        jobs.append(
            Job(
                id=jid,
                corridor=corridor,
                pickup=f"{'vn' if export else 'cn'}-spot-L{rng.randint(1, 4)}",
                drop="SL-E-zero" if export else "SL-I-zero",
                perishable=perishable,
                needs_reefer=perishable and rng.random() < 0.7,
                priority_key=(0 if perishable else 1, -priority, declared, jid),
                waiting_since=declared + rng.uniform(0.0, 600.0),
                priority=priority,
            )
        )
    return vehicles, jobs


def _chargers(vehicles: Sequence[FleetVehicle]) -> dict[str, list[str]]:
    out: dict[str, set[str]] = {}
    for v in vehicles:
        out.setdefault(v.corridor, set()).add(v.charging_node)
    return {c: sorted(s) for c, s in out.items()}


def _eligible(
    v: FleetVehicle, j: Job, travel: GraphTravelTimes, chargers: dict[str, list[str]]
) -> bool:
    """Scalar reference: may ``v`` take ``j`` at all?"""
    return (
        v.status is DispatchStatus.IDLE
        and v.battery_soc >= DEFAULT_LOW_SOC
        and v.corridor == j.corridor
        and (REEFER in v.capabilities or not j.needs_reefer)
        and trip_energy_kwh(v, j, travel, chargers[v.corridor])
        <= energy_budget_kwh(v, DEFAULT_RESERVE_FRACTION)
    )


def smartgate_impl(
    vehicles: list[FleetVehicle], jobs: list[Job], travel: GraphTravelTimes
) -> list[Pair]:
    plan = dispatch(vehicles, jobs, travel, NOW)
    return [(a.vehicle_id, a.job_id) for a in plan.assignments]


def greedy_nearest(
    vehicles: list[FleetVehicle], jobs: list[Job], travel: GraphTravelTimes
) -> list[Pair]:
    """Each job in priority order takes its nearest feasible free vehicle."""
    chargers = _chargers(vehicles)
    out: list[Pair] = []
    for corridor in sorted({j.corridor for j in jobs}):
        vs = [
            v
            for v in vehicles
            if v.corridor == corridor
            and v.status is DispatchStatus.IDLE
            and v.battery_soc >= DEFAULT_LOW_SOC
        ]
        if not vs:
            continue
        cjobs = sorted(
            (j for j in jobs if j.corridor == corridor),
            key=lambda j: (j.tier, j.priority_key, j.waiting_since, j.id),
        )
        kinds: dict[tuple[str, str, bool], int] = {}
        for j in cjobs:
            kinds.setdefault((j.pickup, j.drop, j.needs_reefer), len(kinds))
        eta = np.full((len(vs), len(kinds)), np.inf)
        cache: dict[tuple[str, str, str, bool, float, float, bool], bool] = {}
        for vi, v in enumerate(vs):
            reefer = REEFER in v.capabilities
            for (p, d, r), k in kinds.items():
                key = (v.node, p, d, r, v.battery_soc, v.consumption_kwh_per_km, reefer)
                if key not in cache:
                    probe = Job("probe", corridor, p, d, False, r, (), 0.0)
                    cache[key] = _eligible(v, probe, travel, chargers)
                if cache[key]:
                    eta[vi, k] = travel.time_s(corridor, v.node, p)
        free = np.ones(len(vs), dtype=bool)
        for j in cjobs:
            if not free.any():
                break
            col = np.where(free, eta[:, kinds[(j.pickup, j.drop, j.needs_reefer)]], np.inf)
            vi = int(np.argmin(col))
            if math.isfinite(col[vi]):
                free[vi] = False
                out.append((vs[vi].id, j.id))
    return out


def check(
    vehicles: list[FleetVehicle], jobs: list[Job], travel: GraphTravelTimes, pairs: list[Pair]
) -> dict[str, Any]:
    """Quality and rule checks of a plan, the same scalar code for every implementation."""
    vby = {v.id: v for v in vehicles}
    jby = {j.id: j for j in jobs}
    chargers = _chargers(vehicles)
    etas: list[float] = []
    total_cost = 0.0
    battery = eligibility = 0
    for vid, jid in pairs:
        v, j = vby[vid], jby[jid]
        eta = travel.time_s(v.corridor, v.node, j.pickup)
        etas.append(eta)
        total_cost += eta - DEFAULT_WAIT_WEIGHT * (NOW - j.waiting_since)
        if trip_energy_kwh(v, j, travel, chargers[v.corridor]) > energy_budget_kwh(v):
            battery += 1
        if not _eligible(v, j, travel, chargers):
            eligibility += 1
    if len({v for v, _ in pairs}) != len(pairs) or len({j for _, j in pairs}) != len(pairs):
        eligibility += 1
    # A vehicle given a non-perishable job while a perishable one it could take waits.
    served = {j for _, j in pairs}
    waiting_fruit: dict[tuple[str, str, str, bool], Job] = {}
    for j in jobs:
        if j.perishable and j.id not in served:
            waiting_fruit.setdefault((j.corridor, j.pickup, j.drop, j.needs_reefer), j)
    violations = sum(
        1
        for vid, jid in pairs
        if not jby[jid].perishable
        and any(_eligible(vby[vid], w, travel, chargers) for w in waiting_fruit.values())
    )
    return {
        "assigned": len(pairs),
        "perishable_assigned": sum(jby[j].perishable for _, j in pairs),
        "mean_eta_s": round(statistics.fmean(etas), 2) if etas else None,
        "total_cost": round(total_cost, 1),
        "perishables_first_violations": violations,
        "battery_violations": battery,
        "eligibility_violations": eligibility,
    }


def _measure(
    case: str,
    impl: str,
    fn: Impl,
    vehicles: list[FleetVehicle],
    jobs: list[Job],
    travel: GraphTravelTimes,
    repeats: int,
    setup_ms: float,
) -> dict[str, Any]:
    times: list[float] = []
    pairs: list[Pair] = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        pairs = fn(vehicles, jobs, travel)
        times.append((time.perf_counter() - t0) * 1000.0)
    return {
        "case": case,
        "impl": impl,
        "vehicles": len(vehicles),
        "idle_vehicles": sum(v.status is DispatchStatus.IDLE for v in vehicles),
        "jobs": len(jobs),
        "repeats": repeats,
        "setup_ms": round(setup_ms, 2),
        "time_ms_p50": round(float(np.percentile(times, 50)), 2),
        "time_ms_p95": round(float(np.percentile(times, 95)), 2),
        **check(vehicles, jobs, travel, pairs),
    }


def run(quick: bool = False, seed: int = 1) -> dict[str, Any]:
    """Run every case with both implementations; see the module docstring."""
    _, graphs = load_corridors()
    t0 = time.perf_counter()
    travel = GraphTravelTimes(graphs)
    setup_ms = (time.perf_counter() - t0) * 1000.0
    impls: dict[str, Impl] = {"smartgate": smartgate_impl, "greedy-nearest": greedy_nearest}
    repeats = QUICK_REPEATS if quick else REPEATS
    results: list[dict[str, Any]] = []
    for n_vehicles, n_jobs in QUICK_CASES if quick else CASES:
        vehicles, jobs = make_case(n_vehicles, n_jobs, seed)
        case = f"corridors/seed{seed}/{n_vehicles}x{n_jobs}"
        for impl, fn in impls.items():
            results.append(_measure(case, impl, fn, vehicles, jobs, travel, repeats, setup_ms))
    return {"bench": "dispatch", "seed": seed, "results": results}


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv[1:]), indent=2))
