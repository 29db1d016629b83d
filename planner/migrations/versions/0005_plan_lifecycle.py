"""Plan lifecycle (#14): plan series and releases (試算 → 確定案 → 公表), members' answers, vendor quotes per scenario.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 16:40:53.617917
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "plan_series",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("prefecture_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("current_version", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_plan_series_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_series")),
        sa.UniqueConstraint("prefecture_code", "number", name=op.f("uq_plan_series_prefecture_code")),
    )
    with op.batch_alter_table("plan_series", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_series_prefecture_code"), ["prefecture_code"], unique=False)

    op.create_table(
        "scenario_quote",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("vendor", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("quoted_on", sa.Date(), nullable=True),
        sa.Column("reference", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("fixed_initial", sa.Integer(), nullable=False),
        sa.Column("fixed_annual", sa.Integer(), nullable=False),
        sa.Column("member_initial", sa.Integer(), nullable=False),
        sa.Column("member_annual", sa.Integer(), nullable=False),
        sa.Column("per_km_annual", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=True),
        sa.Column("max_members", sa.Integer(), nullable=True),
        sa.Column("based_on", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], name=op.f("fk_scenario_quote_category_id_category")),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenario.id"], name=op.f("fk_scenario_quote_scenario_id_scenario")),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"], name=op.f("fk_scenario_quote_updated_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario_quote")),
        sa.UniqueConstraint("scenario_id", "category_id", "mode", name=op.f("uq_scenario_quote_scenario_id")),
    )
    with op.batch_alter_table("scenario_quote", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scenario_quote_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "plan_release",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("series_id", sa.Integer(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("state", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("document_number", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("price_source", sa.Text(), nullable=True),
        sa.Column("inputs", sa.JSON(), nullable=True),
        sa.Column("inputs_fingerprint", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("reply_deadline", sa.Date(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.Column("replan_of", sa.Integer(), nullable=True),
        sa.Column("adopted_at", sa.DateTime(), nullable=False),
        sa.Column("adopted_by", sa.Integer(), nullable=True),
        sa.Column("published_at", sa.DateTime(), nullable=True),
        sa.Column("published_by", sa.Integer(), nullable=True),
        sa.Column("superseded_at", sa.DateTime(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["adopted_by"], ["app_user.id"], name=op.f("fk_plan_release_adopted_by_app_user")),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_plan_release_plan_id_plan")),
        sa.ForeignKeyConstraint(["published_by"], ["app_user.id"], name=op.f("fk_plan_release_published_by_app_user")),
        sa.ForeignKeyConstraint(
            ["replan_of"], ["plan_release.id"], name=op.f("fk_plan_release_replan_of_plan_release")
        ),
        sa.ForeignKeyConstraint(["series_id"], ["plan_series.id"], name=op.f("fk_plan_release_series_id_plan_series")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan_release")),
        sa.UniqueConstraint("plan_id", name=op.f("uq_plan_release_plan_id")),
        sa.UniqueConstraint("series_id", "version", name=op.f("uq_plan_release_series_id")),
    )
    with op.batch_alter_table("plan_release", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_release_series_id"), ["series_id"], unique=False)

    op.create_table(
        "member_answer",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("need_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("answer", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("answered_at", sa.DateTime(), nullable=False),
        sa.Column("answered_by", sa.Integer(), nullable=True),
        sa.Column("lock_version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["answered_by"], ["app_user.id"], name=op.f("fk_member_answer_answered_by_app_user")),
        sa.ForeignKeyConstraint(["body_code"], ["body.code"], name=op.f("fk_member_answer_body_code_body")),
        sa.ForeignKeyConstraint(
            ["release_id"], ["plan_release.id"], name=op.f("fk_member_answer_release_id_plan_release")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_answer")),
        sa.UniqueConstraint("release_id", "need_key", name=op.f("uq_member_answer_release_id")),
    )
    with op.batch_alter_table("member_answer", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_answer_body_code"), ["body_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_answer_release_id"), ["release_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("member_answer", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_answer_release_id"))
        batch_op.drop_index(batch_op.f("ix_member_answer_body_code"))

    op.drop_table("member_answer")
    with op.batch_alter_table("plan_release", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_release_series_id"))

    op.drop_table("plan_release")
    with op.batch_alter_table("scenario_quote", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_quote_scenario_id"))

    op.drop_table("scenario_quote")
    with op.batch_alter_table("plan_series", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_series_prefecture_code"))

    op.drop_table("plan_series")
