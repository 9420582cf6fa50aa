"""Append-only, tamper-evident audit log of operator actions (who, what, when, result).

Each entry stores the hash of the one before it and its own hash,
``sha256(prev_hash + canonical JSON of the entry)``, so changing, removing or
reordering any stored entry breaks the chain at that point and :meth:`verify`
names it. ``prev_hash`` is unique: two writers cannot fork the chain. There is
deliberately no update or delete method.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from smartgate.storage.tables import AuditRow

GENESIS = "0" * 64


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    first_bad_id: int | None


def canonical(entry: dict[str, Any]) -> str:
    """The entry's fields (not its hashes) as one deterministic JSON text."""
    return json.dumps(entry, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, entry: dict[str, Any]) -> str:
    return hashlib.sha256((prev_hash + canonical(entry)).encode()).hexdigest()


def _fields(r: AuditRow) -> dict[str, Any]:
    return {
        "id": r.id,
        "at": r.at,
        "username": r.username,
        "role": r.role,
        "action": r.action,
        "target": r.target,
        "params": r.params,
        "result": r.result,
        "detail": r.detail,
    }


class AuditLog:
    def __init__(self, engine: Engine, *, clock: Callable[[], float] = time.time) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()

    def append(
        self,
        *,
        username: str | None,
        role: str | None,
        action: str,
        target: str | None,
        params: dict[str, Any],
        result: str,
        detail: str = "",
    ) -> dict[str, Any]:
        """Add one entry at the end of the chain and return it (with its hashes)."""
        params = json.loads(canonical(params))  # exactly what the JSON column gives back
        with self._lock, Session(self.engine) as s, s.begin():
            last = s.scalars(select(AuditRow).order_by(AuditRow.id.desc()).limit(1)).first()
            row = AuditRow(
                id=(last.id + 1) if last else 1,
                at=round(self.clock(), 6),
                username=username,
                role=role,
                action=action,
                target=target,
                params=params,
                result=result,
                detail=detail,
                prev_hash=last.hash if last else GENESIS,
            )
            row.hash = entry_hash(row.prev_hash, _fields(row))
            s.add(row)
            return self.view(row)

    def entries(self, limit: int = 100, before_id: int | None = None) -> list[dict[str, Any]]:
        """Newest first; page back with ``before_id``."""
        q = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if before_id is not None:
            q = q.where(AuditRow.id < before_id)
        with Session(self.engine) as s:
            return [self.view(r) for r in s.scalars(q)]

    def verify(self) -> Verification:
        """Walk the whole chain; the first entry whose links or hash do not hold is bad."""
        prev, n, expected_id = GENESIS, 0, 1
        with Session(self.engine) as s:
            for r in s.scalars(select(AuditRow).order_by(AuditRow.id)):
                n += 1
                if (
                    r.id != expected_id
                    or r.prev_hash != prev
                    or r.hash != entry_hash(prev, _fields(r))
                ):
                    return Verification(False, n, r.id)
                prev, expected_id = r.hash, r.id + 1
        return Verification(True, n, None)

    @staticmethod
    def view(r: AuditRow) -> dict[str, Any]:
        return {**_fields(r), "prev_hash": r.prev_hash, "hash": r.hash}
