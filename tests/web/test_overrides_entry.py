"""Overrides as a coordinator enters them (issue #15 point 7): refused at entry when the run would refuse them, a
copy not yet run offers its source plan's groups, re-planning a copy is opt-in, groups show their start year, and
the copy links to the comparison with the plan it came from."""

from __future__ import annotations

from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario
from planner.services.plans import plan_view
from tests.support.plans import NEEDS, add_needs, make_scenario, solve_now
from tests.support.web import login


def engine_of(app):
    return app.extensions["db_engine"]


def override(client, scenario_id, **values):
    data = {
        "kind": "together",
        "category": "ocr",
        "body_a": "202011",
        "body_b": "204820",
        "group_key": "",
        "version": "1",
        **values,
    }
    response = client.post(f"/scenarios/{scenario_id}/overrides", data=data)
    assert response.status_code == 302
    return client.get(response.headers["Location"]).get_data(as_text=True)


def test_together_with_different_start_years_is_refused_at_entry(app, client, seed):
    rows = [r if r[:2] != ("204820", "ocr") else ("204820", "ocr", 5.0, 2027, True, True, False) for r in NEEDS]
    add_needs(engine_of(app), rows)
    scenario_id = make_scenario(engine_of(app))
    login(client, "pref20")
    page = override(client, scenario_id)
    assert (
        "長野市（令和8年度開始）と小谷村（令和9年度開始）は導入希望年度が異なるため、同じグループにできません" in page
    )
    page = override(client, scenario_id, category="genai", body_b="202029")  # 長野市 has no 生成AI need
    assert "長野市には、このシナリオで計画する分野「生成AI（職員利用）」の登録中のニーズがありません" in page
    with Session(engine_of(app)) as s:
        assert (
            s.get(Scenario, scenario_id).overrides.get("items", []) == [] and s.get(Scenario, scenario_id).version == 1
        )


def test_replan_is_not_ticked_by_default(app, client, seed):
    add_needs(engine_of(app))
    scenario_id = make_scenario(engine_of(app))
    login(client, "pref20")
    page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    tag = page.split('id="replan"')[0].rsplit("<input", 1)[1] + page.split('id="replan"')[1].split(">", 1)[0]
    assert "checked" not in tag


def test_a_copy_not_yet_run_fixes_to_a_group_of_its_source_plan_and_links_the_comparison(app, client, seed, solver):
    engine = engine_of(app)
    add_needs(engine)
    scenario_id = make_scenario(engine)
    plan_id = solve_now(engine, scenario_id)
    with Session(engine) as s:
        view = plan_view(s.get(PlanRow, plan_id))
    group = next(g for g in view.groups if g.joint and g.group.category == "ocr")
    member = group.members[0].body_code
    login(client, "pref20")
    source_page = client.get(f"/scenarios/{scenario_id}").get_data(as_text=True)
    assert f"{group.lead_name}（令和8年度開始、" in source_page
    copy_id = int(client.post(f"/scenarios/{scenario_id}/copy").headers["Location"].rstrip("/").split("/")[-1])
    page = client.get(f"/scenarios/{copy_id}").get_data(as_text=True)
    assert f"複製元の計画 {plan_id} のグループ" in page and f'value="{group.id}"' in page
    assert f"計画が完了すると、ここから元の計画（計画 {plan_id}）と比較できます" in page
    page = override(client, copy_id, kind="fix_group", body_a=member, body_b="", group_key=group.id)
    assert "上書き設定を追加しました" in page
    with Session(engine) as s:
        (item,) = s.get(Scenario, copy_id).overrides["items"]
        assert (item["kind"], item["mode"], item["lead_body"]) == ("fix_group", group.group.mode, group.group.lead_body)
    new_plan = solve_now(engine, copy_id)
    page = client.get(f"/scenarios/{copy_id}").get_data(as_text=True)
    link = f"/plans/compare?a={plan_id}&amp;b={new_plan}"
    assert "元の計画と比較" in page and link in page
    assert client.get(link.replace("&amp;", "&")).status_code == 200
