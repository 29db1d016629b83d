"""Document control per prefecture (#14): issuer title, 担当, 連絡先 and the 文書番号 sign of its documents.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "document_setting",
        sa.Column("prefecture_code", sa.String(length=2), nullable=False),
        sa.Column("issuer_title", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("contact_person", sa.String(length=120), nullable=False, server_default=""),
        sa.Column("contact", sa.String(length=200), nullable=False, server_default=""),
        sa.Column("number_prefix", sa.String(length=20), nullable=False, server_default=""),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("updated_by", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["updated_by"], ["app_user.id"], name=op.f("fk_document_setting_updated_by_app_user")),
        sa.PrimaryKeyConstraint("prefecture_code", name=op.f("pk_document_setting")),
    )


def downgrade() -> None:
    op.drop_table("document_setting")
