"""`smartgate bench ros --quick --json`: one JSON object, both cases, baselines beside."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import REPO

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def test_quick_ros_bench_prints_one_json_object_with_baselines() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "smartgate.cli", "bench", "ros", "--quick", "--json"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    ).stdout
    doc = json.loads(out)
    assert doc["bench"] == "ros"
    rows = {(r["case"].split("/")[0], r["impl"]): r for r in doc["results"]}
    assert set(rows) == {
        ("command_ack", "smartgate"),
        ("command_ack", "rclpy-echo"),
        ("state_throughput", "smartgate"),
        ("state_throughput", "rclpy-count"),
    }
    for impl in ("smartgate", "rclpy-echo"):
        r = rows[("command_ack", impl)]
        assert r["vehicles"] == 100 and r["commands"] == 300
        assert r["acked"] + r["lost"] == r["commands"] and r["acked"] > 0.9 * r["commands"]
        assert 0 < r["latency_ms_p50"] <= r["latency_ms_p99"] <= r["latency_ms_max"]
    for impl in ("smartgate", "rclpy-count"):
        r = rows[("state_throughput", impl)]
        assert r["vehicles"] == 200 and r["offered_msgs_per_s"] == 2000.0
        assert r["received_msgs_per_s"] > 0 and isinstance(r["keeps_up"], bool)
