"""Smoke test of `smartgate bench plan` in quick mode: shape, and the checker's verdicts."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from smartgate.cli.commands import app


def test_quick_plan_benchmark_prints_one_json_object() -> None:
    res = CliRunner().invoke(app, ["bench", "plan", "--quick", "--json"])
    assert res.exit_code == 0, res.output
    out = json.loads(res.output)
    assert out["bench"] == "plan"
    rows = out["results"]
    corridor = [r for r in rows if r["case"].startswith("corridor:")]
    grid = [r for r in rows if r["case"].startswith("grid:")]
    assert {r["impl"] for r in corridor} == {"smartgate", "fcfs-reservations", "independent"}
    assert {r["case"] for r in corridor} == {"corridor:huu-nghi/n=10", "corridor:tan-thanh/n=10"}
    assert grid and {r["impl"] for r in grid} >= {"smartgate"}
    for r in corridor:
        assert isinstance(r["conflicts"], int) and "full_plan_ms" in r
    ours = [r for r in corridor if r["impl"] == "smartgate"]
    for r in ours:
        assert r["conflicts"] == 0 and r["success"] is True
        assert r["replan_ms_p50"] <= r["replan_ms_p95"]
        assert r["crossings_per_h"] > 0 and r["trips_done"] > 0
        # Single requests timed with the whole fleet present, checked too.
        assert r["probe_requests"] > 0 and r["probe_conflicts"] == 0
        assert r["probe_replan_ms_p50"] <= r["probe_replan_ms_p95"]
    # Without coordination, ten vehicles on one corridor do collide somewhere.
    assert sum(r["conflicts"] for r in corridor if r["impl"] == "independent") > 0
