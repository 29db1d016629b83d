"""One database session per request, closed at the end of the request."""

from __future__ import annotations

from flask import Flask, current_app, g
from sqlmodel import Session


def db_session() -> Session:
    if "db_session" not in g:
        g.db_session = Session(current_app.extensions["db_engine"], expire_on_commit=False)
    return g.db_session


def init_app(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_session(_exc):
        session = g.pop("db_session", None)
        if session is not None:
            session.close()
