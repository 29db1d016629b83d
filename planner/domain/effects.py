"""The effect of adopting a category (導入効果): staff hours saved a year, as a low / central / high range, and what
each hour saved costs the member.

The figures come from the effect model (planner/data/effect_model/*.json, schema
`kyodo-planner-effect-model/1`): per category the driver (inquiries, sheets, meeting hours, scenarios), how many
driver units one unit of the need's volume is, staff minutes per driver unit and the reduction rate, each as
low / central / high with the survey cases it rests on. The cases are hand-picked good cases, so every result carries
the model's caveat, and a category without a usable case gives no hours at all rather than an invented figure.

    hours saved = driver units x minutes per unit x reduction rate / 60
    driver units = volume x units per volume

A category may derive its minutes per unit from the cases instead of stating them (``"from_cases"``): the low,
central and high are the first quartile, median and third quartile of the cases' hours per task, interpolated on a
log scale (task hours span orders of magnitude; with only a range's two ends this is the range read as spread
evenly on a log scale). A case may instead give the quartiles of a table's rows per task themselves
(``"quartiles_per_task"``); they are then taken as they are. A category may also bound a body's hours (``"body_bound"``) by body-wide cases scaled to the
body's population: each level is at most that level of the cases' hours per resident times the body's population
(low = the lowest rate, central = the median, high = the highest), so many robots in a small town cannot claim
more than the best whole-body case of its size.

The body's own figures replace the model's where given: its minutes per driver unit, or its yearly hours spent on the
work today (then hours saved = those hours x reduction rate). Money: yearly net burden = the member's net burden over
the horizon (after grant and special-tax estimates) / horizon years; yen per hour saved = yearly net burden / hours,
for the joint plan and for going alone. With a staff cost per hour, hours become yen a year and a simple payback
period: net initial burden / (yearly value - yearly running cost).
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

EFFECT_MODEL_SCHEMA = "kyodo-planner-effect-model/1"
EFFECT_MODEL_DIR = Path(__file__).resolve().parent.parent / "data" / "effect_model"
LEVELS = ("low", "central", "high")

ESTIMATE = "estimate"  # hours from the model or the body's own figures
NEEDS_OWN_FIGURE = "needs_own_figure"  # the model has no per-unit time; the body's figures would give one
NO_ESTIMATE = "no_estimate"  # the survey gives no case for hours in this category


class EffectModelError(ValueError):
    """An effect model that cannot be used; ``problems`` say where and what (Japanese)."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


# --- the model ------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Figure:
    value: float
    cases: tuple[str, ...]
    basis: str


@dataclass(frozen=True)
class Spread:
    """A low / central / high triple of model figures."""

    low: Figure
    central: Figure
    high: Figure

    def values(self) -> tuple[float, float, float]:
        return (self.low.value, self.central.value, self.high.value)

    def cases(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(c for f in (self.low, self.central, self.high) for c in f.cases))


@dataclass(frozen=True)
class Case:
    id: str
    category: str
    source: str
    wording: str
    population: int | None = None
    hours_per_task: tuple[float, ...] = ()  # the case's figures per task (or a range's two ends), hours a year
    hours_per_year: float | None = None  # a body-wide case's total hours saved a year
    # the quartiles of a table's rows per task (first, median, third; hours a year) where the quartiles are what the
    # case gives rather than its rows
    quartiles_per_task: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class BodyBound:
    """Body-wide cases (hours a year, population) that bound one body's hours, scaled by population."""

    cases: tuple[str, ...]
    rates: tuple[float, float, float]  # hours per resident a year: lowest, median, highest of the cases

    def hours(self, population: int) -> tuple[float, float, float]:
        low, central, high = (r * population for r in self.rates)
        return (low, central, high)


@dataclass(frozen=True)
class CategoryEffect:
    category: str
    volume_unit: str
    driver: str = ""
    driver_unit: str = ""
    units_per_volume: float | None = None
    units_basis: str = ""
    minutes_per_unit: Spread | None = None
    reduction_rate: Spread | None = None
    needs_own_figure: str = ""  # why only the body's own figures give hours
    no_estimate: str = ""  # why there are no hours at all
    note: str = ""
    context_cases: tuple[str, ...] = ()
    body_bound: BodyBound | None = None
    minutes_derived: str = ""  # how minutes_per_unit was derived from the cases ("" when stated)

    @property
    def estimable(self) -> bool:
        return not self.no_estimate and self.reduction_rate is not None


@dataclass(frozen=True)
class EffectModel:
    version: str
    title: str
    caveat: str
    sources: Mapping[str, str]  # id -> 「title」table
    cases: Mapping[str, Case]
    categories: Mapping[str, CategoryEffect]

    def category(self, category_id: str) -> CategoryEffect | None:
        return self.categories.get(category_id)

    def case_wordings(self, ids: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(
            f"{self.cases[i].wording}（{self.sources.get(self.cases[i].source, '')}）" for i in ids if i in self.cases
        )


def _figure(doc: Any, where: str, problems: list[str], cases: Mapping[str, Any], *, rate: bool) -> Figure | None:
    if not isinstance(doc, Mapping):
        problems.append(f'{where}: {{"value", "cases", "basis"}} のオブジェクトにしてください')
        return None
    value = doc.get("value")
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        problems.append(f"{where}.value: 数値にしてください（{value!r}）")
        return None
    if rate and not 0 < value <= 1:
        problems.append(f"{where}.value: 削減率は 0 より大きく 1 以下にしてください（{value}）")
    if not rate and value <= 0:
        problems.append(f"{where}.value: 0 より大きい数値にしてください（{value}）")
    ids = doc.get("cases")
    if not isinstance(ids, list) or not ids:
        problems.append(f"{where}.cases: 根拠の事例 id を 1 つ以上挙げてください")
        ids = []
    for i in ids:
        if i not in cases:
            problems.append(f"{where}.cases: 事例「{i}」が cases にありません")
    basis = doc.get("basis", "")
    if not isinstance(basis, str) or not basis.strip():
        problems.append(f"{where}.basis: 値の根拠（事例のどの数値か）を文章で書いてください")
    return Figure(float(value), tuple(str(i) for i in ids), str(basis))


def _spread(doc: Any, where: str, problems: list[str], cases: Mapping[str, Any], *, rate: bool) -> Spread | None:
    if not isinstance(doc, Mapping):
        problems.append(f"{where}: low・central・high のオブジェクトにしてください")
        return None
    low, central, high = (_figure(doc.get(lvl), f"{where}.{lvl}", problems, cases, rate=rate) for lvl in LEVELS)
    if low is None or central is None or high is None:
        return None
    if not low.value <= central.value <= high.value:
        problems.append(f"{where}: low ≦ central ≦ high にしてください")
    return Spread(low, central, high)


def log_quartiles(values: Iterable[float]) -> tuple[float, float, float]:
    """First quartile, median and third quartile of positive values, interpolated linearly between order
    statistics on a log scale (numpy's "linear" percentile of the logarithms)."""
    logs = sorted(math.log(v) for v in values)
    if not logs:
        raise ValueError("no values")

    def at(p: float) -> float:
        pos = p * (len(logs) - 1)
        lo = math.floor(pos)
        hi = min(lo + 1, len(logs) - 1)
        return math.exp(logs[lo] + (logs[hi] - logs[lo]) * (pos - lo))

    return (at(0.25), at(0.5), at(0.75))


def _fmt_hours(h: float) -> str:
    return f"{h:,.1f}" if h < 1000 else f"{h:,.0f}"


def _derived_minutes(
    doc: Mapping[str, Any], where: str, problems: list[str], cases: Mapping[str, Case]
) -> tuple[Spread | None, str]:
    """minutes_per_unit from the listed cases' hours per task: their log-scale quartiles (see the module doc)."""
    ids = doc.get("from_cases")
    if not isinstance(ids, list) or not ids:
        problems.append(f"{where}.from_cases: 1 業務あたりの時間（hours_per_task）を持つ事例 id を挙げてください")
        return None, ""
    stated = [cases[str(i)] for i in ids if str(i) in cases and cases[str(i)].quartiles_per_task is not None]
    if stated:
        # the quartiles a case gives are taken as they are; mixing them with other cases' rows has no defined meaning
        if len(ids) != 1:
            problems.append(f"{where}.from_cases: 四分位（quartiles_per_task）を持つ事例は 1 つだけ挙げてください")
            return None, ""
        given = stated[0]
        q1, median, q3 = given.quartiles_per_task or (0.0, 0.0, 0.0)
        how = (
            f"事例表の業務ごとの行の1業務あたり年間削減時間の四分位（第1四分位 {q1:,g}時間・"
            f"中央値 {median:,g}時間・第3四分位 {q3:,g}時間）"
        )
        ids_one = (given.id,)
        return (
            Spread(
                Figure(q1 * 60, ids_one, f"第1四分位 {q1:,g}時間。{how}"),
                Figure(median * 60, ids_one, f"中央値 {median:,g}時間。{how}"),
                Figure(q3 * 60, ids_one, f"第3四分位 {q3:,g}時間。{how}"),
            ),
            how,
        )
    values: list[float] = []
    for i in ids:
        case = cases.get(str(i))
        if case is None:
            problems.append(f"{where}.from_cases: 事例「{i}」が cases にありません")
        elif not case.hours_per_task:
            problems.append(f"{where}.from_cases: 事例「{i}」に hours_per_task（1 業務あたりの年間時間）がありません")
        else:
            values.extend(case.hours_per_task)
    if len(values) < 2:
        if not problems:
            problems.append(f"{where}.from_cases: 四分位を求めるには 1 業務あたりの時間が 2 つ以上必要です")
        return None, ""
    q1, median, q3 = log_quartiles(values)
    listed = "・".join(_fmt_hours(v) for v in sorted(values))
    how = f"事例の1業務あたりの年間削減時間 {len(values)}値（{listed}時間）の四分位を対数目盛で補間" + (
        "（2値は範囲の両端のため、その間に対数目盛で一様に分布すると仮定）" if len(values) == 2 else ""
    )
    case_ids = tuple(str(i) for i in ids)
    spread = Spread(
        Figure(q1 * 60, case_ids, f"第1四分位 {_fmt_hours(q1)}時間。{how}"),
        Figure(median * 60, case_ids, f"中央値 {_fmt_hours(median)}時間。{how}"),
        Figure(q3 * 60, case_ids, f"第3四分位 {_fmt_hours(q3)}時間。{how}"),
    )
    return spread, how


def _body_bound(doc: Any, where: str, problems: list[str], cases: Mapping[str, Case]) -> BodyBound | None:
    if not isinstance(doc, Mapping) or not isinstance(doc.get("cases"), list) or not doc["cases"]:
        problems.append(f"{where}.cases: 団体全体の事例 id（hours_per_year と population がある事例）を挙げてください")
        return None
    if doc.get("scaling", "population") != "population":
        problems.append(f'{where}.scaling: "population"（人口に比例）だけが使えます（{doc.get("scaling")!r}）')
    rates: list[float] = []
    ids: list[str] = []
    for i in doc["cases"]:
        case = cases.get(str(i))
        if case is None:
            problems.append(f"{where}.cases: 事例「{i}」が cases にありません")
        elif case.hours_per_year is None or case.population is None:
            problems.append(f"{where}.cases: 事例「{i}」に hours_per_year と population の両方が必要です")
        else:
            rates.append(case.hours_per_year / case.population)
            ids.append(case.id)
    if not rates:
        return None
    ordered = sorted(rates)
    n = len(ordered)
    median = ordered[n // 2] if n % 2 else (ordered[n // 2 - 1] + ordered[n // 2]) / 2
    return BodyBound(tuple(ids), (ordered[0], median, ordered[-1]))


def default_effect_model_doc() -> dict[str, Any]:
    """The shipped effect model (the file with the highest version name)."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(EFFECT_MODEL_DIR.glob("*.json"))]
    if not docs:
        raise EffectModelError([f"{EFFECT_MODEL_DIR} に導入効果モデルのファイルがありません"])
    return max(docs, key=lambda d: str(d.get("version", "")))


def validate_effect_model(doc: Any) -> list[str]:
    """Every problem of an effect-model document, in Japanese with its path; empty when it is usable."""
    try:
        parse_effect_model(doc)
    except EffectModelError as e:
        return e.problems
    return []


def parse_effect_model(doc: Any) -> EffectModel:
    """The document as an :class:`EffectModel`, or :class:`EffectModelError` listing every problem."""
    if not isinstance(doc, Mapping):
        raise EffectModelError(["導入効果モデル: JSON オブジェクトではありません"])
    problems: list[str] = []
    if doc.get("schema") != EFFECT_MODEL_SCHEMA:
        problems.append(f'schema: "{EFFECT_MODEL_SCHEMA}" にしてください（{doc.get("schema")!r}）')
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 40:
        problems.append("version: 40 文字以内の版名を入力してください")
    caveat = doc.get("caveat")
    if not isinstance(caveat, str) or not caveat.strip():
        problems.append("caveat: 事例が好事例であることなど、見込みの注意書きを書いてください")
    sources: dict[str, str] = {}
    for i, s in enumerate(doc.get("sources") or []):
        if not isinstance(s, Mapping) or not s.get("id") or not s.get("title"):
            problems.append(f"sources[{i}]: id と title が必要です")
            continue
        table = f"「{s['table']}」" if s.get("table") else ""
        sources[str(s["id"])] = f"{s.get('publisher', '')}「{s['title']}」{table}".strip()
    cases: dict[str, Case] = {}
    for i, c in enumerate(doc.get("cases") or []):
        where = f"cases[{i}]"
        if not isinstance(c, Mapping) or not c.get("id") or not c.get("wording"):
            problems.append(f"{where}: id と wording（資料の数値をそのまま）が必要です")
            continue
        if c.get("source") not in sources:
            problems.append(f"{where}.source: sources にある id にしてください（{c.get('source')!r}）")
        pop = c.get("population")
        if pop is not None and (isinstance(pop, bool) or not isinstance(pop, int) or pop <= 0):
            problems.append(f"{where}.population: 正の整数か null にしてください")
            pop = None
        per_task: list[float] = []
        raw_tasks = c.get("hours_per_task")
        if raw_tasks is not None:
            if not isinstance(raw_tasks, list) or not raw_tasks or not all(_positive(v) for v in raw_tasks):
                problems.append(f"{where}.hours_per_task: 1 業務あたりの年間時間（正の数）の配列にしてください")
            else:
                per_task = [float(v) for v in raw_tasks]
        quartiles: tuple[float, float, float] | None = None
        raw_quartiles = c.get("quartiles_per_task")
        if raw_quartiles is not None:
            if (
                not isinstance(raw_quartiles, list)
                or len(raw_quartiles) != 3
                or not all(_positive(v) for v in raw_quartiles)
                or not float(raw_quartiles[0]) <= float(raw_quartiles[1]) <= float(raw_quartiles[2])
            ):
                problems.append(
                    f"{where}.quartiles_per_task: 1 業務あたりの年間時間の [第1四分位, 中央値, 第3四分位]（正の数、"
                    "小さい順）にしてください"
                )
            else:
                quartiles = (float(raw_quartiles[0]), float(raw_quartiles[1]), float(raw_quartiles[2]))
        total = c.get("hours_per_year")
        if total is not None and not _positive(total):
            problems.append(f"{where}.hours_per_year: 団体全体の年間時間（正の数）にしてください（{total!r}）")
            total = None
        cases[str(c["id"])] = Case(
            str(c["id"]),
            str(c.get("category", "")),
            str(c.get("source", "")),
            str(c["wording"]),
            pop,
            tuple(per_task),
            None if total is None else float(total),
            quartiles,
        )
    categories: dict[str, CategoryEffect] = {}
    cats = doc.get("categories")
    if not isinstance(cats, Mapping) or not cats:
        problems.append("categories: 分野 id をキーとするオブジェクトにしてください")
        cats = {}
    for cid, rec in cats.items():
        where = f"categories.{cid}"
        if not isinstance(rec, Mapping):
            problems.append(f"{where}: オブジェクトにしてください")
            continue
        context = tuple(str(x) for x in rec.get("context_cases") or ())
        for x in context:
            if x not in cases:
                problems.append(f"{where}.context_cases: 事例「{x}」が cases にありません")
        volume_unit, note = str(rec.get("volume_unit", "")), str(rec.get("note", ""))
        if rec.get("no_estimate"):
            categories[cid] = CategoryEffect(
                str(cid),
                volume_unit,
                no_estimate=str(rec["no_estimate"]),
                note=note,
                context_cases=context,
            )
            continue
        units = rec.get("units_per_volume")
        units_value = units.get("value") if isinstance(units, Mapping) else None
        if isinstance(units_value, bool) or not isinstance(units_value, (int, float)) or units_value <= 0:
            problems.append(f"{where}.units_per_volume.value: 利用量 1 単位あたりの件数など（正の数）にしてください")
            units_value = None
        minutes = rec.get("minutes_per_unit")
        minutes_spread, derived = None, ""
        if isinstance(minutes, Mapping) and "from_cases" in minutes:
            minutes_spread, derived = _derived_minutes(minutes, f"{where}.minutes_per_unit", problems, cases)
        elif minutes is None:
            if not str(rec.get("needs_own_figure", "")).strip():
                problems.append(
                    f"{where}: minutes_per_unit がない分野は needs_own_figure（団体の現状値が必要な理由）を書いてください"
                )
        else:
            minutes_spread = _spread(minutes, f"{where}.minutes_per_unit", problems, cases, rate=False)
        rate = _spread(rec.get("reduction_rate"), f"{where}.reduction_rate", problems, cases, rate=True)
        for key in ("driver", "driver_unit"):
            if not str(rec.get(key, "")).strip():
                problems.append(f"{where}.{key}: 入力してください")
        categories[cid] = CategoryEffect(
            str(cid),
            volume_unit,
            driver=str(rec.get("driver", "")),
            driver_unit=str(rec.get("driver_unit", "")),
            units_per_volume=None if units_value is None else float(units_value),
            units_basis=str(units.get("basis", "")) if isinstance(units, Mapping) else "",
            minutes_per_unit=minutes_spread,
            reduction_rate=rate,
            needs_own_figure=str(rec.get("needs_own_figure", "")),
            note=note,
            context_cases=context,
            body_bound=None
            if rec.get("body_bound") is None
            else _body_bound(rec["body_bound"], f"{where}.body_bound", problems, cases),
            minutes_derived=derived,
        )
    if problems:
        raise EffectModelError(problems)
    return EffectModel(
        version=str(version),
        title=str(doc.get("title", "")),
        caveat=str(caveat),
        sources=sources,
        cases=cases,
        categories=categories,
    )


# --- one need's estimate -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    """low <= central <= high (hours, yen or years); None entries mean "not reached" (a payback never reached)."""

    low: float | None
    central: float | None
    high: float | None

    def to_json(self) -> list[float | None]:
        return [self.low, self.central, self.high]

    @classmethod
    def from_json(cls, doc: Any) -> Range | None:
        if doc is None:
            return None
        low, central, high = doc
        return cls(low, central, high)


@dataclass(frozen=True)
class Baseline:
    """The body's own figures for the work the category replaces (both optional)."""

    minutes_per_unit: float | None = None  # staff minutes per driver unit today
    hours_per_year: float | None = None  # staff hours a year on the work today

    @property
    def given(self) -> bool:
        return self.minutes_per_unit is not None or self.hours_per_year is not None


@dataclass(frozen=True)
class Burdens:
    """A member's burden in one way of procuring: net initial (after grant and special tax), running a year, horizon."""

    net_initial_yen: int
    annual_yen: int
    horizon_years: int
    # The plan's own net total when it is known: a share rounded on the total need not be initial + H x annual,
    # and yen per hour must divide the same net burden the documents print.
    stated_net_total_yen: int | None = None

    @property
    def net_total_yen(self) -> int:
        if self.stated_net_total_yen is not None:
            return self.stated_net_total_yen
        return self.net_initial_yen + self.horizon_years * self.annual_yen

    @property
    def yearly_net_yen(self) -> float:
        return self.net_total_yen / self.horizon_years


@dataclass(frozen=True)
class MoneyEffect:
    """What an hour saved costs (yearly net burden / hours) and, with a staff cost, what the hours are worth."""

    yearly_net_yen: int
    yen_per_hour: Range | None  # low = with the high hours
    payback_years: Range | None  # None entries: the yearly value does not exceed the running cost

    def to_json(self) -> dict[str, Any]:
        return {
            "yearly_net_yen": self.yearly_net_yen,
            "yen_per_hour": None if self.yen_per_hour is None else self.yen_per_hour.to_json(),
            "payback_years": None if self.payback_years is None else self.payback_years.to_json(),
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any] | None) -> MoneyEffect | None:
        if doc is None:
            return None
        return cls(
            int(doc["yearly_net_yen"]),
            Range.from_json(doc.get("yen_per_hour")),
            Range.from_json(doc.get("payback_years")),
        )


@dataclass(frozen=True)
class NeedEffect:
    """One need's effect estimate (見込み)."""

    need_id: str
    category: str
    status: str  # estimate | needs_own_figure | no_estimate
    basis: str  # model | own_minutes | own_hours | "" (no hours)
    hours: Range | None  # hours saved a year
    message: str  # the wording shown beside the range
    cases: tuple[str, ...] = ()  # the case wordings the figures rest on, with their source
    model_version: str = ""
    driver_units: float | None = None
    staff_cost_per_hour_yen: int | None = None
    value_yen_per_year: Range | None = None
    joint: MoneyEffect | None = None
    standalone: MoneyEffect | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "status": self.status,
            "basis": self.basis,
            "hours_per_year": None if self.hours is None else self.hours.to_json(),
            "message": self.message,
            "cases": list(self.cases),
            "model_version": self.model_version,
            "driver_units": self.driver_units,
            "staff_cost_per_hour_yen": self.staff_cost_per_hour_yen,
            "value_yen_per_year": None if self.value_yen_per_year is None else self.value_yen_per_year.to_json(),
            "joint": None if self.joint is None else self.joint.to_json(),
            "standalone": None if self.standalone is None else self.standalone.to_json(),
        }

    @classmethod
    def from_json(cls, need_id: str, doc: Mapping[str, Any]) -> NeedEffect:
        return cls(
            need_id=need_id,
            category=str(doc.get("category", "")),
            status=str(doc["status"]),
            basis=str(doc.get("basis", "")),
            hours=Range.from_json(doc.get("hours_per_year")),
            message=str(doc.get("message", "")),
            cases=tuple(str(c) for c in doc.get("cases") or ()),
            model_version=str(doc.get("model_version", "")),
            driver_units=doc.get("driver_units"),
            staff_cost_per_hour_yen=doc.get("staff_cost_per_hour_yen"),
            value_yen_per_year=Range.from_json(doc.get("value_yen_per_year")),
            joint=MoneyEffect.from_json(doc.get("joint")),
            standalone=MoneyEffect.from_json(doc.get("standalone")),
        )


def _round_hours(h: float) -> float:
    return round(h, 1)


def _spread_text(values: list[float], unit: str) -> str:
    low, central, high = (f"{v:,.4g}" if v < 1000 else f"{v:,.0f}" for v in values)
    if low == high:
        return f"{low}{unit}"
    return f"{low}〜{high}{unit}（中位 {central}{unit}）"


def hours_saved(
    model: EffectModel,
    category_id: str,
    volume: float,
    baseline: Baseline = Baseline(),
    unit: str | None = None,
    population: int | None = None,
) -> tuple[str, str, Range | None, str, tuple[str, ...], float | None]:
    """(status, basis, hours range, message, case wordings, driver units) for one need's category and volume.

    ``unit`` is the price book's volume unit: when it differs from the one the model was written for, the driver
    units would be wrong, so there are no hours. ``population`` is the body's, for a category whose model hours are
    bounded by body-wide cases (the body's own figures are never bounded)."""
    cat = model.category(category_id)
    if cat is None:
        return (
            NO_ESTIMATE,
            "",
            None,
            f"導入効果モデル {model.version} にこの分野がないため、時間の見込みはありません。",
            (),
            None,
        )
    context = model.case_wordings(cat.context_cases)
    if not cat.estimable or cat.reduction_rate is None:  # (estimable says the rate is there; mypy cannot see it)
        return NO_ESTIMATE, "", None, cat.no_estimate, context, None
    if unit is not None and cat.volume_unit and unit != cat.volume_unit:
        why = (
            f"単価表の利用量の単位（{unit}）が導入効果モデルの単位（{cat.volume_unit}）と異なるため、"
            "時間の見込みを出せません。"
        )
        return NO_ESTIMATE, "", None, why, (), None
    rate = cat.reduction_rate.values()
    rate_text = _spread_text([r * 100 for r in rate], "%")
    units = volume * cat.units_per_volume if cat.units_per_volume is not None else None
    per = cat.driver_unit
    if baseline.hours_per_year is not None:
        hours = tuple(baseline.hours_per_year * r for r in rate)
        basis, cases = "own_hours", cat.reduction_rate.cases()
        how = f"団体の現状の年間作業時間 {baseline.hours_per_year:,g}時間 × 削減率 {rate_text}（事例）"
    elif baseline.minutes_per_unit is not None and units is not None:
        hours = tuple(units * baseline.minutes_per_unit * r / 60 for r in rate)
        basis, cases = "own_minutes", cat.reduction_rate.cases()
        how = f"{units:,.0f}{per} × 団体の現状値 1{per}あたり {baseline.minutes_per_unit:g}分 × 削減率 {rate_text}（事例）"
    elif cat.minutes_per_unit is not None and units is not None:
        minutes = cat.minutes_per_unit.values()
        hours = tuple(units * m * r / 60 for m, r in zip(minutes, rate, strict=True))
        basis = "model"
        cases = tuple(dict.fromkeys(cat.minutes_per_unit.cases() + cat.reduction_rate.cases()))
        if cat.minutes_derived:
            per_unit = f"{_spread_text([m / 60 for m in minutes], '時間')}（事例の四分位）"
        else:
            per_unit = f"{_spread_text(list(minutes), '分')}（事例）"
        how = f"{units:,.0f}{per} × 1{per}あたり {per_unit} × 削減率 {rate_text}（事例）"
        if cat.body_bound is not None:
            hours, bound_text = _bounded(hours, cat.body_bound, population)
            how += bound_text
            cases = tuple(dict.fromkeys(cases + cat.body_bound.cases))
    else:
        return NEEDS_OWN_FIGURE, "", None, cat.needs_own_figure, model.case_wordings(cat.reduction_rate.cases()), units
    low, central, high = (_round_hours(h) for h in hours)
    if f"{low:,.0f}" == f"{high:,.0f}":
        message = f"年 {central:,.0f} 時間の削減見込み。{how}。"
    else:
        message = f"年 {low:,.0f}〜{high:,.0f} 時間（中位 {central:,.0f} 時間）の削減見込み。{how}。"
    if cat.note:
        message += cat.note
    return ESTIMATE, basis, Range(low, central, high), message, model.case_wordings(cases) + context, units


def _bounded(hours: tuple[float, ...], bound: BodyBound, population: int | None) -> tuple[tuple[float, ...], str]:
    """Each level capped by the same level of the body-wide cases scaled to the body's population, and the words
    saying how (and whether the cap bit)."""
    rates = "〜".join(f"{r:.3f}" for r in (bound.rates[0], bound.rates[2]))
    cases = f"団体全体の{len(bound.cases)}事例"
    if not population:
        return hours, f"。{cases}による上限は、団体の人口が分からないため使っていません"
    caps = bound.hours(population)
    capped = tuple(min(h, c) for h, c in zip(hours, caps, strict=True))
    which = [label for label, h, c in zip(("低位", "中位", "高位"), hours, caps, strict=True) if h > c]
    text = (
        f"。{cases}の人口1人あたり年 {rates}時間（低位は最小、中位は中央値、高位は最大）に"
        f"人口 {population:,}人を掛けた {_spread_text(list(caps), '時間')} を上限とし"
    )
    text += f"、{'・'.join(which)}を上限に抑えています" if which else "、上限には達していません"
    return capped, text


def money_effect(burdens: Burdens, hours: Range, staff_cost_per_hour_yen: int | None) -> MoneyEffect:
    """Yen per hour saved from the yearly net burden; with a staff cost, the payback period of the net initial
    burden from the yearly value left after the running cost (None where that is not positive)."""
    yearly = burdens.yearly_net_yen

    def per_hour(h: float | None) -> float | None:
        return None if not h else round(yearly / h)

    yen_per_hour = Range(per_hour(hours.high), per_hour(hours.central), per_hour(hours.low))
    payback = None
    if staff_cost_per_hour_yen:

        def years(h: float | None) -> float | None:
            surplus = (h or 0) * staff_cost_per_hour_yen - burdens.annual_yen
            if surplus <= 0:
                return None
            return round(max(burdens.net_initial_yen, 0) / surplus, 1)

        payback = Range(years(hours.high), years(hours.central), years(hours.low))
    return MoneyEffect(round(yearly), yen_per_hour, payback)


def estimate_need(
    model: EffectModel,
    need_id: str,
    category_id: str,
    volume: float,
    *,
    baseline: Baseline = Baseline(),
    unit: str | None = None,
    joint: Burdens | None = None,
    standalone: Burdens | None = None,
    staff_cost_per_hour_yen: int | None = None,
    population: int | None = None,
) -> NeedEffect:
    """One need's effect: hours saved a year as a range, and per way of procuring what an hour costs."""
    status, basis, hours, message, cases, units = hours_saved(model, category_id, volume, baseline, unit, population)
    value = None
    joint_money = standalone_money = None
    if hours is not None:
        if staff_cost_per_hour_yen:
            value = Range(*(None if h is None else round(h * staff_cost_per_hour_yen) for h in hours.to_json()))
        joint_money = None if joint is None else money_effect(joint, hours, staff_cost_per_hour_yen)
        standalone_money = None if standalone is None else money_effect(standalone, hours, staff_cost_per_hour_yen)
    return NeedEffect(
        need_id=need_id,
        category=category_id,
        status=status,
        basis=basis,
        hours=hours,
        message=message,
        cases=cases,
        model_version=model.version,
        driver_units=units,
        staff_cost_per_hour_yen=staff_cost_per_hour_yen or None,
        value_yen_per_year=value,
        joint=joint_money,
        standalone=standalone_money,
    )


# --- a whole plan --------------------------------------------------------------------------------------------------


def burdens_from_subsidy(estimate: Any, horizon_years: int) -> tuple[Burdens, Burdens]:
    """(joint, standalone) burdens from a member's subsidy estimate (planner.domain.settled.SubsidyEstimate): the
    headline net burden, the grant not awarded and the special tax counted (subsidy-rules.md section 4: the grant is
    a public call, never part of the headline), so yen per hour divides the figure the documents print first."""

    def one(burden: Any, tax_without_grant: int | None) -> Burdens:
        tax = burden.special_tax.amount_yen if tax_without_grant is None else tax_without_grant
        return Burdens(
            burden.gross.initial_yen - tax,
            burden.gross.annual_yen,
            horizon_years,
            stated_net_total_yen=burden.gross.total_yen - tax,
        )

    return (
        one(estimate.joint, estimate.special_tax_without_grant_yen),
        one(estimate.standalone, estimate.standalone_special_tax_without_grant_yen),
    )


@dataclass(frozen=True)
class EffectEstimates:
    """The plan's ``effects`` field (README, plan format): the model's version, title, caveat and sources, and each
    need's estimate. One JSON conversion: :meth:`to_json` writes the field, :meth:`from_json` reads it back."""

    model_version: str
    title: str
    caveat: str
    sources: tuple[str, ...]
    needs: Mapping[str, NeedEffect]

    def to_json(self) -> dict[str, Any]:
        return {
            "model_version": self.model_version,
            "title": self.title,
            "caveat": self.caveat,
            "sources": list(self.sources),
            "needs": {nid: effect.to_json() for nid, effect in self.needs.items()},
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> EffectEstimates:
        return cls(
            model_version=str(doc.get("model_version", "")),
            title=str(doc.get("title", "")),
            caveat=str(doc.get("caveat", "")),
            sources=tuple(str(s) for s in doc.get("sources") or ()),
            needs={str(nid): NeedEffect.from_json(str(nid), rec) for nid, rec in (doc.get("needs") or {}).items()},
        )


def estimate_effects(
    instance: Any,
    groups: Any,
    model: EffectModel,
    *,
    baselines: Mapping[str, Baseline] | None = None,
    staff_costs: Mapping[str, int] | None = None,
) -> EffectEstimates:
    """Each need's effect estimate under ``model`` (see README, plan format).

    ``groups`` are the settled plan's groups (``members`` and ``subsidies``); ``staff_costs`` maps body codes to
    yen per staff hour (already resolved from the body's own or its prefecture's figure)."""
    baselines = baselines or {}
    staff_costs = staff_costs or {}
    needs: dict[str, NeedEffect] = {}
    for group in groups:
        subsidies = group.subsidies
        for nid in group.members:
            need = instance.need(nid)
            cat = instance.categories.get(need.category)
            joint = standalone = None
            if nid in subsidies:
                joint, standalone = burdens_from_subsidy(subsidies[nid], instance.horizon_years)
            needs[nid] = estimate_need(
                model,
                nid,
                need.category,
                need.volume,
                baseline=baselines.get(nid, Baseline()),
                unit=cat.unit if cat is not None else None,
                joint=joint,
                standalone=standalone,
                staff_cost_per_hour_yen=staff_costs.get(need.body),
                population=_population(instance, need.body),
            )
    return EffectEstimates(
        model_version=model.version,
        title=model.title,
        caveat=model.caveat,
        sources=tuple(sorted(set(model.sources.values()))),
        needs=needs,
    )


def _population(instance: Any, code: str) -> int | None:
    body = (getattr(instance, "bodies", None) or {}).get(code)
    return getattr(body, "population", None)


def effects_from_plan(doc: Mapping[str, Any]) -> EffectEstimates | None:
    """A plan document's effect estimates, or None for a plan written before effects existed."""
    effects = doc.get("effects") if isinstance(doc, Mapping) else None
    if not isinstance(effects, Mapping):
        return None
    return EffectEstimates.from_json(effects)


def total_hours(effects: list[NeedEffect]) -> Range | None:
    """The sum of the estimates' ranges (needs without hours left out; None when none has hours)."""
    with_hours = [e.hours for e in effects if e.hours is not None]
    if not with_hours:
        return None
    return Range(*(round(sum(getattr(h, lvl) for h in with_hours), 1) for lvl in LEVELS))


def _positive(value: Any) -> bool:
    return not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value) and value > 0


def inputs_from_instance_doc(doc: Mapping[str, Any]) -> tuple[dict[str, Baseline], dict[str, int], list[str]]:
    """The optional effect inputs of an instance file: needs' ``baseline`` {"minutes_per_unit", "hours_per_year"}
    and bodies' ``staff_cost_per_hour_yen``. Returns (baselines by need id, staff cost by body code, problems)."""
    baselines: dict[str, Baseline] = {}
    costs: dict[str, int] = {}
    problems: list[str] = []
    for i, rec in enumerate(doc.get("needs") or []):
        if not isinstance(rec, Mapping) or rec.get("baseline") is None:
            continue
        base = rec["baseline"]
        where = f"needs[{i}].baseline"
        if not isinstance(base, Mapping):
            problems.append(f'{where}: must be an object {{"minutes_per_unit", "hours_per_year"}}')
            continue
        values = {}
        for key in ("minutes_per_unit", "hours_per_year"):
            v = base.get(key)
            if v is not None and not _positive(v):
                problems.append(f"{where}.{key}: must be a positive number, got {v!r}")
                v = None
            values[key] = None if v is None else float(v)
        baselines[str(rec.get("id"))] = Baseline(**values)
    for i, rec in enumerate(doc.get("bodies") or []):
        if not isinstance(rec, Mapping) or rec.get("staff_cost_per_hour_yen") is None:
            continue
        v = rec["staff_cost_per_hour_yen"]
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            problems.append(f"bodies[{i}].staff_cost_per_hour_yen: must be a positive integer (yen), got {v!r}")
            continue
        costs[str(rec.get("code"))] = v
    triples = [
        (str(b.get("code")), str(b.get("kind")), str(b.get("prefecture_code")))
        for b in doc.get("bodies") or []
        if isinstance(b, Mapping)
    ]
    return baselines, resolve_staff_costs(triples, costs), problems


def resolve_staff_costs(bodies: Iterable[tuple[str, str, str]], own: Mapping[str, int]) -> dict[str, int]:
    """Each body's staff cost per hour from (code, kind, prefecture code) triples: its own figure, else its
    prefecture's (the figure set on the prefecture body)."""
    bodies = list(bodies)
    by_prefecture = {pref: own[code] for code, kind, pref in bodies if kind == "prefecture" and code in own}
    out = {}
    for code, _kind, pref in bodies:
        cost = own.get(code, by_prefecture.get(pref))
        if cost:
            out[code] = int(cost)
    return out


@dataclass(frozen=True)
class HoursTotal:
    """Hours saved summed over some needs (a category, a body): the sum of the lows, centrals and highs, and how
    many needs had no hours to add (they are never counted as zero hours saved)."""

    key: str
    hours: Range | None
    with_hours: int
    without_hours: int


def hours_totals(effects: Mapping[str, NeedEffect], key_of: Any) -> list[HoursTotal]:
    """Totals per key (``key_of(need_id)``), in first-seen order."""
    grouped: dict[str, list[NeedEffect]] = {}
    for nid, effect in effects.items():
        grouped.setdefault(key_of(nid), []).append(effect)
    out = []
    for key, items in grouped.items():
        with_hours = [e for e in items if e.hours is not None]
        out.append(HoursTotal(key, total_hours(with_hours), len(with_hours), len(items) - len(with_hours)))
    return out
