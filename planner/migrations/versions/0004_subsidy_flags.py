"""Subsidy flags: a body's 不交付団体 mark (no special-tax estimate) and a need's service for residents in the
条件不利地域 (what special-tax measure (a) asks of the project itself).

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Existing rows read as false: no body is a 不交付団体 and no need a resident service until someone says so,
    # which is what the estimate assumed for measure (a) being claimed only where it is declared.
    # Plain ADD COLUMN (SQLite supports it with a constant default): a batch "move and copy" of body would drop a
    # table that needs and users reference, which SQLite's foreign keys refuse on a populated database.
    op.add_column("body", sa.Column("no_allocation_tax", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.add_column(
        "need", sa.Column("serves_disadvantaged_area", sa.Boolean(), nullable=False, server_default=sa.false())
    )


def downgrade() -> None:
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_column("serves_disadvantaged_area")
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("no_allocation_tax")
