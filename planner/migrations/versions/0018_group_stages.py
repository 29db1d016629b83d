"""Stages after the answers: dated stage records per group (予算措置, 議決, 協定, 契約結果, 補助金, 実績, 脱退),
the lead's 請求書 to its members and the payments recorded against them.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-07 18:00:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

YEN = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    op.create_table(
        "group_stage",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=60), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("body_code", sa.String(length=6), nullable=True),
        sa.Column("need_key", sa.String(length=60), nullable=True),
        sa.Column("fiscal_year", sa.Integer(), nullable=True),
        sa.Column("occurred_on", sa.Date(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=True),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["release_id"], ["plan_release.id"], name=op.f("fk_group_stage_release_id_plan_release")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_group_stage")),
    )
    op.create_index("ix_group_stage_release_group", "group_stage", ["release_id", "group_key", "kind"])
    op.create_table(
        "invoice",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("group_key", sa.String(length=60), nullable=False),
        sa.Column("issuer_body", sa.String(length=6), nullable=False),
        sa.Column("payer_body", sa.String(length=6), nullable=False),
        sa.Column("need_key", sa.String(length=60), nullable=False),
        sa.Column("fiscal_year", sa.Integer(), nullable=False),
        sa.Column("serial", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("amount_yen", YEN, nullable=False),
        sa.Column("issued_on", sa.Date(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=True),
        sa.Column("basis", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("issued_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["release_id"], ["plan_release.id"], name=op.f("fk_invoice_release_id_plan_release")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_invoice")),
        sa.UniqueConstraint("issuer_body", "fiscal_year", "serial", name=op.f("uq_invoice_issuer_body")),
    )
    op.create_index(op.f("ix_invoice_release_id"), "invoice", ["release_id"])
    op.create_index(op.f("ix_invoice_payer_body"), "invoice", ["payer_body"])
    op.create_table(
        "payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("paid_on", sa.Date(), nullable=False),
        sa.Column("amount_yen", YEN, nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("recorded_by", sa.Integer(), nullable=True),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_payment_invoice_id_invoice")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_payment")),
    )
    op.create_index(op.f("ix_payment_invoice_id"), "payment", ["invoice_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_payment_invoice_id"), table_name="payment")
    op.drop_table("payment")
    op.drop_index(op.f("ix_invoice_payer_body"), table_name="invoice")
    op.drop_index(op.f("ix_invoice_release_id"), table_name="invoice")
    op.drop_table("invoice")
    op.drop_index("ix_group_stage_release_group", table_name="group_stage")
    op.drop_table("group_stage")
