"""Smoke test of the dispatch benchmark in quick mode."""

from __future__ import annotations

from bench.dispatch import run


def test_quick_benchmark() -> None:
    out = run(quick=True)
    assert out["bench"] == "dispatch"
    results = out["results"]
    assert {r["impl"] for r in results} == {"smartgate", "greedy-nearest"}
    keys = {
        "case",
        "impl",
        "time_ms_p50",
        "time_ms_p95",
        "setup_ms",
        "assigned",
        "mean_eta_s",
        "total_cost",
        "perishables_first_violations",
        "battery_violations",
    }
    for r in results:
        assert set(r) >= keys
        assert r["battery_violations"] == 0 and r["eligibility_violations"] == 0
        assert 0 < r["assigned"] <= r["idle_vehicles"]
        assert r["time_ms_p50"] <= r["time_ms_p95"]
    ours = {r["case"]: r for r in results if r["impl"] == "smartgate"}
    greedy = {r["case"]: r for r in results if r["impl"] == "greedy-nearest"}
    assert "corridors/seed1/500x5000" in ours
    for case, r in ours.items():
        assert r["perishables_first_violations"] == 0
        # Max-cardinality per tier: never fewer perishables served than the greedy baseline.
        assert r["perishable_assigned"] >= greedy[case]["perishable_assigned"]
        assert r["assigned"] >= greedy[case]["assigned"]
