"""One-time sign-up codes (#31): an account created by the administrator's CSV import has no password anyone knows
until its person signs up with the printed code; the code is kept only as a hash, with its expiry.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 15:10:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.add_column(sa.Column("signup_code_hash", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("signup_expires_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("app_user") as batch:
        batch.drop_column("signup_expires_at")
        batch.drop_column("signup_code_hash")
