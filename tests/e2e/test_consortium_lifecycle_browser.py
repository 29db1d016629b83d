"""Issue #29's "Done when" in one browser walk, on the demo as ``planner demo`` leaves it, with e-mail on (a local
SMTP sink): 松本市 founds an RPA 協議会 and invites 下諏訪町, 坂城町 and 岐阜県高山市 (mailed) → each accepts on its
own page → the lead makes the scenario, enters a vendor's 幹事団体方式 quote, and the plan forms a 幹事団体方式 group
of the three towns with 松本市 as its lead → adopt → publish (長野県 has withdrawn its 計画 No.1, which asked the
same needs) → the members answer (坂城町 after a mailed reminder) → 協定締結 → the contract result (each town mailed
its 確定負担額) → the year's 請求書 (mailed) → 高山市's payment → the year's 実績額 and 精算 (mailed) → 坂城町
withdraws and the towns who stay are mailed their recomputed total; each town sees where its group stands on its
home page; 長野県 reads the consortium, its plan and the stages without a button, and every action it sends is
refused.

Screenshots and the stage documents' pages (PDF → PNG) go to ``$PLANNER_CONSORTIUM_LIFECYCLE_DIR`` (default
test-artifacts/e2e/consortium-lifecycle/, gitignored) to be looked at.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

from sqlmodel import Session, select

from planner.db.models import GroupStage, Invoice, Payment, PlanRelease, ScenarioQuote
from planner.db.models import Plan as PlanRow
from planner.services.plan_lifecycle import today_jst
from planner.services.users import create_user
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, solved_on_page
from tests.e2e.test_demo_walk_browser import demo_server, log_in, log_out  # noqa: F401  (demo_server: a fixture)
from tests.reports.helpers import pdf_text
from tests.support.smtp import smtp_sink, subject, text  # noqa: F401  (smtp_sink: a fixture)

pytestmark = test_browser.pytestmark

WALK = Path(os.environ.get("PLANNER_CONSORTIUM_LIFECYCLE_DIR") or ARTIFACTS / "consortium-lifecycle")
NAME = "松本・諏訪・飛騨 RPA共同調達協議会"
MATSUMOTO, SHIMOSUWA, SAKAKI, TAKAYAMA = "202029", "203611", "205214", "212032"
TOWNS = {"demo-shimosuwa": SHIMOSUWA, "demo-sakaki": SAKAKI, "demo-takayama": TAKAYAMA}
# the towns' staff registered with their e-mail addresses (as the accounts CSV import makes them): mail reaches them
ADDRESSES = {
    SHIMOSUWA: "rpa@town.shimosuwa.example",
    SAKAKI: "rpa@town.sakaki.example",
    TAKAYAMA: "rpa@city.takayama.example",
}
VENDOR = "株式会社信州ロボティクス"


def step(page, name: str) -> None:
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)


def flashed(page, words: str) -> None:
    page.get_by_text(words).first.wait_for()


def open_form(page, section: str) -> None:
    if page.locator(f"details#{section}").get_attribute("open") is None:
        page.locator(f"details#{section} > summary").click()


def submit(page, section: str) -> None:
    page.locator(f"#{section} button[type=submit]").click()


def mails(received: list) -> dict[str, tuple[str, str]]:
    """The messages received since the last call, {to: (subject, text)}; the sink is emptied."""
    out = {m["To"]: (subject(m), text(m)) for m in received}
    assert len(out) == len(received), [m["To"] for m in received]  # one message per address and action
    received.clear()
    return out


def pdf_pages(data: bytes, name: str) -> None:
    """The document and its pages as PNG (pdftoppm), to be looked at."""
    pdf = WALK / f"{name}.pdf"
    pdf.write_bytes(data)
    assert data.startswith(b"%PDF")
    if shutil.which("pdftoppm"):
        subprocess.run(["pdftoppm", "-png", "-r", "60", str(pdf), str(WALK / name)], check=True)


def fetch_pdf(page, selector: str, name: str) -> bytes:
    with page.expect_download() as info:
        page.locator(selector).first.click()
    path = WALK / f"{name}.download"
    info.value.save_as(str(path))
    data = path.read_bytes()
    path.unlink()
    pdf_pages(data, name)
    return data


def answer_all(page, base: str, plan_id: int) -> None:
    page.goto(f"{base}/plans/{plan_id}/answer")
    for radio in page.locator("input[type=radio][value='join']").all():
        radio.check()
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answer")
    assert "回答を記録しました" in page.content()


def test_matsumoto_runs_its_rpa_consortium_from_invitation_to_settlement(
    demo_server,  # noqa: F811
    smtp_sink,  # noqa: F811
    browser_page,
):
    demo = demo_server
    base, engine = demo.base, demo.engine
    port, received = smtp_sink
    page, console_errors = browser_page
    WALK.mkdir(parents=True, exist_ok=True)
    for old in WALK.glob("*"):
        old.unlink()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_default_timeout(300_000)
    with Session(engine) as session:
        for code, address in ADDRESSES.items():
            create_user(session, address, "a-long-password-29", "municipality", body_code=code)
        session.commit()
    demo.app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="rpa@city.matsumoto.example")

    # 0. 長野県 leaves RPA to 松本市's consortium: its 計画 No.1 asks the same needs, and one plan asks them at a time
    log_in(page, demo, "demo-nagano-pref")
    page.goto(f"{base}/plans/{demo.published_plan_id}")
    page.get_by_text("この版を取り下げる").click()
    page.fill("#withdraw-reason", "RPA は松本市が幹事の協議会で共同調達するため、計画を見直します")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取り下げる", exact=True).click()
    page.wait_for_url(f"{base}/plans/{demo.published_plan_id}")
    log_out(page, demo)

    # 1. 松本市 founds the consortium and invites three towns, one in 岐阜県: each town's staff get the invitation
    log_in(page, demo, "demo-matsumoto")
    page.get_by_role("link", name="協議会").first.click()
    page.get_by_role("link", name="協議会を設立する").click()
    page.fill("#p-name", NAME)
    page.select_option("#p-kind", "council")
    page.select_option("#p-category", "rpa")
    page.get_by_role("button", name="設立する").click()
    page.get_by_text("を設立しました").wait_for()
    consortium = int(page.url.rstrip("/").split("/")[-1])
    page.fill("#invite-bodies", "下諏訪町\n坂城町\n岐阜県高山市")
    page.fill("#invite-message", "RPA を幹事団体方式で共同調達します。参加をご検討ください。")
    page.get_by_role("button", name="招待する").click()
    flashed(page, "3 団体の担当者にメールを送りました")
    step(page, "01-invited-and-mailed")
    invitations = mails(received)
    assert set(invitations) == set(ADDRESSES.values())
    for title, words in invitations.values():
        assert title == f"【共同調達プランナー】「{NAME}」への参加の招待"
        assert f"{base}/consortia/{consortium}" in words and "幹事団体方式で共同調達します" in words
    assert "高山市 ご担当者 様" in invitations[ADDRESSES[TAKAYAMA]][1]
    log_out(page, demo)

    # 2. each town accepts on its own page
    for username in TOWNS:
        log_in(page, demo, username)
        assert "参加・辞退を回答してください" in page.content()
        page.get_by_role("link", name=NAME).first.click()
        page.get_by_role("button", name="参加する").click()
        page.get_by_text("に参加すると回答しました").wait_for()
        log_out(page, demo)

    # 3. the lead makes the scenario, enters the vendor's 幹事団体方式 quote, solves, adopts and publishes
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/consortia/{consortium}")
    page.select_option("#s-method", "formula")
    page.get_by_role("button", name="シナリオを作成する").click()
    page.get_by_text("「実行」を押して最適化してください").wait_for()
    scenario_id = int(page.url.rstrip("/").split("/")[-1])
    page.get_by_role("link", name="見積を入力・確認する").click()
    page.locator("a[href$='/quotes/rpa/lead']").click()
    page.fill("#vendor", VENDOR)
    page.fill("#reference", "信ロ見第29号")
    page.fill("#quoted_on", "2026-11-20")
    for field, value in (
        ("fixed_initial", "1500000"),
        ("fixed_annual", "600000"),
        ("member_initial", "100000"),
        ("member_annual", "100000"),
        ("per_km_annual", "0"),
    ):
        page.fill(f"#prices-{field}", value)
    page.fill("#prices-lines", "0, 300000")
    step(page, "02-lead-mode-quote")
    page.get_by_role("button", name="見積を保存").click()
    flashed(page, "の見積を保存しました")
    page.goto(f"{base}/scenarios/{scenario_id}")
    page.get_by_role("button", name="最適化を実行").click()
    plan_id = solved_on_page(page, engine, scenario_id, timeout=300)
    with Session(engine) as session:
        assert session.exec(select(ScenarioQuote.mode).where(ScenarioQuote.scenario_id == scenario_id)).all() == [
            "lead"
        ]
        row = session.get(PlanRow, plan_id)
        body_of = {n["id"]: n["body"] for n in row.instance_doc["needs"]}
        lead_groups = [g for g in row.plan_doc["groups"] if g["mode"] == "lead" and len(g["members"]) > 1]
        assert len(lead_groups) == 1, row.plan_doc["groups"]
        group = lead_groups[0]
        assert group["lead_body"] == MATSUMOTO
        assert {body_of[n] for n in group["members"]} == {SHIMOSUWA, SAKAKI, TAKAYAMA}
    group_id = group["id"]
    need_of = {body_of[n]: n for n in group["members"]}
    page.goto(f"{base}/plans/{plan_id}")
    assert VENDOR in page.content()  # the plan names the quote as its price source
    step(page, "03-plan-lead-mode-group")
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{plan_id}")
    page.fill("#publish-deadline", (today_jst() + timedelta(days=14)).isoformat())
    page.fill("#publish-message", "令和9年度予算要求に向けて、参加の意向を回答してください。")
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/answers")
    assert "未回答の団体（4）" in page.content()
    answer_all(page, base, plan_id)
    log_out(page, demo)

    # 4. 下諏訪町 and 高山市 answer; 坂城町 is reminded (mailed), then answers
    for username in ("demo-shimosuwa", "demo-takayama"):
        log_in(page, demo, username)
        answer_all(page, base, plan_id)
        log_out(page, demo)
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{plan_id}/answers")
    page.get_by_role("button", name="未回答の全団体に催促する").click()
    flashed(page, "1 団体の担当者にメールを送りました")
    reminder = mails(received)
    assert list(reminder) == [ADDRESSES[SAKAKI]] and "回答のお願い" in reminder[ADDRESSES[SAKAKI]][0]
    log_out(page, demo)
    log_in(page, demo, "demo-sakaki")
    assert "幹事団体（松本市）の担当者から回答の催促がありました" in page.content()  # not the prefecture
    answer_all(page, base, plan_id)
    log_out(page, demo)

    # 5. the lead: 協定締結, then the contract result; every town is mailed its 確定負担額
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{plan_id}/answers")
    assert "すべての団体が回答しました" in page.content()
    page.goto(f"{base}/plans/{plan_id}/groups/{group_id}")
    page.get_by_role("link", name="契約・請求・精算").click()
    stages_url = f"{base}/plans/{plan_id}/groups/{group_id}/stages"
    page.wait_for_url(stages_url)
    open_form(page, "agreement")
    page.fill("#agreement-occurred_on", "2027-01-15")
    page.fill("#agreement-title", "RPA の共同調達に関する協定")
    submit(page, "agreement")
    flashed(page, "協定の締結を記録しました")
    assert mails(received) == {}  # nothing a member must act on
    open_form(page, "contract")
    page.fill("#contract-occurred_on", "2027-02-01")
    page.fill("#contract-vendor", VENDOR)
    amounts = page.locator("input[name^=amount_]")
    years = [int(amounts.nth(i).get_attribute("name").split("_")[1]) for i in range(amounts.count())]
    for i in range(len(years)):
        amounts.nth(i).fill("5,400,000" if i == 0 else "3,900,000")
    submit(page, "contract")
    flashed(page, "3 団体の担当者にメールを送りました")
    step(page, "04-contract-confirmed-and-mailed")
    confirmed = mails(received)
    assert set(confirmed) == set(ADDRESSES.values())
    for title, words in confirmed.values():
        assert "確定負担額のお知らせ" in title and f"グループ {group_id}" in title
        assert re.search(r"確定負担額（期間の合計）：[\d,]+円", words) and stages_url in words
    fetch_pdf(page, f"a[href$='/confirmed/{need_of[TAKAYAMA]}.pdf']", "05-confirmed-notice-takayama")

    # 6. the year's 請求書 to the three towns (mailed, each its own number and amount)
    open_form(page, "bill")
    page.select_option("#bill-fiscal_year", str(years[0]))
    page.fill("#bill-issued_on", "2027-02-10")
    page.fill("#bill-due_on", "2027-03-10")
    submit(page, "bill")
    flashed(page, "の請求書を 3 件発行しました")
    with Session(engine) as session:
        bills = {b.payer_body: b for b in session.exec(select(Invoice).where(Invoice.kind == "bill")).all()}
    assert set(bills) == {SHIMOSUWA, SAKAKI, TAKAYAMA} and {b.issuer_body for b in bills.values()} == {MATSUMOTO}
    billed = mails(received)
    for code, bill in bills.items():
        title, words = billed[ADDRESSES[code]]
        assert "請求書の発行" in title and f"金額：{bill.amount_yen:,}円" in words and "期限：2027-03-10" in words
    fetch_pdf(page, f"a[href$='/invoices/{bills[TAKAYAMA].id}.pdf']", "06-invoice-takayama")
    log_out(page, demo)

    # 7. 高山市 sees where its group stands on its home page and opens its own bill
    log_in(page, demo, "demo-takayama")
    home = page.locator("main").inner_text()
    assert "契約・請求・精算の状況" in home and "契約結果 2027-02-01" in home
    assert f"未収 {bills[TAKAYAMA].amount_yen:,}円" in home
    step(page, "07-takayama-home-stages")
    page.get_by_role("link", name="契約・請求・精算を見る").click()
    page.wait_for_url(stages_url)
    assert page.locator("a[href*='/invoices/']").count() == 1  # its own bill only
    assert "年度の請求書を発行する" not in page.content()
    step(page, "08-takayama-own-stages")
    log_out(page, demo)

    # 8. the lead records 高山市's payment, the year's 実績額 and settles the year (mailed)
    log_in(page, demo, "demo-matsumoto")
    page.goto(stages_url)
    row = page.locator("tr", has=page.locator(f"a[href$='/invoices/{bills[TAKAYAMA].id}.pdf']"))
    row.locator("summary").click()
    row.locator("input[name='payment-paid_on']").fill("2027-03-05")
    row.locator("button[type=submit]").click()
    flashed(page, "入金を記録しました")
    assert mails(received) == {}
    open_form(page, "actual")
    page.select_option("#actual-fiscal_year", str(years[0]))
    page.fill("#actual-occurred_on", "2027-03-31")
    page.fill("#actual-actual_contract_yen", "5,100,000")
    submit(page, "actual")
    flashed(page, "実績額を記録しました")
    open_form(page, "settle")
    page.select_option("#settle-fiscal_year", str(years[0]))
    page.fill("#settle-issued_on", "2027-04-20")
    page.fill("#settle-due_on", "2027-05-20")
    submit(page, "settle")
    flashed(page, "の精算を行い")
    with Session(engine) as session:
        settled = {
            i.payer_body: i
            for i in session.exec(select(Invoice).where(Invoice.kind.in_(("charge", "refund")))).all()  # type: ignore[attr-defined]
        }
        assert session.exec(select(Payment)).one().amount_yen == bills[TAKAYAMA].amount_yen
    assert settled and MATSUMOTO not in settled
    notices = mails(received)
    assert set(notices) == {ADDRESSES[c] for c in settled}
    for code, invoice in settled.items():
        title, words = notices[ADDRESSES[code]]
        assert "の精算" in title and f"金額：{invoice.amount_yen:,}円" in words
    fetch_pdf(page, f"a[href$='/invoices/{settled[TAKAYAMA].id}.pdf']", "09-settlement-takayama")

    # 9. 坂城町 withdraws after the first year: the towns who stay are mailed their recomputed total
    open_form(page, "withdrawal")
    page.select_option("#withdrawal-need_id", need_of[SAKAKI])
    page.fill("#withdrawal-occurred_on", "2027-03-31")
    page.select_option("#withdrawal-last_fiscal_year", str(years[0]))
    page.fill("#withdrawal-termination_cost_yen", "80,000")
    page.fill("#withdrawal-reason", "庁内の業務システム更新に合わせて独自に導入するため")
    submit(page, "withdrawal")
    flashed(page, "2 団体の担当者にメールを送りました")
    content = page.content()
    assert "坂城町：令和8年度まで参加、解約に伴う費用 80,000円" in content
    step(page, "10-withdrawn-and-recomputed")
    staying = mails(received)
    assert set(staying) == {ADDRESSES[SHIMOSUWA], ADDRESSES[TAKAYAMA]}
    for title, words in staying.values():
        assert "脱退" in title and "坂城町が令和8年度までの参加で脱退します" in words
        before, after = (int(x.replace(",", "")) for x in re.search(r"：([\d,]+)円 → ([\d,]+)円", words).groups())
        assert after > before  # the later years are split among fewer towns
    after = fetch_pdf(page, f"a[href$='/confirmed/{need_of[SHIMOSUWA]}.pdf']", "11-confirmed-notice-shimosuwa-after")
    assert "坂城町は令和8年度まで参加して脱退しました" in pdf_text(after)
    log_out(page, demo)

    # 10. 長野県 reads the consortium, its plan and the stages without a button; every action it sends is refused
    with Session(engine) as session:
        written = (len(session.exec(select(GroupStage)).all()), len(session.exec(select(Invoice)).all()))
    log_in(page, demo, "demo-nagano-pref")
    assert NAME in page.content()
    page.goto(f"{base}/consortia/{consortium}")
    assert "閲覧のみ" in page.content() and "団体を招待する" not in page.content()
    page.goto(f"{base}/plans/{plan_id}")
    assert "閲覧のみ" in page.content() and "取り下げる" not in page.content()
    page.goto(stages_url)
    content = page.content()
    assert VENDOR in content and "坂城町：令和8年度まで参加" in content
    assert "stage-readonly" in content and "記録は協議会の幹事団体（松本市）の担当者が行います" in content
    assert page.locator("details.stage-form").count() == 0  # no form to record anything
    step(page, "12-prefecture-stages-read-only")
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    for name, data in (
        ("agreement", {"agreement-occurred_on": "2027-05-01", "agreement-title": "県が記録"}),
        ("bill", {"bill-fiscal_year": str(years[1]), "bill-issued_on": "2027-05-01"}),
        ("budget", {"budget-body_code": SHIMOSUWA, "budget-fiscal_year": str(years[1]), "budget-status": "approved"}),
    ):
        response = page.request.post(f"{stages_url}/{name}", form={"csrf_token": token, **data})
        assert response.ok and "記録しました" not in response.text() and "発行しました" not in response.text(), name
    for url, data in (
        (f"{base}/plans/{plan_id}/remind", {}),
        (f"{base}/plans/{plan_id}/withdraw", {"reason": "県が取り下げ"}),
        (f"{base}/consortia/{consortium}/invite", {"bodies": "長野市"}),
        (f"{base}/scenarios/{scenario_id}/quotes/rpa/lead", {"vendor": "県", "lock": "1"}),
    ):
        assert page.request.post(url, form={"csrf_token": token, **data}).status == 403, url
    with Session(engine) as session:
        assert (len(session.exec(select(GroupStage)).all()), len(session.exec(select(Invoice)).all())) == written
        assert session.exec(select(PlanRelease.state).where(PlanRelease.plan_id == plan_id)).one() == "published"
    assert mails(received) == {}
    assert not console_errors, console_errors
