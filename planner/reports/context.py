"""What the documents print, computed once from the pure domain objects (an Instance and a SettledPlan).

Every check that a finance section would do by hand (shares add up to the group's cost, net = gross − grant −
special tax, the cost build-up gives the plan's figures) is done here, and a plan that fails one is refused with a
message naming the group and the figure, rather than printed wrong. The records are in planner.reports.records,
the wording of methods, proofs and rules in planner.reports.wording.
"""

from __future__ import annotations

from dataclasses import replace

from planner.domain.fairness import adjustment_sentence, evidence_rows, fairness_alert, member_paragraph
from planner.domain.model import Instance
from planner.domain.settled import Allocation, member_lines
from planner.domain.settled_plan import SettledGroup, SettledPlan
from planner.domain.statements import schedule_line
from planner.domain.vocabulary import METHOD_LABELS, category_short, prefecture_name, wareki_fiscal_year

from .records import (
    CategoryRow,
    GroupReport,
    MemberNotice,
    MemberRow,
    ReportError,
    ReportMeta,
    SummaryGroupRow,
    SummaryReport,
    YearRow,
    head_title,
)
from .wording import (
    cost_build_up,
    method_formula,
    method_text,
    proof_lines,
    rationality,
    rule_version_and_sources,
    subsidy_rules,
)

__all__ = [
    "CategoryRow",
    "GroupReport",
    "MemberNotice",
    "MemberRow",
    "ReportError",
    "ReportMeta",
    "SummaryGroupRow",
    "SummaryReport",
    "YearRow",
    "find_group",
    "group_of_need",
    "group_report",
    "member_notice",
    "summary_report",
]


def find_group(plan: SettledPlan, group_id: str) -> SettledGroup:
    for g in plan.groups:
        if g.id == group_id:
            return g
    raise ReportError(f"計画にグループ {group_id} がありません")


def group_of_need(plan: SettledPlan, need_id: str) -> SettledGroup:
    for g in plan.groups:
        if need_id in g.members:
            return g
    raise ReportError(f"計画にニーズ {need_id} を含むグループがありません")


def group_report(
    instance: Instance, plan: SettledPlan, group: SettledGroup | str, meta: ReportMeta | None = None
) -> GroupReport:
    """Everything the 負担金算定書 of one group prints."""
    if isinstance(group, str):
        group = find_group(plan, group)
    meta = _meta(plan, meta)
    where = f"グループ {group.id}"
    needs = []
    for nid in group.members:
        if nid not in instance.needs_by_id:
            raise ReportError(f"{where}: ニーズ {nid} がインスタンスにありません")
        needs.append(instance.needs_by_id[nid])
    if group.category not in instance.categories:
        raise ReportError(f"{where}: 分野 {group.category} がインスタンスにありません")
    if group.lead_body not in instance.bodies:
        raise ReportError(f"{where}: 幹事団体 {group.lead_body} がインスタンスにありません")
    category = instance.categories[group.category]
    lead = instance.bodies[group.lead_body]
    initial_lines, annual_lines, initial, annual = cost_build_up(instance, group, needs)
    total = initial + instance.horizon_years * annual
    if (initial, annual, total) != (group.cost.initial_yen, group.cost.annual_yen, group.cost.total_yen):
        raise ReportError(
            f"{where}: 計画の費用（初期 {group.cost.initial_yen:,}円・年額 {group.cost.annual_yen:,}円・総額 "
            f"{group.cost.total_yen:,}円）が単価表からの計算（初期 {initial:,}円・年額 {annual:,}円・総額 {total:,}円）"
            "と一致しません。計画とインスタンスの組合せを確認してください"
        )

    try:
        lines = member_lines(instance, group)
    except ValueError as e:
        raise ReportError(f"{where}: {e}") from e
    allocation = group.allocation
    subsidies = group.subsidies
    notes: list[str] = []
    members = [MemberRow(line, head_title(line.body_name, instance.bodies[line.body_code].kind)) for line in lines]
    for attr, expected, label in (
        ("initial_yen", initial, "初期費用"),
        ("annual_yen", annual, "年間費用"),
        ("total_yen", total, "総額"),
    ):
        got = sum(getattr(m, attr) for m in members)
        if got != expected:
            raise ReportError(
                f"{where}: 参加団体の{label}負担の合計 {got:,}円 がグループの{label} {expected:,}円 と一致しません"
            )
    if not subsidies:
        notes.append("補助金・特別交付税の見込額は算定されていません（0円として表示）。")

    method = allocation.method
    rule_version, sources = rule_version_and_sources(meta, group)
    say = _unified_words if group.mode == "unified" else _same
    return GroupReport(
        plan_name=plan.instance or instance.name,
        meta=meta,
        horizon_years=instance.horizon_years,
        group_id=group.id,
        category_id=category.id,
        category_name=category.name,
        category_unit=category.unit,
        start_year=group.start_year,
        mode=group.mode,
        lead_code=lead.code,
        lead_name=lead.name,
        lead_head=head_title(lead.name, lead.kind),
        lead_is_member=any(m.is_lead for m in members),
        members=members,
        initial_lines=initial_lines,
        annual_lines=annual_lines,
        initial_yen=initial,
        annual_yen=annual,
        total_yen=total,
        standalone_total_yen=sum(m.standalone_total_yen for m in members),
        method=method,
        method_formula=say(method_formula(method, allocation, instance)),
        rationality=[say(x) for x in rationality(allocation)],
        rule_version=rule_version,
        sources=sources,
        subsidy_notes=notes,
        method_text=method_text(allocation, instance),
        rounding_rule=say(allocation.rounding_rule),
        violations=list(allocation.proof.violations),
        suggested_method=allocation.suggested_method_label or METHOD_LABELS.get(allocation.suggested_method or "", ""),
        allocation_notes=[say(x) for x in allocation.notes],
        subsidy_rules=subsidy_rules(subsidies),
        formula_weights=_formula_weights(allocation, instance),
        fairness_headline=say(fairness_alert([group]).headline() or ""),
        evidence=evidence_rows(instance, group),
        proof_lines=[say(x) for x in proof_lines(allocation)],
        weight_suggestion=allocation.suggested_weights.label if allocation.suggested_weights else "",
        member_paragraphs={nid: say(text) for nid in group.members if (text := member_paragraph(instance, group, nid))},
        adjustment_sentences={m.need_id: say(text) for m in members if (text := adjustment_sentence(m.share))},
    )


def _same(text: str) -> str:
    return text


def _unified_words(text: str) -> str:
    """The shared wording (formula, fairness, proof) as a 仕様統一方式 document must say it: each body contracts on its
    own, so a member's figure is its 契約予定額（見込）, never a 負担額 or 負担金 owed to another body."""
    return text.replace("負担金", "契約予定額（見込）").replace("負担額", "契約予定額（見込）")


def _formula_weights(allocation: Allocation, instance: Instance) -> dict[str, float] | None:
    """The weights a workbook recomputes the shares from, when the shares are the formula's own split."""
    if allocation.adjusted or allocation.rounding_adjustment_yen:
        return None
    if allocation.method in ("equal", "population", "volume"):
        return {k: 1.0 if k == allocation.method else 0.0 for k in ("equal", "population", "volume")}
    if allocation.method == "formula":
        weights = allocation.weights or instance.allocation.weights
        total = sum(weights.get(k, 0.0) for k in ("equal", "population", "volume"))
        return {k: weights.get(k, 0.0) / total for k in ("equal", "population", "volume")} if total > 0 else None
    return None


def member_notice(instance: Instance, plan: SettledPlan, need_id: str, meta: ReportMeta | None = None) -> MemberNotice:
    """The 負担額通知 of one member: its share, grant, special tax and net burden by fiscal year."""
    group = group_report(instance, plan, group_of_need(plan, need_id), meta)
    member = next(m for m in group.members if m.need_id == need_id)
    # One year-splitter for notices and statements (planner.domain.statements, whose assumptions the notice states).
    scheduled, drift = schedule_line(member.line, group.start_year, group.horizon_years)
    years = [
        YearRow(
            fiscal_year=y.fiscal_year,
            initial_yen=y.initial_yen,
            annual_yen=y.annual_yen,
            grant_yen=y.grant_yen,
            special_tax_yen=y.special_tax_yen,
            special_tax_without_grant_yen=y.special_tax_without_grant_yen,
        )
        for y in scheduled
    ]
    note = ""
    if drift:
        note = (
            f"按分の端数調整により、{years[-1].label}の年間負担は {drift:+,}円 調整しています"
            "（期間合計を算定書の負担額に一致させるため）。"
        )
    return MemberNotice(group=group, member=member, years=years, schedule_note=note)


def summary_report(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> SummaryReport:
    """The prefecture summary: every consortium, totals and savings, and the data for the map and charts."""
    meta = _meta(plan, meta)
    reports = [group_report(instance, plan, g, meta) for g in plan.groups]
    joint = [r for r in reports if r.is_joint]
    alone = [r for r in reports if not r.is_joint]
    joint.sort(key=lambda r: (r.category_id, r.start_year, r.group_id))
    categories = []
    for cid, cat in instance.categories.items():
        rs = [r for r in reports if r.category_id == cid]
        if not rs:
            continue
        categories.append(
            CategoryRow(
                category_id=cid,
                name=cat.name,
                needs=sum(len(r.members) for r in rs),
                joint_needs=sum(len(r.members) for r in rs if r.is_joint),
                groups=sum(1 for r in rs if r.is_joint),
                standalone_yen=sum(r.standalone_total_yen for r in rs),
                plan_yen=sum(r.total_yen for r in rs),
                net_yen=sum(r.total("net_yen") for r in rs),
                net_without_grant_yen=sum(r.total("net_without_grant_yen") for r in rs),
            )
        )
    member_bodies = {m.body_code for r in reports for m in r.members}
    prefs = sorted(
        {instance.bodies[c].prefecture_code for c in member_bodies}
        or {b.prefecture_code for b in instance.bodies.values()}
    )
    region = "・".join(prefecture_name(p) for p in prefs[:3]) + (
        f" ほか{len(prefs) - 3}都道府県" if len(prefs) > 3 else ""
    )
    sources: list[str] = []
    rule_versions: list[str] = []
    for r in reports:
        if r.rule_version and r.rule_version not in rule_versions:
            rule_versions.append(r.rule_version)
        sources.extend(s for s in r.sources if s not in sources)
    map_bodies = [
        {"code": b.code, "name": b.name, "lat": b.lat, "lng": b.lng, "prefecture_code": b.prefecture_code}
        for b in instance.bodies.values()
        if b.prefecture_code in prefs
    ]
    map_groups = [
        {
            "id": r.group_id,
            "mode": r.mode,
            "lead_body": r.lead_code,
            "body_codes": [m.body_code for m in r.members],
            "label": f"{category_short(r.category_name)} {r.lead_name} {wareki_fiscal_year(r.start_year)}",
        }
        for r in joint
    ]
    return SummaryReport(
        plan_name=plan.instance or instance.name,
        meta=meta,
        region=region,
        fiscal_year=instance.fiscal_year,
        horizon_years=instance.horizon_years,
        first_year=min((r.start_year for r in reports), default=instance.fiscal_year),
        last_year=max((r.end_year for r in reports), default=instance.fiscal_year + instance.horizon_years - 1),
        status=plan.status,
        gap=plan.gap,
        groups=[SummaryGroupRow(r) for r in joint],
        standalone_groups=alone,
        categories=categories,
        body_count=len(instance.bodies),
        member_body_count=len(member_bodies),
        need_count=sum(len(r.members) for r in reports),
        joint_need_count=sum(len(r.members) for r in joint),
        standalone_total_yen=sum(r.standalone_total_yen for r in reports),
        plan_total_yen=sum(r.total_yen for r in reports),
        grant_yen=sum(r.total("grant_yen") for r in reports),
        special_tax_yen=sum(r.total("special_tax_yen") for r in reports),
        net_yen=sum(r.total("net_yen") for r in reports),
        special_tax_without_grant_yen=sum(r.total("special_tax_without_grant_yen") for r in reports),
        net_without_grant_yen=sum(r.total("net_without_grant_yen") for r in reports),
        rule_version="、".join(rule_versions),
        sources=sources,
        map_bodies=map_bodies,
        map_groups=map_groups,
        fairness_headline=fairness_alert(plan.groups).headline() or "",
        adjusted_groups=sum(1 for r in joint if r.adjusted),
    )


def _meta(plan: SettledPlan, meta: ReportMeta | None) -> ReportMeta:
    if meta is not None and meta.price_book_version and meta.rule_version:
        return meta
    stats = plan.stats or {}
    base = meta or ReportMeta()
    return replace(
        base,
        price_book_version=base.price_book_version or str(stats.get("price_book_version", "")),
        rule_version=base.rule_version or str(stats.get("rule_version", "")),
        price_source=base.price_source or str(stats.get("price_source", "")),
    )
