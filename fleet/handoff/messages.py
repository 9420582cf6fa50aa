"""The handoff link's messages as the core sees them: plain frozen values, no protobuf.

One class per message and one `IntEnum` per enum of proto/smartgate/handoff/v1/handoff.proto,
with the .proto's names (members too, so `ErrorCode.ERROR_CODE_SEQUENCE_GAP.name` is the
text the spec uses, and the module-level constants mirror the generated module's). The
session works on these; bytes <-> protobuf <-> these is the link adapter's business
(smartgate/link/codec.py), which also checks every frame against the spec before it gets
here and before it leaves, so a value reaching the session is already valid.

Field presence is kept where the .proto has it: a message field the spec requires is a plain
field, an optional one (or an `optional` scalar) is `None` when absent, so converting a
decoded frame back gives the same bytes. Repeated fields are tuples. Timestamps keep seconds
and nanos as on the wire (a float would round them).
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import ClassVar

__all__ = [
    "ID_RE",
    "MAX_ID_LEN",
    "MAX_SEQUENCE",
    "MAX_TEXT_LEN",
    "PROTOCOL_MAJOR",
    "PROTOCOL_MINOR",
    "Ack",
    "Body",
    "Consignment",
    "CorridorStatus",
    "CrossingKind",
    "CrossingReport",
    "CustodyTransferred",
    "Disposition",
    "DocumentReference",
    "DocumentType",
    "Envelope",
    "Error",
    "ErrorCode",
    "FrameError",
    "GoodsItem",
    "HandoffAccept",
    "HandoffCancel",
    "HandoffModel",
    "HandoffOffer",
    "HandoffRefuse",
    "Header",
    "Heartbeat",
    "Hello",
    "Party",
    "PeerId",
    "Position",
    "RefusalReason",
    "ReturnRequest",
    "Seal",
    "SealCheck",
    "SealType",
    "Side",
    "TemperatureControl",
    "Timestamp",
    "Vehicle",
    "VehicleType",
    "error_reply",
    "is_wire_id",
]

PROTOCOL_MAJOR = 1
PROTOCOL_MINOR = 1  # 1.1: Header.previous_sequence, Hello.resume_epoch, SEQUENCE_GAP
MAX_ID_LEN = 64
MAX_TEXT_LEN = 1024
MAX_SEQUENCE = 2**63 - 1  # peers with signed 64-bit integers (Java, SQL) must hold it
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:/-]*", re.ASCII)


def is_wire_id(value: str) -> bool:
    """An identifier the spec accepts (1..64 characters of [A-Za-z0-9][A-Za-z0-9._:/-]*)."""
    return 0 < len(value) <= MAX_ID_LEN and ID_RE.fullmatch(value) is not None


# ---------------------------------------------------------------------------------------------
# Enumerations (values and names as in the .proto)
# ---------------------------------------------------------------------------------------------


class Side(IntEnum):
    """Which national system a peer speaks for."""

    SIDE_UNSPECIFIED = 0
    SIDE_VN = 1
    SIDE_CN = 2


class HandoffModel(IntEnum):
    """How custody passes at the boundary."""

    HANDOFF_MODEL_UNSPECIFIED = 0
    HANDOFF_MODEL_CONTROL_AT_KM0 = 1
    HANDOFF_MODEL_TRANSFER_AT_LINE = 2


class CrossingKind(IntEnum):
    """What a CrossingReport reports."""

    CROSSING_KIND_UNSPECIFIED = 0
    CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE = 1
    CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE = 2


class RefusalReason(IntEnum):
    """Why a receiving side refuses (or revokes) an offer."""

    REFUSAL_REASON_UNSPECIFIED = 0
    REFUSAL_REASON_CAPACITY = 1
    REFUSAL_REASON_CUSTOMS_NOT_CLEARED = 2
    REFUSAL_REASON_QUARANTINE_NOT_CLEARED = 3
    REFUSAL_REASON_DOCUMENTS_INVALID = 4
    REFUSAL_REASON_INSPECTION_REQUIRED = 5
    REFUSAL_REASON_VEHICLE_NOT_AUTHORISED = 6
    REFUSAL_REASON_CORRIDOR_CLOSED = 7
    REFUSAL_REASON_OFFER_EXPIRED = 8
    REFUSAL_REASON_DUPLICATE_CONSIGNMENT = 9
    REFUSAL_REASON_SEAL_MISMATCH = 10
    REFUSAL_REASON_OTHER = 99


class Disposition(IntEnum):
    """What the offering side should do with a refused vehicle (a suggestion)."""

    DISPOSITION_UNSPECIFIED = 0
    DISPOSITION_RETURN_TO_YARD = 1
    DISPOSITION_INSPECTION_ZONE = 2
    DISPOSITION_HOLD_AND_REOFFER = 3


class ErrorCode(IntEnum):
    """Error codes carried in `Error.code` and raised by decoders at the edge."""

    ERROR_CODE_UNSPECIFIED = 0
    ERROR_CODE_MALFORMED = 1
    ERROR_CODE_TOO_LARGE = 2
    ERROR_CODE_UNSUPPORTED_VERSION = 3
    ERROR_CODE_MISSING_FIELD = 4
    ERROR_CODE_INVALID_FIELD = 5
    ERROR_CODE_UNSUPPORTED_MESSAGE = 6
    ERROR_CODE_UNAUTHORISED = 7
    ERROR_CODE_SEQUENCE_REGRESSION = 8
    ERROR_CODE_DUPLICATE_CONFLICT = 9
    ERROR_CODE_UNKNOWN_HANDOFF = 10
    ERROR_CODE_INVALID_STATE = 11
    ERROR_CODE_RESUME_UNAVAILABLE = 12
    ERROR_CODE_LINK_NOT_READY = 13
    ERROR_CODE_INTERNAL = 14
    ERROR_CODE_SEQUENCE_GAP = 15


class SealType(IntEnum):
    SEAL_TYPE_UNSPECIFIED = 0
    SEAL_TYPE_MECHANICAL = 1
    SEAL_TYPE_ELECTRONIC = 2


class DocumentType(IntEnum):
    """Document categories referenced by a consignment."""

    DOCUMENT_TYPE_UNSPECIFIED = 0
    DOCUMENT_TYPE_CUSTOMS_DECLARATION = 1
    DOCUMENT_TYPE_CUSTOMS_RELEASE = 2
    DOCUMENT_TYPE_TRANSIT_DECLARATION = 3
    DOCUMENT_TYPE_DELIVERY_NOTE = 4
    DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE = 5
    DOCUMENT_TYPE_HEALTH_CERTIFICATE = 6
    DOCUMENT_TYPE_LAB_CERTIFICATE = 7
    DOCUMENT_TYPE_CERTIFICATE_OF_ORIGIN = 8
    DOCUMENT_TYPE_TRANSPORT_LICENCE = 9
    DOCUMENT_TYPE_INSURANCE = 10
    DOCUMENT_TYPE_OTHER = 99


class VehicleType(IntEnum):
    VEHICLE_TYPE_UNSPECIFIED = 0
    VEHICLE_TYPE_SMART_GUIDE_VEHICLE = 1
    VEHICLE_TYPE_IGV = 2
    VEHICLE_TYPE_AUTONOMOUS_TRUCK = 3
    VEHICLE_TYPE_OTHER = 99


# The generated module's flat constants, so that `pb.SIDE_VN` reads `m.SIDE_VN`.
SIDE_UNSPECIFIED = Side.SIDE_UNSPECIFIED
SIDE_VN = Side.SIDE_VN
SIDE_CN = Side.SIDE_CN
HANDOFF_MODEL_UNSPECIFIED = HandoffModel.HANDOFF_MODEL_UNSPECIFIED
HANDOFF_MODEL_CONTROL_AT_KM0 = HandoffModel.HANDOFF_MODEL_CONTROL_AT_KM0
HANDOFF_MODEL_TRANSFER_AT_LINE = HandoffModel.HANDOFF_MODEL_TRANSFER_AT_LINE
CROSSING_KIND_UNSPECIFIED = CrossingKind.CROSSING_KIND_UNSPECIFIED
CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE = CrossingKind.CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE
CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE = (
    CrossingKind.CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE
)
REFUSAL_REASON_UNSPECIFIED = RefusalReason.REFUSAL_REASON_UNSPECIFIED
REFUSAL_REASON_CAPACITY = RefusalReason.REFUSAL_REASON_CAPACITY
REFUSAL_REASON_CUSTOMS_NOT_CLEARED = RefusalReason.REFUSAL_REASON_CUSTOMS_NOT_CLEARED
REFUSAL_REASON_QUARANTINE_NOT_CLEARED = RefusalReason.REFUSAL_REASON_QUARANTINE_NOT_CLEARED
REFUSAL_REASON_DOCUMENTS_INVALID = RefusalReason.REFUSAL_REASON_DOCUMENTS_INVALID
REFUSAL_REASON_INSPECTION_REQUIRED = RefusalReason.REFUSAL_REASON_INSPECTION_REQUIRED
REFUSAL_REASON_VEHICLE_NOT_AUTHORISED = RefusalReason.REFUSAL_REASON_VEHICLE_NOT_AUTHORISED
REFUSAL_REASON_CORRIDOR_CLOSED = RefusalReason.REFUSAL_REASON_CORRIDOR_CLOSED
REFUSAL_REASON_OFFER_EXPIRED = RefusalReason.REFUSAL_REASON_OFFER_EXPIRED
REFUSAL_REASON_DUPLICATE_CONSIGNMENT = RefusalReason.REFUSAL_REASON_DUPLICATE_CONSIGNMENT
REFUSAL_REASON_SEAL_MISMATCH = RefusalReason.REFUSAL_REASON_SEAL_MISMATCH
REFUSAL_REASON_OTHER = RefusalReason.REFUSAL_REASON_OTHER
DISPOSITION_UNSPECIFIED = Disposition.DISPOSITION_UNSPECIFIED
DISPOSITION_RETURN_TO_YARD = Disposition.DISPOSITION_RETURN_TO_YARD
DISPOSITION_INSPECTION_ZONE = Disposition.DISPOSITION_INSPECTION_ZONE
DISPOSITION_HOLD_AND_REOFFER = Disposition.DISPOSITION_HOLD_AND_REOFFER
ERROR_CODE_UNSPECIFIED = ErrorCode.ERROR_CODE_UNSPECIFIED
ERROR_CODE_MALFORMED = ErrorCode.ERROR_CODE_MALFORMED
ERROR_CODE_TOO_LARGE = ErrorCode.ERROR_CODE_TOO_LARGE
ERROR_CODE_UNSUPPORTED_VERSION = ErrorCode.ERROR_CODE_UNSUPPORTED_VERSION
ERROR_CODE_MISSING_FIELD = ErrorCode.ERROR_CODE_MISSING_FIELD
ERROR_CODE_INVALID_FIELD = ErrorCode.ERROR_CODE_INVALID_FIELD
ERROR_CODE_UNSUPPORTED_MESSAGE = ErrorCode.ERROR_CODE_UNSUPPORTED_MESSAGE
ERROR_CODE_UNAUTHORISED = ErrorCode.ERROR_CODE_UNAUTHORISED
ERROR_CODE_SEQUENCE_REGRESSION = ErrorCode.ERROR_CODE_SEQUENCE_REGRESSION
ERROR_CODE_DUPLICATE_CONFLICT = ErrorCode.ERROR_CODE_DUPLICATE_CONFLICT
ERROR_CODE_UNKNOWN_HANDOFF = ErrorCode.ERROR_CODE_UNKNOWN_HANDOFF
ERROR_CODE_INVALID_STATE = ErrorCode.ERROR_CODE_INVALID_STATE
ERROR_CODE_RESUME_UNAVAILABLE = ErrorCode.ERROR_CODE_RESUME_UNAVAILABLE
ERROR_CODE_LINK_NOT_READY = ErrorCode.ERROR_CODE_LINK_NOT_READY
ERROR_CODE_INTERNAL = ErrorCode.ERROR_CODE_INTERNAL
ERROR_CODE_SEQUENCE_GAP = ErrorCode.ERROR_CODE_SEQUENCE_GAP
SEAL_TYPE_UNSPECIFIED = SealType.SEAL_TYPE_UNSPECIFIED
SEAL_TYPE_MECHANICAL = SealType.SEAL_TYPE_MECHANICAL
SEAL_TYPE_ELECTRONIC = SealType.SEAL_TYPE_ELECTRONIC
DOCUMENT_TYPE_UNSPECIFIED = DocumentType.DOCUMENT_TYPE_UNSPECIFIED
DOCUMENT_TYPE_CUSTOMS_DECLARATION = DocumentType.DOCUMENT_TYPE_CUSTOMS_DECLARATION
DOCUMENT_TYPE_CUSTOMS_RELEASE = DocumentType.DOCUMENT_TYPE_CUSTOMS_RELEASE
DOCUMENT_TYPE_TRANSIT_DECLARATION = DocumentType.DOCUMENT_TYPE_TRANSIT_DECLARATION
DOCUMENT_TYPE_DELIVERY_NOTE = DocumentType.DOCUMENT_TYPE_DELIVERY_NOTE
DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE = DocumentType.DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE
DOCUMENT_TYPE_HEALTH_CERTIFICATE = DocumentType.DOCUMENT_TYPE_HEALTH_CERTIFICATE
DOCUMENT_TYPE_LAB_CERTIFICATE = DocumentType.DOCUMENT_TYPE_LAB_CERTIFICATE
DOCUMENT_TYPE_CERTIFICATE_OF_ORIGIN = DocumentType.DOCUMENT_TYPE_CERTIFICATE_OF_ORIGIN
DOCUMENT_TYPE_TRANSPORT_LICENCE = DocumentType.DOCUMENT_TYPE_TRANSPORT_LICENCE
DOCUMENT_TYPE_INSURANCE = DocumentType.DOCUMENT_TYPE_INSURANCE
DOCUMENT_TYPE_OTHER = DocumentType.DOCUMENT_TYPE_OTHER
VEHICLE_TYPE_UNSPECIFIED = VehicleType.VEHICLE_TYPE_UNSPECIFIED
VEHICLE_TYPE_SMART_GUIDE_VEHICLE = VehicleType.VEHICLE_TYPE_SMART_GUIDE_VEHICLE
VEHICLE_TYPE_IGV = VehicleType.VEHICLE_TYPE_IGV
VEHICLE_TYPE_AUTONOMOUS_TRUCK = VehicleType.VEHICLE_TYPE_AUTONOMOUS_TRUCK
VEHICLE_TYPE_OTHER = VehicleType.VEHICLE_TYPE_OTHER


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

# ---------------------------------------------------------------------------------------------
# Common structures
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Timestamp:
    """google.protobuf.Timestamp: UTC seconds and nanos, exactly as on the wire."""

    seconds: int = 0
    nanos: int = 0

    @classmethod
    def from_datetime(cls, dt: datetime) -> Timestamp:
        """As protobuf's Timestamp.FromDatetime (microsecond resolution)."""
        return cls(seconds=calendar.timegm(dt.utctimetuple()), nanos=dt.microsecond * 1000)

    @classmethod
    def from_unix(cls, t: float) -> Timestamp:
        """The instant `t` (UNIX seconds), rounded to the microsecond as the session always
        did (through `datetime.fromtimestamp`)."""
        return cls.from_datetime(datetime.fromtimestamp(t, UTC))

    def to_datetime(self) -> datetime:
        """As protobuf's Timestamp.ToDatetime(UTC): nanos truncated to microseconds."""
        micros = self.nanos // 1000 if self.nanos >= 0 else -(-self.nanos // 1000)
        return _EPOCH + timedelta(seconds=self.seconds, microseconds=micros)

    def to_unix(self) -> float:
        return self.to_datetime().timestamp()


@dataclass(frozen=True, slots=True, kw_only=True)
class PeerId:
    side: Side = Side.SIDE_UNSPECIFIED
    system_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Header:
    message_id: str = ""
    sequence: int = 0
    sender: PeerId
    timestamp: Timestamp
    protocol_major: int = 0
    protocol_minor: int = 0
    previous_sequence: int | None = None  # since 1.1, durable frames only; None = absent


@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    longitude: float = 0.0
    latitude: float = 0.0
    map_x_m: float | None = None
    map_y_m: float | None = None
    heading_rad: float | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Vehicle:
    vehicle_id: str = ""
    plate: str = ""
    home_side: Side = Side.SIDE_UNSPECIFIED
    vehicle_type: VehicleType = VehicleType.VEHICLE_TYPE_UNSPECIFIED
    manufacturer: str = ""
    serial_number: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Seal:
    seal_number: str = ""
    seal_type: SealType = SealType.SEAL_TYPE_UNSPECIFIED
    issuing_side: Side = Side.SIDE_UNSPECIFIED


@dataclass(frozen=True, slots=True, kw_only=True)
class DocumentReference:
    document_type: DocumentType = DocumentType.DOCUMENT_TYPE_UNSPECIFIED
    document_id: str = ""
    issuing_side: Side = Side.SIDE_UNSPECIFIED
    issued_at: Timestamp | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    party_id: str = ""
    name: str = ""
    country_code: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class GoodsItem:
    hs_code: str = ""
    description: str = ""
    package_count: int = 0
    package_type: str = ""
    gross_weight_kg: float = 0.0
    origin_country_code: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class TemperatureControl:
    set_point_celsius: float = 0.0
    tolerance_celsius: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class Consignment:
    consignment_id: str = ""
    container_number: str = ""
    equipment_id: str = ""
    seals: tuple[Seal, ...] = ()
    documents: tuple[DocumentReference, ...] = ()
    goods: tuple[GoodsItem, ...] = ()
    gross_weight_kg: float = 0.0
    temperature: TemperatureControl | None = None  # None = not temperature-controlled
    consignor: Party | None = None
    consignee: Party | None = None


# ---------------------------------------------------------------------------------------------
# Bodies (the Envelope's oneof); KIND is the oneof member's name
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True, kw_only=True)
class Hello:
    KIND: ClassVar[str] = "hello"
    peer: PeerId
    corridor_ids: tuple[str, ...] = ()
    resume_sequence: int = 0
    stream_epoch: str = ""
    software_version: str = ""
    resume_epoch: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffOffer:
    KIND: ClassVar[str] = "offer"
    handoff_id: str = ""
    corridor_id: str = ""
    model: HandoffModel = HandoffModel.HANDOFF_MODEL_UNSPECIFIED
    vehicle: Vehicle
    consignment: Consignment | None = None  # None only for an empty vehicle at km 0
    planned_arrival: Timestamp
    offer_expires_at: Timestamp
    transfer_slot_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffAccept:
    KIND: ClassVar[str] = "accept"
    handoff_id: str = ""
    offer_message_id: str = ""
    valid_until: Timestamp
    destination_id: str = ""
    receiving_vehicle_id: str = ""
    transfer_slot_id: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffRefuse:
    KIND: ClassVar[str] = "refuse"
    handoff_id: str = ""
    offer_message_id: str = ""
    reason: RefusalReason = RefusalReason.REFUSAL_REASON_UNSPECIFIED
    detail: str = ""
    suggested_disposition: Disposition = Disposition.DISPOSITION_UNSPECIFIED
    retry_after: Timestamp | None = None
    revocation: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class HandoffCancel:
    KIND: ClassVar[str] = "cancel"
    handoff_id: str = ""
    detail: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class CrossingReport:
    KIND: ClassVar[str] = "crossing"
    handoff_id: str = ""
    vehicle_id: str = ""
    kind: CrossingKind = CrossingKind.CROSSING_KIND_UNSPECIFIED
    crossed_at: Timestamp
    position: Position
    speed_mps: float = 0.0


@dataclass(frozen=True, slots=True, kw_only=True)
class SealCheck:
    seal_number: str = ""
    intact: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class CustodyTransferred:
    KIND: ClassVar[str] = "custody"
    handoff_id: str = ""
    receipt_id: str = ""
    custody_at: Timestamp
    consignment_id: str = ""
    container_number: str = ""
    seal_checks: tuple[SealCheck, ...] = ()
    vehicle_id: str = ""
    position: Position
    vehicle_control_transferred: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class ReturnRequest:
    KIND: ClassVar[str] = "return_request"
    handoff_id: str = ""
    original_handoff_id: str = ""
    corridor_id: str = ""
    vehicle: Vehicle
    consignment: Consignment | None = None  # None = empty return
    planned_arrival: Timestamp
    offer_expires_at: Timestamp


@dataclass(frozen=True, slots=True, kw_only=True)
class CorridorStatus:
    corridor_id: str = ""
    accepting_offers: bool = False
    open_handoffs: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Heartbeat:
    KIND: ClassVar[str] = "heartbeat"
    corridors: tuple[CorridorStatus, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Ack:
    KIND: ClassVar[str] = "ack"
    ack_sequence: int = 0


@dataclass(frozen=True, slots=True, kw_only=True)
class Error:
    KIND: ClassVar[str] = "error"
    code: ErrorCode = ErrorCode.ERROR_CODE_UNSPECIFIED
    message: str = ""
    ref_message_id: str = ""
    ref_sequence: int = 0
    handoff_id: str = ""
    fatal: bool = False


Body = (
    Hello
    | HandoffOffer
    | HandoffAccept
    | HandoffRefuse
    | HandoffCancel
    | CrossingReport
    | CustodyTransferred
    | ReturnRequest
    | Heartbeat
    | Ack
    | Error
)


@dataclass(frozen=True, slots=True, kw_only=True)
class Envelope:
    """One frame. `body_bytes`: the body as it came off the wire (empty for frames built
    here), so that what the session stores of a received offer or crossing, and the digest
    it compares resends by, are the peer's bytes, fields of a newer minor included."""

    header: Header
    body: Body
    body_bytes: bytes = field(default=b"", compare=False, repr=False)

    @property
    def kind(self) -> str:
        """The name of the body's oneof member ("offer", "ack", ...)."""
        return self.body.KIND


def error_reply(
    code: ErrorCode,
    message: str,
    *,
    ref_message_id: str = "",
    ref_sequence: int = 0,
    handoff_id: str = "",
    fatal: bool = False,
) -> Error:
    """The Error answering a rejected frame, made valid whatever it quotes: the text is cut
    to the spec's limit and reference ids that are not identifiers (they came from a bad
    frame) are dropped."""
    return Error(
        code=code,
        message=message[:MAX_TEXT_LEN],
        ref_message_id=ref_message_id if not ref_message_id or is_wire_id(ref_message_id) else "",
        ref_sequence=min(max(ref_sequence, 0), MAX_SEQUENCE),
        handoff_id=handoff_id if not handoff_id or is_wire_id(handoff_id) else "",
        fatal=fatal,
    )


class FrameError(ValueError):
    """A frame that must be rejected; `code` is the ErrorCode to put in the Error reply and
    `field` the dotted path of the offending field ("" if none). Raised by the link
    adapter's codec; the session answers it (`HandoffSession.on_bad_frame`)."""

    def __init__(self, code: int, message: str, field: str = "") -> None:
        super().__init__(message)
        self.code = ErrorCode(code)
        self.field = field

    @property
    def code_name(self) -> str:
        return self.code.name
