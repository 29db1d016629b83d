"""Run a CLI command inside the Flask application (for commands that use the database)."""

from __future__ import annotations

import functools
from typing import NoReturn

import click


def with_app(func):
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        from planner.app import create_app

        app = create_app()
        with app.app_context():
            return func(app, *args, **kwargs)

    return wrapper


def fail(message: str, code: int = 2) -> NoReturn:
    click.echo(f"エラー: {message}", err=True)
    raise SystemExit(code)
