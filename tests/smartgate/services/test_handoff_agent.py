"""The handoff agent on a live orchestrator: export cycles against the reference CN peer."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from fleet.cargo.consignments import ConsignmentState
from fleet.handoff.session import HState, Role
from smartgate.link.peer import PeerRules, return_request
from tests.smartgate.services.agentkit import STOP_LINE, PeerThread, Yard, free_port, start_agent
from tests.smartgate.storage.recordkit import declaration
from tools.devcerts import make_dev_pki

S = ConsignmentState


@pytest.fixture
def pki(tmp_path: Path) -> Path:
    make_dev_pki(tmp_path / "pki")
    return tmp_path / "pki"


def _to_stop_line(yard: Yard, cid: str) -> None:
    yard.run(lambda: yard.state(cid) is S.AT_ZERO_LINE, sim_s=2000, what="at the zero line")
    assert yard.at_node("hn_01", STOP_LINE) and yard.side("hn_01") == "VN"


def test_full_export_cycle(tmp_path: Path, pki: Path) -> None:
    cn = PeerThread(pki, tmp_path / "cn.db")
    yard = Yard(f"sqlite:///{tmp_path}/sg.db")
    stop, agent = start_agent(yard, pki, tmp_path / "vn.db", cn.port)
    try:
        cid = yard.declare(1)
        _to_stop_line(yard, cid)
        yard.run(lambda: yard.state(cid) is S.RECEIVED, sim_s=600, what="custody booked")

        # The vehicle crossed km 0 only after the acceptance, and it is on the CN side.
        assert yard.accepted_when_crossing == {"hn_01": True}
        assert yard.side("hn_01") == "CN"
        # Custody exactly once on both sides, one receipt.
        hid = "VN-2026-000001.h1"
        vn = agent.session.st.custody
        assert cn.peer.endpoint is not None
        cn_custody = cn.peer.endpoint.session.st.custody
        assert list(vn) == [hid] and list(cn_custody) == [hid]
        assert vn[hid].receipt_id == cn_custody[hid].receipt_id
        assert cn_custody[hid].consignment_id == cid
        history = [e.to_state for e in yard.desk.get(cid).consignment.history]
        assert history.count(S.HANDED_OVER) == 1 and history.count(S.RECEIVED) == 1
        assert history[-3:] == [S.AT_ZERO_LINE, S.HANDED_OVER, S.RECEIVED]
        # The operators' record: one of each step, in order, with the handoff's identity.
        assert yard.events(cid) == [
            "handoff_offered",
            "handoff_accepted",
            "handoff_crossed",
            "handoff_custody",
        ]
        custody = next(e for e in yard.orch.handoffs() if e["event"] == "handoff_custody")
        assert custody["vehicle_id"] == "hn_01" and custody["direction"] == "export"
        assert custody["receipt_id"] == vn[hid].receipt_id
        # More polls change nothing: the cycle is done.
        yard.idle(0.5)
        assert yard.events(cid)[-1] == "handoff_custody" and len(yard.events(cid)) == 4
        link = yard.orch.link_status()
        assert [lk["state"] for lk in link] == ["connected"]
        assert link[0]["peer"] == "urn:smartgate:peer:cn:cn-youyiguan-dispatch"
        assert link[0]["last_heard_at"] is not None and link[0]["outbox_pending"] == 0
    finally:
        stop()
        cn.close()
        yard.close()


def test_link_down_holds_then_completes_after_reconnect(tmp_path: Path, pki: Path) -> None:
    port = free_port()  # the peer is not there yet
    yard = Yard(f"sqlite:///{tmp_path}/sg.db")
    stop, agent = start_agent(yard, pki, tmp_path / "vn.db", port)
    cn: PeerThread | None = None
    try:
        cid = yard.declare(2)
        _to_stop_line(yard, cid)
        yard.idle(1.0)  # vehicles report, the desk and the agent poll: nothing may move
        down = yard.orch.link_status()[0]
        assert down["state"] == "down" and down["since"] is not None
        assert down["last_heard_at"] is None and down["outbox_pending"] == 0
        assert agent.session.handoffs == {}  # no offer while down
        assert yard.events(cid) == []
        assert yard.state(cid) is S.AT_ZERO_LINE
        assert yard.at_node("hn_01", STOP_LINE) and yard.side("hn_01") == "VN"

        cn = PeerThread(pki, tmp_path / "cn.db", port)
        yard.run(lambda: yard.state(cid) is S.RECEIVED, sim_s=600, what="custody after reconnect")
        assert yard.orch.link_status()[0]["state"] == "connected"
        assert list(agent.session.handoffs) == ["VN-2026-000002.h1"]  # one offer, no repeat
        assert yard.accepted_when_crossing == {"hn_01": True}
        assert yard.events(cid) == [
            "handoff_offered",
            "handoff_accepted",
            "handoff_crossed",
            "handoff_custody",
        ]
        states = [e["state"] for e in yard.orch.log if e.get("event") == "link_state"]
        assert "connected" in states
    finally:
        stop()
        if cn is not None:
            cn.close()
        yard.close()


def test_refusal_sends_the_vehicle_back_to_its_yard(tmp_path: Path, pki: Path) -> None:
    cn = PeerThread(
        pki, tmp_path / "cn.db", rules=PeerRules(closed_corridors=frozenset({"huu-nghi"}))
    )
    yard = Yard(f"sqlite:///{tmp_path}/sg.db")
    stop, agent = start_agent(yard, pki, tmp_path / "vn.db", cn.port)
    try:
        cid = yard.declare(3)
        _to_stop_line(yard, cid)
        pickup = yard.desk.get(cid).pickup
        assert pickup is not None
        yard.run(lambda: yard.state(cid) is S.REFUSED, sim_s=120, what="refused")
        hid = "VN-2026-000003.h1"
        assert agent.session.handoffs[hid].state == HState.REFUSED
        # Back through the turnaround at the stop line to where it was loaded, never across.
        yard.run(lambda: yard.state(cid) is S.RETURNED, sim_s=900, what="brought back")
        assert "hn_01" not in yard.crossed_at
        assert yard.side("hn_01") == "VN" and yard.at_node("hn_01", pickup)
        rec = yard.desk.get(cid)
        assert any("CORRIDOR_CLOSED" in h.reason for h in rec.consignment.history)
        assert yard.events(cid) == ["handoff_offered", "handoff_refused"]
        refused = next(e for e in yard.orch.handoffs() if e["event"] == "handoff_refused")
        assert refused["holding"] is False and refused["handoff_id"] == hid
        assert refused["goal"] == pickup
        assert rec.vehicle_id is None  # unloaded: free for the next job
        assert not agent.session.st.custody
    finally:
        stop()
        cn.close()
        yard.close()


def test_return_request_brings_the_vehicle_home(tmp_path: Path, pki: Path) -> None:
    """Import: after the export, the CN side sends the vehicle home with an import load."""
    cn = PeerThread(pki, tmp_path / "cn.db")
    yard = Yard(f"sqlite:///{tmp_path}/sg.db")
    stop, agent = start_agent(yard, pki, tmp_path / "vn.db", cn.port)
    try:
        cid = yard.declare(4)
        home = yard.desk.profiles["hn_01"].home_node
        yard.run(lambda: yard.state(cid) is S.RECEIVED, sim_s=2000, what="export done")
        yard.run(lambda: yard.orch.vehicles()[0]["mission"]["status"] != "active", sim_s=2000)
        assert yard.side("hn_01") == "CN"

        async def send_home() -> None:
            ep = cn.peer.endpoint
            assert ep is not None
            body = return_request(ep.session, "VN-2026-000004.h1", "ret-1", time.time(), load=7)
            ep.do(lambda s, now: s.request_return(body, now))

        # Across the line it belongs to the other side: the desk does not dispatch it.
        nxt = yard.desk.intake(declaration(9), actor="test").record.id
        yard.desk.customs(nxt, cleared=True, actor="test", reason="released")
        yard.desk.quarantine(nxt, cleared=True, certificate="KD-9", actor="test", reason="ok")
        yard.run(lambda: yard.state(nxt) is S.QUEUED, sim_s=60, what="queued")
        yard.idle(0.3)
        assert yard.desk.get(nxt).vehicle_id is None and "hn_01" in yard.desk.away

        cn.thread.call(send_home())
        yard.run(lambda: yard.at_node("hn_01", home), sim_s=2000, what="home again")
        h = agent.session.handoffs["ret-1"]
        assert (h.role, h.state) == (Role.RECEIVING, HState.TRANSFERRED)
        assert cn.peer.endpoint is not None
        cn_h = cn.peer.endpoint.session.handoffs["ret-1"]
        assert cn_h.state == HState.TRANSFERRED and cn_h.receipt_id == h.receipt_id
        assert agent.session.st.custody["ret-1"].consignment_id == "CN-UCR-00000007"
        # Out and back, each crossing after an acceptance of its own.
        assert [(v, side, n) for v, _, side, n in yard.crossings] == [
            ("hn_01", "CN", 1),
            ("hn_01", "VN", 2),
        ]
        imports = [e for e in reversed(yard.orch.handoffs(500)) if e["direction"] == "import"]
        steps = [e.get("state", e["event"]) for e in imports]
        # "returning": the orchestrator let it cross home, once it stood after our acceptance
        # (before or after the peer's crossing report: both sides act independently).
        assert steps[:2] == ["handoff_offered", "handoff_accepted"]
        assert sorted(steps[2:]) == ["handoff_crossed", "handoff_custody", "returning"]
        assert steps.index("handoff_crossed") < steps.index("handoff_custody")
        assert {e["handoff_id"] for e in imports} == {"ret-1"}
        assert imports[steps.index("handoff_custody")]["receipt_id"] == h.receipt_id
        # Home again: available to the dispatcher, which gives it the waiting consignment.
        yard.run(lambda: yard.desk.get(nxt).vehicle_id == "hn_01", sim_s=60, what="dispatched")
        assert "hn_01" not in yard.desk.away
    finally:
        stop()
        cn.close()
        yard.close()


def test_restart_mid_handoff_books_custody_exactly_once(tmp_path: Path, pki: Path) -> None:
    """Both sides crash after the acceptance; the vehicle crosses meanwhile; after the
    restart the crossing is reported from the records and custody is booked once."""
    cn = PeerThread(pki, tmp_path / "cn.db")
    yard = Yard(f"sqlite:///{tmp_path}/sg.db")
    stop, agent = start_agent(yard, pki, tmp_path / "vn.db", cn.port)
    try:
        cid = yard.declare(5)
        _to_stop_line(yard, cid)
        yard.run(lambda: yard.state(cid) is S.HANDED_OVER, sim_s=120, what="accepted")
        stop()  # the agent goes away (its memory with it) ...
        cn.thread.call(cn.peer.restart())  # ... and so does the peer's
        yard.run(lambda: yard.side("hn_01") == "CN", sim_s=300, what="crossed while away")
        assert yard.state(cid) is S.HANDED_OVER and "link_state" in str(yard.orch.log)
        assert agent.session.handoffs["VN-2026-000005.h1"].state == HState.RELEASED

        stop, agent = start_agent(yard, pki, tmp_path / "vn.db", cn.port)
        yard.run(lambda: yard.state(cid) is S.RECEIVED, sim_s=300, what="custody after restart")
        assert list(agent.session.st.custody) == ["VN-2026-000005.h1"]
        assert cn.peer.endpoint is not None
        assert list(cn.peer.endpoint.session.st.custody) == ["VN-2026-000005.h1"]
        assert yard.events(cid) == [
            "handoff_offered",
            "handoff_accepted",
            "handoff_crossed",
            "handoff_custody",
        ]
        assert [(v, side, n) for v, _, side, n in yard.crossings] == [("hn_01", "CN", 1)]
    finally:
        stop()
        cn.close()
        yard.close()
