"""Subsidy estimates per member (補助金・特別交付税措置の見込額; spec subsidy-rules.md).

Rates, caps, eligibility, the category -> measure mapping and the 財政力補正 table are rule data, parsed once into a
:class:`~planner.domain.subsidy_rules.RuleSet`; this module only applies them. For a member's joint share and
again for its standalone alternative: gross share -> grant -> special allocation tax -> net burden.

- Grant (地域IoT実装・共同利用推進事業): the project is the 実施主体's. In ``lead`` mode the lead runs one project
  for the whole group: eligibility and the data-plan condition are judged on the lead only, the group's grant is
  min(rate x the group's initial cost, cap), rounded as the rule set says, and divided among the members in
  proportion to their initial shares (largest remainder, ties to the lead). Otherwise each member is its own
  project with its own cap.
- Special tax: 特別区 and 不交付団体 get 0 with the reason. A measure applies when it lists the need's category and
  the body (条件不利地域) and the need (a resident service there) meet its requirements. Its yearly cap limits the
  project cost counted (the initial share, before the grant) per body and fiscal year -- a ``CapLedger`` carries
  what earlier groups of the plan used -- and the grant is then deducted in proportion from what is counted:
  base = counted - floor(grant x counted / initial). Amount = base x rate(mode) x 財政力補正, rounded down.
  Where two measures apply the larger is taken and named.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any

from .model import Body, Instance, Need
from .settled import Burden, GrantEstimate, SpecialTaxEstimate, SubsidyEstimate, YenParts
from .shares import priority_order, split_yen
from .subsidy_rules import (
    RULES_DIR,
    RULES_SCHEMA,
    Measure,
    RuleSet,
    SubsidyRulesError,
    as_rule_set,
    default_rule_set,
    default_rules,
    parse_rules,
    validate_rules,
)
from .vocabulary import BODY_KIND_LABELS, MODE_SHORT, wareki_fiscal_year

__all__ = [
    "RULES_DIR",
    "RULES_SCHEMA",
    "CapLedger",
    "RuleSet",
    "RuleYearMismatch",
    "SubsidyRulesError",
    "as_rule_set",
    "correction_for",
    "default_rule_set",
    "default_rules",
    "estimate_group",
    "grant_estimates",
    "parse_rules",
    "rule_year_mismatch",
    "special_tax_estimate",
    "validate_rules",
]

REASON_KIND = "対象外の団体種別"
REASON_CATEGORY = "対象外の分野"
REASON_DATA_PLAN = "推進計画未提出"
REASON_CAP = "上限到達"
REASON_NO_INITIAL = "初期費用の負担なし"
REASON_NOT_DISADVANTAGED = "条件不利地域なし"
REASON_NOT_RESIDENT_SERVICE = "条件不利地域の住民向けサービスではない"
REASON_NO_MEASURE = "対象となる措置なし"
REASON_NO_BASE = "補助金控除後の初期負担なし"
REASON_SPECIAL_WARD = "特別区"
REASON_NO_ALLOCATION_TAX = "不交付団体"


@dataclass
class CapLedger:
    """Project cost already counted per (body, fiscal year, measure): a measure's 事業費上限額 is per body and year."""

    used: dict[tuple[str, int, str], int] = field(default_factory=dict)


# --- grant --------------------------------------------------------------------------------------------------


def grant_rule_text(rules: RuleSet) -> str:
    g = rules.grant
    return (
        f"{g.name}（補助率{g.rate.text(fractions=True)}、上限{g.cap_per_project_yen:,}円/事業、対象は初期費用、"
        f"{rules.rounding_label}）"
    )


def _ineligibility(body: Body, rules: RuleSet, role: str) -> str | None:
    """Why ``body`` as the 実施主体 (``role`` names it: 「幹事団体の長野県」) cannot receive the grant, or None."""
    g = rules.grant
    if body.kind in g.ineligible_kinds:
        return (
            f"{REASON_KIND}（{role}は{BODY_KIND_LABELS.get(body.kind, body.kind)}のため補助対象外。"
            "都道府県・指定都市は対象外）"
        )
    return None


def _data_plan_condition(body: Body, rules: RuleSet, role: str) -> str | None:
    """The condition a municipal 実施主体 without its 推進計画 must still meet (subsidy-rules.md section 1: a
    condition of the decision, met by the application, not an exclusion), or None."""
    if rules.grant.requires_data_plan and body.kind != "prefecture" and not body.has_data_plan:
        return (
            f"{REASON_DATA_PLAN}（{role}は市町村官民データ活用推進計画が未提出です。交付申請時までに推進計画を"
            "提出すれば対象。提出が交付決定の条件）"
        )
    return None


def _with_condition(reason: str | None, condition: str | None) -> str | None:
    return "。".join(r for r in (condition, reason) if r) or None


def grant_ineligibility(body: Body, rules: RuleSet) -> str | None:
    """Why ``body`` cannot be the grant's 実施主体 (None: it can)."""
    return _ineligibility(body, rules, body.name)


def grant_estimates(
    instance: Instance,
    mode: str,
    lead_body: str | None,
    member_ids: Sequence[str],
    initial: Mapping[str, int],
    rules: RuleSet | Mapping[str, Any],
) -> dict[str, GrantEstimate]:
    """The grant of each member on its initial share (``initial``); who the project is depends on ``mode``."""
    rules = as_rule_set(rules)
    g = rules.grant
    rate = g.rate(mode)
    text = grant_rule_text(rules)
    category_id = instance.need(member_ids[0]).category if member_ids else ""
    category = instance.categories.get(category_id)
    category_name = category.name if category is not None else category_id
    coverage = g.category(category_id)
    group_scope = g.project_scope.get(mode, "member") == "group" and lead_body is not None
    if coverage is None:  # rule data: the grant does not cover this category
        reason = f"{REASON_CATEGORY}（分野「{category_name}」は{g.name}の対象分野にありません）"
        return {
            nid: GrantEstimate(
                amount_yen=0,
                eligible=False,
                rule=text,
                reason=reason,
                implementer_body=lead_body if group_scope else instance.need(nid).body,
            )
            for nid in member_ids
        }
    if group_scope:
        assert lead_body is not None
        out = _group_project(instance, mode, lead_body, member_ids, initial, rules, rate, text)
    else:
        out = _member_projects(instance, member_ids, initial, rules, rate, text)
    if coverage.to_confirm:
        # the estimate is made as for a covered category, and says plainly that the category is to be confirmed
        said = f"{category_name}：{coverage.reason}"
        out = {nid: replace(e, to_confirm=said) if e.amount_yen > 0 else e for nid, e in out.items()}
    return out


def _member_projects(
    instance: Instance,
    member_ids: Sequence[str],
    initial: Mapping[str, int],
    rules: RuleSet,
    rate: Fraction,
    text: str,
) -> dict[str, GrantEstimate]:
    g = rules.grant
    out = {}
    for nid in member_ids:
        body = instance.bodies[instance.need(nid).body]
        reason = ineligible = _ineligibility(body, rules, body.name)
        if reason is None and initial[nid] <= 0:
            reason = REASON_NO_INITIAL
        amount, capped = 0, False
        if reason is None:
            uncapped = rate * initial[nid]
            capped = uncapped > g.cap_per_project_yen
            amount = rules.round_down(min(uncapped, Fraction(g.cap_per_project_yen)))
            if capped:
                reason = f"{REASON_CAP}（1事業あたりの上限 {g.cap_per_project_yen:,}円）"
            reason = _with_condition(reason, _data_plan_condition(body, rules, body.name))
        out[nid] = GrantEstimate(
            amount_yen=amount,
            eligible=ineligible is None,
            rule=text,
            reason=reason,
            project=f"{body.name}が実施主体の1事業（団体ごと）",
            implementer_body=body.code,
            capped=capped,
        )
    return out


def _group_project(
    instance: Instance,
    mode: str,
    lead_body: str,
    member_ids: Sequence[str],
    initial: Mapping[str, int],
    rules: RuleSet,
    rate: Fraction,
    text: str,
) -> dict[str, GrantEstimate]:
    g = rules.grant
    lead = instance.bodies[lead_body]
    project = f"幹事団体の{lead.name}が実施主体の1事業（グループ全体で上限 {g.cap_per_project_yen:,}円 を共有）"
    reason = _ineligibility(lead, rules, f"実施主体である幹事団体の{lead.name}")
    group_initial = sum(initial[n] for n in member_ids)
    if reason is None and group_initial <= 0:
        reason = REASON_NO_INITIAL
    if reason is not None:
        return {
            nid: GrantEstimate(
                amount_yen=0, eligible=False, rule=text, reason=reason, project=project, implementer_body=lead_body
            )
            for nid in member_ids
        }
    uncapped = rate * group_initial
    capped = uncapped > g.cap_per_project_yen
    total = rules.round_down(min(uncapped, Fraction(g.cap_per_project_yen)))
    lead_index = next((k for k, nid in enumerate(member_ids) if instance.need(nid).body == lead_body), None)
    amounts = split_yen(total, [initial[n] for n in member_ids], priority_order(list(member_ids), lead_index))
    reason = None
    if capped:
        reason = (
            f"{REASON_CAP}（グループの補助見込額 {rules.round_down(uncapped):,}円 が1事業の上限 "
            f"{g.cap_per_project_yen:,}円 を超えるため、上限額を初期負担の割合で按分）"
        )
    reason = _with_condition(reason, _data_plan_condition(lead, rules, f"実施主体である幹事団体の{lead.name}"))
    project += f"。グループの補助見込額 {total:,}円 を初期負担の割合で按分"
    return {
        nid: GrantEstimate(
            amount_yen=a,
            eligible=True,
            rule=text,
            reason=reason,
            project=project,
            implementer_body=lead_body,
            capped=capped,
        )
        for nid, a in zip(member_ids, amounts, strict=True)
    }


# --- special allocation tax -----------------------------------------------------------------------------------


def correction_for(body: Body, rules: RuleSet | Mapping[str, Any]) -> tuple[float, str | None]:
    """The 財政力補正 coefficient of ``body`` and a warning when it could not be applied."""
    rules = as_rule_set(rules)
    if rules.correction_table is None:
        return 1.0, "財政力補正の表が未設定のため補正係数1.0で計算しています（管理者が設定すると反映）。"
    fsi = body.fiscal_strength_index
    if fsi is None:
        return 1.0, f"{body.name}の財政力指数が未登録のため、補正係数を1.0として計算しています。"
    for row in rules.correction_table:
        if row.min_index <= fsi and (row.max_index is None or fsi < row.max_index):
            return row.coefficient, None
    return 1.0, f"財政力指数 {fsi} に当てはまる補正表の行がないため、補正係数を1.0として計算しています。"


def _zero(rules: RuleSet, base: int, reason: str) -> SpecialTaxEstimate:
    return SpecialTaxEstimate(
        amount_yen=0,
        measure=None,
        measure_id=None,
        rate=None,
        correction=None,
        base_yen=base,
        rule=f"{rules.special_tax_name}（{rules.rounding_label}）",
        reason=reason,
    )


def _exclusion(body: Body, rules: RuleSet) -> str | None:
    if body.kind in rules.excluded_kinds:
        return (
            f"{REASON_SPECIAL_WARD}（{body.name}は都区財政調整制度により財源が措置され、特別交付税の算定対象外の"
            f"ため見込額は0円）"
            if body.kind == "special_ward"
            else f"{REASON_KIND}（{BODY_KIND_LABELS.get(body.kind, body.kind)}は特別交付税措置の対象外）"
        )
    if rules.excludes_no_allocation_tax and body.no_allocation_tax:
        return f"{REASON_NO_ALLOCATION_TAX}（{body.name}は普通交付税の不交付団体のため、特別交付税措置の見込額は0円）"
    return None


def _requirement_unmet(measure: Measure, body: Body, need: Need) -> str | None:
    if measure.requires_disadvantaged and not body.disadvantaged:
        return f"{REASON_NOT_DISADVANTAGED}（{measure.name}の措置は条件不利地域のある団体が対象）"
    if measure.need_requirement == "serves_disadvantaged_area" and not need.serves_disadvantaged_area:
        return f"{REASON_NOT_RESIDENT_SERVICE}（{measure.name}の措置は住民向けサービスが対象）"
    return None


def special_tax_estimate(
    instance: Instance,
    need_id: str,
    mode: str,
    initial_yen: int,
    grant_yen: int,
    rules: RuleSet | Mapping[str, Any],
    ledger: CapLedger | None = None,
    year: int | None = None,
    commit: bool = True,
) -> tuple[SpecialTaxEstimate, list[str]]:
    """The special allocation tax on one need's project: ``initial_yen`` is the project cost (its initial share),
    ``grant_yen`` its grant. Returns the estimate and notes for the member's line. ``commit`` False reads the
    ledger's cap room without using it up (a what-if: the same member without its grant, or at another share)."""
    rules = as_rule_set(rules)
    need = instance.need(need_id)
    body = instance.bodies[need.body]
    year = need.start_year if year is None else year
    initial = max(0, int(initial_yen))
    after_grant = max(0, initial - int(grant_yen))
    excluded = _exclusion(body, rules)
    if excluded:
        return _zero(rules, after_grant, excluded), []
    notes: list[str] = []
    reasons: list[str] = []
    candidates: list[tuple[SpecialTaxEstimate, Measure, int]] = []
    for measure in rules.measures_for(need.category):
        unmet = _requirement_unmet(measure, body, need)
        if unmet:
            reasons.append(unmet)
            continue
        rate = measure.categories[need.category](mode)
        coefficient, warning = correction_for(body, rules) if measure.fiscal_correction else (1.0, None)
        if warning and warning not in notes:
            notes.append(warning)
        counted, cap_note = initial, None
        if measure.base_cap is not None:
            cap = measure.base_cap.for_kind(body.kind)
            used = ledger.used.get((body.code, year, measure.id), 0) if ledger else 0
            room = max(0, cap - used)
            if counted > room:
                cap_note = (
                    f"{REASON_CAP}（事業費の上限 {cap:,}円/年度"
                    + (f"、同年度の他の事業で {used:,}円 計上済み" if used else "")
                    + f"。事業費 {counted:,}円 のうち {room:,}円 を算入し、補助金を同じ割合で控除）"
                )
                counted = room
        deducted = int(grant_yen) * counted // initial if initial else 0
        base = max(0, counted - deducted)
        amount = rules.round_down(base * rate * Fraction(str(coefficient)))
        text = (
            f"{rules.special_tax_name}「{measure.name}」（措置率{rate.numerator}/{rate.denominator}"
            f"{'（' + MODE_SHORT[mode] + '）' if not measure.categories[need.category].uniform else ''}"
            f"×財政力補正{coefficient:g}、補助金控除後の事業費が対象）"
        )
        est = SpecialTaxEstimate(
            amount_yen=amount,
            measure=measure.name,
            measure_id=measure.id,
            rate=float(rate),
            correction=coefficient,
            base_yen=base,
            rule=text,
            reason=cap_note if cap_note else (REASON_NO_BASE if amount == 0 else None),
            capped_by_base=cap_note is not None,
        )
        candidates.append((est, measure, counted))
    if not candidates:
        category = instance.categories[need.category].name
        reason = (
            reasons[0] if reasons else f"{REASON_NO_MEASURE}（分野「{category}」はルールのどの措置にも含まれません）"
        )
        return _zero(rules, after_grant, reason), notes
    best, measure, counted = max(candidates, key=lambda c: c[0].amount_yen)  # first of equals: rule-data order
    if len(candidates) > 1:
        notes.append(f"複数の措置が該当するため、見込額の大きい「{best.measure}」で計算しています（重複計上なし）。")
    if commit and ledger is not None and measure.base_cap is not None:
        key = (body.code, year, measure.id)
        ledger.used[key] = ledger.used.get(key, 0) + counted
    return best, notes


# --- which year's program (subsidy-rules.md section 4) ----------------------------------------------------------


@dataclass(frozen=True)
class RuleYearMismatch:
    """A rule set describing another fiscal year's program than some of the plan's groups start in: said beside the
    figures, and adopting the plan needs the coordinator's confirmation."""

    rule_year: int
    plan_years: tuple[int, ...]  # every start year of the plan's groups, ascending
    other_years: tuple[int, ...]  # those the rule set does not describe

    @property
    def text(self) -> str:
        rule = wareki_fiscal_year(self.rule_year)
        return (
            f"補助制度ルールは{rule}の制度条件です。この計画のグループは"
            f"{'・'.join(wareki_fiscal_year(y) for y in self.plan_years)}に始まり、"
            f"{'・'.join(wareki_fiscal_year(y) for y in self.other_years)}の制度は未確認です"
            f"（補助金・特別交付税の見込額は{rule}の制度による見込み）。"
        )

    @property
    def confirmation(self) -> str:
        """What the coordinator confirms by adopting (the adopt form's checkbox)."""
        return (
            f"補助制度ルールは{wareki_fiscal_year(self.rule_year)}の制度条件で、この計画のグループが始まる"
            f"{'・'.join(wareki_fiscal_year(y) for y in self.other_years)}の制度とは異なる場合があることを確認しました"
            "（見込額は確定時に見直していません）"
        )


def rule_year_mismatch(rule_year: int | None, start_years: Iterable[int]) -> RuleYearMismatch | None:
    """The mismatch of the rule set's fiscal year with the plan's groups' start years, or None when every group
    starts in the year the rule set describes (or the year is unknown)."""
    years = tuple(sorted(set(start_years)))
    if rule_year is None or not years:
        return None
    other = tuple(y for y in years if y != rule_year)
    return RuleYearMismatch(rule_year, years, other) if other else None


# --- a member's record ----------------------------------------------------------------------------------------


def _parts(value: Any) -> YenParts:
    if isinstance(value, YenParts):
        return value
    if isinstance(value, Mapping):
        return YenParts(int(value["initial_yen"]), int(value["annual_yen"]), int(value["total_yen"]))
    return YenParts(int(value.initial_yen), int(value.annual_yen), int(value.total_yen))


ESTIMATE_NOTE_HEAD = "補助金・特別交付税の額はいずれも見込額です"


def estimate_notes(rules: RuleSet) -> list[str]:
    """What every output says with the figures: estimates, which rule set, the administrator's check, 公募."""
    competitive = "。補助金は公募で採択された場合を仮定" if rules.grant.competitive else ""
    return [
        f"{ESTIMATE_NOTE_HEAD}（算定ルール {rules.label}、{rules.rounding_label}"
        f"{competitive}。現在の年度の制度は管理者が確認してください）。"
    ]


def is_estimate_note(note: str) -> bool:
    """Whether a member's note is the one :func:`estimate_notes` writes (documents print it once, in a banner)."""
    return note.startswith(ESTIMATE_NOTE_HEAD)


def estimate_group(
    instance: Instance,
    mode: str,
    lead_body: str | None,
    member_ids: Sequence[str],
    shares: Mapping[str, Any],
    standalone: Mapping[str, Any],
    rules: RuleSet | Mapping[str, Any] | None = None,
    ledger: CapLedger | None = None,
    standalone_ledger: CapLedger | None = None,
) -> dict[str, SubsidyEstimate]:
    """Each member's estimates (見込額) for its joint share and its standalone alternative.

    ``shares`` and ``standalone`` map need ids to the initial, annual and total yen (YenParts, a MemberShare or a
    mapping with those keys); ``ledger`` and ``standalone_ledger`` carry the special-tax cap use across groups."""
    rules = as_rule_set(rules)
    gross = {nid: _parts(shares[nid]) for nid in member_ids}
    joint_grants = grant_estimates(
        instance, mode, lead_body, member_ids, {n: gross[n].initial_yen for n in member_ids}, rules
    )
    sources = rules.cited_source_titles()
    out: dict[str, SubsidyEstimate] = {}
    for nid in member_ids:
        alone = _parts(standalone[nid])
        grant = joint_grants[nid]
        # what the member pays if the grant is not awarded (the headline): the tax on the whole initial share,
        # read from the ledgers before this member's own use is recorded
        tax_no_grant, _ = special_tax_estimate(
            instance, nid, mode, gross[nid].initial_yen, 0, rules, ledger, commit=False
        )
        alone_tax_no_grant, _ = special_tax_estimate(
            instance, nid, "standalone", alone.initial_yen, 0, rules, standalone_ledger, commit=False
        )
        special, notes = special_tax_estimate(
            instance, nid, mode, gross[nid].initial_yen, grant.amount_yen, rules, ledger
        )
        alone_grant = grant_estimates(instance, "standalone", None, [nid], {nid: alone.initial_yen}, rules)[nid]
        alone_special, alone_notes = special_tax_estimate(
            instance, nid, "standalone", alone.initial_yen, alone_grant.amount_yen, rules, standalone_ledger
        )
        all_notes = estimate_notes(rules)
        start = instance.need(nid).start_year
        if rules.fiscal_year and start != rules.fiscal_year:
            # subsidy-rules.md section 4: the rule set's year beside the plan's, said with the figures
            all_notes.append(
                f"{wareki_fiscal_year(rules.fiscal_year)}の制度条件による見込みです。"
                f"{wareki_fiscal_year(start)}の制度は未確認です。"
            )
        for n in notes + alone_notes:
            if n not in all_notes:
                all_notes.append(n)
        if grant.amount_yen < alone_grant.amount_yen:
            all_notes.append(
                f"補助金の見込額は単独調達より {alone_grant.amount_yen - grant.amount_yen:,}円 少なくなります"
                "（共同で初期費用が下がる、または実施主体が変わるため）。"
            )
        to_confirm = grant.to_confirm if grant.amount_yen > 0 else alone_grant.to_confirm
        if to_confirm and (grant.amount_yen > 0 or alone_grant.amount_yen > 0):
            all_notes.append(f"補助金の見込額は要確認（{to_confirm}）。")
        if grant.amount_yen > 0 and grant.reason and grant.reason.startswith(REASON_DATA_PLAN):
            all_notes.append(f"補助金の見込額 {grant.amount_yen:,}円 には条件があります: {grant.reason}")
        if grant.reason and grant.amount_yen == 0:
            all_notes.append(f"補助金の見込額は0円です: {grant.reason}")
        if special.reason and special.amount_yen == 0:
            all_notes.append(f"特別交付税の見込額は0円です: {special.reason}")
        out[nid] = SubsidyEstimate(
            need_id=nid,
            joint=Burden(gross[nid], grant, special),
            standalone=Burden(alone, alone_grant, alone_special),
            notes=tuple(all_notes),
            rule_version=rules.label,
            sources=sources,
            rounding=rules.rounding_label,
            special_tax_without_grant_yen=tax_no_grant.amount_yen,
            standalone_special_tax_without_grant_yen=alone_tax_no_grant.amount_yen,
        )
    return out
