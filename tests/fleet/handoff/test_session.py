"""The pure session logic: two sessions wired back to back, time injected, no sockets.

The wire in between decodes every frame with the real codec, so what one side emits is what
the other would get over the link; tests drop, repeat and reorder frames on it. Frames the
tests forge are the core's message values (fleet.handoff.messages).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from fleet.handoff import messages as m
from fleet.handoff.session import (
    CLOSE_POLICY,
    Event,
    EventKind,
    HandoffSession,
    HState,
    LinkState,
    PeerGrant,
    SessionConfig,
    SessionError,
    SessionState,
    Step,
    parse_peer_uri,
    peer_uri,
)
from smartgate.link.codec import PROTOBUF_WIRE, decode_message, encode_message
from smartgate.link.peer import ZERO_LINE, return_request
from smartgate.storage.handoff_store import HandoffStore
from tests.smartgate.link.linkkit import CN, FAST, VN, make_offer

T0 = 1_795_420_800.0  # 2026-11-23T08:00:00Z


class Side:
    def __init__(self, me: PeerGrant, peer: PeerGrant, store: HandoffStore | None) -> None:
        self.cfg = SessionConfig(me, peer, FAST)
        self.store = store
        self.s = self._load()
        self.events: list[Event] = []
        self.closed: tuple[int, str] | None = None
        self.errors: list[int] = []  # Error codes this side received

    def _load(self) -> HandoffSession:
        if self.store is None:
            return HandoffSession(
                self.cfg, SessionState(own_epoch=f"{self.cfg.me.system_id}-e1"), PROTOBUF_WIRE
            )
        return HandoffSession(self.cfg, self.store.load(self.cfg.peer.uri), PROTOBUF_WIRE)

    def crash(self) -> None:
        """Lose memory; keep only what was committed."""
        assert self.store is not None
        self.s = self._load()

    def kinds(self) -> list[EventKind]:
        return [e.kind for e in self.events]


class Wire:
    """Both sides plus the frames in flight between them; `now` is the shared clock."""

    def __init__(self, tmp: Path | None = None) -> None:
        stores: tuple[HandoffStore | None, HandoffStore | None] = (None, None)
        if tmp is not None:
            stores = (
                HandoffStore(f"sqlite:///{tmp}/vn.db"),
                HandoffStore(f"sqlite:///{tmp}/cn.db"),
            )
        self.vn = Side(VN, CN, stores[0])
        self.cn = Side(CN, VN, stores[1])
        self.now = T0
        self.flight: dict[int, list[bytes]] = {id(self.vn): [], id(self.cn): []}

    def other(self, side: Side) -> Side:
        return self.cn if side is self.vn else self.vn

    def commit(self, side: Side, step: Step) -> Step:
        if side.store is not None:
            side.store.apply(side.cfg.peer.uri, step.delta)
        side.events += step.events
        self.flight[id(self.other(side))] += step.send
        if step.close:
            side.closed = step.close
        return step

    def connect(self) -> None:
        for side in (self.vn, self.cn):
            side.closed = None
            self.flight[id(side)].clear()
        self.commit(self.vn, self.vn.s.on_connect(self.now))
        self.commit(self.cn, self.cn.s.on_connect(self.now))

    def disconnect(self) -> None:
        for side in (self.vn, self.cn):
            self.flight[id(side)].clear()
            self.commit(side, side.s.on_disconnect(self.now))

    def deliver_one(self, to: Side) -> None:
        data = self.flight[id(to)].pop(0)
        env = decode_message(data)
        if isinstance(env.body, m.Error):
            to.errors.append(env.body.code)
        self.commit(to, to.s.on_frame(env, self.now))

    def run(self, max_frames: int = 1000) -> None:
        """Deliver everything in flight (and what it causes) in order, ticking acks out."""
        for _ in range(max_frames):
            if self.vn.closed or self.cn.closed:
                self.disconnect()
                return
            side = next((s for s in (self.vn, self.cn) if self.flight[id(s)]), None)
            if side is None:
                self.now += FAST.ack_delay_s * 1.5
                for s in (self.vn, self.cn):
                    self.commit(s, s.s.tick(self.now))
                if not any(self.flight.values()):
                    return
                continue
            self.deliver_one(side)
        raise AssertionError("no quiescence")

    def do(self, side: Side, step: Step) -> Step:
        return self.commit(side, step)


def _error_code(frame: bytes) -> m.ErrorCode:
    body = decode_message(frame).body
    assert isinstance(body, m.Error)
    return body.code


def _export(w: Wire, n: int = 1) -> str:
    hid = f"hn-{n:06d}"
    w.do(w.vn, w.vn.s.offer(make_offer(n, w.now), w.now))
    w.run()
    assert w.cn.s.handoffs[hid].state == HState.RECEIVED
    w.do(w.cn, w.cn.s.accept(hid, w.now, "yard-B"))
    w.run()
    assert w.vn.s.handoffs[hid].state == HState.ACCEPTED
    w.do(w.vn, w.vn.s.release(hid, w.now))
    w.do(w.vn, w.vn.s.report_crossing(hid, w.now, ZERO_LINE["huu-nghi"], 2.0))
    w.run()
    w.do(w.cn, w.cn.s.transfer_custody(hid, w.now, [("VNCS-884211", True)]))
    w.run()
    return hid


def test_export_and_import_cycle_and_ledgers() -> None:
    w = Wire()
    w.connect()
    w.run()
    assert w.vn.s.link_state(w.now) == LinkState.CONNECTED
    hid = _export(w)
    vn_rec, cn_rec = w.vn.s.st.custody[hid], w.cn.s.st.custody[hid]
    assert vn_rec.receipt_id == cn_rec.receipt_id and vn_rec.from_side == m.SIDE_VN
    assert w.vn.s.handoffs[hid].state == w.cn.s.handoffs[hid].state == HState.TRANSFERRED
    # import: CN sends the vehicle home loaded
    body = return_request(w.cn.s, hid, "ret-1", w.now, load=3)
    w.do(w.cn, w.cn.s.request_return(body, w.now))
    w.run()
    assert EventKind.OFFER_RECEIVED in w.vn.kinds()
    w.do(w.vn, w.vn.s.accept("ret-1", w.now))
    w.run()
    w.do(w.cn, w.cn.s.release("ret-1", w.now))
    w.do(w.cn, w.cn.s.report_crossing("ret-1", w.now, ZERO_LINE["huu-nghi"]))
    w.run()
    w.do(w.vn, w.vn.s.transfer_custody("ret-1", w.now))
    w.run()
    assert w.cn.s.st.custody["ret-1"].receipt_id == w.vn.s.st.custody["ret-1"].receipt_id
    assert w.vn.s.st.custody["ret-1"].from_side == m.SIDE_CN
    assert not w.vn.s.st.outbox and not w.cn.s.st.outbox  # everything acknowledged
    assert w.vn.errors == w.cn.errors == []


def test_duplicates_are_applied_once_and_custody_is_never_issued_twice() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    frame = w.flight[id(w.cn)][0]
    w.flight[id(w.cn)].append(frame)  # the network repeats it
    w.run()
    assert w.cn.kinds().count(EventKind.OFFER_RECEIVED) == 1
    w.do(w.cn, w.cn.s.accept("hn-000001", w.now))
    w.run()
    w.do(w.vn, w.vn.s.release("hn-000001", w.now))
    w.do(w.vn, w.vn.s.report_crossing("hn-000001", w.now, ZERO_LINE["huu-nghi"]))
    crossing = w.flight[id(w.cn)][0]
    w.run()
    w.do(w.cn, w.cn.s.transfer_custody("hn-000001", w.now))
    with pytest.raises(SessionError):
        w.cn.s.transfer_custody("hn-000001", w.now)  # the receipt exists: never a second one
    w.flight[id(w.cn)].append(crossing)  # a late resend of the crossing report
    w.run()
    assert w.cn.kinds().count(EventKind.CROSSING_RECEIVED) == 1
    assert w.vn.kinds().count(EventKind.CUSTODY_TRANSFERRED) == 1
    assert len(w.vn.s.st.custody) == len(w.cn.s.st.custody) == 1


def test_resume_after_disconnect_resends_only_unacknowledged() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    w.do(w.cn, w.cn.s.accept("hn-000001", w.now))
    w.flight[id(w.vn)].clear()  # the Accept is lost with the connection
    w.disconnect()
    assert w.vn.s.link_state(w.now) == LinkState.DOWN
    assert w.vn.kinds().count(EventKind.LINK_DOWN) == 1
    with pytest.raises(SessionError, match="no new offers"):
        w.vn.s.offer(make_offer(2, w.now), w.now)
    w.connect()
    w.run()
    assert w.vn.s.handoffs["hn-000001"].state == HState.ACCEPTED
    assert w.vn.kinds().count(EventKind.ACCEPTED) == 1
    assert not w.cn.s.st.outbox  # acknowledged after the resend
    assert w.cn.kinds().count(EventKind.OFFER_RECEIVED) == 1  # the offer was not resent


def test_lost_or_reordered_durable_frame_is_detected_and_recovered() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.do(w.vn, w.vn.s.offer(make_offer(2, w.now), w.now))
    first, second = w.flight[id(w.cn)]
    w.flight[id(w.cn)][:] = [second, first]  # reordered in transit
    w.deliver_one(w.cn)
    assert w.cn.closed is not None and w.flight[id(w.vn)]  # fatal SEQUENCE_GAP, then close
    assert _error_code(w.flight[id(w.vn)][-1]) == m.ERROR_CODE_SEQUENCE_GAP
    assert "hn-000002" not in w.cn.s.handoffs  # nothing applied past the gap
    w.disconnect()
    w.connect()
    w.run()
    assert {"hn-000001", "hn-000002"} <= set(w.cn.s.handoffs)
    assert w.cn.kinds().count(EventKind.OFFER_RECEIVED) == 2


def test_unacknowledged_frame_forces_a_reconnect() -> None:
    """A durable frame dropped with nothing after it: the resend timer closes the link."""
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.flight[id(w.cn)].clear()  # dropped
    w.now += FAST.resend_after_s + 0.1
    step = w.do(w.vn, w.vn.s.tick(w.now))
    assert step.close is not None
    w.disconnect()
    w.connect()
    w.run()
    assert w.cn.s.handoffs["hn-000001"].state == HState.RECEIVED


def test_new_message_id_with_old_sequence_is_a_regression() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    assert not w.vn.s.st.outbox  # acknowledged: sequence 1.. are behind CN's resume point
    header = decode_message(encode_message(_offer_env(w, 2))).header
    header = replace(header, sequence=1, message_id="forged-1", previous_sequence=None)
    forged = m.Envelope(header=header, body=make_offer(2, w.now))
    w.commit(w.cn, w.cn.s.on_frame(forged, w.now))
    w.run()
    assert m.ERROR_CODE_SEQUENCE_REGRESSION in w.vn.errors
    assert "hn-000002" not in w.cn.s.handoffs


def _offer_env(w: Wire, n: int) -> m.Envelope:
    """An offer frame forged outside VN's session, numbered in VN's stream."""
    seq = w.vn.s._allocate(Step())
    header = m.Header(
        message_id=f"forged-{seq}",
        sequence=seq,
        sender=VN.peer_id,
        timestamp=m.Timestamp(seconds=int(w.now)),
        protocol_major=1,
    )
    return m.Envelope(header=header, body=make_offer(n, w.now))


def test_sender_must_be_the_certificate_identity() -> None:
    w = Wire()
    w.connect()
    w.run()
    env = _offer_env(w, 1)
    sender = replace(env.header.sender, system_id="cn-somebody-else")
    env = replace(env, header=replace(env.header, sender=sender))
    step = w.cn.s.on_frame(env, w.now)
    assert step.close is not None and step.close[0] == CLOSE_POLICY
    assert _error_code(step.send[-1]) == m.ERROR_CODE_UNAUTHORISED
    assert "hn-000001" not in w.cn.s.handoffs


def test_hello_with_unauthorised_corridor_is_fatal() -> None:
    w = Wire()
    narrow = PeerGrant(VN.side, VN.system_id, frozenset({"tan-thanh"}))
    w.cn.s = HandoffSession(
        SessionConfig(CN, narrow, FAST), SessionState(own_epoch="cn-e"), PROTOBUF_WIRE
    )
    w.connect()
    w.deliver_one(w.cn)  # VN's Hello announces huu-nghi too
    assert w.cn.closed is not None and w.cn.closed[0] == CLOSE_POLICY
    assert not w.cn.s.up


def test_body_before_hello_and_wrong_direction_are_rejected() -> None:
    w = Wire()
    w.commit(w.cn, w.cn.s.on_connect(w.now))
    step = w.cn.s.on_frame(_offer_env(w, 1), w.now)
    assert step.close is not None
    assert _error_code(step.send[-1]) == m.ERROR_CODE_LINK_NOT_READY
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    # VN (the offering side) tries to accept its own offer: only the receiver may.
    accept = m.HandoffAccept(
        handoff_id="hn-000001",
        offer_message_id=w.vn.s.handoffs["hn-000001"].offer_message_id,
        valid_until=m.Timestamp(seconds=int(w.now) + 600),
    )
    env = replace(_offer_env(w, 1), body=accept)
    w.commit(w.cn, w.cn.s.on_frame(decode_message(encode_message(env)), w.now))
    w.run()
    assert m.ERROR_CODE_UNAUTHORISED in w.vn.errors
    assert w.cn.s.handoffs["hn-000001"].state == HState.RECEIVED


def test_link_states_and_holding_at_the_stop_line() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    w.do(w.cn, w.cn.s.accept("hn-000001", w.now))
    w.run()
    w.now += FAST.lagging_rx_s + 0.1  # nothing heard from CN
    assert w.vn.s.link_state(w.now) == LinkState.LAGGING
    with pytest.raises(SessionError, match="hold"):
        w.vn.s.release("hn-000001", w.now)
    w.now += FAST.down_rx_s
    assert w.vn.s.link_state(w.now) == LinkState.DOWN
    assert w.vn.s.tick(w.now).close is not None  # the silent peer is dropped
    w.disconnect()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.release("hn-000001", w.now))  # back to CONNECTED
    # a revocation after the release is void: the handoff continues
    w.do(w.cn, w.cn.s.revoke("hn-000001", m.REFUSAL_REASON_CAPACITY, w.now))
    w.run()
    assert m.ERROR_CODE_INVALID_STATE in w.cn.errors
    w.do(w.vn, w.vn.s.report_crossing("hn-000001", w.now, ZERO_LINE["huu-nghi"]))
    w.run()
    assert w.cn.s.handoffs["hn-000001"].state == HState.CROSSED  # REVOKED -> CROSSED


def test_duplicate_consignment_and_crossing_without_acceptance() -> None:
    w = Wire()
    w.connect()
    w.run()
    hid = _export(w, 1)
    assert w.vn.s.handoffs[hid].state == HState.TRANSFERRED
    with pytest.raises(SessionError, match="already handed over"):
        w.vn.s.offer(_same_load(w, 2), w.now)
    # a peer that re-offers a booked consignment under a new handoff_id is refused
    env = replace(_offer_env(w, 3), body=_same_load(w, 3))
    w.commit(w.cn, w.cn.s.on_frame(decode_message(encode_message(env)), w.now))
    w.run()
    assert w.cn.s.handoffs["hn-000003"].state == HState.REFUSED
    assert w.vn.kinds()[-1] != EventKind.CUSTODY_TRANSFERRED
    # crossing reported for an offer never accepted: rejected, no receipt
    w.do(w.vn, w.vn.s.offer(make_offer(4, w.now), w.now))
    w.run()
    w.vn.s.handoffs["hn-000004"].state = HState.RELEASED  # a rogue VN skips the acceptance
    w.do(w.vn, w.vn.s.report_crossing("hn-000004", w.now, ZERO_LINE["huu-nghi"]))
    w.run()
    assert m.ERROR_CODE_INVALID_STATE in w.vn.errors
    assert "hn-000004" not in w.cn.s.st.custody


def _same_load(w: Wire, n: int) -> m.HandoffOffer:
    o = make_offer(n, w.now)
    assert o.consignment is not None
    return replace(o, consignment=replace(o.consignment, consignment_id="VN-UCR-00000001"))


def test_offer_expiry_cancels_on_both_sides() -> None:
    w = Wire()
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    w.now += 31 * 60
    w.commit(w.vn, w.vn.s.tick(w.now))
    w.commit(w.cn, w.cn.s.tick(w.now))
    assert w.vn.s.handoffs["hn-000001"].state == HState.EXPIRED
    assert w.cn.s.handoffs["hn-000001"].state == HState.EXPIRED
    w.run()  # the HandoffCancel of the expired offer is harmless on the receiver
    assert w.cn.s.handoffs["hn-000001"].state == HState.EXPIRED
    assert not w.vn.errors and not w.cn.errors


def test_store_round_trip_and_crash_between_commit_and_send(tmp_path: Path) -> None:
    w = Wire(tmp_path)
    w.connect()
    w.run()
    w.do(w.vn, w.vn.s.offer(make_offer(1, w.now), w.now))
    w.run()
    w.do(w.cn, w.cn.s.accept("hn-000001", w.now))
    w.flight[id(w.vn)].clear()  # committed, never sent: the process dies
    w.cn.crash()
    w.vn.crash()
    assert w.cn.s.handoffs["hn-000001"].state == HState.ACCEPTED  # from disk
    assert w.cn.s.st.outbox  # the Accept waits in the durable outbox
    w.connect()
    w.run()
    assert w.vn.s.handoffs["hn-000001"].state == HState.ACCEPTED
    w.do(w.vn, w.vn.s.release("hn-000001", w.now))
    w.do(w.vn, w.vn.s.report_crossing("hn-000001", w.now, ZERO_LINE["huu-nghi"]))
    w.run()
    w.do(w.cn, w.cn.s.transfer_custody("hn-000001", w.now))
    w.vn.crash()  # VN loses the in-flight receipt's effect before it is processed
    w.disconnect()
    w.connect()
    w.run()
    for side in (w.vn, w.cn):
        side.crash()
        assert side.s.handoffs["hn-000001"].state == HState.TRANSFERRED
        assert len(side.s.st.custody) == 1
    # sequence numbers keep increasing across restarts (the counter's lease is durable)
    used = w.vn.s.st.last_durable
    w.disconnect()
    w.vn.crash()
    hello = decode_message(w.vn.s.on_connect(w.now).send[0])
    assert hello.header.sequence > used


def test_new_peer_epoch_resets_the_resume_point(tmp_path: Path) -> None:
    w = Wire(tmp_path)
    w.connect()
    w.run()
    _export(w, 1)
    # CN loses its database: a new sequence space (new stream_epoch) starting at 1
    w.disconnect()
    w.cn.s = HandoffSession(w.cn.cfg, SessionState(own_epoch="cn-restored"), PROTOBUF_WIRE)
    w.cn.store = None
    w.connect()
    # VN's Hello names CN's old epoch in resume_epoch: CN counts from 0, no error.
    w.deliver_one(w.cn)
    assert w.cn.closed is None and w.cn.s.up
    # CN's Hello says it processed nothing of VN's stream, which CN had acknowledged:
    # frames are lost for good, so VN stops the link for manual reconciliation (§8.5).
    w.deliver_one(w.vn)
    assert w.vn.closed is not None
    assert _error_code(w.flight[id(w.cn)][-1]) == m.ERROR_CODE_RESUME_UNAVAILABLE
    assert w.vn.s.st.peer_epoch == "cn-restored" and w.vn.s.st.peer_highest == 0
    assert len(w.vn.s.st.custody) == 1  # VN's records are kept


def test_peer_uri() -> None:
    assert peer_uri(m.SIDE_CN, "cn-a") == "urn:smartgate:peer:cn:cn-a"
    assert parse_peer_uri("urn:smartgate:peer:vn:vn-x") == (m.SIDE_VN, "vn-x")
    assert parse_peer_uri("urn:smartgate:peer:jp:x") is None
    assert parse_peer_uri("urn:smartgate:peer:vn:") is None
    assert parse_peer_uri("https://example") is None
