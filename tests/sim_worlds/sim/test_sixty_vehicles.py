"""Sixty vehicles on Huu Nghi, twice the yards' bays, keep moving through the morning.

Its own module (the longest simulation in the suite): ``make pytest`` runs modules on two
workers, and this one balances the night-yard hours on the other.
"""

from __future__ import annotations

import pytest

from sim_worlds.simulator import SimConfig, Simulator, load_world

pytestmark = pytest.mark.slow  # about 5 minutes


def test_sixty_vehicles_do_not_lock_up_in_the_morning() -> None:
    """Twice the yards' 22 bays: most vehicles queue on the lanes and yard roads.

    This fleet used to lock up in its third hour: a vehicle that had claimed a bay's
    exit junction kept a plan standing short of it (the planner found none past it and
    kept the old plan's "handoff" as the reason, a hard hold fleet control never
    overrides), while the vehicle the plans sent first waited for that junction; and
    empty vehicles idled on the spots loaded ones were queued behind to unload.
    """
    graphs, zero = load_world(["huu-nghi"])
    cfg = SimConfig(
        vehicles={"huu-nghi": 60}, demand_per_day={"huu-nghi": 3500}, duration_s=86400, seed=1
    )
    sim = Simulator(graphs, zero, cfg)
    still_since: float | None = None
    longest_still = 0.0
    while sim.t < 3 * 3600:
        sim.run(until_s=sim.t + 60.0)
        moving = sum(1 for sv in sim.vehicles.values() if sv.model.v > 0.1)
        if moving <= 2:
            still_since = sim.t if still_since is None else still_since
            longest_still = max(longest_still, sim.t - still_since)
        else:
            still_since = None
    assert longest_still < 600.0
    # Night-time demand is low (about 35 trucks an hour); a locked fleet carries none.
    late = [t for t, _vid, _dir, loaded in sim.stats.crossings if loaded and t > 9000.0]
    assert len(late) >= 8
