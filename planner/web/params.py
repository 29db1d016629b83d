"""Numbers from URLs and query strings, kept within what the database can compare.

Python's int() takes any length, and ids, page numbers or years beyond the database's integers (2^31 for a
PostgreSQL integer column, 2^63 for SQLite) used to reach the query and fail there with a 500. Out of range is
handled here, where the value enters: an id that cannot exist is a 404, a page number is clamped.
"""

from __future__ import annotations

from typing import overload

from werkzeug.routing import IntegerConverter

DB_INT_MAX = 2**31 - 1  # PostgreSQL's integer, the type of every id column
MAX_PAGE = 1_000_000


class DatabaseIntConverter(IntegerConverter):
    """``<int:...>`` in routes: a number beyond any id the database can hold does not match (404), never a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", DB_INT_MAX)
        super().__init__(map, *args, **kwargs)


@overload
def parse_int(text: object, default: int, *, lo: int = ..., hi: int = ...) -> int: ...
@overload
def parse_int(text: object, default: None, *, lo: int = ..., hi: int = ...) -> int | None: ...
def parse_int(text: object, default: int | None, *, lo: int = -DB_INT_MAX, hi: int = DB_INT_MAX) -> int | None:
    """``text`` as an integer clamped to [lo, hi]; ``default`` when it is missing or not a number."""
    if text is None:
        return default
    digits = str(text).strip()
    if not digits or len(digits) > 40:
        return default
    try:
        value = int(digits)
    except ValueError:
        return default
    return min(hi, max(lo, value))


def parse_id(text) -> int | None:
    """An id the database could hold, or None."""
    value = parse_int(text, None, lo=-1, hi=DB_INT_MAX + 1)
    return value if value is not None and 1 <= value <= DB_INT_MAX else None
