"""One vehicle model, two ways to run it: the same short scenario in-process and
through ROS 2 topics (guide_vehicle nodes + sim_world over real DDS) ends the same.

Scenario: two vehicles leave neighbouring VN loading spots for points just past
the zero line on the export lane; the handoff is accepted at once. In both modes
the same FleetControl plans and reserves, the same VehicleBrain drives and the same
KinematicVehicle moves: both vehicles arrive, each crosses the zero line once, in the
same order, at nearly the same simulated time, and their bodies never meet.
"""

from __future__ import annotations

import math
import time
from typing import Any

import networkx as nx
import pytest

from fleet.core import CommandAck, MissionCompleted, ModeCommand, RouteCommand
from fleet.traffic.control import FleetControl
from sim_worlds.simulator import load_world
from sim_worlds.trace_checker import check_trace, trace_from_rows
from vehicle.brain import VehicleBrain
from vehicle.kinematics import KinematicVehicle

START = {"hn_01": "vn-spot-L1", "hn_02": "vn-spot-L2"}
GOALS = {"hn_01": "cn-customs:entry@E-AUTO", "hn_02": "handoff:exit@E-AUTO"}
HORIZON_S = 300.0


def _setup(fc: FleetControl, now: float) -> list[Any]:
    cmds: list[Any] = []
    for vid in sorted(START):
        cmds += fc.send_to(vid, GOALS[vid], now)
        cmds += fc.accept_handoff(vid, now)
    return cmds


def _crossed(xs: list[tuple[float, float, float]], line: list[tuple[float, float]]) -> float | None:
    """First time the polyline of positions (t, x, y) crosses the zero line."""
    (ax, ay), (bx, by) = line[0], line[-1]
    side = [((bx - ax) * (y - ay) - (by - ay) * (x - ax)) > 0 for _t, x, y in xs]
    for i in range(1, len(xs)):
        if side[i] != side[i - 1]:
            return xs[i][0]
    return None


def _in_process(graphs: dict[str, nx.DiGraph], zero: list[tuple[float, float]]) -> dict[str, Any]:
    """The ROS rates, without DDS: control 20 Hz, state 10 Hz, fleet tick 2 Hz."""
    g = {"huu-nghi": graphs["huu-nghi"]}
    fc = FleetControl(g)
    cars: dict[str, tuple[VehicleBrain, KinematicVehicle]] = {}
    for vid, node in sorted(START.items()):
        v = fc.add_vehicle(vid, "huu-nghi", node, 0.0)
        cars[vid] = (VehicleBrain(vid, zero), KinematicVehicle(v.x, v.y, v.heading_rad))

    def deliver(cmds: list[Any], now: float) -> None:
        for c in cmds:
            b = cars[c.vehicle_id][0]
            if isinstance(c, RouteCommand):
                a = b.on_route_command(c)
            else:
                assert isinstance(c, ModeCommand)
                a = b.on_mode(c.seq, c.kind, c.vehicle_id, c.reason)
            fc.on_ack(CommandAck(c.vehicle_id, a.seq, a.status, now, a.detail), now)

    t, k = 0.0, 0
    arrived: dict[str, float] = {}
    paths: dict[str, list[tuple[float, float, float]]] = {vid: [] for vid in cars}
    min_d = math.inf
    for b, m in cars.values():
        b.heartbeat(0.0)
        b.odometry(0.0)
        fc.on_report(b.report(0.0, m.x, m.y, m.yaw, 0.0), 0.0)
    deliver(_setup(fc, 0.0), 0.0)
    while t < HORIZON_S and len(arrived) < len(cars):
        k += 1
        t = round(k * 0.05, 6)
        for vid, (b, m) in cars.items():
            b.heartbeat(t)
            b.odometry(t)
            d = b.control(t, m.x, m.y, m.yaw, m.v, 0.05)
            m.step(d.speed_mps, d.yaw_rate, 0.05)
            paths[vid].append((t, m.x, m.y))
            if k % 2 == 0:
                for e in fc.on_report(b.report(t, m.x, m.y, m.yaw, m.v), t):
                    if isinstance(e, MissionCompleted):
                        arrived.setdefault(vid, t)
        (_, m1), (_, m2) = cars.values()
        min_d = min(min_d, math.hypot(m1.x - m2.x, m1.y - m2.y))
        if k % 10 == 0:
            _events, cmds = fc.tick(t)
            deliver(cmds, t)
    return {"arrived": arrived, "paths": paths, "min_front_distance": min_d}


def _through_ros(graphs: dict[str, nx.DiGraph], zero: list[tuple[float, float]]) -> dict[str, Any]:
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.node import Node
    from smartgate_interfaces.msg import CommandAck as AckMsg
    from smartgate_interfaces.msg import RouteCommand as RouteMsg
    from smartgate_interfaces.msg import VehicleCommand, VehicleState
    from std_msgs.msg import Header

    from ros_nodes import qos
    from ros_nodes.guide_vehicle import GuideVehicleNode
    from ros_nodes.messages import (
        ack_from_msg,
        mode_command_msg,
        report_from_state,
        route_command_msg,
        to_time,
    )
    from ros_nodes.sim_world import SimWorldNode

    class Control(Node):
        """FleetControl on the ROS clock: commands out, state and acks in, heartbeat."""

        def __init__(self, fc: FleetControl) -> None:
            super().__init__(
                "control",
                parameter_overrides=[rclpy.parameter.Parameter("use_sim_time", value=True)],
            )
            self.fc = fc
            self.arrived: dict[str, float] = {}
            self.route_pubs = {}
            self.mode_pubs = {}
            for vid in START:
                ns = f"/vehicles/{vid}"
                self.route_pubs[vid] = self.create_publisher(RouteMsg, f"{ns}/route", qos.COMMAND)
                self.mode_pubs[vid] = self.create_publisher(
                    VehicleCommand, f"{ns}/command", qos.COMMAND
                )
                self.create_subscription(VehicleState, f"{ns}/state", self._state, qos.STATE)
                self.create_subscription(AckMsg, f"{ns}/ack", self._ack, qos.ACK)
            self.hb = self.create_publisher(Header, "/fleet/heartbeat", qos.CONTROL)
            self.create_timer(0.25, self._heartbeat)
            self.create_timer(0.5, self._tick)

        def now(self) -> float:
            """The ROS (sim) clock, never before the time the control has already seen:
            a /clock sample can arrive late (seen 0.8 s behind under load), and the
            orchestrator clamps such times the same way (``Orchestrator._at``)."""
            return max(self.get_clock().now().nanoseconds * 1e-9, self.fc.now)

        def send(self, cmds: list[Any]) -> None:
            for c in cmds:
                if isinstance(c, RouteCommand):
                    self.route_pubs[c.vehicle_id].publish(route_command_msg(c))
                else:
                    self.mode_pubs[c.vehicle_id].publish(mode_command_msg(c))

        def _state(self, msg: Any) -> None:
            for e in self.fc.on_report(report_from_state(msg), self.now()):
                if isinstance(e, MissionCompleted):
                    self.arrived.setdefault(e.vehicle_id, self.now())

        def _ack(self, msg: Any) -> None:
            self.fc.on_ack(ack_from_msg(msg), self.now())

        def _heartbeat(self) -> None:
            h = Header()
            h.stamp = to_time(self.now())
            self.hb.publish(h)

        def _tick(self) -> None:
            _events, cmds = self.fc.tick(self.now())
            self.send(cmds)

    rclpy.init()
    nodes: list[Any] = []
    try:
        fc = FleetControl({"huu-nghi": graphs["huu-nghi"]})
        sim = SimWorldNode(rtf=4.0)
        nodes.append(sim)
        ex = SingleThreadedExecutor()
        ex.add_node(sim)
        for vid, node in sorted(START.items()):
            v = fc.add_vehicle(vid, "huu-nghi", node, 0.0)
            sim.spawn(vid, "huu-nghi", v.x, v.y, v.heading_rad)
            gv = GuideVehicleNode(vid, "huu-nghi", odom_timeout_s=1.0, zero_line=tuple(zero))
            nodes.append(gv)
            ex.add_node(gv)
        ctl = Control(fc)
        nodes.append(ctl)
        ex.add_node(ctl)
        paths: dict[str, list[tuple[float, float, float]]] = {vid: [] for vid in START}
        min_d = math.inf
        # Let discovery and the first states settle, then plan (at sim time now).
        end = time.monotonic() + 5.0
        while time.monotonic() < end:
            ex.spin_once(timeout_sec=0.01)
            if sim.t > 1.0 and all(fc.core.vehicles[v].last_report for v in START):
                break
        t0 = ctl.now()
        ctl.send(_setup(fc, t0))
        deadline = time.monotonic() + 240.0
        while time.monotonic() < deadline and len(ctl.arrived) < len(START):
            ex.spin_once(timeout_sec=0.01)
            if sim.t - t0 > HORIZON_S:
                break
            for vid, sv in sim.vehicles.items():
                mm = sv.model
                if not paths[vid] or paths[vid][-1][0] < sim.t - t0:
                    paths[vid].append((sim.t - t0, mm.x, mm.y))
            m1, m2 = (sv.model for sv in sim.vehicles.values())
            min_d = min(min_d, math.hypot(m1.x - m2.x, m1.y - m2.y))
        return {
            "arrived": {vid: t - t0 for vid, t in ctl.arrived.items()},
            "paths": paths,
            "min_front_distance": min_d,
        }
    finally:
        for n in nodes:
            n.destroy_node()
        rclpy.shutdown()


@pytest.mark.ros
@pytest.mark.slow
def test_in_process_and_ros_modes_give_the_same_outcome() -> None:
    graphs, zero_lines = load_world(["huu-nghi"])
    zero = zero_lines["huu-nghi"]
    a = _in_process(graphs, zero)
    b = _through_ros(graphs, zero)
    for out in (a, b):
        assert set(out["arrived"]) == set(START), out["arrived"]
        for vid in START:
            assert _crossed(out["paths"][vid], zero) is not None
        rows = [
            [f"{t:.2f}", vid, "", "0", f"{x:.3f}", f"{y:.3f}", "0"]
            for vid, path in out["paths"].items()
            for t, x, y in path
        ]
        assert check_trace(trace_from_rows(rows)).collisions == 0
    order_a = sorted(a["arrived"], key=a["arrived"].get)
    order_b = sorted(b["arrived"], key=b["arrived"].get)
    assert order_a == order_b
    for vid in START:
        ta, tb = a["arrived"][vid], b["arrived"][vid]
        assert abs(ta - tb) <= 0.15 * ta + 5.0, (vid, ta, tb)
