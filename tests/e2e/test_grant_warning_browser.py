"""Issue #26 in a real browser, on the demo: a member worse off than alone if the grant is awarded is named in red
with the amount, on its own pages and on the coordinator's.

白馬村 (a village that alone would be an eligible 実施主体 of the grant) sits in the matching group led by 長野県, a
prefecture, which cannot receive the grant. Logged in as 白馬村, its plan page and its answer form show the red line
with the amount and what the group can do about it (here: no eligible body may lead it); as the coordinator, the plan
page lists every such member and the group page shows the line beside the shares. The plan head prints the rule set's
fiscal year beside the plan's. Screenshots go to ``$PLANNER_GRANT_WALK_DIR`` (default
test-artifacts/e2e/grant-walk/, gitignored) to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.services.plans import plan_view
from planner.services.users import create_user
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS
from tests.e2e.test_demo_walk_browser import demo_server, log_in, log_out  # noqa: F401  (demo_server: a fixture)

pytestmark = test_browser.pytestmark

WALK = Path(os.environ.get("PLANNER_GRANT_WALK_DIR") or ARTIFACTS / "grant-walk")
HAKUBA = "204854"


def step(page, name: str) -> None:
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)


def test_hakuba_and_the_coordinator_see_the_red_line_and_what_the_group_can_do(demo_server, browser_page):  # noqa: F811
    demo = demo_server
    page, console_errors = browser_page
    WALK.mkdir(parents=True, exist_ok=True)
    with Session(demo.engine) as session:
        view = plan_view(session.get(PlanRow, demo.published_plan_id))
        create_user(session, "demo-hakuba", "hakuba-walk-pass-1", "municipality", body_code=HAKUBA)
        session.commit()
    demo.passwords["demo-hakuba"] = "hakuba-walk-pass-1"
    (group, line) = next((g, m) for g in view.groups for m in g.members if m.body_code == HAKUBA and m.grant_warning)
    assert group.group.lead_body == "200000" and line.worse_off_if_grant_awarded_yen > 0  # led by 長野県
    amount = f"{line.worse_off_if_grant_awarded_yen:,}円"

    # 白馬村: its own page of the plan, in red, with the amount and the group's alternative (or that it has none)
    log_in(page, demo, "demo-hakuba")
    page.goto(f"{demo.base}/plans/{demo.published_plan_id}/body/{HAKUBA}")
    red = page.locator("p.grant-warning").first
    red.wait_for()
    text = red.inner_text()
    assert "白馬村の実質負担は単独で導入するより" in text and amount in text
    assert "補助対象となる幹事団体" in text  # the eligible-lead alternative, or that the group has no candidate
    assert red.evaluate("e => getComputedStyle(e).color") == "rgb(176, 0, 32)"
    assert "補助制度ルール" in page.content() and "（令和2年度の制度）" in page.content()
    step(page, "01-hakuba-body-page")
    page.goto(f"{demo.base}/plans/{demo.published_plan_id}/answer")
    answer_red = page.locator("p.grant-warning").first
    answer_red.wait_for()
    assert amount in answer_red.inner_text()
    step(page, "02-hakuba-answer-form")
    log_out(page, demo)

    # the coordinator: the plan page lists every member worse off with the grant, the group page the line in red
    log_in(page, demo, "demo-nagano-pref")
    page.goto(f"{demo.base}/plans/{demo.published_plan_id}")
    section = page.locator("section.grant-warnings")
    section.wait_for()
    assert "白馬村" in section.inner_text() and amount in section.inner_text()
    warned = sum(1 for g in view.groups for m in g.members if m.grant_warning)
    assert f"補助金が採択された場合に単独導入より不利な団体（{warned}）" in section.inner_text()
    section.scroll_into_view_if_needed()
    step(page, "03-coordinator-plan-page")
    page.goto(f"{demo.base}/plans/{demo.published_plan_id}/groups/{group.id}")
    group_red = page.locator("p.grant-warning", has_text="白馬村")
    group_red.wait_for()
    assert amount in group_red.inner_text() and "補助対象となる幹事団体" in group_red.inner_text()
    step(page, "04-coordinator-group-page")
    assert not console_errors, console_errors
