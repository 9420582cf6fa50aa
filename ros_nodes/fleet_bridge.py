"""fleet_bridge: the orchestrator's ROS 2 side.

Sends the core's commands to the vehicles (``/vehicles/<id>/route``,
RouteCommand; ``/vehicles/<id>/command``, VehicleCommand), folds their
acknowledgements (``/vehicles/<id>/ack``) and state (``/vehicles/<id>/state``,
VehicleState) into the core, publishes the orchestrator heartbeat
(``/fleet/heartbeat``) that vehicles need to keep moving, ticks the core so
stale vehicles are marked offline and unacknowledged commands are re-sent,
and publishes MarkerArrays (map; vehicles, routes and reserved stretches) for
RViz/Foxglove. It runs on the ROS clock (sim time in simulation).

Every callback and timer is guarded: what one raises is a fault of the
orchestrator (logged, alarmed, the vehicle isolated when it is one vehicle's),
never the end of the executor thread. A state message on one vehicle's topic
is taken only for that vehicle.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import rclpy
from rclpy.node import Node
from smartgate_interfaces.msg import CommandAck, RouteCommand, VehicleCommand, VehicleState
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from fleet.core import Command, ModeCommand
from ros_nodes import qos
from ros_nodes.markers import fleet_markers, map_markers
from ros_nodes.messages import (
    ack_from_msg,
    mode_command_msg,
    report_from_state,
    route_command_msg,
    to_time,
)
from smartgate.services.orchestrator import Orchestrator


class FleetBridgeNode(Node):
    def __init__(
        self,
        orch: Orchestrator,
        *,
        use_sim_time: bool = True,
        heartbeat_hz: float = 4.0,
        tick_hz: float = 1.0,  # one fleet_control.tick per round of state reports
        markers_hz: float = 2.0,
    ) -> None:
        super().__init__(
            "fleet_bridge",
            parameter_overrides=[rclpy.parameter.Parameter("use_sim_time", value=use_sim_time)],
        )
        self.orch = orch
        self.route_pubs: dict[str, Any] = {}
        self.command_pubs: dict[str, Any] = {}
        self.hb_pub = self.create_publisher(Header, "/fleet/heartbeat", qos.CONTROL)
        self.map_pub = self.create_publisher(MarkerArray, "/fleet/markers/map", qos.LATCHED)
        self.fleet_pub = self.create_publisher(MarkerArray, "/fleet/markers/fleet", qos.CONTROL)
        for cmap in orch.maps.values():
            self.map_pub.publish(map_markers(cmap))
        orch.command_sink = self.publish_command
        for vid in orch.core.vehicles:
            self.watch(vid)
        self.create_timer(1.0 / heartbeat_hz, self._guard("heartbeat", self._heartbeat))
        self.create_timer(1.0 / tick_hz, self._guard("fleet tick", self._tick))
        self.create_timer(1.0 / markers_hz, self._guard("markers", self._publish_fleet))

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def watch(self, vehicle_id: str) -> None:
        """Start talking to a (newly registered) vehicle."""
        if vehicle_id in self.route_pubs:
            return
        ns = f"/vehicles/{vehicle_id}"
        self.route_pubs[vehicle_id] = self.create_publisher(
            RouteCommand, f"{ns}/route", qos.COMMAND
        )
        self.command_pubs[vehicle_id] = self.create_publisher(
            VehicleCommand, f"{ns}/command", qos.COMMAND
        )
        self.create_subscription(
            VehicleState,
            f"{ns}/state",
            self._guard("state", lambda msg: self._on_state(vehicle_id, msg), vehicle_id),
            qos.STATE,
        )
        self.create_subscription(
            CommandAck,
            f"{ns}/ack",
            self._guard("ack", lambda msg: self._on_ack(vehicle_id, msg), vehicle_id),
            qos.ACK,
        )

    def _guard(
        self, where: str, fn: Callable[..., None], vehicle_id: str | None = None
    ) -> Callable[..., None]:
        """``fn`` as a callback whose exceptions are the orchestrator's contained faults."""

        def callback(*args: Any) -> None:
            try:
                fn(*args)
            except Exception as e:
                self.orch.fault(f"ros {where}", vehicle_id, e)

        return callback

    def publish_command(self, cmd: Command) -> None:
        self.watch(cmd.vehicle_id)
        if isinstance(cmd, ModeCommand):
            self.command_pubs[cmd.vehicle_id].publish(mode_command_msg(cmd))
        else:
            self.route_pubs[cmd.vehicle_id].publish(route_command_msg(cmd))

    def _on_state(self, topic: str, msg: VehicleState) -> None:
        try:
            report = report_from_state(msg)
        except (ValueError, TypeError, OverflowError):  # fields no vehicle sends
            self.orch.refuse_report("malformed")
            return
        self.orch.report(report, self.now(), topic=topic)

    def _on_ack(self, topic: str, msg: CommandAck) -> None:
        if msg.vehicle_id != topic:
            return  # an ack on one vehicle's topic speaks only for that vehicle
        self.orch.ack(ack_from_msg(msg), self.now())

    def _heartbeat(self) -> None:
        h = Header()
        h.frame_id = "orchestrator"
        h.stamp = to_time(self.now())
        self.hb_pub.publish(h)

    def _publish_fleet(self) -> None:
        self.fleet_pub.publish(
            fleet_markers(
                self.orch.vehicles(),
                self.now(),
                self.orch.active_routes(),
                self.orch.reserved_stretches(),
            )
        )

    def _tick(self) -> None:
        self.orch.tick(self.now())
