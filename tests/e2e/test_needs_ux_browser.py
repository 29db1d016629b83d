"""In a real browser (issue #15 points 8 and 11): the register form's body search narrows the select as one types,
and the progress panel follows 按分・補助金の計算 with its own count. Screenshots at 1366 px and 390 px go to
test-artifacts/e2e/."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from planner.db.models import Body, Scenario
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, sign_in

pytestmark = test_browser.pytestmark  # Chromium present, SQLite only, slow

expect = pytest.importorskip("playwright.sync_api", reason="playwright (dev extra) drives the browser").expect


def shots(page, name: str) -> None:
    for width, height in ((1366, 900), (390, 844)):
        page.set_viewport_size({"width": width, "height": height})
        page.screenshot(path=str(ARTIFACTS / f"{name}-{width}.png"), full_page=True)
        width_used = page.locator("html").evaluate("e => e.scrollWidth")
        assert width_used <= width, f"{name} overflows at {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_body_search_narrows_the_select_as_you_type(server, browser_page):
    from planner.masterdata.national import master_bodies

    base, engine = server
    page, errors = browser_page
    with Session(engine) as s:
        known = set(s.exec(select(Body.code)))
        s.add_all(
            Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind, lat=m.lat, lng=m.lng)
            for m in master_bodies()
            if m.code not in known
        )
        s.commit()
    sign_in(page, base, "admin")
    page.goto(f"{base}/needs/new")
    assert page.locator("#body_code option").count() > 1700
    page.fill("#finder-q", "府中市")
    expect(page.locator("#body_code option")).to_have_count(2)
    assert "2 団体が該当します" in page.inner_text("#finder-result")
    page.select_option("#finder-prefecture", "34")
    expect(page.locator("#body_code option")).to_have_count(1)
    assert page.input_value("#body_code") == "342084"
    shots(page, "needs-form-body-search")
    page.fill("#volume", "3")
    page.click("button[name=save]")
    page.wait_for_url(re.compile(r"/needs/(\?.*)?$"))  # the list (the form's own URL matches /needs/** at once)
    assert "広島県" not in errors and not errors, errors


def test_progress_panel_counts_groups_while_settling(server, browser_page):
    base, engine = server
    page, _errors = browser_page
    with Session(engine) as s:
        scenario = Scenario(
            name="按分中の例",
            prefecture_code="20",
            status="running",
            allocation_method="equal",
            progress={
                "phase": "settling",
                "phase_label": "按分・補助金の計算",
                "done": 25,
                "total": 25,
                "settle_done": 14,
                "settle_total": 40,
                "heartbeat": "2999-01-01T00:00:00",
                "elapsed": 30.0,
            },
        )
        s.add(scenario)
        s.commit()
        scenario_id = scenario.id
    sign_in(page, base, "pref20")
    page.goto(f"{base}/scenarios/{scenario_id}")
    expect(page.locator("[data-field=step_unit]")).to_have_text("グループ")
    assert page.inner_text("[data-field=step_done]") == "14" and page.inner_text("[data-field=step_total]") == "40"
    assert page.get_attribute("progress[data-field=progress]", "max") == "40"
    shots(page, "scenario-progress-settling")
