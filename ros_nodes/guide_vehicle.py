"""guide_vehicle: the ROS 2 node on each smart guide vehicle.

Subscribes its route (``/vehicles/<id>/route``, nav_msgs/Path), drives it by
publishing ``/model/<id>/cmd_vel`` from ``/model/<id>/odometry`` (the Gazebo
convention, so the same node drives a gz-sim vehicle through ros_gz_bridge or
a real vehicle's controller), and publishes its state
(``/vehicles/<id>/state``, nav_msgs/Odometry) at a steady rate.

Safety: the path it is given ends at the end of its reservation and it stops
there; it brakes to a controlled stop when the orchestrator's heartbeat or
its own odometry goes silent, and resumes only when both are back.
"""

from __future__ import annotations

import rclpy
from geometry_msgs.msg import Twist
from nav_msgs.msg import Odometry, Path
from rclpy.node import Node
from std_msgs.msg import Header

from ros_nodes import qos
from ros_nodes.messages import from_time, make_odometry, map_frame, path_to_waypoints, quat_to_yaw
from ros_nodes.path_follower import COMFORT_DECEL_MPS2, PathFollower


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
        self.declare_parameter("max_speed_mps", max_speed_mps)
        self.declare_parameter("heartbeat_timeout_s", heartbeat_timeout_s)
        self.declare_parameter("odom_timeout_s", odom_timeout_s)
        self.odom_timeout = float(self.get_parameter("odom_timeout_s").value)
        self.max_speed = float(self.get_parameter("max_speed_mps").value)
        self.hb_timeout = float(self.get_parameter("heartbeat_timeout_s").value)
        self.follower: PathFollower | None = None
        self.route_stamp: float | None = None
        self.odom: Odometry | None = None
        self.odom_at: float | None = None
        self.heartbeat_at: float | None = None
        self.cmd_speed = 0.0
        self.stop_reason = "no_route"
        self.cmd_pub = self.create_publisher(Twist, f"/model/{vehicle_id}/cmd_vel", qos.CONTROL)
        self.state_pub = self.create_publisher(Odometry, "state", qos.STATE)
        self.create_subscription(Path, "route", self._on_route, qos.COMMAND)
        self.create_subscription(
            Odometry, f"/model/{vehicle_id}/odometry", self._on_odom, qos.STATE
        )
        self.create_subscription(Header, "/fleet/heartbeat", self._on_heartbeat, qos.CONTROL)
        self.control_period = 1.0 / control_rate_hz
        self.create_timer(self.control_period, self._control)
        self.create_timer(1.0 / state_rate_hz, self._publish_state)

    def _now(self) -> float:
        return self.get_clock().now().nanoseconds * 1e-9

    def _on_route(self, msg: Path) -> None:
        stamp = from_time(msg.header.stamp)
        if self.route_stamp is not None and stamp <= self.route_stamp:
            self.get_logger().warning(f"ignored stale or duplicate route stamped {stamp:.3f}")
            return
        if msg.header.frame_id != map_frame(self.corridor):
            self.get_logger().error(
                f"route in frame {msg.header.frame_id!r}, expected "
                f"{map_frame(self.corridor)!r}: ignored"
            )
            return
        try:
            self.follower = PathFollower(path_to_waypoints(msg), self.max_speed)
        except ValueError as e:
            self.get_logger().error(f"rejected route: {e}")
            return
        self.route_stamp = stamp
        self.get_logger().info(
            f"route accepted: {len(msg.poses)} poses, {self.follower.length:.0f} m"
        )

    def _on_odom(self, msg: Odometry) -> None:
        self.odom, self.odom_at = msg, self._now()

    def _on_heartbeat(self, msg: Header) -> None:
        self.heartbeat_at = self._now()

    def _control(self) -> None:
        now, dt = self._now(), self.control_period
        if self.odom is None:
            return
        p = self.odom.pose.pose
        yaw = quat_to_yaw(p.orientation.z, p.orientation.w)
        v = self.odom.twist.twist.linear.x
        speed, yaw_rate = 0.0, 0.0
        reason = ""
        if self.follower is None:
            reason = "no_route"
        elif self.heartbeat_at is None or now - self.heartbeat_at > self.hb_timeout:
            reason = "heartbeat_lost"
        elif self.odom_at is None or now - self.odom_at > self.odom_timeout:
            reason = "odometry_lost"
        else:
            cmd = self.follower.command(p.position.x, p.position.y, yaw, v)
            speed, yaw_rate = cmd.speed_mps, cmd.yaw_rate
            reason = "arrived" if cmd.done else ""
        if reason and reason != "arrived" and v > 0.0:
            # Controlled stop: ramp the command down at the comfort deceleration.
            speed = max(0.0, min(self.cmd_speed, v) - COMFORT_DECEL_MPS2 * dt)
            if self.follower is not None:
                yaw_rate = self.follower.command(p.position.x, p.position.y, yaw, v).yaw_rate
        if reason != self.stop_reason and reason not in ("", "arrived"):
            self.get_logger().warning(f"stopping: {reason}", throttle_duration_sec=5.0)
        self.stop_reason = reason
        self.cmd_speed = speed
        t = Twist()
        t.linear.x, t.angular.z = speed, yaw_rate
        self.cmd_pub.publish(t)

    def _publish_state(self) -> None:
        if self.odom is None:
            return
        p = self.odom.pose.pose
        yaw = quat_to_yaw(p.orientation.z, p.orientation.w)
        self.state_pub.publish(
            make_odometry(
                map_frame(self.corridor),
                self.vehicle_id,
                self._now(),
                p.position.x,
                p.position.y,
                yaw,
                self.odom.twist.twist.linear.x,
            )
        )


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
