"""Several corridors simulated at once, one process per corridor.

Corridors share nothing: no road, no vehicles, no planner (fleet control keeps a
planner per corridor). So a study of several corridors need not step them on one
clock in one process: each corridor gets its own :class:`~sim_worlds.simulator.Simulator`
in its own process, and the parent merges the results
(:meth:`~sim_worlds.simulator.SimResult.merge`) and the traces. On a 2-core machine
that halves the wall time of a two-corridor day.

The results are identical to running each corridor alone with the same seed (a
single-corridor ``SimConfig``), whether in a process or in-process; they are *not*
those of one simulator stepping both corridors, whose one random stream interleaves
the corridors' draws. Consignment ids are numbered per corridor, so they repeat
across corridors.

Faults are refused (ValueError): a fault may name no corridor (any vehicle, every
corridor), which a per-corridor split would change. Run scenarios with faults in one
:class:`Simulator`.
"""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
import traceback
from collections.abc import Callable
from dataclasses import dataclass, replace
from multiprocessing.connection import Connection, wait
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any

import networkx as nx

from sim_worlds.simulator import TRACE_HEADER, SimConfig, SimResult, Simulator

POLL_S = 0.2  # how often the parent looks at the workers' progress

Progress = Callable[[float], None]


@dataclass(frozen=True)
class _Job:
    """One corridor's run. Handed to a forked process as is (fork copies, no pickling)."""

    corridor: str
    graphs: dict[str, nx.DiGraph]
    zero_lines: dict[str, list[tuple[float, float]]]
    cfg: SimConfig
    trace: Path | None


def worker_count(corridors: int, workers: int | None = None) -> int:
    """Processes a run of ``corridors`` uses: one per corridor, at most ``workers``
    (default: the CPU count); 1 means in-process."""
    return max(1, min(corridors, workers or os.cpu_count() or 1))


def split_config(cfg: SimConfig) -> dict[str, SimConfig]:
    """One single-corridor config per corridor (same seed, dt, ...), by corridor name."""
    if cfg.faults:
        raise ValueError("faults may span corridors: run a study with faults in one Simulator")
    extra = sorted(set(cfg.demand_per_day) - set(cfg.vehicles))
    if extra:
        raise ValueError(f"demand for corridors without a fleet: {', '.join(extra)}")
    return {
        c: replace(
            cfg,
            vehicles={c: cfg.vehicles[c]},
            demand_per_day={c: cfg.demand_per_day[c]} if c in cfg.demand_per_day else {},
        )
        for c in sorted(cfg.vehicles)
    }


def run_corridors(
    graphs: dict[str, nx.DiGraph],
    zero_lines: dict[str, list[tuple[float, float]]],
    cfg: SimConfig,
    trace_path: Path | None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> SimResult:
    """Simulate ``cfg``'s corridors, each in its own process (at most ``workers`` at
    once; with one corridor or one worker, in this process), and merge the results.

    ``trace_path`` gets the header once, then each corridor's rows in sorted corridor
    order: rows are in time order within each corridor, not across them (the trace
    checker sorts them itself). ``progress`` is called with the simulated time every
    corridor has reached. A worker's exception is raised here, same type and message.
    """
    configs = split_config(cfg)
    parts = _part_paths(trace_path, list(configs))
    jobs = [_Job(c, graphs, zero_lines, k, parts[c]) for c, k in configs.items()]
    try:
        n = worker_count(len(jobs), workers)
        results = _in_processes(jobs, n, progress) if n > 1 else _in_process(jobs, progress)
        if trace_path is not None and len(jobs) > 1:
            _join_traces(trace_path, [p for _c, p in sorted(parts.items()) if p is not None])
    finally:
        for p in parts.values():
            if p is not None and p != trace_path:
                p.unlink(missing_ok=True)
    return SimResult.merge(results)


def _part_paths(trace_path: Path | None, corridors: list[str]) -> dict[str, Path | None]:
    """Where each corridor's trace goes: ``trace_path`` itself for a single corridor,
    else a part file next to it (same file system: the join is a plain copy)."""
    if trace_path is None or len(corridors) == 1:
        return dict.fromkeys(corridors, trace_path)
    return {c: trace_path.with_name(f"{trace_path.name}.{c}.part") for c in corridors}


def _simulate(job: _Job, publish: Progress | None) -> SimResult:
    fh = job.trace.open("w") if job.trace is not None else None
    try:
        sim = Simulator(job.graphs, job.zero_lines, job.cfg, trace=fh)
        sim.run(progress=publish)
    finally:
        if fh is not None:
            fh.close()
    if publish is not None:
        publish(sim.t)
    return sim.result()


def _in_process(jobs: list[_Job], progress: Progress | None) -> list[SimResult]:
    """The jobs one after the other, here: the same results as in processes."""
    reached = [0.0] * len(jobs)

    def publisher(i: int) -> Progress | None:
        if progress is None:
            return None

        def publish(t: float) -> None:
            reached[i] = t
            progress(min(reached))

        return publish

    return [_simulate(job, publisher(i)) for i, job in enumerate(jobs)]


def _in_processes(jobs: list[_Job], workers: int, progress: Progress | None) -> list[SimResult]:
    """Each job in a forked process, ``workers`` at a time; the parent polls their
    simulated time (a shared array) for ``progress`` and collects results as they end."""
    ctx = multiprocessing.get_context("fork")
    reached = ctx.Array("d", len(jobs))
    pending = list(enumerate(jobs))
    running: dict[Connection, tuple[int, BaseProcess]] = {}
    results: dict[int, SimResult] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                i, job = pending.pop(0)
                receiver, sender = ctx.Pipe(duplex=False)
                child = ctx.Process(
                    target=_worker, args=(job, reached, i, sender), name=f"sim-{job.corridor}"
                )
                child.daemon = True
                child.start()
                sender.close()  # the child's end: its exit then shows here as EOF
                running[receiver] = (i, child)
            for ready in wait(list(running), timeout=POLL_S):
                assert isinstance(ready, Connection)
                i, proc = running.pop(ready)
                results[i] = _receive(ready, proc, jobs[i].corridor)
            if progress is not None:
                progress(min(reached[:]))
    finally:
        for conn, (_i, proc) in running.items():  # left running after an error
            proc.terminate()
            proc.join()
            conn.close()
    return [results[i] for i in range(len(jobs))]


def _worker(job: _Job, reached: Any, slot: int, conn: Connection) -> None:
    """In the child: run, send ``("ok", result)`` or ``("error", exception)``."""

    def publish(t: float) -> None:
        reached[slot] = t

    try:
        payload: tuple[str, object] = ("ok", _simulate(job, publish))
    except Exception as e:
        payload = ("error", _portable(e, job.corridor))
    conn.send(payload)
    conn.close()


def _portable(e: Exception, corridor: str) -> Exception:
    """The exception as it can travel back: with the worker's traceback as a note, or, if
    it does not pickle, a RuntimeError naming it."""
    e.add_note(f"in the process simulating {corridor}:\n{traceback.format_exc()}")
    try:
        pickle.loads(pickle.dumps(e))
    except Exception:
        return RuntimeError(f"{corridor}: {type(e).__name__}: {e}")
    return e


def _receive(conn: Connection, proc: BaseProcess, corridor: str) -> SimResult:
    try:
        status, payload = conn.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(
            f"the process simulating {corridor} died (exit code {proc.exitcode})"
        ) from None
    finally:
        conn.close()
    proc.join()
    if status == "error":
        assert isinstance(payload, BaseException)
        raise payload
    assert isinstance(payload, SimResult)
    return payload


def _join_traces(trace_path: Path, parts: list[Path]) -> None:
    """``trace_path`` = the header once, then each part's rows, bytes copied unparsed."""
    with trace_path.open("wb") as out:
        out.write((TRACE_HEADER + "\n").encode())
        for part in parts:
            with part.open("rb") as src:
                src.readline()  # its own header
                shutil.copyfileobj(src, out, 1 << 20)
