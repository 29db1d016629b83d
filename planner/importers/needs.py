"""Needs from a CSV or XLSX list as municipalities send them.

The first non-blank row is the header, in Japanese or English: 団体コード/body_code, 団体名/body_name,
分野ID/category_id or 分野/分野名/category (an id or a name), 利用量/volume, 開始年度/start_year,
幹事方式可/accepts_lead, 仕様統一可/accepts_unified, 幹事可/can_lead,
条件不利地域の住民サービス/serves_disadvantaged_area, 備考/notes. Other columns are ignored, so a file
exported from the needs list reads back. Cells are normalised (NFKC) first, so full-width digits and letters work
(備考 is kept as typed); volumes may have thousands separators; fiscal years may be 2026, 2026年度, 令和8年度, 令和8, R8 or H30.
Yes/no cells take ○/×, 1/0, 可/不可, はい/いいえ, true/false; a blank cell is "no", and a missing column keeps the
default (joint modes accepted, not willing to lead).

Headers may carry a note in brackets (「利用量（年間）」, 「利用量（千枚/年）」); categories may be given by id, by
name, or by the usual short names (「AI-OCR」, 「音声認識」, 「生成AI」, each part of a name before or inside its
brackets); a 5-digit body code without its check digit gets it computed. Start years are accepted from the year
before the current fiscal year to five years after it (a plan is made for the coming years, not for 令和30年度).
A row accepting neither joint mode is read with a warning: it is registered for standalone introduction only.
A 状態 column (as the needs export writes it) makes 取下げ rows be skipped, so an export reads back unchanged.

Parsing never writes anything: it returns every row it understood and every problem by row and column, and the
service imports only a file without problems.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from planner.domain import need_fields
from planner.domain.vocabulary import (
    NEED_FIELD_LABELS,
    fiscal_year_of,
    parse_fiscal_year,
    starts_like_formula,
    wareki_fiscal_year,
)
from planner.masterdata.codes import code_problem, normalize_code, with_check_digit

from .errors import FileProblems, Problem
from .tabular import column_label, decode_csv, nonblank, own_text, read_workbook, text

MAX_ROWS = 20000
MAX_NOTES = 1000
MAX_VOLUME = int(need_fields.field("volume").largest or 0)
FIRST_YEAR, LAST_YEAR = 2019, 2060  # what the database may hold at all
YEARS_BEFORE, YEARS_AFTER = 1, 5  # start years accepted around the current fiscal year (import and form)


def current_fiscal_year(today: date | None = None) -> int:
    """The fiscal year (April to March) of ``today``."""
    return fiscal_year_of(today or date.today())


def accepted_start_years(fiscal: int) -> range:
    """The start years a need may be registered for in fiscal year ``fiscal``: last year (a need already under
    way) to five years ahead, the longest a joint procurement is planned for."""
    return range(max(FIRST_YEAR, fiscal - YEARS_BEFORE), min(LAST_YEAR, fiscal + YEARS_AFTER) + 1)


def year_label(year: int) -> str:
    """2026 -> 2026年度（令和8年度）, the wording of the messages."""
    return f"{year}年度（{wareki_fiscal_year(year)}）"


# The columns that say which need a row is (body and category); a need's own fields' columns are declared with the
# fields (planner.domain.need_fields: heading and spellings), and every spelling is compared as _key leaves it.
_ROW_HEADERS = {
    "body_code": ("body_code", "code", "団体コード", "コード", "地方公共団体コード"),
    "body_name": ("body_name", "団体名", "市区町村名", "自治体名"),
    "category_id": ("category_id", "分野id", "分野コード"),
    "category": ("category", "分野", "分野名", "category_name"),
}
# Usual ways of writing a category that neither its id nor a part of its name covers.
CATEGORY_ALIASES = {
    "ocr": ("aiocr", "ocr", "文字認識", "手書き文字認識"),
    "speech": ("音声認識", "会議録作成", "議事録作成", "文字起こし", "音声文字起こし"),
    "genai": ("生成ai", "生成系ai", "chatgpt", "対話型生成ai"),
    "chatbot": ("aiチャットボット", "チャットボット", "chatbot"),
    "matching": ("aiマッチング", "保育所マッチング"),
    "image": ("画像認識", "動画認識", "画像動画認識"),
    "optimal": ("最適解表示",),
    "forecast": ("数値予測", "予測"),
}
START_YEAR = NEED_FIELD_LABELS["start_year"]  # 導入希望年度 (the file may head it 開始年度 or 導入年度 too)
# The file's column headings of the row's body and category (short, as the template and the export write them);
# _ROW_HEADERS accepts more spellings
ROW_LABELS = {"body_code": "団体コード", "body_name": "団体名", "category": "分野", "category_id": "分野ID"}


def field_labels() -> dict[str, str]:
    """Every column's heading as the file writes it: the row's body and category, then the need's fields."""
    return {**ROW_LABELS, **{f.key: f.heading for f in need_fields.FIELDS.values() if f.heading and f.editable}}


def _headers() -> dict[str, str]:
    """Each accepted heading (as _key leaves it) -> the field it names."""
    out: dict[str, str] = {}
    spellings = [(key, names) for key, names in _ROW_HEADERS.items()]
    spellings += [(f.key, (f.key, f.heading, *f.spellings)) for f in need_fields.FIELDS.values() if f.heading]
    for key, names in spellings:
        for name in names:
            out.setdefault(_key(name), key)
    return out


def baseline_limits() -> dict[str, float]:
    """The optional numbers a file may give beside the volume, with their largest accepted value."""
    return {
        f.key: f.largest
        for f in need_fields.FIELDS.values()
        if f.kind == "number" and f.key != "volume" and f.largest is not None
    }


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
    warnings: tuple[str, ...] = ()  # read, but worth a look before importing (shown in the preview)
    # The optional fields the file has a column for; an update keeps a registered need's other values (a file
    # without 備考 does not erase the notes), a new need takes the defaults.
    given: frozenset[str] = frozenset(
        ("accepts_lead", "accepts_unified", "can_lead", "serves_disadvantaged_area", "notes")
    )
    serves_disadvantaged_area: bool = False
    baseline_minutes_per_unit: float | None = None  # optional; read only when its column is there
    baseline_hours_per_year: float | None = None


@dataclass
class ParsedNeeds:
    file_name: str
    rows: list[NeedRow] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    columns: dict[str, str] = field(default_factory=dict)  # field -> column label, for the preview
    data_rows: int = 0
    skipped: list[Problem] = field(default_factory=list)  # rows deliberately not imported, with the reason

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
    fiscal_year: int | None = None  # the start-year window's centre; None: the current fiscal year


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
        raw = text(value).replace(",", "").replace("、", "").replace(" ", "").replace("\u2212", "-")
        if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", raw):
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


_BRACKETED = re.compile(r"[(\[【][^)\]】]*[)\]】]")


def _header_field(cell: Any, headers: Mapping[str, str]) -> str | None:
    """The field a header cell names: exactly, or once a bracketed note is dropped (利用量（年間） -> 利用量)."""
    key = _key(text(cell))
    return headers.get(key) or headers.get(_BRACKETED.sub("", key))


def _category_key(name: str) -> str:
    return re.sub(r"[-‐・･_/.]", "", _key(name))


def category_index(categories: Mapping[str, str]) -> dict[str, str]:
    """Every accepted spelling of each category (normalised) -> its id: the id, the name, each part of the name
    outside and inside its brackets, and the usual aliases. A spelling two categories share is left out."""
    spellings: dict[str, set[str]] = {}

    def add(spelling: str, cid: str) -> None:
        key = _category_key(spelling)
        if key:
            spellings.setdefault(key, set()).add(cid)

    for cid, name in categories.items():
        add(cid, cid)
        add(name, cid)
        normal = unicodedata.normalize("NFKC", name)
        add(_BRACKETED.sub("", normal), cid)
        for inner in re.findall(r"[(\[【]([^)\]】]*)[)\]】]", normal):
            for part in re.split(r"[・、,]", inner):
                add(part, cid)
        for alias in CATEGORY_ALIASES.get(cid, ()):
            add(alias, cid)
    exact = {_category_key(cid): cid for cid in categories} | {_category_key(n): c for c, n in categories.items()}
    return {
        key: (exact.get(key) or next(iter(cids))) for key, cids in spellings.items() if len(cids) == 1 or key in exact
    }


def read_rows(file_name: str, data: bytes) -> list[tuple[Any, ...]]:
    """The cells of the first sheet (XLSX) or of the CSV text; the file type is judged from its content."""
    if not data:
        raise FileProblems([Problem(file_name, "空のファイルです")])
    if data[:2] == b"PK" or data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        # a header and a few blank or note lines beyond the data rows; more than that is refused while reading
        return read_workbook(file_name, data, max_rows=MAX_ROWS + 100, first_sheet_only=True)[0].rows
    try:
        return [tuple(r) for r in decode_csv(file_name, data, max_rows=MAX_ROWS + 100)]
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
    headers = _headers()
    for c, cell in enumerate(header):
        key = _header_field(cell, headers)
        if key and key not in columns:
            columns[key] = c
    missing = [need_fields.heading(k) for k in ("volume", "start_year") if k not in columns]
    if "body_code" not in columns and "body_name" not in columns:
        missing.insert(0, "団体コード（または団体名）")
    if "category_id" not in columns and "category" not in columns:
        missing.insert(1, "分野ID（または分野）")
    if missing:
        raise FileProblems(
            [
                Problem(
                    file_name,
                    f"見出し行に {'、'.join(missing)} の列がありません（1行目を見出し行にしてください）",
                    header_index + 1,
                )
            ]
        )
    if len(lines) - 1 > MAX_ROWS:
        raise FileProblems(
            [Problem(file_name, f"行が多すぎます（{len(lines) - 1}行）。{MAX_ROWS}行以下に分けてください")]
        )

    parsed = ParsedNeeds(file_name, data_rows=len(lines) - 1)
    labels = {k: column_label(c, text(header[c])) for k, c in columns.items()}
    parsed.columns = labels
    names = _name_index(lookups)
    spellings = category_index(lookups.categories)
    years = accepted_start_years(lookups.fiscal_year or current_fiscal_year())
    seen: dict[tuple[str, str], int] = {}
    flags_given, limits = need_fields.flag_defaults(), baseline_limits()
    optional_given = frozenset(k for k in (*flags_given, "notes", *limits) if k in columns)

    for i, row in lines[1:]:
        number = i + 1
        problems: list[Problem] = []

        # row, number and problems are bound now: these helpers belong to this line of the file only
        def cell(key: str, row: tuple[Any, ...] = row) -> Any:
            c = columns.get(key)
            return row[c] if c is not None and c < len(row) else None

        def fail(key: str, message: str, problems: list[Problem] = problems, number: int = number) -> None:
            problems.append(Problem(file_name, message, number, labels.get(key)))

        if "status" in columns and text(cell("status")) in ("取下げ", "取り下げ", "withdrawn"):
            parsed.skipped.append(
                Problem(file_name, "状態が「取下げ」の行は取り込みません", number, labels.get("status"))
            )
            continue

        body_code = _body(cell, columns, lookups, names, fail)
        category_id = _category(cell, columns, spellings, lookups, fail)

        volume = volume_value(cell("volume"))
        raw_volume = text(cell("volume"))
        if raw_volume == "" and not isinstance(cell("volume"), (int, float)):
            fail("volume", "利用量がありません")
        elif volume is None:
            fail("volume", f"利用量「{raw_volume}」が数値ではありません（単位は付けずに数値だけを入力してください）")
        elif volume <= 0:
            fail("volume", f"利用量は0より大きい数値にしてください（「{raw_volume}」と入力されています）")
        elif volume > MAX_VOLUME:
            fail("volume", f"利用量 {raw_volume} が大きすぎます（{MAX_VOLUME:,}以下）")

        year = fiscal_year(cell("start_year"))
        raw_year = text(cell("start_year"))
        if raw_year == "":
            fail("start_year", f"{START_YEAR}がありません")
        elif year is None:
            fail(
                "start_year", f"{START_YEAR}「{raw_year}」を読めません（2026、令和8年度、R8 のように入力してください）"
            )
        elif year not in years:
            fail(
                "start_year",
                f"{START_YEAR} {year_label(year)} は受け付けられません。{year_label(years[0])}から"
                f"{year_label(years[-1])}までで入力してください",
            )

        flags: dict[str, bool] = {}
        for key, default in flags_given.items():
            if key not in columns:
                flags[key] = default
                continue
            value = yes_no(cell(key))
            if value is None:
                fail(key, f"「{text(cell(key))}」は使えません（○/×、1/0、可/不可、はい/いいえ のいずれか）")
            else:
                flags[key] = value

        notes = own_text(cell("notes")) if "notes" in columns else ""
        if notes[:1] == "'" and starts_like_formula(notes[1:]):
            notes = notes[1:]  # the apostrophe the export puts before a note a spreadsheet would run as a formula
        if len(notes) > MAX_NOTES:
            fail("notes", f"備考が長すぎます（{len(notes)}文字、{MAX_NOTES}文字以内）")

        baselines: dict[str, float | None] = {}
        for key, largest in limits.items():
            raw = text(cell(key)) if key in columns else ""
            baseline = volume_value(cell(key)) if raw or isinstance(cell(key), (int, float)) else None
            if raw and (baseline is None or baseline <= 0):
                fail(key, f"「{raw}」は0より大きい数値にしてください（わからなければ空欄）")
            elif baseline is not None and baseline > largest:
                fail(key, f"{raw} が大きすぎます（{largest:,}以下）")
            else:
                baselines[key] = baseline

        if body_code and category_id:
            first = seen.get((body_code, category_id))
            if first is not None:
                fail(
                    "category_id" if "category_id" in columns else "category",
                    f"同じ団体・分野の行が {first}行目にもあります（1団体1分野につき1行にしてください）",
                )
            else:
                seen[(body_code, category_id)] = number

        if problems:
            parsed.problems.extend(problems)
        elif body_code is None or category_id is None or volume is None or year is None:
            # each of them refused above with a problem of its own
            raise AssertionError(f"row {number} lacks a required value but has no problem")
        else:
            warnings: tuple[str, ...] = ()
            if not flags["accepts_lead"] and not flags["accepts_unified"]:
                warnings = (
                    "幹事方式・仕様統一方式のどちらも「不可」です。単独導入としてだけ登録し、共同調達のグループには"
                    "入りません（共同調達を検討する場合は、どちらかを「○」にしてください）",
                )
            parsed.rows.append(
                NeedRow(
                    row=number,
                    body_code=body_code,
                    category_id=category_id,
                    volume=volume,
                    start_year=year,
                    notes=notes,
                    warnings=warnings,
                    given=optional_given,
                    accepts_lead=flags["accepts_lead"],
                    accepts_unified=flags["accepts_unified"],
                    can_lead=flags["can_lead"],
                    serves_disadvantaged_area=flags["serves_disadvantaged_area"],
                    baseline_minutes_per_unit=baselines.get("baseline_minutes_per_unit"),
                    baseline_hours_per_year=baselines.get("baseline_hours_per_year"),
                )
            )
    if parsed.data_rows == 0 or (not parsed.rows and not parsed.problems):
        parsed.problems.append(
            Problem(
                file_name,
                "取り込むデータ行がありません（見出し行の下にニーズを1行ずつ入力してください）",
                header_index + 1,
            )
        )
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
        if code and len(code) == 5 and code.isdigit():
            code = _five_digit_code(code, lookups, fail)
            if code is None:
                return None
        if code:
            problem = code_problem(code, lookups.bodies)
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
            fail(
                "body_name",
                f"団体名「{name}」"
                + (
                    "に当たる団体がありません"
                    if not candidates
                    else "の団体が複数あります（団体コードを入力してください）"
                ),
            )
            return None
        code = candidates[0]
    elif name and _key(name) != _key(lookups.bodies[code][0]):
        fail("body_name", f"団体名「{name}」が団体コード {code}（{lookups.bodies[code][0]}）と一致しません")
        return None
    if not lookups.may_edit(code):
        fail(
            "body_code" if "body_code" in columns else "body_name",
            f"{lookups.bodies[code][0]}（{code}）のニーズを登録する権限がありません",
        )
        return None
    return code


def _five_digit_code(code5: str, lookups: Lookups, fail) -> str | None:
    """A 5-digit code is the code without its check digit (20201 -> 202011), or a 6-digit code whose leading zero a
    spreadsheet dropped (11002 -> 011002). Whichever names a known body is taken; if both do, the user says."""
    candidates = [c for c in (with_check_digit(code5), "0" + code5) if c in lookups.bodies]
    if len(candidates) == 1:
        return candidates[0]
    if not candidates:
        fail(
            "body_code",
            f"団体コード {code5} に当たる団体がありません（検査数字を付けた {with_check_digit(code5)} も"
            "見つかりません）",
        )
    else:
        fail(
            "body_code",
            f"団体コード {code5} は "
            + " と ".join(f"{c}（{lookups.bodies[c][0]}）" for c in candidates)
            + " のどちらとも読めます。6桁で入力してください",
        )
    return None


def _category(cell, columns, spellings, lookups: Lookups, fail) -> str | None:
    key = "category_id" if "category_id" in columns else "category"
    raw = text(cell(key))
    if not raw and key == "category_id" and "category" in columns:
        key, raw = "category", text(cell("category"))
    if not raw:
        fail(key, "分野がありません")
        return None
    found = spellings.get(_category_key(raw))
    if found is None:
        choices = "、".join(f"{cid}（{name}）" for cid, name in list(lookups.categories.items())[:12])
        fail(key, f"分野「{raw}」がありません（使える分野: {choices}）")
    return found
