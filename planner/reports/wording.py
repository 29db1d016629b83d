"""The documents' words for how a figure was made: the cost build-up line by line, the allocation method and its
formula, the fairness statement, and the subsidy rules applied."""

from __future__ import annotations

from collections.abc import Mapping

from planner.domain.allocation import method_label as domain_method_label
from planner.domain.costs import body_distance_km, round_yen
from planner.domain.model import Instance
from planner.domain.settled import Allocation, SubsidyEstimate
from planner.domain.settled_plan import SettledGroup

from .records import CostLine, ReportError, ReportMeta


def cost_build_up(instance: Instance, group: SettledGroup, needs) -> tuple[list[CostLine], list[CostLine], int, int]:
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
    initial_lines = [
        CostLine("固定初期費用", "", price.fixed_initial),
        CostLine("参加団体ごとの初期費用", f"{price.member_initial:,}円 × {n}団体", price.member_initial * n),
    ]
    initial = price.fixed_initial + price.member_initial * n
    alpha, beta = min(price.lines, key=lambda line: line[0] + line[1] * volume)
    volume_charge = alpha + beta * volume
    annual_exact = price.fixed_annual + price.member_annual * n + price.per_km_annual * distance + volume_charge
    # the scenario's 幹事事務費 is folded into the joint mode's fixed yearly cost (instance_io.with_lead_work); the
    # document prints it as its own line, kept by the lead or coordinator
    work = instance.allocation.lead_work_annual_yen.get(group.mode, 0) if group.mode != "standalone" else 0
    annual_lines = [
        CostLine("固定年額", "", price.fixed_annual - work),
        CostLine("参加団体ごとの年額", f"{price.member_annual:,}円 × {n}団体", price.member_annual * n),
    ]
    role = "幹事団体" if group.mode == "lead" else "取りまとめ団体"
    if work:
        annual_lines.insert(
            1, CostLine("幹事事務費" if group.mode == "lead" else "取りまとめ事務費", f"{role}が受け取ります", work)
        )
    fractional: list[tuple[str, str, float]] = []  # the lines whose exact figure may hold a fraction of a yen
    if group.mode != "standalone":
        # cost-model.md's per_km_annual term: a yearly cost in proportion to each member's distance from the lead
        fractional.append(
            (
                DISTANCE_CHARGE_LABEL,
                f"{price.per_km_annual:,}円/km × 各参加団体と{role}の距離の合計 {distance:,.1f}km",
                price.per_km_annual * distance,
            )
        )
    fractional.append(
        (
            "利用量に応じた年額",
            f"{_num(alpha)}円 + {_num(beta)}円 × 利用量計 {_num(volume)}"
            f"{category.unit}（単価表の料金区分のうち最も安いもの）",
            volume_charge,
        )
    )
    # Every printed figure is integer yen: each line is rounded half up, and should the rounded lines miss the
    # rounded annual total by a yen, the first of them takes that yen and says so, so that the column adds up.
    annual = round_yen(annual_exact)
    rounded = [round_yen(exact) for _, _, exact in fractional]
    drift = annual - sum(line.yen for line in annual_lines) - sum(rounded)
    for k, (label, detail, _) in enumerate(fractional):
        if k == 0 and drift:
            detail += f"（年間費用 計との1円未満の差 {drift:+,}円 を含む）"
        annual_lines.append(CostLine(label, detail, rounded[k] + (drift if k == 0 else 0)))
    return initial_lines, annual_lines, initial, annual


# The name of cost-model.md's per_km_annual term in every document: what the price book charges by distance.
DISTANCE_CHARGE_LABEL = "距離に応じた年間運用費"


def _num(x: float) -> str:
    return f"{int(x):,}" if float(x).is_integer() else f"{x:,.2f}".rstrip("0").rstrip(".")


def method_text(allocation: Allocation, instance: Instance) -> str:
    """The allocation's own words for its method; plans written without them get the formula's weights named."""
    if allocation.method_label and allocation.method_label != allocation.method:
        return allocation.method_label
    if allocation.method == "formula":
        return domain_method_label("formula", allocation.weights or instance.allocation.weights)
    return ""


def method_formula(method: str, allocation: Allocation, instance: Instance) -> str:
    """The 算定方法 in words; where the shares were adjusted member by member it says so, so that an agreement's
    第4条 and its 別表 reproduce each other (cost-model.md, "A rule the agreement can state")."""
    text = _method_formula(method, allocation, instance)
    if method != "standalone" and allocation.adjusted:
        text += (
            "。ただし、この方法による額ではいずれかの団体・組が単独で導入するより不利になるため、別表の額は"
            "この方法による額を団体ごとに調整した額とする"
            + (f"（{allocation.adjustment_summary}）" if allocation.adjustment_summary else "")
        )
    return text


def _method_formula(method: str, allocation: Allocation, instance: Instance) -> str:
    if method == "standalone":
        return "単独調達のため按分はありません（費用の全額を負担）。"
    if method == "equal":
        return "各団体の負担額 ＝ グループの費用 ÷ 参加団体数"
    if method == "population":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の人口 ÷ 参加団体の人口の合計"
    if method == "volume":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の利用量 ÷ 参加団体の利用量の合計"
    if method == "formula":
        weights = allocation.weights or instance.allocation.weights
        total = sum(weights.get(k, 0.0) for k in ("equal", "population", "volume")) or 1.0
        pct = {k: weights.get(k, 0.0) / total * 100 for k in ("equal", "population", "volume")}
        # The weights' names (均等割10%・人口割90%) are the method's label, printed beside: not repeated here.
        return (
            "各団体の負担額 ＝ グループの費用 × （"
            f"{_pct(pct['equal'])}% ÷ 参加団体数 ＋ {_pct(pct['population'])}% × 人口 ÷ 人口計 ＋ "
            f"{_pct(pct['volume'])}% × 利用量 ÷ 利用量計）"
        )
    if method == "standalone_ratio":
        return "各団体の負担額 ＝ グループの費用 × 当該団体の単独導入費用 ÷ 参加団体の単独導入費用の合計（削減率が全団体で同じ）"
    if method == "shapley":
        text = (
            "シャープレイ値： 各団体が加わる全ての順番について、その団体が加わったことによる費用の増分を平均した額"
            "（部分集合の費用 c(S) は、その団体だけで同じ条件の下で最も安く導入した場合の費用）"
        )
        if allocation.sampled or allocation.standard_error_yen:
            text += f"。参加団体が多いため標本推定（標準誤差 {allocation.standard_error_yen or 0:,}円）"
        return text
    if method == "nucleolus":
        return (
            "仁（nucleolus）： 全ての部分集合について単独で導入する場合との差（節減額）のうち最も小さいものを"
            "できるだけ大きくする配分"
        )
    return method


def _pct(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def proof_lines(allocation: Allocation) -> list[str]:
    """The proof's figures in words: the smallest margin over every sub-group, the least core, and, when the core
    adjustment moved the shares, what the method's own shares were."""
    p = allocation.proof
    if p.min_excess_yen is None:
        return []
    lines = [
        f"最も不利な組合せの余裕（その組だけで導入する費用 − 按分での負担の合計）：{p.min_excess_yen:,}円"
        + ("（負の値は、その組が抜けると安くなる額）" if p.min_excess_yen < 0 else "")
    ]
    if p.least_core_yen is not None:
        lines.append(
            f"すべての組合せが同時に確保できる節減額（最小コア）：{p.least_core_yen:,}円"
            + ("（負の値：コアが空で、どの配分でも抜けた方が安い組が残ります）" if p.least_core_yen < 0 else "")
        )
    u = allocation.unadjusted_proof
    if u is not None:
        lines.append(
            "按分方法どおりの負担額では"
            + (
                "コアを満たしていました"
                if u.in_core
                else f"コアを満たしていませんでした（最も不利な組合せの余裕 {u.min_excess_yen:,}円）"
            )
            + "。最も近い公平な配分へ調整し（コア調整）、各団体の調整額を 4. に示しています。"
        )
    return lines


def rationality(allocation: Allocation) -> list[str]:
    ir, core, exhaustive = allocation.individually_rational, allocation.in_core, allocation.exhaustive_check
    how = "全ての部分集合について厳密に証明" if exhaustive else "証明の記録がない計画です（再計画すると証明されます）"
    return [
        "個人合理性： "
        + (
            "満たしています（どの参加団体の負担も単独で導入する場合の費用以下です）。"
            if ir
            else "満たしていません（単独で導入する方が安い参加団体があります）。"
        ),
        "コア： "
        + ("満たしています" if core else "満たしていません")
        + f"（{how}）。"
        + ("どの一部の団体も、抜けて別に導入した方が安くなることはありません。" if core else ""),
    ]


def subsidy_rules(subsidies: Mapping[str, SubsidyEstimate]) -> list[str]:
    """The grant and special-tax rules the settlement applied, each once, in the order first met."""
    rules: list[str] = []
    for sub in subsidies.values():
        joint = sub.joint
        for rule, applies, prefix in (
            (joint.grant.rule, True, "補助金："),
            (joint.special_tax.rule, bool(joint.special_tax.amount_yen), "特別交付税："),
        ):
            if rule and applies and prefix + rule not in rules:
                rules.append(prefix + rule)
    return rules


def rule_version_and_sources(meta: ReportMeta, group: SettledGroup) -> tuple[str, list[str]]:
    version = meta.rule_version
    sources: list[str] = list(meta.sources)
    for sub in group.subsidies.values():
        version = version or (sub.rule_version or "")
        for s in sub.sources:
            # The web passes the rule set's sources as "title　url"; the settlement's records carry the title only.
            if not any(known == s or known.startswith(f"{s}　") for known in sources):
                sources.append(s)
    return version, sources
