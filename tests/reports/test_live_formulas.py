"""Workbooks that recompute: where the method is a formula (均等割・人口割・利用量割 and their combination) the shares
are live Excel formulas from the inputs on the sheet. The formulas are read with openpyxl and evaluated with pycel
against the plan's own figures (largest remainder, ties to the lead), and again after an input changes."""

import io

import openpyxl
import pytest

from planner.domain import settlement
from planner.domain.allocation import priority_order, split_yen
from planner.domain.plan import plan_from_dict
from planner.reports import xlsx
from tests.domain.factories import make_instance, reference_categories

from .fixtures import BODIES, NEEDS
from .plans import settled_plan_doc

pycel = pytest.importorskip("pycel", reason="pycel (dev extra) evaluates the workbooks' formulas")

# The three cities: the methods below split their group's cost without an adjustment. With the two villages in it,
# every method leaves some member paying more net than alone and settlement moves the shares (cost-model.md, the net
# guarantee); an adjusted group's workbook states the amounts, not live formulas. A plain 均等割 is adjusted in every
# group of this fixture, so it is covered here only as the 均等割 weight of the formula.
GROUPS = [("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-ueda-ocr"])]
METHODS = [
    ("population", {}),
    ("volume", {}),
    ("formula", {"equal": 0.1, "population": 0.5, "volume": 0.4}),
]


def settled(method, weights):
    instance = make_instance(
        BODIES,
        NEEDS,
        categories=reference_categories("ocr", "rpa"),
        hosts=[{"body": "200000", "categories": ["rpa"]}],
        allocation={"method": method, "weights": weights},
    )
    doc = settled_plan_doc(instance, GROUPS)
    for g in doc["groups"]:
        g.pop("allocation")
        g.pop("subsidies")
    return instance, settlement.settle_plan(instance, plan_from_dict(doc))


def compiled(data: bytes, tmp_path):
    path = tmp_path / "g.xlsx"
    path.write_bytes(data)
    return pycel.ExcelCompiler(filename=str(path)), openpyxl.load_workbook(io.BytesIO(data))


def rows_of(ws, codes):
    """(calc-block row, member-table row) of each body code, in order of appearance."""
    seen: dict[str, list[int]] = {}
    for row in ws.iter_rows(min_col=1, max_col=1):
        if row[0].value in codes:
            seen.setdefault(row[0].value, []).append(row[0].row)
    return seen


@pytest.mark.parametrize("method,weights", METHODS)
def test_shares_are_live_formulas_that_give_the_plan_figures(method, weights, tmp_path):
    instance, plan = settled(method, weights)
    group = plan.groups[0]
    assert group.allocation.method == method and not group.allocation.adjusted
    xl, wb = compiled(xlsx.group_workbook(instance, plan, group.id), tmp_path)
    ws = wb[group.id]
    codes = [instance.need(n).body for n in group.members]
    rows = rows_of(ws, codes)
    for nid, code in zip(group.members, codes, strict=False):
        calc, member = rows[code]
        assert str(ws[f"E{member}"].value).startswith("=") and str(ws[f"H{calc}"].value).startswith("=INT(")
        share = group.allocation.share(nid)
        got = [xl.evaluate(f"'{group.id}'!{c}{member}") for c in "EFG"]
        assert got == [share.initial_yen, share.annual_yen, share.total_yen], (method, code)
        assert xl.evaluate(f"'{group.id}'!S{calc}") is True
    text = "\n".join(str(c.value) for row in ws.iter_rows() for c in row if isinstance(c.value, str))
    assert "端数の処理" in text and "小数第6位で丸めてから切り捨て" in text


def test_changing_an_input_recomputes_by_the_same_rounding_rule(tmp_path):
    instance, plan = settled("population", {})
    group = plan.groups[0]
    xl, wb = compiled(xlsx.group_workbook(instance, plan, group.id), tmp_path)
    ws = wb[group.id]
    codes = [instance.need(n).body for n in group.members]
    rows = rows_of(ws, codes)
    populations = [instance.bodies[c].population for c in codes]
    populations[-1] *= 20  # 白馬村 grows: its share must rise and the total stay the group's cost
    for c in codes:  # evaluate once so that the inputs are in pycel's cell map, then change one
        xl.evaluate(f"'{group.id}'!E{rows[c][1]}")
    xl.set_value(f"'{group.id}'!C{rows[codes[-1]][0]}", populations[-1])
    lead = codes.index(group.lead_body) if group.lead_body in codes else None
    expected = split_yen(group.cost.initial_yen, populations, priority_order(codes, lead))
    got = [xl.evaluate(f"'{group.id}'!E{rows[c][1]}") for c in codes]
    assert got == expected and sum(got) == group.cost.initial_yen
    assert got[-1] > group.allocation.share(group.members[-1]).initial_yen


def test_methods_that_are_not_formulas_keep_values(tmp_path):
    instance, plan = settled("shapley", {})
    group = plan.groups[0]
    wb = openpyxl.load_workbook(io.BytesIO(xlsx.group_workbook(instance, plan, group.id)))
    ws = wb[group.id]
    member = rows_of(ws, [instance.need(group.members[0]).body])[instance.need(group.members[0]).body][-1]
    assert ws[f"E{member}"].value == group.allocation.share(group.members[0]).initial_yen
    assert not any("按分の計算" in str(c.value) for row in ws.iter_rows() for c in row)


def test_every_sheet_has_an_a4_print_setup():
    instance, plan = settled("equal", {})
    for data in (xlsx.group_workbook(instance, plan, plan.groups[0].id), xlsx.summary_workbook(instance, plan)):
        wb = openpyxl.load_workbook(io.BytesIO(data))
        for ws in wb.worksheets:
            assert int(ws.page_setup.paperSize) == 9 and ws.print_area, ws.title  # 9: A4
            assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth == 1
            assert ws.oddHeader.center.text == "案（試算）"  # a draft
