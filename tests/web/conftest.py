"""Fixtures for the web tests: an application on the test database, a client, the small seeded world of
tests/support/web.py and a solved plan on it.

On SQLite the seeded world and the solved plan are built once per session and restored into each test's database
(see tests/support/databases.py); on PostgreSQL each test builds them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session, SQLModel

from tests.support.backend import BACKEND
from tests.support.databases import create_tables, module_database
from tests.support.plans import add_needs, jobs_database, make_scenario, solve_now
from tests.support.web import seed_database


@pytest.fixture
def app_config(db_url):
    """Overridable: a test module may return extra settings (for example WTF_CSRF_ENABLED=True)."""
    return {}


@pytest.fixture
def app(db_url, app_config, tmp_path):
    from planner.app import create_app
    from planner.db import models  # noqa: F401  (registers the tables)

    config = {
        "TESTING": True,
        "DATABASE_URL": db_url,
        "WTF_CSRF_ENABLED": False,
        "SECRET_KEY": "test-secret",
        "REPORT_CACHE_DIR": str(tmp_path / "report_cache"),  # not the project's instance folder
    }
    config.update(app_config)
    app = create_app(config)
    SQLModel.metadata.create_all(app.extensions["db_engine"])
    yield app
    app.extensions["db_engine"].dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def csrf_app(db_url, tmp_path):
    """An application with CSRF protection switched on, as in production."""
    from planner.app import create_app
    from planner.db import models  # noqa: F401

    app = create_app({"TESTING": True, "DATABASE_URL": db_url, "WTF_CSRF_ENABLED": True, "SECRET_KEY": "test-secret"})
    SQLModel.metadata.create_all(app.extensions["db_engine"])
    yield app
    app.extensions["db_engine"].dispose()


def _seeded(engine) -> dict:
    create_tables(engine)
    return seed_database(engine)


@pytest.fixture
def seed(app, db_templates):
    """The seeded world in the application's database: its bodies, user ids and price-book version."""
    engine = app.extensions["db_engine"]
    if BACKEND == "postgresql":
        return seed_database(engine)
    return db_templates.restore_into(engine, "seeded", _seeded)


@pytest.fixture
def solver():
    """The real optimiser and settlement (tests that want the stand-ins call install_standins)."""
    return "real"


def _solved(engine) -> tuple[int, int]:
    """The seeded world, its needs (tests/support/plans.py's NEEDS) and 長野県's scenario solved: (scenario, plan)."""
    _seeded(engine)
    add_needs(engine)
    scenario_id = make_scenario(engine)
    return scenario_id, solve_now(engine, scenario_id)


@pytest.fixture
def planned(app, seed, solver, db_templates):
    """長野県's scenario on the seeded world's needs, solved: its engine, scenario and plan ids and the plan's view."""
    from planner.db.models import Plan as PlanRow
    from planner.services.plans import plan_view

    engine = app.extensions["db_engine"]
    if BACKEND == "postgresql":
        add_needs(engine)
        scenario_id = make_scenario(engine)
        plan_id = solve_now(engine, scenario_id)
    else:
        scenario_id, plan_id = db_templates.restore_into(engine, ("planned", solver), _solved)
    with Session(engine) as session:
        view = plan_view(session.get(PlanRow, plan_id))
    return {"engine": engine, "scenario_id": scenario_id, "plan_id": plan_id, "view": view}


@pytest.fixture
def db(engine):
    """Bodies and the reference price book, without the web layer."""
    return jobs_database(engine)


@pytest.fixture
def demo(app, db_templates):
    """The demo exactly as ``planner init-db`` and ``planner demo`` leave it (計画 No.1 第1版 published, a draft 試算)
    in the application's database: the demo's report (its logins with their passwords) and its plans."""
    from tests.support.demo import build_demo

    engine = app.extensions["db_engine"]
    if BACKEND == "postgresql":
        SQLModel.metadata.drop_all(engine)  # the demo is built as init-db builds it: by the migrations
        return build_demo(engine)
    return db_templates.restore_into(engine, "demo", build_demo)


@dataclass
class DemoWorld:
    """The demo in an application of its own, shared by the tests of one module."""

    app: object
    report: object  # planner.services.demo.DemoReport: the logins with their passwords
    plans: object  # planner.services.demo.DemoPlans

    def password(self, username: str) -> str:
        return next(login.password for login in self.report.logins if login.username == username)


@pytest.fixture(scope="module")
def demo_world(db_templates, tmp_path_factory):
    """The demo exactly as ``planner init-db`` and ``planner demo`` leave it, in a database and an application that
    the tests of one module share (a crawl of the demo as each login reuses one world instead of building four)."""
    from planner.app import create_app
    from tests.support.demo import build_demo

    folder = tmp_path_factory.mktemp("demo-world")
    with module_database(folder, db_templates, "demo", build_demo) as (url, (report, plans)):
        app = create_app(
            {
                "TESTING": True,
                "DATABASE_URL": url,
                "WTF_CSRF_ENABLED": False,
                "SECRET_KEY": "test-secret",
                # the documents' ZIPs are built once and shared by every login, as in one running application
                "REPORT_CACHE_DIR": str(folder / "report_cache"),
            }
        )
        try:
            yield DemoWorld(app, report, plans)
        finally:
            app.extensions["db_engine"].dispose()
