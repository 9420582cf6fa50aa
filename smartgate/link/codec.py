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

import math
import re
import uuid
from collections.abc import Callable, Collection
from datetime import UTC, datetime
from typing import Any, TypeVar

from google.protobuf import timestamp_pb2, unknown_fields
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
    env.error.CopyFrom(_error_pb(reply))
    return env


# ---------------------------------------------------------------------------------------------
# protobuf <-> the core's values. Presence follows the .proto: a message field is set only if
# the value is not None, so a decoded frame converts back to the same bytes.
# ---------------------------------------------------------------------------------------------


def _ts_pb(t: m.Timestamp | None) -> timestamp_pb2.Timestamp | None:
    return None if t is None else timestamp_pb2.Timestamp(seconds=t.seconds, nanos=t.nanos)


def _ts(parent: Message, name: str) -> m.Timestamp | None:
    if not parent.HasField(name):
        return None
    t: timestamp_pb2.Timestamp = getattr(parent, name)
    return m.Timestamp(seconds=t.seconds, nanos=t.nanos)


def _ts_required(parent: Message, name: str) -> m.Timestamp:
    t: timestamp_pb2.Timestamp = getattr(parent, name)
    return m.Timestamp(seconds=t.seconds, nanos=t.nanos)


def _peer_pb(p: m.PeerId) -> pb.PeerId:
    return pb.PeerId(side=p.side, system_id=p.system_id)  # type: ignore[arg-type]


def _peer_m(p: pb.PeerId) -> m.PeerId:
    return m.PeerId(side=m.Side(p.side), system_id=p.system_id)


def _header_pb(h: m.Header) -> pb.Header:
    return pb.Header(
        message_id=h.message_id,
        sequence=h.sequence,
        sender=_peer_pb(h.sender),
        timestamp=_ts_pb(h.timestamp),
        protocol_major=h.protocol_major,
        protocol_minor=h.protocol_minor,
        previous_sequence=h.previous_sequence,
    )


def _header_m(h: pb.Header) -> m.Header:
    return m.Header(
        message_id=h.message_id,
        sequence=h.sequence,
        sender=_peer_m(h.sender),
        timestamp=_ts_required(h, "timestamp"),
        protocol_major=h.protocol_major,
        protocol_minor=h.protocol_minor,
        previous_sequence=h.previous_sequence if h.HasField("previous_sequence") else None,
    )


def _position_pb(p: m.Position) -> pb.Position:
    return pb.Position(
        longitude=p.longitude,
        latitude=p.latitude,
        map_x_m=p.map_x_m,
        map_y_m=p.map_y_m,
        heading_rad=p.heading_rad,
    )


def _position_m(p: pb.Position) -> m.Position:
    return m.Position(
        longitude=p.longitude,
        latitude=p.latitude,
        map_x_m=p.map_x_m if p.HasField("map_x_m") else None,
        map_y_m=p.map_y_m if p.HasField("map_y_m") else None,
        heading_rad=p.heading_rad if p.HasField("heading_rad") else None,
    )


def _vehicle_pb(v: m.Vehicle) -> pb.Vehicle:
    return pb.Vehicle(
        vehicle_id=v.vehicle_id,
        plate=v.plate,
        home_side=v.home_side,  # type: ignore[arg-type]
        vehicle_type=v.vehicle_type,  # type: ignore[arg-type]
        manufacturer=v.manufacturer,
        serial_number=v.serial_number,
    )


def _vehicle_m(v: pb.Vehicle) -> m.Vehicle:
    return m.Vehicle(
        vehicle_id=v.vehicle_id,
        plate=v.plate,
        home_side=m.Side(v.home_side),
        vehicle_type=m.VehicleType(v.vehicle_type),
        manufacturer=v.manufacturer,
        serial_number=v.serial_number,
    )


def _party_pb(p: m.Party | None) -> pb.Party | None:
    if p is None:
        return None
    return pb.Party(party_id=p.party_id, name=p.name, country_code=p.country_code)


def _party_m(parent: Message, name: str) -> m.Party | None:
    if not parent.HasField(name):
        return None
    p: pb.Party = getattr(parent, name)
    return m.Party(party_id=p.party_id, name=p.name, country_code=p.country_code)


def _consignment_pb(c: m.Consignment | None) -> pb.Consignment | None:
    if c is None:
        return None
    t = c.temperature
    return pb.Consignment(
        consignment_id=c.consignment_id,
        container_number=c.container_number,
        equipment_id=c.equipment_id,
        seals=[
            pb.Seal(
                seal_number=s.seal_number,
                seal_type=s.seal_type,  # type: ignore[arg-type]
                issuing_side=s.issuing_side,  # type: ignore[arg-type]
            )
            for s in c.seals
        ],
        documents=[
            pb.DocumentReference(
                document_type=d.document_type,  # type: ignore[arg-type]
                document_id=d.document_id,
                issuing_side=d.issuing_side,  # type: ignore[arg-type]
                issued_at=_ts_pb(d.issued_at),
            )
            for d in c.documents
        ],
        goods=[
            pb.GoodsItem(
                hs_code=g.hs_code,
                description=g.description,
                package_count=g.package_count,
                package_type=g.package_type,
                gross_weight_kg=g.gross_weight_kg,
                origin_country_code=g.origin_country_code,
            )
            for g in c.goods
        ],
        gross_weight_kg=c.gross_weight_kg,
        temperature=(
            None
            if t is None
            else pb.TemperatureControl(
                set_point_celsius=t.set_point_celsius, tolerance_celsius=t.tolerance_celsius
            )
        ),
        consignor=_party_pb(c.consignor),
        consignee=_party_pb(c.consignee),
    )


def _consignment_m(parent: Message, name: str) -> m.Consignment | None:
    if not parent.HasField(name):
        return None
    c: pb.Consignment = getattr(parent, name)
    t = c.temperature
    return m.Consignment(
        consignment_id=c.consignment_id,
        container_number=c.container_number,
        equipment_id=c.equipment_id,
        seals=tuple(
            m.Seal(
                seal_number=s.seal_number,
                seal_type=m.SealType(s.seal_type),
                issuing_side=m.Side(s.issuing_side),
            )
            for s in c.seals
        ),
        documents=tuple(
            m.DocumentReference(
                document_type=m.DocumentType(d.document_type),
                document_id=d.document_id,
                issuing_side=m.Side(d.issuing_side),
                issued_at=_ts(d, "issued_at"),
            )
            for d in c.documents
        ),
        goods=tuple(
            m.GoodsItem(
                hs_code=g.hs_code,
                description=g.description,
                package_count=g.package_count,
                package_type=g.package_type,
                gross_weight_kg=g.gross_weight_kg,
                origin_country_code=g.origin_country_code,
            )
            for g in c.goods
        ),
        gross_weight_kg=c.gross_weight_kg,
        temperature=(
            m.TemperatureControl(
                set_point_celsius=t.set_point_celsius, tolerance_celsius=t.tolerance_celsius
            )
            if c.HasField("temperature")
            else None
        ),
        consignor=_party_m(c, "consignor"),
        consignee=_party_m(c, "consignee"),
    )


def _hello_pb(b: m.Hello) -> pb.Hello:
    return pb.Hello(
        peer=_peer_pb(b.peer),
        corridor_ids=b.corridor_ids,
        resume_sequence=b.resume_sequence,
        stream_epoch=b.stream_epoch,
        software_version=b.software_version,
        resume_epoch=b.resume_epoch,
    )


def _hello_m(b: pb.Hello) -> m.Hello:
    return m.Hello(
        peer=_peer_m(b.peer),
        corridor_ids=tuple(b.corridor_ids),
        resume_sequence=b.resume_sequence,
        stream_epoch=b.stream_epoch,
        software_version=b.software_version,
        resume_epoch=b.resume_epoch,
    )


def _offer_pb(b: m.HandoffOffer) -> pb.HandoffOffer:
    return pb.HandoffOffer(
        handoff_id=b.handoff_id,
        corridor_id=b.corridor_id,
        model=b.model,  # type: ignore[arg-type]
        vehicle=_vehicle_pb(b.vehicle),
        consignment=_consignment_pb(b.consignment),
        planned_arrival=_ts_pb(b.planned_arrival),
        offer_expires_at=_ts_pb(b.offer_expires_at),
        transfer_slot_id=b.transfer_slot_id,
    )


def _offer_m(b: pb.HandoffOffer) -> m.HandoffOffer:
    return m.HandoffOffer(
        handoff_id=b.handoff_id,
        corridor_id=b.corridor_id,
        model=m.HandoffModel(b.model),
        vehicle=_vehicle_m(b.vehicle),
        consignment=_consignment_m(b, "consignment"),
        planned_arrival=_ts_required(b, "planned_arrival"),
        offer_expires_at=_ts_required(b, "offer_expires_at"),
        transfer_slot_id=b.transfer_slot_id,
    )


def _accept_pb(b: m.HandoffAccept) -> pb.HandoffAccept:
    return pb.HandoffAccept(
        handoff_id=b.handoff_id,
        offer_message_id=b.offer_message_id,
        valid_until=_ts_pb(b.valid_until),
        destination_id=b.destination_id,
        receiving_vehicle_id=b.receiving_vehicle_id,
        transfer_slot_id=b.transfer_slot_id,
    )


def _accept_m(b: pb.HandoffAccept) -> m.HandoffAccept:
    return m.HandoffAccept(
        handoff_id=b.handoff_id,
        offer_message_id=b.offer_message_id,
        valid_until=_ts_required(b, "valid_until"),
        destination_id=b.destination_id,
        receiving_vehicle_id=b.receiving_vehicle_id,
        transfer_slot_id=b.transfer_slot_id,
    )


def _refuse_pb(b: m.HandoffRefuse) -> pb.HandoffRefuse:
    return pb.HandoffRefuse(
        handoff_id=b.handoff_id,
        offer_message_id=b.offer_message_id,
        reason=b.reason,  # type: ignore[arg-type]
        detail=b.detail,
        suggested_disposition=b.suggested_disposition,  # type: ignore[arg-type]
        retry_after=_ts_pb(b.retry_after),
        revocation=b.revocation,
    )


def _refuse_m(b: pb.HandoffRefuse) -> m.HandoffRefuse:
    return m.HandoffRefuse(
        handoff_id=b.handoff_id,
        offer_message_id=b.offer_message_id,
        reason=m.RefusalReason(b.reason),
        detail=b.detail,
        suggested_disposition=m.Disposition(b.suggested_disposition),
        retry_after=_ts(b, "retry_after"),
        revocation=b.revocation,
    )


def _cancel_pb(b: m.HandoffCancel) -> pb.HandoffCancel:
    return pb.HandoffCancel(handoff_id=b.handoff_id, detail=b.detail)


def _cancel_m(b: pb.HandoffCancel) -> m.HandoffCancel:
    return m.HandoffCancel(handoff_id=b.handoff_id, detail=b.detail)


def _crossing_pb(b: m.CrossingReport) -> pb.CrossingReport:
    return pb.CrossingReport(
        handoff_id=b.handoff_id,
        vehicle_id=b.vehicle_id,
        kind=b.kind,  # type: ignore[arg-type]
        crossed_at=_ts_pb(b.crossed_at),
        position=_position_pb(b.position),
        speed_mps=b.speed_mps,
    )


def _crossing_m(b: pb.CrossingReport) -> m.CrossingReport:
    return m.CrossingReport(
        handoff_id=b.handoff_id,
        vehicle_id=b.vehicle_id,
        kind=m.CrossingKind(b.kind),
        crossed_at=_ts_required(b, "crossed_at"),
        position=_position_m(b.position),
        speed_mps=b.speed_mps,
    )


def _custody_pb(b: m.CustodyTransferred) -> pb.CustodyTransferred:
    return pb.CustodyTransferred(
        handoff_id=b.handoff_id,
        receipt_id=b.receipt_id,
        custody_at=_ts_pb(b.custody_at),
        consignment_id=b.consignment_id,
        container_number=b.container_number,
        seal_checks=[
            pb.SealCheck(seal_number=c.seal_number, intact=c.intact) for c in b.seal_checks
        ],
        vehicle_id=b.vehicle_id,
        position=_position_pb(b.position),
        vehicle_control_transferred=b.vehicle_control_transferred,
    )


def _custody_m(b: pb.CustodyTransferred) -> m.CustodyTransferred:
    return m.CustodyTransferred(
        handoff_id=b.handoff_id,
        receipt_id=b.receipt_id,
        custody_at=_ts_required(b, "custody_at"),
        consignment_id=b.consignment_id,
        container_number=b.container_number,
        seal_checks=tuple(
            m.SealCheck(seal_number=c.seal_number, intact=c.intact) for c in b.seal_checks
        ),
        vehicle_id=b.vehicle_id,
        position=_position_m(b.position),
        vehicle_control_transferred=b.vehicle_control_transferred,
    )


def _return_pb(b: m.ReturnRequest) -> pb.ReturnRequest:
    return pb.ReturnRequest(
        handoff_id=b.handoff_id,
        original_handoff_id=b.original_handoff_id,
        corridor_id=b.corridor_id,
        vehicle=_vehicle_pb(b.vehicle),
        consignment=_consignment_pb(b.consignment),
        planned_arrival=_ts_pb(b.planned_arrival),
        offer_expires_at=_ts_pb(b.offer_expires_at),
    )


def _return_m(b: pb.ReturnRequest) -> m.ReturnRequest:
    return m.ReturnRequest(
        handoff_id=b.handoff_id,
        original_handoff_id=b.original_handoff_id,
        corridor_id=b.corridor_id,
        vehicle=_vehicle_m(b.vehicle),
        consignment=_consignment_m(b, "consignment"),
        planned_arrival=_ts_required(b, "planned_arrival"),
        offer_expires_at=_ts_required(b, "offer_expires_at"),
    )


def _heartbeat_pb(b: m.Heartbeat) -> pb.Heartbeat:
    return pb.Heartbeat(
        corridors=[
            pb.CorridorStatus(
                corridor_id=c.corridor_id,
                accepting_offers=c.accepting_offers,
                open_handoffs=c.open_handoffs,
            )
            for c in b.corridors
        ]
    )


def _heartbeat_m(b: pb.Heartbeat) -> m.Heartbeat:
    return m.Heartbeat(
        corridors=tuple(
            m.CorridorStatus(
                corridor_id=c.corridor_id,
                accepting_offers=c.accepting_offers,
                open_handoffs=c.open_handoffs,
            )
            for c in b.corridors
        )
    )


def _ack_pb(b: m.Ack) -> pb.Ack:
    return pb.Ack(ack_sequence=b.ack_sequence)


def _ack_m(b: pb.Ack) -> m.Ack:
    return m.Ack(ack_sequence=b.ack_sequence)


def _error_pb(b: m.Error) -> pb.Error:
    return pb.Error(
        code=b.code,  # type: ignore[arg-type]
        message=b.message,
        ref_message_id=b.ref_message_id,
        ref_sequence=b.ref_sequence,
        handoff_id=b.handoff_id,
        fatal=b.fatal,
    )


def _error_m(b: pb.Error) -> m.Error:
    return m.Error(
        code=m.ErrorCode(b.code),
        message=b.message,
        ref_message_id=b.ref_message_id,
        ref_sequence=b.ref_sequence,
        handoff_id=b.handoff_id,
        fatal=b.fatal,
    )


# body kind -> (value class, protobuf class, to protobuf, from protobuf)
_BODIES: dict[
    str, tuple[type[Any], type[Message], Callable[[Any], Message], Callable[[Any], Any]]
] = {
    "hello": (m.Hello, pb.Hello, _hello_pb, _hello_m),
    "offer": (m.HandoffOffer, pb.HandoffOffer, _offer_pb, _offer_m),
    "accept": (m.HandoffAccept, pb.HandoffAccept, _accept_pb, _accept_m),
    "refuse": (m.HandoffRefuse, pb.HandoffRefuse, _refuse_pb, _refuse_m),
    "cancel": (m.HandoffCancel, pb.HandoffCancel, _cancel_pb, _cancel_m),
    "crossing": (m.CrossingReport, pb.CrossingReport, _crossing_pb, _crossing_m),
    "custody": (m.CustodyTransferred, pb.CustodyTransferred, _custody_pb, _custody_m),
    "return_request": (m.ReturnRequest, pb.ReturnRequest, _return_pb, _return_m),
    "heartbeat": (m.Heartbeat, pb.Heartbeat, _heartbeat_pb, _heartbeat_m),
    "ack": (m.Ack, pb.Ack, _ack_pb, _ack_m),
    "error": (m.Error, pb.Error, _error_pb, _error_m),
}


def body_to_proto(body: m.Body) -> Message:
    """The protobuf message of a body (HandoffOffer -> pb.HandoffOffer, ...)."""
    return _BODIES[body.KIND][2](body)


def to_proto(env: m.Envelope) -> pb.Envelope:
    """The protobuf Envelope of a message (no checks: `encode_message` checks)."""
    out = pb.Envelope(header=_header_pb(env.header))
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
        header=_header_m(env.header),
        body=_BODIES[kind][3](body),
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
        _, pb_cls, _, convert = _BODIES[cls.KIND]
        body: _B = convert(pb_cls.FromString(data))
        return body

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
        return _header_m(env.header), env.WhichOneof("body")


PROTOBUF_WIRE = ProtobufWire()
