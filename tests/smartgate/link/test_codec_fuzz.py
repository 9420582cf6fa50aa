"""Robustness at the edge: whatever bytes arrive, the codec returns a valid Envelope or raises
FrameError, never anything else (hypothesis for arbitrary bytes and mutations, plus seeded
bulk runs that always cover the same ground). What it accepts also converts to the core's
message values and back to the same bytes."""

from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from smartgate.link.codec import (
    FrameError,
    decode_frame,
    decode_message,
    encode_frame,
    encode_message,
    validate_envelope,
)
from smartgate.link.proto import handoff_pb2 as pb
from tests.smartgate.link import framekit

SEED = 20261123


def _valid_frames() -> list[bytes]:
    envs = [make() for make in framekit.ALL_KINDS.values()] + framekit.export_exchange()
    return [encode_frame(e) for e in envs]


def _check(data: bytes) -> str:
    try:
        env = decode_frame(data)
    except FrameError as err:
        assert err.code in pb.ErrorCode.values()
        assert err.code != pb.ERROR_CODE_INTERNAL, str(err)  # a validator bug, not bad input
        assert str(err)
        return pb.ErrorCode.Name(err.code)
    validate_envelope(env)  # anything accepted is valid and re-encodable
    encode_frame(env)
    message = decode_message(data)  # and the session gets the same frame as values
    env.DiscardUnknownFields()  # the values carry only what this minor knows
    assert encode_message(message) == encode_frame(env)
    return "ok"


@settings(max_examples=300, deadline=None)
@given(st.binary(min_size=1, max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    _check(data)


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_mutated_valid_frames(data: st.DataObject) -> None:
    frame = bytearray(data.draw(st.sampled_from(_valid_frames())))
    for _ in range(data.draw(st.integers(1, 6))):
        i = data.draw(st.integers(0, len(frame) - 1))
        frame[i] = data.draw(st.integers(0, 255))
    _check(bytes(frame))


def test_random_bytes() -> None:
    rng = random.Random(SEED)
    for _ in range(1500):
        n = rng.choice((1, 2, 3, 5, 8, 16, 64, 256, 1024))
        _check(rng.randbytes(rng.randint(1, n)))


def test_truncations_of_valid_frames() -> None:
    outcomes: set[str] = set()
    for data in _valid_frames():
        for cut in range(len(data)):
            outcomes.add(_check(data[:cut]))
    assert "ERROR_CODE_MALFORMED" in outcomes


def test_single_byte_mutations_of_valid_frames() -> None:
    rng = random.Random(SEED + 1)
    frames = _valid_frames()
    outcomes: dict[str, int] = {}
    for _ in range(4000):
        data = bytearray(rng.choice(frames))
        i = rng.randrange(len(data))
        op = rng.random()
        if op < 0.6:
            data[i] = rng.randrange(256)
        elif op < 0.8:
            data[i] ^= 1 << rng.randrange(8)
        elif op < 0.9:
            del data[i]
        else:
            data.insert(i, rng.randrange(256))
        result = _check(bytes(data))
        outcomes[result] = outcomes.get(result, 0) + 1
    # the mutations reach past the wire-format check into the field validation
    assert {"ok", "ERROR_CODE_MALFORMED", "ERROR_CODE_INVALID_FIELD"} <= set(outcomes)


def test_stacked_mutations() -> None:
    rng = random.Random(SEED + 2)
    frames = _valid_frames()
    for _ in range(1000):
        data = bytearray(rng.choice(frames))
        for _ in range(rng.randint(2, 8)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        _check(bytes(data))
