"""What is wrong with a request, as structured problems: the message and the input it is about.

A service that refuses a request raises an error carrying :class:`Problem` values; a page shows each one under the
input named by ``field`` (or above the form when it names none), and never has to read the Japanese text to find
out where it belongs. A Problem is also the text itself (a ``str`` "place: message"), so command-line output,
logs and joins are unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

_PLACED = re.compile(r"^(?P<path>[A-Za-z_][\w.]*(?:\[\d+\][\w.]*)*):\s*(?P<message>.+)$", re.S)


class Problem(str):
    """One Japanese message, with the input it concerns (a form field such as ``version``, or a path in a document
    such as ``ocr.lead.fixed_initial`` or ``fiscal_correction.table[1].min_index``; None for the whole request)."""

    field: str | None
    message: str  # the text without its place, for showing under the input itself

    def __new__(cls, message: str, field: str | None = None, *, place: str | None = None) -> Problem:
        problem = super().__new__(cls, f"{place}: {message}" if place else message)
        problem.field = field
        problem.message = message
        return problem

    @classmethod
    def at(cls, path: str, message: str) -> Problem:
        """A problem at a path of a document, written "path: message"."""
        return cls(message, field=path, place=path)

    @classmethod
    def of(cls, text: str) -> Problem:
        """A problem from a validator that writes "path: message" text (the subsidy rules' validator does)."""
        if isinstance(text, Problem):
            return text
        m = _PLACED.match(text)
        return cls.at(m.group("path"), m.group("message")) if m else cls(text)


def problems_of(items: Iterable[Problem | str]) -> list[Problem]:
    return [Problem.of(str(p)) if not isinstance(p, Problem) else p for p in items]
