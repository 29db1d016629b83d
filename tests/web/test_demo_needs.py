"""Demo needs and users' needs: marked and filterable in the list, and each scenario says which it plans and how
many of the other kind it leaves out (issue #15 point 1, issue #12: the demo never mixes with a user's needs)."""

from __future__ import annotations

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
