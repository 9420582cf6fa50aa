"""``smartgate simulate``: capacity studies on the in-process simulator.

``smartgate simulate --corridor huu-nghi --hours 24 --vehicles 40 --demand 3500
--seed 1 --report out/`` runs the day faster than real time with a progress bar,
writes ``trace.csv`` (every vehicle, every step), checks it with the independent
trace checker, and writes ``report.json`` + ``report.html``.
``smartgate simulate sweep`` finds the smallest fleet that reaches a target.
``smartgate simulate scenario FILE`` runs one scenario file and checks its
expectations.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from sim_worlds.simulator import SimResult
    from sim_worlds.trace_checker import TraceReport

simulate_app = typer.Typer(
    help="Simulate a corridor day in-process (capacity studies, scenarios).",
    invoke_without_command=True,
)

CorridorsOpt = Annotated[
    list[str] | None,
    typer.Option("--corridor", "-c", help="Corridor(s) (repeat; default huu-nghi)."),
]


def _run(
    corridors: list[str],
    hours: float,
    vehicles: int,
    demand: dict[str, float],
    seed: int,
    trace_path: Path | None,
    progress: bool,
) -> tuple[SimResult, TraceReport | None, float]:
    """Run one study, each corridor in its own process (one corridor: in this one);
    returns the result, the trace check (if traced) and wall time."""
    from sim_worlds.parallel_run import run_corridors
    from sim_worlds.simulator import SimConfig, load_world
    from sim_worlds.trace_checker import check_trace, read_trace

    graphs, zero = load_world(corridors)
    cfg = SimConfig(
        vehicles={c: vehicles for c in corridors},
        demand_per_day=demand,
        duration_s=hours * 3600.0,
        seed=seed,
    )
    t0 = time.perf_counter()
    if progress:
        from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

        # Redrawn from the progress callback, not from a refresh thread: the workers are
        # forked, and a fork must not copy a thread's held locks.
        with Progress(
            TextColumn("[bold]simulating"),
            BarColumn(),
            TextColumn("{task.completed:.0f}/{task.total:.0f} sim s"),
            TimeRemainingColumn(),
            auto_refresh=False,
        ) as bar:
            task = bar.add_task("sim", total=cfg.duration_s)
            sim = run_corridors(
                graphs,
                zero,
                cfg,
                trace_path,
                progress=lambda t: bar.update(task, completed=t, refresh=True),
            )
            bar.update(task, completed=cfg.duration_s, refresh=True)
    else:
        sim = run_corridors(graphs, zero, cfg, trace_path)
    wall = time.perf_counter() - t0
    of_vehicle = {vid: v.corridor for vid, v in sim.vehicles.items()}
    report = (
        check_trace(read_trace(trace_path), groups=of_vehicle) if trace_path is not None else None
    )
    return sim, report, wall


def _demand(corridors: list[str], demand: float | None) -> dict[str, float]:
    from sim_worlds.capacity_report import TARGET_PER_DAY

    return {c: demand if demand is not None else TARGET_PER_DAY.get(c, 3000.0) for c in corridors}


@simulate_app.callback(invoke_without_command=True)
def simulate(
    ctx: typer.Context,
    corridor: CorridorsOpt = None,
    hours: Annotated[float, typer.Option(help="Simulated hours.")] = 24.0,
    vehicles: Annotated[int, typer.Option(help="Fleet size per corridor.")] = 30,
    demand: Annotated[
        float | None, typer.Option(help="Consignments per day (default: the corridor target).")
    ] = None,
    seed: int = 1,
    report: Annotated[Path, typer.Option(help="Output directory.")] = Path("out"),
    no_trace: Annotated[bool, typer.Option(help="Skip the trace CSV and its check.")] = False,
    progress: Annotated[bool, typer.Option(help="Progress bar.")] = True,
) -> None:
    """Run a capacity study and write trace.csv, report.json and report.html."""
    if ctx.invoked_subcommand is not None:
        return
    from sim_worlds.capacity_report import build_report, write_report

    corridors = corridor or ["huu-nghi"]
    report.mkdir(parents=True, exist_ok=True)
    trace = None if no_trace else report / "trace.csv"
    try:
        sim, check, wall = _run(
            corridors, hours, vehicles, _demand(corridors, demand), seed, trace, progress
        )
    except ValueError as e:
        typer.echo(f"smartgate simulate: {e}", err=True)
        raise typer.Exit(2) from None
    rep = build_report(sim, check, wall)
    js, page = write_report(rep, report)
    for c, r in rep["corridors"].items():
        typer.echo(
            f"{c}: {r['loaded_crossings']} loaded crossings ({r['crossings_per_day']:.0f}/day, "
            f"target {r['target_per_day']:.0f}), binding: {r['binding_resource']}"
        )
    if check is not None:
        typer.echo(
            f"trace: {check.collisions} collisions, {check.headway_violations} headway "
            f"violations ({check.rows} rows)"
        )
    typer.echo(
        f"{sim.t / 3600:.1f} h simulated in {wall:.1f} s ({sim.t / wall:.0f}x); {js}, {page}"
    )


@simulate_app.command("sweep")
def sweep(
    corridor: CorridorsOpt = None,
    hours: Annotated[float, typer.Option(help="Simulated hours per run.")] = 24.0,
    target: Annotated[
        float | None, typer.Option(help="Loaded crossings/day to reach (default per corridor).")
    ] = None,
    demand: Annotated[float | None, typer.Option(help="Consignments per day.")] = None,
    min_vehicles: int = 4,
    max_vehicles: int = 64,  # Huu Nghi needs 50-60 for 3,500 a day
    seed: int = 1,
    report: Annotated[Path, typer.Option(help="Output directory.")] = Path("out/sweep"),
) -> None:
    """Smallest fleet reaching the target throughput (binary search; throughput is
    checked, and the winning run's trace too, for collisions and headway)."""
    from sim_worlds.capacity_report import TARGET_PER_DAY, build_report, write_report
    from sim_worlds.simulator import NoRoomForFleet

    corridors = corridor or ["huu-nghi"]
    report.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {}
    for c in corridors:
        goal = target if target is not None else TARGET_PER_DAY.get(c, 3000.0)
        runs: dict[int, float] = {}

        def rate(n: int, c: str = c, runs: dict[int, float] = runs) -> float:
            if n not in runs:
                try:
                    sim, _, _ = _run([c], hours, n, _demand([c], demand), seed, None, False)
                    runs[n] = sim.summary()["corridors"][c]["crossings_per_day"]
                except NoRoomForFleet:
                    runs[n] = -1.0  # does not fit
                except ValueError as e:  # a fault of the study (a rule refused an event)
                    typer.echo(f"smartgate simulate sweep: {c}, {n} vehicles: {e}", err=True)
                    raise typer.Exit(2) from None
                typer.echo(f"{c}: {n} vehicles -> {runs[n]:.0f}/day")
            return runs[n]

        lo, hi = min_vehicles, max_vehicles
        if rate(hi) < goal:
            results[c] = {"target_per_day": goal, "found": None, "runs": runs}
            typer.echo(f"{c}: {hi} vehicles do not reach {goal:.0f}/day")
            continue
        while lo < hi:
            mid = (lo + hi) // 2
            if rate(mid) >= goal:
                hi = mid
            else:
                lo = mid + 1
        out = report / c
        out.mkdir(parents=True, exist_ok=True)
        try:
            sim, check, wall = _run(
                [c], hours, lo, _demand([c], demand), seed, out / "trace.csv", False
            )
        except ValueError as e:
            typer.echo(f"smartgate simulate sweep: {c}, {lo} vehicles: {e}", err=True)
            raise typer.Exit(2) from None
        rep = build_report(sim, check, wall, {c: goal})
        write_report(rep, out)
        cr = rep["corridors"][c]
        results[c] = {
            "target_per_day": goal,
            "found": lo,
            "crossings_per_day": cr["crossings_per_day"],
            "binding_resource": cr["binding_resource"],
            "energy_kwh_per_vehicle_day": cr["energy_kwh_per_vehicle_day"],
            "battery_empty_share": cr["battery_empty_share"],
            "collisions": check.collisions if check else None,
            "headway_violations": check.headway_violations if check else None,
            "runs": runs,
        }
        typer.echo(f"{c}: smallest fleet {lo} ({cr['crossings_per_day']:.0f}/day)")
        if cr["battery_empty_share"] > 0:
            typer.echo(
                f"{c}: but its vehicles drove {cr['battery_empty_share']:.0%} of the time on an "
                "empty battery: nothing charges them in the simulation yet (an upper bound)"
            )
    (report / "sweep.json").write_text(json.dumps(results, indent=1))
    typer.echo(json.dumps(results))


@simulate_app.command("scenario")
def scenario(files: Annotated[list[Path], typer.Argument(help="Scenario YAML files.")]) -> None:
    """Run scenario files and check their expected outcomes (exit 1 if one fails)."""
    from sim_worlds.scenario import ScenarioError, load_scenario, run_scenario

    failed = 0
    for f in files:
        try:
            sc = load_scenario(f)
        except ScenarioError as e:
            typer.echo(str(e), err=True)
            raise typer.Exit(2) from None
        _, out = run_scenario(sc)
        status = "ok" if not out.failures else "FAILED: " + "; ".join(out.failures)
        typer.echo(f"{sc.name}: {status}")
        failed += bool(out.failures)
    raise typer.Exit(1 if failed else 0)
