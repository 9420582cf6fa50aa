"""The day's energy figures against an independent count: kWh a vehicle needs a day
and the share of vehicle time on an empty battery (nothing charges vehicles yet, so
the summary must say how far a day ran on empty)."""

from __future__ import annotations

import pytest

from sim_worlds.capacity_report import build_report
from sim_worlds.simulator import SimConfig, Simulator, load_world
from vehicle.brain import AUX_KW, CONSUMPTION_KWH_PER_KM


def test_energy_and_empty_battery_time_are_counted() -> None:
    corridor = "huu-nghi"
    graphs, zero = load_world([corridor])
    cfg = SimConfig(
        vehicles={corridor: 6}, demand_per_day={corridor: 3500}, duration_s=900.0, seed=2
    )
    sim = Simulator(graphs, zero, cfg)
    low = sorted(sim.vehicles)[:2]
    for vid in low:  # two start nearly flat: they run empty within minutes of driving
        sim.vehicles[vid].brain.battery_soc = 0.01
    metres = 0.0
    empty = 0.0
    while sim.t < cfg.duration_s - 1e-9:
        before = {vid: (sv.model.x, sv.model.y) for vid, sv in sim.vehicles.items()}
        sim.step(cfg.dt)
        for vid, sv in sim.vehicles.items():
            x, y = before[vid]
            metres += ((sv.model.x - x) ** 2 + (sv.model.y - y) ** 2) ** 0.5
            empty += cfg.dt * (sv.brain.battery_soc <= 0.0)
    c = sim.summary()["corridors"][corridor]
    n, days = len(sim.vehicles), sim.t / 86400.0
    kwh = metres / 1000.0 * CONSUMPTION_KWH_PER_KM + AUX_KW * sim.t / 3600.0 * n
    assert metres > 2000.0  # they drove
    assert c["energy_kwh_per_vehicle_day"] == pytest.approx(kwh / n / days, rel=0.03)
    assert c["battery_empty_share"] == pytest.approx(empty / (sim.t * n), abs=0.01)
    assert 0.0 < c["battery_empty_share"] < 2 / 6 + 0.01  # only the two that started flat
    assert c["battery_soc_min"] == 0.0
    report = build_report(sim.result(), None, wall_s=1.0)
    assert any("empty battery" in note for note in report["notes"])
    assert c["battery_empty_share"] > 0.01
    assert report["corridors"][corridor]["binding_resource"] == "energy"


def test_with_charging_on_a_low_vehicle_charges_at_a_charger() -> None:
    corridor = "huu-nghi"
    graphs, zero = load_world([corridor])
    cfg = SimConfig(
        vehicles={corridor: 4},
        demand_per_day={corridor: 0},
        duration_s=900.0,
        seed=2,
        charging=True,
        charger_kw=300.0,
    )
    sim = Simulator(graphs, zero, cfg)
    vid = sorted(sim.vehicles)[0]
    sim.vehicles[vid].brain.battery_soc = 0.1
    charged_at = None
    while sim.t < cfg.duration_s - 1e-9 and charged_at is None:
        sim.step(cfg.dt)
        if sim.vehicles[vid].brain.battery_soc >= cfg.yard_rules.charge_until:
            charged_at = sim.t
    decisions = [d for y in sim.yards.values() for d in y.take_decisions()]
    sends = [
        d for d in sorted(decisions, key=lambda d: d.at) if d.vehicle == vid and d.what == "send"
    ]
    assert (
        sends[0].detail
        in sim.layouts[corridor].chargers["VN"] + sim.layouts[corridor].chargers["CN"]
    )
    assert charged_at is not None  # 80 % of 60 kWh at 300 kW: about 10 minutes plugged in
    sim.run(until_s=charged_at + 10.0)
    assert sim.yard_of(vid).vehicles[vid].phase != "charging"  # charged: back in service
