"""Strict codec for frames of the cross-border handoff link (docs/handoff-protocol.md).

Bytes <-> protobuf <-> the core's message values (fleet.handoff.messages): `decode_frame` /
`encode_frame` work on the generated protobuf classes, `decode_message` / `encode_message`
on the core's values, and `PROTOBUF_WIRE` is what the session is given to encode with.

The peer is a foreign system we do not control, so every frame is checked at the edge before
any business logic sees it: size, wire format, protocol version, required fields, identifier
syntax, ranges and enum values. Any bad input raises `FrameError` (a `ValueError`) carrying an
`ErrorCode` from the proto and a message naming the field, ready to be sent back in an `Error`
body; no other exception type escapes `decode_frame`, whatever the bytes. Outgoing frames go
through the same checks in `encode_frame`, so we never emit what we would reject.

Authorisation (a peer acting only for its own side and corridors) and handoff state checks
need the link's context and live in the session (fleet.handoff.session), not here.
"""

from __future__ import annotations

import dataclasses
import math
import re
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import timestamp_pb2, unknown_fields
from google.protobuf.descriptor import Descriptor
from google.protobuf.message import DecodeError, Message

from fleet.handoff import messages as m
from fleet.handoff.messages import (
    ID_RE,
    MAX_ID_LEN,
    MAX_SEQUENCE,
    MAX_TEXT_LEN,
    PROTOCOL_MAJOR,
    PROTOCOL_MINOR,
    FrameError,
)
from smartgate.link.proto import handoff_pb2 as pb

__all__ = [
    "KNOWN_CORRIDORS",
    "MAX_FRAME_SIZE",
    "MAX_ID_LEN",
    "MAX_SEQUENCE",
    "MAX_TEXT_LEN",
    "PROTOBUF_WIRE",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "FrameError",
    "ProtobufWire",
    "body_to_proto",
    "decode_frame",
    "decode_message",
    "encode_frame",
    "encode_message",
    "error_envelope",
    "from_proto",
    "is_valid_container_number",
    "new_header",
    "to_proto",
    "validate_envelope",
]

MAX_FRAME_SIZE = 64 * 1024
KNOWN_CORRIDORS: frozenset[str] = frozenset({"huu-nghi", "tan-thanh"})

# Region every reported position must fall in (both corridors with margin), WGS84 degrees.
LON_MIN, LON_MAX = 106.3, 107.2
LAT_MIN, LAT_MAX = 21.6, 22.4
MAP_ABS_MAX_M = 100_000.0  # corridor map frames are a few km across
MAX_SPEED_MPS = 30.0  # 108 km/h: far above any vehicle here, catches unit mix-ups
MAX_WEIGHT_KG = 100_000.0  # above any legal road vehicle + load
TEMP_MIN_C, TEMP_MAX_C = -70.0, 50.0  # ultra-low-temperature reefers .. ambient
MAX_TOLERANCE_C = 20.0
# Timestamps outside this window are clock faults or garbage, not real events.
TS_MIN = int(datetime(2020, 1, 1, tzinfo=UTC).timestamp())
TS_MAX = int(datetime(2100, 1, 1, tzinfo=UTC).timestamp())

MAX_NAME_LEN = 256
MAX_SEALS = 16
MAX_DOCUMENTS = 64
MAX_GOODS = 256
MAX_CORRIDORS = 16
MAX_OPEN_HANDOFFS = 10_000

_ID_RE = ID_RE
_CORRIDOR_RE = re.compile(r"[a-z0-9][a-z0-9-]*", re.ASCII)
_CONTAINER_RE = re.compile(r"[A-Z]{3}[UJZ][0-9]{7}", re.ASCII)
_COUNTRY_RE = re.compile(r"[A-Z]{2}", re.ASCII)
_HS_RE = re.compile(r"[0-9]{6,10}", re.ASCII)
_PACKAGE_RE = re.compile(r"[A-Z0-9]{2}", re.ASCII)

# ISO 6346 letter values: A=10 upwards, skipping multiples of 11.
_ISO6346_LETTERS: dict[str, int] = {}
_v = 10
for _c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ":
    if _v % 11 == 0:
        _v += 1
    _ISO6346_LETTERS[_c] = _v
    _v += 1
del _v, _c

_SIDES = (pb.SIDE_VN, pb.SIDE_CN)


def is_valid_container_number(number: str) -> bool:
    """ISO 6346: owner code (3 letters), category U/J/Z, 6-digit serial, check digit."""
    if _CONTAINER_RE.fullmatch(number) is None:
        return False
    total = 0
    for i, ch in enumerate(number[:10]):
        value = _ISO6346_LETTERS[ch] if ch.isalpha() else int(ch)
        total += value << i
    return total % 11 % 10 == int(number[10])


# ---------------------------------------------------------------------------------------------
# Field checks. Each raises FrameError naming the dotted field path.
# ---------------------------------------------------------------------------------------------


def _missing(path: str, what: str = "is required") -> FrameError:
    return FrameError(pb.ERROR_CODE_MISSING_FIELD, f"{path} {what}", path)


def _invalid(path: str, what: str) -> FrameError:
    return FrameError(pb.ERROR_CODE_INVALID_FIELD, f"{path} {what}", path)


def _id(value: str, path: str, *, required: bool = True) -> None:
    if not value:
        if required:
            raise _missing(path, "is empty")
        return
    if len(value) > MAX_ID_LEN:
        raise _invalid(path, f"is {len(value)} characters long (max {MAX_ID_LEN})")
    if _ID_RE.fullmatch(value) is None:
        raise _invalid(path, f"{value!r} is not an identifier ([A-Za-z0-9][A-Za-z0-9._:/-]*)")


def _text(value: str, path: str, limit: int = MAX_TEXT_LEN, *, required: bool = False) -> None:
    if not value and required:
        raise _missing(path, "is empty")
    if len(value) > limit:
        raise _invalid(path, f"is {len(value)} characters long (max {limit})")


def _pattern(value: str, path: str, regex: re.Pattern[str], what: str, *, required: bool) -> None:
    if not value:
        if required:
            raise _missing(path, "is empty")
        return
    if len(value) > MAX_ID_LEN or regex.fullmatch(value) is None:
        raise _invalid(path, f"{value[:MAX_ID_LEN]!r} is not {what}")


def _number(value: float, path: str, low: float, high: float, unit: str = "") -> None:
    if not math.isfinite(value) or not low <= value <= high:
        raise _invalid(path, f"{value!r}{unit} is outside [{low:g}, {high:g}]{unit}")


def _sequence(value: int, path: str, *, allow_zero: bool) -> None:
    if value == 0 and not allow_zero:
        raise _invalid(path, "is 0; sequence numbers start at 1")
    if value > MAX_SEQUENCE:
        raise _invalid(path, f"{value} exceeds 2^63-1")


def _enum(value: int, enum: Callable[[int], str], path: str, *, required: bool) -> None:
    try:
        enum(value)
    except ValueError:
        raise _invalid(path, f"has unknown enum value {value}") from None
    if value == 0 and required:
        raise _missing(path, "is UNSPECIFIED")


def _side(value: int, path: str) -> None:
    if value not in _SIDES:
        if value == pb.SIDE_UNSPECIFIED:
            raise _missing(path, "is SIDE_UNSPECIFIED")
        raise _invalid(path, f"has unknown side {value}")


def _timestamp(parent: Message, name: str, path: str, *, required: bool = True) -> None:
    if not parent.HasField(name):
        if required:
            raise _missing(path, "is unset")
        return
    ts: timestamp_pb2.Timestamp = getattr(parent, name)
    if not 0 <= ts.nanos <= 999_999_999:
        raise _invalid(path, f"has nanos {ts.nanos} outside [0, 999999999]")
    if not TS_MIN <= ts.seconds < TS_MAX:
        raise _invalid(path, f"has seconds {ts.seconds} outside years 2020..2099")


def _corridor(value: str, path: str, corridors: Collection[str]) -> None:
    _pattern(value, path, _CORRIDOR_RE, "a corridor id", required=True)
    if value not in corridors:
        raise _invalid(path, f"{value!r} is not a known corridor ({', '.join(sorted(corridors))})")


def _count(n: int, path: str, limit: int) -> None:
    if n > limit:
        raise _invalid(path, f"has {n} entries (max {limit})")


def _position(pos: pb.Position, path: str) -> None:
    _number(pos.longitude, f"{path}.longitude", LON_MIN, LON_MAX, "°E")
    _number(pos.latitude, f"{path}.latitude", LAT_MIN, LAT_MAX, "°N")
    for name in ("map_x_m", "map_y_m"):
        if pos.HasField(name):
            _number(getattr(pos, name), f"{path}.{name}", -MAP_ABS_MAX_M, MAP_ABS_MAX_M, " m")
    if pos.HasField("heading_rad"):
        _number(pos.heading_rad, f"{path}.heading_rad", -2 * math.pi, 2 * math.pi, " rad")


def _required_message(parent: Message, name: str, path: str) -> None:
    if not parent.HasField(name):
        raise _missing(path, "is unset")


def _peer(peer: pb.PeerId, path: str) -> None:
    _side(peer.side, f"{path}.side")
    _id(peer.system_id, f"{path}.system_id")


def _vehicle(v: pb.Vehicle, path: str) -> None:
    _id(v.vehicle_id, f"{path}.vehicle_id")
    _text(v.plate, f"{path}.plate", MAX_ID_LEN)
    _side(v.home_side, f"{path}.home_side")
    _enum(v.vehicle_type, pb.VehicleType.Name, f"{path}.vehicle_type", required=True)
    _text(v.manufacturer, f"{path}.manufacturer", MAX_NAME_LEN)
    _text(v.serial_number, f"{path}.serial_number", MAX_ID_LEN)


def _party(p: pb.Party, path: str) -> None:
    _id(p.party_id, f"{path}.party_id", required=False)
    _text(p.name, f"{path}.name", MAX_NAME_LEN)
    _pattern(
        p.country_code, f"{path}.country_code", _COUNTRY_RE, "ISO 3166-1 alpha-2", required=False
    )


def _container(value: str, path: str, *, required: bool) -> None:
    if not value:
        if required:
            raise _missing(path, "is empty")
        return
    if not is_valid_container_number(value):
        raise _invalid(path, f"{value[:MAX_ID_LEN]!r} is not an ISO 6346 container number")


def _consignment(c: pb.Consignment, path: str) -> None:
    _id(c.consignment_id, f"{path}.consignment_id")
    _container(c.container_number, f"{path}.container_number", required=False)
    _id(c.equipment_id, f"{path}.equipment_id", required=False)
    if not c.container_number and not c.equipment_id:
        raise _missing(path, "needs container_number or equipment_id")
    _count(len(c.seals), f"{path}.seals", MAX_SEALS)
    for i, seal in enumerate(c.seals):
        p = f"{path}.seals[{i}]"
        _id(seal.seal_number, f"{p}.seal_number")
        _enum(seal.seal_type, pb.SealType.Name, f"{p}.seal_type", required=True)
        _side(seal.issuing_side, f"{p}.issuing_side")
    _count(len(c.documents), f"{path}.documents", MAX_DOCUMENTS)
    declared = False
    for i, doc in enumerate(c.documents):
        p = f"{path}.documents[{i}]"
        _enum(doc.document_type, pb.DocumentType.Name, f"{p}.document_type", required=True)
        _id(doc.document_id, f"{p}.document_id")
        _side(doc.issuing_side, f"{p}.issuing_side")
        _timestamp(doc, "issued_at", f"{p}.issued_at", required=False)
        declared |= doc.document_type in (
            pb.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
            pb.DOCUMENT_TYPE_TRANSIT_DECLARATION,
        )
    if not declared:
        raise _missing(f"{path}.documents", "has no customs or transit declaration reference")
    _count(len(c.goods), f"{path}.goods", MAX_GOODS)
    if not c.goods:
        raise _missing(f"{path}.goods", "is empty")
    for i, item in enumerate(c.goods):
        p = f"{path}.goods[{i}]"
        _pattern(item.hs_code, f"{p}.hs_code", _HS_RE, "an HS code (6-10 digits)", required=True)
        _text(item.description, f"{p}.description", MAX_NAME_LEN)
        _pattern(
            item.package_type,
            f"{p}.package_type",
            _PACKAGE_RE,
            "a UN/ECE Rec. 21 package code",
            required=False,
        )
        _number(item.gross_weight_kg, f"{p}.gross_weight_kg", 0.0, MAX_WEIGHT_KG, " kg")
        _pattern(
            item.origin_country_code,
            f"{p}.origin_country_code",
            _COUNTRY_RE,
            "ISO 3166-1 alpha-2",
            required=False,
        )
    if c.gross_weight_kg == 0.0:
        raise _missing(f"{path}.gross_weight_kg", "is 0")
    _number(c.gross_weight_kg, f"{path}.gross_weight_kg", 0.0, MAX_WEIGHT_KG, " kg")
    if c.HasField("temperature"):
        t = c.temperature
        _number(
            t.set_point_celsius,
            f"{path}.temperature.set_point_celsius",
            TEMP_MIN_C,
            TEMP_MAX_C,
            " °C",
        )
        _number(
            t.tolerance_celsius,
            f"{path}.temperature.tolerance_celsius",
            0.0,
            MAX_TOLERANCE_C,
            " °C",
        )
    _party(c.consignor, f"{path}.consignor")
    _party(c.consignee, f"{path}.consignee")


def _offer_like(
    body: pb.HandoffOffer | pb.ReturnRequest,
    path: str,
    corridors: Collection[str],
    *,
    consignment_required: bool,
) -> None:
    _id(body.handoff_id, f"{path}.handoff_id")
    _corridor(body.corridor_id, f"{path}.corridor_id", corridors)
    _required_message(body, "vehicle", f"{path}.vehicle")
    _vehicle(body.vehicle, f"{path}.vehicle")
    if body.HasField("consignment"):
        _consignment(body.consignment, f"{path}.consignment")
    elif consignment_required:
        raise _missing(f"{path}.consignment", "is required for HANDOFF_MODEL_TRANSFER_AT_LINE")
    _timestamp(body, "planned_arrival", f"{path}.planned_arrival")
    _timestamp(body, "offer_expires_at", f"{path}.offer_expires_at")


# ---------------------------------------------------------------------------------------------
# Bodies
# ---------------------------------------------------------------------------------------------


def _hello(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.hello
    _required_message(b, "peer", "hello.peer")
    _peer(b.peer, "hello.peer")
    if b.peer != env.header.sender:
        raise _invalid("hello.peer", "differs from header.sender")
    if not b.corridor_ids:
        raise _missing("hello.corridor_ids", "is empty")
    _count(len(b.corridor_ids), "hello.corridor_ids", MAX_CORRIDORS)
    for i, cid in enumerate(b.corridor_ids):
        _corridor(cid, f"hello.corridor_ids[{i}]", corridors)
    if len(set(b.corridor_ids)) != len(b.corridor_ids):
        raise _invalid("hello.corridor_ids", "has duplicates")
    _sequence(b.resume_sequence, "hello.resume_sequence", allow_zero=True)
    _id(b.stream_epoch, "hello.stream_epoch")
    _id(b.resume_epoch, "hello.resume_epoch", required=False)
    _text(b.software_version, "hello.software_version", MAX_NAME_LEN)


def _offer(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.offer
    _enum(b.model, pb.HandoffModel.Name, "offer.model", required=True)
    _offer_like(
        b, "offer", corridors, consignment_required=b.model == pb.HANDOFF_MODEL_TRANSFER_AT_LINE
    )
    _id(b.transfer_slot_id, "offer.transfer_slot_id", required=False)


def _accept(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.accept
    _id(b.handoff_id, "accept.handoff_id")
    _id(b.offer_message_id, "accept.offer_message_id")
    _timestamp(b, "valid_until", "accept.valid_until")
    _id(b.destination_id, "accept.destination_id", required=False)
    _id(b.receiving_vehicle_id, "accept.receiving_vehicle_id", required=False)
    _id(b.transfer_slot_id, "accept.transfer_slot_id", required=False)


def _refuse(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.refuse
    _id(b.handoff_id, "refuse.handoff_id")
    _id(b.offer_message_id, "refuse.offer_message_id")
    _enum(b.reason, pb.RefusalReason.Name, "refuse.reason", required=True)
    _text(b.detail, "refuse.detail", required=b.reason == pb.REFUSAL_REASON_OTHER)
    _enum(
        b.suggested_disposition, pb.Disposition.Name, "refuse.suggested_disposition", required=False
    )
    _timestamp(b, "retry_after", "refuse.retry_after", required=False)


def _cancel(env: pb.Envelope, corridors: Collection[str]) -> None:
    _id(env.cancel.handoff_id, "cancel.handoff_id")
    _text(env.cancel.detail, "cancel.detail")


def _crossing(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.crossing
    _id(b.handoff_id, "crossing.handoff_id")
    _id(b.vehicle_id, "crossing.vehicle_id")
    _enum(b.kind, pb.CrossingKind.Name, "crossing.kind", required=True)
    _timestamp(b, "crossed_at", "crossing.crossed_at")
    _required_message(b, "position", "crossing.position")
    _position(b.position, "crossing.position")
    _number(b.speed_mps, "crossing.speed_mps", 0.0, MAX_SPEED_MPS, " m/s")


def _custody(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.custody
    _id(b.handoff_id, "custody.handoff_id")
    _id(b.receipt_id, "custody.receipt_id")
    _timestamp(b, "custody_at", "custody.custody_at")
    _id(b.consignment_id, "custody.consignment_id", required=False)
    _container(b.container_number, "custody.container_number", required=False)
    _count(len(b.seal_checks), "custody.seal_checks", MAX_SEALS)
    for i, check in enumerate(b.seal_checks):
        _id(check.seal_number, f"custody.seal_checks[{i}].seal_number")
    _id(b.vehicle_id, "custody.vehicle_id")
    _required_message(b, "position", "custody.position")
    _position(b.position, "custody.position")


def _return_request(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.return_request
    _offer_like(b, "return_request", corridors, consignment_required=False)
    _id(b.original_handoff_id, "return_request.original_handoff_id")


def _heartbeat(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.heartbeat
    _count(len(b.corridors), "heartbeat.corridors", MAX_CORRIDORS)
    seen: set[str] = set()
    for i, status in enumerate(b.corridors):
        p = f"heartbeat.corridors[{i}]"
        _corridor(status.corridor_id, f"{p}.corridor_id", corridors)
        if status.corridor_id in seen:
            raise _invalid(f"{p}.corridor_id", f"{status.corridor_id!r} is repeated")
        seen.add(status.corridor_id)
        if status.open_handoffs > MAX_OPEN_HANDOFFS:
            raise _invalid(f"{p}.open_handoffs", f"{status.open_handoffs} exceeds 10000")


def _ack(env: pb.Envelope, corridors: Collection[str]) -> None:
    _sequence(env.ack.ack_sequence, "ack.ack_sequence", allow_zero=True)


def _error(env: pb.Envelope, corridors: Collection[str]) -> None:
    b = env.error
    _enum(b.code, pb.ErrorCode.Name, "error.code", required=True)
    _text(b.message, "error.message")
    _id(b.ref_message_id, "error.ref_message_id", required=False)
    _sequence(b.ref_sequence, "error.ref_sequence", allow_zero=True)
    _id(b.handoff_id, "error.handoff_id", required=False)


_BODY_CHECKS: dict[str, Callable[[pb.Envelope, Collection[str]], None]] = {
    "hello": _hello,
    "offer": _offer,
    "accept": _accept,
    "refuse": _refuse,
    "cancel": _cancel,
    "crossing": _crossing,
    "custody": _custody,
    "return_request": _return_request,
    "heartbeat": _heartbeat,
    "ack": _ack,
    "error": _error,
}


def validate_envelope(env: pb.Envelope, *, corridors: Collection[str] = KNOWN_CORRIDORS) -> None:
    """Check a parsed Envelope against the spec; raise FrameError on the first violation.

    The version is checked before anything else: a frame of another major may mean anything.
    """
    if not env.HasField("header"):
        raise _missing("header", "is unset")
    h = env.header
    if h.protocol_major == 0:
        raise _missing("header.protocol_major", "is 0")
    if h.protocol_major != PROTOCOL_MAJOR:
        raise FrameError(
            pb.ERROR_CODE_UNSUPPORTED_VERSION,
            f"header.protocol_major {h.protocol_major} is not supported (only {PROTOCOL_MAJOR})",
            "header.protocol_major",
        )
    _id(h.message_id, "header.message_id")
    _sequence(h.sequence, "header.sequence", allow_zero=False)
    if h.HasField("previous_sequence") and h.previous_sequence >= h.sequence:
        raise _invalid(
            "header.previous_sequence",
            f"{h.previous_sequence} is not below header.sequence {h.sequence}",
        )
    _required_message(h, "sender", "header.sender")
    _peer(h.sender, "header.sender")
    _timestamp(h, "timestamp", "header.timestamp")
    kind = env.WhichOneof("body")
    if kind is None:
        if len(unknown_fields.UnknownFieldSet(env)):
            raise FrameError(
                pb.ERROR_CODE_UNSUPPORTED_MESSAGE,
                "body is of a kind this receiver does not know "
                f"(sender speaks minor {h.protocol_minor}, we speak {PROTOCOL_MINOR})",
                "body",
            )
        raise _missing("body", "is empty (no oneof member set)")
    _BODY_CHECKS[kind](env, corridors)


def decode_frame(
    data: bytes | bytearray | memoryview,
    *,
    max_size: int = MAX_FRAME_SIZE,
    corridors: Collection[str] = KNOWN_CORRIDORS,
) -> pb.Envelope:
    """Parse and validate one binary WebSocket frame; FrameError is the only failure mode."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise FrameError(pb.ERROR_CODE_MALFORMED, f"frame is {type(data).__name__}, not bytes")
    size = len(data) if not isinstance(data, memoryview) else data.nbytes
    if size > max_size:
        raise FrameError(pb.ERROR_CODE_TOO_LARGE, f"frame is {size} bytes (max {max_size})")
    if size == 0:
        raise FrameError(pb.ERROR_CODE_MALFORMED, "frame is empty")
    env = pb.Envelope()
    try:
        env.ParseFromString(bytes(data))
    except DecodeError as exc:
        raise FrameError(pb.ERROR_CODE_MALFORMED, f"not a valid Envelope: {exc}") from None
    except Exception as exc:  # the parser's contract is DecodeError; the edge's is FrameError
        raise FrameError(pb.ERROR_CODE_MALFORMED, f"not a valid Envelope: {exc!r}") from None
    try:
        validate_envelope(env, corridors=corridors)
    except FrameError:
        raise
    except Exception as exc:  # a validator bug must still surface as a rejection, not a crash
        raise FrameError(pb.ERROR_CODE_INTERNAL, f"validation failed: {exc!r}") from None
    return env


def encode_frame(
    env: pb.Envelope,
    *,
    max_size: int = MAX_FRAME_SIZE,
    corridors: Collection[str] = KNOWN_CORRIDORS,
) -> bytes:
    """Validate and serialise (deterministically, so a resent frame is byte-identical)."""
    validate_envelope(env, corridors=corridors)
    data = env.SerializeToString(deterministic=True)
    if len(data) > max_size:
        raise FrameError(pb.ERROR_CODE_TOO_LARGE, f"frame is {len(data)} bytes (max {max_size})")
    return data


def new_header(
    sender: pb.PeerId,
    sequence: int,
    *,
    message_id: str | None = None,
    now: datetime | None = None,
) -> pb.Header:
    """A header for an outgoing frame; the caller owns the persistent sequence counter."""
    h = pb.Header(
        message_id=message_id or str(uuid.uuid4()),
        sequence=sequence,
        protocol_major=PROTOCOL_MAJOR,
        protocol_minor=PROTOCOL_MINOR,
    )
    h.sender.CopyFrom(sender)
    h.timestamp.FromDatetime(now or datetime.now(UTC))
    return h


def error_envelope(
    code: int,
    message: str,
    *,
    sender: pb.PeerId,
    sequence: int,
    ref_message_id: str = "",
    ref_sequence: int = 0,
    handoff_id: str = "",
    fatal: bool = False,
    message_id: str | None = None,
    now: datetime | None = None,
) -> pb.Envelope:
    """Build the Error reply to a rejected frame (e.g. from a FrameError's code and text).

    Over-long messages are cut to the spec's limit and reference ids that would themselves be
    invalid (they came from a bad frame) are dropped, so the reply always passes encode_frame.
    """
    env = pb.Envelope()
    env.header.CopyFrom(new_header(sender, sequence, message_id=message_id, now=now))
    reply = m.error_reply(
        m.ErrorCode(code),
        message,
        ref_message_id=ref_message_id,
        ref_sequence=ref_sequence,
        handoff_id=handoff_id,
        fatal=fatal,
    )
    _fill(env.error, reply)
    return env


# ---------------------------------------------------------------------------------------------
# protobuf <-> the core's values, by the .proto's own descriptors: a value class has the
# message's name and its fields' names (fleet/handoff/messages.py), an enum the enum's name,
# so one walk serves every message, and a field added to both is converted without a line
# here. Presence follows the .proto: a message field (or an `optional` scalar) is set only
# if the value is not None, and a required one always, so a decoded frame converts back to
# the same bytes.
# ---------------------------------------------------------------------------------------------

# Per value class and field: (name, repeated, value class of a message field or None,
# enum class or None, None stands for "absent" (optional message or `optional` scalar)).
_Plan = tuple[tuple[str, bool, type[Any] | None, type[Any] | None, bool], ...]
_PLANS: dict[type[Any], _Plan] = {}
_V = TypeVar("_V")


def _plan(cls: type[Any], desc: Descriptor) -> _Plan:
    plan = _PLANS.get(cls)
    if plan is None:
        rows = []
        for f in dataclasses.fields(cls):
            fd = desc.fields_by_name[f.name]  # KeyError: the value class drifted from the .proto
            sub = None if fd.message_type is None else getattr(m, fd.message_type.name)
            enum = None if fd.enum_type is None else getattr(m, fd.enum_type.name)
            optional = fd.has_presence and f.default is None
            rows.append((f.name, fd.is_repeated, sub, enum, optional))
        plan = _PLANS[cls] = tuple(rows)
    return plan


def _fill(out: Message, value: Any) -> Message:
    """Write ``value`` (a value class instance) into the empty protobuf message ``out``."""
    for name, repeated, sub, _enum, _optional in _plan(type(value), out.DESCRIPTOR):
        v = getattr(value, name)
        if v is None:
            continue
        if sub is None:
            if repeated:
                getattr(out, name).extend(v)
            else:
                setattr(out, name, v)
        elif repeated:
            items = getattr(out, name)
            for item in v:
                _fill(items.add(), item)
        else:
            child = getattr(out, name)
            child.SetInParent()  # present even when every field is at its default
            _fill(child, v)
    return out


def _value(msg: Message, cls: type[_V]) -> _V:
    """The value class instance of the protobuf message ``msg``."""
    kw: dict[str, Any] = {}
    for name, repeated, sub, enum, optional in _plan(cls, msg.DESCRIPTOR):
        raw = getattr(msg, name)
        if repeated:
            kw[name] = tuple(raw) if sub is None else tuple(_value(x, sub) for x in raw)
        elif optional and not msg.HasField(name):
            kw[name] = None
        elif sub is not None:
            kw[name] = _value(raw, sub)
        else:
            kw[name] = raw if enum is None else enum(raw)
    return cls(**kw)


# body kind -> (value class, protobuf class)
_BODIES: dict[str, tuple[type[Any], type[Message]]] = {
    "hello": (m.Hello, pb.Hello),
    "offer": (m.HandoffOffer, pb.HandoffOffer),
    "accept": (m.HandoffAccept, pb.HandoffAccept),
    "refuse": (m.HandoffRefuse, pb.HandoffRefuse),
    "cancel": (m.HandoffCancel, pb.HandoffCancel),
    "crossing": (m.CrossingReport, pb.CrossingReport),
    "custody": (m.CustodyTransferred, pb.CustodyTransferred),
    "return_request": (m.ReturnRequest, pb.ReturnRequest),
    "heartbeat": (m.Heartbeat, pb.Heartbeat),
    "ack": (m.Ack, pb.Ack),
    "error": (m.Error, pb.Error),
}


def body_to_proto(body: m.Body) -> Message:
    """The protobuf message of a body (HandoffOffer -> pb.HandoffOffer, ...)."""
    return _fill(_BODIES[body.KIND][1](), body)


def to_proto(env: m.Envelope) -> pb.Envelope:
    """The protobuf Envelope of a message (no checks: `encode_message` checks)."""
    out = pb.Envelope()
    _fill(out.header, env.header)
    out.header.SetInParent()
    getattr(out, env.kind).CopyFrom(body_to_proto(env.body))  # sets the oneof even if empty
    return out


def from_proto(env: pb.Envelope) -> m.Envelope:
    """The message of a protobuf Envelope that passed `validate_envelope` (enum values are
    known, required fields set). `body_bytes` keeps the body as received."""
    kind = env.WhichOneof("body")
    if kind is None:
        raise ValueError("Envelope has no body")
    body = getattr(env, kind)
    return m.Envelope(
        header=_value(env.header, m.Header),
        body=_value(body, _BODIES[kind][0]),
        body_bytes=body.SerializeToString(deterministic=True),
    )


def decode_message(
    data: bytes | bytearray | memoryview,
    *,
    max_size: int = MAX_FRAME_SIZE,
    corridors: Collection[str] = KNOWN_CORRIDORS,
) -> m.Envelope:
    """`decode_frame`, as the core's message; FrameError is the only failure mode."""
    env = decode_frame(data, max_size=max_size, corridors=corridors)
    try:
        return from_proto(env)
    except Exception as exc:  # validated frames convert; a converter bug is still a rejection
        raise FrameError(pb.ERROR_CODE_INTERNAL, f"validation failed: {exc!r}") from None


def encode_message(
    env: m.Envelope,
    *,
    max_size: int = MAX_FRAME_SIZE,
    corridors: Collection[str] = KNOWN_CORRIDORS,
) -> bytes:
    """`encode_frame` of a core message: checked, deterministic bytes."""
    return encode_frame(to_proto(env), max_size=max_size, corridors=corridors)


_B = TypeVar("_B", m.HandoffOffer, m.ReturnRequest, m.CrossingReport)


class ProtobufWire:
    """The session's `WireFormat`: frames are protobuf Envelopes checked by this codec."""

    def encode(self, env: m.Envelope) -> bytes:
        return encode_message(env)

    def check(self, env: m.Envelope) -> None:
        validate_envelope(to_proto(env))

    def encode_body(self, body: m.HandoffOffer | m.ReturnRequest | m.CrossingReport) -> bytes:
        return body_to_proto(body).SerializeToString(deterministic=True)

    def decode_body(self, cls: type[_B], data: bytes) -> _B:
        return _value(_BODIES[cls.KIND][1].FromString(data), cls)

    def peek(self, data: bytes) -> tuple[m.Header, str | None] | None:
        env = pb.Envelope()
        try:
            env.ParseFromString(bytes(data))
            probe = pb.Envelope()
            probe.header.CopyFrom(env.header)
            probe.ack.SetInParent()
            validate_envelope(probe)
        except Exception:
            return None
        return _value(env.header, m.Header), env.WhichOneof("body")


PROTOBUF_WIRE = ProtobufWire()
