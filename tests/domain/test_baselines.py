"""The three baselines: feasible plans, and never cheaper than the optimiser's optimum."""

from __future__ import annotations

import random

import pytest

from planner.domain.baselines import greedy_merging, prefecture_practice, standalone_plan
from planner.domain.costs import standalone_cost
from planner.domain.optimiser import Infeasible, optimise

from .factories import body, make_instance, need
from .test_optimiser_api import region_instance
from .test_optimiser_oracle import check_plan, random_instance

BASELINES = (standalone_plan, prefecture_practice, greedy_merging)


@pytest.mark.parametrize("seed", range(60))
def test_baselines_are_feasible_and_no_better_than_the_optimum(seed):
    inst = random_instance(random.Random(seed))
    try:
        best = optimise(inst)
    except Infeasible:
        return
    for baseline in BASELINES:
        plan = baseline(inst)
        check_plan(inst, plan)
        assert sum(g.cost.exact_total for g in plan.groups) >= sum(g.cost.exact_total for g in best.groups) - 1e-6


def test_standalone_baseline_is_everyone_alone():
    inst = region_instance(20)
    plan = standalone_plan(inst)
    assert all(g.mode == "standalone" and len(g.members) == 1 for g in plan.groups)
    assert plan.objective_yen == sum(standalone_cost(inst, n).total_yen for n in inst.needs)
    assert plan.objective_yen == plan.standalone_total_yen


def test_prefecture_practice_by_hand():
    bodies = [
        body("202011", "長野市", 36.6486, 138.1948, kind="city"),
        body("202029", "松本市", 36.2380, 137.9720, kind="city"),
        body("202037", "上田市", 36.4019, 138.2491, kind="city"),
        body("152021", "上越市", 37.1478, 138.2360, kind="city"),
        body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
    ]
    needs = [
        need("a", "202011", volume=100.0),
        need("b", "202029", volume=80.0),
        need("c", "202037", modes=["unified"]),
        need("d", "152021"),
        need("e", "202037", start_year=2027),
    ]
    inst = make_instance(bodies, needs, hosts=[{"body": "200000", "categories": ["ocr"]}])
    plan = prefecture_practice(inst)
    check_plan(inst, plan)
    joint = [g for g in plan.groups if g.mode != "standalone"]
    # Nagano leads a and b (both accept lead mode); c only accepts unified, d is in Niigata (no host), e is the
    # only need of its start year: all alone.
    assert [(g.mode, g.lead_body, g.members) for g in joint] == [("lead", "200000", ["a", "b"])]
    assert len(plan.groups) == 4


def test_prefecture_practice_splits_by_member_limit_and_apart():
    from .factories import reference_categories

    cats = reference_categories("ocr")
    cats[0]["lead"]["max_members"] = 3
    bodies = [body("200000", "長野県", 36.6513, 138.1810, kind="prefecture")]
    needs = []
    for k in range(7):
        code = f"20{k:03d}1"
        bodies.append(body(code, f"町{k}", 36.5 + k * 0.02, 138.1))
        needs.append(need(f"n{k}", code))
    inst = make_instance(
        bodies, needs, categories=cats, hosts=[{"body": "200000", "categories": ["ocr"]}], apart=[("n0", "n1")]
    )
    plan = prefecture_practice(inst)
    check_plan(inst, plan)
    lead_groups = [g.members for g in plan.groups if g.mode == "lead"]
    # Chunks fill in need order, the apart partner n1 opening a second chunk; the seventh need is left alone.
    assert lead_groups == [["n0", "n2", "n3"], ["n1", "n4", "n5"]]


def test_greedy_merging_saves_and_the_optimum_saves_at_least_as_much():
    inst = region_instance(50, seed=11)
    greedy = greedy_merging(inst)
    best = optimise(inst)
    check_plan(inst, greedy)
    assert greedy.objective_yen < standalone_plan(inst).objective_yen
    assert best.objective_yen <= greedy.objective_yen


def test_prefecture_practice_finds_the_prefecture_body_by_kind():
    # 北海道's own code carries a check digit (010006), so it cannot be derived from the prefecture code.
    bodies = [
        body("010006", "北海道", 43.0642, 141.3469, kind="prefecture"),
        body("011002", "札幌市", 43.0621, 141.3544, kind="designated_city"),
        body("012025", "函館市", 41.7687, 140.7288, kind="city"),
    ]
    inst = make_instance(
        bodies, [need("a", "011002"), need("b", "012025")], hosts=[{"body": "010006", "categories": ["ocr"]}]
    )
    plan = prefecture_practice(inst)
    check_plan(inst, plan)
    assert [(g.mode, g.lead_body) for g in plan.groups] == [("lead", "010006")]
