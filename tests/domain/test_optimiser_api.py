"""The optimiser's public behaviour: plan fields, ids, progress, cancellation, time limits, overrides, backends."""

from __future__ import annotations

import json
import random

import pytest

from planner.domain.costs import group_violations, standalone_cost
from planner.domain.optimiser import Cancelled, Infeasible, optimise
from planner.domain.plan import plan_from_dict

from .factories import body, make_instance, need, reference_categories
from .test_optimiser_oracle import BODY_POOL, check_plan


def region_instance(n_needs: int, seed: int = 3, **kwargs):
    """Many needs around Nagano and Niigata: big enough that sub-problems go to the MILP."""
    rng = random.Random(seed)
    bodies = [
        body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
        body("150002", "新潟県", 37.9022, 139.0236, kind="prefecture"),
    ]
    needs = []
    for k in range(n_needs):
        pref = rng.choice(["20", "15"])
        code = f"{pref}{k:03d}1"
        lat = (36.6 if pref == "20" else 37.6) + rng.uniform(-0.5, 0.5)
        lng = (138.2 if pref == "20" else 138.8) + rng.uniform(-0.5, 0.5)
        bodies.append(body(code, f"町{k}", lat, lng))
        needs.append(
            need(
                f"{code}-ocr",
                code,
                volume=round(rng.uniform(5, 300), 1),
                start_year=rng.choice([2026, 2027]),
                modes=rng.choice([["lead", "unified"], ["lead"]]),
                can_lead=rng.random() < 0.5,
            )
        )
    hosts = [{"body": "200000", "categories": ["ocr"]}, {"body": "150002", "categories": ["ocr"]}]
    return make_instance(bodies, needs, hosts=hosts, **kwargs)


def test_plan_fields_ids_and_explanations():
    inst = region_instance(40)
    plan = optimise(inst)
    check_plan(inst, plan)
    assert plan.status == "optimal" and plan.gap == 0.0
    assert plan.objective_yen < plan.standalone_total_yen
    assert plan.need_standalone_yen == {n.id: standalone_cost(inst, n).total_yen for n in inst.needs}
    assert plan.standalone_total_yen == sum(plan.need_standalone_yen.values())
    ids = [g.id for g in plan.groups]
    assert len(set(ids)) == len(ids)
    for g in plan.groups:
        assert g.id.startswith(f"{g.category}-{g.start_year}-") and len(g.id.rsplit("-", 1)[1]) == 3
        assert g.saving_yen == g.standalone_total_yen - g.cost.total_yen
    assert plan.stats["subproblems"] >= 2 and plan.stats["solver"] == "highs"
    assert set(plan.stats["phase_seconds"]) >= {"decompose", "solve", "assemble"}
    # Same input, same plan and ids (stable numbering).
    again = optimise(inst)
    assert [(g.id, g.members, g.lead_body) for g in again.groups] == [
        (g.id, g.members, g.lead_body) for g in plan.groups
    ]
    # The document round-trips through JSON.
    back = plan_from_dict(json.loads(json.dumps(plan.to_dict(), ensure_ascii=False)))
    assert back.objective_yen == plan.objective_yen and len(back.groups) == len(plan.groups)


def test_progress_reports_done_total_incumbent_and_bound():
    inst = region_instance(30)
    seen = []
    plan = optimise(inst, progress=seen.append)
    assert seen and set(seen[0]) == {"done", "total", "incumbent_yen", "bound_yen", "gap", "elapsed"}
    assert seen[-1]["done"] == seen[-1]["total"] == plan.stats["subproblems"]
    assert all(p["bound_yen"] <= p["incumbent_yen"] for p in seen)
    assert [p["done"] for p in seen] == sorted(p["done"] for p in seen)


def test_cancel_raises_cancelled():
    inst = region_instance(30)
    with pytest.raises(Cancelled):
        optimise(inst, cancel=lambda: True)
    calls = []

    def later():
        calls.append(1)
        return len(calls) > 2

    with pytest.raises(Cancelled):
        optimise(inst, cancel=later)


def test_tiny_time_limit_still_returns_a_feasible_plan_with_a_valid_bound():
    inst = region_instance(60, seed=5)
    exact = optimise(inst)
    limited = optimise(inst, time_limit=0.001)
    check_plan(inst, limited)
    assert limited.status in ("time_limit", "optimal")
    assert limited.lower_bound_yen <= exact.objective_yen <= limited.objective_yen
    if limited.status == "optimal":
        assert limited.objective_yen == exact.objective_yen


def test_gap_option_is_honoured():
    inst = region_instance(60, seed=6)
    plan = optimise(inst, gap=0.01)
    check_plan(inst, plan)
    assert plan.gap <= 0.01 + 1e-12


def test_backends_agree():
    inst = region_instance(24, seed=7)
    highs = optimise(inst, solver="highs")
    cbc = optimise(inst, solver="cbc")
    assert cbc.stats["solver"] == "cbc"
    assert abs(sum(g.cost.exact_total for g in highs.groups) - sum(g.cost.exact_total for g in cbc.groups)) < 1e-3
    with pytest.raises(ValueError):
        optimise(inst, solver="gurobi")


def test_parallel_and_inline_give_the_same_optimum():
    inst = region_instance(70, seed=8, geography={"type": "radius_km", "km": 80})
    parallel = optimise(inst, workers=2)
    inline = optimise(inst, workers=1)
    assert parallel.stats["workers"] == 2 and inline.stats["workers"] == 1
    assert parallel.objective_yen == inline.objective_yen
    check_plan(inst, parallel)


def test_overrides_in_a_big_instance():
    inst = region_instance(40, seed=9)
    ids = [n.id for n in inst.needs]
    same = [n for n in inst.needs if n.start_year == 2026 and n.body.startswith("20")]
    a, b, c = same[0].id, same[1].id, same[2].id
    inst2 = region_instance(
        40, seed=9, together=[(a, b)], apart=[(a, c)], fixed=[{"need": ids[-1], "mode": "standalone"}]
    )
    plan = optimise(inst2)
    check_plan(inst2, plan)
    group_of = {m: g for g in plan.groups for m in g.members}
    assert group_of[a] is group_of[b] and group_of[a] is not group_of[c]
    assert group_of[ids[-1]].mode == "standalone"
    assert plan.objective_yen >= optimise(inst).objective_yen


def test_unsatisfiable_overrides_raise_infeasible():
    bodies = BODY_POOL
    # Fixed to a lead body that cannot lead (not a member, not a host).
    inst = make_instance(
        bodies, [need("a", "202011"), need("b", "202029")], fixed=[{"need": "a", "lead_body": "202037"}]
    )
    with pytest.raises(Infeasible) as e:
        optimise(inst)
    assert "a" in str(e.value)
    # A together pair across prefectures under same_prefecture.
    inst = make_instance(
        bodies, [need("a", "202011", can_lead=True), need("b", "152021", can_lead=True)], together=[("a", "b")]
    )
    with pytest.raises(Infeasible):
        optimise(inst)


def test_host_may_lead_several_groups_when_members_are_capped():
    cats = reference_categories("ocr")
    cats[0]["lead"]["max_members"] = 2
    needs = [
        need(f"n{k}", code, volume=300.0, modes=["lead"])
        for k, code in enumerate(["202011", "202029", "202037", "203211"])
    ]
    inst = make_instance(
        BODY_POOL, needs, categories=cats, hosts=[{"body": "200000", "categories": ["ocr"]}], geography={"type": "any"}
    )
    plan = optimise(inst)
    check_plan(inst, plan)
    hosted = [g for g in plan.groups if g.lead_body == "200000"]
    assert len(hosted) == 2 and all(len(g.members) == 2 for g in hosted)
    for g in hosted:
        assert group_violations(inst, [inst.need(m) for m in g.members], "lead", "200000") == []
