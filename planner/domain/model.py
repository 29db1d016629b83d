"""The domain's data: bodies, categories with their price book, hosts, needs, rules.

Plain frozen dataclasses, no Flask and no database. Everything the optimiser, the allocator and the reports
need about one planning run is an :class:`Instance`; see ``docs/glossary.md`` for the Japanese terms.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

BODY_KINDS = ("prefecture", "designated_city", "city", "special_ward", "town", "village")
JOINT_MODES = ("lead", "unified")
MODES = ("standalone", *JOINT_MODES)
GEOGRAPHY_TYPES = ("same_prefecture", "radius_km", "any")
ALLOCATION_METHODS = ("equal", "population", "volume", "formula", "standalone_ratio", "shapley", "nucleolus")
CORE_OPTIONS = ("report", "adjust", "rule")  # own shares with their proof; moved into the core; nearest fair formula


@dataclass(frozen=True)
class Body:
    """団体: a prefecture or municipality, keyed by its 6-digit 全国地方公共団体コード."""

    code: str
    name: str
    prefecture_code: str
    kind: str
    lat: float
    lng: float
    population: int | None = None
    fiscal_strength_index: float | None = None
    disadvantaged: bool = False  # has a 条件不利地域
    has_data_plan: bool = False  # has submitted its 市町村官民データ活用推進計画
    no_allocation_tax: bool = False  # 不交付団体: receives no 普通交付税 (administrator's flag)


@dataclass(frozen=True)
class ModePrice:
    """One mode's prices for one category (yen). ``lines`` make the yearly volume charge concave."""

    fixed_initial: int
    fixed_annual: int
    member_initial: int
    member_annual: int
    per_km_annual: int
    lines: tuple[tuple[float, float], ...]
    max_members: int | None = None  # None for standalone

    def volume_charge(self, volume: float) -> float:
        """The yearly volume charge: min over lines of alpha + beta * volume."""
        return min(alpha + beta * volume for alpha, beta in self.lines)


@dataclass(frozen=True)
class Category:
    """An AI/RPA category (AI-OCR, RPA, ...) with its price book entry per mode."""

    id: str
    name: str
    group: str
    unit: str
    sat_program: str  # which 特別交付税 programme family the category falls under (rule data decides the rate)
    prices: Mapping[str, ModePrice]  # keyed by mode: standalone, lead, unified

    def price(self, mode: str) -> ModePrice:
        return self.prices[mode]


@dataclass(frozen=True)
class Host:
    """A body that may lead lead-mode groups of these categories without needing them itself."""

    body: str
    categories: frozenset[str]


@dataclass(frozen=True)
class Need:
    """One body's wish to adopt one category from one fiscal year."""

    id: str
    body: str
    category: str
    volume: float
    start_year: int
    modes: frozenset[str]  # accepted joint modes; standalone is always allowed
    can_lead: bool
    # A service for residents in the body's 条件不利地域 (遠隔診療, スマート農林水産業, ...), as the body declares it:
    # what special-tax measure (a) asks of the project itself, not only of the body.
    serves_disadvantaged_area: bool = False


@dataclass(frozen=True)
class Geography:
    type: str = "same_prefecture"
    km: float | None = None


@dataclass(frozen=True)
class FixedRule:
    """A need's group must have this mode and/or this lead body (each optional)."""

    need: str
    mode: str | None = None
    lead_body: str | None = None


@dataclass(frozen=True)
class Rules:
    geography: Geography = Geography()
    together: tuple[tuple[str, str], ...] = ()
    apart: tuple[tuple[str, str], ...] = ()
    fixed: tuple[FixedRule, ...] = ()


@dataclass(frozen=True)
class AllocationSpec:
    method: str = "formula"
    weights: Mapping[str, float] = field(default_factory=lambda: {"equal": 0.1, "population": 0.9, "volume": 0.0})
    core: str = "report"  # CORE_OPTIONS; "adjust" moves the shares to the nearest core point (cost-model.md)
    # 幹事は補助対象団体に限る: in lead mode only an eligible 実施主体 of the grant may lead (costs.lead_allowed)
    lead_must_be_grant_eligible: bool = False
    # the kinds the grant excludes (the rule set's grant.ineligible_kinds; the shipped R2 terms by default)
    lead_ineligible_kinds: frozenset[str] = frozenset({"prefecture", "designated_city"})
    # 幹事事務費: a fixed yearly cost of every joint group of the mode (yen), folded into the mode's fixed_annual
    lead_work_annual_yen: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Instance:
    """One planning run's whole input (the `kyodo-planner-instance/1` file)."""

    name: str
    fiscal_year: int
    horizon_years: int
    bodies: Mapping[str, Body]
    categories: Mapping[str, Category]
    hosts: tuple[Host, ...]
    needs: tuple[Need, ...]
    rules: Rules = Rules()
    allocation: AllocationSpec = AllocationSpec()

    def need(self, need_id: str) -> Need:
        return self.needs_by_id[need_id]

    @property
    def needs_by_id(self) -> dict[str, Need]:
        # Cached on first use; frozen dataclasses need object.__setattr__ for that.
        cached = self.__dict__.get("_needs_by_id")
        if cached is None:
            cached = {n.id: n for n in self.needs}
            object.__setattr__(self, "_needs_by_id", cached)
        return cached

    def hosts_of(self, category: str) -> list[str]:
        """Codes of the bodies that may host lead-mode groups of ``category``."""
        return [h.body for h in self.hosts if category in h.categories]

    def fixed_rule(self, need_id: str) -> FixedRule | None:
        cached = self.__dict__.get("_fixed_by_need")
        if cached is None:
            cached = {f.need: f for f in self.rules.fixed}
            object.__setattr__(self, "_fixed_by_need", cached)
        return cached.get(need_id)
