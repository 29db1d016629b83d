"""Plan pages: summary with map and charts, consortium, a body's view, comparison, overrides — and who sees what."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from planner.db.models import AuditLog, Scenario
from planner.db.models import Plan as PlanRow
from tests.support.plans import (
    joint_group_with,
    publish_now,
    wait_for,
)
from tests.support.web import login, logout


def test_coordinator_sees_the_summary_with_map_charts_and_labels(client, planned):
    login(client, "pref20")
    view = planned["view"]
    r = client.get(f"/plans/{planned['plan_id']}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert 'class="chart consortium-map"' in page and 'class="chart waterfall"' in page
    assert 'class="chart savings-bars"' in page
    assert "見込額" in page and "参考値" in page and "R8-ref-1" in page
    t = view.totals
    # the headline net burden leaves the grant out; the grant's own card shows the net burden if it is awarded
    for amount in (t.standalone_yen, t.joint_yen, t.net_without_grant_yen, t.grant_yen, t.net_yen):
        assert f"{amount:,}円" in page
    assert t.after_grant_yen != t.net_without_grant_yen and f"{t.after_grant_yen:,}円" not in page
    g = joint_group_with(view, "202011")
    assert f"/plans/{view.id}/groups/{g.id}" in page


def test_group_filters_and_pagination(client, planned):
    login(client, "pref20")
    view = planned["view"]
    page = client.get(f"/plans/{view.id}?category=rpa&joint=0").get_data(as_text=True)
    rpa = [g.id for g in view.groups if g.group.category == "rpa"]
    ocr = [g.id for g in view.groups if g.group.category == "ocr"]
    assert all(f'groups/{gid}"' in page for gid in rpa) and not any(f'groups/{gid}"' in page for gid in ocr)
    page = client.get(f"/plans/{view.id}?mode=standalone&joint=0").get_data(as_text=True)
    assert not any(f'groups/{g.id}"' in page for g in view.groups if g.joint)
    page = client.get(f"/plans/{view.id}?body=204820&joint=0").get_data(as_text=True)
    assert all(f'groups/{g.id}"' in page for g in view.by_body["204820"])
    assert client.get(f"/plans/{view.id}?page=99&map=all").status_code == 200


def test_consortium_page_shows_allocation_check_and_member_waterfalls(client, planned):
    login(client, "pref20")
    view = planned["view"]
    g = joint_group_with(view, "202011")
    r = client.get(f"/plans/{view.id}/groups/{g.id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "負担金の按分" in page and "公平性の検証" in page and "個人合理性" in page
    for m in g.members:
        assert m.body_name in page and f"{m.total_yen:,}円" in page and f"{m.net_yen:,}円" in page
    assert page.count('class="chart waterfall"') == len(g.members)
    assert f"{g.group.cost.total_yen:,}円" in page
    assert client.get(f"/plans/{view.id}/groups/nope").status_code == 404


def test_body_page_shows_its_consortia_shares_and_saving(client, planned):
    login(client, "pref20")
    view = planned["view"]
    page = client.get(f"/plans/{view.id}/body/202011").get_data(as_text=True)
    t = view.body_totals("202011")
    assert "長野市（202011）" in page and f"{t.joint_yen:,}円" in page and f"{t.standalone_yen:,}円" in page
    assert f"{t.net_yen:,}円" in page
    assert client.get(f"/plans/{view.id}/body/999999").status_code == 404


def test_municipality_sees_only_its_own_view(app, client, planned):
    view = planned["view"]
    login(client, "muni202011")
    # A draft (試算) is the prefecture's: refused until the coordinator publishes it, answered as a missing plan.
    assert client.get(f"/plans/{view.id}/body/202011").status_code == 404
    assert f"/plans/{view.id}/body/202011" not in client.get("/plans/").get_data(as_text=True)
    publish_now(planned["engine"], view.id)
    r = client.get(f"/plans/{view.id}")
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{view.id}/body/202011")
    assert client.get(f"/plans/{view.id}/body/202011").status_code == 200
    assert client.get(f"/plans/{view.id}/body/202029").status_code == 403
    own = joint_group_with(view, "202011")
    assert client.get(f"/plans/{view.id}/groups/{own.id}").status_code == 200
    other = next(g for g in view.groups if "202011" not in g.body_codes)
    assert client.get(f"/plans/{view.id}/groups/{other.id}").status_code == 403
    assert client.get(f"/plans/compare?a={view.id}&b={view.id}").status_code == 403
    assert client.get(f"/plans/{view.id}/override").status_code == 403
    listing = client.get("/plans/").get_data(as_text=True)
    assert f"/plans/{view.id}/body/202011" in listing
    with Session(planned["engine"]) as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "forbidden")).first() is not None


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1"', html)


def test_municipality_outside_the_plan_and_other_prefectures_are_refused(client, planned):
    view = planned["view"]
    login(client, "pref15")
    refused = client.get(f"/plans/{view.id}")
    missing = client.get("/plans/999999")
    assert refused.status_code == missing.status_code == 404  # refused answers like missing: ids cannot be probed
    # the same page, but for the sign-out form's CSRF token, which is signed with the second it was made in
    assert _without_tokens(refused.get_data(as_text=True)) == _without_tokens(missing.get_data(as_text=True))
    assert client.get(f"/plans/{view.id}/body/202011").status_code == 404
    assert f"計画 {view.id}" not in client.get("/plans/").get_data(as_text=True)
    logout(client)
    login(client, "admin")
    assert client.get(f"/plans/{view.id}").status_code == 200


def test_override_replans_a_copy_and_the_comparison_shows_what_changed(app, client, planned):
    engine = planned["engine"]
    view = planned["view"]
    login(client, "pref20")
    assert client.get(f"/plans/{view.id}/override?body=204820&category=ocr").status_code == 200
    r = client.post(
        f"/plans/{view.id}/override",
        data={
            "kind": "fix_standalone",
            "category": "ocr",
            "body_a": "204820",
            "body_b": "",
            "group_key": "",
            "replan": "y",
        },
    )
    assert r.status_code == 302
    copy_id = int(r.headers["Location"].rstrip("/").split("/")[-1])
    done = wait_for(engine, copy_id, ("done", "failed"))
    assert done.status == "done", done.log
    with Session(engine) as session:
        original = session.get(Scenario, planned["scenario_id"])
        assert original.overrides.get("items", []) == []  # the original is untouched
        copy = session.get(Scenario, copy_id)
        assert "小谷村を単独調達に固定する" in copy.name
        new_plan = session.get(PlanRow, done.progress["plan_id"])
        (cost,) = new_plan.plan_doc["override_costs"]
        assert cost["cost_yen"] == cost["with_yen"] - cost["without_yen"] and cost["cost_yen"] >= 0
    page = client.get(f"/plans/{new_plan.id}").get_data(as_text=True)
    assert "上書き設定とその費用" in page and "小谷村を単独調達に固定する" in page

    r = client.get(f"/plans/compare?a={view.id}&b={new_plan.id}")
    assert r.status_code == 200
    page = r.get_data(as_text=True)
    assert "合計の比較" in page and "小谷村" in page
    # the override is the one condition that differs, and the page says so
    assert "違う条件：<strong>共同・別グループ・固定の指定</strong>（1 項目）" in page
    row = re.search(r"<tr>\s*<td>小谷村</td>\s*<td>([^<]+)</td>", page)
    assert row and "AI-OCR" in row.group(1)
    assert client.get("/plans/compare").status_code == 200


def test_layout_filters_show_both_year_forms_and_thousands_of_yen():
    from planner.domain.vocabulary import fiscal_year_label, yen, yen_thousand

    assert fiscal_year_label(2026) == "令和8年度（2026年度）" and fiscal_year_label(2019) == "令和元年度（2019年度）"
    assert yen(1234567) == "1,234,567円"
    assert yen_thousand(1234567) == "1,235千円" and yen_thousand(1234499) == "1,234千円" and yen_thousand(None) == "—"
