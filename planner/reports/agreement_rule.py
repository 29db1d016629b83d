"""第4条 of the 協定書（案）: the rule the group's shares follow, in article text (である調), and the amounts that rule
gives, so that the article recomputed by hand reproduces the 別表 (cost-model.md, "A rule the agreement can state").

The rule is the allocation's ``rule`` recorded by settlement (the weights, or "adjusted": the formula plus the 別表's
調整額); plans settled before the field existed fall back on the method itself (均等割・人口割・利用量割 and their mix).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date

from planner.domain.allocation import formula_ratios, priority_order, split_yen
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup
from planner.domain.share_rule import PARTS, ShareRule, percent, share_rule
from planner.domain.vocabulary import find_wareki_date, wareki_date

__all__ = [
    "PARTS",
    "ShareRule",
    "adjustments",
    "formula_amounts",
    "population_base_date",
    "population_basis",
    "rule_articles",
    "share_rule",
]


def formula_amounts(instance: Instance, group: SettledGroup, rule: ShareRule) -> list[tuple[int, int]]:
    """Each member's (initial, annual) yen by the rule's formula alone: both costs split by the largest remainder,
    ties to the lead first, then the members' order, as 第4条2 says."""
    lead = next((k for k, nid in enumerate(group.members) if instance.need(nid).body == group.lead_body), None)
    ratios = formula_ratios(instance, group.members, rule.weights)
    order = priority_order(ratios, lead)
    initial = split_yen(group.cost.initial_yen, ratios, order)
    annual = split_yen(group.cost.annual_yen, ratios, order)
    return list(zip(initial, annual, strict=True))


def rule_articles(
    rule: ShareRule | None,
    lead_role: str,
    method_name: str,
    population_basis: str,
    volume_unit: str,
    payer: str = "構成団体",
    number: int = 1,
) -> list[str]:
    """第4条1 to 3: the formula, the rounding and what 人口 and 利用量 are (the population's base date), as articles
    (である調); where the shares follow no formula (シャープレイ値 and the like), the ratio of the 別表第1's amounts,
    which is a rule the 精算 can apply to the contract price and which reproduces the 別表 exactly. ``payer`` names
    the bodies that share the cost (「負担団体」 where a host leads without using the system); ``number`` is the
    number of the 項 the formula is (the later ones refer to it)."""
    subject = "対象業務に要する経費"
    rounding = (
        f"前項の按分において1円未満の端数が生じたときは、初期費用及び年間費用ごとに、各{payer}の額の1円未満を"
        f"切り捨て、切り捨てた額の合計を端数の大きい{payer}から順に1円ずつ加える。端数が等しいときは、{lead_role}、"
        "次に別表第1に掲げる順による。"
    )
    if rule is None:
        return [
            f"各{payer}の負担額は、{subject}を初期費用と年間費用に分け、それぞれ別表第1に掲げる各{payer}の初期費用"
            f"負担額及び年間費用負担額の比により按分した額とする。別表第1の額は、{method_name}により算定した額である。",
            rounding,
        ]
    terms = []
    for key, name in PARTS:
        w = rule.weights.get(key, 0.0)
        if w <= 0:
            continue
        basis = {
            "equal": f"{payer}の数で均等に",
            "population": f"各{payer}の人口の比により",
            "volume": f"各{payer}の年間利用量の比により",
        }[key]
        terms.append(f"{name}（{percent(w * 100)}%）は{basis}")
    formula = (
        f"各{payer}の負担額は、{subject}を初期費用と年間費用に分け、それぞれ{rule.label()}の割合により按分した額"
        f"（{'、'.join(terms)}按分する。）"
        + ("に、別表第2に掲げる調整額を加えた額とする。" if rule.adjusted else "とする。")
    )
    out = [formula, rounding]
    bases = []
    if rule.weights.get("population", 0.0) > 0:
        bases.append(f"人口は{population_basis}")
    if rule.weights.get("volume", 0.0) > 0:
        bases.append(f"年間利用量は別表第1に掲げる各{payer}の年間の利用見込量（単位：{volume_unit}）")
    if bases:
        out.append(f"第{number}項の" + "、".join(bases) + "とする。")
    return out


def population_basis(data_source: str) -> str:
    """「令和4年1月1日現在の住民基本台帳に基づく人口（別表第1）」: the base date read from the documents' data source
    (the population import's own date, as publication froze it), or a blank the parties fill in."""
    day = population_base_date(data_source)
    when = wareki_date(day) if day else "令和　　年　　月　　日"
    return f"{when}現在の住民基本台帳に基づく人口（別表第1に掲げる人口）"


_AS_OF = re.compile(r"（(\d{4})年(\d{1,2})月(\d{1,2})日現在）")


def population_base_date(data_source: str) -> date | None:
    """The population's base date in a data-source line: 「人口：…（2022年01月01日現在）」 as the newest import
    records it, or the 和暦 date in the population source's own title (「令和4年1月1日住民基本台帳人口…」)."""
    if "人口：" not in data_source:
        return None
    population_part = data_source.split("人口：", 1)[1].split("財政力指数：", 1)[0]
    m = _AS_OF.search(population_part)
    if m:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    return find_wareki_date(population_part)


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
