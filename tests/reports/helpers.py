"""Reading generated documents back: PDF text and fonts (pypdf), and Excel formulas evaluated cell by cell."""

from __future__ import annotations

import io
import re

import openpyxl
import pypdf


def pdf_text(data: bytes) -> str:
    """All the text of a PDF with whitespace removed, so that table cells wrapped over lines still match."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    return re.sub(r"\s+", "", "".join(page.extract_text() for page in reader.pages))


def pdf_pages(data: bytes) -> int:
    return len(pypdf.PdfReader(io.BytesIO(data)).pages)


def pdf_fonts(data: bytes) -> dict[str, bool]:
    """Each font's base name and whether its program is embedded in the file."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts: dict[str, bool] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            fonts[str(font.get("/BaseFont"))] = embedded
    return fonts


def pdf_font_programs(data: bytes) -> dict[str, set[str]]:
    """Each font's base name and the /FontFile* keys of its descriptor (FontFile2: an embedded TrueType program)."""
    reader = pypdf.PdfReader(io.BytesIO(data))
    fonts: dict[str, set[str]] = {}
    for page in reader.pages:
        resources = page.get("/Resources") or {}
        for font in (resources.get("/Font") or {}).values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            target = descendants[0].get_object() if descendants else font
            descriptor = target.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            fonts.setdefault(str(font.get("/BaseFont")), set()).update(
                k for k in descriptor if str(k).startswith("/FontFile")
            )
    return fonts


class Workbook:
    """Reads a workbook with openpyxl and evaluates its formulas with pycel (SUM, ROUND, INT, IF, SUMPRODUCT, ...)."""

    def __init__(self, data: bytes):
        import tempfile

        from pycel import ExcelCompiler

        self.wb = openpyxl.load_workbook(io.BytesIO(data))
        with tempfile.NamedTemporaryFile(suffix=".xlsx", delete=False) as f:
            f.write(data)
        self.xl = ExcelCompiler(filename=f.name)

    def value(self, sheet: str, ref: str):
        v = self.xl.evaluate(f"'{sheet}'!{ref.replace('$', '')}")
        return int(v) if isinstance(v, float) and v.is_integer() else v

    def find(self, sheet: str, text: str, nth: int = 1) -> int:
        """The row whose first cell is ``text`` (the ``nth`` such row)."""
        for row in self.wb[sheet].iter_rows(min_col=1, max_col=1):
            if row[0].value == text:
                nth -= 1
                if nth == 0:
                    return row[0].row
        raise AssertionError(f"no row {text!r} in sheet {sheet}")

    def find_last(self, sheet: str, text: str) -> int:
        """The last row whose first cell is ``text`` (a group sheet's member table comes after its 按分の計算)."""
        rows = [row[0].row for row in self.wb[sheet].iter_rows(min_col=1, max_col=1) if row[0].value == text]
        if not rows:
            raise AssertionError(f"no row {text!r} in sheet {sheet}")
        return rows[-1]

    def formulas(self, sheet: str) -> list[str]:
        return [
            c.value
            for row in self.wb[sheet].iter_rows()
            for c in row
            if isinstance(c.value, str) and c.value.startswith("=")
        ]
