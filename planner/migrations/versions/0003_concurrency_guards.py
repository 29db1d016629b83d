"""Concurrency guards: at most one active need per body and category, enforced by a partial unique index.

Concurrent registrations and imports used to race past the check made by reading first and leave several active
needs of one category for one body (a consortium of a town with itself). Such duplicates already in the database
are resolved before the index is built: the oldest active need of each body and category stays active, the later
ones are withdrawn (their version bumped and their notes saying why), so nothing is deleted.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ACTIVE = sa.text("status = 'active'")
WITHDRAWN_NOTE = "（重複のため取下げ: 同じ団体・分野の登録中ニーズが他にありました）"


def upgrade() -> None:
    need = sa.table(
        "need",
        sa.column("id", sa.Integer),
        sa.column("body_code", sa.String),
        sa.column("category_id", sa.String),
        sa.column("status", sa.String),
        sa.column("version", sa.Integer),
        sa.column("notes", sa.Text),
    )
    older = sa.alias(need, "older")
    has_older_twin = sa.exists().where(
        older.c.body_code == need.c.body_code,
        older.c.category_id == need.c.category_id,
        older.c.status == "active",
        older.c.id < need.c.id,
    )
    op.execute(
        need.update()
        .where(need.c.status == "active", has_older_twin)
        .values(
            status="withdrawn", version=need.c.version + 1, notes=sa.func.coalesce(need.c.notes, "") + WITHDRAWN_NOTE
        )
    )
    op.create_index(
        "uq_need_active_body_category",
        "need",
        ["body_code", "category_id"],
        unique=True,
        sqlite_where=ACTIVE,
        postgresql_where=ACTIVE,
    )


def downgrade() -> None:
    op.drop_index("uq_need_active_body_category", table_name="need", sqlite_where=ACTIVE, postgresql_where=ACTIVE)
