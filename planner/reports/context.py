"""What the documents print, computed once from the pure domain objects (an Instance and a settled Plan).

The PDF templates and the Excel workbooks both read these objects, so a figure is worked out in one place and the
two outputs cannot disagree. Every check that a finance section would do by hand (shares add up to the group's
cost, net = gross − grant − special tax, the cost build-up gives the plan's figures) is done here, and a plan that
fails one is refused with a message naming the group and the figure, rather than printed wrong.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Mapping

from planner.domain.allocation import method_label as domain_method_label
from planner.domain.costs import body_distance_km, round_yen
from planner.domain.model import Instance
from planner.domain.plan import Plan, PlanGroup
from planner.domain.settled import Allocation, MemberLine, SubsidyEstimate, member_lines

from .labels import LEAD_ROLE, METHOD_LABELS, MODE_LABELS, MODE_SHORT, measure_label, measure_short, prefecture_name
from .wareki import fiscal_year_label, wareki_date, wareki_fiscal_year


class ReportError(ValueError):
    """The plan cannot be printed as it is (missing allocation, figures that do not add up, unknown ids)."""


@dataclass(frozen=True)
class ReportMeta:
    """Facts about the plan that are not in the plan document itself (the web layer has them on the Plan row)."""

    price_book_version: str = ""
    rule_version: str = ""
    issued_on: date = field(default_factory=date.today)
    title: str = ""  # e.g. the scenario's name
    sources: tuple[str, ...] = ()  # the subsidy rule set's cited sources

    @property
    def issued_wareki(self) -> str:
        return wareki_date(self.issued_on)


@dataclass
class CostLine:
    label: str
    detail: str
    yen: float  # intermediate lines may carry fractions of a yen: the annual subtotal is rounded once

    @property
    def display(self) -> str:
        if float(self.yen).is_integer():
            return f"{int(self.yen):,}"
        return f"{self.yen:,.2f}"


def head_title(name: str, kind: str) -> str:
    """The head of a body as a letter addresses it: 長野県知事, 長野市長, 小谷村長."""
    return f"{name}知事" if kind == "prefecture" else f"{name}長"


@dataclass(frozen=True)
class MemberRow:
    """A member as the documents print it: the settled plan's one :class:`MemberLine` (every figure is read from it,
    ``row.total_yen`` is ``row.line.total_yen``) plus the words only a document needs."""

    line: MemberLine
    body_head: str  # the addressee: 長野市長

    def __getattr__(self, name: str):
        if name == "line":  # not yet set (copying, unpickling): no delegation loop
            raise AttributeError(name)
        return getattr(self.line, name)

    @property
    def notes(self) -> list[str]:
        return [n for n in self.line.notes if not _is_banner_note(n)]

    @property
    def special_tax_measure_id(self) -> str | None:
        return self.line.subsidy.joint.special_tax.measure_id if self.line.subsidy else None

    @property
    def measure_label(self) -> str:
        return measure_label(self.special_tax_measure) if self.special_tax_yen or self.special_tax_measure else "—"

    @property
    def measure_short(self) -> str:
        if not (self.special_tax_yen or self.special_tax_measure):
            return "—"
        # The settlement names the measure in full; its id gives the short word a table column can hold.
        return measure_short(self.special_tax_measure_id or self.special_tax_measure)


@dataclass
class GroupReport:
    plan_name: str
    meta: ReportMeta
    horizon_years: int
    group_id: str
    category_id: str
    category_name: str
    category_unit: str
    start_year: int
    mode: str
    lead_code: str
    lead_name: str
    lead_head: str
    lead_is_member: bool
    members: list[MemberRow]
    initial_lines: list[CostLine]
    annual_lines: list[CostLine]
    initial_yen: int
    annual_yen: int
    total_yen: int
    standalone_total_yen: int
    method: str
    method_formula: str
    rationality: list[str]
    rule_version: str
    sources: list[str]
    subsidy_notes: list[str]
    method_text: str = ""  # the allocation's own words for the method (with the formula weights)
    rounding_rule: str = ""
    violations: list[str] = field(default_factory=list)
    suggested_method: str = ""
    allocation_notes: list[str] = field(default_factory=list)
    subsidy_rules: list[str] = field(default_factory=list)  # the grant and special-tax rules applied, in full

    @property
    def is_joint(self) -> bool:
        return self.mode != "standalone"

    @property
    def mode_label(self) -> str:
        return MODE_LABELS.get(self.mode, self.mode)

    @property
    def mode_short(self) -> str:
        return MODE_SHORT.get(self.mode, self.mode)

    @property
    def lead_role(self) -> str:
        return LEAD_ROLE.get(self.mode, "幹事団体")

    @property
    def procurement(self) -> str:
        return "共同調達" if self.is_joint else "単独調達"

    @property
    def lead_mark(self) -> str:
        return {"lead": "幹事", "unified": "取りまとめ"}.get(self.mode, "")

    @property
    def start_year_label(self) -> str:
        return fiscal_year_label(self.start_year)

    @property
    def end_year(self) -> int:
        return self.start_year + self.horizon_years - 1

    @property
    def period_label(self) -> str:
        return f"{wareki_fiscal_year(self.start_year)}〜{wareki_fiscal_year(self.end_year)}（{self.horizon_years}年間）"

    @property
    def method_label(self) -> str:
        return self.method_text or METHOD_LABELS.get(self.method, self.method)

    @property
    def price_book_label(self) -> str:
        return self.meta.price_book_version or f"インスタンス「{self.plan_name}」記載の単価（版の記録なし）"

    @property
    def grouped_notes(self) -> list[tuple[str, str]]:
        """(who, note): a note several members share is printed once with their names, not once per member."""
        everyone = len(self.members)
        by_text: dict[str, list[str]] = {}
        for m in self.members:
            for n in m.notes:
                names = by_text.setdefault(n, [])
                if m.body_name not in names:
                    names.append(m.body_name)
        out = []
        for text, names in by_text.items():
            who = "全団体" if everyone > 1 and len(names) == everyone else "・".join(names)
            out.append((who, text))
        return out

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.total_yen

    @property
    def saving_rate(self) -> float:
        return self.saving_yen / self.standalone_total_yen if self.standalone_total_yen else 0.0

    def total(self, attr: str) -> int:
        return sum(getattr(m, attr) or 0 for m in self.members)

    @property
    def measures(self) -> list[tuple[str, str]]:
        """(short, full) names of the special-tax measures the members get, for the table's note."""
        seen: dict[str, str] = {}
        for m in self.members:
            if m.measure_short != "—":
                seen.setdefault(m.measure_short, m.measure_label)
        return list(seen.items())

    @property
    def standalone_net_known(self) -> bool:
        return all(m.standalone_net_yen is not None for m in self.members)


@dataclass
class YearRow:
    fiscal_year: int
    initial_yen: int
    annual_yen: int
    grant_yen: int
    special_tax_yen: int

    @property
    def label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def gross_yen(self) -> int:
        return self.initial_yen + self.annual_yen

    @property
    def net_yen(self) -> int:
        return self.gross_yen - self.grant_yen - self.special_tax_yen


@dataclass
class MemberNotice:
    group: GroupReport
    member: MemberRow
    years: list[YearRow]
    schedule_note: str


@dataclass
class SummaryGroupRow:
    group: GroupReport

    @property
    def grant_yen(self) -> int:
        return self.group.total("grant_yen")

    @property
    def special_tax_yen(self) -> int:
        return self.group.total("special_tax_yen")

    @property
    def net_yen(self) -> int:
        return self.group.total("net_yen")


@dataclass
class CategoryRow:
    category_id: str
    name: str
    needs: int
    joint_needs: int
    groups: int
    standalone_yen: int  # every need of the category going alone
    plan_yen: int  # the plan's cost (joint groups and standalone needs)
    net_yen: int  # after grants and special tax

    @property
    def saving_yen(self) -> int:
        return self.standalone_yen - self.plan_yen


@dataclass
class SummaryReport:
    plan_name: str
    meta: ReportMeta
    region: str
    fiscal_year: int
    horizon_years: int
    status: str
    gap: float
    groups: list[SummaryGroupRow]  # joint groups only
    standalone_groups: list[GroupReport]
    categories: list[CategoryRow]
    body_count: int
    member_body_count: int
    need_count: int
    joint_need_count: int
    standalone_total_yen: int
    plan_total_yen: int
    grant_yen: int
    special_tax_yen: int
    net_yen: int
    rule_version: str
    sources: list[str]
    map_bodies: list[dict]
    map_groups: list[dict]

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.plan_total_yen

    @property
    def saving_rate(self) -> float:
        return self.saving_yen / self.standalone_total_yen if self.standalone_total_yen else 0.0

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    def joint_total(self, attr: str) -> int:
        return sum(getattr(r.group, attr) for r in self.groups)


# ---------------------------------------------------------------------------------------------------------------
# building


def find_group(plan: Plan, group_id: str) -> PlanGroup:
    for g in plan.groups:
        if g.id == group_id:
            return g
    raise ReportError(f"計画にグループ {group_id} がありません")


def group_of_need(plan: Plan, need_id: str) -> PlanGroup:
    for g in plan.groups:
        if need_id in g.members:
            return g
    raise ReportError(f"計画にニーズ {need_id} を含むグループがありません")


def group_report(instance: Instance, plan: Plan, group: PlanGroup | str, meta: ReportMeta | None = None) -> GroupReport:
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
    initial_lines, annual_lines, initial, annual = _cost_build_up(instance, group, needs)
    total = initial + instance.horizon_years * annual
    if (initial, annual, total) != (group.cost.initial_yen, group.cost.annual_yen, group.cost.total_yen):
        raise ReportError(
            f"{where}: 計画の費用（初期 {group.cost.initial_yen:,}円・年額 {group.cost.annual_yen:,}円・総額 "
            f"{group.cost.total_yen:,}円）が単価表からの計算（初期 {initial:,}円・年額 {annual:,}円・総額 {total:,}円）"
            "と一致しません。計画とインスタンスの組合せを確認してください")

    if group.allocation is None and len(needs) != 1:
        raise ReportError(f"{where}: 按分結果（allocation.shares）がありません。按分と見込額を付けた計画"
                          "（planner solve の出力）を使ってください")
    try:
        lines = member_lines(instance, group)
    except ValueError as e:
        raise ReportError(f"{where}: {e}") from e
    allocation = group.allocation
    subsidies = group.subsidies or {}
    notes: list[str] = []
    members = [MemberRow(line, head_title(line.body_name, instance.bodies[line.body_code].kind)) for line in lines]
    for attr, expected, label in (("initial_yen", initial, "初期費用"), ("annual_yen", annual, "年間費用"),
                                  ("total_yen", total, "総額")):
        got = sum(getattr(m, attr) for m in members)
        if got != expected:
            raise ReportError(f"{where}: 参加団体の{label}負担の合計 {got:,}円 がグループの{label} {expected:,}円 と"
                              "一致しません")
    if not subsidies:
        notes.append("補助金・特別交付税の見込額は算定されていません（0円として表示）。")

    method = allocation.method if allocation else "standalone"
    rule_version, sources = _rule_version_and_sources(meta, group)
    return GroupReport(
        plan_name=plan.instance or instance.name, meta=meta, horizon_years=instance.horizon_years,
        group_id=group.id, category_id=category.id, category_name=category.name, category_unit=category.unit,
        start_year=group.start_year, mode=group.mode, lead_code=lead.code, lead_name=lead.name,
        lead_head=head_title(lead.name, lead.kind),
        lead_is_member=any(m.is_lead for m in members), members=members,
        initial_lines=initial_lines, annual_lines=annual_lines, initial_yen=initial, annual_yen=annual,
        total_yen=total, standalone_total_yen=sum(m.standalone_total_yen for m in members),
        method=method, method_formula=_method_formula(method, allocation, instance),
        rationality=_rationality(allocation), rule_version=rule_version, sources=sources, subsidy_notes=notes,
        method_text=_method_text(allocation, instance),
        rounding_rule=allocation.rounding_rule if allocation else "",
        violations=list(allocation.proof.violations) if allocation else [],
        suggested_method=(allocation.suggested_method_label or METHOD_LABELS.get(allocation.suggested_method or "", ""))
        if allocation else "",
        allocation_notes=list(allocation.notes) if allocation else [],
        subsidy_rules=_subsidy_rules(subsidies))


def member_notice(instance: Instance, plan: Plan, need_id: str, meta: ReportMeta | None = None) -> MemberNotice:
    """The 負担額通知 of one member: its share, grant, special tax and net burden by fiscal year."""
    group = group_report(instance, plan, group_of_need(plan, need_id), meta)
    member = next(m for m in group.members if m.need_id == need_id)
    years = []
    for i in range(group.horizon_years):
        first = i == 0
        years.append(YearRow(fiscal_year=group.start_year + i, initial_yen=member.initial_yen if first else 0,
                             annual_yen=member.annual_yen, grant_yen=member.grant_yen if first else 0,
                             special_tax_yen=member.special_tax_yen if first else 0))
    # A share whose horizon total is not initial + H × annual (an allocation rounded on the total) keeps the
    # document's total equal to the plan's: the difference lands in the last year and is stated.
    drift = member.total_yen - sum(y.gross_yen for y in years)
    note = ""
    if drift:
        years[-1].annual_yen += drift
        note = (f"按分の端数調整により、{years[-1].label}の年間負担は {drift:+,}円 調整しています"
                "（期間合計を算定書の負担額に一致させるため）。")
    return MemberNotice(group=group, member=member, years=years, schedule_note=note)


def summary_report(instance: Instance, plan: Plan, meta: ReportMeta | None = None) -> SummaryReport:
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
        categories.append(CategoryRow(
            category_id=cid, name=cat.name, needs=sum(len(r.members) for r in rs),
            joint_needs=sum(len(r.members) for r in rs if r.is_joint), groups=sum(1 for r in rs if r.is_joint),
            standalone_yen=sum(r.standalone_total_yen for r in rs), plan_yen=sum(r.total_yen for r in rs),
            net_yen=sum(r.total("net_yen") for r in rs)))
    member_bodies = {m.body_code for r in reports for m in r.members}
    prefs = sorted({instance.bodies[c].prefecture_code for c in member_bodies} or
                   {b.prefecture_code for b in instance.bodies.values()})
    region = "・".join(prefecture_name(p) for p in prefs[:3]) + (f" ほか{len(prefs) - 3}都道府県" if len(prefs) > 3 else "")
    sources: list[str] = []
    rule_versions: list[str] = []
    for r in reports:
        if r.rule_version and r.rule_version not in rule_versions:
            rule_versions.append(r.rule_version)
        sources.extend(s for s in r.sources if s not in sources)
    map_bodies = [{"code": b.code, "name": b.name, "lat": b.lat, "lng": b.lng, "prefecture_code": b.prefecture_code}
                  for b in instance.bodies.values() if b.prefecture_code in prefs]
    map_groups = [{"id": r.group_id, "mode": r.mode, "lead_body": r.lead_code,
                   "body_codes": [m.body_code for m in r.members],
                   "label": f"{r.category_name.split('（', 1)[0]} {r.lead_name} {wareki_fiscal_year(r.start_year)}"}
                  for r in joint]
    return SummaryReport(
        plan_name=plan.instance or instance.name, meta=meta, region=region, fiscal_year=instance.fiscal_year,
        horizon_years=instance.horizon_years, status=plan.status, gap=plan.gap,
        groups=[SummaryGroupRow(r) for r in joint], standalone_groups=alone, categories=categories,
        body_count=len(instance.bodies), member_body_count=len(member_bodies),
        need_count=sum(len(r.members) for r in reports), joint_need_count=sum(len(r.members) for r in joint),
        standalone_total_yen=sum(r.standalone_total_yen for r in reports),
        plan_total_yen=sum(r.total_yen for r in reports),
        grant_yen=sum(r.total("grant_yen") for r in reports),
        special_tax_yen=sum(r.total("special_tax_yen") for r in reports),
        net_yen=sum(r.total("net_yen") for r in reports),
        rule_version="、".join(rule_versions), sources=sources, map_bodies=map_bodies, map_groups=map_groups)


def _meta(plan: Plan, meta: ReportMeta | None) -> ReportMeta:
    if meta is not None and meta.price_book_version and meta.rule_version:
        return meta
    stats = plan.stats or {}
    base = meta or ReportMeta()
    return ReportMeta(price_book_version=base.price_book_version or str(stats.get("price_book_version", "")),
                      rule_version=base.rule_version or str(stats.get("rule_version", "")),
                      issued_on=base.issued_on, title=base.title, sources=base.sources)


def _cost_build_up(instance: Instance, group: PlanGroup, needs) -> tuple[list[CostLine], list[CostLine], int, int]:
    """The spec's cost formula, line by line, with the figures the price book gives (cost-model.md)."""
    category = instance.categories[group.category]
    if group.mode not in category.prices:
        raise ReportError(f"グループ {group.id}: 方式 {group.mode} は単価表にありません")
    price = category.price(group.mode)
    n = len(needs)
    volume = sum(n_.volume for n_ in needs)
    lead = instance.bodies[group.lead_body]
    distance = 0.0
    if group.mode != "standalone":
        distance = sum(body_distance_km(instance.bodies[x.body], lead) for x in needs)
    initial_lines = [CostLine("固定初期費用", "", price.fixed_initial),
                     CostLine("参加団体ごとの初期費用", f"{price.member_initial:,}円 × {n}団体", price.member_initial * n)]
    initial = price.fixed_initial + price.member_initial * n
    alpha, beta = min(price.lines, key=lambda line: line[0] + line[1] * volume)
    volume_charge = alpha + beta * volume
    annual_exact = (price.fixed_annual + price.member_annual * n + price.per_km_annual * distance + volume_charge)
    annual_lines = [CostLine("固定年額", "", price.fixed_annual),
                    CostLine("参加団体ごとの年額", f"{price.member_annual:,}円 × {n}団体", price.member_annual * n)]
    if group.mode != "standalone":
        annual_lines.append(CostLine("距離に応じた年額", f"{price.per_km_annual:,}円/km × 幹事団体からの距離計 "
                                     f"{distance:,.1f}km", price.per_km_annual * distance))
    annual_lines.append(CostLine("利用量に応じた年額", f"{_num(alpha)}円 + {_num(beta)}円 × 利用量計 {_num(volume)}"
                                 f"{category.unit}（単価表の料金区分のうち最も安いもの）",
                                 volume_charge))
    return initial_lines, annual_lines, initial, round_yen(annual_exact)


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def _method_text(allocation: Allocation | None, instance: Instance) -> str:
    """The allocation's own words for its method; plans written without them get the formula's weights named."""
    if allocation is None:
        return ""
    if allocation.method_label and allocation.method_label != allocation.method:
        return allocation.method_label
    if allocation.method == "formula":
        return domain_method_label("formula", allocation.weights or instance.allocation.weights)
    return ""


def _method_formula(method: str, allocation: Allocation | None, instance: Instance) -> str:
    if method == "standalone":
        return "単独調達のため按分はありません（費用の全額を負担）。"
    if method == "equal":
        return "各団体の負担額 ＝ グループの費用 ÷ 参加団体数"
    if method == "population":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の人口 ÷ 参加団体の人口の合計"
    if method == "volume":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の利用量 ÷ 参加団体の利用量の合計"
    if method == "formula":
        weights = (allocation.weights if allocation else None) or instance.allocation.weights
        total = sum(weights.get(k, 0.0) for k in ("equal", "population", "volume")) or 1.0
        pct = {k: weights.get(k, 0.0) / total * 100 for k in ("equal", "population", "volume")}
        # The weights' names (均等割10%・人口割90%) are the method's label, printed beside: not repeated here.
        return ("各団体の負担額 ＝ グループの費用 × （"
                f"{_pct(pct['equal'])}% ÷ 参加団体数 ＋ {_pct(pct['population'])}% × 人口 ÷ 人口計 ＋ "
                f"{_pct(pct['volume'])}% × 利用量 ÷ 利用量計）")
    if method == "standalone_ratio":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の単独導入費用 ÷ 参加団体の単独導入費用の合計（削減率が全団体で同じ）"
    if method == "shapley":
        text = ("シャープレイ値： 各団体が加わる全ての順番について、その団体が加わったことによる費用の増分を平均した額"
                "（部分集合の費用 c(S) は、その団体だけで同じ条件の下で最も安く導入した場合の費用）")
        if allocation and (allocation.sampled or allocation.standard_error_yen):
            text += f"。参加団体が多いため標本推定（標準誤差 {allocation.standard_error_yen or 0:,}円）"
        return text
    if method == "nucleolus":
        return ("仁（nucleolus）： 全ての部分集合について単独で導入する場合との差（節減額）のうち最も小さいものを"
                "できるだけ大きくする配分")
    return method


def _pct(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _rationality(allocation: Allocation | None) -> list[str]:
    if allocation is None:  # a lone member going alone: it pays its own standalone cost, nobody else is involved
        ir, core, exhaustive = True, True, True
    else:
        ir, core, exhaustive = allocation.individually_rational, allocation.in_core, allocation.exhaustive_check
    how = "全ての部分集合を検証" if exhaustive else "部分集合の一部を抽出して検証（全数検証ではありません）"
    return ["個人合理性： " + ("満たしています（どの参加団体の負担も単独で導入する場合の費用以下です）。" if ir
                           else "満たしていません（単独で導入する方が安い参加団体があります）。"),
            "コア： " + ("満たしています" if core else "満たしていません") + f"（{how}）。"
            + ("どの一部の団体も、抜けて別に導入した方が安くなることはありません。" if core else "")]


def _is_banner_note(note: str) -> bool:
    # Every settled member carries "the amounts are estimates (rule X)"; the document says so once, in its banner.
    return note.startswith("補助金・特別交付税の額はいずれも見込額です")


def _subsidy_rules(subsidies: Mapping[str, SubsidyEstimate]) -> list[str]:
    """The grant and special-tax rules the settlement applied, each once, in the order first met."""
    rules: list[str] = []
    for sub in subsidies.values():
        joint = sub.joint
        for rule, applies, prefix in ((joint.grant.rule, True, "補助金："),
                                      (joint.special_tax.rule, bool(joint.special_tax.amount_yen), "特別交付税：")):
            if rule and applies and prefix + rule not in rules:
                rules.append(prefix + rule)
    return rules


def _rule_version_and_sources(meta: ReportMeta, group: PlanGroup) -> tuple[str, list[str]]:
    version = meta.rule_version
    sources: list[str] = list(meta.sources)
    for sub in (group.subsidies or {}).values():
        version = version or (sub.rule_version or "")
        for s in sub.sources:
            # The web passes the rule set's sources as "title　url"; the settlement's records carry the title only.
            if not any(known == s or known.startswith(f"{s}　") for known in sources):
                sources.append(s)
    return version, sources
