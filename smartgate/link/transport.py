"""Transport of the handoff link: binary protobuf frames over WebSocket over mutual TLS.

`HandoffEndpoint` drives one `fleet.handoff.session.HandoffSession` (one peer) with a
`HandoffStore`: every input becomes a `Step` whose delta is committed before its frames are
queued, which is the whole exactly-once argument (see the session module). `HandoffServer`
and `HandoffClient` open connections and hand them to the endpoint; the peer's identity comes
only from its certificate (SAN URI ``urn:smartgate:peer:<side>:<system_id>``) and must be in
the authorisation table, else the WebSocket upgrade is refused (HTTP 403) or the connection
closed (1008). Bad frames never raise out of here: the session answers them with an Error
and, when fatal, a close.

Store commits run inline on the event loop: one small SQLite transaction per frame keeps the
processing order identical to the arrival order, which the protocol relies on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.asyncio.server import Server, ServerConnection, serve
from websockets.exceptions import ConnectionClosed
from websockets.http11 import Request, Response
from websockets.typing import Subprotocol

from fleet.handoff import messages as m
from fleet.handoff.session import (
    CLOSE_SUPERSEDED,
    CLOSE_TEXT,
    SIDE_NAMES,
    Event,
    HandoffSession,
    LinkState,
    SessionConfig,
    SessionState,
    Step,
    parse_peer_uri,
    peer_uri,
)
from smartgate.link.codec import (
    KNOWN_CORRIDORS,
    MAX_FRAME_SIZE,
    PROTOBUF_WIRE,
    FrameError,
    decode_message,
)
from smartgate.storage.handoff_store import HandoffStore

__all__ = [
    "PATH",
    "SUBPROTOCOL",
    "Faults",
    "HandoffClient",
    "HandoffEndpoint",
    "HandoffServer",
    "certificate_identity",
    "client_ssl_context",
    "server_ssl_context",
]

log = logging.getLogger("smartgate.handoff")

SUBPROTOCOL = Subprotocol("smartgate.handoff.v1")
PATH = "/smartgate/handoff/v1"
# The WebSocket layer fails (close 1009) above this; between MAX_FRAME_SIZE and this the
# session answers ERROR_CODE_TOO_LARGE first, so the peer learns why.
WS_MAX_SIZE = 4 * MAX_FRAME_SIZE

Hook = Callable[[Event, HandoffSession, float], Step | None]


def _context(purpose: ssl.Purpose, cert: Path, key: Path, peer_ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(purpose, cafile=str(peer_ca))
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_cert_chain(str(cert), str(key))
    ctx.options |= ssl.OP_NO_RENEGOTIATION
    return ctx


def server_ssl_context(cert: Path, key: Path, peer_ca: Path) -> ssl.SSLContext:
    """TLS server that demands a client certificate issued by the peer's CA (only it)."""
    return _context(ssl.Purpose.CLIENT_AUTH, cert, key, peer_ca)


def client_ssl_context(cert: Path, key: Path, peer_ca: Path) -> ssl.SSLContext:
    """TLS client presenting our certificate; verifies the server name and the peer's CA."""
    ctx = _context(ssl.Purpose.SERVER_AUTH, cert, key, peer_ca)
    ctx.check_hostname = True
    return ctx


def certificate_identity(ssl_object: Any) -> tuple[int, str] | None:
    """(Side, system_id) from the verified peer certificate's SAN URI, or None."""
    if ssl_object is None:
        return None
    cert = ssl_object.getpeercert()
    found = [
        parse_peer_uri(value)
        for kind, value in (cert or {}).get("subjectAltName", ())
        if kind == "URI"
    ]
    ids = [i for i in found if i is not None]
    return ids[0] if len(ids) == 1 else None  # two identities in one certificate: neither


@dataclass
class Faults:
    """Transport faults a test peer injects on what it sends (probabilities per frame)."""

    drop: float = 0.0
    duplicate: float = 0.0
    reorder: float = 0.0
    delay: float = 0.0
    delay_s: float = 0.02
    seed: int = 0
    rng: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.seed)

    def hit(self, p: float) -> bool:
        return p > 0 and self.rng.random() < p


_CLOSE = tuple[int, str]


class _Conn:
    def __init__(self, ws: ServerConnection | ClientConnection) -> None:
        self.ws = ws
        self.queue: asyncio.Queue[bytes | _CLOSE | None] = asyncio.Queue()
        self.closing = False
        self.done = asyncio.Event()


class HandoffEndpoint:
    """Our end of the link to one peer: session + store + the application's hook."""

    def __init__(
        self,
        config: SessionConfig,
        store: HandoffStore | None,
        hook: Hook | None = None,
        *,
        clock: Callable[[], float] = time.time,
        faults: Faults | None = None,
        tick_s: float = 0.05,
        corridors: frozenset[str] = KNOWN_CORRIDORS,
        on_error: Callable[[str, BaseException], None] | None = None,
    ) -> None:
        """``on_error(where, exc)``: told of every exception the endpoint contained (it
        logs them itself), e.g. to raise the application's alarm."""
        self.config = config
        self.store = store
        self.hook = hook
        self.clock = clock
        self.faults = faults
        self.on_error = on_error
        self.tick_s = tick_s
        self.corridors = corridors
        self.peer_key = config.peer.uri
        self.session = self._load()
        self._conn: _Conn | None = None
        self._ticker: asyncio.Task[None] | None = None
        self.frames_in = 0
        self.frames_out = 0
        self.errors = 0

    def _tell(self, where: str, exc: BaseException) -> None:
        if self.on_error is not None:
            try:
                self.on_error(where, exc)
            except Exception:
                log.exception("reporting a contained handoff error failed")

    def _load(self) -> HandoffSession:
        prefix = SIDE_NAMES.get(self.config.me.side, "ep")
        if self.store is not None:
            state = self.store.load(self.peer_key, prefix)
        else:
            state = SessionState(own_epoch=f"{prefix}-mem-{random.getrandbits(48):012x}")
        return HandoffSession(self.config, state, PROTOBUF_WIRE)

    # ---------------------------------------------------------------- control

    async def start(self) -> None:
        if self._ticker is None:
            self._ticker = asyncio.create_task(self._tick_loop())

    async def stop(self) -> None:
        if self._ticker is not None:
            self._ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._ticker
            self._ticker = None
        conn = self._conn
        if conn is not None:
            conn.queue.put_nowait((1001, "endpoint stopping"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(conn.done.wait(), 2.0)

    def abort(self) -> None:
        """Break the connection as a network fault would (no close handshake)."""
        conn = self._conn
        if conn is not None:
            _abort(conn.ws)

    @property
    def connected(self) -> bool:
        return self._conn is not None

    def link_state(self) -> LinkState:
        return self.session.link_state(self.clock())

    def do(self, action: Callable[[HandoffSession, float], Step]) -> Step:
        """Run one local action (offer, release, crossing, ...): commit, then send."""
        now = self.clock()
        step = action(self.session, now)
        self._process(step, now)
        return step

    # ------------------------------------------------------------- internals

    def _process(self, step: Step, now: float) -> None:
        try:
            i = 0
            while i < len(step.events):  # the hook's reactions may raise further events
                event = step.events[i]
                i += 1
                if self.hook is not None:
                    more = self.hook(event, self.session, now)
                    if more is not None:
                        step.merge(more)
            if self.store is not None:
                self.store.apply(self.peer_key, step.delta)
        except Exception as e:
            # Memory may be ahead of the store: forget it, reload the committed state and
            # drop the connection so the peer resends whatever we did not commit.
            log.exception("handoff step failed; reloading from the store")
            self.errors += 1
            self._tell("handoff step", e)
            self.session = self._load()
            conn = self._conn
            if conn is not None:
                conn.closing = True
                conn.queue.put_nowait((1011, "ERROR_CODE_INTERNAL"))
            return
        conn = self._conn
        if conn is None or conn.closing:
            return
        for frame in step.send:
            conn.queue.put_nowait(frame)
        if step.close is not None:
            conn.closing = True
            conn.queue.put_nowait(step.close)

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.tick_s)
            now = self.clock()
            try:
                step = self.session.tick(now)
            except Exception as e:  # keep ticking: timers are what detect a dead link
                log.exception("handoff tick failed")
                self._tell("handoff tick", e)
                continue
            self._process(step, now)

    def _receive(self, message: str | bytes) -> None:
        now = self.clock()
        self.frames_in += 1
        if isinstance(message, str):
            err = FrameError(m.ERROR_CODE_MALFORMED, "text frame: only binary frames are allowed")
            step = self.session.on_bad_frame(b"", err, now)
            step.close = (CLOSE_TEXT, "text frame")
        else:
            try:
                env = decode_message(message, corridors=self.corridors)
            except FrameError as err:
                step = self.session.on_bad_frame(message, err, now)
            else:
                step = self.session.on_frame(env, now)
        self._process(step, now)

    async def serve(self, ws: ServerConnection | ClientConnection) -> None:
        """Run the link over one authenticated WebSocket until it closes."""
        old = self._conn
        if old is not None:
            old.closing = True
            old.queue.put_nowait((CLOSE_SUPERSEDED, "superseded"))
            try:
                await asyncio.wait_for(old.done.wait(), 5.0)
            except TimeoutError:
                _abort(old.ws)
                await old.done.wait()
        conn = _Conn(ws)
        self._conn = conn
        writer = asyncio.create_task(self._writer(conn))
        try:
            self._process(self.session.on_connect(self.clock()), self.clock())
            async for message in ws:
                if conn.closing:
                    break
                self._receive(message)
        except ConnectionClosed:
            pass
        finally:
            # Nothing here may raise before `done` is set: a successor connection waits on it.
            conn.closing = True
            if self._conn is conn:
                self._conn = None
                self._process(self.session.on_disconnect(self.clock()), self.clock())
            conn.done.set()
            conn.queue.put_nowait(None)
            await asyncio.wait({writer}, timeout=1.0)  # let a pending Error + close go out
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(ws.close(), 1.0)

    async def _writer(self, conn: _Conn) -> None:
        try:
            await self._write_loop(conn)
        except ConnectionClosed:
            pass
        except Exception:  # a dead writer must not leave a live, silent connection behind
            log.exception("handoff writer failed; dropping the connection")
            _abort(conn.ws)

    async def _write_loop(self, conn: _Conn) -> None:
        held: bytes | None = None
        f = self.faults
        while True:
            item = await conn.queue.get()
            if item is None:
                return
            if isinstance(item, tuple):
                if held is not None:
                    await conn.ws.send(held)
                await conn.ws.close(item[0], item[1])
                return
            if f is not None:
                if f.hit(f.drop):
                    continue
                if f.hit(f.delay):
                    await asyncio.sleep(f.delay_s)
                if held is None and f.hit(f.reorder):
                    held = item
                    continue
            await conn.ws.send(item)
            self.frames_out += 1
            if f is not None and f.hit(f.duplicate):
                await conn.ws.send(item)
            if held is not None:
                await conn.ws.send(held)
                held = None


def _abort(ws: ServerConnection | ClientConnection) -> None:
    transport = getattr(ws, "transport", None)
    if transport is not None:
        transport.abort()


def _ssl_object(ws: ServerConnection | ClientConnection) -> Any:
    transport = getattr(ws, "transport", None)
    return transport.get_extra_info("ssl_object") if transport is not None else None


class HandoffServer:
    """Listens for peers; the certificate picks the endpoint, or the upgrade is refused."""

    def __init__(
        self,
        endpoints: Mapping[str, HandoffEndpoint],
        ssl_context: ssl.SSLContext | None,
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        insecure_peer: str = "",
    ) -> None:
        self.endpoints = dict(endpoints)  # by peer URI
        self.ssl_context = ssl_context
        self.host = host
        self.port = port
        self.insecure_peer = insecure_peer  # benchmark baseline without TLS only
        self.refused = 0
        self._server: Server | None = None

    def _identity(self, ws: ServerConnection) -> str:
        if self.ssl_context is None:
            return self.insecure_peer
        ident = certificate_identity(_ssl_object(ws))
        return peer_uri(*ident) if ident is not None else ""

    def _check(self, connection: ServerConnection, request: Request) -> Response | None:
        if request.path != PATH:
            self.refused += 1
            return connection.respond(HTTPStatus.NOT_FOUND, f"use {PATH}\n")
        if self._identity(connection) not in self.endpoints:
            self.refused += 1
            return connection.respond(HTTPStatus.FORBIDDEN, "peer certificate not authorised\n")
        return None

    async def _handler(self, ws: ServerConnection) -> None:
        if ws.subprotocol != SUBPROTOCOL:
            self.refused += 1
            await ws.close(1002, f"subprotocol {SUBPROTOCOL} required")
            return
        endpoint = self.endpoints.get(self._identity(ws))
        if endpoint is None:
            await ws.close(1008, "peer not authorised")
            return
        await endpoint.serve(ws)

    async def start(self) -> int:
        self._server = await serve(
            self._handler,
            self.host,
            self.port,
            ssl=self.ssl_context,
            subprotocols=[SUBPROTOCOL],
            compression=None,
            max_size=WS_MAX_SIZE,
            process_request=self._check,
            ping_interval=None,
            open_timeout=10,
        )
        self.port = self._server.sockets[0].getsockname()[1] if self._server.sockets else 0
        return self.port

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 3.0)
            self._server = None


class HandoffClient:
    """Dials the peer and keeps dialling: back-off 0.5 s doubling to 30 s, ±20 % jitter."""

    def __init__(
        self,
        endpoint: HandoffEndpoint,
        url: str,
        ssl_context: ssl.SSLContext | None,
        *,
        backoff: tuple[float, float] = (0.5, 30.0),
        stable_after_s: float = 60.0,
        seed: int = 0,
    ) -> None:
        self.endpoint = endpoint
        self.url = url
        self.ssl_context = ssl_context
        self.backoff = backoff
        self.stable_after_s = stable_after_s
        self.connects = 0
        self.failures = 0
        self.last_error = ""
        self._rng = random.Random(seed)
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def connect_once(self) -> None:
        """One connection, served until it ends; raises if it cannot be made or trusted."""
        async with connect(
            self.url,
            ssl=self.ssl_context,
            subprotocols=[SUBPROTOCOL],
            compression=None,
            max_size=WS_MAX_SIZE,
            open_timeout=10,
            ping_interval=None,
            proxy=None,
        ) as ws:
            if self.ssl_context is not None:
                ident = certificate_identity(_ssl_object(ws))
                want = self.endpoint.config.peer.uri
                if ident is None or peer_uri(*ident) != want:
                    await ws.close(1008, "server identity not authorised")
                    raise PermissionError(f"server is {ident}, expected {want}")
            if ws.subprotocol != SUBPROTOCOL:
                await ws.close(1002, "subprotocol")
                raise PermissionError("server did not select the subprotocol")
            self.connects += 1
            await self.endpoint.serve(ws)

    async def _run(self) -> None:
        delay = self.backoff[0]
        while True:
            started = time.monotonic()
            try:
                await self.connect_once()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # refused, reset, TLS failure, timeout: retry
                self.failures += 1
                self.last_error = repr(exc)
            if time.monotonic() - started >= self.stable_after_s:
                delay = self.backoff[0]
            await asyncio.sleep(delay * self._rng.uniform(0.8, 1.2))
            delay = min(delay * 2, self.backoff[1])
