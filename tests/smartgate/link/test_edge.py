"""The link's edge over real TLS: who may connect, and what bad bytes get back.

A CN reference peer runs on a background event loop for the whole module; raw WebSocket
clients send it whatever they like. Every frame the peer sends back must itself be valid,
bad input must end in an Error frame or a clean close, and afterwards a well-behaved VN side
must still complete a handoff on the same peer (no corrupted state).
"""

from __future__ import annotations

import asyncio
import ssl
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus

from fleet.handoff.session import (
    CLOSE_POLICY,
    CLOSE_PROTOCOL,
    CLOSE_RESEND,
    CLOSE_TOO_LARGE,
    HState,
)
from smartgate.link.codec import (
    MAX_FRAME_SIZE,
    body_to_proto,
    decode_frame,
    encode_frame,
    new_header,
)
from smartgate.link.peer import ReferencePeer
from smartgate.link.proto import handoff_pb2 as pb
from smartgate.link.transport import PATH, SUBPROTOCOL, client_ssl_context
from tests.smartgate.link import framekit
from tests.smartgate.link.linkkit import VN, VnSide, cn_options, make_offer, wait_for
from tools.devcerts import make_ca, make_dev_pki, make_peer_cert, write_pair

T = TypeVar("T")
REFUSED = (ssl.SSLError, ConnectionError, ConnectionClosed, InvalidHandshake, EOFError)
# 4003: the raw client never acknowledges, so the peer drops it to resend its Errors later.
CLEAN_CLOSES = {1000, 1001, 1003, CLOSE_POLICY, CLOSE_TOO_LARGE, CLOSE_PROTOCOL, CLOSE_RESEND}


@dataclass
class Env:
    loop: asyncio.AbstractEventLoop
    peer: ReferencePeer
    certs: Path
    tmp: Path

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30.0) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    @property
    def port(self) -> int:
        assert self.peer.opts.listen is not None
        return self.peer.opts.listen[1]


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    tmp = tmp_path_factory.mktemp("edge")
    make_dev_pki(tmp / "pki")
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    peer = ReferencePeer(cn_options(tmp / "pki", tmp / "cn.db"))
    e = Env(loop, peer, tmp / "pki", tmp)
    e.run(peer.start())
    yield e
    e.run(peer.close())
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)


def _vn_ctx(certs: Path, cert: str = "vn", ca: Path | None = None) -> ssl.SSLContext:
    return client_ssl_context(
        certs / f"{cert}.pem", certs / f"{cert}.key", ca or certs / "cn-ca.pem"
    )


VN_ID = pb.PeerId(side=pb.SIDE_VN, system_id=VN.system_id)


def hello(sender: pb.PeerId = VN_ID, corridors: tuple[str, ...] = ("huu-nghi",)) -> bytes:
    env = pb.Envelope()
    env.header.CopyFrom(new_header(sender, 1))
    env.hello.peer.CopyFrom(sender)
    env.hello.corridor_ids.extend(corridors)
    env.hello.stream_epoch = f"raw-{uuid.uuid4().hex[:12]}"  # a fresh sequence space each time
    return encode_frame(env)


@dataclass
class Outcome:
    frames: list[pb.Envelope]
    close_code: int | None

    def errors(self) -> list[pb.Error]:
        return [f.error for f in self.frames if f.WhichOneof("body") == "error"]


async def exchange(
    port: int, ctx: ssl.SSLContext, sends: list[bytes | str], *, first: bytes | None = None
) -> Outcome:
    """Send a Hello (unless `first` replaces it) then `sends`; collect replies until quiet."""
    got: list[pb.Envelope] = []
    async with connect(
        f"wss://localhost:{port}{PATH}",
        ssl=ctx,
        subprotocols=[SUBPROTOCOL],
        compression=None,
        max_size=None,
        proxy=None,
        open_timeout=5,
        ping_interval=None,
    ) as ws:
        try:
            await ws.send(first if first is not None else hello())
            for data in sends:
                await ws.send(data)
            while True:
                msg = await asyncio.wait_for(ws.recv(), 0.4)
                assert isinstance(msg, bytes), "the peer sent a text frame"
                got.append(decode_frame(msg))  # whatever the peer sends must be valid
        except (TimeoutError, ConnectionClosed):
            pass
        return Outcome(got, ws.close_code)


# ------------------------------------------------------------------ authentication


def test_client_without_certificate_is_refused(env: Env) -> None:
    ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(env.certs / "cn-ca.pem"))
    with pytest.raises(REFUSED):
        env.run(exchange(env.port, ctx, []))


def test_certificate_from_another_ca_is_refused(env: Env) -> None:
    rogue = env.tmp / "rogue"
    make_dev_pki(rogue)  # same identities, other CAs
    ctx = _vn_ctx(rogue, ca=env.certs / "cn-ca.pem")
    with pytest.raises(REFUSED):
        env.run(exchange(env.port, ctx, []))


def test_client_refuses_a_server_from_another_ca(env: Env) -> None:
    ctx = _vn_ctx(env.certs, ca=env.certs / "vn-ca.pem")  # trusts the wrong CA
    with pytest.raises(ssl.SSLCertVerificationError):
        env.run(exchange(env.port, ctx, []))


def test_valid_certificate_of_an_unlisted_peer_is_forbidden(env: Env) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca_cert = x509.load_pem_x509_certificate((env.certs / "vn-ca.pem").read_bytes())
    ca_key = load_pem_private_key((env.certs / "vn-ca.key").read_bytes(), None)
    assert isinstance(ca_key, type(make_ca("x")[0]))
    key, cert = make_peer_cert(ca_key, ca_cert, "vn", "vn-some-other-system")
    write_pair(env.tmp / "other", "vn", key, cert)
    refused = env.peer.server.refused if env.peer.server else 0
    with pytest.raises(InvalidStatus) as info:
        env.run(exchange(env.port, _vn_ctx(env.tmp / "other", ca=env.certs / "cn-ca.pem"), []))
    assert info.value.response.status_code == 403
    assert env.peer.server is not None and env.peer.server.refused == refused + 1


def test_frames_claiming_another_identity_are_refused(env: Env) -> None:
    ctx = _vn_ctx(env.certs)
    spoof = pb.PeerId(side=pb.SIDE_VN, system_id="vn-impostor")
    out = env.run(exchange(env.port, ctx, [], first=hello(spoof)))
    assert [e.code for e in out.errors()] == [pb.ERROR_CODE_UNAUTHORISED]
    assert out.errors()[0].fatal and out.close_code == CLOSE_POLICY


def test_corridor_not_granted_is_refused(env: Env) -> None:
    async def run() -> Outcome:
        opts = cn_options(env.certs, env.tmp / "narrow.db", peer_corridors=frozenset({"huu-nghi"}))
        peer = ReferencePeer(opts)
        await peer.start()
        try:
            assert peer.opts.listen is not None
            first = hello(corridors=("huu-nghi", "tan-thanh"))
            return await exchange(peer.opts.listen[1], _vn_ctx(env.certs), [], first=first)
        finally:
            await peer.close()

    out = env.run(run())
    assert [e.code for e in out.errors()] == [pb.ERROR_CODE_UNAUTHORISED]
    assert "tan-thanh" in out.errors()[0].message and out.close_code == CLOSE_POLICY


# ------------------------------------------------------------------ bad frames


def _offer_frame(seq: int = 2) -> bytes:
    env = framekit.offer()
    env.header.sequence = seq
    env.header.message_id = f"raw-{uuid.uuid4().hex[:16]}"
    env.offer.CopyFrom(body_to_proto(make_offer(900_000 + seq, time.time())))
    env.offer.handoff_id = f"raw-{uuid.uuid4().hex[:16]}"
    return encode_frame(env)


@pytest.mark.parametrize(
    ("name", "data", "code", "close"),
    [
        ("garbage", b"\xff\x00\x13garbage", pb.ERROR_CODE_MALFORMED, CLOSE_PROTOCOL),
        ("truncated", _offer_frame()[:-7], pb.ERROR_CODE_MALFORMED, CLOSE_PROTOCOL),
        ("oversized", b"\x0a" * (MAX_FRAME_SIZE + 1), pb.ERROR_CODE_TOO_LARGE, CLOSE_TOO_LARGE),
        ("empty", b"", pb.ERROR_CODE_MALFORMED, CLOSE_PROTOCOL),
        ("text", "hello?", pb.ERROR_CODE_MALFORMED, 1003),
    ],
    ids=["garbage", "truncated", "oversized", "empty", "text"],  # not the bytes (random ids)
)
def test_bad_frame_gets_fatal_error_then_close(
    env: Env, name: str, data: bytes | str, code: int, close: int
) -> None:
    out = env.run(exchange(env.port, _vn_ctx(env.certs), [data]))
    errors = out.errors()
    assert [e.code for e in errors] == [code], name
    assert errors[0].fatal and out.close_code == close


def test_frame_beyond_the_websocket_limit_is_closed_1009(env: Env) -> None:
    out = env.run(exchange(env.port, _vn_ctx(env.certs), [b"\x00" * (5 * MAX_FRAME_SIZE)]))
    assert out.close_code == CLOSE_TOO_LARGE
    assert not out.errors()  # the WebSocket layer closes before the frame is read


def test_invalid_body_is_a_non_fatal_acknowledged_error(env: Env) -> None:
    env_ = decode_frame(_offer_frame(5))
    env_.offer.consignment.gross_weight_kg = -5.0
    out = env.run(exchange(env.port, _vn_ctx(env.certs), [env_.SerializeToString()]))
    errors = out.errors()
    assert [e.code for e in errors] == [pb.ERROR_CODE_INVALID_FIELD]
    assert not errors[0].fatal and errors[0].ref_sequence == 5
    # Not closed for it; only (later) because this raw client never acknowledges the Error.
    assert out.close_code in (None, CLOSE_RESEND)
    assert any(f.WhichOneof("body") == "ack" and f.ack.ack_sequence == 5 for f in out.frames)


def test_body_before_hello_is_link_not_ready(env: Env) -> None:
    out = env.run(exchange(env.port, _vn_ctx(env.certs), [], first=_offer_frame()))
    assert [e.code for e in out.errors()] == [pb.ERROR_CODE_LINK_NOT_READY]
    assert out.close_code == CLOSE_PROTOCOL


def _valid_frames() -> list[bytes]:
    return [encode_frame(make()) for make in framekit.ALL_KINDS.values()]


@st.composite
def hostile_frames(draw: st.DrawFn) -> bytes:
    """Random bytes, or a valid frame cut, bit-flipped or spliced."""
    if draw(st.booleans()):
        return draw(st.binary(min_size=1, max_size=512))
    data = bytearray(draw(st.sampled_from(_valid_frames())))
    for _ in range(draw(st.integers(1, 4))):
        i = draw(st.integers(0, len(data) - 1))
        op = draw(st.sampled_from(["flip", "set", "cut", "insert"]))
        if op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "set":
            data[i] = draw(st.integers(0, 255))
        elif op == "cut":
            del data[i:]
            if not data:
                data = bytearray(b"\x00")
        else:
            data[i:i] = draw(st.binary(min_size=1, max_size=8))
    return bytes(data)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(frames=st.lists(hostile_frames(), min_size=1, max_size=3))
def test_fuzzed_frames_get_an_error_or_a_clean_close(env: Env, frames: list[bytes]) -> None:
    out = env.run(exchange(env.port, _vn_ctx(env.certs), list(frames)))
    assert out.close_code is None or out.close_code in CLEAN_CLOSES, out.close_code
    for e in out.errors():
        assert e.code != pb.ERROR_CODE_INTERNAL, e.message  # a crash would show up as this
    assert env.peer.endpoint is not None and env.peer.endpoint.errors == 0


def test_peer_still_hands_over_after_the_abuse(env: Env) -> None:
    """Runs last in this module: the same peer, after everything above, still works."""

    async def run() -> HState | None:
        vn = VnSide(env.certs, env.tmp / "vn.db", env.port)
        await vn.start()
        try:
            await wait_for(vn.connected, what="VN connected")
            assert vn.endpoint is not None
            offer = make_offer(1, time.time())
            vn.endpoint.do(lambda s, now: s.offer(offer, now))
            await wait_for(lambda: vn.state("hn-000001") == HState.TRANSFERRED, what="handoff")
            return vn.state("hn-000001")
        finally:
            await vn.stop()
            vn.store.close()

    assert env.run(run()) == HState.TRANSFERRED
    assert env.peer.endpoint is not None and env.peer.endpoint.errors == 0
