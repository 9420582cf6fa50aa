"""Valid frames of every body kind: one export exchange at Hữu Nghị plus the other kinds.

Tests mutate copies of these; the spec's worked examples show the same exchange.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from smartgate.link.codec import new_header
from smartgate.link.proto import handoff_pb2 as pb

VN = pb.PeerId(side=pb.SIDE_VN, system_id="vn-smartgate-lang-son")
CN = pb.PeerId(side=pb.SIDE_CN, system_id="cn-youyiguan-dispatch")
T0 = datetime(2026, 11, 23, 8, 0, 0, tzinfo=UTC)
HANDOFF_ID = "hn-20261123-0042"
OFFER_MESSAGE_ID = "6f1c2f0e-8d0a-4a35-9a57-0c3d4b1f0a01"
ZERO_LINE = pb.Position(longitude=106.7112, latitude=21.9747, map_x_m=512.0, map_y_m=1.5)


def _env(sender: pb.PeerId, seq: int, minutes: float, message_id: str | None = None) -> pb.Envelope:
    env = pb.Envelope()
    mid = message_id or f"{'vn' if sender.side == pb.SIDE_VN else 'cn'}-msg-{seq:06d}"
    env.header.CopyFrom(
        new_header(sender, seq, message_id=mid, now=T0 + timedelta(minutes=minutes))
    )
    return env


def _ts(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def vehicle() -> pb.Vehicle:
    return pb.Vehicle(
        vehicle_id="vn-sgv-07",
        plate="12H-000.07",
        home_side=pb.SIDE_VN,
        vehicle_type=pb.VEHICLE_TYPE_SMART_GUIDE_VEHICLE,
        manufacturer="example-motors",
        serial_number="SGV-2026-0007",
    )


def consignment() -> pb.Consignment:
    c = pb.Consignment(
        consignment_id="VN-UCR-2026-000123",
        container_number="CSQU3054383",
        gross_weight_kg=26_450.0,
    )
    c.seals.add(
        seal_number="VNCS-884211", seal_type=pb.SEAL_TYPE_ELECTRONIC, issuing_side=pb.SIDE_VN
    )
    c.documents.add(
        document_type=pb.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
        document_id="305123456789",
        issuing_side=pb.SIDE_VN,
    )
    c.documents.add(
        document_type=pb.DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE,
        document_id="PC-LS-2026-5521",
        issuing_side=pb.SIDE_VN,
    )
    c.documents.add(
        document_type=pb.DOCUMENT_TYPE_LAB_CERTIFICATE,
        document_id="LAB-CD-AO-2026-118",
        issuing_side=pb.SIDE_VN,
    )
    c.goods.add(
        hs_code="081060",
        description="Fresh durian",
        package_count=1_150,
        package_type="CT",
        gross_weight_kg=22_300.0,
        origin_country_code="VN",
    )
    c.temperature.set_point_celsius = 8.0
    c.temperature.tolerance_celsius = 2.0
    c.consignor.CopyFrom(
        pb.Party(party_id="0101234567", name="Example Fruit JSC", country_code="VN")
    )
    c.consignee.CopyFrom(
        pb.Party(party_id="91450000MA5K000000", name="Example Import Co.", country_code="CN")
    )
    return c


def hello_vn() -> pb.Envelope:
    env = _env(VN, 1, 0)
    env.hello.peer.CopyFrom(VN)
    env.hello.corridor_ids.extend(["huu-nghi", "tan-thanh"])
    env.hello.resume_sequence = 0
    env.hello.stream_epoch = "vn-epoch-1"
    env.hello.software_version = "smartgate 0.4.0"
    return env


def hello_cn() -> pb.Envelope:
    env = _env(CN, 1, 0)
    env.hello.peer.CopyFrom(CN)
    env.hello.corridor_ids.append("huu-nghi")
    env.hello.stream_epoch = "cn-epoch-1"
    return env


def offer() -> pb.Envelope:
    env = _env(VN, 2, 1, message_id=OFFER_MESSAGE_ID)
    o = env.offer
    o.handoff_id = HANDOFF_ID
    o.corridor_id = "huu-nghi"
    o.model = pb.HANDOFF_MODEL_CONTROL_AT_KM0
    o.vehicle.CopyFrom(vehicle())
    o.consignment.CopyFrom(consignment())
    o.planned_arrival.FromDatetime(_ts(6))
    o.offer_expires_at.FromDatetime(_ts(16))
    return env


def ack(sender: pb.PeerId = CN, seq: int = 2, acked: int = 2, minutes: float = 1.1) -> pb.Envelope:
    env = _env(sender, seq, minutes)
    env.ack.ack_sequence = acked
    return env


def accept() -> pb.Envelope:
    env = _env(CN, 3, 1.5)
    a = env.accept
    a.handoff_id = HANDOFF_ID
    a.offer_message_id = OFFER_MESSAGE_ID
    a.valid_until.FromDatetime(_ts(20))
    a.destination_id = "youyiguan-yard-B/bay-14"
    return env


def refuse() -> pb.Envelope:
    env = _env(CN, 3, 1.5)
    r = env.refuse
    r.handoff_id = HANDOFF_ID
    r.offer_message_id = OFFER_MESSAGE_ID
    r.reason = pb.REFUSAL_REASON_QUARANTINE_NOT_CLEARED
    r.detail = "lab certificate LAB-CD-AO-2026-118 not found in the exchange"
    r.suggested_disposition = pb.DISPOSITION_INSPECTION_ZONE
    r.retry_after.FromDatetime(_ts(60))
    return env


def cancel() -> pb.Envelope:
    env = _env(VN, 3, 2)
    env.cancel.handoff_id = HANDOFF_ID
    env.cancel.detail = "vehicle fault at the stop line"
    return env


def crossing() -> pb.Envelope:
    env = _env(VN, 4, 6)
    c = env.crossing
    c.handoff_id = HANDOFF_ID
    c.vehicle_id = "vn-sgv-07"
    c.kind = pb.CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE
    c.crossed_at.FromDatetime(_ts(6))
    c.position.CopyFrom(ZERO_LINE)
    c.speed_mps = 2.5
    return env


def custody() -> pb.Envelope:
    env = _env(CN, 5, 6.1)
    c = env.custody
    c.handoff_id = HANDOFF_ID
    c.receipt_id = "CN-RCPT-2026-778812"
    c.custody_at.FromDatetime(_ts(6))
    c.consignment_id = "VN-UCR-2026-000123"
    c.container_number = "CSQU3054383"
    c.seal_checks.add(seal_number="VNCS-884211", intact=True)
    c.vehicle_id = "vn-sgv-07"
    c.position.CopyFrom(ZERO_LINE)
    c.vehicle_control_transferred = True
    return env


def return_request() -> pb.Envelope:
    env = _env(CN, 6, 45)
    r = env.return_request
    r.handoff_id = "yy-20261123-0107"
    r.original_handoff_id = HANDOFF_ID
    r.corridor_id = "huu-nghi"
    r.vehicle.CopyFrom(vehicle())
    c = r.consignment
    c.consignment_id = "CN-UCR-2026-550017"
    c.container_number = "MSCU1234566"
    c.gross_weight_kg = 9_800.0
    c.documents.add(
        document_type=pb.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
        document_id="530120261123000017",
        issuing_side=pb.SIDE_CN,
    )
    c.goods.add(hs_code="854231", description="Processors", package_count=240, package_type="CT")
    r.planned_arrival.FromDatetime(_ts(55))
    r.offer_expires_at.FromDatetime(_ts(65))
    return env


def heartbeat() -> pb.Envelope:
    env = _env(CN, 7, 7)
    env.heartbeat.corridors.add(corridor_id="huu-nghi", accepting_offers=True, open_handoffs=3)
    return env


def error() -> pb.Envelope:
    env = _env(CN, 8, 3)
    e = env.error
    e.code = pb.ERROR_CODE_INVALID_FIELD
    e.message = "offer.consignment.gross_weight_kg -5.0 kg is outside [0, 100000] kg"
    e.ref_message_id = OFFER_MESSAGE_ID
    e.ref_sequence = 2
    e.handoff_id = HANDOFF_ID
    return env


ALL_KINDS = {
    "hello": hello_vn,
    "offer": offer,
    "accept": accept,
    "refuse": refuse,
    "cancel": cancel,
    "crossing": crossing,
    "custody": custody,
    "return_request": return_request,
    "heartbeat": heartbeat,
    "ack": ack,
    "error": error,
}


def export_exchange() -> list[pb.Envelope]:
    """Control handoff at km 0, VN -> CN, in wire order (both directions interleaved)."""
    return [
        hello_vn(),
        hello_cn(),
        offer(),
        ack(CN, 2, 2, 1.1),
        accept(),
        ack(VN, 3, 3, 1.6),
        crossing(),
        ack(CN, 4, 4, 6.05),
        custody(),
        ack(VN, 5, 5, 6.2),
    ]
