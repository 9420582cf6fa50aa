"""The consignment state machine: legal and illegal transitions, clearance, crossing, holds."""

from __future__ import annotations

import copy
import itertools
import math
from dataclasses import replace
from typing import Any

import pytest

from fleet.cargo.consignments import (
    NEEDS_CLEARANCE,
    PRE_CROSSING,
    TRANSITIONS,
    Consignment,
    ConsignmentError,
    Direction,
    FruitKind,
    Goods,
    GoodsCategory,
    IllegalTransition,
    LabTest,
    clearance_problems,
    held_from,
    hold,
    legal_next_states,
    priority_key,
    release,
    release_target,
    transition,
)
from fleet.cargo.consignments import ConsignmentState as S

DURIAN = Goods(GoodsCategory.FRUIT, FruitKind.DURIAN, 2.0, 5.0)
MANGO = Goods(GoodsCategory.FRUIT, FruitKind.MANGO, 10.0, 13.0)
CHIPS = Goods(GoodsCategory.ELECTRONICS)
LABS = {LabTest.CADMIUM: "LAB-CD-1", LabTest.AURAMINE_O: "LAB-AO-1"}

# The forward path to each state from declared (HELD: held while queued).
FORWARD = [S.CLEARED, S.QUEUED, S.LOADED, S.IN_TRANSIT, S.AT_ZERO_LINE]
PATH: dict[S, list[S]] = {
    S.DECLARED: [],
    S.CLEARED: FORWARD[:1],
    S.QUEUED: FORWARD[:2],
    S.LOADED: FORWARD[:3],
    S.IN_TRANSIT: FORWARD[:4],
    S.AT_ZERO_LINE: FORWARD,
    S.HANDED_OVER: [*FORWARD, S.HANDED_OVER],
    S.RECEIVED: [*FORWARD, S.HANDED_OVER, S.RECEIVED],
    S.REFUSED: [*FORWARD, S.REFUSED],
    S.RETURNED: [*FORWARD, S.REFUSED, S.RETURNED],
    S.HELD: [*FORWARD[:2], S.HELD],
}


def make(cleared: bool = True, **kw: Any) -> Consignment:
    fields: dict[str, Any] = dict(
        id="C1",
        container_number="CSQU 305438 3",
        seal_number="ML-1234567",
        goods=DURIAN,
        direction=Direction.EXPORT,
        corridor="huu-nghi",
        customs_declaration="305123456789",
        gross_weight_kg=24_500.0,
        declared_at=100.0,
        quarantine_certificate="KD-1" if cleared else None,
        lab_certificates=dict(LABS) if cleared else {},
        customs_cleared=cleared,
        quarantine_cleared=cleared,
    )
    fields.update(kw)
    return Consignment(**fields)


def walk(c: Consignment, states: list[S], t0: float = 200.0) -> Consignment:
    for i, s in enumerate(states):
        transition(c, s, now=t0 + i, actor="test", reason=f"to {s}")
    return c


def at(state: S, **kw: Any) -> Consignment:
    return walk(make(**kw), PATH[state])


# -- the table ----------------------------------------------------------------


def test_table_covers_every_state_and_only_received_is_final() -> None:
    assert set(TRANSITIONS) == set(S)
    assert [s for s, nxt in TRANSITIONS.items() if not nxt] == [S.RECEIVED]
    assert all(s not in nxt for s, nxt in TRANSITIONS.items()), "no self-loops"


def test_paths_reach_their_states() -> None:
    for state in S:
        assert at(state).state is state


LEGAL = [(f, t) for f, nxt in TRANSITIONS.items() for t in sorted(nxt)]


@pytest.mark.parametrize(("frm", "to"), LEGAL, ids=[f"{f}->{t}" for f, t in LEGAL])
def test_every_legal_transition(frm: S, to: S) -> None:
    c = at(frm)
    if frm is S.HELD and to is S.CLEARED:
        c = walk(make(), [S.CLEARED, S.HELD])  # a release returns to the held-from state
    n = len(c.history)
    event = transition(c, to, now=1000.0, actor="officer-7", reason="because")
    assert c.state is to
    assert c.history[n:] == [event]
    assert (event.consignment_id, event.from_state, event.to_state) == ("C1", frm, to)
    assert (event.at, event.actor, event.reason) == (1000.0, "officer-7", "because")


ILLEGAL = [(f, t) for f, t in itertools.product(S, S) if t not in TRANSITIONS[f]]


@pytest.mark.parametrize(("frm", "to"), ILLEGAL, ids=[f"{f}->{t}" for f, t in ILLEGAL])
def test_every_pair_not_in_the_table_raises(frm: S, to: S) -> None:
    c = at(frm)
    before = (c.state, list(c.history))
    with pytest.raises(IllegalTransition, match="not a legal transition") as e:
        transition(c, to, now=1000.0, actor="test", reason="try")
    assert (e.value.from_state, e.value.to_state, e.value.consignment_id) == (frm, to, "C1")
    assert f"from {frm} to {to}" in str(e.value)
    assert (c.state, c.history) == before, "a refused transition changes nothing"


def test_illegal_transition_is_a_value_error_and_lists_the_options() -> None:
    assert issubclass(IllegalTransition, ValueError)
    with pytest.raises(IllegalTransition, match=r"\(from declared: cleared, held\)"):
        transition(make(), S.QUEUED, now=200.0, actor="a", reason="r")
    with pytest.raises(IllegalTransition, match=r"nothing \(final state\)"):
        transition(at(S.RECEIVED), S.HELD, now=1000.0, actor="a", reason="r")


def test_states_may_be_given_as_strings_but_must_exist() -> None:
    c = make()
    assert transition(c, "cleared", now=200.0, actor="a", reason="r").to_state is S.CLEARED
    with pytest.raises(IllegalTransition, match="unknown state"):
        transition(c, "teleported", now=201.0, actor="a", reason="r")


def test_legal_next_states() -> None:
    assert legal_next_states(make()) == {S.CLEARED, S.HELD}
    assert legal_next_states(at(S.HELD)) == {S.QUEUED, S.DECLARED}
    assert legal_next_states(walk(make(), [S.HELD])) == {S.DECLARED}


# -- clearance and the crossing gate ------------------------------------------


def test_cleared_needs_customs_and_quarantine() -> None:
    c = make(cleared=False, goods=CHIPS)
    with pytest.raises(IllegalTransition, match="customs clearance missing") as e:
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")
    assert "quarantine clearance missing" in str(e.value)
    c.customs_cleared = True
    with pytest.raises(IllegalTransition, match=r"not cleared: quarantine clearance missing$"):
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")
    c.quarantine_cleared = True
    transition(c, S.CLEARED, now=200.0, actor="a", reason="r")  # electronics: no certificate


def test_fruit_needs_a_quarantine_certificate() -> None:
    c = make(goods=MANGO, quarantine_certificate=None)
    with pytest.raises(IllegalTransition, match="quarantine certificate missing"):
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")


def test_durian_needs_both_lab_certificates() -> None:
    c = make(lab_certificates={})
    assert clearance_problems(c) == ["lab certificate missing for durian: auramine_o, cadmium"]
    with pytest.raises(IllegalTransition, match="lab certificate missing for durian"):
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")
    c.lab_certificates[LabTest.CADMIUM] = "LAB-CD-1"
    with pytest.raises(IllegalTransition, match=r"durian: auramine_o$"):
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")
    c.lab_certificates[LabTest.AURAMINE_O] = ""  # an empty number is no certificate
    with pytest.raises(IllegalTransition, match=r"durian: auramine_o$"):
        transition(c, S.CLEARED, now=200.0, actor="a", reason="r")
    c.lab_certificates[LabTest.AURAMINE_O] = "LAB-AO-1"
    assert clearance_problems(c) == []
    transition(c, S.CLEARED, now=200.0, actor="a", reason="r")


@pytest.mark.parametrize("kind", [k for k in FruitKind if k is not FruitKind.DURIAN])
def test_other_fruit_needs_no_lab_certificates(kind: FruitKind) -> None:
    c = make(goods=Goods(GoodsCategory.FRUIT, kind), lab_certificates={})
    assert clearance_problems(c) == []


UNCLEARED: dict[str, dict[str, Any]] = {
    "no customs": dict(customs_cleared=False),
    "no quarantine": dict(quarantine_cleared=False),
    "no certificate": dict(quarantine_certificate=None),
    "durian without cadmium": dict(lab_certificates={LabTest.AURAMINE_O: "x"}),
    "nothing at all": dict(cleared=False),
}


@pytest.mark.parametrize("missing", list(UNCLEARED))
def test_uncleared_can_never_reach_handed_over(missing: str) -> None:
    """Explore every sequence of transitions the machine accepts; none hands it over."""
    start = make(**UNCLEARED[missing])
    seen: set[tuple[S, S | None]] = set()
    frontier = [start]
    while frontier:
        c = frontier.pop()
        key = (c.state, held_from(c))
        if key in seen:
            continue
        seen.add(key)
        for to in S:
            nxt = copy.deepcopy(c)
            try:
                transition(nxt, to, now=nxt.last_changed_at + 1, actor="a", reason="r")
            except IllegalTransition:
                continue
            frontier.append(nxt)
    reached = {s for s, _ in seen}
    assert reached == {S.DECLARED, S.HELD}
    assert not reached & NEEDS_CLEARANCE


def test_withdrawn_clearance_stops_the_consignment_at_the_line() -> None:
    c = at(S.AT_ZERO_LINE)
    c.customs_cleared = False
    with pytest.raises(IllegalTransition, match="at_zero_line to handed_over: not cleared"):
        transition(c, S.HANDED_OVER, now=1000.0, actor="cn-dispatch", reason="accepted")
    hold(c, now=1000.0, actor="customs", reason="clearance withdrawn")  # a hold still works
    assert c.state is S.HELD


def test_handed_over_only_once() -> None:
    c = at(S.HANDED_OVER)
    assert c.crossed
    # A record that claims to be back at the line after a handover (e.g. a bad
    # restore) still cannot be handed over a second time.
    c.state = S.AT_ZERO_LINE
    with pytest.raises(IllegalTransition, match="already handed_over once"):
        transition(c, S.HANDED_OVER, now=1000.0, actor="a", reason="r")


def test_received_only_once() -> None:
    c = at(S.RECEIVED)
    c.state = S.HANDED_OVER
    with pytest.raises(IllegalTransition, match="already received once"):
        transition(c, S.RECEIVED, now=1000.0, actor="a", reason="r")


def test_after_a_handover_no_hold_and_no_way_back() -> None:
    for state in (S.HANDED_OVER, S.RECEIVED):
        for to in S:
            if to in TRANSITIONS[state]:
                continue
            with pytest.raises(IllegalTransition):
                transition(at(state), to, now=1000.0, actor="a", reason="r")


def test_refused_then_returned_then_retried_crosses_once() -> None:
    c = walk(at(S.RETURNED), [S.QUEUED, S.LOADED, S.IN_TRANSIT, S.AT_ZERO_LINE], t0=500.0)
    assert not c.crossed
    transition(c, S.HANDED_OVER, now=600.0, actor="cn-dispatch", reason="accepted")
    transition(c, S.RECEIVED, now=700.0, actor="cn-yard", reason="in Youyiguan yard")
    assert [e.to_state for e in c.history].count(S.HANDED_OVER) == 1


def test_aborted_trip_returns_and_unloading_requeues() -> None:
    c = walk(at(S.IN_TRANSIT), [S.RETURNED, S.QUEUED, S.LOADED, S.QUEUED], t0=500.0)
    assert c.state is S.QUEUED


# -- holds ---------------------------------------------------------------------


def test_holdable_states_are_those_before_the_crossing() -> None:
    assert set(S) - PRE_CROSSING == {S.HELD, S.HANDED_OVER, S.RECEIVED}


RELEASE = {
    S.DECLARED: S.DECLARED,
    S.CLEARED: S.CLEARED,
    S.QUEUED: S.QUEUED,
    S.LOADED: S.QUEUED,
    S.IN_TRANSIT: S.QUEUED,
    S.AT_ZERO_LINE: S.QUEUED,
    S.REFUSED: S.QUEUED,
    S.RETURNED: S.QUEUED,
}


@pytest.mark.parametrize(("origin", "target"), RELEASE.items())
def test_hold_and_release(origin: S, target: S) -> None:
    assert set(RELEASE) == PRE_CROSSING
    c = at(origin)
    event = hold(c, now=1000.0, actor="quarantine", reason="random inspection")
    assert (event.from_state, event.to_state, c.state) == (origin, S.HELD, S.HELD)
    assert held_from(c) is origin
    assert release_target(c) is target
    event = release(c, now=1100.0, actor="quarantine", reason="inspection passed")
    assert (event.from_state, event.to_state, c.state) == (S.HELD, target, target)
    assert held_from(c) is None


@pytest.mark.parametrize("origin", sorted(PRE_CROSSING))
def test_release_to_the_wrong_state_is_refused(origin: S) -> None:
    c = at(origin)
    hold(c, now=1000.0, actor="a", reason="r")
    for to in TRANSITIONS[S.HELD] - {RELEASE[origin], S.DECLARED}:
        with pytest.raises(IllegalTransition, match=f"held from {origin} is released to"):
            transition(c, to, now=1100.0, actor="a", reason="r")


def test_an_inspection_may_send_it_back_to_declared() -> None:
    c = at(S.IN_TRANSIT)
    hold(c, now=1000.0, actor="customs", reason="x-ray anomaly")
    c.customs_cleared = False
    with pytest.raises(IllegalTransition, match="not cleared: customs clearance missing"):
        release(c, now=1100.0, actor="customs", reason="done")
    transition(c, S.DECLARED, now=1100.0, actor="customs", reason="re-declare after inspection")
    assert c.state is S.DECLARED
    c.customs_cleared = True
    walk(c, [S.CLEARED, S.QUEUED], t0=1200.0)


def test_release_needs_a_hold() -> None:
    with pytest.raises(IllegalTransition, match="it is not held"):
        release(at(S.QUEUED), now=1000.0, actor="a", reason="r")
    with pytest.raises(ConsignmentError, match="is not held"):
        release_target(make())


def test_repeated_holds_release_to_the_latest_origin() -> None:
    c = at(S.QUEUED)
    hold(c, now=300.0, actor="a", reason="first")
    release(c, now=310.0, actor="a", reason="ok")
    walk(c, [S.LOADED], t0=320.0)
    hold(c, now=330.0, actor="a", reason="second")
    assert held_from(c) is S.LOADED


# -- events and time -------------------------------------------------------------


def test_time_must_not_go_backwards() -> None:
    c = make()
    with pytest.raises(ConsignmentError, match=r"earlier than its last change at 100.0"):
        transition(c, S.CLEARED, now=99.0, actor="a", reason="r")
    transition(c, S.CLEARED, now=150.0, actor="a", reason="r")
    with pytest.raises(ConsignmentError, match=r"time 149.0 is earlier"):
        transition(c, S.QUEUED, now=149.0, actor="a", reason="r")
    assert c.state is S.CLEARED and len(c.history) == 1
    transition(c, S.QUEUED, now=150.0, actor="a", reason="r")  # the same instant is fine
    for bad in (math.nan, math.inf):
        with pytest.raises(ConsignmentError, match="not a finite number"):
            transition(c, S.LOADED, now=bad, actor="a", reason="r")


@pytest.mark.parametrize(("actor", "reason", "msg"), [("", "r", "actor"), ("a", " ", "reason")])
def test_every_event_needs_an_actor_and_a_reason(actor: str, reason: str, msg: str) -> None:
    c = make()
    with pytest.raises(ConsignmentError, match=f"needs an? {msg}"):
        transition(c, S.CLEARED, now=200.0, actor=actor, reason=reason)
    assert c.history == []


def test_history_is_the_full_record() -> None:
    c = at(S.RECEIVED)
    assert [e.to_state for e in c.history] == PATH[S.RECEIVED]
    assert [e.from_state for e in c.history] == [S.DECLARED, *PATH[S.RECEIVED][:-1]]
    assert [e.at for e in c.history] == sorted(e.at for e in c.history)
    assert c.last_changed_at == c.history[-1].at


# -- priority ---------------------------------------------------------------------


def test_priority_perishables_then_priority_then_earliest() -> None:
    base = make()
    chips_urgent = replace(base, id="E-urgent", goods=CHIPS, priority=9, declared_at=1.0)
    chips_old = replace(base, id="E-old", goods=CHIPS, declared_at=2.0)
    mango_late = replace(base, id="F-late", goods=MANGO, declared_at=50.0)
    durian_early = replace(base, id="F-early", declared_at=10.0)
    durian_prio = replace(base, id="F-prio", priority=1, declared_at=90.0)
    tie_b = replace(base, id="F-tie-b", goods=MANGO, declared_at=50.0)
    order = sorted(
        [chips_old, tie_b, chips_urgent, mango_late, durian_early, durian_prio], key=priority_key
    )
    assert [c.id for c in order] == ["F-prio", "F-early", "F-late", "F-tie-b", "E-urgent", "E-old"]


# -- value checks ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "msg"),
    [
        (dict(category=GoodsCategory.FRUIT), "fruit needs a fruit kind"),
        (
            dict(category=GoodsCategory.ELECTRONICS, fruit_kind=FruitKind.MANGO),
            "electronics cannot have a fruit kind",
        ),
        (dict(category=GoodsCategory.ELECTRONICS, temp_min_c=2.0), "both a minimum and a maximum"),
        (
            dict(category=GoodsCategory.ELECTRONICS, temp_min_c=9.0, temp_max_c=2.0),
            "minimum 9.0 °C is above maximum 2.0 °C",
        ),
        (
            dict(category=GoodsCategory.ELECTRONICS, temp_min_c=math.nan, temp_max_c=2.0),
            "finite",
        ),
    ],
)
def test_goods_rejects_nonsense(kwargs: dict[str, Any], msg: str) -> None:
    with pytest.raises(ConsignmentError, match=msg):
        Goods(**kwargs)


def test_goods_properties() -> None:
    assert DURIAN.perishable and DURIAN.refrigerated
    assert DURIAN.required_lab_tests == {LabTest.CADMIUM, LabTest.AURAMINE_O}
    assert not CHIPS.perishable and not CHIPS.refrigerated and not CHIPS.required_lab_tests


def test_consignment_validates_container_and_weight() -> None:
    assert make().container_number == "CSQU3054383"
    with pytest.raises(ValueError, match="check digit is 1, expected 3"):
        make(container_number="CSQU3054381")
    for w in (0.0, -1.0, 45_000.5, math.nan):
        with pytest.raises(ConsignmentError, match="gross weight"):
            make(gross_weight_kg=w)
    make(gross_weight_kg=45_000.0)
    with pytest.raises(ConsignmentError, match="declared_at must be finite"):
        make(declared_at=math.inf)
