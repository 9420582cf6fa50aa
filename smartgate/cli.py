"""The ``smartgate`` command: the one entry point for people."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="smartgate: fleet orchestrator for the smart border gate's driverless lanes.",
    no_args_is_help=True,
    add_completion=False,
)
map_app = typer.Typer(help="Corridor maps: validate and inspect.", no_args_is_help=True)
run_app = typer.Typer(
    help="Run one smartgate process (the demo starts these for you).", no_args_is_help=True
)
world_app = typer.Typer(
    help="Simulation worlds (SDFormat): build from maps, check.", no_args_is_help=True
)
bench_app = typer.Typer(help="Benchmarks: each prints one JSON object.", no_args_is_help=True)
app.add_typer(map_app, name="map")
app.add_typer(run_app, name="run")
app.add_typer(world_app, name="world")
app.add_typer(bench_app, name="bench")

CorridorOpt = Annotated[
    list[str] | None,
    typer.Option("--corridor", "-c", help="Corridor id (repeat for several); default: all."),
]


def _corridors(values: list[str] | None) -> tuple[str, ...]:
    from smartgate.world import CORRIDORS

    chosen = tuple(values) if values else CORRIDORS
    unknown = [c for c in chosen if c not in CORRIDORS]
    if unknown:
        raise typer.BadParameter(
            f"unknown corridor(s) {', '.join(unknown)}; known: {', '.join(CORRIDORS)}"
        )
    return chosen


@map_app.command("check")
def map_check(files: Annotated[list[Path], typer.Argument(help="Map files (GeoJSON).")]) -> None:
    """Validate map files; exit 1 with one line per problem (file, feature, what)."""
    from maps.corridor_map import MapError, read_map
    from maps.lane_graph import build_lane_graph, guide_graph

    failed = False
    for f in files:
        try:
            cmap = read_map(f)
        except MapError as e:
            failed = True
            for p in e.problems:
                typer.echo(f"error: {p}", err=True)
            continue
        g = build_lane_graph(cmap)
        gg = guide_graph(g)
        lanes = [lf for lf in cmap.lines.values() if lf.type == "lane"]
        reserved = sum(1 for lf in lanes if lf.kind == "driverless")
        typer.echo(
            f"ok: {f}: corridor {cmap.id}, {len(lanes)} lanes ({reserved} reserved), "
            f"{len(cmap.zones)} zones, lane graph {g.number_of_nodes()} nodes / "
            f"{g.number_of_edges()} edges, guide graph {gg.number_of_edges()} edges"
        )
    raise typer.Exit(1 if failed else 0)


@world_app.command("build")
def world_build() -> None:
    """(Re)generate sim_worlds/worlds/<corridor>.sdf from the shipped maps."""
    from sim_worlds.sdf_world import SHIPPED_MAPS, write_world

    for map_path in SHIPPED_MAPS:
        typer.echo(f"wrote {write_world(map_path)}")


@world_app.command("check")
def world_check(files: Annotated[list[Path], typer.Argument(help="SDFormat world files.")]) -> None:
    """Parse worlds with a real SDF parser; list what they hold or exit 1 with the error."""
    from sim_worlds.sdf_check import WorldError, check_world

    failed = False
    for f in files:
        try:
            report = check_world(f)
        except WorldError as e:
            failed = True
            typer.echo(f"error: {e}", err=True)
            continue
        for line in report.lines(verbose=True):
            typer.echo(line)
    raise typer.Exit(1 if failed else 0)


@run_app.command("orchestrator")
def run_orchestrator(
    corridor: CorridorOpt = None,
    host: str = "127.0.0.1",
    port: int = 8000,
    db: Annotated[
        str, typer.Option(envvar="SMARTGATE_DB_URL", help="SQLAlchemy URL")
    ] = "sqlite:///var/smartgate.db",
) -> None:
    """Core + fleet_bridge node + API/UI."""
    from smartgate.runtime import run_orchestrator as run

    run(
        _corridors(corridor),
        host,
        port,
        db,
        on_ready=lambda url: typer.echo(f"smartgate: live map at {url}  (Ctrl-C stops)"),
    )


@run_app.command("sim")
def run_sim(
    corridor: CorridorOpt = None,
    rtf: Annotated[float, typer.Option(help="Real-time factor.")] = 1.0,
) -> None:
    """The simulated world: vehicle dynamics and /clock."""
    from smartgate.runtime import run_sim as run

    run(_corridors(corridor), rtf)


@run_app.command("vehicles")
def run_vehicles(corridor: CorridorOpt = None) -> None:
    """The demo fleet's guide_vehicle nodes."""
    from smartgate.runtime import run_vehicles as run

    run(_corridors(corridor))


@app.command()
def demo(
    corridor: CorridorOpt = None,
    port: int = 8000,
    rtf: Annotated[float, typer.Option(help="Simulation speed-up.")] = 1.0,
    domain_id: Annotated[int, typer.Option(envvar="ROS_DOMAIN_ID", help="ROS 2 domain.")] = 42,
    db: Annotated[str, typer.Option(envvar="SMARTGATE_DB_URL")] = "sqlite:///var/smartgate.db",
) -> None:
    """Run orchestrator, simulator, vehicle nodes and the live map on localhost."""
    from smartgate.supervisor import ros_env, supervise

    cs = _corridors(corridor)
    flags = [a for c in cs for a in ("--corridor", c)]
    me = [sys.executable, "-m", "smartgate.cli", "run"]
    code = supervise(
        {
            "sim": [*me, "sim", *flags, "--rtf", str(rtf)],
            "vehicles": [*me, "vehicles", *flags],
            "orchestrator": [*me, "orchestrator", *flags, "--port", str(port), "--db", db],
        },
        ros_env(domain_id),
    )
    typer.echo("smartgate: stopped")
    raise typer.Exit(code)


@bench_app.command("mapf")
def bench_mapf(
    time_limit: Annotated[float, typer.Option(help="Seconds per instance.")] = 10.0,
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """MAPF grid instances (MovingAI) against the baselines."""
    from bench.mapf_grid import run

    typer.echo(json.dumps(run(time_limit_s=time_limit, quick=quick)))


@bench_app.command("dispatch")
def bench_dispatch(
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    seed: int = 1,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Dispatch decisions (vehicles x waiting consignments) against greedy-nearest."""
    from bench.dispatch import run

    typer.echo(json.dumps(run(quick=quick, seed=seed)))


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
