"""Exactly-once custody under 200 random disconnects and restarts of either side.

A busy two-way run over loopback TLS: the VN side keeps up to 16 export offers open (every
tenth with an uncleared declaration, so refusals happen too), the CN reference peer sends
every vehicle it received home again (half of them loaded: imports) and meanwhile drops,
delays, duplicates and reorders its frames. 200 faults hit the run: network breaks and
crash-restarts of either side (the VN side is rebuilt from its SQLite store). Afterwards
both sides' stores, reloaded from disk, must agree handoff by handoff: no custody transfer
lost, none duplicated, no consignment booked twice.
"""

from __future__ import annotations

import asyncio
import random
import time
from pathlib import Path

from fleet.handoff.session import FINAL_STATES, HState, Role
from smartgate.link.peer import ReferencePeer
from smartgate.link.transport import Faults
from smartgate.storage.handoff_store import HandoffStore
from tests.smartgate.link.linkkit import CN, VN, VnSide, cn_options, make_offer, wait_for
from tools.devcerts import make_dev_pki

FAULTS = 200
SEED = 6


def test_200_disconnects_and_restarts(tmp_path: Path) -> None:
    make_dev_pki(tmp_path / "pki")
    counts = asyncio.run(_chaos(tmp_path))
    vn = HandoffStore(f"sqlite:///{tmp_path / 'vn.db'}").load(CN.uri)
    cn = HandoffStore(f"sqlite:///{tmp_path / 'cn.db'}").load(VN.uri)

    # Same handoffs on both sides, each in the same final state.
    assert set(vn.handoffs) == set(cn.handoffs)
    for hid, h in vn.handoffs.items():
        assert h.state in FINAL_STATES, (hid, h.state)
        assert cn.handoffs[hid].state == h.state, (hid, h.state, cn.handoffs[hid].state)
    # Custody ledgers identical: same handoffs, receipts, directions and consignments.
    assert vn.custody.keys() == cn.custody.keys()
    for hid, rec in vn.custody.items():
        other = cn.custody[hid]
        assert (rec.receipt_id, rec.from_side, rec.consignment_id) == (
            other.receipt_id,
            other.from_side,
            other.consignment_id,
        )
        assert {rec.role, other.role} == {Role.OFFERING, Role.RECEIVING}
    # Exactly once: every handoff not refused was transferred (none lost) ...
    transferred = {h for h, r in vn.handoffs.items() if r.state == HState.TRANSFERRED}
    assert transferred == set(vn.custody)
    offered = [h for h in vn.handoffs.values() if h.role == Role.OFFERING]
    refused = [h for h in offered if h.state == HState.REFUSED]
    assert {h.consignment_id.endswith("0") for h in refused} == {True}
    assert len(transferred & {h.handoff_id for h in offered}) == len(offered) - len(refused)
    # ... and no consignment crossed twice in one direction.
    keys = [(r.from_side, r.consignment_id) for r in vn.custody.values() if r.consignment_id]
    assert len(keys) == len(set(keys))
    # The run was busy and the faults happened.
    imports = [h for h in vn.handoffs.values() if h.role == Role.RECEIVING]
    assert len(offered) >= 150 and len(imports) >= 50, (len(offered), len(imports))
    assert sum(counts.values()) == FAULTS and min(counts.values()) >= 30, counts
    assert not vn.outbox and not cn.outbox


async def _chaos(tmp: Path) -> dict[str, int]:
    opts = cn_options(
        tmp / "pki",
        tmp / "cn.db",
        faults=Faults(drop=0.003, duplicate=0.02, reorder=0.02, delay=0.02, delay_s=0.005, seed=1),
        returns_after_s=0.0,
        import_share=0.5,
        seed=SEED,
    )
    cn = ReferencePeer(opts)
    await cn.start()
    assert cn.opts.listen is not None
    vn = VnSide(tmp / "pki", tmp / "vn.db", cn.opts.listen[1], seed=SEED)
    await vn.start()
    stop = asyncio.Event()
    driver = asyncio.create_task(_drive_offers(vn, stop))
    rng = random.Random(SEED)
    counts = {"cn-disconnect": 0, "cn-restart": 0, "vn-disconnect": 0, "vn-restart": 0}
    try:
        await wait_for(vn.connected, what="first connection")
        for _ in range(FAULTS):
            await asyncio.sleep(rng.uniform(0.02, 0.12))
            fault = rng.choice(sorted(counts))
            counts[fault] += 1
            if fault == "cn-disconnect":
                cn.disconnect()
            elif fault == "cn-restart":
                await cn.restart()
            elif fault == "vn-disconnect" and vn.endpoint is not None:
                vn.endpoint.abort()
            elif fault == "vn-restart":
                await vn.restart()
        stop.set()
        await driver
        cn.opts.faults = None  # quiesce: let the last frames through and the returns finish
        await cn.restart()
        await wait_for(lambda: _settled(vn, cn), timeout=40, what="both sides settled")
    finally:
        stop.set()
        await vn.stop()
        await cn.close()
        vn.store.close()
    return counts


def _settled(vn: VnSide, cn: ReferencePeer) -> bool:
    if vn.endpoint is None or cn.endpoint is None:
        return False
    a, b = vn.endpoint.session, cn.endpoint.session
    if a.st.outbox or b.st.outbox or a.open_handoffs() or b.open_handoffs():
        return False
    returned = {h.original_handoff_id for h in b.handoffs.values()}
    pending_returns = [
        h
        for h in b.handoffs.values()
        if h.role == Role.RECEIVING
        and h.state == HState.TRANSFERRED
        and h.kind == "offer"
        and h.handoff_id not in returned
    ]
    return not pending_returns


async def _drive_offers(vn: VnSide, stop: asyncio.Event) -> None:
    n = 0
    while not stop.is_set():
        await asyncio.sleep(0.005)
        ep = vn.endpoint
        if ep is None or not vn.connected():
            continue
        if len(ep.session.open_handoffs(role=Role.OFFERING)) >= 16:
            continue
        n += 1
        declaration = f"UNCLEARED-{n:08d}" if n % 10 == 0 else ""
        offer = make_offer(n, time.time(), declaration=declaration)
        ep.do(lambda s, now, o=offer: s.offer(o, now))  # type: ignore[misc]
