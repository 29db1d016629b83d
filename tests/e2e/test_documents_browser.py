"""The budget documents in a real browser: a coordinator sets the prefecture's document control, solves a plan and
downloads the 年度別予算総括表, a body's 年度別負担額, a group's 協定書案 (Word) and the full ZIP (built in the
background: the progress page, then the download link); 長野市 downloads its own statement. Screenshots and the
downloaded files go to test-artifacts/e2e/ (gitignored); the PDFs' first pages are rendered with pdftoppm there."""

from __future__ import annotations

import io
import shutil
import subprocess
import zipfile

from docx import Document

from tests.e2e import test_browser
from tests.e2e.test_browser import (
    ARTIFACTS,
    adopt_and_publish,
    download,
    shot,
    sign_in,
    sign_out,
    solved_on_page,
)
from tests.reports.helpers import pdf_text

pytestmark = test_browser.pytestmark  # Chromium present, SQLite only, slow


def pages_png(data: bytes, name: str) -> None:
    if shutil.which("pdftoppm") is None:
        return
    path = ARTIFACTS / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "2", str(path), str(ARTIFACTS / name)], check=True, timeout=60
    )


def test_statements_agreement_and_zip(server, browser_page):
    from tests.support.plans import NEEDS, add_needs

    base, engine = server
    page, console_errors = browser_page
    add_needs(engine, [row for row in NEEDS if row[0] == "202011"])
    page.set_viewport_size({"width": 1366, "height": 900})

    sign_in(page, base, "pref20")
    page.goto(f"{base}/prefectures/20/document-settings")
    page.fill("#issuer_title", "長野県 企画振興部 DX推進課")
    page.fill("#contact_person", "共同調達担当 信州 太郎")
    page.fill("#contact", "026-000-0000")
    page.fill("#number_prefix", "長DX")
    page.get_by_role("button", name="保存する").click()
    page.get_by_text("保存しました").wait_for()
    shot(page, "documents-01-settings")

    page.goto(f"{base}/scenarios/new")
    page.fill("#name", "長野県 令和8年度 共同調達（帳票）")
    page.select_option("#allocation_method", "equal")
    page.fill("#time_limit_seconds", "20")
    page.get_by_role("button", name="保存").click()
    page.wait_for_url(f"{base}/scenarios/*")
    scenario_id = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    page.get_by_role("button", name="最適化を実行").click()
    plan_id = solved_on_page(page, engine, scenario_id)

    page.goto(f"{base}/plans/{plan_id}")
    shot(page, "documents-02-plan")
    budget = download(page, "年度別予算総括表（PDF）", "documents-budget.pdf")
    text = pdf_text(budget)
    assert "年度別予算総括表" in text and "長野県企画振興部DX推進課" in text and "長DX試算" in text
    pages_png(budget, "documents-budget")
    assert download(page, "年度別予算総括表（Excel）", "documents-budget.xlsx")[:2] == b"PK"

    page.goto(f"{base}/plans/{plan_id}/body/202029")
    statement = download(page, "年度別負担額（PDF）", "documents-statement-matsumoto.pdf")
    text = pdf_text(statement)
    assert "松本市長様" in text and "年度別負担額" in text and "導入年度" in text and "政府標準利用規約" in text
    pages_png(statement, "documents-statement-matsumoto")
    shot(page, "documents-03-body")

    page.goto(f"{base}/plans/{plan_id}")
    page.locator("a[href*='/groups/']").first.click()
    page.wait_for_url(f"{base}/plans/{plan_id}/groups/**")
    shot(page, "documents-04-group")
    # a lead-mode group offers its 協定書, a 仕様統一 group its 覚書 (no 協定書: each body contracts on its own)
    if page.get_by_role("link", name="協定書案（Word）").count():
        assert not page.get_by_role("link", name="覚書案（Word）").count()
        draft = download(page, "協定書案（Word）", "documents-agreement.docx")
        title, clause = "共同調達に関する協定書（案）", "（負担額の算定）"
    else:
        draft = download(page, "覚書案（Word）", "documents-memorandum.docx")
        title, clause = "仕様統一による調達に関する覚書（案）", "（共通仕様書）"
    doc = Document(io.BytesIO(draft))
    body = "\n".join(p.text for p in doc.paragraphs)
    assert title in body and clause in body and "（有効期間）" in body

    # the progress page of a set never built offers to build it (it used to poll and reload for ever)
    page.goto(f"{base}/plans/{plan_id}/reports/bundle")
    page.get_by_role("heading", name="まだ作成していません").wait_for()
    shot(page, "documents-05a-zip-not-built")
    # the full ZIP: the first click starts the background build and shows its progress, then the download
    page.goto(f"{base}/plans/{plan_id}")
    page.get_by_role("link", name="全帳票（ZIP）").click()
    page.wait_for_url(f"{base}/plans/{plan_id}/reports/bundle")
    shot(page, "documents-05-zip-progress")
    page.locator("#bundle-download").wait_for(timeout=240_000)
    shot(page, "documents-06-zip-ready")
    with page.expect_download() as info:
        page.locator("#bundle-download").click()
    path = ARTIFACTS / "documents-all.zip"
    info.value.save_as(str(path))
    names = zipfile.ZipFile(path).namelist()
    assert "年度別予算総括表.xlsx" in names and "共同調達計画まとめ.pdf" in names
    assert any(n.startswith("協定書案/") and n.endswith(".docx") for n in names)
    assert "年度別負担額/202029_松本市.pdf" in names
    # members see a plan once it is adopted and published (plan lifecycle)
    adopt_and_publish(page, base, plan_id)
    sign_out(page, base)

    sign_in(page, base, "muni202011")
    page.goto(f"{base}/plans/{plan_id}")
    page.wait_for_url(f"{base}/plans/{plan_id}/body/202011")
    own = download(page, "年度別負担額（PDF）", "documents-statement-nagano.pdf")
    assert "長野市長様" in pdf_text(own)
    assert page.request.get(f"{base}/plans/{plan_id}/reports/statement/202029.pdf").status == 404
    assert page.request.get(f"{base}/plans/{plan_id}/reports/budget.pdf").status == 404
    shot(page, "documents-07-municipality")

    assert not console_errors, console_errors
