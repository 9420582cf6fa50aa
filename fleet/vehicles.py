"""Vehicle and mission state as the orchestrator knows it."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

from fleet.routing import Route


@dataclass(frozen=True)
class VehicleParams:
    """A guide vehicle's body and limits: one home for the planner's spacing, the core's
    blocked stretches, the onboard logic, the simulator's model and the checkers."""

    length_m: float = 16.5  # tractor + 40 ft trailer
    width_m: float = 2.55
    wheelbase_m: float = 3.8
    max_speed_mps: float = 25.0 / 3.6
    max_accel_mps2: float = 1.0
    max_decel_mps2: float = 3.0
    max_steer_rad: float = 0.6
    # Energy: the vehicle model drains its battery with these, the fleet registry's
    # defaults (what the dispatcher checks a trip's energy against) are these.
    battery_kwh: float = 60.0  # usable
    consumption_kwh_per_km: float = 1.8  # driving, loaded or not
    aux_kw: float = 2.0  # controller, sensors, reefer unit standby


GUIDE_VEHICLE = VehicleParams()  # the gate's guide vehicles

VEHICLE_ID = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,62}")


class VehicleIdError(ValueError):
    pass


def validate_vehicle_id(vehicle_id: str) -> str:
    """Vehicle ids become ROS 2 namespaces and gz topic names, so they follow ROS name rules."""
    if not VEHICLE_ID.fullmatch(vehicle_id):
        raise VehicleIdError(
            f"invalid vehicle id {vehicle_id!r}: use a letter then letters, digits or '_' "
            "(it becomes a ROS 2 namespace and topic name)"
        )
    return vehicle_id


class VehicleStatus(StrEnum):
    IDLE = "idle"  # no mission, standing
    MOVING = "moving"  # on a mission, driving
    HOLDING = "holding"  # on a mission, standing (stop line, queue, wait)
    AT_HANDOFF = "at_handoff"  # stopped at the zero-line stop line, awaiting acceptance
    OFFLINE = "offline"  # no fresh state report: position unknown, space kept blocked


class VehicleMode(StrEnum):
    """What the vehicle says it is doing (its state topic's ``mode``)."""

    IDLE = "idle"  # no route, or at the end of its path
    DRIVING = "driving"
    HOLDING = "holding"  # at the end of its reservation, waiting for an extension
    PAUSED = "paused"
    ESTOPPED = "estopped"
    SAFE_STOP = "safe_stop"  # lost the orchestrator (or odometry): stopped, waiting


class MissionStatus(StrEnum):
    ACTIVE = "active"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class VehicleReport:
    """A vehicle's own account of itself (from its state topic)."""

    vehicle_id: str
    stamp: float  # vehicle clock (ROS time), seconds
    x: float
    y: float
    heading_rad: float
    speed_mps: float
    battery_soc: float | None = None
    mode: VehicleMode | None = None
    lane_id: str = ""
    progress_m: float | None = None
    faults: tuple[str, ...] = ()


@dataclass
class Mission:
    id: str
    vehicle_id: str
    goal: str
    route: Route
    issued_at: float
    seq: int
    status: MissionStatus = MissionStatus.ACTIVE
    progress_m: float = 0.0
    max_deviation_m: float = 0.0
    completed_at: float | None = None
    reservation_end_m: float = 0.0  # how far along the route the vehicle may drive
    handoff_accepted: bool = False  # may its front cross the zero line
    revision: int = 0  # bumped when the route is replaced (a re-route): vehicles start anew
    _waypoints: tuple[tuple[int, float], tuple[tuple[float, float, float], ...]] | None = field(
        default=None, repr=False, compare=False
    )

    def waypoints(self) -> tuple[tuple[float, float, float], ...]:
        """The path's timed waypoints, computed once per route revision (every
        reservation extension re-sends them)."""
        key = (id(self.route), self.issued_at)
        if self._waypoints is None or self._waypoints[0] != key:
            self._waypoints = (key, tuple(self.route.timed_waypoints(self.issued_at)))
        return self._waypoints[1]

    @property
    def path_id(self) -> str:
        """What vehicles know the current path by: the mission id, plus its revision."""
        return self.id if self.revision == 0 else f"{self.id}.r{self.revision}"

    @property
    def progress(self) -> float:
        return min(1.0, self.progress_m / self.route.length_m) if self.route.length_m else 1.0


@dataclass
class Vehicle:
    id: str
    corridor: str
    x: float
    y: float
    heading_rad: float = 0.0
    speed_mps: float = 0.0
    status: VehicleStatus = VehicleStatus.IDLE
    last_report: float | None = None  # orchestrator time of the last report
    last_stamp: float | None = None  # vehicle's stamp of the last report
    lane_id: str | None = None
    node: str | None = None  # lane-graph node the vehicle stands at, if any
    mission: Mission | None = None
    history: list[str] = field(default_factory=list)  # finished mission ids
    mode: VehicleMode | None = None  # as last reported by the vehicle
    battery_soc: float | None = None
    faults: tuple[str, ...] = ()
    paused: bool = False  # the orchestrator's intent (pause/e-stop sent, no resume since)
    estopped: bool = False
    offline_since: float | None = None
