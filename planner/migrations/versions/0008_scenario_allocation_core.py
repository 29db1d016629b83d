"""Scenarios choose the core adjustment of their shares (allocation_core: "report" or "adjust").

Existing scenarios keep what they did before ("report": the method's own shares, now with their proof of
fairness); scenarios created from now on adjust into the core by default (the model's default).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of scenario would drop a table that plans reference (SQLite refuses it).
    op.add_column(
        "scenario", sa.Column("allocation_core", sa.String(length=10), nullable=False, server_default="report")
    )


def downgrade() -> None:
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.drop_column("allocation_core")
