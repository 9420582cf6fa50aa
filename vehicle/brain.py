"""The guide vehicle's decision logic, without ROS: one vehicle model for every mode.

The rclpy node (:mod:`ros_nodes.guide_vehicle`) and the in-process simulator
(:mod:`sim_worlds.simulator`) both drive vehicles through this class, so the
safety rules are implemented once and a capacity study exercises exactly what
runs on the vehicle:

- commands are taken only if their sequence number is above the last one taken
  on that topic; duplicates and stale ones are acknowledged and ignored;
- it drives only within its reservation and never lets its front cross the zero
  line unless the command says the handoff was accepted;
- e-stop brakes hard at once; pause, heartbeat loss and odometry loss ramp the
  speed down at the comfort deceleration; after a heartbeat loss it latches a
  safe stop until a new route or RESUME comes;
- the forward obstacle sensor caps the speed so the vehicle stops short of what
  it sees, whatever its reservation says.

Time is passed in (seconds on the vehicle's clock); nothing here reads a clock.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from fleet.core import AckStatus, ModeKind, RouteCommand
from fleet.vehicles import GUIDE_VEHICLE, VehicleMode, VehicleReport
from vehicle.path_follower import COMFORT_DECEL_MPS2, PathFollower

ZERO_LINE_MARGIN_M = 1.0  # the front stops this far before the zero line without a handoff
RESERVATION_MARGIN_M = 1.0  # and aims to stop this far before the end of its reservation
OBSTACLE_MARGIN_M = 3.0  # stop this far short of an obstacle the sensor sees
SENSOR_RANGE_M = 40.0
BATTERY_KWH = GUIDE_VEHICLE.battery_kwh
CONSUMPTION_KWH_PER_KM = GUIDE_VEHICLE.consumption_kwh_per_km
AUX_KW = GUIDE_VEHICLE.aux_kw
BATTERY_LOW = 0.2


@dataclass(frozen=True)
class Ack:
    seq: int
    status: AckStatus
    detail: str


@dataclass(frozen=True)
class Drive:
    """What the vehicle commands its drive: speed, yaw rate, and whether to brake hard."""

    speed_mps: float
    yaw_rate: float
    hard_brake: bool = False


class VehicleBrain:
    """Sequence checks, reservation and zero-line limits, stops, battery, lane tracking."""

    def __init__(
        self,
        vehicle_id: str,
        zero_line: Sequence[tuple[float, float]],
        *,
        max_speed_mps: float = 25.0 / 3.6,
        heartbeat_timeout_s: float = 2.0,
        odom_timeout_s: float = 0.5,
        battery_soc: float = 1.0,
    ) -> None:
        self.vehicle_id = vehicle_id
        self.zero_line = list(zero_line)
        self.max_speed = max_speed_mps
        self.hb_timeout = heartbeat_timeout_s
        self.odom_timeout = odom_timeout_s
        self.follower: PathFollower | None = None
        self.zero_m: float | None = None  # where the current path crosses the zero line
        self.mission_id = ""
        self.lanes: list[tuple[str, float]] = []
        self.reservation_end_m = 0.0
        self.handoff_accepted = False
        self.route_seq = 0
        self.mode_seq = 0
        self.odom_at: float | None = None
        self.heartbeat_at: float | None = None
        self.paused = False
        self.estopped = False
        self.safe_stop = False  # latched on heartbeat loss while on a route
        self.internal_error = False  # latched by the node when a step failed; RESUME ends it
        self.faults: list[str] = []
        self.mode = VehicleMode.IDLE
        self.cmd_speed = 0.0
        self.battery_soc = battery_soc
        self.energy_used_kwh = 0.0  # drawn since start, also what an empty battery could not give
        self.obstacle_stop = False  # the sensor made it stop at the last control step
        self._steer_key: tuple[int, float, float, float, float] | None = None
        self._steer_last: Any = None
        # The lanes list lane_at last indexed, and its starts if they are in order.
        self._lane_starts: tuple[list[tuple[str, float]], list[float] | None] | None = None

    # -- commands -----------------------------------------------------------
    def _check_seq(self, seq: int, last: int, vehicle_id: str) -> Ack | None:
        """The refusal for what is not newer than ``last`` or not for us; None to go on."""
        if vehicle_id and vehicle_id != self.vehicle_id:
            return Ack(seq, AckStatus.REJECTED, f"addressed to {vehicle_id!r}")
        if seq == last:
            return Ack(seq, AckStatus.DUPLICATE, "already taken")
        if seq < last:
            return Ack(seq, AckStatus.OUT_OF_ORDER, f"seq {last} already taken")
        return None

    def on_route(
        self,
        *,
        vehicle_id: str,
        seq: int,
        mission_id: str,
        waypoints: Sequence[tuple[float, float, float]],
        reservation_end_m: float,
        handoff_accepted: bool,
        lanes: Sequence[tuple[str, float]],
        reject: str = "",
    ) -> Ack:
        """Take a route (or an extension of the current one: same mission, same path).

        ``reject``: a reason found by the caller (e.g. a wrong frame) to refuse a
        command that passed the sequence check."""
        refused = self._check_seq(seq, self.route_seq, vehicle_id)
        if refused is not None:
            return refused
        if reject:
            return Ack(seq, AckStatus.REJECTED, reject)
        if math.isnan(reservation_end_m):  # would compare as "not reached" forever
            return Ack(seq, AckStatus.REJECTED, "route with a number that is not finite")
        extension = (
            self.follower is not None
            and mission_id == self.mission_id
            and len(waypoints) == len(self.follower.pts)
        )
        if not extension:
            # Checked once per path: an extension keeps the path it extends, and the
            # check over every waypoint of every extension was a third of a sim's time.
            if not all(math.isfinite(c) for w in waypoints for c in w):
                return Ack(seq, AckStatus.REJECTED, "route with a number that is not finite")
            try:
                self.follower = PathFollower(list(waypoints), self.max_speed)
            except ValueError as e:
                return Ack(seq, AckStatus.REJECTED, str(e))
            self.mission_id = mission_id
            self.lanes = list(lanes)
            # Once per path (extensions keep it): the search is linear in the path.
            self.zero_m = self.follower.crossing_m(self.zero_line)
        assert self.follower is not None
        limit = min(float(reservation_end_m), self.follower.length)
        zero_m = self.zero_m
        if zero_m is not None and not handoff_accepted:
            limit = min(limit, zero_m - ZERO_LINE_MARGIN_M)
        self.reservation_end_m = max(0.0, limit)
        self.handoff_accepted = handoff_accepted
        # Aim a little short: the stop must hold under control and link latency.
        self.follower.set_limit(limit - RESERVATION_MARGIN_M)
        self.route_seq = seq
        self.safe_stop = False  # a new command from a live orchestrator
        kind = "extension" if extension else "route"
        return Ack(seq, AckStatus.ACCEPTED, f"{kind} to {self.reservation_end_m:.1f} m")

    def on_route_command(self, cmd: RouteCommand) -> Ack:
        """In-process delivery of a fleet core command (no message conversion)."""
        return self.on_route(
            vehicle_id=cmd.vehicle_id,
            seq=cmd.seq,
            mission_id=cmd.mission_id,
            waypoints=cmd.waypoints,
            reservation_end_m=cmd.reservation_end_m,
            handoff_accepted=cmd.handoff_accepted,
            lanes=cmd.lanes,
        )

    def on_mode(self, seq: int, kind: ModeKind | None, vehicle_id: str, reason: str) -> Ack:
        """PAUSE / RESUME / ESTOP (``None``: a command this vehicle does not know)."""
        refused = self._check_seq(seq, self.mode_seq, vehicle_id)
        if refused is not None:
            return refused
        if kind is ModeKind.ESTOP:
            self.estopped = True
            self.cmd_speed = 0.0
            self.mode = VehicleMode.ESTOPPED
        elif kind is ModeKind.PAUSE:
            self.paused = True
        elif kind is ModeKind.RESUME:
            self.paused = self.estopped = self.safe_stop = self.internal_error = False
        else:
            return Ack(seq, AckStatus.REJECTED, f"unknown {kind}")
        self.mode_seq = seq
        return Ack(seq, AckStatus.ACCEPTED, reason)

    # -- inputs -------------------------------------------------------------
    def heartbeat(self, now: float) -> None:
        self.heartbeat_at = now

    def odometry(self, now: float) -> None:
        self.odom_at = now

    # -- control ------------------------------------------------------------
    def control(
        self,
        now: float,
        x: float,
        y: float,
        yaw: float,
        v: float,
        dt: float,
        obstacle_m: float | None = None,
        obstacle_speed_mps: float = 0.0,
    ) -> Drive:
        """One control step from the measured pose and speed; ``obstacle_m`` is the
        forward sensor's free distance ahead of the front (None: nothing in range) and
        ``obstacle_speed_mps`` how fast what it sees moves away (0: standing)."""
        self._drain_battery(v, dt)
        hb_lost = self.heartbeat_at is None or now - self.heartbeat_at > self.hb_timeout
        odom_lost = self.odom_at is None or now - self.odom_at > self.odom_timeout
        f = self.follower
        driving = f is not None and f.limit_m - f.progress_m > 0.5
        if hb_lost and driving and self.heartbeat_at is not None and not self.safe_stop:
            self.safe_stop = True
        faults = []
        if self.heartbeat_at is None:
            faults.append("no_heartbeat")
        elif hb_lost:
            faults.append("heartbeat_lost")
        if odom_lost:
            faults.append("odometry_lost")
        if self.battery_soc < BATTERY_LOW:
            faults.append("battery_low")
        if self.internal_error:
            faults.append("internal_error")
        self.faults = faults
        if self.safe_stop and "heartbeat_lost" not in self.faults and not hb_lost:
            self.faults.append("heartbeat_lost")  # still waiting for the orchestrator
        steer = self._steer(f, x, y, yaw, v)
        yaw_rate = steer.yaw_rate if steer is not None else 0.0
        self.obstacle_stop = False
        if self.estopped:
            self.mode = VehicleMode.ESTOPPED
            return self._send(0.0, 0.0, hard=True)
        stop = self.paused or self.safe_stop or hb_lost or odom_lost or self.internal_error
        if self.paused:
            self.mode = VehicleMode.PAUSED
        elif stop and f is not None:
            self.mode = VehicleMode.SAFE_STOP
        if stop:
            # Controlled stop: ramp the command down at the comfort deceleration.
            speed = max(0.0, min(self.cmd_speed, v) - COMFORT_DECEL_MPS2 * dt)
            if f is None and not self.paused:
                self.mode = VehicleMode.IDLE
            return self._send(speed, yaw_rate if speed > 0.0 else 0.0)
        if steer is None or f is None:
            self.mode = VehicleMode.IDLE
            return self._send(0.0, 0.0)
        if steer.done:
            at_end = f.limit_m >= f.length - 0.5
            self.mode = VehicleMode.IDLE if at_end else VehicleMode.HOLDING
        else:
            self.mode = VehicleMode.DRIVING
        speed = steer.speed_mps
        if obstacle_m is not None and not steer.done:
            # Stop short of what the sensor sees (it brakes harder than comfort if needed).
            room = obstacle_m - OBSTACLE_MARGIN_M
            away = max(0.0, obstacle_speed_mps)
            cap = math.sqrt(away * away + 2 * COMFORT_DECEL_MPS2 * room) if room > 0.0 else 0.0
            if cap < speed:
                speed, self.obstacle_stop = cap, True
                if cap == 0.0:
                    self.mode = VehicleMode.HOLDING
        return self._send(speed, steer.yaw_rate if speed > 0.0 else 0.0)

    def _steer(self, f: PathFollower | None, x: float, y: float, yaw: float, v: float) -> Any:
        """The follower's command; a vehicle standing where it stood at the last step
        with the same limit gets the same answer without searching its path again."""
        if f is None:
            return None
        key = (id(f), x, y, yaw, f.limit_m)
        if v == 0.0 and key == self._steer_key:
            return self._steer_last
        out = f.command(x, y, yaw, v)
        self._steer_key, self._steer_last = (key if v == 0.0 else None), out
        return out

    def holds_still(self, x: float, y: float, yaw: float, v: float) -> bool:
        """Will :meth:`control` at this pose reuse a standing answer that has reached its
        limit? It then commands a stop whatever the sensor reads (a caller may skip it)."""
        f = self.follower
        if f is None or v != 0.0 or self._steer_key != (id(f), x, y, yaw, f.limit_m):
            return False
        return bool(self._steer_last.done)

    def _send(self, speed: float, yaw_rate: float, hard: bool = False) -> Drive:
        self.cmd_speed = speed
        return Drive(speed, yaw_rate, hard)

    def _drain_battery(self, v: float, dt: float) -> None:
        kwh = abs(v) * dt / 1000.0 * CONSUMPTION_KWH_PER_KM + AUX_KW * dt / 3600.0
        self.energy_used_kwh += kwh
        self.battery_soc = max(0.0, self.battery_soc - kwh / BATTERY_KWH)

    # -- state ----------------------------------------------------------------
    def lane_at(self, s: float) -> str:
        """The last lane in the list that starts at or before ``s``."""
        lanes = self.lanes
        if self._lane_starts is None or self._lane_starts[0] is not lanes:
            starts = [start for _, start in lanes]
            ordered = all(a <= b for a, b in itertools.pairwise(starts))
            self._lane_starts = (lanes, starts if ordered else None)
        starts_or_none = self._lane_starts[1]
        if starts_or_none is not None:  # every report asks: bisect, not a scan of every leg
            i = bisect.bisect_right(starts_or_none, s + 1e-6) - 1
            return lanes[i][0] if i >= 0 else ""
        lane = ""
        for lane_id, start in lanes:
            if start <= s + 1e-6:
                lane = lane_id
        return lane

    @property
    def progress_m(self) -> float:
        return self.follower.progress_m if self.follower is not None else 0.0

    @property
    def lane_id(self) -> str:
        return self.lane_at(self.follower.progress_m) if self.follower is not None else ""

    def report(self, now: float, x: float, y: float, yaw: float, v: float) -> VehicleReport:
        """The state report (what the ROS node publishes on ``state``)."""
        f = self.follower
        return VehicleReport(
            self.vehicle_id,
            now,
            x,
            y,
            yaw,
            v,
            battery_soc=self.battery_soc,
            mode=self.mode,
            lane_id=self.lane_id,
            progress_m=f.progress_m if f is not None else None,
            faults=tuple(self.faults),
        )
