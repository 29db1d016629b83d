"""Effect model (導入効果): versioned model documents, a need's own baseline figures, a body's staff cost per hour.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-30 17:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "effect_model",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_effect_model_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_effect_model")),
        sa.UniqueConstraint("version", name=op.f("uq_effect_model_version")),
    )
    # Plain ADD COLUMN (nullable, so SQLite supports it): a batch "move and copy" of body or need would drop a
    # table that others reference, which SQLite refuses on a populated database with foreign keys on.
    op.add_column("need", sa.Column("baseline_minutes_per_unit", sa.Float(), nullable=True))
    op.add_column("need", sa.Column("baseline_hours_per_year", sa.Float(), nullable=True))
    op.add_column("body", sa.Column("staff_cost_per_hour_yen", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_column("staff_cost_per_hour_yen")
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_column("baseline_hours_per_year")
        batch_op.drop_column("baseline_minutes_per_unit")
    op.drop_table("effect_model")
