"""Settle a plan: fill every group's cost allocation and subsidy estimates (what ``planner solve`` and the web job
call after the optimiser)."""
from __future__ import annotations

import dataclasses
from typing import Any, Mapping

from .allocation import allocate_group
from .costs import standalone_cost
from .model import Instance
from .plan import Plan, PlanGroup
from .settled import Allocation, SubsidyEstimate, allocation_from_json, subsidy_from_json
from .subsidies import CapLedger, SubsidyRulesError, default_rules, estimate_group, validate_rules


def settle_plan(instance: Instance, plan: Plan, rules: Mapping[str, Any] | None = None, method: str | None = None,
                weights: Mapping[str, float] | None = None, core: str | None = None) -> Plan:
    """A new Plan whose groups carry ``allocation`` and ``subsidies``; the input plan is left as it was.

    ``method``/``weights`` default to the instance's allocation spec, ``rules`` to the newest shipped rule set.
    Groups are settled in start-year, then plan order, which is also the order in which the special-tax base cap
    (per body and year) is used up."""
    rules = dict(rules) if rules is not None else default_rules()
    problems = validate_rules(rules)
    if problems:
        raise SubsidyRulesError(problems)
    method = method or instance.allocation.method
    if weights is None and method == "formula":
        weights = instance.allocation.weights
    ledger, standalone_ledger = CapLedger(), CapLedger()
    groups = [dataclasses.replace(g) for g in plan.groups]
    for group in sorted(groups, key=lambda g: g.start_year):
        standalone = {nid: standalone_cost(instance, instance.need(nid)).as_dict() for nid in group.members}
        group.allocation = _typed_allocation(allocate_group(instance, group, method, weights, core), group)
        shares = {s.need_id: s.parts.to_json() for s in group.allocation.shares}
        group.subsidies = _typed_subsidies(estimate_group(instance, group.mode, group.lead_body, group.members,
                                                          shares, standalone, rules, ledger, standalone_ledger))
    stats = {**plan.stats, "rule_version": rules.get("version"), "allocation_method": method,
             "allocation_core": core or instance.allocation.core}
    return dataclasses.replace(plan, groups=groups, stats=stats)


# The one boundary between the allocation and subsidy modules' outputs and the typed settled plan: when they
# return the typed records themselves, these two become the identity.

def _typed_allocation(record: Allocation | Mapping[str, Any], group: PlanGroup) -> Allocation:
    return record if isinstance(record, Allocation) else allocation_from_json(record, group.members)


def _typed_subsidies(records: Mapping[str, SubsidyEstimate | Mapping[str, Any]]) -> dict[str, SubsidyEstimate]:
    return {nid: r if isinstance(r, SubsidyEstimate) else subsidy_from_json(nid, r) for nid, r in records.items()}
