"""The demo's supervisor restarts a child that dies, with back-off, keeps the others
running, gives up (with the child's last lines) on one that cannot start, and still
stops everything on a signal."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

from tests.conftest import REPO

SUPERVISE = textwrap.dedent(
    """
    import sys
    from smartgate.cli.supervisor import RestartPolicy, supervise
    py = sys.executable
    children = {
        "steady": [py, "-c", "import time\\nprint('steady up', flush=True)\\ntime.sleep(600)"],
        "flaky": [py, "-c", FLAKY],
    }
    policy = RestartPolicy(backoff_s=(0.2, 0.4), stable_s=60.0, early_s=EARLY, give_up_after=3)
    sys.exit(supervise(children, {"PATH": "/usr/bin:/bin"}, policy))
    """
)


def _run(tmp_path: Path, flaky: str, early_s: float) -> subprocess.Popen[str]:
    script = tmp_path / "sup.py"
    script.write_text(f"FLAKY = {flaky!r}\nEARLY = {early_s}\n" + SUPERVISE)
    return subprocess.Popen(
        [sys.executable, str(script)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _pids(parent: int) -> dict[str, int]:
    """Child pid by which script it runs (the supervisor's children)."""
    out = subprocess.run(
        ["ps", "-o", "pid=,args=", "--ppid", str(parent)], capture_output=True, text=True
    ).stdout
    found = {}
    for line in out.splitlines():
        pid, args = line.strip().split(" ", 1)
        found["steady" if "steady up" in args else "flaky"] = int(pid)
    return found


def test_a_killed_child_is_restarted_and_the_others_keep_running(tmp_path: Path) -> None:
    counter = tmp_path / "starts"
    flaky = (
        f"import time\nopen({str(counter)!r}, 'a').write('x')\n"
        "print('flaky up', flush=True)\ntime.sleep(600)"
    )
    sup = _run(tmp_path, flaky, early_s=0.05)

    def starts() -> str:
        return counter.read_text() if counter.exists() else ""

    try:
        deadline = time.monotonic() + 30
        while (starts() != "x" or len(_pids(sup.pid)) < 2) and time.monotonic() < deadline:
            time.sleep(0.1)
        first = _pids(sup.pid)
        os.kill(first["flaky"], signal.SIGKILL)
        while starts() != "xx" and time.monotonic() < deadline:
            time.sleep(0.1)
        assert starts() == "xx"  # started again
        now = _pids(sup.pid)
        assert now["steady"] == first["steady"]  # untouched
        assert now["flaky"] != first["flaky"]  # a new process
        assert sup.poll() is None
    finally:
        sup.send_signal(signal.SIGINT)
        out, err = sup.communicate(timeout=20)
    assert sup.returncode == 0
    assert "'flaky' was killed by SIGKILL" in err and "restarting it in 0.2 s" in err
    assert "restarting 'flaky'" in err
    assert out.count("flaky up") == 2 and out.count("steady up") == 1
    assert _pids(sup.pid) == {}


def test_a_child_that_cannot_start_is_reported_with_its_last_lines(tmp_path: Path) -> None:
    flaky = "import sys\nprint('port 8000 is in use', file=sys.stderr)\nsys.exit(3)"
    sup = _run(tmp_path, flaky, early_s=10.0)
    _out, err = sup.communicate(timeout=60)
    assert sup.returncode == 3
    assert "'flaky' exited with code 3 3 times in a row within 10 s of starting" in err
    assert "giving up and stopping the rest" in err
    assert "  | port 8000 is in use" in err  # its last lines, in the report
    assert err.count("restarting 'flaky'") == 2


def test_a_child_that_says_it_cannot_run_as_configured_is_not_restarted(tmp_path: Path) -> None:
    flaky = "import sys\nprint('127.0.0.1:8000 is in use', file=sys.stderr)\nsys.exit(78)"
    sup = _run(tmp_path, flaky, early_s=10.0)
    _out, err = sup.communicate(timeout=60)
    assert sup.returncode == 78
    assert "'flaky' cannot run as configured (exit code 78)" in err
    assert "  | 127.0.0.1:8000 is in use" in err
    assert "restarting" not in err


def test_the_demo_refuses_a_port_in_use_before_starting_anything() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        r = subprocess.run(
            [sys.executable, "-m", "smartgate.cli", "demo", "--port", str(port)],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert r.returncode == 2
    assert f"error: port {port} is in use: choose another with --port" in r.stderr
    assert "Traceback" not in r.stderr
