"""Point-mass vehicles that obey route commands, for testing fleet control without DDS.

Each vehicle follows its latest path at the path's speed limits with the guide
vehicle's acceleration and braking limits, never past its reservation end, and
acknowledges every command (duplicates too). Their true positions are checked
here, independently of the controller's view: bodies never touch, and on one
lane edge the bumper gap is kept.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

import networkx as nx
from shapely import LineString
from shapely.ops import substring

from fleet.core import AckStatus, CommandAck, ModeCommand, ModeKind, RouteCommand
from fleet.traffic.control import FleetControl
from fleet.vehicles import VehicleReport

ACCEL = 1.0
DECEL = 1.0  # what the path follower plans with (comfort braking)
LENGTH = 16.5


@dataclass
class Car:
    vid: str
    x: float
    y: float
    heading: float = 0.0
    v: float = 0.0
    line: LineString | None = None
    speeds: list[tuple[float, float]] = field(default_factory=list)  # (from s, limit)
    s: float = 0.0
    limit: float = 0.0
    path_id: str = ""
    seq: int = 0
    stopped: bool = False  # paused / e-stopped
    silent: bool = False  # stops reporting (link lost)
    worst_overrun_m: float = 0.0

    def take(self, cmd: RouteCommand) -> None:
        if cmd.mission_id != self.path_id:
            self.line = LineString([(x, y) for x, y, _ in cmd.waypoints])
            self.s = float(self.line.project(_pt(self.x, self.y)))
            self.speeds = []
            d = 0.0
            for (x0, y0, t0), (x1, y1, t1) in itertools.pairwise(cmd.waypoints):
                ds = math.hypot(x1 - x0, y1 - y0)
                if ds > 1e-9:
                    self.speeds.append((d, ds / (t1 - t0) if t1 > t0 else 7.0))
                d += ds
            self.path_id = cmd.mission_id
        assert self.line is not None
        self.limit = min(cmd.reservation_end_m, self.line.length)

    def step(self, dt: float) -> None:
        if self.line is None or self.stopped:
            self.v = max(0.0, self.v - 3.0 * dt) if self.stopped else 0.0
            return
        vmax = 7.0
        for d, lim in self.speeds:
            if d <= self.s + 1e-6:
                vmax = lim
        room = max(0.0, self.limit - self.s)
        v_stop = math.sqrt(2 * DECEL * room)
        target = min(vmax, v_stop)
        if target > self.v:
            self.v = min(target, self.v + ACCEL * dt)
        else:
            self.v = max(target, self.v - 3.0 * dt)
        self.s = min(self.limit, self.s + self.v * dt)
        self.worst_overrun_m = max(self.worst_overrun_m, self.s - self.limit)
        p = self.line.interpolate(self.s)
        q = self.line.interpolate(min(self.line.length, self.s + 1.0))
        if q.distance(p) > 1e-6:
            self.heading = math.atan2(q.y - p.y, q.x - p.x)
        self.x, self.y = float(p.x), float(p.y)
        if room < 0.05:
            self.v = 0.0

    def body(self) -> LineString | None:
        if self.line is None:
            return None
        return substring(self.line, max(0.0, self.s - LENGTH), self.s)


def _pt(x: float, y: float) -> object:
    from shapely import Point

    return Point(x, y)


class World:
    """Vehicles + the controller, stepped together on one clock."""

    def __init__(self, fc: FleetControl, dt: float = 0.5) -> None:
        self.fc, self.dt, self.now = fc, dt, 0.0
        self.cars: dict[str, Car] = {}
        self.min_body_distance = math.inf
        self.closest: tuple[str, str, float] = ("", "", math.inf)

    def add(self, vid: str, corridor: str, node: str) -> None:
        v = self.fc.add_vehicle(vid, corridor, node, self.now)
        self.cars[vid] = Car(vid, v.x, v.y, v.heading_rad)

    def send(self, cmds: list[RouteCommand | ModeCommand]) -> None:
        for c in cmds:
            car = self.cars[c.vehicle_id]
            if car.silent:
                continue
            if c.seq > car.seq:
                if isinstance(c, RouteCommand):
                    car.take(c)
                elif c.kind is ModeKind.RESUME:
                    car.stopped = False
                else:
                    car.stopped = True
                car.seq = c.seq
                status = AckStatus.ACCEPTED
            else:
                status = AckStatus.DUPLICATE
            self.fc.on_ack(CommandAck(c.vehicle_id, c.seq, status, self.now), self.now)

    def step(self) -> None:
        self.now += self.dt
        for car in self.cars.values():
            car.step(self.dt)
            if not car.silent:
                r = VehicleReport(car.vid, self.now, car.x, car.y, car.heading, car.v)
                self.fc.on_report(r, self.now)
        _events, cmds = self.fc.tick(self.now)
        self.send(cmds)
        self._check()

    def _check(self) -> None:
        bodies = [(c.vid, c.body()) for c in self.cars.values()]
        for (a, ba), (b, bb) in itertools.combinations(bodies, 2):
            if ba is None or bb is None:
                continue
            d = float(ba.distance(bb))
            if d < self.closest[2]:
                self.closest = (a, b, d)
        self.min_body_distance = self.closest[2]

    def run(self, seconds: float, until: object = None) -> None:
        end = self.now + seconds
        while self.now < end:
            self.step()
            if callable(until) and until():
                return


def graph_of(fc: FleetControl, corridor: str) -> nx.DiGraph:
    return fc.graphs[corridor]
