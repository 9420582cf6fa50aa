"""Which rclpy executor spins the orchestrator's nodes.

rclpy's C++ ``EventsExecutor`` (``rclpy.experimental``, Jazzy and later) keeps
command->ack latency and state throughput within the fleet's targets (see
``smartgate bench ros``), where the pure-Python ``SingleThreadedExecutor`` falls
behind with a few hundred vehicles. Its timers do not follow a simulated
``/clock`` yet (ros2/rclcpp#2457), so on sim time, and on Humble where it does
not exist, the single-threaded executor is used.
"""

from __future__ import annotations

from typing import Any

from rclpy.executors import SingleThreadedExecutor

KINDS = ("auto", "events", "single")


def events_available() -> bool:
    try:
        from rclpy.experimental import EventsExecutor  # noqa: F401
    except ImportError:
        return False
    return True


def executor_kind(kind: str, sim_time: bool) -> str:
    """Resolve ``auto``: events on wall-clock time where rclpy has it, else single."""
    if kind not in KINDS:
        raise ValueError(f"executor must be one of {', '.join(KINDS)}, not {kind!r}")
    if kind == "events" and not events_available():
        raise ValueError("this rclpy has no EventsExecutor (it needs ROS 2 Jazzy or later)")
    if kind == "auto":
        return "events" if events_available() and not sim_time else "single"
    return kind


def make_executor(kind: str = "auto", sim_time: bool = True) -> Any:
    if executor_kind(kind, sim_time) == "events":
        from rclpy.experimental import EventsExecutor

        return EventsExecutor()
    return SingleThreadedExecutor()
