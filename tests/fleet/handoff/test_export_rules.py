"""The pure rules behind the agent: the next step per consignment, the offer body, the maps."""

from __future__ import annotations

import networkx as nx
import pytest

from fleet.cargo.consignments import (
    Consignment,
    ConsignmentState,
    Direction,
    FruitKind,
    Goods,
    GoodsCategory,
    LabTest,
)
from fleet.handoff import messages as m
from fleet.handoff.export import (
    ExportAction,
    export_offer,
    handoff_id_for,
    latest_export_handoff,
    next_export_action,
    wire_id,
    yard_goal,
)
from fleet.handoff.session import Handoff, HState, LinkState, Role
from maps.queries import way_back
from smartgate.link.codec import PROTOBUF_WIRE
from smartgate.link.peer import PeerRules, decide

S = ConsignmentState
A = ExportAction
UP, LAG, DOWN = LinkState.CONNECTED, LinkState.LAGGING, LinkState.DOWN


def durian(i: int = 1) -> Consignment:
    c = Consignment(
        id=f"VN-2026-{i:06d}",
        container_number="CSQU3054383",
        seal_number="ML 0000001",  # a space: not an identifier on the wire
        goods=Goods(GoodsCategory.FRUIT, FruitKind.DURIAN, temp_min_c=6.0, temp_max_c=10.0),
        direction=Direction.EXPORT,
        corridor="huu-nghi",
        customs_declaration="305000000001",
        gross_weight_kg=24_500.0,
        declared_at=0.0,
        quarantine_certificate="KD-2026-0001",
        lab_certificates={LabTest.CADMIUM: "LAB-CD-1", LabTest.AURAMINE_O: "LAB-AO-1"},
    )
    return c


def handoff(state: HState, hid: str = "VN-2026-000001.h1", valid_until: float = 1e12) -> Handoff:
    return Handoff(
        handoff_id=hid,
        role=Role.OFFERING,
        kind="offer",
        corridor_id="huu-nghi",
        from_side=m.SIDE_VN,
        vehicle_id="hn-01",
        consignment_id="VN-2026-000001",
        offer_message_id="m",
        offer_digest="d",
        payload=b"",
        state=state,
        expires_at=1e12,
        valid_until=valid_until,
    )


def step(
    state: ConsignmentState,
    h: Handoff | None,
    link: LinkState = UP,
    *,
    at_stop_line: bool = True,
    past: bool = False,
    allowed: bool = False,
) -> ExportAction:
    return next_export_action(
        state,
        h,
        link,
        at_stop_line=at_stop_line,
        past_zero_line=past,
        crossing_allowed=allowed,
        now=100.0,
    )


def test_offers_only_at_the_stop_line_on_a_connected_link() -> None:
    assert step(S.AT_ZERO_LINE, None) is A.OFFER
    assert step(S.AT_ZERO_LINE, None, DOWN) is A.WAIT
    assert step(S.AT_ZERO_LINE, None, LAG) is A.WAIT
    assert step(S.AT_ZERO_LINE, None, at_stop_line=False) is A.WAIT
    assert step(S.IN_TRANSIT, None) is A.WAIT
    assert step(S.AT_ZERO_LINE, handoff(HState.OFFERED)) is A.WAIT  # one open offer at a time
    for lapsed in (HState.EXPIRED, HState.CANCELLED):  # offered again
        assert step(S.AT_ZERO_LINE, handoff(lapsed)) is A.OFFER
        assert step(S.AT_ZERO_LINE, handoff(lapsed), DOWN) is A.WAIT


def test_an_acceptance_releases_only_while_connected_and_valid() -> None:
    assert step(S.AT_ZERO_LINE, handoff(HState.ACCEPTED)) is A.RELEASE
    assert step(S.AT_ZERO_LINE, handoff(HState.ACCEPTED), DOWN) is A.WAIT
    assert step(S.AT_ZERO_LINE, handoff(HState.ACCEPTED), LAG) is A.WAIT
    assert step(S.AT_ZERO_LINE, handoff(HState.ACCEPTED, valid_until=50.0)) is A.WAIT


def test_released_vehicle_goes_then_reports_its_crossing() -> None:
    rel = handoff(HState.RELEASED)
    assert step(S.AT_ZERO_LINE, rel) is A.GO
    assert step(S.HANDED_OVER, rel) is A.GO  # after a restart: tell the orchestrator again
    assert step(S.HANDED_OVER, rel, allowed=True) is A.WAIT
    assert step(S.HANDED_OVER, rel, DOWN, allowed=True, past=True) is A.REPORT_CROSSING
    assert step(S.HANDED_OVER, handoff(HState.CROSSED), past=True) is A.WAIT


def test_custody_closes_the_consignment_once() -> None:
    assert step(S.HANDED_OVER, handoff(HState.TRANSFERRED)) is A.RECEIVED
    assert step(S.RECEIVED, handoff(HState.TRANSFERRED)) is A.WAIT


def test_refusal_is_recorded_once() -> None:
    assert step(S.AT_ZERO_LINE, handoff(HState.REFUSED)) is A.REFUSED
    assert step(S.REFUSED, handoff(HState.REFUSED)) is A.WAIT


def test_latest_attempt_wins() -> None:
    old = handoff(HState.EXPIRED, "VN-2026-000001.h1")
    new = handoff(HState.OFFERED, "VN-2026-000001.h2")
    other = handoff(HState.OFFERED, "VN-2026-000002.h1")
    other.consignment_id = "VN-2026-000002"
    assert latest_export_handoff([new, old, other], "VN-2026-000001") is new
    assert latest_export_handoff([other], "VN-2026-000001") is None
    assert handoff_id_for("VN-2026-000001", 2) == "VN-2026-000001.h2"


def test_offer_is_a_valid_frame_the_reference_peer_accepts() -> None:
    c = durian()
    body = export_offer(
        c, handoff_id="VN-2026-000001.h1", vehicle_id="hn_01", now=1.8e9, expires_in_s=600
    )
    vn = m.PeerId(side=m.SIDE_VN, system_id="vn-smartgate-lang-son")
    header = m.Header(
        message_id="vn.1",
        sequence=1,
        sender=vn,
        timestamp=m.Timestamp.from_unix(1.8e9),
        protocol_major=m.PROTOCOL_MAJOR,
        protocol_minor=m.PROTOCOL_MINOR,
    )
    PROTOBUF_WIRE.check(m.Envelope(header=header, body=body))
    load = body.consignment
    assert load is not None and load.temperature is not None
    assert body.vehicle.vehicle_id == "hn_01" and load.seals[0].seal_number == "ML-0000001"
    assert [g.hs_code for g in load.goods] == ["081060"]
    assert load.temperature.set_point_celsius == 8.0 and load.temperature.tolerance_celsius == 2.0
    kinds = sorted(d.document_type for d in load.documents)
    assert kinds == sorted(
        [
            m.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
            m.DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE,
            m.DOCUMENT_TYPE_LAB_CERTIFICATE,
            m.DOCUMENT_TYPE_LAB_CERTIFICATE,
        ]
    )
    assert decide(PeerRules(), body, 0) is None
    c.lab_certificates.clear()  # durian without its lab results: the CN rules refuse it
    bare = export_offer(c, handoff_id="x.h1", vehicle_id="hn_01", now=1.8e9, expires_in_s=600)
    verdict = decide(PeerRules(), bare, 0)
    assert verdict is not None and verdict[0] == m.REFUSAL_REASON_QUARANTINE_NOT_CLEARED


@pytest.mark.parametrize("corridor", ["huu-nghi", "tan-thanh"])
def test_the_way_back_from_the_export_stop_line_stays_on_our_side(
    graphs: dict[str, nx.DiGraph], corridor: str
) -> None:
    g = graphs[corridor]
    assert way_back(g, "SL-E-zero", "vn-spot-L1")  # the turnaround at the stop line
    assert not way_back(g, "SL-E-zero", "cn-spot-L1")  # only across km 0
    assert way_back(g, "vn-spot-L1", "SL-E-zero")
    goal = yard_goal(g, "VN-2026-000001")
    assert goal is not None and goal.startswith("cn-spot-L")
    assert yard_goal(g, "VN-2026-000001", "cn-spot-P1") == "cn-spot-P1"
    # Spread over the first four CN loading spots, by name (not L5-L8, not VN's).
    goals = {yard_goal(g, f"VN-2026-{i:06d}") for i in range(200)}
    assert goals == {"cn-spot-L1", "cn-spot-L2", "cn-spot-L3", "cn-spot-L4"}


def test_wire_ids() -> None:
    assert wire_id("hn_01") == "hn_01"
    assert wire_id("ML 0000001") == "ML-0000001"
    assert wire_id("_x") == "x_x"
