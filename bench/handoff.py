"""Handoff link benchmark: export handoffs over loopback, smartgate vs. two baselines.

One handoff = the full export cycle: VN offers, the CN reference logic accepts, VN releases
and reports the crossing, CN books custody and sends the receipt (4 durable frames plus
acks). Measured on the VN side: handoffs/s from the first offer to the last receipt, and
offer -> accept latency (p50/p99), with 1 offer open at a time (latency) and 32 (throughput).

impl ``smartgate``: wss with mutual TLS, both sides committing to SQLite (WAL, synchronous
FULL) before sending. Baselines in the same run: ``plain-ws`` (same, without TLS: the cost of
TLS) and ``memory-outbox`` (TLS, no store: the cost of durability).

Run: ``python -m bench.handoff [--quick]`` prints the JSON.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from fleet.handoff import messages as m
from fleet.handoff.session import Event, EventKind, PeerGrant, SessionConfig, Timing
from smartgate.link.peer import PeerRules, SimulatedSide, import_consignment
from smartgate.link.transport import (
    PATH,
    HandoffClient,
    HandoffEndpoint,
    HandoffServer,
    client_ssl_context,
    server_ssl_context,
)
from smartgate.storage.handoff_store import HandoffStore

CORRIDORS = frozenset({"huu-nghi", "tan-thanh"})
VN = PeerGrant(m.SIDE_VN, "vn-smartgate-lang-son", CORRIDORS)
CN = PeerGrant(m.SIDE_CN, "cn-youyiguan-dispatch", CORRIDORS)
IMPLS = {  # name: (tls, durable store)
    "smartgate": (True, True),
    "plain-ws": (False, True),
    "memory-outbox": (True, False),
}
CASES = ((1, 150), (32, 600))  # (offers open at once, handoffs)
QUICK_CASES = ((1, 20), (32, 64))


@dataclass
class _Probe:
    offered: dict[str, float]
    latencies: list[float]
    done: int = 0
    refused: int = 0
    wake: asyncio.Event | None = None

    def __call__(self, event: Event) -> None:
        now = time.perf_counter()
        if event.kind == EventKind.ACCEPTED and event.handoff_id in self.offered:
            self.latencies.append(now - self.offered[event.handoff_id])
        elif event.kind in (EventKind.CUSTODY_TRANSFERRED, EventKind.REFUSED):
            self.done += 1
            self.refused += event.kind == EventKind.REFUSED
            if self.wake is not None:
                self.wake.set()


def _offer(n: int, now: float) -> m.HandoffOffer:
    from datetime import UTC, datetime, timedelta

    c = import_consignment(n)
    declaration = replace(c.documents[0], issuing_side=m.SIDE_VN)
    t = datetime.fromtimestamp(now, UTC)
    return m.HandoffOffer(
        handoff_id=f"bench-{n:07d}",
        corridor_id="huu-nghi",
        model=m.HANDOFF_MODEL_CONTROL_AT_KM0,
        vehicle=m.Vehicle(
            vehicle_id=f"vn-sgv-{n:05d}",
            home_side=m.SIDE_VN,
            vehicle_type=m.VEHICLE_TYPE_SMART_GUIDE_VEHICLE,
        ),
        consignment=replace(
            c,
            consignment_id=f"VN-UCR-{n:08d}",
            documents=(declaration, *c.documents[1:]),
        ),
        planned_arrival=m.Timestamp.from_datetime(t + timedelta(minutes=5)),
        offer_expires_at=m.Timestamp.from_datetime(t + timedelta(minutes=30)),
    )


def _make_dev_pki(folder: Path) -> None:
    """tools/ is not an installed package: load devcerts.py from the checkout by path."""
    import importlib.util

    path = Path(__file__).resolve().parents[1] / "tools" / "devcerts.py"
    spec = importlib.util.spec_from_file_location("smartgate_devcerts", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_dev_pki(folder)


async def _run_case(impl: str, window: int, count: int, tmp: Path) -> dict[str, Any]:
    tls, durable = IMPLS[impl]
    pki = tmp / "pki"
    if not (pki / "vn.pem").exists():
        _make_dev_pki(pki)
    tag = f"{impl}-{window}"
    stores = (
        (HandoffStore(f"sqlite:///{tmp}/{tag}-vn.db"), HandoffStore(f"sqlite:///{tmp}/{tag}-cn.db"))
        if durable
        else (None, None)
    )
    timing = Timing()
    cn_app = SimulatedSide(PeerRules(capacity_per_corridor=10_000))
    cn = HandoffEndpoint(SessionConfig(CN, VN, timing), stores[1], cn_app)
    probe = _Probe({}, [])
    vn = HandoffEndpoint(SessionConfig(VN, CN, timing), stores[0], SimulatedSide(on_event=probe))
    server_ctx = server_ssl_context(pki / "cn.pem", pki / "cn.key", pki / "vn-ca.pem")
    client_ctx = client_ssl_context(pki / "vn.pem", pki / "vn.key", pki / "cn-ca.pem")
    server = HandoffServer(
        {VN.uri: cn}, server_ctx if tls else None, "127.0.0.1", 0, insecure_peer=VN.uri
    )
    port = await server.start()
    url = f"{'wss' if tls else 'ws'}://localhost:{port}{PATH}"
    client = HandoffClient(vn, url, client_ctx if tls else None, backoff=(0.05, 0.5))
    for ep in (cn, vn):
        await ep.start()
    await client.start()
    try:
        while vn.link_state().value != "connected":
            await asyncio.sleep(0.01)
        probe.wake = asyncio.Event()
        issued = 0
        t0 = time.perf_counter()
        while probe.done < count:
            while issued < count and issued - probe.done < window:
                issued += 1
                probe.offered[f"bench-{issued:07d}"] = time.perf_counter()
                offer = _offer(issued, time.time())
                vn.do(lambda s, now, o=offer: s.offer(o, now))  # type: ignore[misc]
            probe.wake.clear()
            await asyncio.wait_for(probe.wake.wait(), 30.0)
        elapsed = time.perf_counter() - t0
    finally:
        await client.stop()
        for ep in (vn, cn):
            await ep.stop()
        await server.stop()
        for st in stores:
            if st is not None:
                st.close()
    lat = sorted(x * 1000.0 for x in probe.latencies)
    p99 = lat[min(len(lat) - 1, round(0.99 * (len(lat) - 1)))]
    return {
        "case": f"export-cycle/window{window}",
        "impl": impl,
        "tls": tls,
        "durable": durable,
        "handoffs": count - probe.refused,
        "refused": probe.refused,
        "handoffs_per_s": round((count - probe.refused) / elapsed, 1),
        "latency_ms_p50": round(statistics.median(lat), 2),
        "latency_ms_p99": round(p99, 2),
        "latency_ms_max": round(lat[-1], 2),
        "elapsed_s": round(elapsed, 3),
    }


def run(quick: bool = False) -> dict[str, Any]:
    """One JSON-able object: every case for every implementation, in the same run."""
    results: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="bench-handoff-") as d:
        for window, count in QUICK_CASES if quick else CASES:
            for impl in IMPLS:
                results.append(asyncio.run(_run_case(impl, window, count, Path(d))))
    return {"bench": "handoff", "results": results}


if __name__ == "__main__":
    json.dump(run(quick="--quick" in sys.argv[1:]), sys.stdout)
    sys.stdout.write("\n")
