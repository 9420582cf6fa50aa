"""The orchestrator survives ordinary events: late, duplicated, future and malformed
reports, reports on another vehicle's topic, and unexpected exceptions while
handling one vehicle (which is isolated: held, planned around, released by a
controller). The core stays strict: a bad call raises and changes nothing."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import networkx as nx
import pytest

from fleet.core import Command, FleetError, ModeCommand, ModeKind, ReportRefused
from fleet.traffic.control import FleetControl
from fleet.vehicles import VehicleReport, VehicleStatus
from maps.corridor_map import CorridorMap
from smartgate.operators.alarms import vehicle_conditions
from smartgate.services.orchestrator import Orchestrator
from smartgate.storage.store import Store


def _report(orch: Orchestrator, vid: str, stamp: float, **changes: Any) -> VehicleReport:
    v = orch.core.vehicles[vid]
    fields: dict[str, Any] = {
        "vehicle_id": vid,
        "stamp": stamp,
        "x": v.x,
        "y": v.y,
        "heading_rad": v.heading_rad,
        "speed_mps": 0.0,
    }
    fields.update(changes)
    return VehicleReport(**fields)


@pytest.fixture
def orch(maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> Orchestrator:
    o = Orchestrator(maps, graphs)
    o.add_vehicle("hn_01", "huu-nghi", "vn-spot-L1", 0.0)
    o.add_vehicle("hn_02", "huu-nghi", "vn-spot-C1", 0.0)
    sent: list[Command] = []
    o.command_sink = sent.append
    o.sent = sent  # type: ignore[attr-defined]
    return o


def test_a_report_behind_the_planners_clock_during_a_repair_is_applied_at_the_clock(
    orch: Orchestrator,
) -> None:
    """The first failure of the issue: ``time went backwards: 1055.0 s after 1055.05 s``
    in ``repaired`` while folding in a report that came in 50 ms behind."""
    orch.report(_report(orch, "hn_01", 1.0), 1.0)
    orch.report(_report(orch, "hn_02", 1.0), 1.0)
    orch.tick(1055.05)  # both stale: offline, planned around (broken)
    assert orch.core.vehicles["hn_01"].status is VehicleStatus.OFFLINE
    assert orch.control.plan_status("hn_01").state == "broken"
    assert orch.report(_report(orch, "hn_01", 1055.0), 1055.0) is None  # 50 ms behind
    assert orch.core.vehicles["hn_01"].status is not VehicleStatus.OFFLINE
    assert orch.control.plan_status("hn_01").state != "broken"  # repaired at 1055.05
    assert orch.control.now == pytest.approx(1055.05)
    assert orch.reports_late == 1 and not orch.faults and not orch.isolated


def test_fleet_control_refuses_time_going_back_before_changing_anything(
    graphs: dict[str, nx.DiGraph],
) -> None:
    fc = FleetControl(graphs)
    v = fc.add_vehicle("hn_01", "huu-nghi", "vn-spot-L1", 0.0)
    fc.on_report(VehicleReport("hn_01", 1.0, v.x, v.y, v.heading_rad, 0.0), 1.0)
    fc.tick(1055.05)
    assert v.status is VehicleStatus.OFFLINE
    with pytest.raises(FleetError, match="time went backwards"):
        fc.on_report(VehicleReport("hn_01", 1055.0, v.x, v.y, v.heading_rad, 0.0), 1055.0)
    # Nothing changed: still offline, still planned around, the report not taken.
    assert v.status is VehicleStatus.OFFLINE and v.last_stamp == 1.0
    assert fc.plan_status("hn_01").state == "broken"
    fc.on_report(VehicleReport("hn_01", 1055.1, v.x, v.y, v.heading_rad, 0.0), 1055.1)
    assert v.status is not VehicleStatus.OFFLINE
    assert fc.plan_status("hn_01").state != "broken"


def test_a_state_with_a_nan_position_is_refused_and_storage_keeps_working(
    orch: Orchestrator, tmp_path: Path
) -> None:
    """The second failure: a NaN position reached storage (NOT NULL constraint failed:
    vehicles.x_m) and ended the orchestrator's thread."""
    store = Store(f"sqlite:///{tmp_path / 'o.db'}")
    try:
        orch.report(_report(orch, "hn_01", 1.0), 1.0)
        before = orch.vehicle_view(orch.core.vehicles["hn_01"])
        for bad in ({"x": math.nan}, {"y": math.inf}, {"heading_rad": math.nan}):
            assert orch.report(_report(orch, "hn_01", 2.0, **bad), 2.0) == "malformed"
        assert orch.report(_report(orch, "hn_01", math.nan), 2.0) == "malformed"
        assert orch.reports_refused["malformed"] == 4
        after = orch.vehicle_view(orch.core.vehicles["hn_01"])
        assert after["x_m"] == before["x_m"] and after["y_m"] == before["y_m"]
        store.save_vehicles(orch.vehicles())  # the write that used to fail
        assert store.vehicles()["hn_01"].x_m == pytest.approx(before["x_m"])
        assert orch.report(_report(orch, "hn_01", 2.0), 2.0) is None  # the next good one
    finally:
        store.close()


def test_the_core_refuses_a_malformed_report_and_changes_nothing(orch: Orchestrator) -> None:
    v = orch.core.vehicles["hn_01"]
    x, stamp = v.x, v.last_stamp
    with pytest.raises(ReportRefused) as e:
        orch.core.on_report(_report(orch, "hn_01", 5.0, x=math.nan), 5.0)
    assert e.value.reason == "malformed"
    assert v.x == x and v.last_stamp == stamp and v.last_report is None


def test_late_duplicated_reordered_future_and_foreign_reports_are_counted_not_applied(
    orch: Orchestrator,
) -> None:
    v = orch.core.vehicles["hn_01"]
    assert orch.report(_report(orch, "hn_01", 10.0), 10.0) is None
    x = v.x
    assert orch.report(_report(orch, "hn_01", 10.0, x=x + 5), 10.1) == "duplicate"
    assert orch.report(_report(orch, "hn_01", 9.5, x=x + 5), 10.2) == "stale"
    # From the future: refused, so the vehicle's genuine reports still count after it.
    assert orch.report(_report(orch, "hn_01", 500.0, x=x + 5), 10.3) == "future"
    assert orch.report(_report(orch, "hn_01", 10.4), 10.4) is None
    # On hn_01's topic but naming hn_02; an empty id; an unknown vehicle.
    assert orch.report(_report(orch, "hn_02", 11.0), 11.0, topic="hn_01") == "wrong_vehicle"
    assert orch.core.vehicles["hn_02"].last_report is None
    empty = VehicleReport("", 11.0, 0.0, 0.0, 0.0, 0.0)
    assert orch.report(empty, 11.0) == "unknown_vehicle"
    assert orch.report(VehicleReport("ghost", 11.0, 0, 0, 0, 0), 11.0) == "unknown_vehicle"
    assert v.x == x
    stats = orch.report_stats()
    assert stats["reports_applied"] == 2
    assert stats["reports_refused"] == {
        "duplicate": 1,
        "future": 1,
        "stale": 1,
        "unknown_vehicle": 2,
        "wrong_vehicle": 1,
    }
    assert stats["faults"] == 0


def test_calls_from_other_threads_with_an_older_time_are_applied_at_the_clock(
    orch: Orchestrator,
) -> None:
    orch.report(_report(orch, "hn_01", 100.0), 100.0)
    orch.report(_report(orch, "hn_02", 100.0), 100.0)
    orch.tick(100.5)
    # The API thread read the clock before the ROS thread moved it on.
    cmd = orch.send_to("hn_01", "SL-E-zero", 100.2)
    assert cmd.issued_at == pytest.approx(100.5)
    orch.close_lane("huu-nghi", "E-AUTO", 100.1, "test")
    orch.reopen_lane("huu-nghi", "E-AUTO", 100.0)
    orch.pause("hn_02", 99.0)
    orch.resume("hn_02", 99.0)
    assert orch.clock == pytest.approx(100.5) and not orch.faults


def test_an_unexpected_exception_isolates_that_vehicle_and_the_rest_go_on(
    orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    orch.report(_report(orch, "hn_01", 1.0), 1.0)
    orch.report(_report(orch, "hn_02", 1.0), 1.0)
    real = orch.control.on_report

    def broken(r: VehicleReport, now: float) -> list[Any]:
        if r.vehicle_id == "hn_01":
            raise RuntimeError("a defect handling hn_01")
        return real(r, now)

    monkeypatch.setattr(orch.control, "on_report", broken)
    assert orch.report(_report(orch, "hn_01", 2.0), 2.0) == "error"
    assert orch.report(_report(orch, "hn_01", 2.1), 2.1) == "error"  # again: no new pause
    assert orch.report(_report(orch, "hn_02", 2.0), 2.0) is None  # the others go on
    assert set(orch.isolated) == {"hn_01"}
    assert "RuntimeError: a defect handling hn_01" in orch.isolated["hn_01"]["reason"]
    pauses = [c for c in orch.sent if isinstance(c, ModeCommand)]  # type: ignore[attr-defined]
    assert [(c.vehicle_id, c.kind) for c in pauses] == [("hn_01", ModeKind.PAUSE)]
    assert orch.control.plan_status("hn_01").state == "broken"  # planned around
    assert orch.fault_count == 2
    last = orch.faults[-1]
    assert last["where"] == "report" and last["vehicle_id"] == "hn_01"
    assert "a defect handling hn_01" in last["traceback"]
    events = [e["event"] for e in orch.log]
    assert events.count("vehicle_isolated") == 1 and events.count("internal_error") == 2
    # The dispatcher does not pick it, a mission is refused, the alarm says why.
    assert orch.desk is None
    with pytest.raises(FleetError, match="isolated"):
        orch.send_to("hn_01", "SL-E-zero", 3.0)
    view = orch.vehicle_view(orch.core.vehicles["hn_01"])
    cond = vehicle_conditions(view)["vehicle_isolated"]
    assert cond is not None and "held after an internal error" in cond.message_en
    # A controller resumes it once checked: planned again, takes missions again.
    monkeypatch.setattr(orch.control, "on_report", real)
    orch.resume("hn_01", 4.0)
    assert not orch.isolated and orch.control.plan_status("hn_01").state != "broken"
    assert orch.report(_report(orch, "hn_01", 4.0), 4.0) is None
    orch.send_to("hn_01", "SL-E-zero", 4.0)


def test_a_failing_tick_or_listener_is_contained(
    orch: Orchestrator, monkeypatch: pytest.MonkeyPatch
) -> None:
    def boom(*_: Any) -> Any:
        raise KeyError("planner state")

    seen: list[int] = []
    orch.listeners.append(boom)
    orch.listeners.append(lambda events, views: seen.append(len(views)))
    assert orch.report(_report(orch, "hn_01", 1.0), 1.0) is None
    assert seen == [1]  # the listener after the failing one still heard it
    monkeypatch.setattr(orch.control, "tick", boom)
    orch.tick(2.0)
    assert [f["where"] for f in orch.faults] == ["listener", "tick"]
    assert not orch.isolated  # no vehicle to blame
