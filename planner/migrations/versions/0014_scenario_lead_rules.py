"""A scenario's lead rules (cost-model.md, "Fairness in what members actually pay"): 幹事は補助対象団体に限る
(lead_must_be_grant_eligible) and the 幹事事務費 per joint group and year of each mode (lead_work_lead_yen,
lead_work_unified_yen). Existing scenarios keep neither (false, 0 yen), as they planned before.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 15:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # as planner.db.models.YEN: SQLite's INTEGER already holds 64 bits (see 0009)
    yen = sa.Integer() if op.get_bind().dialect.name == "sqlite" else sa.BigInteger()
    # Plain ADD COLUMN: a batch rebuild of scenario would drop a table that plans reference (SQLite refuses it).
    op.add_column(
        "scenario",
        sa.Column("lead_must_be_grant_eligible", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.add_column("scenario", sa.Column("lead_work_lead_yen", yen, nullable=False, server_default="0"))
    op.add_column("scenario", sa.Column("lead_work_unified_yen", yen, nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.drop_column("lead_work_unified_yen")
        batch_op.drop_column("lead_work_lead_yen")
        batch_op.drop_column("lead_must_be_grant_eligible")
