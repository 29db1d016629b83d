"""The JSON API: the same role rules as the pages, JSON errors, municipality staff see only their own figures."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import AuditLog
from tests.support.plans import publish_now
from tests.support.web import login, logout


def test_unauthenticated_requests_get_json_401(client, planned):
    for url in ("/api/plans", f"/api/plans/{planned['plan_id']}", f"/api/scenarios/{planned['scenario_id']}/status"):
        r = client.get(url)
        assert r.status_code == 401 and r.get_json()["status"] == 401 and "ログイン" in r.get_json()["error"]


def test_coordinator_reads_plans_groups_and_status(client, planned):
    view = planned["view"]
    login(client, "pref20")
    listing = client.get("/api/plans").get_json()
    assert listing["total"] == 1 and listing["items"][0]["id"] == view.id
    assert listing["items"][0]["saving_yen"] == view.plan.standalone_total_yen - view.plan.objective_yen
    d = client.get(f"/api/plans/{view.id}").get_json()
    assert d["view"] == "full" and d["totals"]["joint_yen"] == view.totals.joint_yen
    assert d["totals"]["net_yen"] == view.totals.net_yen and d["groups_total"] == len(view.groups)
    assert d["labels"]["price_book"] == "R8-ref-1（参考値）"
    assert sum(g["cost"]["total_yen"] for g in d["groups"]) == view.plan.objective_yen
    joint = client.get(f"/api/plans/{view.id}?joint=1&category=ocr").get_json()
    assert all(g["mode"] != "standalone" and g["category"] == "ocr" for g in joint["groups"])
    paged = client.get(f"/api/plans/{view.id}?per_page=2&page=2").get_json()
    assert [g["id"] for g in paged["groups"]] == [g.id for g in view.groups[2:4]]
    g = next(g for g in view.groups if g.joint)
    gd = client.get(f"/api/plans/{view.id}/groups/{g.id}").get_json()
    assert gd["id"] == g.id and len(gd["member_shares"]) == len(g.members)
    assert sum(m["total_yen"] for m in gd["member_shares"]) == g.group.cost.total_yen
    assert "shares" not in gd["allocation"]
    assert client.get(f"/api/plans/{view.id}/groups/none").status_code == 404
    assert client.get("/api/plans/9999").status_code == 404
    assert client.get("/api/plans?page=x").status_code == 400
    status = client.get(f"/api/scenarios/{planned['scenario_id']}/status").get_json()
    assert status["status"] == "done" and status["plan_id"] == view.id and status["active"] is False


def test_other_prefecture_is_refused_and_logged(app, client, planned):
    login(client, "pref15")
    assert client.get("/api/plans").get_json()["total"] == 0
    for url in (f"/api/plans/{planned['plan_id']}", f"/api/plans/{planned['plan_id']}/groups/x"):
        r = client.get(url)  # a plan refused answers as a missing one: ids cannot be probed
        assert r.status_code == 404 and r.get_json()["status"] == 404
        missing = client.get(url.replace(f"/plans/{planned['plan_id']}", "/plans/999999")).get_json()
        assert r.get_json()["error"].replace(str(planned["plan_id"]), "N") == missing["error"].replace("999999", "N")
    # another prefecture's scenario is answered as a missing one too, and logged
    r = client.get(f"/api/scenarios/{planned['scenario_id']}/status")
    assert r.status_code == 404 and r.get_json()["status"] == 404
    with Session(app.extensions["db_engine"]) as session:
        assert len(session.exec(select(AuditLog).where(AuditLog.action == "forbidden")).all()) == 3


def test_municipality_gets_its_own_lines_only(client, planned):
    view = planned["view"]
    login(client, "muni202011")
    assert client.get("/api/plans").get_json()["total"] == 0  # a draft (試算) is the prefecture's
    assert client.get(f"/api/plans/{view.id}").status_code == 404
    publish_now(planned["engine"], view.id)
    assert client.get("/api/plans").get_json()["total"] == 1
    d = client.get(f"/api/plans/{view.id}").get_json()
    assert d["view"] == "body" and d["totals"] is None and d["body"]["code"] == "202011"
    assert d["body"]["totals"]["joint_yen"] == view.body_totals("202011").joint_yen
    assert d["groups"] and all(m["body_code"] == "202011" for g in d["groups"] for m in g["member_shares"])
    own = next(g for g in view.groups if g.joint and "202011" in g.body_codes)
    assert client.get(f"/api/plans/{view.id}/groups/{own.id}").status_code == 200
    other = next(g for g in view.groups if "202011" not in g.body_codes)
    assert client.get(f"/api/plans/{view.id}/groups/{other.id}").status_code == 403
    assert client.get(f"/api/scenarios/{planned['scenario_id']}/status").status_code == 404  # as if missing
    logout(client)
    login(client, "muni202029")
    # 松本市 is in the plan too, but never sees 長野市's lines.
    d = client.get(f"/api/plans/{view.id}").get_json()
    assert all(m["body_code"] == "202029" for g in d["groups"] for m in g["member_shares"])
