"""The three processes of a smartgate deployment in simulation, and the demo fleet.

- orchestrator: core + fleet_bridge node + API/UI (+ storage);
- sim: the sim_world node (clock and vehicle dynamics);
- vehicles: one guide_vehicle node per vehicle (one process, one executor;
  on real vehicles each runs its own ``guide_vehicle``).
Each ``run_*`` function blocks until SIGINT/SIGTERM and then shuts down
cleanly (nodes destroyed, storage flushed and closed).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import rclpy
from rclpy.executors import ExternalShutdownException
from rclpy.node import Node

from maps.corridors import CORRIDORS, load_corridors
from maps.queries import handoff_points
from ros_nodes.contain import Contained
from ros_nodes.executors import make_executor
from smartgate.cli.supervisor import EX_CONFIG, port_in_use
from smartgate.services.desk import attach_desk
from smartgate.services.orchestrator import Orchestrator


@dataclass(frozen=True)
class FleetEntry:
    vehicle_id: str
    corridor: str
    home: str  # lane-graph node where it starts
    mission: str | None  # "export-handoff" or None (stays parked)


DEMO_FLEET = (
    FleetEntry("hn_01", "huu-nghi", "vn-spot-L1", "export-handoff"),
    FleetEntry("hn_02", "huu-nghi", "vn-spot-C1", None),
    FleetEntry("hn_03", "huu-nghi", "vn-spot-L3", None),
    FleetEntry("hn_04", "huu-nghi", "vn-spot-P1", None),
    FleetEntry("tt_01", "tan-thanh", "vn-spot-L1", "export-handoff"),
    FleetEntry("tt_02", "tan-thanh", "vn-spot-P1", None),
    FleetEntry("tt_03", "tan-thanh", "vn-spot-L3", None),
    FleetEntry("tt_04", "tan-thanh", "vn-spot-C1", None),
)


def fleet_for(corridors: tuple[str, ...]) -> tuple[FleetEntry, ...]:
    return tuple(e for e in DEMO_FLEET if e.corridor in corridors)


def _stop_on_signals(stop: threading.Event) -> None:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())


def spin_until(
    nodes: list[Node],
    stop: threading.Event,
    on_idle: Callable[[], None] | None = None,
    executor: str = "single",
    sim_time: bool = True,
    on_error: Callable[[str, BaseException], None] | None = None,
) -> None:
    """Spin until ``stop``; ``on_idle`` between rounds. What a callback or ``on_idle``
    raises goes to ``on_error`` (default: logged) and the spinning goes on: one bad
    message or one failed round must not end the process's ROS thread."""
    if on_error is None:
        contained = Contained(nodes[0].get_logger() if nodes else logging.getLogger("smartgate"))

        def on_error(where: str, exc: BaseException) -> None:
            contained.caught(where, exc)

    ex = make_executor(executor, sim_time)
    for n in nodes:
        ex.add_node(n)
    try:
        while not stop.is_set() and rclpy.ok():
            try:
                ex.spin_once(timeout_sec=0.05)
            except (KeyboardInterrupt, ExternalShutdownException):
                raise
            except Exception as e:
                if not rclpy.ok():
                    break  # shutting down: the context is gone
                on_error("ros callback", e)
            if on_idle is not None:
                try:
                    on_idle()
                except Exception as e:
                    on_error("housekeeping", e)
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        for n in nodes:
            ex.remove_node(n)
            n.destroy_node()


def run_sim(corridors: tuple[str, ...] = CORRIDORS, rtf: float = 1.0) -> None:
    from ros_nodes.sim_world import SimWorldNode

    maps, graphs = load_corridors(corridors)
    stop = threading.Event()
    _stop_on_signals(stop)
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    sim = SimWorldNode(rtf=rtf)
    orch = Orchestrator(maps, graphs)
    for e in fleet_for(corridors):
        v = orch.add_vehicle(e.vehicle_id, e.corridor, e.home, 0.0)
        sim.spawn(e.vehicle_id, e.corridor, v.x, v.y, v.heading_rad)
    try:
        spin_until([sim], stop)
    finally:
        rclpy.try_shutdown()


def run_vehicles(corridors: tuple[str, ...] = CORRIDORS) -> None:
    from ros_nodes.guide_vehicle import GuideVehicleNode

    stop = threading.Event()
    _stop_on_signals(stop)
    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    nodes: list[Node] = [GuideVehicleNode(e.vehicle_id, e.corridor) for e in fleet_for(corridors)]
    try:
        spin_until(nodes, stop)
    finally:
        rclpy.try_shutdown()


def run_orchestrator(
    corridors: tuple[str, ...] = CORRIDORS,
    host: str = "127.0.0.1",
    port: int = 8000,
    db_url: str = "sqlite:///var/smartgate.db",
    on_ready: Callable[[str], None] | None = None,
    sim_time: bool = True,
    executor: str = "auto",
    traffic: bool = False,
    handoff_peer: str = "",
    certs: str = "var/certs",
    handoff_db: str = "sqlite:///var/handoff-vn.db",
) -> None:
    """``sim_time``: follow ``/clock`` (simulation); off on a real site (wall-clock ROS
    time). ``executor``: auto | events | single (see ros_nodes/executors.py).
    ``traffic``: the demo's arriving trucks (sim_worlds/demo_traffic.py) feed the desk;
    without it the demo fleet's first vehicles just drive to the handoff stop line.
    ``handoff_peer``: wss URL of the CN side's handoff link (empty: no link); ``certs``
    holds vn.pem, vn.key and cn-ca.pem; ``handoff_db`` keeps the link's records."""
    import uvicorn

    from api.app import create_app
    from ros_nodes.fleet_bridge import FleetBridgeNode
    from smartgate.storage.store import Store

    if port_in_use(host, port):  # say so now, not after a minute of restarts
        print(
            f"smartgate: orchestrator: {host}:{port} is in use; choose another with --port",
            file=sys.stderr,
            flush=True,
        )
        raise SystemExit(EX_CONFIG)
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    store = Store(db_url)
    from smartgate.operators.accounts import ensure_demo_admin

    admin_password = ensure_demo_admin(store)
    if admin_password is not None:
        print(f"smartgate: created user admin, password {admin_password} (shown once)", flush=True)
    maps, graphs = load_corridors(corridors)
    orch = attach_desk(Orchestrator(maps, graphs), store)  # with the consignment desk
    fleet = fleet_for(corridors)
    for e in fleet:
        orch.add_vehicle(e.vehicle_id, e.corridor, e.home, 0.0)
    logged = 0
    stop_link: Callable[[], None] | None = None
    if handoff_peer:  # its own thread and event loop: never blocks ROS or the API
        from smartgate.services.handoff_agent import start_handoff_agents

        stop_link = start_handoff_agents(
            orch, orch.desk, corridors, Path(certs), handoff_peer, db_url=handoff_db
        )

    rclpy.init(signal_handler_options=rclpy.signals.SignalHandlerOptions.NO)
    bridge = FleetBridgeNode(orch, use_sim_time=sim_time)
    stop = threading.Event()
    pending = {e.vehicle_id: e for e in fleet if e.mission and not traffic}
    trucks = None
    if traffic and orch.desk is not None:
        from sim_worlds.demo_traffic import DemoTraffic

        trucks = DemoTraffic(orch.desk, corridors)
    last_save = [0.0]

    def start_demo_missions() -> None:
        # Start a demo mission once its vehicle is alive (it has reported).
        for vid in list(pending):
            v = orch.core.vehicles[vid]
            if v.last_report is not None:
                goal = handoff_points(graphs[v.corridor])["export"]
                del pending[vid]  # tried once: a refusal is logged, not retried forever
                orch.send_to(vid, goal, bridge.now())

    def save_log() -> None:
        nonlocal logged
        with orch.lock:
            new = orch.log[logged:]
        for entry in new:  # a failed write is tried again next round, nothing skipped
            store.append(entry)
            logged += 1

    def housekeeping() -> None:
        # Each part on its own: a failure in one (the database busy, say) is a contained
        # fault of that part and the others still run; the next round tries again.
        if trucks is not None:
            orch.guard("demo traffic", trucks.tick, bridge.now())
        orch.guard("demo missions", start_demo_missions)
        orch.guard("event log", save_log)
        if time.monotonic() - last_save[0] > 1.0:
            last_save[0] = time.monotonic()
            orch.guard("vehicle snapshot", lambda: store.save_vehicles(orch.vehicles()))

    _stop_on_signals(stop)
    ros = threading.Thread(
        target=spin_until,
        args=([bridge], stop, housekeeping, executor, sim_time),
        kwargs={"on_error": lambda where, e: orch.fault(where, None, e)},
        daemon=True,
    )
    ros.start()
    config = uvicorn.Config(
        create_app(orch, store=store),
        host=host,
        port=port,
        log_level="warning",
        ws_per_message_deflate=False,  # else every live frame is compressed per browser
    )
    server = uvicorn.Server(config)
    # uvicorn off the main thread installs no signal handlers: we own SIGINT/SIGTERM.
    web = threading.Thread(target=server.run, daemon=True)
    web.start()
    if on_ready is not None:
        threading.Thread(target=_announce, args=(server, host, port, on_ready), daemon=True).start()
    died = ""
    try:
        while not stop.is_set():
            if not web.is_alive() or not ros.is_alive():
                died = "the API server" if not web.is_alive() else "the ROS thread"
                break
            stop.wait(0.2)
    finally:
        stop.set()
        if stop_link is not None:
            stop_link()
        server.should_exit = True
        web.join(timeout=5)
        ros.join(timeout=5)
        store.save_vehicles(orch.vehicles())
        store.close()
        rclpy.try_shutdown()
    if died:  # not asked to stop: a supervisor restarts us, with state from the database
        print(f"smartgate: orchestrator: {died} stopped; exiting", file=sys.stderr, flush=True)
        raise SystemExit(1)


def _announce(server: object, host: str, port: int, cb: Callable[[str], None]) -> None:
    while not getattr(server, "started", False):
        time.sleep(0.05)
    cb(f"http://{host}:{port}")


def _parse(argv: list[str] | None, **options: tuple[type, object]) -> argparse.Namespace:
    """argparse over the arguments left once ROS's (``--ros-args ...``) are removed."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--corridor", action="append", choices=CORRIDORS)
    for name, (kind, default) in options.items():
        parser.add_argument(f"--{name.replace('_', '-')}", type=kind, default=default)
    args = rclpy.utilities.remove_ros_args(argv if argv is not None else sys.argv)[1:]
    ns, _ = parser.parse_known_args(args)
    ns.corridor = tuple(ns.corridor or CORRIDORS)
    return ns


def orchestrator_main(argv: list[str] | None = None) -> None:
    """``ros2 run smartgate fleet_bridge [--corridor C] [--host H] [--port N] [--db URL]
    [--sim-time true|false] [--executor auto|events|single] [--handoff-peer wss://H:P]
    [--certs DIR] [--handoff-db URL]``."""
    a = _parse(
        argv,
        host=(str, "127.0.0.1"),
        port=(int, 8000),
        db=(str, "sqlite:///var/smartgate.db"),
        sim_time=(str, "true"),
        executor=(str, "auto"),
        handoff_peer=(str, ""),
        certs=(str, "var/certs"),
        handoff_db=(str, "sqlite:///var/handoff-vn.db"),
    )
    sim_time = str(a.sim_time).lower() in ("1", "true", "yes")
    run_orchestrator(
        a.corridor,
        a.host,
        a.port,
        a.db,
        on_ready=print,
        sim_time=sim_time,
        executor=a.executor,
        handoff_peer=a.handoff_peer,
        certs=a.certs,
        handoff_db=a.handoff_db,
    )


def sim_main(argv: list[str] | None = None) -> None:
    """``ros2 run smartgate sim_world [--corridor C] [--rtf X]``."""
    a = _parse(argv, rtf=(float, 1.0))
    run_sim(a.corridor, a.rtf)
