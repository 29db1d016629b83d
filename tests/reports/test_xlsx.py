"""The workbooks: real numbers in yen formats, and formulas whose results match the plan."""

import pytest

from planner.reports import xlsx

from .fixtures import nagano_instance, nagano_plan
from .helpers import Workbook


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def group(plan, gid):
    return next(g for g in plan.groups if g.id == gid)


def test_group_workbook_sums(setting):
    instance, plan = setting
    g = group(plan, "ocr-2026-1")
    wb = Workbook(xlsx.group_workbook(instance, plan, g.id))
    ws = wb.wb[g.id]
    # 均等割 is a formula method: the shares are live formulas (按分の計算 above the member table, whose header
    # is the second 団体コード row); the estimates stay values.
    header = wb.find(g.id, "団体コード", nth=2)
    rows = range(header + 1, header + 1 + len(g.members))
    for row, nid in zip(rows, g.members, strict=False):
        share, sub = g.allocation.share(nid), g.subsidies[nid]
        assert ws[f"A{row}"].value == instance.need(nid).body
        for col, value in (("E", share.initial_yen), ("F", share.annual_yen), ("G", share.total_yen)):
            assert ws[f"{col}{row}"].value.startswith("=") and wb.value(g.id, f"{col}{row}") == value, (col, row)
            assert "円" in ws[f"{col}{row}"].number_format
        tax = share.total_yen - sub.net_without_grant_yen  # the headline's special tax (no grant)
        for col, value in (("J", tax), ("N", sub.grant_yen), ("O", sub.special_tax_yen)):
            cell = ws[f"{col}{row}"]
            assert cell.value == value and isinstance(cell.value, int), (col, row)
            assert "円" in cell.number_format
        assert wb.value(g.id, f"K{row}") == sub.net_without_grant_yen  # a formula: gross − special tax
        assert wb.value(g.id, f"P{row}") == sub.net_yen  # 採択された場合: gross − grant − special tax
        assert wb.value(g.id, f"I{row}") == share.standalone_total_yen - share.total_yen
        assert wb.value(g.id, f"Q{row}") == 0
    total = wb.find(g.id, "合計")
    assert wb.value(g.id, f"E{total}") == g.cost.initial_yen
    assert wb.value(g.id, f"F{total}") == g.cost.annual_yen
    assert wb.value(g.id, f"G{total}") == g.cost.total_yen
    assert ws[f"G{total}"].value.startswith("=SUM(G")
    assert wb.value(g.id, f"K{total}") == sum(s.net_without_grant_yen for s in g.subsidies.values())
    assert wb.value(g.id, f"P{total}") == sum(s.net_yen for s in g.subsidies.values())
    # the cost build-up recomputes the group's figures from the price book lines
    assert wb.value(g.id, f"B{wb.find(g.id, '初期費用 計')}") == g.cost.initial_yen
    assert wb.value(g.id, f"B{wb.find(g.id, '年間費用 計')}") == g.cost.annual_yen
    assert wb.value(g.id, f"B{wb.find(g.id, '算定期間の総額')}") == g.cost.total_yen
    for label in (
        "検算",
        "初期負担の合計 ＝ 初期費用 計",
        "年間負担の合計 ＝ 年間費用 計",
        "期間総額の合計 ＝ 算定期間の総額",
    ):
        assert wb.value(g.id, f"B{wb.find(g.id, label)}") is True, label


def test_member_workbook_by_year(setting):
    instance, plan = setting
    g = group(plan, "ocr-2026-1")
    share, sub = g.allocation.share("n-otari-ocr"), g.subsidies["n-otari-ocr"]
    wb = Workbook(xlsx.member_workbook(instance, plan, "n-otari-ocr"))
    sheet = wb.wb.sheetnames[0]
    assert sheet == "契約予定額 小谷村" and g.id in wb.wb.sheetnames  # 仕様統一方式: no 負担額 is notified
    total = wb.find(sheet, "合計")
    assert wb.value(sheet, f"E{total}") == share.total_yen
    assert wb.value(sheet, f"G{total}") == sub.net_without_grant_yen  # the headline: no grant
    assert wb.value(sheet, f"H{total}") == sub.grant_yen
    assert wb.value(sheet, f"J{total}") == sub.net_yen  # 採択された場合
    first = wb.find(sheet, 2026)
    assert wb.value(sheet, f"J{first}") == (share.initial_yen + share.annual_yen - sub.grant_yen - sub.special_tax_yen)
    for label in (
        "期間総額",
        "特別交付税 見込額",
        "実質負担 見込額",
        "補助金（採択された場合）",
        "特別交付税（採択された場合）",
        "実質負担（採択された場合）",
    ):
        assert wb.value(sheet, f"C{wb.find(sheet, label)}") is True, label


def test_summary_workbook(setting):
    instance, plan = setting
    wb = Workbook(xlsx.summary_workbook(instance, plan))
    assert wb.wb.sheetnames == ["総括", "ocr-2026-1", "rpa-2026-1"]
    total = wb.find("総括", "合計")
    assert wb.value("総括", f"E{total}") == plan.objective_yen
    assert wb.value("総括", f"D{total}") == plan.standalone_total_yen
    assert wb.value("総括", f"F{total}") == plan.standalone_total_yen - plan.objective_yen
    assert wb.value("総括", f"C{wb.find('総括', '計画全体の費用（検算用）')}") is True
    assert wb.value("総括", f"C{wb.find('総括', '実質負担 見込額 計（検算）')}") is True
    joint = [g for g in plan.groups if g.mode != "standalone"]
    row = wb.find("総括", "共同調達 計")
    assert wb.value("総括", f"G{row}") == sum(g.cost.total_yen for g in joint)
    assert wb.value("総括", f"I{row}") == sum(g.saving_yen for g in joint)


def test_sheet_titles_are_valid_and_unique():
    used = set()
    a = xlsx.sheet_title("a/b:c*" + "x" * 40, used)
    b = xlsx.sheet_title("a/b:c*" + "x" * 40, used)
    assert len(a) <= 31 and len(b) <= 31 and a != b and not set("/:*") & set(a + b)


def test_plan_without_joint_groups():
    from .plans import settled_plan

    instance = nagano_instance()
    plan = settled_plan(instance, [])
    wb = Workbook(xlsx.summary_workbook(instance, plan))
    assert wb.wb.sheetnames == ["総括"]
    total = wb.find("総括", "合計")
    assert wb.value("総括", f"E{total}") == plan.objective_yen == plan.standalone_total_yen
    assert wb.value("総括", f"F{total}") == 0
