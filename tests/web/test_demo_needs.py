"""Demo needs and users' needs: marked and filterable in the list, and each scenario says which it plans and how
many of the other kind it leaves out (issue #15 point 1, issue #12: the demo never mixes with a user's needs)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from planner.db.models import Need, Scenario
from planner.services.instances import build_instance, need_scope
from tests.support.web import login

WEIGHTS = {"equal": 0.1, "population": 0.9, "volume": 0.0}


@pytest.fixture
def world(app, seed):
    engine = app.extensions["db_engine"]
    with Session(engine) as s:
        needs = [
            Need(body_code="202011", category_id="ocr", volume=10, start_year=2026, is_demo=True),
            Need(body_code="202029", category_id="ocr", volume=20, start_year=2026, is_demo=True),
            Need(body_code="204820", category_id="speech", volume=5, start_year=2026),
        ]
        demo = Scenario(name="【デモ】長野県", prefecture_code="20", is_demo=True, allocation_weights=WEIGHTS)
        mine = Scenario(name="長野県 本番", prefecture_code="20", allocation_weights=WEIGHTS)
        s.add_all([*needs, demo, mine])
        s.commit()
        return {"demo": demo.id, "mine": mine.id, "needs": [n.id for n in needs]}


def test_list_marks_demo_needs_explains_and_filters(app, client, world):
    login(client, "pref20")
    page = client.get("/needs/").get_data(as_text=True)
    assert page.count('class="badge badge-demo" title=') == 2
    assert "利用者が登録したニーズ 1 件と、デモのニーズ 2 件" in page
    assert "デモのニーズは【デモ】のシナリオだけが計画し" in page
    users = client.get("/needs/?data=user").get_data(as_text=True)
    table = users.split("<table")[1]
    assert "小谷村" in table and "松本市" not in table and "1 件" in users
    assert "この条件のデモのニーズ 2 件は表示していません" in users
    demo = client.get("/needs/?data=demo").get_data(as_text=True)
    assert "松本市" in demo and "小谷村" not in demo.split("<table")[1]


def test_export_follows_the_data_filter(app, client, world):
    login(client, "pref20")
    text = client.get("/needs/export.csv?data=demo").get_data(as_text=True)
    assert "202029" in text and "204820" not in text


def test_each_scenario_says_what_it_plans_and_what_it_leaves_out(app, client, world):
    login(client, "pref20")
    mine = client.get(f"/scenarios/{world['mine']}").get_data(as_text=True)
    assert "利用者が登録したニーズ 1 件" in mine and "この地域のデモのニーズ 2 件は計画しません" in mine
    assert "/needs/?data=user" in mine.replace("&amp;", "&")
    demo = client.get(f"/scenarios/{world['demo']}").get_data(as_text=True)
    assert "デモのニーズ 2 件" in demo and "利用者が登録したニーズ 1 件は計画しません" in demo
    # ... and the figures on the page are the needs the solver gets
    with Session(app.extensions["db_engine"]) as s:
        for key, demo_flag in (("mine", False), ("demo", True)):
            scenario = s.get(Scenario, world[key])
            scope = need_scope(s, scenario)
            needs = build_instance(s, scenario).needs
            assert len(needs) == scope.planned and scope.demo is demo_flag


def test_changing_a_demo_need_makes_it_the_users(app, client, world):
    login(client, "muni202011")
    need_id = world["needs"][0]
    page = client.get(f"/needs/{need_id}/edit").get_data(as_text=True)
    assert "このニーズはデモデータです" in page
    response = client.post(
        f"/needs/{need_id}/edit",
        data={
            "body_code": "202011",
            "category_id": "ocr",
            "volume": "12",
            "start_year": "2026",
            "accepts_lead": "y",
            "accepts_unified": "y",
            "notes": "",
            "version": "1",
        },
    )
    assert response.status_code == 302
    with Session(app.extensions["db_engine"]) as s:
        need = s.get(Need, need_id)
        assert need.volume == 12 and not need.is_demo
        assert need_scope(s, s.get(Scenario, world["mine"])).planned == 2


def test_home_matrix_says_how_many_of_the_needs_are_the_demos(client, world):
    login(client, "pref20")
    page = client.get("/home").get_data(as_text=True)
    assert "うちデモ 2" in page and "デモのニーズ 2 件を含みます" in page


def test_a_new_scenario_on_demo_needs_only_says_it_would_plan_none_and_can_include_them(app, client, seed):
    """On the demo every need is a demo need: the form says a new scenario would plan 0 needs and offers the
    checkbox; checked, the scenario plans the demo's needs."""
    from tests.web.test_scenarios import scenario_form, with_books

    engine = app.extensions["db_engine"]
    with Session(engine) as s:
        s.add_all(
            [
                Need(body_code="202011", category_id="ocr", volume=10, start_year=2026, is_demo=True),
                Need(body_code="202029", category_id="ocr", volume=20, start_year=2026, is_demo=True),
            ]
        )
        s.commit()
    login(client, "pref20")
    form = client.get("/scenarios/new").get_data(as_text=True)
    assert "登録中のニーズ（長野県）：利用者が登録したもの 0 件、デモのもの 2 件" in form
    assert "このままでは計画するニーズが 0 件です" in form
    assert 'name="is_demo"' in form and "デモのニーズで計画する" in form

    plain = client.post("/scenarios/new", data=with_books(client, scenario_form(name="利用者のニーズ")))
    included = client.post("/scenarios/new", data=with_books(client, scenario_form(name="デモ込み", is_demo="y")))
    assert plain.status_code == included.status_code == 302
    ids = [int(r.headers["Location"].rstrip("/").split("/")[-1]) for r in (plain, included)]
    with Session(engine) as s:
        scopes = [need_scope(s, s.get(Scenario, i)) for i in ids]
        planned = [len(build_instance(s, s.get(Scenario, i)).needs) for i in ids]
    assert [scope.planned for scope in scopes] == planned == [0, 2]
    edit = client.get(f"/scenarios/{ids[1]}/edit").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="is_demo"|<input[^>]*name="is_demo"[^>]*checked', edit)
