"""In-process corridor simulator: the fleet logic and the vehicle model, no DDS.

One process steps, on one simulated clock, everything a capacity study needs:

- the vehicles: :class:`~vehicle.kinematics.KinematicVehicle` (the bicycle model
  the ROS ``sim_world`` node uses) driven by :class:`~vehicle.brain.VehicleBrain`
  (the logic the ROS ``guide_vehicle`` node runs), with a forward obstacle sensor;
- the orchestrator: :class:`~fleet.traffic.control.FleetControl` (planner per corridor +
  fleet core), fed the vehicles' reports and acks, its commands delivered in-process;
- the gate's yard operations (:class:`~fleet.yard.policy.Yard` for the VN side) and,
  as the model of the Chinese side's dispatch, the same rules for the CN side; custody
  passes between them where a vehicle's front crosses km 0;
- the world around them: trucks bringing consignments to the yards over the day
  (goods kinds, customs/quarantine clearance), one crane per loading spot, the other
  country's handoff peer accepting (or, under a fault, refusing or not answering),
  and the faults of a scenario.

It is deterministic for a given seed (one ``random.Random``, sorted iteration, no
wall clock in the logic), and writes a trace row per vehicle per step.
"""

from __future__ import annotations

import bisect
import copy
import heapq
import math
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, fields, replace
from typing import Any, TextIO

import networkx as nx

from fleet.cargo.dispatch import GraphTravelTimes
from fleet.core import (
    AckStatus,
    CommandAck,
    FleetError,
    MissionCompleted,
    ModeCommand,
    RouteCommand,
)
from fleet.routing import Route
from fleet.traffic.control import FleetControl
from fleet.traffic.planner import PlannerConfig, Priority
from fleet.vehicles import MissionStatus, VehicleParams, VehicleStatus
from fleet.yard.layout import OTHER_SIDE, SIDES, YardLayout
from fleet.yard.policy import Lift, LiftKind, Load, Phase, Standing, Yard, YardRules, YardVehicle
from maps.lane_graph import edge_attrs, edges_with, node_attrs
from maps.queries import spots as spots_of
from vehicle.brain import BATTERY_KWH, SENSOR_RANGE_M, VehicleBrain
from vehicle.kinematics import KinematicVehicle

TRACE_HEADER = "t_s,vehicle_id,lane_id,s_m,x_m,y_m,speed_mps"
HANDOFF_REQUEST_M = 150.0  # the handoff is requested this far before the zero line
HANDOFF_ZONE_M = 40.0  # the maps' handoff zone reaches this far before the zero line
STAGING_QUEUE_M = 200.0  # a vehicle stopped this close to its staging point queues for a bay
CHARGER_REACH_M = 3.0  # a vehicle standing this close to a charging spot is plugged in
RETRY_ACCEPT_S = 5.0

GOODS: dict[str, tuple[float, float, float, Priority]] = {
    # kind: (share of demand, mean clearance s (customs + quarantine), crane s, priority)
    "fruit": (0.40, 900.0, 90.0, Priority.PERISHABLE),
    "electronics": (0.20, 1200.0, 80.0, Priority.STANDARD),
    "textiles": (0.15, 600.0, 80.0, Priority.STANDARD),
    "machinery": (0.10, 1500.0, 120.0, Priority.STANDARD),
    "seafood": (0.15, 900.0, 90.0, Priority.PERISHABLE),
}
# Share of a day's trucks per hour (the border is busiest in the day, quiet at night).
HOURLY = (2, 1, 1, 1, 1, 2, 4, 6, 7, 7, 7, 6, 5, 6, 7, 7, 7, 6, 5, 4, 3, 3, 2, 2)


class NoRoomForFleet(ValueError):
    """The corridor has no free place to start even one vehicle of the fleet."""


@dataclass
class Consignment:
    id: str
    corridor: str
    origin: str  # side the truck arrives at ("VN": export, "CN": import)
    kind: str
    arrived: float
    cleared: float  # customs and quarantine done: may be loaded
    loaded: float | None = None
    crossed: float | None = None
    delivered: float | None = None


@dataclass(frozen=True)
class Fault:
    """One scheduled fault (see :mod:`sim_worlds.scenario` for the file format)."""

    kind: str  # breakdown | obstacle | lane_closure | comms_loss | peer_down | peer_refusing
    #            | customs_hold | demand_surge
    at_s: float
    duration_s: float
    corridor: str = ""
    vehicle: str = ""  # an id, or "export-lane": the first vehicle on the export lane then
    lane: str = ""
    s_m: float = 0.0  # obstacle: distance along the lane
    goods: str = ""
    factor: float = 1.0  # demand surge: arrival rate multiplier


@dataclass
class SimConfig:
    vehicles: dict[str, int]  # corridor -> fleet size
    demand_per_day: dict[str, float]  # corridor -> consignments per day (both directions)
    duration_s: float = 3600.0
    seed: int = 1
    dt: float = 0.5  # orchestrator tick, reports and trace rows
    report_every_s: float = 1.0  # vehicle state reports to the orchestrator
    # The orchestrator's control loop (fleet_control.tick: reservations, re-plans,
    # re-sends); the ROS bridge's tick_hz. Reservations reach LOOKAHEAD_S (8 s) ahead of
    # the plans, so a tick a second keeps vehicles moving (measured: same throughput as
    # 0.5 s over 3 busy hours, 15 % less CPU).
    tick_every_s: float = 1.0
    control_substeps: int = 1  # vehicle control + kinematics run at dt / this
    export_share: float = 0.55
    faults: tuple[Fault, ...] = ()
    planner_config: PlannerConfig | None = None
    peer_delay_s: tuple[float, float] = (2.0, 6.0)  # the other side answers within
    clearance_scale: float = 1.0  # multiplies mean clearance times
    yard_rules: YardRules = field(default_factory=YardRules)
    # Energy. With ``charging`` on, vehicles report their state of charge to the yard,
    # which sends low empty ones to the charging spots, where chargers of ``charger_kw``
    # fill them. Off by default, as in every published figure so far: the maps' yards
    # have one charger a side, far too few for the fleets the sweep sizes (see
    # docs/simulation.md, "Energy"); the day's summary says how long vehicles drove on
    # an empty battery (the vehicle model does not stop them).
    charging: bool = False
    charger_kw: float = 150.0


@dataclass
class SimVehicle:
    """A vehicle of the world: its body, its onboard brain, what it carries; what the
    yard has it doing is the yard's record (``yard``), read here for the statistics."""

    id: str
    corridor: str
    model: KinematicVehicle
    brain: VehicleBrain
    yard: YardVehicle
    cargo: Consignment | None = None  # on board (the crane put it there)
    legs: list[tuple[float, str, float]] = field(default_factory=list)  # start, lane, offset
    leg_starts: list[float] = field(default_factory=list)
    route: Route | None = None  # the mission route ``legs`` are of
    route_zero_m: float | None = None  # where it reaches a zero-line node, if it does
    zero_m: float | None = None  # zero line along the current path
    zero_seen: bool = True  # its position was compared with zero_m since it was set
    handoff_asked: float | None = None
    handoff_answer: tuple[float, bool] | None = None  # (when, accepted)
    handoff_done: bool = False
    handoff_retry: float = 0.0
    crossed: bool = False
    broken: bool = False
    comms_lost: bool = False
    busy_s: float = 0.0  # loaded, loading or unloading
    idle_s: float = 0.0  # standing empty with nothing to do
    zero_wait_s: float = 0.0  # standing at the zero line before the current crossing
    bay_wait_s: float = 0.0  # standing in the queue at a staging point, waiting for a bay
    empty_s: float = 0.0  # with an empty battery (nothing charges vehicles yet)
    moving_s: float = 0.0
    lane_id: str = ""
    lane_s: float = 0.0
    last_progress: float = 0.0

    @property
    def phase(self) -> Phase:
        return self.yard.phase

    @property
    def node(self) -> str:
        return self.yard.node

    @property
    def target(self) -> str:
        return self.yard.target


@dataclass
class Stats:
    crossings: list[tuple[float, str, str, bool]] = field(
        default_factory=list
    )  # t, veh, dir, loaded
    queue: list[tuple[float, str, str, int]] = field(default_factory=list)  # t, corridor, side, n
    zero_dwell: list[tuple[str, float]] = field(default_factory=list)  # s stood at the line
    crane_busy_s: dict[str, float] = field(default_factory=dict)  # corridor/spot -> s
    handoff_occupied_s: dict[str, float] = field(default_factory=dict)  # corridor -> s
    # corridor/side -> loading-spot seconds with a vehicle standing there; with every
    # place of the bay claimed
    bay_occupied_s: dict[str, float] = field(default_factory=dict)
    bay_full_s: dict[str, float] = field(default_factory=dict)
    obstacle_stops: int = 0
    commands: int = 0
    dispatch_errors: int = 0
    accept_retries: int = 0


@dataclass(frozen=True)
class VehicleTally:
    """A vehicle's time budget at the end of a run (what the summary and report read)."""

    id: str
    corridor: str
    busy_s: float
    idle_s: float
    moving_s: float
    bay_wait_s: float
    energy_kwh: float = 0.0  # drawn from the battery, or that an empty one could not give
    empty_s: float = 0.0  # time with an empty battery
    battery_soc: float = 1.0  # at the end


# Stats lists that are time series (time first): merged in time order.
TIME_SERIES_STATS = frozenset({"crossings", "queue"})


@dataclass
class SimResult:
    """A finished run as plain data. A :class:`Simulator` does not pickle (lambdas in the
    planner, closures for fault ends), so runs in other processes hand this back; it holds
    what :meth:`summary` and :func:`~sim_worlds.capacity_report.build_report` read."""

    t: float
    cfg: SimConfig
    corridors: tuple[str, ...]
    vehicles: dict[str, VehicleTally]
    stats: Stats
    waiting: dict[tuple[str, str], list[Consignment]]  # (corridor, side)
    consignments: list[Consignment]
    spots: dict[str, dict[str, list[str]]]  # corridor -> side -> loading spots

    @classmethod
    def merge(cls, results: Iterable[SimResult]) -> SimResult:
        """One result of corridors run apart (each result its own corridors, all to the
        same end time): what one run of them all would report per corridor, since
        corridors share nothing. Counters add up; time series are merged in time order
        (ties in corridor order, as one run would append them)."""
        parts = sorted(results, key=lambda r: r.corridors)
        if not parts:
            raise ValueError("no results to merge")
        corridors = tuple(sorted(c for r in parts for c in r.corridors))
        if len(set(corridors)) != len(corridors):
            raise ValueError(f"a corridor is in more than one result: {corridors}")
        if len({r.t for r in parts}) != 1:
            raise ValueError(f"results end at different times: {[r.t for r in parts]}")
        return cls(
            t=parts[0].t,
            cfg=_merge_configs([r.cfg for r in parts]),
            corridors=corridors,
            vehicles={k: v for r in parts for k, v in r.vehicles.items()},
            stats=_merge_stats([r.stats for r in parts]),
            waiting={k: v for r in parts for k, v in r.waiting.items()},
            consignments=[c for r in parts for c in r.consignments],
            spots={k: v for r in parts for k, v in r.spots.items()},
        )

    def summary(self) -> dict[str, Any]:
        """Outcome figures the report and the scenario checks use."""
        hours = self.t / 3600.0
        per_corridor: dict[str, Any] = {}
        for corridor in sorted(self.corridors):
            vs = [sv for sv in self.vehicles.values() if sv.corridor == corridor]
            cross = [c for c in self.stats.crossings if self.vehicles[c[1]].corridor == corridor]
            loaded = [c for c in cross if c[3]]
            cranes = {
                k.split("/", 1)[1]: v / max(self.t, 1e-9)
                for k, v in self.stats.crane_busy_s.items()
                if k.startswith(corridor + "/")
            }
            per_corridor[corridor] = {
                "vehicles": len(vs),
                "crossings": len(cross),
                "loaded_crossings": len(loaded),
                "crossings_per_day": len(loaded) / hours * 24 if hours else 0.0,
                "vehicle_busy_share": sum(v.busy_s for v in vs) / max(self.t * len(vs), 1e-9),
                "vehicle_moving_share": sum(v.moving_s for v in vs) / max(self.t * len(vs), 1e-9),
                "vehicle_working_share": 1.0
                - sum(v.idle_s for v in vs) / max(self.t * len(vs), 1e-9),
                "vehicle_bay_wait_share": sum(v.bay_wait_s for v in vs)
                / max(self.t * len(vs), 1e-9),
                # Energy: nothing charges the vehicles yet (issue 21), so these say how far
                # from real the day is: kWh a vehicle needs a day, and the share of vehicle
                # time driven on an empty battery (the brain does not stop the vehicle).
                "energy_kwh_per_vehicle_day": sum(v.energy_kwh for v in vs)
                / max(len(vs), 1)
                / max(hours / 24, 1e-9),
                "battery_empty_share": sum(v.empty_s for v in vs) / max(self.t * len(vs), 1e-9),
                "battery_soc_min": min((v.battery_soc for v in vs), default=1.0),
                "crane_busy_share": cranes,
                "handoff_occupied_share": self.stats.handoff_occupied_s.get(corridor, 0.0)
                / max(self.t, 1e-9),
                "bay_occupied_share": self._bay_share(self.stats.bay_occupied_s, corridor),
                "bay_full_share": self._bay_share(self.stats.bay_full_s, corridor),
                "consignments": sum(1 for c in self.consignments if c.corridor == corridor),
            }
        return {
            "sim_s": self.t,
            "seed": self.cfg.seed,
            "corridors": per_corridor,
            "obstacle_stops": self.stats.obstacle_stops,
            "commands": self.stats.commands,
            "dispatch_errors": self.stats.dispatch_errors,
            "handoff_accept_retries": self.stats.accept_retries,
        }

    def _bay_share(self, secs: dict[str, float], corridor: str) -> dict[str, float]:
        """Per side: seconds over (loading spots x time)."""
        return {
            side: secs.get(f"{corridor}/{side}", 0.0) / max(self.t * len(spots), 1e-9)
            for side, spots in sorted(self.spots[corridor].items())
        }


def _merge_configs(cfgs: list[SimConfig]) -> SimConfig:
    """The configs of per-corridor runs as one: fleets and demand united, the rest equal."""
    base = cfgs[0]
    for other in cfgs[1:]:
        if replace(other, vehicles=base.vehicles, demand_per_day=base.demand_per_day) != base:
            raise ValueError("results of runs with different settings do not merge")
    return replace(
        base,
        vehicles={k: v for c in cfgs for k, v in c.vehicles.items()},
        demand_per_day={k: v for c in cfgs for k, v in c.demand_per_day.items()},
    )


def _merge_stats(parts: list[Stats]) -> Stats:
    """Field by field, so a new statistic cannot be dropped silently: lists concatenated
    (time series sorted by time, stable), dicts united (their keys name the corridor),
    counters summed."""
    merged = Stats()
    for f in fields(Stats):
        values: list[Any] = [getattr(s, f.name) for s in parts]
        if isinstance(values[0], list):
            joined = [x for v in values for x in v]
            if f.name in TIME_SERIES_STATS:
                joined.sort(key=lambda x: x[0])
            setattr(merged, f.name, joined)
        elif isinstance(values[0], dict):
            setattr(merged, f.name, {k: x for v in values for k, x in v.items()})
        elif isinstance(values[0], int):
            setattr(merged, f.name, sum(values))
        else:
            raise TypeError(f"Stats.{f.name}: no rule to merge {type(values[0]).__name__}")
    return merged


class Simulator:
    """Vehicles, fleet control, demand and faults stepped together on one clock."""

    def __init__(
        self,
        graphs: dict[str, nx.DiGraph],
        zero_lines: dict[str, list[tuple[float, float]]],
        cfg: SimConfig,
        trace: TextIO | None = None,
    ) -> None:
        self.graphs = {c: graphs[c] for c in sorted(cfg.vehicles)}
        self.cfg = cfg
        self.rng = random.Random(cfg.seed)
        self.t = 0.0
        self.fc = FleetControl(self.graphs, planner_config=cfg.planner_config)
        self.vehicles: dict[str, SimVehicle] = {}
        self.stats = Stats()
        self.trace = trace
        if trace is not None:
            trace.write(TRACE_HEADER + "\n")
        self.layouts = {c: YardLayout.from_graph(c, g) for c, g in self.graphs.items()}
        self.spots = {
            c: {s: list(x) for s, x in lay.spots.items()} for c, lay in self.layouts.items()
        }
        self._chargers = {
            c: [
                (node_attrs(g, n)["x"], node_attrs(g, n)["y"])
                for spots in self.layouts[c].chargers.values()
                for n in spots
            ]
            for c, g in self.graphs.items()
        }
        self.staging_nodes = {
            (c, n) for c, lay in self.layouts.items() for n in lay.staging.values()
        }
        # The gate's own yard operations decide for the vehicles in VN custody; the
        # Chinese side's dispatch, which takes a vehicle over at km 0 (the handoff
        # protocol's CONTROL_AT_KM0), is modelled by the same rules on its yard. The
        # world below carries out what they decide.
        travel = GraphTravelTimes(self.graphs)
        self.yards = {side: Yard(self.layouts, travel, cfg.yard_rules, side=side) for side in SIDES}
        self.yard = self.yards["VN"]  # the gate's
        self._port = _SimYardPort(self)
        self.crane_free: dict[tuple[str, str], float] = {}  # the cranes: free from
        # Cranes at work: (when it starts, the order), then (when it is done, the order).
        self._lift_starts: list[tuple[float, Lift]] = []
        self._lift_ends: list[tuple[float, Lift]] = []
        self._clearing: list[tuple[float, str, str]] = []  # heap: cleared at, id, corridor
        self._by_id: dict[str, Consignment] = {}
        self.waiting: dict[tuple[str, str], list[Consignment]] = {}  # (corridor, side)
        self.consignments: list[Consignment] = []
        self._arrivals: list[Consignment] = []  # not yet arrived, by time
        self.obstacles: list[tuple[str, float, float, float, float]] = []  # c, x, y, from, to
        self.closed: set[tuple[str, str]] = set()
        self.peer_down: dict[str, float] = {}  # corridor -> until
        self.peer_refusing: dict[str, float] = {}
        self._faults = sorted(cfg.faults, key=lambda f: (f.at_s, f.kind))
        self._ends: list[tuple[float, int, Callable[[], None]]] = []
        self._n_end = 0
        self._edge_offsets = {
            c: {(u, v): float(d["offset_m"]) for u, v, d in edges_with(g)}
            for c, g in self.graphs.items()
        }
        self._zero_nodes = {
            c: {u for u, _v, d in edges_with(g) if d["zero_crossing"] is not None}
            for c, g in self.graphs.items()
        }
        self.zero_lines = zero_lines
        self._homes: dict[str, list[str]] = {}
        self._depot: dict[str, list[str]] = {}
        self._make_demand()
        self._place_fleet()

    # ------------------------------------------------------------- set-up
    def _make_demand(self) -> None:
        """Trucks over the whole horizon, per corridor and side, as a Poisson process
        shaped by the hour of day (and surges), seeded."""
        total = sum(HOURLY)
        kinds = sorted(GOODS)
        weights = [GOODS[k][0] for k in kinds]
        for corridor in sorted(self.cfg.demand_per_day):
            # Numbered per corridor, named by it: unique when corridors simulated apart
            # (one process each) are merged into one result.
            n = 0
            per_day = self.cfg.demand_per_day[corridor]
            for side, share in (("VN", self.cfg.export_share), ("CN", 1 - self.cfg.export_share)):
                # The night's trucks: an hour of demand already waiting, cleared, at t = 0.
                for _ in range(round(per_day * share / 24)):
                    kind = self.rng.choices(kinds, weights)[0]
                    arrived = -self.rng.uniform(0.0, 3600.0)
                    cleared = arrived + self.rng.uniform(0.0, -arrived)
                    n += 1
                    self._arrivals.append(
                        Consignment(f"{corridor}/c{n:06d}", corridor, side, kind, arrived, cleared)
                    )
                t = 0.0
                while True:
                    hour = int(t // 3600) % 24
                    rate = per_day * share * HOURLY[hour] / total / 3600.0
                    rate *= max(
                        (f.factor for f in self._surges(corridor, t)),
                        default=1.0,
                    )
                    # Thinning against a bound on the rate keeps the process exact.
                    bound = per_day * share * max(HOURLY) / total / 3600.0 * self._max_surge()
                    t += self.rng.expovariate(bound) if bound > 0 else math.inf
                    if t >= self.cfg.duration_s:
                        break
                    hour = int(t // 3600) % 24
                    rate = per_day * share * HOURLY[hour] / total / 3600.0
                    surge = [f for f in self._surges(corridor, t)]
                    rate *= max((f.factor for f in surge), default=1.0)
                    if self.rng.random() * bound > rate:
                        continue
                    kind = self.rng.choices(kinds, weights)[0]
                    for f in surge:
                        if f.goods and self.rng.random() < 1 - 1 / max(f.factor, 1.0):
                            kind = f.goods  # the extra trucks carry the surging goods
                    mean = GOODS[kind][1] * self.cfg.clearance_scale
                    clear = t + self.rng.uniform(0.5, 1.5) * mean
                    n += 1
                    self._arrivals.append(
                        Consignment(f"{corridor}/c{n:06d}", corridor, side, kind, t, clear)
                    )
        self._arrivals.sort(key=lambda c: (c.arrived, c.id))
        self._arrivals.reverse()  # pop() from the end is the next arrival

    def _surges(self, corridor: str, t: float) -> list[Fault]:
        return [
            f
            for f in self.cfg.faults
            if f.kind == "demand_surge"
            and f.corridor in ("", corridor)
            and f.at_s <= t < f.at_s + f.duration_s
        ]

    def _max_surge(self) -> float:
        return max([1.0] + [f.factor for f in self.cfg.faults if f.kind == "demand_surge"])

    def _place_fleet(self) -> None:
        """Vehicles start at the loading spots, then in the other bays, then on the lanes.
        Those that find no free place wait in the depot (off the map) and enter service
        one by one at the first place that is free (a parking or charging bay, a loading
        spot, the start of a lane) while the day goes on."""
        for corridor in sorted(self.cfg.vehicles):
            n = self.cfg.vehicles[corridor]
            prefix = "".join(w[0] for w in corridor.split("-"))
            self._homes[corridor] = _home_nodes(self.graphs[corridor], self.spots[corridor])
            self._depot[corridor] = [f"{prefix}_{i + 1:02d}" for i in range(n)]
            while self._depot[corridor] and self._enter_service(corridor):
                pass
            if not any(sv.corridor == corridor for sv in self.vehicles.values()) and n:
                raise NoRoomForFleet(f"{corridor}: no free place to start a vehicle")

    def _enter_service(self, corridor: str) -> bool:
        """Put the next depot vehicle at the first free home place; False if none is free."""
        vid = self._depot[corridor][0]
        g = self.graphs[corridor]
        for node in self._homes[corridor]:
            at = node_attrs(g, node)
            if self.t > 0.0 and at.get("spot") is None:
                continue  # once traffic moves, only into bays: a lane may be reserved
            if any(
                o.corridor == corridor
                and (o.target == node if o.phase == "driving" else o.node == node)
                for o in self.vehicles.values()
            ):
                continue
            x, y = at["x"], at["y"]
            spacing = self.fc.cfg.rules.min_spacing_m
            if any(
                o.corridor == corridor and math.hypot(o.model.x - x, o.model.y - y) < spacing
                for o in self.vehicles.values()
            ):
                continue  # one is still there (leaving it, say): the plans may think it gone
            try:
                v = self.fc.add_vehicle(vid, corridor, node, self.t)
            except FleetError:
                continue  # too close to a vehicle there: next place
            self._depot[corridor].pop(0)
            brain = VehicleBrain(vid, self.zero_lines[corridor])
            model = KinematicVehicle(v.x, v.y, v.heading_rad, params=VehicleParams())
            side = at["side"]  # the custody it starts in: where it stands
            self.yards[OTHER_SIDE[side]].add_vehicle(vid, corridor, node, self.t, away=True)
            rec = self.yards[side].add_vehicle(vid, corridor, node, self.t)
            sv = SimVehicle(vid, corridor, model, brain, rec)
            sv.lane_id, sv.lane_s = _lane_of_node(g, node)
            self.vehicles[vid] = sv
            brain.heartbeat(self.t)
            brain.odometry(self.t)
            self.fc.on_report(brain.report(self.t, v.x, v.y, v.heading_rad, 0.0), self.t)
            return True
        return False

    # ------------------------------------------------------------- main loop
    def run(
        self, until_s: float | None = None, progress: Callable[[float], None] | None = None
    ) -> None:
        end = self.cfg.duration_s if until_s is None else until_s
        dt = self.cfg.dt
        next_progress = 0.0
        while self.t < end - 1e-9:
            self.step(dt)
            if progress is not None and self.t >= next_progress:
                progress(self.t)
                next_progress = self.t + 60.0

    def step(self, dt: float) -> None:
        if self.t == 0.0:
            self._arrive(0.0)  # the backlog is there before the first step
        self.t = t = round(self.t + dt, 6)
        self._faults_due(t)
        self._arrive(t)
        self._drive(t, dt)
        if self._due(t, self.cfg.tick_every_s):
            _events, cmds = self.fc.tick(t)
            self._deliver(cmds, t)
        self._handoffs(t)
        if self._report_due(t):  # yard decisions once per report period are plenty
            self._yard(t, self.cfg.report_every_s)
            for corridor in sorted(self._depot):
                if self._depot[corridor]:
                    self._enter_service(corridor)
        if self.trace is not None:
            self._write_trace(t)
        if int(t) % 60 == 0 and abs(t - round(t)) < 1e-9:
            for (c, side), q in sorted(self.waiting.items()):
                self.stats.queue.append((t, c, side, sum(1 for x in q if x.cleared <= t)))

    # -- vehicles ---------------------------------------------------------
    def _drive(self, t: float, dt: float) -> None:
        by_corridor: dict[str, list[SimVehicle]] = {}
        for sv in self.vehicles.values():
            by_corridor.setdefault(sv.corridor, []).append(sv)
        events = []
        report = self._report_due(t)
        for corridor, group in sorted(by_corridor.items()):
            obstacles = [(x, y) for c, x, y, a, b in self.obstacles if c == corridor and a <= t < b]
            near = _neighbours(group, dt)
            for sv, others in zip(group, near, strict=True):
                m, b = sv.model, sv.brain
                if not sv.comms_lost:
                    b.heartbeat(t)
                b.odometry(t)
                if b.follower is None and m.v == 0.0:
                    b.control(t, m.x, m.y, m.yaw, 0.0, dt)
                else:
                    if b.holds_still(m.x, m.y, m.yaw, m.v):
                        seen, seen_v = None, 0.0  # it would not act on a reading
                    else:
                        seen, seen_v = _sensor(sv, others, obstacles)
                    sub = dt / self.cfg.control_substeps
                    for k in range(self.cfg.control_substeps):
                        # The sensor reading is refreshed per step, the steering per substep.
                        ahead = None if seen is None else seen - m.v * sub * k
                        drive = b.control(
                            t - dt + sub * (k + 1), m.x, m.y, m.yaw, m.v, sub, ahead, seen_v
                        )
                        if b.obstacle_stop and k == 0:
                            self.stats.obstacle_stops += 1
                        if sv.broken:
                            m.step(0.0, 0.0, sub)
                        else:
                            m.step(drive.speed_mps, drive.yaw_rate, sub)
                self._track_lane(sv)
                if m.v > 0.05:
                    sv.moving_s += dt
                if b.battery_soc <= 0.0:
                    sv.empty_s += dt
                if self.cfg.charging and m.v < 0.05:
                    self._charge(sv, dt)
                if sv.cargo is not None or sv.phase in ("loading", "unloading"):
                    sv.busy_s += dt
                elif sv.phase == "idle":
                    sv.idle_s += dt
                f = b.follower
                waiting = sv.zero_m is not None and f is not None and m.v < 0.1
                if waiting and not sv.crossed and 0.0 <= sv.zero_m - f.progress_m <= HANDOFF_ZONE_M:  # type: ignore[operator, union-attr]
                    sv.zero_wait_s += dt
                self._check_crossing(sv, t)
                if not sv.comms_lost and report:
                    r = b.report(t, m.x, m.y, m.yaw, m.v)
                    events += self.fc.on_report(r, t)
        for e in events:
            # A plan that holds short of the goal (behind another vehicle) ends its mission
            # there; the vehicle is still on its way, the next plan takes it on.
            if not isinstance(e, MissionCompleted):
                continue
            if self.yard_of(e.vehicle_id).arrived(e.vehicle_id, e.goal, t, self._port):
                self._arrived(self.vehicles[e.vehicle_id])

    def _charge(self, sv: SimVehicle, dt: float) -> None:
        """A vehicle standing at a charger charges (the charger's power, to full)."""
        m = sv.model
        for x, y in self._chargers[sv.corridor]:
            if (m.x - x) ** 2 + (m.y - y) ** 2 <= CHARGER_REACH_M**2:
                kwh = self.cfg.charger_kw * dt / 3600.0
                sv.brain.battery_soc = min(1.0, sv.brain.battery_soc + kwh / BATTERY_KWH)
                return

    def _report_due(self, t: float) -> bool:
        """State reports go out every ``report_every_s`` (the orchestrator marks a vehicle
        offline only after 2 s of silence)."""
        return self._due(t, self.cfg.report_every_s)

    def _due(self, t: float, every_s: float) -> bool:
        """Is ``t`` on the grid of a period (in whole steps, at least one)?"""
        k = round(t / self.cfg.dt)
        return k % max(1, round(every_s / self.cfg.dt)) == 0

    def _track_lane(self, sv: SimVehicle) -> None:
        f = sv.brain.follower
        if f is None or not sv.legs:
            return
        s = f.progress_m
        i = bisect.bisect_right(sv.leg_starts, s - 0.05) - 1
        start, lane, offset = sv.legs[max(0, i)]
        sv.lane_id, sv.lane_s = lane, offset + (s - start)

    def _check_crossing(self, sv: SimVehicle, t: float) -> None:
        f = sv.brain.follower
        if f is None or sv.zero_m is None or sv.crossed:
            return
        if not sv.zero_seen:
            sv.zero_seen = True
            if f.progress_m >= sv.zero_m:
                # The path starts behind the vehicle, across the line it never crossed (one
                # placed just past km 0): no crossing, no change of custody. (The fleet
                # control still wants the handoff its route includes: it is asked for.)
                sv.crossed = True
                return
        if f.progress_m >= sv.zero_m:
            sv.crossed = True
            # Its front passed km 0: the receiving side's dispatch takes it over.
            here = self.yard_of(sv.id)
            left = here.hand_over(sv.id, t)
            there = self.yards[OTHER_SIDE[here.side or "VN"]]
            sv.yard = there.take_over(sv.id, sv.corridor, left.target, left.load, t)
            direction = "export" if sv.lane_id.startswith("E") else "import"
            self.stats.crossings.append((t, sv.id, direction, sv.cargo is not None))
            self.stats.zero_dwell.append((sv.corridor, sv.zero_wait_s))
            sv.zero_wait_s = 0.0
            if sv.cargo is not None:
                sv.cargo.crossed = t

    def _deliver(self, cmds: Iterable[RouteCommand | ModeCommand], t: float) -> None:
        """Commands reach vehicles at once (unless their link is down); acks come back."""
        for c in cmds:
            self.stats.commands += 1
            sv = self.vehicles[c.vehicle_id]
            if sv.comms_lost:
                continue
            if isinstance(c, RouteCommand):
                ack = sv.brain.on_route_command(c)
                if ack.status is AckStatus.ACCEPTED:
                    self._adopt_path(sv, c)
            else:
                ack = sv.brain.on_mode(c.seq, c.kind, c.vehicle_id, c.reason)
            self.fc.on_ack(CommandAck(c.vehicle_id, ack.seq, ack.status, t, ack.detail), t)

    def _adopt_path(self, sv: SimVehicle, c: RouteCommand) -> None:
        m = self.fc.core.vehicles[sv.id].mission
        if m is None:
            return
        if m.route is not sv.route:  # not just a reservation extension: a new way
            offs = self._edge_offsets[sv.corridor]
            sv.legs = [(leg.start_m, leg.lane_id, offs[(leg.u, leg.v)]) for leg in m.route.legs]
            sv.leg_starts = [leg[0] for leg in sv.legs]
            zero = self._zero_nodes[sv.corridor]
            sv.route_zero_m = next((leg.start_m for leg in m.route.legs if leg.u in zero), None)
            sv.route = m.route
        zm = sv.route_zero_m
        if zm is not None and sv.brain.zero_m is not None:
            zm = sv.brain.zero_m  # the line itself lies a little past the stop line
        if zm != sv.zero_m:
            sv.zero_m, sv.zero_seen = zm, False

    # -- handoff at the zero line -----------------------------------------
    def _handoffs(self, t: float) -> None:
        for vid in sorted(self.vehicles):
            sv = self.vehicles[vid]
            if sv.zero_m is None or sv.phase != "driving":
                continue
            if sv.handoff_done:
                # Accepted, but the planner found no safe plan across yet and keeps the
                # hold: say it again now and then, which re-plans the vehicle.
                due = t - sv.handoff_retry >= RETRY_ACCEPT_S and not sv.crossed
                if due and self.fc.plan_status(vid).hold_reason == "handoff":
                    sv.handoff_retry = t
                    self.stats.accept_retries += 1
                    self._deliver(self.fc.accept_handoff(vid, t), t)
                continue
            f = sv.brain.follower
            if f is None:
                continue
            if sv.handoff_asked is None:
                if sv.zero_m - f.progress_m <= HANDOFF_REQUEST_M:
                    sv.handoff_asked = t
                    sv.handoff_answer = None
                continue
            if sv.handoff_answer is None:
                if self.peer_down.get(sv.corridor, -1.0) > t:
                    continue  # no answer while the peer is down
                lo, hi = self.cfg.peer_delay_s
                refusing = self.peer_refusing.get(sv.corridor, -1.0) > t
                sv.handoff_answer = (t + self.rng.uniform(lo, hi), not refusing)
            when, accepted = sv.handoff_answer
            if t < when:
                continue
            try:
                if accepted:
                    self._deliver(self.fc.accept_handoff(vid, t), t)
                    sv.handoff_done, sv.handoff_retry = True, t
                else:
                    self._deliver(self.fc.refuse_handoff(vid, t), t)
                    sv.handoff_asked = t  # ask again (after the refusal, at the stop line)
                    sv.handoff_answer = None
            except FleetError:
                self.stats.dispatch_errors += 1

    # -- yards, cranes and dispatch ---------------------------------------
    def _arrive(self, t: float) -> None:
        while self._arrivals and self._arrivals[-1].arrived <= t:
            c = self._arrivals.pop()
            self.consignments.append(c)
            for f in self.cfg.faults:  # a customs hold in force delays clearance
                if (
                    f.kind == "customs_hold"
                    and f.corridor in ("", c.corridor)
                    and (
                        f.goods in ("", c.kind)
                        and c.cleared >= f.at_s
                        and c.arrived < f.at_s + f.duration_s
                    )
                ):
                    c.cleared = max(c.cleared, f.at_s + f.duration_s)
            self.waiting.setdefault((c.corridor, c.origin), []).append(c)
            self._by_id[c.id] = c
            load = Load(
                c.id,
                c.corridor,
                c.origin,
                priority=GOODS[c.kind][3],
                arrived=c.arrived,
                expected_clear_s=c.cleared,  # the world knows; customs would estimate
                needs_reefer=GOODS[c.kind][3] is Priority.PERISHABLE,  # reefer boxes
            )
            for yard in self.yards.values():  # both sides know what is declared
                yard.arrive(load)
            heapq.heappush(self._clearing, (c.cleared, c.id, c.corridor))

    def _arrived(self, sv: SimVehicle) -> None:
        """The yard counted the vehicle's arrival: a new trip starts from here."""
        sv.zero_m, sv.handoff_asked, sv.handoff_answer = None, None, None
        sv.handoff_done = sv.crossed = False

    def crane(self, lift: Lift, t: float) -> float:
        """The crane at the lift's spot takes the work order; returns when it is done."""
        corridor = self.vehicles[lift.vehicle].corridor
        c = self._by_id[lift.load]
        work_s = GOODS[c.kind][2]
        start = max(t, self.crane_free.get((corridor, lift.spot), 0.0))
        end = start + work_s
        self.crane_free[(corridor, lift.spot)] = end
        key = f"{corridor}/{lift.spot}"
        self.stats.crane_busy_s[key] = self.stats.crane_busy_s.get(key, 0.0) + work_s
        if lift.kind is LiftKind.LOAD:
            for yard in self.yards.values():
                if yard is not self.yard_of(lift.vehicle):
                    yard.gone(corridor, c.id)  # loaded on the other side
            self.waiting[(corridor, c.origin)].remove(c)
            c.loaded = t
            self.vehicles[lift.vehicle].cargo = c
        self._lift_starts.append((start, lift))
        self._lift_ends.append((end, lift))
        return end

    def _world_events(self, t: float) -> None:
        """What customs and the cranes tell the yard by now (polled once a yard round)."""
        while self._clearing and self._clearing[0][0] <= t:
            _at, cid, corridor = heapq.heappop(self._clearing)
            if self._by_id[cid].loaded is None:
                for yard in self.yards.values():
                    yard.cleared(corridor, cid)
        due, self._lift_starts = _split_due(self._lift_starts, t)
        for start, lift in due:
            self.yard_of(lift.vehicle).lift_started(lift.vehicle, lift.spot, lift.load, start)
        due, self._lift_ends = _split_due(self._lift_ends, t)
        for _end, lift in due:
            self.yard_of(lift.vehicle).lift_done(lift.vehicle, lift.spot, lift.load, t)
            if lift.kind is LiftKind.UNLOAD:
                sv = self.vehicles[lift.vehicle]
                assert sv.cargo is not None
                sv.cargo.delivered = t
                sv.cargo = None

    def _yard(self, t: float, period: float) -> None:
        self._world_events(t)
        charging = self.cfg.charging
        standing = {
            vid: Standing(
                available=not (sv.broken or sv.comms_lost),
                stopped=sv.model.v < 0.1,
                soc=sv.brain.battery_soc if charging else None,
            )
            for vid, sv in self.vehicles.items()
        }
        for side in SIDES:
            self.yards[side].decide(t, standing, self._port)
        for corridor in self.spots:
            zone = 0.0
            for sv in self.vehicles.values():
                if sv.corridor == corridor and sv.zero_m is not None and sv.model.v < 0.1:
                    f = sv.brain.follower
                    if f is not None and 0.0 <= sv.zero_m - f.progress_m <= HANDOFF_ZONE_M:
                        zone = period
            self.stats.handoff_occupied_s[corridor] = (
                self.stats.handoff_occupied_s.get(corridor, 0.0) + zone
            )
        self._bay_use(period)

    def _bay_use(self, period: float) -> None:
        """Loading-bay time: a vehicle standing at the spot, and all of its places
        claimed (standing there or driving there), when no one else can be sent."""
        claims: dict[tuple[str, str], int] = {}
        standing: set[tuple[str, str]] = set()
        for o in self.vehicles.values():
            node = o.target if o.phase == "driving" else o.node
            if o.model.v < 0.1 and (o.corridor, node) in self.staging_nodes:
                at = node_attrs(self.graphs[o.corridor], node)
                if math.hypot(o.model.x - at["x"], o.model.y - at["y"]) <= STAGING_QUEUE_M:
                    o.bay_wait_s += period
            claims[(o.corridor, node)] = claims.get((o.corridor, node), 0) + 1
            if o.phase != "driving":
                standing.add((o.corridor, o.node))
        for corridor, sides in self.spots.items():
            for side, spots in sides.items():
                key = f"{corridor}/{side}"
                places = self.cfg.yard_rules.bay_places
                full = sum(1 for sp in spots if claims.get((corridor, sp), 0) >= places)
                held = sum(1 for sp in spots if (corridor, sp) in standing)
                self.stats.bay_full_s[key] = self.stats.bay_full_s.get(key, 0.0) + full * period
                self.stats.bay_occupied_s[key] = (
                    self.stats.bay_occupied_s.get(key, 0.0) + held * period
                )

    def yard_of(self, vid: str) -> Yard:
        """The yard whose side has the vehicle in its custody."""
        for yard in self.yards.values():
            if vid in yard.vehicles:
                return yard
        raise KeyError(f"vehicle {vid!r} is in no yard's custody")

    # -- faults -------------------------------------------------------------
    def _faults_due(self, t: float) -> None:
        while self._faults and self._faults[0].at_s <= t:
            self._start_fault(self._faults.pop(0), t)
        while self._ends and self._ends[0][0] <= t:
            _, _, fn = self._ends.pop(0)
            fn()

    def _later(self, at: float, fn: Callable[[], None]) -> None:
        self._n_end += 1
        self._ends.append((at, self._n_end, fn))
        self._ends.sort(key=lambda e: (e[0], e[1]))

    def _start_fault(self, f: Fault, t: float) -> None:
        end = t + f.duration_s
        if f.kind == "breakdown":
            sv = self._pick_vehicle(f)
            if sv is None:
                return
            sv.broken = True
            self._deliver(self.fc.breakdown(sv.id, t), t)

            def repair(sv: SimVehicle = sv) -> None:
                sv.broken = False
                self._deliver(self.fc.repaired(sv.id, self.t), self.t)

            self._later(end, repair)
        elif f.kind == "comms_loss":
            sv = self._pick_vehicle(f)
            if sv is None:
                return
            sv.comms_lost = True

            def restore(sv: SimVehicle = sv) -> None:
                sv.comms_lost = False

            self._later(end, restore)
        elif f.kind == "obstacle":
            x, y = self.lane_point(f.corridor, f.lane, f.s_m)
            self.obstacles.append((f.corridor, x, y, t, end))
        elif f.kind == "lane_closure":
            self._deliver(self.fc.close_lane(f.corridor, f.lane, t, "scenario"), t)
            self._later(
                end, lambda: self._deliver(self.fc.reopen_lane(f.corridor, f.lane, self.t), self.t)
            )
        elif f.kind == "peer_down":
            self.peer_down[f.corridor] = end
        elif f.kind == "peer_refusing":
            self.peer_refusing[f.corridor] = end
        elif f.kind in ("customs_hold", "demand_surge"):
            pass  # applied where consignments arrive / are generated
        else:
            raise ValueError(f"unknown fault kind {f.kind!r}")

    def _pick_vehicle(self, f: Fault) -> SimVehicle | None:
        if f.vehicle and f.vehicle != "export-lane":
            return self.vehicles[f.vehicle]
        best = None
        for sv in sorted(self.vehicles.values(), key=lambda v: v.id):
            if f.corridor and sv.corridor != f.corridor:
                continue
            if sv.lane_id == "E-AUTO" and sv.model.v > 0.5 and sv.zero_m is not None:
                f_ = sv.brain.follower
                short = f_ is not None and sv.zero_m - f_.progress_m > 100.0
                if short and (best is None or sv.lane_s > best.lane_s):
                    best = sv
        return best

    def lane_point(self, corridor: str, lane: str, s_m: float) -> tuple[float, float]:
        """The map point ``s_m`` along ``lane`` (its edges' offsets and geometry)."""
        g = self.graphs[corridor]
        for _u, _v, d in edges_with(g):
            if d["lane_id"] == lane and d["offset_m"] <= s_m <= d["offset_m"] + d["length_m"]:
                p = d["geometry"].interpolate(s_m - d["offset_m"])
                return float(p.x), float(p.y)
        raise ValueError(f"{corridor}: no point {s_m} m along lane {lane!r}")

    # -- output -------------------------------------------------------------
    def _write_trace(self, t: float) -> None:
        assert self.trace is not None
        rows = []
        for vid in sorted(self.vehicles):
            sv = self.vehicles[vid]
            m = sv.model
            rows.append(
                f"{t:.2f},{vid},{sv.lane_id},{sv.lane_s:.2f},{m.x:.2f},{m.y:.2f},{m.v:.3f}\n"
            )
        self.trace.write("".join(rows))

    def result(self) -> SimResult:
        """What the run produced so far, as plain data: a snapshot (copied, so stepping on
        does not change it) that pickles, summarises and merges with other corridors'."""
        # One deepcopy, so waiting consignments stay the objects in ``consignments``.
        stats, waiting, consignments, spots = copy.deepcopy(
            (self.stats, self.waiting, self.consignments, self.spots)
        )
        return SimResult(
            t=self.t,
            cfg=self.cfg,
            corridors=tuple(self.graphs),
            vehicles={
                vid: VehicleTally(
                    vid,
                    sv.corridor,
                    sv.busy_s,
                    sv.idle_s,
                    sv.moving_s,
                    sv.bay_wait_s,
                    sv.brain.energy_used_kwh,
                    sv.empty_s,
                    sv.brain.battery_soc,
                )
                for vid, sv in self.vehicles.items()
            },
            stats=stats,
            waiting=waiting,
            consignments=consignments,
            spots=spots,
        )

    def summary(self) -> dict[str, Any]:
        """Outcome figures the report and the scenario checks use."""
        return self.result().summary()


class _SimYardPort:
    """The yard's decisions, carried out in the simulated world: routes through the
    fleet control to the vehicles, lifts by the cranes."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def send_to(self, vehicle_id: str, goal: str, priority: Priority, now: float) -> bool:
        try:
            cmds = self.sim.fc.send_to(vehicle_id, goal, now, priority)
        except FleetError:
            self.sim.stats.dispatch_errors += 1
            return False
        self.sim._deliver(cmds, now)
        return True

    def order_lift(self, lift: Lift, now: float) -> float:
        return self.sim.crane(lift, now)


# ---------------------------------------------------------------- helpers
def _split_due(
    events: list[tuple[float, Lift]], t: float
) -> tuple[list[tuple[float, Lift]], list[tuple[float, Lift]]]:
    """(those due by ``t``, in vehicle order; the rest)."""
    due = sorted((e for e in events if e[0] <= t), key=lambda e: e[1].vehicle)
    return due, [e for e in events if e[0] > t]


def _home_nodes(g: nx.DiGraph, spots: dict[str, list[str]]) -> list[str]:
    """Where vehicles may start: each loading spot, then the parking, charging and
    inspection bays, then nodes along the guide lanes (those are dispatched into a
    yard first or queue at the staging point), alternating sides."""
    out: list[str] = []
    for vn, cn in zip(spots["VN"], spots["CN"], strict=False):
        out += [vn, cn]
    for kind in ("parking", "charging", "inspection"):
        for side in ("VN", "CN"):
            out += spots_of(g, kind, side)
    for lane in ("I-AUTO", "E-AUTO"):
        placed: list[float] = []
        edges = sorted(
            (d["offset_m"] + d["length_m"], v) for _u, v, d in edges_with(g) if d["lane_id"] == lane
        )
        for s_end, v in edges:
            tags = node_attrs(g, v)["tags"]
            if "stop_line" in tags or "lane_end" in tags or g.out_degree(v) != 1:
                continue
            if s_end < 60.0 or any(abs(s_end - p) < 30.0 for p in placed):
                continue
            placed.append(s_end)
            out.append(v)
    return out


def _lane_of_node(g: nx.DiGraph, node: str) -> tuple[str, float]:
    """The lane a standing vehicle's front is on, and how far along it."""
    for u, v in sorted(g.in_edges(node)):
        d = edge_attrs(g, u, v)
        return d["lane_id"], d["offset_m"] + d["length_m"]
    for u, v in sorted(g.out_edges(node)):
        d = edge_attrs(g, u, v)
        return d["lane_id"], d["offset_m"]
    return "", 0.0


def _neighbours(group: list[SimVehicle], dt: float) -> list[list[SimVehicle]]:
    """Per vehicle, the others that its sensor could see during the next ``dt``, in
    ``group`` order: those within sensor range plus a body length of it on both axes,
    with what either can move in ``dt`` to spare. The sensor then checks only a few
    vehicles instead of the whole corridor (its own test decides, so what it sees is
    unchanged). O(V log V + P) for V vehicles and P pairs near each other."""
    n = len(group)
    reach = 1.0 + max(
        (
            SENSOR_RANGE_M + sv.model.params.length_m + 2 * sv.model.params.max_speed_mps * dt
            for sv in group
        ),
        default=0.0,
    )
    xs = [sv.model.x for sv in group]
    ys = [sv.model.y for sv in group]
    by_x = sorted(range(n), key=xs.__getitem__)
    near: list[list[int]] = [[] for _ in range(n)]
    for a, i in enumerate(by_x):
        xi, yi = xs[i], ys[i]
        for b in range(a + 1, n):
            j = by_x[b]
            if xs[j] - xi > reach:
                break
            if abs(ys[j] - yi) <= reach:
                near[i].append(j)
                near[j].append(i)
    return [[group[j] for j in sorted(ix)] for ix in near]


def _sensor(
    sv: SimVehicle, group: list[SimVehicle], obstacles: list[tuple[float, float]]
) -> tuple[float | None, float]:
    """Free distance ahead of the front (other vehicles' bodies and obstacles inside a
    corridor one body wide along the heading, within the sensor's range) and the speed
    of what is there along our heading (0 for an obstacle)."""
    m = sv.model
    if m.v < 0.05 and sv.brain.follower is None:
        return None, 0.0
    c, s = math.cos(m.yaw), math.sin(m.yaw)
    best: float | None = None
    best_v = 0.0
    half_w = m.params.width_m / 2 + 0.5
    points: list[tuple[float, float, float]] = [(x, y, 0.0) for x, y in obstacles]
    for o in group:
        if o is sv:
            continue
        om = o.model
        dx, dy = om.x - m.x, om.y - m.y
        if (
            abs(dx) > SENSOR_RANGE_M + om.params.length_m
            or abs(dy) > SENSOR_RANGE_M + om.params.length_m
        ):
            continue
        oc, os_ = math.cos(om.yaw), math.sin(om.yaw)
        away = om.v * (oc * c + os_ * s)
        # Sample the other body from its front to its rear.
        for k in (0.0, 0.25, 0.5, 0.75, 1.0):
            lk = om.params.length_m * k
            points.append((om.x - oc * lk, om.y - os_ * lk, away))
    for px, py, pv in points:
        dx, dy = px - m.x, py - m.y
        ahead = dx * c + dy * s
        if ahead <= 0.0 or ahead > SENSOR_RANGE_M:
            continue
        if abs(-dx * s + dy * c) <= half_w and (best is None or ahead < best):
            best, best_v = ahead, pv
    return best, best_v


def load_world(
    corridors: Iterable[str],
) -> tuple[dict[str, nx.DiGraph], dict[str, list[tuple[float, float]]]]:
    """Guide graphs and zero lines of the corridors shipped with smartgate."""
    from maps.corridors import load_corridors

    maps, graphs = load_corridors(tuple(corridors))
    zero = {c: [(float(x), float(y)) for x, y in maps[c].zero_line.coords] for c in graphs}
    return graphs, zero


def status_of(sim: Simulator, vid: str) -> VehicleStatus:
    return sim.fc.core.vehicles[vid].status


def mission_active(sim: Simulator, vid: str) -> bool:
    m = sim.fc.core.vehicles[vid].mission
    return m is not None and m.status is MissionStatus.ACTIVE
