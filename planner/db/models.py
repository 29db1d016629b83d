"""Persistence: SQLModel tables. Money is integer yen everywhere.

The domain core never sees these classes: ``planner.services`` translates rows to domain objects and back.
Every schema change gets an Alembic migration in ``planner/migrations/versions``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Column, DateTime, ForeignKey, Index, Integer, Text, UniqueConstraint, text
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
    return datetime.now(UTC).replace(tzinfo=None)


def _version_column() -> Column:
    """Optimistic locking done by the database: with this column as the mapper's version_id_col, every ORM UPDATE
    of the row carries ``WHERE version = <the version read>`` and raises StaleDataError when another writer got
    there first. The code sets the new version itself (version_id_generator=False), so a write that does not bump
    it (a job's status) still loses to a concurrent edit instead of overwriting it."""
    return Column("version", Integer, nullable=False, default=1)


_BODY_VERSION, _NEED_VERSION, _SCENARIO_VERSION = _version_column(), _version_column(), _version_column()


# Amounts in yen: a prefecture's plan totals pass 2**31 yen. 64 bits on PostgreSQL; on SQLite every INTEGER column
# already holds 64-bit values, and the variant keeps the declared type the migrations created there.
YEN = BigInteger().with_variant(Integer(), "sqlite")


class Body(SQLModel, table=True):
    """団体: 47 prefectures and 1,741 municipalities (not the wards of designated cities)."""

    __tablename__ = "body"
    code: str = Field(primary_key=True, max_length=6)  # 全国地方公共団体コード with check digit
    name: str = Field(index=True, max_length=40)
    prefecture_code: str = Field(index=True, max_length=2)
    kind: str = Field(max_length=20)  # prefecture | designated_city | city | special_ward | town | village
    lat: float
    lng: float
    population: int | None = None
    households: int | None = None
    fiscal_strength_index: float | None = None
    disadvantaged: bool = False  # 条件不利地域
    has_data_plan: bool = False  # 市町村官民データ活用推進計画
    staff_cost_per_hour_yen: int | None = None  # 職員の人件費単価 (円/時間); a prefecture's also serves its towns
    no_allocation_tax: bool = False  # 不交付団体 (no 普通交付税): no special-tax estimate
    population_vintage_id: int | None = Field(default=None, foreign_key="data_vintage.id")
    fiscal_vintage_id: int | None = Field(default=None, foreign_key="data_vintage.id")
    version: int = Field(default=1, sa_column=_BODY_VERSION)  # optimistic locking
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)

    __mapper_args__ = {"version_id_col": _BODY_VERSION, "version_id_generator": False}


class DataVintage(SQLModel, table=True):
    """One import of an official file: which data, as of when, from where."""

    __tablename__ = "data_vintage"
    id: int | None = Field(default=None, primary_key=True)
    dataset: str = Field(max_length=40)  # population | fiscal_municipal | fiscal_prefecture | fiscal_designated | flags
    as_of: date | None = None
    source: str = Field(default="", max_length=200)
    file_name: str = Field(default="", max_length=200)
    rows: int = 0
    imported_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    # app_user -> body -> data_vintage -> app_user is a cycle: this key is added after the tables exist.
    imported_by: int | None = Field(
        default=None,
        sa_column=Column(
            Integer, ForeignKey("app_user.id", use_alter=True, name="fk_data_vintage_imported_by_app_user")
        ),
    )


class Category(SQLModel, table=True):
    """AI/RPA category (AI-OCR, RPA, ...)."""

    __tablename__ = "category"
    id: str = Field(primary_key=True, max_length=30)
    name: str = Field(max_length=80)
    group: str = Field(default="", max_length=30)
    unit: str = Field(default="", max_length=30)
    sat_program: str = Field(default="", max_length=40)
    volume_per_10k_pop: float | None = None  # for the volume suggestion from population
    sort_order: int = 0


class PriceBook(SQLModel, table=True):
    """A version of the price book (参考値 by default). Plans record the version they used."""

    __tablename__ = "price_book"
    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(unique=True, max_length=40)
    label: str = Field(default="参考値", max_length=40)
    source: str = Field(default="", max_length=300)
    note: str = Field(default="", sa_column=Column(Text))
    horizon_years: int = 5
    is_current: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class PriceEntry(SQLModel, table=True):
    """One category's prices in one mode of one price-book version."""

    __tablename__ = "price_entry"
    __table_args__ = (UniqueConstraint("price_book_id", "category_id", "mode"),)
    id: int | None = Field(default=None, primary_key=True)
    price_book_id: int = Field(foreign_key="price_book.id", index=True)
    category_id: str = Field(foreign_key="category.id")
    mode: str = Field(max_length=12)  # standalone | lead | unified
    fixed_initial: int = Field(default=0, sa_type=YEN)
    fixed_annual: int = Field(default=0, sa_type=YEN)
    member_initial: int = Field(default=0, sa_type=YEN)
    member_annual: int = Field(default=0, sa_type=YEN)
    per_km_annual: int = Field(default=0, sa_type=YEN)
    lines: list[Any] = Field(default_factory=list, sa_column=Column(JSON))  # [[alpha, beta], ...]
    max_members: int | None = None


class SubsidyRuleSet(SQLModel, table=True):
    """Grant and special-allocation-tax terms for one fiscal year, versioned, with their sources."""

    __tablename__ = "subsidy_rule_set"
    id: int | None = Field(default=None, primary_key=True)
    fiscal_year: int = Field(index=True)
    version: str = Field(unique=True, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    is_current: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class EffectModelVersion(SQLModel, table=True):
    """One version of the effect model (導入効果の見込みモデル): the whole document, as shipped or as edited."""

    __tablename__ = "effect_model"
    id: int | None = Field(default=None, primary_key=True)
    version: str = Field(unique=True, max_length=40)
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    is_current: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class User(SQLModel, table=True):
    __tablename__ = "app_user"
    id: int | None = Field(default=None, primary_key=True)
    username: str = Field(unique=True, max_length=80)
    display_name: str = Field(default="", max_length=80)
    password_hash: str = Field(max_length=255)
    role: str = Field(max_length=20)  # admin | prefecture | municipality
    prefecture_code: str | None = Field(default=None, max_length=2)  # prefecture coordinators
    body_code: str | None = Field(default=None, foreign_key="body.code")  # municipality staff
    is_active: bool = True
    is_demo: bool = False  # created by `planner demo`, replaced when the demo is loaded again
    # Part of the login identity kept in the session cookie; raising it (logout, password change or reset,
    # deactivation) invalidates every cookie issued before, including copies of it.
    session_generation: int = 0
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    # A one-time sign-up code (accounts from the CSV import): only its argon2 hash and its expiry (UTC) are kept;
    # both are cleared when the person sets a password with it.
    signup_code_hash: str | None = Field(default=None, max_length=255)
    signup_expires_at: datetime | None = Field(default=None, sa_type=DateTime)


class Need(SQLModel, table=True):
    """A body's registered need for one category (ニーズ登録)."""

    __tablename__ = "need"
    id: int | None = Field(default=None, primary_key=True)
    body_code: str = Field(foreign_key="body.code", index=True)
    category_id: str = Field(foreign_key="category.id", index=True)
    volume: float
    start_year: int  # fiscal year (年度)
    accepts_lead: bool = True
    accepts_unified: bool = True
    can_lead: bool = False
    baseline_minutes_per_unit: float | None = None  # the body's own staff minutes per driver unit today
    baseline_hours_per_year: float | None = None  # the body's own staff hours a year on the work today
    serves_disadvantaged_area: bool = False  # a resident service in the body's 条件不利地域 (special-tax measure (a))
    notes: str = Field(default="", sa_column=Column(Text))
    status: str = Field(default="active", max_length=12)  # active | withdrawn
    is_demo: bool = False
    version: int = Field(default=1, sa_column=_NEED_VERSION)  # optimistic locking
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")

    # At most one active need per body and category, enforced by the database (concurrent registrations and
    # imports race past any check made by reading first).
    __table_args__ = (
        Index(
            "uq_need_active_body_category",
            "body_code",
            "category_id",
            unique=True,
            sqlite_where=text("status = 'active'"),
            postgresql_where=text("status = 'active'"),
        ),
    )
    __mapper_args__ = {"version_id_col": _NEED_VERSION, "version_id_generator": False}


class Scenario(SQLModel, table=True):
    """The parameters of one planning run."""

    __tablename__ = "scenario"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)
    prefecture_code: str | None = Field(default=None, max_length=2, index=True)  # None: several prefectures
    fiscal_year: int = 2026
    horizon_years: int = 5
    geography_type: str = Field(default="same_prefecture", max_length=20)
    radius_km: float | None = None
    # 1グループの上限団体数 for the joint modes (a vendor quote's own cap, if smaller, still applies); None: no cap
    max_members: int | None = None
    allocation_method: str = Field(default="formula", max_length=20)
    allocation_weights: dict[str, float] = Field(default_factory=dict, sa_column=Column(JSON))
    # "rule" (new scenarios): the nearest fair formula, adjusted member by member only when none is; "adjust": moved
    # into the core; "report": the method's own shares (cost-model.md). Every option keeps the net guarantee.
    allocation_core: str = Field(default="rule", max_length=10)
    lead_must_be_grant_eligible: bool = False  # 幹事は補助対象団体に限る (a feasibility rule of the optimiser)
    lead_work_lead_yen: int = Field(default=0, sa_type=YEN)  # 幹事事務費 per lead-mode group and year
    lead_work_unified_yen: int = Field(default=0, sa_type=YEN)  # 取りまとめ事務費 per unified-mode group and year
    body_codes: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # empty: all of the prefecture
    category_ids: list[str] = Field(default_factory=list, sa_column=Column(JSON))  # empty: all
    hosts: list[dict[str, Any]] = Field(default_factory=list, sa_column=Column(JSON))  # [{"body", "categories"}]
    overrides: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # together / apart / fixed
    price_book_id: int | None = Field(default=None, foreign_key="price_book.id")
    subsidy_rule_set_id: int | None = Field(default=None, foreign_key="subsidy_rule_set.id")
    time_limit_seconds: float | None = 60.0
    is_demo: bool = False
    # A lead-run consortium's scenario (planner.services.partnerships): it plans the needs of the lead and of the
    # bodies that accepted the invitation, and only the lead runs it. ``partnership_lead_code`` copies the
    # partnership's lead (which never changes) so that the access rules and their SQL need no join. Plain values,
    # like plan_release.replan_scenario_id: the partnership row is never deleted while scenarios point at it.
    partnership_id: int | None = Field(default=None, index=True)
    partnership_lead_code: str | None = Field(default=None, max_length=6, index=True)
    # background job state
    status: str = Field(default="draft", max_length=12)  # draft | queued | running | done | failed | cancelled
    job_id: str | None = Field(default=None, max_length=64)
    progress: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    log: str = Field(default="", sa_column=Column(Text))
    version: int = Field(default=1, sa_column=_SCENARIO_VERSION)  # optimistic locking of the parameters
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")

    __mapper_args__ = {"version_id_col": _SCENARIO_VERSION, "version_id_generator": False}


class Plan(SQLModel, table=True):
    """A solved scenario: the plan document and the instance it was solved from, kept together."""

    __tablename__ = "plan"
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    status: str = Field(max_length=12)  # optimal | time_limit | feasible
    objective_yen: int = Field(sa_type=YEN)
    lower_bound_yen: int = Field(sa_type=YEN)
    gap: float
    standalone_total_yen: int = Field(sa_type=YEN)
    solve_seconds: float
    price_book_version: str = Field(default="", max_length=40)
    rule_version: str = Field(default="", max_length=40)
    instance_doc: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    plan_doc: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Consortium(SQLModel, table=True):
    """One group of a plan (共同調達グループ), joint or standalone."""

    __tablename__ = "consortium"
    id: int | None = Field(default=None, primary_key=True)
    plan_id: int = Field(foreign_key="plan.id", index=True)
    group_key: str = Field(max_length=60)  # the plan's group id
    category_id: str = Field(max_length=30)
    start_year: int
    mode: str = Field(max_length=12)
    lead_body_code: str = Field(max_length=6)
    initial_yen: int = Field(sa_type=YEN)
    annual_yen: int = Field(sa_type=YEN)
    total_yen: int = Field(sa_type=YEN)
    standalone_total_yen: int = Field(sa_type=YEN)
    allocation_method: str = Field(default="", max_length=20)
    individually_rational: bool | None = None
    in_core: bool | None = None
    exhaustive_check: bool | None = None


class MemberShare(SQLModel, table=True):
    """負担金: one member's share of a consortium's cost."""

    __tablename__ = "member_share"
    id: int | None = Field(default=None, primary_key=True)
    consortium_id: int = Field(foreign_key="consortium.id", index=True)
    need_key: str = Field(max_length=60)  # the need id in the plan document
    body_code: str = Field(max_length=6, index=True)
    initial_yen: int = Field(sa_type=YEN)
    annual_yen: int = Field(sa_type=YEN)
    total_yen: int = Field(sa_type=YEN)
    standalone_total_yen: int = Field(sa_type=YEN)


class SubsidyEstimate(SQLModel, table=True):
    """補助金・特別交付税の見込額 for one member share (joint) and its standalone alternative."""

    __tablename__ = "subsidy_estimate"
    id: int | None = Field(default=None, primary_key=True)
    member_share_id: int = Field(foreign_key="member_share.id", index=True)
    grant_yen: int = Field(default=0, sa_type=YEN)
    special_tax_yen: int = Field(default=0, sa_type=YEN)
    special_tax_measure: str | None = Field(default=None, max_length=40)
    net_yen: int = Field(default=0, sa_type=YEN)
    standalone_net_yen: int | None = Field(default=None, sa_type=YEN)
    notes: list[str] = Field(default_factory=list, sa_column=Column(JSON))


class AuditLog(SQLModel, table=True):
    """Who changed what, when, with the values before and after."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=DateTime, index=True)
    user_id: int | None = Field(default=None, foreign_key="app_user.id")
    action: str = Field(max_length=40)  # create | update | delete | import | run | login | forbidden ...
    entity: str = Field(max_length=40)  # need | price_book | subsidy_rule_set | scenario | body | ...
    entity_id: str = Field(default="", max_length=60)
    prefecture_code: str | None = Field(default=None, max_length=2, index=True)
    body_code: str | None = Field(default=None, max_length=6)
    before: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    after: dict[str, Any] | None = Field(default=None, sa_column=Column(JSON))
    detail: str = Field(default="", sa_column=Column(Text))


# --- plan lifecycle (#14): 試算 → 確定案 → 公表, members' answers, vendor quotes -------------------------------------
# A Plan row without a PlanRelease is a 試算 (draft), seen by the prefecture only. Adopting it gives it a number and
# a version in a PlanSeries (計画 No.3 第2版); publishing makes it the series' current version, which members see.


class PlanSeries(SQLModel, table=True):
    """計画 No.N of a prefecture: the versions of one joint-procurement plan. ``current_version`` is the published
    version members answer; it changes only by a conditional update on ``lock_version``."""

    __tablename__ = "plan_series"
    __table_args__ = (UniqueConstraint("prefecture_code", "number"),)
    id: int | None = Field(default=None, primary_key=True)
    prefecture_code: str = Field(max_length=2, index=True)
    number: int
    title: str = Field(default="", max_length=120)
    # The lead-run consortium whose plan this is (None: the prefecture's own); its number is still taken from the
    # prefecture's (the lead's) numbering, so the unique key (prefecture, number) keeps guarding concurrent adoptions
    partnership_id: int | None = Field(default=None, index=True)
    current_version: int | None = None  # the published version in force; None until the first publication
    # The last version number given: adoption takes the next one by an UPDATE of this counter, which concurrent
    # adoptions into one series wait for in turn (no duplicate, no gap, nobody refused).
    last_version: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    lock_version: int = 1
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class PlanRelease(SQLModel, table=True):
    """One adopted version (確定案) of a series, made from one solved plan; later published (公表) and superseded."""

    __tablename__ = "plan_release"
    __table_args__ = (UniqueConstraint("series_id", "version"), UniqueConstraint("plan_id"))
    id: int | None = Field(default=None, primary_key=True)
    series_id: int = Field(foreign_key="plan_series.id", index=True)
    version: int
    plan_id: int = Field(foreign_key="plan.id")
    state: str = Field(default="adopted", max_length=12)  # adopted | published | superseded | withdrawn
    document_number: str = Field(default="", max_length=60)  # 文書番号 for the documents (second wave)
    price_source: str = Field(default="", sa_column=Column(Text))  # which prices the plan used, in words
    inputs: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))  # the inputs' snapshot
    inputs_fingerprint: str = Field(default="", max_length=64)
    reply_deadline: date | None = None  # answers accepted until the end of this day (JST)
    message: str = Field(default="", sa_column=Column(Text))  # the coordinator's note to the members
    replan_of: int | None = Field(default=None, foreign_key="plan_release.id")  # re-planned after answers
    # The scenario made by re-planning this version (one per version; a plain id: deleting that scenario frees it)
    replan_scenario_id: int | None = None
    adopted_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    adopted_by: int | None = Field(default=None, foreign_key="app_user.id")
    published_at: datetime | None = Field(default=None, sa_type=DateTime)
    published_by: int | None = Field(default=None, foreign_key="app_user.id")
    superseded_at: datetime | None = Field(default=None, sa_type=DateTime)
    # What the documents print besides the plan's own figures, as it stood at publication (planner.services.
    # publication): the title, the issue date, the issuer and the data source; {} before publication
    frozen: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    # 取り下げ: a published version taken back by its coordinator, with the reason its members are told
    withdrawn_at: datetime | None = Field(default=None, sa_type=DateTime)
    withdrawn_by: int | None = None  # a plain id, like replan_scenario_id: the record outlives the account
    withdrawal_reason: str = Field(default="", sa_column=Column(Text, nullable=False, server_default=""))
    lock_version: int = 1


class MemberAnswer(SQLModel, table=True):
    """A member body's answer for one of its needs in a published plan: 参加 / 不参加 / 条件付き."""

    __tablename__ = "member_answer"
    __table_args__ = (UniqueConstraint("release_id", "need_key"),)
    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="plan_release.id", index=True)
    need_key: str = Field(max_length=60)  # the need id in the plan document ("n12")
    body_code: str = Field(foreign_key="body.code", max_length=6, index=True)
    answer: str = Field(max_length=12)  # join | decline | conditional
    comment: str = Field(default="", sa_column=Column(Text))
    answered_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    answered_by: int | None = Field(default=None, foreign_key="app_user.id")
    lock_version: int = 1


class ScenarioQuote(SQLModel, table=True):
    """A vendor's quote for one category and mode in one scenario; replaces the price book's entry there."""

    __tablename__ = "scenario_quote"
    __table_args__ = (UniqueConstraint("scenario_id", "category_id", "mode"),)
    id: int | None = Field(default=None, primary_key=True)
    scenario_id: int = Field(foreign_key="scenario.id", index=True)
    category_id: str = Field(foreign_key="category.id", max_length=30)
    mode: str = Field(max_length=12)  # standalone | lead | unified
    vendor: str = Field(max_length=120)
    quoted_on: date | None = None
    reference: str = Field(default="", max_length=120)  # 見積書番号 etc.
    fixed_initial: int = Field(default=0, sa_type=YEN)
    fixed_annual: int = Field(default=0, sa_type=YEN)
    member_initial: int = Field(default=0, sa_type=YEN)
    member_annual: int = Field(default=0, sa_type=YEN)
    per_km_annual: int = Field(default=0, sa_type=YEN)
    lines: list[Any] = Field(default_factory=list, sa_column=Column(JSON))  # [[alpha, beta], ...]
    max_members: int | None = None
    based_on: str = Field(default="", max_length=40)  # the price book version the form was prefilled from
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")
    lock_version: int = 1


class DocumentSetting(SQLModel, table=True):
    """A prefecture's document control (文書管理): who issues its plans' documents, whom to ask, and the sign of its
    文書番号. Set by an administrator or the prefecture's coordinator; documents say 未設定 until then."""

    __tablename__ = "document_setting"
    prefecture_code: str = Field(primary_key=True, max_length=2)
    issuer_title: str = Field(default="", max_length=120)  # 長野県 企画振興部 DX推進課
    contact_person: str = Field(default="", max_length=120)  # 担当
    contact: str = Field(default="", max_length=200)  # 連絡先 (telephone, e-mail)
    number_prefix: str = Field(default="", max_length=20)  # 文書番号の記号 (長DX)
    updated_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    updated_by: int | None = Field(default=None, foreign_key="app_user.id")


class KeptInput(SQLModel, table=True):
    """What a person typed into a form that could not be saved because the login or the form had expired, kept
    until they sign in again and the form is shown to them pre-filled (planner.web.kept_input)."""

    __tablename__ = "kept_input"
    token: str = Field(primary_key=True, max_length=64)  # the random key the browser's session carries
    path: str = Field(max_length=300)  # the form's URL: restored only there
    user_id: int | None = None  # who was signed in when it was posted; None: the login had already ended
    fields: list[Any] = Field(default_factory=list, sa_column=Column(JSON))  # [[name, value], ...] as posted
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


# --- lead-run consortia (#29): a municipality leads a joint procurement across prefecture borders -------------------


class Partnership(SQLModel, table=True):
    """A consortium a municipality leads as 幹事/取りまとめ団体 (a named 協議会, a 連携中枢都市圏 ...) for one category.
    Its scenarios (Scenario.partnership_id) plan the lead's needs and those of the bodies that accepted its
    invitation (PartnershipMember); its plans are adopted, published and answered like a prefecture's, run by the
    lead's staff alone. The lead's prefecture sees it read-only (``prefecture_code`` is the lead's, kept for that)."""

    __tablename__ = "partnership"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(max_length=120)  # 松本地域RPA共同調達協議会
    kind: str = Field(default="council", max_length=20)  # planner.services.partnerships.KIND_LABELS
    category_id: str = Field(foreign_key="category.id", max_length=30)
    lead_body_code: str = Field(foreign_key="body.code", max_length=6, index=True)
    prefecture_code: str = Field(max_length=2, index=True)  # the lead's
    note: str = Field(default="", sa_column=Column(Text))
    is_demo: bool = False
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    created_by: int | None = Field(default=None, foreign_key="app_user.id")


class PartnershipMember(SQLModel, table=True):
    """One body's place in a partnership: the lead itself ("lead"), or an invitee ("invited" until its staff
    accept or decline). Every change is a conditional update on ``state`` and audited."""

    __tablename__ = "partnership_member"
    __table_args__ = (UniqueConstraint("partnership_id", "body_code"),)
    id: int | None = Field(default=None, primary_key=True)
    partnership_id: int = Field(foreign_key="partnership.id", index=True)
    body_code: str = Field(foreign_key="body.code", max_length=6, index=True)
    state: str = Field(default="invited", max_length=12)  # lead | invited | accepted | declined
    message: str = Field(default="", sa_column=Column(Text))  # the lead's note with the invitation
    invited_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
    invited_by: int | None = Field(default=None, foreign_key="app_user.id")
    answered_at: datetime | None = Field(default=None, sa_type=DateTime)
    answered_by: int | None = Field(default=None, foreign_key="app_user.id")


class GroupStage(SQLModel, table=True):
    """One dated step in a published plan's group after the answers (a stage record), as its recorder entered it.

    ``kind`` is one of planner.services.plan_stages.STAGE_KINDS (予算措置 per member, 債務負担行為の議決, 協定締結,
    契約結果, the grant's 交付申請・交付決定・確定, a year's 実績額, a member's 脱退); ``data`` holds the kind's
    fields. Records are never changed: a correction is a later record of the same kind, and the latest one is in
    force, so the history stays readable beside the audit log."""

    __tablename__ = "group_stage"
    __table_args__ = (Index("ix_group_stage_release_group", "release_id", "group_key", "kind"),)
    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="plan_release.id")
    group_key: str = Field(max_length=60)  # the group id in the plan document
    kind: str = Field(max_length=30)
    body_code: str | None = Field(default=None, max_length=6)  # a member's own record (予算措置, 議決)
    need_key: str | None = Field(default=None, max_length=60)  # a member's need (脱退)
    fiscal_year: int | None = None
    occurred_on: date
    data: dict[str, Any] = Field(default_factory=dict, sa_column=Column(JSON))
    recorded_by: int | None = None  # a plain id: the record outlives the account
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Invoice(SQLModel, table=True):
    """A 請求書 (or a 精算's 追加請求 / 還付通知) the lead issues to one member for one fiscal year, numbered per
    issuer and fiscal year without gaps (``serial``)."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("issuer_body", "fiscal_year", "serial"),)
    id: int | None = Field(default=None, primary_key=True)
    release_id: int = Field(foreign_key="plan_release.id", index=True)
    group_key: str = Field(max_length=60)
    issuer_body: str = Field(max_length=6)
    payer_body: str = Field(max_length=6, index=True)
    need_key: str = Field(max_length=60)
    fiscal_year: int
    serial: int
    kind: str = Field(max_length=12)  # bill | charge (精算の追加請求) | refund (精算の還付)
    amount_yen: int = Field(sa_type=YEN)
    issued_on: date
    due_on: date | None = None
    basis: str = Field(default="", sa_column=Column(Text))  # what the amount is, in words (printed)
    cancelled_at: datetime | None = Field(default=None, sa_type=DateTime)
    issued_by: int | None = None
    created_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)


class Payment(SQLModel, table=True):
    """A payment (or refund paid out) the lead recorded against an invoice."""

    __tablename__ = "payment"
    id: int | None = Field(default=None, primary_key=True)
    invoice_id: int = Field(foreign_key="invoice.id", index=True)
    paid_on: date
    amount_yen: int = Field(sa_type=YEN)
    note: str = Field(default="", max_length=200)
    recorded_by: int | None = None
    recorded_at: datetime = Field(default_factory=utcnow, sa_type=DateTime)
