"""The tests' databases (a pytest plugin, loaded by tests/conftest.py).

Every test gets a database of its own. On SQLite the expensive ones — the Alembic migrations, init-db's 1,788
master bodies and reference data, the web tests' seeded world, a solved plan — are built once per session into a
template file and copied for each test (a file copy, or SQLite's online backup into a database an application
already has open), so a test starts from exactly the state the build leaves without paying for it again.

On PostgreSQL (``PLANNER_TEST_DATABASE=postgresql``) the run creates a database of its own, drops it at the end, and
every test starts from an empty schema and builds what it asks for.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.backend import BACKEND


@dataclass
class Templates:
    """Template SQLite files, each built on first use and kept for the session."""

    root: Path
    built: dict[object, tuple[Path, Any]] = field(default_factory=dict)

    def get(self, key: object, build: Callable[[Any], Any]) -> tuple[Path, Any]:
        """(file, what ``build(engine)`` returned) for ``key``; ``build`` fills an empty database once."""
        if key not in self.built:
            from planner.db.session import make_engine

            path = self.root / f"template-{len(self.built)}.sqlite"
            engine = make_engine(f"sqlite:///{path}")
            try:
                made = build(engine)
            finally:
                engine.dispose()
            # the last connection's close checkpoints the WAL into the file; the copies must not need a -wal beside
            with sqlite3.connect(path) as conn:
                conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            conn.close()
            self.built[key] = (path, made)
        return self.built[key]

    def copy_to(self, url: str, key: object, build: Callable[[Any], Any]) -> Any:
        """Lay the template down as the (not yet opened) SQLite database at ``url``."""
        path, made = self.get(key, build)
        target = Path(url.removeprefix("sqlite:///"))
        assert not target.exists(), f"{target} is already in use"
        shutil.copyfile(path, target)
        return made

    def restore_into(self, engine, key: object, build: Callable[[Any], Any]) -> Any:
        """Replace the contents of the SQLite database ``engine`` already has open with the template's (SQLite's
        online backup, so the engine's own connections see the new contents)."""
        path, made = self.get(key, build)
        source = sqlite3.connect(path)
        try:
            with engine.connect() as conn:
                source.backup(conn.connection.dbapi_connection)
        finally:
            source.close()
        engine.dispose()  # pooled connections start afresh on the new contents
        return made


@pytest.fixture(scope="session")
def db_templates(tmp_path_factory) -> Templates:
    return Templates(tmp_path_factory.mktemp("db-templates"))


@pytest.fixture(scope="session")
def _pg_database():
    """A PostgreSQL database for this run only (PostgreSQL runs)."""
    import sqlalchemy as sa

    base_url = sa.engine.make_url(
        os.environ.get("PLANNER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    name = f"planner_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield base_url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def db_url(request, tmp_path):
    """An empty database for one test."""
    if BACKEND == "postgresql":
        import sqlalchemy as sa

        url = request.getfixturevalue("_pg_database")
        engine = sa.create_engine(url)
        with engine.begin() as conn:  # start every test from an empty schema
            conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        engine.dispose()
        return url
    return f"sqlite:///{tmp_path / 'test.sqlite'}"


def _engine_on(db_url: str, db_templates: Templates, key: str, build: Callable[[Any], Any]):
    """An engine on ``db_url`` holding what ``build(engine)`` makes: a copy of the session's template on SQLite
    (where the file is still unused), built in place otherwise."""
    from planner.db.session import make_engine

    if BACKEND != "postgresql" and not Path(db_url.removeprefix("sqlite:///")).exists():
        db_templates.copy_to(db_url, key, build)
        return make_engine(db_url)
    engine = make_engine(db_url)
    build(engine)
    return engine


def create_tables(engine) -> None:
    from sqlmodel import SQLModel

    from planner.db import models  # noqa: F401  (registers the tables)

    SQLModel.metadata.create_all(engine)


def migrate(engine) -> None:
    from planner.db.migrate import upgrade

    upgrade(engine)


def initialise(engine) -> None:
    from planner.services.init_db import init_database

    init_database(engine)


def migrate_with_nagano(engine) -> None:
    """Migrations, the 78 bodies of 長野県 (plus 札幌市 for out-of-prefecture cases) and the reference price book."""
    from planner.db.models import Body
    from planner.db.session import session_scope
    from planner.masterdata.national import master_bodies
    from planner.services.reference_data import load_price_book_file

    migrate(engine)
    with session_scope(engine) as session:
        for m in master_bodies():
            if m.prefecture_code == "20" or m.code == "011002":
                session.add(
                    Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind, lat=m.lat, lng=m.lng)
                )
        session.flush()
        load_price_book_file(session)


@pytest.fixture
def engine(db_url, db_templates):
    """The models' tables (``create_all``), empty."""
    engine = _engine_on(db_url, db_templates, "tables", create_tables)
    yield engine
    engine.dispose()


# Databases built the way production builds them: Alembic migrations, then init-db's reference data.
@pytest.fixture
def migrated_engine(db_url, db_templates):
    engine = _engine_on(db_url, db_templates, "migrated", migrate)
    yield engine
    engine.dispose()


@pytest.fixture
def initialized_engine(db_url, db_templates):
    """Schema, the 1,788 master bodies and the reference price book."""
    engine = _engine_on(db_url, db_templates, "initialised", initialise)
    yield engine
    engine.dispose()


@pytest.fixture
def nagano_engine(db_url, db_templates):
    """Schema, the 78 bodies of 長野県 (plus 札幌市 for out-of-prefecture cases) and the reference price book:
    enough for most tests, faster than the full national list."""
    engine = _engine_on(db_url, db_templates, "nagano", migrate_with_nagano)
    yield engine
    engine.dispose()


@contextmanager
def module_database(folder: Path, db_templates: Templates, key: str, build: Callable[[Any], Any]):
    """A database for a whole test module (its URL and what ``build(engine)`` made), dropped at the end: a copy of
    the session's template on SQLite; on PostgreSQL a database of its own, so that the tests that empty the run's
    database between them leave it alone."""
    if BACKEND != "postgresql":
        url = f"sqlite:///{folder / 'module.sqlite'}"
        yield url, db_templates.copy_to(url, key, build)
        return
    import sqlalchemy as sa

    from planner.db.session import make_engine

    base_url = sa.engine.make_url(
        os.environ.get("PLANNER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    name = f"planner_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = base_url.set(database=name).render_as_string(hide_password=False)
    try:
        engine = make_engine(url)
        try:
            made = build(engine)
        finally:
            engine.dispose()
        yield url, made
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
