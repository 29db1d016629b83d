"""Settle a plan: fill every group's cost allocation and subsidy estimates (what ``planner solve`` and the web job
call after the optimiser)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

from .allocation import allocate_group
from .costs import standalone_cost
from .model import Instance
from .plan import Plan, PlanGroup
from .settled import Allocation, allocation_from_json
from .subsidies import CapLedger, as_rule_set, estimate_group
from .subsidy_rules import RuleSet


def settle_plan(
    instance: Instance,
    plan: Plan,
    rules: RuleSet | Mapping[str, Any] | None = None,
    method: str | None = None,
    weights: Mapping[str, float] | None = None,
    progress: Callable[[int, int], None] | None = None,
    core: str | None = None,
) -> Plan:
    """A new Plan whose groups carry ``allocation`` and ``subsidies``; the input plan is left as it was.

    ``method``/``weights`` default to the instance's allocation spec, ``rules`` to the newest shipped rule set.
    Groups are settled in start-year, then plan order, which is also the order in which the special-tax base cap
    (per body and year) is used up. ``progress(done, total)`` is called before the first group and after each one
    (groups settled so far, all groups); an exception it raises (a cancelled job) stops the settlement."""
    rule_set = as_rule_set(rules)  # parsed once; raises SubsidyRulesError naming every bad field
    method = method or instance.allocation.method
    if weights is None and method == "formula":
        weights = instance.allocation.weights
    ledger, standalone_ledger = CapLedger(), CapLedger()
    groups = [dataclasses.replace(g) for g in plan.groups]
    if progress is not None:
        progress(0, len(groups))
    for done, group in enumerate(sorted(groups, key=lambda g: g.start_year), start=1):
        standalone = {nid: standalone_cost(instance, instance.need(nid)).as_dict() for nid in group.members}
        group.allocation = _typed_allocation(allocate_group(instance, group, method, weights, core), group)
        group.subsidies = estimate_group(
            instance,
            group.mode,
            group.lead_body,
            group.members,
            {s.need_id: s.parts for s in group.allocation.shares},
            standalone,
            rule_set,
            ledger,
            standalone_ledger,
        )
        if progress is not None:
            progress(done, len(groups))
    stats = {
        **plan.stats,
        "rule_version": rule_set.version,
        "allocation_method": method,
        "allocation_core": core or instance.allocation.core,
    }
    return dataclasses.replace(plan, groups=groups, stats=stats)


# The one boundary between the allocation module's output and the typed settled plan: when it returns the typed
# record itself, this becomes the identity. (The subsidy estimates are typed already.)


def _typed_allocation(record: Allocation | Mapping[str, Any], group: PlanGroup) -> Allocation:
    return record if isinstance(record, Allocation) else allocation_from_json(record, group.members)
