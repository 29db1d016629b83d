"""Issue #15 point 5 in a real browser: no screen scrolls sideways, on a 1366 px screen and on a 390 px phone, for a
coordinator, a town's staff and an administrator; at 1366 px no table is cut off (実負担の削減, the 通知書 link) and
on a phone the wide tables (the group page's 13 columns, the home page's matrix) are labelled cards.
Screenshots of every screen go to test-artifacts/e2e/fit-<width>-<role>-<screen>.png."""

from __future__ import annotations

import pytest

from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, sign_in, sign_out
from tests.e2e.test_demo_walk_browser import demo_server, log_in, log_out  # noqa: F401  (demo_server: a fixture)

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


# --- the newer pages, on the demo (issue #31 point 8): consortia, the contract stages, the answer board ------------

GROUP = "chatbot-2026-001"  # 松本市 leads it (幹事団体方式, 13 members): the stages page's longest tables


def _demo_with_consortium_and_stages(demo) -> int:
    """松本市's RPA 協議会 (one town of another prefecture accepted, one still invited) and the first year's stages of
    its chatbot group (協定, budgets, the contract, the year's bills): the pages' tables as full as a user fills them.
    Returns the consortium's id."""
    from datetime import date

    from sqlmodel import Session, select

    from planner.db.models import User
    from planner.domain.contract_settlement import group_fiscal_years
    from planner.services import partnerships
    from planner.services import plan_stages as stages

    with Session(demo.engine) as session:

        def user(name):
            return session.exec(select(User).where(User.username == name)).one()

        lead = user("demo-matsumoto")
        consortium = partnerships.create(
            session, lead, name="松本・諏訪・飛騨 RPA共同調達協議会", kind="council", category_id="rpa"
        )
        partnerships.invite(session, lead, consortium, ["203611", "205214", "212032"], "参加をご検討ください。")
        session.commit()
        partnerships.respond(session, user("demo-shimosuwa"), consortium, accept=True)
        partnerships.respond(session, user("demo-takayama"), consortium, accept=True)
        ctx = stages.group_context(session, lead, demo.published_plan_id, GROUP)
        years = group_fiscal_years(ctx.instance, ctx.group)
        first = years[0]
        stages.record_agreement(session, lead, ctx, date(first, 3, 1), "チャットボットの共同調達に関する協定")
        for code in ctx.member_bodies()[:3]:
            stages.record_budget(session, lead, ctx, code, first, "approved", date(first, 3, 10), "当初予算")
        amounts = dict.fromkeys(years, 9_800_000)
        stages.record_contract(session, lead, ctx, date(first, 4, 1), "株式会社デモシステム", amounts)
        session.commit()
        ctx = stages.group_context(session, lead, demo.published_plan_id, GROUP)
        stages.issue_bills(session, lead, ctx, first, date(first, 5, 1), date(first, 5, 31))
        session.commit()
        return int(consortium.id)


def newer_screens(plan_id: int, consortium_id: int) -> dict[str, list[tuple[str, str]]]:
    plan, stages = f"/plans/{plan_id}", f"/plans/{plan_id}/groups/{GROUP}/stages"
    return {
        "demo-nagano-pref": [
            ("home", "/home"),
            ("answers", f"{plan}/answers"),
            ("consortia", "/consortia/"),
            ("consortium", f"/consortia/{consortium_id}"),
            ("stages", stages),
        ],
        "demo-matsumoto": [
            ("home", "/home"),
            ("consortia", "/consortia/"),
            ("consortium", f"/consortia/{consortium_id}"),
            ("consortium-new", "/consortia/new"),
            ("group", f"{plan}/groups/{GROUP}"),
            ("stages", stages),
            ("answer", f"{plan}/answer"),
        ],
        "demo-obuse": [("home", "/home"), ("stages", stages), ("answer", f"{plan}/answer")],
        "demo-takayama": [("home", "/home"), ("consortium", f"/consortia/{consortium_id}")],
        "demo-admin": [("home", "/home")],
    }


@pytest.mark.parametrize(("width", "height"), [(1366, 900), (390, 844)])
def test_the_newer_pages_fit_on_the_demo(demo_server, browser_page, width, height):  # noqa: F811
    demo = demo_server
    page, _ = browser_page
    consortium_id = _demo_with_consortium_and_stages(demo)
    page.set_viewport_size({"width": width, "height": height})
    problems = []
    for user, paths in newer_screens(demo.published_plan_id, consortium_id).items():
        log_in(page, demo, user)
        for name, path in paths:
            response = page.goto(demo.base + path)
            page.wait_for_load_state()
            assert response is not None and response.status == 200, f"{user} {name}: {path}"
            page.screenshot(path=str(ARTIFACTS / f"fit-demo-{width}-{user}-{name}.png"), full_page=True)
            m = page.evaluate(MEASURE)
            if m["page"] > m["window"]:
                problems.append(f"{user} {name}: the page is {m['page']} px wide in a {m['window']} px window")
            if m["cut"]:
                problems.append(f"{user} {name}: tables cut off by the window: {m['cut']}")
            if m["scrolled"]:
                problems.append(f"{user} {name}: tables that need scrolling at {width} px: {m['scrolled']}")
            if width < 600 and name in ("consortium", "stages", "answers"):
                # every data table of these pages is a list of cards on a phone
                kept = page.locator("table.data:not(.stacked):not(.cards-on-phone):not(.answers-board)")
                assert kept.count() == 0, f"{user} {name}: a table kept its columns"
        log_out(page, demo)
    assert not problems, "\n".join(problems)
