"""Scenario files: a simulated situation plus the outcome it must have.

A scenario (YAML, ``sim_worlds/scenarios/*.yaml``) names a corridor, a fleet, a
demand, a duration, a seed, timed faults, and ``expect:`` outcomes the test suite
checks after running it in-process (and, for the short ones, through ROS)::

    name: breakdown-export-lane
    corridor: huu-nghi
    vehicles: 10
    duration_s: 1800
    demand_per_day: 3500
    seed: 1
    faults:
      - {kind: breakdown, at_s: 700, duration_s: 300, vehicle: export-lane}
    expect:
      collisions: 0
      lane_headway_violations: 0
      recovers_within_s: 600

Fault kinds and their fields: ``breakdown`` / ``comms_loss`` (``vehicle``: an id or
``export-lane``), ``obstacle`` (``lane``, ``s_m``), ``lane_closure`` (``lane``),
``peer_down`` / ``peer_refusing``, ``customs_hold`` (``goods``, optional),
``demand_surge`` (``factor``, ``goods`` optional); all take ``at_s`` and
``duration_s``. Expectations: ``collisions``, ``headway_violations`` and
``lane_headway_violations`` (on the reserved lanes E-AUTO / I-AUTO only) are
maximum counts in the trace, checked by :mod:`sim_worlds.trace_checker`;
``min_crossings`` (loaded or empty), ``min_loaded_crossings``,
``recovers_within_s`` (a crossing within that time after every fault ended),
``no_crossing_during: <fault index>`` (nothing crosses while that fault lasts,
e.g. the peer is down: vehicles hold at the stop line), ``min_obstacle_stops``
(the forward sensor stopped vehicles) and ``max_dispatch_errors``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from sim_worlds.simulator import Fault, SimConfig, Simulator, load_world
from sim_worlds.trace_checker import TraceReport, check_trace, trace_from_rows

SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
FAULT_KINDS = {
    "breakdown": {"vehicle"},
    "comms_loss": {"vehicle"},
    "obstacle": {"lane", "s_m"},
    "lane_closure": {"lane"},
    "peer_down": set(),
    "peer_refusing": set(),
    "customs_hold": set(),
    "demand_surge": {"factor"},
}
FAULT_FIELDS = {"kind", "at_s", "duration_s", "vehicle", "lane", "s_m", "goods", "factor"}
GUIDE_LANES = ("E-AUTO", "I-AUTO")  # the reserved lanes between the yards
EXPECT_KEYS = {
    "collisions",
    "headway_violations",
    "lane_headway_violations",
    "min_crossings",
    "min_loaded_crossings",
    "recovers_within_s",
    "no_crossing_during",
    "min_obstacle_stops",
    "max_dispatch_errors",
}
TOP_KEYS = {
    "name",
    "description",
    "corridor",
    "vehicles",
    "duration_s",
    "demand_per_day",
    "seed",
    "faults",
    "expect",
}


class ScenarioError(ValueError):
    """A scenario file that does not follow the format (the message says where)."""


@dataclass(frozen=True)
class Scenario:
    name: str
    corridor: str
    vehicles: int
    duration_s: float
    demand_per_day: float
    seed: int
    faults: tuple[Fault, ...]
    expect: dict[str, Any] = field(default_factory=dict)
    description: str = ""

    def config(self, dt: float = 0.5) -> SimConfig:
        return SimConfig(
            vehicles={self.corridor: self.vehicles},
            demand_per_day={self.corridor: self.demand_per_day},
            duration_s=self.duration_s,
            seed=self.seed,
            dt=dt,
            faults=self.faults,
        )


def load_scenario(path: Path | str) -> Scenario:
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as e:
        raise ScenarioError(f"{path}: not valid YAML: {e}") from None
    return parse_scenario(data, str(path))


def parse_scenario(data: object, where: str = "scenario") -> Scenario:
    if not isinstance(data, dict):
        raise ScenarioError(f"{where}: expected a mapping at the top level")
    unknown = set(data) - TOP_KEYS
    if unknown:
        raise ScenarioError(
            f"{where}: unknown keys {sorted(unknown)} (allowed: {sorted(TOP_KEYS)})"
        )
    for key in ("name", "corridor", "vehicles", "duration_s"):
        if key not in data:
            raise ScenarioError(f"{where}: missing required key {key!r}")
    corridor = data["corridor"]
    if corridor not in ("huu-nghi", "tan-thanh"):
        raise ScenarioError(f"{where}: corridor must be huu-nghi or tan-thanh, not {corridor!r}")
    vehicles = _number(data, "vehicles", where, int, minimum=1)
    duration = _number(data, "duration_s", where, float, minimum=1.0)
    demand = _number(data, "demand_per_day", where, float, minimum=0.0, default=3500.0)
    seed = _number(data, "seed", where, int, default=1)
    faults = []
    raw = data.get("faults") or []
    if not isinstance(raw, list):
        raise ScenarioError(f"{where}: faults must be a list")
    for i, f in enumerate(raw):
        faults.append(_fault(f, f"{where}: faults[{i}]", corridor, duration))
    expect = data.get("expect") or {}
    if not isinstance(expect, dict):
        raise ScenarioError(f"{where}: expect must be a mapping")
    bad = set(expect) - EXPECT_KEYS
    if bad:
        raise ScenarioError(
            f"{where}: unknown expectations {sorted(bad)} (known: {sorted(EXPECT_KEYS)})"
        )
    for k, v in expect.items():
        if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
            raise ScenarioError(f"{where}: expect.{k} must be a number >= 0, not {v!r}")
    if "no_crossing_during" in expect and not 0 <= int(expect["no_crossing_during"]) < len(faults):
        raise ScenarioError(f"{where}: expect.no_crossing_during names no fault")
    return Scenario(
        str(data["name"]),
        corridor,
        vehicles,
        duration,
        demand,
        seed,
        tuple(faults),
        dict(expect),
        str(data.get("description", "")),
    )


def _number(
    d: dict[str, Any],
    key: str,
    where: str,
    kind: type,
    minimum: float | None = None,
    default: Any = None,
) -> Any:
    if key not in d:
        if default is None:
            raise ScenarioError(f"{where}: missing {key!r}")
        return default
    v = d[key]
    if (
        isinstance(v, bool)
        or not isinstance(v, int | float)
        or (kind is int and not isinstance(v, int))
    ):
        raise ScenarioError(
            f"{where}: {key} must be {'an integer' if kind is int else 'a number'}, not {v!r}"
        )
    if minimum is not None and v < minimum:
        raise ScenarioError(f"{where}: {key} must be >= {minimum}, not {v!r}")
    return kind(v)


def _fault(f: object, where: str, corridor: str, duration: float) -> Fault:
    if not isinstance(f, dict):
        raise ScenarioError(f"{where}: a fault is a mapping with kind, at_s, duration_s")
    kind = f.get("kind")
    if kind not in FAULT_KINDS:
        raise ScenarioError(f"{where}: kind must be one of {sorted(FAULT_KINDS)}, not {kind!r}")
    unknown = set(f) - FAULT_FIELDS
    if unknown:
        raise ScenarioError(f"{where}: unknown fields {sorted(unknown)}")
    missing = (FAULT_KINDS[kind] | {"at_s", "duration_s"}) - set(f)
    if missing:
        raise ScenarioError(f"{where}: {kind} needs {sorted(missing)}")
    at = _number(f, "at_s", where, float, minimum=0.0)
    if at >= duration:
        raise ScenarioError(f"{where}: at_s {at} is after the end of the scenario ({duration})")
    return Fault(
        kind=str(kind),
        at_s=at,
        duration_s=_number(f, "duration_s", where, float, minimum=0.0),
        corridor=corridor,
        vehicle=str(f.get("vehicle", "")),
        lane=str(f.get("lane", "")),
        s_m=float(f.get("s_m", 0.0)),
        goods=str(f.get("goods", "")),
        factor=float(f.get("factor", 1.0)),
    )


@dataclass
class Outcome:
    """What a run produced, and which expectations failed (empty: all met)."""

    summary: dict[str, Any]
    trace: TraceReport
    crossings: list[tuple[float, str, str, bool]]
    failures: list[str]


def run_scenario(sc: Scenario, dt: float = 0.5) -> tuple[Simulator, Outcome]:
    graphs, zero = load_world([sc.corridor])
    buf = io.StringIO()
    sim = Simulator(graphs, zero, sc.config(dt), trace=buf)
    sim.run()
    rows = [line.split(",") for line in buf.getvalue().splitlines()[1:]]
    rep = check_trace(trace_from_rows(rows))
    return sim, evaluate(sc, sim.summary(), rep, sim.stats.crossings)


def evaluate(
    sc: Scenario,
    summary: dict[str, Any],
    rep: TraceReport,
    crossings: list[tuple[float, str, str, bool]],
) -> Outcome:
    e = sc.expect
    fails: list[str] = []
    c = summary["corridors"][sc.corridor]
    if "collisions" in e and rep.collisions > e["collisions"]:
        first = [v for v in rep.violations if v.kind == "collision"][:3]
        fails.append(f"{rep.collisions} collisions > {e['collisions']}: {first}")
    if "headway_violations" in e and rep.headway_violations > e["headway_violations"]:
        fails.append(f"{rep.headway_violations} headway violations > {e['headway_violations']}")
    lane_hw = sum(n for lane, n in rep.headway_by_lane.items() if lane in GUIDE_LANES)
    if "lane_headway_violations" in e and lane_hw > e["lane_headway_violations"]:
        fails.append(f"{lane_hw} headway violations on the reserved lanes")
    if "min_crossings" in e and c["crossings"] < e["min_crossings"]:
        fails.append(f"{c['crossings']} crossings < {e['min_crossings']}")
    if "min_loaded_crossings" in e and c["loaded_crossings"] < e["min_loaded_crossings"]:
        fails.append(f"{c['loaded_crossings']} loaded crossings < {e['min_loaded_crossings']}")
    if "recovers_within_s" in e and sc.faults:
        end = max(f.at_s + f.duration_s for f in sc.faults)
        after = [t for t, *_ in crossings if end <= t <= end + e["recovers_within_s"]]
        if not after:
            fails.append(f"no crossing within {e['recovers_within_s']} s after the faults ended")
    if "no_crossing_during" in e:
        f = sc.faults[int(e["no_crossing_during"])]
        # Vehicles accepted just before the fault may still be crossing: a minute of grace.
        during = [t for t, *_ in crossings if f.at_s + 60.0 < t < f.at_s + f.duration_s]
        if during:
            fails.append(f"{len(during)} crossings while {f.kind} lasted (first at {during[0]})")
    if "min_obstacle_stops" in e and summary["obstacle_stops"] < e["min_obstacle_stops"]:
        fails.append(f"{summary['obstacle_stops']} obstacle stops < {e['min_obstacle_stops']}")
    if "max_dispatch_errors" in e and summary["dispatch_errors"] > e["max_dispatch_errors"]:
        fails.append(f"{summary['dispatch_errors']} dispatch errors > {e['max_dispatch_errors']}")
    return Outcome(summary, rep, crossings, fails)


def scenario_files() -> list[Path]:
    return sorted(SCENARIO_DIR.glob("*.yaml"))
