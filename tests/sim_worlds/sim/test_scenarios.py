"""Every scenario file runs in-process and meets its expected outcome."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_worlds.scenario import load_scenario, run_scenario, scenario_files
from tests.conftest import REPO

pytestmark = pytest.mark.slow  # about 10 s per scenario on the 2-core machine

# Known defects outside the simulator (reported to the owners); strict, so a fix shows.
KNOWN: dict[str, str] = {}


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
    sc = load_scenario(REPO / "sim_worlds/scenarios/peer-down.yaml")
    sim, out = run_scenario(sc)
    f = sc.faults[0]
    end = f.at_s + f.duration_s
    assert not [t for t, *_ in out.crossings if f.at_s + 60 < t < end]
    assert [t for t, *_ in out.crossings if end <= t <= end + 300]
    # While it was down, vehicles stood at the zero line waiting (the dwell shows it).
    assert max(d for _c, d in sim.stats.zero_dwell) > 300.0
