"""Durable records of the handoff link: outbox, inbox (dedup), handoffs and custody ledger.

SQLAlchemy 2, tables prefixed ``handoff_`` on the one declarative base and in the one
Alembic history (revision 0004); SQLite in WAL mode by default, any SQLAlchemy URL
otherwise. Each `apply` is one transaction, so a `Delta` of fleet.handoff.session lands
whole or not at all: the state change, the frame that announces it and the custody record
can never disagree after a crash. The custody table's unique keys are a second guard
(after the session's own checks) that a consignment is booked once per direction and a
handoff once.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import (
    Float,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
    create_engine,
    delete,
    event,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Mapped, Session, mapped_column
from sqlalchemy.pool import StaticPool

from fleet.handoff.session import (
    CustodyRecord,
    Delta,
    Handoff,
    HState,
    OutboxEntry,
    Role,
    SessionState,
)
from smartgate.storage.base import Base
from smartgate.storage.store import migrate

__all__ = ["HandoffStore"]


class MetaRow(Base):
    __tablename__ = "handoff_meta"
    peer: Mapped[str] = mapped_column(String(96), primary_key=True)
    key: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(128))


class OutboxRow(Base):
    __tablename__ = "handoff_outbox"
    peer: Mapped[str] = mapped_column(String(96), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))
    handoff_id: Mapped[str] = mapped_column(String(64))
    frame: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[float] = mapped_column(Float)


class InboxRow(Base):
    __tablename__ = "handoff_inbox"
    peer: Mapped[str] = mapped_column(String(96), primary_key=True)
    message_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    sequence: Mapped[int] = mapped_column(Integer)
    received_at: Mapped[float] = mapped_column(Float, index=True)


class HandoffRow(Base):
    __tablename__ = "handoff_records"
    peer: Mapped[str] = mapped_column(String(96), primary_key=True)
    handoff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16))
    corridor_id: Mapped[str] = mapped_column(String(64))
    from_side: Mapped[int] = mapped_column(Integer)
    vehicle_id: Mapped[str] = mapped_column(String(64))
    consignment_id: Mapped[str] = mapped_column(String(64), index=True)
    offer_message_id: Mapped[str] = mapped_column(String(64))
    offer_digest: Mapped[str] = mapped_column(String(64))
    payload: Mapped[bytes] = mapped_column(LargeBinary)
    state: Mapped[str] = mapped_column(String(16), index=True)
    expires_at: Mapped[float] = mapped_column(Float)
    valid_until: Mapped[float] = mapped_column(Float)
    receipt_id: Mapped[str] = mapped_column(String(64))
    original_handoff_id: Mapped[str] = mapped_column(String(64))
    crossing: Mapped[bytes] = mapped_column(LargeBinary)
    updated_at: Mapped[float] = mapped_column(Float)


class CustodyRow(Base):
    __tablename__ = "handoff_custody"
    __table_args__ = (
        UniqueConstraint("peer", "from_side", "consignment_id", name="uq_handoff_custody_peer"),
    )
    peer: Mapped[str] = mapped_column(String(96), primary_key=True)
    handoff_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    receipt_id: Mapped[str] = mapped_column(String(64))
    from_side: Mapped[int] = mapped_column(Integer)
    # NULL for an empty vehicle, so the unique key only binds real consignments.
    consignment_id: Mapped[str | None] = mapped_column(String(64), nullable=True)
    vehicle_id: Mapped[str] = mapped_column(String(64))
    custody_at: Mapped[float] = mapped_column(Float)
    role: Mapped[str] = mapped_column(String(16))


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    # FULL: a committed Ack-covered frame must survive a power cut, not only a process crash.
    cur.execute("PRAGMA synchronous=FULL")
    cur.close()


def _handoff_row(peer: str, h: Handoff) -> HandoffRow:
    return HandoffRow(
        peer=peer,
        handoff_id=h.handoff_id,
        role=h.role.value,
        kind=h.kind,
        corridor_id=h.corridor_id,
        from_side=h.from_side,
        vehicle_id=h.vehicle_id,
        consignment_id=h.consignment_id,
        offer_message_id=h.offer_message_id,
        offer_digest=h.offer_digest,
        payload=h.payload,
        state=h.state.value,
        expires_at=h.expires_at,
        valid_until=h.valid_until,
        receipt_id=h.receipt_id,
        original_handoff_id=h.original_handoff_id,
        crossing=h.crossing,
        updated_at=h.updated_at,
    )


class HandoffStore:
    """All peers' link records in one database; every method takes the peer's system id."""

    def __init__(self, url: str = "sqlite:///var/handoff.db", *, synchronous: str = "") -> None:
        kwargs: dict[str, Any] = {}
        if url in ("sqlite://", "sqlite:///:memory:"):
            kwargs = {"poolclass": StaticPool, "connect_args": {"check_same_thread": False}}
        self.engine: Engine = create_engine(url, **kwargs)
        if self.engine.dialect.name == "sqlite":
            event.listen(self.engine, "connect", _sqlite_pragmas)
            if synchronous:
                mode = synchronous

                def _sync(dbapi_conn: Any, _record: Any) -> None:
                    dbapi_conn.execute(f"PRAGMA synchronous={mode}")

                event.listen(self.engine, "connect", _sync)
        migrate(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    def load(self, peer: str, epoch_prefix: str = "ep") -> SessionState:
        """The peer's state; a new stream_epoch is made (and stored) on first use."""
        with Session(self.engine) as s, s.begin():
            meta = {r.key: r.value for r in s.scalars(select(MetaRow).where(MetaRow.peer == peer))}
            if "own_epoch" not in meta:
                meta["own_epoch"] = f"{epoch_prefix}-{uuid.uuid4().hex[:16]}"
                s.add(MetaRow(peer=peer, key="own_epoch", value=meta["own_epoch"]))
            state = SessionState(
                own_epoch=meta["own_epoch"],
                seq_lease=int(meta.get("seq_lease", 0)),
                last_durable=int(meta.get("last_durable", 0)),
                peer_epoch=meta.get("peer_epoch", ""),
                peer_highest=int(meta.get("peer_highest", 0)),
                acked=int(meta.get("acked", 0)),
            )
            for o in s.scalars(
                select(OutboxRow).where(OutboxRow.peer == peer).order_by(OutboxRow.sequence)
            ):
                state.outbox[o.sequence] = OutboxEntry(
                    o.sequence, o.message_id, o.kind, o.handoff_id, o.frame, o.created_at
                )
            state.seen = set(s.scalars(select(InboxRow.message_id).where(InboxRow.peer == peer)))
            for r in s.scalars(select(HandoffRow).where(HandoffRow.peer == peer)):
                state.handoffs[r.handoff_id] = Handoff(
                    handoff_id=r.handoff_id,
                    role=Role(r.role),
                    kind=r.kind,
                    corridor_id=r.corridor_id,
                    from_side=r.from_side,
                    vehicle_id=r.vehicle_id,
                    consignment_id=r.consignment_id,
                    offer_message_id=r.offer_message_id,
                    offer_digest=r.offer_digest,
                    payload=r.payload,
                    state=HState(r.state),
                    expires_at=r.expires_at,
                    valid_until=r.valid_until,
                    receipt_id=r.receipt_id,
                    original_handoff_id=r.original_handoff_id,
                    crossing=r.crossing,
                    updated_at=r.updated_at,
                )
            for c in s.scalars(select(CustodyRow).where(CustodyRow.peer == peer)):
                state.custody[c.handoff_id] = CustodyRecord(
                    c.handoff_id,
                    c.receipt_id,
                    c.from_side,
                    c.consignment_id or "",
                    c.vehicle_id,
                    c.custody_at,
                    Role(c.role),
                )
        return state

    def apply(self, peer: str, delta: Delta) -> None:
        """Commit one step's changes atomically (before its frames are sent)."""
        if not delta:
            return
        with Session(self.engine) as s, s.begin():
            for key, value in delta.meta.items():
                s.merge(MetaRow(peer=peer, key=key, value=str(value)))
            for e in delta.outbox_add:
                s.add(
                    OutboxRow(
                        peer=peer,
                        sequence=e.sequence,
                        message_id=e.message_id,
                        kind=e.kind,
                        handoff_id=e.handoff_id,
                        frame=e.frame,
                        created_at=e.created_at,
                    )
                )
            s.flush()
            if delta.outbox_drop_upto:
                s.execute(
                    delete(OutboxRow).where(
                        OutboxRow.peer == peer, OutboxRow.sequence <= delta.outbox_drop_upto
                    )
                )
            for message_id, sequence, at in delta.seen_add:
                s.add(InboxRow(peer=peer, message_id=message_id, sequence=sequence, received_at=at))
            for h in delta.handoffs.values():
                s.merge(_handoff_row(peer, h))
            for c in delta.custody_add:
                s.add(
                    CustodyRow(
                        peer=peer,
                        handoff_id=c.handoff_id,
                        receipt_id=c.receipt_id,
                        from_side=c.from_side,
                        consignment_id=c.consignment_id or None,
                        vehicle_id=c.vehicle_id,
                        custody_at=c.custody_at,
                        role=c.role.value,
                    )
                )

    def prune_inbox(self, peer: str, older_than: float) -> int:
        """Forget dedup ids older than the retention (spec: at least 30 days)."""
        with Session(self.engine) as s, s.begin():
            result = s.execute(
                delete(InboxRow).where(InboxRow.peer == peer, InboxRow.received_at < older_than)
            )
            return int(getattr(result, "rowcount", 0) or 0)

    def custody(self, peer: str) -> list[CustodyRecord]:
        return sorted(self.load(peer).custody.values(), key=lambda c: c.handoff_id)
