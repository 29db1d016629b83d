"""A scenario plans only its own prefecture's needs, hosts included (issue 30): a 長野県 coordinator who lists 新潟市
as a host with geography 制限なし or a radius does not get 新潟市's needs into a 長野県 plan; and a plan that got
them before the rule held (made here by lifting the rule during the solve) is neither adopted nor published, and
never asks 新潟市 to answer, shows it on the answer board, or lets the coordinator remind it.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import true
from sqlmodel import Session, select

from planner.db.models import Plan as PlanRow
from planner.db.models import PlanRelease, Scenario, User
from planner.services import access, answers, plan_lifecycle
from planner.services.instances import build_instance, need_scope
from planner.services.plans import plan_view
from planner.services.users import create_user
from tests.security.conftest import PASSWORD, login, use_standin_solver
from tests.support.plans import make_scenario, solve_now

NIIGATA_CITY = "151009"


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


def _niigata_staff(engine) -> str:
    with Session(engine) as session:
        if session.exec(select(User).where(User.username == "muni151009")).first() is None:
            create_user(session, "muni151009", PASSWORD, "municipality", body_code=NIIGATA_CITY)
            session.commit()
    return "muni151009"


@pytest.mark.parametrize(
    "geography", [{"geography_type": "any"}, {"geography_type": "radius_km", "radius_km": 500.0}], ids=["any", "radius"]
)
def test_hosts_of_another_prefecture_bring_none_of_their_needs(world, geography):
    engine = world.engine
    sid = make_scenario(
        engine,
        name="長野県 越境ホスト",
        hosts=[{"body": "200000", "categories": []}, {"body": NIIGATA_CITY, "categories": []}],
        **geography,
    )
    with Session(engine) as session:
        scenario = session.get(Scenario, sid)
        instance = build_instance(session, scenario)
        assert {n.body for n in instance.needs} == {"202011", "202029", "204820"}
        assert NIIGATA_CITY in {h.body for h in instance.hosts}  # it may still lead a group
        planned = need_scope(session, scenario).planned
        assert planned == len(instance.needs)
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        plan_id = solve_now(engine, sid)
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        assert NIIGATA_CITY not in {n["body"] for n in row.instance_doc["needs"]}
        assert all(NIIGATA_CITY not in str(g["members"]) for g in row.plan_doc["groups"])


@pytest.fixture
def leaked_plan(world):
    """A 長野県 plan solved while the rule was lifted (as the code before issue 30 did): 新潟市's need is a member."""
    engine = world.engine
    sid = make_scenario(
        engine,
        name="長野県 越境ニーズ",
        geography_type="any",
        hosts=[{"body": "200000", "categories": []}, {"body": NIIGATA_CITY, "categories": []}],
    )
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        mp.setattr(access, "planned_bodies", lambda scenario: true())
        plan_id = solve_now(engine, sid)
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        assert NIIGATA_CITY in {n["body"] for n in row.instance_doc["needs"]}
    return plan_id


def test_a_plan_with_another_prefectures_needs_is_not_adopted(world, leaked_plan):
    with Session(world.engine) as session:
        row = session.get(PlanRow, leaked_plan)
        scenario = session.get(Scenario, row.scenario_id)
        with pytest.raises(plan_lifecycle.LifecycleError, match="新潟市"):
            plan_lifecycle.adopt(session, _user(session, "pref20"), row, scenario, confirm_rule_year=True)
        session.rollback()
        assert plan_lifecycle.release_of_plan(session, leaked_plan) is None


def test_a_published_plan_with_another_prefectures_needs_never_asks_it(world, leaked_plan, client):
    """Adopted and published while the rule was lifted: 新潟市 is not asked, not on the board, not reminded, and its
    staff cannot answer; an adopted one is not published."""
    engine = world.engine
    with Session(engine, expire_on_commit=False) as session:
        row = session.get(PlanRow, leaked_plan)
        scenario = session.get(Scenario, row.scenario_id)
        coordinator = _user(session, "pref20")
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(access, "planned_bodies", lambda scenario: true())
            release = plan_lifecycle.adopt(session, coordinator, row, scenario, confirm_rule_year=True)
            session.commit()
        deadline = plan_lifecycle.today_jst() + timedelta(days=7)
        with pytest.raises(plan_lifecycle.LifecycleError, match="新潟市"):
            plan_lifecycle.publish(session, coordinator, release, deadline=deadline)
        session.rollback()
        assert session.get(PlanRelease, release.id).state == "adopted"
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(access, "planned_bodies", lambda scenario: true())
            # and before one set of needs was asked in one published plan at a time (its needs are in the 長野県 and
            # 新潟県 plans too): what follows must hold even for such a plan
            mp.setattr(plan_lifecycle, "_check_needs_not_open_elsewhere", lambda session, release: None)
            plan_lifecycle.publish(session, coordinator, session.get(PlanRelease, release.id), deadline=deadline)
            session.commit()
        release = session.get(PlanRelease, release.id)
        view = plan_view(row)
        assert NIIGATA_CITY in {m.body_code for g in view.groups for m in g.members}
        board = answers.board(session, release, view)
        assert NIIGATA_CITY not in {line.body_code for line in board.lines}
        assert NIIGATA_CITY not in {code for code, _ in board.bodies}
        assert answers.remind(session, coordinator, release, view, [NIIGATA_CITY]) == []
        assert NIIGATA_CITY not in answers.remind(session, coordinator, release, view)
        session.commit()
        # 新潟市 is asked by the 新潟県 plan only
        assert [p.id for _, _, p in plan_lifecycle.current_releases_for_body(session, NIIGATA_CITY)] == [
            world.plans["15"]
        ]
        assert release.id not in {r.release.id for r in answers.member_requests(session, NIIGATA_CITY)}
        staff = _user(session, _niigata_staff(engine))
        need_key = next(line.need_key for line in answers.need_lines(view, NIIGATA_CITY))
        with pytest.raises(answers.AnswerError):
            answers.submit_answers(session, staff, release, view, {need_key: ("join", "")})
        session.rollback()
        release_id = release.id
    login(client, "muni151009")
    response = client.post(f"/plans/{leaked_plan}/answer", data={f"answer-{need_key}": "join"})
    assert response.status_code in (403, 404)
    with Session(engine) as session:
        assert answers.answers_of(session, release_id, NIIGATA_CITY) == {}
