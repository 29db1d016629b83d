"""Initial schema: every table of planner.db.models.

Revision ID: 0001
Revises:
Create Date: 2026-11-22 19:15:01.913765
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "category",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("group", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("sat_program", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("volume_per_10k_pop", sa.Float(), nullable=True),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_category")),
    )
    op.create_table(
        "data_vintage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dataset", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=True),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("file_name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("imported_by", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_data_vintage")),
    )
    op.create_table(
        "body",
        sa.Column("code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("prefecture_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("lat", sa.Float(), nullable=False),
        sa.Column("lng", sa.Float(), nullable=False),
        sa.Column("population", sa.Integer(), nullable=True),
        sa.Column("households", sa.Integer(), nullable=True),
        sa.Column("fiscal_strength_index", sa.Float(), nullable=True),
        sa.Column("disadvantaged", sa.Boolean(), nullable=False),
        sa.Column("has_data_plan", sa.Boolean(), nullable=False),
        sa.Column("population_vintage_id", sa.Integer(), nullable=True),
        sa.Column("fiscal_vintage_id", sa.Integer(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["fiscal_vintage_id"], ["data_vintage.id"], name=op.f("fk_body_fiscal_vintage_id_data_vintage")
        ),
        sa.ForeignKeyConstraint(
            ["population_vintage_id"], ["data_vintage.id"], name=op.f("fk_body_population_vintage_id_data_vintage")
        ),
        sa.PrimaryKeyConstraint("code", name=op.f("pk_body")),
    )
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_body_name"), ["name"], unique=False)
        batch_op.create_index(batch_op.f("ix_body_prefecture_code"), ["prefecture_code"], unique=False)

    op.create_table(
        "app_user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("display_name", sqlmodel.sql.sqltypes.AutoString(length=80), nullable=False),
        sa.Column("password_hash", sqlmodel.sql.sqltypes.AutoString(length=255), nullable=False),
        sa.Column("role", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("prefecture_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(), nullable=True),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["body_code"], ["body.code"], name=op.f("fk_app_user_body_code_body")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_app_user")),
        sa.UniqueConstraint("username", name=op.f("uq_app_user_username")),
    )
    # data_vintage.imported_by closes the cycle app_user -> body -> data_vintage -> app_user, so this key is
    # added once both tables exist.
    with op.batch_alter_table("data_vintage", schema=None) as batch_op:
        batch_op.create_foreign_key("fk_data_vintage_imported_by_app_user", "app_user", ["imported_by"], ["id"])
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("action", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("entity_id", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("prefecture_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=True),
        sa.Column("before", sa.JSON(), nullable=True),
        sa.Column("after", sa.JSON(), nullable=True),
        sa.Column("detail", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["user_id"], ["app_user.id"], name=op.f("fk_audit_log_user_id_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_audit_log_prefecture_code"), ["prefecture_code"], unique=False)

    op.create_table(
        "need",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("category_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("volume", sa.Float(), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("accepts_lead", sa.Boolean(), nullable=False),
        sa.Column("accepts_unified", sa.Boolean(), nullable=False),
        sa.Column("can_lead", sa.Boolean(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["body_code"], ["body.code"], name=op.f("fk_need_body_code_body")),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], name=op.f("fk_need_category_id_category")),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_need_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_need")),
    )
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_need_body_code"), ["body_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_need_category_id"), ["category_id"], unique=False)

    op.create_table(
        "price_book",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("label", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=300), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("horizon_years", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_price_book_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_book")),
        sa.UniqueConstraint("version", name=op.f("uq_price_book_version")),
    )
    op.create_table(
        "subsidy_rule_set",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_subsidy_rule_set_created_by_app_user")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_rule_set")),
        sa.UniqueConstraint("version", name=op.f("uq_subsidy_rule_set_version")),
    )
    with op.batch_alter_table("subsidy_rule_set", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsidy_rule_set_fiscal_year"), ["fiscal_year"], unique=False)

    op.create_table(
        "price_entry",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("price_book_id", sa.Integer(), nullable=False),
        sa.Column("category_id", sqlmodel.sql.sqltypes.AutoString(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("fixed_initial", sa.Integer(), nullable=False),
        sa.Column("fixed_annual", sa.Integer(), nullable=False),
        sa.Column("member_initial", sa.Integer(), nullable=False),
        sa.Column("member_annual", sa.Integer(), nullable=False),
        sa.Column("per_km_annual", sa.Integer(), nullable=False),
        sa.Column("lines", sa.JSON(), nullable=True),
        sa.Column("max_members", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["category_id"], ["category.id"], name=op.f("fk_price_entry_category_id_category")),
        sa.ForeignKeyConstraint(
            ["price_book_id"], ["price_book.id"], name=op.f("fk_price_entry_price_book_id_price_book")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_entry")),
        sa.UniqueConstraint("price_book_id", "category_id", "mode", name=op.f("uq_price_entry_price_book_id")),
    )
    with op.batch_alter_table("price_entry", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_entry_price_book_id"), ["price_book_id"], unique=False)

    op.create_table(
        "scenario",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("prefecture_code", sqlmodel.sql.sqltypes.AutoString(length=2), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("horizon_years", sa.Integer(), nullable=False),
        sa.Column("geography_type", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("radius_km", sa.Float(), nullable=True),
        sa.Column("allocation_method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("allocation_weights", sa.JSON(), nullable=True),
        sa.Column("body_codes", sa.JSON(), nullable=True),
        sa.Column("category_ids", sa.JSON(), nullable=True),
        sa.Column("hosts", sa.JSON(), nullable=True),
        sa.Column("overrides", sa.JSON(), nullable=True),
        sa.Column("price_book_id", sa.Integer(), nullable=True),
        sa.Column("subsidy_rule_set_id", sa.Integer(), nullable=True),
        sa.Column("time_limit_seconds", sa.Float(), nullable=True),
        sa.Column("is_demo", sa.Boolean(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("job_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("progress", sa.JSON(), nullable=True),
        sa.Column("log", sa.Text(), nullable=True),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["created_by"], ["app_user.id"], name=op.f("fk_scenario_created_by_app_user")),
        sa.ForeignKeyConstraint(
            ["price_book_id"], ["price_book.id"], name=op.f("fk_scenario_price_book_id_price_book")
        ),
        sa.ForeignKeyConstraint(
            ["subsidy_rule_set_id"],
            ["subsidy_rule_set.id"],
            name=op.f("fk_scenario_subsidy_rule_set_id_subsidy_rule_set"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scenario")),
    )
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_scenario_prefecture_code"), ["prefecture_code"], unique=False)

    op.create_table(
        "plan",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scenario_id", sa.Integer(), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("objective_yen", sa.Integer(), nullable=False),
        sa.Column("lower_bound_yen", sa.Integer(), nullable=False),
        sa.Column("gap", sa.Float(), nullable=False),
        sa.Column("standalone_total_yen", sa.Integer(), nullable=False),
        sa.Column("solve_seconds", sa.Float(), nullable=False),
        sa.Column("price_book_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("rule_version", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("instance_doc", sa.JSON(), nullable=True),
        sa.Column("plan_doc", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["scenario_id"], ["scenario.id"], name=op.f("fk_plan_scenario_id_scenario")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_plan")),
    )
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_plan_scenario_id"), ["scenario_id"], unique=False)

    op.create_table(
        "consortium",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("plan_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("category_id", sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
        sa.Column("start_year", sa.Integer(), nullable=False),
        sa.Column("mode", sqlmodel.sql.sqltypes.AutoString(length=12), nullable=False),
        sa.Column("lead_body_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("initial_yen", sa.Integer(), nullable=False),
        sa.Column("annual_yen", sa.Integer(), nullable=False),
        sa.Column("total_yen", sa.Integer(), nullable=False),
        sa.Column("standalone_total_yen", sa.Integer(), nullable=False),
        sa.Column("allocation_method", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("individually_rational", sa.Boolean(), nullable=True),
        sa.Column("in_core", sa.Boolean(), nullable=True),
        sa.Column("exhaustive_check", sa.Boolean(), nullable=True),
        sa.ForeignKeyConstraint(["plan_id"], ["plan.id"], name=op.f("fk_consortium_plan_id_plan")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consortium")),
    )
    with op.batch_alter_table("consortium", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_consortium_plan_id"), ["plan_id"], unique=False)

    op.create_table(
        "member_share",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("consortium_id", sa.Integer(), nullable=False),
        sa.Column("need_key", sqlmodel.sql.sqltypes.AutoString(length=60), nullable=False),
        sa.Column("body_code", sqlmodel.sql.sqltypes.AutoString(length=6), nullable=False),
        sa.Column("initial_yen", sa.Integer(), nullable=False),
        sa.Column("annual_yen", sa.Integer(), nullable=False),
        sa.Column("total_yen", sa.Integer(), nullable=False),
        sa.Column("standalone_total_yen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["consortium_id"], ["consortium.id"], name=op.f("fk_member_share_consortium_id_consortium")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_member_share")),
    )
    with op.batch_alter_table("member_share", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_member_share_body_code"), ["body_code"], unique=False)
        batch_op.create_index(batch_op.f("ix_member_share_consortium_id"), ["consortium_id"], unique=False)

    op.create_table(
        "subsidy_estimate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("member_share_id", sa.Integer(), nullable=False),
        sa.Column("grant_yen", sa.Integer(), nullable=False),
        sa.Column("special_tax_yen", sa.Integer(), nullable=False),
        sa.Column("special_tax_measure", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=True),
        sa.Column("net_yen", sa.Integer(), nullable=False),
        sa.Column("standalone_net_yen", sa.Integer(), nullable=True),
        sa.Column("notes", sa.JSON(), nullable=True),
        sa.ForeignKeyConstraint(
            ["member_share_id"], ["member_share.id"], name=op.f("fk_subsidy_estimate_member_share_id_member_share")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subsidy_estimate")),
    )
    with op.batch_alter_table("subsidy_estimate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subsidy_estimate_member_share_id"), ["member_share_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("data_vintage", schema=None) as batch_op:
        batch_op.drop_constraint("fk_data_vintage_imported_by_app_user", type_="foreignkey")
    with op.batch_alter_table("subsidy_estimate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_estimate_member_share_id"))

    op.drop_table("subsidy_estimate")
    with op.batch_alter_table("member_share", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_member_share_consortium_id"))
        batch_op.drop_index(batch_op.f("ix_member_share_body_code"))

    op.drop_table("member_share")
    with op.batch_alter_table("consortium", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_consortium_plan_id"))

    op.drop_table("consortium")
    with op.batch_alter_table("plan", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_plan_scenario_id"))

    op.drop_table("plan")
    with op.batch_alter_table("scenario", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_scenario_prefecture_code"))

    op.drop_table("scenario")
    with op.batch_alter_table("price_entry", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_entry_price_book_id"))

    op.drop_table("price_entry")
    with op.batch_alter_table("subsidy_rule_set", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_subsidy_rule_set_fiscal_year"))

    op.drop_table("subsidy_rule_set")
    op.drop_table("price_book")
    with op.batch_alter_table("need", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_need_category_id"))
        batch_op.drop_index(batch_op.f("ix_need_body_code"))

    op.drop_table("need")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_prefecture_code"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))

    op.drop_table("audit_log")
    op.drop_table("app_user")
    with op.batch_alter_table("body", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_body_prefecture_code"))
        batch_op.drop_index(batch_op.f("ix_body_name"))

    op.drop_table("body")
    op.drop_table("data_vintage")
    op.drop_table("category")
