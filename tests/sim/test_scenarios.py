"""Every scenario file runs in-process and meets its expected outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_worlds.scenario import load_scenario, run_scenario, scenario_files

pytestmark = pytest.mark.slow  # about 10 s per scenario on the 2-core machine

# Known defects outside the simulator (reported to the owners); strict, so a fix shows.
KNOWN = {
    # Pure pursuit cuts the sharp turn from the yard road into the out-connector by up
    # to ~1.9 m and the in/out connectors are 3.5 m apart: a vehicle turning out touches
    # one queued on the in-connector (the staging queue).
    "durian-surge": "bodies overlap on the parallel yard in/out connectors (corner cutting)",
    # Behind a vehicle refused at the stop line the queue ends up fronts ~22 m apart (the
    # spacing is 24.5 m) in the trace: not yet explained (fleet control's gap, or the
    # brain's stopping margin); the planner's refusal-then-accept bug is fixed.
    "peer-refusing": "queue behind a refused vehicle closes to ~22 m (spacing 24.5 m)",
}


def _cases() -> list[object]:
    return [
        pytest.param(p, id=p.stem, marks=pytest.mark.xfail(reason=KNOWN[p.stem], strict=True))
        if p.stem in KNOWN
        else pytest.param(p, id=p.stem)
        for p in scenario_files()
    ]


@pytest.mark.parametrize("path", _cases())
def test_scenario_meets_its_expected_outcome(path: Path) -> None:
    sc = load_scenario(path)
    sim, out = run_scenario(sc)
    assert out.failures == [], out.failures
    assert out.trace.rows == len(sim.vehicles) * round(sc.duration_s / 0.5)


def test_there_are_scenarios_for_every_fault_kind() -> None:
    kinds = {f.kind for p in scenario_files() for f in load_scenario(p).faults}
    assert kinds >= {
        "breakdown",
        "obstacle",
        "lane_closure",
        "comms_loss",
        "peer_down",
        "peer_refusing",
        "customs_hold",
        "demand_surge",
    }


def test_peer_down_holds_vehicles_at_the_stop_line() -> None:
    sc = load_scenario(Path(__file__).parents[2] / "sim_worlds/scenarios/peer-down.yaml")
    sim, out = run_scenario(sc)
    f = sc.faults[0]
    end = f.at_s + f.duration_s
    assert not [t for t, *_ in out.crossings if f.at_s + 60 < t < end]
    assert [t for t, *_ in out.crossings if end <= t <= end + 300]
    # While it was down, vehicles stood at the zero line waiting (the dwell shows it).
    assert max(d for _c, d in sim.stats.zero_dwell) > 300.0
