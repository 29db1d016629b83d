"""Persistence: SQLModel tables. Money is integer yen everywhere.

The domain core never sees these classes: ``planner.services`` translates rows to domain objects and back.
Every schema change gets an Alembic migration in ``planner/migrations/versions``.
"""
from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any, Optional

from sqlalchemy import JSON, Column, DateTime, ForeignKey, Integer, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

# Named constraints, so that later migrations can alter them (SQLite's batch mode needs the names).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Timestamps are naive UTC in DateTime columns. sa_type is explicit because newer SQLModel releases map a plain
# ``datetime`` to a timezone-aware type that rejects naive values.
def utcnow() -> datetime:
    return datetime.now(timezone.utc).replace(tzinfo=None)


class Body(SQLModel, table=True):
    """団体: 47 prefectures and 1,741 municipalities (not the wards of designated cities)."""

    __tablename__ = "body"
    code: str = Field(primary_key=True, max_length=6)  # 全国地方公共団体コード with check digit
    name: str = Field(index=True, max_length=40)
    prefecture_code: str = Field(index=True, max_length=2)
    kind: str = Field(max_length=20)  # prefecture | designated_city | city | special_ward | town | village
    lat: float
    lng: float
    population: Optional[int] = None
    households: Optional[int] = None
    fiscal_strength_index: Optional[float] = None
    disadvantaged: bool = False  # 条件不利地域
    has_data_plan: bool = False  # 市町村官民データ活用推進計画
    population_vintage_id: Optional[int] = Field(default=None, foreign_key="data_vintage.id")
    fiscal_vintage_id: Optional[int] = Field(default=None, foreign_key="data_vintage.id")
    version: int = 1  # optimistic locking
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class DataVintage(SQLModel, table=True):
    """One import of an official file: which data, as of when, from where."""

    __tablename__ = "data_vintage"
    id: Optional[int] = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=40)  # population | fiscal_municipal | fiscal_prefecture | fiscal_designated | flags
    as_of: Optional[date] = None
    source: str = Field(default="", max_length=200)
    file_name: str = Field(default="", max_length=200)
    rows: int = 0
    imported_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    # app_user -> body -> data_vintage -> app_user is a cycle: this key is added after the tables exist.
    imported_by: Optional[int] = Field(default=None, sa_column=Column(
        Integer, ForeignKey("app_user.id", use_alter=True, name="fk_data_vintage_imported_by_app_user")))


class Category(SQLModel, table=True):
    """AI/RPA category (AI-OCR, RPA, ...)."""

    __tablename__ = "category"
    id: str = Field(primary_key=True, max_length=30)
    name: str = Field(max_length=80)
    group: str = Field(default="", max_length=30)
    unit: str = Field(default="", max_length=30)
    sat_program: str = Field(default="", max_length=40)
    volume_per_10k_pop: Optional[float] = None  # for the volume suggestion from population
    sort_order: int = 0


class PriceBook(SQLModel, table=True):
    """A version of the price book (参考値 by default). Plans record the version they used."""

    __tablename__ = "price_book"
    id: Optional[int] = Field(default=None, primary_key=True)
    version: str = Field(unique=True, max_length=40)
    label: str = Field(default="参考値", max_length=40)
    source: str = Field(default="", max_length=300)
    note: str = Field(default="", sa_column=Column(Text))
    horizon_years: int = 5
    is_current: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")


class PriceEntry(SQLModel, table=True):
    """One category's prices in one mode of one price-book version."""

    __tablename__ = "price_entry"
    __table_args__ = (UniqueConstraint("price_book_id", "category_id", "mode"),)
    id: Optional[int] = Field(default=None, primary_key=True)
    price_book_id: int = Field(foreign_key="price_book.id", index=True)
    category_id: str = Field(foreign_key="category.id")
    mode: str = Field(max_length=12)  # standalone | lead | unified
    fixed_initial: int = 0
    fixed_annual: int = 0
    member_initial: int = 0
    member_annual: int = 0
    per_km_annual: int = 0
    lines: list[Any] = Field(default_factory=list, sa_column=Column(JSON))  # [[alpha, beta], ...]
    max_members: Optional[int] = None


class SubsidyRuleSet(SQLModel, table=True):
    """Grant and special-allocation-tax terms for one fiscal year, versioned, with their sources."""

    __tablename__ = "subsidy_rule_set"
    id: Optional[int] = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    version: str = Field(unique=True, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    is_current: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: Optional[int] = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=80)
    display_name: str = Field(default="", max_length=80)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)  # admin | prefecture | municipality
    prefecture_code: Optional[str] = Field(default=None, max_length=2)  # prefecture coordinators
    body_code: Optional[str] = Field(default=None, foreign_key="body.code")  # municipality staff
    is_active: bool = True
    is_demo: bool = False  # created by `planner demo`, replaced when the demo is loaded again
    # Part of the login identity kept in the session cookie; raising it (logout, password change or reset,
    # deactivation) invalidates every cookie issued before, including copies of it.
    session_generation: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Need(SQLModel, table=True):
    """A body's registered need for one category (ニーズ登録)."""

    __tablename__ = "need"
    id: Optional[int] = Field(default=None, primary_key=True)
    body_code: str = Field(foreign_key="body.code", index=True)
    category_id: str = Field(foreign_key="category.id", index=True)
    volume: float
    start_year: int  # fiscal year (年度)
    accepts_lead: bool = True
    accepts_unified: bool = True
    can_lead: bool = False
    notes: str = Field(default="", sa_column=Column(Text))
    status: str = Field(default="active", max_length=12)  # active | withdrawn
    is_demo: bool = False
    version: int = 1  # optimistic locking
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")


class Scenario(SQLModel, table=True):
    """The parameters of one planning run."""

    __tablename__ = "scenario"
    id: Optional[int] = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefecture_code: Optional[str] = Field(default=None, max_length=2, index=True)  # None: several prefectures
    fiscal_year: int = 2026
    horizon_years: int = 5
    geography_type: str = Field(default="same_prefecture", max_length=20)
    radius_km: Optional[float] = None
    allocation_method: str = Field(default="formula", max_length=20)
    allocation_weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    # "adjust": shares moved into the core (no member or sub-group pays more than on its own); new scenarios adjust
    allocation_core: str = Field(default="adjust", max_length=10)
    body_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # empty: all of the prefecture
    category_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # empty: all
    hosts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))  # [{"body", "categories"}]
    overrides: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # together / apart / fixed
    price_book_id: Optional[int] = Field(default=None, foreign_key="price_book.id")
    subsidy_rule_set_id: Optional[int] = Field(default=None, foreign_key="subsidy_rule_set.id")
    time_limit_seconds: Optional[float] = 60.0
    is_demo: bool = False
    # background job state
    status: str = Field(default="draft", max_length=12)  # draft | queued | running | done | failed | cancelled
    job_id: Optional[str] = Field(default=None, max_length=64)
    progress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    log: str = Field(default="", sa_column=Column(Text))
    version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: Optional[int] = Field(default=None, foreign_key="app_user.id")


class Plan(SQLModel, table=True):
    """A solved scenario: the plan document and the instance it was solved from, kept together."""

    __tablename__ = "plan"
    id: Optional[int] = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    status: str = Field(max_length=12)  # optimal | time_limit | feasible
    objective_yen: int
    lower_bound_yen: int
    gap: float
    standalone_total_yen: int
    solve_seconds: float
    price_book_version: str = Field(default="", max_length=40)
    rule_version: str = Field(default="", max_length=40)
    instance_doc: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    plan_doc: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Consortium(SQLModel, table=True):
    """One group of a plan (共同調達グループ), joint or standalone."""

    __tablename__ = "consortium"
    id: Optional[int] = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    group_key: str = Field(max_length=60)  # the plan's group id
    category_id: str = Field(max_length=30)
    start_year: int
    mode: str = Field(max_length=12)
    lead_body_code: str = Field(max_length=6)
    initial_yen: int
    annual_yen: int
    total_yen: int
    standalone_total_yen: int
    allocation_method: str = Field(default="", max_length=20)
    individually_rational: Optional[bool] = None
    in_core: Optional[bool] = None
    exhaustive_check: Optional[bool] = None


class MemberShare(SQLModel, table=True):
    """負担金: one member's share of a consortium's cost."""

    __tablename__ = "member_share"
    id: Optional[int] = Field(default=None, primary_key=True)
    consortium_id: int = Field(foreign_key="consortium.id", index=True)
    need_key: str = Field(max_length=60)  # the need id in the plan document
    body_code: str = Field(max_length=6, index=True)
    initial_yen: int
    annual_yen: int
    total_yen: int
    standalone_total_yen: int


class SubsidyEstimate(SQLModel, table=True):
    """補助金・特別交付税の見込額 for one member share (joint) and its standalone alternative."""

    __tablename__ = "subsidy_estimate"
    id: Optional[int] = Field(default=None, primary_key=True)
    member_share_id: int = Field(foreign_key="member_share.id", index=True)
    grant_yen: int = 0
    special_tax_yen: int = 0
    special_tax_measure: Optional[str] = Field(default=None, max_length=40)
    net_yen: int = 0
    standalone_net_yen: Optional[int] = None
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class AuditLog(SQLModel, table=True):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_log"
    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime, index=True)
    user_id: Optional[int] = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=40)  # create | update | delete | import | run | login | forbidden ...
    entity: str = Field(max_length=40)  # need | price_book | subsidy_rule_set | scenario | body | ...
    entity_id: str = Field(default="", max_length=60)
    prefecture_code: Optional[str] = Field(default=None, max_length=2, index=True)
    body_code: Optional[str] = Field(default=None, max_length=6)
    before: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    after: Optional[dict[str, Any]] = Field(default=None, sa_column=Column(JSON))
    detail: str = Field(default="", sa_column=Column(Text))
