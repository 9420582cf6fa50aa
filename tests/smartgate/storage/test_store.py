"""The store's transactions: a state change and its events commit together or not at all."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path

import pytest

from fleet.cargo.consignments import ConsignmentState as S
from fleet.cargo.consignments import LabTest, transition
from fleet.cargo.declarations import parse_declaration
from smartgate.storage.store import ConsignmentRecord, DuplicateConsignment, Store, StoreConflict
from tests.smartgate.storage.dbkit import DATABASES
from tests.smartgate.storage.recordkit import declaration, fresh_database

CORRIDORS = ("huu-nghi", "tan-thanh")


@pytest.fixture(params=DATABASES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    with fresh_database(request.param, tmp_path) as url:
        s = Store(url)
        yield s
        s.close()


def record(i: int) -> ConsignmentRecord:
    d = declaration(
        i,
        goods={"category": "fruit", "fruit_kind": "durian", "temperature_c": {"min": 2, "max": 5}},
    )
    return ConsignmentRecord(parse_declaration(d, corridors=CORRIDORS, now=100.0), d)


def test_round_trip_with_history(store: Store) -> None:
    rec = record(1)
    store.create_consignment(rec)
    c = rec.consignment
    c.customs_cleared = c.quarantine_cleared = True
    c.lab_certificates = {LabTest.CADMIUM: "LAB-1", LabTest.AURAMINE_O: "LAB-2"}
    transition(c, S.CLEARED, now=101.0, actor="customs", reason="ok")
    transition(c, S.QUEUED, now=102.0, actor="desk", reason="yard")
    rec.vehicle_id, rec.pickup = "hn_01", "vn-spot-L1"
    store.save_consignment(rec)
    back = store.consignment(c.id)
    assert back is not None
    assert back.consignment == c  # every field, goods, certificates and history
    assert (back.vehicle_id, back.pickup, back.version) == ("hn_01", "vn-spot-L1", 2)
    assert back.declaration == declaration(1, goods=rec.declaration["goods"])


def test_stale_write_is_refused_whole(store: Store) -> None:
    rec = record(1)
    store.create_consignment(rec)
    a, b = copy.deepcopy(rec), copy.deepcopy(rec)
    transition(a.consignment, S.HELD, now=101.0, actor="customs", reason="x-ray")
    store.save_consignment(a)
    transition(b.consignment, S.HELD, now=102.0, actor="quarantine", reason="pests")
    with pytest.raises(StoreConflict):
        store.save_consignment(b)  # read at version 1, the row is at 2 now
    events = store.consignment_events()
    assert [(e.actor, e.to_state) for e in events] == [("customs", "held")]


def test_failed_event_insert_rolls_back_the_state(store: Store) -> None:
    rec = record(1)
    store.create_consignment(rec)
    transition(rec.consignment, S.HELD, now=101.0, actor="customs", reason="x-ray")
    store.save_consignment(rec)
    bad = copy.deepcopy(rec)
    transition(bad.consignment, S.DECLARED, now=102.0, actor="customs", reason="back")
    bad.persisted = 0  # would re-insert seq 0: the unique (consignment, seq) key refuses it
    with pytest.raises(StoreConflict):
        store.save_consignment(bad)
    back = store.consignment(rec.id)
    assert back is not None and back.consignment.state is S.HELD and back.version == 2


def test_one_vehicle_one_consignment_and_unique_declarations(store: Store) -> None:
    r1, r2 = record(1), record(2)
    store.create_consignment(r1)
    store.create_consignment(r2)
    r1.vehicle_id = r2.vehicle_id = "hn_01"
    store.save_consignment(r1)
    with pytest.raises(StoreConflict):
        store.save_consignment(r2)
    dup = record(3)
    dup.consignment.customs_declaration = r1.consignment.customs_declaration
    with pytest.raises(DuplicateConsignment):
        store.create_consignment(dup)
    assert store.count_consignments() == 2
