"""Yard operations: which vehicle loads what, where it goes next, and when it waits.

The one home of the gate's yard rules; the orchestrator and the simulator both run
them. The yard keeps, per guide vehicle, what it is doing (idle, loading, loaded and
ready, unloading, driving), where it stands or is bound, and what it carries; per side,
the consignments waiting to be loaded; per loading spot, when its crane is free. It is
told what happens in the world (a vehicle arrived, a crane lift started or finished,
a consignment arrived or was cleared) and, once per round, decides; its decisions go
out through a :class:`YardPort` (the fleet's ``send_to`` and the crane's work orders).

The rules, and why:

1. **Bays**: a loading bay holds the vehicle at the spot and one behind it
   (:attr:`YardRules.bay_places`); nobody is sent to a spot whose places are all
   claimed (standing there or driving there). A vehicle bound for a yard drives to
   that yard's staging point and is given a spot there, first come first served (one
   already in the yard, at a parking bay or charger, or past the staging point, takes
   a bay with room from where it stands: the way to the staging point would cross the
   border twice):
   a vehicle bound for a spot never waits behind one that has none, so the bays'
   places cannot all be promised to vehicles stuck in the queue. Among spots with
   room, the one with the fewest vehicles, then the crane free first.
2. **Crane work is a step of its own**: a vehicle idle at a spot with cleared cargo
   waiting on its side is ordered a lift; it is *loading* until the crane (or, in
   production, the crane system or a yard operator) says the lift is done, and only
   then *ready* to go. A loaded vehicle arriving at a spot on the far side is
   ordered an unloading lift the same way; the consignment is delivered when it is done.
3. **Perishables first, by the gate's dispatcher**: which waiting consignment a
   vehicle at a spot takes is the production dispatcher's choice
   (:func:`fleet.cargo.dispatch.dispatch`): strict tiers (fruit and seafood before
   the rest, higher declared priority first), only what the vehicle may carry (a
   reefer for refrigerated goods) and what its battery covers (the trip across and on
   to a charger, with the reserve), then the longest waiting. Loaded vehicles are
   planned with their cargo's traffic priority.
4. **Give way**: an empty vehicle with nothing to load, on a spot that a loaded
   vehicle is driving to, or while loaded vehicles stand queued for this yard's
   bays and no bay has room, leaves across. Idle empties holding every place while
   loaded vehicles queued back over the zero line was a night-time jam (session 7).
5. **Empty runs**: an empty vehicle idle at a spot for :attr:`YardRules.empty_run_after_s`
   crosses empty when more consignments will be ready on the far side within
   :attr:`YardRules.cargo_lookahead_s` than vehicles are already heading there.
6. **Charging**: an empty idle vehicle that reports a state of charge below
   :attr:`YardRules.charge_below` goes to a free charger on its side and stays until
   :attr:`YardRules.charge_until`; with none free it works on.

docs/yard.md says more of each rule's reasons.

**Custody at km 0.** A yard can be one side's (``side="VN"``): it decides only for the
vehicles in that side's custody, as the handoff protocol's ``CONTROL_AT_KM0`` model
says (the receiving side's dispatch takes a vehicle over when its front passes km 0).
A vehicle it sent across leaves it there (:meth:`Yard.hand_over`; it still counts as
heading to the far side for empty runs), and one coming across enters it
(:meth:`Yard.take_over`), with its load. Each side's yard knows the consignments
waiting on both sides (declared in advance), so it can judge empty runs; a load taken
on the far side leaves its list (:meth:`Yard.gone`). ``side=None``: one operator for
both yards.

Vehicles not available this round (offline, broken down, isolated) are not
decided for, but still count where they stand. Pure and deterministic: time comes
in with every call, vehicles are decided in id order, nothing reads a clock.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Protocol

from fleet.cargo.dispatch import REEFER, DispatchStatus, FleetVehicle, Job, TravelTimes, dispatch
from fleet.traffic.planner import Priority
from fleet.vehicles import GUIDE_VEHICLE
from fleet.yard.layout import OTHER_SIDE, SIDES, YardLayout

MAX_DECISIONS = 10_000


class YardError(ValueError):
    """An event the yard refuses (unknown vehicle, spot or consignment, or one that
    does not fit the state); nothing changed. The message is for the sender."""


class Phase(StrEnum):
    IDLE = "idle"  # standing, nothing in progress (it may carry a load at a staging point)
    LOADING = "loading"  # a lift onto it is ordered or under way
    READY = "ready"  # loaded, waiting to be sent across
    UNLOADING = "unloading"  # a lift off it is ordered or under way
    DRIVING = "driving"  # sent to ``target``
    CHARGING = "charging"  # standing at a charger until charged


class LiftKind(StrEnum):
    LOAD = "load"
    UNLOAD = "unload"


class LiftEvent(StrEnum):
    STARTED = "started"
    DONE = "done"


@dataclass(frozen=True)
class Load:
    """A consignment as the yard sees it."""

    id: str
    corridor: str
    side: str  # where it waits to be loaded: "VN" (export) or "CN" (import)
    priority: Priority = Priority.STANDARD  # traffic priority; PERISHABLE for fruit, seafood
    declared_priority: int = 0  # 0..9, higher first within a traffic priority
    arrived: float = 0.0  # when it reached the yard
    cleared: bool = False  # customs and quarantine done: it may be loaded
    expected_clear_s: float | None = None  # estimate while not cleared, for empty runs
    needs_reefer: bool = False  # refrigerated goods: only a vehicle with a reefer unit

    @property
    def perishable(self) -> bool:
        return self.priority <= Priority.PERISHABLE

    def rank(self) -> tuple[int, int, float, str]:
        """Loading order, smallest first."""
        return (int(self.priority), -self.declared_priority, self.arrived, self.id)

    def ready_by(self, t: float) -> bool:
        """Cleared, or expected to be by ``t``."""
        if self.cleared:
            return True
        return self.expected_clear_s is not None and self.expected_clear_s <= t


@dataclass(frozen=True)
class Lift:
    """A crane work order: lift ``load`` onto (LOAD) or off (UNLOAD) ``vehicle`` at ``spot``;
    pending until ``done_at``."""

    vehicle: str
    spot: str
    load: str
    kind: LiftKind
    ordered_at: float
    started_at: float | None = None
    done_at: float | None = None

    @property
    def pending(self) -> bool:
        return self.done_at is None


def lift_event(
    lift: Lift | None, event: LiftEvent, vehicle: str, spot: str, load: str, now: float
) -> Lift | None:
    """The crane step's rule, for every home of a lift: the lift after ``event``, or
    None when the event repeats what is already known (harmless: nothing changes).

    Raises :class:`YardError` when it does not fit: no lift ordered, another vehicle,
    spot or consignment than the one ordered, or done before it started."""
    if lift is None:
        raise YardError(f"no lift is ordered for vehicle {vehicle}")
    if (lift.vehicle, lift.spot, lift.load) != (vehicle, spot, load):
        raise YardError(
            f"the lift ordered is {lift.kind} {lift.load} at {lift.spot} with vehicle "
            f"{lift.vehicle}, not {load} at {spot} with vehicle {vehicle}"
        )
    if event is LiftEvent.STARTED:
        return None if lift.started_at is not None else replace(lift, started_at=now)
    if lift.done_at is not None:
        return None
    if lift.started_at is None:
        raise YardError(f"lift of {load} at {spot} reported done before it started")
    return replace(lift, done_at=now)


@dataclass(frozen=True)
class Equipment:
    """The registry's data on a vehicle that the dispatcher checks (vehicles do not
    report it): what it may carry, its battery."""

    capabilities: frozenset[str] = frozenset({REEFER})
    battery_kwh: float = GUIDE_VEHICLE.battery_kwh
    consumption_kwh_per_km: float = GUIDE_VEHICLE.consumption_kwh_per_km


@dataclass
class YardVehicle:
    """The yard's record of one vehicle (the world's truth comes in as events)."""

    id: str
    corridor: str
    node: str  # where it stands, or last stood
    phase: Phase = Phase.IDLE
    load: Load | None = None
    target: str = ""  # where it was last sent
    idle_since: float = 0.0
    lift: Lift | None = None  # the last lift ordered (pending, or done)
    equipment: Equipment = field(default_factory=Equipment)

    @property
    def at(self) -> str:
        """Where it stands, or is driving to: the place it claims."""
        return self.target if self.phase is Phase.DRIVING else self.node


@dataclass(frozen=True)
class YardRules:
    bay_places: int = 2  # a loading bay holds the vehicle at the spot and one behind it
    empty_run_after_s: float = 60.0  # an empty vehicle waits this long before going empty
    cargo_lookahead_s: float = 600.0  # cargo ready within this counts for an empty run
    charge_below: float = 0.25  # an empty idle vehicle below this state of charge charges
    charge_until: float = 0.9  # and stays at the charger until this


@dataclass(frozen=True)
class Standing:
    """What the fleet says of a vehicle this round."""

    available: bool = True  # reporting, not broken down, not isolated
    stopped: bool = True  # standing still (for the staging queue)
    soc: float | None = None  # battery state of charge 0..1, if it reports one


class YardPort(Protocol):
    """Where the yard's decisions go."""

    def send_to(self, vehicle_id: str, goal: str, priority: Priority, now: float) -> bool:
        """Plan and send the vehicle; False if the fleet refused (nothing changes then)."""
        ...

    def order_lift(self, lift: Lift, now: float) -> float:
        """Give the crane its work order; returns when the crane expects to be free."""
        ...


@dataclass
class Decision:
    """One decision the yard took, with its reason (for the log and the control room)."""

    at: float
    vehicle: str
    what: str  # "lift" | "send"
    detail: str
    why: str


@dataclass
class Yard:
    """The yards of the given corridors and the vehicles serving them."""

    layouts: Mapping[str, YardLayout]
    travel: TravelTimes  # the dispatcher's travel times and distances on the lane graphs
    rules: YardRules = field(default_factory=YardRules)
    side: str | None = None  # whose yard: decides for that side's custody only; None: both
    vehicles: dict[str, YardVehicle] = field(default_factory=dict)  # in its custody
    away: dict[str, YardVehicle] = field(default_factory=dict)  # handed over, as they left
    waiting: dict[tuple[str, str], list[Load]] = field(default_factory=dict)  # (corridor, side)
    # (corridor, spot) -> when its crane expects to end its last ordered lift
    crane_free: dict[tuple[str, str], float] = field(default_factory=dict)
    # Since the caller last took them; the oldest go first if nobody does.
    decisions: deque[Decision] = field(default_factory=lambda: deque(maxlen=MAX_DECISIONS))
    standing: Mapping[str, Standing] = field(default_factory=dict)  # as of the last round

    # -- the world's events ----------------------------------------------------
    def add_vehicle(
        self,
        vid: str,
        corridor: str,
        node: str,
        now: float,
        equipment: Equipment | None = None,
        *,
        away: bool = False,
        load: Load | None = None,
        lift: Lift | None = None,
    ) -> YardVehicle:
        """A vehicle enters service at ``node``, idle and empty. ``away``: it starts on
        the other side, in the other side's custody.

        ``load`` (and its ``lift``): it already carries, or is being loaded with, a
        consignment, as a restarted orchestrator finds it: loading while that lift is
        pending, else ready to go."""
        if vid in self.vehicles or vid in self.away:
            raise YardError(f"vehicle {vid!r} is already in the yard's fleet")
        if node not in self._layout(corridor).leads_to:
            raise YardError(f"vehicle {vid}: no node {node!r} in the {corridor} map")
        eq = equipment or Equipment()
        if eq.battery_kwh <= 0 or eq.consumption_kwh_per_km < 0:
            raise YardError(f"vehicle {vid}: battery {eq.battery_kwh} kWh is not a battery")
        if lift is not None and (load is None or lift.load != load.id or lift.vehicle != vid):
            raise YardError(f"vehicle {vid}: a lift of {lift.load} without that load on it")
        v = YardVehicle(vid, corridor, node, idle_since=now, equipment=eq, load=load, lift=lift)
        if load is not None:
            loading = lift is not None and lift.pending and lift.kind is LiftKind.LOAD
            v.phase = Phase.LOADING if loading else Phase.READY
        if away:
            self.away[vid] = v
        else:
            self.vehicles[vid] = v
        return v

    def arrive(self, load: Load) -> None:
        """A consignment reaches its yard (a truck brought it); it waits to be loaded."""
        lay = self._layout(load.corridor)
        if load.side not in SIDES:
            raise YardError(f"consignment {load.id}: side {load.side!r} is not one of {SIDES}")
        q = self.waiting.setdefault((lay.corridor, load.side), [])
        if any(x.id == load.id for x in q) or any(
            v.load is not None and v.load.id == load.id for v in self.vehicles.values()
        ):
            raise YardError(f"consignment {load.id} is already in the yard")
        q.append(load)

    def cleared(self, corridor: str, load_id: str) -> None:
        """Customs and quarantine cleared a waiting consignment."""
        found = self._waiting_at(corridor, load_id)
        if found is None:
            raise YardError(f"consignment {load_id} is not waiting in a {corridor} yard")
        q, i = found
        if not q[i].cleared:
            q[i] = replace(q[i], cleared=True)

    def gone(self, corridor: str, load_id: str) -> bool:
        """A waiting consignment was taken on the other side (its yard loaded it); False
        if it was not waiting here."""
        found = self._waiting_at(corridor, load_id)
        if found is not None:
            del found[0][found[1]]
        return found is not None

    def hand_over(self, vid: str, now: float) -> YardVehicle:
        """The vehicle's front passed km 0: the other side's dispatch has it now. Only a
        vehicle this yard sent across leaves; it is kept as away (heading there)."""
        v = self._vehicle(vid)
        lay = self.layouts[v.corridor]
        if self.side is None or v.phase is not Phase.DRIVING or lay.side_of(v.target) == self.side:
            raise YardError(f"vehicle {vid} was not sent across: it stays in {self.side} custody")
        del self.vehicles[vid]
        self.away[vid] = v
        return v

    def left_custody(self, vid: str) -> YardVehicle:
        """The vehicle is in the other side's custody though this yard did not send it
        across (found there after a restart, or let across by an operator); kept as away."""
        v = self._vehicle(vid)
        del self.vehicles[vid]
        self.away[vid] = v
        return v

    def freed(self, vid: str, node: str, now: float) -> YardVehicle:
        """The vehicle stands empty and idle at ``node``, whatever the yard last knew:
        its consignment's trip ended without crossing (goods unloaded at inspection,
        brought back after a refusal, a hold before loading, an operator's word)."""
        v = self._vehicle(vid)
        if node not in self.layouts[v.corridor].leads_to:
            raise YardError(f"vehicle {vid}: no node {node!r} in the {v.corridor} map")
        v.node, v.target, v.idle_since = node, "", now
        v.phase, v.load, v.lift = Phase.IDLE, None, None
        return v

    def take_over(
        self,
        vid: str,
        corridor: str,
        target: str,
        load: Load | None,
        now: float,
        equipment: Equipment | None = None,
    ) -> YardVehicle:
        """A vehicle came across km 0 into this side's custody, driving to ``target`` with
        ``load`` (or empty); it goes on there, and this yard decides for it from now on."""
        lay = self._layout(corridor)
        if vid in self.vehicles:
            raise YardError(f"vehicle {vid!r} is already in {self.side} custody")
        if self.side is None or lay.side_of(target) != self.side:
            raise YardError(f"vehicle {vid}: {target!r} is not in the {self.side} yard")
        if load is not None:
            self.gone(corridor, load.id)
        known = self.away.pop(vid, None)
        if equipment is None:  # as registered, if it is one of ours coming back
            equipment = known.equipment if known is not None else Equipment()
        v = YardVehicle(
            vid,
            corridor,
            target,
            phase=Phase.DRIVING,
            load=load,
            target=target,
            idle_since=now,
            equipment=equipment,
        )
        self.vehicles[vid] = v
        return v

    def arrived(self, vid: str, node: str, now: float, port: YardPort) -> bool:
        """The vehicle's mission ended at ``node``. Counts only at its target, once
        (one that stopped a little short may be given the last metre again, and must
        not unload twice); True if it counted. A loaded vehicle at a spot of the far
        yard gets its unloading lift ordered."""
        v = self._vehicle(vid)
        if v.phase is not Phase.DRIVING or node != v.target:
            return False
        v.node, v.phase, v.idle_since = node, Phase.IDLE, now
        lay = self.layouts[v.corridor]
        if v.load is None and node in lay.chargers.get(lay.side_of(node), ()):
            v.phase = Phase.CHARGING
        elif v.load is not None and lay.is_spot(node, lay.side_of(node)):
            self._order(v, Lift(vid, node, v.load.id, LiftKind.UNLOAD, now), now, port)
            v.phase = Phase.UNLOADING
        return True

    def lift_started(self, vid: str, spot: str, load_id: str, now: float) -> bool:
        """The crane began the ordered lift; False if it was already known to have."""
        v = self._vehicle(vid)
        lift = lift_event(v.lift, LiftEvent.STARTED, vid, spot, load_id, now)
        if lift is None:
            return False
        v.lift = lift
        return True

    def lift_done(self, vid: str, spot: str, load_id: str, now: float) -> bool:
        """The crane finished: a loaded vehicle is ready to go, an unloaded one is idle
        and its consignment delivered. False for the same event again (harmless)."""
        v = self._vehicle(vid)
        lift = lift_event(v.lift, LiftEvent.DONE, vid, spot, load_id, now)
        if lift is None:
            return False
        v.lift = lift
        if lift.kind is LiftKind.LOAD:
            v.phase = Phase.READY
        else:
            v.load, v.phase, v.idle_since = None, Phase.IDLE, now
        return True

    # -- the round ---------------------------------------------------------------
    def decide(self, now: float, fleet: Mapping[str, Standing], port: YardPort) -> None:
        """One round: in id order, each available vehicle that is idle at a spot takes
        cargo; each idle or ready one is sent on if it should go."""
        self.standing = fleet
        for vid in sorted(self.vehicles):
            v = self.vehicles[vid]
            seen = fleet.get(vid, _GONE)
            if not seen.available:
                continue
            if v.phase is Phase.CHARGING:
                if seen.soc is not None and seen.soc < self.rules.charge_until:
                    continue
                v.phase, v.idle_since = Phase.IDLE, now
            low = seen.soc is not None and seen.soc < self.rules.charge_below
            if (
                v.phase is Phase.IDLE
                and v.load is None
                and low
                and self._charge(v, seen, now, port)
            ):
                continue
            if v.phase is Phase.IDLE:
                self._take_cargo(v, seen.soc, now, port)
            if v.phase in (Phase.IDLE, Phase.READY):
                self._send_on(v, now, port)

    def take_decisions(self) -> list[Decision]:
        """The decisions since the last call (for a log; the yard forgets them)."""
        out = list(self.decisions)
        self.decisions.clear()
        return out

    # -- queries -----------------------------------------------------------------
    def claims(self, corridor: str, node: str) -> int:
        """Vehicles standing at ``node`` or driving to it."""
        return sum(1 for v in self.vehicles.values() if v.corridor == corridor and v.at == node)

    def free_spot(self, corridor: str, side: str) -> str | None:
        """The loading spot on ``side`` with the fewest vehicles at or bound for it, if
        its bay has room (then the crane free first, then by name)."""
        spots = self.layouts[corridor].spots[side]
        return choose_spot(
            spots,
            {s: self.claims(corridor, s) for s in spots},
            self.rules.bay_places,
            {s: self.crane_free.get((corridor, s), 0.0) for s in spots},
        )

    def loaded_queued(self, corridor: str, side: str) -> bool:
        """Does a loaded vehicle stand queued for ``side``'s bays (at the staging point,
        or stopped on its way there) while no bay there has room?

        One still moving towards the yard does not count: bays may have room when it
        comes, and an empty vehicle sent across early makes a trip for nothing."""
        staging = self.layouts[corridor].staging[side]
        standing = self.standing
        return (
            any(
                v.load is not None
                and v.corridor == corridor
                and standing.get(v.id, _STILL).stopped
                and v.at == staging
                for v in self.vehicles.values()
            )
            and self.free_spot(corridor, side) is None
        )

    def bound_for(self, v: YardVehicle) -> bool:
        """Is a loaded vehicle on its way to the spot ``v`` stands on?"""
        return any(
            o is not v
            and o.load is not None
            and o.corridor == v.corridor
            and o.phase is Phase.DRIVING
            and o.target == v.node
            for o in self.vehicles.values()
        )

    def ready_loads(self, corridor: str, side: str, by: float) -> list[Load]:
        return [x for x in self.waiting.get((corridor, side), []) if x.ready_by(by)]

    # -- the rules ------------------------------------------------------------------
    def _take_cargo(self, v: YardVehicle, soc: float | None, now: float, port: YardPort) -> None:
        lay = self.layouts[v.corridor]
        side = lay.side_of(v.node)
        if not lay.is_spot(v.node, side):
            return
        q = self.waiting.get((v.corridor, side), [])
        ready = [x for x in q if x.cleared]
        if not ready:
            return
        load = self._choose_load(v, soc, ready, now)
        if load is None:
            return
        q.remove(load)
        v.load, v.phase = load, Phase.LOADING
        why = "perishable, first" if load.perishable else "longest waiting"
        self._order(v, Lift(v.id, v.node, load.id, LiftKind.LOAD, now), now, port, why)

    def _choose_load(
        self, v: YardVehicle, soc: float | None, ready: list[Load], now: float
    ) -> Load | None:
        """The production dispatcher's choice for a vehicle idle at a spot, among the
        cleared loads on its side: None if it may take none (no reefer unit, or the
        battery does not cover the trip across and on to a charger).

        The yard's own charging rule decides when a vehicle charges (``low_soc`` off
        here); a vehicle that reports no state of charge counts as full."""
        lay = self.layouts[v.corridor]
        here = lay.side_of(v.node)
        chargers = [c for side in SIDES for c in lay.chargers.get(side, ())]
        fv = FleetVehicle(
            id=v.id,
            corridor=v.corridor,
            node=v.node,
            charging_node=(lay.chargers.get(here) or (v.node,))[0],
            battery_soc=1.0 if soc is None else min(1.0, max(0.0, soc)),
            battery_kwh=v.equipment.battery_kwh,
            consumption_kwh_per_km=v.equipment.consumption_kwh_per_km,
            capabilities=v.equipment.capabilities,
            status=DispatchStatus.IDLE,
        )
        drop = lay.staging[OTHER_SIDE[here]]
        jobs = [
            Job(
                id=x.id,
                corridor=x.corridor,
                pickup=v.node,
                drop=drop,
                perishable=x.perishable,
                needs_reefer=x.needs_reefer,
                priority_key=x.rank(),
                waiting_since=x.arrived,
                priority=x.declared_priority,
            )
            for x in ready
        ]
        plan = dispatch(
            [fv], jobs, self.travel, now, low_soc=0.0, charging_nodes={v.corridor: chargers}
        )
        if not plan.assignments:
            return None
        chosen = plan.assignments[0].job_id
        return next(x for x in ready if x.id == chosen)

    def _send_on(self, v: YardVehicle, now: float, port: YardPort) -> None:
        lay = self.layouts[v.corridor]
        here = lay.side_of(v.node)
        there = OTHER_SIDE[here]
        if v.node == lay.staging[here]:
            goal = self.free_spot(v.corridor, here) or ""
            if not goal:
                return  # head of the staging queue: waits for a bay with room
            why = "head of the staging queue, a bay has room"
        elif (v.node not in lay.on_lane or v.node in lay.beyond_staging) and not lay.is_spot(
            v.node, here
        ):
            # In the yard already (parking, a charger, inspection), or on the lane past the
            # staging point: that point is on the lane coming in from the far side, so
            # the way back to it runs through the other country; it takes a bay with
            # room from where it stands.
            goal = self.free_spot(v.corridor, here) or ""
            if not goal:
                return
            why = "in the yard: a bay has room"
        elif not lay.is_spot(v.node, here):
            goal, why = lay.staging[here], "joins the queue for this yard's bays"
        elif v.load is None and (self.bound_for(v) or self.loaded_queued(v.corridor, here)):
            goal, why = lay.staging[there], "empty: gives way to a loaded vehicle"
        elif v.load is None:
            want = len(self.ready_loads(v.corridor, there, now + self.rules.cargo_lookahead_s))
            heading = sum(
                1
                for o in self.vehicles.values()
                if o.corridor == v.corridor and lay.side_of(o.target or o.node) == there
            ) + sum(1 for o in self.away.values() if o.corridor == v.corridor)
            if want <= heading or now - v.idle_since < self.rules.empty_run_after_s:
                return
            goal, why = lay.staging[there], f"empty run: {want} loads soon ready there"
        else:
            goal, why = lay.staging[there], f"loaded with {v.load.id}"
        prio = v.load.priority if v.load is not None else Priority.STANDARD
        if not port.send_to(v.id, goal, prio, now):
            return
        v.target, v.phase = goal, Phase.DRIVING
        self.decisions.append(Decision(now, v.id, "send", goal, why))

    def _charge(self, v: YardVehicle, seen: Standing, now: float, port: YardPort) -> bool:
        """Send an empty idle vehicle with a low battery to a free charger on its side;
        False if none is free (it goes on working, and asks again next round)."""
        lay = self.layouts[v.corridor]
        side = lay.side_of(v.node)
        free = [c for c in lay.chargers.get(side, ()) if self.claims(v.corridor, c) == 0]
        if not free:
            return False
        if not port.send_to(v.id, free[0], Priority.STANDARD, now):
            return False
        v.target, v.phase = free[0], Phase.DRIVING
        why = f"battery at {seen.soc:.0%}, below {self.rules.charge_below:.0%}: charges"
        self.decisions.append(Decision(now, v.id, "send", free[0], why))
        return True

    def _order(self, v: YardVehicle, lift: Lift, now: float, port: YardPort, why: str = "") -> None:
        v.lift = lift
        self.crane_free[(v.corridor, lift.spot)] = port.order_lift(lift, now)
        detail = f"{lift.kind} {lift.load} at {lift.spot}"
        self.decisions.append(Decision(now, v.id, "lift", detail, why or str(lift.kind)))

    # -- checks -------------------------------------------------------------------
    def _layout(self, corridor: str) -> YardLayout:
        lay = self.layouts.get(corridor)
        if lay is None:
            raise YardError(f"unknown corridor {corridor!r}")
        return lay

    def _waiting_at(self, corridor: str, load_id: str) -> tuple[list[Load], int] | None:
        """The waiting list holding the consignment, and where in it."""
        for side in SIDES:
            q = self.waiting.get((corridor, side), [])
            for i, x in enumerate(q):
                if x.id == load_id:
                    return q, i
        return None

    def _vehicle(self, vid: str) -> YardVehicle:
        v = self.vehicles.get(vid)
        if v is None:
            raise YardError(f"unknown vehicle {vid!r}")
        return v


def choose_spot(
    spots: Sequence[str],
    claims: Mapping[str, int],
    bay_places: int,
    crane_free: Mapping[str, float] | None = None,
) -> str | None:
    """The bay rule: of ``spots``, one whose bay has room (fewer than ``bay_places``
    vehicles standing at it or bound for it, ``claims``), with the fewest claims, then
    the crane free first, then by name; None if every bay is full."""
    best: tuple[int, float, str] | None = None
    for spot in spots:
        n = claims.get(spot, 0)
        if n < bay_places:
            key = (n, (crane_free or {}).get(spot, 0.0), spot)
            best = key if best is None or key < best else best
    return None if best is None else best[2]


_GONE = Standing(available=False, stopped=True)
_STILL = Standing()
