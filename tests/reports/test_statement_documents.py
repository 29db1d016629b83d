"""The statement documents: each body's 年度別負担額 (PDF and workbook) and the 年度別予算総括表 print the figures of
planner.domain.statements, which are the plan's member lines summed by year; the workbooks' formulas recompute them."""

import pytest

from planner.domain.settled import member_lines
from planner.domain.statements import body_statements
from planner.reports import statements
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
            + yen(y.grant_yen)
            + yen(y.special_tax_yen)
            + yen(y.net_yen)
        ) in text, label
    t = s.total
    assert "合計" + yen(t.initial_yen) + yen(t.annual_yen) + yen(t.gross_yen) in text
    assert yen(sum(y.gross_yen for y in s.years[1:])) + "円" in text  # 債務負担行為の参考額
    assert "導入年度に見込んでいます" in text and "算定期間の各年度に計上" in text
    assert "案" in text and "政府標準利用規約" in text  # a draft's watermark and the data source


def test_statement_workbook_recomputes_the_plan_figures(setting):
    instance, plan = setting
    lines = [ln for g in plan.groups for ln in member_lines(instance, g) if ln.body_code == "204820"]
    wb = Workbook(statements.statement_workbook(instance, plan, "204820"))
    sheet = wb.wb.sheetnames[0]
    total = wb.find(sheet, "合計")
    assert wb.value(sheet, f"E{total}") == sum(ln.total_yen for ln in lines)
    assert wb.value(sheet, f"F{total}") == sum(ln.grant_yen for ln in lines)
    assert wb.value(sheet, f"H{total}") == sum(ln.net_yen for ln in lines)
    for label in ("負担額", "補助金", "特別交付税", "実質負担"):
        assert wb.value(sheet, f"B{wb.find(sheet, label)}") is True, label
    ws = wb.wb[sheet]
    assert int(ws.page_setup.paperSize) == 9 and ws.print_area


def test_budget_workbook_totals_agree_with_the_plan(setting):
    instance, plan = setting
    wb = Workbook(statements.budget_workbook(instance, plan))
    assert wb.wb.sheetnames[:4] == ["実質負担", "負担額", "補助金", "特別交付税"]
    net = sum(ln.net_yen for g in plan.groups for ln in member_lines(instance, g))
    check = wb.find("実質負担", "計画の合計（検算用）")
    assert wb.value("実質負担", f"B{check}") == net and wb.value("実質負担", f"C{check}") is True
    assert len(wb.wb.sheetnames) == 4 + len(body_statements(instance, plan))


def test_budget_pdf_and_document_control(setting):
    instance, plan = setting
    control = draft_control("7", Issuer("長野県 企画振興部 DX推進課", "担当 信州太郎", "026-000-0000", "長DX"))
    text = pdf_text(statements.budget_pdf(instance, plan, ReportMeta(control=control)))
    assert "年度別予算総括表" in text and "長DX試算7-予" in text and "長野県企画振興部DX推進課" in text
    assert "026-000-0000" in text and "試算（計画7）" in text


def test_a_body_without_needs_has_no_statement(setting):
    instance, plan = setting
    with pytest.raises(ReportError, match="200000"):
        statements.statement_pdf(instance, plan, "200000")
