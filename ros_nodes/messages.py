"""Conversions between smartgate's core types and ROS 2 messages.

The vehicle link uses ``smartgate_interfaces`` (RouteCommand, VehicleCommand,
CommandAck, VehicleState; see docs/ros-interfaces.md); a route's poses are
``geometry_msgs/PoseStamped`` whose ``header.stamp`` is the planned passing
time. The simulator side keeps standard messages (``nav_msgs/Odometry``,
``geometry_msgs/Twist``: the Gazebo conventions).
"""

from __future__ import annotations

import math

from builtin_interfaces.msg import Time
from geometry_msgs.msg import PoseStamped
from nav_msgs.msg import Odometry, Path
from smartgate_interfaces.msg import CommandAck as AckMsg
from smartgate_interfaces.msg import RouteCommand as RouteMsg
from smartgate_interfaces.msg import VehicleCommand as VehicleCommandMsg
from smartgate_interfaces.msg import VehicleState

from fleet.core import AckStatus, CommandAck, ModeCommand, ModeKind, RouteCommand
from fleet.vehicles import VehicleMode, VehicleReport

MODES = {
    VehicleState.MODE_IDLE: VehicleMode.IDLE,
    VehicleState.MODE_DRIVING: VehicleMode.DRIVING,
    VehicleState.MODE_HOLDING: VehicleMode.HOLDING,
    VehicleState.MODE_PAUSED: VehicleMode.PAUSED,
    VehicleState.MODE_ESTOPPED: VehicleMode.ESTOPPED,
    VehicleState.MODE_SAFE_STOP: VehicleMode.SAFE_STOP,
}
MODE_CODES = {mode: code for code, mode in MODES.items()}
ACK_STATUSES = {
    AckMsg.ACCEPTED: AckStatus.ACCEPTED,
    AckMsg.DUPLICATE: AckStatus.DUPLICATE,
    AckMsg.OUT_OF_ORDER: AckStatus.OUT_OF_ORDER,
    AckMsg.REJECTED: AckStatus.REJECTED,
}
MODE_COMMANDS = {
    ModeKind.PAUSE: VehicleCommandMsg.PAUSE,
    ModeKind.RESUME: VehicleCommandMsg.RESUME,
    ModeKind.ESTOP: VehicleCommandMsg.EMERGENCY_STOP,
}


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


def path_to_waypoints(msg: Path | RouteMsg) -> list[tuple[float, float, float]]:
    return [(p.pose.position.x, p.pose.position.y, from_time(p.header.stamp)) for p in msg.poses]


_PATHS: dict[int, tuple[tuple[tuple[float, float, float], ...], Path]] = {}
_PATHS_KEPT = 512


def _path_of(cmd: RouteCommand) -> Path:
    """The command's path as a message, built once per path: every reservation extension
    re-sends the whole path (thousands of poses on a 4 km route) and the core hands out
    the same waypoints tuple for one path revision."""
    hit = _PATHS.get(id(cmd.waypoints))
    if hit is not None and hit[0] is cmd.waypoints:
        return hit[1]
    path = route_to_path(cmd.corridor, cmd.issued_at, list(cmd.waypoints))
    if len(_PATHS) >= _PATHS_KEPT:
        _PATHS.pop(next(iter(_PATHS)))
    _PATHS[id(cmd.waypoints)] = (cmd.waypoints, path)
    return path


def route_command_msg(cmd: RouteCommand) -> RouteMsg:
    path = _path_of(cmd)
    msg = RouteMsg()
    msg.header = path.header
    msg.seq = cmd.seq
    msg.vehicle_id, msg.mission_id, msg.goal = cmd.vehicle_id, cmd.mission_id, cmd.goal
    msg.poses = path.poses
    msg.lane_ids = [lane for lane, _ in cmd.lanes]
    msg.lane_starts_m = [float(start) for _, start in cmd.lanes]
    msg.reservation_end_m = min(cmd.reservation_end_m, 1e12)
    msg.handoff_accepted = cmd.handoff_accepted
    return msg


def mode_command_msg(cmd: ModeCommand) -> VehicleCommandMsg:
    msg = VehicleCommandMsg()
    msg.header.stamp = to_time(cmd.issued_at)
    msg.seq, msg.vehicle_id = cmd.seq, cmd.vehicle_id
    msg.command, msg.reason = MODE_COMMANDS[cmd.kind], cmd.reason
    return msg


def ack_from_msg(msg: AckMsg) -> CommandAck:
    status = ACK_STATUSES.get(msg.status, AckStatus.REJECTED)
    return CommandAck(msg.vehicle_id, msg.seq, status, from_time(msg.header.stamp), msg.detail)


def report_from_state(msg: VehicleState) -> VehicleReport:
    p = msg.pose
    return VehicleReport(
        vehicle_id=msg.vehicle_id,
        stamp=from_time(msg.header.stamp),
        x=p.position.x,
        y=p.position.y,
        heading_rad=quat_to_yaw(p.orientation.z, p.orientation.w),
        speed_mps=msg.speed_mps,
        # NaN is how a vehicle without a gauge says "unknown"; other numbers are checked
        # by the core, which refuses a report with any that is not finite.
        battery_soc=float(msg.battery_soc) if math.isfinite(msg.battery_soc) else None,
        mode=MODES.get(msg.mode),
        lane_id=msg.lane_id,
        progress_m=msg.progress_m,
        faults=tuple(msg.faults),
    )


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
