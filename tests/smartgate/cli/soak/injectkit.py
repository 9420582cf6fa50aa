"""An outside ROS 2 client for the soak test: spoils the vehicle link, and watches it.

Run as ``python -m tests.smartgate.cli.soak.injectkit --seconds N --out FILE.json [--vehicles a,b]``
on the demo's ROS domain. For every vehicle it listens to the state topic and
republishes what it hears, spoiled the ordinary ways a busy network and a busy
machine spoil it: late (50 ms to 2 s), duplicated, two in reverse order, and
now and then from the future, with a NaN position, with an empty id and naming
another vehicle. It also records every route command the orchestrator sends
and checks every genuine state against them: a vehicle's progress along a path
must stay within the furthest reservation end sent for that path. It writes
what it sent and what it found to ``--out`` when the time is up.
"""

from __future__ import annotations

import argparse
import copy
import heapq
import json
import math
import random
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import rclpy
from rclpy.node import Node
from rclpy.qos import DurabilityPolicy, HistoryPolicy, QoSProfile, ReliabilityPolicy
from smartgate_interfaces.msg import RouteCommand, VehicleState

from ros_nodes import qos
from ros_nodes.messages import from_time, to_time

DEMO_VEHICLES = ("hn_01", "hn_02", "hn_03", "hn_04", "tt_01", "tt_02", "tt_03", "tt_04")
TOLERANCE_M = 1.0  # braking overshoot allowed past a reservation end
# Every route command, and the last one sent before we joined (the publisher latches it).
COMMANDS_HEARD = QoSProfile(
    history=HistoryPolicy.KEEP_LAST,
    depth=50,
    reliability=ReliabilityPolicy.RELIABLE,
    durability=DurabilityPolicy.TRANSIENT_LOCAL,
)
P = {"late": 0.3, "duplicate": 0.1, "reorder": 0.05, "future": 0.02, "nan": 0.02}
P_ID = {"empty_id": 0.01, "other_vehicle": 0.01}


def _key(m: VehicleState) -> tuple[str, int, int, str]:
    """What tells our copies apart (repr: NaN is not equal to itself)."""
    return (m.vehicle_id, m.header.stamp.sec, m.header.stamp.nanosec, repr(m.pose.position.x))


class Injector(Node):
    def __init__(self, vehicles: tuple[str, ...], seed: int) -> None:
        super().__init__("soak_injector")
        self.rng = random.Random(seed)
        self.vehicles = vehicles
        self.sent: dict[str, int] = defaultdict(int)
        self.mine: set[tuple[str, int, int, str]] = set()  # what we published
        self.later: list[tuple[float, int, str, VehicleState]] = []  # (due, n, kind, msg)
        self.held: dict[str, VehicleState] = {}  # one held back, to send after the next
        self.reserved: dict[tuple[str, str], float] = {}  # (vehicle, path) -> furthest end
        self.progress: dict[tuple[str, str], float] = {}  # (vehicle, path) -> furthest seen
        self.states = 0
        self.commands = 0
        self._n = 0
        self.pubs = {}
        for vid in vehicles:
            ns = f"/vehicles/{vid}"
            self.pubs[vid] = self.create_publisher(VehicleState, f"{ns}/state", qos.STATE)
            self.create_subscription(
                VehicleState, f"{ns}/state", lambda m, v=vid: self._state(v, m), qos.STATE
            )
            self.create_subscription(RouteCommand, f"{ns}/route", self._route, COMMANDS_HEARD)
        self.create_timer(0.01, self._due)

    def _route(self, msg: RouteCommand) -> None:
        self.commands += 1
        k = (msg.vehicle_id, msg.mission_id)
        self.reserved[k] = max(self.reserved.get(k, -math.inf), msg.reservation_end_m)

    def _state(self, topic: str, msg: VehicleState) -> None:
        if _key(msg) in self.mine:
            return  # our own copy
        self.states += 1
        if msg.mission_id:
            k = (topic, msg.mission_id)
            self.progress[k] = max(self.progress.get(k, 0.0), msg.progress_m)
        self._spoil(topic, msg)

    def _publish(self, topic: str, kind: str, m: VehicleState) -> None:
        self.mine.add(_key(m))
        self.pubs[topic].publish(m)
        self.sent[kind] += 1

    def _spoil(self, topic: str, msg: VehicleState) -> None:
        r = self.rng.random
        if r() < P["late"]:
            self._n += 1
            due = time.monotonic() + self.rng.uniform(0.05, 2.0)
            heapq.heappush(self.later, (due, self._n, topic, msg))
        if r() < P["duplicate"]:
            self.pubs[topic].publish(msg)  # the very message again
            self.sent["duplicate"] += 1
        if topic in self.held:  # the newer one went out first (it was genuine): now this
            self.pubs[topic].publish(self.held.pop(topic))
            self.sent["reorder"] += 1
        elif r() < P["reorder"]:
            self.held[topic] = msg
        t = from_time(msg.header.stamp)
        if r() < P["future"]:
            m = copy.deepcopy(msg)
            m.header.stamp = to_time(t + self.rng.uniform(30.0, 3600.0))
            m.pose.position.x += 40.0
            self._publish(topic, "future", m)
        if r() < P["nan"]:
            m = copy.deepcopy(msg)
            m.header.stamp = to_time(t + 0.001)
            m.pose.position.x = math.nan
            self._publish(topic, "nan", m)
        for kind, p in P_ID.items():
            if r() < p:
                m = copy.deepcopy(msg)
                m.header.stamp = to_time(t + 0.002)
                m.vehicle_id = "" if kind == "empty_id" else self._other(topic)
                self._publish(topic, kind, m)

    def _other(self, topic: str) -> str:
        return self.rng.choice([v for v in self.vehicles if v != topic])

    def _due(self) -> None:
        now = time.monotonic()
        while self.later and self.later[0][0] <= now:
            _, _, topic, msg = heapq.heappop(self.later)
            self.pubs[topic].publish(msg)
            self.sent["late"] += 1

    def violations(self) -> list[dict[str, Any]]:
        """Paths driven further than any reservation end the orchestrator sent for them."""
        out = []
        for (vid, path), s in sorted(self.progress.items()):
            end = self.reserved.get((vid, path))
            if end is None or s > end + TOLERANCE_M:
                out.append({"vehicle": vid, "path": path, "progress_m": s, "reserved_m": end})
        return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--vehicles", default=",".join(DEMO_VEHICLES))
    ap.add_argument("--seed", type=int, default=1)
    a = ap.parse_args()
    rclpy.init()
    node = Injector(tuple(a.vehicles.split(",")), a.seed)
    end = time.monotonic() + a.seconds
    try:
        while time.monotonic() < end and rclpy.ok():
            rclpy.spin_once(node, timeout_sec=0.05)
    finally:
        report = {
            "sent": dict(node.sent),
            "states_heard": node.states,
            "commands_heard": node.commands,
            "paths": len(node.progress),
            "violations": node.violations(),
        }
        a.out.write_text(json.dumps(report, indent=1))
        node.destroy_node()
        rclpy.try_shutdown()


if __name__ == "__main__":
    main()
