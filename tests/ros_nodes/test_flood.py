"""An outside client on the ROS domain floods one vehicle's state topic with late,
duplicated, future, malformed and foreign messages while it drives: the orchestrator
keeps running (no callback raises), counts what it refuses, and the vehicle's own
reports keep it online and moving to its goal."""

from __future__ import annotations

import copy
import math
import random
import time
from collections.abc import Iterator

import networkx as nx
import pytest
import rclpy
from rclpy.node import Node
from smartgate_interfaces.msg import VehicleState

from fleet.vehicles import MissionStatus, VehicleReport, VehicleStatus
from maps.corridor_map import CorridorMap
from ros_nodes import qos
from ros_nodes.messages import from_time, to_time
from tests.ros_nodes.worldkit import World

pytestmark = pytest.mark.ros
RTF = 3.0


class Flooder(Node):
    """Republishes hn_01's own state on its topic, spoiled in every ordinary way."""

    KINDS = ("late", "duplicate", "future", "nan", "empty_id", "other_vehicle")

    def __init__(self) -> None:
        super().__init__("flooder")
        self.pub = self.create_publisher(VehicleState, "/vehicles/hn_01/state", qos.STATE)
        self.create_subscription(VehicleState, "/vehicles/hn_01/state", self._seen, qos.STATE)
        self.latest: VehicleState | None = None
        self.sent = dict.fromkeys(self.KINDS, 0)
        self.rng = random.Random(7)
        self.next_at = 0.0
        self.mine: set[tuple[int, int, float]] = set()
        self.shifted: set[float] = set()  # stamps of the copies from the future (moved 50 m)

    def _seen(self, msg: VehicleState) -> None:
        key = (msg.header.stamp.sec, msg.header.stamp.nanosec, msg.pose.position.x)
        if key in self.mine:
            return  # our own spoiled copy, not the vehicle's
        if msg.vehicle_id == "hn_01" and math.isfinite(msg.pose.position.x):
            t = from_time(msg.header.stamp)
            if self.latest is None or t > from_time(self.latest.header.stamp):
                self.latest = msg

    def burst(self) -> None:
        now = time.monotonic()
        if self.latest is None or now < self.next_at:
            return
        self.next_at = now + 0.02  # 6 spoiled messages every 20 ms: 300 a second
        # In a shuffled order: the subscriber keeps the last 5 (KEEP_LAST), so a fixed
        # order would always lose the same kind.
        for kind in self.rng.sample(self.KINDS, len(self.KINDS)):
            m = copy.deepcopy(self.latest)
            t = from_time(m.header.stamp)
            if kind == "late":
                # Genuine content, arriving late: its stamp is older than the latest the
                # vehicle sent, though maybe newer than what the orchestrator has taken.
                m.header.stamp = to_time(max(0.0, t - self.rng.uniform(0.05, 2.0)))
            elif kind == "future":
                m.header.stamp = to_time(t + 3600.0)
                m.pose.position.x += 50.0
            elif kind == "nan":
                m.header.stamp = to_time(t + 0.01)
                m.pose.position.x = math.nan
            elif kind == "empty_id":
                m.vehicle_id = ""
            elif kind == "other_vehicle":
                m.vehicle_id = "hn_02"
            self.mine.add((m.header.stamp.sec, m.header.stamp.nanosec, m.pose.position.x))
            if kind == "future":
                self.shifted.add(from_time(m.header.stamp))
            self.pub.publish(m)
            self.sent[kind] += 1


@pytest.fixture
def world(maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> Iterator[World]:
    rclpy.init()
    w = World(maps, graphs, rtf=RTF, stale_after_s=2.0 * RTF)
    try:
        yield w
    finally:
        w.close()
        rclpy.shutdown()


def test_a_flood_of_spoiled_states_does_not_stop_the_orchestrator(world: World) -> None:
    world.add("hn_01", "huu-nghi", "vn-spot-L1")
    world.add("hn_02", "huu-nghi", "vn-spot-C1")
    bridge = world.start_bridge()
    flooder = Flooder()
    world.ex.add_node(flooder)
    orch = world.orch
    hn_01, hn_02 = orch.core.vehicles["hn_01"], orch.core.vehicles["hn_02"]
    assert world.spin_until(lambda: hn_01.last_report is not None, 20), "no state over DDS"
    assert world.spin_until(lambda: hn_02.last_report is not None, 20)
    cmd = orch.send_to("hn_01", "SL-E-zero", bridge.now())
    xs: list[float] = []
    applied: list[float] = []  # stamps of the reports the orchestrator took for hn_01
    report = orch.report

    def recording(r: VehicleReport, now: float, topic: str | None = None) -> str | None:
        why = report(r, now, topic)
        if why is None and r.vehicle_id == "hn_01":
            applied.append(r.stamp)
        return why

    orch.report = recording  # type: ignore[method-assign]  # what the bridge calls

    def flood_until_arrived() -> bool:
        flooder.burst()  # a spin_once that raised would fail the test right here
        xs.append(hn_01.x)
        m = hn_01.mission
        return m is not None and m.id == cmd.mission_id and m.status is MissionStatus.COMPLETED

    arrived = world.spin_until(flood_until_arrived, 240)
    assert arrived, (hn_01.mission, orch.routes(), orch.report_stats(), flooder.sent)
    stats = orch.report_stats()
    refused = stats["reports_refused"]
    assert sum(flooder.sent.values()) > 600
    # Every kind reached the orchestrator and was refused for what it is (best-effort
    # QoS may drop some: never more counted than sent).
    assert refused["stale"] + refused["duplicate"] > 0
    assert 0 < refused["future"] <= flooder.sent["future"]
    assert 0 < refused["malformed"] <= flooder.sent["nan"]
    assert 0 < refused["wrong_vehicle"] <= flooder.sent["empty_id"] + flooder.sent["other_vehicle"]
    assert stats["reports_applied"] > 0 and stats["faults"] == 0 and not stats["isolated"]
    assert all(math.isfinite(x) for x in xs)
    assert applied and not flooder.shifted & set(applied)  # no spoiled copy was taken
    assert hn_01.status is not VehicleStatus.OFFLINE
    assert hn_02.mission is None  # nothing on hn_01's topic spoke for hn_02
