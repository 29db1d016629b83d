"""Amounts in yen as 64-bit integers: a prefecture's plan totals pass 2,147,483,647 yen (about 21.5 億円).

PostgreSQL's INTEGER is 32 bits, so saving the Nagano demo's plan (単独導入の合計 2,431,636,000円) failed there
("integer out of range"); SQLite stores every INTEGER in up to 8 bytes, so only PostgreSQL's columns change.
Prices and quotes move too: a national system's fixed price can pass the same bound.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 04:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

PRICES = ("fixed_initial", "fixed_annual", "member_initial", "member_annual", "per_km_annual")
SHARES = ("initial_yen", "annual_yen", "total_yen", "standalone_total_yen")
# table -> (column, nullable)
COLUMNS: dict[str, tuple[tuple[str, bool], ...]] = {
    "price_entry": tuple((c, False) for c in PRICES),
    "scenario_quote": tuple((c, False) for c in PRICES),
    "plan": (("objective_yen", False), ("lower_bound_yen", False), ("standalone_total_yen", False)),
    "consortium": tuple((c, False) for c in SHARES),
    "member_share": tuple((c, False) for c in SHARES),
    "subsidy_estimate": (
        ("grant_yen", False),
        ("special_tax_yen", False),
        ("net_yen", False),
        ("standalone_net_yen", True),
    ),
}


def _alter(to_type: type[sa.types.TypeEngine], from_type: type[sa.types.TypeEngine]) -> None:
    if op.get_bind().dialect.name == "sqlite":
        # SQLite keeps 64-bit integers in any INTEGER column, and rebuilding these tables (batch mode) would drop
        # tables that others reference; the models declare INTEGER there (planner.db.models.YEN).
        return
    for table, columns in COLUMNS.items():
        for column, nullable in columns:
            op.alter_column(table, column, type_=to_type(), existing_type=from_type(), existing_nullable=nullable)


def upgrade() -> None:
    _alter(sa.BigInteger, sa.Integer)


def downgrade() -> None:
    _alter(sa.Integer, sa.BigInteger)
