"""Issue #29's stages after the answers in a real browser, on the demo as ``planner demo`` leaves it: 松本市, the
lead (幹事団体) of the chatbot consortium of 長野県's published 計画 No.1, records the 協定締結, the grant's 交付申請
and 交付決定, the contract result (warned: signed before the 交付決定), prints a member's 確定負担額通知, bills the
year, records 小布施町's payment; 小布施町 records its own 予算措置 and sees only its own figures and invoice; the
year's 実績額 is settled (還付 to every member), and 坂城町 withdraws, the later years split among the rest.

Screenshots go to ``$PLANNER_STAGES_DIR`` (default test-artifacts/e2e/stages-walk/, gitignored) to be looked at.
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlmodel import Session, select

from planner.db.models import GroupStage, Invoice, Payment
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS
from tests.e2e.test_demo_walk_browser import demo_server, log_in, log_out  # noqa: F401  (demo_server: a fixture)

pytestmark = test_browser.pytestmark

WALK = Path(os.environ.get("PLANNER_STAGES_DIR") or ARTIFACTS / "stages-walk")
MATSUMOTO, OBUSE, SAKAKI = "202029", "205419", "205214"


def step(page, name: str) -> None:
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)


def flashed(page, text: str) -> None:
    page.get_by_text(text).first.wait_for()


def submit(page, section: str) -> None:
    page.locator(f"#{section} button[type=submit]").click()


def open_form(page, section: str) -> None:
    details = page.locator(f"details#{section}")
    if details.get_attribute("open") is None:
        page.locator(f"details#{section} > summary").click()


def test_the_lead_runs_contract_bills_payment_settlement_and_a_withdrawal(demo_server, browser_page):  # noqa: F811
    demo = demo_server
    base, engine = demo.base, demo.engine
    page, console_errors = browser_page
    WALK.mkdir(parents=True, exist_ok=True)
    for old in WALK.glob("*"):
        old.unlink()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_default_timeout(120_000)
    plan_id = demo.published_plan_id

    # 1. 松本市 opens its consortium's stages from the group page
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{plan_id}/groups/chatbot-2026-001")
    page.get_by_role("link", name="契約・請求・精算").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/groups/chatbot-2026-001/stages")
    stages_url = page.url
    assert "契約結果を記録すると" in page.content()
    step(page, "01-stages-empty")

    # 2. 協定締結, the grant's application, the contract (before the decision: warned), then the decision
    open_form(page, "agreement")
    page.fill("#agreement-occurred_on", "2026-03-25")
    page.fill("#agreement-title", "チャットボット共同調達に関する協定")
    submit(page, "agreement")
    flashed(page, "協定の締結を記録しました")
    open_form(page, "grant")
    page.select_option("#grant-kind", "grant_application")
    page.fill("#grant-occurred_on", "2026-04-10")
    page.fill("#grant-amount_yen", "3,000,000")
    submit(page, "grant")
    flashed(page, "補助金の記録を追加しました")
    open_form(page, "contract")
    page.fill("#contract-occurred_on", "2026-05-01")
    page.fill("#contract-vendor", "株式会社信州システム")
    amounts = page.locator("input[name^=amount_]")
    years = [int(n.split("_")[1]) for n in (amounts.nth(i).get_attribute("name") for i in range(amounts.count()))]
    for i in range(len(years)):
        amounts.nth(i).fill("9,800,000" if i == 0 else "6,500,000")
    submit(page, "contract")
    flashed(page, "契約結果を記録しました")
    assert "交付決定がありません" in page.content()  # 事前着手: the contract came before any 交付決定
    open_form(page, "grant")
    page.select_option("#grant-kind", "grant_decision")
    page.fill("#grant-occurred_on", "2026-06-01")
    page.fill("#grant-amount_yen", "2,800,000")
    submit(page, "grant")
    flashed(page, "補助金の記録を追加しました")
    assert "交付決定日 2026-06-01 より前です" in page.content()
    step(page, "02-contract-confirmed")

    # 3. a member's 確定負担額通知 (PDF), then the first year's bills and 小布施町's payment
    with page.expect_download() as info:
        page.locator("a[href*='/confirmed/'][href$='.pdf']").nth(1).click()
    info.value.save_as(str(WALK / "confirmed-notice.pdf"))
    assert (WALK / "confirmed-notice.pdf").read_bytes().startswith(b"%PDF")
    open_form(page, "bill")
    page.select_option("#bill-fiscal_year", str(years[0]))
    page.fill("#bill-issued_on", "2026-06-10")
    page.fill("#bill-due_on", "2026-07-10")
    submit(page, "bill")
    flashed(page, "の請求書を")
    with Session(engine) as session:
        bills = session.exec(select(Invoice).where(Invoice.kind == "bill")).all()
        obuse_bill = next(b for b in bills if b.payer_body == OBUSE)
        assert {b.issuer_body for b in bills} == {MATSUMOTO} and MATSUMOTO not in {b.payer_body for b in bills}
        assert sorted(b.serial for b in bills) == list(range(1, len(bills) + 1))
    row = page.locator("tr", has=page.locator(f"a[href$='/invoices/{obuse_bill.id}.pdf']"))
    row.locator("summary").click()
    row.locator("button[type=submit]").click()
    flashed(page, "入金を記録しました")
    step(page, "03-billed-and-paid")
    log_out(page, demo)

    # 4. 小布施町 records its own budget, sees only its own row and invoice, and no form to bill
    log_in(page, demo, "demo-obuse")
    page.goto(stages_url)
    content = page.content()
    assert "年度の請求書を発行する" not in content and "契約結果" in content
    assert content.count("確定負担額通知（PDF）") == 1
    page.locator("details.stage-form > summary", has_text="予算措置を記録する").click()
    page.select_option("#budget-fiscal_year", str(years[1]))
    page.select_option("#budget-status", "approved")
    page.locator("form[action$='/stages/budget'] button[type=submit]").click()
    flashed(page, "予算措置を記録しました")
    assert page.locator(f"a[href$='/invoices/{obuse_bill.id}.pdf']").count() == 1
    with page.expect_download() as info:
        page.locator(f"a[href$='/invoices/{obuse_bill.id}.pdf']").click()
    info.value.save_as(str(WALK / "invoice-obuse.pdf"))
    step(page, "04-obuse-own-view")
    log_out(page, demo)

    # 5. the lead settles the first year (it cost less: every member is refunded), and 坂城町 withdraws
    log_in(page, demo, "demo-matsumoto")
    page.goto(stages_url)
    open_form(page, "actual")
    page.select_option("#actual-fiscal_year", str(years[0]))
    page.fill("#actual-occurred_on", "2027-03-31")
    page.fill("#actual-actual_contract_yen", "9,300,000")
    submit(page, "actual")
    flashed(page, "実績額を記録しました")
    open_form(page, "settle")
    page.select_option("#settle-fiscal_year", str(years[0]))
    page.fill("#settle-issued_on", "2027-04-20")
    submit(page, "settle")
    flashed(page, "の精算を行い")
    open_form(page, "withdrawal")
    sakaki_need = page.locator("#withdrawal-need_id option", has_text="坂城町").get_attribute("value")
    page.select_option("#withdrawal-need_id", sakaki_need)
    page.fill("#withdrawal-occurred_on", "2027-01-15")
    page.select_option("#withdrawal-last_fiscal_year", str(years[0]))
    page.fill("#withdrawal-termination_cost_yen", "50,000")
    page.fill("#withdrawal-reason", "庁内システムの更新に合わせて独自に導入するため")
    submit(page, "withdrawal")
    flashed(page, "脱退を記録しました")
    step(page, "05-settled-and-withdrawn")
    with Session(engine) as session:
        refunds = session.exec(select(Invoice).where(Invoice.kind == "refund")).all()
        assert refunds and all(r.payer_body != MATSUMOTO for r in refunds)
        assert session.exec(select(Payment)).one().amount_yen == obuse_bill.amount_yen
        kinds = [s.kind for s in session.exec(select(GroupStage).order_by(GroupStage.id)).all()]
        assert kinds[:4] == ["agreement", "grant_application", "contract", "grant_decision"]
        assert "withdrawal" in kinds and "budget" in kinds
    content = page.content()
    assert "坂城町：令和8年度まで参加、解約に伴う費用 50,000円" in content
    log_out(page, demo)

    # 6. the prefecture, whose plan it is, sees the same page
    log_in(page, demo, "demo-nagano-pref")
    page.goto(stages_url)
    assert "株式会社信州システム" in page.content()
    step(page, "06-prefecture-view")
    assert not console_errors, console_errors
