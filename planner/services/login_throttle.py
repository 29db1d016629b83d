"""Login rate limiting, kept in the audit log so it holds across worker processes without another service.

Failures are counted per user name and client address over a sliding window; a success does not reset the count
of other addresses.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, utcnow

MAX_FAILURES = 5
WINDOW = timedelta(minutes=15)


def _detail(ip: str) -> str:
    return f"ip={ip}"


def recent_failures(session: Session, username: str, ip: str) -> int:
    since = utcnow() - WINDOW
    query = select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "login_failed", AuditLog.entity == "user", AuditLog.entity_id == username[:60],
        AuditLog.detail == _detail(ip), AuditLog.at >= since)
    return int(session.exec(query).one())


def is_blocked(session: Session, username: str, ip: str) -> bool:
    return recent_failures(session, username, ip) >= MAX_FAILURES


def failure_detail(ip: str) -> str:
    return _detail(ip)
