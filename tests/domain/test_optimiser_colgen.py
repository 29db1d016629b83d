"""Column generation with exact pricing and Lagrangian fixing (colgen.py, issue 32): the pricing, the bound and
the fixing rule each against brute force over every member set on tiny random sub-problems, and the whole method
against the brute-force oracle of test_optimiser_oracle.py."""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import replace

import numpy as np
import pytest

from planner.domain.optimiser import Infeasible, OptimiserOptions, colgen, optimise
from planner.domain.optimiser.enumeration import solve_by_enumeration
from planner.domain.optimiser.milp import plan_value
from planner.domain.optimiser.subproblems import decompose
from planner.domain.optimiser.types import Group

from .test_optimiser_api import region_instance
from .test_optimiser_oracle import check_plan, oracle, random_instance


def _subproblems(seed):
    try:
        return [sp for sp in decompose(random_instance(random.Random(seed))) if sp.options and colgen.eligible(sp)]
    except Infeasible:
        return []


def _piece_sets(pieces, p):
    """Every member set a group of piece p may have, with its entries' positions (unsorted arrays)."""
    entries = np.nonzero(pieces.e_seg == p)[0]
    cap = int(pieces.cap[p])
    req = [e for e in entries if pieces.e_req[e]]
    for size in range(2, min(cap, len(entries)) + 1):
        for subset in itertools.combinations(entries.tolist(), size):
            if req and req[0] not in subset:
                continue
            yield subset


@pytest.mark.parametrize("seed", range(60))
def test_pricing_and_forced_costs_match_brute_force(seed):
    """Each piece's least reduced cost, and each entry's least reduced cost with its need forced in, equal the
    minimum over every allowed member set; L(pi) bounds the enumerated optimum for random multipliers."""
    rng = np.random.default_rng(seed)
    for sp in _subproblems(3000 + seed):
        pieces = colgen.Pieces.of(sp)
        try:
            optimum, _ = solve_by_enumeration(sp)
        except Infeasible:
            continue
        for _ in range(4):
            pi = np.asarray(sp.standalone) * rng.uniform(0.3, 1.6, sp.size)
            priced = pieces.price(pi)
            forced = pieces.forced(priced)
            position = np.empty(len(priced.order), dtype=np.int64)
            position[priced.order] = np.arange(len(priced.order))
            for p in range(pieces.n_pieces):
                best = math.inf
                best_with: dict[int, float] = {}
                for subset in _piece_sets(pieces, p):
                    value = pieces.f[p] + sum(pieces.e_cost[e] - pi[pieces.e_need[e]] for e in subset)
                    best = min(best, value)
                    for e in subset:
                        best_with[e] = min(best_with.get(e, math.inf), value)
                assert priced.rc[p] == pytest.approx(best, rel=1e-9, abs=1e-6)
                for e, value in best_with.items():
                    assert forced[position[e]] == pytest.approx(value, rel=1e-9, abs=1e-6)
            if math.isfinite(optimum):
                assert priced.value <= optimum + 1e-6 * max(1.0, abs(optimum))


@pytest.mark.parametrize("seed", range(80))
def test_column_generation_matches_brute_force(seed):
    """Every sub-problem the pricing is exact for goes through column generation (enumeration off): the plan is
    the oracle's optimum, proven."""
    options = OptimiserOptions(enumeration_max_needs=0, workers=1, colgen_min_columns=0)
    instance = random_instance(random.Random(4000 + seed))
    expected = oracle(instance)
    if math.isinf(expected):
        with pytest.raises(Infeasible):
            optimise(instance, options=options)
        return
    plan = optimise(instance, options=options)
    check_plan(instance, plan)
    assert sum(g.cost.exact_total for g in plan.groups) == pytest.approx(expected, rel=1e-9, abs=1e-3)
    assert plan.status == "optimal"


def test_column_generation_proves_a_real_sized_component_as_the_lp_method_does():
    """A 61-need component (test_optimiser_reductions.py): the same optimum, proven, by both methods."""
    inst = region_instance(120, seed=7, geography={"type": "radius_km", "km": 90})
    base = OptimiserOptions(workers=1, colgen_min_columns=0)
    new = optimise(inst, options=base)
    old = optimise(inst, options=replace(base, column_generation=False))
    assert new.status == old.status == "optimal"
    assert new.objective_yen == old.objective_yen
    assert new.stats["subproblems_by_method"].get("colgen", 0) >= 1


@pytest.mark.parametrize("seed", range(60))
def test_lagrangian_fixing_proves_the_enumerated_optimum(seed):
    """Without the rounding and the restricted model, from the all-alone plan: the proof rests on the fixing
    rule and the facility model without the fixed columns, and still finds and proves the optimum."""
    for sp in _subproblems(5000 + seed):
        if not all(sp.alone_ok):
            continue
        optimum, _ = solve_by_enumeration(sp)
        warm = [Group("standalone", sp.bodies[i], (i,)) for i in range(sp.size)]
        result = colgen.solve(sp, warm, sum(sp.standalone), deadline=None, gap=0.0, polish=False)
        assert result.proven
        assert result.value == pytest.approx(optimum, rel=1e-9, abs=1e-3)
        assert result.bound <= result.value and result.bound == pytest.approx(optimum, rel=1e-9, abs=1e-3)
        assert plan_value(sp, result.groups) == pytest.approx(result.value, rel=1e-12)


def test_time_limited_workers_give_column_generation_its_share_first():
    """Under a time limit the column-generation components go to the workers first with a budget each; with
    time enough they are proven, and the plan is the unlimited run's."""
    inst = region_instance(120, seed=7, geography={"type": "radius_km", "km": 90})
    options = OptimiserOptions(
        workers=2, colgen_min_columns=0, colgen_under_time_limit=True, parallel_min_needs=9, time_limit=120
    )
    limited = optimise(inst, options=options)
    unlimited = optimise(inst, options=replace(options, time_limit=None, workers=1))
    assert limited.status == unlimited.status == "optimal"
    assert limited.objective_yen == unlimited.objective_yen
    assert limited.stats["workers"] == 2 and limited.stats["subproblems_by_method"].get("colgen", 0) >= 1


@pytest.mark.parametrize("seed", range(30))
def test_a_restricted_model_without_columns_for_some_need_is_skipped(seed, monkeypatch):
    """The incumbent search on the nearly-priced columns may leave a need with no column at all (seen on radius
    100's speech-2026 component): it is skipped, and the proof still finds the optimum."""
    monkeypatch.setattr(colgen, "NEAR_PRICED_SHARE", -1.0)  # nothing is priced near enough
    monkeypatch.setattr(colgen, "_round", lambda master, values: None)  # so that the incumbent search runs
    monkeypatch.setattr(colgen, "_dive", lambda master, until: None)
    searched = []
    real = colgen._restricted
    monkeypatch.setattr(colgen, "_restricted", lambda sp, allowed: searched.append(allowed) or real(sp, allowed))
    for sp in _subproblems(6000 + seed):
        optimum, _ = solve_by_enumeration(sp)
        if not math.isfinite(optimum) or not all(sp.alone_ok):
            continue
        warm = [Group("standalone", sp.bodies[i], (i,)) for i in range(sp.size)]
        result = colgen.solve(sp, warm, sum(sp.standalone), deadline=None, gap=0.0)
        assert result.proven and result.value == pytest.approx(optimum, rel=1e-9, abs=1e-3)
    if searched:
        assert searched[0] == ({}, set())  # the incumbent search's model had no column at all


@pytest.mark.parametrize("seed", range(40))
def test_column_generation_keeps_the_scenario_lead_rules(seed):
    """lead_must_be_grant_eligible (a feasibility rule, applied where the candidates are made) and the lead's
    yearly work per joint group (a fixed yearly cost, inside F_k) reach column generation through the options it
    prices: the plan is still the oracle's optimum under both."""
    from planner.domain.instance_io import with_lead_work

    base = random_instance(random.Random(7000 + seed))
    work = {"lead": 150_000 * (seed % 3), "unified": 90_000 * (seed % 2)}
    instance = replace(
        base,
        allocation=replace(base.allocation, lead_must_be_grant_eligible=seed % 2 == 0, lead_work_annual_yen=work),
        categories=with_lead_work(base.categories, work),
    )
    options = OptimiserOptions(enumeration_max_needs=0, workers=1, colgen_min_columns=0)
    expected = oracle(instance)
    if math.isinf(expected):
        with pytest.raises(Infeasible):
            optimise(instance, options=options)
        return
    plan = optimise(instance, options=options)
    check_plan(instance, plan)
    assert sum(g.cost.exact_total for g in plan.groups) == pytest.approx(expected, rel=1e-9, abs=1e-3)
    assert plan.status == "optimal"


def test_a_time_limited_run_uses_column_generation_unless_told_not_to():
    """Column generation ended closer to optimal under a time limit once its master got its own seconds each
    round (types.py): a time-limited run uses it by default, the same plan as a run to the proof, and
    colgen_under_time_limit off keeps the previous method there."""
    inst = region_instance(60, seed=3, geography={"type": "radius_km", "km": 90})
    limited = optimise(inst, options=OptimiserOptions(colgen_min_columns=0, time_limit=120))
    previous = optimise(
        inst, options=OptimiserOptions(colgen_min_columns=0, time_limit=120, colgen_under_time_limit=False)
    )
    unlimited = optimise(inst, options=OptimiserOptions(colgen_min_columns=0))
    assert limited.stats["subproblems_by_method"].get("colgen", 0) >= 1
    assert previous.stats["subproblems_by_method"].get("colgen", 0) == 0
    assert unlimited.stats["subproblems_by_method"].get("colgen", 0) >= 1
    assert limited.objective_yen == previous.objective_yen == unlimited.objective_yen


def test_the_run_says_where_the_time_goes():
    """Each method's steps summed over its sub-problems, and the biggest sub-problems' timelines with their
    steps: a column-generation component names its master LP, pricing and proof; the run's own phases include
    the enumeration of the small ones."""
    inst = region_instance(120, seed=7, geography={"type": "radius_km", "km": 90})
    plan = optimise(inst, options=OptimiserOptions(workers=1, colgen_min_columns=0))
    phases = plan.stats["solve_phases"]
    assert phases["colgen"]["count"] >= 1 and phases["colgen"]["master_lp"] > 0 and phases["colgen"]["pricing"] > 0
    assert phases["colgen"]["cpu"] > 0
    assert sum(int(m["count"]) for m in phases.values()) == plan.stats["subproblems"]
    components = plan.stats["components"]
    assert components and components[0]["needs"] == plan.stats["largest_subproblem_needs"]
    cg = [c for c in components if c["method"] == "colgen"]
    assert cg and all(0 <= c["start"] <= c["end"] <= plan.solve_seconds + 1 for c in cg)
    assert all("master_lp" in c["phases"] for c in cg)
    old = optimise(inst, options=OptimiserOptions(workers=1, column_generation=False, lp_shortcuts=False))
    assert old.stats["solve_phases"]["milp"]["lp"] > 0 and old.stats["solve_phases"]["milp"]["branch_and_bound"] > 0


def test_a_persistent_master_gets_the_seconds_it_is_given_on_every_run():
    """HiGHS measures time_limit against an instance's run time summed over its runs: colgen.run_for gives the
    next run its own seconds, so that a master that has already run longer than the time left still re-solves
    (before, the rounds of a time-limited component stopped at about half its budget)."""
    from planner.domain.highs import LinearModel, SparseMatrix, load_model

    rng = np.random.default_rng(0)
    n, m = 200, 150
    dense = np.zeros((m, n))
    for r in range(m):
        dense[r, rng.choice(n, 20, replace=False)] = rng.uniform(0, 1, 20)
    h = load_model(
        LinearModel.of(
            rng.uniform(-1, 1, n),
            np.zeros(n),
            np.full(n, 10.0),
            np.full(m, -np.inf),
            np.full(m, 50.0),
            SparseMatrix.from_dense(dense),
        ),
        {"time_limit": 1e9, "presolve": "off"},
    )
    import highspy

    while h.getRunTime() < 0.05:
        h.changeColsCost(n, np.arange(n, dtype=np.int32), rng.uniform(-1, 1, n))
        h.run()
    h.changeColsCost(n, np.arange(n, dtype=np.int32), rng.uniform(-1, 1, n))
    h.setOptionValue("time_limit", 0.01)  # what the rounds did: the seconds left, taken by HiGHS as a total
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kTimeLimit
    colgen.run_for(h, 30.0)
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
