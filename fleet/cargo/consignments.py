"""Consignments and their lifecycle as an explicit state machine.

A consignment is one container of goods declared to customs for one crossing
of the zero line. Its state changes only through :func:`transition`, which
allows only the edges in :data:`TRANSITIONS`, checks the clearance and
crossing rules, and records every change as a :class:`TransitionEvent` with
actor, time and reason, so both sides' records can be reconciled afterwards.

Lifecycle (``held``, the inspection hold, is reachable from every state
before the crossing; see :data:`TRANSITIONS` for the full table)::

    declared -> cleared -> queued -> loaded -> in_transit -> at_zero_line -> handed_over
                             ^  <-unload-'          |              |               |
                             |                      v (aborted)    v            received
                             +-- retry -- returned <-------- refused

Pure: every state change takes ``now`` (seconds on the orchestrator's clock); no
I/O, no clock reads, no randomness.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from fleet.cargo.iso6346 import validate_container_number

MAX_GROSS_WEIGHT_KG = 45_000.0


class ConsignmentError(ValueError):
    """A consignment or a change to it that the core refuses; the message is for a human."""


class IllegalTransition(ConsignmentError):
    """A state change that the lifecycle or the clearance and crossing rules forbid."""

    def __init__(self, consignment_id: str, from_state: str, to_state: str, why: str) -> None:
        self.consignment_id = consignment_id
        self.from_state = from_state
        self.to_state = to_state
        self.why = why
        super().__init__(
            f"consignment {consignment_id}: cannot go from {from_state} to {to_state}: {why}"
        )


class GoodsCategory(StrEnum):
    FRUIT = "fruit"
    ELECTRONICS = "electronics"


class FruitKind(StrEnum):
    DURIAN = "durian"
    DRAGON_FRUIT = "dragon_fruit"
    JACKFRUIT = "jackfruit"
    MANGO = "mango"
    WATERMELON = "watermelon"
    OTHER = "other"


class Direction(StrEnum):
    EXPORT = "export"  # Viet Nam -> China
    IMPORT = "import"  # China -> Viet Nam


class LabTest(StrEnum):
    CADMIUM = "cadmium"
    AURAMINE_O = "auramine_o"


# Per-shipment lab certificates China requires at the border (durian: since Jan 2025).
REQUIRED_LAB_TESTS: Mapping[FruitKind, frozenset[LabTest]] = {
    FruitKind.DURIAN: frozenset({LabTest.CADMIUM, LabTest.AURAMINE_O}),
}


class ConsignmentState(StrEnum):
    DECLARED = "declared"  # declaration received, awaiting customs and quarantine
    CLEARED = "cleared"  # customs and quarantine (and lab) clearance granted
    QUEUED = "queued"  # waiting in the origin yard for a guide vehicle
    LOADED = "loaded"  # on a guide vehicle, not yet moving
    IN_TRANSIT = "in_transit"  # on the way to the zero line
    AT_ZERO_LINE = "at_zero_line"  # at the stop line, awaiting the other side's acceptance
    HANDED_OVER = "handed_over"  # the other side accepted: custody has changed
    RECEIVED = "received"  # in the other side's yard (terminal)
    REFUSED = "refused"  # the other side refused it at the line
    RETURNED = "returned"  # back in the origin yard without having crossed
    HELD = "held"  # diverted to the inspection zone


S = ConsignmentState

# Every legal edge. Anything not listed raises IllegalTransition.
TRANSITIONS: Mapping[ConsignmentState, frozenset[ConsignmentState]] = {
    S.DECLARED: frozenset({S.CLEARED, S.HELD}),
    S.CLEARED: frozenset({S.QUEUED, S.HELD}),
    S.QUEUED: frozenset({S.LOADED, S.HELD}),
    S.LOADED: frozenset({S.IN_TRANSIT, S.QUEUED, S.HELD}),  # -> queued: unloaded before leaving
    S.IN_TRANSIT: frozenset({S.AT_ZERO_LINE, S.RETURNED, S.HELD}),  # -> returned: trip aborted
    S.AT_ZERO_LINE: frozenset({S.HANDED_OVER, S.REFUSED, S.HELD}),
    S.REFUSED: frozenset({S.RETURNED, S.HELD}),
    S.RETURNED: frozenset({S.QUEUED, S.HELD}),  # -> queued: another attempt, if still cleared
    S.HELD: frozenset({S.DECLARED, S.CLEARED, S.QUEUED}),  # release; narrowed by release_target
    S.HANDED_OVER: frozenset({S.RECEIVED}),
    S.RECEIVED: frozenset(),
}

# States in which custody has not changed: an inspection hold may divert the consignment.
PRE_CROSSING = frozenset(s for s, nxt in TRANSITIONS.items() if S.HELD in nxt)

# Entering these needs valid clearance, checked again on every step, so a clearance
# withdrawn after the fact stops the consignment before it reaches the line.
NEEDS_CLEARANCE = frozenset(
    {S.CLEARED, S.QUEUED, S.LOADED, S.IN_TRANSIT, S.AT_ZERO_LINE, S.HANDED_OVER}
)

# Entered at most once in a consignment's life: custody changes exactly once.
ONCE_ONLY = frozenset({S.HANDED_OVER, S.RECEIVED})

# A hold before dispatch is released back where it was; after dispatch the goods sit
# in the inspection zone and need a new vehicle, so the release goes to ``queued``.
_RELEASE_IN_PLACE = frozenset({S.DECLARED, S.CLEARED, S.QUEUED})


@dataclass(frozen=True)
class Goods:
    """What is in the container; ``temp_*_c`` is the reefer set range (None: ambient)."""

    category: GoodsCategory
    fruit_kind: FruitKind | None = None
    temp_min_c: float | None = None
    temp_max_c: float | None = None

    def __post_init__(self) -> None:
        if self.category is GoodsCategory.FRUIT and self.fruit_kind is None:
            raise ConsignmentError("fruit needs a fruit kind")
        if self.category is not GoodsCategory.FRUIT and self.fruit_kind is not None:
            raise ConsignmentError(f"{self.category} cannot have a fruit kind")
        if (self.temp_min_c is None) != (self.temp_max_c is None):
            raise ConsignmentError("a temperature range needs both a minimum and a maximum")
        if self.temp_min_c is not None and self.temp_max_c is not None:
            if not (math.isfinite(self.temp_min_c) and math.isfinite(self.temp_max_c)):
                raise ConsignmentError("temperatures must be finite numbers")
            if self.temp_min_c > self.temp_max_c:
                raise ConsignmentError(
                    f"temperature minimum {self.temp_min_c} °C is above maximum "
                    f"{self.temp_max_c} °C"
                )

    @property
    def perishable(self) -> bool:
        return self.category is GoodsCategory.FRUIT

    @property
    def refrigerated(self) -> bool:
        return self.temp_min_c is not None

    @property
    def required_lab_tests(self) -> frozenset[LabTest]:
        if self.fruit_kind is None:
            return frozenset()
        return REQUIRED_LAB_TESTS.get(self.fruit_kind, frozenset())


@dataclass(frozen=True)
class TransitionEvent:
    consignment_id: str
    from_state: ConsignmentState
    to_state: ConsignmentState
    at: float
    actor: str
    reason: str


@dataclass
class Consignment:
    """One container declared for one crossing. Change ``state`` only via :func:`transition`.

    The clearance flags and certificates are set by whoever receives the
    authorities' decisions; the state machine only reads them.
    """

    id: str
    container_number: str
    seal_number: str
    goods: Goods
    direction: Direction
    corridor: str
    customs_declaration: str
    gross_weight_kg: float
    declared_at: float
    priority: int = 0  # higher goes first among goods of the same perishability
    quarantine_certificate: str | None = None
    lab_certificates: dict[LabTest, str] = field(default_factory=dict)  # test -> certificate no.
    customs_cleared: bool = False
    quarantine_cleared: bool = False
    state: ConsignmentState = ConsignmentState.DECLARED
    history: list[TransitionEvent] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.container_number = validate_container_number(self.container_number)
        if not (0.0 < self.gross_weight_kg <= MAX_GROSS_WEIGHT_KG):
            raise ConsignmentError(
                f"consignment {self.id}: gross weight {self.gross_weight_kg} kg is outside "
                f"(0, {MAX_GROSS_WEIGHT_KG:.0f}] kg"
            )
        if not math.isfinite(self.declared_at):
            raise ConsignmentError(f"consignment {self.id}: declared_at must be finite")

    @property
    def last_changed_at(self) -> float:
        return self.history[-1].at if self.history else self.declared_at

    @property
    def crossed(self) -> bool:
        """Custody has passed to the other side (handed over, possibly received)."""
        return any(e.to_state is S.HANDED_OVER for e in self.history)


def clearance_problems(c: Consignment) -> list[str]:
    """Why ``c`` may not (yet) count as cleared; empty when it may."""
    problems = []
    if not c.customs_cleared:
        problems.append("customs clearance missing")
    if not c.quarantine_cleared:
        problems.append("quarantine clearance missing")
    if c.goods.perishable and not c.quarantine_certificate:
        problems.append("quarantine certificate missing (fruit needs a phytosanitary certificate)")
    missing = sorted(t for t in c.goods.required_lab_tests if not c.lab_certificates.get(t))
    if missing:
        problems.append(f"lab certificate missing for {c.goods.fruit_kind}: " + ", ".join(missing))
    return problems


def held_from(c: Consignment) -> ConsignmentState | None:
    """The state ``c`` was in when it was last put on hold, or None if it is not held."""
    if c.state is not S.HELD:
        return None
    for e in reversed(c.history):
        if e.to_state is S.HELD:
            return e.from_state
    return None  # unreachable through transition(); tolerate hand-built objects


def release_target(c: Consignment) -> ConsignmentState:
    """Where releasing a held consignment puts it (see the module's release rule).

    Held before dispatch (declared, cleared, queued): back to that state, nothing
    moved. Held later (loaded, in transit, at the line, refused, returned): the
    goods are now in the inspection zone, so ``queued`` for a new vehicle.
    """
    origin = held_from(c)
    if origin is None:
        raise ConsignmentError(f"consignment {c.id} is not held")
    return origin if origin in _RELEASE_IN_PLACE else S.QUEUED


def legal_next_states(c: Consignment) -> frozenset[ConsignmentState]:
    """States the table allows from ``c``'s current state (guards not applied)."""
    if c.state is S.HELD:
        return frozenset({release_target(c), S.DECLARED})
    return TRANSITIONS[c.state]


def transition(
    c: Consignment, to_state: ConsignmentState | str, *, now: float, actor: str, reason: str
) -> TransitionEvent:
    """Move ``c`` to ``to_state`` if legal; append and return the event.

    Raises :class:`IllegalTransition` if the edge is not in :data:`TRANSITIONS`
    or a rule forbids it, and :class:`ConsignmentError` for a bad time, actor or
    reason. On error nothing changes.
    """
    try:
        to = ConsignmentState(to_state)
    except ValueError:
        raise IllegalTransition(c.id, c.state, str(to_state), "unknown state") from None
    frm = c.state
    if not actor.strip():
        raise ConsignmentError(f"consignment {c.id}: a transition needs an actor")
    if not reason.strip():
        raise ConsignmentError(f"consignment {c.id}: a transition needs a reason")
    if not math.isfinite(now):
        raise ConsignmentError(f"consignment {c.id}: time {now} is not a finite number")
    if now < c.last_changed_at:
        raise ConsignmentError(
            f"consignment {c.id}: time {now} is earlier than its last change at "
            f"{c.last_changed_at}; events must not go back in time"
        )
    why = _forbidden(c, frm, to)
    if why is not None:
        raise IllegalTransition(c.id, frm, to, why)
    event = TransitionEvent(c.id, frm, to, now, actor, reason)
    c.state = to
    c.history.append(event)
    return event


def hold(c: Consignment, *, now: float, actor: str, reason: str) -> TransitionEvent:
    """Divert ``c`` to the inspection zone."""
    return transition(c, S.HELD, now=now, actor=actor, reason=reason)


def release(c: Consignment, *, now: float, actor: str, reason: str) -> TransitionEvent:
    """End an inspection hold; ``c`` goes to :func:`release_target`."""
    if c.state is not S.HELD:
        raise IllegalTransition(c.id, c.state, "(release)", "it is not held")
    return transition(c, release_target(c), now=now, actor=actor, reason=reason)


def priority_key(c: Consignment) -> tuple[int, int, float, str]:
    """Sort key, smallest first: perishables, then higher priority, then earliest declared."""
    return (0 if c.goods.perishable else 1, -c.priority, c.declared_at, c.id)


def _forbidden(c: Consignment, frm: ConsignmentState, to: ConsignmentState) -> str | None:
    """Why ``frm -> to`` is not allowed for ``c``, or None if it is."""
    allowed = TRANSITIONS[frm]
    if to not in allowed:
        listed = ", ".join(sorted(allowed)) or "nothing (final state)"
        return f"not a legal transition (from {frm}: {listed})"
    if frm is S.HELD and to is not S.DECLARED:
        target = release_target(c)
        if to is not target:
            return (
                f"a consignment held from {held_from(c)} is released to {target} "
                f"(or sent back to declared)"
            )
    if to in ONCE_ONLY and any(e.to_state is to for e in c.history):
        return f"it was already {to} once; custody changes only once"
    if to in NEEDS_CLEARANCE:
        problems = clearance_problems(c)
        if problems:
            return "not cleared: " + "; ".join(problems)
    return None
