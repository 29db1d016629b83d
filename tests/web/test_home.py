"""The home page: each role's dashboard shows its own data and nothing of other prefectures or bodies."""

from __future__ import annotations

from sqlmodel import Session

from planner.db.models import Need
from tests.support.web import login


def add_need(app, body_code, category_id="ai_ocr", status="active", volume=100.0):
    with Session(app.extensions["db_engine"]) as session:
        session.add(Need(body_code=body_code, category_id=category_id, volume=volume, start_year=2026, status=status))
        session.commit()


def first_category(app) -> str:
    from sqlmodel import select

    from planner.db.models import Category

    with Session(app.extensions["db_engine"]) as session:
        return session.exec(select(Category).order_by(Category.sort_order, Category.id)).first().id


def test_anonymous_is_sent_to_login(client, seed):
    response = client.get("/home")
    assert response.status_code == 302
    assert "/login" in response.headers["Location"]


def test_login_lands_on_home(client, seed):
    response = login(client, "muni202011")
    assert response.headers["Location"].endswith("/home")
    assert client.get("/").headers["Location"].endswith("/home")


def test_municipality_sees_its_body_and_need_counts(app, client, seed):
    cat = first_category(app)
    add_need(app, "202011", cat)
    add_need(app, "202011", cat, status="withdrawn")
    add_need(app, "202029", cat)  # another body's need is not counted
    login(client, "muni202011")
    html = client.get("/home").get_data(as_text=True)
    assert "長野市" in html and "202011" in html
    assert '登録中のニーズ</dt><dd class="num-inline">1件' in html
    assert '取下げ済み</dt><dd class="num-inline">1件' in html
    assert "まだ長野市を含む計画はありません" in html
    assert "松本市" not in html


def test_prefecture_sees_its_prefecture_counts_only(app, client, seed):
    cat = first_category(app)
    add_need(app, "202011", cat)
    add_need(app, "202029", cat)
    add_need(app, "151009", cat)  # 新潟県
    login(client, "pref20")
    response = client.get("/home")
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "長野県の団体" in html
    assert "分野別の登録状況" in html
    # two bodies, two needs for the category in 長野県; 新潟市's need is not counted
    assert '<td class="num">2</td><td class="num">2</td>' in html
    assert "団体データの状況" in html


def test_admin_sees_reference_data_users_and_audit(app, client, seed):
    login(client, "admin")
    html = client.get("/home").get_data(as_text=True)
    assert seed["price_book_version"] in html
    assert "補助制度ルール" in html
    assert "利用者" in html and "都道府県担当者" in html
    assert "ログイン" in html  # the admin's own login is in the recent audit entries


def test_municipality_sees_its_consortium_in_the_latest_plan(app, client, seed, solver):
    from tests.support.plans import add_needs, make_scenario, publish_now, solve_now

    engine = app.extensions["db_engine"]
    add_needs(engine)
    plan_id = solve_now(engine, make_scenario(engine))
    login(client, "muni202011")
    html = client.get("/home").get_data(as_text=True)
    assert f"/plans/{plan_id}/body/202011" not in html  # a draft (試算) is not shown to members
    publish_now(engine, plan_id)
    html = client.get("/home").get_data(as_text=True)
    assert "回答をお願いしている計画" in html and "計画 No.1 第1版" in html
    assert "最新の共同調達計画での参加グループ" in html
    assert f"/plans/{plan_id}/body/202011" in html
    assert "AI-OCR" in html and "RPA" in html
    assert "計画はありません" not in html


def test_prefecture_home_lists_its_scenarios_not_others(app, client, seed):
    from tests.support.plans import make_scenario

    engine = app.extensions["db_engine"]
    make_scenario(engine, prefecture="20", name="長野の案")
    make_scenario(engine, prefecture="15", name="新潟の案")
    login(client, "pref20")
    html = client.get("/home").get_data(as_text=True)
    assert "長野の案" in html and "新潟の案" not in html
