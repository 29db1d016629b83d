"""The documents' words for how a figure was made: the cost build-up line by line, the allocation method and its
formula, the fairness statement, and the subsidy rules applied."""

from __future__ import annotations

from collections.abc import Mapping

from planner.domain.allocation import formula_text
from planner.domain.allocation import method_label as domain_method_label
from planner.domain.costs import TERM_LABELS, cost_terms, round_yen
from planner.domain.model import Instance
from planner.domain.settled import Allocation, SubsidyEstimate
from planner.domain.settled_plan import SettledGroup
from planner.domain.vocabulary import volume as volume_text

from .records import CostLine, ReportError, ReportMeta


def cost_build_up(instance: Instance, group: SettledGroup, needs) -> tuple[list[CostLine], list[CostLine], int, int]:
    """The spec's cost formula, line by line, with the figures the price book gives: the terms and their names are
    the domain's (planner.domain.costs.cost_terms, TERM_LABELS), the sum group_cost makes."""
    category = instance.categories[group.category]
    if group.mode not in category.prices:
        raise ReportError(f"グループ {group.id}: 方式 {group.mode} は単価表にありません")
    t = cost_terms(instance, needs, group.mode, group.lead_body)
    price, n = t.price, t.members
    initial_lines = [
        CostLine(TERM_LABELS["fixed_initial"], "", price.fixed_initial),
        CostLine(TERM_LABELS["member_initial"], f"{price.member_initial:,}円 × {n}団体", price.member_initial * n),
    ]
    # the scenario's 幹事事務費 is folded into the joint mode's fixed yearly cost (instance_io.with_lead_work); the
    # document prints it as its own line, kept by the lead or coordinator
    work = instance.allocation.lead_work_annual_yen.get(group.mode, 0) if group.mode != "standalone" else 0
    annual_lines = [
        CostLine(TERM_LABELS["fixed_annual"], "", price.fixed_annual - work),
        CostLine(TERM_LABELS["member_annual"], f"{price.member_annual:,}円 × {n}団体", price.member_annual * n),
    ]
    role = "幹事団体" if group.mode == "lead" else "取りまとめ団体"
    if work:
        work_term = "lead_work" if group.mode == "lead" else "coordinator_work"
        annual_lines.insert(1, CostLine(TERM_LABELS[work_term], f"{role}が受け取ります", work))
    fractional: list[tuple[str, str, float]] = []  # the lines whose exact figure may hold a fraction of a yen
    if group.mode != "standalone":
        fractional.append(
            (
                TERM_LABELS["distance"],
                f"{price.per_km_annual:,}円/km × 各参加団体と{role}の距離の合計 {t.distance_km:,.1f}km",
                t.distance_charge,
            )
        )
    alpha, beta = t.line
    fractional.append(
        (
            TERM_LABELS["volume"],
            f"{_num(alpha)}円 + {_num(beta)}円 × 利用量計 {volume_text(t.volume)}"
            f"{category.unit}（単価表の料金区分のうち最も安いもの）",
            t.volume_charge,
        )
    )
    # Every printed figure is integer yen: each line is rounded half up, and should the rounded lines miss the
    # rounded annual total by a yen, the first of them takes that yen and says so, so that the column adds up.
    initial, annual = t.initial, round_yen(t.annual)
    rounded = [round_yen(exact) for _, _, exact in fractional]
    drift = annual - sum(line.yen for line in annual_lines) - sum(rounded)
    for k, (label, detail, _) in enumerate(fractional):
        if k == 0 and drift:
            detail += f"（年間費用 計との1円未満の差 {drift:+,}円 を含む）"
        annual_lines.append(CostLine(label, detail, rounded[k] + (drift if k == 0 else 0)))
    return initial_lines, annual_lines, initial, annual


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
    text = formula_text(
        method,
        allocation.weights or instance.allocation.weights,
        sampled=allocation.sampled,
        standard_error_yen=allocation.standard_error_yen,
    )
    if method != "standalone" and allocation.adjusted:
        text += (
            "。ただし、この方法による額ではいずれかの団体・組が単独で導入するより不利になるため、別表の額は"
            "この方法による額を団体ごとに調整した額とする"
            + (f"（{allocation.adjustment_summary}）" if allocation.adjustment_summary else "")
        )
    return text


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
