"""What the VN side's handoff agent does next for one export consignment (pure).

The agent (smartgate/services/handoff_agent.py) is level-triggered: every poll it looks at the
consignment's lifecycle state, its latest handoff with the peer, the link and where the
vehicle stands, and `next_export_action` names the one step that is due. Because the
decision only reads durable state (desk records, the session's handoff records) and the
vehicle's reported position, a restart anywhere resumes with the right step, and repeating
a poll never repeats a step: each step moves one of those states on.

Also here: the offer body built from a desk consignment (`export_offer`), the wire form of
our identifiers and the CN-side yard spot an accepted vehicle drives to.
"""

from __future__ import annotations

import re
import zlib
from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import networkx as nx

from fleet.cargo.consignments import Consignment, ConsignmentState, FruitKind, GoodsCategory
from fleet.handoff import messages as m
from fleet.handoff.session import Handoff, HState, LinkState
from maps.queries import spot

__all__ = [
    "ExportAction",
    "export_offer",
    "handoff_id_for",
    "hs_code",
    "latest_export_handoff",
    "manifest",
    "next_export_action",
    "wire_id",
    "yard_goal",
]

S = ConsignmentState

# The desk records goods by kind, not by tariff line; the offer needs an HS code (6 digits).
FRUIT_HS: dict[FruitKind, str] = {
    FruitKind.DURIAN: "081060",
    FruitKind.DRAGON_FRUIT: "081090",
    FruitKind.JACKFRUIT: "081090",
    FruitKind.MANGO: "080450",
    FruitKind.WATERMELON: "080711",
    FruitKind.OTHER: "081090",
}
ELECTRONICS_HS = "854239"  # electronic integrated circuits, other
CN_YARD_SPOTS = ("L1", "L2", "L3", "L4")  # names of the CN loading spots an export may go to
_NOT_ID = re.compile(r"[^A-Za-z0-9._:/-]")


class ExportAction(StrEnum):
    WAIT = "wait"  # nothing is due (waiting for the peer, the vehicle or the link)
    OFFER = "offer"  # a new offer (first, or after an expired / cancelled one)
    RELEASE = "release"  # accepted: release the vehicle in the session
    GO = "go"  # released: desk handover + let the vehicle cross (orchestrator)
    REPORT_CROSSING = "report_crossing"  # the vehicle is past km 0
    RECEIVED = "received"  # custody receipt booked: close the consignment
    REFUSED = "refused"  # refused: desk REFUSED, vehicle holds (or returns)


def wire_id(text: str) -> str:
    """Our identifier as the protocol accepts it ([A-Za-z0-9][A-Za-z0-9._:/-]*)."""
    out = _NOT_ID.sub("-", text)
    return out if out[:1].isalnum() else f"x{out}"


def handoff_id_for(consignment_id: str, attempt: int) -> str:
    """One handoff id per offer attempt: stable, so a retried offer is recognisable."""
    return f"{wire_id(consignment_id)}.h{attempt}"[:64]


def hs_code(c: Consignment) -> str:
    g = c.goods
    if g.category is GoodsCategory.FRUIT and g.fruit_kind is not None:
        return FRUIT_HS[g.fruit_kind]
    return ELECTRONICS_HS


def manifest(c: Consignment) -> m.Consignment:
    """The offer's manifest from the desk's consignment (documents the peer checks)."""
    seals: tuple[m.Seal, ...] = ()
    if c.seal_number:
        seals = (
            m.Seal(
                seal_number=wire_id(c.seal_number),
                seal_type=m.SEAL_TYPE_MECHANICAL,
                issuing_side=m.SIDE_VN,
            ),
        )
    documents = [
        m.DocumentReference(
            document_type=m.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
            document_id=wire_id(c.customs_declaration),
            issuing_side=m.SIDE_VN,
        )
    ]
    if c.quarantine_certificate:
        documents.append(
            m.DocumentReference(
                document_type=m.DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE,
                document_id=wire_id(c.quarantine_certificate),
                issuing_side=m.SIDE_VN,
            )
        )
    for _test, number in sorted(c.lab_certificates.items()):
        documents.append(
            m.DocumentReference(
                document_type=m.DOCUMENT_TYPE_LAB_CERTIFICATE,
                document_id=wire_id(number),
                issuing_side=m.SIDE_VN,
            )
        )
    g = c.goods
    kind = g.fruit_kind.value if g.fruit_kind is not None else g.category.value
    temperature = None
    if g.temp_min_c is not None and g.temp_max_c is not None:
        temperature = m.TemperatureControl(
            set_point_celsius=(g.temp_min_c + g.temp_max_c) / 2,
            tolerance_celsius=min(20.0, (g.temp_max_c - g.temp_min_c) / 2),
        )
    return m.Consignment(
        consignment_id=wire_id(c.id),
        container_number=c.container_number,
        seals=seals,
        documents=tuple(documents),
        goods=(
            m.GoodsItem(
                hs_code=hs_code(c), description=kind.replace("_", " "), origin_country_code="VN"
            ),
        ),
        gross_weight_kg=c.gross_weight_kg,
        temperature=temperature,
    )


def export_offer(
    c: Consignment,
    *,
    handoff_id: str,
    vehicle_id: str,
    now: float,
    expires_in_s: float,
    arrival_in_s: float = 0.0,
) -> m.HandoffOffer:
    """The HandoffOffer for `c` on `vehicle_id` (control passes at km 0)."""
    t = datetime.fromtimestamp(now, UTC)
    return m.HandoffOffer(
        handoff_id=handoff_id,
        corridor_id=c.corridor,
        model=m.HANDOFF_MODEL_CONTROL_AT_KM0,
        vehicle=m.Vehicle(
            vehicle_id=wire_id(vehicle_id),
            home_side=m.SIDE_VN,
            vehicle_type=m.VEHICLE_TYPE_SMART_GUIDE_VEHICLE,
        ),
        consignment=manifest(c),
        planned_arrival=m.Timestamp.from_datetime(t + timedelta(seconds=arrival_in_s)),
        offer_expires_at=m.Timestamp.from_datetime(t + timedelta(seconds=expires_in_s)),
    )


def yard_goal(g: nx.DiGraph, consignment_id: str, destination_id: str = "") -> str | None:
    """Where an accepted export vehicle drives on the CN side: the peer's destination if it
    names a node of our guide graph ``g``, else one of the CN_YARD_SPOTS the map has, picked
    by a stable hash of the id (found by name and side, so the ids' spelling does not
    matter)."""
    if destination_id in g:
        return destination_id
    spots = [n for name in CN_YARD_SPOTS if (n := spot(g, "CN", name)) is not None]
    if not spots:
        return None
    return spots[zlib.crc32(consignment_id.encode()) % len(spots)]


def latest_export_handoff(handoffs: Collection[Handoff], consignment_id: str) -> Handoff | None:
    """Our most recent offer for the consignment (attempts are numbered in the id)."""
    mine = [h for h in handoffs if h.consignment_id == wire_id(consignment_id)]
    return max(mine, key=lambda h: (_attempt(h.handoff_id), h.updated_at), default=None)


def _attempt(handoff_id: str) -> int:
    _, _, n = handoff_id.rpartition(".h")
    return int(n) if n.isdigit() else 0


def next_export_action(
    state: ConsignmentState,
    handoff: Handoff | None,
    link: LinkState,
    *,
    at_stop_line: bool,
    past_zero_line: bool,
    crossing_allowed: bool,
    now: float,
) -> ExportAction:
    """The one step due for an export consignment (see the module docstring).

    `crossing_allowed`: the orchestrator was told (since it started) that the vehicle may
    cross; `past_zero_line`: the vehicle's reported position is on the CN side.
    """
    h = handoff.state if handoff is not None else None
    if h == HState.TRANSFERRED:
        return ExportAction.RECEIVED if state is S.HANDED_OVER else ExportAction.WAIT
    if h == HState.CROSSED:
        return ExportAction.WAIT  # the receipt comes from the peer (resent after outages)
    if h == HState.RELEASED:
        if state is S.AT_ZERO_LINE or not crossing_allowed:
            return ExportAction.GO
        return ExportAction.REPORT_CROSSING if past_zero_line else ExportAction.WAIT
    if h == HState.ACCEPTED:
        assert handoff is not None
        if link == LinkState.CONNECTED and now < handoff.valid_until:
            return ExportAction.RELEASE
        return ExportAction.WAIT  # holds at the stop line; the session cancels if it expires
    if h == HState.REFUSED:
        return ExportAction.REFUSED if state is S.AT_ZERO_LINE else ExportAction.WAIT
    if h == HState.OFFERED:
        return ExportAction.WAIT
    # No handoff yet, or the last one expired / was cancelled: offer (again) when possible.
    if state is S.AT_ZERO_LINE and at_stop_line and link == LinkState.CONNECTED:
        return ExportAction.OFFER
    return ExportAction.WAIT
