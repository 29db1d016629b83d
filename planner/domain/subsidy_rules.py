"""The subsidy rule set, parsed once into frozen records (spec: subsidy-rules.md; schema in
planner/data/subsidy_rules/README.md).

A rule document is JSON an administrator may edit; :func:`parse_rules` checks all of it at once and either returns a
:class:`RuleSet` or raises :class:`SubsidyRulesError` listing every problem in Japanese, each naming its field
(``grant.rate.value: ...``). The estimate (planner.domain.subsidies) reads only the typed records.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, TypeGuard

from .model import BODY_KINDS, MODES
from .vocabulary import MODE_SHORT

RULES_DIR = Path(__file__).resolve().parent.parent / "data" / "subsidy_rules"
RULES_SCHEMA = "kyodo-planner-subsidy-rules/2"
PROJECT_SCOPES = ("group", "member")
NEED_REQUIREMENTS = ("serves_disadvantaged_area",)  # the Need fields a measure may require
ROUNDINGS = {"yen": ("1円未満切捨て", 1), "thousand_yen": ("千円未満切捨て", 1000)}
# How the grant treats a category: 対象 (the source covers it), 要確認 (it does not clearly: the estimate is made and
# shown with 要確認 and the reason). A category the rule set does not list is not covered.
GRANT_CATEGORY_STATUSES = ("対象", "要確認")
UNLISTED_GRANT_CATEGORIES = (
    "この版の補助制度ルールには補助金の対象分野（grant.categories）の定めがありません。"
    "管理者が分野ごとに対象かどうかを確認して、新しい版に入力してください"
)


class SubsidyRulesError(ValueError):
    def __init__(self, problems: list[str]):
        super().__init__("補助制度ルールに誤りがあります: " + " / ".join(problems))
        self.problems = problems


# --- the records --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Source:
    id: str
    title: str
    publisher: str = ""

    @property
    def label(self) -> str:
        return f"{self.publisher}「{self.title}」" if self.publisher else self.title


@dataclass(frozen=True)
class ModeRates:
    """A rate that may depend on the procurement mode (a measure may pay more for joint introduction)."""

    by_mode: Mapping[str, Fraction]

    def __call__(self, mode: str) -> Fraction:
        return self.by_mode[mode]

    @property
    def uniform(self) -> bool:
        return len(set(self.by_mode.values())) == 1

    def text(self, fractions: bool = False) -> str:
        def one(r: Fraction) -> str:
            return f"{r.numerator}/{r.denominator}" if fractions and r.denominator != 1 else f"{float(r):g}"

        if self.uniform:
            return one(self.by_mode[MODES[0]])
        return "・".join(f"{MODE_SHORT[m]}{one(self.by_mode[m])}" for m in ("lead", "unified", "standalone"))


@dataclass(frozen=True)
class GrantCategory:
    """Whether the grant covers one category: 対象 or 要確認, the source's words it rests on, and (要確認) why."""

    status: str  # GRANT_CATEGORY_STATUSES
    quote: str
    reason: str = ""

    @property
    def to_confirm(self) -> bool:
        return self.status == "要確認"


@dataclass(frozen=True)
class GrantRule:
    """地域IoT実装・共同利用推進事業: rate on the eligible (initial) cost, one cap per project."""

    name: str
    rate: ModeRates
    cap_per_project_yen: int
    ineligible_kinds: frozenset[str]
    requires_data_plan: bool
    project_scope: Mapping[str, str]  # mode -> "group" (the lead's one project) | "member" (each member's own)
    competitive: bool  # awarded by public call (公募): estimates assume selection
    sources: tuple[str, ...]  # source ids the grant's terms cite
    # category id -> its treatment; None for a rule set written before the field (every category is then 要確認)
    categories: Mapping[str, GrantCategory] | None = None

    def category(self, category_id: str) -> GrantCategory | None:
        """The grant's treatment of ``category_id``; None when the rule set does not cover it."""
        if self.categories is None:
            return GrantCategory("要確認", "", UNLISTED_GRANT_CATEGORIES)
        return self.categories.get(category_id)


@dataclass(frozen=True)
class BaseCap:
    """各年度の事業費上限額: the project cost counted per body and fiscal year."""

    municipality_yen: int
    prefecture_yen: int

    def for_kind(self, kind: str) -> int:
        return self.prefecture_yen if kind == "prefecture" else self.municipality_yen


@dataclass(frozen=True)
class Measure:
    """One 特別交付税措置: which categories it covers at which rate, and what it asks of the body and the need."""

    id: str
    name: str
    categories: Mapping[str, ModeRates]  # category id -> 措置率
    requires_disadvantaged: bool  # the body must have a 条件不利地域
    need_requirement: str | None  # a Need field that must be true (NEED_REQUIREMENTS), or None
    base_cap: BaseCap | None
    fiscal_correction: bool
    sources: tuple[str, ...]


@dataclass(frozen=True)
class CorrectionRow:
    min_index: float
    max_index: float | None  # exclusive; None = no upper end
    coefficient: float


@dataclass(frozen=True)
class RuleSet:
    fiscal_year: int
    version: str
    title: str
    name: str  # short name shown with every figure
    notice: str  # what the administrator must confirm (the current year's programs)
    rounding: str  # a key of ROUNDINGS
    sources: tuple[Source, ...]
    grant: GrantRule
    special_tax_name: str
    excluded_kinds: frozenset[str]  # body kinds outside 特別交付税 (特別区)
    excludes_no_allocation_tax: bool  # 不交付団体 get 0
    measures: tuple[Measure, ...]
    correction_table: tuple[CorrectionRow, ...] | None  # None until an administrator enters it
    correction_sources: tuple[str, ...] = ()

    @property
    def label(self) -> str:
        """The rule set's name and version, as every output names it."""
        return f"{self.version}（{self.name}）"

    @property
    def rounding_label(self) -> str:
        return ROUNDINGS[self.rounding][0]

    def round_down(self, amount: Fraction | int) -> int:
        """An estimate rounded down as the rule set says (to the yen, or to the thousand yen)."""
        unit = ROUNDINGS[self.rounding][1]
        whole = math.floor(Fraction(amount))
        return whole - whole % unit

    def source_titles(self, ids: tuple[str, ...] | None = None) -> tuple[str, ...]:
        return tuple(s.label for s in self.sources if ids is None or s.id in ids)

    def cited_source_titles(self) -> tuple[str, ...]:
        """The sources of the terms an estimate applies: the grant's and the measures' (and the 省令 once its
        財政力補正 table is entered); the planner's own conventions are stated in the notes instead."""
        ids = set(self.grant.sources).union(*(m.sources for m in self.measures))
        if self.correction_table is not None:
            ids.update(self.correction_sources)
        return self.source_titles(tuple(ids))

    def measures_for(self, category: str) -> list[Measure]:
        return [m for m in self.measures if category in m.categories]


# --- parsing ------------------------------------------------------------------------------------------------


def default_rules() -> dict[str, Any]:
    """The shipped rule document with the newest fiscal year (then version)."""
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in sorted(RULES_DIR.glob("*.json"))]
    if not docs:
        raise SubsidyRulesError([f"{RULES_DIR} に補助制度ルールのファイルがありません"])
    return max(docs, key=lambda d: (int(d.get("fiscal_year", 0)), str(d.get("version", ""))))


def default_rule_set() -> RuleSet:
    return parse_rules(default_rules())


def validate_rules(doc: Any) -> list[str]:
    """Every problem of a rule document, in Japanese, each naming the field (empty when the document is usable)."""
    try:
        parse_rules(doc)
    except SubsidyRulesError as e:
        return e.problems
    return []


def as_rule_set(rules: RuleSet | Mapping[str, Any] | None) -> RuleSet:
    """A RuleSet from a parsed set, a document, or None (the shipped default)."""
    if rules is None:
        return default_rule_set()
    if isinstance(rules, RuleSet):
        return rules
    return parse_rules(rules)


def parse_rules(doc: Any) -> RuleSet:
    """The typed rule set of a document; raises SubsidyRulesError with every problem found."""
    if not isinstance(doc, dict):
        raise SubsidyRulesError(["ルール全体が JSON オブジェクトではありません"])
    p = _Parser()
    schema = doc.get("schema")
    if schema != RULES_SCHEMA:
        p.fail(
            "schema",
            f'"{RULES_SCHEMA}" にしてください（{schema!r} は扱えません。'
            "旧形式のルールは出典と分野ごとの措置を見直して新しい版を作ります）",
        )
    fy = doc.get("fiscal_year")
    if isinstance(fy, bool) or not isinstance(fy, int) or not 1989 <= fy <= 2200:
        p.fail("fiscal_year", "年度（例 2020）を整数で指定してください")
    version = doc.get("version")
    if not isinstance(version, str) or not version.strip() or len(version) > 40:
        p.fail("version", "40 文字以内の版名（例 R2-budget-1）を指定してください")
    title = p.text(doc, "title", "title")
    name = p.text(doc, "name", "name")
    notice = p.text(doc, "notice", "notice")
    sources = p.sources(doc.get("sources"))
    rounding = p.figure(
        doc,
        "rounding",
        "rounding",
        lambda v: None if v in ROUNDINGS else f"{' か '.join(map(repr, ROUNDINGS))} にしてください",
    )
    grant = p.grant(doc.get("grant"))
    special = doc.get("special_tax")
    excluded: frozenset[str] = frozenset()
    excludes_no_tax = False
    measures: list[Measure] = []
    special_name = "特別交付税措置"
    if not isinstance(special, dict):
        p.fail("special_tax", "特別交付税措置の定義がありません")
    else:
        special_name = p.text(special, "name", "special_tax.name") or special_name
        excluded = frozenset(p.figure(special, "excluded_kinds", "special_tax.excluded_kinds", _check_kinds) or ())
        excludes_no_tax = bool(
            p.figure(
                special,
                "excludes_no_allocation_tax_bodies",
                "special_tax.excludes_no_allocation_tax_bodies",
                _check_bool,
            )
        )
        listed = special.get("measures")
        if not isinstance(listed, list):
            p.fail("special_tax.measures", "措置の一覧（配列）を指定してください")
        else:
            ids: set[str] = set()
            for k, m in enumerate(listed):
                measure = p.measure(m, f"special_tax.measures[{k}]", ids)
                if measure is not None:
                    measures.append(measure)
    correction = doc.get("fiscal_correction")
    table = None
    correction_sources: tuple[str, ...] = ()
    if not isinstance(correction, dict) or "table" not in correction:
        p.fail("fiscal_correction.table", "財政力補正の表（未設定なら null）がありません")
    else:
        table = p.correction_table(correction["table"])
        correction_sources = p.cited(correction.get("sources"), "fiscal_correction.sources")
    if p.problems:
        raise SubsidyRulesError(p.problems)
    # no problems means every part checked out (the asserts tell mypy what the checks above established)
    assert grant is not None and isinstance(fy, int) and isinstance(version, str)
    return RuleSet(
        fiscal_year=fy,
        version=version.strip(),
        title=title,
        name=name,
        notice=notice,
        rounding=rounding,
        sources=sources,
        grant=grant,
        special_tax_name=special_name,
        excluded_kinds=excluded,
        excludes_no_allocation_tax=excludes_no_tax,
        measures=tuple(measures),
        correction_table=table,
        correction_sources=correction_sources,
    )


class _Parser:
    def __init__(self) -> None:
        self.problems: list[str] = []
        self.source_ids: set[str] = set()

    def fail(self, path: str, message: str) -> None:
        self.problems.append(f"{path}: {message}")

    def text(self, node: Mapping[str, Any], key: str, path: str) -> str:
        value = node.get(key)
        if not isinstance(value, str) or not value.strip():
            self.fail(path, "文字列で指定してください")
            return ""
        return value.strip()

    def sources(self, sources: Any) -> tuple[Source, ...]:
        if not isinstance(sources, list) or not sources:
            self.fail("sources", "出典（資料の題名）を 1 件以上指定してください")
            return ()
        out = []
        for k, s in enumerate(sources):
            if not isinstance(s, dict) or not isinstance(s.get("id"), str) or not str(s.get("title", "")).strip():
                self.fail(f"sources[{k}]", "id と title（資料名）が必要です")
                continue
            if s["id"] in self.source_ids:
                self.fail(f"sources[{k}].id", f"出典 id {s['id']!r} が重複しています")
            self.source_ids.add(s["id"])
            out.append(Source(s["id"], str(s["title"]).strip(), str(s.get("publisher", "")).strip()))
        return tuple(out)

    def cited(self, cited: Any, path: str) -> tuple[str, ...]:
        if not isinstance(cited, list) or not cited:
            self.fail(path, "この数値の出典（sources の id）を指定してください")
            return ()
        for c in cited:
            if c not in self.source_ids:
                self.fail(path, f"出典 {c!r} が sources にありません")
        return tuple(str(c) for c in cited)

    def figure(self, parent: Any, key: str, path: str, check: Callable[[Any], str | None]) -> Any:
        """A cited figure {"value", "wording", "sources"}: its value when valid, else None (problem noted)."""
        node = parent.get(key) if isinstance(parent, dict) else None
        if not isinstance(node, dict) or "value" not in node:
            self.fail(path, '{"value": ..., "wording": "...", "sources": [...]} の形で指定してください')
            return None
        self.cited(node.get("sources"), f"{path}.sources")
        message = check(node["value"])
        if message:
            self.fail(f"{path}.value", message)
            return None
        return node["value"]

    def rates(self, value: Any, path: str) -> ModeRates | None:
        """A rate (0 < r <= 1) for every mode, or {"lead": r, "unified": r, "standalone": r}."""
        if isinstance(value, dict):
            if set(value) != set(MODES):
                self.fail(
                    path, "方式ごとに指定するときは lead, unified, standalone の 3 つすべてに措置率を書いてください"
                )
                return None
            out = {}
            for mode in MODES:
                message = _check_rate(value[mode])
                if message:
                    self.fail(f"{path}.{mode}", message)
                    return None
                out[mode] = Fraction(str(value[mode]))
            return ModeRates(out)
        message = _check_rate(value)
        if message:
            self.fail(path, message + '（方式で変わるときは {"lead": ..., "unified": ..., "standalone": ...}）')
            return None
        return ModeRates({m: Fraction(str(value)) for m in MODES})

    def grant(self, g: Any) -> GrantRule | None:
        if not isinstance(g, dict):
            self.fail("grant", "補助金（地域IoT実装・共同利用推進事業）の定義がありません")
            return None
        name = self.text(g, "name", "grant.name")
        raw_rate = self.figure(g, "rate", "grant.rate", lambda v: None)
        rate = self.rates(raw_rate, "grant.rate.value") if raw_rate is not None else None
        cap = self.figure(g, "cap_per_project_yen", "grant.cap_per_project_yen", _check_yen)
        self.figure(
            g,
            "eligible_part",
            "grant.eligible_part",
            lambda v: None if v == "initial" else '現在は "initial"（初期費用）のみ扱えます',
        )
        kinds = self.figure(g, "ineligible_kinds", "grant.ineligible_kinds", _check_kinds)
        plan = self.figure(g, "requires_data_plan", "grant.requires_data_plan", _check_bool)
        scope = self.figure(g, "project_scope", "grant.project_scope", _check_scope)
        competitive = self.figure(g, "competitive", "grant.competitive", _check_bool)
        categories = self.grant_categories(g) if "categories" in g else None
        if rate is None or cap is None or kinds is None or plan is None or scope is None or competitive is None:
            return None
        if not name:
            return None
        return GrantRule(
            name=name,
            rate=rate,
            cap_per_project_yen=int(cap),
            ineligible_kinds=frozenset(kinds),
            requires_data_plan=bool(plan),
            project_scope=dict(scope),
            competitive=bool(competitive),
            sources=tuple(self.cited(g["rate"].get("sources"), "grant.rate.sources")),
            categories=categories,
        )

    def grant_categories(self, g: Mapping[str, Any]) -> dict[str, GrantCategory] | None:
        """grant.categories: {category id: {"status": 対象|要確認, "quote": the source's words, "reason": why 要確認}}."""
        raw = self.figure(
            g,
            "categories",
            "grant.categories",
            lambda v: (
                None
                if isinstance(v, dict) and v
                else '分野 id → {"status": "対象" か "要確認", "quote": "資料の記載"} の対応を 1 つ以上指定してください'
            ),
        )
        if raw is None:
            return None
        out: dict[str, GrantCategory] = {}
        for cid, entry in raw.items():
            path = f"grant.categories.value.{cid}"
            if not isinstance(entry, dict):
                self.fail(path, '{"status": ..., "quote": ..., "reason": ...} の形で指定してください')
                continue
            status, quote, reason = entry.get("status"), entry.get("quote"), entry.get("reason", "")
            ok = True
            if status not in GRANT_CATEGORY_STATUSES:
                self.fail(f"{path}.status", f"{' か '.join(GRANT_CATEGORY_STATUSES)} にしてください")
                ok = False
            if not isinstance(quote, str) or not quote.strip():
                self.fail(f"{path}.quote", "扱いの根拠となる資料の記載（引用）を入力してください")
                ok = False
            if not isinstance(reason, str):
                self.fail(f"{path}.reason", "文字列で指定してください")
                ok = False
            elif status == "要確認" and not reason.strip():
                self.fail(f"{path}.reason", "要確認とする理由（資料から何が明らかでないか）を入力してください")
                ok = False
            if ok:
                out[str(cid)] = GrantCategory(str(status), str(quote).strip(), str(reason).strip())
        return out

    def measure(self, m: Any, path: str, ids: set[str]) -> Measure | None:
        if not isinstance(m, dict):
            self.fail(path, "JSON オブジェクトではありません")
            return None
        before = len(self.problems)
        mid = m.get("id")
        if not isinstance(mid, str) or not mid or mid in ids:
            self.fail(f"{path}.id", "重複しない id を指定してください")
        else:
            ids.add(mid)
        name = self.text(m, "name", f"{path}.name")
        raw = self.figure(
            m,
            "categories",
            f"{path}.categories",
            lambda v: None if isinstance(v, dict) and v else "分野 id → 措置率 の対応を 1 つ以上指定してください",
        )
        categories: dict[str, ModeRates] = {}
        for cid, value in (raw or {}).items():
            rate = self.rates(value, f"{path}.categories.value.{cid}")
            if rate is not None:
                categories[str(cid)] = rate
        disadvantaged = self.figure(m, "requires_disadvantaged", f"{path}.requires_disadvantaged", _check_bool)
        requirement = self.figure(
            m,
            "need_requirement",
            f"{path}.need_requirement",
            lambda v: (
                None
                if v is None or v in NEED_REQUIREMENTS
                else f"null か {', '.join(NEED_REQUIREMENTS)} にしてください"
            ),
        )
        cap = self.figure(m, "base_cap_yen", f"{path}.base_cap_yen", _check_base_cap)
        correction = self.figure(m, "fiscal_correction", f"{path}.fiscal_correction", _check_bool)
        if len(self.problems) != before or not isinstance(mid, str):
            return None
        return Measure(
            id=mid,
            name=name,
            categories=categories,
            requires_disadvantaged=bool(disadvantaged),
            need_requirement=requirement,
            base_cap=None if cap is None else BaseCap(int(cap["municipality"]), int(cap["prefecture"])),
            fiscal_correction=bool(correction),
            sources=tuple(self.cited(m["categories"].get("sources"), f"{path}.categories.sources")),
        )

    def correction_table(self, table: Any) -> tuple[CorrectionRow, ...] | None:
        problems = correction_table_problems(table)
        self.problems.extend(problems)
        if table is None or problems:
            return None
        return tuple(
            CorrectionRow(
                float(r["min_index"]),
                None if r.get("max_index") is None else float(r["max_index"]),
                float(r["coefficient"]),
            )
            for r in table
        )


def correction_table_problems(table: Any, path: str = "fiscal_correction.table") -> list[str]:
    """The 財政力補正 table's problems: rows {min_index, max_index (exclusive, null = no upper end), coefficient}
    with indices 0..9.99 to two decimals, ranges in ascending order and not overlapping, coefficients in (0, 2]."""
    if table is None:
        return []
    if not isinstance(table, list) or not table:
        return [f"{path}: null（未設定）か、行の一覧にしてください"]
    problems = []
    rows = []
    for k, row in enumerate(table):
        where = f"{path}[{k}]"
        if not isinstance(row, dict):
            problems.append(f"{where}: JSON オブジェクトではありません")
            continue
        lo, hi, coef = row.get("min_index"), row.get("max_index"), row.get("coefficient")
        if not _is_number(lo) or not 0 <= lo < 10 or round(lo, 2) != lo:
            problems.append(f"{where}.min_index: 0 以上 10 未満の財政力指数（小数点以下2桁まで）を指定してください")
            continue
        if hi is not None and (not _is_number(hi) or hi <= lo or hi > 10 or round(hi, 2) != hi):
            problems.append(
                f"{where}.max_index: min_index より大きい財政力指数（小数点以下2桁まで）か null（上限なし）"
                "にしてください"
            )
            continue
        if not _is_number(coef) or not 0 < coef <= 2:
            problems.append(f"{where}.coefficient: 0 より大きく 2 以下の補正係数を指定してください")
            continue
        rows.append((lo, math.inf if hi is None else hi, k))
    for (lo1, hi1, k1), (lo2, _hi2, k2) in itertools.pairwise(rows):
        if lo2 < lo1:
            problems.append(f"{path}[{k2}].min_index: 行は財政力指数の小さい順に並べてください（[{k1}] の後）")
        elif lo2 < hi1:
            problems.append(f"{path}[{k1}] と [{k2}]: 財政力指数の範囲が重なっています")
    for (_, hi1, k1), _next in itertools.pairwise(rows):
        if hi1 == math.inf:
            problems.append(f"{path}[{k1}].max_index: 上限なしの行は最後の行だけにしてください")
    return problems


def _is_number(v: Any) -> TypeGuard[float]:
    return not isinstance(v, bool) and isinstance(v, (int, float)) and math.isfinite(v)


def _check_rate(v: Any) -> str | None:
    if not _is_number(v) or not 0 < v <= 1:
        return "0 より大きく 1 以下の数値にしてください"
    return None


def _check_yen(v: Any) -> str | None:
    if isinstance(v, bool) or not isinstance(v, int) or v < 0:
        return "0 以上の整数（円）にしてください"
    return None


def _check_bool(v: Any) -> str | None:
    return None if isinstance(v, bool) else "true か false を指定してください"


def _check_kinds(v: Any) -> str | None:
    if not isinstance(v, list) or any(k not in BODY_KINDS for k in v):
        return f"団体種別の一覧にしてください（{', '.join(BODY_KINDS)}）"
    return None


def _check_scope(v: Any) -> str | None:
    if not isinstance(v, dict) or set(v) != set(MODES) or any(s not in PROJECT_SCOPES for s in v.values()):
        return 'lead, unified, standalone のそれぞれに "group" か "member" を指定してください'
    return None


def _check_base_cap(v: Any) -> str | None:
    if v is None:
        return None
    if not isinstance(v, dict) or set(v) != {"municipality", "prefecture"} or any(_check_yen(x) for x in v.values()):
        return "null か、municipality と prefecture の上限（円、整数）にしてください"
    return None
