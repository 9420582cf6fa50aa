"""Durable record of what the orchestrator did: an append-only event log and
the last known state of every vehicle (SQLAlchemy 2; SQLite by default,
PostgreSQL by URL). Each write is one transaction, so a stop at any moment
leaves either the whole change or none of it.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import JSON, Float, Integer, String, create_engine, event, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column


class Base(DeclarativeBase):
    pass


class EventRow(Base):
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    t: Mapped[float] = mapped_column(Float)
    kind: Mapped[str] = mapped_column(String(64))
    vehicle_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class VehicleRow(Base):
    __tablename__ = "vehicles"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    corridor: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(32))
    x_m: Mapped[float] = mapped_column(Float)
    y_m: Mapped[float] = mapped_column(Float)
    mission_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    updated_at: Mapped[float | None] = mapped_column(Float, nullable=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


class Store:
    def __init__(self, url: str) -> None:
        self.engine: Engine = create_engine(url)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        Base.metadata.create_all(self.engine)

    def append(self, entry: dict[str, Any]) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(
                EventRow(
                    t=float(entry.get("t", 0.0)),
                    kind=str(entry["event"]),
                    vehicle_id=entry.get("vehicle_id"),
                    payload=json.loads(json.dumps(entry)),
                )
            )

    def save_vehicles(self, views: list[dict[str, Any]]) -> None:
        with Session(self.engine) as s, s.begin():
            for v in views:
                m = v.get("mission")
                s.merge(
                    VehicleRow(
                        id=v["id"],
                        corridor=v["corridor"],
                        status=v["status"],
                        x_m=v["x_m"],
                        y_m=v["y_m"],
                        mission_id=m["id"] if m else None,
                        updated_at=v["clock_s"],
                    )
                )

    def events(self) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            return [r.payload for r in s.scalars(select(EventRow).order_by(EventRow.id))]

    def vehicles(self) -> dict[str, VehicleRow]:
        with Session(self.engine) as s:
            return {r.id: r for r in s.scalars(select(VehicleRow))}

    def close(self) -> None:
        self.engine.dispose()
