"""Fan-out of live changes to WebSocket clients without slowing the orchestrator.

Producers (the orchestrator's threads, the API's refresher) call
:meth:`LiveHub.publish` / :meth:`LiveHub.publish_items`: an append to a
deque, never a wait, never a lock the orchestrator holds. A flusher task on
the event loop drains that deque at most ``max_hz`` times a second into one
*frame* (latest state per id), serialises it once and hands the same text to
every client. A client that cannot keep up accumulates frames; when it sends
next, its backlog is merged into one coalesced delta (latest per id), so it
gets fewer, fresher messages; if its oldest unsent frame is older than
``drop_after_s`` it is dropped (closed with 1013, "try again later").
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import json
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

# Keyed collections in a frame: name -> the field that identifies an item.
KEYED = {"vehicles": "id", "alarms": "id", "routes": "vehicle_id", "consignments": "id"}
WHOLE = ("link", "kpis")  # replaced as a whole


@dataclass
class Frame:
    at: float  # monotonic time of the flush
    items: dict[str, dict[str, dict[str, Any]]]  # collection -> key -> latest item
    whole: dict[str, Any]
    _text: str | None = None

    def text(self) -> str:
        if self._text is None:
            body: dict[str, Any] = {"type": "delta"}
            for name, items in self.items.items():
                body[name] = list(items.values())
            body.update(self.whole)
            self._text = json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        return self._text


@dataclass(eq=False)
class Client:
    backlog: collections.deque[Frame] = field(default_factory=collections.deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    dropped: bool = False
    coalesced: int = 0  # messages that merged several frames
    sent: int = 0


class LiveHub:
    def __init__(
        self,
        max_hz: float = 10.0,
        gather_s: float = 0.004,
        max_gather_s: float = 0.05,
        drop_after_s: float = 5.0,
        idle_flush_s: float = 0.25,
    ) -> None:
        # At most ``per_window`` frames in any ``window_s`` (10 in any second): a sliding
        # window rather than a fixed gap, so one late frame does not delay all later ones.
        self.per_window = max(1, round(max_hz))
        self.window_s = self.per_window / max_hz
        # A burst of reports (one orchestrator cycle) goes out in one frame: flush once
        # nothing new arrived for ``gather_s``, or ``max_gather_s`` after the first.
        self.gather_s = gather_s
        self.max_gather_s = max_gather_s
        self.idle_flush_s = idle_flush_s  # quiet items (``poke=False``) wait at most this
        self.drop_after_s = drop_after_s
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[Client] = set()
        self.latest: dict[str, dict[str, dict[str, Any]]] = {k: {} for k in KEYED}
        self.latest_whole: dict[str, Any] = {}
        self.on_vehicles: list[Callable[[list[dict[str, Any]]], list[dict[str, Any]]]] = []
        self.dropped = 0
        self._inbox: collections.deque[tuple[str, Any]] = collections.deque()
        self._kick: asyncio.Event | None = None
        self._kicked = False

    # -- producers (any thread) ---------------------------------------------------
    def publish(self, views: list[dict[str, Any]]) -> None:
        """Thread-safe, non-blocking: vehicle views changed."""
        if views:
            self._inbox.append(("vehicles", views))
            self._poke()

    def publish_items(self, name: str, items: Any, *, poke: bool = True) -> None:
        """Thread-safe: changed items of a keyed collection, or a new whole value.

        ``poke=False`` (periodic refreshes): ride along with the next frame, or go out
        within ``idle_flush_s``, instead of taking a frame of their own.
        """
        if name in KEYED and not items:
            return  # nothing changed: no empty delta
        self._inbox.append((name, items))
        if poke:
            self._poke()

    def _poke(self) -> None:
        if self._kicked or self.loop is None or self._kick is None:
            return
        self._kicked = True  # one wake-up per flush, however many publishes
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self.loop.call_soon_threadsafe(self._kick.set)

    # -- the loop ---------------------------------------------------------------
    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self._kick = asyncio.Event()

    async def run(self) -> None:
        """The flusher: at most ``max_hz`` frames a second, only when something changed."""
        assert self._kick is not None
        recent: collections.deque[float] = collections.deque(maxlen=self.per_window)
        while True:
            try:
                await asyncio.wait_for(self._kick.wait(), self.idle_flush_s)
            except TimeoutError:
                if not self._inbox:
                    continue
            first = time.monotonic()
            while True:
                seen = len(self._inbox)
                await asyncio.sleep(self.gather_s)
                now = time.monotonic()
                if len(self._inbox) == seen or now - first >= self.max_gather_s:
                    break
            if len(recent) == self.per_window:
                await asyncio.sleep(max(0.0, recent[0] + self.window_s - time.monotonic()))
            self._kick.clear()
            self._kicked = False
            now = time.monotonic()
            if self.flush(now) is not None:
                recent.append(now)

    def flush(self, now: float | None = None) -> Frame | None:
        """Drain what was published into one frame and queue it for every client."""
        now = time.monotonic() if now is None else now
        items: dict[str, dict[str, dict[str, Any]]] = {}
        whole: dict[str, Any] = {}
        vehicles: list[dict[str, Any]] = []
        while self._inbox:
            name, payload = self._inbox.popleft()
            if name in KEYED:
                key = KEYED[name]
                bucket = items.setdefault(name, {})
                for it in payload:
                    bucket[str(it[key])] = it
                if name == "vehicles":
                    vehicles.extend(payload)
            else:
                whole[name] = payload
        if vehicles:
            for hook in self.on_vehicles:  # e.g. the alarm book: alarms these views imply
                for a in hook(list(items["vehicles"].values())):
                    items.setdefault("alarms", {})[str(a["id"])] = a
        if not items and not whole:
            return None
        for name, bucket in items.items():
            self.latest[name].update(bucket)
        self.latest_whole.update(whole)
        frame = Frame(now, items, whole)
        for c in list(self.clients):
            if c.backlog and now - c.backlog[0].at > self.drop_after_s:
                c.dropped = True
                c.backlog.clear()
                self.dropped += 1
                self.clients.discard(c)
            else:
                c.backlog.append(frame)
            c.wake.set()
        return frame

    # -- consumers (the WebSocket handlers, on the loop) -----------------------
    def connect(self) -> Client:
        c = Client()
        self.clients.add(c)
        return c

    def disconnect(self, c: Client) -> None:
        self.clients.discard(c)

    def snapshot(self) -> dict[str, Any]:
        """Everything current: what a new client starts from."""
        return {
            "type": "snapshot",
            "vehicles": list(self.latest["vehicles"].values()),
            "alarms": [a for a in self.latest["alarms"].values() if a.get("cleared_at") is None],
            "link": self.latest_whole.get("link", []),
            "kpis": self.latest_whole.get("kpis", {}),
            "routes": list(self.latest["routes"].values()),
        }

    def seed(self, name: str, items: Iterable[dict[str, Any]]) -> None:
        """Set the starting state of a collection (on the loop, before clients)."""
        key = KEYED[name]
        self.latest[name].update({str(i[key]): i for i in items})

    @staticmethod
    async def next_message(c: Client) -> str | None:
        """The client's next message text (backlog merged), or None once it is dropped."""
        while not c.backlog and not c.dropped:
            c.wake.clear()
            await c.wake.wait()
        if c.dropped:
            return None
        if len(c.backlog) == 1:
            text = c.backlog.popleft().text()
        else:
            merged = Frame(c.backlog[-1].at, {}, {})
            while c.backlog:
                f = c.backlog.popleft()
                for name, bucket in f.items.items():
                    merged.items.setdefault(name, {}).update(bucket)
                merged.whole.update(f.whole)
            c.coalesced += 1
            text = merged.text()
        c.sent += 1
        return text
