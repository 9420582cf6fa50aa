"""The consignment desk on a real database with a stand-in fleet: trips, the gate, recovery."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from fleet.cargo.consignments import ConsignmentState as S
from fleet.cargo.consignments import IllegalTransition, LabTest
from fleet.cargo.dispatch import GraphTravelTimes
from fleet.traffic.planner import Priority
from fleet.yard.policy import LiftEvent, YardRules
from smartgate.services.desk import (
    ConsignmentDesk,
    DeskError,
    IntakeConflict,
    UnknownConsignment,
    UnknownReference,
)
from smartgate.storage.store import Store
from tests.smartgate.storage.dbkit import DATABASES
from tests.smartgate.storage.recordkit import YardFleet, declaration, fresh_database

CUSTOMS = "customs:huu-nghi"
QUARANTINE = "quarantine:lang-son"
CRANE = "crane:vn-yard"


class Clock:
    def __init__(self) -> None:
        self.t = 1_800_000_000.0

    def __call__(self) -> float:
        self.t += 1.0
        return self.t


@pytest.fixture(params=DATABASES)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, tmp_path) as url:
        yield url


def make_desk(
    store: Store, fleet: YardFleet, graphs: dict[str, nx.DiGraph], **kw: Any
) -> ConsignmentDesk:
    desk = ConsignmentDesk(
        store,
        fleet,
        GraphTravelTimes(graphs),
        corridors=list(graphs),
        graphs=graphs,
        clock=kw.pop("clock", Clock()),
        **kw,
    )
    for vid, snap in fleet.snaps.items():
        desk.register_vehicle(vid, snap.corridor, snap.node or "vn-spot-P1")
    return desk


def clear(desk: ConsignmentDesk, cid: str) -> None:
    desk.customs(cid, cleared=True, actor=CUSTOMS, reason="VNACCS green channel")
    desk.quarantine(cid, cleared=True, certificate=None, actor=QUARANTINE, reason="inspected")


def crane(desk: ConsignmentDesk, cid: str, *events: LiftEvent) -> None:
    """The yard's crane lifts what the desk ordered for ``cid`` (started, then done)."""
    lift = desk.get(cid).lift
    assert lift is not None and lift.pending, "no lift ordered"
    for event in events or (LiftEvent.STARTED, LiftEvent.DONE):
        desk.lift(
            cid, vehicle_id=lift.vehicle, spot=lift.spot, event=event, actor=CRANE, reason="ok"
        )


def drive(desk: ConsignmentDesk, fleet: YardFleet, t: float) -> None:
    """Every vehicle on its way reaches the goal it was sent to; then one desk round."""
    for vid, snap in fleet.snaps.items():
        goal = fleet.goal_of(vid)
        if snap.busy and goal is not None:
            fleet.arrive(vid, goal)
    desk.tick(t)


def test_a_trip_from_declaration_to_the_other_side(
    db_url: str, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(db_url)
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1")})
    desk = make_desk(store, fleet, graphs)
    r = desk.intake(declaration(1), actor="single-window")
    assert r.created and r.record.consignment.state is S.DECLARED
    clear(desk, "VN-2026-000001")
    assert desk.get("VN-2026-000001").consignment.state is S.CLEARED
    desk.tick(0.0)
    rec = desk.get("VN-2026-000001")
    # The yard sends the vehicle from its parking place to a bay; the consignment is
    # given to it there, when its lift is ordered.
    assert rec.consignment.state is S.QUEUED and rec.vehicle_id is None
    pickup = fleet.goal_of("hn_01")
    assert pickup is not None and pickup.startswith("vn-spot-L")
    desk.tick(1.0)  # still driving: nothing changes
    assert desk.get("VN-2026-000001").vehicle_id is None
    fleet.arrive("hn_01", pickup)
    desk.tick(2.0)
    rec = desk.get("VN-2026-000001")
    assert rec.consignment.state is S.QUEUED  # standing there is not being loaded
    assert rec.vehicle_id == "hn_01" and rec.pickup == pickup
    assert rec.lift is not None and (rec.lift.vehicle, rec.lift.spot) == ("hn_01", pickup)
    assert [r.id for r in desk.open_lifts()] == ["VN-2026-000001"]
    crane(desk, "VN-2026-000001")
    assert desk.get("VN-2026-000001").consignment.state is S.LOADED
    assert desk.open_lifts() == []
    desk.tick(2.5)
    assert desk.get("VN-2026-000001").consignment.state is S.IN_TRANSIT
    assert fleet.goal_of("hn_01") == "SL-E-zero"
    assert fleet.priorities["hn_01"] is Priority.PERISHABLE  # dragon fruit: planned first
    said = [
        (e["what"], e["detail"], e["why"]) for e in store.events() if e["event"] == "yard_decision"
    ]
    assert said == [
        ("send", pickup, "in the yard: a bay has room"),
        ("lift", f"load VN-2026-000001 at {pickup}", "perishable, first"),
        ("send", "SL-E-zero", "loaded with VN-2026-000001"),  # where its trip takes it
    ]
    fleet.arrive("hn_01", "SL-E-zero")
    desk.tick(3.0)
    assert desk.get("VN-2026-000001").consignment.state is S.AT_ZERO_LINE
    desk.handover("VN-2026-000001", accepted=True, actor="cn:youyiguan", reason="accepted")
    rec = desk.get("VN-2026-000001")
    assert rec.consignment.state is S.HANDED_OVER and rec.vehicle_id is None
    desk.received("VN-2026-000001", actor="cn:youyiguan", reason="in the CN yard")

    stored = store.consignment("VN-2026-000001")
    assert stored is not None and stored.consignment.state is S.RECEIVED
    path = [(e.from_state, e.to_state) for e in stored.consignment.history]
    assert path == [
        (S.DECLARED, S.CLEARED),
        (S.CLEARED, S.QUEUED),
        (S.QUEUED, S.LOADED),
        (S.LOADED, S.IN_TRANSIT),
        (S.IN_TRANSIT, S.AT_ZERO_LINE),
        (S.AT_ZERO_LINE, S.HANDED_OVER),
        (S.HANDED_OVER, S.RECEIVED),
    ]
    assert stored.consignment.history[0].actor == QUARANTINE  # the one who completed clearance
    rows = store.consignment_events()
    assert [r.seq for r in rows] == list(range(7))
    kinds = [e["event"] for e in store.events()]
    assert kinds.index("consignment_declared") < kinds.index("consignment_assigned")
    assert "consignment_unassigned" in kinds
    store.close()


def test_the_gate_uncleared_never_dispatched(tmp_path: Path, graphs: dict[str, nx.DiGraph]) -> None:
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1"), "hn_02": ("huu-nghi", "vn-spot-L1")})
    desk = make_desk(store, fleet, graphs)
    # 1: customs only. 2: durian without its lab certificates. 3: cleared, then withdrawn.
    desk.intake(declaration(1), actor="sw")
    desk.customs("VN-2026-000001", cleared=True, actor=CUSTOMS, reason="ok")
    durian = declaration(2, goods={"category": "fruit", "fruit_kind": "durian"})
    desk.intake(durian, actor="sw")
    clear(desk, "VN-2026-000002")
    desk.lab_certificate(
        "VN-2026-000002", test=LabTest.CADMIUM, certificate="LAB-1", actor="lab", reason="ok"
    )
    desk.intake(declaration(3), actor="sw")
    clear(desk, "VN-2026-000003")
    desk.tick(0.0)  # 3 is queued and taken by hn_02, standing at a bay
    assert desk.get("VN-2026-000003").vehicle_id == "hn_02"
    desk.customs("VN-2026-000003", cleared=False, actor=CUSTOMS, reason="re-inspection ordered")
    rec3 = desk.get("VN-2026-000003")
    assert rec3.consignment.state is S.HELD and rec3.vehicle_id is None  # nothing was loaded
    for t in range(1, 6):
        drive(desk, fleet, float(t))  # both stand at bays now: nothing to load
    for cid, state in [
        ("VN-2026-000001", S.DECLARED),
        ("VN-2026-000002", S.DECLARED),
        ("VN-2026-000003", S.HELD),
    ]:
        rec = desk.get(cid)
        assert rec.consignment.state is state and rec.vehicle_id is None, cid
    # The one lift ever ordered was consignment 3's, before customs withdrew it.
    lifts = [e for e in store.events() if e["event"] == "lift_ordered"]
    assert [e["consignment_id"] for e in lifts] == ["VN-2026-000003"]
    assert [v for v, _ in fleet.commands] == ["hn_01"]  # to a bay, with nothing for it
    with pytest.raises(IllegalTransition, match="not a legal transition"):
        desk.handover("VN-2026-000001", accepted=True, actor="cn", reason="no")
    # The durian's second lab certificate completes clearance: now it may go.
    desk.lab_certificate(
        "VN-2026-000002", test=LabTest.AURAMINE_O, certificate="LAB-2", actor="lab", reason="ok"
    )
    desk.tick(10.0)
    assert desk.get("VN-2026-000002").vehicle_id is not None
    store.close()


def test_idempotent_intake_and_conflicts(tmp_path: Path, graphs: dict[str, nx.DiGraph]) -> None:
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    desk = make_desk(store, YardFleet({}), graphs)
    assert desk.intake(declaration(7), actor="sw").created
    again = declaration(7, container_number=declaration(7)["container_number"].lower())
    assert not desk.intake(again, actor="sw").created  # same meaning, other spelling
    with pytest.raises(IntakeConflict) as e:
        desk.intake(declaration(7, gross_weight_kg=26000, seal_number="ML-9"), actor="sw")
    assert e.value.fields == ["gross_weight_kg", "seal_number"]
    with pytest.raises(IntakeConflict) as e:  # same id, another declaration number
        desk.intake(declaration(7, customs_declaration="305999999999"), actor="sw")
    assert e.value.existing_id == "VN-2026-000007"
    assert store.count_consignments() == 1
    store.close()


def test_restart_recovers_in_flight_before_new_dispatch(
    db_url: str, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(db_url)
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1"), "hn_02": ("huu-nghi", "vn-spot-P1")})
    clock = Clock()  # wall time goes on across the restart
    desk = make_desk(store, fleet, graphs, clock=clock)
    for i in (1, 2):
        desk.intake(declaration(i), actor="sw")
        clear(desk, f"VN-2026-00000{i}")
    desk.tick(0.0)
    drive(desk, fleet, 1.0)  # to the bays, where the lifts are ordered
    bound = {r.vehicle_id: r for r in (desk.get("VN-2026-000001"), desk.get("VN-2026-000002"))}
    assert set(bound) == {"hn_01", "hn_02"}
    crane(desk, bound["hn_01"].id)
    desk.tick(1.5)  # hn_01's consignment is now in transit to the line
    in_transit = bound["hn_01"].id
    assert desk.get(in_transit).consignment.state is S.IN_TRANSIT
    store.close()

    # The process dies here. hn_01 drives on and stops at the line; hn_02 goes silent.
    # A new consignment arrives, cleared, while the orchestrator is down.
    store = Store(db_url)
    fleet.arrive("hn_01", "SL-E-zero")
    fleet.set_online("hn_02", False)
    desk = make_desk(store, fleet, graphs, clock=clock, recovery_timeout_s=30.0)
    assert desk.recovering == {"VN-2026-000001", "VN-2026-000002"}
    desk.intake(declaration(3), actor="sw")
    clear(desk, "VN-2026-000003")
    fleet.commands.clear()
    desk.tick(2.0)
    assert desk.get(in_transit).consignment.state is S.AT_ZERO_LINE  # reconciled from its report
    assert desk.recovering == {bound["hn_02"].id}
    assert desk.get("VN-2026-000003").consignment.state is S.CLEARED  # nothing new meanwhile
    assert fleet.commands == []
    clock.t += 31.0
    desk.tick(3.0)  # hn_02 stayed silent: freed (nothing was loaded yet)
    assert desk.recovering == set()
    assert desk.get(bound["hn_02"].id).vehicle_id is None
    fleet.set_online("hn_02", True)
    fleet.arrive("hn_02", "vn-spot-P1")
    desk.tick(4.0)  # the yard runs again: hn_02 goes to a bay
    drive(desk, fleet, 5.0)  # and takes one of the two waiting there
    waiting = [desk.get(cid) for cid in (bound["hn_02"].id, "VN-2026-000003")]
    assert sorted(str(r.vehicle_id) for r in waiting) == ["None", "hn_02"]
    assert all(r.consignment.state is S.QUEUED for r in waiting)
    kinds = [e["event"] for e in store.events()]
    last_start = len(kinds) - 1 - kinds[::-1].index("recovery_started")
    after = kinds[last_start:]
    assert after.index("recovery_complete") < after.index("consignment_assigned")
    store.close()


def test_lost_vehicle_with_goods_is_held_for_attention(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    store = Store(url)
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1")})
    desk = make_desk(store, fleet, graphs)
    desk.intake(declaration(1), actor="sw")
    clear(desk, "VN-2026-000001")
    desk.tick(0.0)
    drive(desk, fleet, 1.0)
    crane(desk, "VN-2026-000001")
    desk.tick(1.5)
    store.close()
    store = Store(url)
    fleet.set_online("hn_01", False)
    clock = Clock()
    desk = make_desk(store, fleet, graphs, clock=clock, recovery_timeout_s=5.0)
    desk.tick(2.0)
    assert desk.recovering
    clock.t += 10.0
    desk.tick(3.0)
    rec = desk.get("VN-2026-000001")
    assert rec.consignment.state is S.HELD and rec.vehicle_id == "hn_01"
    assert rec.attention is not None and "did not report" in rec.attention
    # It comes back: it is sent to the inspection spot and freed there.
    fleet.set_online("hn_01", True)
    fleet.arrive("hn_01", "vn-yard-in:end")
    desk.tick(4.0)
    assert fleet.goal_of("hn_01") == "vn-spot-X1"
    fleet.arrive("hn_01", "vn-spot-X1")
    desk.tick(5.0)
    assert desk.get("VN-2026-000001").vehicle_id is None
    store.close()


def test_loading_waits_for_the_crane_and_refuses_what_does_not_fit(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    url = f"sqlite:///{tmp_path}/db.sqlite"
    store = Store(url)
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1"), "hn_02": ("huu-nghi", "vn-spot-P1")})
    clock = Clock()
    desk = make_desk(store, fleet, graphs, clock=clock)
    cid = "VN-2026-000001"
    desk.intake(declaration(1), actor="sw")
    clear(desk, cid)
    desk.tick(0.0)
    assert desk.get(cid).vehicle_id is None  # both are on their way to bays
    vid = "hn_01"
    spot = fleet.goal_of(vid) or ""

    def report(event: LiftEvent, **kw: str) -> None:
        args = {"vehicle_id": vid, "spot": spot} | kw
        desk.lift(kw.pop("cid", cid), event=event, actor=CRANE, reason="r", **args)

    with pytest.raises(DeskError, match="no lift is ordered"):
        report(LiftEvent.STARTED)  # the vehicle is still on its way
    with pytest.raises(DeskError, match="no loading ordered"):
        desk.confirm_loaded(cid, actor="op", reason="looks loaded")
    fleet.arrive(vid, spot)
    desk.tick(1.0)
    desk.tick(2.0)  # still waiting: the lift is ordered once
    before = desk.get(cid)
    assert [e["event"] for e in store.events()].count("lift_ordered") == 1
    other = "hn_02" if vid == "hn_01" else "hn_01"
    with pytest.raises(DeskError, match="before it started"):
        report(LiftEvent.DONE)
    with pytest.raises(DeskError, match="not VN"):
        report(LiftEvent.STARTED, vehicle_id=other)
    with pytest.raises(UnknownReference, match="unknown vehicle"):
        report(LiftEvent.STARTED, vehicle_id="hn_99")
    with pytest.raises(UnknownReference, match="no loading spot"):
        report(LiftEvent.STARTED, spot="vn-spot-P1")
    with pytest.raises(UnknownConsignment):
        desk.lift(
            "VN-2026-999999",
            vehicle_id=vid,
            spot=spot,
            event=LiftEvent.DONE,
            actor=CRANE,
            reason="r",
        )
    after = desk.get(cid)
    assert (after.version, after.lift, after.consignment.state) == (
        before.version,
        before.lift,
        S.QUEUED,
    )  # nothing changed
    report(LiftEvent.STARTED)
    started = desk.get(cid)
    report(LiftEvent.STARTED)  # the same report again: harmless
    assert desk.get(cid).version == started.version
    store.close()

    # A restart between the two reports: the lift and its start are not forgotten.
    store = Store(url)
    desk = make_desk(store, fleet, graphs, clock=clock)
    desk.tick(3.0)
    assert desk.get(cid).lift == started.lift
    report(LiftEvent.DONE)
    done = desk.get(cid)
    assert done.consignment.state is S.LOADED and done.consignment.history[-1].actor == CRANE
    report(LiftEvent.DONE)
    assert desk.get(cid).version == done.version  # a duplicate done changes nothing
    kinds = [e["event"] for e in store.events()]
    assert kinds.count("lift_started") == 1 and kinds.count("lift_done") == 1
    store.close()


def test_an_operator_confirms_loading_and_a_hold_cancels_the_lift(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1"), "hn_02": ("huu-nghi", "vn-spot-P1")})
    desk = make_desk(store, fleet, graphs)
    for i in (1, 2):
        desk.intake(declaration(i), actor="sw")
        clear(desk, f"VN-2026-00000{i}")
    desk.tick(0.0)
    drive(desk, fleet, 1.0)
    recs = [desk.get(f"VN-2026-00000{i}") for i in (1, 2)]
    one = desk.confirm_loaded(recs[0].id, actor="yard-op:lan", reason="no crane feed at L2")
    assert one.consignment.state is S.LOADED and one.lift is not None and not one.lift.pending
    assert one.consignment.history[-1].actor == "yard-op:lan"
    two = desk.hold(recs[1].id, actor="op", reason="seal mismatch")
    assert two.vehicle_id is None and two.lift is None  # freed; the crane's order withdrawn
    assert [e["event"] for e in store.events()].count("lift_cancelled") == 1
    with pytest.raises(DeskError, match="no lift is ordered"):
        desk.lift(
            recs[1].id,
            vehicle_id=recs[1].vehicle_id or "",
            spot=recs[1].pickup or "",
            event=LiftEvent.STARTED,
            actor=CRANE,
            reason="late",
        )
    assert desk.open_lifts() == []
    store.close()


def test_pickups_follow_the_bay_rule_and_a_vehicle_at_a_spot_loads_there(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    vehicles = {f"hn_{i:02d}": ("huu-nghi", "vn-spot-P1") for i in range(1, 10)}
    vehicles["hn_10"] = ("huu-nghi", "vn-spot-L5")  # already standing in a bay
    fleet = YardFleet(vehicles)
    # One vehicle a bay: eight places on the VN side.
    desk = make_desk(store, fleet, graphs, yard_rules=YardRules(bay_places=1))
    for i in range(1, 11):
        desk.intake(declaration(i), actor="sw")
        clear(desk, f"VN-2026-{i:06d}")
    desk.tick(0.0)
    at_l5 = desk.get("VN-2026-000001")  # the best waiting (the first declared)
    assert (at_l5.vehicle_id, at_l5.pickup) == ("hn_10", "vn-spot-L5")  # loads where it stands
    sent = dict(fleet.commands)
    spots = desk.loading_spots("huu-nghi", "VN")
    # The seven other bays get one vehicle each; two wait in the parking with no bay free.
    assert sorted(sent.values()) == sorted(s for s in spots if s != "vn-spot-L5")
    assert len(sent) == 7
    drive(desk, fleet, 1.0)
    recs = [desk.get(f"VN-2026-{i:06d}") for i in range(1, 11)]
    bound = [r for r in recs if r.vehicle_id is not None]
    assert sorted(str(r.pickup) for r in bound) == sorted(spots)  # all eight, one each
    assert len(fleet.commands) == 7  # nobody was sent to a full bay
    store.close()


def export_one(desk: ConsignmentDesk, fleet: YardFleet, cid: str) -> None:
    """hn_01, standing at a VN bay, takes ``cid`` to the line and the other side accepts it."""
    desk.tick(0.0)
    assert desk.get(cid).vehicle_id == "hn_01"
    crane(desk, cid)
    desk.tick(1.0)
    fleet.arrive("hn_01", "SL-E-zero")
    desk.tick(2.0)
    desk.handover(cid, accepted=True, actor="cn:youyiguan", reason="accepted")


def test_without_a_link_one_operator_runs_both_yards(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    """No handoff link: once across, the vehicle's trip is over where it stands in the
    CN yard, and the yard's empty-run rule brings it back for the cargo waiting in VN."""
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1")})
    desk = make_desk(store, fleet, graphs, yard_rules=YardRules(empty_run_after_s=0.0))
    for i in (1, 2):
        desk.intake(declaration(i), actor="sw")
        clear(desk, f"VN-2026-00000{i}")
    export_one(desk, fleet, "VN-2026-000001")
    fleet.arrive("hn_01", "cn-spot-L1")  # let across, it stands in the CN yard
    desk.tick(3.0)
    desk.tick(4.0)
    staging_vn = desk.yard.layouts["huu-nghi"].staging["VN"]
    assert fleet.goal_of("hn_01") == staging_vn
    why = [e["why"] for e in store.events() if e["event"] == "yard_decision"]
    assert why[-1] == "empty run: 1 loads soon ready there", why
    fleet.arrive("hn_01", staging_vn)
    desk.tick(5.0)  # head of the staging queue: a bay with room
    drive(desk, fleet, 6.0)
    rec = desk.get("VN-2026-000002")
    assert rec.vehicle_id == "hn_01" and rec.lift is not None
    store.close()


def test_with_a_link_a_vehicle_across_is_the_other_sides(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    """Custody at km 0: after the handover the VN desk commands the vehicle no more while
    it is on the other side, and never sends an empty one across on its own."""
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1"), "hn_02": ("huu-nghi", "vn-spot-L2")})
    desk = make_desk(store, fleet, graphs, yard_rules=YardRules(empty_run_after_s=0.0))
    desk.custody_at_km0()
    desk.intake(declaration(1), actor="sw")
    clear(desk, "VN-2026-000001")
    for i in (2, 3):  # imports waiting in the CN yard: an empty run would go for them
        desk.intake(declaration(i, direction="import"), actor="sw")
        clear(desk, f"VN-2026-00000{i}")
    export_one(desk, fleet, "VN-2026-000001")
    assert "hn_01" in desk.yard.away and "hn_01" not in desk.yard.vehicles
    fleet.arrive("hn_01", "cn-spot-L1")
    sent = list(fleet.commands)
    for t in range(3, 8):
        desk.tick(float(t))
    assert fleet.commands == sent  # neither the one across nor the empty one moves
    refused = [e for e in store.events() if e["event"] == "yard_step_refused"]
    assert [e["vehicle_id"] for e in refused] == ["hn_02"]  # logged once, not every round
    assert "no handoff" in refused[0]["why"]
    assert all(desk.get(f"VN-2026-00000{i}").vehicle_id is None for i in (2, 3))
    store.close()


def test_after_a_restart_a_vehicle_loading_keeps_its_bay(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    """The yard starts empty after a restart: it learns the bound vehicle with its load
    and lift from the records, so nobody else is sent into its bay, and loading goes on."""
    url = f"sqlite:///{tmp_path}/db.sqlite"
    one_a_bay = YardRules(bay_places=1)
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1")})
    store = Store(url)
    desk = make_desk(store, fleet, graphs, yard_rules=one_a_bay)
    desk.intake(declaration(1), actor="sw")
    clear(desk, "VN-2026-000001")
    desk.tick(0.0)
    assert desk.get("VN-2026-000001").lift is not None
    store.close()

    # Restarted, with a second vehicle in the parking and every other bay taken.
    taken = {f"hn_{i:02d}": ("huu-nghi", f"vn-spot-L{i}") for i in range(2, 9)}
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1"), "hn_09": ("huu-nghi", "vn-spot-P1")})
    fleet.snaps |= YardFleet(taken).snaps
    store = Store(url)
    desk = make_desk(store, fleet, graphs, yard_rules=one_a_bay)
    desk.tick(1.0)  # recovery: hn_01 is where its lift waits
    desk.tick(2.0)
    assert fleet.commands == []  # every bay holds its one vehicle: hn_09 waits
    assert desk.yard.vehicles["hn_01"].load is not None
    crane(desk, "VN-2026-000001")
    desk.tick(3.0)
    assert desk.get("VN-2026-000001").consignment.state is S.IN_TRANSIT
    assert fleet.goal_of("hn_01") == "SL-E-zero"
    fleet.arrive("hn_01", "SL-E-zero")
    desk.tick(4.0)  # its bay is free now: hn_09 goes there
    assert fleet.goal_of("hn_09") == "vn-spot-L1"
    store.close()


def test_refused_goods_come_off_before_the_vehicle_loads_again(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    """Brought back after a refusal, the container is still on the vehicle: the crane
    takes it off first, and only then is the vehicle free for the next load."""
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1")})
    desk = make_desk(store, fleet, graphs)
    for i in (1, 2):
        desk.intake(declaration(i), actor="sw")
        clear(desk, f"VN-2026-00000{i}")
    desk.tick(0.0)
    crane(desk, "VN-2026-000001")
    desk.tick(1.0)
    fleet.arrive("hn_01", "SL-E-zero")
    desk.tick(2.0)
    desk.handover("VN-2026-000001", accepted=False, actor="cn:youyiguan", reason="closed")
    desk.tick(3.0)
    assert fleet.goal_of("hn_01") == "vn-spot-L1"  # back where it was loaded
    fleet.arrive("hn_01", "vn-spot-L1")
    desk.tick(4.0)
    desk.tick(5.0)
    rec = desk.get("VN-2026-000001")
    assert rec.consignment.state is S.REFUSED and rec.vehicle_id == "hn_01"
    assert rec.lift is not None and rec.lift.kind.value == "unload" and rec.lift.pending
    assert desk.get("VN-2026-000002").vehicle_id is None  # nothing on top of it
    crane(desk, "VN-2026-000001")
    rec = desk.get("VN-2026-000001")
    assert rec.consignment.state is S.RETURNED and rec.vehicle_id is None
    assert rec.consignment.history[-1].actor == CRANE
    desk.tick(6.0)
    nxt = desk.get("VN-2026-000002")
    assert nxt.vehicle_id == "hn_01" and nxt.lift is not None and nxt.lift.kind.value == "load"
    store.close()


def test_a_vehicle_driven_by_hand_is_not_given_cargo_until_it_stands_again(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    """A controller drives an idle vehicle off its bay: while it moves the yard gives it
    nothing, and once it stands at another bay the yard knows it is there."""
    store = Store(f"sqlite:///{tmp_path}/db.sqlite")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-L1")})
    desk = make_desk(store, fleet, graphs)
    desk.tick(0.0)  # the yard learns where it stands; nothing waits
    fleet.send_to("hn_01", "vn-spot-L4", 1.0)  # the controller's drive, not the desk's
    desk.intake(declaration(1), actor="sw")
    clear(desk, "VN-2026-000001")
    desk.tick(1.0)
    assert desk.get("VN-2026-000001").vehicle_id is None  # not bound to a moving vehicle
    fleet.arrive("hn_01", "vn-spot-L4")
    desk.tick(2.0)
    rec = desk.get("VN-2026-000001")
    assert (rec.vehicle_id, rec.pickup) == ("hn_01", "vn-spot-L4")
    assert rec.lift is not None and rec.lift.spot == "vn-spot-L4"
    store.close()
