"""Lifecycle races (issue 30): a series counts the versions it has given, and a version names its re-plan.

``plan_series.last_version`` is the counter adoption increments (an UPDATE the concurrent adoptions into one series
take in turn, where reading the highest version and inserting the next raced); existing series start at their
highest version. ``plan_release.replan_scenario_id`` is the scenario re-planned from the version, set by a
conditional UPDATE so that two coordinators pressing 再計画 together make one scenario; existing re-plans are not
known by the database (their scenarios carry the release in their overrides) and stay unmarked.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07 15:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch rebuild would drop tables that others reference (SQLite refuses it).
    op.add_column("plan_series", sa.Column("last_version", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("plan_release", sa.Column("replan_scenario_id", sa.Integer(), nullable=True))
    op.execute(
        "UPDATE plan_series SET last_version = COALESCE("
        "(SELECT MAX(plan_release.version) FROM plan_release WHERE plan_release.series_id = plan_series.id), 0)"
    )


def downgrade() -> None:
    with op.batch_alter_table("plan_release", schema=None) as batch_op:
        batch_op.drop_column("replan_scenario_id")
    with op.batch_alter_table("plan_series", schema=None) as batch_op:
        batch_op.drop_column("last_version")
