"""Trucks arriving at the gate in the demo: declarations, customs and quarantine, cranes.

The demo should show what the control room sees on a working day, so this
adapter plays the Single Window, the inspectors and the VN yard's cranes: every
``every_s`` seconds of orchestrator time a truck's export declaration arrives (dragon fruit, durian,
jackfruit or electronics, in a fixed seeded mix), and customs, quarantine and,
for durian, the two lab tests China requires clear it a little later; a crane starts each lift
the desk orders when a vehicle stands at its loading spot, and reports it done ``crane_s``
later. Everything goes through the
consignment desk's public operations, exactly as the REST API's callers would,
so the desk dispatches vehicles, the traffic planner routes them and the handoff
link offers them to the other side.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from fleet.cargo.consignments import LabTest
from fleet.cargo.iso6346 import check_digit
from fleet.yard.policy import LiftEvent

if TYPE_CHECKING:
    from smartgate.services.desk import ConsignmentDesk

ACTOR = "demo"
CRANE = "demo:crane"
GOODS: tuple[dict[str, Any], ...] = (
    {"category": "fruit", "fruit_kind": "dragon_fruit"},
    {"category": "electronics"},
    {"category": "fruit", "fruit_kind": "durian", "temperature_c": {"min": 12, "max": 15}},
    {"category": "fruit", "fruit_kind": "jackfruit"},
)


@dataclass
class _Pending:
    at: float
    cid: str
    step: str  # customs | quarantine | a lab test


@dataclass
class DemoTraffic:
    """Seeded arrivals of export declarations and their clearances."""

    desk: ConsignmentDesk
    corridors: tuple[str, ...]
    every_s: float = 40.0
    customs_after_s: float = 8.0
    quarantine_after_s: float = 15.0
    seed: int = 1
    max_open: int = 12  # stop declaring while this many are still in the desk's hands
    crane_s: float = 20.0  # a lift, from start to done
    _next_at: float = 0.0
    _n: int = 0
    _pending: list[_Pending] = field(default_factory=list)
    _lifting: dict[str, float] = field(default_factory=dict)  # consignment -> lift started
    _rng: random.Random = field(init=False)
    _base: int = field(init=False)

    def __post_init__(self) -> None:
        self._rng = random.Random(self.seed)
        # Numbers unique across demo runs on one database: the wall-clock second of start.
        self._base = int(time.time()) % 900_000

    def tick(self, now: float) -> None:
        """Declare the next truck when due, and clear what is due (orchestrator time)."""
        if now >= self._next_at and self._open() < self.max_open:
            self._declare(now)
            self._next_at = now + self.every_s * self._rng.uniform(0.6, 1.4)
        due = [p for p in self._pending if p.at <= now]
        self._pending = [p for p in self._pending if p.at > now]
        for p in due:
            self._clear(p)
        self._cranes(now)

    def _cranes(self, now: float) -> None:
        """Start each lift ordered; report it done ``crane_s`` later."""
        from smartgate.services.desk import DeskError

        open_lifts = self.desk.open_lifts()
        for rec in open_lifts:
            lift = rec.lift
            assert lift is not None
            started = self._lifting.get(rec.id)
            event = None
            if started is None:
                self._lifting[rec.id] = now
                event = LiftEvent.STARTED
            elif now - started >= self.crane_s:
                event = LiftEvent.DONE
            if event is None:
                continue
            try:
                self.desk.lift(
                    rec.id,
                    vehicle_id=lift.vehicle,
                    spot=lift.spot,
                    event=event,
                    actor=CRANE,
                    reason="container on the vehicle" if event is LiftEvent.DONE else "lifting",
                )
            except DeskError:
                self._lifting.pop(rec.id, None)  # the order changed meanwhile: start again
        ids = {r.id for r in open_lifts}
        self._lifting = {k: v for k, v in self._lifting.items() if k in ids}

    def declaration(self, i: int, corridor: str) -> dict[str, Any]:
        n = self._base + i
        owner_serial = f"SGDU{n % 1_000_000:06d}"
        goods = dict(GOODS[i % len(GOODS)])
        d: dict[str, Any] = {
            "id": f"VN-DEMO-{n:06d}",
            "container_number": owner_serial + str(check_digit(owner_serial)),
            "seal_number": f"VN{n:08d}",
            "goods": goods,
            "direction": "export",
            "corridor": corridor,
            "customs_declaration": f"{306000000000 + n}",
            "gross_weight_kg": 18000 + self._rng.randrange(0, 9000, 100),
            "priority": 1 if goods["category"] == "fruit" else 5,
        }
        return d

    def _open(self) -> int:
        with self.desk.lock:
            return len(self.desk.records)

    def _declare(self, now: float) -> None:
        self._n += 1
        corridor = self.corridors[self._n % len(self.corridors)]
        data = self.declaration(self._n, corridor)
        rec = self.desk.intake(data, actor=ACTOR).record
        self._pending.append(_Pending(now + self.customs_after_s, rec.id, "customs"))
        self._pending.append(_Pending(now + self.quarantine_after_s, rec.id, "quarantine"))
        if data["goods"].get("fruit_kind") == "durian":  # China's two lab tests for durian
            for test in LabTest:
                self._pending.append(_Pending(now + self.quarantine_after_s + 5.0, rec.id, test))

    def _clear(self, p: _Pending) -> None:
        from smartgate.services.desk import DeskError

        try:
            if p.step == "customs":
                self.desk.customs(p.cid, cleared=True, actor=ACTOR, reason="documents in order")
            elif p.step == "quarantine":
                cert = f"KD-DEMO-{p.cid[-6:]}"
                self.desk.quarantine(
                    p.cid, cleared=True, certificate=cert, actor=ACTOR, reason="inspected"
                )
            else:
                test = LabTest(p.step)
                self.desk.lab_certificate(
                    p.cid,
                    test=test,
                    certificate=f"LAB-{test.value.upper()}-{p.cid[-6:]}",
                    actor=ACTOR,
                    reason=f"{test.value} below the limit",
                )
        except DeskError:
            return  # it moved on (held by an operator, say): nothing to clear any more
