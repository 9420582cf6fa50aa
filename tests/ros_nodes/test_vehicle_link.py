"""The orchestrator <-> guide vehicle link over real DDS: sequence numbers and acks,
reservations, e-stop/pause/resume, heartbeat loss, stale vehicles."""

from __future__ import annotations

from collections.abc import Iterator

import networkx as nx
import pytest
import rclpy
from smartgate_interfaces.msg import CommandAck, VehicleState

from fleet.vehicles import VehicleStatus
from maps.corridor_map import CorridorMap
from ros_nodes.markers import fleet_markers
from ros_nodes.messages import route_command_msg
from tests.ros_nodes.worldkit import World
from vehicle.path_follower import COMFORT_DECEL_MPS2

pytestmark = pytest.mark.ros
RTF = 3.0


@pytest.fixture
def world(maps: dict[str, CorridorMap], graphs: dict[str, nx.DiGraph]) -> Iterator[World]:
    rclpy.init()
    w = World(maps, graphs, rtf=RTF, stale_after_s=1.5)
    try:
        yield w
    finally:
        w.close()
        rclpy.shutdown()


def _started(world: World, vid: str = "hn_01") -> None:
    core_v = world.orch.core.vehicles[vid]
    assert world.spin_until(lambda: core_v.last_report is not None, 20), "no state over DDS"


def test_duplicate_and_out_of_order_commands_are_acked_and_ignored(world: World) -> None:
    node = world.add("hn_01", "huu-nghi", "vn-spot-L1")
    bridge = world.start_bridge()
    probe = world.probe("hn_01")
    _started(world)
    first = world.orch.send_to("hn_01", "SL-E-zero", bridge.now(), reserve_to_m=40.0)
    assert world.spin_until(lambda: probe.ack_for(first.seq), 10)
    ext = world.orch.extend("hn_01", 70.0, bridge.now())
    assert world.spin_until(lambda: probe.ack_for(ext.seq), 10)
    assert [a.status for a in probe.ack_for(ext.seq)] == [CommandAck.ACCEPTED]
    assert "extension to 70.0 m" in probe.ack_for(ext.seq)[0].detail
    assert world.spin_until(lambda: not world.orch.core.pending, 5)  # all acknowledged
    # A replayed copy of the newest command, then a stale one that would widen the
    # reservation: both acknowledged as such, neither changes anything.
    probe.route_pub.publish(route_command_msg(ext))
    assert world.spin_until(lambda: len(probe.ack_for(ext.seq)) == 2, 10)
    stale = route_command_msg(first)
    stale.reservation_end_m = 2000.0
    probe.route_pub.publish(stale)
    assert world.spin_until(lambda: len(probe.ack_for(first.seq)) == 2, 10)
    assert probe.ack_for(ext.seq)[1].status == CommandAck.DUPLICATE
    assert probe.ack_for(first.seq)[1].status == CommandAck.OUT_OF_ORDER
    assert node.route_seq == ext.seq and node.reservation_end_m == pytest.approx(70.0)
    # It stops at the end of the reservation it holds, and holds there.
    assert world.spin_until(
        lambda: probe.states and probe.states[-1][1].mode == VehicleState.MODE_HOLDING, 60
    )
    world.spin_sim(2.0)
    last = probe.states[-1][1]
    assert last.mode == VehicleState.MODE_HOLDING and last.speed_mps == 0.0
    assert 68.0 < last.progress_m <= 70.0
    assert max(s.progress_m for _, s in probe.states) <= 70.0


def test_emergency_stop_within_one_state_period_then_pause_and_resume(world: World) -> None:
    node = world.add("hn_01", "huu-nghi", "vn-spot-L1")
    bridge = world.start_bridge()
    probe = world.probe("hn_01")
    _started(world)
    world.orch.send_to("hn_01", "SL-E-zero", bridge.now())
    sim_v = world.sim.vehicles["hn_01"]
    assert world.spin_until(lambda: sim_v.model.v > 4.0, 60), "vehicle never got going"
    t0 = world.sim.t
    cmd = world.orch.estop("hn_01", bridge.now())
    assert world.spin_until(lambda: sim_v.cmd_v == 0.0 and sim_v.cmd_at >= t0, 5)
    braking_at = world.sim.t
    assert world.spin_until(
        lambda: any(s.mode == VehicleState.MODE_ESTOPPED for _, s in probe.states), 5
    )
    estopped = next(s for _, s in probe.states if s.mode == VehicleState.MODE_ESTOPPED)
    stamp = estopped.header.stamp.sec + estopped.header.stamp.nanosec * 1e-9
    period = node.state_period
    assert braking_at - t0 <= period, f"hard brake {braking_at - t0:.3f} s after the e-stop"
    assert stamp - t0 <= period, f"e-stop state {stamp - t0:.3f} s after the e-stop"
    assert world.spin_until(lambda: probe.ack_for(cmd.seq), 5)
    assert probe.ack_for(cmd.seq)[0].status == CommandAck.ACCEPTED
    # Hard brake: the vehicle model's full deceleration (3 m/s²), not the comfort one.
    assert world.spin_until(lambda: sim_v.model.v == 0.0, 10)
    assert world.sim.t - t0 < 4.5 / 3.0 + 0.5
    world.spin_sim(1.0)
    assert sim_v.model.v == 0.0, "moved while e-stopped"
    # Resume: it drives on; pause: it stops at no more than the comfort deceleration.
    world.orch.resume("hn_01", bridge.now())
    assert world.spin_until(lambda: sim_v.model.v > 4.0, 30)
    world.orch.pause("hn_01", bridge.now())
    speeds: dict[float, float] = {}
    assert world.spin_until(
        lambda: speeds.setdefault(round(world.sim.t, 2), sim_v.model.v) == 0.0, 30
    )
    ts = sorted(speeds)
    # Over every second of the stop the speed fell at the comfort rate, give or take one
    # 50 ms sim step (a hard brake would be the model's 3 m/s²).
    decel = [(speeds[a] - speeds[b]) / (b - a) for a in ts for b in ts if 0.95 <= b - a <= 1.05]
    assert len(decel) > 10 and max(decel) <= COMFORT_DECEL_MPS2 * 1.15, max(decel)
    assert probe.states[-1][1].mode == VehicleState.MODE_PAUSED
    world.orch.resume("hn_01", bridge.now())
    assert world.spin_until(lambda: sim_v.model.v > 1.0, 30), "did not resume"


def test_heartbeat_loss_stops_the_vehicle_in_time_and_it_waits_for_the_orchestrator(
    world: World,
) -> None:
    node = world.add("hn_01", "huu-nghi", "vn-spot-L1", heartbeat_timeout_s=1.0)
    bridge = world.start_bridge()
    probe = world.probe("hn_01")
    _started(world)
    world.orch.send_to("hn_01", "SL-E-zero", bridge.now())
    sim_v = world.sim.vehicles["hn_01"].model
    assert world.spin_until(lambda: sim_v.v > 4.0, 60), "vehicle never got going"
    # The link to the orchestrator is cut: no heartbeat, no commands, no ticks.
    world.ex.remove_node(bridge)
    lost_at, v0 = world.sim.t, sim_v.v
    assert world.spin_until(lambda: sim_v.v == 0.0, 30), "vehicle kept moving"
    # Noticed at the first control step after the heartbeat timeout (still accelerating
    # until then, at most 1 m/s²), then braking at the comfort deceleration, plus a
    # control period and a sim step for the last command to take effect.
    detect = node.hb_timeout + node.control_period
    v_max = min(v0 + 1.0 * detect, node.max_speed)
    bound = detect + v_max / COMFORT_DECEL_MPS2 + node.control_period + world.sim.dt
    assert world.sim.t - lost_at <= bound
    world.spin_sim(2.0)
    last = probe.states[-1][1]
    assert last.mode == VehicleState.MODE_SAFE_STOP and "heartbeat_lost" in last.faults
    assert sim_v.v == 0.0
    # The orchestrator is back: it hears the vehicle waiting and sends RESUME.
    world.ex.add_node(bridge)
    assert world.spin_until(lambda: sim_v.v > 1.0, 30), "vehicle did not resume"
    assert any(e["event"] == "mission_started" for e in world.orch.log)


def test_stale_vehicle_is_marked_offline_and_its_stretch_kept_blocked(world: World) -> None:
    node = world.add("hn_01", "huu-nghi", "vn-spot-L1")
    bridge = world.start_bridge()
    _started(world)
    world.orch.send_to("hn_01", "SL-E-zero", bridge.now(), reserve_to_m=120.0)
    core_v = world.orch.core.vehicles["hn_01"]
    assert world.spin_until(lambda: core_v.speed_mps > 3.0, 60)
    # The vehicle's computer dies: no more state.
    world.ex.remove_node(node)
    node.destroy_node()
    assert world.spin_until(lambda: core_v.status is VehicleStatus.OFFLINE, 20)
    assert any(e["event"] == "vehicle_offline" for e in world.orch.log)
    (off,) = world.orch.offline_vehicles()
    m = core_v.mission
    assert m is not None and off.vehicle_id == "hn_01"
    # Blocked: a vehicle length behind its last known front up to its reservation end.
    assert off.blocked.from_m == pytest.approx(max(0.0, m.progress_m - 16.5))
    assert off.blocked.to_m == pytest.approx(120.0)
    assert off.blocked.lanes and len(off.blocked.coords) >= 2
    assert (off.x, off.y) == (core_v.x, core_v.y)
    # RViz shows the blocked stretch in grey.
    arr = fleet_markers(world.orch.vehicles(), bridge.now(), {}, world.orch.reserved_stretches())
    (band,) = [mk for mk in arr.markers if mk.ns == "reserved"]
    assert (band.color.r, band.color.g) == pytest.approx((0.5, 0.5))
