"""Idle empty vehicles give way to loaded ones queued for their bays.

At night on the 50-vehicle Huu Nghi day, empty vehicles sent across for VN cargo
that others then took sat in every VN loading bay with nothing to load, while the
loaded imports queued behind them from the VN staging point back over the zero
line: eight vehicles stood at the line for 4-5 minutes each between 01:30 and
02:45 (loaded imports among them). The dispatcher moved an idle empty vehicle off a
spot only for a loaded one driving to that very spot, and a loaded vehicle gets a
spot only at the head of the queue, so none ever was.
"""

from __future__ import annotations

import pytest

from sim_worlds.simulator import SimConfig, Simulator, load_world

pytestmark = pytest.mark.slow  # about 4 minutes


def _blocking(sim: Simulator, corridor: str) -> set[str]:
    """Idle empty vehicles on a bay spot while a loaded vehicle is queued for that
    side's bays and none has room."""
    out: set[str] = set()
    for side, spots in sim.spots[corridor].items():
        if sim.yards[side].loaded_queued(corridor, side):
            out |= {
                sv.id
                for sv in sim.vehicles.values()
                if sv.phase == "idle" and sv.cargo is None and sv.node in spots
            }
    return out


@pytest.fixture(scope="module")
def night() -> tuple[Simulator, int]:
    """The first three hours; and how often an idle empty vehicle was still blocking a
    bay at the next yard decision after the one that should have moved it."""
    corridor = "huu-nghi"
    graphs, zero = load_world([corridor])
    cfg = SimConfig(
        vehicles={corridor: 50}, demand_per_day={corridor: 3500}, duration_s=3 * 3600, seed=1
    )
    sim = Simulator(graphs, zero, cfg)
    before: set[str] = set()
    stuck = 0
    while sim.t < cfg.duration_s - 1e-9:
        sim.step(cfg.dt)
        if sim._report_due(sim.t):  # the yard decided in this step
            now = _blocking(sim, corridor)
            stuck += len(now & before)
            before = now
    return sim, stuck


def test_nobody_waits_minutes_at_the_zero_line_at_night(night: tuple[Simulator, int]) -> None:
    sim, _ = night
    dwell = [d for _c, d in sim.stats.zero_dwell]
    dwell += [sv.zero_wait_s for sv in sim.vehicles.values()]  # standing there now
    assert len(sim.stats.zero_dwell) > 200  # the night's traffic did cross
    assert max(dwell) < 120.0, sorted(dwell)[-10:]


def test_idle_empty_vehicles_leave_bays_loaded_ones_queue_for(
    night: tuple[Simulator, int],
) -> None:
    sim, stuck = night
    assert stuck == 0
    assert any(sv.cargo is not None for sv in sim.vehicles.values())  # there was traffic
