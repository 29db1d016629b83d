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
                k for k in descriptor if str(k).startswith("/FontFile"))
    return fonts


class Workbook:
    """Evaluates the formulas our workbooks use (cell refs, SUM over ranges, ROUND, IF, + - * /, =)."""

    def __init__(self, data: bytes):
        self.wb = openpyxl.load_workbook(io.BytesIO(data))

    def value(self, sheet: str, ref: str):
        cell = self.wb[sheet][ref.replace("$", "")]
        v = cell.value
        if isinstance(v, str) and v.startswith("="):
            return self._eval(sheet, v[1:])
        return v

    def _eval(self, sheet: str, formula: str):
        def rng(m):
            cells = self.wb[sheet][f"{m.group(1)}:{m.group(2)}".replace("$", "")]
            return repr(sum(self.value(sheet, c.coordinate) or 0 for row in cells for c in row))

        expr = re.sub(r"SUM\((\$?[A-Z]+\$?\d+):(\$?[A-Z]+\$?\d+)\)", rng, formula)
        expr = re.sub(r"(?<![A-Z])(\$?[A-Z]{1,2}\$?\d+)", lambda m: repr(self.value(sheet, m.group(1)) or 0), expr)
        expr = expr.replace("ROUND(", "_round(").replace("IF(", "_if(")
        expr = re.sub(r"(?<![<>!=])=(?!=)", "==", expr)
        return eval(expr, {"_round": lambda x, d: int(x + 0.5) if x >= 0 else -int(-x + 0.5),
                           "_if": lambda c, a, b: a if c else b})

    def find(self, sheet: str, text: str) -> int:
        """The row whose first cell is ``text``."""
        for row in self.wb[sheet].iter_rows(min_col=1, max_col=1):
            if row[0].value == text:
                return row[0].row
        raise AssertionError(f"no row {text!r} in sheet {sheet}")

    def formulas(self, sheet: str) -> list[str]:
        return [c.value for row in self.wb[sheet].iter_rows() for c in row
                if isinstance(c.value, str) and c.value.startswith("=")]
