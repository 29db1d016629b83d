"""Lifecycle races against the real database (issue 30): threads, each with its own connection, doing what two
coordinators (or a coordinator and a member) do at the same moment. Every transition is one conditional UPDATE on
the current state, so: only a version newer than the one in force is published; an answer lands only on the
version in force when it commits; a version is re-planned once; concurrent adoptions into one 計画 No. number
their versions without gap or duplicate. And the answer audit holds the real before and after.
"""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, MemberAnswer, PlanRelease, PlanSeries, Scenario, User
from planner.db.models import Plan as PlanRow
from planner.services import answers, plan_lifecycle
from planner.services.plans import plan_view
from tests.security.conftest import use_standin_solver
from tests.support.plans import joint_group_with, publish_now, solve_now
from tests.support.races import app_fixture, together, world_fixture  # noqa: F401  (the app and world fixtures)

DEADLINE = timedelta(days=10)


@pytest.fixture(autouse=True)
def _one_series_at_a_time(monkeypatch):
    """These races are within one 計画 No.; the world's own published 長野県 plan asks the same needs, which the rule
    of one published plan per set of needs (tests/web/test_withdrawal.py) would refuse before any race began."""
    monkeypatch.setattr(plan_lifecycle, "_check_needs_not_open_elsewhere", lambda session, release: None)


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _drafts(world, count: int) -> list[int]:
    sid = world.scratch_scenario("20")
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        return [solve_now(world.engine, sid) for _ in range(count)]


def _adopt(engine, plan_id: int, series_id: int | None = None) -> int:
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(PlanRow, plan_id)
        release = plan_lifecycle.adopt(
            session,
            _user(session, "pref20"),
            row,
            session.get(Scenario, row.scenario_id),
            series_id=series_id,
            confirm_rule_year=True,
        )
        session.commit()
        return release.id


def _publish(engine, release_id: int) -> int:
    with Session(engine, expire_on_commit=False) as session:
        release = session.get(PlanRelease, release_id)
        plan_lifecycle.publish(
            session, _user(session, "pref20"), release, deadline=plan_lifecycle.today_jst() + DEADLINE
        )
        session.commit()
        return release.version


def test_concurrent_adoptions_into_one_series_number_every_version_once(world):
    engine = world.engine
    first, *others = _drafts(world, 4)
    series_id = None
    with Session(engine) as session:
        series_id = session.get(PlanRelease, _adopt(engine, first)).series_id
    results = together(3, lambda i: _adopt(engine, others[i], series_id))
    assert all(isinstance(r, int) for r in results), results
    with Session(engine) as session:
        versions = sorted(session.exec(select(PlanRelease.version).where(PlanRelease.series_id == series_id)))
        assert versions == [1, 2, 3, 4]
        assert session.get(PlanSeries, series_id).last_version == 4


def test_concurrent_new_numbers_are_distinct_and_without_gaps(world):
    engine = world.engine
    drafts = _drafts(world, 3)
    with Session(engine) as session:
        before = set(session.exec(select(PlanSeries.number).where(PlanSeries.prefecture_code == "20")))
    results = together(3, lambda i: _adopt(engine, drafts[i]))
    assert all(isinstance(r, int) for r in results), results
    with Session(engine) as session:
        after = set(session.exec(select(PlanSeries.number).where(PlanSeries.prefecture_code == "20")))
    top = max(before)
    assert after - before == {top + 1, top + 2, top + 3}


def test_an_older_version_is_never_published_over_a_newer_one(world):
    engine = world.engine
    drafts = _drafts(world, 3)
    first = _adopt(engine, drafts[0])
    with Session(engine) as session:
        series_id = session.get(PlanRelease, first).series_id
    second, third = (_adopt(engine, d, series_id) for d in drafts[1:])
    _publish(engine, first)
    assert _publish(engine, third) == 3
    with pytest.raises(plan_lifecycle.LifecycleConflict, match="第3版"):
        _publish(engine, second)
    with Session(engine) as session:
        assert session.get(PlanSeries, series_id).current_version == 3
        assert session.get(PlanRelease, second).state == "adopted"
        assert session.get(PlanRelease, third).state == "published"


def test_racing_publications_leave_the_newest_version_in_force(world):
    engine = world.engine
    for _ in range(3):
        drafts = _drafts(world, 3)
        first = _adopt(engine, drafts[0])
        with Session(engine) as session:
            series_id = session.get(PlanRelease, first).series_id
        second, third = (_adopt(engine, d, series_id) for d in drafts[1:])
        _publish(engine, first)
        together(2, lambda i, ids=(second, third): _publish(engine, ids[i]))
        with Session(engine) as session:
            assert session.get(PlanSeries, series_id).current_version == 3
            states = {
                r.version: r.state for r in session.exec(select(PlanRelease).where(PlanRelease.series_id == series_id))
            }
            assert states[3] == "published"
            assert list(states.values()).count("published") == 1


def _published(world) -> tuple[int, int, str]:
    """A fresh published version of a scratch scenario: (plan id, release id, 長野市's need key in a joint group)."""
    (plan_id,) = _drafts(world, 1)
    release_id = publish_now(world.engine, plan_id)
    with Session(world.engine) as session:
        view = plan_view(session.get(PlanRow, plan_id))
        group = joint_group_with(view, "202011")
        key = next(m.need_id for m in group.members if m.body_code == "202011")
    return plan_id, release_id, key


def _answer(engine, plan_id: int, release_id: int, key: str, answer: str) -> int:
    with Session(engine, expire_on_commit=False) as session:
        view = plan_view(session.get(PlanRow, plan_id))
        changed = answers.submit_answers(
            session, _user(session, "muni202011"), session.get(PlanRelease, release_id), view, {key: (answer, "")}
        )
        session.commit()
        return changed


def test_an_answer_does_not_land_on_a_version_superseded_while_it_was_being_given(world, monkeypatch):
    """The member's request has checked that the version is in force; the coordinator publishes the next version
    and commits; then the member's request writes. It is refused, and the old version has no answer."""
    engine = world.engine
    plan_id, release_id, key = _published(world)
    with Session(engine) as session:
        series_id = session.get(PlanRelease, release_id).series_id
    (next_draft,) = _drafts(world, 1)
    next_release = _adopt(engine, next_draft, series_id)
    checked, published = threading.Event(), threading.Event()
    real_check = answers.check_open

    def check_then_wait(*args, **kwargs):
        series = real_check(*args, **kwargs)
        checked.set()
        assert published.wait(30)
        return series

    monkeypatch.setattr(answers, "check_open", check_then_wait)
    outcome: list[object] = []

    def member() -> None:
        try:
            outcome.append(_answer(engine, plan_id, release_id, key, "join"))
        except Exception as e:
            outcome.append(e)

    thread = threading.Thread(target=member)
    thread.start()
    assert checked.wait(30)
    _publish(engine, next_release)
    published.set()
    thread.join(30)
    assert len(outcome) == 1 and isinstance(outcome[0], answers.AnswersClosed), outcome
    with Session(engine) as session:
        assert session.get(PlanRelease, release_id).state == "superseded"
        assert answers.answers_of(session, release_id) == {}


def test_answers_racing_a_publication_land_only_on_the_version_in_force_at_commit(world):
    """Many answers and a publication at once: every answer recorded on the old version committed before it was
    superseded, so the publication saw it (and carried it, the part being unchanged)."""
    engine = world.engine
    plan_id, release_id, key = _published(world)
    with Session(engine) as session:
        series_id = session.get(PlanRelease, release_id).series_id
    (next_draft,) = _drafts(world, 1)
    next_release = _adopt(engine, next_draft, series_id)

    def work(i: int):
        if i == 0:
            return _publish(engine, next_release)
        return _answer(engine, plan_id, release_id, key, "decline" if i % 2 else "join")

    results = together(6, work)
    assert not [r for r in results if isinstance(r, Exception) and not isinstance(r, answers.LifecycleError)], results
    with Session(engine) as session:
        old = answers.answers_of(session, release_id)
        new = answers.answers_of(session, next_release)
        if key in old:  # answered before the publication: the new version carried the last answer given
            assert key in new and new[key].answer == old[key].answer


def test_two_coordinators_pressing_replan_together_make_one_scenario(world):
    engine = world.engine
    plan_id, release_id, key = _published(world)
    _answer(engine, plan_id, release_id, key, "decline")

    def replan(_i: int) -> int:
        with Session(engine, expire_on_commit=False) as session:
            view = plan_view(session.get(PlanRow, plan_id))
            scenario, _ = answers.replan_scenario(
                session, _user(session, "pref20"), session.get(PlanRelease, release_id), view
            )
            session.commit()
            return scenario.id

    results = together(2, replan)
    made = [r for r in results if isinstance(r, int)]
    refused = [r for r in results if isinstance(r, answers.AlreadyReplanned)]
    assert len(made) == 1 and len(refused) == 1, results
    assert refused[0].scenario is not None and refused[0].scenario.id == made[0]
    with Session(engine) as session:
        replans = [
            s for s in session.exec(select(Scenario)) if (s.overrides or {}).get("replan_of_release") == release_id
        ]
        assert [s.id for s in replans] == made
        assert session.get(PlanRelease, release_id).replan_scenario_id == made[0]
    # pressed again later: sent to the same scenario
    with pytest.raises(answers.AlreadyReplanned):
        replan(0)


def test_the_answer_audit_holds_the_real_before_and_after(world):
    engine = world.engine
    plan_id, release_id, key = _published(world)
    _answer(engine, plan_id, release_id, key, "join")
    _answer(engine, plan_id, release_id, key, "decline")
    with Session(engine) as session:
        entries = list(
            session.exec(
                select(AuditLog)
                .where(AuditLog.action == "answer", AuditLog.entity_id == f"{release_id}:{key}")
                .order_by(AuditLog.id)
            )
        )
        assert [(e.before, e.after) for e in entries] == [
            (None, {"answer": "join", "comment": ""}),
            ({"answer": "join", "comment": ""}, {"answer": "decline", "comment": ""}),
        ]
        assert session.exec(select(MemberAnswer).where(MemberAnswer.release_id == release_id)).one().answer == "decline"
