"""ROS link benchmark: the orchestrator <-> vehicle link over real DDS on loopback.

Two cases, each against a bare-rclpy baseline with the same message types and QoS,
so the ratio shows what smartgate's own layers cost on top of rclpy + Fast DDS:

- ``command_ack``: 100 vehicles in a second process; the orchestrator sends each a
  command (PAUSE/RESUME alternately, one counter, reliable transient-local topic) at
  1 Hz per vehicle, staggered, and measures send -> acknowledgement (wall clock).
  smartgate: Orchestrator -> FleetCore -> fleet_bridge -> guide_vehicle nodes -> ack
  -> fleet_bridge -> core. Baseline ``rclpy-echo``: one publisher per vehicle and
  100 bare nodes that answer each command with a CommandAck. Target p99 <= 20 ms.
- ``state_throughput``: 200 vehicles' VehicleState at 10 Hz from a second process
  (one load node, 200 best-effort publishers) into the orchestrator. smartgate:
  fleet_bridge -> messages -> Orchestrator.report -> FleetCore.on_report.
  Baseline ``rclpy-count``: 200 subscriptions that only count. "Keeping up" means
  >= 99 % of the samples received and the receive lag (header stamp -> callback)
  p99 under one state period (100 ms).

Both sides spin rclpy's C++ EventsExecutor where it exists (Jazzy; ``executor`` in
each result): with rclpy's Python SingleThreadedExecutor a process holding 100 nodes
spends its time rebuilding wait sets (measured here: p99 ~400 ms smartgate, ~60 ms
bare rclpy); ``BENCH_EXECUTOR=single`` measures that.

Run: ``python -m bench.ros_link [--quick]`` prints the JSON (``smartgate bench ros``).
The ROS domain is ``ROS_DOMAIN_ID`` or a random private one; discovery stays on
localhost.
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np

COMMAND_VEHICLES = 100
STATE_VEHICLES = 200
STATE_HZ = 10.0
COMMAND_HZ = 1.0  # per vehicle


def executor_name() -> str:
    """``events`` (rclpy's C++ EventsExecutor, Jazzy and later) unless BENCH_EXECUTOR=single
    or it is missing (Humble): then rclpy's Python SingleThreadedExecutor."""
    if os.environ.get("BENCH_EXECUTOR", "events") == "single":
        return "single"
    try:
        from rclpy.experimental import EventsExecutor  # noqa: F401
    except ImportError:
        return "single"
    return "events"


def _executor() -> Any:
    import rclpy.executors

    if executor_name() == "events":
        from rclpy.experimental import EventsExecutor

        return EventsExecutor()
    return rclpy.executors.SingleThreadedExecutor()


def _pct(xs: list[float], q: float) -> float | None:
    return round(float(np.percentile(xs, q)), 3) if xs else None


# -- the second process: the vehicle side --------------------------------------
def serve(role: str, n: int, seconds: float) -> None:
    """Run the vehicle side: ``vehicles`` (guide_vehicle nodes), ``echo`` (bare rclpy
    answering nodes) or ``states`` (a node publishing n vehicles' state at 10 Hz)."""
    import rclpy
    from rclpy.node import Node

    from ros_nodes import qos

    rclpy.init()
    nodes: list[Node] = []
    if role == "vehicles":
        from ros_nodes.guide_vehicle import GuideVehicleNode

        zero = ((1e6, 1e6), (1e6 + 1.0, 1e6))  # far away: no map needed
        for i in range(n):
            nodes.append(GuideVehicleNode(f"b{i:03d}", "bench", use_sim_time=False, zero_line=zero))
    elif role == "echo":
        from smartgate_interfaces.msg import CommandAck, VehicleCommand

        for i in range(n):
            node = rclpy.create_node("echo", namespace=f"/vehicles/b{i:03d}")
            pub = node.create_publisher(CommandAck, "ack", qos.ACK)

            def answer(msg: VehicleCommand, pub: Any = pub) -> None:
                pub.publish(CommandAck(vehicle_id=msg.vehicle_id, seq=msg.seq, kind=msg.command))

            node.create_subscription(VehicleCommand, "command", answer, qos.COMMAND)
            nodes.append(node)
    else:
        from smartgate_interfaces.msg import VehicleState

        from ros_nodes.messages import to_time

        node = rclpy.create_node("state_load")
        pubs = [
            node.create_publisher(VehicleState, f"/vehicles/b{i:03d}/state", qos.STATE)
            for i in range(n)
        ]
        msgs = [VehicleState(vehicle_id=f"b{i:03d}") for i in range(n)]
        for i, m in enumerate(msgs):
            m.header.frame_id = "bench/map"
            m.pose.position.x, m.pose.orientation.w = float(i), 1.0
        ticks_per_s = 100
        per_tick = max(1, round(n * STATE_HZ / ticks_per_s))
        cursor = [0]

        def publish() -> None:
            now = to_time(node.get_clock().now().nanoseconds * 1e-9)
            for _ in range(per_tick):
                k = cursor[0] % n
                cursor[0] += 1
                msgs[k].header.stamp = now
                msgs[k].pose.position.y += 0.1
                pubs[k].publish(msgs[k])

        node.create_timer(1.0 / ticks_per_s, publish)
        nodes.append(node)
    ex = _executor()
    for nd in nodes:
        ex.add_node(nd)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end and rclpy.ok():
            ex.spin_once(timeout_sec=0.05)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        for nd in nodes:
            nd.destroy_node()
        rclpy.try_shutdown()


def _child(role: str, n: int, seconds: float, env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "bench.ros_link", "--serve", role, str(n), str(seconds)]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL)


def _spin(ex: Any, seconds: float, cond: Callable[[], bool] | None = None) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        ex.spin_once(timeout_sec=0.002)
        if cond is not None and cond():
            return True
    return cond is None


# -- command -> ack -----------------------------------------------------------
def _command_case(impl: str, seconds: float, env: dict[str, str]) -> dict[str, Any]:
    import rclpy

    from fleet.core import CommandAck as CoreAck
    from fleet.core import CommandAcked, Event
    from maps.corridors import load_corridors
    from ros_nodes import qos
    from smartgate.services.orchestrator import Orchestrator

    n = COMMAND_VEHICLES
    child = _child("vehicles" if impl == "smartgate" else "echo", n, seconds + 60.0, env)
    rclpy.init()
    ex = _executor()
    ids = [f"b{i:03d}" for i in range(n)]
    sent_at: dict[tuple[str, int], float] = {}
    latencies: list[float] = []
    send: Callable[[int], None]
    try:
        if impl == "smartgate":
            from ros_nodes.fleet_bridge import FleetBridgeNode

            class TimedOrchestrator(Orchestrator):
                def ack(self, ack: CoreAck, now: float) -> list[Event]:
                    t = time.perf_counter()
                    events = super().ack(ack, now)
                    for e in events:
                        if isinstance(e, CommandAcked):
                            t0 = sent_at.pop((e.vehicle_id, e.seq), None)
                            if t0 is not None:
                                latencies.append((t - t0) * 1000.0)
                    return events

            maps, graphs = load_corridors(("huu-nghi",))
            orch = TimedOrchestrator(maps, graphs, stale_after_s=1e9)
            for vid in ids:
                orch.core.add_vehicle(vid, "huu-nghi", "vn-spot-L1", 0.0)  # link only: unplanned
            bridge = FleetBridgeNode(orch, use_sim_time=False)
            ex.add_node(bridge)
            pubs = [bridge.command_pubs[vid] for vid in ids]

            def send(k: int) -> None:
                vid = ids[k % n]
                t = time.perf_counter()
                if (k // n) % 2 == 0:
                    cmd = orch.pause(vid, bridge.now(), "bench")
                else:
                    cmd = orch.resume(vid, bridge.now(), "bench")
                sent_at[(vid, cmd.seq)] = t

            def acked_all() -> bool:
                return all(p.get_subscription_count() > 0 for p in pubs) and all(
                    bridge.count_publishers(f"/vehicles/{v}/ack") > 0 for v in ids
                )
        else:
            from smartgate_interfaces.msg import CommandAck, VehicleCommand

            node = rclpy.create_node("bench_commander")
            ex.add_node(node)
            pubs = [
                node.create_publisher(VehicleCommand, f"/vehicles/{v}/command", qos.COMMAND)
                for v in ids
            ]

            def on_ack(msg: CommandAck) -> None:
                t0 = sent_at.pop((msg.vehicle_id, msg.seq), None)
                if t0 is not None:
                    latencies.append((time.perf_counter() - t0) * 1000.0)

            for v in ids:
                node.create_subscription(CommandAck, f"/vehicles/{v}/ack", on_ack, qos.ACK)
            seq = [0]

            def send(k: int) -> None:
                vid = ids[k % n]
                seq[0] += 1
                msg = VehicleCommand(vehicle_id=vid, seq=seq[0], command=1 + (k // n) % 2)
                sent_at[(vid, seq[0])] = time.perf_counter()
                pubs[k % n].publish(msg)

            def acked_all() -> bool:
                return all(p.get_subscription_count() > 0 for p in pubs) and all(
                    node.count_publishers(f"/vehicles/{v}/ack") > 0 for v in ids
                )

        if not _spin(ex, 60.0, acked_all):
            raise RuntimeError(f"{impl}: the {n} vehicles were not discovered in 60 s")
        _spin(ex, 1.0)  # let discovery settle
        rate = n * COMMAND_HZ
        total = int(seconds * rate)
        t_start = time.perf_counter()
        for k in range(total):
            due = t_start + k / rate
            while time.perf_counter() < due:
                ex.spin_once(timeout_sec=max(0.0, min(0.002, due - time.perf_counter())))
            send(k)
        _spin(ex, 2.0, lambda: not sent_at)
        lost = len(sent_at)
    finally:
        for nd in list(ex.get_nodes()):
            ex.remove_node(nd)
            nd.destroy_node()
        rclpy.try_shutdown()
        child.terminate()
        child.wait(timeout=20)
    return {
        "case": f"command_ack/{n}_vehicles/{COMMAND_HZ:g}hz_each",
        "impl": impl,
        "vehicles": n,
        "commands": total,
        "acked": len(latencies),
        "lost": lost,
        "latency_ms_p50": _pct(latencies, 50),
        "latency_ms_p99": _pct(latencies, 99),
        "latency_ms_max": _pct(latencies, 100),
        "target_p99_ms": 20.0,
        "executor": executor_name(),
    }


# -- state throughput ---------------------------------------------------------
def _state_case(impl: str, seconds: float, env: dict[str, str]) -> dict[str, Any]:
    import rclpy
    from smartgate_interfaces.msg import VehicleState

    from ros_nodes import qos
    from ros_nodes.messages import from_time

    n = STATE_VEHICLES
    ids = [f"b{i:03d}" for i in range(n)]
    rclpy.init()
    ex = _executor()
    lags: list[float] = []
    count = [0]
    child: subprocess.Popen[bytes] | None = None
    try:
        if impl == "smartgate":
            from fleet.vehicles import VehicleReport
            from maps.corridors import load_corridors
            from ros_nodes.fleet_bridge import FleetBridgeNode
            from smartgate.services.orchestrator import Orchestrator

            class CountingOrchestrator(Orchestrator):
                def report(
                    self, r: VehicleReport, now: float, topic: str | None = None
                ) -> str | None:
                    why = super().report(r, now, topic)
                    count[0] += 1
                    lags.append((time.time() - r.stamp) * 1000.0)
                    return why

            maps, graphs = load_corridors(("huu-nghi",))
            orch = CountingOrchestrator(maps, graphs, stale_after_s=1e9)
            for vid in ids:
                orch.core.add_vehicle(vid, "huu-nghi", "vn-spot-L1", 0.0)  # link only: unplanned
            node: Any = FleetBridgeNode(orch, use_sim_time=False)
        else:
            node = rclpy.create_node("bench_counter")

            def on_state(msg: VehicleState) -> None:
                count[0] += 1
                lags.append((time.time() - from_time(msg.header.stamp)) * 1000.0)

            for v in ids:
                node.create_subscription(VehicleState, f"/vehicles/{v}/state", on_state, qos.STATE)
        ex.add_node(node)
        child = _child("states", n, seconds + 60.0, env)

        def discovered() -> bool:
            return all(node.count_publishers(f"/vehicles/{v}/state") > 0 for v in ids)

        if not _spin(ex, 60.0, discovered):
            raise RuntimeError(f"{impl}: the state publishers were not discovered in 60 s")
        _spin(ex, 2.0)  # warm up
        count[0], lags[:] = 0, []
        t0 = time.perf_counter()
        _spin(ex, seconds)
        elapsed = time.perf_counter() - t0
        received = count[0]
        lag = list(lags)
    finally:
        for nd in list(ex.get_nodes()):
            ex.remove_node(nd)
            nd.destroy_node()
        rclpy.try_shutdown()
        if child is not None:
            child.terminate()
            child.wait(timeout=20)
    offered = n * STATE_HZ
    rate = received / elapsed
    p99 = _pct(lag, 99)
    return {
        "case": f"state_throughput/{n}_vehicles/{STATE_HZ:g}hz",
        "impl": impl,
        "vehicles": n,
        "offered_msgs_per_s": offered,
        "received_msgs_per_s": round(rate, 1),
        "delivered_fraction": round(rate / offered, 4),
        "lag_ms_p50": _pct(lag, 50),
        "lag_ms_p99": p99,
        "keeps_up": bool(rate >= 0.99 * offered and p99 is not None and p99 < 1000 / STATE_HZ),
        "executor": executor_name(),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """Both cases, smartgate and its baseline each, in this order; see the module doc."""
    from ros_nodes.env import ros_env

    domain = os.environ.get("ROS_DOMAIN_ID") or str(random.Random().randint(100, 200))
    env = ros_env(int(domain))
    os.environ.update({k: env[k] for k in ("ROS_DOMAIN_ID", "ROS_AUTOMATIC_DISCOVERY_RANGE")})
    seconds = 3.0 if quick else 10.0
    results = [
        _command_case("smartgate", seconds, env),
        _command_case("rclpy-echo", seconds, env),
        _state_case("smartgate", seconds, env),
        _state_case("rclpy-count", seconds, env),
    ]
    return {"bench": "ros", "quick": quick, "results": results}


if __name__ == "__main__":
    args = sys.argv[1:]
    if args[:1] == ["--serve"]:
        serve(args[1], int(args[2]), float(args[3]))
    else:
        print(json.dumps(run(quick="--quick" in args), indent=2))
