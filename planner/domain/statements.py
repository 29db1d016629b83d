"""Year-by-year statements (年度別負担額): a settled plan's member figures spread over fiscal years, per body.

Finance sections budget by fiscal year (予算要求) and commit several years at once (債務負担行為), so every figure a
member owes is placed in the year it falls due. The assumptions (subsidy-rules.md: the grant and the special
allocation tax are on the initial cost only) are:

- the initial share falls in the group's start year;
- the yearly share falls in each of the horizon's years, from the start year (start year .. start year + H - 1);
- the grant and special-tax estimates fall in the start year, the year of the initial cost they are on;
- the headline net burden (``net_without_grant_yen``) assumes the grant is not awarded and counts the special tax on
  the whole initial share (subsidy-rules.md section 4); the grant and the net burden with it (``net_yen``) are the
  「採択された場合」 figures, never the headline.

A share whose horizon total is not initial + H x annual (an allocation rounded on the total) keeps the statement's
total equal to the plan's: the difference lands in the last year and is reported (``drift_yen``).

Every figure is read from :func:`planner.domain.settled.member_lines`; nothing here computes a share.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from .settled import MemberLine, member_lines

if TYPE_CHECKING:
    from .model import Instance
    from .settled_plan import SettledGroup, SettledPlan

ASSUMPTIONS = (
    "初期負担は導入年度（グループの参加団体がそろって導入する年度）に計上しています。",
    "年間負担は導入年度から算定期間の各年度に計上しています。",
    "補助金（地域IoT実装・共同利用推進事業）と特別交付税措置は初期費用のみが対象のため、導入年度に見込んでいます"
    "（ランニング費用は対象外）。",
    "特別交付税の事業費上限額は団体・年度ごとです。見込額は計画の按分と補助制度ルールによる算定値です。",
    "実質負担は補助金が採択されない場合の額です（特別交付税は初期負担の全額に対して算定）。補助金は公募のため、"
    "「採択された場合」の額として別に示しています（採択されると特別交付税は補助金を除いた額に対して算定されます）。",
)


@dataclass(frozen=True)
class YearAmounts:
    """What falls due in one fiscal year (yen)."""

    fiscal_year: int
    initial_yen: int = 0
    annual_yen: int = 0
    grant_yen: int = 0
    special_tax_yen: int = 0  # if the grant is awarded (on the initial share minus the grant)
    special_tax_without_grant_yen: int = 0  # the headline's: the grant not awarded

    @property
    def gross_yen(self) -> int:
        return self.initial_yen + self.annual_yen

    @property
    def net_yen(self) -> int:
        """The net burden if the grant is awarded (the 「採択された場合」 line)."""
        return self.gross_yen - self.grant_yen - self.special_tax_yen

    @property
    def net_without_grant_yen(self) -> int:
        """The headline net burden: no grant, the special tax counted."""
        return self.gross_yen - self.special_tax_without_grant_yen

    def __add__(self, other: YearAmounts) -> YearAmounts:
        if other.fiscal_year != self.fiscal_year:
            raise ValueError(f"{self.fiscal_year}年度と{other.fiscal_year}年度は足せません")
        return YearAmounts(
            self.fiscal_year,
            self.initial_yen + other.initial_yen,
            self.annual_yen + other.annual_yen,
            self.grant_yen + other.grant_yen,
            self.special_tax_yen + other.special_tax_yen,
            self.special_tax_without_grant_yen + other.special_tax_without_grant_yen,
        )


def sum_years(rows: Iterable[YearAmounts], fiscal_year: int = 0) -> YearAmounts:
    """All ``rows`` added up (the fiscal year of the result is ``fiscal_year``: 0 for a multi-year total)."""
    total = YearAmounts(fiscal_year)
    for r in rows:
        total = YearAmounts(
            fiscal_year,
            total.initial_yen + r.initial_yen,
            total.annual_yen + r.annual_yen,
            total.grant_yen + r.grant_yen,
            total.special_tax_yen + r.special_tax_yen,
            total.special_tax_without_grant_yen + r.special_tax_without_grant_yen,
        )
    return total


@dataclass(frozen=True)
class NeedSchedule:
    """One member line (a need in its group) spread over the years it falls due."""

    line: MemberLine
    group_id: str
    category_id: str
    mode: str
    lead_body: str
    start_year: int
    years: tuple[YearAmounts, ...]
    drift_yen: int = 0  # put into the last year so that the years add up to the plan's total

    @property
    def end_year(self) -> int:
        return self.years[-1].fiscal_year

    def amounts_in(self, fiscal_year: int) -> YearAmounts:
        for y in self.years:
            if y.fiscal_year == fiscal_year:
                return y
        return YearAmounts(fiscal_year)


def schedule_line(line: MemberLine, start_year: int, horizon_years: int) -> tuple[tuple[YearAmounts, ...], int]:
    """The years of one member line and the drift moved into the last one (see the module's assumptions)."""
    if horizon_years < 1:
        raise ValueError(f"算定期間（horizon_years）が {horizon_years} 年です")
    years = [
        YearAmounts(
            start_year + i,
            line.initial_yen if i == 0 else 0,
            line.annual_yen,
            line.grant_yen if i == 0 else 0,
            line.special_tax_yen if i == 0 else 0,
            line.special_tax_without_grant_yen if i == 0 else 0,
        )
        for i in range(horizon_years)
    ]
    drift = line.total_yen - sum(y.gross_yen for y in years)
    if drift:
        last = years[-1]
        years[-1] = replace(last, annual_yen=last.annual_yen + drift)
    return tuple(years), drift


def need_schedules(instance: Instance, group: SettledGroup) -> list[NeedSchedule]:
    out = []
    for line in member_lines(instance, group):
        years, drift = schedule_line(line, group.start_year, instance.horizon_years)
        out.append(
            NeedSchedule(line, group.id, group.category, group.mode, group.lead_body, group.start_year, years, drift)
        )
    return out


@dataclass(frozen=True)
class BodyStatement:
    """A body's 年度別負担額: every need of it in the plan, and the years summed over them."""

    body_code: str
    body_name: str
    body_kind: str
    needs: tuple[NeedSchedule, ...]
    fiscal_years: tuple[int, ...]  # consecutive, from the earliest start to the latest end among its needs

    @property
    def years(self) -> tuple[YearAmounts, ...]:
        return tuple(sum_years((n.amounts_in(fy) for n in self.needs), fy) for fy in self.fiscal_years)

    @property
    def total(self) -> YearAmounts:
        return sum_years(self.years)

    @property
    def joint_needs(self) -> tuple[NeedSchedule, ...]:
        return tuple(n for n in self.needs if n.mode != "standalone")

    def amounts_in(self, fiscal_year: int) -> YearAmounts:
        return sum_years((n.amounts_in(fiscal_year) for n in self.needs), fiscal_year)


def body_statements(
    instance: Instance, plan: SettledPlan, body_codes: Sequence[str] | None = None
) -> list[BodyStatement]:
    """The statement of every body with a need in ``plan`` (or of ``body_codes`` only), in body-code order."""
    by_body: dict[str, list[NeedSchedule]] = {}
    wanted = None if body_codes is None else set(body_codes)
    for group in plan.groups:
        if wanted is not None and not any(instance.need(n).body in wanted for n in group.members):
            continue
        for schedule in need_schedules(instance, group):
            if wanted is None or schedule.line.body_code in wanted:
                by_body.setdefault(schedule.line.body_code, []).append(schedule)
    out = []
    for code in sorted(by_body):
        needs = sorted(by_body[code], key=lambda s: (s.start_year, s.category_id, s.group_id, s.line.need_id))
        first = min(n.start_year for n in needs)
        last = max(n.end_year for n in needs)
        body = instance.bodies[code]
        out.append(BodyStatement(code, body.name, body.kind, tuple(needs), tuple(range(first, last + 1))))
    return out
