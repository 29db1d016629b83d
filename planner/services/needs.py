"""Needs (ニーズ登録): list, register, edit, withdraw and restore, estimate, import and export.

Every change goes to the audit log in the same transaction, with the values before and after. Edits carry the
version the user saw; the update is conditional on it in SQL, so two people editing the same need never silently
overwrite each other (the second gets StaleNeed and nothing is written).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

from sqlalchemy import update
from sqlmodel import Session, func, select

from planner.db.models import Body, Category, Need, utcnow
from planner.domain.costs import GroupCost, standalone_cost
from planner.domain.model import Body as DomainBody
from planner.domain.model import Instance, Need as DomainNeed
from planner.importers.errors import Problem
from planner.importers.needs import Lookups, NeedRow, ParsedNeeds
from planner.services import access, audit
from planner.services.reference_data import ReferenceDataError, current_price_book, domain_categories

STATUS_LABELS = {"active": "登録中", "withdrawn": "取下げ"}
EDITABLE = ("category_id", "volume", "start_year", "accepts_lead", "accepts_unified", "can_lead",
            "serves_disadvantaged_area", "notes")


class NeedError(ValueError):
    """A change that cannot be made; the message is for the user (Japanese)."""


class StaleNeed(NeedError):
    def __init__(self) -> None:
        super().__init__("このニーズは、画面を開いた後に他の方が更新しています。変更は保存していません。"
                         "最新の内容を確認してから、もう一度入力してください")


# --- scope ----------------------------------------------------------------------------------------------------

def editable_bodies(session: Session, user, prefecture_code: str | None = None) -> list[Body]:
    query = access.editable_bodies_query(user)
    if prefecture_code:
        query = query.where(Body.prefecture_code == prefecture_code)
    return list(session.exec(query))


@dataclass(frozen=True)
class NeedFilters:
    prefecture_code: str | None = None
    body_code: str | None = None
    category_id: str | None = None
    status: str | None = "active"  # None: every status
    start_year: int | None = None

    def args(self) -> dict[str, Any]:
        """The query-string arguments that reproduce these filters (for pager and export links)."""
        out = {"prefecture": self.prefecture_code, "body": self.body_code, "category": self.category_id,
               "status": self.status or "all", "year": self.start_year}
        return {k: v for k, v in out.items() if v not in (None, "")}


def filtered_needs(user, filters: NeedFilters):
    query = access.visible_needs(user)
    if filters.prefecture_code:
        query = query.where(Body.prefecture_code == filters.prefecture_code)
    if filters.body_code:
        query = query.where(Need.body_code == filters.body_code)
    if filters.category_id:
        query = query.where(Need.category_id == filters.category_id)
    if filters.status:
        query = query.where(Need.status == filters.status)
    if filters.start_year:
        query = query.where(Need.start_year == filters.start_year)
    return query


def list_needs(session: Session, user, filters: NeedFilters, *, page: int = 1,
               per_page: int = 50) -> tuple[list[tuple[Need, Body]], int]:
    query = filtered_needs(user, filters)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(Body.code, Need.category_id, Need.id)
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return [tuple(r) for r in rows], int(total)


def categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).order_by(Category.sort_order, Category.id)))


# --- changes ----------------------------------------------------------------------------------------------------

def need_snapshot(need: Need) -> dict[str, Any]:
    return {"body_code": need.body_code, "category_id": need.category_id, "volume": need.volume,
            "start_year": need.start_year, "accepts_lead": need.accepts_lead,
            "accepts_unified": need.accepts_unified, "can_lead": need.can_lead,
            "serves_disadvantaged_area": need.serves_disadvantaged_area, "notes": need.notes,
            "status": need.status, "version": need.version}


def _check_values(session: Session, body: Body, data: dict[str, Any], need_id: int | None) -> None:
    if session.get(Category, data["category_id"]) is None:
        raise NeedError(f"分野 {data['category_id']} はありません")
    if not data["volume"] or data["volume"] <= 0:
        raise NeedError("利用量は0より大きい数値にしてください")
    duplicate = session.exec(select(Need).where(Need.body_code == body.code,
                                                Need.category_id == data["category_id"],
                                                Need.status == "active")).first()
    if duplicate is not None and duplicate.id != need_id:
        raise NeedError(f"{body.name}はこの分野のニーズを登録済みです（ニーズ {duplicate.id}）。"
                        "そのニーズを編集してください")


def create_need(session: Session, user, body: Body, data: dict[str, Any]) -> Need:
    _check_values(session, body, data, None)
    need = Need(body_code=body.code, created_by=user.id, **{k: data[k] for k in EDITABLE if k in data})
    session.add(need)
    session.flush()
    audit.record(session, user_id=user.id, action="create", entity="need", entity_id=need.id,
                 prefecture_code=body.prefecture_code, body_code=body.code, after=need_snapshot(need),
                 detail=f"{body.name} のニーズを登録")
    return need


def _conditional_update(session: Session, need: Need, expected_version: int, values: dict[str, Any]) -> None:
    """UPDATE ... WHERE version = expected: the database, not a read before the write, decides who was first."""
    result = session.execute(update(Need).where(Need.id == need.id, Need.version == expected_version)
                             .values(version=expected_version + 1, updated_at=utcnow(), **values))
    if result.rowcount != 1:
        session.rollback()
        raise StaleNeed()
    session.refresh(need)


def update_need(session: Session, user, need: Need, body: Body, data: dict[str, Any],
                expected_version: int) -> Need:
    if need.version != expected_version:
        raise StaleNeed()
    if need.status != "active":
        raise NeedError("取下げ済みのニーズは編集できません。先に取下げを取り消してください")
    _check_values(session, body, data, need.id)
    before = need_snapshot(need)
    _conditional_update(session, need, expected_version, {k: data[k] for k in EDITABLE if k in data})
    audit.record(session, user_id=user.id, action="update", entity="need", entity_id=need.id,
                 prefecture_code=body.prefecture_code, body_code=body.code, before=before,
                 after=need_snapshot(need), detail=f"{body.name} のニーズを更新")
    return need


def set_status(session: Session, user, need: Need, body: Body, status: str, expected_version: int) -> Need:
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
    audit.record(session, user_id=user.id, action="withdraw" if status == "withdrawn" else "restore", entity="need",
                 entity_id=need.id, prefecture_code=body.prefecture_code, body_code=body.code, before=before,
                 after=need_snapshot(need),
                 detail=f"{body.name} のニーズを" + ("取下げ" if status == "withdrawn" else "再登録"))
    return need


# --- estimate and suggestion ----------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Estimate:
    price_book_version: str
    horizon_years: int
    cost: GroupCost

    def as_dict(self) -> dict[str, Any]:
        return {"price_book_version": self.price_book_version, "horizon_years": self.horizon_years,
                "initial_yen": self.cost.initial_yen, "annual_yen": self.cost.annual_yen,
                "total_yen": self.cost.total_yen}


def standalone_estimate(session: Session, body: Body, category_id: str, volume: float,
                        start_year: int = 2026) -> Estimate | None:
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
    dbody = DomainBody(code=body.code, name=body.name, prefecture_code=body.prefecture_code, kind=body.kind,
                       lat=body.lat, lng=body.lng, population=body.population)
    need = DomainNeed(id="estimate", body=body.code, category=category_id, volume=float(volume),
                      start_year=start_year, modes=frozenset(), can_lead=False)
    instance = Instance(name="estimate", fiscal_year=start_year, horizon_years=book.horizon_years,
                        bodies={body.code: dbody}, categories=cats, hosts=(), needs=(need,))
    return Estimate(book.version, book.horizon_years, standalone_cost(instance, need))


def volume_suggestion(category: Category | None, body: Body | None) -> float | None:
    """A starting value from population (the category's volume per 10,000 inhabitants), where both are known."""
    if category is None or body is None or not body.population or not category.volume_per_10k_pop:
        return None
    value = body.population / 10000 * category.volume_per_10k_pop
    return round(value, 1) if value < 100 else float(round(value))


# --- import -----------------------------------------------------------------------------------------------------

def import_lookups(session: Session, user) -> Lookups:
    bodies = {b.code: (b.name, b.prefecture_code) for b in session.exec(select(Body))}
    cats = {c.id: c.name for c in categories(session)}

    def may_edit(code: str) -> bool:
        _, pref = bodies[code]
        return access.edits_body(user, code, pref)

    return Lookups(bodies=bodies, categories=cats, may_edit=may_edit)


@dataclass(frozen=True)
class ImportLine:
    row: NeedRow
    existing: Need | None  # the active need this row updates, or None for a new one

    @property
    def action(self) -> str:
        return "update" if self.existing is not None else "create"


def plan_import(session: Session, parsed: ParsedNeeds) -> list[ImportLine]:
    """What each row would do: update the body's active need of the category, or register a new one."""
    keys = {(r.body_code, r.category_id) for r in parsed.rows}
    existing: dict[tuple[str, str], Need] = {}
    codes = sorted({k[0] for k in keys})
    for start in range(0, len(codes), 500):
        for need in session.exec(select(Need).where(Need.body_code.in_(codes[start:start + 500]),
                                                    Need.status == "active")):
            existing.setdefault((need.body_code, need.category_id), need)
    return [ImportLine(r, existing.get((r.body_code, r.category_id))) for r in parsed.rows]


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    unchanged: int = 0


def import_needs(session: Session, user, parsed: ParsedNeeds, lines: Iterable[ImportLine] | None = None,
                 source: str = "") -> ImportResult:
    """Write every row or none: the caller commits once, and any problem raises before anything is committed."""
    if parsed.problems or not parsed.rows:
        raise NeedError("問題のある行があるため取り込めません")
    lines = list(lines) if lines is not None else plan_import(session, parsed)
    result = ImportResult()
    bodies = {b.code: b for b in session.exec(select(Body).where(Body.code.in_({l.row.body_code for l in lines})))}
    for line in lines:
        r = line.row
        body = bodies[r.body_code]
        if not access.edits_body_row(user, body):  # checked again at write time, whatever the preview said
            raise NeedError(f"{r.row}行目: {body.name} のニーズを登録する権限がありません")
        values = {"category_id": r.category_id, "volume": r.volume, "start_year": r.start_year,
                  "accepts_lead": r.accepts_lead, "accepts_unified": r.accepts_unified, "can_lead": r.can_lead,
                  "serves_disadvantaged_area": r.serves_disadvantaged_area, "notes": r.notes}
        need = line.existing
        if need is None:
            need = Need(body_code=body.code, created_by=user.id, **values)
            session.add(need)
            session.flush()
            audit.record(session, user_id=user.id, action="import", entity="need", entity_id=need.id,
                         prefecture_code=body.prefecture_code, body_code=body.code, after=need_snapshot(need),
                         detail=f"{source} {r.row}行目から登録")
            result.created += 1
            continue
        if all(getattr(need, k) == v for k, v in values.items()):
            result.unchanged += 1
            continue
        before = need_snapshot(need)
        _conditional_update(session, need, need.version, values)
        audit.record(session, user_id=user.id, action="import", entity="need", entity_id=need.id,
                     prefecture_code=body.prefecture_code, body_code=body.code, before=before,
                     after=need_snapshot(need), detail=f"{source} {r.row}行目で更新")
        result.updated += 1
    audit.record(session, user_id=user.id, action="import", entity="need", entity_id="",
                 prefecture_code=getattr(user, "prefecture_code", None), body_code=getattr(user, "body_code", None),
                 detail=f"{source}: 新規 {result.created} 件、更新 {result.updated} 件、変更なし {result.unchanged} 件")
    return result


def problems_text(problems: Iterable[Problem]) -> list[str]:
    return [str(p) for p in problems]
