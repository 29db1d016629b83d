"""The demo as ``planner init-db`` and ``planner demo`` leave it, in a database of its own (the demo walk in a
browser, the demo crawl and the report benchmark's ``--demo-zip`` all start from it)."""

from __future__ import annotations

from sqlmodel import Session


def build_demo(engine):
    """Initialise the empty database of ``engine``, load the demo and make its plans, as ``planner demo`` does;
    (the demo's report, its plans)."""
    from planner.jobs.demo import plan_demo
    from planner.services.demo import load_demo
    from planner.services.init_db import init_database

    init_database(engine)
    with Session(engine) as session:
        report = load_demo(session)
        session.commit()
    return report, plan_demo(engine, report)


def demo_database(url: str):
    """Initialise the database at ``url``, load the demo and make its plans; (the demo's report, its plans)."""
    from planner.db.session import make_engine

    engine = make_engine(url)
    try:
        return build_demo(engine)
    finally:
        engine.dispose()
