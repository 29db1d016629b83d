"""Alembic environment: the schema is planner.db.models; the database comes from the caller or planner.config."""

from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

from planner.db import models  # noqa: F401  (registers the tables on SQLModel.metadata)
from planner.db.session import make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    """The caller's connection or URL, else the application's own database (planner.config: environment, instance
    config, default)."""
    from planner.config import database_url

    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") or database_url()


def _configure(connection) -> None:
    # SQLite cannot ALTER most things in place: batch mode rebuilds the table, so later migrations work on both.
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=connection.dialect.name == "sqlite",
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        compare_type=True,
        dialect_opts={"paramstyle": "named"},
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        with engine.connect() as connection:
            _configure(connection)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
