"""Lead-run consortia (#29) asked at the services: 松本市 leads an RPA 協議会 and invites 小谷村 and 新潟市 (another
prefecture), who accept, and 長野市, who declines. Its scenario plans exactly the lead's and the accepted bodies'
needs; the lead runs it (solve, adopt, publish, remind) and reads nothing else of its prefecture; 新潟市's staff
answer its plan like a prefecture's; 長野県 reads it and cannot act on it; 新潟県 and the decliner see nothing.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, Need, PartnershipMember, PlanRelease, PlanSeries, Scenario, User
from planner.db.models import Plan as PlanRow
from planner.services import access, answers, partnerships, plan_lifecycle, plans
from planner.services.instances import build_instance
from planner.services.users import create_user
from tests.security.conftest import PASSWORD, use_standin_solver
from tests.support.plans import solve_now

LEAD, OTARI, NIIGATA_CITY, NAGANO_CITY = "202029", "204820", "151009", "202011"


def _user(session: Session, username: str) -> User:
    return session.exec(select(User).where(User.username == username)).one()


@pytest.fixture(scope="module")
def consortium(world):
    """The consortium, its scenario solved, adopted and published by the lead; the world's own 長野県 plan (which
    asks the same RPA needs) withdrawn first, since one set of needs is asked in one published plan at a time."""
    engine = world.engine
    with Session(engine, expire_on_commit=False) as session:
        for name, code in (("muni204820", OTARI), ("muni151009", NIIGATA_CITY)):
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "municipality", body_code=code)
        session.add(Need(body_code=NIIGATA_CITY, category_id="rpa", volume=25.0, start_year=2026, can_lead=False))
        session.commit()
        world_release = session.exec(select(PlanRelease).where(PlanRelease.plan_id == world.plans["20"])).one()
        plan_lifecycle.withdraw(session, _user(session, "pref20"), world_release, reason="協議会で調達するため")
        lead = _user(session, "muni202029")
        p = partnerships.create(session, lead, name="松本地域RPA共同調達協議会", kind="council", category_id="rpa")
        invited, kept = partnerships.invite(session, lead, p, [OTARI, NIIGATA_CITY, NAGANO_CITY])
        assert [b.code for b in invited] == [OTARI, NIIGATA_CITY, NAGANO_CITY] and kept == []
        session.commit()
        # before anyone answers, the scenario plans the lead's need alone
        scenario = partnerships.new_scenario(session, lead, p, name="松本地域RPA 令和8年度")
        session.commit()
        assert {n.body for n in build_instance(session, scenario).needs} == {LEAD}
        partnerships.respond(session, _user(session, "muni204820"), p, accept=True)
        partnerships.respond(session, _user(session, "muni151009"), p, accept=True)
        partnerships.respond(session, _user(session, "muni202011"), p, accept=False)
        session.commit()
        sid, pid = scenario.id, p.id
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        plan_id = solve_now(engine, sid)
    with Session(engine, expire_on_commit=False) as session:
        lead = _user(session, "muni202029")
        row = session.get(PlanRow, plan_id)
        release = plan_lifecycle.adopt(session, lead, row, session.get(Scenario, sid), confirm_rule_year=True)
        plan_lifecycle.publish(session, lead, release, deadline=plan_lifecycle.today_jst() + timedelta(days=14))
        session.commit()
    return {"partnership": pid, "scenario": sid, "plan": plan_id, "release": release.id}


def test_the_scenario_plans_the_lead_and_the_accepted_bodies_only(world, consortium):
    with Session(world.engine) as session:
        row = session.get(PlanRow, consortium["plan"])
        assert {n["body"] for n in row.instance_doc["needs"]} == {LEAD, OTARI, NIIGATA_CITY}
        assert {n["category"] for n in row.instance_doc["needs"]} == {"rpa"}
        scenario = session.get(Scenario, consortium["scenario"])
        planned = set(session.exec(access.planned_body_codes(scenario)))
        assert planned == {LEAD, OTARI, NIIGATA_CITY}  # not 長野市, which declined
        series = session.exec(
            select(PlanSeries)
            .join(PlanRelease, PlanRelease.series_id == PlanSeries.id)
            .where(PlanRelease.id == consortium["release"])
        ).one()
        assert series.partnership_id == consortium["partnership"] and series.prefecture_code == "20"
        release = session.get(PlanRelease, consortium["release"])
        assert release.frozen["issuer"]["title"] == "松本地域RPA共同調達協議会（幹事団体 松本市）"


def test_the_lead_reads_its_consortiums_plans_and_no_other_plan_of_its_prefecture(world, consortium):
    with Session(world.engine) as session:
        lead = _user(session, "muni202029")
        assert plans.load_plan(session, lead, consortium["plan"]).full
        assert plans.load_plan(session, lead, consortium["plan"]).runs(lead)
        with pytest.raises(plans.PlanNotFound) as refused:
            plans.load_plan(session, lead, world.drafts["20"])  # the prefecture's draft
        assert refused.value.refused
        # the prefecture's published plan: only its own body's part, as any member
        assert plans.load_plan(session, lead, world.plans["20"]).access == "body"
        listed = {p.id for p, _s in plans.list_plans(session, lead, per_page=100)[0]}
        assert consortium["plan"] in listed and world.drafts["20"] not in listed
        seen = {s.id for s in session.exec(access.visible_scenarios(lead))}
        assert consortium["scenario"] in seen and world.scenarios["20"] not in seen
        assert [p.id for p, _b, _s in partnerships.visible(session, lead)] == [consortium["partnership"]]


def test_an_invitee_in_another_prefecture_answers_like_a_member(world, consortium):
    with Session(world.engine) as session:
        niigata = _user(session, "muni151009")
        loaded = plans.load_plan(session, niigata, consortium["plan"])
        assert loaded.access == "body" and not loaded.runs(niigata)
        release = session.get(PlanRelease, consortium["release"])
        lines = answers.need_lines(loaded.view, NIIGATA_CITY)
        assert answers.asked_lines(session, release, lines) == lines and len(lines) == 1
        changed = answers.submit_answers(session, niigata, release, loaded.view, {lines[0].need_key: ("join", "")})
        session.commit()
        assert changed == 1
        assert answers.answers_of(session, release.id, NIIGATA_CITY)[lines[0].need_key].answer == "join"
        # its staff see the consortium too, and not another prefecture's plans
        assert partnerships.load(session, niigata, consortium["partnership"]).user_state == "accepted"
        with pytest.raises(plans.PlanNotFound):
            plans.load_plan(session, niigata, world.drafts["20"])


def test_the_prefecture_reads_the_consortium_and_cannot_act_on_it(world, consortium):
    with Session(world.engine) as session:
        pref20 = _user(session, "pref20")
        loaded = plans.load_plan(session, pref20, consortium["plan"])
        assert loaded.full and not loaded.runs(pref20)
        scenario = session.get(Scenario, consortium["scenario"])
        assert access.sees_scenario(pref20, scenario) and not access.edits_scenario(pref20, scenario)
        release = session.get(PlanRelease, consortium["release"])
        with pytest.raises(answers.AnswerError, match="権限"):
            answers.remind(session, pref20, release, loaded.view)
        with pytest.raises(plan_lifecycle.LifecycleError, match="権限"):
            plan_lifecycle.withdraw(session, pref20, release, reason="県が取り下げ")
        session.rollback()
        assert session.get(PlanRelease, consortium["release"]).state == "published"
        assert consortium["partnership"] in {p.id for p, _b, _s in partnerships.visible(session, pref20)}
        with pytest.raises(partnerships.PartnershipError):
            partnerships.invite(session, pref20, partnerships.load(session, pref20, consortium["partnership"]).row, [])
        session.rollback()


def test_other_prefectures_and_the_decliner_see_nothing(world, consortium):
    with Session(world.engine) as session:
        for username in ("pref15", "muni202011"):
            user = _user(session, username)
            with pytest.raises(plans.PlanNotFound) as refused:
                plans.load_plan(session, user, consortium["plan"])
            assert refused.value.refused
            assert consortium["scenario"] not in {s.id for s in session.exec(access.visible_scenarios(user))}
        with pytest.raises(partnerships.PartnershipNotFound):
            partnerships.load(session, _user(session, "pref15"), consortium["partnership"])
        # the decliner still sees the consortium it declined (its own answer), never its plans
        assert partnerships.load(session, _user(session, "muni202011"), consortium["partnership"]).user_state == (
            "declined"
        )


def test_answers_are_given_once_by_the_invitees_own_staff_and_audited(world, consortium):
    with Session(world.engine) as session:
        p = partnerships.load(session, _user(session, "muni202029"), consortium["partnership"]).row
        with pytest.raises(partnerships.PartnershipConflict, match="回答済み"):
            partnerships.respond(session, _user(session, "muni204820"), p, accept=False)
        with pytest.raises(partnerships.PartnershipError):
            partnerships.respond(session, _user(session, "muni202029"), p, accept=True)  # the lead is not invited
        session.rollback()
        entries = session.exec(
            select(AuditLog).where(AuditLog.entity == "partnership", AuditLog.entity_id == str(p.id))
        ).all()
        assert sorted(e.action for e in entries) == [
            "create",
            "invitation_accepted",
            "invitation_accepted",
            "invitation_refused",
            "invite",
            "invite",
            "invite",
        ]
        decline = next(e for e in entries if e.action == "invitation_refused")
        assert decline.before == {"body": NAGANO_CITY, "state": "invited"}
        assert decline.after == {"body": NAGANO_CITY, "state": "declined"}
        # the lead invites the decliner again: it is asked anew
        lead = _user(session, "muni202029")
        invited, kept = partnerships.invite(session, lead, p, [NAGANO_CITY, OTARI])
        session.commit()
        assert [b.code for b in invited] == [NAGANO_CITY] and kept == ["小谷村（参加）"]
        state = session.exec(
            select(PartnershipMember.state).where(
                PartnershipMember.partnership_id == p.id, PartnershipMember.body_code == NAGANO_CITY
            )
        ).one()
        assert state == "invited"
