"""Key figures for the control room, per corridor: crossings today against the
target, the queue waiting for a vehicle, mean crossing time, vehicle use.

"Today" is the local day at the gate (UTC+7, no daylight saving). A crossing
is a consignment handed over at the zero line; its crossing time runs from the
moment it set off (in transit) to the handover. Read-only queries on the
store; the vehicle figures come from the orchestrator's vehicle views.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from smartgate.storage.store import ConsignmentEventRow, ConsignmentRow, Store

GATE_TZ = timezone(timedelta(hours=7))  # Vietnam / the Lạng Sơn gate
DEFAULT_TARGET_PER_DAY = 120
WAITING = ("cleared", "queued")  # cleared for crossing, no vehicle on it yet
BUSY = ("moving", "holding", "at_handoff")


def day_start(now: float) -> float:
    local = datetime.fromtimestamp(now, GATE_TZ)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp()


def compute(
    corridors: Iterable[str],
    vehicles: Iterable[Mapping[str, Any]],
    store: Store | None,
    now: float,
    targets: Mapping[str, int] | None = None,
) -> dict[str, Any]:
    """The KPI document of ``GET /api/v1/kpis`` at wall-clock time ``now``."""
    names = sorted(corridors)
    total: dict[str, int] = defaultdict(int)
    busy: dict[str, int] = defaultdict(int)
    for v in vehicles:
        total[v["corridor"]] += 1
        busy[v["corridor"]] += v["status"] in BUSY
    crossings: dict[str, int] = {}
    durations: dict[str, list[float]] = {}
    queue: dict[str, int] = {}
    if store is not None:
        crossings, durations, queue = _consignment_figures(store, day_start(now))
    out = []
    for c in names:
        times = durations.get(c, [])
        out.append(
            {
                "corridor": c,
                "crossings_today": crossings.get(c, 0),
                "target_per_day": (targets or {}).get(c, DEFAULT_TARGET_PER_DAY),
                "queue_length": queue.get(c, 0),
                "mean_crossing_time_s": round(sum(times) / len(times), 1) if times else None,
                "vehicle_utilisation": round(busy[c] / total[c], 4) if total[c] else 0.0,
                "vehicles_total": total[c],
                "vehicles_active": busy[c],
            }
        )
    return {
        "generated_at": datetime.fromtimestamp(now, UTC).isoformat(timespec="milliseconds"),
        "corridors": out,
    }


def _consignment_figures(
    store: Store, since: float
) -> tuple[dict[str, int], dict[str, list[float]], dict[str, int]]:
    """Per corridor: today's handovers, their crossing times (s), the queue length."""
    E, C = ConsignmentEventRow, ConsignmentRow
    with Session(store.engine) as s:
        handed = s.execute(
            select(E.consignment_id, C.corridor, E.at)
            .join(C, C.id == E.consignment_id)
            .where(E.to_state == "handed_over", E.at >= since)
        ).all()
        ids = [h.consignment_id for h in handed]
        departed: dict[str, float] = {}
        if ids:
            for cid, at in s.execute(
                select(E.consignment_id, func.max(E.at))
                .where(E.to_state == "in_transit", E.consignment_id.in_(ids))
                .group_by(E.consignment_id)
            ).all():
                departed[cid] = float(at)
        queue: dict[str, int] = {
            corridor: int(n)
            for corridor, n in s.execute(
                select(C.corridor, func.count()).where(C.state.in_(WAITING)).group_by(C.corridor)
            ).all()
        }
    crossings: dict[str, int] = defaultdict(int)
    durations: dict[str, list[float]] = defaultdict(list)
    for h in handed:
        crossings[h.corridor] += 1
        start = departed.get(h.consignment_id)
        if start is not None and h.at >= start:
            durations[h.corridor].append(h.at - start)
    return crossings, durations, queue
