"""A planning world shared by a module's tests: seeded bodies and users, needs, a scenario and a solved plan in
長野県 (20) and in 新潟県 (15).

Building it means hashing five passwords and solving two scenarios, so it is built once per module on a database
of its own (SQLite file, or a PostgreSQL database created for the module when PLANNER_TEST_DATABASE=postgresql).
Tests that change state use scratch objects (see ``World.scratch_scenario``), never the shared ones.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass, field

import pytest
from sqlmodel import Session, SQLModel, select

from tests.support.backend import BACKEND

PASSWORD = "password-123"


@dataclass
class World:
    app: object
    users: dict[str, int]
    scenarios: dict[str, int]  # "20" / "15" -> scenario id
    plans: dict[str, int]  # "20" / "15" -> plan id (published to the members as 計画 No.1 第1版)
    drafts: dict[str, int] = field(default_factory=dict)  # "20" -> a plan left a draft (試算): prefecture only
    draft_groups: dict[str, tuple[int, str, set[str]]] = field(default_factory=dict)  # the draft's 長野市 group
    draft_needs: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # body -> (draft, need, body)
    groups: dict[str, tuple[int, str, set[str]]] = field(default_factory=dict)  # label -> (plan, group, bodies)
    member_needs: dict[str, tuple[int, str, str]] = field(default_factory=dict)  # label -> (plan, need, body)
    needs: dict[str, int] = field(default_factory=dict)  # body code -> a need id of that body
    names: dict[str, str] = field(default_factory=dict)  # prefecture -> scenario name (for leak checks)
    # (plan, group) -> mode: a 協定書 is a lead-mode group's document, a 覚書 a unified one's
    group_modes: dict[tuple[int, str], str] = field(default_factory=dict)

    @property
    def engine(self):
        return self.app.extensions["db_engine"]

    def scratch_scenario(self, prefecture: str) -> int:
        from tests.support.plans import make_scenario

        return make_scenario(self.engine, prefecture=prefecture, name=f"作業用 {uuid.uuid4().hex[:6]}")


def _module_database(request, tmp_path_factory) -> str:
    if BACKEND != "postgresql":
        return f"sqlite:///{tmp_path_factory.mktemp('security') / 'world.sqlite'}"
    import sqlalchemy as sa

    base = sa.engine.make_url(
        os.environ.get("PLANNER_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
    )
    name = f"planner_sec_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))

    def drop():
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    request.addfinalizer(drop)
    return base.set(database=name).render_as_string(hide_password=False)


def make_app(url: str, **config):
    from planner.app import create_app
    from planner.db import models  # noqa: F401  (registers the tables)

    settings = {"TESTING": True, "DATABASE_URL": url, "WTF_CSRF_ENABLED": False, "SECRET_KEY": "test-secret"}
    settings.update(config)
    app = create_app(settings)
    SQLModel.metadata.create_all(app.extensions["db_engine"])
    return app


def use_standin_solver(mp: pytest.MonkeyPatch) -> None:
    """The tests' stand-in optimiser and settlement (tests/support/plans.py): these tests are about who sees
    a plan, and want the same small plan every time."""
    from tests.support.plans import install_standins

    install_standins(mp)


def build_world(app, *, names: dict[str, str] | None = None, prepare=None) -> World:
    """The world; ``names`` overrides the scenarios' names, ``prepare(session)`` runs before the solves (for
    example to give bodies hostile names that must reach the plans and their documents)."""
    from planner.db.models import Plan as PlanRow
    from tests.support.plans import add_needs, make_scenario, publish_now, solve_now
    from tests.support.web import seed_database

    engine = app.extensions["db_engine"]
    seeded = seed_database(engine)
    ids = add_needs(engine)
    names = names or {"20": "長野県 機密シナリオ甲", "15": "新潟県 機密シナリオ乙"}
    if prepare is not None:
        with Session(engine) as session:
            prepare(session)
            session.commit()
    scenarios = {pref: make_scenario(engine, prefecture=pref, name=name) for pref, name in names.items()}
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        plans = {pref: solve_now(engine, sid) for pref, sid in scenarios.items()}
        drafts = {"20": solve_now(engine, scenarios["20"])}
    for pref, plan_id in plans.items():
        publish_now(engine, plan_id, username=f"pref{pref}")
    world = World(
        app=app,
        users=seeded["users"],
        scenarios=scenarios,
        plans=plans,
        names=names,
        drafts=drafts,
        needs={body: need for (body, _cat), need in ids.items()},
    )
    with Session(engine) as session:
        for pref, plan_id in plans.items():
            row = session.get(PlanRow, plan_id)
            body_of = {n["id"]: n["body"] for n in row.instance_doc["needs"]}
            for g in row.plan_doc["groups"]:
                bodies = {body_of[m] for m in g["members"]}
                world.group_modes[plan_id, g["id"]] = g["mode"]
                if g["mode"] == "standalone":
                    continue
                label = "with-202011" if "202011" in bodies else f"without-202011-{pref}"
                world.groups.setdefault(label, (plan_id, g["id"], bodies))
            for need_id, body in body_of.items():
                world.member_needs.setdefault(body, (plan_id, need_id, body))
        draft = session.get(PlanRow, drafts["20"])
        body_of = {n["id"]: n["body"] for n in draft.instance_doc["needs"]}
        for g in draft.plan_doc["groups"]:
            bodies = {body_of[m] for m in g["members"]}
            world.group_modes[draft.id, g["id"]] = g["mode"]
            if g["mode"] != "standalone" and "202011" in bodies:
                world.draft_groups.setdefault("draft-with-202011", (draft.id, g["id"], bodies))
        world.draft_needs["202011"] = next((draft.id, n, b) for n, b in body_of.items() if b == "202011")
    assert "with-202011" in world.groups and "without-202011-20" in world.groups, world.groups
    return world


@pytest.fixture(scope="module")
def world(request, tmp_path_factory) -> World:
    app = make_app(
        _module_database(request, tmp_path_factory), REPORT_CACHE_DIR=str(tmp_path_factory.mktemp("report-cache"))
    )
    yield build_world(app)
    app.extensions["db_engine"].dispose()


@pytest.fixture
def app(world):
    """The world's application (named ``app`` so that the PostgreSQL run keeps these tests)."""
    return world.app


@pytest.fixture
def client(app):
    return app.test_client()


def login(client, username: str, password: str = PASSWORD):
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302, f"login failed for {username}: {response.status_code}"
    return response


def forbidden_count(engine) -> int:
    from sqlalchemy import func

    from planner.db.models import AuditLog

    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "forbidden")).one()


def last_forbidden(engine):
    from planner.db.models import AuditLog

    with Session(engine) as session:
        return session.exec(select(AuditLog).where(AuditLog.action == "forbidden").order_by(AuditLog.id.desc())).first()


@pytest.fixture(autouse=True)
def _uses_the_database(app):
    """Every test here runs on the world's database, so the PostgreSQL run (which keeps only tests asking for one
    of tests/conftest.py's DB_FIXTURES, such as ``app``) runs them too."""
