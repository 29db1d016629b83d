"""User text in the workbooks is always text (issue #13, point 6): a scenario named ``=1+1`` or ``=SUM(B1:B9)``
fits the pattern of the workbook's own formulas, and must still never become a live formula."""

import io
import zipfile

import pytest
from openpyxl import load_workbook

from planner.reports import xlsx
from planner.reports.context import ReportMeta
from planner.reports.xlsx import Formula

from .fixtures import nagano_instance, nagano_plan


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


@pytest.mark.parametrize("name", ["=1+1", "=SUM(B1:B9)", "+A1", "-1+2", "=B2=B3"])
def test_a_scenario_name_shaped_like_an_own_formula_stays_text(setting, name):
    instance, plan = setting
    data = xlsx.summary_workbook(instance, plan, ReportMeta(title=name))
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        sheets = "".join(archive.read(n).decode() for n in archive.namelist() if n.startswith("xl/worksheets/"))
    assert f"<f>{name[1:]}</f>" not in sheets
    wb = load_workbook(io.BytesIO(data))
    cells = [c for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value == name]
    assert cells, "the name is in the workbook"
    assert all(c.data_type == "s" and c.quotePrefix for c in cells)
    # and the workbook's own formulas are still formulas
    assert any(c.data_type == "f" for row in wb["総括"].iter_rows() for c in row)


def test_only_the_workbooks_own_formulas_can_be_made_formulas():
    assert Formula("=SUM(B2:B9)") == "=SUM(B2:B9)"
    with pytest.raises(ValueError):
        Formula('=HYPERLINK("http://example.com")')
