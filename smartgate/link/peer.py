"""Reference peer of the handoff link: a runnable Chinese-side dispatch (``smartgate peer``).

It decides offers by its own rules (`PeerRules`: customs and quarantine clearance, closed
corridors, capacity per corridor), books custody in after each CrossingReport, drives its own
released vehicles across (a simulated vehicle reports the crossing at once), can originate
ReturnRequests (import), and can inject transport faults (`Faults`) and disconnects /
restarts. The same `SimulatedSide` hook drives the VN side in the tests and the benchmark.

After a restart, `SimulatedSide.recover` resumes from the store whatever was pending:
undecided offers, crossings without receipt, accepted or released vehicles.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleet.handoff import messages as m
from fleet.handoff.session import (
    Event,
    EventKind,
    HandoffSession,
    HState,
    LinkState,
    PeerGrant,
    Role,
    SessionConfig,
    SessionError,
    Step,
    Timing,
    peer_uri,
)
from smartgate.link.transport import (
    Faults,
    HandoffClient,
    HandoffEndpoint,
    HandoffServer,
    client_ssl_context,
    server_ssl_context,
)
from smartgate.storage.handoff_store import HandoffStore

ZERO_LINE = {
    "huu-nghi": m.Position(longitude=106.7112, latitude=21.9747),
    "tan-thanh": m.Position(longitude=106.6839, latitude=22.0031),
}
DECLARATIONS = (m.DOCUMENT_TYPE_CUSTOMS_DECLARATION, m.DOCUMENT_TYPE_TRANSIT_DECLARATION)


@dataclass(frozen=True)
class PeerRules:
    """How the receiving side decides; a pure function of the offer and its open handoffs."""

    capacity_per_corridor: int = 8  # accepted, not yet crossed, per corridor
    closed_corridors: frozenset[str] = frozenset()
    uncleared_prefixes: tuple[str, ...] = ("UNCLEARED",)  # declaration ids not released
    lab_certificate_hs: tuple[str, ...] = ("081060",)  # durian: lab results since Jan 2025


def decide(
    rules: PeerRules, body: m.HandoffOffer | m.ReturnRequest, open_accepted: int
) -> tuple[m.RefusalReason, str] | None:
    """None = accept; else (reason, detail)."""
    if body.corridor_id in rules.closed_corridors:
        return m.REFUSAL_REASON_CORRIDOR_CLOSED, f"{body.corridor_id} closed"
    if open_accepted >= rules.capacity_per_corridor:
        return m.REFUSAL_REASON_CAPACITY, f"{open_accepted} vehicles already accepted"
    if body.consignment is not None:
        c = body.consignment
        declarations = [d for d in c.documents if d.document_type in DECLARATIONS]
        if not declarations or any(
            d.document_id.startswith(rules.uncleared_prefixes) for d in declarations
        ):
            return m.REFUSAL_REASON_CUSTOMS_NOT_CLEARED, "declaration not released"
        if any(g.hs_code.startswith(rules.lab_certificate_hs) for g in c.goods) and not any(
            d.document_type == m.DOCUMENT_TYPE_LAB_CERTIFICATE for d in c.documents
        ):
            return m.REFUSAL_REASON_QUARANTINE_NOT_CLEARED, "lab certificate missing"
    return None


@dataclass
class SimulatedSide:
    """Application hook: decide offers, book custody, drive released vehicles across."""

    rules: PeerRules = field(default_factory=PeerRules)
    auto_release: bool = True
    on_event: Callable[[Event], None] | None = None
    accepted_at: dict[str, float] = field(default_factory=dict)

    def __call__(self, event: Event, s: HandoffSession, now: float) -> Step | None:
        if self.on_event is not None:
            self.on_event(event)
        hid = event.handoff_id
        if event.kind == EventKind.OFFER_RECEIVED:
            return self._decide(s, hid, now)
        if event.kind == EventKind.CROSSING_RECEIVED:
            return s.transfer_custody(hid, now, self._seals(s, hid))
        if event.kind == EventKind.ACCEPTED:
            self.accepted_at[hid] = now
            return self._drive(s, hid, now) if self.auto_release else None
        if event.kind == EventKind.LINK_UP:
            return self.recover(s, now)
        return None

    def _decide(self, s: HandoffSession, hid: str, now: float) -> Step:
        body = s.payload(hid)
        busy = sum(
            h.state in (HState.ACCEPTED, HState.REVOKED)
            for h in s.open_handoffs(body.corridor_id, Role.RECEIVING)
        )
        verdict = decide(self.rules, body, busy)
        if verdict is None:
            return s.accept(hid, now, destination_id=f"yard-{body.corridor_id}")
        reason, detail = verdict
        disposition = (
            m.DISPOSITION_INSPECTION_ZONE
            if reason == m.REFUSAL_REASON_QUARANTINE_NOT_CLEARED
            else m.DISPOSITION_RETURN_TO_YARD
        )
        return s.refuse(hid, reason, now, detail, disposition=disposition)

    @staticmethod
    def _seals(s: HandoffSession, hid: str) -> list[tuple[str, bool]]:
        body = s.payload(hid)
        load = body.consignment
        return [(seal.seal_number, True) for seal in load.seals] if load is not None else []

    def _drive(self, s: HandoffSession, hid: str, now: float) -> Step | None:
        """Release the vehicle and, being simulated, report it across km 0 at once."""
        if s.link_state(now) != LinkState.CONNECTED:
            return None  # it holds at the stop line; recover() releases it on LINK_UP
        step = s.release(hid, now)
        corridor = s.handoffs[hid].corridor_id
        return s.report_crossing(hid, now, ZERO_LINE[corridor], 2.5, step)

    def recover(self, s: HandoffSession, now: float) -> Step:
        """Finish what a restart or an outage interrupted, from the durable records."""
        step = Step()
        for h in sorted(s.open_handoffs(), key=lambda h: h.handoff_id):
            try:
                if h.role == Role.RECEIVING and h.state == HState.RECEIVED:
                    step.merge(self._decide(s, h.handoff_id, now))
                elif h.role == Role.RECEIVING and h.state == HState.CROSSED:
                    step.merge(s.transfer_custody(h.handoff_id, now, self._seals(s, h.handoff_id)))
                elif h.role == Role.OFFERING and h.state == HState.RELEASED:
                    pos = ZERO_LINE[h.corridor_id]
                    step.merge(s.report_crossing(h.handoff_id, now, pos, 2.5))
                elif h.role == Role.OFFERING and h.state == HState.ACCEPTED and self.auto_release:
                    more = self._drive(s, h.handoff_id, now)
                    if more is not None:
                        step.merge(more)
            except SessionError:
                continue  # e.g. the acceptance just expired: the tick cancels it
        return step


def import_consignment(n: int, corridor: str = "huu-nghi") -> m.Consignment:
    """A plausible import load (electronic components from China) for a ReturnRequest."""
    return m.Consignment(
        consignment_id=f"CN-UCR-{n:08d}",
        container_number=_container(n),
        gross_weight_kg=9_800.0,
        documents=(
            m.DocumentReference(
                document_type=m.DOCUMENT_TYPE_CUSTOMS_DECLARATION,
                document_id=f"5301{n:010d}",
                issuing_side=m.SIDE_CN,
            ),
        ),
        goods=(
            m.GoodsItem(
                hs_code="854231", description="Processors", package_count=240, package_type="CT"
            ),
        ),
    )


def _container(n: int) -> str:
    from smartgate.link.codec import is_valid_container_number

    base = f"MSCU{n % 1_000_000:06d}"
    return next(base + str(d) for d in range(10) if is_valid_container_number(base + str(d)))


def return_request(
    s: HandoffSession, original_handoff_id: str, handoff_id: str, now: float, load: int | None
) -> m.ReturnRequest:
    """Build the ReturnRequest sending the vehicle of `original_handoff_id` home."""
    orig = s.payload(original_handoff_id)
    t = datetime.fromtimestamp(now, UTC)
    return m.ReturnRequest(
        handoff_id=handoff_id,
        original_handoff_id=original_handoff_id,
        corridor_id=orig.corridor_id,
        vehicle=orig.vehicle,
        consignment=import_consignment(load, orig.corridor_id) if load is not None else None,
        planned_arrival=m.Timestamp.from_datetime(t + timedelta(minutes=5)),
        offer_expires_at=m.Timestamp.from_datetime(t + timedelta(minutes=15)),
    )


@dataclass
class PeerOptions:
    side: int = m.SIDE_CN
    system_id: str = "cn-youyiguan-dispatch"
    corridors: frozenset[str] = frozenset({"huu-nghi", "tan-thanh"})
    peer_side: int = m.SIDE_VN
    peer_system_id: str = "vn-smartgate-lang-son"
    peer_corridors: frozenset[str] = frozenset({"huu-nghi", "tan-thanh"})
    certs: Path = Path("var/certs")
    db: str = "sqlite:///var/handoff-peer.db"
    db_synchronous: str = ""  # SQLite: "" = FULL (power-cut safe); NORMAL = crash safe
    listen: tuple[str, int] | None = ("127.0.0.1", 8765)
    connect: str = ""  # wss URL: dial out instead of listening
    rules: PeerRules = field(default_factory=PeerRules)
    faults: Faults | None = None
    timing: Timing = field(default_factory=Timing)
    returns_after_s: float | None = None  # originate ReturnRequests for vehicles we received
    import_share: float = 0.5  # share of those returns loaded with an import consignment
    disconnect_every_s: float | None = None
    restart_every_s: float | None = None
    seed: int = 0


class ReferencePeer:
    """Server (or client) + endpoint + store, restartable in-process like a crashed process."""

    def __init__(self, opts: PeerOptions, on_event: Callable[[Event], None] | None = None) -> None:
        self.opts = opts
        me = PeerGrant(opts.side, opts.system_id, opts.corridors)
        peer = PeerGrant(opts.peer_side, opts.peer_system_id, opts.peer_corridors)
        self.config = SessionConfig(me, peer, opts.timing, "smartgate reference peer")
        self.app = SimulatedSide(opts.rules, on_event=on_event)
        self.store = HandoffStore(opts.db, synchronous=opts.db_synchronous)
        self.endpoint: HandoffEndpoint | None = None
        self.server: HandoffServer | None = None
        self.client: HandoffClient | None = None
        self.restarts = 0
        self.returns_sent = 0
        self._rng = random.Random(opts.seed)
        self._chaos: asyncio.Task[None] | None = None
        self._returned: set[str] = set()

    def _tls(self, server: bool) -> tuple[Path, Path, Path]:
        mine = "cn" if self.opts.side == m.SIDE_CN else "vn"
        other = "vn" if mine == "cn" else "cn"
        d = self.opts.certs
        del server
        return d / f"{mine}.pem", d / f"{mine}.key", d / f"{other}-ca.pem"

    async def start(self) -> None:
        self.endpoint = HandoffEndpoint(
            self.config, self.store, self.app, faults=self.opts.faults, tick_s=0.05
        )
        await self.endpoint.start()
        if self.opts.connect:
            ctx = client_ssl_context(*self._tls(False))
            self.client = HandoffClient(self.endpoint, self.opts.connect, ctx, seed=self.opts.seed)
            await self.client.start()
        elif self.opts.listen is not None:
            host, port = self.opts.listen
            ctx = server_ssl_context(*self._tls(True))
            uri = peer_uri(self.opts.peer_side, self.opts.peer_system_id)
            self.server = HandoffServer({uri: self.endpoint}, ctx, host, port)
            self.opts.listen = (host, await self.server.start())
        if self._chaos is None:
            self._chaos = asyncio.create_task(self._chaos_loop())

    async def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.abort()  # like a crash: no close handshake to wait for
        if self.client is not None:
            await self.client.stop()
            self.client = None
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self.endpoint is not None:
            self.endpoint.abort()
            await self.endpoint.stop()
            self.endpoint = None

    async def close(self) -> None:
        if self._chaos is not None:
            self._chaos.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._chaos
            self._chaos = None
        await self.stop()
        self.store.close()

    async def restart(self) -> None:
        """Crash and come back: in-memory state is lost, the store is what survives."""
        self.restarts += 1
        await self.stop()
        await self.start()

    def disconnect(self) -> None:
        if self.endpoint is not None:
            self.endpoint.abort()

    def send_returns(self, now: float) -> int:
        """Offer home every foreign vehicle we received and have not yet returned."""
        ep = self.endpoint
        if ep is None or ep.link_state() != LinkState.CONNECTED:
            return 0
        s = ep.session
        sent = 0
        returned = self._returned | {o.original_handoff_id for o in s.handoffs.values()}
        for h in list(s.handoffs.values()):
            if (
                h.role != Role.RECEIVING
                or h.state != HState.TRANSFERRED
                or h.kind != "offer"
                or h.handoff_id in returned
                or now - h.updated_at < (self.opts.returns_after_s or 0.0)
            ):
                continue
            self._returned.add(h.handoff_id)
            n = self._rng.randrange(10**8)
            load = n if self._rng.random() < self.opts.import_share else None
            rid = f"ret-{h.handoff_id}"[:64]
            body = return_request(s, h.handoff_id, rid, now, load)
            with contextlib.suppress(SessionError):
                ep.do(lambda sess, t, b=body: sess.request_return(b, t))  # type: ignore[misc]
                sent += 1
        self.returns_sent += sent
        return sent

    async def _chaos_loop(self) -> None:
        o = self.opts
        next_disc = next_restart = float("inf")
        loop = asyncio.get_running_loop()
        if o.disconnect_every_s:
            next_disc = loop.time() + o.disconnect_every_s
        if o.restart_every_s:
            next_restart = loop.time() + o.restart_every_s
        while True:
            await asyncio.sleep(0.1)
            t = loop.time()
            if t >= next_disc and o.disconnect_every_s:
                self.disconnect()
                next_disc = t + self._rng.expovariate(1 / o.disconnect_every_s)
            if t >= next_restart and o.restart_every_s:
                await self.restart()
                next_restart = t + self._rng.expovariate(1 / o.restart_every_s)
            if o.returns_after_s is not None and self.endpoint is not None:
                self.send_returns(self.endpoint.clock())


def parse_hostport(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"expected HOST:PORT, got {text!r}")
    return host.strip("[]"), int(port)


async def run_forever(opts: PeerOptions, echo: Callable[[str], None]) -> None:
    """`smartgate peer`: run until cancelled, printing one line per handoff event."""

    def show(event: Event) -> None:
        if event.kind not in (EventKind.LINK_UP, EventKind.LINK_DOWN) and not event.handoff_id:
            return
        echo(f"{event.kind.value:20} {event.handoff_id} {event.detail}".rstrip())

    peer = ReferencePeer(opts, on_event=show)
    await peer.start()
    where = opts.connect or f"wss://{opts.listen[0]}:{opts.listen[1]}" if opts.listen else ""
    echo(f"smartgate peer: {peer.config.me.uri} on {where} (Ctrl-C stops)")
    try:
        await asyncio.Event().wait()
    finally:
        await peer.close()
