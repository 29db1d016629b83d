"""Users and passwords (argon2). The web login and ``planner create-user`` both use these functions."""

from __future__ import annotations

import re
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlmodel import Session, col, select

from planner.db.models import Body, User

from .access import ADMIN, MUNICIPALITY, PREFECTURE, ROLES
from .audit import record as audit
from .body_admin import prefecture_body

MIN_PASSWORD_LENGTH = 10
_USERNAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{1,79}")
USERNAME_PATTERN = _USERNAME  # login names (the CSV import checks e-mail addresses against it)

_hasher = PasswordHasher()


class UserError(ValueError):
    """A user cannot be created or changed as asked; ``field`` names the input the message is about
    (username, password, role, prefecture_code, body_code), None when it is about the request as a whole."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's (rehash it at the next login)."""
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return True


def password_problem(password: str) -> str | None:
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"パスワードは {MIN_PASSWORD_LENGTH} 文字以上にしてください"
    if password.strip() != password:
        return "パスワードの先頭と末尾に空白は使えません"
    return None


def generate_password() -> str:
    return secrets.token_urlsafe(12)


def create_user(
    session: Session,
    username: str,
    password: str,
    role: str,
    *,
    body_code: str | None = None,
    prefecture_code: str | None = None,
    display_name: str = "",
    created_by: int | None = None,
    is_demo: bool = False,
) -> User:
    """Create a user after checking the role's scope: a prefecture coordinator needs a prefecture, municipality
    staff a body; an administrator neither. Raises :class:`UserError` with a Japanese message."""
    if role not in ROLES:
        raise UserError(f"役割「{role}」は admin・prefecture・municipality のいずれかです", "role")
    if not _USERNAME.fullmatch(username or ""):
        raise UserError("ログイン名は英数字と . _ @ - の 2〜80 文字にしてください", "username")
    problem = password_problem(password)
    if problem:
        raise UserError(problem, "password")
    if session.exec(select(User).where(col(User.username) == username)).first() is not None:
        raise UserError(f"ログイン名「{username}」は既に使われています", "username")
    if role == ADMIN:
        if body_code or prefecture_code:
            raise UserError("管理者には団体や都道府県を指定しません", "role")
    elif role == PREFECTURE:
        if body_code:
            raise UserError("都道府県担当者には --body ではなく --prefecture を指定してください", "body_code")
        prefecture_code = _prefecture_code(prefecture_code)
        if prefecture_body(session, prefecture_code) is None:
            raise UserError(
                f"都道府県コード {prefecture_code} の都道府県が登録されていません（planner init-db を先に実行してください）",
                "prefecture_code",
            )
    else:
        if not body_code:
            raise UserError("市区町村担当者には --body で団体コード（6桁）を指定してください", "body_code")
        body = session.get(Body, body_code)
        if body is None:
            raise UserError(f"団体コード {body_code} に当たる団体がありません", "body_code")
        if body.kind == "prefecture":
            raise UserError(
                f"{body.name} は都道府県です。都道府県担当者は --role prefecture で作成してください", "body_code"
            )
        prefecture_code = body.prefecture_code
    if not display_name:
        display_name = username
    user = User(
        username=username,
        display_name=display_name,
        password_hash=hash_password(password),
        role=role,
        prefecture_code=prefecture_code,
        body_code=body_code if role == MUNICIPALITY else None,
        is_demo=is_demo,
    )
    session.add(user)
    session.flush()
    audit(
        session,
        user_id=created_by,
        action="create",
        entity="user",
        entity_id=str(user.id),
        prefecture_code=prefecture_code,
        body_code=user.body_code,
        after={"username": username, "role": role, "prefecture_code": prefecture_code, "body_code": user.body_code},
    )
    return user


def end_sessions(user: User) -> None:
    """Invalidate every session cookie issued to ``user`` so far (the generation is part of the login identity)."""
    user.session_generation = (user.session_generation or 0) + 1


def set_password(session: Session, user: User, password: str, changed_by: int | None = None) -> None:
    problem = password_problem(password)
    if problem:
        raise UserError(problem, "password")
    user.password_hash = hash_password(password)
    end_sessions(user)  # whoever knew the old password may hold a session opened with it
    audit(session, user_id=changed_by, action="update", entity="user", entity_id=str(user.id), detail="パスワード変更")
    session.flush()


def authenticate(session: Session, username: str, password: str) -> User | None:
    """The active user with this name and password, or None. Old-parameter hashes are upgraded on success."""
    user = session.exec(select(User).where(col(User.username) == username)).first()
    if user is None or not user.is_active:
        _hasher.hash(password)  # spend the same time as a real check, so names cannot be probed by timing
        return None
    if not verify_password(user.password_hash, password):
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        session.flush()
    return user


def _prefecture_code(value: str | None) -> str:
    if not value or not value.isdigit() or not 1 <= int(value) <= 47:
        raise UserError(f"都道府県コードは 01〜47 で指定してください（{value!r}）", "prefecture_code")
    return f"{int(value):02d}"
