"""Smoke test of the MAPF grid benchmark in quick mode."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.mapf_grid import data_dir, run


def test_quick_benchmark() -> None:
    out = run(time_limit_s=10.0, quick=True)
    assert out["bench"] == "plan-grid"
    results = out["results"]
    assert {r["impl"] for r in results} == {
        "smartgate",
        "independent-shortest",
        "prioritised-astar",
    }
    for r in results:
        assert set(r) >= {"case", "impl", "agents", "success", "conflicts", "time_ms"}
        assert r["sum_of_costs"] is None or r["sum_of_costs"] > 0
    ours = [r for r in results if r["impl"] == "smartgate"]
    assert ours and all(r["success"] and r["conflicts"] == 0 for r in ours)
    assert "random-32-32-10/random-1/n=50" in {r["case"] for r in ours}
    naive = [r for r in results if r["impl"] == "independent-shortest"]
    assert any(r["conflicts"] > 0 for r in naive)
    for mine, other in zip(ours, naive, strict=True):
        assert mine["sum_of_costs"] >= other["sum_of_costs"]  # shortest paths: lower bound


def test_data_dir_honours_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("SMARTGATE_MAPF_DIR", str(tmp_path))
    assert data_dir() == tmp_path
    monkeypatch.delenv("SMARTGATE_MAPF_DIR")
    assert (data_dir() / "random-32-32-10.map").is_file()
