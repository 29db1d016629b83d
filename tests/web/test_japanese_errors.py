"""Issue #15 point 3 for refusals: every JSON error of the API and every error page speaks Japanese (a machine-readable
code rides beside the message), never werkzeug's English default texts."""

from __future__ import annotations

import re

import pytest

from tests.support.web import login, logout

JAPANESE = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]")
WERKZEUG_ENGLISH = ("The requested URL", "The method is not allowed", "You don't have", "Bad Request", "Not Found")


def assert_japanese_json(r, status: int, code: str) -> dict:
    body = r.get_json()
    assert r.status_code == status and body["status"] == status and body["code"] == code, body
    assert JAPANESE.search(body["error"]), body
    text = " ".join(str(v) for v in body.values())
    assert not any(e in text for e in WERKZEUG_ENGLISH), body
    return body


def test_every_api_refusal_is_japanese_with_a_code(client, planned):
    plan_id, scenario_id = planned["plan_id"], planned["scenario_id"]
    assert_japanese_json(client.get("/api/plans"), 401, "login_required")
    login(client, "pref15")
    # refused ids are answered as missing ones (ids cannot be probed)
    assert_japanese_json(client.get(f"/api/plans/{plan_id}"), 404, "not_found")
    assert_japanese_json(client.get(f"/api/scenarios/{scenario_id}/status"), 404, "not_found")
    logout(client)
    login(client, "pref20")
    assert "9999" in assert_japanese_json(client.get("/api/plans/9999"), 404, "not_found")["error"]
    assert_japanese_json(client.get(f"/api/plans/{plan_id}/groups/none"), 404, "not_found")
    assert_japanese_json(client.get("/api/scenarios/9999/status"), 404, "not_found")
    assert "page" in assert_japanese_json(client.get("/api/plans?page=x"), 400, "bad_request")["error"]
    assert_japanese_json(client.get("/api/plans?scenario_id=-1"), 400, "bad_request")
    assert_japanese_json(client.get("/api/no-such-thing"), 404, "not_found")  # no route: the app's handler
    assert_japanese_json(client.post("/api/plans"), 405, "method_not_allowed")


def test_an_unexpected_failure_is_a_japanese_500(app, client, planned, monkeypatch):
    from planner.services import plans as svc

    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(svc, "list_plans", broken)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    login(client, "pref20")
    body = assert_japanese_json(client.get("/api/plans"), 500, "server_error")
    assert "database" not in str(body)
    page = client.get("/plans/")
    assert page.status_code == 500
    html = page.get_data(as_text=True)
    assert "システムエラーが発生しました" in html and "database" not in html and "Internal Server Error" not in html


@pytest.mark.parametrize(
    ("user", "url", "status", "title"),
    [
        ("pref20", "/no-such-page", 404, "ページが見つかりません"),
        ("pref20", "/plans/9999", 404, "ページが見つかりません"),
        ("muni202011", "/admin/users", 403, "権限がありません"),
        ("pref15", "/scenarios/9999", 404, "ページが見つかりません"),
    ],
)
def test_error_pages_are_japanese(client, seed, user, url, status, title):
    login(client, user)
    r = client.get(url)
    html = r.get_data(as_text=True)
    assert r.status_code == status and title in html
    assert not any(e in html for e in WERKZEUG_ENGLISH)
