"""Smoke test of the handoff benchmark in quick mode: JSON shape and sane numbers."""

from __future__ import annotations

import json

from bench.handoff import IMPLS, run


def test_quick_benchmark() -> None:
    out = json.loads(json.dumps(run(quick=True)))  # one JSON object, as the CLI prints it
    assert out["bench"] == "handoff"
    results = out["results"]
    assert {r["impl"] for r in results} == set(IMPLS) and "smartgate" in IMPLS
    assert {r["case"] for r in results} == {"export-cycle/window1", "export-cycle/window32"}
    for r in results:
        assert r["handoffs"] > 0 and r["refused"] == 0
        assert r["handoffs_per_s"] > 0
        assert 0 < r["latency_ms_p50"] <= r["latency_ms_p99"] <= r["latency_ms_max"]
    ours = {r["case"]: r for r in results if r["impl"] == "smartgate"}
    assert ours["export-cycle/window1"]["tls"] and ours["export-cycle/window1"]["durable"]
