"""Starts the demo's processes, restarts any that dies, and stops them all cleanly.

Children share the supervisor's process group, so Ctrl-C in a terminal
reaches all of them at once; SIGTERM to the supervisor is forwarded. A child
that exits on its own (a crash, a kill) is restarted after a back-off that
doubles with each crash in a row (1 s up to 30 s) and resets once it has run
for a while; the rest keep running, and the vehicles' own safety stops cover
the gap. A child that dies again and again right after starting, or says it
cannot run as configured (exit code 78, EX_CONFIG: a port in use), is
reported with its last lines and the whole demo stops with its exit code.
Children get PR_SET_PDEATHSIG so even a SIGKILL of the supervisor leaves no
orphan.

Each child's output passes through the supervisor line by line, to the same
stream, so the last lines of a crashed child can be shown with the report.
"""

from __future__ import annotations

import ctypes
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO

GRACE_S = 10.0
LAST_LINES = 20
EX_CONFIG = 78  # sysexits.h: a child that exits so cannot run as configured: not restarted


def port_in_use(host: str, port: int) -> bool:
    """Whether a listening socket on ``host:port`` could not be had now."""
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError:
            return True
    return False


@dataclass(frozen=True)
class RestartPolicy:
    backoff_s: tuple[float, ...] = (1.0, 2.0, 4.0, 8.0, 16.0, 30.0)  # 1st, 2nd... in a row
    stable_s: float = 60.0  # a child that ran this long starts its back-off afresh
    early_s: float = 10.0  # a crash this soon after a start counts towards giving up
    give_up_after: int = 5  # crashes in a row, each within early_s of its start


def _die_with_parent() -> None:
    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


_out_lock = threading.Lock()


def _say(message: str) -> None:
    with _out_lock:
        print(f"smartgate: {message}", file=sys.stderr, flush=True)


@dataclass
class _Child:
    name: str
    cmd: list[str]
    proc: subprocess.Popen[bytes] | None = None
    started: float = 0.0
    crashes: int = 0  # in a row
    early: int = 0  # crashes in a row, each soon after its start
    restart_at: float | None = None  # when to start it again (after a crash)
    runs: int = 0
    last: deque[str] = field(default_factory=lambda: deque(maxlen=LAST_LINES))


def _pump(child: _Child, src: IO[bytes], dst: IO[bytes]) -> None:
    """Copy a child's output line by line to ours, keeping the last lines."""
    for raw in iter(src.readline, b""):
        child.last.append(raw.decode("utf-8", "replace").rstrip("\n"))
        with _out_lock:
            try:
                dst.write(raw)
                dst.flush()
            except (OSError, ValueError):  # our own output closed: keep draining
                pass
    src.close()


def _start(child: _Child, env: dict[str, str]) -> None:
    p = subprocess.Popen(
        child.cmd,
        env=env,
        preexec_fn=_die_with_parent,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert p.stdout is not None and p.stderr is not None
    for src, dst in ((p.stdout, sys.stdout.buffer), (p.stderr, sys.stderr.buffer)):
        threading.Thread(target=_pump, args=(child, src, dst), daemon=True).start()
    child.proc, child.started, child.restart_at = p, time.monotonic(), None
    child.runs += 1


def _how(rc: int) -> str:
    if rc < 0:
        try:
            return f"was killed by {signal.Signals(-rc).name}"
        except ValueError:
            return f"was killed by signal {-rc}"
    return f"exited with code {rc}"


def supervise(
    commands: Mapping[str, Sequence[str]],
    env: dict[str, str],
    policy: RestartPolicy = RestartPolicy(),
) -> int:
    """Run the named commands, restarting any that dies, until we are signalled (0) or
    one keeps failing right after its start (its exit code)."""
    children = {name: _Child(name, list(cmd)) for name, cmd in commands.items()}
    stopping = {"flag": False}  # a plain flag: a lock taken in a signal handler can deadlock

    def on_signal(signum: int, _frame: object) -> None:
        stopping["flag"] = True

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    code = 0
    try:
        for c in children.values():
            _start(c, env)
        while not stopping["flag"]:
            now = time.monotonic()
            for c in children.values():
                if c.proc is None:
                    if c.restart_at is not None and now >= c.restart_at:
                        _say(f"restarting '{c.name}' (restart {c.runs})")
                        _start(c, env)
                    continue
                rc = c.proc.poll()
                if rc is None or stopping["flag"]:
                    continue
                c.proc.wait()
                ran = now - c.started
                c.proc = None
                c.crashes = 1 if ran >= policy.stable_s else c.crashes + 1
                c.early = c.early + 1 if ran < policy.early_s else 0
                if rc == EX_CONFIG:
                    _say(
                        f"'{c.name}' cannot run as configured (exit code {rc}); stopping the "
                        "rest. Its last lines:\n" + "\n".join(f"  | {line}" for line in c.last)
                    )
                    code = rc
                    stopping["flag"] = True
                    break
                if c.early >= policy.give_up_after:
                    _say(
                        f"'{c.name}' {_how(rc)} {c.early} times in a row within "
                        f"{policy.early_s:g} s of starting; giving up and stopping the rest. "
                        f"Its last lines:\n" + "\n".join(f"  | {line}" for line in c.last)
                    )
                    code = rc if rc > 0 else 1
                    stopping["flag"] = True
                    break
                delay = policy.backoff_s[min(c.crashes, len(policy.backoff_s)) - 1]
                c.restart_at = now + delay
                _say(f"'{c.name}' {_how(rc)} after {ran:.0f} s; restarting it in {delay:g} s")
                if c.crashes >= 3:
                    _say(
                        f"'{c.name}' keeps crashing ({c.crashes} in a row); its last lines:\n"
                        + "\n".join(f"  | {line}" for line in c.last)
                    )
            time.sleep(0.2)
    finally:
        live = [c for c in children.values() if c.proc is not None]
        for c in live:
            assert c.proc is not None
            if c.proc.poll() is None:
                c.proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + GRACE_S
        for c in live:
            assert c.proc is not None
            try:
                c.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _say(f"'{c.name}' did not stop in {GRACE_S:.0f} s; killing it")
                c.proc.kill()
                c.proc.wait()
        for s, h in old.items():
            signal.signal(s, h)
    return code
