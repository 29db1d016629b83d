"""MIC's official files, in the layouts MIC publishes every year.

- 住民基本台帳に基づく人口、人口動態及び世帯数（市区町村別）【総計】 (population, households)
- 全市町村の主要財政指標 (財政力指数 of the 1,741 municipalities)
- 全都道府県の主要財政指標 (財政力指数 of the 47 prefectures)
- 政令指定都市の主要財政指標 (財政力指数 of the 20 designated cities; no code column, matched by name)

A file is recognised by its header row, not by its name, so renamed downloads work. Parsing never writes: the
result is the values per body code, or :class:`FileProblems` naming file, row and column.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any

from planner.domain.vocabulary import find_wareki_date, find_wareki_fiscal_year
from planner.masterdata.codes import code_problem, normalize_code

from .errors import FileProblems, Problem
from .tabular import column_label, nonblank, read_workbook, text

# The six villages of the Northern Territories have official codes and rows in the population file (without
# residents) but are not among the 1,741 municipalities.
NORTHERN_TERRITORY_CODES = frozenset({"016951", "016969", "016977", "016985", "016993", "017001"})

SOURCE_URLS = {
    "population": "https://www.soumu.go.jp/main_sosiki/jichi_gyousei/daityo/jinkou_jinkoudoutai-setaisuu.html",
    "fiscal": "https://www.soumu.go.jp/iken/shihyo_ichiran.html",
}


@dataclass(frozen=True)
class BodyIndex:
    """What the parser needs to know about the bodies in the database."""

    names: dict[str, str]  # code -> name
    kinds: dict[str, str]  # code -> kind
    prefecture_codes: dict[str, str]  # code -> prefecture code
    ward_codes: frozenset[str]  # wards of designated cities: in the population file, not bodies

    def prefecture_by_name(self) -> dict[str, str]:
        return {name: code for code, name in self.names.items() if self.kinds[code] == "prefecture"}

    def designated_by_name(self) -> dict[tuple[str, str], str]:
        pref_names = {self.prefecture_codes[c]: n for c, n in self.names.items() if self.kinds[c] == "prefecture"}
        return {
            (pref_names.get(self.prefecture_codes[c], ""), n): c
            for c, n in self.names.items()
            if self.kinds[c] == "designated_city"
        }


@dataclass
class ParsedOfficialFile:
    file_name: str
    dataset: str  # population | fiscal_municipal | fiscal_prefecture | fiscal_designated
    label: str
    as_of: date | None
    source: str
    values: dict[str, dict[str, Any]] = field(default_factory=dict)  # body code -> {field: value}
    skipped_rows: int = 0  # wards, 郡 totals, notes
    warnings: list[str] = field(default_factory=list)

    @property
    def expected_kinds(self) -> tuple[str, ...]:
        return _EXPECTED_KINDS[self.dataset]


_EXPECTED_KINDS = {
    "population": ("prefecture", "designated_city", "city", "special_ward", "town", "village"),
    "fiscal_municipal": ("designated_city", "city", "special_ward", "town", "village"),
    "fiscal_prefecture": ("prefecture",),
    "fiscal_designated": ("designated_city",),
}

_LABELS = {
    "population": "住民基本台帳に基づく人口・世帯数（市区町村別）",
    "fiscal_municipal": "全市町村の主要財政指標",
    "fiscal_prefecture": "全都道府県の主要財政指標",
    "fiscal_designated": "政令指定都市の主要財政指標",
}

_HEADER_SCAN_ROWS = 15


def parse_official_file(file_name: str, data: bytes, bodies: BodyIndex) -> ParsedOfficialFile:
    for sheet in read_workbook(file_name, data):
        found = _recognise(sheet.rows)
        if found is not None:
            dataset, header_index = found
            return _PARSERS[dataset](file_name, sheet.title, sheet.rows, header_index, bodies)
    raise FileProblems(
        [
            Problem(
                file_name,
                "ファイルの形式を認識できません。総務省の「住民基本台帳に基づく人口、人口動態及び"
                "世帯数（市区町村別）」「全市町村の主要財政指標」「全都道府県の主要財政指標」"
                "「政令指定都市の主要財政指標」の xlsx を、公表された形のまま指定してください"
                "（見出し行: 団体コード・都道府県名・市区町村名／団体名・財政力指数）",
            )
        ]
    )


def _recognise(rows: list[tuple]) -> tuple[str, int] | None:
    for i, row in enumerate(rows[:_HEADER_SCAN_ROWS]):
        cells = [text(c) for c in row]
        head = cells[:3] + [""] * (3 - len(cells[:3]))
        if head == ["団体コード", "都道府県名", "市区町村名"]:
            return "population", i
        if "財政力指数" not in cells:
            continue
        if head[:3] == ["団体コード", "都道府県名", "団体名"]:
            return "fiscal_municipal", i
        if head[:2] == ["都道府県名", "団体名"]:
            return "fiscal_designated", i
        if head[0] == "都道府県名":
            return "fiscal_prefecture", i
    return None


def _title(rows: list[tuple], header_index: int) -> str:
    for row in rows[:header_index]:
        for cell in row:
            if text(cell):
                return text(cell)
    return ""


class _Rows:
    """Collects problems and values while walking a sheet."""

    def __init__(self, parsed: ParsedOfficialFile):
        self.parsed = parsed
        self.problems: list[Problem] = []
        self.rows_of: dict[str, int] = {}

    def fail(self, row_index: int, column: str | None, message: str) -> None:
        self.problems.append(Problem(self.parsed.file_name, message, row_index + 1, column))

    def put(self, row_index: int, column: str, code: str, values: dict[str, Any]) -> None:
        if code in self.rows_of:
            self.fail(row_index, column, f"団体コード {code} が {self.rows_of[code]}行目にもあります（重複）")
            return
        self.rows_of[code] = row_index + 1
        self.parsed.values[code] = values

    def done(self) -> ParsedOfficialFile:
        if not self.problems and not self.parsed.values:
            self.problems.append(Problem(self.parsed.file_name, "データ行がありません"))
        if self.problems:
            raise FileProblems(self.problems)
        return self.parsed


# Character variants the official files use inconsistently (the population file writes 鰺ヶ沢町 and 須惠町, the
# code table 鰺ケ沢町 and 須恵町): folded before names are compared for the warnings.
_VARIANTS = str.maketrans({"ヶ": "ケ", "檮": "梼", "惠": "恵", "﨑": "崎", "髙": "高", "邊": "辺", "邉": "辺"})


def _same_name(in_file: str, registered: str) -> bool:
    """The population file prefixes 郡 names ("八重山郡与那国町"); both spell some characters either way."""
    a, b = in_file.translate(_VARIANTS), registered.translate(_VARIANTS)
    return a.endswith(b) or b.endswith(a)


def _is_summary_or_note(cells: list[str]) -> bool:
    """Totals, averages and notes that MIC puts among or after the data rows."""
    return any(re.search(r"合計|平均|^注|^※|^\(注\)", c) for c in cells[:3] if c)


def _integer(rows: _Rows, i: int, column: str, value: Any) -> int | None:
    if isinstance(value, bool) or value is None or text(value) == "":
        rows.fail(i, column, "値がありません")
        return None
    if isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    else:
        raw = text(value).replace(",", "")
        if not re.fullmatch(r"\d+", raw):
            rows.fail(i, column, f"整数ではありません: {text(value)!r}")
            return None
        number = int(raw)
    if number < 0:
        rows.fail(i, column, f"負の値です: {number}")
        return None
    return number


def _index(rows: _Rows, i: int, column: str, value: Any) -> float | None:
    """財政力指数, kept to the 2 decimals in which it is published for municipalities (the prefecture file has
    5; rounding them the same way keeps every body comparable)."""
    if isinstance(value, bool) or value is None or text(value) == "":
        rows.fail(i, column, "値がありません")
        return None
    try:
        number = Decimal(str(value)) if isinstance(value, (int, float)) else Decimal(text(value).replace(",", ""))
    except InvalidOperation:
        rows.fail(i, column, f"数値ではありません: {text(value)!r}")
        return None
    if not number.is_finite() or number < 0 or number > 10:
        rows.fail(i, column, f"財政力指数として範囲外の値です: {text(value)}")
        return None
    return float(number.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def _find_column(rows: _Rows, header: tuple, name: str, header_index: int) -> int | None:
    cells = [text(c) for c in header]
    if name not in cells:
        rows.fail(header_index, None, f"見出し「{name}」の列がありません")
        return None
    return cells.index(name)


def _parse_population(
    file_name: str, sheet_title: str, rows: list[tuple], header_index: int, bodies: BodyIndex
) -> ParsedOfficialFile:
    title = _title(rows, header_index)
    parsed = ParsedOfficialFile(
        file_name,
        "population",
        _LABELS["population"],
        find_wareki_date(title),
        f"総務省「{title or _LABELS['population']}」",
    )
    out = _Rows(parsed)
    scope = title + sheet_title
    if ("日本人" in scope or "外国人" in scope) and "総計" not in scope:
        out.fail(
            0, None, "日本人住民または外国人住民だけの表です。「総計」の表（市区町村別【総計】）を取り込んでください"
        )
        return out.done()
    # The header is several rows deep: ("人口", "計") is the population, ("世帯数") the households.
    stack = [
        " ".join(text(rows[r][c]) if c < len(rows[r]) else "" for r in range(header_index))
        for c in range(len(rows[header_index]))
    ]
    pop_col = next((c for c, s in enumerate(stack) if "人口" in s.split() and "計" in s.split()), None)
    hh_col = next((c for c, s in enumerate(stack) if "世帯数" in s.split()), None)
    if pop_col is None or hh_col is None:
        missing = "「人口・計」" if pop_col is None else "「世帯数」"
        out.fail(header_index, None, f"見出しに{missing}の列がありません")
        return out.done()
    pop_label = column_label(pop_col, "人口 計")
    hh_label = column_label(hh_col, "世帯数")
    code_label = column_label(0, "団体コード")
    for i, row in nonblank(rows[header_index + 1 :]):
        i += header_index + 1
        cells = [text(c) for c in row[:3]] + [""] * 3
        code = normalize_code(row[0])
        if _is_summary_or_note(cells) and code_problem(code or "") is not None:
            parsed.skipped_rows += 1
            continue
        if not code or code == "-":
            out.fail(i, code_label, "団体コードがありません")
            continue
        problem = code_problem(code, bodies.names)
        if problem:
            out.fail(i, code_label, problem)
            continue
        name = cells[2]
        if code not in bodies.names:
            if code in bodies.ward_codes or code in NORTHERN_TERRITORY_CODES or name.endswith("郡") or name == "島しょ":
                parsed.skipped_rows += 1  # wards, 郡 and 島しょ totals: not bodies
            else:
                out.fail(i, code_label, f"団体コード {code}（{name}）に当たる団体がありません")
            continue
        population = _integer(out, i, pop_label, row[pop_col] if pop_col < len(row) else None)
        households = _integer(out, i, hh_label, row[hh_col] if hh_col < len(row) else None)
        if population is None or households is None:
            continue
        expected = bodies.names[code]
        shown = cells[1] if name in ("", "-") else name
        if not _same_name(shown, expected):
            parsed.warnings.append(
                f"{file_name} {i + 1}行目: 団体コード {code} の名称が「{shown}」です"
                f"（登録名「{expected}」）。コードで照合しました"
            )
        out.put(i, code_label, code, {"population": population, "households": households})
    return out.done()


def _parse_fiscal_municipal(
    file_name: str, sheet_title: str, rows: list[tuple], header_index: int, bodies: BodyIndex
) -> ParsedOfficialFile:
    title = _title(rows, header_index)
    parsed = _fiscal_file(file_name, "fiscal_municipal", title)
    out = _Rows(parsed)
    fsi_col = _find_column(out, rows[header_index], "財政力指数", header_index)
    if fsi_col is None:
        return out.done()
    code_label = column_label(0, "団体コード")
    fsi_label = column_label(fsi_col, "財政力指数")
    for i, row in nonblank(rows[header_index + 1 :]):
        i += header_index + 1
        cells = [text(c) for c in row[:3]] + [""] * 3
        code = normalize_code(row[0])
        if _is_summary_or_note(cells) and code_problem(code or "") is not None:
            parsed.skipped_rows += 1
            continue
        if not code:
            out.fail(i, code_label, "団体コードがありません")
            continue
        problem = code_problem(code, bodies.names)
        if problem:
            out.fail(i, code_label, problem)
            continue
        if code not in bodies.names or bodies.kinds[code] == "prefecture":
            out.fail(i, code_label, f"団体コード {code}（{cells[2]}）に当たる市区町村がありません")
            continue
        fsi = _index(out, i, fsi_label, row[fsi_col] if fsi_col < len(row) else None)
        if fsi is None:
            continue
        if cells[2] and not _same_name(cells[2], bodies.names[code]):
            parsed.warnings.append(
                f"{file_name} {i + 1}行目: 団体コード {code} の名称が「{cells[2]}」です"
                f"（登録名「{bodies.names[code]}」）。コードで照合しました"
            )
        out.put(i, code_label, code, {"fiscal_strength_index": fsi})
    return out.done()


def _parse_fiscal_by_name(
    file_name: str,
    rows: list[tuple],
    header_index: int,
    dataset: str,
    lookup: Callable[[list[str]], tuple[str | None, str, str]],
) -> ParsedOfficialFile:
    title = _title(rows, header_index)
    parsed = _fiscal_file(file_name, dataset, title)
    out = _Rows(parsed)
    fsi_col = _find_column(out, rows[header_index], "財政力指数", header_index)
    if fsi_col is None:
        return out.done()
    fsi_label = column_label(fsi_col, "財政力指数")
    for i, row in nonblank(rows[header_index + 1 :]):
        i += header_index + 1
        cells = [text(c) for c in row[:3]] + [""] * 3
        if _is_summary_or_note(cells):
            parsed.skipped_rows += 1
            continue
        code, key_label, problem = lookup(cells)
        if code is None:
            out.fail(i, key_label, problem)
            continue
        fsi = _index(out, i, fsi_label, row[fsi_col] if fsi_col < len(row) else None)
        if fsi is not None:
            out.put(i, key_label, code, {"fiscal_strength_index": fsi})
    return out.done()


def _parse_fiscal_prefecture(
    file_name: str, sheet_title: str, rows: list[tuple], header_index: int, bodies: BodyIndex
) -> ParsedOfficialFile:
    by_name = bodies.prefecture_by_name()
    label = column_label(0, "都道府県名")

    def lookup(cells: list[str]) -> tuple[str | None, str, str]:
        return by_name.get(cells[0]), label, f"都道府県名「{cells[0]}」に当たる都道府県がありません"

    return _parse_fiscal_by_name(file_name, rows, header_index, "fiscal_prefecture", lookup)


def _parse_fiscal_designated(
    file_name: str, sheet_title: str, rows: list[tuple], header_index: int, bodies: BodyIndex
) -> ParsedOfficialFile:
    by_name = bodies.designated_by_name()
    label = column_label(1, "団体名")

    def lookup(cells: list[str]) -> tuple[str | None, str, str]:
        return by_name.get((cells[0], cells[1])), label, f"「{cells[0]} {cells[1]}」に当たる政令指定都市がありません"

    return _parse_fiscal_by_name(file_name, rows, header_index, "fiscal_designated", lookup)


def _fiscal_file(file_name: str, dataset: str, title: str) -> ParsedOfficialFile:
    year = find_wareki_fiscal_year(title)
    # A fiscal year's settled accounts (決算) describe the year ending on 31 March.
    as_of = date(year + 1, 3, 31) if year else None
    return ParsedOfficialFile(file_name, dataset, _LABELS[dataset], as_of, f"総務省「{title or _LABELS[dataset]}」")


_PARSERS = {
    "population": _parse_population,
    "fiscal_municipal": _parse_fiscal_municipal,
    "fiscal_prefecture": _parse_fiscal_prefecture,
    "fiscal_designated": _parse_fiscal_designated,
}
