"""Three drafts adopted into one 計画 No. at the same moment through the web (issue #30: on SQLite this answered
500 "database is locked"): every request answers with its redirect, and the series holds each version once.
Runs on SQLite and, with PLANNER_TEST_DATABASE=postgresql, on PostgreSQL."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import PlanRelease
from tests.concurrency.test_lifecycle_races import _adopt, _drafts
from tests.security.conftest import PASSWORD
from tests.support.races import app_fixture, together, world_fixture  # noqa: F401  (the app and world fixtures)


def test_three_drafts_adopted_into_one_series_at_once_all_answer(world):
    first, *others = _drafts(world, 4)
    with Session(world.engine) as session:
        series_id = session.get(PlanRelease, _adopt(world.engine, first)).series_id
    clients = []
    for _ in others:
        client = world.app.test_client()
        assert client.post("/login", data={"username": "pref20", "password": PASSWORD}).status_code == 302
        clients.append(client)
    statuses = together(
        len(others),
        lambda i: (
            clients[i]
            .post(f"/plans/{others[i]}/adopt", data={"confirm_rule_year": "1", "series": str(series_id)})
            .status_code
        ),
        timeout=120,
    )
    assert statuses == [302] * len(others), statuses
    with Session(world.engine) as session:
        versions = sorted(session.exec(select(PlanRelease.version).where(PlanRelease.series_id == series_id)))
    assert versions == [1, 2, 3, 4]
