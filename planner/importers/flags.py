"""Body flags from a CSV or XLSX list: 条件不利地域 (disadvantaged), 市町村官民データ活用推進計画 (has_data_plan) and
普通交付税の不交付団体 (no_allocation_tax).

Columns (first row is the header; English or Japanese names): code / 団体コード, disadvantaged / 条件不利地域,
has_data_plan / 官民データ活用推進計画, no_allocation_tax / 不交付団体. Values 1/0, true/false, ○/×, あり/なし; a blank cell leaves the flag as it is.
Other columns (a name column, notes) are ignored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from planner.masterdata.codes import code_problem, normalize_code

from .errors import FileProblems, Problem
from .tabular import column_label, decode_csv, nonblank, read_workbook, text

FLAG_FIELDS = ("disadvantaged", "has_data_plan", "no_allocation_tax")

_HEADERS = {
    "code": "code",
    "団体コード": "code",
    "コード": "code",
    "disadvantaged": "disadvantaged",
    "条件不利地域": "disadvantaged",
    "条件不利": "disadvantaged",
    "has_data_plan": "has_data_plan",
    "官民データ活用推進計画": "has_data_plan",
    "市町村官民データ活用推進計画": "has_data_plan",
    "データ活用推進計画": "has_data_plan",
    "no_allocation_tax": "no_allocation_tax",
    "不交付団体": "no_allocation_tax",
    "普通交付税不交付団体": "no_allocation_tax",
    "普通交付税の不交付団体": "no_allocation_tax",
}
_TRUE = {"1", "true", "○", "〇", "◯", "あり", "有", "はい", "yes"}
_FALSE = {"0", "false", "×", "✕", "なし", "無", "いいえ", "no", "-", "ー"}


@dataclass
class ParsedFlags:
    file_name: str
    values: dict[str, dict[str, bool]] = field(default_factory=dict)  # code -> {flag: value}; blank cells omitted
    rows: dict[str, int] = field(default_factory=dict)  # code -> 1-based row


def parse_flags_file(file_name: str, data: bytes, known_codes: set[str] | frozenset[str]) -> ParsedFlags:
    if data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        rows = read_workbook(file_name, data, first_sheet_only=True)[0].rows
    else:
        rows = [tuple(r) for r in decode_csv(file_name, data)]
    lines = list(nonblank(rows))
    if not lines:
        raise FileProblems([Problem(file_name, "空のファイルです")])
    header_index, header = lines[0]
    columns: dict[str, int] = {}
    for c, cell in enumerate(header):
        key = _HEADERS.get(text(cell).lower()) or _HEADERS.get(text(cell))
        if key and key not in columns:
            columns[key] = c
    if "code" not in columns or not any(f in columns for f in FLAG_FIELDS):
        raise FileProblems(
            [
                Problem(
                    file_name,
                    "見出し行に code（団体コード）と disadvantaged（条件不利地域）・has_data_plan"
                    "（官民データ活用推進計画）・no_allocation_tax（不交付団体）の少なくとも1つが"
                    "必要です",
                    header_index + 1,
                )
            ]
        )
    parsed = ParsedFlags(file_name)
    problems: list[Problem] = []
    code_label = column_label(columns["code"], text(header[columns["code"]]))
    for i, row in lines[1:]:
        # the row is bound now: the helper belongs to this line of the file only
        def cell(key: str, row: tuple[Any, ...] = row) -> Any:
            return row[columns[key]] if columns[key] < len(row) else None

        code = normalize_code(cell("code"))
        problem = code_problem(code or "", known_codes) if code else "団体コードがありません"
        if problem is None and code not in known_codes:
            problem = f"団体コード {code} に当たる団体がありません"
        if problem or code is None:  # a missing code has its problem too
            problems.append(Problem(file_name, problem or "団体コードがありません", i + 1, code_label))
            continue
        if code in parsed.rows:
            problems.append(
                Problem(
                    file_name, f"団体コード {code} が {parsed.rows[code]}行目にもあります（重複）", i + 1, code_label
                )
            )
            continue
        values: dict[str, bool] = {}
        for key in FLAG_FIELDS:
            if key not in columns:
                continue
            raw = text(cell(key))
            if raw == "":
                continue
            if raw.lower() in _TRUE:
                values[key] = True
            elif raw.lower() in _FALSE:
                values[key] = False
            else:
                problems.append(
                    Problem(
                        file_name,
                        f"値「{raw}」は使えません（1/0、true/false、○/×、あり/なし のいずれか）",
                        i + 1,
                        column_label(columns[key], text(header[columns[key]])),
                    )
                )
        parsed.rows[code] = i + 1
        parsed.values[code] = values
    if problems:
        raise FileProblems(problems)
    if not parsed.values:
        raise FileProblems([Problem(file_name, "データ行がありません")])
    return parsed
