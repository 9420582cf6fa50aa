"""Baseline: the orchestrator's event log and the vehicles' last known state.

This is the schema ``Store`` created with ``create_all`` before migrations
existed; such databases are stamped at this revision and upgraded from it.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision: str | None = None
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("t", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(64), nullable=False),
        sa.Column("vehicle_id", sa.String(64), nullable=True),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_table(
        "vehicles",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("corridor", sa.String(64), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("x_m", sa.Float(), nullable=False),
        sa.Column("y_m", sa.Float(), nullable=False),
        sa.Column("mission_id", sa.String(64), nullable=True),
        sa.Column("updated_at", sa.Float(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("vehicles")
    op.drop_table("events")
