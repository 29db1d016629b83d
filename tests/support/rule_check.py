"""The rule an agreement states, recomputed by hand (cost-model.md, "A rule the agreement can state"): every joint
group whose shares follow a formula has exactly the shares 「均等割a%・人口割b%・利用量割c%」 gives by the largest
remainder, written here without the allocator's code, so that the 協定書's 第4条 and its 別表 reproduce each other."""

from __future__ import annotations

import math
from fractions import Fraction

PARTS = ("equal", "population", "volume")


def by_hand(amount: int, ratios: list[Fraction], lead: int | None) -> list[int]:
    """Largest remainder, ties to the lead then member order: the rule as the agreement states it."""
    total = sum(ratios)
    quotas = [amount * r / total for r in ratios]
    floors = [math.floor(q) for q in quotas]
    order = list(range(len(ratios)))
    if lead is not None:
        order.remove(lead)
        order.insert(0, lead)
    rank = {i: p for p, i in enumerate(order)}
    for i in sorted(range(len(ratios)), key=lambda i: (-(quotas[i] - floors[i]), rank[i]))[: amount - sum(floors)]:
        floors[i] += 1
    return floors


def formula_groups_recomputed(instance, plan) -> tuple[int, list[str]]:
    """Check every joint group that states a formula against the hand computation (an AssertionError names the
    group); returns (the groups checked, the ids of the groups adjusted member by member)."""
    checked, adjusted = 0, []
    for g in plan.groups:
        if len(g.members) < 2:
            continue
        rule = g.allocation.rule
        if rule == "adjusted":
            adjusted.append(g.id)
            continue
        assert isinstance(rule, dict), (g.id, rule)
        weights = {p: Fraction(rule.get(p, 0.0)).limit_denominator(100) for p in PARTS}
        assert sum(weights.values()) == 1, (g.id, rule)
        needs = [instance.need(i) for i in g.members]
        ratios = [weights["equal"] / len(needs)] * len(needs)
        if weights["population"]:
            pops = [Fraction(instance.bodies[n.body].population) for n in needs]
            ratios = [r + weights["population"] * p / sum(pops) for r, p in zip(ratios, pops, strict=True)]
        if weights["volume"]:
            vols = [Fraction(n.volume).limit_denominator(10**6) for n in needs]
            ratios = [r + weights["volume"] * v / sum(vols) for r, v in zip(ratios, vols, strict=True)]
        lead = next((k for k, n in enumerate(needs) if n.body == g.lead_body), None)
        initial = by_hand(g.cost.initial_yen, ratios, lead)
        annual = by_hand(g.cost.annual_yen, ratios, lead)
        for k, nid in enumerate(g.members):
            share = g.allocation.share(nid)
            assert (share.initial_yen, share.annual_yen, share.adjustment_yen) == (initial[k], annual[k], 0), (
                g.id,
                nid,
            )
        checked += 1
    return checked, adjusted
