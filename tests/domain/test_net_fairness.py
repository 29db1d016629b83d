"""Net fairness (実質負担), the formula rule and the relative core adjustment (cost-model.md)."""

from __future__ import annotations

import math
from fractions import Fraction
from functools import cache

import numpy as np
import pytest

from planner.domain.allocation import allocate, split_cost
from planner.domain.cost_game import TableGame
from planner.domain.costs import GroupCost, group_cost, standalone_cost
from planner.domain.formula_rule import grid
from planner.domain.net_fairness import net_limits
from planner.domain.separation import GroupOracle
from planner.domain.settlement import settle_plan
from planner.domain.subsidies import default_rule_set
from tests.support.rule_check import formula_groups_recomputed

from .factories import body, make_instance, need, reference_categories

M = 1_000_000
RULES = default_rule_set()


def chatbot_instance():
    bodies = [
        body("204820", "小谷村", 36.7767, 137.9086, kind="village", disadvantaged=True, population=2800),
        body("204412", "木曽町", 35.8425, 137.6917, disadvantaged=True, population=10000),
        body("202177", "佐久市", 36.2489, 138.4769, kind="city", population=98000),
    ]
    needs = [
        need("v", "204820", category="chatbot", serves_disadvantaged_area=True, can_lead=True),
        need("k", "204412", category="chatbot", serves_disadvantaged_area=True),
        need("s", "202177", category="chatbot"),
    ]
    return make_instance(bodies, needs, categories=reference_categories("chatbot"))


def _independent_net(x: int, cost: GroupCost, rate: Fraction, cap: int) -> int:
    """Net burden without the grant, by hand: the initial part in the group's proportion, the tax on it (capped
    project cost, rate, rounded down)."""
    initial = x * cost.initial_yen // cost.total_yen
    return x - math.floor(min(initial, cap) * rate)


def test_each_bound_is_the_last_yen_at_which_the_net_burden_stays_at_most_alone():
    inst = chatbot_instance()
    ids = ["v", "k", "s"]
    needs = [inst.need(i) for i in ids]
    cost = group_cost(inst, needs, "lead", "204820")
    limits = net_limits(inst, ids, "lead", cost, RULES)
    half, cap = Fraction(1, 2), 40 * M  # measure (a): 1/2 (財政力補正 not set: 1.0), project cost capped at 40M
    for k, nid in enumerate(ids):
        alone = standalone_cost(inst, inst.need(nid))
        if nid == "s":  # the city has no 条件不利地域: no measure, the bound is its standalone total
            assert limits.standalone_net[k] == alone.total_yen
            assert limits.bounds[k] == min(cost.total_yen, alone.total_yen)
            continue
        alone_net = alone.total_yen - math.floor(min(alone.initial_yen, cap) * half)
        assert limits.standalone_net[k] == alone_net
        b = limits.bounds[k]
        assert _independent_net(b, cost, half, cap) <= alone_net
        if b < cost.total_yen:
            assert _independent_net(b + 1, cost, half, cap) > alone_net


def _nagano_plan():
    from planner.domain import optimiser
    from planner.domain.instance_io import load_instance
    from tests.conftest import shared_path

    inst = load_instance(shared_path("bench", "nagano.json"))
    return inst, optimiser.optimise(inst)


@cache
def _nagano_settled(core: str):
    inst, plan = _nagano_plan()
    return inst, settle_plan(inst, plan, method="formula", weights={"equal": 0.1, "population": 0.9}, core=core)


@pytest.mark.parametrize("core", ["report", "adjust", "rule"])
def test_no_member_pays_more_net_than_alone_without_the_grant_in_any_core_option(core):
    _, plan = _nagano_settled(core)
    for g in plan.groups:
        for nid, est in g.subsidies.items():
            assert est.net_without_grant_yen <= est.standalone_net_without_grant_yen, (g.id, nid)
            # the recorded figures are the estimator's own (special tax on the whole initial share)
            share = g.allocation.share(nid)
            assert est.net_without_grant_yen == share.total_yen - est.special_tax_without_grant_yen
            assert est.worse_off_if_grant_awarded_yen == max(0, est.net_yen - est.standalone_net_yen)


def test_the_rule_default_states_weights_whose_shares_are_recomputed_by_hand():
    inst, plan = _nagano_settled("rule")
    for g in plan.groups:
        if len(g.members) >= 2 and isinstance(g.allocation.rule, dict):
            assert dict(g.allocation.weights) == pytest.approx(g.allocation.rule)
    checked, adjusted = formula_groups_recomputed(inst, plan)
    assert len(adjusted) <= 3 and checked > 0


@cache
def _hokkaido_settled():
    """The second bench with its own allocation flags (formula 10/90) and the rule as the new default."""
    from planner.domain import optimiser
    from planner.domain.instance_io import load_instance
    from tests.conftest import shared_path

    inst = load_instance(shared_path("bench", "hokkaido.json"))
    allocation = inst.allocation
    plan = settle_plan(
        inst, optimiser.optimise(inst), method=allocation.method, weights=dict(allocation.weights), core="rule"
    )
    return inst, plan


def test_on_hokkaido_every_group_stating_weights_follows_them_recomputed_by_hand():
    inst, plan = _hokkaido_settled()
    checked, adjusted = formula_groups_recomputed(inst, plan)
    assert checked + len(adjusted) == sum(1 for g in plan.groups if len(g.members) >= 2) and checked >= 25
    for g in plan.groups:  # and the guarantee holds there too: no member pays more net than alone without the grant
        for nid, est in g.subsidies.items():
            assert est.net_without_grant_yen <= est.standalone_net_without_grant_yen, (g.id, nid)


@pytest.mark.xfail(
    strict=True,
    reason="#26 done-when not met on hokkaido: 9 of 39 joint groups (chatbot, speech, ocr, genai, rpa; 7 to 34 "
    "members, cores not empty) have no weights on the 1% grid whose shares are in the core and net-fair, so they are "
    "adjusted member by member (uniform increases of 41-212%)",
)
def test_on_hokkaido_at_most_a_few_groups_are_adjusted_member_by_member():
    _, plan = _hokkaido_settled()
    adjusted = [g.id for g in plan.groups if len(g.members) >= 2 and g.allocation.rule == "adjusted"]
    assert len(adjusted) <= 3, adjusted


def test_the_rule_is_the_nearest_grid_point_that_passes():
    """Every 5-point grid point nearer to the chosen 10/90 than the rule found fails a proved check."""
    inst, plan = _nagano_settled("rule")
    moved = [g for g in plan.groups if isinstance(g.allocation.rule, dict) and len(g.members) >= 2]
    g = min(
        (g for g in moved if g.allocation.rule != {"equal": 0.1, "population": 0.9, "volume": 0.0}),
        key=lambda g: len(g.members),
    )
    start = np.array([0.1, 0.9, 0.0])
    found = np.array([g.allocation.rule[p] for p in ("equal", "population", "volume")])
    distance = np.abs(found - start).sum()
    oracle = GroupOracle(inst, g.members)
    lead = next((k for k, m in enumerate(g.members) if inst.need(m).body == g.lead_body), None)
    from planner.domain.allocation import formula_ratios

    for pt in grid(5):
        w = np.array(pt) / 100
        if np.abs(w - start).sum() >= distance - 1e-9:
            continue
        weights = dict(zip(("equal", "population", "volume"), w.tolist(), strict=True))
        shares, _ = split_cost(formula_ratios(inst, g.members, weights), g.cost, inst.horizon_years, lead)
        totals = [s["total_yen"] for s in shares]
        assert oracle.min_excess(totals).excess < -1e-6 or any(
            t > s for t, s in zip(totals, oracle.standalone, strict=True)
        ), pt


def test_relative_least_squares_moves_untouched_members_by_one_percentage():
    bodies = [
        body(f"20{k + 1:03d}0", f"町{k}", 36.2 + 0.01 * k, 138.0, population=p) for k, p in enumerate([8, 8, 10, 4])
    ]
    needs = [need(c, b["code"], can_lead=(k == 0)) for k, (c, b) in enumerate(zip("abcd", bodies, strict=True))]
    inst = make_instance(bodies, needs)
    singles = {"a": 10, "b": 10, "c": 15, "d": 10}
    costs = {}
    for mask in range(1, 16):
        members = frozenset(p for k, p in enumerate("abcd") if mask >> k & 1)
        costs[members] = sum(singles[p] for p in members) * M
    costs[frozenset("ab")] = 12 * M
    costs[frozenset("abcd")] = 30 * M
    game = TableGame.from_dict(list("abcd"), costs)
    cost = GroupCost(0, 6 * M, 30 * M, 30.0 * M)
    rec = allocate(
        inst, list("abcd"), cost, lead_body=inst.need("a").body, method="population", core="adjust", game=game
    )
    totals = [rec.share(p).total_yen for p in "abcd"]
    # a and b are cut to the pair's cost; c and d share the rest in proportion to what the method gave them
    assert totals == pytest.approx([6 * M, 6 * M, 18 * M * 10 / 14, 18 * M * 4 / 14], abs=8)
    assert rec.adjustment_summary.startswith("調整の対象でない団体は、按分方法どおりの額から一律 28.6% 増。")
    assert "町0・町1 の組" in rec.adjustment_summary
    assert rec.rule == "adjusted"
    # the agreement's 算定方法 says the 別表 amounts are adjusted, with the same sentence
    from planner.reports.wording import method_formula

    text = method_formula("population", rec, inst)
    assert "別表の額はこの方法による額を団体ごとに調整した額とする" in text and rec.adjustment_summary in text


# --- 幹事は補助対象団体に限る and 幹事事務費 ------------------------------------------------------------------------


def _prefecture_hosted(**allocation):
    from planner.domain.instance_io import parse_instance

    from .factories import instance_doc

    bodies = [
        body("200000", "長野県", 36.6513, 138.1810, kind="prefecture", population=2_000_000),
        body("204820", "小谷村", 36.7767, 137.9086, kind="village", population=2800),
        body("204412", "木曽町", 35.8425, 137.6917, population=10000),
        body("202177", "佐久市", 36.2489, 138.4769, kind="city", population=98000),
    ]
    needs = [
        need("v", "204820", modes=("lead",)),
        need("k", "204412", modes=("lead",)),
        need("s", "202177", can_lead=True),
    ]
    doc = instance_doc(
        bodies,
        needs,
        hosts=[{"body": "200000", "categories": ["ocr"]}],
        geography={"type": "any"},
        allocation={"method": "equal", "weights": {}, **allocation},
    )
    return parse_instance(doc)


def test_lead_must_be_grant_eligible_is_one_feasibility_rule_the_optimiser_game_and_oracle_share():
    from planner.domain import optimiser
    from planner.domain.cost_game import exact_values
    from planner.domain.costs import group_violations

    free, ruled = _prefecture_hosted(), _prefecture_hosted(lead_must_be_grant_eligible=True)
    needs = list(ruled.needs)
    assert not group_violations(free, needs, "lead", "200000")
    assert any("eligible" in p for p in group_violations(ruled, needs, "lead", "200000"))
    assert not group_violations(ruled, needs, "lead", "202177")  # a city may lead
    for plan in (optimiser.optimise(ruled),):
        assert all(not (g.mode == "lead" and ruled.bodies[g.lead_body].kind == "prefecture") for g in plan.groups)
    # the cost game and the separation oracle price every coalition without the prefecture as lead
    values, _ = exact_values(ruled, needs)
    oracle = GroupOracle(ruled, [n.id for n in needs])
    for mask in range(1, 8):
        members = [needs[i] for i in range(3) if mask >> i & 1]
        if len(members) < 2:
            continue
        cost, _, lead = oracle.cost(mask)
        if math.isfinite(cost):
            assert lead != "200000" and cost >= values[mask] - 1e-6


def test_lead_work_is_a_fixed_yearly_cost_of_every_joint_group_and_written_once():
    from planner.domain.instance_io import instance_to_dict, parse_instance

    plain = _prefecture_hosted()
    paid = _prefecture_hosted(lead_work_annual_yen={"lead": 300_000, "unified": 100_000})
    needs = list(paid.needs)
    for mode, lead, work in (("lead", "202177", 300_000), ("unified", "202177", 0)):
        group = [n for n in needs if mode in n.modes] if mode == "unified" else needs
        if len(group) < 2:
            continue
        before = group_cost(plain, group, mode, lead)
        after = group_cost(paid, group, mode, lead)
        assert after.annual_yen - before.annual_yen == work
        assert after.total_yen - before.total_yen == plain.horizon_years * work
    assert standalone_cost(paid, needs[0]) == standalone_cost(plain, needs[0])  # alone there is no 幹事
    again = parse_instance(instance_to_dict(paid))
    assert again.categories == paid.categories and dict(again.allocation.lead_work_annual_yen) == {
        "lead": 300_000,
        "unified": 100_000,
    }


def test_every_member_worse_off_if_the_grant_is_awarded_is_named_with_the_amount():
    from planner.domain.settled import member_lines

    inst, plan = _nagano_settled("rule")
    named = 0
    for g in plan.groups:
        for line in member_lines(inst, g):
            worse = line.worse_off_if_grant_awarded_yen
            assert (line.grant_warning is not None) == (worse > 0)
            if worse:
                named += 1
                assert line.body_name in line.grant_warning and f"{worse:,}円" in line.grant_warning
                alt = g.eligible_lead_alternative
                if alt is not None:
                    lead = inst.bodies[alt["lead_body"]].name
                    assert lead in line.grant_warning and f"{alt['extra_cost_yen']:,}円" in line.grant_warning
    assert named > 0


def test_the_rule_sets_year_is_said_beside_a_plan_year_it_does_not_describe():
    _, plan = _nagano_settled("rule")
    g = plan.groups[0]
    est = g.subsidies[g.members[0]]
    assert f"令和2年度の制度条件による見込みです。令和{g.start_year - 2018}年度の制度は未確認です。" in est.notes
