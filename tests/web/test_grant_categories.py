"""The grant's categories are rule data (subsidy-rules.md section 1): RPA and 生成AI under the R2 terms are 要確認, and
a 要確認 estimate is shown with 要確認 and the reason wherever grant estimates appear: the plan, group and body pages,
the answer form, the 負担額通知, the 算定書, the body's statement and the API."""

from __future__ import annotations

import re

import pytest

from tests.reports.helpers import pdf_text
from tests.support.plans import publish_now
from tests.support.web import login


def _text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", html))


def _rpa_with_grant(view):
    """(group, member line) of an RPA member whose grant estimate (joint or alone) is not 0."""
    for g in view.groups:
        if g.group.category != "rpa":
            continue
        for m in g.members:
            if m.grant_yen > 0 or (m.subsidy and m.subsidy.standalone.grant.amount_yen > 0):
                return g, m
    raise AssertionError("the fixture has no RPA member with a grant estimate")


def test_the_fixtures_rpa_estimates_are_to_be_confirmed_and_its_other_categories_not(planned):
    view = planned["view"]
    _, m = _rpa_with_grant(view)
    assert m.grant_to_confirm == "RPA：R2資料の補助金の記載（AI等活用を新設）からはRPAが対象か明らかでない"
    others = [x for h in view.groups if h.group.category not in ("rpa", "genai") for x in h.members]
    assert others and all(x.grant_to_confirm is None for x in others)


def test_pages_and_the_api_show_to_be_confirmed_with_the_reason(client, planned):
    view = planned["view"]
    g, m = _rpa_with_grant(view)
    reason = _text(m.grant_to_confirm)
    login(client, "pref20")
    plan = _text(client.get(f"/plans/{view.id}").get_data(as_text=True))
    # once per category: RPA and 生成AI (both 要確認 under the R2 terms), each with its reason
    assert "補助金の見込額が要確認の分野（2）" in plan and "RPA（1グループ）" in plan and reason in plan
    assert "生成AI（職員利用）（" in plan and "生成AIが対象か明らかでない" in plan
    # the group page: the reason once, and 要確認 beside each grant figure that is not 0 (a 0 joint grant has
    # nothing to confirm; its member's comparison with going alone does, and the reason says why)
    group = client.get(f"/plans/{view.id}/groups/{g.id}").get_data(as_text=True)
    assert "補助金の見込額は要確認（" + reason in _text(group)
    marked = group.count('<span class="to-confirm">要確認</span>')
    assert marked == sum(1 for x in g.members if x.grant_yen > 0 and x.grant_to_confirm)
    body = client.get(f"/plans/{view.id}/body/{m.body_code}").get_data(as_text=True)
    assert "補助金の見込額は要確認（" + reason in _text(body)  # the member's notes say it
    assert ('（<span class="to-confirm">要確認</span>）' in body) == (m.grant_yen > 0)
    api = client.get(f"/api/plans/{view.id}").get_json()
    shares = [s for gr in api["groups"] for s in gr["member_shares"] if s["need_id"] == m.need_id]
    assert shares and shares[0]["grant_to_confirm"] == m.grant_to_confirm


def test_documents_show_to_be_confirmed_with_the_reason(client, planned):
    view = planned["view"]
    g, m = _rpa_with_grant(view)
    login(client, "pref20")
    base = f"/plans/{view.id}/reports"
    start = _text(m.grant_to_confirm)[:30]
    notice = pdf_text(client.get(f"{base}/member/{m.need_id}.pdf").data)
    assert "補助金の見込額は要確認" in notice and start in notice
    assert (f"補助金見込額{m.grant_yen:,}円（要確認）" in notice) == (m.grant_yen > 0)
    statement = pdf_text(client.get(f"{base}/statement/{m.body_code}.pdf").data)
    assert "補助金の見込額は要確認" in statement and start in statement
    if g.joint:
        group = pdf_text(client.get(f"{base}/group/{g.id}.pdf").data)
        assert "補助金の見込額は要確認" in group and start in group


@pytest.mark.parametrize("app_config", [{"BUILD_DOCUMENTS_ON_PUBLISH": False}])
def test_the_answer_form_shows_to_be_confirmed_with_the_reason(app, client, planned):
    view = planned["view"]
    _, m = _rpa_with_grant(view)
    publish_now(planned["engine"], view.id)
    users = {"202011": "muni202011", "202029": "muni202029"}
    if m.body_code not in users:
        pytest.skip(f"no login for {m.body_code} in the seeded world")
    login(client, users[m.body_code])
    page = client.get(f"/plans/{view.id}/answer").get_data(as_text=True)
    assert "補助金の見込額は要確認" in page and _text(m.grant_to_confirm) in _text(page)


def test_the_plan_lists_the_bodies_that_must_still_submit_their_data_plan(client, planned):
    """subsidy-rules.md section 1: a municipal 実施主体 without its 推進計画 keeps its estimate with the condition, and
    the plan lists the bodies that must still submit one."""
    view = planned["view"]
    pending = view.data_plan_pending()
    expected = set()
    for g in view.groups:
        for m in g.members:
            grant = m.subsidy.joint.grant
            if grant.reason and "推進計画未提出" in grant.reason:
                assert grant.amount_yen > 0 and "交付申請時までに推進計画を提出すれば対象" in grant.reason
                expected.add(view.body_name(grant.implementer_body))
    assert {name for name, _ in pending} == expected
    login(client, "pref20")
    page = _text(client.get(f"/plans/{view.id}").get_data(as_text=True))
    assert expected  # the seeded world's 松本市 has no 推進計画 and is a 実施主体
    assert f"補助金の申請までに推進計画の提出が必要な団体（{len(expected)}）" in page
    assert all(name in page for name in expected) and "交付申請時までに推進計画を提出すれば対象です" in page
