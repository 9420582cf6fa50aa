"""A busy fleet keeps moving: the large-fleet gridlock of the first capacity studies.

With 30 vehicles on Huu Nghi the yards and lanes used to lock up within the first
half hour (plans waiting for vehicles that were elsewhere, junction orders no one
could keep, a vehicle swinging wide out of a corner into the opposite connector).
An hour of the same traffic must keep crossings coming to the end.
"""

from __future__ import annotations

import io

import pytest

from sim_worlds.simulator import GOODS, SimConfig, Simulator, load_world
from sim_worlds.trace_checker import TraceReport, check_trace, trace_from_rows

pytestmark = pytest.mark.slow  # about 2 minutes


@pytest.fixture(scope="module")
def busy_hour() -> tuple[Simulator, TraceReport]:
    graphs, zero = load_world(["huu-nghi"])
    cfg = SimConfig(
        vehicles={"huu-nghi": 30}, demand_per_day={"huu-nghi": 3500}, duration_s=3600, seed=1
    )
    buf = io.StringIO()
    sim = Simulator(graphs, zero, cfg, trace=buf)
    sim.run()
    rows = (line.split(",") for line in buf.getvalue().splitlines()[1:])
    return sim, check_trace(trace_from_rows(rows))


def test_thirty_vehicles_keep_crossing_for_an_hour(
    busy_hour: tuple[Simulator, TraceReport],
) -> None:
    sim, _ = busy_hour
    times = [t for t, *_ in sim.stats.crossings]
    # About 110 with eight loading bays a side (60 when the yards had four).
    assert len(times) >= 90
    # Still crossing in the last 20 minutes (a locked fleet stops crossing altogether).
    assert len([t for t in times if t > 2400]) >= 25
    assert any(sv.model.v > 0.1 for sv in sim.vehicles.values())


def test_thirty_vehicles_never_touch_nor_tailgate(
    busy_hour: tuple[Simulator, TraceReport],
) -> None:
    _, rep = busy_hour
    assert rep.collisions == 0, rep.violations[:5]
    # Anywhere: reserved lanes, yard roads, bays (merges out of bays included).
    assert rep.headway_violations == 0, (rep.headway_by_lane, rep.violations[:5])


def test_every_consignment_is_unloaded_once_and_only_across_the_line(
    busy_hour: tuple[Simulator, TraceReport],
) -> None:
    """A vehicle that stops a little short of its spot was once sent the last metre again
    every few seconds, and each arrival started unloading again: cargo loaded a moment
    before was "delivered" on the side it was loaded on, and the cranes ran twice."""
    sim, _ = busy_hour
    delivered = [c for c in sim.consignments if c.delivered is not None]
    assert len(delivered) >= 60
    for c in sim.consignments:
        if c.delivered is not None:
            assert c.loaded is not None and c.crossed is not None, c
            assert c.loaded < c.crossed < c.delivered, c
    # One crane job per load and per unload, no more.
    loads = sum(1 for c in sim.consignments if c.loaded is not None)
    jobs = sum(sim.stats.crane_busy_s.values())
    kinds = {c.id: c.kind for c in sim.consignments}
    expected = sum(GOODS[kinds[c.id]][2] for c in sim.consignments if c.loaded is not None)
    expected += sum(GOODS[c.kind][2] for c in delivered)
    unloading = [sv.cargo for sv in sim.vehicles.values() if sv.phase == "unloading"]
    expected += sum(GOODS[c.kind][2] for c in unloading if c is not None)
    assert loads > 0 and jobs == pytest.approx(expected)


def test_vehicles_from_the_depot_enter_a_bay_only_when_it_is_clear() -> None:
    """More vehicles than places: the rest wait in the depot and enter service at the first
    free bay. A vehicle entered a parking bay while the one leaving it stood 23 m away
    (the plans thought it gone): a 6.9 m bumper gap, 84 headway rows in the trace."""
    graphs, zero = load_world(["huu-nghi"])
    cfg = SimConfig(
        vehicles={"huu-nghi": 52}, demand_per_day={"huu-nghi": 3500}, duration_s=86400, seed=1
    )
    buf = io.StringIO()
    sim = Simulator(graphs, zero, cfg, trace=buf)
    sim.run(until_s=600.0)
    assert not sim._depot["huu-nghi"]  # all 52 in service
    rows = (line.split(",") for line in buf.getvalue().splitlines()[1:])
    rep = check_trace(trace_from_rows(rows))
    assert rep.collisions == 0 and rep.headway_violations == 0, rep.headway_by_lane
