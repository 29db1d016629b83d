"""確定負担額, the year-end 精算 and the grant's pass-through: the agreed rule applied to what was really paid.

A plan's shares are 見込額: they price the group from the price book or a quote. Once the lead (幹事団体) has signed
the contract, the agreement's rule is applied to the real contract price, year by year:

- **The year's cost** is the contract amount for that fiscal year plus the lead's own work (幹事事務費, the
  scenario's yearly amount for the mode), which is agreed, not contracted, and stays as planned.
- **The split** is the group's recorded rule (:mod:`planner.domain.share_rule`). A group whose shares follow a
  formula exactly splits each year's cost by the formula's exact ratios over the members taking part that year.
  Any other group (a formula plus 調整額, シャープレイ値, 仁, 単独費用比) splits it in proportion to the members'
  見込額 of the same year, as the 別表 lists them; that is the only rule such an agreement can state, and for an
  exact formula both readings give the same ratios (up to the rounding of the 見込額, which is why the formula is
  applied directly there).
- **Rounding** is 第4条2's: the largest remainder, the lead first on equal fractions, then the members' order.
- **Withdrawal**: a member that leaves takes part up to and including its last fiscal year; from the next year the
  year's cost is split among the members still in the group by the same rule (for a formula, over their own
  populations and volumes), and the leaver owes the termination cost the lead states (解約に伴う費用), separately.

The year-end 精算 compares, per member, what was billed for a fiscal year with its share of what the year really
cost (the same rule on the actual amount); a positive difference is an 追加請求, a negative one a 還付.

The grant (地域IoT実装・共同利用推進事業) is received by the lead as 実施主体 and passed to the members in
proportion to their initial shares (the agreement's grant article): first from the 交付決定額, then, when the amount
is 確定, the difference to what was passed on (a 返還 when the 確定額 is lower).

Everything here is exact integer yen; nothing reads a database or a clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import TYPE_CHECKING

from .allocation import formula_ratios, priority_order, split_yen
from .share_rule import share_rule
from .statements import need_schedules

if TYPE_CHECKING:
    from .model import Instance
    from .settled_plan import SettledGroup


class ContractError(ValueError):
    """A contract result or settlement input that cannot be applied; the message names the field and the year."""


@dataclass(frozen=True)
class ContractResult:
    """What the lead entered after the tender (契約結果): the whole group's contract price by fiscal year."""

    vendor: str
    contract_date: date
    amounts_by_year: Mapping[int, int]  # fiscal year -> yen, every year of the group's period


@dataclass(frozen=True)
class Withdrawal:
    """A member leaving the group: it takes part up to and including ``last_fiscal_year``."""

    need_id: str
    last_fiscal_year: int
    termination_cost_yen: int = 0  # 解約に伴う費用 the leaver bears, as the lead stated it


@dataclass(frozen=True)
class MemberYear:
    fiscal_year: int
    estimated_yen: int  # 見込額 (the plan's share falling in this year)
    confirmed_yen: int  # 確定負担額

    @property
    def difference_yen(self) -> int:
        return self.confirmed_yen - self.estimated_yen


@dataclass(frozen=True)
class ConfirmedShare:
    need_id: str
    body_code: str
    is_lead: bool
    years: tuple[MemberYear, ...]
    termination_cost_yen: int = 0

    @property
    def estimated_total_yen(self) -> int:
        return sum(y.estimated_yen for y in self.years)

    @property
    def confirmed_total_yen(self) -> int:
        return sum(y.confirmed_yen for y in self.years) + self.termination_cost_yen

    @property
    def difference_yen(self) -> int:
        return self.confirmed_total_yen - self.estimated_total_yen

    def in_year(self, fiscal_year: int) -> MemberYear:
        for y in self.years:
            if y.fiscal_year == fiscal_year:
                return y
        raise KeyError(fiscal_year)


@dataclass(frozen=True)
class ConfirmedGroup:
    """A group's 確定負担額: the year's cost (contract + 幹事事務費) split by the agreed rule."""

    group_id: str
    fiscal_years: tuple[int, ...]
    contract: ContractResult
    lead_work_by_year: Mapping[int, int]
    shares: tuple[ConfirmedShare, ...]
    basis: str  # the rule in one sentence, for the notice (である調)
    withdrawals: tuple[Withdrawal, ...] = ()

    def cost_in(self, fiscal_year: int) -> int:
        return self.contract.amounts_by_year[fiscal_year] + self.lead_work_by_year.get(fiscal_year, 0)

    @property
    def estimated_total_yen(self) -> int:
        return sum(s.estimated_total_yen for s in self.shares)

    @property
    def confirmed_total_yen(self) -> int:
        return sum(s.confirmed_total_yen for s in self.shares)

    def share(self, need_id: str) -> ConfirmedShare:
        for s in self.shares:
            if s.need_id == need_id:
                return s
        raise KeyError(need_id)


@dataclass(frozen=True)
class SettlementLine:
    need_id: str
    body_code: str
    billed_yen: int
    actual_share_yen: int
    grant_adjustment_yen: int = 0  # grant passed on in this settlement (subtracted from what the member owes)

    @property
    def difference_yen(self) -> int:
        """Positive: the member pays more (追加請求); negative: the lead refunds it (還付)."""
        return self.actual_share_yen - self.billed_yen - self.grant_adjustment_yen


@dataclass(frozen=True)
class YearSettlement:
    group_id: str
    fiscal_year: int
    actual_cost_yen: int  # what the year really cost: the contract's actual payments plus 幹事事務費
    lines: tuple[SettlementLine, ...]
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def billed_total_yen(self) -> int:
        return sum(line.billed_yen for line in self.lines)

    @property
    def difference_total_yen(self) -> int:
        return sum(line.difference_yen for line in self.lines)


def group_fiscal_years(instance: Instance, group: SettledGroup) -> tuple[int, ...]:
    return tuple(range(group.start_year, group.start_year + instance.horizon_years))


def estimated_by_year(instance: Instance, group: SettledGroup) -> dict[str, dict[int, int]]:
    """Each member's 見込額 by fiscal year, exactly as the year-by-year statements place it."""
    return {s.line.need_id: {y.fiscal_year: y.gross_yen for y in s.years} for s in need_schedules(instance, group)}


def lead_work_by_year(instance: Instance, group: SettledGroup) -> dict[int, int]:
    """The lead's yearly 幹事事務費 for the group's mode, in every year of the period (0 where the scenario sets none
    or the group is a lone need)."""
    yearly = 0 if len(group.members) < 2 else int(instance.allocation.lead_work_annual_yen.get(group.mode, 0))
    return dict.fromkeys(group_fiscal_years(instance, group), yearly)


def check_contract(instance: Instance, group: SettledGroup, contract: ContractResult) -> None:
    """Refuse a contract result that does not fit the group: a lone or unified group has no shared contract, and the
    amounts must cover exactly the group's fiscal years with whole, non-negative yen."""
    if group.mode != "lead" or len(group.members) < 2:
        raise ContractError(
            f"グループ {group.id} は幹事団体方式の共同調達ではありません（仕様統一方式と単独調達は各団体が契約します）"
        )
    if not contract.vendor.strip():
        raise ContractError("契約の相手方（事業者名）がありません")
    years = group_fiscal_years(instance, group)
    extra = sorted(set(contract.amounts_by_year) - set(years))
    if extra:
        raise ContractError(
            f"契約金額の年度 {', '.join(map(str, extra))} はグループの期間（{years[0]}〜{years[-1]}年度）の外です"
        )
    for fy in years:
        if fy not in contract.amounts_by_year:
            raise ContractError(f"{fy}年度の契約金額がありません（期間の各年度の額を入れてください。0 円も可）")
        amount = contract.amounts_by_year[fy]
        if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
            raise ContractError(f"{fy}年度の契約金額 {amount!r} は 0 以上の整数（円）ではありません")


def _active(group: SettledGroup, fiscal_year: int, withdrawals: Mapping[str, Withdrawal]) -> list[str]:
    return [nid for nid in group.members if nid not in withdrawals or fiscal_year <= withdrawals[nid].last_fiscal_year]


def _year_ratios(
    instance: Instance,
    group: SettledGroup,
    members: Sequence[str],
    fiscal_year: int,
    estimated: Mapping[str, Mapping[int, int]],
) -> list[Fraction]:
    """The members' ratios for one year: the formula's exact ratios where the shares follow a formula exactly,
    otherwise their 見込額 of that year (of the whole period where that year's are all 0)."""
    rule = share_rule(group)
    if rule is not None and not rule.adjusted:
        return formula_ratios(instance, members, rule.weights)
    year = [Fraction(estimated[nid].get(fiscal_year, 0)) for nid in members]
    if sum(year) > 0:
        return year
    whole = [Fraction(sum(estimated[nid].values())) for nid in members]
    if sum(whole) > 0:
        return whole
    return [Fraction(1)] * len(members)


def split_year(
    instance: Instance,
    group: SettledGroup,
    fiscal_year: int,
    amount_yen: int,
    withdrawals: Sequence[Withdrawal] = (),
) -> dict[str, int]:
    """``amount_yen`` (one fiscal year's cost) split among the members taking part that year, by the agreed rule."""
    gone = {w.need_id: w for w in withdrawals}
    members = _active(group, fiscal_year, gone)
    if not members:
        raise ContractError(f"{fiscal_year}年度に参加している団体がありません")
    ratios = _year_ratios(instance, group, members, fiscal_year, estimated_by_year(instance, group))
    lead = next((k for k, nid in enumerate(members) if instance.need(nid).body == group.lead_body), None)
    amounts = split_yen(amount_yen, ratios, priority_order(members, lead))
    return dict(zip(members, amounts, strict=True))


def basis_sentence(group: SettledGroup) -> str:
    rule = share_rule(group)
    if rule is not None and not rule.adjusted:
        how = f"{rule.label()}の割合"
    else:
        how = "協定書別表の各年度の見込額の比"
    return (
        f"確定負担額は、各年度の契約金額に幹事事務費を加えた額を、{how}により按分した額である"
        "（1円未満の端数は端数の大きい団体から順に配分し、等しいときは幹事団体、次に別表の順による）。"
    )


def confirm_shares(
    instance: Instance,
    group: SettledGroup,
    contract: ContractResult,
    withdrawals: Sequence[Withdrawal] = (),
) -> ConfirmedGroup:
    """The 確定負担額 of every member of a lead-mode group under ``contract``, year by year (見込 → 確定)."""
    check_contract(instance, group, contract)
    for w in withdrawals:
        if w.need_id not in group.members:
            raise ContractError(f"脱退する {w.need_id} はグループ {group.id} の参加団体ではありません")
        if w.termination_cost_yen < 0:
            raise ContractError(f"{w.need_id} の解約に伴う費用は 0 円以上です")
    years = group_fiscal_years(instance, group)
    work = lead_work_by_year(instance, group)
    estimated = estimated_by_year(instance, group)
    confirmed: dict[str, dict[int, int]] = {nid: {} for nid in group.members}
    for fy in years:
        for nid, yen in split_year(instance, group, fy, contract.amounts_by_year[fy] + work[fy], withdrawals).items():
            confirmed[nid][fy] = yen
    termination = {w.need_id: w.termination_cost_yen for w in withdrawals}
    shares = tuple(
        ConfirmedShare(
            need_id=nid,
            body_code=instance.need(nid).body,
            is_lead=instance.need(nid).body == group.lead_body,
            years=tuple(MemberYear(fy, estimated[nid][fy], confirmed[nid].get(fy, 0)) for fy in years),
            termination_cost_yen=termination.get(nid, 0),
        )
        for nid in group.members
    )
    return ConfirmedGroup(group.id, years, contract, work, shares, basis_sentence(group), tuple(withdrawals))


def grant_pass_through(instance: Instance, group: SettledGroup, grant_yen: int) -> dict[str, int]:
    """The grant the lead received for the group, passed to every member in proportion to its initial share."""
    if grant_yen < 0:
        raise ContractError("補助金の額は 0 円以上です")
    members = list(group.members)
    initial = [Fraction(group.allocation.share(nid).initial_yen) for nid in members]
    if sum(initial) == 0:
        initial = [Fraction(1)] * len(members)
    lead = next((k for k, nid in enumerate(members) if instance.need(nid).body == group.lead_body), None)
    return dict(zip(members, split_yen(grant_yen, initial, priority_order(members, lead)), strict=True))


def settle_year(
    instance: Instance,
    group: SettledGroup,
    fiscal_year: int,
    actual_contract_yen: int,
    billed: Mapping[str, int],
    withdrawals: Sequence[Withdrawal] = (),
    grant_passed_yen: Mapping[str, int] | None = None,
) -> YearSettlement:
    """The year-end 精算 of one fiscal year: the year's actual cost (the contract's actual payments plus 幹事事務費)
    split by the agreed rule, against what each member was billed for the year; ``grant_passed_yen`` is the grant
    passed on in this settlement (by :func:`grant_pass_through`, or its difference at 確定)."""
    years = group_fiscal_years(instance, group)
    if fiscal_year not in years:
        raise ContractError(f"{fiscal_year}年度はグループの期間（{years[0]}〜{years[-1]}年度）の外です")
    if actual_contract_yen < 0:
        raise ContractError(f"{fiscal_year}年度の実績額は 0 円以上です")
    actual = actual_contract_yen + lead_work_by_year(instance, group)[fiscal_year]
    shares = split_year(instance, group, fiscal_year, actual, withdrawals)
    unknown = sorted(set(billed) - set(group.members))
    if unknown:
        raise ContractError(f"請求の記録 {', '.join(unknown)} はグループ {group.id} の参加団体ではありません")
    grants = grant_passed_yen or {}
    lines = tuple(
        SettlementLine(nid, instance.need(nid).body, billed.get(nid, 0), shares.get(nid, 0), grants.get(nid, 0))
        for nid in group.members
        if nid in shares or billed.get(nid, 0) or grants.get(nid, 0)
    )
    notes = []
    missing = [nid for nid in shares if nid not in billed]
    if missing:
        notes.append(f"{len(missing)} 団体にはこの年度の請求の記録がありません（請求額 0 円として精算しています）")
    return YearSettlement(group.id, fiscal_year, actual, lines, tuple(notes))


def contract_warnings(contract_date: date | None, grant_decided_on: date | None, grant_applied: bool) -> list[str]:
    """The grant's calendar: a contract signed before the 交付決定 is, as a rule, outside the grant (事前着手)."""
    if contract_date is None or not grant_applied:
        return []
    if grant_decided_on is None:
        return [
            f"契約日 {contract_date.isoformat()} の時点で補助金の交付決定がありません。交付決定前に契約した経費は"
            "原則として補助の対象になりません（事前着手）。"
        ]
    if contract_date < grant_decided_on:
        return [
            f"契約日 {contract_date.isoformat()} が交付決定日 {grant_decided_on.isoformat()} より前です。交付決定前に"
            "契約した経費は原則として補助の対象になりません（事前着手）。"
        ]
    return []
