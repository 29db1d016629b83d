"""Hostile input answers a clear 4xx, never a 500, and small leaks are closed (issue #13, points 10 and 11).
Runs on SQLite and, in the PostgreSQL run, on PostgreSQL (where NUL characters and integers beyond 2^31 used to
fail inside the database)."""

from __future__ import annotations

import pytest

from tests.security.conftest import World, login
from tests.support.documents import fetch_zip

HUGE = ("2147483648", "9223372036854775808", "99999999999999999999999")


def client_for(world: World, user: str):
    cache = world.app.extensions.setdefault("leak_clients", {})
    if user not in cache:
        cache[user] = world.app.test_client()
        login(cache[user], user)
    return cache[user]


@pytest.mark.parametrize("number", HUGE)
def test_ids_beyond_the_databases_integers_are_404(world, number):
    client = client_for(world, "admin")
    for path in (
        f"/scenarios/{number}",
        f"/needs/{number}/edit",
        f"/plans/{number}",
        f"/admin/users/{number}",
        f"/plans/{number}/reports/summary.pdf",
        f"/admin/price-books/{number}",
    ):
        assert client.get(path).status_code == 404, path
    r = client.get(f"/api/plans/{number}")
    assert r.status_code == 404 and r.is_json


@pytest.mark.parametrize("number", (*HUGE, "-5", "x", "１２"))
def test_page_numbers_and_filters_beyond_range_never_fail(world, number):
    client = client_for(world, "admin")
    for path in ("/scenarios/", "/needs/", "/plans/", "/bodies", "/admin/audit"):
        assert client.get(f"{path}?page={number}").status_code == 200, path
    assert client.get(f"/admin/audit?user={number}").status_code == 200
    assert client.get(f"/needs/?start_year={number}").status_code == 200
    assert client.get(f"/plans/compare?a={number}&b={number}").status_code in (400, 404)
    r = client.get(f"/api/plans?scenario_id={number}")
    assert r.is_json and r.status_code in (200, 400)
    r = client.get(f"/api/plans?page={number}")
    assert r.is_json and r.status_code in (200, 400)


def test_nul_characters_are_refused_where_they_enter(world):
    client = client_for(world, "admin")
    for path in ("/needs/?q=a%00b", "/bodies?q=%00", "/bodies/20201%00", "/api/plans?prefecture=2%000"):
        r = client.get(path)
        assert r.status_code == 400, path
        assert "NUL" in r.get_data(as_text=True)
    r = client.post("/scenarios/new", data={"name": "a\x00b"})
    assert r.status_code == 400 and "フォーム name" in r.get_data(as_text=True)


def test_a_full_width_prefecture_in_the_bodies_export_is_a_clear_400(world):
    client = client_for(world, "admin")
    r = client.get("/bodies/export.csv?prefecture=２０")
    assert r.status_code == 400 and "半角数字2桁" in r.get_data(as_text=True)
    assert client.get("/bodies/export.csv?prefecture=20").status_code == 200


def test_the_api_answers_json_for_every_error(world, monkeypatch):
    client = client_for(world, "admin")
    for method, path, code in (
        ("GET", "/api/nothing-here", 404),
        ("POST", "/api/plans", 405),
        ("GET", "/api/plans?page=abc", 400),
        ("GET", "/api/plans/1/groups/none", 404),
    ):
        r = client.open(path, method=method)
        assert r.status_code == code and r.is_json and r.get_json().get("error"), (method, path, r.status_code)
    from planner.web import api

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(api.svc, "list_plans", broken)
    monkeypatch.setitem(world.app.config, "PROPAGATE_EXCEPTIONS", False)
    monkeypatch.setattr(world.app, "testing", False)
    r = client.get("/api/plans")
    assert r.status_code == 500 and r.is_json and r.get_json()["error"] == "システムエラーが発生しました"


def test_a_municipality_sees_no_plan_wide_totals_in_the_api(world):
    d = client_for(world, "muni202011").get(f"/api/plans/{world.plans['20']}").get_json()
    assert d["view"] == "body"
    assert not {"objective_yen", "lower_bound_yen", "standalone_total_yen", "gap", "joint_groups"} & set(d)
    assert d["totals"] is None and d["body"]["totals"]
    full = client_for(world, "pref20").get(f"/api/plans/{world.plans['20']}").get_json()
    assert full["objective_yen"] and full["totals"]


def test_report_urls_answer_the_same_for_refused_and_missing_plans(world):
    client = client_for(world, "pref15")
    for suffix in ("reports/summary.pdf", "reports.zip", "reports/group/g.xlsx", "reports/member/n.pdf"):
        refused = client.get(f"/plans/{world.plans['20']}/{suffix}")
        missing = client.get(f"/plans/2147483000/{suffix}")
        assert refused.status_code == missing.status_code == 404, suffix


def test_data_downloads_are_never_stored_by_caches(world):
    plan = world.plans["20"]
    coordinator = client_for(world, "pref20")
    downloads = {
        "API": coordinator.get(f"/api/plans/{plan}"),
        "API status": coordinator.get(f"/api/scenarios/{world.scenarios['20']}/status"),
        "bodies CSV": coordinator.get("/bodies/export.csv"),
        "needs CSV": coordinator.get("/needs/export.csv"),
        "needs XLSX": coordinator.get("/needs/export.xlsx"),
        "summary PDF": coordinator.get(f"/plans/{plan}/reports/summary.pdf"),
        "summary XLSX": coordinator.get(f"/plans/{plan}/reports/summary.xlsx"),
        "ZIP": fetch_zip(coordinator, plan),
    }
    for label, r in downloads.items():
        assert r.status_code == 200, label
        assert r.headers.get("Cache-Control") == "no-store", (label, r.headers.get("Cache-Control"))
