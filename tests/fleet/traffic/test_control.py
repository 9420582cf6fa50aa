"""Fleet control executes the planner's routes on vehicles that really drive.

The vehicles (tests/fleet/traffic/drivekit.py) accelerate and brake at the guide
vehicle's limits, so they fall behind the plans; the checks are on where they
really are: bodies never closer than two vehicles side by side, never past a
reservation, never on a closed lane, never into an offline vehicle's stretch.
"""

from __future__ import annotations

import networkx as nx
import pytest

from fleet.core import FleetError
from fleet.traffic.control import FleetControl
from fleet.vehicles import MissionStatus
from tests.fleet.traffic.drivekit import World

HOMES = ("vn-spot-L1", "vn-spot-L2", "vn-spot-L3", "vn-spot-L4", "vn-spot-C1", "vn-spot-P1")
GOALS = ("cn-spot-L1", "cn-spot-L2", "cn-spot-L3", "cn-spot-L4", "cn-spot-C1", "cn-spot-P1")
SIDE_BY_SIDE_M = 3.0  # centre lines closer than this: the bodies (2.55 m wide) touch


def fleet(graphs: dict[str, nx.DiGraph], n: int = 6) -> World:
    w = World(FleetControl({"huu-nghi": graphs["huu-nghi"]}))
    for i in range(n):
        w.add(f"v{i}", "huu-nghi", HOMES[i])
    for i in range(n):
        w.send(w.fc.send_to(f"v{i}", GOALS[i], w.now))
    return w


def accept_at_zero_line(w: World) -> None:
    for vid in w.cars:
        st = w.fc.plan_status(vid)
        m = w.fc.core.vehicles[vid].mission
        if st.hold_reason == "handoff" and m is not None and not m.handoff_accepted:
            w.send(w.fc.accept_handoff(vid, w.now))


def arrived(w: World) -> set[str]:
    out = set()
    for vid in w.cars:
        m = w.fc.core.vehicles[vid].mission
        if m is not None and m.status is MissionStatus.COMPLETED:
            out.add(vid)
    return out


def run(w: World, seconds: float, until_all: bool = True) -> None:
    end = w.now + seconds
    while w.now < end:
        w.step()
        accept_at_zero_line(w)
        if until_all and len(arrived(w)) == len(w.cars):
            return


def assert_safe(w: World) -> None:
    assert w.min_body_distance >= SIDE_BY_SIDE_M, w.closest
    assert max(c.worst_overrun_m for c in w.cars.values()) <= 1e-6


def test_six_vehicles_cross_the_border_in_the_planned_order(
    graphs: dict[str, nx.DiGraph],
) -> None:
    w = fleet(graphs)
    run(w, 1200.0)
    assert arrived(w) == set(w.cars)
    assert_safe(w)
    # They leave the yard one after the other through the merges, and keep that order.
    done = {vid: w.fc.core.vehicles[vid].mission.completed_at for vid in w.cars}  # type: ignore[union-attr]
    assert sorted(done, key=lambda v: done[v] or 0.0) == [f"v{i}" for i in range(6)]


def test_nobody_drives_onto_a_closed_lane_and_all_arrive_after_it_reopens(
    graphs: dict[str, nx.DiGraph],
) -> None:
    w = fleet(graphs, 4)
    run(w, 60.0)
    w.send(w.fc.close_lane("huu-nghi", "cn-yard-in", w.now, "crane works"))
    assert w.fc.closed_lanes()["huu-nghi"] == {"cn-yard-in": "crane works"}
    run(w, 900.0, until_all=False)
    for vid, car in w.cars.items():
        m = w.fc.core.vehicles[vid].mission
        assert m is not None and m.status is MissionStatus.ACTIVE
        start = next(leg.start_m for leg in m.route.legs if leg.lane_id == "cn-yard-in")
        assert car.s <= start + 0.5, f"{vid} entered the closed lane"
        assert car.v == 0.0
    assert w.fc.plan_status("v0").hold_reason == "lane cn-yard-in closed"
    w.send(w.fc.reopen_lane("huu-nghi", "cn-yard-in", w.now))
    run(w, 600.0)
    assert arrived(w) == set(w.cars)
    assert_safe(w)
    with pytest.raises(FleetError, match="not closed"):
        w.fc.reopen_lane("huu-nghi", "cn-yard-in", w.now)


def test_an_offline_vehicle_keeps_its_stretch_and_the_others_wait_behind_it(
    graphs: dict[str, nx.DiGraph],
) -> None:
    w = fleet(graphs, 4)
    run(w, 150.0)
    w.cars["v1"].silent = True  # its link is lost: it stops at its reservation end
    held_when_lost = w.fc.core.vehicles["v1"].mission.reservation_end_m  # type: ignore[union-attr]
    run(w, 120.0, until_all=False)
    offline = {o.vehicle_id: o for o in w.fc.core.offline_vehicles()}
    assert "v1" in offline
    # Nobody was given any of v1's stretch: v2 behind it keeps the gap to v1's real rear.
    v1, v2 = w.cars["v1"], w.cars["v2"]
    assert v1.s <= held_when_lost + 1e-6
    assert v2.v == 0.0
    assert v1.body() is not None and v2.body() is not None
    assert v1.body().distance(v2.body()) >= 8.0 - 0.5  # type: ignore[union-attr]
    v1.silent = False  # back: planned again from where it is, and everyone arrives
    run(w, 900.0)
    assert arrived(w) == set(w.cars)
    assert_safe(w)


def test_a_vehicle_a_controller_stopped_claims_no_more_road(
    graphs: dict[str, nx.DiGraph],
) -> None:
    w = fleet(graphs, 3)
    run(w, 120.0)
    m = w.fc.core.vehicles["v0"].mission
    assert m is not None and m.status is MissionStatus.ACTIVE
    w.send(w.fc.estop("v0", w.now, "e2e: obstacle"))
    held, s = m.reservation_end_m, w.cars["v0"].s
    run(w, 90.0, until_all=False)  # longer than any "the plan waits for a ghost" timeout
    assert m.reservation_end_m == held
    assert w.cars["v0"].v == 0.0 and w.cars["v0"].s <= held + 1e-6
    assert w.cars["v0"].s - s < 25.0  # braked where it was
    w.send(w.fc.resume("v0", w.now))
    run(w, 1200.0)
    assert arrived(w) == set(w.cars)
    assert_safe(w)


def test_bad_requests_are_refused_and_change_nothing(graphs: dict[str, nx.DiGraph]) -> None:
    w = fleet(graphs, 2)
    before = w.fc.timed_route("v1")
    with pytest.raises(FleetError, match="unknown vehicle"):
        w.fc.send_to("nobody", "cn-spot-L1", w.now)
    with pytest.raises(FleetError, match="busy"):
        w.fc.send_to("v1", "cn-spot-L3", w.now)
    with pytest.raises(FleetError, match="unknown corridor"):
        w.fc.close_lane("nowhere", "E-AUTO", w.now)
    with pytest.raises(FleetError, match="unknown lane"):
        w.fc.close_lane("huu-nghi", "no-such-lane", w.now)
    with pytest.raises(FleetError):
        w.fc.add_vehicle("v9", "huu-nghi", "not-a-node", w.now)
    assert w.fc.timed_route("v1") is before
    run(w, 1200.0)
    assert arrived(w) == {"v0", "v1"}
    assert_safe(w)


def test_a_vehicle_found_elsewhere_is_planned_from_where_it_stands(
    graphs: dict[str, nx.DiGraph],
) -> None:
    w = World(FleetControl({"huu-nghi": graphs["huu-nghi"]}))
    w.add("v0", "huu-nghi", "vn-spot-L1")
    # After a restart the vehicle reports from another bay (the desk snaps it to that node).
    g = graphs["huu-nghi"]
    v = w.fc.core.vehicles["v0"]
    v.node, v.x, v.y = "vn-spot-L3", g.nodes["vn-spot-L3"]["x"], g.nodes["vn-spot-L3"]["y"]
    car = w.cars["v0"]
    car.x, car.y = v.x, v.y
    w.send(w.fc.send_to("v0", "SL-E-zero", w.now))
    assert w.fc.timed_route("v0").nodes[-1] == "SL-E-zero"
    assert "vn-spot-L3" in w.fc.timed_route("v0").nodes
    assert "vn-spot-L1" not in w.fc.timed_route("v0").nodes
    run(w, 600.0)
    assert arrived(w) == {"v0"}


def test_a_short_edge_does_not_hide_a_vehicle_standing_just_beyond_it(
    graphs: dict[str, nx.DiGraph],
) -> None:
    """Found in a traced Huu Nghi day: a vehicle reserved up to the VN customs stop
    line while the one ahead stood 4 m past it, beyond the 2 m edge from the stop line
    to the checkpoint's entry (fronts 21.8 m apart; a body and the 8 m gap is 24.5)."""
    from fleet.routing import fastest_route
    from fleet.traffic.control import _HeldIndex, _room_past

    g = graphs["huu-nghi"]
    route = fastest_route(g, "vn-quarantine:entry@I-AUTO", "vn-customs:exit@I-AUTO")
    i = next(k for k, leg in enumerate(route.legs) if leg.v == "SL-I-customs")
    assert route.legs[i + 1].length_m < 8.0  # the short edge
    # The leader's rear 2.06 m into the checkpoint, past the short edge.
    rear = ("vn-customs:entry@I-AUTO", "vn-customs:exit@I-AUTO", 2.06, 18.56)
    index = _HeldIndex({"lead": [rear], "me": []})
    gap = FleetControl({"huu-nghi": g}).cfg.rules.min_gap_m
    room = _room_past(route.legs, i, index, "me", gap)
    assert room == pytest.approx(route.legs[i + 1].length_m + 2.06 - gap)
    assert room < 0  # the reservation ends before the stop line
    # Its own stretch and stretches a gap or more on do not count.
    assert _room_past(route.legs, i, _HeldIndex({"me": [rear]}), "me", gap) == float("inf")
    far = ("vn-customs:entry@I-AUTO", "vn-customs:exit@I-AUTO", gap, gap + 16.5)
    assert _room_past(route.legs, i, _HeldIndex({"lead": [far]}), "me", gap) == float("inf")
