"""Issue #14 end to end on the demo, in a real browser: from a draft 試算 to signed-off budgets.

The database is what ``planner init-db`` and ``planner demo`` leave (長野県's needs, the demo logins, 計画 No.1 published
and a draft 試算). The demo coordinator sets the prefecture's document control, looks at the draft and its 案
documents, adopts it as 計画 No.2 and publishes it; 松本市 answers (declining one joint need) and 長野市 answers (one
条件付き); the coordinator reminds the town that has not answered, re-plans with the decliner fixed standalone, adopts
and publishes 第2版 (answers that still stand are carried over); 長野市 answers what it is asked again; then the
year-by-year statement (PDF), the budget workbook (and PDF) and the agreement draft (Word) are downloaded and read back:
document control, no 案 on the published version, file names, and figures equal to the plan's. The coordinator starts
the ZIP of all 323 documents (its progress page); 松本市 downloads the ZIP of its own documents, built in the
background like the coordinator's; then the coordinator downloads the whole plan's, and both are read back.

Screenshots of every step and the PDFs' pages (pdftoppm) go to ``$PLANNER_WALK_DIR`` (default
test-artifacts/e2e/lifecycle-walk/, gitignored) to be looked at.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import threading
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from urllib.parse import unquote

import pytest
from docx import Document
from openpyxl.utils import get_column_letter
from sqlmodel import Session, select

from planner.db.models import AuditLog, MemberAnswer, PlanRelease
from planner.db.models import Plan as PlanRow
from planner.domain.instance_io import parse_instance
from planner.domain.settled import member_lines
from planner.domain.settled_plan import settled_plan_from_dict
from planner.domain.statements import body_statements
from planner.domain.vocabulary import wareki_date
from planner.reports.control import KIND_LABELS
from planner.reports.kinds import KINDS
from planner.services.plan_lifecycle import today_jst
from tests.domain.test_statements import expected_by_body_and_year
from tests.e2e import test_browser
from tests.e2e.test_browser import ARTIFACTS, solved_on_page
from tests.reports.helpers import Workbook, pdf_text
from tests.support.demo import demo_database

pytestmark = test_browser.pytestmark

WALK = Path(os.environ.get("PLANNER_WALK_DIR") or ARTIFACTS / "lifecycle-walk")
ISSUER = ("長野県 企画振興部 DX推進課", "共同調達担当 信州 太郎", "026-000-0000 / dx@pref.example.lg.jp", "長DX")
MATSUMOTO, NAGANO, OBUSE = "202029", "202011", "205419"


@dataclass
class Demo:
    base: str
    engine: object
    passwords: dict[str, str]
    published_plan_id: int
    draft_plan_id: int
    app: object = None  # the application, for a walk that changes its settings (the mail server)


@pytest.fixture
def demo_server(tmp_path, monkeypatch):
    """The application over a SQLite database made by init-db and the demo (with its plans), on a free port."""
    from werkzeug.serving import make_server

    from planner.app import create_app

    url = f"sqlite:///{tmp_path / 'demo.sqlite'}"
    report, plans = demo_database(url)
    monkeypatch.setenv("PLANNER_INSTANCE_PATH", str(tmp_path / "instance"))
    app = create_app(
        {
            "DATABASE_URL": url,
            "SECRET_KEY": "walk-secret",
            "WTF_CSRF_ENABLED": True,
            "REPORT_CACHE_DIR": str(tmp_path / "cache"),
        }
    )
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield Demo(
        f"http://127.0.0.1:{srv.server_port}",
        app.extensions["db_engine"],
        {login.username: login.password for login in report.logins},
        plans.published_plan_id,
        plans.draft_plan_id,
        app,
    )
    srv.shutdown()
    thread.join(timeout=10)
    app.extensions["db_engine"].dispose()


# --- helpers -------------------------------------------------------------------------------------------------------


def step(page, name: str) -> None:
    page.screenshot(path=str(WALK / f"{name}.png"), full_page=True)


def log_in(page, demo: Demo, username: str) -> None:
    page.goto(f"{demo.base}/login")
    page.fill("#username", username)
    page.fill("#password", demo.passwords[username])
    page.click("button[type=submit]")
    page.wait_for_url(f"{demo.base}/home")


def log_out(page, demo: Demo) -> None:
    page.locator("form[action='/logout'] button").first.click()
    page.wait_for_url(f"{demo.base}/login")


def fetch(page, link_text: str, save_as: str) -> tuple[bytes, str]:
    """Click a download link; (the file, the name the server gave it)."""
    with page.expect_download(timeout=300_000) as info:
        page.get_by_role("link", name=link_text).first.click()
    path = WALK / save_as
    info.value.save_as(str(path))
    return path.read_bytes(), unquote(info.value.suggested_filename)


def built_zip(page, shot: str, save_as: str) -> tuple[zipfile.ZipFile, str]:
    """On the ZIP's progress page: wait until it is built, download it; (the archive, the name the server gave it)."""
    page.locator("#bundle-download").wait_for(timeout=1_200_000)
    step(page, shot)
    with page.expect_download(timeout=300_000) as info:
        page.locator("#bundle-download").click()
    path = WALK / save_as
    info.value.save_as(str(path))
    return zipfile.ZipFile(path), unquote(info.value.suggested_filename)


def pdf_pages_png(data: bytes, name: str, last: int = 3) -> None:
    if shutil.which("pdftoppm") is None:
        return
    path = WALK / f"{name}.pdf"
    path.write_bytes(data)
    subprocess.run(
        ["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", str(last), str(path), str(WALK / name)],
        check=True,
        timeout=120,
    )


def loaded_plan(engine, plan_id: int):
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        return parse_instance(row.instance_doc), settled_plan_from_dict(row.plan_doc)


def body_needs(engine, plan_id: int, body: str) -> list[tuple[str, str, int]]:
    """(need id, mode, group size) of the body's needs in the plan."""
    instance, plan = loaded_plan(engine, plan_id)
    return [(n, g.mode, len(g.members)) for g in plan.groups for n in g.members if instance.need(n).body == body]


def answer(page, demo: Demo, plan_id: int, choices: dict[str, tuple[str, str]]) -> None:
    """Fill the answer form by need id: {need id: (join | decline | conditional, comment)} and send it."""
    page.goto(f"{demo.base}/plans/{plan_id}/answer")
    for need_id, (value, comment) in choices.items():
        page.check(f"input[name='answer-{need_id}'][value='{value}']")
        if comment:
            page.fill(f"#comment-{need_id}", comment)
    page.get_by_role("button", name="回答を送信").click()
    page.wait_for_url(f"{demo.base}/plans/{plan_id}/answer")
    assert "回答を記録しました" in page.content()


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


def flat(text: str) -> str:
    return "".join(text.split())


def workbook_text(wb) -> str:
    return "\n".join(str(c.value) for ws in wb.worksheets for row in ws.iter_rows() for c in row if c.value is not None)


# --- the walk ------------------------------------------------------------------------------------------------------


def test_demo_walk_from_a_draft_to_signed_off_budgets(demo_server, browser_page):
    demo = demo_server
    base, engine = demo.base, demo.engine
    page, console_errors = browser_page
    WALK.mkdir(parents=True, exist_ok=True)
    for old in WALK.glob("*"):
        if old.is_file():
            old.unlink()
    page.set_viewport_size({"width": 1366, "height": 900})
    page.set_default_timeout(300_000)  # the prefecture-wide documents of 192 needs take a while on a busy machine
    deadline = today_jst() + timedelta(days=10)
    issued = flat(wareki_date(today_jst()))

    # 0. the demo as a town finds it: 計画 No.1 published, with a deadline, to answer
    log_in(page, demo, "demo-obuse")
    assert "回答をお願いしている計画" in page.content() and "計画 No.1 第1版" in page.content()
    step(page, "00-town-home-demo-published")
    log_out(page, demo)

    # 1. the coordinator: the document control of the prefecture, then the draft and its 案 documents
    log_in(page, demo, "demo-nagano-pref")
    step(page, "01-coordinator-home")
    page.goto(f"{base}/prefectures/20/document-settings")
    for field, value in zip(("#issuer_title", "#contact_person", "#contact", "#number_prefix"), ISSUER, strict=True):
        page.fill(field, value)
    page.get_by_role("button", name="保存する").click()
    page.get_by_text("保存しました").wait_for()
    step(page, "02-document-settings")

    draft = demo.draft_plan_id
    page.goto(f"{base}/plans/{draft}")
    assert "試算" in page.content() and "確定案にする" in page.content()
    step(page, "03-draft-plan")
    page.goto(f"{base}/plans/{draft}/body/{MATSUMOTO}")
    data, name = fetch(page, "年度別負担額（PDF）", "draft-statement-matsumoto.pdf")
    text = pdf_text(data)
    assert "この文書は試算（案）です" in text and f"試算（計画{draft}）" in text and f"長DX試算{draft}-年" in text
    assert name == "年度別負担額_202029_松本市.pdf"
    pdf_pages_png(data, "draft-statement-matsumoto", last=1)

    # 2. the demo's published 計画 No.1 asks the same needs, and one set of needs is asked in one published plan at a
    # time (issue #29): the coordinator withdraws it, with a reason its members are told
    with Session(demo.engine) as session:
        open_plan = session.exec(select(PlanRelease.plan_id).where(PlanRelease.state == "published")).one()
    page.goto(f"{base}/plans/{open_plan}")
    page.get_by_text("この版を取り下げる").click()
    page.fill("#withdraw-reason", "計画 No.2 で条件を見直して改めて公表するため")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="取り下げる", exact=True).click()
    page.wait_for_url(f"{base}/plans/{open_plan}")
    assert "取り下げられました" in page.content()

    # adopt the draft as a new plan number and publish it with a reply deadline
    page.goto(f"{base}/plans/{draft}")
    assert page.locator("#adopt-series").input_value() == "new"
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{draft}")
    assert "計画 No.2 第1版" in page.content() and "確定案（未公表）" in page.content()
    step(page, "04-adopted")
    page.fill("#publish-deadline", deadline.isoformat())
    page.fill("#publish-message", "令和9年度予算要求に向けて、参加の意向を回答してください。")
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{draft}/answers")
    assert "未回答の団体（" in page.content()
    step(page, "05-published-board-empty")
    log_out(page, demo)

    # 3. 松本市 declines one need that is in a joint group and joins the rest
    v1 = draft
    matsumoto = body_needs(engine, v1, MATSUMOTO)
    joint = [n for n, mode, size in matsumoto if mode != "standalone" and size > 1]
    assert len(matsumoto) >= 2 and joint, matsumoto
    declined = joint[0]
    log_in(page, demo, "demo-matsumoto")
    assert "計画 No.2 第1版" in page.content()
    step(page, "06-matsumoto-home")
    page.goto(f"{base}/plans/{v1}/answer")
    step(page, "07-matsumoto-answer-form")
    answer(
        page,
        demo,
        v1,
        {
            n: ("decline", "既存契約が令和10年度まで残るため") if n == declined else ("join", "")
            for n, _, _ in matsumoto
        },
    )
    step(page, "08-matsumoto-answered")
    log_out(page, demo)

    # 4. 長野市 joins, one need on a condition
    nagano = body_needs(engine, v1, NAGANO)
    log_in(page, demo, "demo-nagano-city")
    answer(
        page,
        demo,
        v1,
        {n: ("conditional", "議会の議決が前提です") if i == 0 else ("join", "") for i, (n, _, _) in enumerate(nagano)},
    )
    step(page, "09-nagano-answered")
    log_out(page, demo)

    # 5. the board: 小布施町 (and the others) have not answered; remind them; re-plan with 松本市's need standalone
    log_in(page, demo, "demo-nagano-pref")
    page.goto(f"{base}/plans/{v1}/answers")
    content = page.content()
    assert "既存契約が令和10年度まで残るため" in content and "議会の議決が前提です" in content
    assert "小布施町（未回答" in content and "松本市（未回答" not in content
    page.get_by_role("button", name="未回答の全団体に催促する").click()
    page.wait_for_url(f"{base}/plans/{v1}/answers")
    assert "催促 1 回" in page.content()
    step(page, "10-board-v1")
    # the 不参加 card narrows the table to the declined needs (the one the re-plan will fix standalone)
    page.locator(".answer-summary a", has_text="不参加").click()
    page.wait_for_url(f"{base}/plans/{v1}/answers?answer=decline*")
    declined_rows = page.locator("table.answers-board tbody tr")
    assert declined_rows.count() == 1 and "既存契約が令和10年度まで残るため" in declined_rows.first.inner_text()
    step(page, "10a-board-v1-declined")
    page.get_by_role("button", name="不参加の団体を単独調達に固定して再計画する").click()
    page.wait_for_url(f"{base}/scenarios/*")
    replan = int(page.url.rstrip("/").rsplit("/", 1)[-1])
    v2 = solved_on_page(page, engine, replan, timeout=900)
    assert "単独調達に固定したニーズ：松本市" in page.content()
    step(page, "11-replan-scenario")

    # 6. 第2版: the same plan number by default; publishing carries the answers that still stand
    page.goto(f"{base}/plans/{v2}")
    assert page.locator("#adopt-series").input_value() != "new"
    test_browser.adopt_draft(page)
    page.wait_for_url(f"{base}/plans/{v2}")
    assert "計画 No.2 第2版" in page.content()
    page.fill("#publish-deadline", deadline.isoformat())
    page.get_by_role("button", name="参加団体に公表する").click()
    page.wait_for_url(f"{base}/plans/{v2}/answers")
    content = page.content()
    assert "第1版から引継ぎ" in content and "再計画は不要です" in content
    step(page, "12-board-v2")
    with Session(engine) as session:
        r1, r2 = (session.exec(select(PlanRelease).where(PlanRelease.plan_id == p)).one() for p in (v1, v2))
        assert (r1.state, r2.state, r2.version, r2.replan_of) == ("superseded", "published", 2, r1.id)
        carried = session.exec(select(MemberAnswer).where(MemberAnswer.release_id == r2.id)).all()
        assert {a.need_key: a.answer for a in carried}[declined] == "decline"  # the decliner stays declined
        audited = session.exec(select(AuditLog.action).where(AuditLog.action == "carry")).all()
        assert len(audited) == len(carried)
    instance2, plan2 = loaded_plan(engine, v2)
    group_of = {n: g for g in plan2.groups for n in g.members}
    assert group_of[declined].mode == "standalone" and list(group_of[declined].members) == [declined]
    page.goto(f"{base}/plans/{v2}")
    assert "版の履歴（2 版）" in page.content()
    step(page, "13-plan-v2")

    # 7. 長野市 sees 第2版: what stands is carried, what changed is asked again with the first answer beside it
    log_out(page, demo)
    log_in(page, demo, "demo-nagano-city")
    assert "計画 No.2 第2版" in page.content()
    page.goto(f"{base}/plans/{v2}/answer")
    step(page, "14-nagano-answer-form-v2")
    again = {n: ("join", "") for n, _, _ in body_needs(engine, v2, NAGANO) if n not in {a.need_key for a in carried}}
    if again:
        assert "改めて回答してください" in page.content()
        answer(page, demo, v2, again)
    else:
        assert "を引き継いでいます" in page.content()
    step(page, "15-nagano-answered-v2")
    log_out(page, demo)

    # 8. the documents of 第2版 (公表中): statements, budget workbook, agreement draft, the ZIP
    log_in(page, demo, "demo-nagano-pref")
    number = "長DX第2-2号"
    control_parts = (number, "計画No.2第2版（公表中）", issued, *(flat(x) for x in ISSUER[:3]))

    page.goto(f"{base}/plans/{v2}/body/{MATSUMOTO}")
    step(page, "16-body-matsumoto-v2")
    data, name = fetch(page, "年度別負担額（PDF）", "statement-matsumoto.pdf")
    assert name == "年度別負担額_202029_松本市.pdf"
    text = pdf_text(data)
    for part in control_parts:
        assert part in text, part
    assert (
        f"{number}-年-{MATSUMOTO}" in text and "人口：" in text and "財政力指数" in text and "政府標準利用規約" in text
    )
    assert "この文書は試算（案）です" not in text and "松本市長様" in text
    # the year-by-year figures are the plan's member figures summed by fiscal year
    (statement,) = body_statements(instance2, plan2, [MATSUMOTO])
    expected = expected_by_body_and_year(instance2, plan2)
    assert len(statement.needs) >= 2 and len(statement.fiscal_years) > 1
    for y in statement.years:
        cells = [y.initial_yen, y.annual_yen, y.grant_yen, y.special_tax_yen]
        assert cells == expected.get((MATSUMOTO, y.fiscal_year), [0, 0, 0, 0])
        row = f"令和{y.fiscal_year - 2018}年度（{y.fiscal_year}年度）" + "".join(
            yen(v)
            for v in (
                y.initial_yen,
                y.annual_yen,
                y.gross_yen,
                y.special_tax_without_grant_yen,
                y.net_without_grant_yen,
                y.grant_yen,
                y.net_yen,
            )
        )
        assert row in text, row
    lines = [ln for g in plan2.groups for ln in member_lines(instance2, g) if ln.body_code == MATSUMOTO]
    assert statement.total.net_without_grant_yen == sum(ln.net_without_grant_yen for ln in lines)
    pdf_pages_png(data, "statement-matsumoto")

    page.goto(f"{base}/plans/{v2}")
    data, name = fetch(page, "年度別予算総括表（Excel）", "budget.xlsx")
    assert name.startswith("年度別予算総括表_") and name.endswith(".xlsx") and str(v2) not in name
    wb = Workbook(data)
    wb_text = flat(workbook_text(wb.wb))
    for part in control_parts:
        assert part in wb_text, part
    assert f"{number}-予" in wb_text and "人口：" in wb_text and "【案】" not in wb_text
    first = wb.wb.worksheets[0]
    assert not (first.oddHeader.center.text or "") and first.oddHeader.right.text == "計画 No.2 第2版"
    # 歳出 first: its 純計 (the 負担金 between bodies taken out) is every group's cost counted once
    starts = [g.start_year for g in plan2.groups]
    span = max(starts) + instance2.horizon_years - min(starts)
    net_row = next(
        r[1].row for r in wb.wb["歳出"].iter_rows(min_col=1, max_col=2) if r[1].value == "純計（団体間の負担金を除く）"
    )
    assert wb.value("歳出", f"{get_column_letter(3 + span)}{net_row}") == sum(g.cost.total_yen for g in plan2.groups)
    budget_pdf, _ = fetch(page, "年度別予算総括表（PDF）", "budget.pdf")
    assert f"{number}-予" in pdf_text(budget_pdf) and "この文書は試算（案）です" not in pdf_text(budget_pdf)
    pdf_pages_png(budget_pdf, "budget", last=2)

    # a lead-mode group (a 協定書; a 仕様統一 group has a 覚書), 長野市's where it is in one
    lead_groups = [g for g in plan2.groups if g.mode == "lead"]
    joint_group = next(
        (g for g in lead_groups if any(instance2.need(n).body == NAGANO for n in g.members)), lead_groups[0]
    )
    member_name = instance2.bodies[instance2.need(joint_group.members[0]).body].name
    page.goto(f"{base}/plans/{v2}/groups/{joint_group.id}")
    step(page, "17-group-v2")
    data, name = fetch(page, "協定書案（Word）", "agreement.docx")
    category = instance2.categories[joint_group.category].name.split("（")[0]
    assert name.startswith(f"協定書案_{category}_{instance2.bodies[joint_group.lead_body].name}_") and name.endswith(
        ".docx"
    )
    doc = Document(io.BytesIO(data))
    header = "\n".join(p.text for p in doc.sections[0].header.paragraphs)
    assert not header.startswith("【案】") and f"{number}-協-{joint_group.id}" in header and "計画 No.2 第2版" in header
    body = "\n".join(p.text for p in doc.paragraphs)
    cells = "\n".join(c.text for t in doc.tables for row in t.rows for c in row.cells)
    assert "共同調達に関する協定書（案）" in body and "（負担額の算定）" in body and member_name in body + cells
    # one issuer: the group's lead, not the prefecture's 発行・担当 beside it
    lead_head = instance2.bodies[joint_group.lead_body].name
    assert issued in flat(header) and f"発行 幹事団体　{lead_head}" in header
    assert flat(ISSUER[0]) not in flat(header + body + cells)

    # the coordinator's ZIP of every document starts in the background with its progress page; it is built while
    # 松本市 takes its turn, and downloaded at the end (step 10)
    page.goto(f"{base}/plans/{v2}")
    page.get_by_role("link", name="全帳票（ZIP）").click()
    page.wait_for_url(f"{base}/plans/{v2}/reports/bundle")
    assert "帳票一式（ZIP）" in page.content() and "計画 No.2 第2版" in page.content()
    step(page, "18-zip-progress-coordinator")
    log_out(page, demo)

    # 9. 松本市: its own statement of 第2版 and the ZIP of its own documents; the prefecture's table stays closed
    log_in(page, demo, "demo-matsumoto")
    page.goto(f"{base}/plans/{v2}")
    page.wait_for_url(f"{base}/plans/{v2}/body/{MATSUMOTO}")
    step(page, "19-matsumoto-own-v2")
    own, _ = fetch(page, "年度別負担額（PDF）", "statement-matsumoto-own.pdf")
    assert "松本市長様" in pdf_text(own) and number in pdf_text(own)
    assert page.request.get(f"{base}/plans/{v2}/reports/budget.xlsx").status == 404
    page.goto(f"{base}/plans/{v2}/reports.zip")
    page.wait_for_url(f"{base}/plans/{v2}/reports/bundle")
    step(page, "20-matsumoto-zip-progress")
    archive, zip_name = built_zip(page, "21-matsumoto-zip-ready", "matsumoto.zip")
    assert zip_name.startswith("帳票一式_") and "松本市" in zip_name
    names = archive.namelist()
    assert "年度別負担額/202029_松本市.pdf" in names and any(n.startswith(("協定書案/", "覚書案/")) for n in names)
    assert "年度別予算総括表.xlsx" not in names  # the prefecture's, not a town's
    inside = pdf_text(archive.read("年度別負担額/202029_松本市.pdf"))
    assert "計画No.2第2版（公表中）" in inside and "この文書は試算（案）です" not in inside and number in inside
    log_out(page, demo)

    # 10. the coordinator's ZIP, built in the background meanwhile: every document of 第2版, downloaded and read back
    log_in(page, demo, "demo-nagano-pref")
    page.goto(f"{base}/plans/{v2}/reports/bundle")
    archive, zip_name = built_zip(page, "22-zip-ready-coordinator", "coordinator.zip")
    assert zip_name.startswith("帳票一式_") and "松本市" not in zip_name  # the whole plan's, not a body's
    names = archive.namelist()
    # a 仕様統一 group's 算定書 and notices are filed by their titles (no 負担金 between its bodies)
    labels = [KINDS[k].label_for(mode) for k in ("group", "member") for mode in ("lead", "unified")]
    labels += [KIND_LABELS[k] for k in ("agreement", "memorandum", "statement", "finance")]
    folders = {label: sum(1 for n in names if n.startswith(f"{label}/")) for label in labels}
    joint = [g for g in plan2.groups if g.mode != "standalone"]
    member_bodies = {instance2.need(n).body for g in plan2.groups for n in g.members}
    expected = {label: 0 for label in labels}
    for g in joint:
        expected[KINDS["group"].label_for(g.mode)] += 2  # PDF and workbook
        expected[KINDS["member"].label_for(g.mode)] += len(g.members)
        expected[KIND_LABELS["agreement" if g.mode == "lead" else "memorandum"]] += 2  # PDF and Word
    expected[KIND_LABELS["statement"]] = len(member_bodies)
    # 予算見積資料 (PDF and workbook) of every body that budgets: the members and the leads (a host prefecture too)
    expected[KIND_LABELS["finance"]] = 2 * len(member_bodies | {g.lead_body for g in plan2.groups})
    assert folders == expected, folders
    tables = {f"{KIND_LABELS[kind]}.{ext}" for kind in ("summary", "budget") for ext in ("pdf", "xlsx")}
    assert tables <= set(names) and len(names) == len(tables) + sum(folders.values())
    inside = pdf_text(archive.read(f"年度別負担額/{MATSUMOTO}_松本市.pdf"))
    assert "計画No.2第2版（公表中）" in inside and "この文書は試算（案）です" not in inside and number in inside

    assert not console_errors, console_errors
