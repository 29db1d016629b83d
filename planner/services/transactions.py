"""The transaction of one use case: the web layer names the work, the services decide when it is kept.

A page's change is one unit: everything it wrote is committed when the work returns and rolled back when it raises
(a refusal the page shows, such as a ``UserError``, leaves nothing half-written in the request's session). The web
layer never calls ``commit()`` or ``rollback()`` itself (tests/architecture/test_layers.py), so that a service that
must write an audit entry with its change cannot be called without the change being kept or dropped as a whole.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session

P = ParamSpec("P")
R = TypeVar("R")


def run(session: Session, work: Callable[Concatenate[Session, P], R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``work(session, *args, **kwargs)`` as one transaction: committed on return, rolled back on any exception
    (which is raised again for the caller to translate)."""
    try:
        result = work(session, *args, **kwargs)
    except BaseException:
        session.rollback()
        raise
    session.commit()
    return result


def run_apart(engine: Engine, work: Callable[Concatenate[Session, P], R], /, *args: P.args, **kwargs: P.kwargs) -> R:
    """``work`` in a session and transaction of its own, kept whatever becomes of the request's session (an audit
    entry of a refusal, input kept across a lost login)."""
    with Session(engine, expire_on_commit=False) as session:
        return run(session, work, *args, **kwargs)
