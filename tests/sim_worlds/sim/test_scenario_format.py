"""Scenario files are validated with messages that say what is wrong and where."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_worlds.scenario import ScenarioError, load_scenario, parse_scenario

BASE = {"name": "x", "corridor": "huu-nghi", "vehicles": 4, "duration_s": 600}


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        ({"corridor": "lang-son"}, "corridor must be"),
        ({"vehicles": 0}, "vehicles must be >= 1"),
        ({"vehicles": 2.5}, "vehicles must be an integer"),
        ({"colour": "red"}, "unknown keys"),
        ({"faults": [{"kind": "meteor", "at_s": 1, "duration_s": 1}]}, "kind must be one of"),
        ({"faults": [{"kind": "obstacle", "at_s": 1, "duration_s": 1}]}, "needs ['lane', 's_m']"),
        ({"faults": [{"kind": "peer_down", "at_s": 900, "duration_s": 1}]}, "after the end"),
        ({"expect": {"happy": 1}}, "unknown expectations"),
        ({"expect": {"collisions": -1}}, "must be a number >= 0"),
        ({"expect": {"no_crossing_during": 0}}, "names no fault"),
    ],
)
def test_bad_scenarios_are_refused_with_a_clear_message(patch: dict, message: str) -> None:
    with pytest.raises(ScenarioError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_scenario({**BASE, **patch}, "t.yaml")


def test_missing_key_and_bad_yaml(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="missing required key 'duration_s'"):
        parse_scenario({k: v for k, v in BASE.items() if k != "duration_s"})
    f = tmp_path / "broken.yaml"
    f.write_text("name: [unclosed\n")
    with pytest.raises(ScenarioError, match="not valid YAML"):
        load_scenario(f)


def test_a_valid_scenario_becomes_a_config() -> None:
    sc = parse_scenario(
        {
            **BASE,
            "seed": 9,
            "faults": [{"kind": "breakdown", "at_s": 10, "duration_s": 60, "vehicle": "hn_01"}],
            "expect": {"collisions": 0},
        }
    )
    cfg = sc.config()
    assert cfg.vehicles == {"huu-nghi": 4} and cfg.seed == 9
    assert cfg.faults[0].kind == "breakdown" and cfg.faults[0].corridor == "huu-nghi"
