"""A real orchestrator (core + desk + SQLite) driving point-mass vehicles, the handoff agent
in its own thread and the reference CN peer in another, over loopback mutual TLS."""

from __future__ import annotations

import functools
import queue
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fleet.cargo.consignments import ConsignmentState
from fleet.core import AckStatus, Command, CommandAck, ModeKind, RouteCommand
from fleet.vehicles import VehicleReport
from fleet.yard.policy import LiftEvent
from maps.corridors import load_corridors
from smartgate.link.peer import PeerRules, ReferencePeer
from smartgate.services.desk import attach_desk
from smartgate.services.handoff_agent import HandoffAgent, LoopThread, Stopper, start_handoff_agents
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store
from tests.fleet.traffic.drivekit import Car
from tests.smartgate.link.linkkit import FAST, cn_options
from tests.smartgate.storage.recordkit import declaration

CORRIDOR = "huu-nghi"
STOP_LINE = "SL-E-zero"
# The link's timers, fast (accept validity 600 s: long enough for a slow CI machine).
TIMING = FAST


class Yard:
    """Orchestrator + point-mass vehicles on one simulated clock (the ROS side, in-test).

    Commands reach the vehicles through a queue: the agent's thread sends them too
    (accept / refuse), and only this thread moves vehicles."""

    def __init__(self, db: str, dt: float = 1.0) -> None:
        maps, graphs = load_corridors((CORRIDOR,))
        self.store = Store(db)
        self.orch = attach_desk(Orchestrator(maps, graphs), self.store)
        assert self.orch.desk is not None
        self.desk = self.orch.desk
        self.dt = dt
        self.now = 0.0
        self.cars: dict[str, Car] = {}
        self.inbox: queue.SimpleQueue[Command] = queue.SimpleQueue()
        self.orch.command_sink = self.inbox.put
        # Every permission to cross km 0 the orchestrator was given, per vehicle.
        self.permits: dict[str, int] = {}
        accept = self.orch.accept_handoff

        @functools.wraps(accept)  # the same signature, as the agent inspects it
        def counted(vid: str, now: float, goal: str | None = None, **kw: Any) -> None:
            self.permits[vid] = self.permits.get(vid, 0) + 1
            accept(vid, now, goal, **kw)

        self.orch.accept_handoff = counted  # type: ignore[method-assign,assignment]
        self.crossed_at: dict[str, float] = {}  # vehicle -> sim time it was first in CN
        self.accepted_when_crossing: dict[str, bool] = {}
        # Every crossing of km 0: (vehicle, sim time, side it entered, permissions to cross
        # it had by then); each crossing must follow a permission of its own.
        self.crossings: list[tuple[str, float, str, int]] = []
        self._side_was: dict[str, str] = {}

    def add(self, vid: str, node: str) -> None:
        v = self.orch.add_vehicle(vid, CORRIDOR, node, self.now)
        self.cars[vid] = Car(vid, v.x, v.y, v.heading_rad)

    def declare(self, i: int, vid: str = "hn_01", **overrides: Any) -> str:
        """Declare and clear consignment `i`, with vehicle `vid` parked at its loading spot
        (in these maps every other way between two VN yard spots loops through CN)."""
        rec = self.desk.intake(declaration(i, **overrides), actor="test").record
        spots = self.desk.loading_spots(CORRIDOR, "VN")
        spot = spots[len(self.cars) % len(spots)]  # a bay of its own: it loads there
        self.add(vid, spot)
        self.step()  # it reports: online for the dispatcher
        self.desk.customs(rec.id, cleared=True, actor="test", reason="released")
        self.desk.quarantine(
            rec.id, cleared=True, certificate=f"KD-2026-{i:04d}", actor="test", reason="ok"
        )
        return rec.id

    def state(self, cid: str) -> ConsignmentState:
        return self.desk.get(cid).consignment.state

    def side(self, vid: str) -> str:
        car = self.cars[vid]
        return self.orch.maps[CORRIDOR].side_of(car.x, car.y)

    def at_node(self, vid: str, node: str, within_m: float = 3.0) -> bool:
        a = self.orch.graphs[CORRIDOR].nodes[node]
        car = self.cars[vid]
        return bool((car.x - a["x"]) ** 2 + (car.y - a["y"]) ** 2 <= within_m**2)

    def _deliver(self) -> None:
        while True:
            try:
                c = self.inbox.get_nowait()
            except queue.Empty:
                return
            car = self.cars[c.vehicle_id]
            if c.seq > car.seq:
                if isinstance(c, RouteCommand):
                    car.take(c)
                else:
                    car.stopped = c.kind is not ModeKind.RESUME
                car.seq = c.seq
                status = AckStatus.ACCEPTED
            else:
                status = AckStatus.DUPLICATE
            self.orch.ack(CommandAck(c.vehicle_id, c.seq, status, self.now), self.now)

    def step(self) -> None:
        self.now += self.dt
        self._deliver()
        for car in self.cars.values():
            car.step(self.dt)
            r = VehicleReport(car.vid, self.now, car.x, car.y, car.heading, car.v)
            self.orch.report(r, self.now)
            side = self.side(car.vid)
            if self._side_was.setdefault(car.vid, side) != side:
                self._side_was[car.vid] = side
                self.crossings.append((car.vid, self.now, side, self.permits.get(car.vid, 0)))
            if car.vid not in self.crossed_at and side == "CN":
                self.crossed_at[car.vid] = self.now
                self.accepted_when_crossing[car.vid] = any(
                    e["event"] == "handoff_accepted" and e.get("vehicle_id") == car.vid
                    for e in self.orch.handoffs(500)
                )
        self.orch.tick(self.now)
        self._deliver()
        self._cranes()

    def _cranes(self) -> None:
        """The VN yard's cranes: each lift the desk ordered is started and done at once."""
        for rec in self.desk.open_lifts():
            lift = rec.lift
            assert lift is not None
            for event in (LiftEvent.STARTED, LiftEvent.DONE):
                self.desk.lift(
                    rec.id,
                    vehicle_id=lift.vehicle,
                    spot=lift.spot,
                    event=event,
                    actor="test:crane",
                    reason="lifted",
                )

    def run(
        self, until: Callable[[], bool], *, sim_s: float, wall_s: float = 60.0, what: str = ""
    ) -> None:
        """Step until `until()`; the short sleeps let the link's threads run meanwhile."""
        end, deadline = self.now + sim_s, time.monotonic() + wall_s
        while not until():
            if self.now >= end or time.monotonic() > deadline:
                tail = self.orch.log[-6:]
                raise AssertionError(f"timed out waiting for {what or until}; log: {tail}")
            self.step()
            time.sleep(0.002)

    def idle(self, wall_s: float) -> None:
        """Keep the world going (vehicles report, the desk ticks) for a while of wall time."""
        deadline = time.monotonic() + wall_s
        while time.monotonic() < deadline:
            self.step()
            time.sleep(0.01)

    def events(self, cid: str) -> list[str]:
        return [
            e["event"] for e in reversed(self.orch.handoffs(500)) if e.get("consignment_id") == cid
        ]

    def close(self) -> None:
        self.store.close()


class PeerThread:
    """The reference CN peer on its own loop, as `smartgate peer --listen` runs it."""

    def __init__(self, pki: Path, db: Path, port: int = 0, rules: PeerRules | None = None):
        self.thread = LoopThread("cn-peer")
        self.thread.start()
        opts = cn_options(pki, db, listen=("127.0.0.1", port), timing=TIMING)
        if rules is not None:
            opts.rules = rules
        self.peer = ReferencePeer(opts)
        self.thread.call(self.peer.start())
        assert opts.listen is not None
        self.port = opts.listen[1]

    def close(self) -> None:
        self.thread.call(self.peer.close())
        self.thread.stop()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_agent(yard: Yard, pki: Path, db: Path, port: int) -> tuple[Stopper, HandoffAgent]:
    stop = start_handoff_agents(
        yard.orch,
        yard.desk,
        [CORRIDOR],
        pki,
        f"wss://localhost:{port}",
        db_url=f"sqlite:///{db}",
        timing=TIMING,
        poll_s=0.05,
        backoff=(0.05, 0.3),
        retry_s=0.5,
        db_synchronous="NORMAL",
    )
    return stop, stop.agents[0]
