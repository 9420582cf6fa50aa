"""The trip rules on their own: each state's target, what arriving there does, and a
lost vehicle."""

from __future__ import annotations

import pytest

from fleet.cargo.consignments import ConsignmentState as S
from fleet.cargo.consignments import Direction
from fleet.cargo.trips import Outcome, Trip, arrived, lost, target, waiting_there


def trip(state: S, **kw: object) -> Trip:
    base: dict[str, object] = {
        "state": state,
        "direction": Direction.EXPORT,
        "vehicle": "hn_01",
        "pickup": "vn-spot-L3",
        "inspection": "vn-spot-X1",
    }
    return Trip(**(base | kw))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("state", "where"),
    [
        (S.QUEUED, "vn-spot-L3"),
        (S.LOADED, "vn-spot-L3"),
        (S.REFUSED, "vn-spot-L3"),
        (S.IN_TRANSIT, "SL-E-zero"),
        (S.AT_ZERO_LINE, "SL-E-zero"),
        (S.HELD, "vn-spot-X1"),
        (S.HANDED_OVER, None),
        (S.RECEIVED, None),
    ],
)
def test_each_state_has_its_place(state: S, where: str | None) -> None:
    assert target(trip(state)) == where


def test_imports_go_to_their_own_stop_line_and_a_refusal_with_no_way_back_holds() -> None:
    assert target(trip(S.IN_TRANSIT, direction=Direction.IMPORT)) == "SL-I-zero"
    assert target(trip(S.REFUSED, attention=True)) is None


def test_arriving_at_the_pickup_orders_a_lift_and_then_waits_for_the_crane() -> None:
    assert arrived(trip(S.QUEUED)) == Outcome(order_lift=True)
    assert waiting_there(trip(S.QUEUED)) is None
    assert waiting_there(trip(S.QUEUED, lift_pending=True)) is not None
    out = arrived(trip(S.LOADED))
    assert [s for s, _ in out.steps] == [S.IN_TRANSIT] and out.send_to == "SL-E-zero"
    assert [s for s, _ in arrived(trip(S.IN_TRANSIT)).steps] == [S.AT_ZERO_LINE]
    assert waiting_there(trip(S.AT_ZERO_LINE)) is not None


def test_a_refused_one_is_unloaded_and_a_held_one_unloaded_at_inspection() -> None:
    out = arrived(trip(S.REFUSED))  # back at its pickup: the crane takes the goods off
    assert out.order_unload and not out.order_lift and out.steps == () and out.free is None
    assert waiting_there(trip(S.REFUSED, lift_pending=True)) is not None
    out = arrived(trip(S.HELD))
    assert out.steps == () and out.free is not None and "vn-spot-X1" in out.free


def test_a_lost_vehicle_frees_what_it_had_not_loaded_and_holds_what_it_had() -> None:
    out = lost(trip(S.QUEUED), "silent")
    assert out.free == "silent; nothing was loaded" and out.steps == ()
    out = lost(trip(S.IN_TRANSIT), "silent")
    assert out.free is None and [s for s, _ in out.steps] == [S.HELD]
    assert out.attention is not None and "find the goods" in out.attention
    out = lost(trip(S.HELD), "silent")
    assert out.steps == () and out.attention is not None  # already held: only the note
