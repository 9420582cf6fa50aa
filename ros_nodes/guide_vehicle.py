"""guide_vehicle: the ROS 2 node on each smart guide vehicle.

Namespace ``/vehicles/<id>``. Takes route commands (``route``,
smartgate_interfaces/RouteCommand) and pause/resume/e-stop (``command``,
VehicleCommand), answers every command on ``ack`` (CommandAck), publishes its
state (``state``, VehicleState) at a steady rate, and drives the vehicle by
publishing ``/model/<id>/cmd_vel`` from ``/model/<id>/odometry`` (the Gazebo
convention, so the same node drives a gz-sim vehicle through ros_gz_bridge or
a real vehicle's controller).

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

import rclpy
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry
from rclpy.node import Node
from smartgate_interfaces.msg import CommandAck, RouteCommand, VehicleCommand, VehicleState
from std_msgs.msg import Header

from ros_nodes import qos
from ros_nodes.messages import map_frame, path_to_waypoints, quat_to_yaw, to_time, yaw_to_quat
from ros_nodes.path_follower import COMFORT_DECEL_MPS2, PathFollower

ZERO_LINE_MARGIN_M = 1.0  # the front stops this far before the zero line without a handoff
RESERVATION_MARGIN_M = 1.0  # and aims to stop this far before the end of its reservation
BATTERY_KWH = 60.0
CONSUMPTION_KWH_PER_KM = 1.8
AUX_KW = 2.0  # controller, sensors, reefer unit standby
BATTERY_LOW = 0.2


@functools.lru_cache(maxsize=8)
def corridor_zero_line(corridor: str) -> tuple[tuple[float, float], ...]:
    """The zero line (map frame) from the corridor map shipped with smartgate."""
    from maps.corridor_map import read_map
    from smartgate.world import MAPS_DIR

    return tuple(
        (float(x), float(y)) for x, y in read_map(MAPS_DIR / f"{corridor}.geojson").zero_line.coords
    )


class GuideVehicleNode(Node):
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
        self.max_speed = float(self.declare_parameter("max_speed_mps", max_speed_mps).value)
        self.hb_timeout = float(
            self.declare_parameter("heartbeat_timeout_s", heartbeat_timeout_s).value
        )
        self.odom_timeout = float(self.declare_parameter("odom_timeout_s", odom_timeout_s).value)
        self.zero_line = list(zero_line if zero_line is not None else corridor_zero_line(corridor))
        # The route being driven.
        self.follower: PathFollower | None = None
        self.mission_id = ""
        self.lanes: list[tuple[str, float]] = []
        self.reservation_end_m = 0.0
        # Sequence numbers: the last command taken per topic, and over both.
        self.route_seq = 0
        self.mode_seq = 0
        # Inputs and modes.
        self.odom: Odometry | None = None
        self.odom_at: float | None = None
        self.heartbeat_at: float | None = None
        self.paused = False
        self.estopped = False
        self.safe_stop = False  # latched on heartbeat loss while on a route
        self.faults: list[str] = []
        self.mode = VehicleState.MODE_IDLE
        self.cmd_speed = 0.0
        self.battery_soc = battery_soc
        self.cmd_pub = self.create_publisher(Twist, f"/model/{vehicle_id}/cmd_vel", qos.CONTROL)
        self.state_pub = self.create_publisher(VehicleState, "state", qos.STATE)
        self.ack_pub = self.create_publisher(CommandAck, "ack", qos.ACK)
        self.create_subscription(RouteCommand, "route", self._on_route, qos.COMMAND)
        self.create_subscription(VehicleCommand, "command", self._on_command, qos.COMMAND)
        self.create_subscription(
            Odometry, f"/model/{vehicle_id}/odometry", self._on_odom, qos.STATE
        )
        self.create_subscription(Header, "/fleet/heartbeat", self._on_heartbeat, qos.CONTROL)
        self.control_period = 1.0 / control_rate_hz
        self.state_period = 1.0 / state_rate_hz
        self.create_timer(self.control_period, self._control)
        self.create_timer(self.state_period, self._publish_state)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    # -- commands -----------------------------------------------------------
    def _ack(self, seq: int, kind: int, status: int, detail: str) -> None:
        ack = CommandAck(vehicle_id=self.vehicle_id, seq=seq, kind=kind, status=status)
        ack.header.stamp = to_time(self._now())
        ack.detail = detail
        self.ack_pub.publish(ack)

    def _check_seq(self, seq: int, last: int, kind: int, vehicle_id: str) -> bool:
        """Ack and refuse what is not newer than ``last`` or not for us; True to go on."""
        if vehicle_id and vehicle_id != self.vehicle_id:
            self._ack(seq, kind, CommandAck.REJECTED, f"addressed to {vehicle_id!r}")
        elif seq == last:
            self._ack(seq, kind, CommandAck.DUPLICATE, "already taken")
        elif seq < last:
            self._ack(seq, kind, CommandAck.OUT_OF_ORDER, f"seq {last} already taken")
        else:
            return True
        return False

    def _on_route(self, msg: RouteCommand) -> None:
        if not self._check_seq(msg.seq, self.route_seq, 0, msg.vehicle_id):
            return
        if msg.header.frame_id != map_frame(self.corridor):
            self._ack(msg.seq, 0, CommandAck.REJECTED, f"frame {msg.header.frame_id!r}")
            return
        extension = (
            self.follower is not None
            and msg.mission_id == self.mission_id
            and len(msg.poses) == len(self.follower.pts)
        )
        if not extension:
            try:
                self.follower = PathFollower(path_to_waypoints(msg), self.max_speed)
            except ValueError as e:
                self._ack(msg.seq, 0, CommandAck.REJECTED, str(e))
                return
            self.mission_id = msg.mission_id
            self.lanes = list(zip(msg.lane_ids, msg.lane_starts_m, strict=False))
        assert self.follower is not None
        limit = min(float(msg.reservation_end_m), self.follower.length)
        zero_m = self.follower.crossing_m(self.zero_line)
        if zero_m is not None and not msg.handoff_accepted:
            limit = min(limit, zero_m - ZERO_LINE_MARGIN_M)
        self.reservation_end_m = max(0.0, limit)
        # Aim a little short: the stop must hold under control and link latency.
        self.follower.set_limit(limit - RESERVATION_MARGIN_M)
        self.route_seq = msg.seq
        self.safe_stop = False  # a new command from a live orchestrator
        self._ack(
            msg.seq,
            0,
            CommandAck.ACCEPTED,
            f"{'extension' if extension else 'route'} to {self.reservation_end_m:.1f} m",
        )

    def _on_command(self, msg: VehicleCommand) -> None:
        if not self._check_seq(msg.seq, self.mode_seq, msg.command, msg.vehicle_id):
            return
        if msg.command == VehicleCommand.EMERGENCY_STOP:
            self.estopped = True
            self._send(0.0, 0.0)  # hard brake now, not at the next control tick
        elif msg.command == VehicleCommand.PAUSE:
            self.paused = True
        elif msg.command == VehicleCommand.RESUME:
            self.paused = self.estopped = self.safe_stop = False
        else:
            self._ack(msg.seq, msg.command, CommandAck.REJECTED, f"unknown {msg.command}")
            return
        self.mode_seq = msg.seq
        self._ack(msg.seq, msg.command, CommandAck.ACCEPTED, msg.reason)
        if msg.command == VehicleCommand.EMERGENCY_STOP:
            self.mode = VehicleState.MODE_ESTOPPED
            self._publish_state()

    # -- inputs -------------------------------------------------------------
    def _on_odom(self, msg: Odometry) -> None:
        self.odom, self.odom_at = msg, self._now()

    def _on_heartbeat(self, msg: Header) -> None:
        self.heartbeat_at = self._now()

    # -- control ------------------------------------------------------------
    def _send(self, speed: float, yaw_rate: float) -> None:
        self.cmd_speed = speed
        t = Twist()
        t.linear.x, t.angular.z = speed, yaw_rate
        self.cmd_pub.publish(t)

    def _control(self) -> None:
        now, dt = self._now(), self.control_period
        if self.odom is None:
            return
        p = self.odom.pose.pose
        x, y = p.position.x, p.position.y
        yaw = quat_to_yaw(p.orientation.z, p.orientation.w)
        v = self.odom.twist.twist.linear.x
        self._drain_battery(v, dt)
        hb_lost = self.heartbeat_at is None or now - self.heartbeat_at > self.hb_timeout
        odom_lost = self.odom_at is None or now - self.odom_at > self.odom_timeout
        f = self.follower
        driving = f is not None and f.limit_m - f.progress_m > 0.5
        if hb_lost and driving and self.heartbeat_at is not None and not self.safe_stop:
            self.safe_stop = True
            self.get_logger().warning("orchestrator heartbeat lost: controlled stop, waiting")
        self.faults = [
            name
            for name, on in (
                ("heartbeat_lost", hb_lost and self.heartbeat_at is not None),
                ("no_heartbeat", self.heartbeat_at is None),
                ("odometry_lost", odom_lost),
                ("battery_low", self.battery_soc < BATTERY_LOW),
            )
            if on
        ]
        if self.safe_stop and "heartbeat_lost" not in self.faults and not hb_lost:
            self.faults.append("heartbeat_lost")  # still waiting for the orchestrator
        steer = f.command(x, y, yaw, v) if f is not None else None
        yaw_rate = steer.yaw_rate if steer is not None else 0.0
        if self.estopped:
            self.mode = VehicleState.MODE_ESTOPPED
            self._send(0.0, 0.0)
            return
        stop = self.paused or self.safe_stop or hb_lost or odom_lost
        if self.paused:
            self.mode = VehicleState.MODE_PAUSED
        elif stop and f is not None:
            self.mode = VehicleState.MODE_SAFE_STOP
        if stop:
            # Controlled stop: ramp the command down at the comfort deceleration.
            speed = max(0.0, min(self.cmd_speed, v) - COMFORT_DECEL_MPS2 * dt)
            if f is None and not self.paused:
                self.mode = VehicleState.MODE_IDLE
            self._send(speed, yaw_rate if speed > 0.0 else 0.0)
            return
        if steer is None or f is None:
            self.mode = VehicleState.MODE_IDLE
            self._send(0.0, 0.0)
            return
        if steer.done:
            at_end = f.limit_m >= f.length - 0.5
            self.mode = VehicleState.MODE_IDLE if at_end else VehicleState.MODE_HOLDING
        else:
            self.mode = VehicleState.MODE_DRIVING
        self._send(steer.speed_mps, steer.yaw_rate)

    def _drain_battery(self, v: float, dt: float) -> None:
        kwh = abs(v) * dt / 1000.0 * CONSUMPTION_KWH_PER_KM + AUX_KW * dt / 3600.0
        self.battery_soc = max(0.0, self.battery_soc - kwh / BATTERY_KWH)

    def _lane_at(self, s: float) -> str:
        lane = ""
        for lane_id, start in self.lanes:
            if start <= s + 1e-6:
                lane = lane_id
        return lane

    def _publish_state(self) -> None:
        if self.odom is None:
            return
        p = self.odom.pose.pose
        f = self.follower
        msg = VehicleState()
        msg.header.frame_id = map_frame(self.corridor)
        msg.header.stamp = to_time(self._now())
        msg.vehicle_id = self.vehicle_id
        msg.pose.position.x, msg.pose.position.y = p.position.x, p.position.y
        yaw = quat_to_yaw(p.orientation.z, p.orientation.w)
        _, _, msg.pose.orientation.z, msg.pose.orientation.w = yaw_to_quat(yaw)
        msg.speed_mps = self.odom.twist.twist.linear.x
        msg.yaw_rate = self.odom.twist.twist.angular.z
        msg.battery_soc = self.battery_soc
        msg.mode = self.mode
        msg.mission_id = self.mission_id
        msg.route_seq = self.route_seq
        msg.last_seq = max(self.route_seq, self.mode_seq)
        if f is not None:
            msg.progress_m, msg.route_length_m = f.progress_m, f.length
            msg.reservation_end_m = self.reservation_end_m
            msg.lane_id = self._lane_at(f.progress_m)
        msg.faults = list(self.faults)
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
