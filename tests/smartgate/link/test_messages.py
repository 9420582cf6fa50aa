"""The core's message values (fleet.handoff.messages) mirror the .proto 1:1 and convert
without losing a byte, so the session behaves as it did on protobuf messages."""

from __future__ import annotations

import dataclasses
import enum
import random
from datetime import UTC, datetime

import pytest
from google.protobuf.timestamp_pb2 import Timestamp as PbTimestamp

from fleet.handoff import messages as m
from smartgate.link.codec import (
    PROTOBUF_WIRE,
    FrameError,
    decode_frame,
    decode_message,
    encode_frame,
    encode_message,
    from_proto,
    to_proto,
)
from smartgate.link.proto import handoff_pb2 as pb
from tests.smartgate.link import framekit

ENUMS = list(pb.DESCRIPTOR.enum_types_by_name.values())
MESSAGES = [d for d in pb.DESCRIPTOR.message_types_by_name.values() if d.name != "Envelope"]


@pytest.mark.parametrize("desc", ENUMS, ids=[e.name for e in ENUMS])
def test_enums_have_the_proto_names_and_values(desc: object) -> None:
    cls = getattr(m, desc.name)  # type: ignore[attr-defined]
    assert issubclass(cls, enum.IntEnum)
    assert [(e.name, e.value) for e in cls] == [(v.name, v.number) for v in desc.values]  # type: ignore[attr-defined]
    for v in desc.values:  # type: ignore[attr-defined]
        assert getattr(m, v.name) is cls(v.number)  # the generated module's flat constants


@pytest.mark.parametrize("desc", MESSAGES, ids=[d.name for d in MESSAGES])
def test_messages_have_the_proto_fields(desc: object) -> None:
    cls = getattr(m, desc.name)  # type: ignore[attr-defined]
    names = [f.name for f in dataclasses.fields(cls)]
    assert names == [f.name for f in desc.fields]  # type: ignore[attr-defined]


def test_envelope_bodies_are_the_oneof() -> None:
    oneof = pb.DESCRIPTOR.message_types_by_name["Envelope"].oneofs_by_name["body"]
    kinds = {f.name: f.message_type.name for f in oneof.fields}
    assert {k: getattr(m, name).KIND for k, name in kinds.items()} == {k: k for k in kinds}


@pytest.mark.parametrize("kind", list(framekit.ALL_KINDS))
def test_every_kind_round_trips_byte_for_byte(kind: str) -> None:
    env = framekit.ALL_KINDS[kind]()
    data = encode_frame(env)
    message = decode_message(data)
    assert message.kind == kind
    assert encode_message(message) == data
    assert to_proto(message) == env
    assert message.body_bytes == getattr(env, kind).SerializeToString(deterministic=True)


def test_presence_is_kept() -> None:
    """Absent and present-but-empty sub-messages and optional scalars stay apart."""
    env = framekit.offer()
    env.offer.consignment.ClearField("consignor")
    env.offer.consignment.consignee.Clear()  # present, empty
    env.offer.consignment.ClearField("temperature")
    message = decode_message(encode_frame(env))
    assert isinstance(message.body, m.HandoffOffer) and message.body.consignment is not None
    c = message.body.consignment
    assert c.consignor is None and c.consignee == m.Party() and c.temperature is None
    assert encode_message(message) == encode_frame(env)
    env = framekit.crossing()
    env.crossing.position.map_x_m = 0.0  # set to zero is not unset
    env.crossing.position.ClearField("map_y_m")
    message = decode_message(encode_frame(env))
    assert isinstance(message.body, m.CrossingReport)
    assert message.body.position.map_x_m == 0.0 and message.body.position.map_y_m is None
    assert encode_message(message) == encode_frame(env)


def test_fields_of_a_newer_minor_stay_in_the_body_bytes() -> None:
    env = framekit.offer()
    newer = pb.Envelope.FromString(encode_frame(env))
    newer.offer.vehicle.MergeFromString(b"\xf8\x01\x07")  # field 31 (varint 7): unknown here
    message = decode_message(newer.SerializeToString())
    assert message.body_bytes == newer.offer.SerializeToString(deterministic=True)
    assert PROTOBUF_WIRE.encode_body(message.body) != message.body_bytes  # values drop it


def test_session_values_encode_as_checked_frames() -> None:
    """The codec's checks apply to values too: an invalid value is never encoded."""
    message = decode_message(encode_frame(framekit.crossing()))
    assert isinstance(message.body, m.CrossingReport)
    bad = dataclasses.replace(message, body=dataclasses.replace(message.body, speed_mps=-1.0))
    with pytest.raises(FrameError) as info:
        encode_message(bad)
    assert info.value.code == m.ERROR_CODE_INVALID_FIELD
    assert info.value.field == "crossing.speed_mps"
    with pytest.raises(FrameError):
        PROTOBUF_WIRE.check(bad)


def test_peek_reads_the_header_of_a_frame_with_a_bad_body() -> None:
    env = framekit.offer()
    env.offer.consignment.gross_weight_kg = -5.0
    data = env.SerializeToString()
    with pytest.raises(FrameError):
        decode_frame(data)
    peeked = PROTOBUF_WIRE.peek(data)
    assert peeked is not None
    header, kind = peeked
    assert kind == "offer" and header == from_proto(framekit.offer()).header
    assert header.message_id == framekit.OFFER_MESSAGE_ID and header.sequence == 2
    env.header.message_id = "not an id"
    assert PROTOBUF_WIRE.peek(env.SerializeToString()) is None
    assert PROTOBUF_WIRE.peek(b"\xff\x00garbage") is None


def test_timestamps_convert_as_protobuf_does() -> None:
    rng = random.Random(7)
    for _ in range(5000):
        t = rng.uniform(1.6e9, 4.0e9)
        want = PbTimestamp()
        want.FromDatetime(datetime.fromtimestamp(t, UTC))
        got = m.Timestamp.from_unix(t)
        assert (got.seconds, got.nanos) == (want.seconds, want.nanos)
        s, n = rng.randrange(1_577_836_800, 4_102_444_800), rng.randrange(10**9)
        pb_ts = PbTimestamp(seconds=s, nanos=n)
        assert m.Timestamp(seconds=s, nanos=n).to_unix() == pb_ts.ToDatetime(UTC).timestamp()
