"""Withdrawal (取り下げ) of a published plan, one published plan per set of needs, and the 補正予算 warning for groups
starting in the fiscal year the plan is issued in (issue #29: "One open plan per set of needs, and withdrawal")."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, MemberAnswer, PlanRelease, PlanSeries, Scenario, User
from planner.db.models import Plan as PlanRow
from planner.services import answers as answer_svc
from planner.services import plan_lifecycle as lifecycle
from tests.support.plans import publish_now, solve_now
from tests.support.web import login, logout


def _release(engine, release_id):
    with Session(engine) as session:
        return session.get(PlanRelease, release_id)


def test_a_withdrawn_plan_takes_no_answers_and_its_members_are_told_why(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    release_id = publish_now(engine, view.id)
    login(client, "pref20")
    page = client.get(f"/plans/{view.id}").get_data(as_text=True)
    assert "この版を取り下げる" in page and "取り下げの理由" in page

    # a reason is required, and a refusal writes nothing
    r = client.post(f"/plans/{view.id}/withdraw", data={"reason": "  "}, follow_redirects=True)
    assert "取り下げの理由を入力してください" in r.get_data(as_text=True)
    assert _release(engine, release_id).state == "published"

    reason = "国の補助制度の公募結果を待って条件を見直すため"
    r = client.post(f"/plans/{view.id}/withdraw", data={"reason": reason})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{view.id}")
    withdrawn = _release(engine, release_id)
    assert (withdrawn.state, withdrawn.withdrawal_reason) == ("withdrawn", reason)
    with Session(engine) as session:
        series = session.get(PlanSeries, withdrawn.series_id)
        assert series.current_version is None
        entry = session.exec(select(AuditLog).where(AuditLog.action == "withdraw")).one()
        assert entry.before["state"] == "published" and entry.after["reason"] == reason
        told = set(entry.after["members_told"])
        assert told == {m for g in view.groups for m in g.body_codes}
    page = client.get(f"/plans/{view.id}").get_data(as_text=True)
    assert "取り下げ" in page and reason in page and "この版を取り下げる" not in page
    # a second withdrawal is refused: it is no longer the version in force
    r = client.post(f"/plans/{view.id}/withdraw", data={"reason": "再度"}, follow_redirects=True)
    assert "公表中の版ではないため取り下げられません" in r.get_data(as_text=True)
    logout(client)

    # the member is told on its home page, still sees its part, and cannot answer
    login(client, "muni202011")
    home = client.get("/home").get_data(as_text=True)
    assert "取り下げられた計画" in home and reason in home and "回答をお願いしている計画" not in home
    assert client.get(f"/plans/{view.id}/body/202011").status_code == 200
    with Session(engine) as session:
        release = session.get(PlanRelease, release_id)
        with pytest.raises(answer_svc.AnswersClosed, match="取り下げられたため回答できません"):
            answer_svc.check_open(session, release)
        assert session.exec(select(MemberAnswer)).all() == []


def test_only_the_coordinator_of_the_plan_may_withdraw_it(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    release_id = publish_now(engine, view.id)
    login(client, "muni202011")
    assert client.post(f"/plans/{view.id}/withdraw", data={"reason": "x"}).status_code == 403
    logout(client)
    login(client, "pref15")
    assert client.post(f"/plans/{view.id}/withdraw", data={"reason": "x"}).status_code == 404
    assert _release(engine, release_id).state == "published"


def test_one_published_plan_per_set_of_needs(app, planned):
    """A second plan on the same needs (another 計画 No.) is not published while the first asks for answers; once the
    first is withdrawn it is."""
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    second = solve_now(engine, planned["scenario_id"])
    with Session(engine) as session:
        user = session.exec(select(User).where(User.username == "pref20")).one()
        row = session.get(PlanRow, second)
        release = lifecycle.adopt(
            session, user, row, session.get(Scenario, row.scenario_id), confirm_rule_year=True
        )  # a new 計画 No.2
        session.commit()
        assert [n for _, _, n in lifecycle.open_releases_sharing_needs(session, release)] == [
            len({m.need_id for g in view.groups for m in g.members})
        ]
        deadline = lifecycle.today_jst() + timedelta(days=7)
        with pytest.raises(
            lifecycle.LifecycleConflict, match=r"計画 No\.1 第1版.*同じニーズに回答を求める計画は一つだけ"
        ):
            lifecycle.publish(session, user, release, deadline=deadline)
        session.rollback()
        first = lifecycle.release_of_plan(session, view.id)
        lifecycle.withdraw(session, user, first, reason="計画 No.2 に置き換えるため")
        session.commit()
        release = session.get(PlanRelease, release.id)
        lifecycle.publish(session, user, release, deadline=deadline)
        session.commit()
        assert session.get(PlanRelease, release.id).state == "published"
    # a later version of the same 計画 No. is not held back by the version it replaces
    third = solve_now(engine, planned["scenario_id"])
    publish_now(engine, third, series_id=release.series_id)


@pytest.mark.parametrize(
    ("day", "fiscal"),
    [(date(2026, 12, 7), 2026), (date(2027, 3, 31), 2026), (date(2027, 4, 1), 2027), (date(2026, 4, 1), 2026)],
)
def test_fiscal_year_of_a_day(day, fiscal):
    assert lifecycle.fiscal_year_of(day) == fiscal


def test_groups_starting_in_the_issuing_fiscal_year_need_a_supplementary_budget():
    doc = {
        "groups": [
            {"mode": "lead", "start_year": 2026},
            {"mode": "unified", "start_year": 2027},
            {"mode": "standalone", "start_year": 2025},  # a body alone budgets as it always does
            {"mode": "lead", "start_year": 2025},
        ]
    }
    assert lifecycle.start_years_needing_supplementary_budget(doc, date(2026, 12, 7)) == [2025, 2026]
    assert lifecycle.start_years_needing_supplementary_budget(doc, date(2026, 3, 31)) == [2025]
    text = lifecycle.supplementary_budget_warning(doc, date(2026, 12, 7))
    assert "令和7年度・令和8年度" in text and "令和8年度中" in text and "補正予算" in text
    assert lifecycle.supplementary_budget_warning(doc, date(2025, 3, 1)) is None


def test_the_plan_page_and_notices_carry_the_supplementary_budget_warning(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    published_at = datetime(2026, 12, 7, 1, 0)  # 10:00 JST, 令和8年度
    release_id = publish_now(engine, view.id)
    with Session(engine) as session:
        release = session.get(PlanRelease, release_id)
        release.published_at = published_at
        session.add(release)
        session.commit()
    expected = lifecycle.supplementary_budget_warning(view.doc, date(2026, 12, 7))
    starts = {g.group.start_year for g in view.groups if g.joint}
    assert (expected is not None) == any(y <= 2026 for y in starts)
    login(client, "pref20")
    page = client.get(f"/plans/{view.id}").get_data(as_text=True)
    if expected:
        assert expected in page
    from planner.services.document_settings import plan_version

    with Session(engine) as session:
        version = plan_version(session, view.id, "20")
        assert (expected in version.notices) if expected else not any("補正予算" in n for n in version.notices)
