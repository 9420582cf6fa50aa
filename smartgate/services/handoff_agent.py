"""The VN side's handoff agent: the live orchestrator and desk, wired to the CN peer's link.

A thin adapter. One `HandoffEndpoint` (session + durable store) and one `HandoffClient`
dial the peer; one link serves every corridor both sides announce (the peer authorises one
certificate per side, so one connection per corridor would only supersede each other). The
link runs on its own asyncio loop in its own thread (`LoopThread`): the ROS executor and the
API loop are never blocked by it, and it reaches the orchestrator and the desk only through
their own locked methods.

Every `poll_s` the agent reconciles, level-triggered, from durable state only (desk records,
the session's handoff records) plus the vehicles' reported positions; the decision per
consignment is `fleet.handoff.export.next_export_action`:

    at the stop line, link CONNECTED, no open offer -> offer (manifest from the desk)
    accepted                                        -> release, desk handover, vehicle may cross
    vehicle reported past km 0                      -> CrossingReport
    custody receipt                                 -> desk `received` (exactly once)
    refused                                         -> desk REFUSED, the vehicle holds

So a restart, an outage or a repeated poll resumes at the right step and never repeats one.
While the link is DOWN (or LAGGING) no offer goes out and accepted vehicles are not released:
vehicles at the stop line hold, because the traffic planner never lets a vehicle cross km 0
without an acceptance. Incoming ReturnRequests (import) are answered in the session hook.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from fleet.cargo.consignments import ConsignmentState, Direction
from fleet.cargo.dispatch import STOP_LINE_FOR
from fleet.core import FleetError
from fleet.handoff import messages as m
from fleet.handoff.export import (
    ExportAction,
    export_offer,
    handoff_id_for,
    latest_export_handoff,
    next_export_action,
    wire_id,
    yard_goal,
)
from fleet.handoff.session import (
    Event,
    EventKind,
    Handoff,
    HandoffSession,
    HState,
    LinkState,
    PeerGrant,
    Role,
    SessionConfig,
    SessionError,
    Step,
    Timing,
)
from fleet.vehicles import MissionStatus
from maps.queries import way_back
from smartgate.link.codec import KNOWN_CORRIDORS
from smartgate.link.transport import PATH, HandoffClient, HandoffEndpoint, client_ssl_context
from smartgate.storage.handoff_store import HandoffStore
from smartgate.storage.store import StoreConflict

if TYPE_CHECKING:
    import ssl

    from smartgate.services.desk import ConsignmentDesk
    from smartgate.services.orchestrator import Orchestrator
    from smartgate.storage.store import ConsignmentRecord

__all__ = [
    "AGENT",
    "AgentOptions",
    "HandoffAgent",
    "LoopThread",
    "Stopper",
    "start_handoff_agents",
]

AGENT = "smartgate:handoff-agent"
S = ConsignmentState
T = TypeVar("T")
VN_ID = "vn-smartgate-lang-son"
CN_ID = "cn-youyiguan-dispatch"
# The receiving side's states of an import, in order, and how the record names them.
IMPORT_STEPS = (HState.RECEIVED, HState.ACCEPTED, HState.CROSSED, HState.TRANSFERRED)
IMPORT_REFUSED = (HState.RECEIVED, HState.REFUSED)
STEP_NAMES = {
    HState.RECEIVED: "offered",
    HState.ACCEPTED: "accepted",
    HState.REFUSED: "refused",
    HState.CROSSED: "crossed",
    HState.TRANSFERRED: "custody",
}
NO_WAY_BACK = (
    "refused at the zero line: the vehicle holds at the stop line (the map has no "
    "turnaround before km 0); move it by hand or re-declare"
)


def _iso(t: float | None) -> str | None:
    if not t:
        return None
    return datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")


class LoopThread:
    """An asyncio event loop in a daemon thread: the link's home, apart from ROS and API."""

    def __init__(self, name: str = "handoff-link") -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name=name, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def start(self) -> None:
        self.thread.start()

    def call(self, coro: Coroutine[Any, Any, T], timeout: float = 15.0) -> T:
        """Run `coro` on the loop and wait for its result (from any other thread)."""
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        async def cancel_rest() -> None:
            me = asyncio.current_task()
            rest = [t for t in asyncio.all_tasks() if t is not me]
            for t in rest:
                t.cancel()
            await asyncio.gather(*rest, return_exceptions=True)

        if self.thread.is_alive():
            with contextlib.suppress(Exception):
                self.call(cancel_rest(), 5.0)
            self.loop.call_soon_threadsafe(self.loop.stop)
            self.thread.join(5.0)
        if not self.thread.is_alive():
            self.loop.close()


@dataclass
class AgentOptions:
    peer_url: str  # wss://HOST:PORT (the path /smartgate/handoff/v1 is added if missing)
    certs: Path = Path("var/certs")  # vn.pem, vn.key, cn-ca.pem (tools/devcerts.py)
    db: str = "sqlite:///var/handoff-vn.db"  # the link's own durable records
    corridors: frozenset[str] = frozenset({"huu-nghi", "tan-thanh"})  # ours, on this link
    # What the peer's certificate is authorised to act for (the bilateral table), which may
    # be more than this orchestrator serves.
    peer_corridors: frozenset[str] = KNOWN_CORRIDORS
    system_id: str = VN_ID
    peer_system_id: str = CN_ID
    timing: Timing = field(default_factory=Timing)
    poll_s: float = 0.2
    offer_ttl_s: float = 600.0  # an unanswered offer lapses; the agent then offers again
    retry_s: float = 5.0  # after a failed step, before trying it again
    backoff: tuple[float, float] = (0.5, 30.0)  # reconnect back-off
    db_synchronous: str = ""  # SQLite: "" = FULL; tests use NORMAL

    @property
    def url(self) -> str:
        return self.peer_url if PATH in self.peer_url else self.peer_url.rstrip("/") + PATH


class HandoffAgent:
    """One link to the CN peer, reconciled against the orchestrator and the desk."""

    def __init__(
        self,
        orch: Orchestrator,
        desk: ConsignmentDesk | None,
        opts: AgentOptions,
        *,
        clock: Callable[[], float] = time.time,
        ssl_context: ssl.SSLContext | None = None,
        store: HandoffStore | None = None,
    ) -> None:
        self.orch = orch
        self.desk = desk
        if desk is not None:
            desk.custody_at_km0()  # the other side takes our vehicles over at km 0
        self.opts = opts
        self.clock = clock
        me = PeerGrant(m.SIDE_VN, opts.system_id, opts.corridors)
        peer = PeerGrant(m.SIDE_CN, opts.peer_system_id, opts.peer_corridors)
        self.config = SessionConfig(me, peer, opts.timing, "smartgate orchestrator")
        self.store = store or HandoffStore(opts.db, synchronous=opts.db_synchronous)
        self.ssl = ssl_context or client_ssl_context(
            opts.certs / "vn.pem", opts.certs / "vn.key", opts.certs / "cn-ca.pem"
        )
        self.endpoint = HandoffEndpoint(
            self.config,
            self.store,
            self._hook,
            clock=clock,
            on_error=lambda where, e: orch.fault(f"{where} ({opts.url})", None, e),
        )
        self.client = HandoffClient(
            self.endpoint, opts.url, self.ssl, backoff=opts.backoff, stable_after_s=10.0
        )
        self._poller: asyncio.Task[None] | None = None
        started = clock()
        self._link: tuple[LinkState, float] = (LinkState.DOWN, started)  # state, since
        self._status: dict[str, Any] = self._status_now(started, LinkState.DOWN, started)
        self._allowed: set[str] = set()  # handoffs the orchestrator let cross since start
        self._failed_at: dict[str, float] = {}  # key -> when a step last failed (retry later)
        self._seen: dict[str, HState] = {h.handoff_id: h.state for h in self._handoffs()}
        self._refusals: dict[str, str] = {}  # handoff -> reason (memory only; for the record)
        self.polls = 0

    # ---------------------------------------------------------------- control

    async def start(self) -> None:
        await self.endpoint.start()
        await self.client.start()
        if self._poller is None:
            self._poller = asyncio.create_task(self._poll_loop())

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        await self.client.stop()
        await self.endpoint.stop()
        self.store.close()

    def register(self) -> None:
        """Expose the link's status to the orchestrator (API and UI) for each corridor."""
        for corridor in sorted(self.opts.corridors & set(self.orch.maps)):
            self.orch.handoff_links[corridor] = self.status

    def status(self) -> dict[str, Any]:
        """The link as operators see it; safe from any thread (a snapshot per poll)."""
        return dict(self._status)

    @property
    def session(self) -> HandoffSession:
        return self.endpoint.session

    # ------------------------------------------------------------------ loop

    async def _poll_loop(self) -> None:
        while True:
            try:
                self.poll()
            except Exception as e:  # never let one bad round stop the link's housekeeping
                self.orch.fault(f"handoff agent ({self.opts.url})", None, e)  # logs it
            await asyncio.sleep(self.opts.poll_s)

    def poll(self) -> None:
        """One reconcile round (on the link's loop: the session is not thread-safe)."""
        now = self.clock()
        self.polls += 1
        state = self.session.link_state(now)
        if state != self._link[0]:
            self._link = (state, now)
            self._record_plain({"event": "link_state", "state": state.value, "at": _iso(now)})
        self._status = self._status_now(now, state, self._link[1])
        if self.desk is not None:
            self._exports(now, state)
            self.desk.away = self._away()
        self._observe(now)  # first: what the peer did is logged before our reaction
        self._imports(now)

    def _status_now(self, now: float, state: LinkState, since: float) -> dict[str, Any]:
        s = self.endpoint.session
        return {
            "peer": self.config.peer.uri,
            "state": state.value,
            "since": _iso(since),
            "last_heard_at": _iso(s.last_heard),
            "outbox_pending": len(s.st.outbox),
        }

    # --------------------------------------------------------------- exports

    def _handoffs(self) -> list[Handoff]:
        return list(self.endpoint.session.handoffs.values())

    def _exports(self, now: float, link: LinkState) -> None:
        assert self.desk is not None
        with self.desk.lock:
            recs = [
                r
                for r in self.desk.records.values()
                if r.consignment.direction is Direction.EXPORT
                and r.consignment.corridor in self.opts.corridors
                and r.consignment.state in (S.AT_ZERO_LINE, S.HANDED_OVER)
            ]
        if not recs:
            return
        snaps = self.desk.fleet.snapshots()
        offers = [h for h in self._handoffs() if h.role == Role.OFFERING and h.kind == "offer"]
        for rec in sorted(recs, key=lambda r: r.id):
            h = latest_export_handoff(offers, rec.id)
            vid = self._vehicle_of(rec, h)
            snap = snaps.get(vid) if vid else None
            stop_line = STOP_LINE_FOR[Direction.EXPORT]
            action = next_export_action(
                rec.consignment.state,
                h,
                link,
                at_stop_line=snap is not None and snap.node == stop_line and rec.vehicle_id == vid,
                past_zero_line=vid is not None and self._side(vid) == "CN",
                crossing_allowed=h is not None and h.handoff_id in self._allowed,
                now=now,
            )
            if action is ExportAction.WAIT or self._backing_off(rec.id, now):
                continue
            try:
                self._do(action, rec, h, vid, now)
            except (SessionError, FleetError, ValueError, StoreConflict) as e:
                self._failed_at[rec.id] = now
                self._record_plain(
                    {
                        "event": "handoff_step_failed",
                        "consignment_id": rec.id,
                        "step": action.value,
                        "why": str(e),
                        "at": _iso(now),
                    }
                )

    def _do(
        self,
        action: ExportAction,
        rec: ConsignmentRecord,
        h: Handoff | None,
        vid: str | None,
        now: float,
    ) -> None:
        assert self.desk is not None
        c = rec.consignment
        if action is ExportAction.OFFER:
            assert vid is not None
            attempt = 1 + sum(1 for x in self._handoffs() if x.consignment_id == wire_id(c.id))
            body = export_offer(
                c,
                handoff_id=handoff_id_for(c.id, attempt),
                vehicle_id=vid,
                now=now,
                expires_in_s=self.opts.offer_ttl_s,
            )
            self.endpoint.do(lambda s, t: s.offer(body, t))
            self._seen[body.handoff_id] = HState.OFFERED
            self._record(body.handoff_id, "offered", vid, c.id, "export", offered_at=_iso(now))
            return
        assert h is not None
        if action is ExportAction.RELEASE:
            self.endpoint.do(lambda s, t: s.release(h.handoff_id, t))
            self._seen[h.handoff_id] = HState.RELEASED
            action = ExportAction.GO  # at once: the vehicle may go
        if action is ExportAction.GO:
            self._go(rec, h, vid, now)
        elif action is ExportAction.REPORT_CROSSING:
            assert vid is not None
            pos, speed = self._position(vid)
            self.endpoint.do(lambda s, t: s.report_crossing(h.handoff_id, t, pos, speed))
            self._seen[h.handoff_id] = HState.CROSSED
            self._record(h.handoff_id, "crossed", vid, c.id, "export", crossed_at=_iso(now))
        elif action is ExportAction.RECEIVED:
            receipt = h.receipt_id
            self.desk.received(
                c.id, actor=AGENT, reason=f"custody receipt {receipt} from {self._peer_name}"
            )
            self._seen[h.handoff_id] = HState.TRANSFERRED
            self._record(h.handoff_id, "custody", vid, c.id, "export", receipt_id=receipt)
        elif action is ExportAction.REFUSED:
            self._refused(rec, h, vid, now)

    def _go(self, rec: ConsignmentRecord, h: Handoff, vid: str | None, now: float) -> None:
        """Accepted and released: custody will pass; let the vehicle cross to a CN spot."""
        assert self.desk is not None
        c = rec.consignment
        if vid is not None:  # before the handover frees it: not for the dispatcher any more
            self.desk.away = self.desk.away | {vid}
        if c.state is S.AT_ZERO_LINE:
            self.desk.handover(
                c.id,
                accepted=True,
                actor=AGENT,
                reason=f"accepted by {self._peer_name} (handoff {h.handoff_id})",
                release_vehicle=False,  # released below, with the handoff's identity
            )
        if vid is None:
            raise FleetError(f"vehicle {h.vehicle_id} of handoff {h.handoff_id} is unknown")
        if self._side(vid) == "CN":  # already across (e.g. before a restart)
            self._allowed.add(h.handoff_id)
            return
        goal = yard_goal(self.orch.graphs[c.corridor], c.id)
        info = {
            "handoff_id": h.handoff_id,
            "consignment_id": c.id,
            "direction": "export",
            "corridor": c.corridor,
            "decided_at": _iso(now),
        }
        self._tell("accept_handoff", "handoff_accepted", vid, goal, info)
        self._allowed.add(h.handoff_id)

    def _refused(self, rec: ConsignmentRecord, h: Handoff, vid: str | None, now: float) -> None:
        assert self.desk is not None
        c = rec.consignment
        why = self._refusals.get(h.handoff_id, "refused by the peer")
        attention: str | None = NO_WAY_BACK
        goal: str | None = None
        if vid is not None:
            # A way back without crossing (to the pickup spot) is used when the map has one.
            g = self.orch.graphs[c.corridor]
            stop_line = STOP_LINE_FOR[Direction.EXPORT]
            if rec.pickup is not None and way_back(g, stop_line, rec.pickup):
                goal, attention = rec.pickup, None
            info = {
                "handoff_id": h.handoff_id,
                "consignment_id": c.id,
                "direction": "export",
                "corridor": c.corridor,
                "reason": why,
                "holding": goal is None,
                "decided_at": _iso(now),
            }
            self._tell("refuse_handoff", "handoff_refused", vid, goal, info)
        self.desk.handover(
            c.id,
            accepted=False,
            actor=AGENT,
            reason=f"{self._peer_name}: {why} (handoff {h.handoff_id})",
            attention=attention,
        )

    def _away(self) -> frozenset[str]:
        """Our vehicles the desk must not dispatch: released to the other side and not yet
        back (level-triggered: standing in CN, or released and not yet across)."""
        with self.orch.lock:
            where = {v.id: (v.corridor, v.x, v.y) for v in self.orch.core.vehicles.values()}
        out = {vid for vid, (c, x, y) in where.items() if self.orch.maps[c].side_of(x, y) == "CN"}
        for h in self.session.open_handoffs(role=Role.OFFERING):
            if h.state in (HState.RELEASED, HState.CROSSED):
                vid = self._orch_vehicle(h.vehicle_id)
                if vid is not None:
                    out.add(vid)
        return frozenset(out)

    # --------------------------------------------------------------- imports

    def _hook(self, event: Event, s: HandoffSession, now: float) -> Step | None:
        """Session events that must be answered in the same transaction as the frame."""
        hid = event.handoff_id
        if event.kind == EventKind.REFUSED:
            self._refusals[hid] = event.detail
            return None
        if event.kind == EventKind.OFFER_RECEIVED:
            h = s.handoffs[hid]
            if h.kind != "return_request":
                return s.refuse(
                    hid,
                    m.REFUSAL_REASON_VEHICLE_NOT_AUTHORISED,
                    now,
                    "only our own vehicles come back: foreign vehicles do not drive VN lanes",
                )
            vid = self._orch_vehicle(h.vehicle_id)
            if vid is None:
                return s.refuse(
                    hid, m.REFUSAL_REASON_VEHICLE_NOT_AUTHORISED, now, "vehicle unknown here"
                )
            return s.accept(hid, now, destination_id=self._home_of(vid) or "")
        if event.kind == EventKind.CROSSING_RECEIVED:
            return s.transfer_custody(hid, now)
        return None

    def _imports(self, now: float) -> None:
        """Accepted returns: let our vehicle come home across km 0 (once per handoff, and
        only while the return is the vehicle's latest handoff: it may have left again)."""
        latest: dict[str, Handoff] = {}
        for h in self._handoffs():
            if h.vehicle_id not in latest or h.updated_at > latest[h.vehicle_id].updated_at:
                latest[h.vehicle_id] = h
        for h in latest.values():
            if (
                h.role != Role.RECEIVING
                or h.kind != "return_request"
                or h.state not in (HState.ACCEPTED, HState.CROSSED, HState.TRANSFERRED)
                or h.handoff_id in self._allowed
                or self._backing_off(h.handoff_id, now)
            ):
                continue
            vid = self._orch_vehicle(h.vehicle_id)
            if vid is None or self._side(vid) == "VN":
                self._allowed.add(h.handoff_id)
                continue
            with self.orch.lock:
                mission = self.orch.core.vehicle(vid).mission
                driving = mission is not None and mission.status is MissionStatus.ACTIVE
            if driving:
                continue  # still on its way to the CN yard: home once it stands
            info = {
                "handoff_id": h.handoff_id,
                "consignment_id": h.consignment_id or None,
                "direction": "import",
                "corridor": h.corridor_id,
                "state": "returning",  # the orchestrator lets it cross home
            }
            try:
                self._tell("accept_handoff", "handoff_accepted", vid, self._home_of(vid), info)
            except (FleetError, ValueError) as e:
                self._failed_at[h.handoff_id] = now
                self._record_plain(
                    {"event": "handoff_step_failed", "handoff_id": h.handoff_id, "why": str(e)}
                )
                continue
            self._allowed.add(h.handoff_id)

    def _observe(self, now: float) -> None:
        """Log what changed in the session by itself (the peer, timers): imports, lapses.

        An import can run through several states between two polls (the peer releases and
        reports the crossing at once): every step passed is logged, in order."""
        for h in self._handoffs():
            old = self._seen.get(h.handoff_id)
            if old == h.state:
                continue
            self._seen[h.handoff_id] = h.state
            direction = "import" if h.from_side == m.SIDE_CN else "export"
            vid = self._orch_vehicle(h.vehicle_id) or h.vehicle_id
            cid = h.consignment_id or None
            if h.state in (HState.EXPIRED, HState.CANCELLED):
                self._record(h.handoff_id, h.state.value, vid, cid, direction)
            elif direction == "import":
                path = IMPORT_REFUSED if h.state == HState.REFUSED else IMPORT_STEPS
                if h.state not in path:
                    continue
                done = path.index(old) + 1 if old in path else 0
                for state in path[done : path.index(h.state) + 1]:
                    receipt = h.receipt_id if state == HState.TRANSFERRED else None
                    self._record(
                        h.handoff_id, STEP_NAMES[state], vid, cid, direction, receipt_id=receipt
                    )

    # --------------------------------------------------------------- helpers

    @property
    def _peer_name(self) -> str:
        return self.config.peer.system_id

    def _backing_off(self, key: str, now: float) -> bool:
        t = self._failed_at.get(key)
        return t is not None and now - t < self.opts.retry_s

    def _orch_vehicle(self, wire: str) -> str | None:
        with self.orch.lock:
            ids = list(self.orch.core.vehicles)
        return next((v for v in ids if wire_id(v) == wire), None)

    def _vehicle_of(self, rec: ConsignmentRecord, h: Handoff | None) -> str | None:
        if rec.vehicle_id is not None or h is None:
            return rec.vehicle_id
        return self._orch_vehicle(h.vehicle_id)

    def _home_of(self, vid: str) -> str | None:
        p = self.desk.profiles.get(vid) if self.desk is not None else None
        return p.home_node if p is not None else None

    def _side(self, vid: str) -> str:
        with self.orch.lock:
            v = self.orch.core.vehicle(vid)
            x, y, corridor = v.x, v.y, v.corridor
        return self.orch.maps[corridor].side_of(x, y)

    def _position(self, vid: str) -> tuple[m.Position, float]:
        with self.orch.lock:
            v = self.orch.core.vehicle(vid)
            x, y, heading, speed, corridor = v.x, v.y, v.heading_rad, v.speed_mps, v.corridor
            moving = v.mission is not None and v.mission.status is MissionStatus.ACTIVE
        lon, lat = self.orch.maps[corridor].frame.to_lonlat(x, y)
        pos = m.Position(longitude=lon, latitude=lat, map_x_m=x, map_y_m=y, heading_rad=heading)
        return pos, (speed if moving else 0.0)

    def _record(
        self,
        handoff_id: str,
        what: str,
        vehicle_id: str | None,
        consignment_id: str | None,
        direction: str,
        **extra: Any,
    ) -> None:
        entry = {
            "event": f"handoff_{what}",
            "handoff_id": handoff_id,
            "vehicle_id": vehicle_id,
            "consignment_id": consignment_id,
            "direction": direction,
            "t": self.orch.now(),
            "at": _iso(self.clock()),
        }
        self._record_plain({**entry, **{k: v for k, v in extra.items() if v is not None}})

    def _record_plain(self, entry: dict[str, Any]) -> None:
        """Into the orchestrator's event log (the runtime stores it, the API lists it)."""
        with self.orch.lock:
            self.orch.log.append({"t": self.orch.clock, **entry})

    def _tell(
        self, method: str, event: str, vid: str, goal: str | None, info: dict[str, Any]
    ) -> None:
        """orch.accept_handoff / refuse_handoff with the handoff's identity for its log
        entry: passed as ``record=`` where the orchestrator takes it, else added after."""
        fn = getattr(self.orch, method)
        info = {k: v for k, v in info.items() if v is not None}
        if "record" in inspect.signature(fn).parameters:
            fn(vid, self.orch.now(), goal, record=info)
        else:
            fn(vid, self.orch.now(), goal)
            self._enrich(event, vid, **info)

    def _enrich(self, event: str, vehicle_id: str, **info: Any) -> None:
        """Add the handoff's identity to the entry the orchestrator just logged for it (the
        runtime may have stored the entry already: the `record=` way is the exact one)."""
        with self.orch.lock:
            for e in reversed(self.orch.log):
                if e.get("event") == event and e.get("vehicle_id") == vehicle_id:
                    if "handoff_id" not in e:
                        e.update({k: v for k, v in info.items() if v is not None})
                    return


@dataclass
class Stopper:
    """Stops the agents and their loop thread; call once at shutdown."""

    thread: LoopThread
    agents: list[HandoffAgent]

    def __call__(self) -> None:
        for a in self.agents:
            with contextlib.suppress(Exception):
                self.thread.call(a.stop(), 10.0)
            for corridor, fn in list(a.orch.handoff_links.items()):
                if fn == a.status:
                    del a.orch.handoff_links[corridor]
        self.thread.stop()


def start_handoff_agents(
    orch: Orchestrator,
    desk: ConsignmentDesk | None,
    corridors: Iterable[str],
    certs_dir: Path | str,
    peer_url: str,
    *,
    db_url: str = "sqlite:///var/handoff-vn.db",
    timing: Timing | None = None,
    **options: Any,
) -> Stopper:
    """Start the handoff link to the CN peer for `corridors` in its own thread; register
    its status with the orchestrator. Returns the function that stops it all."""
    if db_url.startswith("sqlite:///") and not db_url.startswith("sqlite:////"):
        Path(db_url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    opts = AgentOptions(
        peer_url=peer_url,
        certs=Path(certs_dir),
        db=db_url,
        corridors=frozenset(corridors),
        timing=timing or Timing(),
        **options,
    )
    thread = LoopThread()
    thread.start()
    agent = HandoffAgent(orch, desk, opts)
    try:
        thread.call(agent.start())
    except Exception:
        thread.stop()
        raise
    agent.register()
    return Stopper(thread, [agent])
