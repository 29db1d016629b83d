"""Login rate limiting, kept in the audit log so it holds across worker processes without another service.

Failed logins are counted over a sliding window in three ways, each with its own limit:

- per user name and client address: someone mistyping, or guessing one account from one place;
- per client address across user names: one place trying a few common passwords on many accounts (spraying);
- per user name across addresses: many places guessing one account (distributed guessing). This limit also
  holds the real owner out for the window, so it is set well above what a person mistypes.

A success does not reset any count: the attacker's failures stay counted whoever signs in meanwhile.

Counting is atomic (:func:`begin_attempt`): an attempt is recorded as pending, and counted against the limits,
before its password is checked, in one serialised step, so a burst of concurrent wrong passwords gets no more
checks than the limit allows. A pending attempt counts as a failure until its outcome replaces it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, text
from sqlmodel import Session, col, select

from planner.db.models import AuditLog, User, utcnow

MAX_FAILURES = 5  # per user name and address
MAX_FAILURES_PER_ADDRESS = 20
MAX_FAILURES_PER_ACCOUNT = 30
WINDOW = timedelta(minutes=15)

# Why a login was refused, for the audit log (the user sees one generic message whatever the reason).
REASON_LABELS = {
    "name_and_address": "同じ送信元から同じログイン名で失敗が続いた",
    "address": "同じ送信元から複数のログイン名で失敗が続いた",
    "account": "複数の送信元から同じログイン名で失敗が続いた",
}


@dataclass(frozen=True)
class Limits:
    per_name_and_address: int = MAX_FAILURES
    per_address: int = MAX_FAILURES_PER_ADDRESS
    per_account: int = MAX_FAILURES_PER_ACCOUNT
    window: timedelta = WINDOW

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        """LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS, LOGIN_MAX_FAILURES_PER_ACCOUNT (0 turns a limit
        off) and LOGIN_THROTTLE_MINUTES from the application's configuration, the defaults above otherwise."""

        def number(key: str, default: int) -> int:
            value = config.get(key)
            return default if value is None else int(value)

        return cls(
            per_name_and_address=number("LOGIN_MAX_FAILURES", MAX_FAILURES),
            per_address=number("LOGIN_MAX_FAILURES_PER_ADDRESS", MAX_FAILURES_PER_ADDRESS),
            per_account=number("LOGIN_MAX_FAILURES_PER_ACCOUNT", MAX_FAILURES_PER_ACCOUNT),
            window=timedelta(minutes=number("LOGIN_THROTTLE_MINUTES", int(WINDOW.total_seconds() // 60))),
        )


def _detail(ip: str) -> str:
    return f"ip={ip}"


def _key(username: str) -> str:
    return username[:60]  # the audit log's entity_id column holds 60 characters


COUNTED_ACTIONS = ("login_failed", "login_pending")
# One PostgreSQL advisory lock for the few milliseconds of "record the attempt and count": not the password check.
_PG_LOCK_KEY = 0x706C616E_6C6F67  # "planlog"


def _failures(
    session: Session,
    since: datetime,
    *,
    username: str | None = None,
    ip: str | None = None,
    exclude_id: int | None = None,
) -> int:
    query = (
        select(func.count())
        .select_from(AuditLog)
        .where(col(AuditLog.action).in_(COUNTED_ACTIONS), col(AuditLog.entity) == "user", col(AuditLog.at) >= since)
    )
    if exclude_id is not None:
        query = query.where(col(AuditLog.id) != exclude_id)
    if username is not None:
        query = query.where(col(AuditLog.entity_id) == _key(username))
    if ip is not None:
        query = query.where(col(AuditLog.detail) == _detail(ip))
    return int(session.exec(query).one())


def recent_failures(session: Session, username: str, ip: str, window: timedelta = WINDOW) -> int:
    return _failures(session, utcnow() - window, username=username, ip=ip)


def block_reason(
    session: Session, username: str, ip: str, limits: Limits = Limits(), *, exclude_id: int | None = None
) -> str | None:
    """Which limit this attempt is over (a key of REASON_LABELS), or None when it may go ahead."""
    since = utcnow() - limits.window
    checks = (
        ("name_and_address", limits.per_name_and_address, {"username": username, "ip": ip}),
        ("address", limits.per_address, {"ip": ip}),
        ("account", limits.per_account, {"username": username}),
    )
    for reason, limit, where in checks:
        if limit and _failures(session, since, exclude_id=exclude_id, **where) >= limit:
            return reason
    return None


def begin_attempt(session: Session, username: str, ip: str, limits: Limits = Limits()) -> tuple[AuditLog, str | None]:
    """Record this login attempt as pending and decide, atomically with every concurrent attempt, whether it may
    check a password: returns the attempt's audit row and the limit it is over (None: go ahead). Commits.

    Serialised by the database: PostgreSQL through an advisory lock held to the commit, SQLite because the INSERT
    takes the database's write lock before the count is read. The caller settles the row with :func:`settle`."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _PG_LOCK_KEY})
    row = AuditLog(user_id=None, action="login_pending", entity="user", entity_id=_key(username), detail=_detail(ip))
    session.add(row)
    session.flush()
    reason = block_reason(session, username, ip, limits, exclude_id=row.id)
    if reason is not None:
        row.action, row.detail = "login_blocked", blocked_detail(ip, reason)
    session.commit()
    return row, reason


def settle(session: Session, attempt: AuditLog, user: User | None = None) -> None:
    """The attempt's outcome replaces it: a failure keeps counting, a success becomes the login entry. The caller
    commits."""
    if user is None:
        attempt.action = "login_failed"
    else:
        attempt.action, attempt.user_id, attempt.entity_id = "login", user.id, str(user.id)
        attempt.prefecture_code, attempt.body_code = user.prefecture_code, user.body_code
    session.add(attempt)


def is_blocked(session: Session, username: str, ip: str, limits: Limits = Limits()) -> bool:
    return block_reason(session, username, ip, limits) is not None


def failure_detail(ip: str) -> str:
    return _detail(ip)


def blocked_detail(ip: str, reason: str) -> str:
    """The audit entry of a refused attempt: the address and which limit refused it. It never matches
    failure_detail, so refusals do not count as failures themselves."""
    return f"{_detail(ip)} 制限={reason}（{REASON_LABELS.get(reason, reason)}）"
