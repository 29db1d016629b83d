"""Settle a plan: the optimiser's :class:`~planner.domain.plan.Plan` becomes a
:class:`~planner.domain.settled_plan.SettledPlan` (every group's cost allocation and subsidy estimates), and
:func:`attach_effects` adds the effect estimates. ``planner.services.solving.solve_and_settle`` calls both after
the optimiser, for ``planner solve`` and the web job alike."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from .allocation import allocate_group
from .costs import standalone_cost
from .effects import Baseline, EffectModel, estimate_effects
from .model import Instance
from .net_fairness import eligible_lead_alternative, net_limits
from .plan import Plan
from .settled_plan import SettledGroup, SettledPlan
from .subsidies import CapLedger, as_rule_set, estimate_group
from .subsidy_rules import RuleSet


def with_grant_lead_rules(instance: Instance, rule_set: RuleSet) -> Instance:
    """The instance with the kinds the rule set's grant excludes (grant.ineligible_kinds) as the kinds that may not
    lead when the scenario asks for grant-eligible leads (lead_must_be_grant_eligible): rule data, not a constant,
    so the optimiser, the cost game and the separation oracle (costs.lead_allowed) read the year's own terms."""
    kinds = frozenset(rule_set.grant.ineligible_kinds)
    if instance.allocation.lead_ineligible_kinds == kinds:
        return instance
    return dataclasses.replace(
        instance, allocation=dataclasses.replace(instance.allocation, lead_ineligible_kinds=kinds)
    )


def settle_plan(
    instance: Instance,
    plan: Plan,
    rules: RuleSet | Mapping[str, Any] | None = None,
    method: str | None = None,
    weights: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    core: str | None = None,
) -> SettledPlan:
    """The settled plan: every group with its ``allocation`` and ``subsidies`` (no effect estimates yet).

    ``method``/``weights`` default to the instance's allocation spec, ``rules`` to the newest shipped rule set.
    Groups are settled in start-year, then plan order, which is also the order in which the special-tax base cap
    (per body and year) is used up. ``progress(done, total)`` is called before the first group and after each one
    (groups settled so far, all groups); an exception it raises (a cancelled job) stops the settlement."""
    rule_set = as_rule_set(rules)  # parsed once; raises SubsidyRulesError naming every bad field
    instance = with_grant_lead_rules(instance, rule_set)
    method = method or instance.allocation.method
    if weights is None and method == "formula":
        weights = instance.allocation.weights
    ledger, standalone_ledger = CapLedger(), CapLedger()
    settled: dict[int, SettledGroup] = {}  # by the group's index in the plan, whose order the result keeps
    total = len(plan.groups)
    if progress is not None:
        progress(0, total)
    in_order = sorted(enumerate(plan.groups), key=lambda ig: ig[1].start_year)
    for done, (index, group) in enumerate(in_order, start=1):
        standalone = {nid: standalone_cost(instance, instance.need(nid)).as_dict() for nid in group.members}
        # the net guarantee's bounds, from the special-tax cap room earlier groups left (cost-model.md)
        limits = (
            net_limits(instance, group.members, group.mode, group.cost, rule_set, ledger, standalone_ledger)
            if len(group.members) >= 2
            else None
        )
        allocation = allocate_group(instance, group, method, weights, core, limits)
        subsidies = estimate_group(
            instance,
            group.mode,
            group.lead_body,
            group.members,
            {s.need_id: s.parts for s in allocation.shares},
            standalone,
            rule_set,
            ledger,
            standalone_ledger,
        )
        alternative = None
        if any(e.worse_off_if_grant_awarded_yen for e in subsidies.values()):
            alternative = eligible_lead_alternative(
                instance, group.mode, group.lead_body, group.members, group.cost, rule_set
            )
        settled[index] = SettledGroup.of(group, allocation, subsidies, eligible_lead_alternative=alternative)
        if progress is not None:
            progress(done, total)
    stats = {
        **plan.stats,
        "rule_version": rule_set.version,
        "allocation_method": method,
        "allocation_core": core or instance.allocation.core,
    }
    return SettledPlan(
        instance=plan.instance,
        status=plan.status,
        objective_yen=plan.objective_yen,
        lower_bound_yen=plan.lower_bound_yen,
        gap=plan.gap,
        standalone_total_yen=plan.standalone_total_yen,
        solve_seconds=plan.solve_seconds,
        groups=tuple(settled[i] for i in range(total)),
        need_standalone_yen=dict(plan.need_standalone_yen),
        stats=stats,
    )


def attach_effects(
    instance: Instance,
    plan: SettledPlan,
    model: EffectModel,
    *,
    baselines: Mapping[str, Baseline] | None = None,
    staff_costs: Mapping[str, int] | None = None,
) -> SettledPlan:
    """A copy of ``plan`` carrying the effect estimates, on the plan and on each group's members."""
    import dataclasses

    estimates = estimate_effects(instance, plan.groups, model, baselines=baselines, staff_costs=staff_costs)
    groups = tuple(
        dataclasses.replace(g, effects={m: estimates.needs[m] for m in g.members if m in estimates.needs})
        for g in plan.groups
    )
    return dataclasses.replace(plan, groups=groups, effects=estimates)
