"""The demo after a whole plan lifecycle, as its users would walk it in the browser (each step a form the pages
offer, posted as the coordinator, the city or the town), then crawled as each demo login like the fresh demo
(tests/web/test_demo_crawl.py): so that the pages and documents of the late states open too.

The walk (planner/services/plan_lifecycle.py's transitions and planner/services/answers.py's):
1. the city and the town answer 計画 No.1 第1版 (参加, 条件付き with its condition, 不参加);
2. the coordinator reminds the bodies that have not answered and extends the deadline;
3. re-plans with the declined needs fixed standalone, adopts the result as 第2版 and publishes it: 第1版 becomes
   旧版 and the answers that still stand are carried over; the city answers 第2版;
4. withdraws 第2版 with a reason (計画 No.1 has no version in force; its members see why on their home page);
5. adopts the demo's draft 試算 as 計画 No.2 第1版 and publishes it (its needs are no longer asked elsewhere); the
   town declines a need; the re-plan is adopted as No.2 第2版 and left unpublished.

The crawl then meets every state a version can be in: 旧版, 取り下げ, 公表中 with answers, reminders and a carried
answer, and 確定案（未公表）.

What is fetched, and why the planners' documents are bounded per pattern, is in tests/web/test_demo_crawl.py.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import PlanRelease, PlanSeries
from planner.domain.vocabulary import today_jst
from tests.support.demo_crawl import ROLES, assert_reached, crawl_as, sign_in
from tests.support.plans import wait_for


def _client(world, role: str):
    client = world.app.test_client()
    username = ROLES[role]
    sign_in(client, username, world.password(username))
    return client


def _post(client, url: str, data: dict | None = None, *, then: str | None = None) -> str:
    """Post a form the pages offer; the redirect it answers with, followed: its page must not show a refusal."""
    response = client.post(url, data=data or {})
    assert response.status_code == 302, f"POST {url} → {response.status_code}"
    location = response.headers["Location"]
    page = client.get(location).get_data(as_text=True)
    assert "flash-error" not in page, f"POST {url} was refused:\n{page[:3000]}"
    if then is not None:
        assert then in page, f"POST {url}: 「{then}」 not on {location}"
    return location


def _answer(client, plan_id: int, choices: list[str]) -> None:
    """Answer the needs the answer form asks, in its order, with ``choices`` (the last one repeated)."""
    form = client.get(f"/plans/{plan_id}/answer")
    assert form.status_code == 200, form.status_code
    keys = list(dict.fromkeys(re.findall(r'name="answer-([^"]+)"', form.get_data(as_text=True))))
    assert keys, f"計画 {plan_id}: the form asks nothing"
    data = {}
    for i, key in enumerate(keys):
        choice = choices[min(i, len(choices) - 1)]
        data[f"answer-{key}"] = choice
        data[f"comment-{key}"] = {"conditional": "議会の承認が前提", "decline": "既存の契約が残るため"}.get(choice, "")
    _post(client, f"/plans/{plan_id}/answer", data, then="回答")


def _replan(client, engine, plan_id: int) -> int:
    """The coordinator's re-plan of a version with a decline; the new draft's plan id once its solve is done."""
    location = _post(client, f"/plans/{plan_id}/replan")
    scenario_id = int(location.rstrip("/").split("/")[-1])
    done = wait_for(engine, scenario_id, ("done", "failed"), timeout=600)
    assert done.status == "done", done.log
    return done.progress["plan_id"]


def _series_of(engine, plan_id: int) -> int:
    with Session(engine) as session:
        return session.exec(select(PlanRelease.series_id).where(PlanRelease.plan_id == plan_id)).one()


def walk_the_lifecycle(world) -> dict[str, list[str]]:
    """The walk of the module's docstring; the states of each plan number's versions, oldest first."""
    engine = world.app.extensions["db_engine"]
    first, draft = world.plans.published_plan_id, world.plans.draft_plan_id
    deadline = (today_jst() + timedelta(days=20)).isoformat()
    coordinator, city, town = (_client(world, role) for role in ("coordinator", "city", "town"))

    _answer(city, first, ["conditional", "join"])
    _answer(town, first, ["decline", "join"])
    _post(coordinator, f"/plans/{first}/remind")
    _post(coordinator, f"/plans/{first}/deadline", {"deadline": deadline}, then="回答期限を")

    second = _replan(coordinator, engine, first)
    _post(
        coordinator,
        f"/plans/{second}/adopt",
        {"confirm_rule_year": "1", "series": str(_series_of(engine, first))},
        then="第2版",
    )
    _post(coordinator, f"/plans/{second}/publish", {"deadline": deadline, "message": "再計画の結果です"})
    _answer(city, second, ["join"])
    _post(coordinator, f"/plans/{second}/withdraw", {"reason": "単価の見直しのため取り下げます"}, then="取り下げ")

    _post(coordinator, f"/plans/{draft}/adopt", {"confirm_rule_year": "1", "series": "new"}, then="No.2")
    _post(coordinator, f"/plans/{draft}/publish", {"deadline": deadline})
    _answer(town, draft, ["decline", "join"])
    unpublished = _replan(coordinator, engine, draft)
    _post(
        coordinator, f"/plans/{unpublished}/adopt", {"confirm_rule_year": "1", "series": str(_series_of(engine, draft))}
    )

    with Session(engine) as session:
        states: dict[str, list[str]] = {}
        for series in session.exec(select(PlanSeries).order_by(PlanSeries.number)):
            releases = session.exec(
                select(PlanRelease).where(PlanRelease.series_id == series.id).order_by(PlanRelease.version)
            )
            states[f"No.{series.number}"] = [r.state for r in releases]
    return states


@pytest.fixture(scope="module")
def walked_world(demo_world):
    states = walk_the_lifecycle(demo_world)
    assert states == {"No.1": ["superseded", "withdrawn"], "No.2": ["published", "adopted"]}, states
    return demo_world


@pytest.mark.parametrize("role", ROLES)
def test_every_link_and_document_opens_after_a_whole_lifecycle(walked_world, role):
    assert_reached(role, crawl_as(walked_world, role))
