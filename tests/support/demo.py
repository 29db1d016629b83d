"""The demo as ``planner init-db`` and ``planner demo`` leave it, in a database of its own (the demo walk in a
browser and the report benchmark's ``--demo-zip`` both start from it)."""

from __future__ import annotations

from sqlmodel import Session


def demo_database(url: str):
    """Initialise the database at ``url``, load the demo and make its plans; (the demo's report, its plans)."""
    from planner.db.session import make_engine
    from planner.services.demo import load_demo, plan_demo
    from planner.services.init_db import init_database

    engine = make_engine(url)
    init_database(engine)
    with Session(engine) as session:
        report = load_demo(session)
        session.commit()
    plans = plan_demo(engine, report)
    engine.dispose()
    return report, plans
