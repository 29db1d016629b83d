"""Administering accounts: change role and scope, deactivate and reactivate, reset passwords.

Creation and hashing live in :mod:`planner.services.users`; this module adds the administrator's changes, each
checked (scope, last administrator) and audited with the values before and after. Password hashes never reach
the audit log.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, or_
from sqlmodel import Session, col, select

from planner.db.models import Body, User

from . import access, audit
from .access import ADMIN, PREFECTURE, ROLES
from .body_admin import prefecture_body
from .users import UserError, create_user, end_sessions, generate_password, hash_password, password_problem


class FieldError(UserError):
    """A problem with one input (``field``: prefecture_code, body_code, role) so a form can show it there."""

    def __init__(self, field: str, message: str):
        super().__init__(message, field)


def _snapshot(user: User) -> dict[str, Any]:
    return {
        "display_name": user.display_name,
        "role": user.role,
        "prefecture_code": user.prefecture_code,
        "body_code": user.body_code,
        "is_active": user.is_active,
    }


LAST_ADMIN = "有効な管理者が1人だけのため"


def _active_admins(session: Session) -> int:
    return len(session.exec(select(col(User.id)).where(col(User.role) == ADMIN, col(User.is_active) == True)).all())  # noqa: E712


def _lock_admins(session: Session, user: User, changed_by: int | None) -> None:
    """Row-lock every active administrator (PostgreSQL) before an administrator is deactivated or demoted, so that
    two such changes run one after the other; SQLite serialises writers anyway. Two admins deactivating each other
    at once then cannot both succeed. ``user`` is read again under the lock (a concurrent change may have
    deactivated or demoted it since the request loaded it)."""
    # All of the transaction's locks on accounts in one statement, in one order (id), so that no two such changes
    # wait for each other:
    # - in id order: a scan's order follows where the rows' latest versions lie, and two transactions locking the
    #   same rows in different orders deadlock;
    # - the changed account and the acting one too: the change updates the first, its audit row names the second
    #   (a foreign key's share lock on it), and either may have stopped being an active administrator meanwhile;
    # - FOR NO KEY UPDATE, not FOR UPDATE: it still excludes another change, but not a foreign key's share lock. A
    #   FOR UPDATE scan also locks a row that a concurrent commit took out of the set (PostgreSQL locks the newest
    #   version before re-checking it), so a change held the lock of an administrator deactivated a moment before
    #   while that administrator's request, begun earlier, held the others and waited to write its audit row
    #   naming itself: a deadlock and a 500 (tests/concurrency/test_last_admin.py).
    others = [i for i in (user.id, changed_by) if i is not None]
    active_admin = and_(col(User.role) == ADMIN, col(User.is_active) == True)  # noqa: E712
    session.exec(
        select(col(User.id))
        .where(or_(active_admin, col(User.id).in_(others)) if others else active_admin)
        .order_by(col(User.id))
        .with_for_update(key_share=True)
    )
    session.refresh(user)


def _an_admin_remains(session: Session, message: str) -> None:
    """Checked after the change is written, inside the locked transaction: the count includes every change that
    committed before, and this one."""
    session.flush()
    if _active_admins(session) < 1:
        raise UserError(message)


def list_users(session: Session) -> list[User]:
    return list(session.exec(select(User).order_by(col(User.role), col(User.username))))


def body_names(session: Session, users: list[User]) -> dict[str, str]:
    """The names of the bodies municipality staff work for (the list shows 松本市, not 202029)."""
    codes = {u.body_code for u in users if u.body_code}
    if not codes:
        return {}
    return {
        code: name
        for code, name in session.exec(select(col(Body.code), col(Body.name)).where(col(Body.code).in_(codes))).all()
    }


def resolve_scope(
    session: Session, role: str, prefecture_code: str | None, body_code: str | None
) -> tuple[str | None, str | None]:
    """The (prefecture, body) a role keeps; raises :class:`UserError` when the scope does not fit the role."""
    if role not in ROLES:
        raise FieldError("role", f"役割「{role}」は admin・prefecture・municipality のいずれかです")
    if role == ADMIN:
        return None, None
    if role == PREFECTURE:
        if not prefecture_code:
            raise FieldError("prefecture_code", "都道府県担当者には都道府県を指定してください")
        if prefecture_body(session, prefecture_code) is None:
            raise FieldError("prefecture_code", f"都道府県コード {prefecture_code} の都道府県が登録されていません")
        return prefecture_code, None
    if not body_code:
        raise FieldError("body_code", "市区町村担当者には団体コード（6桁）を指定してください")
    body = session.get(Body, body_code)
    if body is None:
        raise FieldError("body_code", f"団体コード {body_code} に当たる団体がありません")
    if body.kind == "prefecture":
        raise FieldError("body_code", f"{body.name} は都道府県です。都道府県担当者の役割を選んでください")
    return body.prefecture_code, body.code


def create_account(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    prefecture_code: str | None,
    body_code: str | None,
    display_name: str,
    created_by: int | None,
) -> User:
    """A user made on the administration page, its scope checked against its role (:func:`resolve_scope`). One
    transaction: nothing is kept when it raises :class:`UserError`."""
    pref, body = resolve_scope(session, role, prefecture_code, body_code)
    user = create_user(
        session,
        username,
        password,
        role,
        body_code=body,
        prefecture_code=pref if role == PREFECTURE else None,
        display_name=display_name,
        created_by=created_by,
    )
    return user


def update_user(
    session: Session,
    user: User,
    *,
    display_name: str,
    role: str,
    prefecture_code: str | None,
    body_code: str | None,
    changed_by: int | None,
) -> bool:
    """Change name, role and scope; returns whether anything changed. Nobody becomes an administrator here: like
    creating one, that is done on the command line only (``planner create-user --role admin``, see README)."""
    if role == ADMIN and not access.is_admin(user):
        raise FieldError("role", "管理者への変更は画面ではできません（planner create-user --role admin で作成します）")
    pref, body = resolve_scope(session, role, prefecture_code, body_code)
    demoting = access.is_admin(user) and role != ADMIN and user.is_active
    message = f"{LAST_ADMIN}、この利用者の役割は変えられません"
    if demoting:
        _lock_admins(session, user, changed_by)
        demoting = access.is_admin(user) and user.is_active
        if demoting and _active_admins(session) <= 1:
            raise FieldError("role", message)
    before = _snapshot(user)
    user.display_name = (display_name or "").strip() or user.username
    user.role, user.prefecture_code, user.body_code = role, pref, body
    after = _snapshot(user)
    if before == after:
        return False
    audit.record(
        session,
        user_id=changed_by,
        action="update",
        entity="user",
        entity_id=user.id,
        prefecture_code=pref or before["prefecture_code"],
        body_code=body,
        before=before,
        after=after,
        detail=f"利用者 {user.username}",
    )
    session.flush()
    if demoting:
        try:
            _an_admin_remains(session, message)
        except UserError as e:
            raise FieldError("role", str(e)) from e
    return True


def set_active(session: Session, user: User, active: bool, changed_by: int | None) -> None:
    if user.is_active == active:
        return
    if not active:
        if user.id == changed_by:
            raise UserError("自分自身のアカウントは無効にできません")
        if access.is_admin(user):
            _lock_admins(session, user, changed_by)
            if not user.is_active:
                return  # deactivated by someone else meanwhile
            if _active_admins(session) <= 1:
                raise UserError(f"{LAST_ADMIN}無効にできません")
    user.is_active = active
    if not active:
        end_sessions(user)  # so that reactivating the account later does not revive its old sessions
    audit.record(
        session,
        user_id=changed_by,
        action="activate" if active else "deactivate",
        entity="user",
        entity_id=user.id,
        prefecture_code=user.prefecture_code,
        body_code=user.body_code,
        before={"is_active": not active},
        after={"is_active": active},
        detail=f"利用者 {user.username}",
    )
    session.flush()
    if not active and access.is_admin(user):
        _an_admin_remains(session, f"{LAST_ADMIN}無効にできません（他の管理者が同時に無効化されました）")


def reset_password(session: Session, user: User, changed_by: int | None, password: str | None = None) -> str:
    """Set ``password`` (or a generated one) and return it, so the administrator can hand it over once."""
    password = password or generate_password()
    problem = password_problem(password)
    if problem:
        raise UserError(problem, "password")
    user.password_hash = hash_password(password)
    end_sessions(user)  # a reset usually means the account may be in someone else's hands
    audit.record(
        session,
        user_id=changed_by,
        action="reset_password",
        entity="user",
        entity_id=user.id,
        prefecture_code=user.prefecture_code,
        body_code=user.body_code,
        detail=f"利用者 {user.username} のパスワードを再設定",
    )
    session.flush()
    return password
