"""Budget lines by role and mode (予算見積): what each body puts in its own budget for the plan's groups.

A finance section budgets by who signs what, not by who benefits:

- the 幹事団体 of a ``lead`` group signs the one contract for every member, so the whole contract is its 歳出 (under
  the 節 the contract is expected to fall under, :func:`expected_item`), the other members' shares are its 歳入
  (分担金及び負担金), and its own share is what remains: its 一般財源. A host lead (a prefecture leading for its
  municipalities) has no share, so its 一般財源 is 0;
- a member of a ``lead`` group pays its share to the lead: 歳出 負担金、補助及び交付金;
- in ``unified`` mode (and alone) each body signs its own contract: its share is its 「契約予定額（見込）」 under its
  own 委託料 or 使用料及び賃借料, and no money passes between bodies.

The grant (国庫支出金) is a public call a project may not win, so it never enters the headline figures
(subsidy-rules.md §4): it is its own block, 「採択された場合」, with what it changes (the lead receives it and charges
its members less; a unified member receives its own). The 特別交付税 is no 歳入 of the budget being drawn up (it is
part of the body's 一般財源 from the State, decided later), so it is shown 参考 only.

Every figure is read from the settled plan: a member's years are planner.domain.statements.schedule_line of its
member line, a lead's contract is its group's cost by year (initial in the start year, the yearly cost in each year
of the horizon). Nothing here computes a share.

債務負担行為: one 事項 per group a body commits to beyond the first year (:class:`DebtLine`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .settled import MemberLine, member_lines
from .statements import schedule_line

if TYPE_CHECKING:
    from .model import Category, Instance
    from .settled_plan import SettledGroup, SettledPlan

# 節 of 歳出 (地方自治法施行規則 別記 歳出予算に係る節の区分, as numbered from 令和2年度)
COMMISSION = "12節 委託料"
RENTAL = "13節 使用料及び賃借料"
CONTRIBUTION = "18節 負担金、補助及び交付金"
# 款 of 歳入
SHARES_REVENUE = "分担金及び負担金"
NATIONAL_REVENUE = "国庫支出金"

# Category groups whose software is a ready-made product used under licence (the vendor runs it; the body pays to
# use it): their contract is a 使用料. Every other category is a system the vendor sets up and runs for the bodies:
# a 委託. The price book names a category's group; this table is the one place that reads it for the 節.
LICENSED_GROUPS = frozenset({"tool", "rpa"})

ITEM_BASIS = {
    RENTAL: "既製のソフトウェア・クラウドサービスをライセンスにより利用する契約（利用料）のため",
    COMMISSION: "事業者がシステムを構築・運用する業務の契約のため",
}

LONG_TERM_BASIS = (
    "地方自治法第234条の3、同法施行令第167条の17及び各団体の長期継続契約を締結することができる契約を定める条例"
)

ROLE_LABELS = {
    "lead": "幹事団体（一括契約）",
    "lead_member": "幹事団体方式の参加団体（負担金）",
    "unified": "仕様統一方式の参加団体（各団体で契約）",
    "standalone": "単独調達",
}


def expected_item(category: Category) -> str:
    """The 節 a contract for ``category`` is expected to fall under (its finance section decides; see the module)."""
    return RENTAL if category.group in LICENSED_GROUPS else COMMISSION


# Neither the price book nor a vendor quote records what kind of contract a category's product is bought under, so
# a contract's 節 is an assumption from what the category is, and every document says so beside the line.
ASSUMED_ITEM = (
    "仮定：単価表・見積に契約の種類の記録がないため、分野の種類から見込んだ節です。見積・契約の内容"
    "（委託か使用料か）により決まります"
)
# A member's payment to the lead is fixed by the agreement, not assumed: it is no contract of its own.
CONTRIBUTION_BASIS = "協定に基づき、契約の当事者である幹事団体に支払う負担金のため（幹事団体方式の参加団体）"
SHARES_BASIS = "協定に基づき参加団体が納付する負担金のため（幹事団体が契約の全体を歳出に計上する）"


def contract_basis(category: Category, own: str) -> str:
    """Why a contract falls under its 節: what the category buys, ``own`` (whose contract it is), and that the
    choice is an assumption."""
    return f"{own}{ITEM_BASIS[expected_item(category)]}（{ASSUMED_ITEM}）"


@dataclass(frozen=True)
class YearYen:
    fiscal_year: int
    yen: int


def _years(pairs: Iterable[tuple[int, int]]) -> tuple[YearYen, ...]:
    return tuple(YearYen(fy, yen) for fy, yen in pairs)


@dataclass(frozen=True)
class BudgetLine:
    """One line of a body's budget for one group, by fiscal year (yen).

    ``item`` is the 節 of a 歳出 or the 款 of a 歳入; ``counterparts`` are the bodies the money goes to or comes
    from (a 負担金's lead; a lead's paying members, with each one's years in ``parts``)."""

    item: str
    label: str
    group_id: str
    category_id: str
    mode: str
    years: tuple[YearYen, ...]
    counterparts: tuple[str, ...] = ()
    parts: tuple[tuple[str, tuple[YearYen, ...]], ...] = ()  # (body code, its years): a lead's 歳入 by member
    basis: str = ""  # why this 節 or 款 (an assumed contract 節 says it is assumed)

    def amount_in(self, fiscal_year: int) -> int:
        return sum(y.yen for y in self.years if y.fiscal_year == fiscal_year)

    @property
    def total_yen(self) -> int:
        return sum(y.yen for y in self.years)


@dataclass(frozen=True)
class IfAwarded:
    """What the grant changes for one body in one group, if the project is selected (all in the start year).

    ``national_yen``: the 国庫支出金 this body receives (the lead for the group; a unified or standalone member for
    itself); ``expenditure_change_yen``: a lead-mode member's 負担金 falls by its part of the grant;
    ``revenue_change_yen``: the lead's 負担金 revenue falls by the members' parts; ``general_fund_change_yen`` the
    result on its 一般財源 (negative: less)."""

    group_id: str
    category_id: str
    mode: str
    fiscal_year: int
    national_yen: int
    expenditure_change_yen: int
    revenue_change_yen: int

    @property
    def general_fund_change_yen(self) -> int:
        return self.expenditure_change_yen - self.revenue_change_yen - self.national_yen


@dataclass(frozen=True)
class DebtLine:
    """One 債務負担行為 事項: a group whose payments run past the year the contract (or agreement) is made.

    Set in the budget of ``set_year`` (the start year: the contract is made in it and its own year's amount is in
    that year's 歳出予算), 期間 ``from_year``..``to_year`` (the later years), 限度額 ``limit_yen`` (what falls due in
    them). ``long_term`` says a 長期継続契約 may be used instead (a 使用料 contract the body signs itself)."""

    group_id: str
    category_id: str
    mode: str
    role: str
    title: str
    item: str
    set_year: int
    from_year: int
    to_year: int
    limit_yen: int
    whole_yen: int  # every year's amount, the start year's included (the limit if the contract is made the year before)
    long_term: bool


@dataclass(frozen=True)
class BodyBudget:
    """A body's budget lines for the plan: 歳出, 歳入 (特定財源), the 一般財源 that remains, the grant if awarded,
    the 特別交付税 as 参考, and its 債務負担行為."""

    body_code: str
    body_name: str
    body_kind: str
    roles: tuple[str, ...]  # keys of ROLE_LABELS, in that order
    fiscal_years: tuple[int, ...]
    expenditure: tuple[BudgetLine, ...]
    revenue: tuple[BudgetLine, ...]
    if_awarded: tuple[IfAwarded, ...]
    special_tax: tuple[BudgetLine, ...]  # 参考: the body's own estimate per group (not a 歳入 of this budget)
    debts: tuple[DebtLine, ...]

    def expenditure_in(self, fiscal_year: int) -> int:
        return sum(line.amount_in(fiscal_year) for line in self.expenditure)

    def revenue_in(self, fiscal_year: int) -> int:
        return sum(line.amount_in(fiscal_year) for line in self.revenue)

    def general_fund_in(self, fiscal_year: int) -> int:
        return self.expenditure_in(fiscal_year) - self.revenue_in(fiscal_year)

    def national_if_awarded_in(self, fiscal_year: int) -> int:
        return sum(a.national_yen for a in self.if_awarded if a.fiscal_year == fiscal_year)

    def special_tax_in(self, fiscal_year: int) -> int:
        return sum(line.amount_in(fiscal_year) for line in self.special_tax)

    @property
    def expenditure_total_yen(self) -> int:
        return sum(line.total_yen for line in self.expenditure)

    @property
    def revenue_total_yen(self) -> int:
        return sum(line.total_yen for line in self.revenue)

    @property
    def general_fund_total_yen(self) -> int:
        return self.expenditure_total_yen - self.revenue_total_yen

    @property
    def national_if_awarded_yen(self) -> int:
        return sum(a.national_yen for a in self.if_awarded)

    @property
    def special_tax_total_yen(self) -> int:
        return sum(line.total_yen for line in self.special_tax)

    @property
    def role_labels(self) -> tuple[str, ...]:
        return tuple(ROLE_LABELS[r] for r in self.roles)

    @property
    def leads(self) -> bool:
        return "lead" in self.roles


# --- 千円 (budget books) ----------------------------------------------------------------------------------------

THOUSAND_RULE = (
    "千円表示は予算見積の例により、歳出は各行を千円未満切上げ、歳入は各行を千円未満切捨てとし、計は千円表示の各行の和、"
    "一般財源は歳出計−歳入計（千円）です。このため円表示を換算した値と異なることがあります。"
)


def thousand_up(yen: int) -> int:
    """A 歳出 in 千円: rounded up, so that the appropriation covers the amount."""
    return -(-yen // 1000)


def thousand_down(yen: int) -> int:
    """A 歳入 in 千円: rounded down, so that no revenue is counted that may not come."""
    return yen // 1000


# --- building ---------------------------------------------------------------------------------------------------


def _contract_years(group: SettledGroup, horizon: int) -> tuple[YearYen, ...]:
    """The group's cost by fiscal year: the initial cost in the start year, the yearly cost in each year."""
    return _years(
        (group.start_year + i, (group.cost.initial_yen if i == 0 else 0) + group.cost.annual_yen)
        for i in range(horizon)
    )


def _member_years(line: MemberLine, group: SettledGroup, horizon: int) -> tuple[YearYen, ...]:
    years, _drift = schedule_line(line, group.start_year, horizon)
    return _years((y.fiscal_year, y.gross_yen) for y in years)


def _special_tax_without_grant(line: MemberLine) -> int:
    """The 特別交付税 estimate of the headline (the grant not awarded, subsidy-rules.md §4)."""
    if line.subsidy is None:
        return 0
    return line.share.total_yen - line.subsidy.net_without_grant_yen


def _debt(
    role: str, title: str, item: str, group: SettledGroup, years: Sequence[YearYen], long_term: bool
) -> DebtLine | None:
    later = [y for y in years if y.fiscal_year > group.start_year]
    if not later or not any(y.yen for y in later):
        return None  # paid within the year: no 債務負担行為
    return DebtLine(
        group_id=group.id,
        category_id=group.category,
        mode=group.mode,
        role=role,
        title=title,
        item=item,
        set_year=group.start_year,
        from_year=later[0].fiscal_year,
        to_year=later[-1].fiscal_year,
        limit_yen=sum(y.yen for y in later),
        whole_yen=sum(y.yen for y in years),
        long_term=long_term,
    )


@dataclass
class _Draft:
    roles: set[str]
    expenditure: list[BudgetLine]
    revenue: list[BudgetLine]
    if_awarded: list[IfAwarded]
    special_tax: list[BudgetLine]
    debts: list[DebtLine]


def _category_name(instance: Instance, category_id: str) -> str:
    category = instance.categories.get(category_id)
    return category.name.split("（", 1)[0] if category is not None else category_id


def body_budgets(instance: Instance, plan: SettledPlan, body_codes: Sequence[str] | None = None) -> list[BodyBudget]:
    """The budget of every body with a role in ``plan`` (a need in a group, or the lead of a joint group), or of
    ``body_codes`` only, in body-code order."""
    wanted = None if body_codes is None else set(body_codes)
    horizon = instance.horizon_years
    drafts: dict[str, _Draft] = {}

    def draft(code: str) -> _Draft:
        return drafts.setdefault(code, _Draft(set(), [], [], [], [], []))

    for group in plan.groups:
        lines = member_lines(instance, group)
        name = _category_name(instance, group.category)
        category = instance.categories[group.category]
        item = expected_item(category)
        long_term = item == RENTAL
        lead_name = instance.bodies[group.lead_body].name if group.lead_body in instance.bodies else group.lead_body
        if group.mode == "lead" and (wanted is None or group.lead_body in wanted):
            d = draft(group.lead_body)
            d.roles.add("lead")
            contract = _contract_years(group, horizon)
            title = f"{name}共同利用業務（{group.id}、{len(lines)}団体分の一括契約）"
            d.expenditure.append(
                BudgetLine(
                    item,
                    title,
                    group.id,
                    group.category,
                    group.mode,
                    contract,
                    basis=contract_basis(category, "幹事団体として参加団体の分を含めて一括して結ぶ契約で、"),
                )
            )
            payers = [ln for ln in lines if not ln.is_lead]
            parts = tuple((ln.body_code, _member_years(ln, group, horizon)) for ln in payers)
            revenue = _years(
                (y.fiscal_year, sum(m.yen for _code, years in parts for m in years if m.fiscal_year == y.fiscal_year))
                for y in contract
            )
            d.revenue.append(
                BudgetLine(
                    SHARES_REVENUE,
                    f"{name}共同利用負担金（{group.id}、参加{len(payers)}団体から）",
                    group.id,
                    group.category,
                    group.mode,
                    revenue,
                    tuple(ln.body_code for ln in payers),
                    parts,
                    SHARES_BASIS,
                )
            )
            grant = sum(ln.grant_yen for ln in lines)
            if grant:
                d.if_awarded.append(
                    IfAwarded(
                        group.id,
                        group.category,
                        group.mode,
                        group.start_year,
                        grant,
                        0,
                        -sum(ln.grant_yen for ln in payers),
                    )
                )
            debt = _debt("lead", f"{name}共同利用業務（{group.id}）", item, group, contract, long_term)
            if debt:
                d.debts.append(debt)
        for ln in lines:
            if wanted is not None and ln.body_code not in wanted:
                continue
            d = draft(ln.body_code)
            years = _member_years(ln, group, horizon)
            tax = _special_tax_without_grant(ln)
            if tax:
                d.special_tax.append(
                    BudgetLine(
                        "特別交付税（参考）",
                        f"{name}（{group.id}）{ln.special_tax_measure or ''}",
                        group.id,
                        group.category,
                        group.mode,
                        _years([(group.start_year, tax)]),
                    )
                )
            if group.mode == "lead":
                if ln.is_lead:
                    continue  # its share is what its own 歳出 leaves after the members' 負担金: its 一般財源
                d.roles.add("lead_member")
                d.expenditure.append(
                    BudgetLine(
                        CONTRIBUTION,
                        f"{name}共同利用負担金（{group.id}、幹事団体 {lead_name}へ）",
                        group.id,
                        group.category,
                        group.mode,
                        years,
                        (group.lead_body,),
                        basis=CONTRIBUTION_BASIS,
                    )
                )
                if ln.grant_yen:
                    d.if_awarded.append(
                        IfAwarded(group.id, group.category, group.mode, group.start_year, 0, -ln.grant_yen, 0)
                    )
                debt = _debt("lead_member", f"{name}共同利用負担金（{group.id}）", CONTRIBUTION, group, years, False)
            else:
                role = "unified" if group.mode == "unified" else "standalone"
                d.roles.add(role)
                how = f"仕様統一方式、取りまとめ {lead_name}" if role == "unified" else "単独調達"
                d.expenditure.append(
                    BudgetLine(
                        item,
                        f"{name}業務 契約予定額（見込）（{group.id}、{how}）",
                        group.id,
                        group.category,
                        group.mode,
                        years,
                        basis=contract_basis(category, "自ら契約の当事者として結ぶ契約で、"),
                    )
                )
                if ln.grant_yen:
                    d.if_awarded.append(
                        IfAwarded(group.id, group.category, group.mode, group.start_year, ln.grant_yen, 0, 0)
                    )
                debt = _debt(role, f"{name}業務（{group.id}）", item, group, years, long_term)
            if debt:
                d.debts.append(debt)

    out = []
    for code in sorted(drafts):
        d = drafts[code]
        body = instance.bodies[code]
        spans = [y.fiscal_year for line in d.expenditure + d.revenue for y in line.years]
        first, last = (min(spans), max(spans)) if spans else (0, -1)
        order = {role: i for i, role in enumerate(ROLE_LABELS)}
        out.append(
            BodyBudget(
                body_code=code,
                body_name=body.name,
                body_kind=body.kind,
                roles=tuple(sorted(d.roles, key=order.__getitem__)),
                fiscal_years=tuple(range(first, last + 1)),
                expenditure=tuple(d.expenditure),
                revenue=tuple(d.revenue),
                if_awarded=tuple(d.if_awarded),
                special_tax=tuple(d.special_tax),
                debts=tuple(sorted(d.debts, key=lambda x: (x.set_year, x.group_id))),
            )
        )
    return out


@dataclass(frozen=True)
class PrefectureBudget:
    """The prefecture-wide 予算総括表: every body's budget (leads included, the prefecture too), by fiscal year."""

    fiscal_years: tuple[int, ...]
    budgets: tuple[BodyBudget, ...]

    def total(self, attr: str, fiscal_year: int | None = None) -> int:
        """The sum over bodies of ``attr``: expenditure, revenue, general_fund, national_if_awarded, special_tax."""
        if fiscal_year is None:
            names = {"national_if_awarded": "national_if_awarded_yen"}
            return sum(getattr(b, names.get(attr, f"{attr}_total_yen")) for b in self.budgets)
        return sum(getattr(b, f"{attr}_in")(fiscal_year) for b in self.budgets)

    @property
    def leads(self) -> tuple[BodyBudget, ...]:
        return tuple(b for b in self.budgets if b.leads)


def prefecture_budget(budgets: Sequence[BodyBudget]) -> PrefectureBudget:
    years = sorted({fy for b in budgets for fy in b.fiscal_years})
    span = tuple(range(years[0], years[-1] + 1)) if years else ()
    return PrefectureBudget(span, tuple(budgets))
