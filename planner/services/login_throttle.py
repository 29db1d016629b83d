"""Login rate limiting, kept in the audit log so it holds across worker processes without another service.

Failed logins are counted over a sliding window in three ways, each with its own limit:

- per user name and client address: someone mistyping, or guessing one account from one place;
- per client address across user names: one place trying a few common passwords on many accounts (spraying);
- per user name across addresses: many places guessing one account (distributed guessing). This limit also
  holds the real owner out for the window, so it is set well above what a person mistypes.

A success does not reset any count: the attacker's failures stay counted whoever signs in meanwhile.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Mapping

from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, utcnow

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
    def from_config(cls, config: Mapping) -> "Limits":
        """LOGIN_MAX_FAILURES, LOGIN_MAX_FAILURES_PER_ADDRESS, LOGIN_MAX_FAILURES_PER_ACCOUNT (0 turns a limit
        off) and LOGIN_THROTTLE_MINUTES from the application's configuration, the defaults above otherwise."""
        def number(key: str, default: int) -> int:
            value = config.get(key)
            return default if value is None else int(value)

        return cls(per_name_and_address=number("LOGIN_MAX_FAILURES", MAX_FAILURES),
                   per_address=number("LOGIN_MAX_FAILURES_PER_ADDRESS", MAX_FAILURES_PER_ADDRESS),
                   per_account=number("LOGIN_MAX_FAILURES_PER_ACCOUNT", MAX_FAILURES_PER_ACCOUNT),
                   window=timedelta(minutes=number("LOGIN_THROTTLE_MINUTES", int(WINDOW.total_seconds() // 60))))


def _detail(ip: str) -> str:
    return f"ip={ip}"


def _key(username: str) -> str:
    return username[:60]  # the audit log's entity_id column holds 60 characters


def _failures(session: Session, since, *, username: str | None = None, ip: str | None = None) -> int:
    query = select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "login_failed", AuditLog.entity == "user", AuditLog.at >= since)
    if username is not None:
        query = query.where(AuditLog.entity_id == _key(username))
    if ip is not None:
        query = query.where(AuditLog.detail == _detail(ip))
    return int(session.exec(query).one())


def recent_failures(session: Session, username: str, ip: str, window: timedelta = WINDOW) -> int:
    return _failures(session, utcnow() - window, username=username, ip=ip)


def block_reason(session: Session, username: str, ip: str, limits: Limits = Limits()) -> str | None:
    """Which limit this attempt is over (a key of REASON_LABELS), or None when it may go ahead."""
    since = utcnow() - limits.window
    checks = (("name_and_address", limits.per_name_and_address, {"username": username, "ip": ip}),
              ("address", limits.per_address, {"ip": ip}),
              ("account", limits.per_account, {"username": username}))
    for reason, limit, where in checks:
        if limit and _failures(session, since, **where) >= limit:
            return reason
    return None


def is_blocked(session: Session, username: str, ip: str, limits: Limits = Limits()) -> bool:
    return block_reason(session, username, ip, limits) is not None


def failure_detail(ip: str) -> str:
    return _detail(ip)


def blocked_detail(ip: str, reason: str) -> str:
    """The audit entry of a refused attempt: the address and which limit refused it. It never matches
    failure_detail, so refusals do not count as failures themselves."""
    return f"{_detail(ip)} 制限={reason}（{REASON_LABELS.get(reason, reason)}）"
