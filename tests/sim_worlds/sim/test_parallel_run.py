"""Corridors simulated in parallel processes give what each corridor gives alone.

The two corridors share no road, vehicle or planner, so ``run_corridors`` runs each in
its own process and merges results and traces; that must change nothing per corridor.
"""

from __future__ import annotations

import io
import multiprocessing
import pickle
from pathlib import Path

import networkx as nx
import pytest

from sim_worlds.parallel_run import run_corridors
from sim_worlds.simulator import TRACE_HEADER, Fault, SimConfig, SimResult, Simulator, load_world

CORRIDORS = ["huu-nghi", "tan-thanh"]
DEMAND = {"huu-nghi": 3500.0, "tan-thanh": 2500.0}
World = tuple[dict[str, nx.DiGraph], dict[str, list[tuple[float, float]]]]


def _cfg(corridors: list[str], minutes: float = 15.0) -> SimConfig:
    return SimConfig(
        vehicles=dict.fromkeys(corridors, 4),
        demand_per_day={c: DEMAND[c] for c in corridors},
        duration_s=minutes * 60.0,
        seed=4,
    )


@pytest.fixture(scope="module")
def world() -> World:
    return load_world(CORRIDORS)


def _alone(world: World, c: str) -> tuple[Simulator, list[str]]:
    """Corridor ``c`` alone, in this process: its simulator and trace lines."""
    graphs, zero = world
    buf = io.StringIO()
    sim = Simulator(graphs, zero, _cfg([c]), trace=buf)
    sim.run()
    return sim, buf.getvalue().splitlines()


def test_each_corridor_in_its_own_process_is_that_corridor_alone(
    world: World, tmp_path: Path
) -> None:
    graphs, zero = world
    trace = tmp_path / "trace.csv"
    seen: list[float] = []
    merged = run_corridors(graphs, zero, _cfg(CORRIDORS), trace, seen.append, workers=2)
    lines = trace.read_text().splitlines()
    assert lines[0] == TRACE_HEADER and TRACE_HEADER not in lines[1:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["trace.csv"]  # parts removed
    assert seen == sorted(seen) and seen[-1] == merged.t == 900.0
    for series in (merged.stats.crossings, merged.stats.queue):
        assert series and series == sorted(series, key=lambda x: x[0])
    counters = {"commands": 0, "obstacle_stops": 0}
    for c in CORRIDORS:
        sim, rows = _alone(world, c)
        alone = sim.summary()
        assert merged.summary()["corridors"][c] == alone["corridors"][c]
        mine = {vid for vid, v in merged.vehicles.items() if v.corridor == c}
        assert [r for r in lines[1:] if r.split(",")[1] in mine] == rows[1:]
        for k in counters:
            counters[k] += alone[k]
    assert {k: merged.summary()[k] for k in counters} == counters
    assert len(lines) == 1 + 2 * 4 * 1800  # nothing else in the merged trace
    ids = [k.id for k in merged.consignments]
    assert len(ids) == len(set(ids))  # numbered per corridor, named by it
    assert {k.corridor for k in merged.consignments} == set(CORRIDORS)
    # In this process, one corridor after the other: the same results and trace.
    serial = run_corridors(graphs, zero, _cfg(CORRIDORS), tmp_path / "serial.csv", workers=1)
    assert serial.summary() == merged.summary()
    assert (tmp_path / "serial.csv").read_bytes() == trace.read_bytes()


def test_a_result_summarises_like_its_simulator_and_pickles(
    world: World,
) -> None:
    graphs, zero = world
    sim = Simulator(graphs, zero, _cfg(CORRIDORS, minutes=10.0))
    sim.run()
    res = sim.result()
    assert res.summary() == sim.summary()
    back = pickle.loads(pickle.dumps(res))
    assert isinstance(back, SimResult) and back.summary() == sim.summary()
    assert back.stats == sim.stats and back.consignments == sim.consignments
    sim.run(until_s=sim.t + 60.0)
    assert res.t == 600.0 and res.summary() == back.summary()  # a snapshot, not a view


def test_a_workers_error_reaches_the_caller_and_its_siblings_stop(
    world: World, tmp_path: Path
) -> None:
    graphs, zero = world
    # A corridor with an empty guide graph has no yards (and no place to start a vehicle).
    graphs = {**graphs, "nowhere": nx.DiGraph()}
    zero = {**zero, "nowhere": zero["huu-nghi"]}
    cfg = SimConfig(vehicles={"huu-nghi": 4, "nowhere": 4}, demand_per_day={}, duration_s=900)
    with pytest.raises(ValueError, match=r"nowhere: staging point .* is not in the map"):
        run_corridors(graphs, zero, cfg, tmp_path / "trace.csv", workers=2)
    assert not multiprocessing.active_children()
    assert not list(tmp_path.iterdir())  # no part files left behind


def test_faults_are_refused(
    world: World,
) -> None:
    """A fault may span corridors (no corridor named), which a split would change."""
    graphs, zero = world
    cfg = _cfg(CORRIDORS)
    cfg.faults = (Fault("peer_down", at_s=60.0, duration_s=60.0),)
    with pytest.raises(ValueError, match="faults"):
        run_corridors(graphs, zero, cfg, None)
