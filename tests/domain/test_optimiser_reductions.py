"""Model reductions of the optimiser (issue 3, radius targets): each keeps the optimum, checked against the
brute-force oracle on tiny instances and against the unreduced model on MILP-sized ones."""

from __future__ import annotations

import math
import random

import pytest

from planner.domain.optimiser.enumeration import solve_by_enumeration
from planner.domain.optimiser.formulation import build
from planner.domain.optimiser.milp import _solve, plan_value, solve_exact
from planner.domain.optimiser.pruning import kept_members
from planner.domain.optimiser.subproblems import Infeasible, decompose

from .test_optimiser_api import region_instance
from .test_optimiser_oracle import random_instance


def _x_columns(model):
    return sum(len(f.x) for f in model.facilities)


def _subproblems(seed):
    try:
        return decompose(random_instance(random.Random(seed)))
    except Infeasible:
        return []


@pytest.mark.parametrize("seed", range(80))
def test_pruned_model_keeps_the_enumerated_optimum(seed):
    """The pruned model's integer optimum is the enumerated optimum; its LP still bounds it from below."""
    for sp in _subproblems(2000 + seed):
        if not sp.options:
            continue
        try:
            optimum, _ = solve_by_enumeration(sp)
        except Infeasible:
            continue
        if not math.isfinite(optimum):
            continue
        pruned = build(sp)
        lp = _solve(pruned, "highs", relax=True, time_limit=None)
        assert lp is not None and lp[0] <= optimum + 1e-6
        mip = _solve(pruned, "highs", relax=False, time_limit=None)
        assert mip[2] and mip[0] == pytest.approx(optimum, rel=1e-9, abs=1e-3)
        full = build(sp, pruning=False)
        assert _x_columns(pruned) <= _x_columns(full)


# A real-sized component: seed 7 gives 61 needs (5,619 columns, of which pruning removes 525) that HiGHS proves optimal
# in about a second, pruned and unpruned alike; seed 5's 63 needs took 20-25 s for the same check.
def real_sized_instance():
    return region_instance(120, seed=7, geography={"type": "radius_km", "km": 90})


def test_pruning_removes_members_worse_off_than_alone_on_a_real_sized_component():
    inst = real_sized_instance()
    sp = max(decompose(inst), key=lambda s: s.size)
    pruned = build(sp)
    full = build(sp, pruning=False)
    assert _x_columns(pruned) < _x_columns(full)
    # Every removed column is one the proof covers: its member pays more there than alone, is not the lead's.
    for fp, ff in zip(pruned.facilities, full.facilities, strict=False):
        assert (fp.option, fp.copy, fp.line) == (ff.option, ff.copy, ff.line)
        opt = sp.options[ff.option]
        hb = next(h for k, _, h in opt.lines if k == ff.line)
        for i in set(ff.x) - set(fp.x):
            j = opt.members.index(i)
            assert i not in opt.required and sp.alone_ok[i]
            assert opt.base[j] + hb * sp.volumes[i] > sp.standalone[i]
    a = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs", pruning=False)
    b = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs")
    assert a.status == b.status == "optimal"
    assert b.objective == pytest.approx(a.objective, rel=1e-9)
    assert plan_value(sp, b.groups) == pytest.approx(b.objective, rel=1e-12)


def test_a_partner_that_cannot_go_alone_keeps_every_column():
    """The pair argument splits {i, j} into two standalone needs: not allowed when j must be in a group."""
    inst = region_instance(30, seed=7, geography={"type": "radius_km", "km": 90})
    sp = max(decompose(inst), key=lambda s: s.size)
    opt = next(o for o in sp.options if not o.required)
    usable = list(range(len(opt.members)))
    _, f, hb = opt.lines[0]
    # Make every member dearer than alone: all but pair-protected columns would go.
    sp.standalone = tuple(0.0 for _ in sp.standalone)
    assert kept_members(sp, opt, usable, f, hb) == []
    sp.alone_ok = tuple(i != opt.members[0] for i in range(sp.size))
    assert kept_members(sp, opt, usable, f, hb) == usable


def _check_groups(inst, sp, groups):
    from planner.domain.costs import group_violations

    assert sorted(i for _, _, m in groups for i in m) == list(range(sp.size))
    for mode, lead, members in groups:
        needs = [inst.need(sp.need_ids[i]) for i in members]
        assert group_violations(inst, needs, mode, lead, all_need_ids=sp.need_ids) == []


def test_lp_rounding_and_multiplier_restricted_model_give_feasible_plans_no_worse_than_the_warm_one():
    from planner.domain.optimiser.heuristic import greedy_groups
    from planner.domain.optimiser.lagrangian import lagrangian
    from planner.domain.optimiser.milp import improve_with_multipliers
    from planner.domain.optimiser.rounding import round_lp

    inst = region_instance(90, seed=12, geography={"type": "radius_km", "km": 70})
    checked = 0
    for sp in decompose(inst):
        if sp.size < 15:
            continue
        model = build(sp)
        lb, values, _ = _solve(model, "highs", relax=True, time_limit=None)
        rounded = round_lp(sp, model, values)
        assert rounded is not None
        _check_groups(inst, sp, rounded)
        assert plan_value(sp, rounded) >= lb - 1e-6
        greedy = greedy_groups(sp)
        value = plan_value(sp, greedy)
        bound, lam = lagrangian(sp, value, 0.5)
        assert bound <= lb + 1e-6 * abs(lb)  # the Lagrangian dual never passes the LP bound
        groups, better = improve_with_multipliers(sp, lam, greedy, value, 30.0, "highs")
        _check_groups(inst, sp, groups)
        assert better == pytest.approx(plan_value(sp, groups), rel=1e-12) and better <= value
        checked += 1
    assert checked


def test_first_wave_plan_and_bound_are_valid_and_merge_into_the_exact_pass():
    """Under a time limit the workers first bound and polish every big component (driver._worker_bound);
    that plan is feasible, its bound is below the proven optimum, and merging keeps the better of each.
    Called in-process: forking after HiGHS has run in this process is not what the application does."""
    import time

    from planner.domain.optimiser import driver
    from planner.domain.optimiser.heuristic import greedy_groups
    from planner.domain.optimiser.types import Fallback, OptimiserOptions, SubResult

    inst = real_sized_instance()
    subs = decompose(inst)
    k = max(range(len(subs)), key=lambda t: subs[t].size)
    sp = subs[k]
    greedy = greedy_groups(sp)
    fallback = {k: Fallback(greedy, plan_value(sp, greedy), driver.quick_bound(sp))}
    state = driver._WorkerState(
        subs=subs,
        fallback=fallback,
        wall_deadline=time.time() + 60,
        backend="highs",
        options=OptimiserOptions(),
        first_wave=frozenset({k}),
    )
    groups, value, bound = driver._worker_bound(k, 10.0, state)
    _check_groups(inst, sp, groups)
    assert value == pytest.approx(plan_value(sp, groups), rel=1e-12) and value <= fallback[k][1]
    exact = solve_exact(sp, warm=None, warm_value=math.inf, time_limit=None, gap=0.0, backend="highs")
    assert exact.status == "optimal"
    assert fallback[k][2] <= bound <= exact.objective + 1e-6 <= value + 2e-6

    run = driver._Run(subs)
    run.fallback[k] = Fallback(groups, value, bound)
    run.results[k] = SubResult(greedy, fallback[k].value, fallback[k].bound, "time_limit", "heuristic")
    driver._merge_first_wave(run, k)
    r = run.results[k]
    assert (r.objective, r.bound) == (value, min(bound, value)) and r.groups == groups
    run.results[k] = SubResult(exact.groups, exact.objective, exact.objective, "optimal", "milp")
    driver._merge_first_wave(run, k)
    assert run.results[k].objective == exact.objective
