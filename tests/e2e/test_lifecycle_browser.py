"""The plan lifecycle in a real browser: a coordinator enters a vendor quote, runs, adopts and publishes the plan;
two towns answer (松本市 declines its AI-OCR need); the coordinator reminds the last one, re-plans with the decliner
fixed standalone and publishes 第2版, which the towns then see. Screenshots of the coordinator's board and a town's
answer form at 1366 px and 390 px go to test-artifacts/e2e/ (gitignored)."""

from __future__ import annotations

from datetime import timedelta

from sqlmodel import Session, select

from planner.db.models import PlanRelease, PlanSeries
from planner.services.plan_lifecycle import today_jst
from tests.e2e import test_browser
from tests.e2e.test_browser import (
    ARTIFACTS,
    sign_in,
    sign_out,
    solved_on_page,
)

pytestmark = test_browser.pytestmark  # Chromium present, SQLite only, slow

WIDTHS = {"wide": 1366, "narrow": 390}


def shots(page, name: str) -> None:
    """The page at a desktop and at a phone width (full page)."""
    for label, width in WIDTHS.items():
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(ARTIFACTS / f"lifecycle-{name}-{label}.png"), full_page=True)
    page.set_viewport_size({"width": 1366, "height": 900})


def answer(page, base: str, plan_id: int, choices: dict[str, tuple[str, str]]) -> None:
    """Fill the answer form: choices maps a category name prefix to (answer label, comment)."""
    page.goto(f"{base}/plans/{plan_id}/answer")
    for card in page.locator("fieldset.answer-card").all():
        legend = card.locator("legend").inner_text()
        for prefix, (label, comment) in choices.items():
            if legend.startswith(prefix):
                card.get_by_label(label, exact=True).check()
                if comment:
                    card.locator("textarea").fill(comment)


def test_draft_adopt_publish_answers_replan_publish_v2(server, browser_page):
    from tests.support.plans import NEEDS, add_needs

    base, engine = server
    page, console_errors = browser_page
    add_needs(engine, [row for row in NEEDS if row[0] == "202011"])  # the server's world leaves 長野市's out
    page.set_viewport_size({"width": 1366, "height": 900})
    deadline = (today_jst() + timedelta(days=14)).isoformat()

    sign_in(page, base, "pref20")
    page.goto(f"{base}/scenarios/new")
    page.fill("#name", "長野県 令和8年度 共同調達（意向確認）")
    page.select_option("#allocation_method", "equal")
    page.fill("#time_limit_seconds", "20")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/scenarios/*")
    scenario_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])

    # a vendor's quote for AI-OCR in the lead mode, starting from the reference price book
    page.get_by_role("link", name="見積を入力・確認する").click()
    page.goto(f"{base}/scenarios/{scenario_id}/quotes/ocr/lead")
    page.fill("#vendor", "信州システム株式会社")
    page.fill("#quoted_on", "2026-11-20")
    page.get_by_role("button", name="見積を保存").click()
    page.wait_for_url(f"{base}/scenarios/{scenario_id}/quotes")
    assert "信州システム株式会社" in page.content()
    page.screenshot(path=str(ARTIFACTS / "lifecycle-quotes.png"), full_page=True)

    page.goto(f"{base}/scenarios/{scenario_id}")
    page.get_by_role("button", name="最適化を実行").click()
    plan_id = solved_on_page(page, engine, scenario_id)
    page.goto(f"{base}/plans/{plan_id}")
    assert "試算" in page.content() and "見積 1 件" in page.content()
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{plan_id}")
    assert "計画 No.1 第1版" in page.content()
    page.fill("#publish-deadline", deadline)
    page.fill("#publish-message", "12月の予算要求に向けて、参加の意向をお知らせください。")
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answers")
    sign_out(page, base)

    # two towns answer
    sign_in(page, base, "muni202011")
    assert "回答をお願いしている計画" in page.content()
    page.get_by_role("link", name="回答する").first.click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answer")
    shots(page, "answer-form")
    answer(page, base, plan_id, {"AI-OCR": ("参加", ""), "RPA": ("条件付き", "議会の承認が前提です")})
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answer")
    assert "回答を記録しました" in page.content()
    shots(page, "answer-form-answered")
    sign_out(page, base)
    sign_in(page, base, "muni202029")
    answer(
        page,
        base,
        plan_id,
        {"AI-OCR": ("不参加", "既存契約が令和10年度まで残るため"), "RPA": ("参加", ""), "生成AI": ("参加", "")},
    )
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answer")
    sign_out(page, base)

    # the coordinator's board: reminds 小谷村, re-plans with 松本市's AI-OCR standalone
    sign_in(page, base, "pref20")
    page.goto(f"{base}/plans/{plan_id}/answers")
    assert "未回答の団体（1）" in page.content() and "既存契約が令和10年度まで残るため" in page.content()
    page.get_by_role("button", name="未回答の全団体に催促する").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answers")
    assert "催促 1 回" in page.content()
    shots(page, "board")
    page.get_by_role("button", name="不参加の団体を単独調達に固定して再計画する").click()
    page.wait_for_url(f"{base}/scenarios/*")
    replan_scenario = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    v2_plan = solved_on_page(page, engine, replan_scenario)
    page.goto(f"{base}/plans/{v2_plan}")
    assert page.locator("#adopt-series").input_value() != "new"  # the same plan number by default
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{v2_plan}")
    assert "計画 No.1 第2版" in page.content()
    page.fill("#publish-deadline", deadline)
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{v2_plan}/answers")
    page.goto(f"{base}/plans/{v2_plan}")
    assert "版の履歴（2 版）" in page.content()
    page.screenshot(path=str(ARTIFACTS / "lifecycle-v2-plan.png"), full_page=True)
    sign_out(page, base)

    sign_in(page, base, "muni202029")
    assert "計画 No.1 第2版" in page.content()
    page.screenshot(path=str(ARTIFACTS / "lifecycle-member-home-v2.png"), full_page=True)
    page.goto(f"{base}/plans/{plan_id}/body/202029")
    assert "計画 No.1 第2版に差し替えられました" in page.content()

    with Session(engine) as session:
        series = session.exec(select(PlanSeries)).one()
        states = [r.state for r in session.exec(select(PlanRelease).order_by(PlanRelease.version))]
        assert series.current_version == 2 and states == ["superseded", "published"]
    assert not console_errors, console_errors
