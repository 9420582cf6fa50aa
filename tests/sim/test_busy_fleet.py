"""A busy fleet keeps moving: the large-fleet gridlock of the first capacity studies.

With 30 vehicles on Huu Nghi the yards and lanes used to lock up within the first
half hour (plans waiting for vehicles that were elsewhere, junction orders no one
could keep, a vehicle swinging wide out of a corner into the opposite connector).
An hour of the same traffic must keep crossings coming to the end.
"""

from __future__ import annotations

import io

import pytest

from sim_worlds.simulator import SimConfig, Simulator, load_world
from sim_worlds.trace_checker import TraceReport, check_trace, trace_from_rows

pytestmark = pytest.mark.slow  # about 30 s


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
