"""Refused ids answer like missing ones, a member's plan list carries only what its plan view carries, and
administrators are made on the command line only (issue 30).

An id the user may not see (another prefecture's scenario, another body's need) gets the same status and the same
words as an id that does not exist, on the pages and the API, so that ids cannot be probed; the refusal is still
logged.
"""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from planner.db.models import User
from planner.services.users import create_user
from tests.security.conftest import PASSWORD, forbidden_count, login

MISSING = 987_654


def _same_but_id(a: str, b: str, id_a: int, id_b: int) -> bool:
    """The two answers say the same, but for the id asked about (pages: the error section, which is all that
    depends on the request; the layout around it can change between two requests, as the login's clock does)."""

    def masked(text: str, id_: int) -> str:
        section = re.search(r'<section class="error-page">.*?</section>', text, re.S)
        return re.sub(rf"(シナリオ |ニーズ |計画 |/){id_}\b", r"\1ID", section.group(0) if section else text)

    return masked(a, id_a) == masked(b, id_b)


@pytest.mark.parametrize(
    "path",
    ["/scenarios/{id}", "/scenarios/{id}/edit", "/scenarios/{id}/quotes", "/api/scenarios/{id}/status"],
)
def test_another_prefectures_scenario_answers_like_a_missing_one(world, client, path):
    login(client, "pref15")
    theirs = world.scenarios["20"]
    before = forbidden_count(world.engine)
    refused = client.get(path.format(id=theirs))
    missing = client.get(path.format(id=MISSING))
    assert refused.status_code == missing.status_code == 404
    if refused.is_json:
        assert missing.is_json
        a, b = refused.get_json(), missing.get_json()
        assert _same_but_id(a.pop("error"), b.pop("error"), theirs, MISSING) and a == b
    else:
        assert _same_but_id(refused.get_data(as_text=True), missing.get_data(as_text=True), theirs, MISSING)
    assert world.names["20"] not in refused.get_data(as_text=True)
    assert forbidden_count(world.engine) == before + 1  # the refusal is still logged


@pytest.mark.parametrize("path", ["/plans/{id}", "/api/plans/{id}", "/plans/{id}/answers"])
def test_another_prefectures_plan_answers_like_a_missing_one(world, client, path):
    login(client, "pref15")
    theirs = world.plans["20"]
    before = forbidden_count(world.engine)
    refused = client.get(path.format(id=theirs))
    missing = client.get(path.format(id=MISSING))
    assert refused.status_code == missing.status_code == 404
    if refused.is_json:
        a, b = refused.get_json(), missing.get_json()
        assert _same_but_id(a.pop("error"), b.pop("error"), theirs, MISSING) and a == b
    else:
        assert _same_but_id(refused.get_data(as_text=True), missing.get_data(as_text=True), theirs, MISSING)
    assert forbidden_count(world.engine) == before + 1


@pytest.mark.parametrize("user", ["pref15", "muni202029"])
def test_another_bodys_need_answers_like_a_missing_one(world, client, user):
    login(client, user)
    theirs = world.needs["202011"]  # 長野市's
    before = forbidden_count(world.engine)
    refused = client.get(f"/needs/{theirs}/edit")
    missing = client.get(f"/needs/{MISSING}/edit")
    assert refused.status_code == missing.status_code == 404
    assert _same_but_id(refused.get_data(as_text=True), missing.get_data(as_text=True), theirs, MISSING)
    assert forbidden_count(world.engine) == before + 1


def test_a_members_plan_list_withholds_the_plan_wide_totals(world, client):
    login(client, "muni202011")
    listed = client.get("/api/plans").get_json()
    mine = next(item for item in listed["items"] if item["id"] == world.plans["20"])
    detail = client.get(f"/api/plans/{world.plans['20']}").get_json()
    for key in ("objective_yen", "standalone_total_yen", "saving_yen", "gap"):
        assert key not in mine
        assert key not in detail or detail[key] is None
    # the coordinator's list keeps them
    client.post("/logout")
    login(client, "pref20")
    listed = client.get("/api/plans").get_json()
    theirs = next(item for item in listed["items"] if item["id"] == world.plans["20"])
    assert {"objective_yen", "standalone_total_yen", "saving_yen", "gap"} <= set(theirs)


def test_no_administrator_is_made_on_the_web(world, client):
    with Session(world.engine) as session:
        if session.exec(select(User).where(User.username == "promote-me")).first() is None:
            create_user(session, "promote-me", PASSWORD, "prefecture", prefecture_code="20")
            session.commit()
        target = session.exec(select(User.id).where(User.username == "promote-me")).one()
    login(client, "admin")
    page = client.get(f"/admin/users/{target}").get_data(as_text=True)
    assert 'value="admin"' not in page  # not offered
    r = client.post(f"/admin/users/{target}", data={"role": "admin", "display_name": "昇格"})
    assert r.status_code != 302
    r = client.post(
        "/admin/users/new", data={"username": "new-admin", "role": "admin", "password": "a-long-password-123"}
    )
    assert r.status_code != 302
    with Session(world.engine) as session:
        assert session.get(User, target).role == "prefecture"
        assert session.exec(select(User).where(User.username == "new-admin")).first() is None


def _id_routes(app):
    """Every route, page or API, that names a plan, a scenario or a need by id (a member's need under a plan is
    the plan's business), with each of its methods."""
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        for key in ("plan_id", "scenario_id", "need_id"):
            if key in rule.arguments and not (key == "need_id" and "plan_id" in rule.arguments):
                for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
                    yield method, rule, key


@pytest.mark.parametrize("user", ["pref15", "muni202029"])
def test_every_route_answers_a_refused_id_as_a_missing_one(world, client, user):
    """Not only the pages above: every route naming a plan, scenario or need answers another prefecture's or
    another body's id with the status a missing id gets, GET and POST alike (a new route joins by itself)."""
    login(client, user)
    # 長野県's plan for 新潟県's coordinator; for 松本市's staff, a member of 長野県's plan, 新潟県's
    plan = world.plans["20" if user == "pref15" else "15"]
    group = next(g for (p, g) in world.group_modes if p == plan)
    theirs = {"plan_id": plan, "scenario_id": world.scenarios["20"], "need_id": world.needs["202011"]}
    others = {
        "group_id": group,
        "code": "202011",
        "ext": "pdf",
        "mode": "lead",
        "category_id": "ocr",
        "name": "budget",
        "item_id": "x",
        "invoice_id": 1,
        "need_id": world.member_needs["202011"][1],
    }
    differ = []
    for method, rule, key in _id_routes(world.app):
        refused = {k: v for k, v in {**others, key: theirs[key]}.items() if k in rule.arguments}
        missing = {**refused, key: MISSING}
        with world.app.test_request_context():
            a, b = (
                client.open(rule.build(refused)[1], method=method),
                client.open(rule.build(missing)[1], method=method),
            )
        if a.status_code != b.status_code:
            differ.append(f"{method} {rule.rule}: refused {a.status_code}, missing {b.status_code}")
    assert not differ, "\n".join(differ)
