"""The administrator's changes to reference data: which price book and rule set are current, new rule-set versions.

Price-book versions are created by :func:`planner.services.reference_data.create_price_book_version`; this module
adds what the administration pages need around it: switching the current version (audited), turning the edit
form's values into that function's ``changes``, and rule-set versions made from an edited copy, checked by the
domain's ``validate_rules`` when it is installed.
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import PriceBook, SubsidyRuleSet
from planner.domain.subsidies import validate_rules

from . import audit
from .problems import Problem
from .reference_data import ReferenceDataError, set_current_price_book

# --- price book ---------------------------------------------------------------------------------------------


def make_price_book_current(session: Session, book: PriceBook, user_id: int | None) -> bool:
    previous = session.exec(select(PriceBook).where(col(PriceBook.is_current) == True)).first()  # noqa: E712
    if previous is not None and previous.id == book.id:
        return False
    set_current_price_book(session, book)
    audit.record(
        session,
        user_id=user_id,
        action="update",
        entity="price_book",
        entity_id=book.version,
        before={"current": previous.version if previous else None},
        after={"current": book.version},
        detail=f"現行の単価表を {book.version} に変更",
    )
    session.flush()
    return True


def price_changes(
    base_doc: Mapping[str, Any], edited: Mapping[str, Mapping[str, Mapping[str, Any]]]
) -> dict[str, dict[str, dict[str, Any]]]:
    """Only the fields whose edited value differs from the base document ({category: {mode: {field: value}}})."""
    by_id = {c["id"]: c for c in base_doc["categories"]}
    changes: dict[str, dict[str, dict[str, Any]]] = {}
    for cid, modes in edited.items():
        for mode, fields in modes.items():
            old = by_id.get(cid, {}).get(mode, {})
            for name, value in fields.items():
                if old.get(name) != value:
                    changes.setdefault(cid, {}).setdefault(mode, {})[name] = value
    return changes


# --- subsidy rule sets ----------------------------------------------------------------------------------------


# The 財政力補正 table: where it sits in a rule document and how its rows are spelt. The documents are the
# domain's format; the names below cover the spellings it may use, and new rows reuse the spelling found.
_CORRECTION_KEYS = (
    "fiscal_strength_correction",
    "fiscal_correction",
    "fiscal_strength_adjustment",
    "financial_strength_correction",
    "correction_table",
)
_LOWER_KEYS = ("min_index", "min", "from", "lower", "fsi_min", "index_min", "index_from", "min_index", "ge", "at_least")
_UPPER_KEYS = (
    "max_index",
    "max",
    "to",
    "upper",
    "fsi_max",
    "index_max",
    "index_to",
    "max_index",
    "lt",
    "below",
    "less_than",
)
_COEF_KEYS = ("coefficient", "factor", "coef", "multiplier", "correction", "value", "rate")


@dataclass
class CorrectionRow:
    lower: float | None
    upper: float | None
    coefficient: float | None  # None: missing from the document or the form (correction_problems refuses it)


@dataclass
class CorrectionTable:
    path: tuple[str, ...]  # keys from the document's root to the table's value
    rows: list[CorrectionRow] | None  # None: not set (coefficient 1.0)
    row_keys: tuple[str, str, str]  # how lower, upper and coefficient are spelt
    container_key: str | None  # rows inside {"...": [...]} rather than a plain list


def _first(d: Mapping[str, Any], keys: Iterable[str]) -> str | None:
    return next((k for k in keys if k in d), None)


_DEFAULT_ROW_KEYS = ("min_index", "max_index", "coefficient")


def find_correction_table(doc: Mapping[str, Any]) -> CorrectionTable:
    """Locate the 財政力補正 table (``fiscal_correction.table`` in the shipped schema; other spellings top level
    or one object deep); a missing or null table is read as not set."""
    places: list[tuple[tuple[str, ...], Any]] = []
    for key, value in doc.items():
        if key in _CORRECTION_KEYS or "correction" in key.lower():
            places.append(((key,), value))
        elif isinstance(value, Mapping):
            for inner, v in value.items():
                if inner in _CORRECTION_KEYS or "correction" in str(inner).lower():
                    places.append(((key, inner), v))
    if not places:
        return CorrectionTable(("fiscal_correction",), None, _DEFAULT_ROW_KEYS, "table")
    path, value = places[0]
    container = None
    if isinstance(value, Mapping):
        container = "table" if "table" in value else next((k for k, v in value.items() if isinstance(v, list)), "table")
        value = value.get(container)
    if not value:
        return CorrectionTable(path, None, _DEFAULT_ROW_KEYS, container)
    sample = next((r for r in value if isinstance(r, Mapping)), {})
    keys = (
        _first(sample, _LOWER_KEYS) or _DEFAULT_ROW_KEYS[0],
        _first(sample, _UPPER_KEYS) or _DEFAULT_ROW_KEYS[1],
        _first(sample, _COEF_KEYS) or _DEFAULT_ROW_KEYS[2],
    )
    rows = []
    for r in value:
        if isinstance(r, Mapping):
            rows.append(CorrectionRow(r.get(keys[0]), r.get(keys[1]), r.get(keys[2])))
    return CorrectionTable(path, rows, keys, container)


def with_correction_table(
    doc: Mapping[str, Any], table: CorrectionTable, rows: list[CorrectionRow] | None
) -> dict[str, Any]:
    """A copy of ``doc`` whose 財政力補正 table is ``rows`` (None or empty: not set)."""
    out = copy.deepcopy(dict(doc))
    lower, upper, coef = table.row_keys
    value: Any = None
    if rows:
        value = [{lower: r.lower, upper: r.upper, coef: r.coefficient} for r in rows]
    target = out
    for key in table.path[:-1]:
        target = target.setdefault(key, {})
    last = table.path[-1]
    if table.container_key:
        current = target.get(last)
        target[last] = {**(current if isinstance(current, Mapping) else {}), table.container_key: value}
    else:
        target[last] = value
    return out


def correction_problems(rows: list[CorrectionRow]) -> list[str]:
    """The form's own checks (coefficients in (0, 2], ranges not overlapping). The domain's validate_rules then
    checks the stored table as 特別交付税に関する省令 gives it -- 財政力指数 (three-year average) to two decimals,
    ascending rows, only the last open-ended -- and its messages land under the row's input."""
    problems = []
    for i, r in enumerate(rows, start=1):
        if r.coefficient is None or not 0 < r.coefficient <= 2:
            problems.append(f"財政力補正 {i}行目: 係数は 0 より大きく 2 以下で入力してください")
        if r.lower is not None and r.upper is not None and r.lower >= r.upper:
            problems.append(f"財政力補正 {i}行目: 下限は上限より小さくしてください")
    ordered = sorted(rows, key=lambda r: float("-inf") if r.lower is None else r.lower)
    for a, b in itertools.pairwise(ordered):
        a_upper = float("inf") if a.upper is None else a.upper
        b_lower = float("-inf") if b.lower is None else b.lower
        if b_lower < a_upper:
            problems.append("財政力補正: 財政力指数の範囲が重なっている行があります")
            break
    return problems


def rule_set_problems(doc: Any) -> list[Problem]:
    problems: list[Problem] = []
    if not isinstance(doc, dict):
        return [Problem("補助制度ルール: JSON オブジェクトではありません")]
    fy, version = doc.get("fiscal_year"), doc.get("version")
    if isinstance(fy, bool) or not isinstance(fy, int) or not 1989 <= fy <= 2200:
        problems.append(Problem.at("fiscal_year", "年度（西暦の整数、例 2026）にしてください"))
    if not isinstance(version, str) or not version.strip() or len(version) > 40:
        problems.append(Problem.at("version", "40 文字以内の版名を入力してください"))
    problems.extend(Problem.of(p) for p in validate_rules(doc))  # the validator writes "path: message"
    return problems


def create_rule_set_version(
    session: Session,
    base: SubsidyRuleSet | None,
    doc: Mapping[str, Any],
    user_id: int | None,
    *,
    make_current: bool = False,
    detail: str | None = None,
) -> SubsidyRuleSet:
    """Store an edited copy of ``base`` (or an imported document, base None) as a new version; the base is kept.
    Raises ReferenceDataError."""
    problems = rule_set_problems(doc)
    if (
        not problems
        and session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.version) == doc["version"])).first()
        is not None
    ):
        problems.append(Problem.at("version", f"版「{doc['version']}」は既にあります。別の版名にしてください"))
    if problems:
        raise ReferenceDataError(problems)
    rule_set = SubsidyRuleSet(
        fiscal_year=doc["fiscal_year"], version=doc["version"], data=dict(doc), created_by=user_id
    )
    session.add(rule_set)
    session.flush()
    before = (base.data or {}) if base is not None else {}
    changed = {k: doc.get(k) for k in set(doc) | set(before) if before.get(k) != doc.get(k)}
    audit.record(
        session,
        user_id=user_id,
        action="create",
        entity="subsidy_rule_set",
        entity_id=rule_set.version,
        before={k: before.get(k) for k in changed},
        after=changed,
        detail=detail or (f"{base.version} をもとに作成" if base is not None else "JSON から取り込み"),
    )
    if make_current:
        make_rule_set_current(session, rule_set, user_id)
    session.flush()
    return rule_set


def make_rule_set_current(session: Session, rule_set: SubsidyRuleSet, user_id: int | None) -> bool:
    previous = session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.is_current) == True)).all()  # noqa: E712
    if [p.id for p in previous] == [rule_set.id]:
        return False
    for p in previous:
        p.is_current = False
    rule_set.is_current = True
    audit.record(
        session,
        user_id=user_id,
        action="update",
        entity="subsidy_rule_set",
        entity_id=rule_set.version,
        before={"current": ", ".join(p.version for p in previous) or None},
        after={"current": rule_set.version},
        detail=f"現行の補助制度ルールを {rule_set.version} に変更",
    )
    session.flush()
    return True


@dataclass
class CitedFigure:
    path: str  # where in the document, e.g. grant.rate
    value: Any
    wording: str
    sources: list[str]  # source ids, as the document cites them


def source_titles(doc: Mapping[str, Any]) -> dict[str, str]:
    out = {}
    for s in doc.get("sources") or []:
        if isinstance(s, Mapping) and s.get("id"):
            out[str(s["id"])] = "・".join(str(s[k]) for k in ("publisher", "title") if s.get(k)) or str(s["id"])
        elif isinstance(s, str) and s:
            out[s] = s
    return out


def cited_figures(doc: Any) -> list[CitedFigure]:
    """Every figure of a rule document that cites sources ({"value", "wording", "sources"}), in document order."""
    found: list[CitedFigure] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, Mapping):
            if "sources" in node and where:
                ids = node["sources"] if isinstance(node["sources"], list) else [node["sources"]]
                shown = node.get("value", node.get("table", node.get("name", "")))
                found.append(CitedFigure(where, shown, str(node.get("wording", "")), [str(i) for i in ids]))
            for key, value in node.items():
                if key != "sources":
                    walk(value, f"{where}.{key}" if where else str(key))
        elif isinstance(node, list):
            for i, item in enumerate(node):
                label = item.get("id") if isinstance(item, Mapping) and item.get("id") else i
                walk(item, f"{where}[{label}]")

    walk(doc, "")
    return found


def price_books(session: Session) -> list[PriceBook]:
    """Every price-book version, newest first."""
    return list(session.exec(select(PriceBook).order_by(col(PriceBook.created_at).desc(), col(PriceBook.id).desc())))


def rule_sets(session: Session) -> list[SubsidyRuleSet]:
    """Every subsidy rule set, the latest fiscal year first."""
    return list(
        session.exec(
            select(SubsidyRuleSet).order_by(col(SubsidyRuleSet.fiscal_year).desc(), col(SubsidyRuleSet.id).desc())
        )
    )
