"""A consignment's trip with the vehicle bound to it: where the vehicle should stand
next, what happens when it stands there, and what to do when it is lost.

The gate's trip rules, in one place: the consignment desk applies them (persisting
each outcome before any command goes out) in normal operation and in recovery alike.
Pure: the caller says what it knows; the rules say what follows.

==============  ===========================  =====================================
state           the vehicle idle at           then
==============  ===========================  =====================================
queued          its pickup (loading spot)     a crane lift is ordered, once; the
                                              consignment is loaded when it is done
loaded          its pickup                    in_transit, sent to its direction's
                                              stop line before the zero line
in_transit      the stop line                 at_zero_line: waits for the other side
refused         its pickup                    a crane lift takes the goods off, once;
                                              returned, and the vehicle freed, when
                                              it is done
held            the inspection spot           the vehicle is freed (goods unloaded)
==============  ===========================  =====================================

A refused consignment with an operator's attention (no way back before km 0) has no
target: it holds where it is. A vehicle that stayed silent after a restart frees
its consignment if nothing was loaded yet, else the consignment is held for an
operator to find the goods.
"""

from __future__ import annotations

from dataclasses import dataclass

from fleet.cargo.consignments import ConsignmentState, Direction
from fleet.cargo.dispatch import STOP_LINE_FOR

S = ConsignmentState
# Before loading nothing is on the vehicle: a hold or a lost vehicle simply frees it.
NOT_LOADED = frozenset({S.DECLARED, S.CLEARED, S.QUEUED})


@dataclass(frozen=True)
class Trip:
    """What the rules need to know of a bound consignment."""

    state: ConsignmentState
    direction: Direction
    vehicle: str
    pickup: str | None  # its loading spot
    inspection: str | None  # the inspection spot on its side, if the map has one
    attention: bool = False  # it waits for an operator
    lift_pending: bool = False  # a lift is ordered and not yet done

    @property
    def drop(self) -> str:
        """The stop line before the zero line on its direction's lane."""
        return STOP_LINE_FOR[self.direction]


@dataclass(frozen=True)
class Outcome:
    """What follows: transitions in order (state, reason), a lift to order at the
    pickup (onto the vehicle, or off it), where to send the vehicle, why it is freed
    (None: it stays bound), and what an operator must know."""

    steps: tuple[tuple[ConsignmentState, str], ...] = ()
    order_lift: bool = False
    order_unload: bool = False
    send_to: str | None = None
    free: str | None = None
    attention: str | None = None


def target(trip: Trip) -> str | None:
    """Where the bound vehicle should stand for the consignment's next step."""
    if trip.state is S.REFUSED and trip.attention:
        return None  # refused with no way back: it holds for an operator
    if trip.state in (S.QUEUED, S.LOADED, S.REFUSED):
        return trip.pickup
    if trip.state in (S.IN_TRANSIT, S.AT_ZERO_LINE):
        return trip.drop
    if trip.state is S.HELD:
        return trip.inspection
    return None


def waiting_there(trip: Trip) -> str | None:
    """Why a vehicle standing at its target has nothing to do yet, if so."""
    if trip.state is S.QUEUED and trip.lift_pending:
        return "loading ordered: waits for the crane"
    if trip.state is S.AT_ZERO_LINE:
        return "waits for the other side at the zero line"
    if trip.state is S.REFUSED and trip.lift_pending:
        return "unloading ordered: waits for the crane"
    return None


def arrived(trip: Trip) -> Outcome:
    """The vehicle stands idle at :func:`target` (and is not :func:`waiting_there`)."""
    vid, drop = trip.vehicle, trip.drop
    if trip.state is S.QUEUED:
        return Outcome(order_lift=True)
    if trip.state is S.LOADED:
        return Outcome(steps=((S.IN_TRANSIT, f"vehicle {vid} leaves for {drop}"),), send_to=drop)
    if trip.state is S.IN_TRANSIT:
        return Outcome(steps=((S.AT_ZERO_LINE, f"vehicle {vid} stopped at {drop}"),))
    if trip.state is S.REFUSED:
        # Back where it was loaded, with the container still on: a vehicle freed now
        # would be given a second one on top. It is returned when the crane is done.
        return Outcome(order_unload=True)
    if trip.state is S.HELD:
        return Outcome(free=f"unloaded at the inspection zone ({trip.inspection})")
    return Outcome()


def lost(trip: Trip, why: str) -> Outcome:
    """The vehicle stayed silent (``why``): free the consignment if nothing was
    loaded, else hold it for an operator to find the goods."""
    if trip.state in NOT_LOADED:
        return Outcome(free=why + "; nothing was loaded")
    attention = why + f"; consignment was {trip.state}: find the goods"
    steps = () if trip.state is S.HELD else ((S.HELD, attention),)
    return Outcome(steps=steps, attention=attention)
