"""One row by its primary key, for pages that open a record by the id in their URL (a user, a price book, a rule
set, an effect model version): None when there is none, for the page to answer 404."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlmodel import Session

T = TypeVar("T")


def find(session: Session, model: type[T], key: Any) -> T | None:
    return session.get(model, key)
