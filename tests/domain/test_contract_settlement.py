"""確定負担額, the year-end 精算 and the grant pass-through, checked against hand computations."""

from __future__ import annotations

import dataclasses
from datetime import date

import pytest

from planner.domain import optimiser, settlement
from planner.domain.contract_settlement import (
    ContractError,
    ContractResult,
    Withdrawal,
    confirm_shares,
    contract_warnings,
    estimated_by_year,
    grant_pass_through,
    lead_work_by_year,
    settle_year,
)
from tests.domain.factories import body, make_instance, need, reference_categories
from tests.reports.plans import settled_plan

BODIES = [
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=237000, fsi=0.65),
    body("202151", "塩尻市", 36.1150, 137.9530, kind="city", population=66000, fsi=0.6),
    body("204510", "山形村", 36.1680, 137.8800, kind="village", population=8500, fsi=0.35),
    body("204820", "小谷村", 36.7750, 137.9080, kind="village", population=2700, fsi=0.16, disadvantaged=True),
]
NEEDS = [
    need("n-matsumoto", "202029", "rpa", 30, start_year=2027, can_lead=True),
    need("n-shiojiri", "202151", "rpa", 10, start_year=2027),
    need("n-yamagata", "204510", "rpa", 2, start_year=2027),
    need("n-otari", "204820", "rpa", 1, start_year=2027),
]
MEMBERS = [n["id"] for n in NEEDS]
YEARS = list(range(2027, 2032))


def equal_split_by_hand(amount: int, n: int, lead_index: int = 0) -> list[int]:
    """均等割 with 第4条2's rounding, written out: floor, then one yen each to the lead first, then in order."""
    base, rest = divmod(amount, n)
    order = [lead_index] + [i for i in range(n) if i != lead_index]
    return [base + (1 if i in order[:rest] else 0) for i in range(n)]


@pytest.fixture
def equal_group():
    instance = make_instance(BODIES, NEEDS, categories=reference_categories("rpa"), horizon=5)
    plan = settled_plan(instance, [("rpa-2027-1", "lead", "202029", MEMBERS)])
    return instance, plan.groups[0]


def contract(amounts):
    return ContractResult("株式会社テスト", date(2027, 4, 1), dict(zip(YEARS, amounts, strict=True)))


def test_confirmed_shares_split_each_year_by_the_agreed_formula(equal_group):
    instance, group = equal_group
    amounts = [10_000_003, 4_000_001, 4_000_002, 4_000_000, 3_999_999]
    confirmed = confirm_shares(instance, group, contract(amounts))
    assert confirmed.fiscal_years == tuple(YEARS)
    for k, fy in enumerate(YEARS):
        expected = equal_split_by_hand(amounts[k], len(MEMBERS))
        assert [s.in_year(fy).confirmed_yen for s in confirmed.shares] == expected
    assert confirmed.confirmed_total_yen == sum(amounts)
    assert "均等割100%の割合" in confirmed.basis


def test_contract_at_the_plans_price_confirms_the_estimates(equal_group):
    """Where the contract costs what the plan priced, 確定 equals 見込: the same rule on the same amounts. The start
    year differs by at most one yen per member (見込 rounds initial and annual separately, 確定 the year's sum)."""
    instance, group = equal_group
    work = lead_work_by_year(instance, group)
    amounts = [
        group.cost.initial_yen + group.cost.annual_yen - work[2027],
        *[group.cost.annual_yen - work[fy] for fy in YEARS[1:]],
    ]
    confirmed = confirm_shares(instance, group, contract(amounts))
    for share in confirmed.shares:
        assert abs(share.in_year(2027).difference_yen) <= 1
        assert all(share.in_year(fy).difference_yen == 0 for fy in YEARS[1:])
    assert confirmed.confirmed_total_yen == confirmed.estimated_total_yen


def test_a_rule_other_than_a_formula_follows_the_members_estimates_of_the_year(equal_group):
    instance, group = equal_group
    shapley = dataclasses.replace(group, allocation=dataclasses.replace(group.allocation, method="shapley"))
    estimated = estimated_by_year(instance, shapley)
    year_total = sum(estimated[nid][2028] for nid in MEMBERS)
    confirmed = confirm_shares(instance, shapley, contract([9_000_000, 2 * year_total, 0, 0, 0]))
    # twice the year's estimate: every member pays exactly twice its own 見込 of that year
    assert [s.in_year(2028).confirmed_yen for s in confirmed.shares] == [2 * estimated[nid][2028] for nid in MEMBERS]
    assert "別表の各年度の見込額の比" in confirmed.basis


def test_withdrawal_splits_later_years_among_those_left_and_charges_the_leaver(equal_group):
    instance, group = equal_group
    amounts = [8_000_000, 4_000_000, 4_000_000, 4_000_000, 4_000_000]
    leave = Withdrawal("n-otari", last_fiscal_year=2028, termination_cost_yen=150_000)
    confirmed = confirm_shares(instance, group, contract(amounts), [leave])
    otari = confirmed.share("n-otari")
    assert [otari.in_year(fy).confirmed_yen for fy in YEARS] == [2_000_000, 1_000_000, 0, 0, 0]
    assert otari.termination_cost_yen == 150_000
    for fy in YEARS[2:]:
        assert [confirmed.share(nid).in_year(fy).confirmed_yen for nid in MEMBERS[:3]] == equal_split_by_hand(
            4_000_000, 3
        )
    assert confirmed.confirmed_total_yen == sum(amounts) + 150_000


def test_year_end_settlement_returns_or_charges_the_difference(equal_group):
    instance, group = equal_group
    amounts = [8_000_000, 4_000_000, 4_000_000, 4_000_000, 4_000_000]
    confirmed = confirm_shares(instance, group, contract(amounts))
    billed = {s.need_id: s.in_year(2028).confirmed_yen for s in confirmed.shares}
    result = settle_year(instance, group, 2028, 3_600_000, billed)
    assert result.actual_cost_yen == 3_600_000
    assert [line.difference_yen for line in result.lines] == [-100_000] * 4
    assert result.difference_total_yen == 3_600_000 - 4_000_000


def test_grant_passes_through_by_initial_shares_and_reduces_what_is_owed(equal_group):
    instance, group = equal_group
    passed = grant_pass_through(instance, group, 1_000_001)
    initial = [group.allocation.share(nid).initial_yen for nid in MEMBERS]
    assert sum(passed.values()) == 1_000_001
    # equal initial shares (均等割): the odd yen goes to the lead
    assert initial == equal_split_by_hand(sum(initial), 4)
    assert list(passed.values()) == equal_split_by_hand(1_000_001, 4)
    billed = dict.fromkeys(MEMBERS, 2_000_000)
    result = settle_year(instance, group, 2027, 8_000_000, billed, grant_passed_yen=passed)
    assert result.difference_total_yen == 8_000_000 - 8_000_000 - 1_000_001


def test_a_population_formula_from_real_settlement_is_applied_to_the_contract():
    instance = make_instance(
        BODIES,
        NEEDS,
        categories=reference_categories("rpa"),
        horizon=5,
        allocation={"method": "formula", "weights": {"equal": 0.2, "population": 0.8}, "core": "report"},
    )
    plan = settlement.settle_plan(instance, optimiser.optimise(instance, time_limit=20))
    group = next(g for g in plan.groups if g.mode == "lead" and len(g.members) > 1)
    amounts = dict.fromkeys(range(group.start_year, group.start_year + 5), 5_000_000)
    confirmed = confirm_shares(instance, group, ContractResult("事業者", date(2027, 5, 1), amounts))
    population = {nid: instance.bodies[instance.need(nid).body].population for nid in group.members}
    total_pop = sum(population.values())
    work = lead_work_by_year(instance, group)
    for fy, amount in amounts.items():
        cost = amount + work[fy]
        for nid in group.members:
            exact = cost * (0.2 / len(group.members) + 0.8 * population[nid] / total_pop)
            assert abs(confirmed.share(nid).in_year(fy).confirmed_yen - exact) < 1
        assert sum(confirmed.share(nid).in_year(fy).confirmed_yen for nid in group.members) == cost


@pytest.mark.parametrize(
    ("amounts", "message"),
    [
        ({2027: 1, 2028: 1, 2029: 1, 2030: 1}, "2031年度の契約金額がありません"),
        ({**dict.fromkeys(YEARS, 1), 2032: 5}, "2032 はグループの期間"),
        ({**dict.fromkeys(YEARS, 1), 2029: -5}, "2029年度の契約金額 -5"),
        ({**dict.fromkeys(YEARS, 1), 2029: 1.5}, "2029年度の契約金額 1.5"),
    ],
)
def test_a_contract_that_does_not_fit_the_group_is_refused_with_the_year_named(equal_group, amounts, message):
    instance, group = equal_group
    with pytest.raises(ContractError, match=message):
        confirm_shares(instance, group, ContractResult("事業者", date(2027, 4, 1), amounts))


def test_unified_groups_have_no_shared_contract():
    instance = make_instance(BODIES, NEEDS, categories=reference_categories("rpa"), horizon=5)
    group = settled_plan(instance, [("rpa-2027-1", "unified", "202029", MEMBERS)]).groups[0]
    with pytest.raises(ContractError, match="幹事団体方式の共同調達ではありません"):
        confirm_shares(instance, group, contract([1, 1, 1, 1, 1]))


def test_a_contract_before_the_grant_decision_is_warned():
    assert contract_warnings(date(2027, 4, 1), date(2027, 6, 1), grant_applied=True)[0].startswith(
        "契約日 2027-04-01 が交付決定日 2027-06-01 より前です"
    )
    assert "交付決定がありません" in contract_warnings(date(2027, 4, 1), None, grant_applied=True)[0]
    assert contract_warnings(date(2027, 7, 1), date(2027, 6, 1), grant_applied=True) == []
    assert contract_warnings(date(2027, 4, 1), None, grant_applied=False) == []
