"""A published version can be withdrawn (取り下げ): who withdrew it, when and why.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-07 16:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild of plan_release would drop a table that answers reference (SQLite refuses it).
    op.add_column("plan_release", sa.Column("withdrawn_at", sa.DateTime(), nullable=True))
    op.add_column("plan_release", sa.Column("withdrawn_by", sa.Integer(), nullable=True))
    op.add_column("plan_release", sa.Column("withdrawal_reason", sa.Text(), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("plan_release", schema=None) as batch_op:
        batch_op.drop_column("withdrawal_reason")
        batch_op.drop_column("withdrawn_by")
        batch_op.drop_column("withdrawn_at")
