"""Needs (ニーズ登録): list, register, edit, withdraw and restore, estimate, import and export.

Every change goes to the audit log in the same transaction, with the values before and after. Edits carry the
version the user saw; the update is conditional on it in SQL, so two people editing the same need never silently
overwrite each other (the second gets StaleNeed and nothing is written).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import Select as RowSelect

from planner.db.models import Body, Category, Need, utcnow
from planner.domain import need_fields
from planner.domain.costs import GroupCost, standalone_cost
from planner.domain.vocabulary import NEED_FIELD_LABELS
from planner.domain.volume_checks import volume_warnings
from planner.importers.errors import Problem
from planner.importers.needs import Lookups, NeedRow, ParsedNeeds, baseline_limits
from planner.services import access, audit
from planner.services.access import Actor
from planner.services.instances import one_need_instance
from planner.services.reference_data import ReferenceDataError, current_price_book, domain_categories

STATUS_LABELS = {"active": "登録中", "withdrawn": "取下げ"}
# Where a need came from. Demo needs (``planner demo``) are planned only by demo scenarios and users' needs only by
# the other scenarios, so the two never mix in one plan; the list marks and filters them so that nobody is surprised.
ORIGIN_LABELS = {"user": "利用者の登録", "demo": "デモ"}
# The fields a user may change (planner.domain.need_fields), and the category a new need is registered under
EDITABLE = ("category_id", *need_fields.editable_keys())
BASELINE_FIELDS = tuple(baseline_limits())  # optional: absent keeps what is stored
REQUIRED_COLUMNS = ("volume", "start_year")  # every row of a needs file gives them


def editable_values(data: dict[str, Any]) -> dict[str, Any]:
    return {k: data[k] for k in EDITABLE if k in data}


class NeedError(ValueError):
    """A change that cannot be made; the message is for the user (Japanese)."""


class StaleNeed(NeedError):
    def __init__(self) -> None:
        super().__init__(
            "このニーズは、画面を開いた後に他の方が更新しています。変更は保存していません。"
            "最新の内容を確認してから、もう一度入力してください"
        )


# --- scope ----------------------------------------------------------------------------------------------------


def editable_bodies(session: Session, user: Actor, prefecture_code: str | None = None) -> list[Body]:
    query = access.editable_bodies_query(user)
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    return list(session.exec(query))


@dataclass(frozen=True)
class NeedFilters:
    prefecture_code: str | None = None
    body_code: str | None = None
    category_id: str | None = None
    status: str | None = "active"  # None: every status
    start_year: int | None = None
    origin: str | None = None  # "user" | "demo" | None: both

    def args(self) -> dict[str, Any]:
        """The query-string arguments that reproduce these filters (for pager and export links)."""
        out = {
            "prefecture": self.prefecture_code,
            "body": self.body_code,
            "category": self.category_id,
            "status": self.status or "all",
            "year": self.start_year,
            "data": self.origin,
        }
        return {k: v for k, v in out.items() if v not in (None, "")}


def filtered_needs(user: Actor, filters: NeedFilters) -> RowSelect[Need, Body]:
    query = access.visible_needs(user)
    if filters.prefecture_code:
        query = query.where(col(Body.prefecture_code) == filters.prefecture_code)
    if filters.body_code:
        query = query.where(col(Need.body_code) == filters.body_code)
    if filters.category_id:
        query = query.where(col(Need.category_id) == filters.category_id)
    if filters.status:
        query = query.where(col(Need.status) == filters.status)
    if filters.start_year:
        query = query.where(col(Need.start_year) == filters.start_year)
    if filters.origin in ORIGIN_LABELS:
        query = query.where(col(Need.is_demo) == (filters.origin == "demo"))
    return query


def origin_counts(session: Session, user: Actor, filters: NeedFilters) -> dict[str, int]:
    """How many of the listed needs (origin filter aside) are the users' and how many the demo's."""
    query = (
        filtered_needs(user, replace(filters, origin=None))
        .with_only_columns(col(Need.is_demo), func.count())
        .group_by(col(Need.is_demo))
    )
    counts = {"user": 0, "demo": 0}
    for row in session.execute(query):  # by index: Session.execute types a row's items as objects when unpacked
        counts["demo" if row[0] else "user"] += int(row[1])
    return counts


def list_needs(
    session: Session, user: Actor, filters: NeedFilters, *, page: int = 1, per_page: int = 50
) -> tuple[list[tuple[Need, Body]], int]:
    query = filtered_needs(user, filters)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Body.code), col(Need.category_id), col(Need.id))
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [(need, body) for need, body in rows], int(total)


def categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).order_by(col(Category.sort_order), col(Category.id))))


# --- changes ----------------------------------------------------------------------------------------------------


def need_snapshot(need: Need) -> dict[str, Any]:
    return {
        "body_code": need.body_code,
        **{k: getattr(need, k) for k in EDITABLE},
        "status": need.status,
        "is_demo": need.is_demo,
        "version": need.version,
    }


def _record_need(
    session: Session, user: Any, action: str, need: Need, body: Body, before: dict[str, Any] | None, detail: str
) -> None:
    """The audit entry of one need's change: who, which body, the need before (None when new) and after."""
    audit.record(
        session,
        user_id=user.id,
        action=action,
        entity="need",
        entity_id=need.id,
        prefecture_code=body.prefecture_code,
        body_code=body.code,
        before=before,
        after=need_snapshot(need),
        detail=detail,
    )


def _check_values(session: Session, body: Body, data: dict[str, Any], need_id: int | None) -> None:
    if session.get(Category, data["category_id"]) is None:
        raise NeedError(f"分野 {data['category_id']} はありません")
    if not data["volume"] or data["volume"] <= 0:
        raise NeedError("利用量は0より大きい数値にしてください")
    duplicate = session.exec(
        select(Need).where(
            col(Need.body_code) == body.code, col(Need.category_id) == data["category_id"], col(Need.status) == "active"
        )
    ).first()
    if duplicate is not None and duplicate.id != need_id:
        raise NeedError(
            f"{body.name}はこの分野のニーズを登録済みです（ニーズ {duplicate.id}）。そのニーズを編集してください"
        )


def create_need(session: Session, user: Actor, body: Body, data: dict[str, Any]) -> Need:
    _check_values(session, body, data, None)
    need = Need(body_code=body.code, created_by=user.id, **editable_values(data))
    session.add(need)
    _flush_unique(session, body, data["category_id"])
    _record_need(session, user, "create", need, body, None, f"{body.name} のニーズを登録")
    return need


def duplicate_message(body_name: str, category_id: str) -> str:
    return (
        f"{body_name}の分野 {category_id} のニーズは、同時に行われた別の登録・取込で既に登録されています"
        "（同じ団体・分野の登録中ニーズは1件まで）。一覧を開き直し、登録済みのニーズを編集してください"
    )


def _flush_unique(session: Session, body: Body, category_id: str) -> None:
    """Write pending needs; the partial unique index on active (body, category) refuses a duplicate that a
    concurrent registration committed after our own check read the table."""
    try:
        session.flush()
    except IntegrityError as e:
        session.rollback()
        raise NeedError(duplicate_message(body.name, category_id)) from e


def _conditional_update(session: Session, need: Need, expected_version: int, values: dict[str, Any]) -> None:
    """UPDATE ... WHERE version = expected: the database, not a read before the write, decides who was first."""
    try:
        result = session.exec(
            update(Need)
            .where(col(Need.id) == need.id, col(Need.version) == expected_version)
            .values(version=expected_version + 1, updated_at=utcnow(), **values)
        )
    except IntegrityError as e:  # restoring (or re-categorising) onto a category that became active meanwhile
        session.rollback()
        raise NeedError(duplicate_message(need.body_code, values.get("category_id", need.category_id))) from e
    if result.rowcount != 1:
        session.rollback()
        raise StaleNeed()
    session.refresh(need)


def update_need(
    session: Session, user: Actor, need: Need, body: Body, data: dict[str, Any], expected_version: int
) -> Need:
    if need.version != expected_version:
        raise StaleNeed()
    if need.status != "active":
        raise NeedError("取下げ済みのニーズは編集できません。先に取下げを取り消してください")
    _check_values(session, body, data, need.id)
    before = need_snapshot(need)
    values = editable_values(data)
    if any(getattr(need, k) != v for k, v in values.items()):
        values["is_demo"] = False  # see takes_over_demo
    _conditional_update(session, need, expected_version, values)
    _record_need(session, user, "update", need, body, before, f"{body.name} のニーズを更新")
    return need


def takes_over_demo(need: Need | None, values: dict[str, Any]) -> bool:
    """A user who changes a demo need makes it theirs: from then on the users' scenarios plan it, the demo's do
    not, and loading the demo again leaves it alone (a user's figures are never discarded as demo data)."""
    return need is not None and need.is_demo and any(getattr(need, k) != v for k, v in values.items())


def set_status(session: Session, user: Actor, need: Need, body: Body, status: str, expected_version: int) -> Need:
    if status not in STATUS_LABELS:
        raise NeedError(f"状態 {status} はありません")
    if need.version != expected_version:
        raise StaleNeed()
    if need.status == status:
        raise NeedError("このニーズは既に" + ("取下げ済みです" if status == "withdrawn" else "登録中です"))
    if status == "active":
        _check_values(session, body, {k: getattr(need, k) for k in EDITABLE}, need.id)
    before = need_snapshot(need)
    _conditional_update(session, need, expected_version, {"status": status})
    _record_need(
        session,
        user,
        "withdraw" if status == "withdrawn" else "restore",
        need,
        body,
        before,
        f"{body.name} のニーズを" + ("取下げ" if status == "withdrawn" else "再登録"),
    )
    return need


# --- estimate and suggestion ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    price_book_version: str
    horizon_years: int
    cost: GroupCost

    def as_dict(self) -> dict[str, Any]:
        return {
            "price_book_version": self.price_book_version,
            "horizon_years": self.horizon_years,
            "initial_yen": self.cost.initial_yen,
            "annual_yen": self.cost.annual_yen,
            "total_yen": self.cost.total_yen,
        }


def standalone_estimate(
    session: Session, body: Body, category_id: str, volume: float, start_year: int = 2026
) -> Estimate | None:
    """The body's cost of adopting the category alone, from the current price book (None without one)."""
    book = current_price_book(session)
    if book is None or volume is None or volume <= 0:
        return None
    try:
        cats = domain_categories(session, book, [category_id])
    except ReferenceDataError:
        return None
    if category_id not in cats:
        return None
    instance, need = one_need_instance(body, category_id, volume, start_year, book.horizon_years, cats, name="estimate")
    return Estimate(book.version, book.horizon_years, standalone_cost(instance, need))


def volume_suggestion(category: Category | None, body: Body | None) -> float | None:
    """A starting value from population (the category's volume per 10,000 inhabitants), where both are known."""
    if category is None or body is None or not body.population or not category.volume_per_10k_pop:
        return None
    value = body.population / 10000 * category.volume_per_10k_pop
    return round(value, 1) if value < 100 else float(round(value))


# --- import -----------------------------------------------------------------------------------------------------


def import_lookups(session: Session, user: Actor, fiscal_year: int | None = None) -> Lookups:
    bodies = {b.code: (b.name, b.prefecture_code) for b in session.exec(select(Body))}
    cats = {c.id: c.name for c in categories(session)}

    def may_edit(code: str) -> bool:
        _, pref = bodies[code]
        return access.edits_body(user, code, pref)

    return Lookups(bodies=bodies, categories=cats, may_edit=may_edit, fiscal_year=fiscal_year)


@dataclass(frozen=True)
class Change:
    label: str
    before: Any
    after: Any
    key: str = ""  # the need's field ("" for the change of who owns the data)


@dataclass(frozen=True)
class ImportLine:
    row: NeedRow
    existing: Need | None  # the active need this row updates, or None for a new one
    changes: tuple[Change, ...] = ()  # for an update: each value that changes, before and after
    warnings: tuple[str, ...] = ()

    @property
    def action(self) -> str:
        if self.existing is None:
            return "create"
        return "update" if self.changes else "unchanged"


def row_values(r: NeedRow, need: Need | None = None) -> dict[str, Any]:
    """The values a row writes: for an update, the fields the file has no column for keep the need's values."""
    values = {k: getattr(r, k) for k in EDITABLE if k not in BASELINE_FIELDS}
    if need is not None:
        optional = [k for k in values if k not in ("category_id", *REQUIRED_COLUMNS)]
        values.update({k: getattr(need, k) for k in optional if k not in r.given})
    # The baselines are written only from a column for them: a file without one keeps what is stored.
    values.update({k: getattr(r, k) for k in BASELINE_FIELDS if k in r.given})
    return values


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        return a is not None and b is not None and math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    return bool(a == b)


def _changes(need: Need, r: NeedRow) -> tuple[Change, ...]:
    values = row_values(r, need)
    out = [
        Change(NEED_FIELD_LABELS[key], getattr(need, key), values.get(key, getattr(need, key)), key)
        for key in need_fields.editable_keys()  # each under its name (planner.domain.need_fields)
        if not _same(getattr(need, key), values.get(key, getattr(need, key)))
    ]
    if out and need.is_demo:
        out.append(Change("データ", "デモ", "利用者の登録"))  # see takes_over_demo
    return tuple(out)


def plan_import(session: Session, parsed: ParsedNeeds) -> list[ImportLine]:
    """What each readable row would do (register a new need, update the body's active need of the category, or
    leave it as it is), what it changes, and what deserves a second look (volume_warnings, standalone only)."""
    keys = {(r.body_code, r.category_id) for r in parsed.rows}
    existing: dict[tuple[str, str], Need] = {}
    codes = sorted({k[0] for k in keys})
    population: dict[str, int | None] = {}
    for start in range(0, len(codes), 500):
        chunk = codes[start : start + 500]
        for need in session.exec(select(Need).where(col(Need.body_code).in_(chunk), col(Need.status) == "active")):
            existing.setdefault((need.body_code, need.category_id), need)
        population.update(
            session.exec(select(col(Body.code), col(Body.population)).where(col(Body.code).in_(chunk))).all()
        )
    cats = {c.id: c for c in categories(session)}
    lines = []
    for r in parsed.rows:
        stored = existing.get((r.body_code, r.category_id))
        cat = cats.get(r.category_id)
        warnings = list(r.warnings)
        warnings += volume_warnings(
            r.volume,
            cat.unit if cat else "",
            previous=stored.volume if stored is not None else None,
            population=population.get(r.body_code),
            per_10k_pop=cat.volume_per_10k_pop if cat else None,
        )
        changes = _changes(stored, r) if stored is not None else ()
        if stored is not None and not changes:
            warnings = []  # nothing changes: nothing to confirm
        lines.append(ImportLine(r, stored, changes, tuple(warnings)))
    return lines


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_needs(
    session: Session, user: Actor, parsed: ParsedNeeds, lines: Iterable[ImportLine] | None = None, source: str = ""
) -> ImportResult:
    """Write every row or none: the caller commits once, and any problem raises before anything is committed."""
    if parsed.problems or not parsed.rows:
        raise NeedError("問題のある行があるため取り込めません")
    lines = list(lines) if lines is not None else plan_import(session, parsed)
    result = ImportResult()
    bodies = {
        b.code: b for b in session.exec(select(Body).where(col(Body.code).in_({line.row.body_code for line in lines})))
    }
    for line in lines:
        r = line.row
        body = bodies[r.body_code]
        if not access.edits_body_row(user, body):  # checked again at write time, whatever the preview said
            raise NeedError(f"{r.row}行目: {body.name} のニーズを登録する権限がありません")
        need = line.existing
        values = row_values(r, need)
        if need is None:
            need = Need(body_code=body.code, created_by=user.id, **values)
            session.add(need)
            try:
                _flush_unique(session, body, r.category_id)
            except NeedError as e:
                raise NeedError(f"{r.row}行目: {e}") from e
            _record_need(session, user, "import", need, body, None, f"{source} {r.row}行目から登録")
            result.created += 1
            continue
        if not _changes(need, r):
            result.unchanged += 1
            continue
        before = need_snapshot(need)
        _conditional_update(session, need, need.version, {**values, "is_demo": False})
        _record_need(session, user, "import", need, body, before, f"{source} {r.row}行目で更新")
        result.updated += 1
    audit.record(
        session,
        user_id=user.id,
        action="import",
        entity="need",
        entity_id="",
        prefecture_code=getattr(user, "prefecture_code", None),
        body_code=getattr(user, "body_code", None),
        detail=f"{source}: 新規 {result.created} 件、更新 {result.updated} 件、変更なし {result.unchanged} 件",
    )
    return result


def problems_text(problems: Iterable[Problem]) -> list[str]:
    return [str(p) for p in problems]


def find_need(session: Session, need_id: int) -> Need | None:
    return session.get(Need, need_id)


def category(session: Session, category_id: str | None) -> Category | None:
    """The category of ``category_id`` (None for none or an unknown one)."""
    return session.get(Category, category_id) if category_id else None


def export_rows(session: Session, user: Actor, filters: NeedFilters, fmt: str, limit: int) -> list[tuple[Need, Body]]:
    """The (need, body) rows of an export the user asked for, at most ``limit``, the export recorded in the audit
    log: who took which body's data out of the system is worth knowing later, like any change."""
    query = filtered_needs(user, filters).order_by(col(Body.code), col(Need.category_id), col(Need.id))
    rows = [(need, body) for need, body in session.exec(query.limit(limit))]
    audit.record(
        session,
        user_id=user.id,
        action="export",
        entity="need",
        entity_id="",
        prefecture_code=user.prefecture_code,
        body_code=user.body_code,
        detail=f"{fmt.upper()} {len(rows)} 件 条件={filters.args()}",
    )
    return rows
