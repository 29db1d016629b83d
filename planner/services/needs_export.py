"""Needs lists as CSV (UTF-8 with BOM, which Excel in Japan opens correctly) and XLSX (numbers as numbers).

The columns read back through the needs import. Text cells that a spreadsheet would take for a formula
(starting with = + - @, or a tab or carriage return) are written with a leading apostrophe, so that a need's notes
can never run as a formula on a colleague's machine.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter

from planner.db.models import Body, Category, Need
from planner.domain.need_fields import heading
from planner.domain.vocabulary import csv_row, jst_datetime, wareki_fiscal_year

HEADERS = (
    "団体コード",
    "団体名",
    "分野ID",
    "分野名",
    heading("volume"),
    "単位",
    heading("start_year"),
    f"{heading('start_year')}（和暦）",
    *(heading(k) for k in ("accepts_lead", "accepts_unified", "can_lead", "serves_disadvantaged_area", "status")),
    heading("notes"),
    "更新日時",
    heading("baseline_minutes_per_unit"),
    heading("baseline_hours_per_year"),
)  # the need's fields headed as the import reads them (planner.domain.need_fields)


# One field of an exported row: text, a whole number, or a volume with decimals
Field = str | int | float


def _mark(flag: bool) -> str:
    return "○" if flag else "×"


def rows(needs: Iterable[tuple[Need, Body]], cats: dict[str, Category]) -> Iterable[list[Field]]:
    for need, body in needs:
        cat = cats.get(need.category_id)
        volume = int(need.volume) if float(need.volume).is_integer() else need.volume
        yield [
            body.code,
            body.name,
            need.category_id,
            cat.name if cat else "",
            volume,
            cat.unit if cat else "",
            need.start_year,
            wareki_fiscal_year(need.start_year),
            _mark(need.accepts_lead),
            _mark(need.accepts_unified),
            _mark(need.can_lead),
            _mark(need.serves_disadvantaged_area),
            "登録中" if need.status == "active" else "取下げ",
            need.notes or "",
            jst_datetime(need.updated_at),
            _number(need.baseline_minutes_per_unit),
            _number(need.baseline_hours_per_year),
        ]


def _number(value: float | None) -> Field:
    if value is None:
        return ""
    return int(value) if float(value).is_integer() else value


def to_csv(needs: Iterable[tuple[Need, Body]], cats: dict[str, Category]) -> bytes:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for row in rows(needs, cats):
        writer.writerow(csv_row(row))
    return buf.getvalue().encode("utf-8-sig")


def to_xlsx(needs: Iterable[tuple[Need, Body]], cats: dict[str, Category]) -> bytes:
    # Write-only mode streams rows (several thousand needs in well under a second). Strings stay strings:
    # openpyxl makes a formula only of text starting with "=", and csv_row has already defused those.
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("ニーズ")
    ws.freeze_panes = "A2"
    for i, width in enumerate((10, 14, 10, 26, 10, 12, 9, 14, 9, 9, 7, 12, 7, 40, 17, 12, 12), start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    bold, fill = Font(bold=True), PatternFill("solid", fgColor="EEF1F5")
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font, cell.fill = bold, fill
        header.append(cell)
    ws.append(header)
    for row in rows(needs, cats):
        values = csv_row(row)
        volume = WriteOnlyCell(ws, value=values[4])
        volume.number_format = "#,##0.##"
        ws.append([*values[:4], volume, *values[5:]])
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
