"""The `smartgate` command as people use it: help, world check, exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import REPO

SMARTGATE = [sys.executable, "-m", "smartgate.cli"]


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*SMARTGATE, *args], capture_output=True, text=True, cwd=REPO)


def test_help_lists_every_command() -> None:
    out = _run("--help")
    assert out.returncode == 0
    for command in ("demo", "map", "world", "run", "bench"):
        assert command in out.stdout


def test_world_check_lists_models_or_fails_precisely(tmp_path: Path) -> None:
    ok = _run(
        "world", "check", "sim_worlds/worlds/tan-thanh.sdf", "sim_worlds/third_party/shapes.sdf"
    )
    assert ok.returncode == 0, ok.stderr
    assert "world 'tan-thanh'" in ok.stdout and "model tt_01" in ok.stdout
    bad = tmp_path / "bad.sdf"
    bad.write_text('<sdf version="1.9"><world name="x">\n<model>\n</world></sdf>')
    res = _run("world", "check", str(bad))
    assert res.returncode == 1
    assert res.stderr.startswith(f"error: {bad}:")
    assert "Traceback" not in res.stderr


def test_bench_commands_print_one_json_object() -> None:
    import json

    for name, bench in (("mapf", "plan-grid"), ("dispatch", "dispatch")):
        out = _run("bench", name, "--quick", "--json")
        assert out.returncode == 0, out.stderr
        doc = json.loads(out.stdout)
        assert doc["bench"] == bench and doc["results"]
        assert {"case", "impl"} <= set(doc["results"][0])
        assert any(r["impl"] == "smartgate" for r in doc["results"])
