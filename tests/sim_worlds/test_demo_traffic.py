"""The demo's arriving trucks: valid declarations, cleared on schedule, dispatched."""

from __future__ import annotations

from pathlib import Path

import networkx as nx

from fleet.cargo.consignments import ConsignmentState as S
from fleet.cargo.dispatch import GraphTravelTimes
from sim_worlds.demo_traffic import DemoTraffic
from smartgate.services.desk import ConsignmentDesk
from smartgate.storage.store import Store
from tests.smartgate.storage.recordkit import YardFleet


def make_desk(store: Store, fleet: YardFleet, graphs: dict[str, nx.DiGraph]) -> ConsignmentDesk:
    clock = iter(range(1_800_000_000, 1_900_000_000))
    desk = ConsignmentDesk(
        store,
        fleet,
        GraphTravelTimes(graphs),
        corridors=list(graphs),
        graphs=graphs,
        clock=lambda: float(next(clock)),
    )
    for vid, snap in fleet.snaps.items():
        desk.register_vehicle(vid, snap.corridor, snap.node or "vn-spot-P1")
    return desk


def test_trucks_arrive_get_cleared_and_are_dispatched(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(f"sqlite:///{tmp_path}/demo.db")
    fleet = YardFleet({"hn_01": ("huu-nghi", "vn-spot-P1"), "tt_01": ("tan-thanh", "vn-spot-P1")})
    desk = make_desk(store, fleet, graphs)
    traffic = DemoTraffic(desk, ("huu-nghi", "tan-thanh"), every_s=30.0, seed=7)
    for t in range(0, 301, 5):
        traffic.tick(float(t))
        desk.tick(float(t))
    recs = list(desk.records.values())
    assert 6 <= len(recs) <= 14  # one truck every 18..42 s over five minutes
    kinds = {r.consignment.goods.category.value for r in recs}
    assert kinds == {"fruit", "electronics"}
    assert {r.consignment.corridor for r in recs} == {"huu-nghi", "tan-thanh"}
    # Those declared more than 25 s ago are cleared (customs, quarantine, durian's lab) and
    # handed to the yard: queued for a vehicle, or already on one.
    moved = [r for r in recs if r.consignment.state in (S.QUEUED, S.LOADED, S.IN_TRANSIT)]
    assert len(moved) >= len(recs) - 2
    assert {r.vehicle_id for r in recs if r.vehicle_id} <= {"hn_01", "tt_01"}
    assert fleet.commands, "the desk sent a vehicle to pick a consignment up"


def test_it_stops_declaring_while_the_yard_is_full(
    tmp_path: Path, graphs: dict[str, nx.DiGraph]
) -> None:
    store = Store(f"sqlite:///{tmp_path}/demo.db")
    desk = make_desk(store, YardFleet({}), graphs)
    traffic = DemoTraffic(desk, ("huu-nghi",), every_s=10.0, max_open=4)
    for t in range(0, 600, 5):
        traffic.tick(float(t))
    assert len(desk.records) == 4
