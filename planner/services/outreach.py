"""Reaching the towns (#29): which bodies asked to answer a plan have nobody to answer it (no account), the list of
bodies still to answer as CSV for those who telephone, and a printable sign-up code for a body's staff, issued (or
issued again) by whoever runs the plan: the prefecture's coordinator for its own bodies, a consortium's lead for
the bodies of its consortium (of any prefecture).

The codes are the administrator's bulk-account codes (planner.services.account_import: one-time, hashed, expiring
after ``SIGNUP_CODE_DAYS``); an account made here has no password anyone knows until its person signs up.
"""

from __future__ import annotations

import csv
import io
import secrets
from collections.abc import Iterable
from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import Body, Partnership, PartnershipMember, User, utcnow
from planner.domain.vocabulary import csv_row, jst_datetime

from . import access
from .account_import import SIGNUP_CODE_DAYS, IssuedCode, format_code, issue_code
from .audit import record
from .users import hash_password

PENDING_HEADERS = ("団体コード", "団体名", "未回答のニーズ", "担当者のアカウント", "催促の回数", "最後の催促")


class OutreachError(ValueError):
    """A code that cannot be issued; the message is shown to the user."""


def accountless(session: Session, body_codes: Iterable[str]) -> set[str]:
    """Those of ``body_codes`` with no active municipality account: nobody there can sign in to answer, so the
    board says so instead of letting reminders reach nobody."""
    codes = set(body_codes)
    if not codes:
        return set()
    staffed = set(
        session.exec(
            select(col(User.body_code)).where(
                col(User.body_code).in_(codes),
                col(User.role) == access.MUNICIPALITY,
                col(User.is_active) == True,  # noqa: E712
            )
        )
    )
    return codes - staffed


def pending_csv(board: Any, no_account: set[str]) -> bytes:
    """The bodies still to answer (the board's ``unanswered``), one a line, with whether anyone can sign in there
    and the reminders sent: UTF-8 with BOM (Excel in Japan), text that looks like a formula defused."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    writer.writerow(PENDING_HEADERS)
    for code, name, count in board.unanswered:
        sent = board.reminders.get(code, [])
        writer.writerow(
            csv_row(
                [
                    code,
                    name,
                    count,
                    "なし" if code in no_account else "あり",
                    len(sent),
                    jst_datetime(sent[0].at, "%Y-%m-%d %H:%M") if sent else "",
                ]
            )
        )
    return buf.getvalue().encode("utf-8-sig")


def reaches(session: Session, user: Any, body: Body) -> bool:
    """Whether ``user`` may issue sign-up codes for ``body``'s staff: administrators any body, a coordinator its own
    prefecture's municipalities, a lead's staff the bodies invited into a consortium their body leads."""
    if body.kind == "prefecture":
        return False
    if access.is_admin(user):
        return True
    if access.is_coordinator(user):
        return access.sees_body(user, body.code, body.prefecture_code)
    if access.is_municipality(user) and user.body_code:
        return (
            session.exec(
                select(col(PartnershipMember.id))
                .join(Partnership, col(Partnership.id) == col(PartnershipMember.partnership_id))
                .where(col(Partnership.lead_body_code) == user.body_code, col(PartnershipMember.body_code) == body.code)
            ).first()
            is not None
        )
    return False


def _free_username(session: Session, body_code: str) -> str:
    base = f"staff-{body_code}"
    if session.exec(select(col(User.id)).where(col(User.username) == base)).first() is None:
        return base
    return f"{base}-{secrets.token_hex(2)}"


def issue_staff_code(
    session: Session, user: Any, body_code: str, *, days: int = SIGNUP_CODE_DAYS
) -> tuple[IssuedCode, bool]:
    """A printable sign-up code for ``body_code``'s staff: issued again (再発行) for the body's account that has not
    signed up yet (its earlier code stops working), else a new account for the body. Returns (the code, whether it
    was issued again). A body whose staff already sign in gets none here (their password is reset by an
    administrator). Audited; the caller commits."""
    body = session.get(Body, body_code)
    if body is None or not reaches(session, user, body):
        raise OutreachError("この団体の登録コードは発行できません。")
    accounts = list(
        session.exec(
            select(User)
            .where(col(User.body_code) == body_code, col(User.role) == access.MUNICIPALITY, col(User.is_active) == True)  # noqa: E712
            .order_by(col(User.id))
        )
    )
    waiting = next((a for a in accounts if a.signup_code_hash), None)
    if waiting is None and accounts:
        raise OutreachError(
            f"{body.name}には既にログインできる担当者がいます（{len(accounts)} 人）。"
            "パスワードを忘れたときは管理者が再設定します。"
        )
    now = utcnow()
    again = waiting is not None
    if waiting is None:
        waiting = User(
            username=_free_username(session, body_code),
            display_name=f"{body.name} 担当者",
            # nobody knows this password: the account signs in only after its person sets one with the code
            password_hash=hash_password(secrets.token_urlsafe(32)),
            role=access.MUNICIPALITY,
            body_code=body_code,
            created_at=now,
        )
    code = issue_code(waiting, now=now, days=days)
    session.add(waiting)
    session.flush()
    record(
        session,
        user_id=user.id,
        action="reissue_code" if again else "create",
        entity="user",
        entity_id=str(waiting.id),
        after={"username": waiting.username, "role": waiting.role, "body_code": body_code},
        detail=f"{body.name}の担当者の登録コードを{'再発行' if again else '発行'}（期限 {days}日）",
        prefecture_code=body.prefecture_code,
        body_code=body_code,
    )
    assert waiting.id is not None and waiting.signup_expires_at is not None
    return (
        IssuedCode(
            waiting.id,
            waiting.username,
            waiting.display_name,
            access.ROLE_LABELS[access.MUNICIPALITY],
            body.name,
            format_code(code),
            waiting.signup_expires_at,
        ),
        again,
    )


def waiting_for_signup(session: Session, body_codes: Iterable[str]) -> set[str]:
    """Those of ``body_codes`` whose only accounts wait for their person to sign up with a code (再発行 applies)."""
    codes = set(body_codes)
    if not codes:
        return set()
    rows = session.exec(
        select(col(User.body_code), col(User.signup_code_hash)).where(
            col(User.body_code).in_(codes),
            col(User.role) == access.MUNICIPALITY,
            col(User.is_active) == True,  # noqa: E712
        )
    ).all()
    signed = {c for c, h in rows if c is not None and not h}
    return {c for c, h in rows if c is not None and h} - signed


def reissue_for_account(session: Session, user: Any, account: User, *, days: int = SIGNUP_CODE_DAYS) -> IssuedCode:
    """The administrator's 再発行 of an account still waiting for its person to sign up (a lost or expired code):
    a new code, the earlier one stops working. Audited; the caller commits."""
    if not access.is_admin(user):
        raise OutreachError("登録コードの再発行は管理者が行います。")
    if not account.is_active or not account.signup_code_hash:
        raise OutreachError(
            f"{account.username} は登録コードでの登録を待っていません（パスワードを忘れたときはパスワードを再設定します）。"
        )
    code = issue_code(account, now=utcnow(), days=days)
    session.add(account)
    session.flush()
    body = session.get(Body, account.body_code) if account.body_code else None
    record(
        session,
        user_id=user.id,
        action="reissue_code",
        entity="user",
        entity_id=str(account.id),
        after={"username": account.username},
        detail=f"{account.username} の登録コードを再発行（期限 {days}日）",
        prefecture_code=body.prefecture_code if body else account.prefecture_code,
        body_code=account.body_code,
    )
    assert account.id is not None and account.signup_expires_at is not None
    return IssuedCode(
        account.id,
        account.username,
        account.display_name,
        access.ROLE_LABELS.get(account.role, account.role),
        body.name if body else "",
        format_code(code),
        account.signup_expires_at,
    )
