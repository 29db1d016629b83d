"""What was published is frozen (#31): a published version keeps the title, issue date, issuer and data source its
documents printed at publication, so renaming the scenario or changing the document settings later leaves them
byte-identical. Versions published before this migration have none and read the live values as before.

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-07 15:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_release") as batch:
        batch.add_column(sa.Column("frozen", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("plan_release") as batch:
        batch.drop_column("frozen")
