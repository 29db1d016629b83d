"""A scenario's 1グループの上限団体数 (#31): the cap on a joint group's members, fed to the optimiser as the joint
modes' max_members (a vendor quote's smaller cap still wins). Existing scenarios have none.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("scenario") as batch:
        batch.add_column(sa.Column("max_members", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("scenario") as batch:
        batch.drop_column("max_members")
