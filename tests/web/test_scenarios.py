"""Scenario pages through the test client: each role's workflow, forbidden attempts, audit, the job from the web."""

from __future__ import annotations

import re
import time

from sqlmodel import Session, select

from planner.db.models import AuditLog, Scenario
from planner.db.models import Plan as PlanRow
from tests.support.plans import (
    add_needs,
    install_standins,
    make_scenario,
    solve_now,
    wait_for,
)
from tests.support.web import login, logout


def engine_of(app):
    return app.extensions["db_engine"]


def audit_actions(app, entity="scenario"):
    with Session(engine_of(app)) as session:
        return [
            (a.action, a.entity_id, a.detail)
            for a in session.exec(select(AuditLog).where(AuditLog.entity == entity).order_by(AuditLog.id))
        ]


def scenario_form(**overrides):
    data = {
        "name": "長野県 AI-OCR 共同化",
        "prefecture_code": "20",
        "body_codes": "",
        "fiscal_year": "2026",
        "horizon_years": "5",
        "geography_type": "same_prefecture",
        "radius_km": "",
        "prefecture_as_host": "y",
        "extra_hosts": "",
        "allocation_method": "formula",
        "weight_equal": "10",
        "weight_population": "90",
        "weight_volume": "0",
        "time_limit_seconds": "20",
    }
    data.update(overrides)
    return data


def with_books(client, data):
    """Fill the price book and rule set selects with what the form offers."""
    page = client.get("/scenarios/new").get_data(as_text=True)
    for name in ("price_book_id", "subsidy_rule_set_id"):
        if name not in data:
            m = re.search(rf'<select[^>]*name="{name}"[^>]*>(.*?)</select>', page, re.S)
            options = re.findall(r'<option[^>]*value="([^"]*)"[^>]*selected', m.group(1)) or re.findall(
                r'<option[^>]*value="([^"]*)"', m.group(1)
            )
            data[name] = options[0]
    return data


def test_coordinator_creates_a_scenario_runs_it_and_sees_the_plan(app, client, seed, solver):
    add_needs(engine_of(app))
    login(client, "pref20")
    r = client.get("/scenarios/new")
    assert r.status_code == 200 and "新しいシナリオ" in r.get_data(as_text=True)
    r = client.post("/scenarios/new", data=with_books(client, scenario_form()))
    assert r.status_code == 302
    scenario_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    with Session(engine_of(app)) as session:
        s = session.get(Scenario, scenario_id)
        assert s.prefecture_code == "20" and s.status == "draft" and s.price_book_id
        assert s.hosts == [{"body": "200000", "categories": []}]
        assert s.allocation_weights == {"equal": 0.1, "population": 0.9, "volume": 0.0}
    assert f'href="/scenarios/{scenario_id}"' in client.get("/scenarios/").get_data(as_text=True)

    r = client.post(f"/scenarios/{scenario_id}/run")
    assert r.status_code == 302
    done = wait_for(engine_of(app), scenario_id, ("done", "failed"))
    assert done.status == "done", done.log
    page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    assert "計画を見る" in page and "完了" in page and "scenario-progress.js" in page
    status = client.get(f"/api/scenarios/{scenario_id}/status").get_json()
    assert status["status"] == "done" and status["plan_url"] == f"/plans/{done.progress['plan_id']}"
    assert client.get(status["plan_url"]).status_code == 200
    actions = [a for a, _, _ in audit_actions(app)]
    assert actions == ["create", "run"]


def test_form_errors_are_shown_and_nothing_is_saved(app, client, seed):
    login(client, "pref20")
    bad = with_books(client, scenario_form(weight_population="80"))
    r = client.post("/scenarios/new", data=bad)
    assert r.status_code == 400 and "合計を100%にしてください（現在 90%）" in r.get_data(as_text=True)
    r = client.post("/scenarios/new", data=with_books(client, scenario_form(geography_type="radius_km")))
    assert "半径（km）を入力してください" in r.get_data(as_text=True)
    r = client.post("/scenarios/new", data=with_books(client, scenario_form(body_codes="202011, 15100")))
    assert "団体コードは6桁の数字です: 15100" in r.get_data(as_text=True)
    r = client.post("/scenarios/new", data=with_books(client, scenario_form(body_codes="202011 151009")))
    assert r.status_code == 400 and "対象都道府県以外の団体が含まれています: 151009" in r.get_data(as_text=True)
    # A coordinator cannot plan for another prefecture (the choice is not even offered).
    r = client.post("/scenarios/new", data=with_books(client, scenario_form(prefecture_code="15")))
    assert r.status_code == 400
    with Session(engine_of(app)) as session:
        assert session.exec(select(Scenario)).all() == []


def test_edit_with_a_stale_version_is_refused(app, client, seed):
    scenario_id = make_scenario(engine_of(app))
    login(client, "pref20")
    page = client.get(f"/scenarios/{scenario_id}/edit").get_data(as_text=True)
    assert 'value="1"' in page
    data = with_books(client, scenario_form(name="新しい名前", version="1"))
    assert client.post(f"/scenarios/{scenario_id}/edit", data=data).status_code == 302
    r = client.post(f"/scenarios/{scenario_id}/edit", data={**data, "name": "上書きしようとした名前"})
    assert r.status_code == 409 and "もう一度読み込んでください" in r.get_data(as_text=True)
    with Session(engine_of(app)) as session:
        s = session.get(Scenario, scenario_id)
        assert s.name == "新しい名前" and s.version == 2
    ((action, _, _),) = audit_actions(app)
    assert action == "update"
    with Session(engine_of(app)) as session:
        log = session.exec(select(AuditLog).where(AuditLog.action == "update")).one()
        assert log.before["name"] == "長野県 共同調達 令和8年度" and log.after["name"] == "新しい名前"


def test_other_prefectures_and_municipalities_are_forbidden(app, client, seed):
    scenario_id = make_scenario(engine_of(app))
    login(client, "pref15")
    # another prefecture's scenario is answered as a missing one (ids cannot be probed)
    assert client.get(f"/scenarios/{scenario_id}").status_code == 404
    assert client.post(f"/scenarios/{scenario_id}/run").status_code == 404
    assert client.post(f"/scenarios/{scenario_id}/delete").status_code == 404
    assert client.get(f"/api/scenarios/{scenario_id}/status").status_code == 404
    assert "長野県" not in client.get("/scenarios/").get_data(as_text=True)
    logout(client)
    login(client, "muni202011")
    assert client.get("/scenarios/").status_code == 403
    # a municipality's staff see their consortia's scenarios only: any other is answered as a missing one
    assert client.get(f"/scenarios/{scenario_id}").status_code == 404
    with Session(engine_of(app)) as session:
        assert session.get(Scenario, scenario_id).status == "draft"
        forbidden = session.exec(select(AuditLog).where(AuditLog.action == "forbidden")).all()
        assert len(forbidden) >= 4
    logout(client)
    login(client, "admin")
    assert client.get(f"/scenarios/{scenario_id}").status_code == 200


def test_overrides_copy_and_delete(app, client, seed, solver):
    engine = engine_of(app)
    add_needs(engine)
    scenario_id = make_scenario(engine)
    login(client, "pref20")
    form = {
        "kind": "together",
        "category": "ocr",
        "body_a": "202011",
        "body_b": "204820",
        "group_key": "",
        "version": "1",
    }
    r = client.post(f"/scenarios/{scenario_id}/overrides", data=form)
    assert r.status_code == 302
    page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    assert "長野市と小谷村を同じグループにする" in page
    r = client.post(f"/scenarios/{scenario_id}/overrides", data={**form, "body_b": "202011", "version": "2"})
    assert "異なる2団体を選んでください" in client.get(r.headers["Location"]).get_data(as_text=True)
    with Session(engine) as session:
        s = session.get(Scenario, scenario_id)
        (item,) = s.overrides["items"]
        assert item["bodies"] == ["202011", "204820"] and s.version == 2

    r = client.post(f"/scenarios/{scenario_id}/copy")
    copy_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    with Session(engine) as session:
        clone = session.get(Scenario, copy_id)
        assert clone.name.endswith("（複製）") and clone.overrides["items"] == [item]
        assert clone.overrides["copied_from"] == scenario_id

    r = client.post(f"/scenarios/{scenario_id}/overrides/{item['id']}/delete", data={"version": "2"})
    assert r.status_code == 302
    with Session(engine) as session:
        assert session.get(Scenario, scenario_id).overrides["items"] == []

    solve_now(engine, copy_id)
    assert client.post(f"/scenarios/{copy_id}/delete").status_code == 302
    with Session(engine) as session:
        assert session.get(Scenario, copy_id) is None
        assert session.exec(select(PlanRow)).all() == []
    actions = [(a, d) for a, _, d in audit_actions(app)]
    assert [a for a, _ in actions] == ["update", "create", "update", "delete"]
    assert "上書き設定を追加" in actions[0][1] and "計画 1 件を削除" in actions[3][1]


def test_cancel_from_the_page(app, client, seed, monkeypatch):
    from tests.web.test_jobs import slow_optimise

    engine = engine_of(app)
    add_needs(engine)
    install_standins(monkeypatch, optimise=slow_optimise)
    monkeypatch.setattr("planner.jobs.runner.HEARTBEAT_SECONDS", 0.2)
    scenario_id = make_scenario(engine)
    login(client, "pref20")
    client.post(f"/scenarios/{scenario_id}/run")
    deadline = time.monotonic() + 20
    while client.get(f"/api/scenarios/{scenario_id}/status").get_json().get("done") in (None, 0):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    assert 'data-active="true"' in page and "中止" in page
    assert client.post(f"/scenarios/{scenario_id}/run").status_code == 302  # refused: already running
    r = client.post(f"/scenarios/{scenario_id}/cancel")
    assert r.status_code == 302
    s = wait_for(engine, scenario_id, ("cancelled", "failed", "done"), timeout=20)
    assert s.status == "cancelled" and "中止を要求しました" in s.log
    assert [a for a, _, _ in audit_actions(app)] == ["run", "cancel"]


def test_stale_running_scenario_is_marked_failed_when_viewed(app, client, seed):
    engine = engine_of(app)
    scenario_id = make_scenario(engine)
    with Session(engine) as session:
        s = session.get(Scenario, scenario_id)
        s.status, s.job_id = "running", "dead-worker"
        s.progress = {"runner": "rq", "heartbeat": "2020-01-01T00:00:00", "phase": "solving"}
        session.add(s)
        session.commit()
    login(client, "pref20")
    status = client.get(f"/api/scenarios/{scenario_id}/status").get_json()
    assert status["status"] == "failed" and "応答が途絶えました" in status["error"]
    with Session(engine) as session:
        assert session.exec(select(PlanRow)).all() == []


def test_new_scenarios_follow_a_stated_rule_by_default_and_can_choose_adjust_or_report(app, client, seed):
    login(client, "pref20")
    page = client.get("/scenarios/new").get_data(as_text=True)
    select = re.search(r'<select[^>]*name="allocation_core".*?</select>', page, re.S).group(0)
    assert re.search(r'<option selected value="rule">協定書に書ける割合で按分（既定）', select) or re.search(
        r'<option value="rule" selected>', select
    )
    ids = []
    for extra in ({}, {"allocation_core": "adjust"}, {"allocation_core": "report"}):
        r = client.post("/scenarios/new", data=with_books(client, scenario_form(**extra)))
        assert r.status_code == 302
        ids.append(int(r.headers["Location"].rstrip("/").split("/")[-1]))
    with Session(engine_of(app)) as session:
        assert [session.get(Scenario, i).allocation_core for i in ids] == ["rule", "adjust", "report"]
    from planner.services.instances import build_instance_with_notes

    with Session(engine_of(app)) as session:
        assert build_instance_with_notes(session, session.get(Scenario, ids[0])).instance.allocation.core == "rule"


def test_the_lead_rules_are_saved_and_reach_the_instance(app, client, seed):
    login(client, "pref20")
    page = client.get("/scenarios/new").get_data(as_text=True)
    assert "幹事は補助対象団体に限る" in page and "幹事事務費" in page and "取りまとめ事務費" in page
    form = scenario_form(lead_must_be_grant_eligible="y", lead_work_lead_yen="300000", lead_work_unified_yen="100000")
    r = client.post("/scenarios/new", data=with_books(client, form))
    assert r.status_code == 302
    sid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    from planner.services.instances import build_instance_with_notes

    with Session(engine_of(app)) as session:
        s = session.get(Scenario, sid)
        assert (s.lead_must_be_grant_eligible, s.lead_work_lead_yen, s.lead_work_unified_yen) == (True, 300000, 100000)
        spec = build_instance_with_notes(session, s).instance.allocation
        assert spec.lead_must_be_grant_eligible and dict(spec.lead_work_annual_yen) == {
            "lead": 300000,
            "unified": 100000,
        }
    bad = client.post("/scenarios/new", data=with_books(client, scenario_form(lead_work_lead_yen="-5")))
    assert bad.status_code == 400 and "0 以上 10億 以下の円で入力してください。" in bad.get_data(as_text=True)


def test_a_group_size_cap_on_the_form_bounds_every_joint_group_and_shows_in_the_summary(app, client, seed, solver):
    from planner.db.models import Plan as PlanRow
    from planner.services.instances import build_instance

    add_needs(engine_of(app))
    login(client, "pref20")
    refused = client.post("/scenarios/new", data=with_books(client, scenario_form(max_members="1")))
    assert refused.status_code == 400
    assert "1グループの上限団体数は2〜500の整数で入力してください" in refused.get_data(as_text=True)

    r = client.post("/scenarios/new", data=with_books(client, scenario_form(max_members="2", fiscal_year="2027")))
    assert r.status_code == 302
    scenario_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    assert "<th>1グループの上限団体数</th><td>2 団体" in page
    # the base year changes no figure, so the summary does not present it as the start of the period
    assert "各グループの導入年度から 5 年間" in page and "令和9年度（2027年度・記録用。計算結果は変わりません）" in page
    assert "令和9年度から" not in page
    edit = client.get(f"/scenarios/{scenario_id}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*name="max_members"[^>]*value="2"', edit)

    engine = engine_of(app)
    with Session(engine) as session:
        instance = build_instance(session, session.get(Scenario, scenario_id))
    for category in instance.categories.values():
        for mode in ("lead", "unified"):
            assert category.price(mode).max_members == 2
    plan_id = solve_now(engine, scenario_id)
    with Session(engine) as session:
        doc = session.get(PlanRow, plan_id).plan_doc
    joint = [g for g in doc["groups"] if g["mode"] != "standalone"]
    assert joint and max(len(g["members"]) for g in joint) == 2


def test_no_cap_leaves_the_price_books_own_max_members(app, client, seed):
    from planner.services.instances import build_instance

    engine = engine_of(app)
    scenario_id = make_scenario(engine)
    with Session(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        assert scenario.max_members is None
        uncapped = build_instance(session, scenario)
    assert all(c.price(m).max_members != 2 for c in uncapped.categories.values() for m in ("lead", "unified"))
