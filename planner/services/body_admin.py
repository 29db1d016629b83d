"""The bodies pages' reading side: the filtered list, the data vintages behind its figures, a body's history."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any, TypeVar

import sqlalchemy
from sqlalchemy import func
from sqlalchemy.sql.expression import Select
from sqlmodel import Session, col, select

from planner.db.models import AuditLog, Body, Category, DataVintage, Need
from planner.db.rows import id_of

# A select() over Body (the rows, or a count of them) that the list's filters narrow
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


def _filtered(query: _Query, prefecture_code: str | None, kind: str | None, name: str | None) -> _Query:
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    if kind:
        query = query.where(col(Body.kind) == kind)
    if name:
        # Codes are searched as typed; names by substring.
        query = query.where(col(Body.name).contains(name) | col(Body.code).startswith(name))
    return query


def list_bodies(
    session: Session,
    *,
    prefecture_code: str | None = None,
    kind: str | None = None,
    name: str | None = None,
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[Body], int]:
    total = session.exec(_filtered(select(func.count()).select_from(Body), prefecture_code, kind, name)).one()
    rows = session.exec(
        _filtered(select(Body), prefecture_code, kind, name)
        .order_by(col(Body.code))
        .offset((max(1, page) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


def vintages(session: Session, ids: Iterable[int | None]) -> dict[int, DataVintage]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {id_of(v): v for v in session.exec(select(DataVintage).where(col(DataVintage.id).in_(wanted)))}


def body(session: Session, code: str | None) -> Body | None:
    """The body of ``code`` (None for no code or an unknown one)."""
    return session.get(Body, code) if code else None


def prefectures(session: Session) -> list[Body]:
    """The 47 prefectures' own bodies (長野県 200000 ...), by code."""
    return list(session.exec(select(Body).where(col(Body.kind) == "prefecture").order_by(col(Body.code))))


def prefecture_body(session: Session, prefecture_code: str | None) -> Body | None:
    """The prefecture's own body (長野県 itself, 200000, for 20), None for no or an unknown prefecture."""
    if not prefecture_code:
        return None
    return session.exec(
        select(Body).where(col(Body.kind) == "prefecture", col(Body.prefecture_code) == prefecture_code)
    ).first()


def prefecture_bodies(session: Session, prefecture_codes: Iterable[str | None]) -> list[Body]:
    """The own bodies of several prefectures at once (:func:`prefecture_body` for each), by code."""
    wanted = {c for c in prefecture_codes if c}
    if not wanted:
        return []
    return list(
        session.exec(
            select(Body)
            .where(col(Body.kind) == "prefecture", col(Body.prefecture_code).in_(wanted))
            .order_by(col(Body.code))
        )
    )


def prefecture_names(session: Session) -> dict[str, str]:
    """Prefecture code → its name (20 → 長野県)."""
    return {b.prefecture_code: b.name for b in prefectures(session)}


def body_needs(session: Session, code: str) -> list[tuple[Need, str]]:
    """The body's needs, newest first, with their category names."""
    rows = session.exec(
        select(Need, col(Category.name))
        .join(Category, col(Category.id) == col(Need.category_id))
        .where(col(Need.body_code) == code)
        .order_by(col(Need.status), col(Need.start_year), col(Need.id))
    ).all()
    return [(n, name) for n, name in rows]


def flags_history(session: Session, code: str, limit: int = 50) -> list[AuditLog]:
    """Changes to the body's own record (flags and their imports), newest first."""
    return list(
        session.exec(
            select(AuditLog)
            .where(col(AuditLog.entity) == "body", col(AuditLog.entity_id) == code)
            .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
            .limit(limit)
        )
    )


def flag_snapshot(session: Session, prefecture_code: str | None = None) -> dict[str, tuple[str, bool, bool, bool]]:
    """code -> (name, 条件不利地域, 推進計画, 不交付団体), plain values that outlive a rollback (for the import
    preview)."""
    # SQLAlchemy's select: SQLModel's typed select() takes at most four columns
    query = sqlalchemy.select(
        col(Body.code), col(Body.name), col(Body.disadvantaged), col(Body.has_data_plan), col(Body.no_allocation_tax)
    )
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    return {r[0]: (r[1], bool(r[2]), bool(r[3]), bool(r[4])) for r in session.execute(query)}


def flags_fingerprint(session: Session, prefecture_code: str | None = None) -> str:
    """A digest of the versions of the bodies an import may change (the coordinator's prefecture, or all): the
    import's preview carries it and its confirmation is refused when it differs, so a confirmation replayed after
    another change of those bodies never reverts that change unseen."""
    query = select(col(Body.code), col(Body.version)).order_by(col(Body.code))
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    digest = hashlib.sha256()
    for code, version in session.exec(query):
        digest.update(f"{code}:{version};".encode())
    return digest.hexdigest()


def body_names(session: Session, codes: Iterable[str]) -> dict[str, str]:
    """The names of the bodies of ``codes`` by code (unknown codes left out)."""
    wanted = set(codes)
    if not wanted:
        return {}
    return {b.code: b.name for b in session.exec(select(Body).where(col(Body.code).in_(wanted)))}
