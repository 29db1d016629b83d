"""The bounds used when time runs out are real lower bounds, and the heuristic plans are feasible."""

from __future__ import annotations

import random

import pytest

from planner.domain.costs import group_violations
from planner.domain.optimiser.driver import quick_bound
from planner.domain.optimiser.enumeration import solve_by_enumeration
from planner.domain.optimiser.heuristic import greedy_groups, improve
from planner.domain.optimiser.lagrangian import lagrangian_bound
from planner.domain.optimiser.milp import plan_value, solve_exact
from planner.domain.optimiser.subproblems import Infeasible, decompose

from .test_optimiser_api import region_instance
from .test_optimiser_oracle import random_instance


def check_groups(inst, sp, groups):
    for mode, lead, members in groups:
        needs = [inst.need(sp.need_ids[i]) for i in members]
        assert group_violations(inst, needs, mode, lead, all_need_ids=sp.need_ids) == []


@pytest.mark.parametrize("seed", range(40))
def test_bounds_below_the_enumerated_optimum(seed):
    inst = random_instance(random.Random(seed))
    try:
        subs = decompose(inst)
        answers = [solve_by_enumeration(sp) for sp in subs]
    except Infeasible:
        return
    for sp, (optimum, _) in zip(subs, answers, strict=False):
        assert quick_bound(sp) <= optimum + 1e-6
        greedy = greedy_groups(sp)
        if greedy is not None:
            value = plan_value(sp, greedy)
            assert value >= optimum - 1e-6
            better = improve(sp, greedy)
            assert sorted(i for _, _, m in better for i in m) == list(range(sp.size))
            assert optimum - 1e-6 <= plan_value(sp, better) <= value + 1e-6
            check_groups(inst, sp, better)
            assert lagrangian_bound(sp, value, 0.2) <= optimum + 1e-6


def test_bounds_on_milp_sized_components():
    inst = region_instance(90, seed=12, geography={"type": "radius_km", "km": 70})
    for sp in decompose(inst):
        if sp.size < 15:
            continue
        greedy = greedy_groups(sp)
        value = plan_value(sp, greedy)
        better = improve(sp, greedy)
        check_groups(inst, sp, better)
        exact = solve_exact(sp, warm=greedy, warm_value=value, time_limit=None, gap=0.0, backend="highs")
        assert exact.status == "optimal"
        assert quick_bound(sp) <= exact.objective + 1e-6
        assert lagrangian_bound(sp, value, 0.5) <= exact.objective + 1e-6
        assert exact.objective <= plan_value(sp, better) + 1e-6 <= value + 2e-6
