"""Fan-out of vehicle changes to WebSocket clients without slowing the orchestrator.

Orchestrator threads call :meth:`LiveHub.publish` (never blocks). Each client
has a bounded mailbox keyed by vehicle id: a newer state for a vehicle
replaces the older one not yet sent (coalescing), so a slow client gets fewer,
fresher updates instead of a growing backlog.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any


class _Client:
    def __init__(self) -> None:
        self.pending: dict[str, dict[str, Any]] = {}
        self.wake = asyncio.Event()


class LiveHub:
    def __init__(self) -> None:
        self.loop: asyncio.AbstractEventLoop | None = None
        self.clients: set[_Client] = set()

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop

    def publish(self, views: list[dict[str, Any]]) -> None:
        """Thread-safe: queue vehicle views for every connected client."""
        if self.loop is None or not views:
            return
        with contextlib.suppress(RuntimeError):  # loop closed during shutdown
            self.loop.call_soon_threadsafe(self._deliver, views)

    def _deliver(self, views: list[dict[str, Any]]) -> None:
        for c in self.clients:
            for v in views:
                c.pending[v["id"]] = v
            c.wake.set()

    def connect(self) -> _Client:
        c = _Client()
        self.clients.add(c)
        return c

    def disconnect(self, c: _Client) -> None:
        self.clients.discard(c)

    @staticmethod
    async def next_batch(c: _Client) -> list[dict[str, Any]]:
        await c.wake.wait()
        c.wake.clear()
        batch, c.pending = list(c.pending.values()), {}
        return batch
