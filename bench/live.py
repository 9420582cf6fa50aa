"""Live stream benchmark: 300 vehicles at 10 Hz through the Orchestrator to 50 WebSocket
clients over a real uvicorn server on loopback.

Measured: delivery latency per message (the cycle's reports entering the orchestrator ->
the delta received by a client; the first vehicle in a delta is the oldest, so this is the
message's worst case; p50/p99/max), messages per client per second, slow-client drops,
and the publisher's achieved tick rate and cycle time (300 reports and one orchestrator
tick). The baseline in the same run is the same publisher with no API attached (``impl:
orchestrator-only``): the API and its clients must leave the tick rate unaffected.

The clients run in a separate process (as browsers would). Reports carry the wall-clock
time as their ``now``, so a vehicle view's ``clock_s`` is its publish time.

Run: ``python -m bench.live [--quick]`` or ``smartgate bench live --json``.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing as mp
import re
import socket
import statistics
import sys
import threading
import time
from typing import Any

CLOCK = re.compile(rb'"clock_s":([0-9.eE+-]+)')
VEHICLES = 300
CLIENTS = 50
HZ = 10.0


def _orchestrator(n: int) -> Any:
    """An orchestrator with ``n`` vehicles; corridors are repeated under new ids so that
    ``n`` vehicles can stand on distinct nodes (the planner keeps them apart)."""
    from maps.corridors import load_corridors
    from smartgate.services.orchestrator import Orchestrator

    maps, graphs = load_corridors()
    copies = 4  # ~64 vehicles fit on each corridor's nodes
    cmaps = {f"{b}#{k}": maps[b] for b in sorted(maps) for k in range(copies)}
    cgraphs = {f"{b}#{k}": graphs[b] for b in sorted(graphs) for k in range(copies)}
    corridors = sorted(cgraphs)
    orch = Orchestrator(cmaps, cgraphs)
    count = 0
    for c in corridors:
        for node in sorted(cgraphs[c].nodes):
            if count >= n:
                break
            try:
                orch.add_vehicle(f"v{count:03d}", c, node, 0.0)
                count += 1
            except Exception:  # the planner refuses a node too close to another vehicle
                continue
    if count < n:
        raise RuntimeError(f"only {count} vehicles could be placed")
    return orch


class Publisher(threading.Thread):
    """Every vehicle reports at ``HZ``; then the orchestrator ticks. Records tick times."""

    def __init__(self, orch: Any, seconds: float) -> None:
        super().__init__(daemon=True)
        self.orch, self.seconds = orch, seconds
        self.work_s: list[float] = []
        self.ticks = 0
        self.elapsed = 0.0

    def run(self) -> None:
        from fleet.vehicles import VehicleReport

        vs = list(self.orch.core.vehicles.values())
        start = time.perf_counter()
        period = 1.0 / HZ
        k = 0
        while time.perf_counter() - start < self.seconds:
            t0 = time.perf_counter()
            now = time.time()
            dx = 0.05 if k % 2 else -0.05
            for v in vs:
                r = VehicleReport(v.id, now, v.x + dx, v.y, v.heading_rad, 0.5)
                self.orch.report(r, now)
            self.orch.tick(now)
            self.work_s.append(time.perf_counter() - t0)
            k += 1
            nxt = start + k * period
            time.sleep(max(0.0, nxt - time.perf_counter()))
        self.ticks = k
        self.elapsed = time.perf_counter() - start


def _pct(xs: list[float], p: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(p / 100.0 * len(s)))]


def _clients_main(url: str, n: int, warmup: float, out: Any) -> None:
    """Client process: ``n`` WebSocket clients until the deltas stop; report latencies
    (after ``warmup`` s of deltas) and message rates."""
    import websockets

    lat: list[float] = []
    msgs = [0] * n
    first = [0.0] * n
    last = [0.0] * n
    closed: list[int] = []

    async def one(i: int) -> None:
        async with websockets.connect(url, compression=None, max_size=None) as ws:
            started = 0.0
            while True:
                try:
                    raw = await asyncio.wait_for(
                        ws.recv(decode=False), timeout=1.5 if started else 60.0
                    )
                except TimeoutError:
                    return  # the publisher stopped
                except websockets.ConnectionClosed as e:
                    closed.append(e.rcvd.code if e.rcvd else -1)
                    return
                now = time.time()
                if i == 0:  # one client checks the whole message is valid JSON
                    json.loads(raw)
                if not raw.startswith(b'{"type":"delta"'):
                    continue
                started = started or now
                if now < started + warmup:
                    continue
                msgs[i] += 1
                first[i] = first[i] or now
                last[i] = now
                # The first vehicle in a delta was published first (items keep their
                # arrival order): its age is the message's worst delivery latency. A scan
                # instead of a full parse, so 50 clients in one process keep up.
                m = CLOCK.search(raw)
                if m:
                    lat.append(now - float(m.group(1)))

    async def main() -> None:
        await asyncio.gather(*(one(i) for i in range(n)))

    asyncio.run(main())
    rates = [(m - 1) / (b - a) for m, a, b in zip(msgs, first, last, strict=True) if b > a]
    out.send({"lat": lat, "rates": rates, "closed": closed})


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _tick_metrics(p: Publisher) -> dict[str, float]:
    return {
        "tick_rate_hz": round(p.ticks / p.elapsed, 3),
        "tick_work_p50_ms": round(_pct(p.work_s, 50) * 1e3, 2),
        "tick_work_p99_ms": round(_pct(p.work_s, 99) * 1e3, 2),
    }


def run(
    quick: bool = False,
    vehicles: int = VEHICLES,
    clients: int = CLIENTS,
    client_procs: int = 2,
) -> dict[str, Any]:
    """``client_procs``: processes sharing the clients (the receiving side must keep up
    with 50 x 10 full-fleet deltas a second, or it measures itself)."""
    import uvicorn

    from api.app import create_app

    seconds = 4.0 if quick else 12.0
    warmup = 1.0

    # Baseline: the orchestrator alone, same publisher, no API.
    base = Publisher(_orchestrator(vehicles), seconds)
    base.start()
    base.join()

    # smartgate: the API and its live stream attached, 50 clients connected.
    orch = _orchestrator(vehicles)
    app = create_app(orch)
    app.state.ops.auth.create_user("bench", "bench-password", "viewer")
    who = app.state.ops.auth.login("bench", "bench-password")
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app, host="127.0.0.1", port=port, log_level="warning", ws_per_message_deflate=False
        )
    )
    web = threading.Thread(target=server.run, daemon=True)
    web.start()
    while not server.started:
        time.sleep(0.05)
    url = f"ws://127.0.0.1:{port}/ws/live?token={who.token}"
    pipes, procs = [], []
    for k in range(client_procs):
        recv, send = mp.Pipe(duplex=False)
        share = clients // client_procs + (k < clients % client_procs)
        proc = mp.get_context("spawn").Process(
            target=_clients_main, args=(url, share, warmup, send)
        )
        proc.start()
        pipes.append(recv)
        procs.append(proc)
    deadline = time.monotonic() + 60
    while len(app.state.hub.clients) < clients and time.monotonic() < deadline:
        time.sleep(0.1)  # all clients connected and past their snapshots
    time.sleep(0.5)
    connected = len(app.state.hub.clients)
    pub = Publisher(orch, seconds)
    pub.start()
    pub.join()
    got: dict[str, list[Any]] = {"lat": [], "rates": [], "closed": []}
    for recv in pipes:
        part = recv.recv() if recv.poll(120.0) else {}
        for key in got:
            got[key] += part.get(key, [])
    for proc in procs:
        proc.join(timeout=30)
        if proc.is_alive():
            proc.terminate()
    hub = app.state.hub
    server.should_exit = True
    web.join(timeout=10)

    lat = got["lat"]
    per_client_hz = got["rates"] or [0.0]
    return {
        "bench": "live",
        "results": [
            {
                "case": f"{vehicles} vehicles at {HZ:g} Hz, no API",
                "impl": "orchestrator-only",
                **_tick_metrics(base),
            },
            {
                "case": f"{vehicles} vehicles at {HZ:g} Hz, {clients} WebSocket clients"
                f" ({client_procs} client processes)",
                "impl": "smartgate",
                **_tick_metrics(pub),
                "latency_p50_ms": round(_pct(lat, 50) * 1e3, 1) if lat else None,
                "latency_p99_ms": round(_pct(lat, 99) * 1e3, 1) if lat else None,
                "latency_max_ms": round(max(lat) * 1e3, 1) if lat else None,
                "messages_measured": len(lat),
                "msgs_per_client_hz_mean": round(statistics.fmean(per_client_hz), 2),
                "msgs_per_client_hz_max": round(max(per_client_hz), 2),
                "clients_connected": connected,
                "clients_dropped": hub.dropped,
                "clients_closed": len(got["closed"]),
            },
        ],
    }


if __name__ == "__main__":
    print(json.dumps(run(quick="--quick" in sys.argv)))
