"""Settled plans built by hand for report tests, following the plan format of instance-format.md.

Allocation here is 均等割 with the largest-remainder rule (ties to the lead), and the subsidy figures follow
subsidy-rules.md in a simplified way; the reports only print what the plan says, so any correct-format figures do.
"""

from __future__ import annotations

from planner.domain.costs import group_cost, standalone_cost
from planner.domain.model import Instance
from planner.domain.settled import Burden, GrantEstimate, SpecialTaxEstimate, SubsidyEstimate, YenParts
from planner.domain.settled_plan import settled_plan_from_dict

MEASURE = "条件不利地域における先端的な情報通信技術の導入"


def split(amount: int, n: int, lead_index: int) -> list[int]:
    base, rest = divmod(amount, n)
    order = [lead_index] + [i for i in range(n) if i != lead_index]
    return [base + (1 if i in order[:rest] else 0) for i in range(n)]


def _burden(gross: YenParts, grant: int, sat: int, eligible: bool) -> Burden:
    return Burden(
        gross,
        GrantEstimate(
            grant,
            eligible,
            "補助金（テスト用、初期負担の1/2）",
            None if eligible else "市町村官民データ活用推進計画が未提出",
        ),
        SpecialTaxEstimate(
            sat,
            MEASURE if sat else None,
            "disadvantaged_area" if sat else None,
            0.5 if sat else None,
            1.0 if sat else None,
            gross.initial_yen - grant,
            "特別交付税措置（テスト用）",
            None if sat else "条件不利地域なし",
        ),
    )


def settled_plan_doc(
    instance: Instance,
    groups: list[tuple[str, str, str, list[str]]],
    *,
    sat_rate: float = 0.5,
    stats: dict | None = None,
) -> dict:
    """``groups``: (id, mode, lead_body, need ids); needs left out become standalone groups."""
    placed = {nid for g in groups for nid in g[3]}
    specs = list(groups) + [(f"S-{n.id}", "standalone", n.body, [n.id]) for n in instance.needs if n.id not in placed]
    out = []
    for gid, mode, lead, nids in specs:
        needs = [instance.need(n) for n in nids]
        cost = group_cost(instance, needs, mode, lead)
        lead_index = next((i for i, n in enumerate(needs) if n.body == lead), 0)
        initial = split(cost.initial_yen, len(needs), lead_index)
        annual = split(cost.annual_yen, len(needs), lead_index)
        shares, subsidies = {}, {}
        for i, n in enumerate(needs):
            alone = standalone_cost(instance, n)
            total = initial[i] + instance.horizon_years * annual[i]
            shares[n.id] = {
                "initial_yen": initial[i],
                "annual_yen": annual[i],
                "total_yen": total,
                "standalone_total_yen": alone.total_yen,
            }
            body = instance.bodies[n.body]
            eligible = body.kind not in ("prefecture", "designated_city") and body.has_data_plan
            grant = initial[i] // 2 if eligible else 0
            sat = int((initial[i] - grant) * sat_rate) if body.disadvantaged else 0
            s_grant = alone.initial_yen // 2 if eligible else 0
            s_sat = int((alone.initial_yen - s_grant) * sat_rate) if body.disadvantaged else 0
            notes = [] if eligible else ["市町村官民データ活用推進計画が未提出のため補助金は0円"]
            joint = _burden(YenParts(initial[i], annual[i], total), grant, sat, eligible)
            solo = _burden(YenParts(alone.initial_yen, alone.annual_yen, alone.total_yen), s_grant, s_sat, eligible)
            subsidies[n.id] = SubsidyEstimate(n.id, joint, solo, notes=tuple(notes), rule_version="R7-test").to_json()
        rational = all(v["total_yen"] <= v["standalone_total_yen"] for v in shares.values())
        standalone_total = sum(standalone_cost(instance, n).total_yen for n in needs)
        out.append(
            {
                "id": gid,
                "category": needs[0].category,
                "start_year": needs[0].start_year,
                "mode": mode,
                "lead_body": lead,
                "members": nids,
                "cost": cost.as_dict(),
                "standalone_total_yen": standalone_total,
                "saving_yen": standalone_total - cost.total_yen,
                "allocation": {
                    "method": "equal",
                    "exhaustive_check": True,
                    "individually_rational": rational,
                    "in_core": rational,
                    "shares": shares,
                },
                "subsidies": subsidies,
            }
        )
    objective = sum(g["cost"]["total_yen"] for g in out)
    standalone_all = sum(standalone_cost(instance, n).total_yen for n in instance.needs)
    return {
        "format": "kyodo-planner-plan/1",
        "instance": instance.name,
        "status": "optimal",
        "objective_yen": objective,
        "lower_bound_yen": objective,
        "gap": 0.0,
        "standalone_total_yen": standalone_all,
        "solve_seconds": 0.1,
        "groups": out,
        "need_standalone_yen": {n.id: standalone_cost(instance, n).total_yen for n in instance.needs},
        "stats": stats or {"price_book_version": "R8-ref-1", "rule_version": "R7-test"},
    }


def settled_plan(instance: Instance, groups, **kwargs):
    return settled_plan_from_dict(settled_plan_doc(instance, groups, **kwargs))
