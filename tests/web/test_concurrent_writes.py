"""Concurrent writers through the real request path (issue #13, points 2-4): real threads, each with its own client
and database connection, released together by a barrier. Runs on SQLite and, in the PostgreSQL run, there too.

Each test asserts the data afterwards: one winner, the others refused with a Japanese message, nothing doubled.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlmodel import Session, func, select

from planner.db.models import AuditLog, Need, Scenario
from tests.support.plans import make_scenario
from tests.support.redis_db import CONCURRENT_WRITES_SLOT, empty_redis_database
from tests.support.web import login
from tests.web.test_needs import CSV_OK, token_of, upload
from tests.web.test_needs import form_data as need_form
from tests.web.test_scenarios import scenario_form, with_books


@pytest.fixture
def app_config(tmp_path):
    return {"NEEDS_UPLOAD_DIR": str(tmp_path / "uploads")}


def engine_of(app):
    return app.extensions["db_engine"]


def together(app, username: str, count: int, request):
    """Run ``request(client)`` from ``count`` threads at once, each signed in as ``username``; the responses."""
    clients = []
    for _ in range(count):
        client = app.test_client()
        login(client, username)
        clients.append(client)
    barrier = threading.Barrier(count)

    def one(client):
        barrier.wait(timeout=30)
        return request(client)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(one, clients, timeout=120))


def test_concurrent_edits_of_one_scenario_version_let_exactly_one_win(app, seed):
    scenario_id = make_scenario(engine_of(app))
    probe = app.test_client()
    login(probe, "pref20")
    base = with_books(probe, scenario_form(version="1"))

    responses = together(
        app,
        "pref20",
        8,
        lambda c: c.post(f"/scenarios/{scenario_id}/edit", data={**base, "name": f"同時編集 {threading.get_ident()}"}),
    )

    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [409] * 7, codes
    losers = [r.get_data(as_text=True) for r in responses if r.status_code == 409]
    with Session(engine_of(app)) as session:
        scenario = session.get(Scenario, scenario_id)
        updates = session.exec(
            select(func.count()).select_from(AuditLog).where(AuditLog.entity == "scenario", AuditLog.action == "update")
        ).one()
    assert scenario.version == 2 and updates == 1
    # every loser is shown the winner's values, with their version for a deliberate retry
    assert all("他の利用者によって更新" in html and scenario.name in html and 'value="2"' in html for html in losers)


def test_a_scenario_edit_without_a_usable_version_is_a_400(app, client, seed):
    scenario_id = make_scenario(engine_of(app))
    login(client, "pref20")
    base = with_books(client, scenario_form())
    for version in ("", "abc", "1e3", "１"):
        r = client.post(f"/scenarios/{scenario_id}/edit", data={**base, "version": version})
        assert r.status_code == 400 and "版（version）" in r.get_data(as_text=True), version
    r = client.post(f"/scenarios/{scenario_id}/overrides/x/delete", data={"version": "99999999999999999999"})
    assert r.status_code == 400
    with Session(engine_of(app)) as session:
        assert session.get(Scenario, scenario_id).version == 1


def test_a_need_edit_with_a_non_numeric_version_is_a_400(app, client, seed):
    with Session(engine_of(app)) as session:
        need = Need(body_code="202011", category_id="ocr", volume=1, start_year=2026)
        session.add(need)
        session.commit()
        need_id = need.id
    login(client, "muni202011")
    assert client.post(f"/needs/{need_id}/edit", data=need_form(version="x")).status_code == 400
    assert client.post(f"/needs/{need_id}/withdraw", data={"version": "2**64"}).status_code == 400


def test_concurrent_registrations_of_one_need_create_exactly_one(app, seed):
    responses = together(app, "muni202011", 10, lambda c: c.post("/needs/new", data=need_form()))

    with Session(engine_of(app)) as session:
        active = session.exec(
            select(Need).where(Need.body_code == "202011", Need.category_id == "ocr", Need.status == "active")
        ).all()
    assert len(active) == 1
    codes = sorted(r.status_code for r in responses)
    assert codes == [302] + [422] * 9, codes
    assert all(
        "登録済み" in r.get_data(as_text=True) or "既に登録されています" in r.get_data(as_text=True)
        for r in responses
        if r.status_code == 422
    )


def test_the_database_refuses_a_second_active_need_whatever_the_code_checked(engine):
    from sqlalchemy.exc import IntegrityError

    from tests.support.web import seed_database

    seed_database(engine)
    with Session(engine) as session:
        session.add(Need(body_code="202011", category_id="ocr", volume=1, start_year=2026))
        session.add(Need(body_code="202011", category_id="ocr", volume=2, start_year=2026, status="withdrawn"))
        session.commit()
        session.add(Need(body_code="202011", category_id="ocr", volume=3, start_year=2026))
        with pytest.raises(IntegrityError):
            session.commit()


def test_concurrent_confirmations_of_one_import_import_it_once(app, seed):
    owner = app.test_client()
    login(owner, "muni202011")
    token = token_of(upload(owner, CSV_OK.encode("cp932")).get_data(as_text=True))

    responses = together(app, "muni202011", 6, lambda c: c.post("/needs/import/confirm", data={"token": token}))

    assert all(r.status_code == 302 for r in responses)
    with Session(engine_of(app)) as session:
        needs = session.exec(select(Need).where(Need.body_code == "202011")).all()
        summaries = session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.entity == "need", AuditLog.action == "import", AuditLog.entity_id == "")
        ).one()
    assert sorted(n.category_id for n in needs) == ["ocr", "rpa"] and summaries == 1


class _FakeQueue:
    """Stands in for RQ's queue: records what was enqueued, optionally runs ``before`` first."""

    def __init__(self, before=None):
        self.enqueued: list[tuple] = []
        self.before = before
        self.lock = threading.Lock()

    def enqueue(self, func, *args, **kwargs):
        if self.before is not None:
            self.before(*args)
        with self.lock:
            self.enqueued.append(args)


def test_concurrent_run_requests_start_exactly_one_run(app, seed, monkeypatch):
    from planner import jobs

    queue = _FakeQueue()
    monkeypatch.setattr(jobs, "rq_queue", lambda url: queue)
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"  # never reached: the queue is the fake one
    scenario_id = make_scenario(engine_of(app))

    together(app, "pref20", 8, lambda c: c.post(f"/scenarios/{scenario_id}/run"))

    with Session(engine_of(app)) as session:
        scenario = session.get(Scenario, scenario_id)
        runs = session.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "run")).one()
    assert len(queue.enqueued) == 1 and runs == 1
    assert scenario.status == "queued" and queue.enqueued[0] == (scenario_id, scenario.job_id)


def test_a_status_view_before_the_job_reaches_redis_does_not_call_it_lost(app, seed, monkeypatch):
    """The run is committed as queued, then enqueued: a status request in between must not mark it failed."""
    from planner import jobs

    engine = engine_of(app)
    viewer = app.test_client()
    login(viewer, "pref20")
    seen = []

    def look(scenario_id, job_id):
        seen.append(viewer.get(f"/api/scenarios/{scenario_id}/status").get_json()["status"])

    with empty_redis_database(CONCURRENT_WRITES_SLOT) as url:
        app.config["REDIS_URL"] = url
        monkeypatch.setattr(jobs, "rq_queue", lambda _url: _FakeQueue(before=look))
        scenario_id = make_scenario(engine)
        runner = app.test_client()
        login(runner, "pref20")
        assert runner.post(f"/scenarios/{scenario_id}/run").status_code == 302
    assert seen == ["queued"]
    with Session(engine) as session:
        scenario = session.get(Scenario, scenario_id)
    assert scenario.status == "queued" and "enqueued_at" in scenario.progress


def test_a_burst_of_wrong_passwords_gets_no_more_checks_than_the_limit(app, seed):
    from planner.services.login_throttle import MAX_FAILURES

    barrier = threading.Barrier(14)

    def attempt(_):
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post("/login", data={"username": "pref20", "password": "wrong-password"}).status_code

    with ThreadPoolExecutor(max_workers=14) as pool:
        codes = list(pool.map(attempt, range(14), timeout=120))
    with Session(engine_of(app)) as session:
        actions = session.exec(select(AuditLog.action).where(AuditLog.entity == "user")).all()
    assert actions.count("login_failed") == MAX_FAILURES and actions.count("login_blocked") == 14 - MAX_FAILURES
    assert sorted(codes) == [200] * MAX_FAILURES + [429] * (14 - MAX_FAILURES)
    assert "login_pending" not in actions
