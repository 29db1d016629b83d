"""Signing in and out: a login or a sign-up code counted against the attempt limits, the logout that ends every
session of the account, and the account a session cookie still stands for.

The web's login pages call these and translate the outcome (planner.web.auth, planner.web.security); each
function is one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlmodel import Session

from planner.db.models import User
from planner.services import audit
from planner.services.account_import import SignupError, redeem_code
from planner.services.login_throttle import Limits, begin_attempt, settle
from planner.services.users import authenticate, end_sessions


@dataclass(frozen=True)
class Attempt:
    """A login's or sign-up's outcome: the user (None when refused), the limit the attempt was over (None when it
    was checked), and for a sign-up the reason its code was refused."""

    user: User | None
    blocked: str | None = None
    problem: str | None = None


def log_in(session: Session, username: str, password: str, ip: str, limits: Limits) -> Attempt:
    attempt, reason = begin_attempt(session, username, ip, limits)  # commits the pending attempt
    if reason is not None:
        return Attempt(None, blocked=reason)
    user = authenticate(session, username, password)
    settle(session, attempt, user)
    session.commit()  # also keeps a password hash upgraded by authenticate()
    return Attempt(user)


def sign_up(session: Session, username: str, code: str, password: str, ip: str, limits: Limits) -> Attempt:
    """Set one's own password with a one-time code; the attempt counts as a login's does."""
    attempt, reason = begin_attempt(session, username, ip, limits)
    if reason is not None:
        return Attempt(None, blocked=reason)
    try:
        user = redeem_code(session, username, code, password)
    except SignupError as e:
        settle(session, attempt, None)
        session.commit()
        return Attempt(None, problem=str(e))
    settle(session, attempt, user)
    session.commit()
    return Attempt(user)


def log_out(session: Session, user_id: int) -> None:
    row = session.get(User, user_id)
    if row is not None:
        end_sessions(row)  # a copy of this cookie (or the user's other sessions) must not outlive the logout
    audit.record(session, user_id=user_id, action="logout", entity="user", entity_id=str(user_id))
    session.commit()


def session_user(engine: Engine, user_id: int, generation: int) -> User | None:
    """The active account a session cookie of ``generation`` was issued to, or None when it was deactivated,
    signed out, had its password reset or is gone since."""
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(User, user_id)
        if row is None or not row.is_active:
            return None  # a deactivated account loses its open sessions at the next request
        if (row.session_generation or 0) != generation:
            return None  # signed out, password reset or deactivated since this cookie was issued
        session.expunge(row)
        return row
