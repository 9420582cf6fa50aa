"""Consignments: the crane lift ordered for a consignment (pending, started, done).

Loading is an explicit step since issue 21: the vehicle stands at the spot, a lift is
ordered, and the consignment counts as loaded only when the crane (or a yard operator)
says the lift is done. The lift is kept with the consignment's row, so a restart
neither orders it twice nor forgets that it had started.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision: str | None = "0004"
branch_labels: str | None = None
depends_on: str | None = None


def upgrade() -> None:
    with op.batch_alter_table("consignments") as batch:
        batch.add_column(sa.Column("lift", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("consignments") as batch:
        batch.drop_column("lift")
