"""Each validation rule at the edge: the right ErrorCode and a message naming the field."""

from __future__ import annotations

import math
from collections.abc import Callable

import pytest
from google.protobuf.timestamp_pb2 import Timestamp

from smartgate.link.codec import FrameError, decode_frame, encode_frame
from smartgate.link.proto import handoff_pb2 as pb
from tests.smartgate.link import framekit

Mutator = Callable[[pb.Envelope], object]

MALFORMED = pb.ERROR_CODE_MALFORMED
MISSING = pb.ERROR_CODE_MISSING_FIELD
INVALID = pb.ERROR_CODE_INVALID_FIELD


def _reject(env: pb.Envelope) -> FrameError:
    """Serialise without validation (as a foreign peer might) and decode strictly."""
    with pytest.raises(FrameError) as info:
        decode_frame(env.SerializeToString())
    with pytest.raises(FrameError) as info_enc:
        encode_frame(env)  # we never send what we would reject
    assert info_enc.value.code == info.value.code
    return info.value


def _set(msg: object, **fields: object) -> bool:
    for name, value in fields.items():
        setattr(msg, name, value)
    return True


# (sample, mutation, expected code, expected substring of the message)
CASES: list[tuple[str, Callable[[], pb.Envelope], Mutator, int, str]] = [
    ("no header", framekit.ack, lambda e: e.ClearField("header"), MISSING, "header is unset"),
    ("major 0", framekit.ack, lambda e: setattr(e.header, "protocol_major", 0), MISSING,
     "protocol_major"),
    ("major 2", framekit.ack, lambda e: setattr(e.header, "protocol_major", 2),
     pb.ERROR_CODE_UNSUPPORTED_VERSION, "protocol_major 2 is not supported"),
    ("empty message id", framekit.ack, lambda e: setattr(e.header, "message_id", ""), MISSING,
     "header.message_id"),
    ("long message id", framekit.ack, lambda e: setattr(e.header, "message_id", "a" * 65),
     INVALID, "65 characters"),
    ("message id charset", framekit.ack, lambda e: setattr(e.header, "message_id", "a b"),
     INVALID, "not an identifier"),
    ("message id leading dash", framekit.ack, lambda e: setattr(e.header, "message_id", "-ab"),
     INVALID, "not an identifier"),
    ("message id newline", framekit.ack, lambda e: setattr(e.header, "message_id", "ab\n"),
     INVALID, "not an identifier"),
    ("sequence 0", framekit.ack, lambda e: setattr(e.header, "sequence", 0), INVALID,
     "header.sequence is 0"),
    ("sequence > int64", framekit.ack, lambda e: setattr(e.header, "sequence", 2**63), INVALID,
     "2^63-1"),
    ("no sender", framekit.ack, lambda e: e.header.ClearField("sender"), MISSING,
     "header.sender"),
    ("sender side unset", framekit.ack, lambda e: setattr(e.header.sender, "side", 0), MISSING,
     "header.sender.side"),
    ("sender side unknown", framekit.ack, lambda e: setattr(e.header.sender, "side", 7), INVALID,
     "unknown side 7"),
    ("sender system id empty", framekit.ack, lambda e: setattr(e.header.sender, "system_id", ""),
     MISSING, "header.sender.system_id"),
    ("timestamp unset", framekit.ack, lambda e: e.header.ClearField("timestamp"), MISSING,
     "header.timestamp is unset"),
    ("timestamp 1970", framekit.ack,
     lambda e: e.header.timestamp.CopyFrom(Timestamp(seconds=1)), INVALID, "seconds 1"),
    ("timestamp bad nanos", framekit.ack,
     lambda e: setattr(e.header.timestamp, "nanos", -1), INVALID, "nanos -1"),
    ("empty body", framekit.ack, lambda e: e.ClearField("ack"), MISSING, "body is empty"),
    # hello
    ("hello peer != sender", framekit.hello_vn, lambda e: setattr(e.hello.peer, "side", 2),
     INVALID, "differs from header.sender"),
    ("hello no corridors", framekit.hello_vn, lambda e: e.hello.ClearField("corridor_ids"),
     MISSING, "hello.corridor_ids"),
    ("hello unknown corridor", framekit.hello_vn, lambda e: e.hello.corridor_ids.append("lao-cai"),
     INVALID, "not a known corridor"),
    ("hello dup corridor", framekit.hello_vn, lambda e: e.hello.corridor_ids.append("huu-nghi"),
     INVALID, "duplicates"),
    ("hello no epoch", framekit.hello_vn, lambda e: setattr(e.hello, "stream_epoch", ""),
     MISSING, "hello.stream_epoch"),
    # offer
    ("offer no handoff id", framekit.offer, lambda e: setattr(e.offer, "handoff_id", ""), MISSING,
     "offer.handoff_id"),
    ("offer corridor", framekit.offer, lambda e: setattr(e.offer, "corridor_id", "Huu Nghi"),
     INVALID, "offer.corridor_id"),
    ("offer model unset", framekit.offer, lambda e: setattr(e.offer, "model", 0), MISSING,
     "offer.model"),
    ("offer model unknown", framekit.offer, lambda e: setattr(e.offer, "model", 42), INVALID,
     "unknown enum value 42"),
    ("offer no vehicle", framekit.offer, lambda e: e.offer.ClearField("vehicle"), MISSING,
     "offer.vehicle is unset"),
    ("offer vehicle type", framekit.offer, lambda e: setattr(e.offer.vehicle, "vehicle_type", 0),
     MISSING, "offer.vehicle.vehicle_type"),
    ("offer transfer needs load", framekit.offer,
     lambda e: (e.offer.ClearField("consignment"),
                _set(e.offer, model=pb.HANDOFF_MODEL_TRANSFER_AT_LINE)),
     MISSING, "offer.consignment"),
    ("offer no planned arrival", framekit.offer, lambda e: e.offer.ClearField("planned_arrival"),
     MISSING, "offer.planned_arrival"),
    ("offer no expiry", framekit.offer, lambda e: e.offer.ClearField("offer_expires_at"), MISSING,
     "offer.offer_expires_at"),
    ("negative weight", framekit.offer,
     lambda e: setattr(e.offer.consignment, "gross_weight_kg", -5.0), INVALID,
     "offer.consignment.gross_weight_kg"),
    ("zero weight", framekit.offer,
     lambda e: setattr(e.offer.consignment, "gross_weight_kg", 0.0), MISSING,
     "offer.consignment.gross_weight_kg is 0"),
    ("NaN weight", framekit.offer,
     lambda e: setattr(e.offer.consignment, "gross_weight_kg", math.nan), INVALID, "nan"),
    ("huge weight", framekit.offer,
     lambda e: setattr(e.offer.consignment, "gross_weight_kg", 2e6), INVALID, "gross_weight_kg"),
    ("goods negative weight", framekit.offer,
     lambda e: setattr(e.offer.consignment.goods[0], "gross_weight_kg", -1.0), INVALID,
     "goods[0].gross_weight_kg"),
    ("absurd temperature", framekit.offer,
     lambda e: setattr(e.offer.consignment.temperature, "set_point_celsius", 300.0), INVALID,
     "temperature.set_point_celsius"),
    ("inf temperature", framekit.offer,
     lambda e: setattr(e.offer.consignment.temperature, "set_point_celsius", math.inf), INVALID,
     "set_point_celsius"),
    ("negative tolerance", framekit.offer,
     lambda e: setattr(e.offer.consignment.temperature, "tolerance_celsius", -1.0), INVALID,
     "tolerance_celsius"),
    ("bad container check digit", framekit.offer,
     lambda e: setattr(e.offer.consignment, "container_number", "CSQU3054384"), INVALID,
     "ISO 6346"),
    ("no container nor equipment", framekit.offer,
     lambda e: e.offer.consignment.ClearField("container_number"), MISSING,
     "container_number or equipment_id"),
    ("no consignment id", framekit.offer,
     lambda e: setattr(e.offer.consignment, "consignment_id", ""), MISSING, "consignment_id"),
    ("no declaration", framekit.offer, lambda e: e.offer.consignment.documents.pop(0), MISSING,
     "declaration"),
    ("document type unset", framekit.offer,
     lambda e: setattr(e.offer.consignment.documents[1], "document_type", 0), MISSING,
     "documents[1].document_type"),
    ("seal number empty", framekit.offer,
     lambda e: setattr(e.offer.consignment.seals[0], "seal_number", ""), MISSING,
     "seals[0].seal_number"),
    ("too many seals", framekit.offer,
     lambda e: [e.offer.consignment.seals.add(seal_number=f"s{i}", seal_type=1, issuing_side=1)
                for i in range(20)], INVALID, "max 16"),
    ("no goods", framekit.offer, lambda e: e.offer.consignment.ClearField("goods"), MISSING,
     "goods is empty"),
    ("bad hs code", framekit.offer,
     lambda e: setattr(e.offer.consignment.goods[0], "hs_code", "0810"), INVALID, "HS code"),
    ("bad country", framekit.offer,
     lambda e: setattr(e.offer.consignment.consignor, "country_code", "VNM"), INVALID,
     "ISO 3166"),
    ("long description", framekit.offer,
     lambda e: setattr(e.offer.consignment.goods[0], "description", "x" * 300), INVALID,
     "max 256"),
    # accept / refuse / cancel
    ("accept no offer ref", framekit.accept, lambda e: setattr(e.accept, "offer_message_id", ""),
     MISSING, "accept.offer_message_id"),
    ("accept no validity", framekit.accept, lambda e: e.accept.ClearField("valid_until"), MISSING,
     "accept.valid_until"),
    ("refuse no reason", framekit.refuse, lambda e: setattr(e.refuse, "reason", 0), MISSING,
     "refuse.reason"),
    ("refuse other w/o detail", framekit.refuse,
     lambda e: _set(e.refuse, reason=pb.REFUSAL_REASON_OTHER, detail=""), MISSING,
     "refuse.detail"),
    ("refuse bad disposition", framekit.refuse,
     lambda e: setattr(e.refuse, "suggested_disposition", 9), INVALID, "suggested_disposition"),
    ("cancel long detail", framekit.cancel, lambda e: setattr(e.cancel, "detail", "x" * 1025),
     INVALID, "max 1024"),
    # crossing / custody positions
    ("crossing no position", framekit.crossing, lambda e: e.crossing.ClearField("position"),
     MISSING, "crossing.position is unset"),
    ("lon west of region", framekit.crossing,
     lambda e: setattr(e.crossing.position, "longitude", 105.8), INVALID,
     "crossing.position.longitude"),
    ("lat north of region", framekit.crossing,
     lambda e: setattr(e.crossing.position, "latitude", 22.5), INVALID,
     "crossing.position.latitude"),
    ("lon/lat swapped", framekit.crossing,
     lambda e: _set(e.crossing.position, longitude=21.97, latitude=106.71), INVALID,
     "longitude"),
    ("map x absurd", framekit.crossing,
     lambda e: setattr(e.crossing.position, "map_x_m", 1e9), INVALID, "map_x_m"),
    ("speed negative", framekit.crossing, lambda e: setattr(e.crossing, "speed_mps", -1.0),
     INVALID, "crossing.speed_mps"),
    ("crossing kind unset", framekit.crossing, lambda e: setattr(e.crossing, "kind", 0), MISSING,
     "crossing.kind"),
    ("crossing no time", framekit.crossing, lambda e: e.crossing.ClearField("crossed_at"), MISSING,
     "crossing.crossed_at"),
    ("custody no receipt", framekit.custody, lambda e: setattr(e.custody, "receipt_id", ""),
     MISSING, "custody.receipt_id"),
    ("custody bad container", framekit.custody,
     lambda e: setattr(e.custody, "container_number", "ABC"), INVALID, "ISO 6346"),
    ("custody position", framekit.custody,
     lambda e: setattr(e.custody.position, "latitude", 0.0), INVALID, "custody.position"),
    # return / heartbeat / ack / error
    ("return no original", framekit.return_request,
     lambda e: setattr(e.return_request, "original_handoff_id", ""), MISSING,
     "return_request.original_handoff_id"),
    ("return bad load", framekit.return_request,
     lambda e: setattr(e.return_request.consignment, "gross_weight_kg", -1.0), INVALID,
     "return_request.consignment.gross_weight_kg"),
    ("heartbeat unknown corridor", framekit.heartbeat,
     lambda e: e.heartbeat.corridors.add(corridor_id="mong-cai"), INVALID, "mong-cai"),
    ("heartbeat repeated corridor", framekit.heartbeat,
     lambda e: e.heartbeat.corridors.add(corridor_id="huu-nghi"), INVALID, "repeated"),
    ("ack beyond int64", framekit.ack, lambda e: setattr(e.ack, "ack_sequence", 2**64 - 1),
     INVALID, "ack.ack_sequence"),
    ("error code unset", framekit.error, lambda e: setattr(e.error, "code", 0), MISSING,
     "error.code"),
    ("error code unknown", framekit.error, lambda e: setattr(e.error, "code", 1000), INVALID,
     "unknown enum value 1000"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("sample", "mutate", "code", "text"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_rule(sample: Callable[[], pb.Envelope], mutate: Mutator, code: int, text: str) -> None:
    env = sample()
    mutate(env)
    err = _reject(env)
    assert err.code == code, (pb.ErrorCode.Name(err.code), str(err))
    assert text in str(err)
    assert isinstance(err, ValueError)


def test_empty_control_vehicle_offer_is_valid() -> None:
    """An empty vehicle may run through at km 0 (to fetch an import load)."""
    env = framekit.offer()
    env.offer.ClearField("consignment")
    assert decode_frame(encode_frame(env)) == env


def test_oversized_frame() -> None:
    data = encode_frame(framekit.offer())
    with pytest.raises(FrameError) as info:
        decode_frame(data, max_size=len(data) - 1)
    assert info.value.code == pb.ERROR_CODE_TOO_LARGE
    with pytest.raises(FrameError) as info:
        decode_frame(b"\x00" * (64 * 1024 + 1))
    assert info.value.code == pb.ERROR_CODE_TOO_LARGE
    with pytest.raises(FrameError) as info:
        encode_frame(framekit.offer(), max_size=100)
    assert info.value.code == pb.ERROR_CODE_TOO_LARGE


@pytest.mark.parametrize("data", [b"", b"\xff", b"\x0a\x05abc", b"\x0a\xff\xff\xff\xff\x0f"])
def test_garbage_is_malformed(data: bytes) -> None:
    with pytest.raises(FrameError) as info:
        decode_frame(data)
    assert info.value.code == MALFORMED


def test_truncated_frame_is_malformed() -> None:
    data = encode_frame(framekit.offer())
    with pytest.raises(FrameError) as info:
        decode_frame(data[:-3])
    assert info.value.code == MALFORMED


def test_invalid_utf8_is_malformed() -> None:
    env = framekit.ack()
    data = env.SerializeToString().replace(b"cn-msg-000002", b"cn-msg-\xff\xfe0002")
    with pytest.raises(FrameError) as info:
        decode_frame(data)
    assert info.value.code == MALFORMED


def test_not_bytes_is_malformed() -> None:
    with pytest.raises(FrameError) as info:
        decode_frame("text frame")  # type: ignore[arg-type]
    assert info.value.code == MALFORMED


def test_unknown_body_kind_is_unsupported_message() -> None:
    """A body added in a later minor arrives as an unknown field; say so, not just 'empty'."""
    env = framekit.ack()
    env.ClearField("ack")
    data = env.SerializeToString() + b"\xf2\x01\x00"  # field 30, length-delimited, empty
    with pytest.raises(FrameError) as info:
        decode_frame(data)
    assert info.value.code == pb.ERROR_CODE_UNSUPPORTED_MESSAGE


def test_unknown_fields_inside_known_messages_are_ignored() -> None:
    """Additive minor changes must not break older receivers."""
    data = encode_frame(framekit.accept()) + b"\xa8\x06\x01"  # field 101 varint on the Envelope
    assert decode_frame(data).accept.handoff_id == framekit.HANDOFF_ID


def test_newer_minor_is_accepted() -> None:
    env = framekit.ack()
    env.header.protocol_minor = 7
    assert decode_frame(encode_frame(env)).header.protocol_minor == 7


def test_custom_corridor_set() -> None:
    env = framekit.offer()
    env.offer.corridor_id = "coc-nam"
    assert decode_frame(env.SerializeToString(), corridors={"coc-nam"}).offer.corridor_id == (
        "coc-nam"
    )


def test_frame_error_carries_field_and_code_name() -> None:
    env = framekit.crossing()
    env.crossing.position.longitude = 0.0
    err = _reject(env)
    assert err.field == "crossing.position.longitude"
    assert err.code_name == "ERROR_CODE_INVALID_FIELD"
