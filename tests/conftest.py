"""Shared fixtures.

The suite runs on SQLite by default and, from ``scripts/test.sh``, again on PostgreSQL
(``PLANNER_TEST_DATABASE=postgresql``): that run creates a database of its own, drops it at the end, and keeps
only the tests that touch a database (the pure domain tests have nothing to gain from a second run).
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

import pytest

# ../shared beside the checkout; PLANNER_SHARED_DIR points elsewhere (a git worktree kept away from it)
SHARED = Path(os.environ.get("PLANNER_SHARED_DIR") or Path(__file__).resolve().parent.parent.parent / "shared")
DB_FIXTURES = {"engine", "app", "client", "db_url", "session"}
BACKEND = os.environ.get("PLANNER_TEST_DATABASE", "sqlite")


def shared_path(*parts: str) -> Path:
    """A file in ../shared, or skip the test (with the reason) where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not available beside the checkout")
    return path


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        uses_db = bool(DB_FIXTURES & set(getattr(item, "fixturenames", ())))
        (keep if uses_db and not item.get_closest_marker("sqlite_only") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: needs SQLite (for example the online backup)")


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


@pytest.fixture
def engine(db_url):
    from sqlmodel import SQLModel

    from planner.db import models  # noqa: F401  (registers the tables)
    from planner.db.session import make_engine

    engine = make_engine(db_url)
    SQLModel.metadata.create_all(engine)
    yield engine
    engine.dispose()


# Databases built the way production builds them: Alembic migrations, then init-db's reference data.
@pytest.fixture
def migrated_engine(db_url):
    from planner.db.migrate import upgrade
    from planner.db.session import make_engine

    engine = make_engine(db_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def initialized_engine(db_url):
    """Schema, the 1,788 master bodies and the reference price book (about a second)."""
    from planner.db.session import make_engine
    from planner.services.init_db import init_database

    engine = make_engine(db_url)
    init_database(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def nagano_engine(migrated_engine):
    """Schema, the 78 bodies of 長野県 (plus 札幌市 for out-of-prefecture cases) and the reference price book:
    enough for most tests, faster than the full national list."""
    from planner.db.models import Body
    from planner.db.session import session_scope
    from planner.masterdata.national import master_bodies
    from planner.services.reference_data import load_price_book_file

    with session_scope(migrated_engine) as session:
        for m in master_bodies():
            if m.prefecture_code == "20" or m.code == "011002":
                session.add(
                    Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind, lat=m.lat, lng=m.lng)
                )
        session.flush()
        load_price_book_file(session)
    return migrated_engine
