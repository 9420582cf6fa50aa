"""The ``smartgate`` command: the one entry point for people."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from smartgate.cli.simulate import simulate_app
from smartgate.cli.users import user_app

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
consignments_app = typer.Typer(help="Consignments: bulk import.", no_args_is_help=True)
app.add_typer(consignments_app, name="consignments")
app.add_typer(user_app, name="user")
app.add_typer(simulate_app, name="simulate")

CorridorOpt = Annotated[
    list[str] | None,
    typer.Option("--corridor", "-c", help="Corridor id (repeat for several); default: all."),
]


def _corridors(values: list[str] | None) -> tuple[str, ...]:
    from maps.corridors import CORRIDORS

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
    sim_time: Annotated[
        bool, typer.Option(help="Follow /clock (simulation); --no-sim-time on a real site.")
    ] = True,
    executor: Annotated[
        str, typer.Option(help="rclpy executor: auto (events on wall-clock time) | events | single")
    ] = "auto",
    traffic: Annotated[
        bool, typer.Option(help="Demo trucks: declarations arrive and are cleared on their own.")
    ] = False,
    handoff_peer: Annotated[
        str, typer.Option(help="wss://HOST:PORT of the CN side's handoff link (empty: none).")
    ] = "",
    certs: Annotated[
        Path, typer.Option(help="Folder with vn.pem, vn.key and cn-ca.pem (tools/devcerts.py).")
    ] = Path("var/certs"),
    handoff_db: Annotated[
        str, typer.Option(help="SQLAlchemy URL of the handoff link's own records.")
    ] = "sqlite:///var/handoff-vn.db",
) -> None:
    """Core + fleet_bridge node + API/UI (+ the handoff link with --handoff-peer)."""
    from smartgate.cli.processes import run_orchestrator as run

    run(
        _corridors(corridor),
        host,
        port,
        db,
        on_ready=lambda url: typer.echo(f"smartgate: live map at {url}  (Ctrl-C stops)"),
        sim_time=sim_time,
        executor=executor,
        traffic=traffic,
        handoff_peer=handoff_peer,
        certs=str(certs),
        handoff_db=handoff_db,
    )


@run_app.command("sim")
def run_sim(
    corridor: CorridorOpt = None,
    rtf: Annotated[float, typer.Option(help="Real-time factor.")] = 1.0,
) -> None:
    """The simulated world: vehicle dynamics and /clock."""
    from smartgate.cli.processes import run_sim as run

    run(_corridors(corridor), rtf)


@run_app.command("vehicles")
def run_vehicles(corridor: CorridorOpt = None) -> None:
    """The demo fleet's guide_vehicle nodes."""
    from smartgate.cli.processes import run_vehicles as run

    run(_corridors(corridor))


@app.command()
def demo(
    corridor: CorridorOpt = None,
    port: int = 8000,
    rtf: Annotated[float, typer.Option(help="Simulation speed-up.")] = 1.0,
    domain_id: Annotated[int, typer.Option(envvar="ROS_DOMAIN_ID", help="ROS 2 domain.")] = 42,
    db: Annotated[str, typer.Option(envvar="SMARTGATE_DB_URL")] = "sqlite:///var/smartgate.db",
    peer_port: Annotated[
        int, typer.Option(help="Port of the reference CN handoff peer (0: no handoff link).")
    ] = 8765,
) -> None:
    """Run orchestrator, simulator, vehicle nodes, the CN handoff peer and the live map on
    localhost."""
    from ros_nodes.env import ros_env
    from smartgate.cli.supervisor import port_in_use, supervise

    for what, n in (("--port", port), ("--peer-port", peer_port)):
        if n and port_in_use("127.0.0.1", n):
            typer.echo(f"error: port {n} is in use: choose another with {what}", err=True)
            raise typer.Exit(2)
    cs = _corridors(corridor)
    flags = [a for c in cs for a in ("--corridor", c)]
    me = [sys.executable, "-m", "smartgate.cli", "run"]
    orch = ["orchestrator", *flags, "--port", str(port), "--db", db, "--traffic"]
    commands = {
        "sim": [*me, "sim", *flags, "--rtf", str(rtf)],
        "vehicles": [*me, "vehicles", *flags],
    }
    if peer_port:
        # The link's records sit beside a SQLite demo database (else under var/).
        sqlite = db.startswith("sqlite:///")
        state = Path(db.removeprefix("sqlite:///")).parent if sqlite else Path("var")
        state.mkdir(parents=True, exist_ok=True)
        certs = Path("var/certs")
        if not (certs / "vn.pem").exists():  # dev PKI for both sides
            devcerts = Path(__file__).resolve().parents[2] / "tools" / "devcerts.py"
            subprocess.run([sys.executable, str(devcerts), str(certs)], check=True)
        peer_db = f"sqlite:///{state / 'handoff-peer.db'}"
        listen = f"127.0.0.1:{peer_port}"
        commands["peer"] = [sys.executable, "-m", "smartgate.cli", "peer", "--listen", listen]
        commands["peer"] += ["--certs", str(certs), "--db", peer_db, *flags]
        orch += ["--handoff-peer", f"wss://{listen}", "--certs", str(certs)]
        orch += ["--handoff-db", f"sqlite:///{state / 'handoff-vn.db'}"]
    commands["orchestrator"] = [*me, *orch]
    code = supervise(commands, ros_env(domain_id))
    typer.echo("smartgate: stopped")
    raise typer.Exit(code)


def _bench_from_source() -> None:
    """bench/ is not installed (it is for developers): it runs from the source checkout
    this command belongs to."""
    root = Path(__file__).resolve().parents[2]
    if (root / "bench" / "__init__.py").is_file() and str(root) not in sys.path:
        sys.path.insert(0, str(root))


@bench_app.command("sim")
def bench_sim(
    quick: Annotated[bool, typer.Option(help="1 simulated hour, not 24 (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Simulator: 24 h, both corridors, 60 vehicles; real-time factor, crossings/day,
    collisions, against fcfs-reservations and kinematics-only baselines."""
    _bench_from_source()
    from bench.sim import run

    typer.echo(json.dumps(run(quick=quick)))


@bench_app.command("live")
def bench_live(
    quick: Annotated[bool, typer.Option(help="4 s instead of 12 (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Live stream: 300 vehicles at 10 Hz to 50 WebSocket clients over loopback; p50/p99
    delivery latency and tick rate against the orchestrator alone."""
    _bench_from_source()
    from bench.live import run

    typer.echo(json.dumps(run(quick=quick)))


@bench_app.command("plan")
def bench_plan(
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Traffic planner: both corridors (10..500 vehicles, lifelong) and MAPF grids."""
    _bench_from_source()
    from bench.plan import run

    typer.echo(json.dumps(run(quick=quick)))


@bench_app.command("mapf")
def bench_mapf(
    time_limit: Annotated[float, typer.Option(help="Seconds per instance.")] = 10.0,
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """MAPF grid instances (MovingAI) against the baselines."""
    _bench_from_source()
    from bench.mapf_grid import run

    typer.echo(json.dumps(run(time_limit_s=time_limit, quick=quick)))


@bench_app.command("dispatch")
def bench_dispatch(
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    seed: int = 1,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Dispatch decisions (vehicles x waiting consignments) against greedy-nearest."""
    _bench_from_source()
    from bench.dispatch import run

    typer.echo(json.dumps(run(quick=quick, seed=seed)))


@bench_app.command("ros")
def bench_ros(
    quick: Annotated[bool, typer.Option(help="3 s per case instead of 10 (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """ROS link over DDS on loopback: command->ack latency (100 vehicles) and state
    throughput (200 vehicles at 10 Hz), each against a bare-rclpy baseline."""
    _bench_from_source()
    from bench.ros_link import run

    typer.echo(json.dumps(run(quick=quick)))


@bench_app.command("handoff")
def bench_handoff(
    quick: Annotated[bool, typer.Option(help="Small subset (smoke run).")] = False,
    json_out: Annotated[bool, typer.Option("--json", help="Print JSON (the default).")] = True,
) -> None:
    """Cross-border handoff link over loopback: handoffs/s and offer->accept latency (mutual
    TLS + durable outbox) against plain-ws and memory-outbox baselines."""
    _bench_from_source()
    from bench.handoff import run

    typer.echo(json.dumps(run(quick=quick)))


@app.command()
def peer(
    listen: Annotated[
        str | None, typer.Option(help="HOST:PORT to serve wss on (the default mode).")
    ] = "127.0.0.1:8765",
    connect: Annotated[
        str, typer.Option(help="wss://HOST:PORT/smartgate/handoff/v1 to dial instead.")
    ] = "",
    certs: Annotated[
        Path, typer.Option(help="Folder with cn.pem, cn.key and vn-ca.pem (tools/devcerts.py).")
    ] = Path("var/certs"),
    db: Annotated[str, typer.Option(help="SQLAlchemy URL of the peer's own store.")] = (
        "sqlite:///var/handoff-peer.db"
    ),
    system_id: str = "cn-youyiguan-dispatch",
    peer_id: Annotated[str, typer.Option(help="Authorised VN system_id.")] = (
        "vn-smartgate-lang-son"
    ),
    corridor: CorridorOpt = None,
    capacity: Annotated[int, typer.Option(help="Accepted, not yet crossed, per corridor.")] = 8,
    closed: Annotated[list[str] | None, typer.Option(help="Corridor to refuse (repeat).")] = None,
    returns_after: Annotated[
        float | None, typer.Option(help="Send received vehicles home after S seconds.")
    ] = None,
    drop: Annotated[float, typer.Option(help="Fault: P(drop an outgoing frame).")] = 0.0,
    duplicate: Annotated[float, typer.Option(help="Fault: P(send a frame twice).")] = 0.0,
    reorder: Annotated[float, typer.Option(help="Fault: P(swap with the next frame).")] = 0.0,
    delay: Annotated[float, typer.Option(help="Fault: P(delay a frame by --delay-ms).")] = 0.0,
    delay_ms: float = 50.0,
    disconnect_every: Annotated[
        float | None, typer.Option(help="Fault: break the connection every ~S seconds.")
    ] = None,
    restart_every: Annotated[
        float | None, typer.Option(help="Fault: crash-restart the peer every ~S seconds.")
    ] = None,
    seed: int = 0,
) -> None:
    """Reference Chinese-side peer of the handoff link (docs/handoff-protocol.md §14)."""
    import asyncio
    import contextlib

    from smartgate.link.peer import PeerOptions, PeerRules, parse_hostport, run_forever
    from smartgate.link.transport import Faults

    chosen = frozenset(_corridors(corridor))
    faults = Faults(drop, duplicate, reorder, delay, delay_ms / 1000.0, seed)
    opts = PeerOptions(
        system_id=system_id,
        corridors=chosen,
        peer_system_id=peer_id,
        certs=certs,
        db=db,
        listen=None if connect else parse_hostport(listen or "127.0.0.1:8765"),
        connect=connect,
        rules=PeerRules(capacity_per_corridor=capacity, closed_corridors=frozenset(closed or ())),
        faults=faults if any((drop, duplicate, reorder, delay)) else None,
        returns_after_s=returns_after,
        disconnect_every_s=disconnect_every,
        restart_every_s=restart_every,
        seed=seed,
    )
    if db.startswith("sqlite:///var/"):
        Path("var").mkdir(exist_ok=True)
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run_forever(opts, typer.echo))


@consignments_app.command("import")
def consignments_import(
    file: Annotated[Path, typer.Argument(help="Declarations: .csv (see README) or .json list.")],
    skip_bad: Annotated[
        bool, typer.Option(help="Import the valid rows and list the bad ones (default: none).")
    ] = False,
    db: Annotated[
        str, typer.Option(envvar="SMARTGATE_DB_URL", help="SQLAlchemy URL")
    ] = "sqlite:///var/smartgate.db",
) -> None:
    """Import declarations; a bad row is reported with its row number and, unless
    --skip-bad, nothing is imported. Re-running is safe (intake is idempotent)."""
    from maps.corridors import CORRIDORS
    from smartgate.services.desk import BulkImportError, import_declarations, read_declarations
    from smartgate.storage.store import Store

    if db.startswith("sqlite:///var/"):
        Path("var").mkdir(exist_ok=True)
    store = Store(db)
    try:
        items = read_declarations(file)
        report = import_declarations(
            store, items, corridors=CORRIDORS, actor=f"import:{file.name}", skip_bad=skip_bad
        )
    except (BulkImportError, OSError, ValueError) as e:
        for n, msg in getattr(e, "problems", [(0, str(e))]):
            typer.echo(f"error: {file}: row {n}: {msg}" if n else f"error: {file}: {msg}", err=True)
        typer.echo("nothing imported", err=True)
        raise typer.Exit(1) from None
    finally:
        store.close()
    for n, msg in report.skipped:
        typer.echo(f"skipped: {file}: row {n}: {msg}", err=True)
    typer.echo(
        f"imported {len(report.created)}, already there {len(report.already)}, "
        f"skipped {len(report.skipped)}"
    )
    raise typer.Exit(1 if report.skipped else 0)


def main() -> None:
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    app()


if __name__ == "__main__":
    main()
