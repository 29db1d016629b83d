"""Typed access to rows that an earlier step guarantees: a foreign key's target, a row this transaction flushed.

``session.get`` answers ``None`` for a missing key and a model's ``id`` is ``None`` until the row is flushed; code
that holds such a guarantee says so through these two functions instead of reading an optional as if it were set,
and a broken guarantee fails here with the row's name rather than as an ``AttributeError`` further on."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol, TypeVar

from sqlalchemy.orm import QueryableAttribute
from sqlmodel import Session, SQLModel

_Row = TypeVar("_Row", bound=SQLModel)


class MissingRow(LookupError):
    """A row that a foreign key or an earlier step guaranteed is not there (deleted under us, or a broken link)."""


class _Keyed(Protocol):
    @property
    def id(self) -> int | None: ...


def fetch(session: Session, model: type[_Row], key: object) -> _Row:
    """The ``model`` row with primary key ``key``, which must exist (a foreign key points at it)."""
    row = session.get(model, key)
    if row is None:
        raise MissingRow(f"{model.__name__} {key!r} does not exist")
    return row


def id_of(row: _Keyed) -> int:
    """The primary key of a row that has been flushed or loaded (never of one still only added)."""
    if row.id is None:
        raise MissingRow(f"{type(row).__name__} has no id yet: flush the session before using it")
    return row.id


def keys(values: Iterable[int | None]) -> list[int]:
    """Primary keys read back from the database (``select(col(Model.id))``): typed optional like the model's field,
    never NULL in a stored row."""
    out = []
    for value in values:
        if value is None:
            raise MissingRow("a stored row without a primary key")
        out.append(value)
    return out


def attribute(column: object) -> QueryableAttribute[Any]:
    """A model's column as the ORM attribute it is at run time, for loader options (``defer``, ``load_only``):
    SQLModel types ``Model.field`` as the field's Python value (``sqlmodel.col`` does the same for expressions)."""
    if not isinstance(column, QueryableAttribute):
        raise TypeError(f"not a mapped column: {column!r}")
    return column
