"""Lead-run consortia (#29): a municipality leads a 協議会 for a category and invites bodies across prefecture borders;
its scenarios and plan series carry the partnership.

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "partnership",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=120), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("category_id", sa.String(length=30), nullable=False),
        sa.Column("lead_body_code", sa.String(length=6), nullable=False),
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], name="fk_partnership_category_id_category"),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name="fk_partnership_created_by_app_user"),
        sa.ForeignKeyConstraint(["lead_body_code"], ["body.code"], name="fk_partnership_lead_body_code_body"),
        sa.PrimaryKeyConstraint("id", name="pk_partnership"),
    )
    op.create_index("ix_partnership_lead_body_code", "partnership", ["lead_body_code"])
    op.create_index("ix_partnership_prefecture_code", "partnership", ["prefecture_code"])
    op.create_table(
        "partnership_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("partnership_id", sa.Integer(), nullable=False),
        sa.Column("body_code", sa.String(length=6), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("invited_at", sa.DateTime(), nullable=False),
        sa.Column("invited_by", sa.Integer(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=True),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["answered_by"], ["app_user.id"], name="fk_partnership_member_answered_by_app_user"),
        sa.ForeignKeyConstraint(["body_code"], ["body.code"], name="fk_partnership_member_body_code_body"),
        sa.ForeignKeyConstraint(["invited_by"], ["app_user.id"], name="fk_partnership_member_invited_by_app_user"),
        sa.ForeignKeyConstraint(
            ["partnership_id"], ["partnership.id"], name="fk_partnership_member_partnership_id_partnership"
        ),
        sa.PrimaryKeyConstraint("id", name="pk_partnership_member"),
        sa.UniqueConstraint("partnership_id", "body_code", name="uq_partnership_member_partnership_id"),
    )
    op.create_index("ix_partnership_member_body_code", "partnership_member", ["body_code"])
    op.create_index("ix_partnership_member_partnership_id", "partnership_member", ["partnership_id"])
    # Plain ADD COLUMN (no batch rebuild: plans and plan releases reference these tables)
    op.add_column("scenario", sa.Column("partnership_id", sa.Integer(), nullable=True))
    op.add_column("scenario", sa.Column("partnership_lead_code", sa.String(length=6), nullable=True))
    op.create_index("ix_scenario_partnership_id", "scenario", ["partnership_id"])
    op.create_index("ix_scenario_partnership_lead_code", "scenario", ["partnership_lead_code"])
    op.add_column("plan_series", sa.Column("partnership_id", sa.Integer(), nullable=True))
    op.create_index("ix_plan_series_partnership_id", "plan_series", ["partnership_id"])


def downgrade() -> None:
    op.drop_index("ix_plan_series_partnership_id", table_name="plan_series")
    with op.batch_alter_table("plan_series") as batch:
        batch.drop_column("partnership_id")
    op.drop_index("ix_scenario_partnership_lead_code", table_name="scenario")
    op.drop_index("ix_scenario_partnership_id", table_name="scenario")
    with op.batch_alter_table("scenario") as batch:
        batch.drop_column("partnership_lead_code")
        batch.drop_column("partnership_id")
    op.drop_index("ix_partnership_member_partnership_id", table_name="partnership_member")
    op.drop_index("ix_partnership_member_body_code", table_name="partnership_member")
    op.drop_table("partnership_member")
    op.drop_index("ix_partnership_prefecture_code", table_name="partnership")
    op.drop_index("ix_partnership_lead_body_code", table_name="partnership")
    op.drop_table("partnership")
