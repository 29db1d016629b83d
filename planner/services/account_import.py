"""Accounts in bulk: a CSV of 団体コード, 氏名, メール, 役割 checked row by row, then created all together, each with a
one-time sign-up code its person uses to set their own password.

The code is printed once (the administrator hands it over) and only its argon2 hash and expiry are stored, like a
password. Until it is used the account has a random password nobody knows, so it cannot sign in. The e-mail address
is the login name. Administrators are never created here: only ``planner create-user`` makes them.
"""

from __future__ import annotations

import secrets
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlmodel import Session, col, select

from planner.db.models import Body, User, utcnow
from planner.importers.errors import FileProblems
from planner.importers.tabular import decode_csv
from planner.masterdata.codes import code_problem

from . import access, audit
from .access import ADMIN, MUNICIPALITY, PREFECTURE, ROLE_LABELS
from .users import USERNAME_PATTERN, end_sessions, hash_password, password_problem, verify_password

SIGNUP_CODE_DAYS = 14
# 32 letters and digits without 0/O, 1/I/L: read off paper and typed without confusion; 12 of them is 60 bits.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 12
MAX_ROWS = 2000

COLUMNS = {
    "body_code": ("団体コード", "body_code", "code"),
    "name": ("氏名", "名前", "name", "display_name"),
    "email": ("メール", "メールアドレス", "email", "e-mail", "mail"),
    "role": ("役割", "role"),
}
COLUMN_LABELS = {key: names[0] for key, names in COLUMNS.items()}
ROLE_WORDS = {
    PREFECTURE: PREFECTURE,
    "都道府県担当者": PREFECTURE,
    "都道府県": PREFECTURE,
    MUNICIPALITY: MUNICIPALITY,
    "市区町村担当者": MUNICIPALITY,
    "市区町村": MUNICIPALITY,
    ADMIN: ADMIN,
    "管理者": ADMIN,
}


@dataclass
class AccountRow:
    line: int  # the CSV line, as a spreadsheet numbers it
    body_code: str
    name: str
    email: str
    role: str
    body_name: str = ""
    prefecture_code: str | None = None
    problems: list[tuple[str, str]] = field(default_factory=list)  # (column label, message)

    @property
    def scope(self) -> str:
        return self.body_name


@dataclass
class AccountPreview:
    file_name: str
    rows: list[AccountRow]
    file_problems: list[str]

    @property
    def ok(self) -> bool:
        return bool(self.rows) and not self.file_problems and not any(r.problems for r in self.rows)

    @property
    def problem_count(self) -> int:
        return len(self.file_problems) + sum(len(r.problems) for r in self.rows)


@dataclass(frozen=True)
class IssuedCode:
    user_id: int
    username: str
    name: str
    role: str
    body_name: str
    code: str
    expires_at: datetime


def _clean(value: str) -> str:
    return unicodedata.normalize("NFKC", value or "").strip()


def _header_map(header: list[str]) -> tuple[dict[str, int], list[str]]:
    found: dict[str, int] = {}
    for i, raw in enumerate(header):
        cell = _clean(raw).lower()
        for key, names in COLUMNS.items():
            if cell in {n.lower() for n in names} and key not in found:
                found[key] = i
    missing = [COLUMN_LABELS[k] for k in COLUMNS if k not in found]
    return found, missing


def preview_accounts(session: Session, file_name: str, data: bytes) -> AccountPreview:
    """Every row with its problems (column and message), checked against the database as it is now."""
    try:
        table = decode_csv(file_name, data, max_rows=MAX_ROWS + 1)
    except FileProblems as e:
        return AccountPreview(file_name, [], [str(p) for p in e.problems])
    table = [r for r in table if any(_clean(c) for c in r)]
    if not table:
        return AccountPreview(file_name, [], [f"{file_name}: 行がありません（見出しの行と、1 行以上の利用者）"])
    columns, missing = _header_map(table[0])
    if missing:
        return AccountPreview(
            file_name,
            [],
            [f"{file_name} 1行目: 見出しに {'・'.join(missing)} がありません（団体コード・氏名・メール・役割）"],
        )
    if len(table) > MAX_ROWS + 1:
        return AccountPreview(file_name, [], [f"{file_name}: 行が多すぎます（{MAX_ROWS:,}行まで）"])
    rows = []
    for line, raw in enumerate(table[1:], start=2):
        cells = {key: _clean(raw[i]) if i < len(raw) else "" for key, i in columns.items()}
        rows.append(AccountRow(line, cells["body_code"], cells["name"], cells["email"].lower(), cells["role"]))
    _check_rows(session, rows)
    return AccountPreview(file_name, rows, [])


def _check_rows(session: Session, rows: list[AccountRow]) -> None:
    taken = set(session.exec(select(col(User.username))))
    seen: dict[str, int] = {}
    for row in rows:
        role = ROLE_WORDS.get(row.role) or ROLE_WORDS.get(row.role.lower())
        if role is None:
            row.problems.append(
                (COLUMN_LABELS["role"], f"「{row.role}」は役割ではありません（都道府県担当者・市区町村担当者）")
            )
        elif role == ADMIN:
            row.problems.append(
                (COLUMN_LABELS["role"], "管理者は取込では作れません（planner create-user --role admin で作成します）")
            )
        row.role = role or row.role
        if not row.name:
            row.problems.append((COLUMN_LABELS["name"], "氏名を入力してください"))
        elif len(row.name) > 80:
            row.problems.append((COLUMN_LABELS["name"], "氏名は 80 文字以内にしてください"))
        if not row.email:
            row.problems.append((COLUMN_LABELS["email"], "メールアドレスを入力してください"))
        elif "@" not in row.email or not USERNAME_PATTERN.fullmatch(row.email):
            row.problems.append(
                (
                    COLUMN_LABELS["email"],
                    f"「{row.email}」はログイン名に使えません（英数字と . _ @ - の 80 文字以内のメールアドレス）",
                )
            )
        elif row.email in taken:
            row.problems.append((COLUMN_LABELS["email"], f"{row.email} は既に利用者がいます"))
        elif row.email in seen:
            row.problems.append((COLUMN_LABELS["email"], f"{row.email} は {seen[row.email]}行目と重複しています"))
        else:
            seen[row.email] = row.line
        _check_body(session, row, role)


class _RegisteredCodes:
    """The registered bodies' codes, looked up one at a time: code_problem offers a corrected check digit only
    when that body exists."""

    def __init__(self, session: Session):
        self.session = session

    def __contains__(self, code: object) -> bool:
        return isinstance(code, str) and self.session.get(Body, code) is not None


def _check_body(session: Session, row: AccountRow, role: str | None) -> None:
    label = COLUMN_LABELS["body_code"]
    code = row.body_code
    if not code:
        row.problems.append((label, "団体コード（6桁）を入力してください"))
        return
    problem = code_problem(code, _RegisteredCodes(session))
    if problem:
        row.problems.append((label, problem))
        return
    body = session.get(Body, code)
    if body is None:
        row.problems.append((label, f"団体コード {code} の団体は登録されていません"))
        return
    row.body_name = body.name
    if role == PREFECTURE:
        if body.kind != "prefecture":
            row.problems.append(
                (label, f"{body.name} は都道府県ではありません。都道府県担当者には都道府県の団体コードを書きます")
            )
        row.prefecture_code = body.prefecture_code
    elif role == MUNICIPALITY:
        if body.kind == "prefecture":
            row.problems.append((label, f"{body.name} は都道府県です。役割を都道府県担当者にしてください"))
        row.prefecture_code = body.prefecture_code


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """XXXX-XXXX-XXXX, as printed."""
    return "-".join(code[i : i + 4] for i in range(0, len(code), 4))


def _typed_code(text: str) -> str:
    """A code as typed: any case, with or without hyphens or spaces, full-width letters."""
    return "".join(c for c in unicodedata.normalize("NFKC", text or "").upper() if c.isalnum())


def issue_code(user: User, *, now: datetime | None = None, days: int = SIGNUP_CODE_DAYS) -> str:
    """A new sign-up code for the account (any earlier one stops working); returns the code to print."""
    code = new_code()
    user.signup_code_hash = hash_password(code)
    user.signup_expires_at = (now or utcnow()) + timedelta(days=days)
    return code


def create_accounts(
    session: Session, preview: AccountPreview, created_by: int | None, *, days: int = SIGNUP_CODE_DAYS
) -> list[IssuedCode]:
    """Every row of a clean preview as an account with its code, in one transaction (the caller commits): if any row
    fails now (checked again against the database), nothing is created and ValueError lists the problems."""
    if not preview.ok:
        raise ValueError("問題のある行があるため、利用者を作成しません")
    now = utcnow()
    issued = []
    for row in preview.rows:
        user = User(
            username=row.email,
            display_name=row.name,
            # nobody knows this password: the account signs in only after its person sets one with the code
            password_hash=hash_password(secrets.token_urlsafe(32)),
            role=row.role,
            prefecture_code=row.prefecture_code if access.is_coordinator(row) else None,
            body_code=row.body_code if access.is_municipality(row) else None,
            created_at=now,
        )
        code = issue_code(user, now=now, days=days)
        session.add(user)
        session.flush()
        audit.record(
            session,
            user_id=created_by,
            action="create",
            entity="user",
            entity_id=str(user.id),
            after={
                "username": user.username,
                "display_name": user.display_name,
                "role": user.role,
                "prefecture_code": user.prefecture_code,
                "body_code": user.body_code,
            },
            detail=f"CSV 取込 {preview.file_name} {row.line}行目（登録コードを発行、期限 {days}日）",
            prefecture_code=row.prefecture_code,
            body_code=user.body_code,
        )
        assert user.id is not None and user.signup_expires_at is not None
        issued.append(
            IssuedCode(
                user.id,
                user.username,
                user.display_name,
                ROLE_LABELS.get(user.role, user.role),
                row.body_name,
                format_code(code),
                user.signup_expires_at,
            )
        )
    return issued


class SignupError(ValueError):
    """The code cannot set a password; ``field`` is the input the message is about (None: the code itself)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


WRONG_CODE = (
    "ログイン名か登録コードが違うか、登録コードの有効期限が切れています。管理者に新しいコードを依頼してください"
)


def redeem_code(session: Session, username: str, code: str, password: str, *, now: datetime | None = None) -> User:
    """Set the account's password with its sign-up code, once: the code is then cleared. Every wrong case (no such
    account, no code, a wrong or expired code) gets the same message, so the page tells nothing about accounts."""
    problem = password_problem(password)
    if problem:
        raise SignupError(problem, "password")
    user = session.exec(select(User).where(col(User.username) == (username or "").strip().lower())).first()
    if user is None or user.signup_code_hash is None or not user.is_active:
        raise SignupError(WRONG_CODE)
    if user.signup_expires_at is None or user.signup_expires_at < (now or utcnow()):
        raise SignupError(WRONG_CODE)
    if not verify_password(user.signup_code_hash, _typed_code(code)):
        raise SignupError(WRONG_CODE)
    user.password_hash = hash_password(password)
    user.signup_code_hash = None
    user.signup_expires_at = None
    end_sessions(user)
    session.add(user)
    audit.record(
        session,
        user_id=user.id,
        action="update",
        entity="user",
        entity_id=str(user.id),
        detail="登録コードでパスワードを設定",
        prefecture_code=user.prefecture_code,
        body_code=user.body_code,
    )
    return user
