"""The consignment desk: intake, clearance, dispatch and trips, each step persisted.

A thin adapter around the pure core (``fleet.cargo.consignments``, ``fleet.cargo.declarations``,
``fleet.cargo.dispatch``): it decides nothing the core does not, it only puts the
core's decisions into the database and the fleet, in that order. Every change
to a consignment is one transaction (state, transitions, log entries), written
before any command goes out; so after a crash at any instant the database
says at least as much as the vehicles were told, and the vehicles' own
reports settle the rest.

The yard's decisions are the core's yard operations (:class:`fleet.yard.policy.Yard`,
the VN side's: the same rules the simulator's capacity figures come from): where a
free vehicle goes (the staging point, a bay with room, a charger), and which waiting
consignment a vehicle idle at a loading spot takes (the production dispatcher's
choice). A consignment is bound to a vehicle when that lift is ordered; the crane
system or a yard operator reports the lift done, and it is loaded.

From then on the consignment's trip is driven by :meth:`ConsignmentDesk.tick` from
the bound vehicle's reports, by the core's trip rules (:mod:`fleet.cargo.trips`:
where the vehicle should stand next, what happens when it stands there, a lost
vehicle): the same rules run in normal operation and in recovery. The yard's "send
it across" for a loaded vehicle is that trip: to the stop line, then the handoff.

The gate: only ``queued`` consignments whose clearance is complete become dispatch
jobs (``fleet.cargo.dispatch.job_from_consignment``), and the lifecycle refuses every
step toward the line without clearance; a clearance withdrawn on the way holds
the consignment.

Crash safety: at start the desk loads every consignment not yet received.
Those bound to a vehicle are *recovering*: no new dispatch happens until each
has been reconciled with its vehicle's report, or its vehicle stayed silent
for ``recovery_timeout_s`` and it was held for attention.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import networkx as nx

from fleet.cargo import trips
from fleet.cargo.consignments import (
    Consignment,
    ConsignmentError,
    ConsignmentState,
    Direction,
    LabTest,
    clearance_problems,
    transition,
)
from fleet.cargo.consignments import release as release_consignment
from fleet.cargo.declarations import DeclarationError, conflicting_fields, parse_declaration
from fleet.cargo.dispatch import (
    REEFER,
    Job,
    NotDispatchable,
    TravelTimes,
    job_from_consignment,
)
from fleet.traffic.planner import Priority
from fleet.vehicles import GUIDE_VEHICLE
from fleet.yard.layout import LayoutError, YardLayout
from fleet.yard.policy import (
    Equipment,
    Lift,
    LiftEvent,
    LiftKind,
    Load,
    Phase,
    Standing,
    Yard,
    YardError,
    YardRules,
    lift_event,
)
from maps.queries import nearest_node, spot
from smartgate.storage.store import ConsignmentRecord, DuplicateConsignment, Store, StoreConflict

if TYPE_CHECKING:
    from smartgate.services.orchestrator import Orchestrator

S = ConsignmentState
DESK = "smartgate:desk"
RECOVERY = "smartgate:recovery"
INSPECTION_SPOT = "X1"  # name of the spot a held consignment is unloaded at
SIDES = ("VN", "CN")
HOME = "VN"  # the side whose gate this desk runs
NOT_LOADED = trips.NOT_LOADED
# What the yard is told a lift takes when it orders one (it breaks ties between
# bays by when their crane is free); the crane system's reports say when it really ends.
NOMINAL_LIFT_S = 90.0
# A bound vehicle the yard sends across goes by its consignment's trip (stop line,
# handoff) once the goods are on it.
ON_THE_WAY_ACROSS = frozenset({S.LOADED, S.IN_TRANSIT, S.AT_ZERO_LINE})

__all__ = [
    "ConsignmentDesk",
    "DeclarationError",
    "DeskError",
    "FleetPort",
    "IntakeConflict",
    "IntakeResult",
    "OrchestratorFleet",
    "UnknownConsignment",
    "VehicleProfile",
    "VehicleSnapshot",
    "attach_desk",
    "desk_for",
]


class DeskError(ValueError):
    """A request the desk refuses; the message is for the requester."""


class UnknownConsignment(DeskError):
    pass


class UnknownReference(DeskError):
    """An event naming a vehicle or loading spot the desk does not know."""


class IntakeConflict(DeskError):
    """A resend of a known declaration (or id) that differs from what is stored."""

    def __init__(self, existing_id: str, fields: list[str]) -> None:
        self.existing_id = existing_id
        self.fields = fields
        super().__init__(
            f"declaration conflicts with consignment {existing_id} already received: "
            f"different {', '.join(fields)}"
        )


@dataclass(frozen=True)
class VehicleSnapshot:
    """What the fleet reports about one vehicle, as the desk needs it."""

    id: str
    corridor: str
    online: bool  # reporting now
    busy: bool  # driving (a mission, or still moving)
    node: str | None  # guide-graph node it stands at, when stopped on one


class FleetPort(Protocol):
    """The desk's view of the fleet: reports in, go-to commands out."""

    def snapshots(self) -> Mapping[str, VehicleSnapshot]: ...

    def send_to(
        self, vehicle_id: str, goal: str, now: float, priority: Priority | None = None
    ) -> None:
        """Plan and send; ``priority``: the traffic priority of what it carries."""
        ...


@dataclass(frozen=True)
class VehicleProfile:
    """Registry data the dispatcher needs and vehicles do not report (yet)."""

    corridor: str
    home_node: str
    charging_node: str
    capabilities: frozenset[str] = frozenset({REEFER})
    battery_soc: float = 1.0
    battery_kwh: float = GUIDE_VEHICLE.battery_kwh
    consumption_kwh_per_km: float = GUIDE_VEHICLE.consumption_kwh_per_km

    @property
    def equipment(self) -> Equipment:
        """What the yard's dispatcher checks of it."""
        return Equipment(self.capabilities, self.battery_kwh, self.consumption_kwh_per_km)


@dataclass(frozen=True)
class IntakeResult:
    record: ConsignmentRecord
    created: bool  # False: the same declaration was already here (an idempotent resend)


class ConsignmentDesk:
    def __init__(
        self,
        store: Store,
        fleet: FleetPort,
        travel: TravelTimes,
        corridors: Collection[str],
        graphs: Mapping[str, nx.DiGraph],
        *,
        clock: Callable[[], float] = time.time,
        recovery_timeout_s: float = 60.0,
        resend_after_s: float = 15.0,
        yard_rules: YardRules | None = None,
    ) -> None:
        """``graphs``: corridor -> guide graph (its yards: loading spots, staging
        points, chargers, inspection spots).

        ``clock`` stamps the records and times the yard's rules (wall-clock seconds by
        default, so events keep going forward across restarts); the fleet's own time
        is passed to :meth:`tick`. Raises :class:`DeskError` for a map whose yards the
        yard rules cannot work with (no loading spot on a side, no staging point).
        """
        self.store = store
        self.fleet = fleet
        self.travel = travel
        self.corridors = frozenset(corridors)
        try:
            layouts = {c: YardLayout.from_graph(c, g) for c, g in graphs.items()}
        except LayoutError as e:
            raise DeskError(f"the yard cannot run on this map: {e}") from None
        # Both yards until a handoff link says custody passes at km 0 (custody_at_km0).
        self.yard = Yard(layouts, travel, yard_rules or YardRules(), side=None)
        self._port = _DeskYardPort(self)
        self._fleet_now = 0.0
        self._noted: set[tuple[str, str]] = set()  # (vehicle, goal) refusals already logged
        self._inspection = {
            c: {side: spot(g, side, INSPECTION_SPOT) for side in SIDES} for c, g in graphs.items()
        }
        self._all_loading = {  # corridor -> its loading spots, both sides (fixed graphs)
            c: {n for spots in lay.spots.values() for n in spots} for c, lay in layouts.items()
        }
        self.clock = clock
        self.recovery_timeout_s = recovery_timeout_s
        self.resend_after_s = resend_after_s
        self.lock = threading.RLock()
        self.records: dict[str, ConsignmentRecord] = {}
        self.profiles: dict[str, VehicleProfile] = {}
        self.recovering: set[str] = set()
        self._recovery_started: float | None = None
        self._sent: dict[str, tuple[str, float]] = {}  # vehicle -> (goal, clock time sent)
        self._after_commit: list[Callable[[], object]] = []  # commands held until the commit
        # Vehicles in the other side's custody (set by the handoff agent): never dispatched.
        self.away: frozenset[str] = frozenset()
        self.load()

    # -- start ------------------------------------------------------------------
    def custody_at_km0(self) -> None:
        """A handoff link runs with the other side: from now on the yard decides for the
        vehicles in VN custody only, and a vehicle the other side took at km 0 is theirs
        until it stands on VN ground again (the link's return). Without a link the VN
        operator runs both yards, as one controller room coordinating by phone would.
        Called once, before the first round."""
        self.yard.side = HOME

    def load(self) -> None:
        """Read every consignment not yet received; bound ones must be recovered first."""
        with self.lock:
            recs = self.store.consignments(exclude_states=[S.RECEIVED.value])
            self.records = {r.id: r for r in recs}
            self.recovering = {r.id for r in recs if r.vehicle_id is not None}
            self._recovery_started = None
            for vid, row in self.store.vehicles().items():
                if row.home_node and row.charging_node:
                    self.profiles[vid] = VehicleProfile(
                        corridor=row.corridor,
                        home_node=row.home_node,
                        charging_node=row.charging_node,
                        capabilities=frozenset(row.capabilities or ()),
                        battery_soc=row.battery_soc if row.battery_soc is not None else 1.0,
                        battery_kwh=row.battery_kwh or GUIDE_VEHICLE.battery_kwh,
                        consumption_kwh_per_km=row.consumption_kwh_per_km
                        or GUIDE_VEHICLE.consumption_kwh_per_km,
                    )

    def register_vehicle(
        self, vehicle_id: str, corridor: str, home_node: str, **profile: Any
    ) -> VehicleProfile:
        """Add or update a vehicle in the registry (persisted); charging defaults to home."""
        p = VehicleProfile(
            corridor=corridor,
            home_node=home_node,
            charging_node=profile.pop("charging_node", None) or home_node,
            **profile,
        )
        with self.lock:
            self.store.register_vehicle(
                vehicle_id,
                corridor,
                home_node=p.home_node,
                charging_node=p.charging_node,
                capabilities=sorted(p.capabilities),
                battery_soc=p.battery_soc,
                battery_kwh=p.battery_kwh,
                consumption_kwh_per_km=p.consumption_kwh_per_km,
            )
            self.profiles[vehicle_id] = p
        return p

    # -- intake -----------------------------------------------------------------
    def intake(self, data: object, *, actor: str) -> IntakeResult:
        """Validate and store a declaration; the same one again returns the stored one.

        Raises :class:`DeclarationError` (invalid) or :class:`IntakeConflict` (a
        known declaration number or id with different content).
        """
        with self.lock:
            result = intake(
                self.store, data, corridors=self.corridors, now=self.clock(), actor=actor
            )
            if result.created:
                self.records[result.record.id] = result.record
                return result
            return IntakeResult(self.records.get(result.record.id, result.record), created=False)

    # -- clearance and holds ------------------------------------------------------
    def customs(self, cid: str, *, cleared: bool, actor: str, reason: str) -> ConsignmentRecord:
        def apply(rec: ConsignmentRecord, now: float) -> None:
            rec.consignment.customs_cleared = cleared
            self._after_clearance(rec, now, actor, f"customs: {reason}", granted=cleared)

        return self._change(cid, apply)

    def quarantine(
        self, cid: str, *, cleared: bool, certificate: str | None, actor: str, reason: str
    ) -> ConsignmentRecord:
        def apply(rec: ConsignmentRecord, now: float) -> None:
            c = rec.consignment
            c.quarantine_cleared = cleared
            if certificate is not None:
                c.quarantine_certificate = certificate
            self._after_clearance(rec, now, actor, f"quarantine: {reason}", granted=cleared)

        return self._change(cid, apply)

    def lab_certificate(
        self, cid: str, *, test: LabTest, certificate: str | None, actor: str, reason: str
    ) -> ConsignmentRecord:
        """Record (or, with None, withdraw) a lab certificate, e.g. durian's cadmium test."""

        def apply(rec: ConsignmentRecord, now: float) -> None:
            labs = rec.consignment.lab_certificates
            if certificate is None:
                labs.pop(test, None)
            else:
                labs[test] = certificate
            self._after_clearance(
                rec, now, actor, f"lab {test.value}: {reason}", granted=certificate is not None
            )

        return self._change(cid, apply)

    def set_priority(
        self, cid: str, priority: int, *, actor: str, reason: str
    ) -> ConsignmentRecord:
        """Re-prioritise (0..9): the dispatcher serves higher first among goods equally
        perishable. Not a lifecycle transition, so it goes to the desk's event log."""
        if not 0 <= priority <= 9:
            raise DeskError(f"priority must be 0..9, not {priority}")

        def apply(rec: ConsignmentRecord, now: float) -> None:
            before = rec.consignment.priority
            rec.consignment.priority = priority
            entry = {"event": "consignment_reprioritised", "consignment_id": cid, "t": now}
            entry |= {"from": before, "to": priority, "actor": actor, "reason": reason}
            rec.log.append(entry)

        return self._change(cid, apply)

    def hold(self, cid: str, *, actor: str, reason: str) -> ConsignmentRecord:
        return self._change(cid, lambda rec, now: self._hold(rec, now, actor, reason))

    def release(self, cid: str, *, actor: str, reason: str) -> ConsignmentRecord:
        def apply(rec: ConsignmentRecord, now: float) -> None:
            c = rec.consignment
            if c.state is not S.HELD:
                raise DeskError(f"consignment {cid} is {c.state}, not held")
            release_consignment(c, now=now, actor=actor, reason=reason)
            rec.attention = None  # released to cleared: the next tick queues it

        return self._change(cid, apply)

    def handover(
        self,
        cid: str,
        *,
        accepted: bool,
        actor: str,
        reason: str,
        attention: str | None = None,
        release_vehicle: bool = True,
    ) -> ConsignmentRecord:
        """The other side's answer at the zero line: custody passes, or it is refused.

        ``attention``: what an operator must know (e.g. the vehicle holds at the stop line
        because the map has no way back before km 0), shown with the record.
        ``release_vehicle``: on acceptance, let the vehicle cross with its load (False when
        the caller, the handoff link, does that itself)."""

        def apply(rec: ConsignmentRecord, now: float) -> None:
            self._step(rec, S.HANDED_OVER if accepted else S.REFUSED, now, actor, reason)
            if attention is not None:
                rec.attention = attention
            if accepted:
                vid = rec.vehicle_id
                self._unbind(rec, now, "custody passed to the other side")
                cross = getattr(self.fleet, "let_cross", None)  # the vehicle goes with it
                if vid is not None:  # out of the VN yard's custody at km 0
                    self._after_commit.append(lambda: self._handed_over(vid, now))
                if vid is not None and cross is not None and release_vehicle:
                    self._after_commit.append(lambda: cross(vid, rec.consignment.id))

        return self._change(cid, apply)

    def received(self, cid: str, *, actor: str, reason: str) -> ConsignmentRecord:
        rec = self._change(cid, lambda r, now: self._step(r, S.RECEIVED, now, actor, reason))
        with self.lock:
            self.records.pop(cid, None)  # final: no longer the desk's business
        return rec

    # -- the yard's cranes ------------------------------------------------------------
    def lift(
        self, cid: str, *, vehicle_id: str, spot: str, event: LiftEvent, actor: str, reason: str
    ) -> ConsignmentRecord:
        """A crane's (or a yard operator's) report on the lift ordered for ``cid``.

        ``done`` for a loading lift makes the consignment loaded. The same report
        again changes nothing and returns the record; one naming an unknown vehicle or
        spot raises :class:`UnknownReference`, one that does not fit the lift ordered
        (another vehicle, spot or consignment; done before started; none ordered)
        raises :class:`DeskError`; either way nothing changes."""
        with self.lock:
            rec = self.get(cid)
            self._known_vehicle(vehicle_id)
            if spot not in self._all_loading.get(rec.consignment.corridor, set()):
                raise UnknownReference(
                    f"no loading spot {spot!r} on corridor {rec.consignment.corridor}"
                )
            if self._lift_after(rec, vehicle_id, spot, event) is None:
                return rec  # a repeat: already known

            def apply(r: ConsignmentRecord, now: float) -> None:
                after = self._lift_after(r, vehicle_id, spot, event, now)
                if after is None:
                    return
                self._lifted(r, after, event, now, actor, reason)

            return self._change(cid, apply)

    def confirm_loaded(self, cid: str, *, actor: str, reason: str) -> ConsignmentRecord:
        """A yard operator confirms the lift the desk ordered (no crane system to say
        it): loading, or unloading a refused consignment brought back; the lift started
        and is done, now."""
        with self.lock:
            rec = self.get(cid)
            lift = rec.lift
            if (
                lift is None
                or not lift.pending
                or rec.consignment.state not in (S.QUEUED, S.REFUSED)
            ):
                raise DeskError(
                    f"consignment {cid} is {rec.consignment.state} with no loading ordered: "
                    "its vehicle has not reached the loading spot"
                )

            def apply(r: ConsignmentRecord, now: float) -> None:
                for event in (LiftEvent.STARTED, LiftEvent.DONE):
                    after = self._lift_after(r, lift.vehicle, lift.spot, event, now)
                    if after is not None:
                        self._lifted(r, after, event, now, actor, reason)

            return self._change(cid, apply)

    def open_lifts(self) -> list[ConsignmentRecord]:
        """Consignments whose lift is ordered and not yet done: the cranes' work list."""
        with self.lock:
            recs = [r for r in self.records.values() if r.lift is not None and r.lift.pending]
        return sorted(recs, key=lambda r: (r.lift.ordered_at if r.lift else 0.0, r.id))

    def _lift_after(
        self,
        rec: ConsignmentRecord,
        vehicle_id: str,
        spot: str,
        event: LiftEvent,
        now: float = 0.0,
    ) -> Lift | None:
        try:
            return lift_event(rec.lift, event, vehicle_id, spot, rec.id, now)
        except YardError as e:
            raise DeskError(f"consignment {rec.id}: {e}") from None

    def _lifted(
        self,
        rec: ConsignmentRecord,
        lift: Lift,
        event: LiftEvent,
        now: float,
        actor: str,
        reason: str,
    ) -> None:
        rec.lift = lift
        entry = {"event": f"lift_{event.value}", "consignment_id": rec.id, "t": now}
        entry |= {"vehicle_id": lift.vehicle, "spot": lift.spot, "actor": actor}
        rec.log.append(entry | {"reason": reason})
        self._after_commit.append(lambda: self._yard_lift_event(lift, event, now))
        if event is LiftEvent.DONE and lift.kind is LiftKind.LOAD:
            why = f"lifted onto vehicle {lift.vehicle} at {lift.spot}: {reason}"
            self._step(rec, S.LOADED, now, actor, why)
        elif event is LiftEvent.DONE and rec.consignment.state is S.REFUSED:
            why = f"lifted off vehicle {lift.vehicle} at {lift.spot}, back in the yard: {reason}"
            self._step(rec, S.RETURNED, now, actor, why)
            self._unbind(rec, now, "returned to the yard")

    def _known_vehicle(self, vehicle_id: str) -> None:
        if vehicle_id in self.profiles or vehicle_id in self.fleet.snapshots():
            return
        raise UnknownReference(f"unknown vehicle {vehicle_id!r}")

    # -- reads ------------------------------------------------------------------
    def get(self, cid: str) -> ConsignmentRecord:
        with self.lock:
            rec = self.records.get(cid)
        if rec is None:
            rec = self.store.consignment(cid)
        if rec is None:
            raise UnknownConsignment(f"unknown consignment {cid!r}")
        return rec

    def find(
        self,
        *,
        state: str | None = None,
        corridor: str | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[ConsignmentRecord]:
        return self.store.consignments(
            states=[state] if state else [], corridor=corridor, limit=limit, offset=offset
        )

    # -- the loop -----------------------------------------------------------------
    def tick(self, fleet_now: float) -> None:
        """One round: recover, advance trips, queue cleared ones, then dispatch.

        ``fleet_now`` is the fleet's clock, passed on with commands.
        """
        with self.lock:
            snaps = self.fleet.snapshots()
            now = self.clock()
            if self.recovering and self._recovery_started is None:
                self._recovery_started = now
                self._log(now, {"event": "recovery_started", "bound": sorted(self.recovering)})
            for rec in sorted(self.records.values(), key=lambda r: r.id):
                if rec.vehicle_id is not None:
                    self._guarded(self._trip, rec, snaps.get(rec.vehicle_id), fleet_now)
            if self.recovering:
                return  # nothing new moves until every vehicle in flight is accounted for
            for rec in sorted(self.records.values(), key=lambda r: r.id):
                c = rec.consignment
                if c.state is S.CLEARED and not clearance_problems(c):
                    self._guarded(
                        self._change,
                        rec.id,
                        lambda r, t: self._step(r, S.QUEUED, t, DESK, "waiting in the yard"),
                    )
            self._yard_round(snaps, fleet_now)

    def _guarded(self, fn: Callable[..., object], *args: Any) -> None:
        """Run one consignment's step; a refusal is logged and retried next tick, and
        does not stop the others."""
        try:
            fn(*args)
        except (ConsignmentError, StoreConflict, DeskError) as e:
            self._log(self.clock(), {"event": "desk_step_failed", "why": str(e)})

    def _trip(self, rec: ConsignmentRecord, snap: VehicleSnapshot | None, fleet_now: float) -> None:
        vid = rec.vehicle_id
        assert vid is not None
        c = rec.consignment
        now = self.clock()
        if snap is None or not snap.online:
            if rec.id in self.recovering and self._recovery_timed_out(now):
                self._change(rec.id, lambda r, t: self._lost(r, t))
                self._recovered(rec.id, now, f"vehicle {vid} silent: given up")
            return
        if snap.busy:
            self._recovered(rec.id, now, "its vehicle is driving")
            return
        trip = self._trip_of(rec)
        target = trips.target(trip)
        if target is None:
            self._recovered(rec.id, now, "nothing to do")
            return
        if snap.node == target:
            waits = trips.waiting_there(trip)
            if waits is None:
                self._change(rec.id, lambda r, t: self._apply(r, t, fleet_now, trips.arrived))
            self._recovered(rec.id, now, f"vehicle {vid} reported at {target}")
            return
        sent = self._sent.get(vid)
        if sent is None or sent[0] != target or now - sent[1] >= self.resend_after_s:
            self._send(vid, target, fleet_now, now, why=f"{c.id} is {c.state}")
        self._recovered(rec.id, now, f"vehicle {vid} sent to {target}")

    def _trip_of(self, rec: ConsignmentRecord) -> trips.Trip:
        c = rec.consignment
        assert rec.vehicle_id is not None
        return trips.Trip(
            state=c.state,
            direction=c.direction,
            vehicle=rec.vehicle_id,
            pickup=rec.pickup,
            inspection=self._inspection_spot(c),
            attention=rec.attention is not None,
            lift_pending=rec.lift is not None and rec.lift.pending,
        )

    def _apply(
        self,
        rec: ConsignmentRecord,
        now: float,
        fleet_now: float,
        rule: Callable[[trips.Trip], trips.Outcome],
        actor: str = DESK,
    ) -> None:
        """Put a trip rule's outcome into ``rec`` (inside :meth:`_change`); the command it
        gives goes out after the commit."""
        out = rule(self._trip_of(rec))
        c, vid = rec.consignment, rec.vehicle_id
        assert vid is not None
        if out.attention is not None:
            rec.attention = out.attention
        for state, reason in out.steps:
            self._step(rec, state, now, actor, reason)
        if out.order_lift or out.order_unload:
            assert rec.pickup is not None  # bound with its pickup
            kind = LiftKind.UNLOAD if out.order_unload else LiftKind.LOAD
            rec.lift = Lift(vid, rec.pickup, c.id, kind, now)
            entry = {"event": "lift_ordered", "consignment_id": c.id, "t": now}
            rec.log.append(entry | {"vehicle_id": vid, "spot": rec.pickup, "kind": kind.value})
        if out.send_to is not None:
            drop = out.send_to
            rec.log.append({"event": "consignment_sent", "consignment_id": c.id, "t": now})
            prio = _traffic_priority(c)  # to the line and across: its cargo's priority
            self._after_commit.append(
                lambda: self._send(vid, drop, fleet_now, now, why=c.id, prio=prio)
            )
        if out.free is not None:
            self._unbind(rec, now, out.free)

    def _lost(self, rec: ConsignmentRecord, now: float) -> None:
        why = (
            f"vehicle {rec.vehicle_id} did not report within {self.recovery_timeout_s:g} s "
            "after a restart"
        )
        self._apply(rec, now, 0.0, lambda trip: trips.lost(trip, why), actor=RECOVERY)

    def _recovery_timed_out(self, now: float) -> bool:
        start = self._recovery_started
        return start is not None and now - start >= self.recovery_timeout_s

    def _recovered(self, cid: str, now: float, how: str) -> None:
        if cid in self.recovering:
            self.recovering.discard(cid)
            self._log(now, {"event": "consignment_recovered", "consignment_id": cid, "how": how})
            if not self.recovering:
                self._log(now, {"event": "recovery_complete"})

    # -- the yard -------------------------------------------------------------------
    def _yard_round(self, snaps: Mapping[str, VehicleSnapshot], fleet_now: float) -> None:
        """Tell the yard what the fleet and the desk know, let it decide, log why."""
        now = self.clock()
        self._fleet_now = fleet_now
        bound = {r.vehicle_id: r for r in self.records.values() if r.vehicle_id is not None}
        self._sync_vehicles(snaps, bound, now)
        self._sync_loads()
        # Only a vehicle standing still is decided for: one driving (a trip, a controller's
        # manual drive) is where the yard last saw it only when it stops again.
        standing = {
            vid: Standing(
                available=s.online and not s.busy and vid not in self.away, stopped=not s.busy
            )
            for vid, s in snaps.items()
        }
        self.yard.decide(now, standing, self._port)
        bound = {r.vehicle_id: r for r in self.records.values() if r.vehicle_id is not None}
        for d in self.yard.take_decisions():
            detail, rec = d.detail, bound.get(d.vehicle)
            if d.what == "send" and rec is not None:  # it goes by its trip: say where
                detail = trips.target(self._trip_of(rec)) or detail
            self._log(
                d.at,
                {
                    "event": "yard_decision",
                    "vehicle_id": d.vehicle,
                    "what": d.what,
                    "detail": detail,
                    "why": d.why,
                },
            )

    def _sync_vehicles(
        self,
        snaps: Mapping[str, VehicleSnapshot],
        bound: Mapping[str, ConsignmentRecord],
        now: float,
    ) -> None:
        """The yard's vehicles as the reports and the desk's records say: custody,
        arrivals, trips that ended without crossing, and commands to repeat."""
        y = self.yard
        for vid, s in sorted(snaps.items()):
            p = self.profiles.get(vid)
            if p is None or s.corridor not in y.layouts:
                continue
            v = y.vehicles.get(vid)
            rec = bound.get(vid)
            if vid in self.away:  # in the other side's custody
                self._handed_over(vid, now)
                continue
            if not s.online or s.busy or s.node is None:
                continue  # the yard decides on a vehicle standing at a known place
            try:
                if v is None and vid in y.away:
                    if y.layouts[s.corridor].side_of(s.node) == HOME:  # back: ours again
                        y.take_over(vid, s.corridor, s.node, None, now)
                        y.arrived(vid, s.node, now, self._port)
                elif v is None:
                    load = self._load_of(rec) if rec is not None else None
                    lift = rec.lift if rec is not None and load is not None else None
                    y.add_vehicle(vid, s.corridor, s.node, now, p.equipment, load=load, lift=lift)
                elif v.load is not None and (rec is None or rec.id != v.load.id):
                    y.freed(vid, s.node, now)  # its trip ended on this side
                elif v.phase is Phase.DRIVING and rec is None:
                    if s.node == v.target:
                        y.arrived(vid, s.node, now, self._port)
                    else:
                        sent = self._sent.get(vid)
                        if sent is None or now - sent[1] >= self.resend_after_s:
                            self._send(vid, v.target, self._fleet_now, now, why="yard: again")
                elif rec is None and v.load is None and s.node != v.node:
                    y.freed(vid, s.node, now)  # moved by someone else (a controller)
            except YardError as e:  # e.g. standing on the far side's ground: not ours
                self._note(vid, s.node, now, str(e))

    def _sync_loads(self) -> None:
        """The yard's waiting lists: the queued consignments no vehicle has."""
        y = self.yard
        want = {
            r.id: r
            for r in self.records.values()
            if r.consignment.state is S.QUEUED
            and r.vehicle_id is None
            and r.consignment.corridor in y.layouts
            and not clearance_problems(r.consignment)
        }
        have: set[str] = set()
        for (corridor, _side), q in list(y.waiting.items()):
            for x in list(q):
                if x.id in want:
                    have.add(x.id)
                else:
                    y.gone(corridor, x.id)  # bound, held, or no longer the desk's
        carried = {v.load.id for v in y.vehicles.values() if v.load is not None}
        for cid in sorted(want.keys() - have - carried):
            y.arrive(self._load_of(want[cid]))

    def _load_of(self, rec: ConsignmentRecord) -> Load:
        """The consignment as the yard sees it: cleared, waiting since it was queued."""
        c = rec.consignment
        queued = [e.at for e in c.history if e.to_state is S.QUEUED]
        return Load(
            c.id,
            c.corridor,
            self._side(c),
            priority=_traffic_priority(c),
            declared_priority=c.priority,
            arrived=queued[-1] if queued else c.declared_at,
            cleared=True,
            needs_reefer=c.goods.refrigerated,
        )

    def _yard_send(self, vid: str, goal: str, priority: Priority, now: float) -> bool:
        """Carry out the yard's "go to ``goal``"; False when it cannot be (the yard
        asks again next round)."""
        rec = next((r for r in self.records.values() if r.vehicle_id == vid), None)
        v = self.yard.vehicles[vid]
        lay = self.yard.layouts[v.corridor]
        across = lay.side_of(goal) != lay.side_of(v.node)
        if rec is not None:
            # A bound vehicle goes by its consignment's trip (fleet.cargo.trips): across
            # means to the stop line and the handoff, once the goods are on it.
            return across and rec.consignment.state in ON_THE_WAY_ACROSS
        if across and self.yard.side is not None:
            why = "an empty vehicle crosses only when the other side takes it (no handoff yet)"
            self._note(vid, goal, now, why)
            return False
        return self._send(vid, goal, self._fleet_now, now, why="the yard's decision", prio=priority)

    def _yard_lift(self, lift: Lift, now: float) -> None:
        """The yard ordered a lift: a loading one binds its consignment to the vehicle
        at that spot (persisted) and becomes the cranes' work order."""
        if lift.kind is not LiftKind.LOAD:  # unloading: only for loads that came across
            self._note(lift.vehicle, lift.spot, now, f"unloading {lift.load} is not the desk's")
            return

        def bind(rec: ConsignmentRecord, t: float) -> None:
            c = rec.consignment
            if c.state is not S.QUEUED or rec.vehicle_id is not None:
                raise DeskError(f"consignment {rec.id} is no longer waiting")
            if _job(c, lift.spot) is None:
                raise DeskError(f"consignment {rec.id} may not be loaded: not cleared")
            rec.vehicle_id, rec.pickup, rec.lift = lift.vehicle, lift.spot, lift
            entry = {"consignment_id": rec.id, "vehicle_id": lift.vehicle, "t": t}
            rec.log.append({"event": "consignment_assigned", **entry, "pickup": lift.spot})
            rec.log.append({"event": "lift_ordered", **entry, "spot": lift.spot, "kind": "load"})

        # A refusal leaves the yard a step ahead; the next round frees the vehicle.
        self._guarded(self._change, lift.load, bind)

    def _yard_lift_event(self, lift: Lift, event: LiftEvent, now: float) -> None:
        tell = self.yard.lift_started if event is LiftEvent.STARTED else self.yard.lift_done
        try:
            tell(lift.vehicle, lift.spot, lift.load, now)
        except YardError as e:  # e.g. a vehicle the yard has not seen since a restart
            self._note(lift.vehicle, lift.spot, now, f"yard not told of lift {event}: {e}")

    def _handed_over(self, vid: str, now: float) -> None:
        """Custody passed (with a consignment, or the link says the vehicle is across):
        the other side's yard has the vehicle. With one operator for both yards it stays
        this yard's: once it stands on the far side, its trip is over and it is free
        there (the next round says so)."""
        if vid not in self.yard.vehicles or self.yard.side is None:
            return
        try:
            self.yard.hand_over(vid, now)
        except YardError:
            self.yard.left_custody(vid)

    def _note(self, vid: str, what: str, now: float, why: str) -> None:
        """Log a refusal once per vehicle and place (the yard repeats it every round)."""
        if (vid, what) in self._noted:
            return
        self._noted.add((vid, what))
        self._log(now, {"event": "yard_step_refused", "vehicle_id": vid, "at": what, "why": why})

    # -- helpers ----------------------------------------------------------------
    def _change(
        self, cid: str, apply: Callable[[ConsignmentRecord, float], None]
    ) -> ConsignmentRecord:
        """Apply ``apply`` to a copy, persist it in one transaction, then adopt it.

        Nothing in memory changes if ``apply`` or the write fails; commands queued
        by ``apply`` go out only after the commit.
        """
        with self.lock:
            current = self.records.get(cid) or self.store.consignment(cid)
            if current is None:
                raise UnknownConsignment(f"unknown consignment {cid!r}")
            work = copy.deepcopy(current)
            now = max(self.clock(), work.consignment.last_changed_at)
            self._after_commit = []
            try:
                apply(work, now)
                self.store.save_consignment(work)
            except StoreConflict:
                fresh = self.store.consignment(cid)  # someone else wrote it: believe the DB
                if fresh is not None and fresh.consignment.state is not S.RECEIVED:
                    self.records[cid] = fresh
                raise
            if work.consignment.state is not S.RECEIVED:
                self.records[cid] = work
            for command in self._after_commit:
                command()
            self._after_commit = []
            return work

    def _step(
        self, rec: ConsignmentRecord, to: ConsignmentState, now: float, actor: str, reason: str
    ) -> None:
        transition(rec.consignment, to, now=now, actor=actor, reason=reason)

    def _after_clearance(
        self, rec: ConsignmentRecord, now: float, actor: str, reason: str, *, granted: bool
    ) -> None:
        c = rec.consignment
        problems = clearance_problems(c)
        if c.state is S.DECLARED and not problems:
            self._step(rec, S.CLEARED, now, actor, reason)
        elif not granted and c.state not in (S.DECLARED, S.HELD) and problems:
            # Withdrawn after the fact: stop it before it reaches the line.
            if c.state in (S.HANDED_OVER, S.RECEIVED):
                raise DeskError(f"consignment {c.id} has already crossed; {reason}")
            self._hold(rec, now, actor, f"{reason} (clearance withdrawn)")

    def _hold(self, rec: ConsignmentRecord, now: float, actor: str, reason: str) -> None:
        before = rec.consignment.state
        transition(rec.consignment, S.HELD, now=now, actor=actor, reason=reason)
        if rec.vehicle_id is not None and (
            before in NOT_LOADED or self._inspection_spot(rec.consignment) is None
        ):
            self._unbind(rec, now, f"held before loading: {reason}")

    def _unbind(self, rec: ConsignmentRecord, now: float, why: str) -> None:
        if rec.vehicle_id is None:
            return
        if rec.lift is not None and rec.lift.pending:
            entry = {"event": "lift_cancelled", "consignment_id": rec.id, "t": now}
            rec.log.append(entry | {"vehicle_id": rec.vehicle_id, "spot": rec.lift.spot})
            rec.lift = None
        rec.log.append(
            {
                "event": "consignment_unassigned",
                "consignment_id": rec.id,
                "vehicle_id": rec.vehicle_id,
                "why": why,
                "t": now,
            }
        )
        rec.vehicle_id = None

    def _send(
        self,
        vid: str,
        goal: str,
        fleet_now: float,
        now: float,
        *,
        why: str,
        prio: Priority | None = None,
    ) -> bool:
        """Command the vehicle; False (logged) when the fleet refuses."""
        self._sent[vid] = (goal, now)
        try:
            self.fleet.send_to(vid, goal, fleet_now, prio)
        except ValueError as e:  # e.g. the fleet refuses (busy, offline): retried later
            self._log(
                now,
                {"event": "command_refused", "vehicle_id": vid, "goal": goal, "why": f"{why}: {e}"},
            )
            return False
        return True

    def _log(self, now: float, entry: dict[str, Any]) -> None:
        self.store.append({"t": now, **entry})

    def _side(self, c: Consignment) -> str:
        """The consignment's origin side, as the map names it."""
        return "VN" if c.direction is Direction.EXPORT else "CN"

    def loading_spots(self, corridor: str, side: str) -> tuple[str, ...]:
        """The loading spots of ``corridor``'s ``side`` yard ("VN", "CN")."""
        lay = self.yard.layouts.get(corridor)
        return lay.spots.get(side, ()) if lay is not None else ()

    def _inspection_spot(self, c: Consignment) -> str | None:
        return self._inspection.get(c.corridor, {}).get(self._side(c))


def _traffic_priority(c: Consignment) -> Priority:
    """Fruit is planned ahead of other goods on the lanes (the yard's rule 3)."""
    return Priority.PERISHABLE if c.goods.perishable else Priority.STANDARD


def _job(c: Consignment, pickup: str) -> Job | None:
    """The dispatch job of a queued, cleared consignment; None if it may not go."""
    try:
        return job_from_consignment(c, pickup)  # the gate: cleared and queued only
    except NotDispatchable:
        return None


def lift_view(lift: Lift | None) -> dict[str, Any] | None:
    """The API view of a crane lift (JSON-ready)."""
    if lift is None:
        return None
    return {
        "vehicle_id": lift.vehicle,
        "spot": lift.spot,
        "kind": lift.kind.value,
        "ordered_at": lift.ordered_at,
        "started_at": lift.started_at,
        "done_at": lift.done_at,
    }


def records_view(recs: Iterable[ConsignmentRecord]) -> list[dict[str, Any]]:
    return [record_view(r) for r in recs]


def record_view(rec: ConsignmentRecord, *, history: bool = False) -> dict[str, Any]:
    """The API view of a consignment (JSON-ready)."""
    c = rec.consignment
    g = c.goods
    out: dict[str, Any] = {
        "id": c.id,
        "customs_declaration": c.customs_declaration,
        "container_number": c.container_number,
        "seal_number": c.seal_number,
        "goods": {
            "category": g.category.value,
            "fruit_kind": g.fruit_kind.value if g.fruit_kind else None,
            "temperature_c": (
                {"min": g.temp_min_c, "max": g.temp_max_c} if g.temp_min_c is not None else None
            ),
        },
        "direction": c.direction.value,
        "corridor": c.corridor,
        "gross_weight_kg": c.gross_weight_kg,
        "priority": c.priority,
        "state": c.state.value,
        "clearance": {
            "customs": c.customs_cleared,
            "quarantine": c.quarantine_cleared,
            "quarantine_certificate": c.quarantine_certificate,
            "lab_certificates": {t.value: n for t, n in sorted(c.lab_certificates.items())},
            "problems": clearance_problems(c),
        },
        "vehicle_id": rec.vehicle_id,
        "pickup": rec.pickup,
        "lift": lift_view(rec.lift),
        "attention": rec.attention,
        "declared_at": c.declared_at,
        "updated_at": c.last_changed_at,
    }
    if history:
        out["history"] = [
            {
                "from": e.from_state.value,
                "to": e.to_state.value,
                "at": e.at,
                "actor": e.actor,
                "reason": e.reason,
            }
            for e in c.history
        ]
    return out


# -- intake, shared by the API and the bulk import -------------------------------


def intake(
    store: Store, data: object, *, corridors: Collection[str], now: float, actor: str
) -> IntakeResult:
    """Validate ``data`` and store it as a new consignment, unless it is already there.

    Idempotent by customs declaration number (and id): the same declaration again
    returns the stored consignment (``created`` False); one that differs raises
    :class:`IntakeConflict` naming the fields. The unique constraints decide races.
    """
    c = parse_declaration(data, corridors=corridors, now=now)
    assert isinstance(data, Mapping)  # parse_declaration accepts only objects
    known = _known(store, c, data)
    if known is not None:
        return known
    rec = ConsignmentRecord(
        c,
        declaration=dict(data),
        log=[
            {
                "event": "consignment_declared",
                "consignment_id": c.id,
                "customs_declaration": c.customs_declaration,
                "actor": actor,
                "t": c.declared_at,
            }
        ],
    )
    try:
        store.create_consignment(rec)
    except DuplicateConsignment:  # another writer got there first: compare with it
        known = _known(store, c, data)
        if known is None:
            raise
        return known
    return IntakeResult(rec, created=True)


def _known(store: Store, c: Consignment, data: Mapping[str, Any]) -> IntakeResult | None:
    """The stored consignment with ``c``'s declaration number (or id), if any.

    Idempotency compares the messages as sent (normalised), not the parsed
    objects, so a conflict names the fields the sender changed.
    """
    for existing in (
        store.consignment_by_declaration(c.customs_declaration),
        store.consignment(c.id),
    ):
        if existing is None:
            continue
        diff = conflicting_fields(existing.declaration, data)
        if diff:
            raise IntakeConflict(existing.id, diff)
        return IntakeResult(existing, created=False)
    return None


# -- bulk import -------------------------------------------------------------------

CSV_COLUMNS = (
    "id",
    "container_number",
    "seal_number",
    "category",
    "fruit_kind",
    "temp_min_c",
    "temp_max_c",
    "direction",
    "corridor",
    "customs_declaration",
    "gross_weight_kg",
    "priority",
    "quarantine_certificate",
    "lab_cadmium",
    "lab_auramine_o",
)


class BulkImportError(DeskError):
    """A file that cannot be imported; ``problems`` are (row number, message)."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"row {n}: {m}" for n, m in problems))


@dataclass
class ImportReport:
    created: list[str]
    already: list[str]  # the same declaration was already stored
    skipped: list[tuple[int, str]]  # (row number, why), with skip_bad only


def read_declarations(path: Path) -> list[tuple[int, object]]:
    """(row number, declaration) from a CSV (header: :data:`CSV_COLUMNS`) or JSON list.

    CSV rows are numbered as a spreadsheet shows them (the header is row 1);
    JSON items from 1. Empty CSV cells are absent fields; numbers stay text
    when they do not parse, so validation names the field.
    """
    if path.suffix.lower() == ".json":
        data = json.loads(path.read_text(encoding="utf-8"))
        if isinstance(data, dict) and "declarations" in data:
            data = data["declarations"]
        if not isinstance(data, list):
            raise BulkImportError([(0, "a JSON file must hold a list of declarations")])
        return list(enumerate(data, start=1))
    if path.suffix.lower() != ".csv":
        raise BulkImportError([(0, f"{path.name}: expected a .csv or .json file")])
    with path.open(newline="", encoding="utf-8-sig") as f:
        reader = csv.DictReader(f)
        header = reader.fieldnames or []
        unknown = [h for h in header if h not in CSV_COLUMNS]
        if unknown or not header:
            raise BulkImportError(
                [
                    (
                        1,
                        f"unknown column(s) {', '.join(unknown) or '(none)'}; expected "
                        + ",".join(CSV_COLUMNS),
                    )
                ]
            )
        return [(n, _row_to_declaration(row)) for n, row in enumerate(reader, start=2)]


def _row_to_declaration(row: Mapping[str, str | None]) -> dict[str, Any]:
    cell = {k: (v or "").strip() for k, v in row.items() if k is not None}
    d: dict[str, Any] = {
        k: cell[k]
        for k in (
            "id",
            "container_number",
            "seal_number",
            "direction",
            "corridor",
            "customs_declaration",
            "quarantine_certificate",
        )
        if cell.get(k)
    }
    goods: dict[str, Any] = {"category": cell.get("category") or None}
    if cell.get("fruit_kind"):
        goods["fruit_kind"] = cell["fruit_kind"]
    if cell.get("temp_min_c") or cell.get("temp_max_c"):
        goods["temperature_c"] = {
            "min": _number(cell.get("temp_min_c", "")),
            "max": _number(cell.get("temp_max_c", "")),
        }
    d["goods"] = goods
    if cell.get("gross_weight_kg"):
        d["gross_weight_kg"] = _number(cell["gross_weight_kg"])
    if cell.get("priority"):
        d["priority"] = _number(cell["priority"])
    labs = {t.value: cell[f"lab_{t.value}"] for t in LabTest if cell.get(f"lab_{t.value}")}
    if labs:
        d["lab_certificates"] = labs
    return d


def _number(s: str) -> object:
    if not s:
        return None
    try:
        return int(s)
    except ValueError:
        try:
            return float(s)
        except ValueError:
            return s


def import_declarations(
    store: Store,
    items: list[tuple[int, object]],
    *,
    corridors: Collection[str],
    actor: str,
    skip_bad: bool = False,
    clock: Callable[[], float] = time.time,
) -> ImportReport:
    """Import declarations; all or nothing unless ``skip_bad``.

    Every row is checked first (validation, duplicates within the file, conflicts
    with what is stored); with a problem and without ``skip_bad`` nothing is
    written. Each consignment is then stored in its own transaction; an import
    cut short can simply be run again (intake is idempotent).
    """
    problems: list[tuple[int, str]] = []
    good: list[tuple[int, object]] = []
    seen: dict[str, int] = {}
    for n, data in items:
        try:
            c = parse_declaration(data, corridors=corridors, now=0.0)
            assert isinstance(data, Mapping)
            for key in (c.customs_declaration, c.id):
                if key in seen:
                    raise DeskError(f"{key} is also in row {seen[key]}")
            _known(store, c, data)
        except (DeclarationError, DeskError) as e:
            problems.append((n, str(e)))
            continue
        seen[c.customs_declaration] = seen[c.id] = n
        good.append((n, data))
    if problems and not skip_bad:
        raise BulkImportError(problems)
    report = ImportReport([], [], problems)
    for _, data in good:
        r = intake(store, data, corridors=corridors, now=clock(), actor=actor)
        (report.created if r.created else report.already).append(r.record.id)
    return report


# -- the orchestrator as a fleet ------------------------------------------------


class OrchestratorFleet:
    """:class:`FleetPort` over the running :class:`Orchestrator` (its core's vehicles)."""

    SNAP_M = 5.0
    STOPPED_MPS = 0.1

    def __init__(self, orch: Orchestrator) -> None:
        self.orch = orch

    def snapshots(self) -> dict[str, VehicleSnapshot]:
        from fleet.vehicles import MissionStatus, VehicleStatus

        out = {}
        with self.orch.lock:
            for v in self.orch.core.vehicles.values():
                online = v.last_report is not None and v.status is not VehicleStatus.OFFLINE
                online = online and v.id not in self.orch.isolated  # held after a fault
                on_mission = v.mission is not None and v.mission.status is MissionStatus.ACTIVE
                busy = on_mission or v.speed_mps >= self.STOPPED_MPS
                node = None if busy or not online else self._node_at(v.corridor, v.x, v.y)
                out[v.id] = VehicleSnapshot(v.id, v.corridor, online, busy, node)
        return out

    def send_to(
        self, vehicle_id: str, goal: str, now: float, priority: Priority | None = None
    ) -> None:
        with self.orch.lock:
            v = self.orch.core.vehicle(vehicle_id)
            # After a restart the core still places the vehicle at its home node; its
            # reports say where it really stands, and a route must start from there.
            here = self._node_at(v.corridor, v.x, v.y)
            if here is not None:
                v.node = here
        self.orch.send_to(vehicle_id, goal, now, priority=priority)

    def let_cross(self, vehicle_id: str, consignment_id: str) -> None:
        """Custody passed at the zero line: the vehicle may cross, to a CN yard spot."""
        from fleet.core import FleetError
        from fleet.handoff.export import yard_goal

        v = self.orch.core.vehicle(vehicle_id)
        goal = yard_goal(self.orch.graphs[v.corridor], consignment_id)
        with contextlib.suppress(FleetError):  # already let across (the handoff link did)
            self.orch.accept_handoff(vehicle_id, self.orch.now(), goal=goal)

    def _node_at(self, corridor: str, x: float, y: float) -> str | None:
        return nearest_node(self.orch.graphs[corridor], x, y, self.SNAP_M)


def attach_desk(orch: Orchestrator, store: Store) -> Orchestrator:
    """The orchestrator with its consignment desk: the one place the two are tied."""
    orch.desk = desk_for(orch, store)
    return orch


def desk_for(orch: Orchestrator, store: Store) -> ConsignmentDesk:
    """The desk of a running orchestrator: its vehicles, its corridors' guide graphs."""
    from fleet.cargo.dispatch import GraphTravelTimes

    return ConsignmentDesk(
        store,
        OrchestratorFleet(orch),
        GraphTravelTimes(orch.graphs),
        corridors=list(orch.graphs),
        graphs=orch.graphs,
    )


class _DeskYardPort:
    """The yard's decisions, carried out by the desk: goals to the fleet, lifts to the
    consignments (bound and persisted) and from there to the cranes' work list."""

    def __init__(self, desk: ConsignmentDesk) -> None:
        self.desk = desk

    def send_to(self, vehicle_id: str, goal: str, priority: Priority, now: float) -> bool:
        return self.desk._yard_send(vehicle_id, goal, priority, now)

    def order_lift(self, lift: Lift, now: float) -> float:
        self.desk._yard_lift(lift, now)
        return now + NOMINAL_LIFT_S
