"""Issue #29 in a real browser, on the demo: 松本市 leads an RPA 協議会 with three invited towns, one in another
prefecture (下諏訪町, 坂城町 and 岐阜県高山市): found → invite → each town accepts on its own page → the lead makes the
scenario from the consortium page → solve → adopt → publish (refused while 長野県's 計画 No.1 asks the same needs;
長野県, which reads the consortium without acting on it, withdraws No.1) → publish → every member answers → the board.

Screenshots of every step go to ``$PLANNER_CONSORTIUM_DIR`` (default test-artifacts/e2e/consortium-walk/,
gitignored) to be looked at.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from planner.db.models import MemberAnswer, Partnership, PartnershipMember, PlanRelease, PlanSeries, Scenario
from planner.db.models import Plan as PlanRow
from planner.services.plan_lifecycle import today_jst
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, solved_on_page
from tests.e2e.test_demo_walk_browser import demo_server, log_in, log_out  # noqa: F401  (demo_server: a fixture)

pytestmark = test_browser.pytestmark

WALK = Path(os.environ.get("PLANNER_CONSORTIUM_DIR") or ARTIFACTS / "consortium-walk")
NAME = "松本・諏訪・飛騨 RPA共同調達協議会"
MATSUMOTO, SHIMOSUWA, SAKAKI, TAKAYAMA = "202029", "203611", "205214", "212032"
TOWNS = {"demo-shimosuwa": SHIMOSUWA, "demo-sakaki": SAKAKI, "demo-takayama": TAKAYAMA}


def step(page, name: str) -> None:
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)


def answer_all(page, base: str, plan_id: int, value: str = "join") -> None:
    page.goto(f"{base}/plans/{plan_id}/answer")
    for radio in page.locator(f"input[type=radio][value='{value}']").all():
        radio.check()
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answer")
    assert "回答を記録しました" in page.content()


def test_matsumoto_leads_an_rpa_consortium_across_the_border(demo_server, browser_page):  # noqa: F811
    demo = demo_server
    base, engine = demo.base, demo.engine
    page, console_errors = browser_page
    WALK.mkdir(parents=True, exist_ok=True)
    for old in WALK.glob("*.png"):
        old.unlink()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_default_timeout(300_000)

    # 1. 松本市 founds the consortium and invites three towns, one in 岐阜県, by name
    log_in(page, demo, "demo-matsumoto")
    page.get_by_role("link", name="協議会").first.click()
    page.get_by_role("link", name="協議会を設立する").click()
    page.fill("#p-name", NAME)
    page.select_option("#p-kind", "council")
    page.select_option("#p-category", "rpa")
    step(page, "01-found")
    page.get_by_role("button", name="設立する").click()
    page.get_by_text("を設立しました").wait_for()
    consortium = int(page.url.rstrip("/").split("/")[-1])
    page.fill("#invite-bodies", "下諏訪町\n坂城町\n岐阜県高山市")
    page.fill("#invite-message", "RPA の共同調達（仕様統一）への参加をご検討ください。")
    page.get_by_role("button", name="招待する").click()
    page.get_by_text("3 団体（下諏訪町、坂城町、高山市）を招待しました").wait_for()
    step(page, "02-invited")
    log_out(page, demo)

    # 2. each town sees the invitation on its home page and accepts it
    for username in TOWNS:
        log_in(page, demo, username)
        assert NAME in page.content() and "参加・辞退を回答してください" in page.content()
        if username == "demo-takayama":
            step(page, "03-takayama-home-invitation")
        page.get_by_role("link", name=NAME).first.click()
        assert "RPA の共同調達（仕様統一）への参加をご検討ください。" in page.content()
        page.get_by_role("button", name="参加する").click()
        page.get_by_text("に参加すると回答しました").wait_for()
        if username == "demo-takayama":
            step(page, "04-takayama-accepted")
        log_out(page, demo)
    with Session(engine) as session:
        states = dict(
            session.exec(
                select(PartnershipMember.body_code, PartnershipMember.state).where(
                    PartnershipMember.partnership_id == consortium
                )
            ).all()
        )
        assert states == {MATSUMOTO: "lead", SHIMOSUWA: "accepted", SAKAKI: "accepted", TAKAYAMA: "accepted"}
        assert session.get(Partnership, consortium).is_demo  # a demo account's consortium plans the demo's needs

    # 3. the lead makes the scenario, solves it and adopts the plan
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/consortia/{consortium}")
    step(page, "05-lead-consortium")
    page.select_option("#s-method", "formula")
    page.get_by_role("button", name="シナリオを作成する").click()
    page.get_by_text("「実行」を押して最適化してください").wait_for()
    scenario_id = int(page.url.rstrip("/").split("/")[-1])
    assert "協議会の幹事団体と参加団体" in page.content()
    page.get_by_role("button", name="最適化を実行").click()
    plan_id = solved_on_page(page, engine, scenario_id, timeout=300)
    step(page, "06-solved")
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        planned = {n["body"] for n in row.instance_doc["needs"]}
        assert planned == {MATSUMOTO, SHIMOSUWA, SAKAKI, TAKAYAMA}, planned
        joint = [g for g in row.plan_doc["groups"] if g["mode"] != "standalone"]
        assert joint, row.plan_doc["groups"]
    page.goto(f"{base}/plans/{plan_id}")
    step(page, "07-draft-plan")
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{plan_id}")
    assert "確定案（未公表）" in page.content()
    deadline = today_jst() + timedelta(days=14)
    page.fill("#publish-deadline", deadline.isoformat())
    page.get_by_role("button", name="参加団体に公表する").click()
    # the demo's 長野県 計画 No.1 asks 松本市's, 下諏訪町's and 坂城町's RPA needs already
    page.get_by_text("公表中の計画 No.1").wait_for()
    step(page, "08-publish-refused-no1-open")
    log_out(page, demo)

    # 4. 長野県 reads the consortium (read-only) and withdraws its own 計画 No.1
    log_in(page, demo, "demo-nagano-pref")
    assert NAME in page.content()
    page.goto(f"{base}/consortia/{consortium}")
    assert "閲覧のみ" in page.content() and "団体を招待する" not in page.content()
    step(page, "09-prefecture-consortium-read-only")
    page.goto(f"{base}/plans/{plan_id}")
    assert "閲覧のみ" in page.content() and "参加団体に公表する" not in page.content()
    step(page, "10-prefecture-plan-read-only")
    page.goto(f"{base}/plans/{demo.published_plan_id}")
    page.get_by_text("この版を取り下げる").click()
    page.fill("#withdraw-reason", "RPA は松本市が幹事の協議会で共同調達するため、計画を見直します")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取り下げる", exact=True).click()
    page.wait_for_url(f"{base}/plans/{demo.published_plan_id}")
    log_out(page, demo)

    # 5. the lead publishes; every member answers (高山市 across the border too)
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{plan_id}")
    page.fill("#publish-deadline", deadline.isoformat())
    page.fill("#publish-message", "令和9年度予算要求に向けて、参加の意向を回答してください。")
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answers")
    assert "未回答の団体（4）" in page.content()
    step(page, "11-published-board")
    answer_all(page, base, plan_id)
    log_out(page, demo)
    for username in TOWNS:
        log_in(page, demo, username)
        assert f"/plans/{plan_id}/answer" in page.content()
        answer_all(page, base, plan_id)
        if username == "demo-takayama":
            step(page, "12-takayama-answered")
        log_out(page, demo)

    # 6. the board: everyone answered; the prefecture reads it without a button to act
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{plan_id}/answers")
    assert "すべての団体が回答しました" in page.content()
    step(page, "13-lead-board-all-answered")
    log_out(page, demo)
    log_in(page, demo, "demo-nagano-pref")
    page.goto(f"{base}/plans/{plan_id}/answers")
    assert "すべての団体が回答しました" in page.content() and "期限を変更" not in page.content()
    step(page, "14-prefecture-board-read-only")
    with Session(engine) as session:
        release = session.exec(select(PlanRelease).where(PlanRelease.plan_id == plan_id)).one()
        series = session.get(PlanSeries, release.series_id)
        assert release.state == "published" and series.partnership_id == consortium
        answered = set(session.exec(select(MemberAnswer.body_code).where(MemberAnswer.release_id == release.id)))
        assert answered == {MATSUMOTO, SHIMOSUWA, SAKAKI, TAKAYAMA}
        assert session.get(Scenario, scenario_id).partnership_lead_code == MATSUMOTO
    assert not console_errors, console_errors
