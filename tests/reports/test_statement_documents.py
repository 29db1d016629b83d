"""The statement documents: each body's 年度別負担額 (PDF and workbook) and the 年度別予算総括表 print the figures of
planner.domain.statements, which are the plan's member lines summed by year; the workbooks' formulas recompute them."""

import pytest

from planner.domain.settled import member_lines
from planner.domain.statements import body_statements
from planner.reports import budget_statements, statements
from planner.reports.context import ReportError, ReportMeta
from planner.reports.control import Issuer, draft_control

from .fixtures import nagano_instance, nagano_plan
from .helpers import Workbook, pdf_text


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def test_statement_pdf_prints_every_year_and_the_assumptions(setting):
    instance, plan = setting
    s = next(x for x in body_statements(instance, plan) if x.body_code == "204820")  # 小谷村: OCR and RPA
    text = pdf_text(statements.statement_pdf(instance, plan, "204820"))
    assert "小谷村長様" in text and "年度別負担額" in text
    for y in s.years:
        label = f"令和{y.fiscal_year - 2018}年度（{y.fiscal_year}年度）"
        assert (
            label
            + yen(y.initial_yen)
            + yen(y.annual_yen)
            + yen(y.gross_yen)
            + yen(y.special_tax_without_grant_yen)
            + yen(y.net_without_grant_yen)
            + yen(y.grant_yen)
            + yen(y.net_yen)
        ) in text, label
    t = s.total
    assert "合計" + yen(t.initial_yen) + yen(t.annual_yen) + yen(t.gross_yen) in text
    # 債務負担行為: one 事項 a group (小谷村's OCR contract and RPA 負担金), each its own later years, never pooled
    assert yen(sum(y.gross_yen for y in s.years[1:])) not in text
    for n in s.needs:
        limit = sum(y.gross_yen for y in n.years if y.fiscal_year > n.start_year)
        assert n.group_id + "）令和8年度令和9年度〜令和12年度" + yen(limit) in text, n.group_id
    assert "導入年度に見込んでいます" in text and "算定期間の各年度に計上" in text
    assert "案" in text and "政府標準利用規約" in text  # a draft's watermark and the data source


def test_statement_workbook_recomputes_the_plan_figures(setting):
    instance, plan = setting
    lines = [ln for g in plan.groups for ln in member_lines(instance, g) if ln.body_code == "204820"]
    wb = Workbook(statements.statement_workbook(instance, plan, "204820"))
    sheet = wb.wb.sheetnames[0]
    total = wb.find(sheet, "合計")
    assert wb.value(sheet, f"E{total}") == sum(ln.total_yen for ln in lines)
    assert wb.value(sheet, f"F{total}") == sum(ln.special_tax_without_grant_yen for ln in lines)
    assert wb.value(sheet, f"G{total}") == sum(ln.net_without_grant_yen for ln in lines)  # the headline
    assert wb.value(sheet, f"H{total}") == sum(ln.grant_yen for ln in lines)
    assert wb.value(sheet, f"J{total}") == sum(ln.net_yen for ln in lines)  # 採択された場合
    for label in ("負担額", "特別交付税", "実質負担", "補助金（採択された場合）", "実質負担（採択された場合）"):
        assert wb.value(sheet, f"B{wb.find(sheet, label)}") is True, label
    ws = wb.wb[sheet]
    assert int(ws.page_setup.paperSize) == 9 and ws.print_area


def test_budget_workbook_totals_agree_with_the_plan(setting):
    instance, plan = setting
    wb = Workbook(budget_statements.budget_workbook(instance, plan))
    assert wb.wb.sheetnames[:3] == ["歳出", "歳入（分担金及び負担金）", "財源内訳"]
    n = instance.horizon_years
    total_col = chr(ord("C") + n)
    rows = [r for r in wb.wb["歳出"].iter_rows(min_col=2, max_col=2) if r[0].value == "純計（団体間の負担金を除く）"]
    net = rows[0][0].row
    assert wb.value("歳出", f"{total_col}{net}") == sum(g.cost.total_yen for g in plan.groups)
    leads = [r[0].value for r in wb.wb["歳入（分担金及び負担金）"].iter_rows(min_col=2, max_col=2)]
    assert "長野県" in leads  # the host prefecture leads the RPA group and has its row
    check = wb.find("財源内訳", "合計")
    members = sum(ln.total_yen for g in plan.groups for ln in member_lines(instance, g))
    assert wb.value("財源内訳", f"F{check}") == members  # 一般財源 of all bodies: what the members pay
    assert len(wb.wb.sheetnames) == 3 + len(budget_statements.budget_bodies(instance, plan))


def test_budget_pdf_and_document_control(setting):
    instance, plan = setting
    control = draft_control("7", Issuer("長野県 企画振興部 DX推進課", "担当 信州太郎", "026-000-0000", "長DX"))
    text = pdf_text(budget_statements.budget_pdf(instance, plan, ReportMeta(control=control)))
    assert "年度別予算総括表" in text and "長DX試算7-予" in text and "長野県企画振興部DX推進課" in text
    assert "026-000-0000" in text and "試算（計画7）" in text


def test_a_body_without_needs_has_no_statement(setting):
    instance, plan = setting
    with pytest.raises(ReportError, match="200000"):
        statements.statement_pdf(instance, plan, "200000")
