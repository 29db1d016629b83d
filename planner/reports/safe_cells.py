"""Spreadsheet cells that never run user text as a formula (CSV/formula injection).

Names of bodies, scenarios and categories are typed by people (or come from files people edit); a spreadsheet
would run a cell such as ``=HYPERLINK("http://…"&A1)`` or ``+cmd|…`` when a finance section opens the export.
"""
from __future__ import annotations

import re

FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# The formulas the workbooks build themselves: cell references, numbers, arithmetic and SUM/ROUND/IF. Nothing that
# can reach outside the workbook (HYPERLINK, WEBSERVICE, DDE's "|") fits this pattern.
_OWN_FORMULA = re.compile(r"=(?:(?:SUM|ROUND|IF)\(|\$?[A-Z]{1,3}\$?\d+|\d+(?:\.\d+)?|[-+*/=<>(),:])+")


def starts_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def is_own_formula(value: str) -> bool:
    return _OWN_FORMULA.fullmatch(value) is not None


def csv_text(value: object) -> object:
    """A CSV field: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + value if starts_like_formula(value) else value
