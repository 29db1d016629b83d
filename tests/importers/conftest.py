"""Databases built the way production builds them: Alembic migrations, then init-db's reference data."""
from __future__ import annotations

import pytest


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
                session.add(Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind,
                                 lat=m.lat, lng=m.lng))
        session.flush()
        load_price_book_file(session)
    return migrated_engine
