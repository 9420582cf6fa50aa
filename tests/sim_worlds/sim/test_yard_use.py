"""Where vehicles wait for a loading bay, and how the report measures the bays.

A vehicle for a bay waits at its side's staging point and is given a bay place
only there; the place is then claimed for the whole drive. With the staging point
at CN customs by the zero line, 3.1 km from the Huu Nghi bays, every CN bay place
was claimed by a vehicle still on the road and Huu Nghi topped out near 160 loaded
crossings an hour whatever the fleet.
"""

from __future__ import annotations

import math

import pytest

from fleet.routing import fastest_route
from fleet.yard.layout import DEFAULT_STAGING as STAGING
from fleet.yard.policy import YardRules
from sim_worlds.simulator import STAGING_QUEUE_M, SimConfig, Simulator, load_world

BAY_PLACES = YardRules().bay_places


@pytest.mark.parametrize("corridor", ["huu-nghi", "tan-thanh"])
def test_every_side_stages_vehicles_near_its_bays(corridor: str) -> None:
    graphs, zero = load_world([corridor])
    g = graphs[corridor]
    sim = Simulator(graphs, zero, SimConfig(vehicles={corridor: 1}, demand_per_day={}))
    for side, spots in sim.spots[corridor].items():
        assert len(spots) == 8
        for spot in spots:
            road = fastest_route(g, STAGING[side], spot).length_m
            assert road <= 600.0, (side, spot, road)  # the far bay: 540 m


@pytest.mark.slow
def test_bay_use_counts_what_stood_there() -> None:
    """The report's bay figures against an independent count taken each step."""
    corridor = "huu-nghi"
    graphs, zero = load_world([corridor])
    cfg = SimConfig(
        vehicles={corridor: 40},
        demand_per_day={corridor: 20000},
        duration_s=1500,
        seed=3,
        clearance_scale=0.1,
    )
    sim = Simulator(graphs, zero, cfg)
    g = graphs[corridor]
    standing = {side: 0.0 for side in sim.spots[corridor]}
    full = {side: 0.0 for side in sim.spots[corridor]}
    waiting = 0.0
    while sim.t < cfg.duration_s - 1e-9:
        sim.step(cfg.dt)
        for side, spots in sim.spots[corridor].items():
            for spot in spots:
                here = [v for v in sim.vehicles.values() if v.phase != "driving" and v.node == spot]
                bound = [
                    v for v in sim.vehicles.values() if v.phase == "driving" and v.target == spot
                ]
                standing[side] += cfg.dt * bool(here)
                full[side] += cfg.dt * (len(here) + len(bound) >= BAY_PLACES)
        for v in sim.vehicles.values():
            node = v.target if v.phase == "driving" else v.node
            if node in STAGING.values() and v.model.v < 0.1:
                at = g.nodes[node]
                waiting += cfg.dt * (
                    math.hypot(v.model.x - at["x"], v.model.y - at["y"]) <= STAGING_QUEUE_M
                )
    c = sim.summary()["corridors"][corridor]
    span = sim.t * 8
    for side in sim.spots[corridor]:
        assert c["bay_occupied_share"][side] > 0.2  # the cranes had work
        assert c["bay_occupied_share"][side] == pytest.approx(standing[side] / span, abs=0.02)
        assert c["bay_full_share"][side] == pytest.approx(full[side] / span, abs=0.02)
    assert c["vehicle_bay_wait_share"] == pytest.approx(waiting / (sim.t * 40), abs=0.02)
