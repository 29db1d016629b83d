"""Form input kept across an expired login: stored when a form's post cannot be accepted, given back once.

A row lives at most KEEP_HOURS: long enough to sign in again, short enough that a shared browser does not hand
someone's old draft to the next person days later.
"""

from __future__ import annotations

import secrets
from datetime import timedelta

from sqlmodel import Session, col, delete

from planner.db.models import KeptInput, utcnow

KEEP_HOURS = 12
MAX_FIELDS = 2000
MAX_VALUE_CHARS = 20_000
NOT_KEPT = frozenset({"csrf_token"})  # a new token comes with the re-shown form


def keep(session: Session, path: str, fields: list[tuple[str, str]], user_id: int | None) -> str:
    """Store the posted ``fields`` of the form at ``path``; returns the token that finds them again."""
    session.exec(delete(KeptInput).where(col(KeptInput.created_at) < utcnow() - timedelta(hours=KEEP_HOURS)))
    kept = [[name, value[:MAX_VALUE_CHARS]] for name, value in fields if name not in NOT_KEPT][:MAX_FIELDS]
    token = secrets.token_urlsafe(32)
    session.add(KeptInput(token=token, path=path[:300], user_id=user_id, fields=kept))
    return token


def take(session: Session, token: str, path: str, user_id: int | None) -> list[tuple[str, str]] | None:
    """The fields kept under ``token`` for the form at ``path``, removed as they are given back; None when there
    are none, they are for another form, too old, or were posted by another signed-in user."""
    row = session.get(KeptInput, token)
    if row is None or row.path != path or (row.user_id is not None and row.user_id != user_id):
        return None  # left for its own form and person
    session.delete(row)
    if row.created_at < utcnow() - timedelta(hours=KEEP_HOURS):
        return None
    return [(str(name), str(value)) for name, value in row.fields or []]
