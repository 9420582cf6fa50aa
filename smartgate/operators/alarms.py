"""The alarm book: conditions the control room must see, raised and cleared by what
the orchestrator reports, acknowledged by a controller.

Conditions are level-triggered: a vehicle view (offline, faults, e-stop) or a
periodic look at the link, consignments and lanes says whether each condition
holds now; the book raises an alarm when one starts and clears it when it
ends, so a repeated report changes nothing. Every change is written through to
the ``alarms`` table, and the active ones are reloaded at start.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from smartgate.storage.tables import AlarmRow

SEVERITY = {
    "estop": "critical",
    "handoff_link_down": "critical",
    "vehicle_offline": "critical",
    "vehicle_isolated": "critical",
    "internal_error": "critical",
    "vehicle_fault": "warning",
    "lane_closed": "warning",
    "consignment_hold": "info",
}
CLEAR_HOLD_S = {"vehicle_fault": 5.0}  # seconds a condition must stay away to clear


class AlarmError(ValueError):
    pass


class UnknownAlarm(AlarmError):
    pass


class AlreadyAcked(AlarmError):
    pass


@dataclass(frozen=True)
class Condition:
    """A condition that holds now, with what to tell the operator (English, Vietnamese)."""

    corridor: str | None
    message_en: str
    message_vi: str


def vehicle_conditions(view: Mapping[str, Any]) -> dict[str, Condition | None]:
    """kind -> the condition if it holds for this vehicle view, else None."""
    vid, corridor = view["id"], view.get("corridor")
    faults = view.get("faults") or []
    return {
        "vehicle_offline": Condition(corridor, f"Vehicle {vid} is offline", f"Xe {vid} mất kết nối")
        if view.get("status") == "offline"
        else None,
        "vehicle_fault": Condition(
            corridor,
            f"Vehicle {vid} reports faults: {', '.join(faults)}",
            f"Xe {vid} báo lỗi: {', '.join(faults)}",
        )
        if faults
        else None,
        "vehicle_isolated": Condition(
            corridor,
            f"Vehicle {vid} is held after an internal error ({view['isolated']}); "
            "resume it once checked",
            f"Xe {vid} bị giữ lại sau lỗi nội bộ ({view['isolated']}); kiểm tra rồi cho chạy tiếp",
        )
        if view.get("isolated")
        else None,
        "estop": Condition(
            corridor, f"Vehicle {vid} is emergency-stopped", f"Xe {vid} đang dừng khẩn cấp"
        )
        if view.get("mode") == "estopped"
        else None,
    }


class AlarmBook:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()
        self._absent: dict[tuple[str, str], float] = {}  # condition gone since (hold-off)
        with Session(engine) as s:
            rows = s.scalars(select(AlarmRow).where(AlarmRow.cleared_at.is_(None))).all()
            self._active: dict[tuple[str, str], dict[str, Any]] = {
                (r.kind, r.subject): _view(r) for r in rows
            }

    # -- conditions -------------------------------------------------------------
    def observe_vehicles(self, views: Iterable[Mapping[str, Any]]) -> list[dict[str, Any]]:
        """Raise/clear the vehicle alarms these views imply; return the changed alarms."""
        changed: list[dict[str, Any]] = []
        for v in views:
            for kind, cond in vehicle_conditions(v).items():
                a = self.set(kind, v["id"], cond)
                if a is not None:
                    changed.append(a)
        return changed

    def sync(self, kind: str, holding: Mapping[str, Condition]) -> list[dict[str, Any]]:
        """The subjects in ``holding`` are exactly those with an active ``kind`` alarm."""
        changed = [a for s, c in holding.items() if (a := self.set(kind, s, c)) is not None]
        with self._lock:
            gone = [s for (k, s) in self._active if k == kind and s not in holding]
        changed += [a for s in gone if (a := self.set(kind, s, None)) is not None]
        return changed

    def set(self, kind: str, subject: str, cond: Condition | None) -> dict[str, Any] | None:
        """Raise (``cond``) or clear (None) one alarm; the alarm if that changed anything.

        Kinds in ``CLEAR_HOLD_S`` clear only once their condition has stayed away that
        long: a fault that comes and goes within a second (odometry gaps while a vehicle
        restarts) stays one alarm instead of a new one every few hundred ms."""
        key = (kind, subject)
        with self._lock:
            current = self._active.get(key)
            now = self.clock()
            if cond is not None:
                self._absent.pop(key, None)
            elif current is not None and kind in CLEAR_HOLD_S:
                since = self._absent.setdefault(key, now)
                if now - since < CLEAR_HOLD_S[kind]:
                    return None
                del self._absent[key]
            if (cond is None) == (current is None):
                return None
            with Session(self.engine) as s, s.begin():
                if cond is not None:
                    row = AlarmRow(
                        severity=SEVERITY.get(kind, "warning"),
                        kind=kind,
                        corridor=cond.corridor,
                        subject=subject,
                        message_en=cond.message_en,
                        message_vi=cond.message_vi,
                        raised_at=now,
                    )
                    s.add(row)
                    s.flush()
                    view = _view(row)
                    self._active[key] = view
                else:
                    assert current is not None
                    cleared = s.get(AlarmRow, current["id"])
                    assert cleared is not None
                    cleared.cleared_at = now
                    s.flush()
                    view = _view(cleared)
                    del self._active[key]
            return view

    # -- operators --------------------------------------------------------------
    def ack(self, alarm_id: int, username: str, note: str | None = None) -> dict[str, Any]:
        with self._lock, Session(self.engine) as s, s.begin():
            row = s.get(AlarmRow, alarm_id)
            if row is None:
                raise UnknownAlarm(f"unknown alarm {alarm_id}")
            if row.acked_at is not None:
                raise AlreadyAcked(f"alarm {alarm_id} was acknowledged by {row.acked_by}")
            row.acked_by, row.acked_at, row.ack_note = username, self.clock(), note
            s.flush()
            view = _view(row)
            if row.cleared_at is None:
                self._active[(row.kind, row.subject)] = view
            return view

    def active(self) -> list[dict[str, Any]]:
        with self._lock:
            return sorted(self._active.values(), key=lambda a: a["id"])

    def list(self, active: bool | None = None, limit: int = 200) -> list[dict[str, Any]]:
        """Newest first; ``active``: only uncleared (True) or only cleared (False)."""
        q = select(AlarmRow).order_by(AlarmRow.id.desc()).limit(limit)
        if active is True:
            q = q.where(AlarmRow.cleared_at.is_(None))
        elif active is False:
            q = q.where(AlarmRow.cleared_at.is_not(None))
        with Session(self.engine) as s:
            return [_view(r) for r in s.scalars(q)]


def _view(r: AlarmRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "severity": r.severity,
        "kind": r.kind,
        "corridor": r.corridor,
        "subject": r.subject,
        "message_en": r.message_en,
        "message_vi": r.message_vi,
        "raised_at": iso(r.raised_at),
        "cleared_at": iso(r.cleared_at),
        "acked_by": r.acked_by,
        "acked_at": iso(r.acked_at),
    }


def iso(t: float | None) -> str | None:
    """Seconds since the epoch as ISO 8601 UTC (what the API shows)."""
    return None if t is None else datetime.fromtimestamp(t, UTC).isoformat(timespec="milliseconds")
