"""What was published is frozen (#31 item 3): renaming the scenario or changing the prefecture's document settings
after publication leaves the published version's PDFs and ZIP byte-identical, and its page keeps the
published title."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlmodel import Session

from planner.db.models import DocumentSetting, Scenario
from planner.services import plan_lifecycle
from tests.support.documents import fetch_zip
from tests.support.plans import publish_now
from tests.support.web import login


@pytest.fixture
def app_config():
    return {"BUILD_DOCUMENTS_ON_PUBLISH": False}


def _documents(client, plan_id, view):
    group = next(g for g in view.groups if g.joint)
    need = group.group.members[0]
    body = view.instance.need(need).body
    urls = [
        f"/plans/{plan_id}/reports/summary.pdf",
        f"/plans/{plan_id}/reports/budget.pdf",
        f"/plans/{plan_id}/reports/group/{group.id}.pdf",
        f"/plans/{plan_id}/reports/member/{need}.pdf",
        f"/plans/{plan_id}/reports/statement/{body}.pdf",
    ]
    out = {}
    for url in urls:
        r = client.get(url)
        assert r.status_code == 200, url
        out[url] = (r.data, r.headers.get("Content-Disposition", ""))
    z = fetch_zip(client, plan_id)
    assert z.status_code == 200
    out["zip"] = (z.data, z.headers.get("Content-Disposition", ""))
    return out


def test_renaming_the_scenario_after_publication_leaves_the_published_documents_byte_identical(app, client, planned):
    engine, plan_id, view = planned["engine"], planned["view"].id, planned["view"]
    with Session(engine) as session:
        session.add(
            DocumentSetting(prefecture_code="20", issuer_title="長野県 企画振興部 DX推進課", contact="026-000-0000")
        )
        session.commit()
    publish_now(engine, plan_id)
    login(client, "pref20")
    published_title = view.instance.name
    before = _documents(client, plan_id, view)

    with Session(engine) as session:  # the scenario is renamed and the contact changes, days later
        scenario = session.get(Scenario, planned["scenario_id"])
        scenario.name, scenario.version = "改名したシナリオ", scenario.version + 1
        setting = session.get(DocumentSetting, "20")
        setting.issuer_title, setting.contact = "長野県 デジタル推進課", "026-999-9999"
        session.add_all([scenario, setting])
        session.commit()
    later = plan_lifecycle.today_jst() + timedelta(days=3)
    import planner.reports.control as control

    original_today = control.today_jst
    control.today_jst = lambda now=None: later
    try:
        after = _documents(client, plan_id, view)
    finally:
        control.today_jst = original_today

    for what, (data, disposition) in before.items():
        assert after[what][0] == data, f"{what} changed after the scenario was renamed"
        assert after[what][1] == disposition, what
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert f"：{published_title}</h1>" in page and "改名したシナリオ</h1>" not in page


def test_an_unpublished_plan_follows_the_scenarios_name(app, client, planned):
    engine, plan_id = planned["engine"], planned["view"].id
    with Session(engine) as session:
        scenario = session.get(Scenario, planned["scenario_id"])
        scenario.name, scenario.version = "試算の新しい名前", scenario.version + 1
        session.add(scenario)
        session.commit()
    login(client, "pref20")
    r = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    assert "試算の新しい名前" in r.headers["Content-Disposition"] or "%E8%A9%A6" in r.headers["Content-Disposition"]
    assert "試算の新しい名前</h1>" in client.get(f"/plans/{plan_id}").get_data(as_text=True)
