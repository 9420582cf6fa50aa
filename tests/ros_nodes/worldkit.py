"""A simulated world over real DDS for the ROS tests: sim_world, guide_vehicle nodes,
fleet_bridge with its orchestrator, and a probe node that records what goes over the
vehicle link. Every node runs in this process on one executor; the simulator owns
/clock and every other node follows it."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import networkx as nx
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from smartgate_interfaces.msg import CommandAck, RouteCommand, VehicleState

from maps.corridor_map import CorridorMap
from ros_nodes import qos
from ros_nodes.fleet_bridge import FleetBridgeNode
from ros_nodes.guide_vehicle import GuideVehicleNode
from ros_nodes.sim_world import SimWorldNode
from smartgate.services.orchestrator import Orchestrator


class Probe(Node):
    """Listens to (and may inject into) one vehicle's command link, stamping on sim time."""

    def __init__(self, vehicle_id: str) -> None:
        super().__init__(
            f"probe_{vehicle_id}",
            parameter_overrides=[rclpy.parameter.Parameter("use_sim_time", value=True)],
        )
        ns = f"/vehicles/{vehicle_id}"
        self.acks: list[tuple[float, CommandAck]] = []
        self.states: list[tuple[float, VehicleState]] = []
        self.routes: list[RouteCommand] = []
        self.create_subscription(CommandAck, f"{ns}/ack", self._ack, qos.ACK)
        self.create_subscription(VehicleState, f"{ns}/state", self._state, qos.STATE)
        self.create_subscription(RouteCommand, f"{ns}/route", self.routes.append, qos.COMMAND)
        self.route_pub = self.create_publisher(RouteCommand, f"{ns}/route", qos.COMMAND)

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _ack(self, msg: CommandAck) -> None:
        self.acks.append((self.now(), msg))

    def _state(self, msg: VehicleState) -> None:
        self.states.append((self.now(), msg))

    def ack_for(self, seq: int) -> list[CommandAck]:
        return [a for _, a in self.acks if a.seq == seq]


class World:
    def __init__(
        self,
        maps: dict[str, CorridorMap],
        graphs: dict[str, nx.DiGraph],
        rtf: float,
        stale_after_s: float = 2.0,
    ) -> None:
        self.rtf = rtf
        self.orch = Orchestrator(maps, graphs, stale_after_s=stale_after_s)
        self.sim = SimWorldNode(rtf=rtf)
        self.vehicles: dict[str, GuideVehicleNode] = {}
        self.ex = SingleThreadedExecutor()
        self.ex.add_node(self.sim)
        self.bridge: FleetBridgeNode | None = None

    def add(self, vid: str, corridor: str, home: str, **params: Any) -> GuideVehicleNode:
        v = self.orch.add_vehicle(vid, corridor, home, 0.0)
        self.sim.spawn(vid, corridor, v.x, v.y, v.heading_rad)
        params.setdefault("odom_timeout_s", 0.25 * self.rtf)
        node = GuideVehicleNode(vid, corridor, **params)
        self.vehicles[vid] = node
        self.ex.add_node(node)
        return node

    def start_bridge(self) -> FleetBridgeNode:
        self.bridge = FleetBridgeNode(self.orch)
        self.ex.add_node(self.bridge)
        return self.bridge

    def probe(self, vid: str) -> Probe:
        p = Probe(vid)
        self.ex.add_node(p)
        return p

    def spin_until(self, cond: Callable[[], Any], wall_s: float) -> bool:
        end = time.monotonic() + wall_s
        while time.monotonic() < end:
            self.ex.spin_once(timeout_sec=0.005)
            if cond():
                return True
        return False

    def spin_sim(self, sim_s: float, wall_s: float = 60.0) -> None:
        """Spin until ``sim_s`` simulated seconds have passed."""
        end = self.sim.t + sim_s
        assert self.spin_until(lambda: self.sim.t >= end, wall_s), "simulation stalled"

    def close(self) -> None:
        for n in list(self.ex.get_nodes()):
            self.ex.remove_node(n)
            n.destroy_node()
