"""Full export and import cycles over real loopback TLS WebSockets, both sides store-backed."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from fleet.handoff import messages as m
from fleet.handoff.session import EventKind, HState, Role
from smartgate.link.peer import ReferencePeer, return_request
from tests.smartgate.link.linkkit import VnSide, cn_options, make_offer, wait_for
from tools.devcerts import make_dev_pki


def test_export_then_import_cycle(tmp_path: Path) -> None:
    make_dev_pki(tmp_path / "pki")
    asyncio.run(_export_then_import(tmp_path))


async def _export_then_import(tmp: Path) -> None:
    cn_events: list[EventKind] = []
    cn = ReferencePeer(
        cn_options(tmp / "pki", tmp / "cn.db"), on_event=lambda e: cn_events.append(e.kind)
    )
    await cn.start()
    assert cn.opts.listen is not None
    vn = VnSide(tmp / "pki", tmp / "vn.db", cn.opts.listen[1])
    await vn.start()
    try:
        await wait_for(vn.connected, what="VN link CONNECTED")
        assert vn.endpoint is not None and cn.endpoint is not None
        # Export: VN offers, CN accepts, VN drives across, CN books custody in.
        offer = make_offer(1, time.time())
        vn.endpoint.do(lambda s, now: s.offer(offer, now))
        await wait_for(lambda: vn.state("hn-000001") == HState.TRANSFERRED, what="export")
        vn_rec = vn.endpoint.session.st.custody["hn-000001"]
        cn_rec = cn.endpoint.session.st.custody["hn-000001"]
        assert vn_rec.receipt_id == cn_rec.receipt_id
        assert (vn_rec.role, cn_rec.role) == (Role.OFFERING, Role.RECEIVING)
        assert vn_rec.from_side == cn_rec.from_side == m.SIDE_VN
        assert cn_rec.consignment_id == "VN-UCR-00000001"
        assert EventKind.CROSSING_RECEIVED in cn_events

        # Import: CN sends the same vehicle home with an import load (ReturnRequest).
        body = return_request(cn.endpoint.session, "hn-000001", "ret-1", time.time(), load=7)
        cn.endpoint.do(lambda s, now: s.request_return(body, now))
        await wait_for(lambda: vn.state("ret-1") == HState.TRANSFERRED, what="import")
        await wait_for(
            lambda: (
                cn.endpoint is not None
                and cn.endpoint.session.handoffs["ret-1"].state == HState.TRANSFERRED
            ),
            what="CN sees the import receipt",
        )
        vn_imp = vn.endpoint.session.st.custody["ret-1"]
        cn_imp = cn.endpoint.session.st.custody["ret-1"]
        assert vn_imp.receipt_id == cn_imp.receipt_id
        assert vn_imp.from_side == m.SIDE_CN and vn_imp.role == Role.RECEIVING
        assert vn_imp.consignment_id == "CN-UCR-00000007"

        # A refusal: the declaration is not released by CN customs; nothing is handed over.
        bad = make_offer(2, time.time(), declaration="UNCLEARED-305000000002")
        vn.endpoint.do(lambda s, now: s.offer(bad, now))
        await wait_for(lambda: vn.state("hn-000002") == HState.REFUSED, what="refusal")
        assert "hn-000002" not in vn.endpoint.session.st.custody

        # Every durable frame is acknowledged in the end; the records survive a reload.
        await wait_for(
            lambda: (
                vn.endpoint is not None
                and cn.endpoint is not None
                and not vn.endpoint.session.st.outbox
                and not cn.endpoint.session.st.outbox
            ),
            what="outboxes drained",
        )
    finally:
        await vn.stop()
        await cn.close()
    reloaded = vn.store.load(vn.config.peer.uri)
    assert {h: r.receipt_id for h, r in reloaded.custody.items()} == {
        "hn-000001": vn_rec.receipt_id,
        "ret-1": vn_imp.receipt_id,
    }
    assert reloaded.handoffs["hn-000002"].state == HState.REFUSED
    vn.store.close()
