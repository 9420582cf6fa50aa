"""Starts the demo's processes, watches them, and stops them all cleanly.

Children share the supervisor's process group, so Ctrl-C in a terminal
reaches all of them at once; SIGTERM to the supervisor is forwarded. If any
child dies, the rest are stopped too (no half-running system). Children get
PR_SET_PDEATHSIG so even a SIGKILL of the supervisor leaves no orphan.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

GRACE_S = 10.0


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def ros_env(domain_id: int | None = None) -> dict[str, str]:
    """Environment for smartgate's ROS processes: one domain, loopback discovery."""
    env = dict(os.environ)
    if domain_id is not None:
        env["ROS_DOMAIN_ID"] = str(domain_id)
    env.setdefault("ROS_AUTOMATIC_DISCOVERY_RANGE", "LOCALHOST")  # Jazzy and later
    env.setdefault("RCUTILS_COLORIZED_OUTPUT", "0")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def supervise(commands: Mapping[str, Sequence[str]], env: dict[str, str]) -> int:
    """Run the named commands until one exits or we are signalled; return an exit code."""
    procs: dict[str, subprocess.Popen[bytes]] = {}
    stopping = {"flag": False}

    def on_signal(signum: int, _frame: object) -> None:
        stopping["flag"] = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for name, cmd in commands.items():
            procs[name] = subprocess.Popen(list(cmd), env=env, preexec_fn=_die_with_parent)
        while not stopping["flag"]:
            for name, p in procs.items():
                rc = p.poll()
                if rc is not None:
                    print(
                        f"smartgate: '{name}' exited with code {rc}; stopping the rest",
                        file=sys.stderr,
                    )
                    code = rc or 1
                    stopping["flag"] = True
                    break
            time.sleep(0.2)
    finally:
        for p in procs.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for name, p in procs.items():
            try:
                p.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                print(
                    f"smartgate: '{name}' did not stop in {GRACE_S:.0f} s; killing it",
                    file=sys.stderr,
                )
                p.kill()
                p.wait()
        for s, h in old.items():
            signal.signal(s, h)
    return code
