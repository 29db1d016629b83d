"""A small xlsx declaring or holding hundreds of thousands of rows is refused (issue #13, point 5): the declared
dimension is checked before any row is read, and reading stops at the limit when the declaration is missing or lies.
How long the refusal takes is measured by bench/upload_bench.py, not asserted here (timed tests fail on a loaded
machine and prove nothing on a quiet one)."""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import Workbook

from planner.importers.errors import FileProblems
from planner.importers.flags import parse_flags_file
from planner.importers.needs import parse_needs_file
from tests.importers.test_needs_import import lookups

ROWS = 200_000


def big_xlsx(dimension: str | None) -> bytes:
    """A workbook of ROWS data rows (a few hundred KB compressed), with the given <dimension ref> or none."""
    wb = Workbook()
    wb.active.append(["団体コード", "分野ID", "利用量", "開始年度"])
    buf = io.BytesIO()
    wb.save(buf)
    rows = '<row><c t="inlineStr"><is><t>202011</t></is></c><c><v>1</v></c></row>' * ROWS  # rows numbered in order
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(buf.getvalue())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item.filename)
            if item.filename == "xl/worksheets/sheet1.xml":
                xml = data.decode()
                xml = re.sub(r"<dimension[^>]*/>", f'<dimension ref="{dimension}"/>' if dimension else "", xml)
                xml = xml.replace("</row></sheetData>", "</row>" + rows + "</sheetData>")
                data = xml.encode()
            dst.writestr(item, data)
    return out.getvalue()


@pytest.mark.parametrize("dimension", [f"A1:D{ROWS + 1}", None, "A1:D2"], ids=["declared", "undeclared", "lying"])
@pytest.mark.parametrize(
    "parse",
    [
        lambda data: parse_needs_file("big.xlsx", data, lookups()),
        lambda data: parse_flags_file("big.xlsx", data, frozenset({"202011"})),
    ],
    ids=["needs", "flags"],
)
def test_a_sheet_with_too_many_rows_is_refused(dimension, parse):
    data = big_xlsx(dimension)
    assert len(data) < 1_000_000
    with pytest.raises(FileProblems) as refused:
        parse(data)
    assert "行が多すぎます" in str(refused.value.messages) and "big.xlsx" in str(refused.value.messages)
