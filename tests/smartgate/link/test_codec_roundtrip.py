"""Every body kind survives encode -> decode unchanged, byte-for-byte deterministically."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from smartgate.link.codec import (
    MAX_TEXT_LEN,
    FrameError,
    decode_frame,
    encode_frame,
    error_envelope,
    is_valid_container_number,
)
from smartgate.link.proto import handoff_pb2 as pb
from tests.smartgate.link import framekit


def test_samples_cover_every_body_kind() -> None:
    oneof = pb.Envelope.DESCRIPTOR.oneofs_by_name["body"]
    assert {f.name for f in oneof.fields} == set(framekit.ALL_KINDS)


@pytest.mark.parametrize("kind", sorted(framekit.ALL_KINDS))
def test_round_trip(kind: str) -> None:
    env = framekit.ALL_KINDS[kind]()
    data = encode_frame(env)
    back = decode_frame(data)
    assert back == env
    assert back.WhichOneof("body") == kind
    assert encode_frame(back) == data  # deterministic: a resent frame is byte-identical


def test_export_exchange_round_trips_in_order() -> None:
    frames = [encode_frame(e) for e in framekit.export_exchange()]
    kinds = [decode_frame(f).WhichOneof("body") for f in frames]
    assert kinds == [
        "hello", "hello", "offer", "ack", "accept", "ack", "crossing", "ack", "custody", "ack",
    ]  # fmt: skip
    # per sender, sequence numbers strictly increase
    for side in (pb.SIDE_VN, pb.SIDE_CN):
        seqs = [
            e.header.sequence for e in framekit.export_exchange() if e.header.sender.side == side
        ]
        assert seqs == sorted(set(seqs))


def test_accepts_bytearray_and_memoryview() -> None:
    data = encode_frame(framekit.offer())
    assert decode_frame(bytearray(data)) == framekit.offer()
    assert decode_frame(memoryview(data)) == framekit.offer()


def test_error_envelope_from_frame_error() -> None:
    with pytest.raises(FrameError) as info:
        decode_frame(b"\xff\xff")
    err = info.value
    now = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    env = error_envelope(
        err.code,
        str(err) + "x" * 5000,
        sender=framekit.VN,
        sequence=9,
        ref_message_id="bad id with spaces",
        ref_sequence=-3,
        handoff_id=framekit.HANDOFF_ID,
        fatal=True,
        now=now,
    )
    back = decode_frame(encode_frame(env))
    assert back.error.code == pb.ERROR_CODE_MALFORMED
    assert len(back.error.message) == MAX_TEXT_LEN
    assert back.error.ref_message_id == ""  # invalid reference dropped, not echoed
    assert back.error.ref_sequence == 0
    assert back.error.handoff_id == framekit.HANDOFF_ID
    assert back.error.fatal
    assert back.header.timestamp.ToDatetime(tzinfo=UTC) == now
    assert back.header.protocol_major == 1


def test_error_envelope_default_ids_are_unique() -> None:
    a = error_envelope(pb.ERROR_CODE_INTERNAL, "x", sender=framekit.CN, sequence=1)
    b = error_envelope(pb.ERROR_CODE_INTERNAL, "x", sender=framekit.CN, sequence=2)
    assert a.header.message_id != b.header.message_id


@pytest.mark.parametrize(
    ("number", "ok"),
    [
        ("CSQU3054383", True),
        ("MSCU1234566", True),
        ("CSQU3054384", False),  # wrong check digit
        ("CSQX3054383", False),  # category must be U, J or Z
        ("csqu3054383", False),
        ("CSQU305438", False),
        ("", False),
    ],
)
def test_iso6346(number: str, ok: bool) -> None:
    assert is_valid_container_number(number) is ok
