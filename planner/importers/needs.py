"""Needs from a CSV or XLSX list as municipalities send them.

The first non-blank row is the header, in Japanese or English: 団体コード/body_code, 団体名/body_name,
分野ID/category_id or 分野/分野名/category (an id or a name), 利用量/volume, 開始年度/start_year,
幹事方式可/accepts_lead, 仕様統一可/accepts_unified, 幹事可/can_lead,
条件不利地域の住民サービス/serves_disadvantaged_area, 備考/notes. Other columns are ignored, so a file
exported from the needs list reads back. Text is normalised (NFKC) first, so full-width digits and letters work;
volumes may have thousands separators; fiscal years may be 2026, 2026年度, 令和8年度, 令和8, R8 or H30.
Yes/no cells take ○/×, 1/0, 可/不可, はい/いいえ, true/false; a blank cell is "no", and a missing column keeps the
default (joint modes accepted, not willing to lead).

Parsing never writes anything: it returns every row it understood and every problem by row and column, and the
service imports only a file without problems.
"""
from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from planner.domain.vocabulary import parse_fiscal_year
from planner.masterdata.codes import code_problem, normalize_code

from .errors import FileProblems, Problem
from .tabular import column_label, decode_csv, nonblank, open_workbook, sheet_rows, text

MAX_ROWS = 20000
MAX_NOTES = 1000
MAX_VOLUME = 100_000_000
FIRST_YEAR, LAST_YEAR = 2019, 2060

_HEADERS = {
    "body_code": "body_code", "code": "body_code", "団体コード": "body_code", "コード": "body_code",
    "地方公共団体コード": "body_code",
    "body_name": "body_name", "団体名": "body_name", "市区町村名": "body_name", "自治体名": "body_name",
    "category_id": "category_id", "分野id": "category_id", "分野コード": "category_id",
    "category": "category", "分野": "category", "分野名": "category", "category_name": "category",
    "volume": "volume", "利用量": "volume", "数量": "volume", "想定利用量": "volume",
    "start_year": "start_year", "開始年度": "start_year", "導入年度": "start_year", "導入希望年度": "start_year",
    "accepts_lead": "accepts_lead", "幹事方式可": "accepts_lead", "幹事方式": "accepts_lead",
    "accepts_unified": "accepts_unified", "仕様統一可": "accepts_unified", "仕様統一方式可": "accepts_unified",
    "仕様統一方式": "accepts_unified",
    "can_lead": "can_lead", "幹事可": "can_lead", "幹事希望": "can_lead", "幹事を引き受ける": "can_lead",
    "serves_disadvantaged_area": "serves_disadvantaged_area", "条件不利地域の住民サービス": "serves_disadvantaged_area",
    "住民サービス（条件不利地域）": "serves_disadvantaged_area", "住民サービス(条件不利地域)": "serves_disadvantaged_area",
    "notes": "notes", "備考": "notes", "note": "notes",
}
FIELD_LABELS = {"body_code": "団体コード", "body_name": "団体名", "category": "分野", "category_id": "分野ID",
                "volume": "利用量", "start_year": "開始年度", "accepts_lead": "幹事方式可",
                "accepts_unified": "仕様統一可", "can_lead": "幹事可",
                "serves_disadvantaged_area": "条件不利地域の住民サービス", "notes": "備考"}
BOOL_DEFAULTS = {"accepts_lead": True, "accepts_unified": True, "can_lead": False,
                 "serves_disadvantaged_area": False}
_TRUE = {"○", "◯", "〇", "o", "1", "true", "yes", "y", "はい", "可", "あり", "有", "する", "✓", "✔"}
_FALSE = {"", "×", "✕", "x", "0", "false", "no", "n", "いいえ", "不可", "なし", "無", "しない", "-", "ー", "―", "—"}


@dataclass(frozen=True)
class NeedRow:
    row: int  # 1-based, as the spreadsheet shows it
    body_code: str
    category_id: str
    volume: float
    start_year: int
    accepts_lead: bool
    accepts_unified: bool
    can_lead: bool
    notes: str
    serves_disadvantaged_area: bool = False


@dataclass
class ParsedNeeds:
    file_name: str
    rows: list[NeedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> column label, for the preview
    data_rows: int = 0

    @property
    def ok(self) -> bool:
        return not self.problems and bool(self.rows)

    def problems_by_row(self) -> dict[int | None, list[Problem]]:
        out: dict[int | None, list[Problem]] = {}
        for p in self.problems:
            out.setdefault(p.row, []).append(p)
        return out


@dataclass(frozen=True)
class Lookups:
    """What a row is checked against: known bodies (code -> (name, prefecture code)), categories (id -> name),
    and whether the importing user may change a body's needs."""

    bodies: Mapping[str, tuple[str, str]]
    categories: Mapping[str, str]
    may_edit: Callable[[str], bool]


def fiscal_year(value: Any) -> int | None:
    """2026, 2026.0, "2026年度", "令和8年度", "令和元年度", "R8", "H30" -> the fiscal year; None if not a year."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (not math.isfinite(value) or not value.is_integer()):
            return None
        return int(value)
    return parse_fiscal_year(text(value))


def volume_value(value: Any) -> float | None:
    """A volume cell: a number, or text with thousands separators and full-width digits."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        v = float(value)
    else:
        raw = text(value).replace(",", "").replace("、", "").replace(" ", "")
        if not re.fullmatch(r"[+]?(\d+(\.\d*)?|\.\d+)", raw):
            return None
        v = float(raw)
    return v if math.isfinite(v) else None


def yes_no(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    raw = text(value).lower()
    if raw in _TRUE:
        return True
    if raw in _FALSE:
        return False
    return None


def _key(name: str) -> str:
    return unicodedata.normalize("NFKC", name).strip().lower().replace(" ", "").replace("　", "")


def read_rows(file_name: str, data: bytes) -> list[tuple[Any, ...]]:
    """The cells of the first sheet (XLSX) or of the CSV text; the file type is judged from its content."""
    if not data:
        raise FileProblems([Problem(file_name, "空のファイルです")])
    if data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        workbook = open_workbook(file_name, data)
        try:
            if not workbook.worksheets:
                raise FileProblems([Problem(file_name, "シートがありません")])
            return sheet_rows(workbook.worksheets[0])
        finally:
            workbook.close()
    try:
        return [tuple(r) for r in decode_csv(file_name, data)]
    except Exception as e:  # csv.Error on malformed quoting, for example
        if isinstance(e, FileProblems):
            raise
        raise FileProblems([Problem(file_name, f"CSV として読めません（{e}）")]) from e


def parse_needs_file(file_name: str, data: bytes, lookups: Lookups) -> ParsedNeeds:
    """Every row's values and problems. File-level problems (unreadable, no header) raise FileProblems."""
    lines = list(nonblank(read_rows(file_name, data)))
    if not lines:
        raise FileProblems([Problem(file_name, "データがありません（空のファイルです）")])
    header_index, header = lines[0]
    columns: dict[str, int] = {}
    for c, cell in enumerate(header):
        key = _HEADERS.get(_key(text(cell)))
        if key and key not in columns:
            columns[key] = c
    missing = [FIELD_LABELS[k] for k in ("volume", "start_year") if k not in columns]
    if "body_code" not in columns and "body_name" not in columns:
        missing.insert(0, "団体コード（または団体名）")
    if "category_id" not in columns and "category" not in columns:
        missing.insert(1, "分野ID（または分野）")
    if missing:
        raise FileProblems([Problem(file_name, f"見出し行に {'、'.join(missing)} の列がありません（1行目を見出し行にして"
                                               "ください）", header_index + 1)])
    if len(lines) - 1 > MAX_ROWS:
        raise FileProblems([Problem(file_name, f"行が多すぎます（{len(lines) - 1}行）。{MAX_ROWS}行以下に分けてください")])

    parsed = ParsedNeeds(file_name, data_rows=len(lines) - 1)
    labels = {k: column_label(c, text(header[c])) for k, c in columns.items()}
    parsed.columns = labels
    names = _name_index(lookups)
    category_names = {_key(name): cid for cid, name in lookups.categories.items()}
    category_ids = {_key(cid): cid for cid in lookups.categories}
    seen: dict[tuple[str, str], int] = {}

    for i, row in lines[1:]:
        number = i + 1
        problems: list[Problem] = []

        def cell(key: str) -> Any:
            c = columns.get(key)
            return row[c] if c is not None and c < len(row) else None

        def fail(key: str, message: str) -> None:
            problems.append(Problem(file_name, message, number, labels.get(key)))

        body_code = _body(cell, columns, lookups, names, fail)
        category_id = _category(cell, columns, category_ids, category_names, lookups, fail)

        volume = volume_value(cell("volume"))
        raw_volume = text(cell("volume"))
        if raw_volume == "" and not isinstance(cell("volume"), (int, float)):
            fail("volume", "利用量がありません")
        elif volume is None:
            fail("volume", f"利用量「{raw_volume}」が数値ではありません（単位は付けずに数値だけを入力してください）")
        elif volume <= 0:
            fail("volume", f"利用量は0より大きい数値にしてください（{raw_volume}）")
        elif volume > MAX_VOLUME:
            fail("volume", f"利用量 {raw_volume} が大きすぎます（{MAX_VOLUME:,}以下）")

        year = fiscal_year(cell("start_year"))
        raw_year = text(cell("start_year"))
        if raw_year == "":
            fail("start_year", "開始年度がありません")
        elif year is None:
            fail("start_year", f"開始年度「{raw_year}」を読めません（2026、令和8年度、R8 のように入力してください）")
        elif not FIRST_YEAR <= year <= LAST_YEAR:
            fail("start_year", f"開始年度 {year}年度 は範囲外です（{FIRST_YEAR}〜{LAST_YEAR}年度）")

        flags: dict[str, bool] = {}
        for key, default in BOOL_DEFAULTS.items():
            if key not in columns:
                flags[key] = default
                continue
            value = yes_no(cell(key))
            if value is None:
                fail(key, f"「{text(cell(key))}」は使えません（○/×、1/0、可/不可、はい/いいえ のいずれか）")
            else:
                flags[key] = value

        notes = text(cell("notes")) if "notes" in columns else ""
        if len(notes) > MAX_NOTES:
            fail("notes", f"備考が長すぎます（{len(notes)}文字、{MAX_NOTES}文字以内）")

        if body_code and category_id:
            first = seen.get((body_code, category_id))
            if first is not None:
                fail("category_id" if "category_id" in columns else "category",
                     f"同じ団体・分野の行が {first}行目にもあります（1団体1分野につき1行にしてください）")
            else:
                seen[(body_code, category_id)] = number

        if problems:
            parsed.problems.extend(problems)
        else:
            parsed.rows.append(NeedRow(row=number, body_code=body_code, category_id=category_id, volume=volume,
                                       start_year=year, notes=notes, **flags))
    if parsed.data_rows == 0:
        parsed.problems.append(Problem(file_name, "データ行がありません（見出し行の下にニーズを1行ずつ入力してください）",
                                       header_index + 1))
    return parsed


def _name_index(lookups: Lookups) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for code, (name, _pref) in lookups.bodies.items():
        out.setdefault(_key(name), []).append(code)
    return out


def _body(cell, columns, lookups: Lookups, names, fail) -> str | None:
    code = None
    if "body_code" in columns:
        raw = cell("body_code")
        code = normalize_code(raw if isinstance(raw, (int, float)) and not isinstance(raw, bool) else text(raw))
        if code:
            problem = code_problem(code)
            if problem:
                fail("body_code", problem)
                return None
            if code not in lookups.bodies:
                fail("body_code", f"団体コード {code} に当たる団体がありません")
                return None
    name = text(cell("body_name")) if "body_name" in columns else ""
    if not code:
        if not name:
            fail("body_code" if "body_code" in columns else "body_name", "団体コードがありません")
            return None
        candidates = names.get(_key(name), [])
        if len(candidates) != 1:
            fail("body_name", f"団体名「{name}」" + ("に当たる団体がありません" if not candidates else
                                                "の団体が複数あります（団体コードを入力してください）"))
            return None
        code = candidates[0]
    elif name and _key(name) != _key(lookups.bodies[code][0]):
        fail("body_name", f"団体名「{name}」が団体コード {code}（{lookups.bodies[code][0]}）と一致しません")
        return None
    if not lookups.may_edit(code):
        fail("body_code" if "body_code" in columns else "body_name",
             f"{lookups.bodies[code][0]}（{code}）のニーズを登録する権限がありません")
        return None
    return code


def _category(cell, columns, ids, names, lookups: Lookups, fail) -> str | None:
    key = "category_id" if "category_id" in columns else "category"
    raw = text(cell(key))
    if not raw and key == "category_id" and "category" in columns:
        key, raw = "category", text(cell("category"))
    if not raw:
        fail(key, "分野がありません")
        return None
    found = ids.get(_key(raw)) or names.get(_key(raw))
    if found is None:
        choices = "、".join(f"{cid}（{name}）" for cid, name in list(lookups.categories.items())[:12])
        fail(key, f"分野「{raw}」がありません（使える分野: {choices}）")
    return found
