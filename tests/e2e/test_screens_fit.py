"""Issue #15 point 5 in a real browser: no screen scrolls sideways, on a 1366 px screen and on a 390 px phone, for a
coordinator, a town's staff and an administrator; at 1366 px no table is cut off (実負担の削減, the 通知書 link) and
on a phone the wide tables (the group page's 13 columns, the home page's matrix) are labelled cards.
Screenshots of every screen go to test-artifacts/e2e/fit-<width>-<role>-<screen>.png."""

from __future__ import annotations

import pytest

from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, sign_in, sign_out

pytestmark = test_browser.pytestmark

# Elements wider than the window, tables cut off by it, and table boxes that scroll their content sideways.
MEASURE = """() => ({
  page: document.documentElement.scrollWidth,
  window: window.innerWidth,
  cut: [...document.querySelectorAll('table')]
    .filter(t => t.getBoundingClientRect().right > window.innerWidth + 1)
    .map(t => t.className || 'table'),
  scrolled: [...document.querySelectorAll('.table-scroll, table.data')]
    .filter(b => b.scrollWidth > b.clientWidth + 1)
    .map(b => b.className || 'box'),
})"""


def screens(plan_id: int, scenario_id: int, group_id: str) -> dict[str, list[tuple[str, str]]]:
    plan = f"/plans/{plan_id}"
    return {
        "pref20": [
            ("home", "/home"),
            ("needs", "/needs/"),
            ("needs-form", "/needs/new"),
            ("scenarios", "/scenarios/"),
            ("scenario", f"/scenarios/{scenario_id}"),
            ("scenario-form", "/scenarios/new"),
            ("plan", plan),
            ("group", f"{plan}/groups/{group_id}"),
            ("body", f"{plan}/body/202011"),
            ("compare", f"/plans/compare?a={plan_id}&b={plan_id}"),
            ("answers", f"{plan}/answers"),
            ("quotes", f"/scenarios/{scenario_id}/quotes"),
            ("document-settings", "/prefectures/20/document-settings"),
            ("bodies", "/bodies"),
        ],
        "muni202011": [
            ("home", "/home"),
            ("needs", "/needs/"),
            ("plan", plan),
            ("group", f"{plan}/groups/{group_id}"),
            ("body", f"{plan}/body/202011"),
            ("answer", f"{plan}/answer"),
            ("refused", f"{plan}/body/202029"),
        ],
        "admin": [
            ("home", "/home"),
            ("users", "/admin/users"),
            ("price-books", "/admin/price-books"),
            ("effects", "/admin/effects"),
            ("rules", "/admin/rules"),
            ("data", "/admin/data"),
            ("audit", "/admin/audit"),
            ("not-found", "/plans/99999"),
        ],
    }


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_no_screen_scrolls_sideways(server, browser_page, width, height):
    from sqlmodel import Session

    from planner.db.models import Plan as PlanRow
    from planner.services.plans import plan_view
    from tests.support.plans import NEEDS, add_needs, make_scenario, publish_now, solve_now

    base, engine = server
    page, _ = browser_page
    add_needs(engine, [row for row in NEEDS if row[0] == "202011"])
    scenario_id = make_scenario(engine)
    plan_id = solve_now(engine, scenario_id)
    publish_now(engine, plan_id)
    with Session(engine) as session:
        view = plan_view(session.get(PlanRow, plan_id))
    group = max((g for g in view.groups if g.joint and "202011" in g.body_codes), key=lambda g: len(g.members))
    page.set_viewport_size({"width": width, "height": height})

    problems = []
    for user, paths in screens(plan_id, scenario_id, group.id).items():
        sign_in(page, base, user)
        for name, path in paths:
            page.goto(base + path)
            page.wait_for_load_state()
            page.screenshot(path=str(ARTIFACTS / f"fit-{width}-{user}-{name}.png"), full_page=True)
            m = page.evaluate(MEASURE)
            if m["page"] > m["window"]:
                problems.append(f"{user} {name}: the page is {m['page']} px wide in a {m['window']} px window")
            if m["cut"]:
                problems.append(f"{user} {name}: tables cut off by the window: {m['cut']}")
            if m["scrolled"]:  # at 390 px too: a wide table is cards there, never a box to scroll sideways
                problems.append(f"{user} {name}: tables that need scrolling at {width} px: {m['scrolled']}")
            if name == "home" and width < 600:
                assert page.locator("table.data:not(.stacked):not(.cards-on-phone)").count() == 0, (
                    "home: a table kept its columns"
                )
            if name == "group" and width < 600:
                # The 13 money columns: each member is a card, each amount under its heading.
                assert page.locator("table.allocation.stacked").count() == 1
                assert page.locator("table.allocation td[data-label='採択された場合の削減']").count() >= 2
        sign_out(page, base)
    assert not problems, "\n".join(problems)
