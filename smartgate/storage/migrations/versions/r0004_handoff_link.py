"""Handoff link: outbox, inbox (dedup), handoffs and custody ledger join the one history.

Until this revision `HandoffStore` made its ``handoff_*`` tables itself (``create_all``).
A database that already has them is adopted: the missing tables are created, and the
custody ledger, whose unique key create_all left unnamed, is copied into a table with the
named key the migrations refer to; no link record is lost.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision: str | None = "0003"
branch_labels: str | None = None
depends_on: str | None = None


def _tables() -> dict[str, list[sa.Column[object] | sa.Constraint | sa.Index]]:
    return {
        "handoff_meta": [
            sa.Column("peer", sa.String(96), primary_key=True),
            sa.Column("key", sa.String(32), primary_key=True),
            sa.Column("value", sa.String(128), nullable=False),
        ],
        "handoff_outbox": [
            sa.Column("peer", sa.String(96), primary_key=True),
            sa.Column("sequence", sa.Integer(), primary_key=True, autoincrement=False),
            sa.Column("message_id", sa.String(64), nullable=False),
            sa.Column("kind", sa.String(32), nullable=False),
            sa.Column("handoff_id", sa.String(64), nullable=False),
            sa.Column("frame", sa.LargeBinary(), nullable=False),
            sa.Column("created_at", sa.Float(), nullable=False),
        ],
        "handoff_inbox": [
            sa.Column("peer", sa.String(96), primary_key=True),
            sa.Column("message_id", sa.String(64), primary_key=True),
            sa.Column("sequence", sa.Integer(), nullable=False),
            sa.Column("received_at", sa.Float(), nullable=False),
            sa.Index("ix_handoff_inbox_received_at", "received_at"),
        ],
        "handoff_records": [
            sa.Column("peer", sa.String(96), primary_key=True),
            sa.Column("handoff_id", sa.String(64), primary_key=True),
            sa.Column("role", sa.String(16), nullable=False),
            sa.Column("kind", sa.String(16), nullable=False),
            sa.Column("corridor_id", sa.String(64), nullable=False),
            sa.Column("from_side", sa.Integer(), nullable=False),
            sa.Column("vehicle_id", sa.String(64), nullable=False),
            sa.Column("consignment_id", sa.String(64), nullable=False),
            sa.Column("offer_message_id", sa.String(64), nullable=False),
            sa.Column("offer_digest", sa.String(64), nullable=False),
            sa.Column("payload", sa.LargeBinary(), nullable=False),
            sa.Column("state", sa.String(16), nullable=False),
            sa.Column("expires_at", sa.Float(), nullable=False),
            sa.Column("valid_until", sa.Float(), nullable=False),
            sa.Column("receipt_id", sa.String(64), nullable=False),
            sa.Column("original_handoff_id", sa.String(64), nullable=False),
            sa.Column("crossing", sa.LargeBinary(), nullable=False),
            sa.Column("updated_at", sa.Float(), nullable=False),
            sa.Index("ix_handoff_records_consignment_id", "consignment_id"),
            sa.Index("ix_handoff_records_state", "state"),
        ],
        "handoff_custody": [
            sa.Column("peer", sa.String(96), primary_key=True),
            sa.Column("handoff_id", sa.String(64), primary_key=True),
            sa.Column("receipt_id", sa.String(64), nullable=False),
            sa.Column("from_side", sa.Integer(), nullable=False),
            sa.Column("consignment_id", sa.String(64), nullable=True),
            sa.Column("vehicle_id", sa.String(64), nullable=False),
            sa.Column("custody_at", sa.Float(), nullable=False),
            sa.Column("role", sa.String(16), nullable=False),
            sa.UniqueConstraint(
                "peer", "from_side", "consignment_id", name="uq_handoff_custody_peer"
            ),
        ],
    }


UNIQUE_CUSTODY = "uq_handoff_custody_peer"


def _create(name: str, parts: list[sa.Column[object] | sa.Constraint | sa.Index]) -> None:
    op.create_table(name, *[p for p in parts if not isinstance(p, sa.Index)])
    for ix in parts:
        if isinstance(ix, sa.Index):
            op.create_index(str(ix.name), name, [str(c) for c in ix.expressions])


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    present = set(inspector.get_table_names())
    tables = _tables()
    for name, parts in tables.items():
        if name not in present:
            _create(name, parts)
    if "handoff_custody" not in present:
        return
    unique = [u["name"] for u in inspector.get_unique_constraints("handoff_custody")]
    if UNIQUE_CUSTODY in unique:
        return
    if op.get_bind().dialect.name == "postgresql" and unique and unique[0]:
        old = unique[0]
        op.execute(f'ALTER TABLE handoff_custody RENAME CONSTRAINT "{old}" TO {UNIQUE_CUSTODY}')
    else:  # SQLite cannot name an existing constraint: copy into a new table
        op.rename_table("handoff_custody", "handoff_custody_0003")
        _create("handoff_custody", tables["handoff_custody"])
        op.execute("INSERT INTO handoff_custody SELECT * FROM handoff_custody_0003")
        op.drop_table("handoff_custody_0003")


def downgrade() -> None:
    for name in reversed(list(_tables())):
        op.drop_table(name)
