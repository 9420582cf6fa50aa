"""fleet_bridge: the orchestrator's ROS 2 side.

Turns the core's route commands into ``/vehicles/<id>/route`` (nav_msgs/Path),
folds ``/vehicles/<id>/state`` (nav_msgs/Odometry) into the core as vehicle
reports, publishes the orchestrator heartbeat (``/fleet/heartbeat``) that
vehicles need to keep moving, and ticks the core so stale vehicles are marked
offline. It runs on the ROS clock (sim time in simulation).
"""

from __future__ import annotations

from typing import Any

import rclpy
from nav_msgs.msg import Odometry, Path
from rclpy.node import Node
from std_msgs.msg import Header
from visualization_msgs.msg import MarkerArray

from fleet.core import RouteCommand
from fleet.vehicles import VehicleReport
from ros_nodes import qos
from ros_nodes.markers import fleet_markers, map_markers
from ros_nodes.messages import from_time, quat_to_yaw, route_to_path, to_time
from smartgate.orchestrator import Orchestrator


class FleetBridgeNode(Node):
    def __init__(
        self, orch: Orchestrator, *, use_sim_time: bool = True, heartbeat_hz: float = 4.0
    ) -> None:
        super().__init__(
            "fleet_bridge",
            parameter_overrides=[rclpy.parameter.Parameter("use_sim_time", value=use_sim_time)],
        )
        self.orch = orch
        self.route_pubs: dict[str, Any] = {}
        self.hb_pub = self.create_publisher(Header, "/fleet/heartbeat", qos.CONTROL)
        self.map_pub = self.create_publisher(MarkerArray, "/fleet/markers/map", qos.LATCHED)
        self.fleet_pub = self.create_publisher(MarkerArray, "/fleet/markers/fleet", qos.CONTROL)
        for cmap in orch.maps.values():
            self.map_pub.publish(map_markers(cmap))
        orch.command_sink = self.publish_route
        for vid in orch.core.vehicles:
            self.watch(vid)
        self.create_timer(1.0 / heartbeat_hz, self._heartbeat)
        self.create_timer(0.5, self._tick)
        self.create_timer(0.5, self._publish_fleet)

    def now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def watch(self, vehicle_id: str) -> None:
        """Start talking to a (newly registered) vehicle."""
        if vehicle_id in self.route_pubs:
            return
        self.route_pubs[vehicle_id] = self.create_publisher(
            Path, f"/vehicles/{vehicle_id}/route", qos.COMMAND
        )
        self.create_subscription(
            Odometry, f"/vehicles/{vehicle_id}/state", self._on_state, qos.STATE
        )

    def publish_route(self, cmd: RouteCommand) -> None:
        self.watch(cmd.vehicle_id)
        self.route_pubs[cmd.vehicle_id].publish(
            route_to_path(cmd.corridor, cmd.issued_at, list(cmd.waypoints))
        )

    def _on_state(self, msg: Odometry) -> None:
        p = msg.pose.pose
        report = VehicleReport(
            vehicle_id=msg.child_frame_id,
            stamp=from_time(msg.header.stamp),
            x=p.position.x,
            y=p.position.y,
            heading_rad=quat_to_yaw(p.orientation.z, p.orientation.w),
            speed_mps=msg.twist.twist.linear.x,
        )
        self.orch.report(report, self.now())

    def _heartbeat(self) -> None:
        h = Header()
        h.frame_id = "orchestrator"
        h.stamp = to_time(self.now())
        self.hb_pub.publish(h)

    def _publish_fleet(self) -> None:
        self.fleet_pub.publish(
            fleet_markers(self.orch.vehicles(), self.now(), self.orch.active_routes())
        )

    def _tick(self) -> None:
        self.orch.tick(self.now())
