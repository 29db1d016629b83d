"""Reading the audit log: filtered, scoped, paginated lists and a readable before/after comparison."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import func
from sqlalchemy.sql.expression import Select
from sqlmodel import Session, col, select

from planner.db.models import AuditLog, Body, Scenario, User
from planner.domain.vocabulary import BODY_FIELD_LABELS, NEED_FIELD_LABELS
from planner.services.answers import ANSWER_LABELS

# A select() over AuditLog (the entries, or a count of them) that the filters narrow
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


@dataclass(frozen=True)
class AuditFilter:
    entity: str | None = None
    action: str | None = None
    user_id: int | None = None
    date_from: date | None = None
    date_to: date | None = None  # inclusive
    entity_id: str | None = None
    body_code: str | None = None


def _apply(query: _Query, prefecture_code: str | None, f: AuditFilter) -> _Query:
    # A coordinator's scope is the prefecture stamped on the entry when it was written (the changed body's).
    if prefecture_code is not None:
        query = query.where(col(AuditLog.prefecture_code) == prefecture_code)
    if f.entity:
        query = query.where(col(AuditLog.entity) == f.entity)
    if f.action:
        query = query.where(col(AuditLog.action) == f.action)
    if f.user_id is not None:
        query = query.where(col(AuditLog.user_id) == f.user_id)
    if f.date_from:
        query = query.where(col(AuditLog.at) >= datetime.combine(f.date_from, time.min))
    if f.date_to:
        query = query.where(col(AuditLog.at) < datetime.combine(f.date_to + timedelta(days=1), time.min))
    if f.entity_id:
        query = query.where(col(AuditLog.entity_id) == f.entity_id)
    if f.body_code:
        query = query.where(col(AuditLog.body_code) == f.body_code)
    return query


def list_entries(
    session: Session,
    *,
    prefecture_code: str | None,
    filters: AuditFilter = AuditFilter(),
    page: int = 1,
    per_page: int = 50,
) -> tuple[list[AuditLog], int]:
    """Newest first. ``prefecture_code`` limits a coordinator to its prefecture (None: every entry)."""
    total = session.exec(_apply(select(func.count()).select_from(AuditLog), prefecture_code, filters)).one()
    rows = session.exec(
        _apply(select(AuditLog), prefecture_code, filters)
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
        .offset((max(1, page) - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


def user_names(session: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = session.exec(
        select(col(User.id), col(User.username), col(User.display_name)).where(col(User.id).in_(wanted))
    ).all()
    return {uid: f"{display or username}（{username}）" for uid, username, display in rows if uid is not None}


def target_names(session: Session, entries: Iterable[AuditLog]) -> dict[tuple[str, str], str]:
    """What an entry acted on, by the name users know (利用者 山田（yamada）, not 利用者 2): users, bodies and
    scenarios; an answer by the body that gave it (its key 3:n174 means nothing to a reader, and the entry's detail
    names the plan and the need); other targets keep their number (計画 3 is how plans are known)."""
    wanted: dict[str, set[str]] = {}
    for e in entries:
        if e.entity in ("user", "body", "scenario") and e.entity_id:
            wanted.setdefault(e.entity, set()).add(e.entity_id)
        if e.body_code:
            wanted.setdefault("body", set()).add(e.body_code)
    out: dict[tuple[str, str], str] = {}
    users = {i for i in wanted.get("user", ()) if i.isdigit()}
    for uid, name in user_names(session, [int(i) for i in users]).items():
        out[("user", str(uid))] = name
    if wanted.get("body"):
        for code, name in session.exec(
            select(col(Body.code), col(Body.name)).where(col(Body.code).in_(wanted["body"]))
        ).all():
            out[("body", code)] = name
    scenarios = {i for i in wanted.get("scenario", ()) if i.isdigit()}
    if scenarios:
        for sid, name in session.exec(
            select(col(Scenario.id), col(Scenario.name)).where(col(Scenario.id).in_([int(i) for i in scenarios]))
        ).all():
            out[("scenario", str(sid))] = name
    for e in entries:
        if e.entity == "member_answer" and e.entity_id:
            out[("member_answer", e.entity_id)] = out.get(("body", e.body_code or ""), "")
    return out


# Field names as users know them; unknown keys (price-book paths such as ai_ocr.lead.fixed_initial) show as stored.
# A need's and a body's fields are the vocabulary's (planner.domain.vocabulary); the others are the audit log's own.
FIELD_LABELS = {
    **BODY_FIELD_LABELS,
    **NEED_FIELD_LABELS,
    "username": "ログイン名",
    "display_name": "表示名",
    "role": "役割",
    "body_code": "団体コード",
    "is_active": "有効",
    "current": "現行の版",
    "file": "ファイル",
    "as_of": "時点",
    "bodies": "団体数",
    "vintage_id": "取込番号",
    "category_id": "分野",
    "name": "名前",
    "version": "版",
    "fiscal_year": "年度",
    "answer": "回答",
    "comment": "コメント",
}
# Stored values shown as words (a member's answer is stored as join/decline/conditional).
VALUE_LABELS = {"answer": ANSWER_LABELS}


@dataclass(frozen=True)
class DiffRow:
    key: str
    before: str
    after: str
    changed: bool

    @property
    def label(self) -> str:
        return FIELD_LABELS.get(self.key, self.key)


def _shown(key: str, value: Any) -> str:
    """A stored value as the page shows it: a word for the coded values of ``VALUE_LABELS``, the rest as stored
    (lists and dicts, such as a scenario's hosts or a plan's documents, are never codes and cannot be looked up)."""
    labels = VALUE_LABELS.get(key)
    if labels and isinstance(value, str):
        value = labels.get(value, value)
    return _show(value)


def _show(value: Any) -> str:
    if value is None:
        return "—"
    if value is True:
        return "はい"
    if value is False:
        return "いいえ"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def diff_rows(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> list[DiffRow]:
    """One row per key of either side, changed keys marked; keys keep the order in which they first appear."""
    before = before or {}
    after = after or {}
    keys = list(dict.fromkeys([*before.keys(), *after.keys()]))
    rows = []
    for key in keys:
        b = before.get(key) if key in before else None
        a = after.get(key) if key in after else None
        rows.append(
            DiffRow(
                key,
                _shown(key, b) if key in before else "",
                _shown(key, a) if key in after else "",
                key not in before or key not in after or b != a,
            )
        )
    return rows


def filter_users(session: Session, prefecture_code: str | None) -> list[User]:
    """The people the log's user filter lists: everyone for administrators, a coordinator's own prefecture's users
    (those the coordinator may already see in the log) otherwise."""
    query = select(User).order_by(col(User.username))
    if prefecture_code:
        query = query.where(col(User.prefecture_code) == prefecture_code)
    return list(session.exec(query).all())
