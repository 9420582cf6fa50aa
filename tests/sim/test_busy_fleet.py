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
    assert len(times) >= 40
    # Still crossing in the last 20 minutes (a locked fleet stops crossing altogether).
    assert len([t for t in times if t > 2400]) >= 8
    assert any(sv.model.v > 0.1 for sv in sim.vehicles.values())


@pytest.mark.xfail(
    strict=True,
    reason="known: bodies overlap by up to 0.2 m where the yard in/out connectors run 3.5 m "
    "apart right after a corner; E-AUTO fronts ~0.8 m under the 24.5 m spacing at times",
)
def test_thirty_vehicles_never_touch(busy_hour: tuple[Simulator, TraceReport]) -> None:
    _, rep = busy_hour
    assert rep.collisions == 0, rep.violations[:5]
    reserved = {k: n for k, n in rep.headway_by_lane.items() if k in ("E-AUTO", "I-AUTO")}
    assert reserved == {}, rep.violations[:5]
