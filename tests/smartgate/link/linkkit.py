"""Shared pieces for the link tests: fast timers, offers, a store-backed VN side, waiting."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fleet.handoff import messages as m
from fleet.handoff.session import (
    HState,
    LinkState,
    PeerGrant,
    SessionConfig,
    Timing,
)
from smartgate.link.codec import from_proto
from smartgate.link.peer import PeerOptions, PeerRules, SimulatedSide
from smartgate.link.transport import PATH, HandoffClient, HandoffEndpoint, client_ssl_context
from smartgate.storage.handoff_store import HandoffStore
from tests.smartgate.link import framekit

CORRIDORS = frozenset({"huu-nghi", "tan-thanh"})
VN = PeerGrant(m.SIDE_VN, "vn-smartgate-lang-son", CORRIDORS)
CN = PeerGrant(m.SIDE_CN, "cn-youyiguan-dispatch", CORRIDORS)
FAST = Timing(
    heartbeat_s=0.3,
    ack_delay_s=0.02,
    hello_timeout_s=1.0,
    lagging_rx_s=1.5,
    down_rx_s=3.0,
    lagging_unacked_s=1.0,
    resend_after_s=1.0,
    accept_validity_s=600.0,
)


def make_offer(
    n: int, now: float, corridor: str = "huu-nghi", declaration: str = ""
) -> m.HandoffOffer:
    """The spec's sample offer made unique: handoff, consignment and vehicle numbered n."""
    o = from_proto(framekit.offer()).body
    assert isinstance(o, m.HandoffOffer) and o.consignment is not None
    documents = o.consignment.documents
    if declaration:
        documents = (replace(documents[0], document_id=declaration), *documents[1:])
    t = datetime.fromtimestamp(now, UTC)
    return replace(
        o,
        handoff_id=f"hn-{n:06d}",
        corridor_id=corridor,
        vehicle=replace(o.vehicle, vehicle_id=f"vn-sgv-{n:05d}"),
        consignment=replace(o.consignment, consignment_id=f"VN-UCR-{n:08d}", documents=documents),
        planned_arrival=m.Timestamp.from_datetime(t + timedelta(minutes=5)),
        offer_expires_at=m.Timestamp.from_datetime(t + timedelta(minutes=30)),
    )


def cn_options(certs: Path, db: Path, **kw: object) -> PeerOptions:
    opts = PeerOptions(
        certs=certs,
        db=f"sqlite:///{db}",
        listen=("127.0.0.1", 0),
        timing=FAST,
        rules=PeerRules(capacity_per_corridor=1000),
        db_synchronous="NORMAL",  # the tests crash processes, not the power
    )
    for k, v in kw.items():
        setattr(opts, k, v)
    return opts


class VnSide:
    """The Vietnamese orchestrator's end in the tests: store-backed, client, restartable."""

    def __init__(self, certs: Path, db: Path, port: int, *, seed: int = 0) -> None:
        self.ssl = client_ssl_context(certs / "vn.pem", certs / "vn.key", certs / "cn-ca.pem")
        self.url = f"wss://localhost:{port}{PATH}"
        self.store = HandoffStore(f"sqlite:///{db}", synchronous="NORMAL")
        self.config = SessionConfig(VN, CN, FAST, "smartgate test")
        self.app = SimulatedSide()
        self.seed = seed
        self.endpoint: HandoffEndpoint | None = None
        self.client: HandoffClient | None = None

    async def start(self) -> None:
        self.endpoint = HandoffEndpoint(self.config, self.store, self.app, tick_s=0.02)
        await self.endpoint.start()
        self.client = HandoffClient(
            self.endpoint, self.url, self.ssl, backoff=(0.02, 0.2), seed=self.seed
        )
        await self.client.start()

    async def stop(self) -> None:
        if self.endpoint is not None:
            self.endpoint.abort()  # a crash: no close handshake
        if self.client is not None:
            await self.client.stop()
        if self.endpoint is not None:
            await self.endpoint.stop()
        self.client = self.endpoint = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def connected(self) -> bool:
        return self.endpoint is not None and self.endpoint.link_state() == LinkState.CONNECTED

    def state(self, hid: str) -> HState | None:
        if self.endpoint is None:
            return None
        h = self.endpoint.session.handoffs.get(hid)
        return h.state if h else None


async def wait_for(cond: Callable[[], bool], timeout: float = 10.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what or cond}")
        await asyncio.sleep(0.01)
