"""settle_plan fills every group's allocation and subsidies, as planner solve and the web job use it."""

import copy
import dataclasses
import json

import pytest

from planner.domain.costs import group_cost, standalone_cost
from planner.domain.plan import Plan, PlanGroup
from planner.domain.settled_plan import settled_plan_from_dict
from planner.domain.settlement import settle_plan
from planner.domain.subsidies import SubsidyRulesError, default_rules

from .factories import body, make_instance, need

BODIES = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=370000),
    body("205834", "小川村", 36.6170, 137.9740, kind="village", population=2400, disadvantaged=True),
    body("205885", "飯綱町", 36.7550, 138.2560, population=10000, has_data_plan=False),
    body("203211", "佐久市", 36.2489, 138.4769, kind="city", population=98000),
]


def plan_and_instance(allocation=None):
    inst = make_instance(
        BODIES,
        [
            need("a", "202011", volume=20, can_lead=True),
            need("b", "205834", volume=20, serves_disadvantaged_area=True),
            need("c", "205885", volume=20),
            need("d", "203211", volume=20),
        ],
        allocation=allocation,
    )
    members = [inst.need(i) for i in "abc"]
    joint = group_cost(inst, members, "lead", "202011")
    alone_d = standalone_cost(inst, inst.need("d"))
    groups = [
        PlanGroup(
            "g1",
            "ocr",
            2026,
            "lead",
            "202011",
            list("abc"),
            joint,
            sum(standalone_cost(inst, m).total_yen for m in members),
        ),
        PlanGroup("g2", "ocr", 2026, "standalone", "203211", ["d"], alone_d, alone_d.total_yen),
    ]
    objective = joint.total_yen + alone_d.total_yen
    plan = Plan(
        "test",
        "optimal",
        objective,
        objective,
        0.0,
        sum(g.standalone_total_yen for g in groups),
        0.1,
        groups,
        {n.id: standalone_cost(inst, n).total_yen for n in inst.needs},
    )
    return inst, plan


def test_every_group_gets_an_allocation_and_subsidies():
    inst, plan = plan_and_instance({"method": "formula", "weights": {"equal": 0.1, "population": 0.9}})
    before = copy.deepcopy(plan.to_dict())
    settled = settle_plan(inst, plan)
    assert plan.to_dict() == before  # the input plan is not changed
    assert settled.stats["rule_version"] == default_rules()["version"]
    for g in settled.groups:
        shares = g.allocation.shares
        assert [s.need_id for s in shares] == list(g.members) and set(g.subsidies) == set(g.members)
        assert sum(s.total_yen for s in shares) == g.cost.total_yen
        assert sum(s.initial_yen for s in shares) == g.cost.initial_yen
        for share in shares:
            sub = g.subsidies[share.need_id]
            assert sub.net_yen == share.total_yen - sub.grant_yen - sub.special_tax_yen
            assert sub.joint.gross.total_yen == share.total_yen
    g1 = settled.groups[0]
    assert g1.allocation.method_label == "均等割10%・人口割90%"
    # the grant follows the lead (長野市, with its data plan): 飯綱町 without one still gets its share
    assert g1.subsidies["c"].grant_yen > 0 and g1.subsidies["c"].joint.grant.implementer_body == "202011"
    assert sum(g1.subsidies[n].grant_yen for n in "abc") == g1.cost.initial_yen // 2
    assert g1.subsidies["b"].special_tax_measure == "条件不利地域における先端的な情報通信技術の導入"
    d = settled.groups[1].subsidies["d"]
    assert d.net_saving_yen == 0 and d.standalone_net_yen == d.net_yen


def test_method_argument_overrides_the_instance_and_survives_the_plan_file():
    inst, plan = plan_and_instance()
    settled = settle_plan(inst, plan, method="shapley")
    g1 = settled.groups[0]
    assert g1.allocation.method == "shapley"
    assert g1.allocation.individually_rational and g1.allocation.in_core
    back = settled_plan_from_dict(json.loads(json.dumps(settled.to_dict(), ensure_ascii=False)))
    assert back.groups[0].allocation == g1.allocation and back.groups[0].subsidies == g1.subsidies


def test_invalid_rules_are_refused_before_anything_is_written():
    inst, plan = plan_and_instance()
    rules = copy.deepcopy(default_rules())
    rules["grant"]["rate"]["value"] = 5
    before = copy.deepcopy(plan.to_dict())
    with pytest.raises(SubsidyRulesError, match=r"grant.rate.value"):
        settle_plan(inst, plan, rules=rules)
    assert plan.to_dict() == before


def test_nagano_bench_settles_with_the_real_optimiser():
    from tests.conftest import shared_path

    path = shared_path("bench", "nagano.json")
    from planner.domain import optimiser
    from planner.domain.instance_io import load_instance

    inst = load_instance(path)
    plan = optimiser.optimise(inst)
    settled = settle_plan(inst, plan, method="nucleolus")
    assert settled.stats["rule_version"] == "R2-budget-2"
    for g in settled.groups:
        assert sum(s.total_yen for s in g.allocation.shares) == g.cost.total_yen
        assert set(g.subsidies) == set(g.members)
        if g.allocation.exhaustive_check and g.saving_yen >= 0:
            # the nucleolus of a group that saves is an imputation: nobody pays more than alone
            assert g.allocation.individually_rational, g.allocation.proof.violations


def test_progress_is_reported_before_the_first_group_and_after_each():
    inst, plan = plan_and_instance({"method": "formula", "weights": {"equal": 0.1, "population": 0.9}})
    calls = []
    settle_plan(inst, plan, progress=lambda done, total: calls.append((done, total)))
    assert calls == [(0, 2), (1, 2), (2, 2)]


def test_who_may_lead_for_the_grant_is_the_rule_sets_own_terms():
    """lead_must_be_grant_eligible reads the kinds the rule set's grant excludes (rule data), not a constant: under
    a year's terms that excluded prefectures only, a designated city could lead a grant-eligible group."""

    from planner.domain.costs import lead_allowed
    from planner.domain.settlement import with_grant_lead_rules
    from planner.domain.subsidy_rules import as_rule_set, default_rules

    inst, _ = plan_and_instance()
    inst = dataclasses.replace(inst, allocation=dataclasses.replace(inst.allocation, lead_must_be_grant_eligible=True))
    city = next(code for code, b in inst.bodies.items() if b.kind == "city")
    inst = dataclasses.replace(
        inst, bodies={**inst.bodies, city: dataclasses.replace(inst.bodies[city], kind="designated_city")}
    )
    r2 = as_rule_set(default_rules())
    assert r2.grant.ineligible_kinds == frozenset({"prefecture", "designated_city"})
    assert not lead_allowed(with_grant_lead_rules(inst, r2), city, "lead")
    doc = copy.deepcopy(default_rules())
    doc["grant"]["ineligible_kinds"]["value"] = ["prefecture"]
    other = as_rule_set(doc)
    applied = with_grant_lead_rules(inst, other)
    assert applied.allocation.lead_ineligible_kinds == frozenset({"prefecture"})
    assert lead_allowed(applied, city, "lead")
