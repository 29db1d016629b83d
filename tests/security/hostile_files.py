"""Hostile spreadsheets and CSV files, built in memory: each is small on the wire and would be costly or dangerous
to parse naively (issue #30). Shared by the importers' unit tests and the live-server upload tests."""

from __future__ import annotations

import io
import re
import zipfile

from openpyxl import Workbook

HEADER = ["団体コード", "分野ID", "利用量", "開始年度"]


def base_xlsx(header: list[str] | None = None) -> bytes:
    wb = Workbook()
    wb.active.append(header or HEADER)
    wb.active.append(["202011", "chatbot", 1, 2026])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def patched(
    replace: dict[str, bytes | None], extra: dict[str, bytes] | None = None, base: bytes | None = None
) -> bytes:
    """The base workbook with some parts replaced (None: removed) and others added."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(base or base_xlsx())) as src,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst,
    ):
        for item in src.infolist():
            if item.filename in replace:
                if replace[item.filename] is not None:
                    dst.writestr(item.filename, replace[item.filename])
                continue
            dst.writestr(item, src.read(item.filename))
        for name, data in (extra or {}).items():
            dst.writestr(name, data)
    return out.getvalue()


SST_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"


def with_shared_strings(sst: bytes) -> bytes:
    """The base workbook whose first cell (A1) is shared string 0 of ``sst``."""
    types = _part("[Content_Types].xml").replace(
        "</Types>", f'<Override PartName="/xl/sharedStrings.xml" ContentType="{SST_TYPE}"/></Types>'
    )
    sheet = _sheet_with('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')
    return patched({"[Content_Types].xml": types.encode(), SHEET: sheet}, {"xl/sharedStrings.xml": sst})


def _part(name: str, base: bytes | None = None) -> str:
    with zipfile.ZipFile(io.BytesIO(base or base_xlsx())) as z:
        return z.read(name).decode()


SHEET = "xl/worksheets/sheet1.xml"
NS = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'


def _sheet_with(rows_xml: str, before_data: str = "") -> bytes:
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><worksheet {NS}>{before_data}<sheetData>{rows_xml}</sheetData>'
        "</worksheet>"
    ).encode()


def _header_row() -> str:
    cells = "".join(f'<c r="{chr(65 + i)}1" t="inlineStr"><is><t>{h}</t></is></c>' for i, h in enumerate(HEADER))
    return f'<row r="1">{cells}</row>'


def xxe() -> bytes:
    """An external entity reading a local file into a cell."""
    xml = (
        '<?xml version="1.0" encoding="UTF-8"?><!DOCTYPE worksheet [<!ENTITY leak SYSTEM "file:///etc/passwd">]>'
        f'<worksheet {NS}><sheetData>{_header_row()}<row r="2"><c r="A2" t="inlineStr"><is><t>&leak;</t></is>'
        "</c></row></sheetData></worksheet>"
    )
    return patched({SHEET: xml.encode()})


def entity_bomb() -> bytes:
    """Billion laughs in the shared strings."""
    entities = '<!ENTITY a0 "laughlaughlaughlaugh">' + "".join(
        f'<!ENTITY a{i} "{("&a" + str(i - 1) + ";") * 10}">' for i in range(1, 10)
    )
    xml = (
        f'<?xml version="1.0"?><!DOCTYPE sst [{entities}]><sst {NS} count="1" uniqueCount="1"><si><t>&a9;</t></si>'
        "</sst>"
    )
    return with_shared_strings(xml.encode())


def broken_sheet() -> bytes:
    return patched({SHEET: b'<?xml version="1.0"?><worksheet><sheetData><row r="1"><c r="A1"><v>1</v></ro'})


def broken_workbook() -> bytes:
    return patched({"xl/workbook.xml": b"<workbook><sheets><sheet name="})


def many_styles(count: int = 60_000) -> bytes:
    styles = _part("xl/styles.xml")
    xfs = '<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>' * count
    styles = re.sub(r"<cellXfs[^>]*>.*?</cellXfs>", f'<cellXfs count="{count}">{xfs}</cellXfs>', styles, flags=re.S)
    return patched({"xl/styles.xml": styles.encode()})


def many_fonts(count: int = 60_000) -> bytes:
    styles = _part("xl/styles.xml")
    fonts = "".join(f'<font><sz val="{8 + i % 400}"/><name val="F{i}"/></font>' for i in range(count))
    styles = re.sub(r"<fonts[^>]*>.*?</fonts>", f'<fonts count="{count}">{fonts}</fonts>', styles, flags=re.S)
    return patched({"xl/styles.xml": styles.encode()})


def many_shared_strings(count: int = 2_000_000) -> bytes:
    sst = f'<?xml version="1.0"?><sst {NS} count="{count}" uniqueCount="{count}">' + "<si><t>x</t></si>" * count
    return with_shared_strings((sst + "</sst>").encode())


def many_columns(count: int = 16_384, rows: int = 60) -> bytes:
    """Rows of cells in every one of Excel's 16,384 columns (and as many column definitions)."""
    cols = "<cols>" + "".join(f'<col min="{i}" max="{i}" width="9"/>' for i in range(1, count + 1)) + "</cols>"
    row = "".join(f"<c><v>{i}</v></c>" for i in range(count))
    body = _header_row() + "".join(f'<row r="{r}">{row}</row>' for r in range(2, rows + 2))
    return patched({SHEET: _sheet_with(body, cols)})


def huge_cell(megabytes: int = 300) -> bytes:
    """One cell of hundreds of megabytes of text, a few hundred KB compressed."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(base_xlsx())) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            if item.filename != SHEET:
                dst.writestr(item, src.read(item.filename))
                continue
            with dst.open(SHEET, "w", force_zip64=True) as part:
                head = _sheet_with(_header_row() + '<row r="2"><c r="A2" t="inlineStr"><is><t>SPLIT').split(b"SPLIT")[0]
                part.write(head.replace(b"</sheetData></worksheet>", b""))
                chunk = b"A" * (1 << 20)
                for _ in range(megabytes):
                    part.write(chunk)
                part.write(b"</t></is></c></row></sheetData></worksheet>")
    return out.getvalue()


def long_field_csv(kilobytes: int = 290) -> bytes:
    return ("code,disadvantaged\n202011," + "x" * (kilobytes * 1024) + "\n").encode()


def quoted_csv(megabytes: float = 4.9) -> bytes:
    """One quoted field that never closes: the whole file is one cell."""
    return ('code,disadvantaged\n202011,"' + "a,b\n" * int(megabytes * (1 << 20) / 4)).encode()


HOSTILE_XLSX = {
    "xxe": xxe,
    "entity_bomb": entity_bomb,
    "broken_sheet": broken_sheet,
    "broken_workbook": broken_workbook,
    "many_styles": many_styles,
    "many_fonts": many_fonts,
    "many_shared_strings": many_shared_strings,
    "many_columns": many_columns,
    "huge_cell": huge_cell,
}
HOSTILE_CSV = {"long_field": long_field_csv, "quoted": quoted_csv}
