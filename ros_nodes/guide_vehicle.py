"""guide_vehicle: the ROS 2 node on each smart guide vehicle.

Namespace ``/vehicles/<id>``. Takes route commands (``route``,
smartgate_interfaces/RouteCommand) and pause/resume/e-stop (``command``,
VehicleCommand), answers every command on ``ack`` (CommandAck), publishes its
state (``state``, VehicleState) at a steady rate, and drives the vehicle by
publishing ``/model/<id>/cmd_vel`` from ``/model/<id>/odometry`` (the Gazebo
convention, so the same node drives a gz-sim vehicle through ros_gz_bridge or
a real vehicle's controller).

The decisions are made by :class:`vehicle.brain.VehicleBrain` (no ROS in
it), which the in-process simulator runs too: this node only converts messages.

Safety, on the vehicle:
- it drives only within the reservation its route command gives and stops at
  its end unless an extension (a newer command, same mission) came;
- its front never crosses the zero line unless the command says the handoff
  was accepted (the zero line comes from its corridor map, not the command);
- commands are taken only if their sequence number is above the last one
  taken on that topic; duplicates and stale ones are acknowledged and ignored;
- e-stop: hard brake at once (in the callback, not at the next control tick);
  pause, heartbeat loss, odometry loss: controlled stop at the comfort
  deceleration. After a heartbeat loss it reports SAFE_STOP and waits for the
  orchestrator to send RESUME or a new route.
"""

from __future__ import annotations

import functools
import math

import rclpy
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from smartgate_interfaces.msg import CommandAck, RouteCommand, VehicleCommand, VehicleState
from std_msgs.msg import Header

from fleet.core import AckStatus, ModeKind
from ros_nodes import qos
from ros_nodes.contain import Contained
from ros_nodes.messages import (
    MODE_CODES,
    map_frame,
    path_to_waypoints,
    quat_to_yaw,
    to_time,
    yaw_to_quat,
)
from vehicle.brain import (
    BATTERY_LOW,
    RESERVATION_MARGIN_M,
    ZERO_LINE_MARGIN_M,
    Ack,
    VehicleBrain,
)
from vehicle.path_follower import PathFollower

__all__ = ["BATTERY_LOW", "RESERVATION_MARGIN_M", "ZERO_LINE_MARGIN_M", "GuideVehicleNode"]

ACK_CODES = {
    AckStatus.ACCEPTED: CommandAck.ACCEPTED,
    AckStatus.DUPLICATE: CommandAck.DUPLICATE,
    AckStatus.OUT_OF_ORDER: CommandAck.OUT_OF_ORDER,
    AckStatus.REJECTED: CommandAck.REJECTED,
}
MODE_KINDS = {
    VehicleCommand.PAUSE: ModeKind.PAUSE,
    VehicleCommand.RESUME: ModeKind.RESUME,
    VehicleCommand.EMERGENCY_STOP: ModeKind.ESTOP,
}


@functools.lru_cache(maxsize=8)
def corridor_zero_line(corridor: str) -> tuple[tuple[float, float], ...]:
    """The zero line (map frame) from the corridor map shipped with smartgate."""
    from maps.corridor_map import read_map
    from maps.corridors import MAPS_DIR

    return tuple(
        (float(x), float(y)) for x, y in read_map(MAPS_DIR / f"{corridor}.geojson").zero_line.coords
    )


class GuideVehicleNode(Node):
    """ROS adapter around :class:`VehicleBrain`: messages in, cmd_vel/state/acks out."""

    def __init__(
        self,
        vehicle_id: str,
        corridor: str,
        *,
        use_sim_time: bool | None = True,
        max_speed_mps: float = 25.0 / 3.6,
        heartbeat_timeout_s: float = 2.0,
        odom_timeout_s: float = 0.5,
        state_rate_hz: float = 10.0,
        control_rate_hz: float = 20.0,
        battery_soc: float = 1.0,
        zero_line: tuple[tuple[float, float], ...] | None = None,
    ) -> None:
        overrides = (
            []
            if use_sim_time is None
            else [rclpy.parameter.Parameter("use_sim_time", value=use_sim_time)]
        )  # None: take use_sim_time from the command line / launch file
        super().__init__(
            "guide_vehicle", namespace=f"/vehicles/{vehicle_id}", parameter_overrides=overrides
        )
        self.vehicle_id, self.corridor = vehicle_id, corridor
        self.brain = VehicleBrain(
            vehicle_id,
            zero_line if zero_line is not None else corridor_zero_line(corridor),
            max_speed_mps=float(self.declare_parameter("max_speed_mps", max_speed_mps).value),
            heartbeat_timeout_s=float(
                self.declare_parameter("heartbeat_timeout_s", heartbeat_timeout_s).value
            ),
            odom_timeout_s=float(self.declare_parameter("odom_timeout_s", odom_timeout_s).value),
            battery_soc=battery_soc,
        )
        self.odom: Odometry | None = None
        self.cmd_pub = self.create_publisher(Twist, f"/model/{vehicle_id}/cmd_vel", qos.CONTROL)
        self.state_pub = self.create_publisher(VehicleState, "state", qos.STATE)
        self.ack_pub = self.create_publisher(CommandAck, "ack", qos.ACK)
        # Every callback is contained: the process and its other callbacks go on. A
        # command or control step that failed stops the vehicle, with the fault
        # "internal_error" in its state, until the orchestrator sends RESUME.
        self.contained = Contained(self.get_logger())
        wrap = self.contained.wrap
        route_cb = wrap("route", self._on_route, self._stop_after)
        mode_cb = wrap("command", self._on_command, self._stop_after)
        self.create_subscription(RouteCommand, "route", route_cb, qos.COMMAND)
        self.create_subscription(VehicleCommand, "command", mode_cb, qos.COMMAND)
        self.create_subscription(
            Odometry, f"/model/{vehicle_id}/odometry", wrap("odometry", self._on_odom), qos.STATE
        )
        self.create_subscription(
            Header, "/fleet/heartbeat", wrap("heartbeat", self._on_heartbeat), qos.CONTROL
        )
        self.control_period = 1.0 / control_rate_hz
        self.state_period = 1.0 / state_rate_hz
        self.create_timer(self.control_period, wrap("control", self._control, self._stop_after))
        self.create_timer(self.state_period, wrap("state", self._publish_state))

    # The brain's state, under the names tests and tools used before it was extracted.
    @property
    def max_speed(self) -> float:
        return self.brain.max_speed

    @property
    def hb_timeout(self) -> float:
        return self.brain.hb_timeout

    @property
    def route_seq(self) -> int:
        return self.brain.route_seq

    @property
    def reservation_end_m(self) -> float:
        return self.brain.reservation_end_m

    @property
    def follower(self) -> PathFollower | None:
        return self.brain.follower

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # -- commands -----------------------------------------------------------
    def _ack(self, ack: Ack, kind: int) -> None:
        msg = CommandAck(
            vehicle_id=self.vehicle_id, seq=ack.seq, kind=kind, status=ACK_CODES[ack.status]
        )
        msg.header.stamp = to_time(self._now())
        msg.detail = ack.detail
        self.ack_pub.publish(msg)

    def _on_route(self, msg: RouteCommand) -> None:
        frame = map_frame(self.corridor)
        ack = self.brain.on_route(
            vehicle_id=msg.vehicle_id,
            seq=msg.seq,
            mission_id=msg.mission_id,
            waypoints=path_to_waypoints(msg),
            reservation_end_m=float(msg.reservation_end_m),
            handoff_accepted=bool(msg.handoff_accepted),
            lanes=list(zip(msg.lane_ids, msg.lane_starts_m, strict=False)),
            reject="" if msg.header.frame_id == frame else f"frame {msg.header.frame_id!r}",
        )
        self._ack(ack, 0)

    def _on_command(self, msg: VehicleCommand) -> None:
        ack = self.brain.on_mode(msg.seq, MODE_KINDS.get(msg.command), msg.vehicle_id, msg.reason)
        if ack.status is AckStatus.REJECTED and msg.command not in MODE_KINDS:
            ack = Ack(ack.seq, ack.status, f"unknown {msg.command}")
        if ack.status is AckStatus.ACCEPTED and msg.command == VehicleCommand.EMERGENCY_STOP:
            self._send(0.0, 0.0)  # hard brake now, not at the next control tick
        self._ack(ack, msg.command)
        if ack.status is AckStatus.ACCEPTED and msg.command == VehicleCommand.EMERGENCY_STOP:
            self._publish_state()

    def _stop_after(self, exc: BaseException) -> None:
        self.brain.internal_error = True
        self._send(0.0, 0.0)

    # -- inputs -------------------------------------------------------------
    def _on_odom(self, msg: Odometry) -> None:
        p, tw = msg.pose.pose, msg.twist.twist
        numbers = (p.position.x, p.position.y, p.orientation.z, p.orientation.w, tw.linear.x)
        if not all(math.isfinite(x) for x in numbers):
            return  # not a pose: as if none came (the odometry timeout stops the vehicle)
        self.odom = msg
        self.brain.odometry(self._now())

    def _on_heartbeat(self, msg: Header) -> None:
        self.brain.heartbeat(self._now())

    # -- control ------------------------------------------------------------
    def _send(self, speed: float, yaw_rate: float) -> None:
        t = Twist()
        t.linear.x, t.angular.z = speed, yaw_rate
        self.cmd_pub.publish(t)

    def _control(self) -> None:
        if self.odom is None:
            return
        p = self.odom.pose.pose
        was_safe = self.brain.safe_stop
        drive = self.brain.control(
            self._now(),
            p.position.x,
            p.position.y,
            quat_to_yaw(p.orientation.z, p.orientation.w),
            self.odom.twist.twist.linear.x,
            self.control_period,
        )
        if self.brain.safe_stop and not was_safe:
            self.get_logger().warning("orchestrator heartbeat lost: controlled stop, waiting")
        self._send(drive.speed_mps, drive.yaw_rate)

    def _publish_state(self) -> None:
        if self.odom is None:
            return
        p = self.odom.pose.pose
        b = self.brain
        f = b.follower
        msg = VehicleState()
        msg.header.frame_id = map_frame(self.corridor)
        msg.header.stamp = to_time(self._now())
        msg.vehicle_id = self.vehicle_id
        msg.pose.position.x, msg.pose.position.y = p.position.x, p.position.y
        yaw = quat_to_yaw(p.orientation.z, p.orientation.w)
        _, _, msg.pose.orientation.z, msg.pose.orientation.w = yaw_to_quat(yaw)
        msg.speed_mps = self.odom.twist.twist.linear.x
        msg.yaw_rate = self.odom.twist.twist.angular.z
        msg.battery_soc = b.battery_soc
        msg.mode = MODE_CODES[b.mode]
        msg.mission_id = b.mission_id
        msg.route_seq = b.route_seq
        msg.last_seq = max(b.route_seq, b.mode_seq)
        if f is not None:
            msg.progress_m, msg.route_length_m = f.progress_m, f.length
            msg.reservation_end_m = b.reservation_end_m
            msg.lane_id = b.lane_at(f.progress_m)
        msg.faults = list(b.faults)
        self.state_pub.publish(msg)


def main(args: list[str] | None = None) -> None:
    """Entry point for ``ros2 run smartgate guide_vehicle`` (parameters via --ros-args)."""
    import argparse
    import sys

    args = sys.argv if args is None else args
    rclpy.init(args=args)
    parser = argparse.ArgumentParser()
    parser.add_argument("--id", required=True)
    parser.add_argument("--corridor", required=True)
    parser.add_argument("--wall-time", action="store_true", help="do not use /clock")
    ns, _ = parser.parse_known_args(rclpy.utilities.remove_ros_args(args)[1:])
    node = GuideVehicleNode(ns.id, ns.corridor, use_sim_time=False if ns.wall_time else None)
    try:
        rclpy.spin(node)
    except (KeyboardInterrupt, rclpy.executors.ExternalShutdownException):
        pass
    finally:
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
