"""Consignments: current state, append-only transition log, vehicle registry columns.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision: str | None = "0001"
branch_labels: str | None = None
depends_on: str | None = None

REGISTRY = (
    sa.Column("home_node", sa.String(64), nullable=True),
    sa.Column("charging_node", sa.String(64), nullable=True),
    sa.Column("capabilities", sa.JSON(), nullable=True),
    sa.Column("battery_soc", sa.Float(), nullable=True),
    sa.Column("battery_kwh", sa.Float(), nullable=True),
    sa.Column("consumption_kwh_per_km", sa.Float(), nullable=True),
)


def upgrade() -> None:
    for column in REGISTRY:
        op.add_column("vehicles", sa.Column(column.name, column.type, nullable=True))
    op.create_table(
        "consignments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("customs_declaration", sa.String(32), nullable=False),
        sa.Column("declaration", sa.JSON(), nullable=False),
        sa.Column("container_number", sa.String(16), nullable=False),
        sa.Column("seal_number", sa.String(32), nullable=False),
        sa.Column("category", sa.String(16), nullable=False),
        sa.Column("fruit_kind", sa.String(16), nullable=True),
        sa.Column("temp_min_c", sa.Float(), nullable=True),
        sa.Column("temp_max_c", sa.Float(), nullable=True),
        sa.Column("direction", sa.String(8), nullable=False),
        sa.Column("corridor", sa.String(64), nullable=False),
        sa.Column("gross_weight_kg", sa.Float(), nullable=False),
        sa.Column("priority", sa.Integer(), nullable=False),
        sa.Column("quarantine_certificate", sa.String(64), nullable=True),
        sa.Column("lab_certificates", sa.JSON(), nullable=False),
        sa.Column("customs_cleared", sa.Boolean(), nullable=False),
        sa.Column("quarantine_cleared", sa.Boolean(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("declared_at", sa.Float(), nullable=False),
        sa.Column("updated_at", sa.Float(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("vehicle_id", sa.String(64), nullable=True),
        sa.Column("pickup", sa.String(64), nullable=True),
        sa.Column("attention", sa.Text(), nullable=True),
        sa.UniqueConstraint("customs_declaration", name="uq_consignments_customs_declaration"),
        sa.UniqueConstraint("vehicle_id", name="uq_consignments_vehicle_id"),
    )
    op.create_index("ix_consignments_state", "consignments", ["state"])
    op.create_index("ix_consignments_corridor", "consignments", ["corridor"])
    op.create_table(
        "consignment_events",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=True,
        ),
        sa.Column("consignment_id", sa.String(64), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("from_state", sa.String(16), nullable=False),
        sa.Column("to_state", sa.String(16), nullable=False),
        sa.Column("at", sa.Float(), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consignment_id"],
            ["consignments.id"],
            name="fk_consignment_events_consignment_id_consignments",
        ),
        sa.UniqueConstraint("consignment_id", "seq", name="uq_consignment_events_consignment_id"),
    )


def downgrade() -> None:
    op.drop_table("consignment_events")
    op.drop_index("ix_consignments_corridor", "consignments")
    op.drop_index("ix_consignments_state", "consignments")
    op.drop_table("consignments")
    with op.batch_alter_table("vehicles") as batch:  # SQLite drops columns by copying
        for column in reversed(REGISTRY):
            batch.drop_column(column.name)
