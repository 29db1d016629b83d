"""Year-by-year statements: the statements' figures are the plan's per-member figures summed by fiscal year."""

from __future__ import annotations

import dataclasses

import pytest

from planner.domain import optimiser, settlement
from planner.domain.budget_lines import body_budgets, prefecture_budget
from planner.domain.settled import member_lines
from planner.domain.statements import body_statements, schedule_line
from tests.domain.factories import body, make_instance, need, reference_categories
from tests.reports.plans import settled_plan

BODIES = [
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture", population=2020000, fsi=0.5),
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=366000, fsi=0.62),
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=237000, fsi=0.65),
    body("204820", "小谷村", 36.7750, 137.9080, kind="village", population=2700, fsi=0.16, disadvantaged=True),
]
NEEDS = [
    need("n-nagano-ocr", "202011", "ocr", 400, can_lead=True),
    need("n-matsumoto-ocr", "202029", "ocr", 250),
    need("n-otari-ocr", "204820", "ocr", 5),
    need("n-nagano-rpa", "202011", "rpa", 30, start_year=2027, can_lead=True),
    need("n-otari-rpa", "204820", "rpa", 1, start_year=2027),
    need("n-matsumoto-rpa", "202029", "rpa", 8, start_year=2028),
]


@pytest.fixture
def planned():
    instance = make_instance(BODIES, NEEDS, categories=reference_categories("ocr", "rpa"), horizon=5)
    plan = settled_plan(
        instance,
        [
            ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr"]),
            ("rpa-2027-1", "lead", "202011", ["n-nagano-rpa", "n-otari-rpa"]),
        ],
    )
    return instance, plan


def expected_by_body_and_year(instance, plan):
    """Independently of the module: the plan's member lines, placed by the stated assumptions."""
    out: dict[tuple[str, int], list[int]] = {}
    for g in plan.groups:
        for ln in member_lines(instance, g):
            for i in range(instance.horizon_years):
                cell = out.setdefault((ln.body_code, g.start_year + i), [0, 0, 0, 0])
                cell[0] += ln.initial_yen if i == 0 else 0
                cell[1] += ln.annual_yen
                cell[2] += ln.grant_yen if i == 0 else 0
                cell[3] += ln.special_tax_yen if i == 0 else 0
    return out


def test_statements_equal_the_plan_member_figures_summed_by_year(planned):
    instance, plan = planned
    statements = body_statements(instance, plan)
    assert [s.body_code for s in statements] == ["202011", "202029", "204820"]  # the prefecture has no need
    expected = expected_by_body_and_year(instance, plan)
    for s in statements:
        for y in s.years:
            got = [y.initial_yen, y.annual_yen, y.grant_yen, y.special_tax_yen]
            assert got == expected.get((s.body_code, y.fiscal_year), [0, 0, 0, 0]), (s.body_name, y.fiscal_year)
        lines = [n.line for n in s.needs]
        assert s.total.gross_yen == sum(ln.total_yen for ln in lines)
        assert s.total.grant_yen == sum(ln.grant_yen for ln in lines)
        assert s.total.special_tax_yen == sum(ln.special_tax_yen for ln in lines)
        assert s.total.net_yen == sum(ln.net_yen for ln in lines)
    matsumoto = next(s for s in statements if s.body_code == "202029")
    # OCR from 2026 (5 years) and RPA alone from 2028 (5 years): 2026..2032, consecutive.
    assert matsumoto.fiscal_years == tuple(range(2026, 2033))
    assert matsumoto.amounts_in(2032).annual_yen > 0 and matsumoto.amounts_in(2026).initial_yen > 0


def test_prefecture_budget_counts_each_contract_once(planned):
    """歳出 of every body less the 負担金 passed between them is each group's cost once; the 一般財源 of all bodies
    is what all members pay (a host lead keeps none of it)."""
    instance, plan = planned
    table = prefecture_budget(body_budgets(instance, plan))
    assert table.fiscal_years == tuple(range(2026, 2033))
    costs = sum(g.cost.total_yen for g in plan.groups)
    assert table.total("expenditure") - table.total("revenue") == costs
    assert table.total("general_fund") == sum(ln.total_yen for g in plan.groups for ln in member_lines(instance, g))
    for fy in table.fiscal_years:
        due = sum(
            (g.cost.initial_yen if fy == g.start_year else 0) + g.cost.annual_yen
            for g in plan.groups
            if g.start_year <= fy < g.start_year + instance.horizon_years
        )
        assert table.total("expenditure", fy) - table.total("revenue", fy) == due, fy
    assert {g.lead_body for g in plan.groups if g.mode == "lead"} <= {b.body_code for b in table.leads}


def test_a_share_rounded_on_its_total_keeps_the_plan_total_in_the_last_year(planned):
    instance, plan = planned
    line = member_lines(instance, plan.groups[0])[0]
    share = dataclasses.replace(line.share, total_yen=line.share.total_yen + 3)
    years, drift = schedule_line(dataclasses.replace(line, share=share, subsidy=None), 2026, 5)
    assert drift == 3
    assert sum(y.gross_yen for y in years) == share.total_yen
    assert years[-1].annual_yen == line.annual_yen + 3


def test_statements_of_a_settled_optimiser_plan():
    """Real settlement (按分 and 見込額 by the domain), not hand-made figures."""
    instance = make_instance(BODIES, NEEDS, categories=reference_categories("ocr", "rpa"), horizon=3)
    plan = settlement.settle_plan(instance, optimiser.optimise(instance, time_limit=20))
    statements = body_statements(instance, plan)
    expected = expected_by_body_and_year(instance, plan)
    for s in statements:
        for y in s.years:
            assert [y.initial_yen, y.annual_yen, y.grant_yen, y.special_tax_yen] == expected.get(
                (s.body_code, y.fiscal_year), [0, 0, 0, 0]
            )
    assert sum(s.total.net_yen for s in statements) == sum(
        ln.net_yen for g in plan.groups for ln in member_lines(instance, g)
    )
    only = body_statements(instance, plan, ["204820"])
    assert [s.body_code for s in only] == ["204820"] and only[0].total == statements[-1].total
