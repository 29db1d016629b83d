"""Fairness in what members actually pay (実質負担; cost-model.md, "Fairness in what members actually pay").

The guarantee assumes the grant is NOT awarded (it is a public call a project may lose): with every grant at 0 and
the special allocation tax still counted, no member's net burden may exceed its standalone net burden. The special
tax depends on the member's own initial share (capped per body and year by what earlier groups of the plan used),
so the guarantee is an upper bound on the member's total share, found exactly per member by bisection on the
monotone net burden n(x) = x - tax(initial(x)), where initial(x) is the group's own proportion of initial to total
cost (how every method and the core adjustment split a member's total). ``NetLimits.over`` then checks the shares
actually written, with their actual initial parts, so that rounding can never break the guarantee unseen.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .costs import GroupCost, group_cost, group_violations, standalone_cost
from .model import Instance
from .subsidies import CapLedger, special_tax_estimate
from .subsidy_rules import RuleSet


def tax_without_grant(
    instance: Instance, need_id: str, mode: str, initial_yen: int, rules: RuleSet, ledger: CapLedger | None
) -> int:
    """The special allocation tax on ``initial_yen`` when the project gets no grant (the ledger's cap room is read,
    not used up)."""
    est, _ = special_tax_estimate(instance, need_id, mode, initial_yen, 0, rules, ledger, commit=False)
    return est.amount_yen


def initial_part(total_yen: int, cost: GroupCost) -> int:
    """The initial part of a member's total share in the group's own proportion (floor: the tax is then never
    overstated)."""
    if cost.total_yen <= 0:
        return 0
    return total_yen * cost.initial_yen // cost.total_yen


@dataclass
class NetLimits:
    """Each member's upper bound on its total share (``bounds``, in the group's member order) that keeps its net
    burden without the grant at most its standalone one (``standalone_net``)."""

    instance: Instance
    member_ids: Sequence[str]
    mode: str
    cost: GroupCost
    rules: RuleSet
    ledger: CapLedger | None
    standalone_net: list[int]
    bounds: list[int] = field(default_factory=list)

    def net(self, k: int, initial_yen: int, total_yen: int) -> int:
        """Member k's net burden without the grant for a share with these initial and total parts."""
        tax = tax_without_grant(self.instance, self.member_ids[k], self.mode, initial_yen, self.rules, self.ledger)
        return total_yen - tax

    def over(self, shares: Sequence[Mapping[str, Any]]) -> list[int]:
        """How many yen each member's net burden without the grant exceeds its standalone one (0 when it does not),
        for the shares as written (``initial_yen``, ``total_yen``)."""
        return [
            max(0, self.net(k, int(s["initial_yen"]), int(s["total_yen"])) - self.standalone_net[k])
            for k, s in enumerate(shares)
        ]

    def tighten(self, over: Sequence[int]) -> None:
        """Lower the bounds of members whose written shares broke them (rounding of the initial part)."""
        self.bounds = [b - o for b, o in zip(self.bounds, over, strict=True)]


def standalone_net_without_grant(
    instance: Instance, need_id: str, rules: RuleSet, standalone_ledger: CapLedger | None
) -> int:
    alone = standalone_cost(instance, instance.need(need_id))
    tax = tax_without_grant(instance, need_id, "standalone", alone.initial_yen, rules, standalone_ledger)
    return alone.total_yen - tax


def upper_bound(
    instance: Instance,
    need_id: str,
    mode: str,
    cost: GroupCost,
    rules: RuleSet,
    ledger: CapLedger | None,
    standalone_net: int,
) -> int:
    """The largest total share x in [0, group total] with x - tax(initial_part(x)) <= ``standalone_net``.

    The net burden rises with x (the tax takes at most its rate, below 1, of each yen of initial share), so the
    set of such x is an interval from 0 and bisection finds its end exactly."""

    def fits(x: int) -> bool:
        tax = tax_without_grant(instance, need_id, mode, initial_part(x, cost), rules, ledger)
        return x - tax <= standalone_net

    low, high = 0, max(0, cost.total_yen)
    if fits(high):
        return high
    if not fits(low):
        return 0
    while high - low > 1:
        mid = (low + high) // 2
        if fits(mid):
            low = mid
        else:
            high = mid
    return low


def net_limits(
    instance: Instance,
    member_ids: Sequence[str],
    mode: str,
    cost: GroupCost,
    rules: RuleSet,
    ledger: CapLedger | None = None,
    standalone_ledger: CapLedger | None = None,
) -> NetLimits:
    """The bounds of a group's members, with the ledgers as they stand before the group is settled."""
    alone = [standalone_net_without_grant(instance, nid, rules, standalone_ledger) for nid in member_ids]
    bounds = [
        upper_bound(instance, nid, mode, cost, rules, ledger, a) for nid, a in zip(member_ids, alone, strict=True)
    ]
    return NetLimits(instance, list(member_ids), mode, cost, rules, ledger, alone, bounds)


def eligible_lead_alternative(
    instance: Instance, mode: str, lead_body: str, member_ids: Sequence[str], cost: GroupCost, rules: RuleSet
) -> dict[str, Any] | None:
    """The cheapest lead for the same members in ``lead`` mode that is an eligible 実施主体 of the grant, and what
    it would add to the group's cost: {lead_body, extra_cost_yen}; None when the group is not in lead mode, its
    lead is eligible already, or no eligible body may lead it (the feasibility rules of costs.group_violations)."""
    from .subsidies import grant_ineligibility

    if mode != "lead" or grant_ineligibility(instance.bodies[lead_body], rules) is None:
        return None
    needs = [instance.need(i) for i in member_ids]
    if rules.grant.category(needs[0].category) is None:  # no lead brings a grant the category does not have
        return None
    candidates = {n.body for n in needs if n.can_lead} | set(instance.hosts_of(needs[0].category))
    best: tuple[int, str] | None = None
    for body in sorted(candidates):
        if body == lead_body or grant_ineligibility(instance.bodies[body], rules) is not None:
            continue
        if group_violations(instance, needs, "lead", body, all_need_ids=member_ids):
            continue
        total = group_cost(instance, needs, "lead", body).total_yen
        if best is None or total < best[0]:
            best = (total, body)
    if best is None:
        return None
    return {"lead_body": best[1], "extra_cost_yen": best[0] - cost.total_yen}
