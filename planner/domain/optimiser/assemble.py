"""Turn the sub-problems' answers into a :class:`Plan`: groups priced by costs.group_cost, checked by
costs.group_violations, with stable readable ids (``ocr-2026-001``)."""

from __future__ import annotations

import math
import time
from typing import TYPE_CHECKING

from ..costs import group_cost, group_violations, standalone_cost
from ..model import Instance, Need
from ..plan import Plan, PlanGroup
from ..tolerances import GAP_NOISE, YEN_NOISE
from .types import SubResult

if TYPE_CHECKING:
    from .subproblems import SubProblem

_MODE_ORDER = {"lead": 0, "unified": 1, "standalone": 2}


def priced_groups(instance: Instance, raw: list[tuple[str, str, list[str]]]) -> list[PlanGroup]:
    """PlanGroups for (mode, lead body, need ids) triples, numbered per category and start year."""
    cat_order = {c: i for i, c in enumerate(instance.categories)}
    alone: dict[str, int] = {}
    items: list[tuple[list[Need], str, str]] = []
    for mode, lead, ids in raw:
        # Members read lead first, then by body code: the order every table and document shows.
        needs = sorted((instance.need(i) for i in ids), key=lambda n: (n.body != lead, n.body, n.id))
        problems = group_violations(instance, needs, mode, lead)
        if problems:  # a bug, never an input problem: the optimiser only builds feasible groups
            raise RuntimeError(f"infeasible group {mode}/{lead}/{[n.id for n in needs]}: {problems}")
        for n in needs:
            if n.id not in alone:
                alone[n.id] = standalone_cost(instance, n).total_yen
        items.append((needs, mode, lead))
    items.sort(
        key=lambda it: (
            cat_order.get(it[0][0].category, 0),
            it[0][0].start_year,
            _MODE_ORDER[it[1]],
            it[2],
            it[0][0].id,
        )
    )
    counters: dict[tuple[str, int], int] = {}
    out: list[PlanGroup] = []
    for needs, mode, lead in items:
        key = (needs[0].category, needs[0].start_year)
        counters[key] = counters.get(key, 0) + 1
        out.append(
            PlanGroup(
                id=f"{key[0]}-{key[1]}-{counters[key]:03d}",
                category=key[0],
                start_year=key[1],
                mode=mode,
                lead_body=lead,
                members=[n.id for n in needs],
                cost=group_cost(instance, needs, mode, lead),
                standalone_total_yen=sum(alone[n.id] for n in needs),
            )
        )
    return out


def build_plan(instance: Instance, subs: list[SubProblem], results: dict[int, SubResult], started: float) -> Plan:
    raw: list[tuple[str, str, list[str]]] = []
    bound = 0.0
    statuses: set[str] = set()
    for k, sp in enumerate(subs):
        r = results[k]
        statuses.add(r.status)
        bound += r.bound
        for mode, lead, members in r.groups:
            raw.append((mode, lead, [sp.need_ids[i] for i in members]))
    groups = priced_groups(instance, raw)
    seen = [m for g in groups for m in g.members]
    if sorted(seen) != sorted(n.id for n in instance.needs):
        raise RuntimeError("the plan does not hold every need exactly once")
    objective = sum(g.cost.total_yen for g in groups)
    exact = sum(g.cost.exact_total for g in groups)
    # The bound is proven on the exact (unrounded) costs; the reported objective rounds each group's yearly cost
    # to the yen, so the bound in yen is floored and never shown above the objective.
    bound = min(bound, exact)
    lower = min(math.floor(bound + YEN_NOISE), objective) if math.isfinite(bound) else 0
    gap = max(0.0, (exact - bound) / exact) if exact > 0 and math.isfinite(bound) else 0.0
    if gap < GAP_NOISE:
        gap = 0.0
    if "time_limit" in statuses:
        status = "time_limit"
    elif "feasible" in statuses:
        status = "feasible"
    else:
        status = "optimal"
    need_alone = {n.id: standalone_cost(instance, n).total_yen for n in instance.needs}
    return Plan(
        instance=instance.name,
        status=status,
        objective_yen=objective,
        lower_bound_yen=lower,
        gap=gap,
        standalone_total_yen=sum(need_alone.values()),
        solve_seconds=time.perf_counter() - started,
        groups=groups,
        need_standalone_yen=need_alone,
        stats={},
    )
