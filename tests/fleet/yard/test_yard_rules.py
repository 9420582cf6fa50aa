"""The yard's rules, one by one, on the Huu Nghi yards and without a simulator: bay
places, the staging queue, crane steps, perishables first, give-way, empty runs, and
the events it refuses."""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field

import pytest

from fleet.cargo.dispatch import GraphTravelTimes
from fleet.traffic.planner import Priority
from fleet.yard.layout import LayoutError, YardLayout
from fleet.yard.policy import (
    Equipment,
    Lift,
    LiftKind,
    Load,
    Phase,
    Standing,
    Yard,
    YardError,
    YardRules,
)
from maps.corridors import load_corridors

C = "huu-nghi"


@functools.cache
def travel() -> GraphTravelTimes:
    _maps, graphs = load_corridors((C,))
    return GraphTravelTimes(graphs)


@pytest.fixture(scope="module")
def layout() -> YardLayout:
    _maps, graphs = load_corridors((C,))
    return YardLayout.from_graph(C, graphs[C])


@dataclass
class Port:
    """The fleet and the cranes as the yard sees them: it records what it was told."""

    refuse: set[str] = field(default_factory=set)
    sent: list[tuple[str, str, Priority]] = field(default_factory=list)
    lifts: list[Lift] = field(default_factory=list)

    def send_to(self, vehicle_id: str, goal: str, priority: Priority, now: float) -> bool:
        if vehicle_id in self.refuse:
            return False
        self.sent.append((vehicle_id, goal, priority))
        return True

    def order_lift(self, lift: Lift, now: float) -> float:
        self.lifts.append(lift)
        return now + 90.0


def all_standing(yard: Yard, **kw: Standing) -> dict[str, Standing]:
    return {vid: kw.get(vid, Standing()) for vid in yard.vehicles}


def load(i: int, side: str = "VN", *, perishable: bool = False, cleared: bool = True) -> Load:
    prio = Priority.PERISHABLE if perishable else Priority.STANDARD
    return Load(f"c{i}", C, side, priority=prio, arrived=float(i), cleared=cleared)


def drive(yard: Yard, vid: str, goal: str) -> None:
    """Put ``vid`` on its way to ``goal`` as a send would."""
    v = yard.vehicles[vid]
    v.phase, v.target = Phase.DRIVING, goal


def test_staging_head_gets_the_emptiest_spot_and_nobody_goes_to_a_full_bay(
    layout: YardLayout,
) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spots = layout.spots["VN"]
    n = 0
    for sp in spots:  # every VN bay: one standing at the spot, one driving to it
        yard.add_vehicle(f"a{n}", C, sp, 0.0)
        yard.add_vehicle(f"b{n}", C, layout.staging["CN"], 0.0)
        drive(yard, f"b{n}", sp)
        n += 1
    yard.vehicles["a0"].phase = Phase.LOADING  # busy: not sent on
    for i in range(1, n):
        yard.vehicles[f"a{i}"].phase = Phase.UNLOADING
    yard.add_vehicle("q", C, layout.staging["VN"], 0.0)
    yard.decide(10.0, all_standing(yard), port)
    assert port.sent == []  # every bay full: the head of the queue waits
    assert yard.free_spot(C, "VN") is None
    # One vehicle leaves L3's bay: its place goes to the queue's head, and only to it.
    yard.vehicles["b2"].target = layout.staging["CN"]
    yard.decide(11.0, all_standing(yard), port)
    assert port.sent == [("q", spots[2], Priority.STANDARD)]
    assert all(yard.claims(C, sp) <= 2 for sp in spots)


def test_fewest_claims_first_then_the_crane_free_first(layout: YardLayout) -> None:
    yard = Yard({C: layout}, travel())
    spots = layout.spots["VN"]
    for i, sp in enumerate(spots[:-2]):
        yard.add_vehicle(f"v{i}", C, sp, 0.0)
        yard.vehicles[f"v{i}"].phase = Phase.LOADING
    assert yard.free_spot(C, "VN") == spots[-2]  # the first empty bay by name
    yard.crane_free[(C, spots[-2])] = 50.0
    yard.crane_free[(C, spots[-1])] = 20.0
    assert yard.free_spot(C, "VN") == spots[-1]  # its crane is free sooner


def test_a_vehicle_on_the_lane_joins_the_queue_of_the_yard_it_leads_to(
    layout: YardLayout,
) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    on_export = next(n for n in layout.leads_to if n.endswith("@E-AUTO") and "yard" not in n)
    yard.add_vehicle("v", C, on_export, 0.0)
    yard.decide(1.0, all_standing(yard), port)
    assert port.sent == [("v", layout.staging["CN"], Priority.STANDARD)]


def test_perishables_are_loaded_first_and_only_cleared_cargo(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spot = layout.spots["VN"][0]
    yard.add_vehicle("v", C, spot, 0.0)
    yard.arrive(load(1))  # electronics, waiting longest
    yard.arrive(load(2, perishable=True, cleared=False))  # fruit, not cleared yet
    yard.arrive(load(3, perishable=True))  # fruit, cleared
    yard.arrive(load(4, "CN", perishable=True))  # the other yard's
    yard.decide(5.0, all_standing(yard), port)
    assert port.lifts == [Lift("v", spot, "c3", LiftKind.LOAD, 5.0)]
    assert yard.vehicles["v"].phase is Phase.LOADING
    assert [x.id for x in yard.waiting[(C, "VN")]] == ["c1", "c2"]


def test_crane_steps_events_and_what_they_refuse(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spot = layout.spots["VN"][0]
    yard.add_vehicle("v", C, spot, 0.0)
    yard.arrive(load(1, perishable=True))
    yard.decide(1.0, all_standing(yard), port)
    v = yard.vehicles["v"]
    with pytest.raises(YardError, match="before it started"):
        yard.lift_done("v", spot, "c1", 2.0)
    assert v.phase is Phase.LOADING and v.lift is not None  # nothing changed
    for bad in (("w", spot, "c1"), ("v", layout.spots["VN"][1], "c1"), ("v", spot, "c9")):
        with pytest.raises(YardError):
            yard.lift_started(*bad, 2.0)
    assert v.lift is not None
    assert v.lift.started_at is None
    assert yard.lift_started("v", spot, "c1", 2.0)
    assert not yard.lift_started("v", spot, "c1", 2.5)  # the same news again
    yard.decide(50.0, all_standing(yard), port)
    assert port.sent == []  # still loading: the vehicle waits for the crane
    assert yard.lift_done("v", spot, "c1", 91.0)
    assert v.phase is Phase.READY
    assert not yard.lift_done("v", spot, "c1", 92.0)  # a duplicate is harmless
    assert v.phase is Phase.READY
    yard.decide(92.0, all_standing(yard), port)
    assert port.sent == [("v", layout.staging["CN"], Priority.PERISHABLE)]
    with pytest.raises(YardError, match="not c2"):
        yard.lift_done("v", spot, "c2", 93.0)  # a lift never ordered
    yard.add_vehicle("w", C, layout.spots["VN"][1], 0.0)
    with pytest.raises(YardError, match="no lift"):
        yard.lift_done("w", layout.spots["VN"][1], "c1", 93.0)


def test_arrival_at_the_far_yard_unloads_once_and_frees_the_vehicle(
    layout: YardLayout,
) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spot = layout.spots["CN"][3]
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    yard.arrive(load(1))
    yard.decide(1.0, all_standing(yard), port)
    yard.lift_started("v", layout.spots["VN"][0], "c1", 1.0)
    yard.lift_done("v", layout.spots["VN"][0], "c1", 80.0)
    yard.decide(81.0, all_standing(yard), port)  # -> CN staging
    assert not yard.arrived("v", "elsewhere", 200.0, port)  # not its target: no effect
    assert yard.arrived("v", layout.staging["CN"], 300.0, port)
    yard.decide(301.0, all_standing(yard), port)  # head of the CN queue -> a CN bay
    assert port.sent[-1][1] == layout.spots["CN"][0]
    yard.vehicles["v"].target = spot  # (the bay the test wants)
    assert yard.arrived("v", spot, 400.0, port)
    assert not yard.arrived("v", spot, 400.5, port)  # the last metre again: once only
    assert port.lifts[-1] == Lift("v", spot, "c1", LiftKind.UNLOAD, 400.0)
    assert yard.vehicles["v"].phase is Phase.UNLOADING
    yard.lift_started("v", spot, "c1", 400.0)
    yard.lift_done("v", spot, "c1", 490.0)
    v = yard.vehicles["v"]
    assert (v.phase, v.load, v.idle_since) == (Phase.IDLE, None, 490.0)


def test_an_idle_empty_vehicle_gives_way_to_a_loaded_one(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spot = layout.spots["VN"][0]
    yard.add_vehicle("e", C, spot, 0.0)  # empty, nothing to load
    yard.add_vehicle("l", C, layout.staging["CN"], 0.0)
    yard.vehicles["l"].load = load(9, "CN")
    drive(yard, "l", spot)
    yard.decide(5.0, all_standing(yard), port)
    assert port.sent == [("e", layout.staging["CN"], Priority.STANDARD)]


def test_idle_empties_leave_full_bays_while_loaded_vehicles_queue(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    spots = layout.spots["VN"]
    for i, sp in enumerate(spots):
        yard.add_vehicle(f"e{i}", C, sp, 0.0)
        yard.add_vehicle(f"f{i}", C, layout.staging["CN"], 0.0)
        drive(yard, f"f{i}", sp)
        yard.vehicles[f"f{i}"].phase = Phase.LOADING  # (an odd state, to fill the bay)
        yard.vehicles[f"f{i}"].node = sp
    yard.add_vehicle("l", C, layout.staging["VN"], 0.0)
    yard.vehicles["l"].load = load(9, "CN")
    moving = all_standing(yard, l=Standing(stopped=False))
    yard.decide(5.0, moving, port)
    assert port.sent == []  # the loaded one is still moving: no one is sent for nothing
    yard.decide(6.0, all_standing(yard), port)  # now it stands in the queue
    assert port.sent and port.sent[0] == ("e0", layout.staging["CN"], Priority.STANDARD)


def test_empty_runs_wait_then_go_where_cargo_will_be(layout: YardLayout) -> None:
    rules = YardRules(empty_run_after_s=60.0, cargo_lookahead_s=600.0)
    yard, port = Yard({C: layout}, travel(), rules), Port()
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    yard.arrive(Load("far", C, "CN", arrived=0.0, expected_clear_s=2000.0))
    yard.decide(59.0, all_standing(yard), port)
    yard.decide(100.0, all_standing(yard), port)
    assert port.sent == []  # nothing ready within ten minutes over there
    yard.decide(1500.0, all_standing(yard), port)
    assert port.sent == [("v", layout.staging["CN"], Priority.STANDARD)]


def test_no_empty_run_when_enough_are_already_heading_there(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    yard.add_vehicle("w", C, layout.spots["VN"][1], 0.0)
    drive(yard, "w", layout.staging["CN"])
    yard.arrive(load(1, "CN"))
    yard.decide(100.0, all_standing(yard), port)
    assert port.sent == []  # one load there, one vehicle on its way to it
    yard.arrive(load(2, "CN"))
    yard.decide(101.0, all_standing(yard), port)
    assert port.sent == [("v", layout.staging["CN"], Priority.STANDARD)]


def test_unavailable_and_refused_vehicles_stay_where_they_are(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port(refuse={"r"})
    yard.add_vehicle("off", C, layout.staging["VN"], 0.0)
    yard.add_vehicle("r", C, layout.staging["CN"], 0.0)
    yard.decide(1.0, all_standing(yard, off=Standing(available=False)), port)
    assert port.sent == []
    assert yard.vehicles["r"].phase is Phase.IDLE and yard.take_decisions() == []
    yard.decide(2.0, all_standing(yard), port)
    assert [s[0] for s in port.sent] == ["off"]
    (d,) = yard.take_decisions()
    assert (d.vehicle, d.what) == ("off", "send")
    assert d.why == "head of the staging queue, a bay has room"


def test_bad_events_are_refused_and_change_nothing(layout: YardLayout) -> None:
    yard = Yard({C: layout}, travel())
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    with pytest.raises(YardError, match="already"):
        yard.add_vehicle("v", C, layout.spots["VN"][1], 0.0)
    with pytest.raises(YardError, match="no node"):
        yard.add_vehicle("w", C, "nowhere", 0.0)
    with pytest.raises(YardError, match="unknown corridor"):
        yard.add_vehicle("w", "elsewhere", "nowhere", 0.0)
    with pytest.raises(YardError, match="unknown vehicle"):
        yard.arrived("w", "x", 0.0, Port())
    yard.arrive(load(1))
    with pytest.raises(YardError, match="already in the yard"):
        yard.arrive(load(1))
    with pytest.raises(YardError, match="side"):
        yard.arrive(Load("c7", C, "XX"))
    with pytest.raises(YardError, match="not waiting"):
        yard.cleared(C, "c9")
    yard.cleared(C, "c1")  # already cleared: harmless
    assert [x.id for x in yard.waiting[(C, "VN")]] == ["c1"]
    assert set(yard.vehicles) == {"v"}


def test_staging_points_must_be_in_the_map(layout: YardLayout) -> None:
    _maps, graphs = load_corridors((C,))
    with pytest.raises(LayoutError, match="not in the map"):
        YardLayout.from_graph(C, graphs[C], {"VN": "nowhere", "CN": layout.staging["CN"]})
    with pytest.raises(LayoutError, match="both sides"):
        YardLayout.from_graph(C, graphs[C], {"VN": layout.staging["VN"]})


def test_random_days_never_overfill_a_bay(layout: YardLayout) -> None:
    """Random arrivals, lifts and trips over many rounds: no spot ever has more
    vehicles standing at it or bound for it than its bay holds."""
    for seed in range(5):
        rng = random.Random(seed)
        yard, port = Yard({C: layout}, travel()), Port()
        homes = [layout.staging["VN"], layout.staging["CN"], *layout.spots["VN"]]
        for i in range(14):
            yard.add_vehicle(f"v{i:02d}", C, homes[i % len(homes)], 0.0)
        n = 0
        for r in range(600):
            t = float(r)
            if rng.random() < 0.3:
                n += 1
                yard.arrive(load(n, rng.choice(["VN", "CN"]), perishable=rng.random() < 0.5))
            for v in list(yard.vehicles.values()):  # the world: lifts end, trips end
                if v.lift is not None and rng.random() < 0.2:
                    yard.lift_started(v.id, v.lift.spot, v.lift.load, t)
                    yard.lift_done(v.id, v.lift.spot, v.lift.load, t)
                elif v.phase is Phase.DRIVING and rng.random() < 0.1:
                    yard.arrived(v.id, v.target, t, port)
            yard.decide(t, all_standing(yard), port)
            for sp in (*layout.spots["VN"], *layout.spots["CN"]):
                assert yard.claims(C, sp) <= yard.rules.bay_places, (seed, r, sp)
        assert len(port.lifts) > 20 and len(port.sent) > 50  # the days did move


def test_a_low_empty_vehicle_charges_until_charged_then_rejoins(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel(), YardRules(charge_below=0.25, charge_until=0.9)), Port()
    charger = layout.chargers["VN"][0]
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    yard.add_vehicle("w", C, layout.spots["VN"][1], 0.0)
    yard.add_vehicle("x", C, layout.spots["VN"][2], 0.0)
    yard.vehicles["x"].load = load(5, "CN")  # loaded: it finishes its trip first
    yard.vehicles["x"].phase = Phase.READY
    yard.arrive(load(1))
    low = Standing(soc=0.2)
    yard.decide(1.0, all_standing(yard, v=low, w=low, x=low), port)
    assert ("v", charger, Priority.STANDARD) in port.sent  # the first to the charger
    assert ("x", layout.staging["CN"], Priority.STANDARD) in port.sent
    # No charger free for w: it works on, but only on a trip its battery covers with
    # the dispatcher's reserve; 20 % does not, 40 % does.
    assert port.lifts == []
    yard.decide(2.0, all_standing(yard, v=low, w=Standing(soc=0.4), x=low), port)
    assert [lf.vehicle for lf in port.lifts] == ["w"]
    assert "below 25%" in next(d.why for d in yard.take_decisions() if d.vehicle == "v")
    assert yard.arrived("v", charger, 100.0, port)
    assert yard.vehicles["v"].phase is Phase.CHARGING
    yard.decide(200.0, all_standing(yard, v=Standing(soc=0.6)), port)
    assert yard.vehicles["v"].phase is Phase.CHARGING  # not charged yet: stays plugged in
    n = len(port.sent)
    yard.decide(900.0, all_standing(yard, v=Standing(soc=0.92)), port)
    # Charged, in the yard: straight to a bay with room (the staging point lies on the
    # lane in from China: the way there would cross the border twice).
    assert port.sent[n:] == [("v", layout.spots["VN"][0], Priority.STANDARD)]


def test_without_a_reported_charge_nobody_is_sent_to_charge(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    yard.add_vehicle("v", C, layout.staging["VN"], 0.0)
    yard.decide(1.0, all_standing(yard), port)  # soc unknown
    assert port.sent == [("v", layout.spots["VN"][0], Priority.STANDARD)]


def test_the_dispatcher_chooses_only_what_the_vehicle_may_carry(layout: YardLayout) -> None:
    """Which load a vehicle at a spot takes is the production dispatcher's choice: a
    vehicle without a reefer unit leaves refrigerated fruit for one that has it, even
    though fruit goes first."""
    yard, port = Yard({C: layout}, travel()), Port()
    spots = layout.spots["VN"]
    yard.add_vehicle("dry", C, spots[0], 0.0, Equipment(capabilities=frozenset()))
    fruit = Load(
        "fruit", C, "VN", Priority.PERISHABLE, arrived=0.0, cleared=True, needs_reefer=True
    )
    yard.arrive(fruit)
    yard.arrive(load(5))
    yard.decide(10.0, all_standing(yard), port)
    assert [(x.vehicle, x.load) for x in port.lifts] == [("dry", "c5")]
    yard.add_vehicle("cold", C, spots[1], 10.0)
    yard.decide(11.0, all_standing(yard), port)
    assert [(x.vehicle, x.load) for x in port.lifts][-1] == ("cold", "fruit")


def test_a_battery_that_does_not_cover_the_trip_takes_no_load(layout: YardLayout) -> None:
    """The dispatcher's energy check: the trip across, on to a charger, and the reserve.
    With too little charge (and no charger free to go to) the vehicle loads nothing."""
    rules = YardRules(charge_below=0.0)  # the charging rule out of the way
    yard, port = Yard({C: layout}, travel(), rules), Port()
    spot = layout.spots["VN"][0]
    yard.add_vehicle("v", C, spot, 0.0)
    yard.arrive(load(1))
    yard.decide(10.0, all_standing(yard, v=Standing(soc=0.05)), port)
    assert port.lifts == [] and yard.vehicles["v"].phase is Phase.IDLE
    yard.decide(11.0, all_standing(yard, v=Standing(soc=0.8)), port)
    assert [(x.vehicle, x.load) for x in port.lifts] == [("v", "c1")]


def test_declared_priority_goes_first_within_a_class(layout: YardLayout) -> None:
    yard, port = Yard({C: layout}, travel()), Port()
    yard.add_vehicle("v", C, layout.spots["VN"][0], 0.0)
    yard.arrive(load(1))  # waiting longest
    yard.arrive(Load("urgent", C, "VN", declared_priority=5, arrived=9.0, cleared=True))
    yard.decide(10.0, all_standing(yard), port)
    assert port.lifts[0].load == "urgent"


def test_custody_passes_at_km0_from_one_sides_yard_to_the_others(layout: YardLayout) -> None:
    """CONTROL_AT_KM0: the VN yard decides for a vehicle until its front passes km 0,
    then the CN side's dispatch has it (with its load); the VN yard still counts it as
    heading there, and never decides for it again until it comes back."""
    vn = Yard({C: layout}, travel(), side="VN")
    cn = Yard({C: layout}, travel(), side="CN")
    port = Port()
    spot = layout.spots["VN"][0]
    vn.add_vehicle("v", C, spot, 0.0)
    cn.add_vehicle("v", C, spot, 0.0, away=True)
    for y in (vn, cn):
        y.arrive(load(1))
    vn.decide(1.0, all_standing(vn), port)
    cn.gone(C, "c1")  # the other side hears it was loaded
    with pytest.raises(YardError, match="not sent across"):
        vn.hand_over("v", 2.0)  # still loading in the VN yard
    assert "v" in vn.vehicles
    vn.lift_started("v", spot, "c1", 2.0)
    vn.lift_done("v", spot, "c1", 80.0)
    vn.decide(81.0, all_standing(vn), port)
    assert port.sent[-1] == ("v", layout.staging["CN"], Priority.STANDARD)
    left = vn.hand_over("v", 200.0)
    assert "v" not in vn.vehicles and vn.away["v"] is left
    with pytest.raises(YardError, match="not in the CN yard"):
        cn.take_over("v", C, layout.staging["VN"], left.load, 200.0)
    got = cn.take_over("v", C, left.target, left.load, 200.0)
    assert (got.phase, got.load) == (Phase.DRIVING, left.load)
    assert cn.away == {} and cn.waiting.get((C, "VN")) == []
    assert cn.arrived("v", layout.staging["CN"], 300.0, port)
    cn.decide(301.0, all_standing(cn), port)
    assert port.sent[-1] == ("v", layout.spots["CN"][0], Priority.STANDARD)
    n = len(port.sent)
    vn.decide(302.0, all_standing(vn), port)  # nothing of VN's to decide
    assert port.sent[n:] == []


def test_a_sides_empty_run_counts_the_vehicles_already_across(layout: YardLayout) -> None:
    rules = YardRules(empty_run_after_s=0.0)
    vn, port = Yard({C: layout}, travel(), rules, side="VN"), Port()
    vn.add_vehicle("e", C, layout.spots["VN"][0], 0.0)
    vn.add_vehicle("x", C, layout.spots["CN"][0], 0.0, away=True)  # in the CN yard
    vn.arrive(load(1, "CN"))  # one import will be ready over there
    vn.decide(10.0, all_standing(vn), port)
    assert port.sent == []  # x, over there already, will take it
    vn.arrive(load(2, "CN"))
    vn.decide(11.0, all_standing(vn), port)
    assert port.sent == [("e", layout.staging["CN"], Priority.STANDARD)]


def test_a_vehicle_in_the_yard_takes_a_bay_from_where_it_stands(layout: YardLayout) -> None:
    """From a parking bay, the way to the staging point (on the lane in from the far
    side) crosses the border twice: a vehicle already in the yard goes to a bay with
    room directly, and waits off the road while every bay is full."""
    yard, port = Yard({C: layout}, travel()), Port()
    for i, sp in enumerate(layout.spots["VN"]):
        for k in range(yard.rules.bay_places):
            yard.add_vehicle(f"b{i}{k}", C, sp, 0.0)
            yard.vehicles[f"b{i}{k}"].phase = Phase.LOADING
    yard.add_vehicle("p", C, "vn-spot-P1", 0.0)
    yard.decide(1.0, all_standing(yard), port)
    assert port.sent == []  # every bay full: it stays parked
    yard.vehicles["b30"].phase = Phase.DRIVING
    yard.vehicles["b30"].target = layout.staging["CN"]
    yard.decide(2.0, all_standing(yard), port)
    assert port.sent == [("p", layout.spots["VN"][3], Priority.STANDARD)]


def test_a_restart_finds_vehicles_loading_and_loaded_and_they_hold_their_places(
    layout: YardLayout,
) -> None:
    """A restarted orchestrator's yard learns a vehicle with its load (and lift) from the
    records: it is not given another load, and its place in the bay counts."""
    yard, port = Yard({C: layout}, travel(), YardRules(bay_places=1)), Port()
    spots = layout.spots["VN"]
    yard.arrive(load(9))
    pending = Lift("a", spots[0], "c1", LiftKind.LOAD, 0.0)
    yard.add_vehicle("a", C, spots[0], 5.0, load=load(1), lift=pending)
    done = Lift("b", spots[1], "c2", LiftKind.LOAD, 0.0, started_at=1.0, done_at=2.0)
    yard.add_vehicle("b", C, spots[1], 5.0, load=load(2), lift=done)
    assert (yard.vehicles["a"].phase, yard.vehicles["b"].phase) == (Phase.LOADING, Phase.READY)
    with pytest.raises(YardError, match="without that load"):
        yard.add_vehicle("c", C, spots[2], 5.0, lift=pending)
    yard.decide(6.0, all_standing(yard), port)
    assert port.lifts == []  # a loading vehicle takes nothing more
    assert port.sent == [("b", layout.staging["CN"], Priority.STANDARD)]  # loaded: across
    assert yard.claims(C, spots[0]) == 1  # a's place, with one a bay: nobody is sent there
    assert yard.free_spot(C, "VN") == spots[1]  # b has left its bay
    yard.lift_started("a", spots[0], "c1", 7.0)  # the crane goes on where it was
    assert yard.lift_done("a", spots[0], "c1", 8.0) and yard.vehicles["a"].phase is Phase.READY


def test_a_freed_vehicle_is_idle_and_empty_where_it_stands(layout: YardLayout) -> None:
    """A trip that ended on this side (goods unloaded at inspection, brought back): the
    vehicle is the yard's again, empty, and takes a load like any other."""
    yard, port = Yard({C: layout}, travel()), Port()
    spot = layout.spots["VN"][0]
    yard.add_vehicle("a", C, spot, 0.0, load=load(1))
    yard.decide(1.0, all_standing(yard), port)  # sent across with c1
    with pytest.raises(YardError, match="no node"):
        yard.freed("a", "nowhere", 2.0)
    v = yard.freed("a", spot, 2.0)
    assert (v.phase, v.load, v.lift, v.node) == (Phase.IDLE, None, None, spot)
    yard.arrive(load(3))
    yard.decide(3.0, all_standing(yard), port)
    assert [(lift.vehicle, lift.load) for lift in port.lifts] == [("a", "c3")]


def test_a_vehicle_found_across_leaves_custody_without_being_sent(layout: YardLayout) -> None:
    yard = Yard({C: layout}, travel(), side="VN")
    yard.add_vehicle("a", C, layout.spots["VN"][0], 0.0)
    with pytest.raises(YardError, match="not sent across"):
        yard.hand_over("a", 1.0)
    yard.left_custody("a")
    assert "a" in yard.away and "a" not in yard.vehicles
    with pytest.raises(YardError, match="unknown vehicle"):
        yard.left_custody("a")
