# ruff: noqa
# fmt: off
# mypy: allow-any-generics
import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Side(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SIDE_UNSPECIFIED: _ClassVar[Side]
    SIDE_VN: _ClassVar[Side]
    SIDE_CN: _ClassVar[Side]

class HandoffModel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    HANDOFF_MODEL_UNSPECIFIED: _ClassVar[HandoffModel]
    HANDOFF_MODEL_CONTROL_AT_KM0: _ClassVar[HandoffModel]
    HANDOFF_MODEL_TRANSFER_AT_LINE: _ClassVar[HandoffModel]

class CrossingKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CROSSING_KIND_UNSPECIFIED: _ClassVar[CrossingKind]
    CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE: _ClassVar[CrossingKind]
    CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE: _ClassVar[CrossingKind]

class RefusalReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REFUSAL_REASON_UNSPECIFIED: _ClassVar[RefusalReason]
    REFUSAL_REASON_CAPACITY: _ClassVar[RefusalReason]
    REFUSAL_REASON_CUSTOMS_NOT_CLEARED: _ClassVar[RefusalReason]
    REFUSAL_REASON_QUARANTINE_NOT_CLEARED: _ClassVar[RefusalReason]
    REFUSAL_REASON_DOCUMENTS_INVALID: _ClassVar[RefusalReason]
    REFUSAL_REASON_INSPECTION_REQUIRED: _ClassVar[RefusalReason]
    REFUSAL_REASON_VEHICLE_NOT_AUTHORISED: _ClassVar[RefusalReason]
    REFUSAL_REASON_CORRIDOR_CLOSED: _ClassVar[RefusalReason]
    REFUSAL_REASON_OFFER_EXPIRED: _ClassVar[RefusalReason]
    REFUSAL_REASON_DUPLICATE_CONSIGNMENT: _ClassVar[RefusalReason]
    REFUSAL_REASON_SEAL_MISMATCH: _ClassVar[RefusalReason]
    REFUSAL_REASON_OTHER: _ClassVar[RefusalReason]

class Disposition(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DISPOSITION_UNSPECIFIED: _ClassVar[Disposition]
    DISPOSITION_RETURN_TO_YARD: _ClassVar[Disposition]
    DISPOSITION_INSPECTION_ZONE: _ClassVar[Disposition]
    DISPOSITION_HOLD_AND_REOFFER: _ClassVar[Disposition]

class ErrorCode(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CODE_UNSPECIFIED: _ClassVar[ErrorCode]
    ERROR_CODE_MALFORMED: _ClassVar[ErrorCode]
    ERROR_CODE_TOO_LARGE: _ClassVar[ErrorCode]
    ERROR_CODE_UNSUPPORTED_VERSION: _ClassVar[ErrorCode]
    ERROR_CODE_MISSING_FIELD: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_FIELD: _ClassVar[ErrorCode]
    ERROR_CODE_UNSUPPORTED_MESSAGE: _ClassVar[ErrorCode]
    ERROR_CODE_UNAUTHORISED: _ClassVar[ErrorCode]
    ERROR_CODE_SEQUENCE_REGRESSION: _ClassVar[ErrorCode]
    ERROR_CODE_DUPLICATE_CONFLICT: _ClassVar[ErrorCode]
    ERROR_CODE_UNKNOWN_HANDOFF: _ClassVar[ErrorCode]
    ERROR_CODE_INVALID_STATE: _ClassVar[ErrorCode]
    ERROR_CODE_RESUME_UNAVAILABLE: _ClassVar[ErrorCode]
    ERROR_CODE_LINK_NOT_READY: _ClassVar[ErrorCode]
    ERROR_CODE_INTERNAL: _ClassVar[ErrorCode]
    ERROR_CODE_SEQUENCE_GAP: _ClassVar[ErrorCode]

class SealType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SEAL_TYPE_UNSPECIFIED: _ClassVar[SealType]
    SEAL_TYPE_MECHANICAL: _ClassVar[SealType]
    SEAL_TYPE_ELECTRONIC: _ClassVar[SealType]

class DocumentType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DOCUMENT_TYPE_UNSPECIFIED: _ClassVar[DocumentType]
    DOCUMENT_TYPE_CUSTOMS_DECLARATION: _ClassVar[DocumentType]
    DOCUMENT_TYPE_CUSTOMS_RELEASE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_TRANSIT_DECLARATION: _ClassVar[DocumentType]
    DOCUMENT_TYPE_DELIVERY_NOTE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_HEALTH_CERTIFICATE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_LAB_CERTIFICATE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_CERTIFICATE_OF_ORIGIN: _ClassVar[DocumentType]
    DOCUMENT_TYPE_TRANSPORT_LICENCE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_INSURANCE: _ClassVar[DocumentType]
    DOCUMENT_TYPE_OTHER: _ClassVar[DocumentType]

class VehicleType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    VEHICLE_TYPE_UNSPECIFIED: _ClassVar[VehicleType]
    VEHICLE_TYPE_SMART_GUIDE_VEHICLE: _ClassVar[VehicleType]
    VEHICLE_TYPE_IGV: _ClassVar[VehicleType]
    VEHICLE_TYPE_AUTONOMOUS_TRUCK: _ClassVar[VehicleType]
    VEHICLE_TYPE_OTHER: _ClassVar[VehicleType]
SIDE_UNSPECIFIED: Side
SIDE_VN: Side
SIDE_CN: Side
HANDOFF_MODEL_UNSPECIFIED: HandoffModel
HANDOFF_MODEL_CONTROL_AT_KM0: HandoffModel
HANDOFF_MODEL_TRANSFER_AT_LINE: HandoffModel
CROSSING_KIND_UNSPECIFIED: CrossingKind
CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE: CrossingKind
CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE: CrossingKind
REFUSAL_REASON_UNSPECIFIED: RefusalReason
REFUSAL_REASON_CAPACITY: RefusalReason
REFUSAL_REASON_CUSTOMS_NOT_CLEARED: RefusalReason
REFUSAL_REASON_QUARANTINE_NOT_CLEARED: RefusalReason
REFUSAL_REASON_DOCUMENTS_INVALID: RefusalReason
REFUSAL_REASON_INSPECTION_REQUIRED: RefusalReason
REFUSAL_REASON_VEHICLE_NOT_AUTHORISED: RefusalReason
REFUSAL_REASON_CORRIDOR_CLOSED: RefusalReason
REFUSAL_REASON_OFFER_EXPIRED: RefusalReason
REFUSAL_REASON_DUPLICATE_CONSIGNMENT: RefusalReason
REFUSAL_REASON_SEAL_MISMATCH: RefusalReason
REFUSAL_REASON_OTHER: RefusalReason
DISPOSITION_UNSPECIFIED: Disposition
DISPOSITION_RETURN_TO_YARD: Disposition
DISPOSITION_INSPECTION_ZONE: Disposition
DISPOSITION_HOLD_AND_REOFFER: Disposition
ERROR_CODE_UNSPECIFIED: ErrorCode
ERROR_CODE_MALFORMED: ErrorCode
ERROR_CODE_TOO_LARGE: ErrorCode
ERROR_CODE_UNSUPPORTED_VERSION: ErrorCode
ERROR_CODE_MISSING_FIELD: ErrorCode
ERROR_CODE_INVALID_FIELD: ErrorCode
ERROR_CODE_UNSUPPORTED_MESSAGE: ErrorCode
ERROR_CODE_UNAUTHORISED: ErrorCode
ERROR_CODE_SEQUENCE_REGRESSION: ErrorCode
ERROR_CODE_DUPLICATE_CONFLICT: ErrorCode
ERROR_CODE_UNKNOWN_HANDOFF: ErrorCode
ERROR_CODE_INVALID_STATE: ErrorCode
ERROR_CODE_RESUME_UNAVAILABLE: ErrorCode
ERROR_CODE_LINK_NOT_READY: ErrorCode
ERROR_CODE_INTERNAL: ErrorCode
ERROR_CODE_SEQUENCE_GAP: ErrorCode
SEAL_TYPE_UNSPECIFIED: SealType
SEAL_TYPE_MECHANICAL: SealType
SEAL_TYPE_ELECTRONIC: SealType
DOCUMENT_TYPE_UNSPECIFIED: DocumentType
DOCUMENT_TYPE_CUSTOMS_DECLARATION: DocumentType
DOCUMENT_TYPE_CUSTOMS_RELEASE: DocumentType
DOCUMENT_TYPE_TRANSIT_DECLARATION: DocumentType
DOCUMENT_TYPE_DELIVERY_NOTE: DocumentType
DOCUMENT_TYPE_PHYTOSANITARY_CERTIFICATE: DocumentType
DOCUMENT_TYPE_HEALTH_CERTIFICATE: DocumentType
DOCUMENT_TYPE_LAB_CERTIFICATE: DocumentType
DOCUMENT_TYPE_CERTIFICATE_OF_ORIGIN: DocumentType
DOCUMENT_TYPE_TRANSPORT_LICENCE: DocumentType
DOCUMENT_TYPE_INSURANCE: DocumentType
DOCUMENT_TYPE_OTHER: DocumentType
VEHICLE_TYPE_UNSPECIFIED: VehicleType
VEHICLE_TYPE_SMART_GUIDE_VEHICLE: VehicleType
VEHICLE_TYPE_IGV: VehicleType
VEHICLE_TYPE_AUTONOMOUS_TRUCK: VehicleType
VEHICLE_TYPE_OTHER: VehicleType

class PeerId(_message.Message):
    __slots__ = ("side", "system_id")
    SIDE_FIELD_NUMBER: _ClassVar[int]
    SYSTEM_ID_FIELD_NUMBER: _ClassVar[int]
    side: Side
    system_id: str
    def __init__(self, side: _Optional[_Union[Side, str]] = ..., system_id: _Optional[str] = ...) -> None: ...

class Header(_message.Message):
    __slots__ = ("message_id", "sequence", "sender", "timestamp", "protocol_major", "protocol_minor", "previous_sequence")
    MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    SENDER_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MAJOR_FIELD_NUMBER: _ClassVar[int]
    PROTOCOL_MINOR_FIELD_NUMBER: _ClassVar[int]
    PREVIOUS_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    message_id: str
    sequence: int
    sender: PeerId
    timestamp: _timestamp_pb2.Timestamp
    protocol_major: int
    protocol_minor: int
    previous_sequence: int
    def __init__(self, message_id: _Optional[str] = ..., sequence: _Optional[int] = ..., sender: _Optional[_Union[PeerId, _Mapping]] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., protocol_major: _Optional[int] = ..., protocol_minor: _Optional[int] = ..., previous_sequence: _Optional[int] = ...) -> None: ...

class Position(_message.Message):
    __slots__ = ("longitude", "latitude", "map_x_m", "map_y_m", "heading_rad")
    LONGITUDE_FIELD_NUMBER: _ClassVar[int]
    LATITUDE_FIELD_NUMBER: _ClassVar[int]
    MAP_X_M_FIELD_NUMBER: _ClassVar[int]
    MAP_Y_M_FIELD_NUMBER: _ClassVar[int]
    HEADING_RAD_FIELD_NUMBER: _ClassVar[int]
    longitude: float
    latitude: float
    map_x_m: float
    map_y_m: float
    heading_rad: float
    def __init__(self, longitude: _Optional[float] = ..., latitude: _Optional[float] = ..., map_x_m: _Optional[float] = ..., map_y_m: _Optional[float] = ..., heading_rad: _Optional[float] = ...) -> None: ...

class Vehicle(_message.Message):
    __slots__ = ("vehicle_id", "plate", "home_side", "vehicle_type", "manufacturer", "serial_number")
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    PLATE_FIELD_NUMBER: _ClassVar[int]
    HOME_SIDE_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_TYPE_FIELD_NUMBER: _ClassVar[int]
    MANUFACTURER_FIELD_NUMBER: _ClassVar[int]
    SERIAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    vehicle_id: str
    plate: str
    home_side: Side
    vehicle_type: VehicleType
    manufacturer: str
    serial_number: str
    def __init__(self, vehicle_id: _Optional[str] = ..., plate: _Optional[str] = ..., home_side: _Optional[_Union[Side, str]] = ..., vehicle_type: _Optional[_Union[VehicleType, str]] = ..., manufacturer: _Optional[str] = ..., serial_number: _Optional[str] = ...) -> None: ...

class Seal(_message.Message):
    __slots__ = ("seal_number", "seal_type", "issuing_side")
    SEAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEAL_TYPE_FIELD_NUMBER: _ClassVar[int]
    ISSUING_SIDE_FIELD_NUMBER: _ClassVar[int]
    seal_number: str
    seal_type: SealType
    issuing_side: Side
    def __init__(self, seal_number: _Optional[str] = ..., seal_type: _Optional[_Union[SealType, str]] = ..., issuing_side: _Optional[_Union[Side, str]] = ...) -> None: ...

class DocumentReference(_message.Message):
    __slots__ = ("document_type", "document_id", "issuing_side", "issued_at")
    DOCUMENT_TYPE_FIELD_NUMBER: _ClassVar[int]
    DOCUMENT_ID_FIELD_NUMBER: _ClassVar[int]
    ISSUING_SIDE_FIELD_NUMBER: _ClassVar[int]
    ISSUED_AT_FIELD_NUMBER: _ClassVar[int]
    document_type: DocumentType
    document_id: str
    issuing_side: Side
    issued_at: _timestamp_pb2.Timestamp
    def __init__(self, document_type: _Optional[_Union[DocumentType, str]] = ..., document_id: _Optional[str] = ..., issuing_side: _Optional[_Union[Side, str]] = ..., issued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class Party(_message.Message):
    __slots__ = ("party_id", "name", "country_code")
    PARTY_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    party_id: str
    name: str
    country_code: str
    def __init__(self, party_id: _Optional[str] = ..., name: _Optional[str] = ..., country_code: _Optional[str] = ...) -> None: ...

class GoodsItem(_message.Message):
    __slots__ = ("hs_code", "description", "package_count", "package_type", "gross_weight_kg", "origin_country_code")
    HS_CODE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_COUNT_FIELD_NUMBER: _ClassVar[int]
    PACKAGE_TYPE_FIELD_NUMBER: _ClassVar[int]
    GROSS_WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    ORIGIN_COUNTRY_CODE_FIELD_NUMBER: _ClassVar[int]
    hs_code: str
    description: str
    package_count: int
    package_type: str
    gross_weight_kg: float
    origin_country_code: str
    def __init__(self, hs_code: _Optional[str] = ..., description: _Optional[str] = ..., package_count: _Optional[int] = ..., package_type: _Optional[str] = ..., gross_weight_kg: _Optional[float] = ..., origin_country_code: _Optional[str] = ...) -> None: ...

class TemperatureControl(_message.Message):
    __slots__ = ("set_point_celsius", "tolerance_celsius")
    SET_POINT_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    TOLERANCE_CELSIUS_FIELD_NUMBER: _ClassVar[int]
    set_point_celsius: float
    tolerance_celsius: float
    def __init__(self, set_point_celsius: _Optional[float] = ..., tolerance_celsius: _Optional[float] = ...) -> None: ...

class Consignment(_message.Message):
    __slots__ = ("consignment_id", "container_number", "equipment_id", "seals", "documents", "goods", "gross_weight_kg", "temperature", "consignor", "consignee")
    CONSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    EQUIPMENT_ID_FIELD_NUMBER: _ClassVar[int]
    SEALS_FIELD_NUMBER: _ClassVar[int]
    DOCUMENTS_FIELD_NUMBER: _ClassVar[int]
    GOODS_FIELD_NUMBER: _ClassVar[int]
    GROSS_WEIGHT_KG_FIELD_NUMBER: _ClassVar[int]
    TEMPERATURE_FIELD_NUMBER: _ClassVar[int]
    CONSIGNOR_FIELD_NUMBER: _ClassVar[int]
    CONSIGNEE_FIELD_NUMBER: _ClassVar[int]
    consignment_id: str
    container_number: str
    equipment_id: str
    seals: _containers.RepeatedCompositeFieldContainer[Seal]
    documents: _containers.RepeatedCompositeFieldContainer[DocumentReference]
    goods: _containers.RepeatedCompositeFieldContainer[GoodsItem]
    gross_weight_kg: float
    temperature: TemperatureControl
    consignor: Party
    consignee: Party
    def __init__(self, consignment_id: _Optional[str] = ..., container_number: _Optional[str] = ..., equipment_id: _Optional[str] = ..., seals: _Optional[_Iterable[_Union[Seal, _Mapping]]] = ..., documents: _Optional[_Iterable[_Union[DocumentReference, _Mapping]]] = ..., goods: _Optional[_Iterable[_Union[GoodsItem, _Mapping]]] = ..., gross_weight_kg: _Optional[float] = ..., temperature: _Optional[_Union[TemperatureControl, _Mapping]] = ..., consignor: _Optional[_Union[Party, _Mapping]] = ..., consignee: _Optional[_Union[Party, _Mapping]] = ...) -> None: ...

class Hello(_message.Message):
    __slots__ = ("peer", "corridor_ids", "resume_sequence", "stream_epoch", "software_version", "resume_epoch")
    PEER_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_IDS_FIELD_NUMBER: _ClassVar[int]
    RESUME_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    STREAM_EPOCH_FIELD_NUMBER: _ClassVar[int]
    SOFTWARE_VERSION_FIELD_NUMBER: _ClassVar[int]
    RESUME_EPOCH_FIELD_NUMBER: _ClassVar[int]
    peer: PeerId
    corridor_ids: _containers.RepeatedScalarFieldContainer[str]
    resume_sequence: int
    stream_epoch: str
    software_version: str
    resume_epoch: str
    def __init__(self, peer: _Optional[_Union[PeerId, _Mapping]] = ..., corridor_ids: _Optional[_Iterable[str]] = ..., resume_sequence: _Optional[int] = ..., stream_epoch: _Optional[str] = ..., software_version: _Optional[str] = ..., resume_epoch: _Optional[str] = ...) -> None: ...

class HandoffOffer(_message.Message):
    __slots__ = ("handoff_id", "corridor_id", "model", "vehicle", "consignment", "planned_arrival", "offer_expires_at", "transfer_slot_id")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_ID_FIELD_NUMBER: _ClassVar[int]
    MODEL_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_FIELD_NUMBER: _ClassVar[int]
    CONSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    OFFER_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_SLOT_ID_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    corridor_id: str
    model: HandoffModel
    vehicle: Vehicle
    consignment: Consignment
    planned_arrival: _timestamp_pb2.Timestamp
    offer_expires_at: _timestamp_pb2.Timestamp
    transfer_slot_id: str
    def __init__(self, handoff_id: _Optional[str] = ..., corridor_id: _Optional[str] = ..., model: _Optional[_Union[HandoffModel, str]] = ..., vehicle: _Optional[_Union[Vehicle, _Mapping]] = ..., consignment: _Optional[_Union[Consignment, _Mapping]] = ..., planned_arrival: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., offer_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transfer_slot_id: _Optional[str] = ...) -> None: ...

class HandoffAccept(_message.Message):
    __slots__ = ("handoff_id", "offer_message_id", "valid_until", "destination_id", "receiving_vehicle_id", "transfer_slot_id")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    OFFER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    VALID_UNTIL_FIELD_NUMBER: _ClassVar[int]
    DESTINATION_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIVING_VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSFER_SLOT_ID_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    offer_message_id: str
    valid_until: _timestamp_pb2.Timestamp
    destination_id: str
    receiving_vehicle_id: str
    transfer_slot_id: str
    def __init__(self, handoff_id: _Optional[str] = ..., offer_message_id: _Optional[str] = ..., valid_until: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., destination_id: _Optional[str] = ..., receiving_vehicle_id: _Optional[str] = ..., transfer_slot_id: _Optional[str] = ...) -> None: ...

class HandoffRefuse(_message.Message):
    __slots__ = ("handoff_id", "offer_message_id", "reason", "detail", "suggested_disposition", "retry_after", "revocation")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    OFFER_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_DISPOSITION_FIELD_NUMBER: _ClassVar[int]
    RETRY_AFTER_FIELD_NUMBER: _ClassVar[int]
    REVOCATION_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    offer_message_id: str
    reason: RefusalReason
    detail: str
    suggested_disposition: Disposition
    retry_after: _timestamp_pb2.Timestamp
    revocation: bool
    def __init__(self, handoff_id: _Optional[str] = ..., offer_message_id: _Optional[str] = ..., reason: _Optional[_Union[RefusalReason, str]] = ..., detail: _Optional[str] = ..., suggested_disposition: _Optional[_Union[Disposition, str]] = ..., retry_after: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., revocation: _Optional[bool] = ...) -> None: ...

class HandoffCancel(_message.Message):
    __slots__ = ("handoff_id", "detail")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    detail: str
    def __init__(self, handoff_id: _Optional[str] = ..., detail: _Optional[str] = ...) -> None: ...

class CrossingReport(_message.Message):
    __slots__ = ("handoff_id", "vehicle_id", "kind", "crossed_at", "position", "speed_mps")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CROSSED_AT_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    SPEED_MPS_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    vehicle_id: str
    kind: CrossingKind
    crossed_at: _timestamp_pb2.Timestamp
    position: Position
    speed_mps: float
    def __init__(self, handoff_id: _Optional[str] = ..., vehicle_id: _Optional[str] = ..., kind: _Optional[_Union[CrossingKind, str]] = ..., crossed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., speed_mps: _Optional[float] = ...) -> None: ...

class SealCheck(_message.Message):
    __slots__ = ("seal_number", "intact")
    SEAL_NUMBER_FIELD_NUMBER: _ClassVar[int]
    INTACT_FIELD_NUMBER: _ClassVar[int]
    seal_number: str
    intact: bool
    def __init__(self, seal_number: _Optional[str] = ..., intact: _Optional[bool] = ...) -> None: ...

class CustodyTransferred(_message.Message):
    __slots__ = ("handoff_id", "receipt_id", "custody_at", "consignment_id", "container_number", "seal_checks", "vehicle_id", "position", "vehicle_control_transferred")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTODY_AT_FIELD_NUMBER: _ClassVar[int]
    CONSIGNMENT_ID_FIELD_NUMBER: _ClassVar[int]
    CONTAINER_NUMBER_FIELD_NUMBER: _ClassVar[int]
    SEAL_CHECKS_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_ID_FIELD_NUMBER: _ClassVar[int]
    POSITION_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_CONTROL_TRANSFERRED_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    receipt_id: str
    custody_at: _timestamp_pb2.Timestamp
    consignment_id: str
    container_number: str
    seal_checks: _containers.RepeatedCompositeFieldContainer[SealCheck]
    vehicle_id: str
    position: Position
    vehicle_control_transferred: bool
    def __init__(self, handoff_id: _Optional[str] = ..., receipt_id: _Optional[str] = ..., custody_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., consignment_id: _Optional[str] = ..., container_number: _Optional[str] = ..., seal_checks: _Optional[_Iterable[_Union[SealCheck, _Mapping]]] = ..., vehicle_id: _Optional[str] = ..., position: _Optional[_Union[Position, _Mapping]] = ..., vehicle_control_transferred: _Optional[bool] = ...) -> None: ...

class ReturnRequest(_message.Message):
    __slots__ = ("handoff_id", "original_handoff_id", "corridor_id", "vehicle", "consignment", "planned_arrival", "offer_expires_at")
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    ORIGINAL_HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    CORRIDOR_ID_FIELD_NUMBER: _ClassVar[int]
    VEHICLE_FIELD_NUMBER: _ClassVar[int]
    CONSIGNMENT_FIELD_NUMBER: _ClassVar[int]
    PLANNED_ARRIVAL_FIELD_NUMBER: _ClassVar[int]
    OFFER_EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    handoff_id: str
    original_handoff_id: str
    corridor_id: str
    vehicle: Vehicle
    consignment: Consignment
    planned_arrival: _timestamp_pb2.Timestamp
    offer_expires_at: _timestamp_pb2.Timestamp
    def __init__(self, handoff_id: _Optional[str] = ..., original_handoff_id: _Optional[str] = ..., corridor_id: _Optional[str] = ..., vehicle: _Optional[_Union[Vehicle, _Mapping]] = ..., consignment: _Optional[_Union[Consignment, _Mapping]] = ..., planned_arrival: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., offer_expires_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class CorridorStatus(_message.Message):
    __slots__ = ("corridor_id", "accepting_offers", "open_handoffs")
    CORRIDOR_ID_FIELD_NUMBER: _ClassVar[int]
    ACCEPTING_OFFERS_FIELD_NUMBER: _ClassVar[int]
    OPEN_HANDOFFS_FIELD_NUMBER: _ClassVar[int]
    corridor_id: str
    accepting_offers: bool
    open_handoffs: int
    def __init__(self, corridor_id: _Optional[str] = ..., accepting_offers: _Optional[bool] = ..., open_handoffs: _Optional[int] = ...) -> None: ...

class Heartbeat(_message.Message):
    __slots__ = ("corridors",)
    CORRIDORS_FIELD_NUMBER: _ClassVar[int]
    corridors: _containers.RepeatedCompositeFieldContainer[CorridorStatus]
    def __init__(self, corridors: _Optional[_Iterable[_Union[CorridorStatus, _Mapping]]] = ...) -> None: ...

class Ack(_message.Message):
    __slots__ = ("ack_sequence",)
    ACK_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    ack_sequence: int
    def __init__(self, ack_sequence: _Optional[int] = ...) -> None: ...

class Error(_message.Message):
    __slots__ = ("code", "message", "ref_message_id", "ref_sequence", "handoff_id", "fatal")
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REF_MESSAGE_ID_FIELD_NUMBER: _ClassVar[int]
    REF_SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    HANDOFF_ID_FIELD_NUMBER: _ClassVar[int]
    FATAL_FIELD_NUMBER: _ClassVar[int]
    code: ErrorCode
    message: str
    ref_message_id: str
    ref_sequence: int
    handoff_id: str
    fatal: bool
    def __init__(self, code: _Optional[_Union[ErrorCode, str]] = ..., message: _Optional[str] = ..., ref_message_id: _Optional[str] = ..., ref_sequence: _Optional[int] = ..., handoff_id: _Optional[str] = ..., fatal: _Optional[bool] = ...) -> None: ...

class Envelope(_message.Message):
    __slots__ = ("header", "hello", "offer", "accept", "refuse", "cancel", "crossing", "custody", "return_request", "heartbeat", "ack", "error")
    HEADER_FIELD_NUMBER: _ClassVar[int]
    HELLO_FIELD_NUMBER: _ClassVar[int]
    OFFER_FIELD_NUMBER: _ClassVar[int]
    ACCEPT_FIELD_NUMBER: _ClassVar[int]
    REFUSE_FIELD_NUMBER: _ClassVar[int]
    CANCEL_FIELD_NUMBER: _ClassVar[int]
    CROSSING_FIELD_NUMBER: _ClassVar[int]
    CUSTODY_FIELD_NUMBER: _ClassVar[int]
    RETURN_REQUEST_FIELD_NUMBER: _ClassVar[int]
    HEARTBEAT_FIELD_NUMBER: _ClassVar[int]
    ACK_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    header: Header
    hello: Hello
    offer: HandoffOffer
    accept: HandoffAccept
    refuse: HandoffRefuse
    cancel: HandoffCancel
    crossing: CrossingReport
    custody: CustodyTransferred
    return_request: ReturnRequest
    heartbeat: Heartbeat
    ack: Ack
    error: Error
    def __init__(self, header: _Optional[_Union[Header, _Mapping]] = ..., hello: _Optional[_Union[Hello, _Mapping]] = ..., offer: _Optional[_Union[HandoffOffer, _Mapping]] = ..., accept: _Optional[_Union[HandoffAccept, _Mapping]] = ..., refuse: _Optional[_Union[HandoffRefuse, _Mapping]] = ..., cancel: _Optional[_Union[HandoffCancel, _Mapping]] = ..., crossing: _Optional[_Union[CrossingReport, _Mapping]] = ..., custody: _Optional[_Union[CustodyTransferred, _Mapping]] = ..., return_request: _Optional[_Union[ReturnRequest, _Mapping]] = ..., heartbeat: _Optional[_Union[Heartbeat, _Mapping]] = ..., ack: _Optional[_Union[Ack, _Mapping]] = ..., error: _Optional[_Union[Error, _Mapping]] = ...) -> None: ...
