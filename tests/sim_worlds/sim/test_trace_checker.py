"""The independent trace checker finds hand-made collisions and headway violations."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim_worlds.trace_checker import HEADER, check_trace, read_trace, trace_from_rows
from tests.conftest import REPO


def _drive(vid: str, lane: str, s0: float, v: float, steps: int, y: float = 0.0) -> list[list[str]]:
    """A vehicle driving straight along +x (its lane) at speed v, one row per 0.5 s."""
    rows = []
    for k in range(steps):
        s = s0 + v * 0.5 * k
        rows.append([f"{0.5 * k:.2f}", vid, lane, f"{s:.2f}", f"{s:.2f}", f"{y:.2f}", f"{v:.3f}"])
    return rows


def test_well_spaced_platoon_is_clean() -> None:
    rows = _drive("a", "E-AUTO", 60.0, 6.9, 40) + _drive("b", "E-AUTO", 30.0, 6.9, 40)
    rep = check_trace(trace_from_rows(rows))
    assert rep.collisions == 0 and rep.headway_violations == 0
    assert rep.min_gap_m == pytest.approx(30.0 - 16.5, abs=0.01)


def test_follower_too_close_is_a_headway_violation() -> None:
    rows = _drive("a", "E-AUTO", 50.0, 6.9, 10) + _drive("b", "E-AUTO", 30.0, 6.9, 10)
    rep = check_trace(trace_from_rows(rows))
    assert rep.headway_violations == 10  # 20 m front to front: 3.5 m bumper gap
    assert rep.collisions == 0
    assert rep.headway_by_lane == {"E-AUTO": 10}


def test_follower_running_into_a_crawling_vehicle_is_a_collision() -> None:
    rows = _drive("a", "E-AUTO", 100.0, 0.5, 20) + _drive("b", "E-AUTO", 40.0, 6.0, 20)
    rep = check_trace(trace_from_rows(rows))
    assert rep.collisions > 0
    first = min(v.t_s for v in rep.violations if v.kind == "collision")
    # b's front (40 + 6 t) reaches a's crawling rear (83.5 + 0.5 t) at t = 7.9 s.
    assert first == pytest.approx(8.0, abs=0.01)


def test_bodies_on_neighbouring_lanes_touching_are_a_collision() -> None:
    near = _drive("a", "L1", 0.0, 5.0, 20) + _drive("b", "L2", 0.0, 5.0, 20, y=2.0)
    far = _drive("a", "L1", 0.0, 5.0, 20) + _drive("b", "L2", 0.0, 5.0, 20, y=3.5)
    assert check_trace(trace_from_rows(near)).collisions > 0
    assert check_trace(trace_from_rows(far)).collisions == 0


def _turn_in(b_front_x: float) -> list[list[str]]:
    """``a`` drives up a bay (+y) and its front just reaches the ring road (y = 0, 100 m
    along it), its body still across the ring's edge; ``b`` stands on the ring before it."""
    rows = []
    for k in range(13):
        y = -30.0 + 2.5 * k
        lane, s = ("ring", 100.0) if k == 12 else ("bay", y + 30.0)
        rows.append([f"{0.5 * k:.2f}", "a", lane, f"{s:.2f}", "100.00", f"{y:.2f}", "5.000"])
        rows.append(
            [f"{0.5 * k:.2f}", "b", "ring", f"{b_front_x:.2f}", f"{b_front_x:.2f}", "0", "0"]
        )
    return rows


def test_gap_to_a_vehicle_turning_onto_the_lane_is_to_its_body_as_it_lies() -> None:
    # 20 m front to front along the ring (under the 24.5 m spacing), but a's body runs
    # down the bay: b's front is 20 m from it.
    clear = check_trace(trace_from_rows(_turn_in(80.0)))
    assert clear.headway_violations == 0 and clear.collisions == 0
    assert clear.min_gap_m == pytest.approx(20.0, abs=0.01)
    # 5 m from the turning body: too close, however the lane's distances read.
    close = check_trace(trace_from_rows(_turn_in(95.0)))
    assert close.headway_violations == 1 and close.collisions == 0


def test_reads_csv_and_refuses_a_wrong_header(tmp_path: Path) -> None:
    good = tmp_path / "t.csv"
    rows = _drive("a", "E-AUTO", 50.0, 6.9, 4) + _drive("b", "E-AUTO", 30.0, 6.9, 4)
    good.write_text(",".join(HEADER) + "\n" + "\n".join(",".join(r) for r in rows) + "\n")
    assert check_trace(read_trace(good)).headway_violations == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("t,vehicle\n")
    with pytest.raises(ValueError, match="header"):
        read_trace(bad)


def test_checker_shares_no_code_with_the_planner() -> None:
    import ast

    src = (REPO / "sim_worlds/trace_checker.py").read_text()
    imported = set()
    for node in ast.walk(ast.parse(src)):
        if isinstance(node, ast.Import):
            imported |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert imported <= {
        "__future__",
        "csv",
        "itertools",
        "math",
        "collections.abc",
        "dataclasses",
        "pathlib",
        "numpy",
        "sys",
    }


def test_vehicles_of_different_corridors_are_checked_apart() -> None:
    """Both corridors' traces use local frames and the same lane names: a Huu Nghi and a
    Tan Thanh vehicle at the same coordinates are not in each other's way."""
    rows = (
        _drive("hn_01", "E-AUTO", 50.0, 6.9, 10)
        + _drive("tt_01", "E-AUTO", 30.0, 6.9, 10)
        + _drive("hn_02", "I-AUTO", 0.0, 5.0, 10, y=40.0)
        + _drive("hn_03", "I-AUTO", 10.0, 5.0, 10, y=40.0)
    )
    groups = {"hn_01": "huu-nghi", "hn_02": "huu-nghi", "hn_03": "huu-nghi"}
    groups["tt_01"] = "tan-thanh"
    together = check_trace(trace_from_rows(rows))
    apart = check_trace(trace_from_rows(rows), groups=groups)
    assert together.headway_by_lane.get("E-AUTO") == 10
    assert "huu-nghi/E-AUTO" not in apart.headway_by_lane
    # A real collision within one corridor is still found, and named by corridor.
    assert apart.collisions > 0
    assert {(v.a, v.b) for v in apart.violations if v.kind == "collision"} == {("hn_02", "hn_03")}
    assert apart.headway_by_lane == {"huu-nghi/I-AUTO": 10}
    assert apart.rows == together.rows and apart.vehicles == 4
