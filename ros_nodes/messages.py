"""Conversions between smartgate's core types and standard ROS 2 messages.

smartgate speaks standard interfaces so RViz/Foxglove show everything as is:
a route is a ``nav_msgs/Path`` whose poses carry their planned times in
``header.stamp`` and whose own stamp is the command's issue time (monotonic
per orchestrator, so it doubles as the command sequence); vehicle state is a
``nav_msgs/Odometry`` with the vehicle id as ``child_frame_id``.
"""

from __future__ import annotations

import math

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path


def to_time(t: float) -> Time:
    sec = math.floor(t)
    return Time(sec=int(sec), nanosec=round((t - sec) * 1e9) % 1_000_000_000)


def from_time(t: Time) -> float:
    return float(t.sec) + float(t.nanosec) * 1e-9


def yaw_to_quat(yaw: float) -> tuple[float, float, float, float]:
    return 0.0, 0.0, math.sin(yaw / 2.0), math.cos(yaw / 2.0)


def quat_to_yaw(z: float, w: float) -> float:
    return 2.0 * math.atan2(z, w)


def map_frame(corridor: str) -> str:
    return f"{corridor}/map"


def route_to_path(
    corridor: str, issued_at: float, waypoints: list[tuple[float, float, float]]
) -> Path:
    msg = Path()
    msg.header.frame_id = map_frame(corridor)
    msg.header.stamp = to_time(issued_at)
    for i, (x, y, t) in enumerate(waypoints):
        ps = PoseStamped()
        ps.header.frame_id = msg.header.frame_id
        ps.header.stamp = to_time(t)
        ps.pose.position.x, ps.pose.position.y = x, y
        nxt = waypoints[min(i + 1, len(waypoints) - 1)]
        prv = waypoints[max(i - 1, 0)]
        yaw = math.atan2(nxt[1] - prv[1], nxt[0] - prv[0])
        _, _, ps.pose.orientation.z, ps.pose.orientation.w = yaw_to_quat(yaw)
        msg.poses.append(ps)
    return msg


def path_to_waypoints(msg: Path) -> list[tuple[float, float, float]]:
    return [(p.pose.position.x, p.pose.position.y, from_time(p.header.stamp)) for p in msg.poses]


def make_odometry(
    frame: str, child: str, stamp: float, x: float, y: float, yaw: float, v: float
) -> Odometry:
    msg = Odometry()
    msg.header.frame_id = frame
    msg.header.stamp = to_time(stamp)
    msg.child_frame_id = child
    msg.pose.pose.position.x, msg.pose.pose.position.y = x, y
    _, _, msg.pose.pose.orientation.z, msg.pose.pose.orientation.w = yaw_to_quat(yaw)
    msg.twist.twist.linear.x = v
    return msg
