"""The orchestrator's executor choice: events on wall-clock time, single on sim time."""

from __future__ import annotations

import threading

import pytest
import rclpy
from rclpy.node import Node
from std_msgs.msg import Header

from ros_nodes.executors import events_available, executor_kind
from smartgate.cli.processes import spin_until

pytestmark = pytest.mark.ros


def test_auto_picks_events_only_on_wall_clock_time() -> None:
    assert executor_kind("auto", sim_time=True) == "single"
    assert executor_kind("auto", sim_time=False) == ("events" if events_available() else "single")
    assert executor_kind("single", sim_time=False) == "single"
    with pytest.raises(ValueError, match="executor must be one of"):
        executor_kind("turbo", sim_time=False)


@pytest.mark.parametrize("kind", ["events", "single"])
def test_spin_until_delivers_messages_and_stops(kind: str) -> None:
    if kind == "events" and not events_available():
        pytest.fail("the pinned rclpy (Jazzy) must have the EventsExecutor")
    rclpy.init()
    try:
        node = Node(f"exec_probe_{kind}")
        got: list[int] = []
        stop = threading.Event()
        node.create_subscription(Header, "probe", lambda m: got.append(m.stamp.sec), 10)
        pub = node.create_publisher(Header, "probe", 10)
        sent = [0]

        def idle() -> None:  # publish from the spinning thread, stop once some arrived
            sent[0] += 1
            msg = Header()
            msg.stamp.sec = sent[0]
            pub.publish(msg)
            if len(got) >= 5 or sent[0] > 2000:
                stop.set()

        spin_until([node], stop, idle, executor=kind, sim_time=False)
        assert len(got) >= 5
        assert got == sorted(got)
    finally:
        rclpy.try_shutdown()
