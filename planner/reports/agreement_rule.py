"""第4条 of the 協定書（案）: the rule the group's shares follow, in article text (である調), and the amounts that rule
gives, so that the article recomputed by hand reproduces the 別表 (cost-model.md, "A rule the agreement can state").

The rule is the allocation's ``rule`` recorded by settlement (the weights, or "adjusted": the formula plus the 別表's
調整額); plans settled before the field existed fall back on the method itself (均等割・人口割・利用量割 and their mix).
"""

from __future__ import annotations

from collections.abc import Sequence

from planner.domain.allocation import formula_ratios, priority_order, split_yen
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup
from planner.domain.share_rule import PARTS, ShareRule, percent, share_rule

__all__ = ["PARTS", "ShareRule", "adjustments", "formula_amounts", "rule_articles", "share_rule"]


def formula_amounts(instance: Instance, group: SettledGroup, rule: ShareRule) -> list[tuple[int, int]]:
    """Each member's (initial, annual) yen by the rule's formula alone: both costs split by the largest remainder,
    ties to the lead first, then the members' order, as 第4条2 says."""
    lead = next((k for k, nid in enumerate(group.members) if instance.need(nid).body == group.lead_body), None)
    ratios = formula_ratios(instance, group.members, rule.weights)
    order = priority_order(ratios, lead)
    initial = split_yen(group.cost.initial_yen, ratios, order)
    annual = split_yen(group.cost.annual_yen, ratios, order)
    return list(zip(initial, annual, strict=True))


def rule_articles(rule: ShareRule | None, lead_role: str, unified: bool, fallback: str) -> list[str]:
    """第4条1 and 2: the formula and the rounding, as articles (である調), or the method's own wording where the shares
    follow no formula."""
    subject = "対象業務に要する経費の見込額" if unified else "対象業務に要する経費"
    if rule is None:
        return [
            f"各構成団体の負担額は、{subject}を次の方法により算定した額とする。{fallback}",
            "前項の算定において1円未満の端数が生じたときは、端数の大きい構成団体から順に1円ずつ配分する。",
        ]
    terms = []
    for key, name in PARTS:
        w = rule.weights.get(key, 0.0)
        if w <= 0:
            continue
        basis = {
            "equal": "構成団体の数で均等に",
            "population": "各構成団体の人口の比により",
            "volume": "各構成団体の年間利用量の比により",
        }[key]
        terms.append(f"{name}（{percent(w * 100)}%）は{basis}")
    first = (
        f"各構成団体の負担額は、{subject}を初期費用と年間費用に分け、それぞれ{rule.label()}の割合により按分した額"
        f"（{'、'.join(terms)}按分する。）"
        + ("に、別表に掲げる調整額を加えた額とする。" if rule.adjusted else "とする。")
    )
    second = (
        "前項の按分において1円未満の端数が生じたときは、初期費用及び年間費用ごとに、各構成団体の額の1円未満を"
        f"切り捨て、切り捨てた額の合計を端数の大きい構成団体から順に1円ずつ加える。端数が等しいときは、{lead_role}、"
        "次に別表に掲げる順による。"
    )
    return [first, second]


def adjustments(
    instance: Instance, group: SettledGroup, rule: ShareRule, years: Sequence[int], amounts: Sequence[Sequence[int]]
) -> list[list[int]]:
    """Each member's 調整額 by fiscal year: its 別表 amount less the formula's amount (the initial cost falls in the
    first year)."""
    out = []
    for (initial, annual), row in zip(formula_amounts(instance, group, rule), amounts, strict=True):
        formula = [initial + annual if k == 0 else annual for k in range(len(years))]
        out.append([a - f for a, f in zip(row, formula, strict=True)])
    return out
