"""Input typed into a form survives a login that expired before it was saved (#31 item 1): the post is refused as
before (nothing saved), and after signing in again the same form comes back filled with what was typed."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import MemberAnswer, Need, Scenario, User
from planner.services import answers as answer_svc
from planner.services import plan_lifecycle as lifecycle
from planner.services.users import end_sessions
from tests.support.web import PASSWORD, csrf_token_from

FROM_THIS_SITE = {"Origin": "http://localhost"}  # what a browser sends with a form posted from our own page


@pytest.fixture
def app_config():
    return {"WTF_CSRF_ENABLED": True, "BUILD_DOCUMENTS_ON_PUBLISH": False}


def _login(client, username, next_path=None):
    token = csrf_token_from(client.get("/login").get_data(as_text=True))
    url = "/login" + (f"?next={next_path}" if next_path else "")
    response = client.post(url, data={"username": username, "password": PASSWORD, "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)
    return response


def _token(client, path):
    return csrf_token_from(client.get(path).get_data(as_text=True))


def _session_cookie_expires(app, client):
    """What the browser does when the idle limit passes: the session cookie is gone."""
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])


def test_a_scenario_form_posted_after_the_session_expired_comes_back_filled_after_login(app, client, seed):
    _login(client, "pref20")
    token = _token(client, "/scenarios/new")
    _session_cookie_expires(app, client)
    typed = {
        "csrf_token": token,
        "name": "期限切れの後に保存したシナリオ（AI-OCR）",
        "prefecture_code": "20",
        "body_codes": "202011, 202029",
        "fiscal_year": "2027",
        "horizon_years": "7",
        "geography_type": "radius_km",
        "radius_km": "45",
        "allocation_method": "formula",
        "weight_equal": "30",
        "weight_population": "70",
        "weight_volume": "0",
        "time_limit_seconds": "90",
    }
    refused = client.post("/scenarios/new", data=typed, headers=FROM_THIS_SITE)
    assert refused.status_code == 302 and "/login?next=/scenarios/new" in refused.headers["Location"]
    login_page = client.get(refused.headers["Location"]).get_data(as_text=True)
    assert "入力した内容はまだ保存されていません" in login_page

    back = _login(client, "pref20", next_path="/scenarios/new")
    assert back.headers["Location"] == "/scenarios/new"
    form = client.get("/scenarios/new").get_data(as_text=True)
    assert "前回入力した内容を戻しました。まだ保存されていません" in form
    assert 'value="期限切れの後に保存したシナリオ（AI-OCR）"' in form
    assert "202011, 202029" in form
    for name, value in (("fiscal_year", "2027"), ("horizon_years", "7"), ("radius_km", "45"), ("weight_equal", "30")):
        assert re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"', form), name
    assert re.search(r'<option selected value="radius_km">', form)
    with Session(app.extensions["db_engine"]) as session:
        assert session.exec(select(Scenario)).all() == []  # nothing was saved behind the person's back

    # given back once: the next visit is an empty form again
    again = client.get("/scenarios/new").get_data(as_text=True)
    assert "期限切れの後に保存したシナリオ" not in again and "前回入力した内容" not in again


def test_a_need_posted_after_a_logout_elsewhere_comes_back_filled_and_only_to_the_same_user(app, client, seed):
    engine = app.extensions["db_engine"]
    _login(client, "muni202011")
    token = _token(client, "/needs/new")
    with Session(engine) as session:  # signed out on another device: this cookie's login is over
        end_sessions(session.exec(select(User).where(User.username == "muni202011")).one())
        session.commit()
    data = {
        "csrf_token": token,
        "body_code": "202011",
        "category_id": "ocr",
        "volume": "3,456",
        "start_year": "2027",
        "accepts_lead": "y",
        "notes": "申請書（紙）の読取り",
    }
    refused = client.post("/needs/new", data=data, headers=FROM_THIS_SITE)
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    with Session(engine) as session:
        assert session.exec(select(Need)).all() == []

    # someone else signing in on this browser does not get the draft
    other = app.test_client()
    other.set_cookie(app.config["SESSION_COOKIE_NAME"], client.get_cookie(app.config["SESSION_COOKIE_NAME"]).value)
    _login(other, "muni202029", next_path="/needs/new")
    assert "申請書（紙）の読取り" not in other.get("/needs/new").get_data(as_text=True)

    _login(client, "muni202011", next_path="/needs/new")
    form = client.get("/needs/new").get_data(as_text=True)
    assert "前回入力した内容を戻しました" in form
    assert "申請書（紙）の読取り" in form and 'value="3,456"' in form


def test_an_answer_posted_after_logout_is_kept_for_the_answer_form(app, client, planned):
    plan_id = planned["view"].id
    _login(client, "pref20")
    token = _token(client, f"/plans/{plan_id}")
    assert (
        client.post(
            f"/plans/{plan_id}/adopt", data={"confirm_rule_year": "1", "series": "new", "csrf_token": token}
        ).status_code
        == 302
    )
    deadline = lifecycle.today_jst() + timedelta(days=10)
    published = client.post(f"/plans/{plan_id}/publish", data={"deadline": deadline.isoformat(), "csrf_token": token})
    assert published.status_code == 302
    client.delete_cookie(app.config["SESSION_COOKIE_NAME"])

    _login(client, "muni202011")
    token = _token(client, f"/plans/{plan_id}/answer")
    lines = answer_svc.need_lines(planned["view"], "202011")
    data = {"csrf_token": token}
    for line in lines:
        data[f"answer-{line.need_key}"] = "conditional"
        data[f"comment-{line.need_key}"] = "議会の承認が条件（6月補正）"
    _session_cookie_expires(app, client)
    refused = client.post(f"/plans/{plan_id}/answer", data=data, headers=FROM_THIS_SITE)
    assert refused.status_code == 302 and "/login" in refused.headers["Location"]
    with Session(app.extensions["db_engine"]) as session:
        assert session.exec(select(MemberAnswer)).all() == []

    _login(client, "muni202011", next_path=f"/plans/{plan_id}/answer")
    page = client.get(f"/plans/{plan_id}/answer").get_data(as_text=True)
    assert "まだ保存されていません" in page
    assert page.count("議会の承認が条件（6月補正）") == len(lines)


def test_a_form_posted_from_another_site_is_not_kept(app, client, seed):
    """Otherwise another site could post words into a signed-out visitor's browser to be shown back in our form."""
    refused = client.post(
        "/scenarios/new",
        data={"name": "他サイトからの投稿", "fiscal_year": "2027"},
        headers={"Origin": "https://evil.example"},
    )
    assert refused.status_code == 400
    _login(client, "pref20", next_path="/scenarios/new")
    assert "他サイトからの投稿" not in client.get("/scenarios/new").get_data(as_text=True)
