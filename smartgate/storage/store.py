"""Durable record of what the orchestrator did and carries (SQLAlchemy 2; SQLite by
default, PostgreSQL by URL).

Tables: ``events`` (append-only log of everything the orchestrator did),
``vehicles`` (the registry and last known state of every vehicle),
``consignments`` (current state of every consignment, its vehicle binding) and
``consignment_events`` (append-only log of every lifecycle transition, beside
the current state). The schema is owned by the Alembic migrations in
``smartgate/storage/migrations``; :class:`Store` upgrades the database to the newest
revision when it opens it, so an installed package migrates its own database.

Each write is one transaction: a consignment's new state, its transition
events and its log entries commit together or not at all, and a version
number on the row refuses a write based on a stale read (two writers, or a
process that came back from the dead), so a stop at any moment leaves the
database consistent.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    func,
    insert,
    inspect,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped, Session, mapped_column

from fleet.cargo.consignments import (
    Consignment,
    ConsignmentState,
    Direction,
    FruitKind,
    Goods,
    GoodsCategory,
    LabTest,
    TransitionEvent,
)
from fleet.yard.policy import Lift, LiftKind
from smartgate.storage.base import Base

BASELINE_REVISION = "0001"  # the schema Store.create_all made before migrations existed


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
    # Registry (revision 0002): what the dispatcher needs to know about the vehicle.
    home_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    charging_node: Mapped[str | None] = mapped_column(String(64), nullable=True)
    capabilities: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    battery_soc: Mapped[float | None] = mapped_column(Float, nullable=True)
    battery_kwh: Mapped[float | None] = mapped_column(Float, nullable=True)
    consumption_kwh_per_km: Mapped[float | None] = mapped_column(Float, nullable=True)


class ConsignmentRow(Base):
    __tablename__ = "consignments"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    customs_declaration: Mapped[str] = mapped_column(String(32), unique=True)
    declaration: Mapped[dict[str, Any]] = mapped_column(JSON)  # the message as received
    container_number: Mapped[str] = mapped_column(String(16))
    seal_number: Mapped[str] = mapped_column(String(32))
    category: Mapped[str] = mapped_column(String(16))
    fruit_kind: Mapped[str | None] = mapped_column(String(16), nullable=True)
    temp_min_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    temp_max_c: Mapped[float | None] = mapped_column(Float, nullable=True)
    direction: Mapped[str] = mapped_column(String(8))
    corridor: Mapped[str] = mapped_column(String(64), index=True)
    gross_weight_kg: Mapped[float] = mapped_column(Float)
    priority: Mapped[int] = mapped_column(Integer)
    quarantine_certificate: Mapped[str | None] = mapped_column(String(64), nullable=True)
    lab_certificates: Mapped[dict[str, str]] = mapped_column(JSON)
    customs_cleared: Mapped[bool] = mapped_column(Boolean)
    quarantine_cleared: Mapped[bool] = mapped_column(Boolean)
    state: Mapped[str] = mapped_column(String(16), index=True)
    declared_at: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[float] = mapped_column(Float)
    version: Mapped[int] = mapped_column(Integer)
    # The vehicle carrying (or fetching) it; unique: a vehicle carries one consignment.
    vehicle_id: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    pickup: Mapped[str | None] = mapped_column(String(64), nullable=True)
    attention: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The crane lift ordered for it (see fleet.yard.policy.Lift), pending or done.
    lift: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


class ConsignmentEventRow(Base):
    __tablename__ = "consignment_events"
    __table_args__ = (UniqueConstraint("consignment_id", "seq"),)
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True
    )
    consignment_id: Mapped[str] = mapped_column(ForeignKey("consignments.id"))
    seq: Mapped[int] = mapped_column(Integer)  # 0, 1, ... per consignment
    from_state: Mapped[str] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    at: Mapped[float] = mapped_column(Float)
    actor: Mapped[str] = mapped_column(String(128))
    reason: Mapped[str] = mapped_column(Text)


class StoreConflict(RuntimeError):
    """A write refused because the row changed since it was read (or already exists)."""


class DuplicateConsignment(StoreConflict):
    """The consignment id or its customs declaration number is already stored."""


@dataclass
class ConsignmentRecord:
    """A consignment with what the desk keeps beside it; the unit of one transaction.

    ``persisted`` counts how many of ``consignment.history`` are stored, so a
    write appends exactly the new transitions; ``version`` is the row's
    version this record was read at.
    """

    consignment: Consignment
    declaration: dict[str, Any]
    vehicle_id: str | None = None
    pickup: str | None = None
    attention: str | None = None
    lift: Lift | None = None  # the lift ordered for it at its pickup (pending, or done)
    version: int = 0
    persisted: int = 0
    log: list[dict[str, Any]] = field(default_factory=list)  # not stored with the row

    @property
    def id(self) -> str:
        return self.consignment.id


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: a killed process loses nothing
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic configuration for the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("smartgate.storage") / "migrations"))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def migrate(engine: Engine, revision: str = "head") -> None:
    """Upgrade the database to ``revision``; a pre-migration database is adopted first."""
    with engine.begin() as conn:
        tables = set(inspect(conn).get_table_names())
        cfg = alembic_config(conn)
        if "alembic_version" not in tables and {"events", "vehicles"} <= tables:
            command.stamp(cfg, BASELINE_REVISION)  # made by create_all before 0001 existed
        command.upgrade(cfg, revision)


class Store:
    def __init__(self, url: str, *, upgrade: bool = True) -> None:
        self.engine: Engine = create_engine(url, pool_pre_ping=True)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
        if upgrade:
            migrate(self.engine)

    # -- orchestrator log and vehicles ------------------------------------------
    def append(self, entry: dict[str, Any]) -> None:
        with Session(self.engine) as s, s.begin():
            s.add(_event_row(entry))

    def save_vehicles(self, views: list[dict[str, Any]]) -> None:
        """Last known position and status; the registry columns are left as they are."""
        with Session(self.engine) as s, s.begin():
            for v in views:
                m = v.get("mission")
                row = s.get(VehicleRow, v["id"]) or VehicleRow(id=v["id"])
                row.corridor = v["corridor"]
                row.status = v["status"]
                row.x_m = v["x_m"]
                row.y_m = v["y_m"]
                row.mission_id = m["id"] if m else None
                row.updated_at = v["clock_s"]
                s.add(row)

    def register_vehicle(
        self,
        vehicle_id: str,
        corridor: str,
        *,
        home_node: str,
        charging_node: str,
        capabilities: Sequence[str],
        battery_soc: float,
        battery_kwh: float,
        consumption_kwh_per_km: float,
    ) -> None:
        """Insert or update a vehicle's registry entry (position and status untouched)."""
        with Session(self.engine) as s, s.begin():
            row = s.get(VehicleRow, vehicle_id)
            if row is None:
                row = VehicleRow(
                    id=vehicle_id, corridor=corridor, status="offline", x_m=0.0, y_m=0.0
                )
            row.corridor = corridor
            row.home_node = home_node
            row.charging_node = charging_node
            row.capabilities = sorted(capabilities)
            row.battery_soc = battery_soc
            row.battery_kwh = battery_kwh
            row.consumption_kwh_per_km = consumption_kwh_per_km
            s.add(row)

    def events(self) -> list[dict[str, Any]]:
        with Session(self.engine) as s:
            return [r.payload for r in s.scalars(select(EventRow).order_by(EventRow.id))]

    def vehicles(self) -> dict[str, VehicleRow]:
        with Session(self.engine) as s:
            return {r.id: r for r in s.scalars(select(VehicleRow))}

    # -- consignments -----------------------------------------------------------
    def create_consignment(self, rec: ConsignmentRecord) -> None:
        """Insert a new consignment with its history so far, in one transaction.

        Raises :class:`DuplicateConsignment` if its id or declaration number is taken
        (the unique constraints decide, so two concurrent intakes cannot both win).
        """
        try:
            with Session(self.engine) as s, s.begin():
                s.add(_row_from(rec, version=1))
                s.flush()
                self._append_events(s, rec)
        except IntegrityError as e:
            raise DuplicateConsignment(
                f"consignment {rec.id} or declaration "
                f"{rec.consignment.customs_declaration} already exists"
            ) from e
        rec.version = 1
        rec.persisted = len(rec.consignment.history)
        rec.log.clear()

    def save_consignment(self, rec: ConsignmentRecord) -> None:
        """Write ``rec``'s current state, its new transitions and log entries atomically.

        Raises :class:`StoreConflict` (and writes nothing) if the stored row is no
        longer the version ``rec`` was read at.
        """
        c = rec.consignment
        values = _row_values(rec)
        try:
            with Session(self.engine) as s, s.begin():
                result = s.execute(
                    update(ConsignmentRow)
                    .where(ConsignmentRow.id == c.id, ConsignmentRow.version == rec.version)
                    .values(**values, version=rec.version + 1)
                )
                if getattr(result, "rowcount", 0) != 1:
                    raise StoreConflict(
                        f"consignment {c.id} changed in the database since version {rec.version}"
                    )
                self._append_events(s, rec)
        except IntegrityError as e:  # e.g. its vehicle is already bound to another one
            raise StoreConflict(f"consignment {c.id}: {e.orig}") from e
        rec.version += 1
        rec.persisted = len(c.history)
        rec.log.clear()

    def _append_events(self, s: Session, rec: ConsignmentRecord) -> None:
        new = rec.consignment.history[rec.persisted :]
        if new:
            s.execute(
                insert(ConsignmentEventRow),
                [
                    {
                        "consignment_id": e.consignment_id,
                        "seq": rec.persisted + i,
                        "from_state": e.from_state.value,
                        "to_state": e.to_state.value,
                        "at": e.at,
                        "actor": e.actor,
                        "reason": e.reason,
                    }
                    for i, e in enumerate(new)
                ],
            )
        for entry in rec.log:
            s.add(_event_row(entry))

    def consignment(self, consignment_id: str) -> ConsignmentRecord | None:
        with Session(self.engine) as s:
            row = s.get(ConsignmentRow, consignment_id)
            return None if row is None else self._records(s, [row])[0]

    def consignment_by_declaration(self, number: str) -> ConsignmentRecord | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(ConsignmentRow).where(ConsignmentRow.customs_declaration == number)
            ).one_or_none()
            return None if row is None else self._records(s, [row])[0]

    def consignments(
        self,
        *,
        states: Sequence[str] = (),
        exclude_states: Sequence[str] = (),
        corridor: str | None = None,
        limit: int | None = None,
        offset: int = 0,
    ) -> list[ConsignmentRecord]:
        """Consignments with their histories, oldest declared first."""
        q = select(ConsignmentRow)
        if states:
            q = q.where(ConsignmentRow.state.in_(list(states)))
        if exclude_states:
            q = q.where(ConsignmentRow.state.not_in(list(exclude_states)))
        if corridor is not None:
            q = q.where(ConsignmentRow.corridor == corridor)
        q = q.order_by(ConsignmentRow.declared_at, ConsignmentRow.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with Session(self.engine) as s:
            return self._records(s, list(s.scalars(q)))

    def count_consignments(self) -> int:
        with Session(self.engine) as s:
            return int(s.scalar(select(func.count()).select_from(ConsignmentRow)) or 0)

    def consignment_events(self) -> list[ConsignmentEventRow]:
        """The whole transition log in commit order (tests and audits)."""
        with Session(self.engine) as s:
            return list(s.scalars(select(ConsignmentEventRow).order_by(ConsignmentEventRow.id)))

    @staticmethod
    def _records(s: Session, rows: list[ConsignmentRow]) -> list[ConsignmentRecord]:
        history: dict[str, list[TransitionEvent]] = {r.id: [] for r in rows}
        ids = list(history)
        for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
            q = (
                select(ConsignmentEventRow)
                .where(ConsignmentEventRow.consignment_id.in_(chunk))
                .order_by(ConsignmentEventRow.consignment_id, ConsignmentEventRow.seq)
            )
            for e in s.scalars(q):
                history[e.consignment_id].append(
                    TransitionEvent(
                        e.consignment_id,
                        ConsignmentState(e.from_state),
                        ConsignmentState(e.to_state),
                        e.at,
                        e.actor,
                        e.reason,
                    )
                )
        return [_record_from(r, history[r.id]) for r in rows]

    def close(self) -> None:
        self.engine.dispose()


@contextmanager
def opened(url: str) -> Iterator[Store]:
    store = Store(url)
    try:
        yield store
    finally:
        store.close()


def _event_row(entry: dict[str, Any]) -> EventRow:
    return EventRow(
        t=float(entry.get("t", 0.0)),
        kind=str(entry["event"]),
        vehicle_id=entry.get("vehicle_id"),
        payload=json.loads(json.dumps(entry)),
    )


def _row_values(rec: ConsignmentRecord) -> dict[str, Any]:
    c = rec.consignment
    return {
        "quarantine_certificate": c.quarantine_certificate,
        "lab_certificates": {t.value: n for t, n in sorted(c.lab_certificates.items())},
        "customs_cleared": c.customs_cleared,
        "quarantine_cleared": c.quarantine_cleared,
        "state": c.state.value,
        "updated_at": c.last_changed_at,
        "vehicle_id": rec.vehicle_id,
        "pickup": rec.pickup,
        "attention": rec.attention,
        "priority": c.priority,  # an operator may re-prioritise it
        "lift": _lift_json(rec.lift),
    }


def _row_from(rec: ConsignmentRecord, version: int) -> ConsignmentRow:
    c = rec.consignment
    return ConsignmentRow(
        id=c.id,
        customs_declaration=c.customs_declaration,
        declaration=json.loads(json.dumps(rec.declaration)),
        container_number=c.container_number,
        seal_number=c.seal_number,
        category=c.goods.category.value,
        fruit_kind=c.goods.fruit_kind.value if c.goods.fruit_kind else None,
        temp_min_c=c.goods.temp_min_c,
        temp_max_c=c.goods.temp_max_c,
        direction=c.direction.value,
        corridor=c.corridor,
        gross_weight_kg=c.gross_weight_kg,
        declared_at=c.declared_at,
        version=version,
        **_row_values(rec),
    )


def _record_from(r: ConsignmentRow, history: list[TransitionEvent]) -> ConsignmentRecord:
    c = Consignment(
        id=r.id,
        container_number=r.container_number,
        seal_number=r.seal_number,
        goods=Goods(
            GoodsCategory(r.category),
            FruitKind(r.fruit_kind) if r.fruit_kind else None,
            r.temp_min_c,
            r.temp_max_c,
        ),
        direction=Direction(r.direction),
        corridor=r.corridor,
        customs_declaration=r.customs_declaration,
        gross_weight_kg=r.gross_weight_kg,
        declared_at=r.declared_at,
        priority=r.priority,
        quarantine_certificate=r.quarantine_certificate,
        lab_certificates={LabTest(k): v for k, v in r.lab_certificates.items()},
        customs_cleared=r.customs_cleared,
        quarantine_cleared=r.quarantine_cleared,
        state=ConsignmentState(r.state),
        history=history,
    )
    return ConsignmentRecord(
        consignment=c,
        declaration=dict(r.declaration),
        vehicle_id=r.vehicle_id,
        pickup=r.pickup,
        attention=r.attention,
        lift=_lift_from(r.lift),
        version=r.version,
        persisted=len(history),
    )


def _lift_json(lift: Lift | None) -> dict[str, Any] | None:
    if lift is None:
        return None
    d = asdict(lift)
    d["kind"] = lift.kind.value
    return d


def _lift_from(d: dict[str, Any] | None) -> Lift | None:
    if d is None:
        return None
    return Lift(**{**d, "kind": LiftKind(d["kind"])})


# The operator features' tables: imported so Base.metadata is the whole schema.
from smartgate.storage import tables as _tables  # noqa: E402, F401
