"""Per-peer session logic of the cross-border handoff link (docs/handoff-protocol.md §5, §8).

Pure: no I/O, no clock, no randomness. Every input (a decoded frame, an operator or vehicle
action, a timer tick) is a method call carrying `now` (UNIX seconds) and returns a `Step`:
the durable changes (`Delta`) the caller MUST commit before it sends the step's frames, the
frames to send, events for the application and perhaps a request to close the connection.
Committing before sending is what makes the outbox durable: a crash between the two only
means the frames are resent after the reconnect, never that the records and the wire
disagree. If a commit fails the caller discards this object and rebuilds it from the store.

The same class serves both directions and both sides: whoever offers a handoff (HandoffOffer
or ReturnRequest) is the offering side of that handoff, the other the receiving side.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol, TypeVar

from fleet.handoff import messages as m
from fleet.handoff.messages import (
    Envelope,
    FrameError,
    HandoffOffer,
    Header,
    ReturnRequest,
    Timestamp,
)

__all__ = [
    "CustodyRecord",
    "Delta",
    "Event",
    "EventKind",
    "HState",
    "Handoff",
    "HandoffSession",
    "LinkState",
    "OutboxEntry",
    "PeerGrant",
    "Role",
    "SessionConfig",
    "SessionError",
    "SessionState",
    "Step",
    "Timing",
    "WireFormat",
    "parse_peer_uri",
    "peer_uri",
]

SEQ_LEASE = 256  # sequence numbers reserved per durable write of the counter (hi/lo)
ACK_BATCH = 16  # spec §7: ack at once after this many unacked durable frames
DURABLE_BODIES = frozenset(
    {"offer", "accept", "refuse", "cancel", "crossing", "custody", "return_request"}
)
SIDE_NAMES: dict[int, str] = {m.SIDE_VN: "vn", m.SIDE_CN: "cn"}
PEER_URI_PREFIX = "urn:smartgate:peer:"

# WebSocket close codes (spec §2).
CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001
CLOSE_TEXT = 1003
CLOSE_POLICY = 1008
CLOSE_TOO_LARGE = 1009
CLOSE_SUPERSEDED = 4001
CLOSE_PROTOCOL = 4002
CLOSE_RESEND = 4003


class SessionError(ValueError):
    """A local caller asked for something the protocol forbids (e.g. an offer while DOWN)."""


class LinkState(StrEnum):
    CONNECTED = "connected"
    LAGGING = "lagging"
    DOWN = "down"


class Role(StrEnum):
    OFFERING = "offering"
    RECEIVING = "receiving"


class HState(StrEnum):
    """Union of the offering (§5.1) and receiving (§5.2) state machines."""

    OFFERED = "offered"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REFUSED = "refused"
    REVOKED = "revoked"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    RELEASED = "released"
    CROSSED = "crossed"
    TRANSFERRED = "transferred"


FINAL_STATES = frozenset({HState.REFUSED, HState.EXPIRED, HState.CANCELLED, HState.TRANSFERRED})


class EventKind(StrEnum):
    LINK_UP = "link_up"
    LINK_DOWN = "link_down"
    OFFER_RECEIVED = "offer_received"  # receiving side: decide with accept() / refuse()
    ACCEPTED = "accepted"  # offering side: release() when the vehicle may go
    REFUSED = "refused"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    CROSSING_RECEIVED = "crossing_received"  # receiving side: transfer_custody()
    CUSTODY_TRANSFERRED = "custody_transferred"  # either side: custody booked
    PEER_ERROR = "peer_error"  # the peer sent an Error
    REJECTED = "rejected"  # we answered a frame with an Error


@dataclass(frozen=True)
class Event:
    kind: EventKind
    handoff_id: str = ""
    detail: str = ""
    code: int = 0


@dataclass(frozen=True)
class Timing:
    """Spec §7 timers; tests and the benchmark shorten them."""

    heartbeat_s: float = 5.0
    ack_delay_s: float = 0.2
    hello_timeout_s: float = 5.0
    lagging_rx_s: float = 15.0
    down_rx_s: float = 30.0
    lagging_unacked_s: float = 10.0
    # A durable frame unacknowledged this long on a live connection was lost in transit:
    # close, so that the reconnect resends it (TCP order alone is not trusted, §8.2).
    resend_after_s: float = 20.0
    accept_validity_s: float = 300.0


def peer_uri(side: int, system_id: str) -> str:
    return f"{PEER_URI_PREFIX}{SIDE_NAMES[side]}:{system_id}"


def parse_peer_uri(uri: str) -> tuple[int, str] | None:
    """`urn:smartgate:peer:<vn|cn>:<system_id>` -> (Side, system_id), else None."""
    if not uri.startswith(PEER_URI_PREFIX):
        return None
    side_name, _, system_id = uri.removeprefix(PEER_URI_PREFIX).partition(":")
    sides = {v: k for k, v in SIDE_NAMES.items()}
    if side_name not in sides or not system_id:
        return None
    return sides[side_name], system_id


@dataclass(frozen=True)
class PeerGrant:
    """One row of the bilateral authorisation table: who a certificate may speak for."""

    side: int
    system_id: str
    corridors: frozenset[str]

    @property
    def peer_id(self) -> m.PeerId:
        return m.PeerId(side=m.Side(self.side), system_id=self.system_id)

    @property
    def uri(self) -> str:
        return peer_uri(self.side, self.system_id)


@dataclass(frozen=True)
class SessionConfig:
    me: PeerGrant
    peer: PeerGrant  # the identity the peer's certificate was authorised as
    timing: Timing = field(default_factory=Timing)
    software_version: str = "smartgate"


@dataclass
class Handoff:
    """One handoff as this side records it (durable, keyed by handoff_id)."""

    handoff_id: str
    role: Role
    kind: str  # "offer" | "return_request"
    corridor_id: str
    from_side: int  # side the vehicle / load leaves
    vehicle_id: str
    consignment_id: str
    offer_message_id: str
    offer_digest: str
    payload: bytes  # serialized HandoffOffer / ReturnRequest
    state: HState
    expires_at: float
    valid_until: float = 0.0
    receipt_id: str = ""
    original_handoff_id: str = ""
    crossing: bytes = b""  # serialized CrossingReport
    updated_at: float = 0.0


@dataclass(frozen=True)
class OutboxEntry:
    sequence: int
    message_id: str
    kind: str
    handoff_id: str
    frame: bytes
    created_at: float


@dataclass(frozen=True)
class CustodyRecord:
    """The custody ledger: one row per handoff whose custody passed, either direction."""

    handoff_id: str
    receipt_id: str
    from_side: int
    consignment_id: str
    vehicle_id: str
    custody_at: float
    role: Role


@dataclass
class SessionState:
    """Everything durable about one peer; the store loads and saves exactly this."""

    own_epoch: str
    seq_lease: int = 0  # every sequence number used so far is below this
    last_durable: int = 0  # our latest durable frame's sequence (for previous_sequence)
    peer_epoch: str = ""
    peer_highest: int = 0  # highest durable sequence processed from the peer's epoch
    acked: int = 0  # highest of our sequences the peer acknowledged
    outbox: dict[int, OutboxEntry] = field(default_factory=dict)
    seen: set[str] = field(default_factory=set)
    handoffs: dict[str, Handoff] = field(default_factory=dict)
    custody: dict[str, CustodyRecord] = field(default_factory=dict)


@dataclass
class Delta:
    """Durable changes of one step, committed by the store in one transaction."""

    meta: dict[str, str | int] = field(default_factory=dict)
    outbox_add: list[OutboxEntry] = field(default_factory=list)
    outbox_drop_upto: int = 0
    seen_add: list[tuple[str, int, float]] = field(default_factory=list)
    handoffs: dict[str, Handoff] = field(default_factory=dict)
    custody_add: list[CustodyRecord] = field(default_factory=list)

    def merge(self, other: Delta) -> None:
        self.meta.update(other.meta)
        self.outbox_add += other.outbox_add
        self.outbox_drop_upto = max(self.outbox_drop_upto, other.outbox_drop_upto)
        self.seen_add += other.seen_add
        self.handoffs.update(other.handoffs)
        self.custody_add += other.custody_add

    def __bool__(self) -> bool:
        return bool(
            self.meta
            or self.outbox_add
            or self.outbox_drop_upto
            or self.seen_add
            or self.handoffs
            or self.custody_add
        )


@dataclass
class Step:
    delta: Delta = field(default_factory=Delta)
    send: list[bytes] = field(default_factory=list)
    events: list[Event] = field(default_factory=list)
    close: tuple[int, str] | None = None

    def merge(self, other: Step) -> Step:
        self.delta.merge(other.delta)
        self.send += other.send
        self.events += other.events
        self.close = self.close or other.close
        return self


_B = TypeVar("_B", HandoffOffer, ReturnRequest, m.CrossingReport)


class WireFormat(Protocol):
    """The bytes of the link, supplied by its adapter (smartgate.link.codec.PROTOBUF_WIRE).

    The session stores and resends frames and keeps offers and crossings as bytes (the
    store holds exactly these), so it needs an encoding; which one is not its business.
    `encode` and `check` apply the spec's checks and raise FrameError, so nothing invalid
    is sent or recorded."""

    def encode(self, env: Envelope) -> bytes:
        """The frame of `env` (deterministic: a resend is byte-identical)."""
        ...

    def check(self, env: Envelope) -> None:
        """Raise FrameError if `env` would not be encoded."""
        ...

    def encode_body(self, body: HandoffOffer | ReturnRequest | m.CrossingReport) -> bytes:
        """A body alone, as stored in `Handoff.payload` / `Handoff.crossing`."""
        ...

    def decode_body(self, cls: type[_B], data: bytes) -> _B:
        """The inverse of `encode_body` for a body stored earlier."""
        ...

    def peek(self, data: bytes) -> tuple[Header, str | None] | None:
        """Of a frame rejected for its body: its header and body kind if the header is
        sound, else None."""
        ...


class _Reject(Exception):
    """Internal: answer the frame being applied with a non-fatal Error."""

    def __init__(self, code: m.ErrorCode, message: str, handoff_id: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.handoff_id = handoff_id


# Local bodies are checked in a frame stamped with this instant (inside the window the spec
# accepts) instead of the clock: only the body is in question.
_PROBE_TIME = Timestamp(seconds=1_767_225_600)  # 2026-01-01T00:00:00Z


def _digest(payload: bytes) -> str:
    return hashlib.sha256(payload).hexdigest()[:32]


def _is_durable(env: Envelope) -> bool:
    b = env.body
    if b.KIND in DURABLE_BODIES:
        return True
    return isinstance(b, m.Error) and not b.fatal and b.ref_sequence > 0


class HandoffSession:
    """The state machine of the link to one peer and of every handoff with it."""

    def __init__(self, config: SessionConfig, state: SessionState, wire: WireFormat) -> None:
        if config.me.side == config.peer.side:
            raise SessionError("a peer must speak for the other side")
        self.cfg = config
        self.st = state
        self.wire = wire
        self._next = max(state.seq_lease, 1)
        self._open = {h.handoff_id for h in state.handoffs.values() if h.state not in FINAL_STATES}
        self.accepting: dict[str, bool] = {c: True for c in config.me.corridors}
        self.peer_status: dict[str, bool] = {}
        # Connection-scoped, never durable.
        self._transport = False
        self._hello_rx = False
        self._peer_hello_id = ""
        self._peer_corridors: frozenset[str] = frozenset()
        self._connected_at = 0.0
        self._last_rx = 0.0
        self._last_tx = 0.0
        self._pending_ack = 0
        self._pending_since = 0.0
        self._sent_at: dict[int, float] = {}

    # ------------------------------------------------------------------ views

    @property
    def handoffs(self) -> dict[str, Handoff]:
        return self.st.handoffs

    @property
    def up(self) -> bool:
        """Both Hellos exchanged on a live connection."""
        return self._transport and self._hello_rx

    def link_state(self, now: float) -> LinkState:
        t = self.cfg.timing
        if not self.up or now - self._last_rx > t.down_rx_s:
            return LinkState.DOWN
        if now - self._last_rx > t.lagging_rx_s or self.oldest_unacked_age(now) > (
            t.lagging_unacked_s
        ):
            return LinkState.LAGGING
        return LinkState.CONNECTED

    @property
    def last_heard(self) -> float:
        """When the peer was last heard (a frame, or the connection opening); 0.0: never."""
        return self._last_rx

    def oldest_unacked_age(self, now: float) -> float:
        return now - min(self._sent_at.values()) if self._sent_at else 0.0

    def open_handoffs(
        self, corridor_id: str | None = None, role: Role | None = None
    ) -> list[Handoff]:
        out = [self.st.handoffs[i] for i in self._open]
        return [
            h
            for h in out
            if (corridor_id is None or h.corridor_id == corridor_id)
            and (role is None or h.role == role)
        ]

    def in_state(self, state: HState, role: Role) -> list[Handoff]:
        return [h for h in self.open_handoffs(role=role) if h.state == state]

    # ------------------------------------------------------------ connection

    def on_connect(self, now: float) -> Step:
        """The transport opened (TLS and WebSocket done, peer certificate authorised)."""
        step = Step()
        self._transport = True
        self._hello_rx = False
        self._peer_hello_id = ""
        self._connected_at = self._last_rx = now
        self._pending_ack = 0
        self._sent_at.clear()
        header = self._header(step, now, durable=False)
        hello = m.Hello(
            peer=self.cfg.me.peer_id,
            corridor_ids=tuple(sorted(self.cfg.me.corridors)),
            resume_sequence=self.st.peer_highest,
            resume_epoch=self.st.peer_epoch,
            stream_epoch=self.st.own_epoch,
            software_version=self.cfg.software_version,
        )
        self._emit(step, Envelope(header=header, body=hello), now)
        return step

    def on_disconnect(self, now: float) -> Step:
        step = Step()
        if self._hello_rx:
            step.events.append(Event(EventKind.LINK_DOWN))
        self._transport = False
        self._hello_rx = False
        self._sent_at.clear()
        self._pending_ack = 0
        return step

    def tick(self, now: float) -> Step:
        """Timers: expiries, delayed acks, heartbeats, dead-peer and lost-frame detection."""
        step = Step()
        t = self.cfg.timing
        for hid in sorted(self._open):
            h = self.st.handoffs[hid]
            if h.role == Role.OFFERING and h.state == HState.OFFERED and now >= h.expires_at:
                self._set(step, h, HState.EXPIRED, now)
                self._send_cancel(step, h, "offer expired unanswered", now)
                step.events.append(Event(EventKind.EXPIRED, hid))
            elif h.role == Role.OFFERING and h.state == HState.ACCEPTED and now >= h.valid_until:
                self._set(step, h, HState.CANCELLED, now)
                self._send_cancel(step, h, "acceptance expired before release", now)
                step.events.append(Event(EventKind.CANCELLED, hid, "acceptance expired"))
            elif h.role == Role.RECEIVING and h.state == HState.RECEIVED and now >= h.expires_at:
                self._set(step, h, HState.EXPIRED, now)
                step.events.append(Event(EventKind.EXPIRED, hid))
        if not self._transport:
            return step
        if not self._hello_rx:
            if now - self._connected_at > t.hello_timeout_s:
                step.close = (CLOSE_PROTOCOL, "no Hello within the timeout")
            return step
        if now - self._last_rx > t.down_rx_s:
            step.close = (CLOSE_GOING_AWAY, "peer silent: link DOWN")
            return step
        if self.oldest_unacked_age(now) > t.resend_after_s:
            step.close = (CLOSE_RESEND, "durable frame unacknowledged: reconnect to resend")
            return step
        if self._pending_ack and now - self._pending_since >= t.ack_delay_s:
            self._send_ack(step, now)
        if now - self._last_tx >= t.heartbeat_s:
            header = self._header(step, now, durable=False)
            heartbeat = m.Heartbeat(
                corridors=tuple(
                    m.CorridorStatus(
                        corridor_id=cid,
                        accepting_offers=self.accepting.get(cid, True),
                        open_handoffs=min(len(self.open_handoffs(cid)), 10_000),
                    )
                    for cid in sorted(self.cfg.me.corridors & self._peer_corridors)
                )
            )
            self._emit(step, Envelope(header=header, body=heartbeat), now)
        return step

    # ------------------------------------------------------------- incoming

    def on_frame(self, env: Envelope, now: float) -> Step:
        """One decoded, validated frame from the peer (smartgate.link.codec.decode_message)."""
        step = Step()
        self._last_rx = now
        body = env.body
        h = env.header
        if h.sender != self.cfg.peer.peer_id:
            return self._fatal(
                step,
                m.ERROR_CODE_UNAUTHORISED,
                f"header.sender {SIDE_NAMES.get(h.sender.side, '?')}:{h.sender.system_id} is "
                f"not the certificate identity {self.cfg.peer.uri}",
                h,
                now,
                CLOSE_POLICY,
            )
        if isinstance(body, m.Hello):
            if self._hello_rx and h.message_id == self._peer_hello_id:
                return step  # a duplicated Hello
            if self._hello_rx:
                return self._fatal(
                    step, m.ERROR_CODE_INVALID_STATE, "second Hello on one connection", h, now
                )
            return self._on_hello(step, h, body, now)
        if not self._hello_rx:
            return self._fatal(
                step, m.ERROR_CODE_LINK_NOT_READY, f"{body.KIND} before Hello", h, now
            )
        if isinstance(body, m.Ack):
            self._on_ack(step, body.ack_sequence)
            return step
        if isinstance(body, m.Heartbeat):
            for c in body.corridors:
                self.peer_status[c.corridor_id] = c.accepting_offers
            return step
        if isinstance(body, m.Error) and not _is_durable(env):
            # fatal or unreferenced Error: never answered with an Error
            step.events.append(
                Event(EventKind.PEER_ERROR, body.handoff_id, body.message, body.code)
            )
            return step
        return self._durable_in(step, h, now, env, None)

    def on_bad_frame(self, data: bytes, err: FrameError, now: float) -> Step:
        """A frame the codec rejected. Answer with an Error; fatal unless the header is
        sound and the fault is in the body (then it is processed and acknowledged, §9)."""
        step = Step()
        self._last_rx = now
        fatal_codes = (
            m.ERROR_CODE_MALFORMED,
            m.ERROR_CODE_TOO_LARGE,
            m.ERROR_CODE_UNSUPPORTED_VERSION,
            m.ERROR_CODE_INTERNAL,
        )
        close = CLOSE_TOO_LARGE if err.code == m.ERROR_CODE_TOO_LARGE else CLOSE_PROTOCOL
        if err.code in fatal_codes or err.field.startswith("header"):
            return self._fatal(step, err.code, str(err), None, now, close)
        peeked = self.wire.peek(data)
        if peeked is None:
            return self._fatal(step, err.code, str(err), None, now, close)
        header, kind = peeked
        if header.sender != self.cfg.peer.peer_id:
            # the identity check answers it
            return self.on_frame(Envelope(header=header, body=m.Ack()), now)
        if not self._hello_rx or kind == "hello":
            return self._fatal(step, err.code, str(err), header, now)
        if kind == "error":
            step.events.append(Event(EventKind.PEER_ERROR, "", f"bad Error frame: {err}"))
            return step
        return self._durable_in(step, header, now, None, err)

    def _durable_in(
        self,
        step: Step,
        h: Header,
        now: float,
        env: Envelope | None,
        invalid: FrameError | None,
    ) -> Step:
        """A durable frame: `env` to apply, or the `invalid` fault of its body to answer."""
        if h.message_id in self.st.seen:  # a resend: processed before, only acknowledge
            self._ack_later(step, now)
            return step
        if h.previous_sequence is not None and h.previous_sequence > self.st.peer_highest:
            return self._fatal(
                step,
                m.ERROR_CODE_SEQUENCE_GAP,
                f"durable frame {h.previous_sequence} before {h.sequence} was not received "
                f"(processed up to {self.st.peer_highest})",
                h,
                now,
            )
        if h.sequence <= self.st.peer_highest:
            self._error(
                step,
                m.ERROR_CODE_SEQUENCE_REGRESSION,
                f"new message_id with sequence {h.sequence} <= {self.st.peer_highest}",
                h,
                now,
            )
            self._seen(step, h, now, advance=False)
            return step
        if invalid is not None:
            self._error(step, invalid.code, str(invalid), h, now)
        elif env is not None:
            try:
                self._apply(step, env, now)
            except _Reject as r:
                self._error(step, r.code, str(r), h, now, r.handoff_id)
        self._seen(step, h, now, advance=True)
        return step

    def _on_hello(self, step: Step, header: Header, hello: m.Hello, now: float) -> Step:
        corridors = frozenset(hello.corridor_ids)
        if not corridors <= self.cfg.peer.corridors:
            extra = ", ".join(sorted(corridors - self.cfg.peer.corridors))
            return self._fatal(
                step,
                m.ERROR_CODE_UNAUTHORISED,
                f"{self.cfg.peer.uri} may not act for corridor(s) {extra}",
                header,
                now,
                CLOSE_POLICY,
            )
        if hello.stream_epoch != self.st.peer_epoch:
            self.st.peer_epoch = hello.stream_epoch
            self.st.peer_highest = 0
            step.delta.meta.update(peer_epoch=hello.stream_epoch, peer_highest=0)
        resume = hello.resume_sequence
        if hello.resume_epoch and hello.resume_epoch != self.st.own_epoch:
            resume = 0
        if resume < self.st.acked or resume >= self._next:
            return self._fatal(
                step,
                m.ERROR_CODE_RESUME_UNAVAILABLE,
                f"resume point {resume} is outside what this side can resend "
                f"(acknowledged {self.st.acked}, last sent {self._next - 1})",
                header,
                now,
            )
        self._on_ack(step, resume)
        self._hello_rx = True
        self._peer_hello_id = header.message_id
        self._peer_corridors = corridors
        for seq in sorted(self.st.outbox):
            self._sent_at[seq] = now
            step.send.append(self.st.outbox[seq].frame)
        if step.send:
            self._last_tx = now
        step.events.append(Event(EventKind.LINK_UP, detail=f"resent {len(step.send)}"))
        return step

    def _on_ack(self, step: Step, upto: int) -> None:
        upto = min(upto, self._next - 1)
        if upto <= self.st.acked:
            return
        self.st.acked = upto
        step.delta.meta["acked"] = upto
        step.delta.outbox_drop_upto = max(step.delta.outbox_drop_upto, upto)
        for seq in [s for s in self.st.outbox if s <= upto]:
            del self.st.outbox[seq]
            self._sent_at.pop(seq, None)

    def _apply(self, step: Step, env: Envelope, now: float) -> None:
        body = env.body
        if isinstance(body, HandoffOffer | ReturnRequest):
            self._rx_offer(step, env, body, now)
        elif isinstance(body, m.HandoffAccept):
            self._rx_accept(step, body, now)
        elif isinstance(body, m.HandoffRefuse):
            self._rx_refuse(step, body, now)
        elif isinstance(body, m.HandoffCancel):
            self._rx_cancel(step, body, now)
        elif isinstance(body, m.CrossingReport):
            self._rx_crossing(step, body, env.body_bytes, now)
        elif isinstance(body, m.CustodyTransferred):
            self._rx_custody(step, body, now)
        elif isinstance(body, m.Error):
            step.events.append(
                Event(EventKind.PEER_ERROR, body.handoff_id, body.message, body.code)
            )

    def _rx_offer(
        self,
        step: Step,
        env: Envelope,
        body: HandoffOffer | ReturnRequest,
        now: float,
    ) -> None:
        hid = body.handoff_id
        if body.corridor_id not in self._peer_corridors:
            raise _Reject(
                m.ERROR_CODE_UNAUTHORISED,
                f"corridor {body.corridor_id} was not announced in the peer's Hello",
                hid,
            )
        # The peer's own bytes when we have them: a resend compares equal to what we stored.
        payload = env.body_bytes or self.wire.encode_body(body)
        digest = _digest(payload)
        old = self.st.handoffs.get(hid)
        if old is not None:
            if old.role == Role.RECEIVING and old.offer_digest == digest:
                return  # the same offer again under a new message_id: nothing new
            raise _Reject(
                m.ERROR_CODE_DUPLICATE_CONFLICT,
                f"handoff_id {hid} is known with other content",
                hid,
            )
        original = ""
        if isinstance(body, ReturnRequest):
            original = body.original_handoff_id
            orig = self.st.handoffs.get(original)
            if body.vehicle.home_side != self.cfg.me.side:
                raise _Reject(
                    m.ERROR_CODE_INVALID_STATE, "a return must bring home a vehicle of ours", hid
                )
            if (
                orig is None
                or orig.role != Role.OFFERING
                or orig.state != HState.TRANSFERRED
                or orig.vehicle_id != body.vehicle.vehicle_id
            ):
                raise _Reject(
                    m.ERROR_CODE_INVALID_STATE,
                    f"vehicle {body.vehicle.vehicle_id} did not go over in handoff {original}",
                    hid,
                )
        h = self._open_handoff(
            step,
            now,
            hid,
            Role.RECEIVING,
            body.KIND,
            body,
            env.header,
            payload,
            from_side=self.cfg.peer.side,
            consignment=body.consignment.consignment_id if body.consignment is not None else "",
            digest=digest,
            state=HState.RECEIVED,
            original=original,
        )
        if body.corridor_id not in self.cfg.me.corridors:
            self.refuse(hid, m.REFUSAL_REASON_CORRIDOR_CLOSED, now, "corridor not served", step)
        elif now >= h.expires_at:
            self.refuse(hid, m.REFUSAL_REASON_OFFER_EXPIRED, now, "arrived expired", step)
        elif h.consignment_id and self._consignment_busy(h.consignment_id, h.from_side, hid):
            self.refuse(
                hid,
                m.REFUSAL_REASON_DUPLICATE_CONSIGNMENT,
                now,
                f"consignment {h.consignment_id} already handed over or in an open handoff",
                step,
            )
        else:
            step.events.append(Event(EventKind.OFFER_RECEIVED, hid))

    def _own(self, hid: str, role: Role) -> Handoff:
        h = self.st.handoffs.get(hid)
        if h is None:
            raise _Reject(m.ERROR_CODE_UNKNOWN_HANDOFF, f"handoff {hid} is not known", hid)
        if h.role != role:
            raise _Reject(
                m.ERROR_CODE_UNAUTHORISED,
                f"only the {role.value} side of handoff {hid} may send this",
                hid,
            )
        return h

    def _bad_state(self, h: Handoff, what: str) -> _Reject:
        return _Reject(
            m.ERROR_CODE_INVALID_STATE,
            f"{what} not allowed: handoff {h.handoff_id} is {h.state.value}",
            h.handoff_id,
        )

    def _rx_accept(self, step: Step, body: m.HandoffAccept, now: float) -> None:
        h = self._own(body.handoff_id, Role.OFFERING)
        if body.offer_message_id != h.offer_message_id:
            raise _Reject(
                m.ERROR_CODE_INVALID_FIELD,
                f"accept.offer_message_id {body.offer_message_id} is not the offer's",
                h.handoff_id,
            )
        if h.state != HState.OFFERED:
            raise self._bad_state(h, "HandoffAccept")
        h.valid_until = body.valid_until.to_unix()
        self._set(step, h, HState.ACCEPTED, now)
        step.events.append(Event(EventKind.ACCEPTED, h.handoff_id))

    def _rx_refuse(self, step: Step, body: m.HandoffRefuse, now: float) -> None:
        h = self._own(body.handoff_id, Role.OFFERING)
        allowed = (HState.OFFERED, HState.ACCEPTED) if body.revocation else (HState.OFFERED,)
        if h.state not in allowed:
            raise self._bad_state(h, "revocation" if body.revocation else "HandoffRefuse")
        self._set(step, h, HState.REFUSED, now)
        reason = body.reason.name
        step.events.append(Event(EventKind.REFUSED, h.handoff_id, reason, body.reason))

    def _rx_cancel(self, step: Step, body: m.HandoffCancel, now: float) -> None:
        h = self._own(body.handoff_id, Role.RECEIVING)
        if h.state in (HState.CROSSED, HState.TRANSFERRED):
            raise self._bad_state(h, "HandoffCancel")
        if h.state in FINAL_STATES:
            return
        self._set(step, h, HState.CANCELLED, now)
        step.events.append(Event(EventKind.CANCELLED, h.handoff_id, body.detail))

    def _rx_crossing(
        self, step: Step, body: m.CrossingReport, body_bytes: bytes, now: float
    ) -> None:
        h = self._own(body.handoff_id, Role.RECEIVING)
        if body.vehicle_id != h.vehicle_id:
            raise _Reject(
                m.ERROR_CODE_INVALID_FIELD,
                f"crossing.vehicle_id {body.vehicle_id} is not the offered {h.vehicle_id}",
                h.handoff_id,
            )
        if h.state in (HState.CROSSED, HState.TRANSFERRED):
            return  # the same crossing reported again: never a second receipt
        if h.state not in (HState.ACCEPTED, HState.REVOKED):
            raise self._bad_state(h, "CrossingReport (crossing without a valid acceptance)")
        h.crossing = body_bytes or self.wire.encode_body(body)
        self._set(step, h, HState.CROSSED, now)
        step.events.append(Event(EventKind.CROSSING_RECEIVED, h.handoff_id))

    def _rx_custody(self, step: Step, body: m.CustodyTransferred, now: float) -> None:
        h = self._own(body.handoff_id, Role.OFFERING)
        if h.state == HState.TRANSFERRED:
            if h.receipt_id == body.receipt_id:
                return
            raise _Reject(
                m.ERROR_CODE_DUPLICATE_CONFLICT,
                f"handoff {h.handoff_id} already has receipt {h.receipt_id}",
                h.handoff_id,
            )
        if h.state != HState.CROSSED:
            raise self._bad_state(h, "CustodyTransferred")
        self._book_custody(step, h, body.receipt_id, body.custody_at.to_unix())
        self._set(step, h, HState.TRANSFERRED, now)
        step.events.append(Event(EventKind.CUSTODY_TRANSFERRED, h.handoff_id, body.receipt_id))

    # -------------------------------------------------------- local actions

    def offer(self, body: HandoffOffer, now: float) -> Step:
        """Offer a vehicle (and its load) to the peer; it holds at the stop line meanwhile."""
        return self._new_offer(body, now)

    def request_return(self, body: ReturnRequest, now: float) -> Step:
        """Offer a foreign vehicle we control back to its home side (import direction)."""
        return self._new_offer(body, now)

    def _new_offer(self, body: HandoffOffer | ReturnRequest, now: float) -> Step:
        kind = body.KIND
        state = self.link_state(now)
        if state != LinkState.CONNECTED:
            raise SessionError(f"link is {state.value}: no new offers")
        hid = body.handoff_id
        if body.corridor_id not in self.cfg.me.corridors & self._peer_corridors:
            raise SessionError(f"corridor {body.corridor_id} is not served by both sides")
        if hid in self.st.handoffs:
            raise SessionError(f"handoff_id {hid} is already used")
        consignment = body.consignment.consignment_id if body.consignment is not None else ""
        if consignment and self._consignment_busy(consignment, self.cfg.me.side, hid):
            raise SessionError(f"consignment {consignment} is already handed over or in flight")
        original = ""
        if isinstance(body, ReturnRequest):
            original = body.original_handoff_id
            orig = self.st.handoffs.get(original)
            if (
                orig is None
                or orig.role != Role.RECEIVING
                or orig.state != HState.TRANSFERRED
                or orig.vehicle_id != body.vehicle.vehicle_id
                or body.vehicle.home_side != self.cfg.peer.side
            ):
                raise SessionError(f"vehicle {body.vehicle.vehicle_id} did not come in {original}")
        self._check_body(body)
        step = Step()
        header = self._header(step, now, durable=True)
        env = Envelope(header=header, body=body)
        payload = self.wire.encode_body(body)
        self._open_handoff(
            step,
            now,
            hid,
            Role.OFFERING,
            kind,
            body,
            header,
            payload,
            from_side=self.cfg.me.side,
            consignment=consignment,
            digest=_digest(payload),
            state=HState.OFFERED,
            original=original,
        )
        self._durable(step, env, kind, hid, now)
        return step

    def accept(
        self,
        handoff_id: str,
        now: float,
        destination_id: str = "",
        step: Step | None = None,
    ) -> Step:
        step = step or Step()
        h = self._local(handoff_id, Role.RECEIVING, (HState.RECEIVED,))
        h.valid_until = now + self.cfg.timing.accept_validity_s
        header = self._header(step, now, durable=True)
        body = m.HandoffAccept(
            handoff_id=handoff_id,
            offer_message_id=h.offer_message_id,
            valid_until=Timestamp.from_unix(h.valid_until),
            destination_id=destination_id,
        )
        self._set(step, h, HState.ACCEPTED, now)
        self._durable(step, Envelope(header=header, body=body), "accept", handoff_id, now)
        return step

    def refuse(
        self,
        handoff_id: str,
        reason: m.RefusalReason,
        now: float,
        detail: str = "",
        step: Step | None = None,
        *,
        disposition: m.Disposition = m.DISPOSITION_RETURN_TO_YARD,
        retry_after: float | None = None,
    ) -> Step:
        step = step or Step()
        h = self._local(handoff_id, Role.RECEIVING, (HState.RECEIVED,))
        self._send_refuse(step, h, reason, detail, disposition, retry_after, False, now)
        self._set(step, h, HState.REFUSED, now)
        return step

    def revoke(
        self, handoff_id: str, reason: m.RefusalReason, now: float, detail: str = ""
    ) -> Step:
        """Withdraw an acceptance (§6.3); void if the vehicle was already released."""
        step = Step()
        h = self._local(handoff_id, Role.RECEIVING, (HState.ACCEPTED,))
        self._send_refuse(step, h, reason, detail, m.DISPOSITION_RETURN_TO_YARD, None, True, now)
        self._set(step, h, HState.REVOKED, now)
        return step

    def release(self, handoff_id: str, now: float, step: Step | None = None) -> Step:
        """Let an accepted vehicle leave the stop line: only while CONNECTED and valid."""
        step = step or Step()
        h = self._local(handoff_id, Role.OFFERING, (HState.ACCEPTED,))
        state = self.link_state(now)
        if state != LinkState.CONNECTED:
            raise SessionError(f"link is {state.value}: vehicles hold at the stop line")
        if now >= h.valid_until:
            raise SessionError(f"acceptance of {handoff_id} expired")
        self._set(step, h, HState.RELEASED, now)
        return step

    def report_crossing(
        self,
        handoff_id: str,
        now: float,
        position: m.Position,
        speed_mps: float = 0.0,
        step: Step | None = None,
    ) -> Step:
        """The released vehicle passed km 0 (or its load was set down): works while DOWN."""
        step = step or Step()
        h = self._local(handoff_id, Role.OFFERING, (HState.RELEASED,))
        header = self._header(step, now, durable=True)
        model = m.HANDOFF_MODEL_CONTROL_AT_KM0
        if h.kind == "offer":
            model = self.wire.decode_body(HandoffOffer, h.payload).model
        body = m.CrossingReport(
            handoff_id=handoff_id,
            vehicle_id=h.vehicle_id,
            kind=(
                m.CROSSING_KIND_LOAD_RELEASED_IN_TRANSFER_ZONE
                if model == m.HANDOFF_MODEL_TRANSFER_AT_LINE
                else m.CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE
            ),
            crossed_at=Timestamp.from_unix(now),
            position=position,
            speed_mps=speed_mps,
        )
        h.crossing = self.wire.encode_body(body)
        self._set(step, h, HState.CROSSED, now)
        self._durable(step, Envelope(header=header, body=body), "crossing", handoff_id, now)
        return step

    def cancel(self, handoff_id: str, now: float, detail: str, step: Step | None = None) -> Step:
        step = step or Step()
        h = self._local(handoff_id, Role.OFFERING, (HState.OFFERED, HState.ACCEPTED))
        self._set(step, h, HState.CANCELLED, now)
        self._send_cancel(step, h, detail, now)
        return step

    def transfer_custody(
        self,
        handoff_id: str,
        now: float,
        seal_checks: Iterable[tuple[str, bool]] = (),
        step: Step | None = None,
    ) -> Step:
        """Book custody in and issue the one receipt (same transaction: exactly once)."""
        step = step or Step()
        h = self._local(handoff_id, Role.RECEIVING, (HState.CROSSED,))
        crossing = self.wire.decode_body(m.CrossingReport, h.crossing)
        header = self._header(step, now, durable=True)
        receipt = f"{self.st.own_epoch}.r{header.sequence}"
        load = self._payload(h).consignment
        body = m.CustodyTransferred(
            handoff_id=handoff_id,
            receipt_id=receipt,
            custody_at=Timestamp.from_unix(now),
            consignment_id=load.consignment_id if load is not None else "",
            container_number=load.container_number if load is not None else "",
            seal_checks=tuple(
                m.SealCheck(seal_number=number, intact=intact) for number, intact in seal_checks
            ),
            vehicle_id=h.vehicle_id,
            position=crossing.position,
            vehicle_control_transferred=crossing.kind == m.CROSSING_KIND_VEHICLE_PASSED_ZERO_LINE,
        )
        self._book_custody(step, h, receipt, now)
        self._set(step, h, HState.TRANSFERRED, now)
        self._durable(step, Envelope(header=header, body=body), "custody", handoff_id, now)
        step.events.append(Event(EventKind.CUSTODY_TRANSFERRED, handoff_id, receipt))
        return step

    # -------------------------------------------------------------- helpers

    def _payload(self, h: Handoff) -> HandoffOffer | ReturnRequest:
        if h.kind == "offer":
            return self.wire.decode_body(HandoffOffer, h.payload)
        return self.wire.decode_body(ReturnRequest, h.payload)

    def payload(self, handoff_id: str) -> HandoffOffer | ReturnRequest:
        return self._payload(self.st.handoffs[handoff_id])

    def _local(self, hid: str, role: Role, states: tuple[HState, ...]) -> Handoff:
        h = self.st.handoffs.get(hid)
        if h is None or h.role != role:
            raise SessionError(f"no handoff {hid} on the {role.value} side")
        if h.state not in states:
            raise SessionError(f"handoff {hid} is {h.state.value}")
        return h

    def _check_body(self, body: HandoffOffer | ReturnRequest) -> None:
        header = Header(
            message_id="probe",
            sequence=1,
            sender=self.cfg.me.peer_id,
            timestamp=_PROBE_TIME,
            protocol_major=m.PROTOCOL_MAJOR,
            protocol_minor=m.PROTOCOL_MINOR,
        )
        try:
            self.wire.check(Envelope(header=header, body=body))
        except FrameError as err:
            raise SessionError(f"invalid {body.KIND}: {err}") from None

    def _consignment_busy(self, consignment_id: str, from_side: int, hid: str) -> bool:
        for rec in self.st.custody.values():
            if rec.consignment_id == consignment_id and rec.from_side == from_side:
                return True
        return any(
            h.consignment_id == consignment_id and h.from_side == from_side and h.handoff_id != hid
            for h in self.open_handoffs()
        )

    def _book_custody(self, step: Step, h: Handoff, receipt: str, at: float) -> None:
        if h.handoff_id in self.st.custody:
            raise SessionError(f"custody of {h.handoff_id} was already booked")  # never twice
        rec = CustodyRecord(
            h.handoff_id, receipt, h.from_side, h.consignment_id, h.vehicle_id, at, h.role
        )
        h.receipt_id = receipt
        self.st.custody[h.handoff_id] = rec
        step.delta.custody_add.append(rec)

    def _open_handoff(
        self,
        step: Step,
        now: float,
        hid: str,
        role: Role,
        kind: str,
        body: HandoffOffer | ReturnRequest,
        header: Header,
        payload: bytes,
        *,
        from_side: int,
        consignment: str,
        digest: str,
        state: HState,
        original: str,
    ) -> Handoff:
        """Record a new handoff from the offer (or return request) that opens it."""
        h = Handoff(
            handoff_id=hid,
            role=role,
            kind=kind,
            corridor_id=body.corridor_id,
            from_side=from_side,
            vehicle_id=body.vehicle.vehicle_id,
            consignment_id=consignment,
            offer_message_id=header.message_id,
            offer_digest=digest,
            payload=payload,
            state=state,
            expires_at=body.offer_expires_at.to_unix(),
            original_handoff_id=original,
        )
        self.st.handoffs[hid] = h
        self._open.add(hid)
        self._set(step, h, state, now)
        return h

    def _set(self, step: Step, h: Handoff, state: HState, now: float) -> None:
        h.state = state
        h.updated_at = now
        if state in FINAL_STATES:
            self._open.discard(h.handoff_id)
        step.delta.handoffs[h.handoff_id] = h

    def _seen(self, step: Step, header: Header, now: float, *, advance: bool) -> None:
        self.st.seen.add(header.message_id)
        step.delta.seen_add.append((header.message_id, header.sequence, now))
        if advance:
            self.st.peer_highest = header.sequence
            step.delta.meta["peer_highest"] = header.sequence
        self._ack_later(step, now)

    def _ack_later(self, step: Step, now: float) -> None:
        if not self._pending_ack:
            self._pending_since = now
        self._pending_ack += 1
        if self._pending_ack >= ACK_BATCH:
            self._send_ack(step, now)

    def _send_ack(self, step: Step, now: float) -> None:
        header = self._header(step, now, durable=False)
        ack = m.Ack(ack_sequence=self.st.peer_highest)
        self._pending_ack = 0
        self._emit(step, Envelope(header=header, body=ack), now)

    def _allocate(self, step: Step) -> int:
        seq = self._next
        self._next += 1
        if self._next > self.st.seq_lease:
            self.st.seq_lease = self._next + SEQ_LEASE
            step.delta.meta["seq_lease"] = self.st.seq_lease
        return seq

    def _header(self, step: Step, now: float, *, durable: bool) -> Header:
        """The next frame's header. Its message id is ours to choose and derived, not drawn:
        `<own_epoch>.<sequence>` is unique because the pair is, and `now` is its timestamp."""
        seq = self._allocate(step)
        previous = None
        if durable:
            previous = self.st.last_durable
            self.st.last_durable = seq
            step.delta.meta["last_durable"] = seq
        return Header(
            message_id=f"{self.st.own_epoch}.{seq}",
            sequence=seq,
            sender=self.cfg.me.peer_id,
            timestamp=Timestamp.from_unix(now),
            protocol_major=m.PROTOCOL_MAJOR,
            protocol_minor=m.PROTOCOL_MINOR,
            previous_sequence=previous,
        )

    def _emit(self, step: Step, env: Envelope, now: float) -> None:
        """A non-durable frame: sent now if the transport is open, else gone."""
        if self._transport:
            step.send.append(self.wire.encode(env))
            self._last_tx = now

    def _durable(self, step: Step, env: Envelope, kind: str, hid: str, now: float) -> None:
        frame = self.wire.encode(env)
        seq = env.header.sequence
        entry = OutboxEntry(seq, env.header.message_id, kind, hid, frame, now)
        self.st.outbox[seq] = entry
        step.delta.outbox_add.append(entry)
        if self.up:  # otherwise it goes out when the peer's Hello names its resume point
            step.send.append(frame)
            self._sent_at[seq] = now
            self._last_tx = now

    def _send_cancel(self, step: Step, h: Handoff, detail: str, now: float) -> None:
        header = self._header(step, now, durable=True)
        body = m.HandoffCancel(handoff_id=h.handoff_id, detail=detail)
        self._durable(step, Envelope(header=header, body=body), "cancel", h.handoff_id, now)

    def _send_refuse(
        self,
        step: Step,
        h: Handoff,
        reason: m.RefusalReason,
        detail: str,
        disposition: m.Disposition,
        retry_after: float | None,
        revocation: bool,
        now: float,
    ) -> None:
        header = self._header(step, now, durable=True)
        body = m.HandoffRefuse(
            handoff_id=h.handoff_id,
            offer_message_id=h.offer_message_id,
            reason=reason,
            detail=detail or m.RefusalReason(reason).name,
            suggested_disposition=disposition,
            retry_after=Timestamp.from_unix(retry_after) if retry_after is not None else None,
            revocation=revocation,
        )
        self._durable(step, Envelope(header=header, body=body), "refuse", h.handoff_id, now)

    def _error(
        self,
        step: Step,
        code: m.ErrorCode,
        message: str,
        ref: Header,
        now: float,
        handoff_id: str = "",
    ) -> None:
        """A non-fatal Error referencing a processed frame: durable like any answer."""
        header = self._header(step, now, durable=True)
        body = m.error_reply(
            code,
            message,
            ref_message_id=ref.message_id,
            ref_sequence=ref.sequence,
            handoff_id=handoff_id,
        )
        self._durable(step, Envelope(header=header, body=body), "error", handoff_id, now)
        step.events.append(Event(EventKind.REJECTED, handoff_id, message, code))

    def _fatal(
        self,
        step: Step,
        code: m.ErrorCode,
        message: str,
        ref: Header | None,
        now: float,
        close: int = CLOSE_PROTOCOL,
    ) -> Step:
        """Error(fatal) then close: not stored, never acknowledged, nothing applied."""
        header = self._header(step, now, durable=False)
        body = m.error_reply(
            code,
            message,
            ref_message_id=ref.message_id if ref is not None else "",
            ref_sequence=ref.sequence if ref is not None else 0,
            fatal=True,
        )
        self._emit(step, Envelope(header=header, body=body), now)
        step.events.append(Event(EventKind.REJECTED, "", message, code))
        step.close = (close, m.ErrorCode(code).name)
        return step
