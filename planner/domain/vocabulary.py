"""The product's one vocabulary: the Japanese words for the plan's codes, and how amounts and fiscal years are
written and read.

Pure Python with no Flask and no database, at the bottom of the package: the domain, the services, the pages, the
charts and the documents all import it, so a procurement mode, an allocation method, an amount or a 和暦 year reads
the same on a page, in a CSV, in a workbook and in a PDF.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta, timezone
from typing import TypeVar

from .costs import round_yen
from .need_fields import Labels

# --- procurement modes ------------------------------------------------------------------------------------------

MODE_LABELS = {"lead": "幹事団体方式（一括調達）", "unified": "仕様統一方式（各団体調達）", "standalone": "単独調達"}
MODE_SHORT = {"lead": "幹事一括", "unified": "仕様統一", "standalone": "単独"}
MODE_DESCRIPTIONS = {
    "lead": "幹事団体が一括して調達し、参加団体に利用させる方式",
    "unified": "仕様書等を統一し、各団体がそれぞれ調達する方式",
    "standalone": "団体が単独で調達する方式",
}
# The body that leads a group: in lead mode it procures for everyone, in unified mode it coordinates the common
# specification (取りまとめ) while each member procures for itself.
LEAD_ROLE = {"lead": "幹事団体", "unified": "取りまとめ団体", "standalone": "調達団体"}
LEAD_MARK = {"lead": "幹事", "unified": "取りまとめ"}  # the badge beside the lead in a member table


def mode_label(mode: str) -> str:
    return MODE_LABELS.get(mode, mode)


def mode_short(mode: str) -> str:
    return MODE_SHORT.get(mode, mode)


def lead_role(mode: str) -> str:
    return LEAD_ROLE.get(mode, LEAD_ROLE["lead"])


def lead_mark(mode: str) -> str:
    return LEAD_MARK.get(mode, "")


# --- allocation methods, bodies, categories, plans ------------------------------------------------------------

METHOD_LABELS = {
    "equal": "均等割",
    "population": "人口割",
    "volume": "利用量割",
    "formula": "組合せ（均等割・人口割・利用量割）",
    "standalone_ratio": "単独費用比",
    "shapley": "シャープレイ値",
    "nucleolus": "仁（nucleolus）",
}

# cost-model.md: "A rule the agreement can state" (rule, the default), "Core adjustment" (adjust), the method's own
# shares with their proof (report)
CORE_OPTION_LABELS = {
    "rule": "協定書に書ける割合で按分（既定）: 公平な最も近い割合（5%刻み、次に1%刻み）を使い、ない場合だけ団体ごとに調整",
    "adjust": "団体ごとに調整: 按分方法どおりの額から最も近い公平な配分（コア）へ移す",
    "report": "按分方法どおり: 公平性の確認結果を示すだけで調整しない",
}

BODY_KIND_LABELS = {
    "prefecture": "都道府県",
    "designated_city": "指定都市",
    "city": "市",
    "special_ward": "特別区",
    "town": "町",
    "village": "村",
}

# The official statistics the bodies register is built from (as imported by planner.importers.official).
DATASET_LABELS = {
    "population": "住民基本台帳人口",
    "fiscal_municipal": "主要財政指標（市町村）",
    "fiscal_prefecture": "主要財政指標（都道府県）",
    "fiscal_designated": "主要財政指標（指定都市）",
    "flags": "条件不利地域・推進計画（一括取込）",
}

# --- the fields of a need and of a body, as every screen, message, import preview, audit log and publication
# notice names them (one table each). A need's start_year is its 導入希望年度 (docs/glossary.md); a group's, which
# its needs share, is its 導入年度 (the plan pages and documents).
NEED_FIELD_LABELS = Labels()  # read from the need fields' one table (planner.domain.need_fields)
BODY_FIELD_LABELS = {
    "population": "人口",
    "fiscal_strength_index": "財政力指数",
    "disadvantaged": "条件不利地域",
    "has_data_plan": "官民データ活用推進計画",
    "no_allocation_tax": "不交付団体",
    "prefecture_code": "都道府県コード",
    "kind": "団体の種類",
    "lat": "緯度",
    "lng": "経度",
}

PLAN_STATUS_LABELS = {"optimal": "最適解", "time_limit": "時間制限で打切り（暫定解）", "feasible": "実行可能解"}


def method_name(method: str) -> str:
    """The method's word alone (a formula's weights are named by planner.domain.allocation.method_label)."""
    return METHOD_LABELS.get(method, method)


def body_kind_label(kind: str) -> str:
    return BODY_KIND_LABELS.get(kind, kind)


def category_short(name: str) -> str:
    """A category name without its explanation in brackets, for legends and narrow columns:
    「AI-OCR（文字認識）」 → 「AI-OCR」."""
    return name.split("（", 1)[0]


# The rule data names the special-tax measures; these are the words for the codes the spec defines.
MEASURE_LABELS = {
    "disadvantaged_area": "条件不利地域における先端的な情報通信技術の導入",
    "advanced_ict": "条件不利地域における先端的な情報通信技術の導入",
    "smart_rpa": "自治体行政のスマート化（RPA）",
    "smart_government": "自治体行政のスマート化",
    "rpa": "自治体行政のスマート化（RPA）",
}
MEASURE_SHORT = {
    "disadvantaged_area": "条件不利地域",
    "advanced_ict": "条件不利地域",
    "smart_rpa": "スマート化（RPA）",
    "smart_government": "スマート化",
    "rpa": "スマート化（RPA）",
}


def measure_label(code: str | None) -> str:
    return MEASURE_LABELS.get(code, code) if code else "—"


def measure_short(code: str | None) -> str:
    """The measure's name short enough for a table column (the full name goes in the table's note)."""
    if not code:
        return "—"
    return MEASURE_SHORT.get(code) or MEASURE_LABELS.get(code, code)


PREFECTURE_NAMES = (
    "北海道",
    "青森県",
    "岩手県",
    "宮城県",
    "秋田県",
    "山形県",
    "福島県",
    "茨城県",
    "栃木県",
    "群馬県",
    "埼玉県",
    "千葉県",
    "東京都",
    "神奈川県",
    "新潟県",
    "富山県",
    "石川県",
    "福井県",
    "山梨県",
    "長野県",
    "岐阜県",
    "静岡県",
    "愛知県",
    "三重県",
    "滋賀県",
    "京都府",
    "大阪府",
    "兵庫県",
    "奈良県",
    "和歌山県",
    "鳥取県",
    "島根県",
    "岡山県",
    "広島県",
    "山口県",
    "徳島県",
    "香川県",
    "愛媛県",
    "高知県",
    "福岡県",
    "佐賀県",
    "長崎県",
    "熊本県",
    "大分県",
    "宮崎県",
    "鹿児島県",
    "沖縄県",
)


def prefecture_name(code: str) -> str:
    if code.isdigit() and 1 <= int(code) <= 47:
        return PREFECTURE_NAMES[int(code) - 1]
    return f"都道府県コード{code}"


# --- money ------------------------------------------------------------------------------------------------------

MINUS = "−"  # U+2212: the same minus sign on the pages, in the charts and in the documents


def whole_yen(value: object) -> int:
    """An amount as whole yen, fractions rounded half up (as the cost model rounds)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    return round_yen(float(value))  # type: ignore[arg-type]


def _amount(value: object, unit: str) -> str:
    if value is None or value == "":
        return "—"
    try:
        amount = whole_yen(value)
    except (TypeError, ValueError):
        return str(value)  # text that is no amount is shown as it is
    return f"{MINUS}{-amount:,}{unit}" if amount < 0 else f"{amount:,}{unit}"


def yen(value: object) -> str:
    """1234567 → 「1,234,567円」, −12000 → 「−12,000円」; None → 「—」."""
    return _amount(value, "円")


def yen_digits(value: object) -> str:
    """1234567 → 「1,234,567」, −1234 → 「−1,234」: table cells whose header says 円. None → 「—」."""
    return _amount(value, "")


def volume(value: object) -> str:
    """A need's yearly volume (stored as a float): 1200.0 → 「1,200」, 12.5 → 「12.5」, 0.125 → 「0.13」; None → 「—」.
    The one format of pages, forms, messages and documents."""
    if value is None or value == "":
        return "—"
    number = float(value)  # type: ignore[arg-type]
    if number.is_integer():
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".")


def yen_thousand(value: object) -> str:
    """1234567 → 「1,235千円」 (rounded half up), the unit budget documents use."""
    if value is None or value == "":
        return "—"
    try:
        thousands = round_yen(float(value) / 1000)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return str(value)
    return f"{MINUS}{-thousands:,}千円" if thousands < 0 else f"{thousands:,}千円"


def signed_yen(value: int) -> str:
    """A change: 「+5,000円」, 「−5,000円」, 「±0円」."""
    if value > 0:
        return f"+{value:,}円"
    return f"{MINUS}{-value:,}円" if value < 0 else "±0円"


# --- 和暦 ---------------------------------------------------------------------------------------------------------

# (first day, era name), newest first. A fiscal year (April to March) takes the era in force on its first day,
# except 2019: the era changed on 1 May and the government calls that whole year 令和元年度.
JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time


def in_jst(value: datetime) -> datetime:
    """Timestamps are stored as naive UTC; every user reads Japan time."""
    return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(JST)


def jst_datetime(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return in_jst(value).strftime(fmt) if value else ""


def jst_date(moment: datetime) -> date:
    """The day in Japan of a moment (a stored naive UTC one, or an aware one)."""
    return in_jst(moment).date()


def datetime_ja(value: object, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A stored moment (naive UTC) in Japan time, a date as it is; None → 「—」."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return jst_datetime(value, fmt)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def today_jst(now: datetime | None = None) -> date:
    """Today in Japan: deadlines, issue dates and file names follow the users' calendar, not the server's."""
    return jst_date(now or datetime.now(UTC))


ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))
_ERA_FIRST_YEAR = {name: start.year for start, name in ERAS}
_ERA_ALIASES = {"令和": "令和", "r": "令和", "平成": "平成", "h": "平成", "昭和": "昭和", "s": "昭和"}


def _era_year_text(name: str, n: int) -> str:
    return f"{name}元" if n == 1 else f"{name}{n}"


def wareki_date(day: date) -> str:
    """2026-04-01 → 「令和8年4月1日」."""
    for start, name in ERAS:
        if day >= start:
            return f"{_era_year_text(name, day.year - start.year + 1)}年{day.month}月{day.day}日"
    raise ValueError(f"昭和より前の日付です: {day.isoformat()}")


def fiscal_year_of(day: date) -> int:
    """The Japanese fiscal year (April to March) a day falls in."""
    return day.year if day.month >= 4 else day.year - 1


def wareki_fiscal_year(year: object) -> str:
    """2026 → 「令和8年度」, 2019 → 「令和元年度」; None → 「—」."""
    try:
        y = int(year)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return "—" if year in (None, "") else str(year)
    if y == 2019:
        return "令和元年度"
    for start, name in ERAS:
        if date(y, 4, 1) >= start:
            return f"{_era_year_text(name, y - start.year + 1)}年度"
    return f"{y}年度"


def fiscal_year_label(year: object) -> str:
    """2026 → 「令和8年度（2026年度）」: the 和暦 that finance sections use, with the western year beside it."""
    label = wareki_fiscal_year(year)
    return label if label == "—" or not str(year).isdigit() else f"{label}（{year}年度）"


def era_to_year(era: str, n: str | int) -> int:
    """(「令和」 or 「R」, 「元」 or 8) → 2026. Raises ValueError for an unknown era or a year below 1."""
    name = _ERA_ALIASES.get(era.lower() if era.isascii() else era)
    if name is None:
        raise ValueError(f"元号「{era}」は使えません（令和・平成・昭和）")
    count = 1 if n == "元" else int(n)
    if count < 1:
        raise ValueError(f"{name}{count}年はありません")
    return _ERA_FIRST_YEAR[name] + count - 1


_WESTERN_FISCAL_YEAR = re.compile(r"^(\d{4})(?:年度?)?$")
_ERA_FISCAL_YEAR = re.compile(r"^(令和|平成|昭和|r|h|s)\.?(\d{1,2}|元)(?:年度?)?$")
_ERA_DATE = re.compile(r"(令和|平成|昭和)(元|\d+)年(\d+)月(\d+)日")
_ERA_FISCAL_YEAR_IN_TEXT = re.compile(r"(令和|平成|昭和)(元|\d+)年度")


def parse_fiscal_year(raw: str) -> int | None:
    """「2026」, 「2026年度」, 「令和8年度」, 「令和元年度」, 「R8」, 「H30」 → the fiscal year; None if not a year."""
    text = raw.strip().lower().replace(" ", "").replace("　", "")
    m = _WESTERN_FISCAL_YEAR.match(text)
    if m:
        return int(m.group(1))
    m = _ERA_FISCAL_YEAR.match(text)
    if m:
        try:
            return era_to_year(m.group(1), m.group(2))
        except ValueError:
            return None
    return None


def find_wareki_date(text: str) -> date | None:
    """The first 「令和7年1月1日」 in a text (a statistics table's title), as a date."""
    m = _ERA_DATE.search(text)
    return date(era_to_year(m.group(1), m.group(2)), int(m.group(3)), int(m.group(4))) if m else None


def find_wareki_fiscal_year(text: str) -> int | None:
    """The first 「令和6年度」 in a text, as a western fiscal year."""
    m = _ERA_FISCAL_YEAR_IN_TEXT.search(text)
    return era_to_year(m.group(1), m.group(2)) if m else None


# --- spreadsheet cells ------------------------------------------------------------------------------------------

# Names of bodies, scenarios and categories and the notes of needs are typed by people (or come from files people
# edit); a spreadsheet runs a cell such as ``=HYPERLINK("http://…"&A1)`` or ``+cmd|…`` when a finance section
# opens the export. Cells starting like a formula are written as text.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "＝", "＋", "－", "＠")

# The formulas the workbooks build themselves: cell references, numbers, arithmetic and SUM/ROUND/IF (ROUNDUP and
# ROUNDDOWN for the 千円 views of budget papers), and for the
# live allocation INT/COUNT/SUMPRODUCT/AND. Nothing that can reach outside the workbook (HYPERLINK, WEBSERVICE,
# DDE's "|") fits this pattern.
_OWN_FORMULA = re.compile(
    r"=(?:(?:SUMPRODUCT|SUM|ROUNDUP|ROUNDDOWN|ROUND|INT|COUNT|AND|IF)\(|\$?[A-Z]{1,3}\$?\d+|\d+(?:\.\d+)?|[-+*/=<>(),:])+"
)


class Formula(str):
    """A formula the workbook builds itself. Being a formula is a property of where text comes from, never of what
    it looks like: user text such as a scenario named ``=1+1`` fits the pattern above and must still stay text.
    The pattern remains as a guard against a mistake in the workbook's own formulas."""

    def __new__(cls, text: str) -> Formula:
        if not is_own_formula(text):
            raise ValueError(f"not one of the workbook's own formulas: {text!r}")
        return super().__new__(cls, text)


_Field = TypeVar("_Field")  # a CSV field's value: text is defused, anything else passes as it is


def starts_like_formula(value: object) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def is_own_formula(value: str) -> bool:
    return _OWN_FORMULA.fullmatch(value) is not None


def csv_text(value: _Field) -> _Field | str:
    """A CSV or spreadsheet field: text that a spreadsheet would take for a formula gets a leading apostrophe."""
    return "'" + value if isinstance(value, str) and starts_like_formula(value) else value


def csv_row(row: Sequence[_Field]) -> list[_Field | str]:
    return [csv_text(v) for v in row]


def label_of(labels: Mapping[str, str], code: str) -> str:
    """A code's word from one of the tables above, the code itself where the table has none."""
    return labels.get(code, code)
