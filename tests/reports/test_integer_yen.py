"""No document of a settled plan holds a fractional yen: every file the ZIP writes (PDF text, workbook cells, Word
paragraphs and tables) is read back and searched for a yen amount with a decimal part (506,046.97円)."""

from __future__ import annotations

import io
import re

import openpyxl
import pypdf
import pytest
from docx import Document

from planner.domain import optimiser, settlement
from planner.reports.bundle import plan_documents, render_document

from .fixtures import nagano_instance, nagano_plan

# A comma-grouped number with a decimal part (amounts are the comma-grouped figures; distances say km), or a number
# with a fraction next to 円.
FRACTIONAL_YEN = re.compile(r"\d{1,3}(?:,\d{3})+\.\d+(?!\d|\s*km)|\d+\.\d*[1-9]\d*\s*(?:円|千円)")


def texts(name: str, data: bytes) -> list[tuple[str, str]]:
    """(where, text) for every piece of text a reader sees in the file."""
    if name.endswith(".pdf"):
        reader = pypdf.PdfReader(io.BytesIO(data))
        return [(f"{name} p.{k + 1}", page.extract_text()) for k, page in enumerate(reader.pages)]
    if name.endswith(".xlsx"):
        out = []
        for ws in openpyxl.load_workbook(io.BytesIO(data)).worksheets:
            for row in ws.iter_rows():
                for c in row:
                    if isinstance(c.value, str):
                        out.append((f"{name} {ws.title}!{c.coordinate}", c.value))
                    elif (
                        isinstance(c.value, float)
                        and not c.value.is_integer()
                        and ("円" in c.number_format or "#,##0" in c.number_format)
                    ):
                        # a yen cell holds an integer, however it is shown (the formula bar shows the value)
                        out.append((f"{name} {ws.title}!{c.coordinate}", f"{c.value:,}円"))
        return out
    doc = Document(io.BytesIO(data))
    parts = [p.text for p in doc.paragraphs]
    parts += [c.text for t in doc.tables for row in t.rows for c in row.cells]
    parts += [p.text for s in doc.sections for p in (*s.header.paragraphs, *s.footer.paragraphs)]
    return [(name, t) for t in parts]


def fractional_yen(instance, plan) -> list[str]:
    found = []
    for doc in plan_documents(plan, instance):
        for name, data in render_document(instance, plan, None, doc):
            for where, text in texts(name, data):
                for m in FRACTIONAL_YEN.finditer(text.replace("\n", "")):
                    found.append(f"{where}: {text[max(0, m.start() - 30) : m.end() + 10]!r}")
    return found


def test_pattern_finds_what_an_auditor_circles():
    assert FRACTIONAL_YEN.search("算定額 506,046.97円")
    assert FRACTIONAL_YEN.search("506,046.97")
    assert FRACTIONAL_YEN.search("12.5 円")
    assert FRACTIONAL_YEN.search("109,175.00")
    assert not FRACTIONAL_YEN.search("506,047円 人口割 12.5% 距離の合計 1,109.2km 単価 3.0円")


@pytest.mark.parametrize("core", ["fixture", "adjust", "rule"])
def test_no_document_holds_a_fractional_yen(core):
    instance = nagano_instance()
    if core == "fixture":
        plan = nagano_plan(instance)
    else:
        weights = {"equal": 0.3, "population": 0.5, "volume": 0.2}
        optimised = optimiser.optimise(instance, time_limit=20)
        plan = settlement.settle_plan(instance, optimised, method="formula", weights=weights, core=core)
    assert fractional_yen(instance, plan) == []


def test_cost_lines_are_integer_yen_that_add_up_and_name_the_distance_charge():
    """Each line of the 費用の積算 is integer yen, the lines add up to the annual cost exactly, and the per-km term
    is named for what the price book charges (one wording, for the lead or the coordinator)."""
    from planner.domain.costs import TERM_LABELS
    from planner.reports.context import group_report

    instance = nagano_instance()
    plan = nagano_plan(instance)
    for group in (g for g in plan.groups if g.mode != "standalone"):
        r = group_report(instance, plan, group)
        assert all(isinstance(line.yen, int) for line in (*r.initial_lines, *r.annual_lines))
        assert sum(line.yen for line in r.annual_lines) == r.annual_yen == group.cost.annual_yen
        (distance,) = [line for line in r.annual_lines if line.label == TERM_LABELS["distance"]]
        role = "幹事団体" if group.mode == "lead" else "取りまとめ団体"
        assert f"各参加団体と{role}の距離の合計" in distance.detail
