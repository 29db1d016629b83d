"""予算見積資料 by role and mode: every body's 歳出, 財源内訳 and 債務負担行為 read back from its workbook, its PDF and its
HTML, and checked against the plan's own figures (the groups' costs and the members' shares), not against the
module that wrote them."""

from __future__ import annotations

import io
import re

import openpyxl
import pytest

from planner.domain import optimiser, settlement
from planner.domain.instance_io import load_instance
from planner.domain.settled import member_lines
from planner.domain.statements import schedule_line
from planner.domain.vocabulary import find_wareki_fiscal_year
from planner.reports import budget_statements as bs
from planner.reports.context import ReportError
from planner.reports.kind_renderers import RENDERERS
from tests.conftest import shared_path

from .fixtures import nagano_instance, nagano_plan
from .helpers import Workbook, pdf_text

CONTRACT_ITEMS = ("12節 委託料", "13節 使用料及び賃借料")
CONTRIBUTION = "18節 負担金、補助及び交付金"


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


def contract_years(group, horizon: int) -> dict[int, int]:
    """The group's cost by fiscal year, from the plan: initial cost in the start year, the yearly cost in each."""
    return {
        group.start_year + i: (group.cost.initial_yen if i == 0 else 0) + group.cost.annual_yen for i in range(horizon)
    }


def share_years(line, group, horizon: int) -> dict[int, int]:
    years, _ = schedule_line(line, group.start_year, horizon)
    return {y.fiscal_year: y.gross_yen for y in years}


class Sheet:
    """A 予算見積資料 workbook read with openpyxl: each section's rows as {label: {fiscal year: yen}}."""

    def __init__(self, data: bytes):
        self.ws = openpyxl.load_workbook(io.BytesIO(data)).active
        self.rows = list(self.ws.iter_rows(values_only=True))

    def section(self, title: str, end: str) -> dict[str, tuple[str, dict[int, int]]]:
        """The rows under ``title``'s header up to the row whose first cell is ``end``: {内容: (節/款, years)}."""
        start = next(i for i, r in enumerate(self.rows) if r[0] == title)
        header = self.rows[start + 1]
        years = [find_wareki_fiscal_year(str(h)) for h in header if h and str(h).endswith("年度（円）")]
        out = {}
        for r in self.rows[start + 2 :]:
            if r[0] == end or r[1] == end or r[0] is None:
                break
            out[str(r[1])] = (str(r[0]), {fy: r[2 + i] for i, fy in enumerate(years)})
        return out


@pytest.fixture(scope="module")
def small():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def test_lead_host_budgets_the_whole_contract_and_its_members_shares(small):
    instance, plan = small
    g = next(g for g in plan.groups if g.id == "rpa-2026-1")  # led by the prefecture as host (no share of its own)
    wb = Workbook(bs.finance_workbook(instance, plan, "200000"))
    sheet = wb.wb.sheetnames[0]
    spend = Sheet(bs.finance_workbook(instance, plan, "200000")).section("1. 歳出", "歳出 計")
    ((item, years),) = spend.values()
    assert item in CONTRACT_ITEMS and years == contract_years(g, instance.horizon_years)
    fund = wb.find(sheet, "一般財源")
    n = instance.horizon_years
    for i in range(n + 1):  # the prefecture pays nothing of its own: 一般財源 0 in 円, each year and in total
        assert wb.value(sheet, f"{chr(ord('C') + i)}{fund}") == 0
    total = wb.find(sheet, "歳出 計")
    assert wb.value(sheet, f"{chr(ord('C') + n)}{total}") == g.cost.total_yen
    # 千円: 歳出 rounded up, so the 千円 total covers the yen total
    assert wb.value(sheet, f"{chr(ord('C') + 2 * n + 1)}{total}") * 1000 >= g.cost.total_yen
    text = pdf_text(bs.finance_pdf(instance, plan, "200000"))
    assert "長野県知事様" in text and "幹事団体（一括契約）" in text
    assert text.index("1.歳出") < text.index("2.財源内訳") < text.index("3.補助金が採択された場合")
    assert text.index("3.補助金が採択された場合") < text.index("4.特別交付税（参考）") < text.index("5.債務負担行為")
    assert "分担金及び負担金" in text and "千円未満切上げ" in text


def test_unified_member_budgets_its_own_contract_and_no_contribution(small):
    instance, plan = small
    g = next(g for g in plan.groups if g.id == "ocr-2026-1")
    line = next(ln for ln in member_lines(instance, g) if ln.body_code == "202029")  # 松本市, 仕様統一方式 only
    spend = Sheet(bs.finance_workbook(instance, plan, "202029")).section("1. 歳出", "歳出 計")
    ((label, (item, years)),) = spend.items()
    assert "契約予定額（見込）" in label and item in CONTRACT_ITEMS
    assert years == share_years(line, g, instance.horizon_years)
    text = pdf_text(bs.finance_pdf(instance, plan, "202029"))
    assert "負担金、補助及び交付金" not in text and "団体間の負担金はありません" in text


def test_debts_are_one_line_a_group(small):
    instance, plan = small
    v = bs.budget_view(instance, plan, "204820")  # 小谷村: an OCR contract of its own and an RPA 負担金
    assert {d.group_id for d in v.budget.debts} == {"ocr-2026-1", "rpa-2026-1"}
    for d in v.budget.debts:
        g = next(g for g in plan.groups if g.id == d.group_id)
        line = next(ln for ln in member_lines(instance, g) if ln.body_code == "204820")
        years = share_years(line, g, instance.horizon_years)
        assert d.limit_yen == sum(y for fy, y in years.items() if fy > g.start_year)
        assert (d.set_year, d.from_year, d.to_year) == (g.start_year, g.start_year + 1, max(years))
        assert d.long_term == (d.item != CONTRIBUTION)


def test_a_body_without_a_role_has_no_statement(small):
    instance, plan = small
    with pytest.raises(ReportError, match="202011x"):
        bs.finance_pdf(instance, plan, "202011x")


# --- the Nagano bench plan: every statement against the plan ------------------------------------------------------


@pytest.fixture(scope="module")
def bench():
    instance = load_instance(shared_path("bench", "nagano.json"))
    plan = settlement.settle_plan(instance, optimiser.optimise(instance, time_limit=30))
    return instance, plan


def test_every_statement_of_the_bench_plan_equals_the_plan(bench):
    instance, plan = bench
    horizon = instance.horizon_years
    renderer = RENDERERS["finance"]
    codes = renderer.keys(plan, instance)
    leads = {g.lead_body for g in plan.groups if g.mode == "lead"}
    assert leads <= set(codes) and "200000" in leads  # the prefecture leads groups and has its statement
    expected_spend: dict[str, dict[str, tuple[str, dict[int, int]]]] = {c: {} for c in codes}
    expected_revenue: dict[str, dict[str, dict[int, int]]] = {c: {} for c in codes}
    for g in plan.groups:
        lines = member_lines(instance, g)
        if g.mode == "lead":
            expected_spend[g.lead_body][g.id] = ("contract", contract_years(g, horizon))
            paid: dict[int, int] = {}
            for ln in lines:
                if not ln.is_lead:
                    for fy, y in share_years(ln, g, horizon).items():
                        paid[fy] = paid.get(fy, 0) + y
            expected_revenue[g.lead_body][g.id] = paid
        for ln in lines:
            if g.mode == "lead" and ln.is_lead:
                continue
            kind = "contribution" if g.mode == "lead" else "contract"
            expected_spend[ln.body_code][g.id] = (kind, share_years(ln, g, horizon))
    for code in codes:
        data = renderer.downloads["xlsx"](instance, plan, code, None)
        sheet = Sheet(data)
        spend = sheet.section("1. 歳出", "歳出 計")
        revenue = sheet.section("2. 財源内訳", "特定財源 計")
        got_spend = {re.search(r"（([^（、]+)、", label).group(1): v for label, v in spend.items()}
        assert got_spend.keys() == expected_spend[code].keys(), code
        for gid, (item, years) in got_spend.items():
            kind, want = expected_spend[code][gid]
            assert item == CONTRIBUTION if kind == "contribution" else item in CONTRACT_ITEMS, (code, gid)
            assert {fy: y for fy, y in years.items() if y} == {fy: y for fy, y in want.items() if y}, (code, gid)
        got_revenue = {re.search(r"（([^（、]+)、", label).group(1): v[1] for label, v in revenue.items()}
        assert got_revenue.keys() == expected_revenue[code].keys(), code
        for gid, years in got_revenue.items():
            assert {fy: y for fy, y in years.items() if y} == expected_revenue[code][gid], (code, gid)
        # the HTML the PDF is laid out from prints the same lines, 円 over 千円
        html = re.sub(r"<[^>]+>|\s+", "", renderer.batch_html(instance, plan, code, None))
        view = bs.budget_view(instance, plan, code)
        for row in view.expenditure_rows + view.revenue_rows + [view.general_fund]:
            cells = "".join(f"{yen(c.yen)}{yen(c.thousand)}千円" for c in row.cells)
            assert row.label.replace(" ", "") + cells in html, (code, row.label)
    # the lead's 一般財源 is its own share: the prefecture as host pays none
    lead_pdf = pdf_text(renderer.downloads["pdf"](instance, plan, "200000", None))
    assert "幹事団体（一括契約）" in lead_pdf and "分担金及び負担金" in lead_pdf


def test_each_line_states_why_its_item_and_an_assumed_item_says_so(small):
    """Every 歳出 and 歳入 line says why its 節 or 款: a member's 負担金 by the agreement (no assumption), a contract's
    委託料 or 使用料及び賃借料 from what the category buys, marked as an assumption (neither the price book nor a
    quote records the contract's kind), in the PDF and the workbook alike."""
    instance, plan = small
    for code in ("200000", "202029", "204820"):
        v = bs.budget_view(instance, plan, code)
        wb = Sheet(bs.finance_workbook(instance, plan, code))
        cells = "".join(str(c) for row in wb.rows for c in row if isinstance(c, str))
        text = pdf_text(bs.finance_pdf(instance, plan, code))
        for line in (*v.budget.expenditure, *v.budget.revenue):
            said = f"{line.item}（{line.group_id}）：{line.basis}。"
            assert line.basis and said in cells and said.replace(" ", "") in text, (code, line.label)
            assumed = "仮定" in line.basis
            assert assumed == (line.item in CONTRACT_ITEMS), (code, line.item)
            if line.item == CONTRIBUTION:
                assert "協定に基づき" in line.basis


def test_a_rental_contract_s_debt_says_a_long_term_contract_needs_none(small):
    """長期継続契約: a 使用料 contract whose later years' 使用料 are a 長期継続契約 needs no 債務負担行為 (stated with its
    condition); a 委託 with 構築 and a 負担金 are not such contracts and the table says the 債務負担行為 is needed."""
    instance, plan = small
    v = bs.budget_view(instance, plan, "204820")
    texts = {d.item: v.long_term_text(d) for d in v.budget.debts}
    assert texts, v.budget.debts
    for item, said in texts.items():
        if item == "13節 使用料及び賃借料":
            assert said.startswith("長期継続契約とする場合は設定不要")
        else:
            assert said.startswith("対象外：設定が必要")
    text = pdf_text(bs.finance_pdf(instance, plan, "204820"))
    assert "債務負担行為を設定しません" in text and "長期継続契約の対象外のため、債務負担行為を設定します" in text
