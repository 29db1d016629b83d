"""Downloads of a plan's documents, and who may download which."""

import io
import re
import zipfile

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, Scenario
from planner.db.models import Plan as PlanRow
from planner.domain.instance_io import instance_to_dict
from tests.reports.fixtures import nagano_instance
from tests.reports.helpers import pdf_text
from tests.reports.plans import settled_plan_doc
from tests.support.documents import fetch_zip
from tests.support.plans import publish_now
from tests.support.web import login, logout

GROUPS = [
    ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
    ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
]


@pytest.fixture
def plan_id(app, seed, tmp_path):
    app.config["REPORT_CACHE_DIR"] = tmp_path / "report_cache"
    instance = nagano_instance()
    doc = settled_plan_doc(instance, GROUPS)
    with Session(app.extensions["db_engine"]) as session:
        # the plan's bodies are in the database, as init-db leaves every body: a plan's members are checked there
        for body in instance.bodies.values():
            if session.get(Body, body.code) is None:
                session.add(
                    Body(
                        code=body.code,
                        name=body.name,
                        prefecture_code=body.prefecture_code,
                        kind=body.kind,
                        lat=body.lat,
                        lng=body.lng,
                        population=body.population,
                    )
                )
        scenario = Scenario(name="長野県 AI共同化 令和8年度", prefecture_code="20", status="done")
        session.add(scenario)
        session.flush()
        row = PlanRow(
            scenario_id=scenario.id,
            status=doc["status"],
            objective_yen=doc["objective_yen"],
            lower_bound_yen=doc["lower_bound_yen"],
            gap=doc["gap"],
            standalone_total_yen=doc["standalone_total_yen"],
            solve_seconds=doc["solve_seconds"],
            price_book_version="R8-ref-1",
            rule_version="R7-web",
            instance_doc=instance_to_dict(instance),
            plan_doc=doc,
        )
        session.add(row)
        session.commit()
        return row.id


def test_coordinator_downloads_every_document(client, plan_id):
    login(client, "pref20")
    r = client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.pdf")
    assert r.status_code == 200 and r.mimetype == "application/pdf"
    assert "attachment" in r.headers["Content-Disposition"]
    text = pdf_text(r.data)
    for name in ("長野市", "松本市", "小谷村", "白馬村"):
        assert name in text
    assert "R7-web" in text and "R8-ref-1" in text and "長野県AI共同化令和8年度" in text
    r = client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.xlsx")
    assert r.status_code == 200 and r.data[:2] == b"PK"
    r = client.get(f"/plans/{plan_id}/reports/member/n-otari-rpa.pdf")
    assert r.status_code == 200 and "小谷村長様" in pdf_text(r.data)
    assert client.get(f"/plans/{plan_id}/reports/member/n-otari-rpa.xlsx").status_code == 200
    r = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    assert r.status_code == 200 and "ocr-2026-1" in pdf_text(r.data)
    assert client.get(f"/plans/{plan_id}/reports/summary.xlsx").status_code == 200


def test_zip_has_all_documents(client, plan_id, app):
    login(client, "admin")
    first = client.get(f"/plans/{plan_id}/reports.zip")
    assert first.status_code == 302  # building: the progress page
    page = client.get(f"/plans/{plan_id}/reports/bundle")
    assert page.status_code == 200 and "帳票一式" in page.get_data(as_text=True)
    r = fetch_zip(client, plan_id)
    assert r.status_code == 200 and r.mimetype == "application/zip"
    assert "%E5%B8%B3%E7%A5%A8%E4%B8%80%E5%BC%8F" in r.headers["Content-Disposition"]  # 帳票一式_<scenario>.zip
    names = set(zipfile.ZipFile(io.BytesIO(r.data)).namelist())
    assert {
        "共同調達計画まとめ.pdf",
        "共同調達計画まとめ.xlsx",
        "年度別予算総括表.pdf",
        "年度別予算総括表.xlsx",
        "契約予定額（見込）算定書/AI-OCR_長野市_2026_ocr-2026-1.pdf",
        "負担金算定書/RPA_長野県_2026_rpa-2026-1.xlsx",
        "契約予定額（見込）のお知らせ/204854_白馬村_AI-OCR_2026.pdf",
        "負担額通知/202037_上田市_RPA_2026.pdf",
        "協定書案/RPA_長野県_2026_rpa-2026-1.docx",
        "年度別負担額/204820_小谷村.pdf",
        "予算見積資料/200000_長野県.pdf",  # the prefecture leads the RPA group: the whole contract is its 歳出
        "予算見積資料/200000_長野県.xlsx",
    } <= names
    # a member's notice, filed by what it is: a 負担額 in a lead-mode group, an expected contract in 仕様統一方式
    notices = [n for n in names if n.startswith(("負担額通知/", "契約予定額（見込）のお知らせ/"))]
    assert len(notices) == 7 and not any(n.startswith("負担金算定書/AI-OCR") for n in names)
    assert len([n for n in names if n.startswith("年度別負担額/")]) == 5  # every body with a need
    again = client.get(f"/plans/{plan_id}/reports.zip")  # the second download is served from the built file
    assert again.status_code == 200 and again.data == r.data


def test_a_draft_plan_gives_municipalities_no_document(client, plan_id):
    login(client, "muni202011")  # 長野市 is in both groups, but the plan is still a draft (試算)
    for path in ("reports/group/ocr-2026-1.pdf", "reports/member/n-nagano-ocr.pdf", "reports.zip"):
        assert client.get(f"/plans/{plan_id}/{path}").status_code == 404  # refused answers like missing (#13)


def test_municipality_gets_only_its_own_documents(client, plan_id, app):
    publish_now(app.extensions["db_engine"], plan_id)
    login(client, "muni202011")  # 長野市: in both groups
    assert client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.pdf").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/member/n-nagano-ocr.pdf").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/member/n-matsumoto-ocr.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/summary.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/statement/202011.pdf").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/statement/202029.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/budget.xlsx").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/agreement/rpa-2026-1.docx").status_code == 200
    drafted = client.get(f"/plans/{plan_id}/reports/agreement/rpa-2026-1.pdf")
    assert drafted.status_code == 200 and "第4条" in pdf_text(drafted.data)
    assert _download_name(drafted) == "協定書案_RPA_長野県_2026_rpa-2026-1.pdf"
    r = fetch_zip(client, plan_id)
    assert r.status_code == 200
    assert sorted(zipfile.ZipFile(io.BytesIO(r.data)).namelist()) == sorted(
        [
            "契約予定額（見込）算定書/AI-OCR_長野市_2026_ocr-2026-1.pdf",
            "契約予定額（見込）算定書/AI-OCR_長野市_2026_ocr-2026-1.xlsx",
            "負担金算定書/RPA_長野県_2026_rpa-2026-1.pdf",
            "負担金算定書/RPA_長野県_2026_rpa-2026-1.xlsx",
            "覚書案/AI-OCR_長野市_2026_ocr-2026-1.docx",
            "覚書案/AI-OCR_長野市_2026_ocr-2026-1.pdf",
            "協定書案/RPA_長野県_2026_rpa-2026-1.docx",
            "協定書案/RPA_長野県_2026_rpa-2026-1.pdf",
            "契約予定額（見込）のお知らせ/202011_長野市_AI-OCR_2026.pdf",
            "負担額通知/202011_長野市_RPA_2026.pdf",
            "年度別負担額/202011_長野市.pdf",
            "予算見積資料/202011_長野市.pdf",
            "予算見積資料/202011_長野市.xlsx",
        ]
    )
    with Session(app.extensions["db_engine"]) as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "forbidden")).first() is not None


def test_municipality_outside_a_group_is_refused(client, plan_id, app):
    publish_now(app.extensions["db_engine"], plan_id)
    login(client, "muni202029")  # 松本市: in the OCR group only
    assert client.get(f"/plans/{plan_id}/reports/group/rpa-2026-1.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/agreement/rpa-2026-1.docx").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.xlsx").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/memorandum/ocr-2026-1.docx").status_code == 200


def test_other_prefecture_is_refused(client, plan_id):
    login(client, "pref15")
    for path in ("group/ocr-2026-1.pdf", "member/n-nagano-ocr.pdf", "summary.xlsx", "memorandum/ocr-2026-1.docx"):
        assert client.get(f"/plans/{plan_id}/reports/{path}").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports.zip").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/bundle").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/budget.pdf").status_code == 404


def test_refused_and_missing_documents_get_the_same_answer(client, plan_id):
    """No id oracle (issue #13, point 11): another prefecture's existing plan answers exactly like a missing one."""
    login(client, "pref15")
    refused = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    missing = client.get(f"/plans/{plan_id + 99}/reports/summary.pdf")
    assert refused.status_code == missing.status_code == 404
    # the same page, but for the plan's number and the sign-out form's CSRF token (signed with the second it was made
    # in: a loaded machine made the two pages in different seconds)
    assert _without_tokens(refused.get_data(as_text=True)).replace(f"計画 {plan_id} ", "計画 # ") == _without_tokens(
        missing.get_data(as_text=True)
    ).replace(f"計画 {plan_id + 99} ", "計画 # ")


def _without_tokens(html: str) -> str:
    return re.sub(r'(name="csrf_token"[^>]*value=")[^"]+"', r'\1"', html)


def test_unknown_plan_group_and_need(client, plan_id):
    login(client, "admin")
    assert client.get(f"/plans/{plan_id + 99}/reports/summary.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/group/nope.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/member/nope.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/summary.docx").status_code == 404


def test_anonymous_is_sent_to_login(client, plan_id):
    r = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    assert r.status_code in (302, 401)


def test_statements_budget_and_agreement_downloads(client, plan_id):
    login(client, "pref20")
    r = client.get(f"/plans/{plan_id}/reports/statement/204820.pdf")
    assert r.status_code == 200 and "年度別負担額" in pdf_text(r.data)
    assert "%E5%B0%8F%E8%B0%B7%E6%9D%91" in r.headers["Content-Disposition"]  # 小谷村 in the file name
    assert client.get(f"/plans/{plan_id}/reports/statement/204820.xlsx").data[:2] == b"PK"
    assert client.get(f"/plans/{plan_id}/reports/statement/999999.pdf").status_code == 404
    text = pdf_text(client.get(f"/plans/{plan_id}/reports/budget.pdf").data)
    assert "年度別予算総括表" in text and "小谷村" in text
    assert client.get(f"/plans/{plan_id}/reports/budget.xlsx").status_code == 200
    r = client.get(f"/plans/{plan_id}/reports/agreement/rpa-2026-1.docx")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    assert client.get(f"/plans/{plan_id}/reports/agreement/nope.docx").status_code == 404
    # the 仕様統一 group has its 覚書 and no 協定書; the lead-mode group no 覚書
    r = client.get(f"/plans/{plan_id}/reports/memorandum/ocr-2026-1.docx")
    assert r.status_code == 200 and r.mimetype.endswith("wordprocessingml.document")
    assert client.get(f"/plans/{plan_id}/reports/agreement/ocr-2026-1.docx").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/memorandum/rpa-2026-1.docx").status_code == 404


def test_documents_carry_the_prefecture_document_settings(client, plan_id, app):
    from planner.db.models import DocumentSetting

    with Session(app.extensions["db_engine"]) as session:
        session.add(
            DocumentSetting(
                prefecture_code="20",
                issuer_title="長野県 企画振興部 DX推進課",
                contact_person="共同調達担当 信州太郎",
                contact="026-000-0000",
                number_prefix="長DX",
            )
        )
        session.commit()
    login(client, "pref20")
    text = pdf_text(client.get(f"/plans/{plan_id}/reports/statement/204820.pdf").data)
    for part in (
        "長野県企画振興部DX推進課",
        "共同調達担当信州太郎",
        "026-000-0000",
        f"長DX試算{plan_id}-年-204820",
        "政府標準利用規約",
        "総務省",
    ):
        assert part in text, part
    # a group's 算定書 is issued by its coordinator alone, under the prefecture's numbering
    text = pdf_text(client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.pdf").data)
    assert "発行取りまとめ団体長野市長" in text and f"長DX試算{plan_id}-算-ocr-2026-1" in text
    assert "長野県企画振興部DX推進課" not in text and "共同調達担当信州太郎" not in text


def _download_name(response) -> str:
    from urllib.parse import unquote

    disposition = response.headers["Content-Disposition"]
    return unquote(disposition.split("filename*=UTF-8''", 1)[1]) if "filename*=" in disposition else disposition


def test_published_plan_documents_carry_their_version_and_no_draft_mark(client, plan_id, app):
    """Document control on a published plan's PDFs (read with pypdf) and workbooks (openpyxl): 文書番号 of the plan
    number and version, the plan's label and state, the issue date in JST 和暦, the prefecture's issuer, 担当 and
    連絡先, the population and fiscal-index source; the draft's 案 is gone; file names carry category and body."""
    import openpyxl

    from planner.db.models import DocumentSetting
    from planner.domain.vocabulary import wareki_date
    from planner.services.plan_lifecycle import today_jst

    engine = app.extensions["db_engine"]
    with Session(engine) as session:
        session.add(
            DocumentSetting(
                prefecture_code="20",
                issuer_title="長野県 企画振興部 DX推進課",
                contact_person="共同調達担当 信州太郎",
                contact="026-000-0000",
                number_prefix="長DX",
            )
        )
        session.commit()
    login(client, "pref20")
    urls = {
        "group": (
            f"/plans/{plan_id}/reports/group/ocr-2026-1",
            "算-ocr-2026-1",
            "契約予定額（見込）算定書_AI-OCR_長野市_2026_",
        ),
        "member": (
            f"/plans/{plan_id}/reports/member/n-otari-ocr",
            "通-204820",
            "契約予定額（見込）のお知らせ_204820_小谷村_AI-OCR_2026",
        ),
        "statement": (f"/plans/{plan_id}/reports/statement/204820", "年-204820", "年度別負担額_204820_小谷村"),
        "budget": (f"/plans/{plan_id}/reports/budget", "予", "年度別予算総括表_長野県"),
        "summary": (f"/plans/{plan_id}/reports/summary", "総", "共同調達計画まとめ_長野県"),
    }
    # the draft first: 案 in the PDF and the workbook, so that its absence below means something
    draft_text = pdf_text(client.get(urls["statement"][0] + ".pdf").data)
    assert "この文書は試算（案）です" in draft_text and f"長DX試算{plan_id}-年-204820" in draft_text
    draft_wb = openpyxl.load_workbook(io.BytesIO(client.get(urls["statement"][0] + ".xlsx").data))
    assert draft_wb.worksheets[0].oddHeader.center.text == "案（試算）"

    publish_now(engine, plan_id)
    issued = wareki_date(today_jst())
    number = "長DX第1-1号"
    for kind, (url, code, name) in urls.items():
        r = client.get(url + ".pdf")
        assert r.status_code == 200, kind
        assert _download_name(r).startswith(name) and _download_name(r).endswith(".pdf"), (kind, _download_name(r))
        text = pdf_text(r.data)
        # a group's 算定書 and notices are issued by its coordinator alone; the plan-wide documents by the prefecture
        by_lead = kind in ("group", "member")
        issuer = (
            ("取りまとめ団体長野市長",)
            if by_lead
            else ("長野県企画振興部DX推進課", "共同調達担当信州太郎", "026-000-0000")
        )
        for part in (
            f"{number}-{code}",
            "計画No.1第1版（公表中）",
            issued.replace(" ", ""),
            *issuer,
            "総務省",
            "政府標準利用規約",
        ):
            assert part in text, (kind, part)
        assert by_lead == ("長野県企画振興部DX推進課" not in text), kind
        assert "この文書は試算（案）です" not in text and "試算（計画" not in text, kind

        r = client.get(url + ".xlsx")
        assert r.status_code == 200 and _download_name(r).startswith(name) and _download_name(r).endswith(".xlsx")
        wb = openpyxl.load_workbook(io.BytesIO(r.data))
        ws = wb.worksheets[0]
        rows = {}  # the control lines come first; a later row with the same label (the summary's 計画) is another
        for row in ws.iter_rows(max_col=2):
            if isinstance(row[0].value, str):
                rows.setdefault(row[0].value, row[1].value)
        assert rows["文書番号"] == f"{number}-{code}", kind
        assert rows["計画"] == "計画 No.1 第1版（公表中）" and rows["発行日"] == issued, kind
        if by_lead:
            assert rows["発行"] == "取りまとめ団体　長野市長" and "担当" not in rows, kind
        else:
            assert rows["発行"] == "長野県 企画振興部 DX推進課" and rows["担当"] == "共同調達担当 信州太郎", kind
            assert rows["連絡先"] == "026-000-0000", kind
        assert "総務省" in rows["団体データの出典"], kind
        everything = [c.value for s in wb.worksheets for row in s.iter_rows() for c in row if isinstance(c.value, str)]
        assert not any("【案】" in v for v in everything), kind
        assert not ws.oddHeader.center.text and ws.oddHeader.right.text == "計画 No.1 第1版", kind


def _queued_build_poll(client, plan_id, monkeypatch) -> str:
    """Start the ZIP's build without running it (it stays queued) and return the URL its progress page polls."""
    from planner.jobs import documents
    from tests.support.documents import status_url

    monkeypatch.setattr(documents, "_thread", lambda folder, key, request: None)
    assert client.get(f"/plans/{plan_id}/reports.zip").status_code == 302
    return status_url(client, plan_id)


def test_the_progress_page_polls_with_a_token_that_spares_loading_the_plan(client, plan_id, monkeypatch):
    from planner.web import reports

    login(client, "admin")
    poll = _queued_build_poll(client, plan_id, monkeypatch)
    assert "build=" in poll and "format=json" in poll

    def no_loading(plan_id):
        raise AssertionError("the poll loaded the plan")

    monkeypatch.setattr(reports, "_load", no_loading)
    state = client.get(poll).get_json()
    assert state["status"] == "queued" and state["download"].endswith(f"/plans/{plan_id}/reports.zip")


def test_a_poll_token_of_another_user_plan_or_signature_counts_for_nothing(client, plan_id, monkeypatch):
    login(client, "admin")
    poll = _queued_build_poll(client, plan_id, monkeypatch)
    token = poll.split("build=", 1)[1].split("&", 1)[0]
    forged = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    # Without a valid token the poll takes the full way, with its access check: these all load the plan.
    assert client.get(f"/plans/{plan_id + 99}/reports/bundle?format=json&build={token}").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/bundle?format=json&build={forged}").get_json()["status"] == "queued"
    logout(client)
    login(client, "pref15")  # another prefecture's coordinator, with the admin's token
    assert client.get(poll).status_code == 404


def test_a_set_never_built_offers_to_build_it_instead_of_polling(client, plan_id):
    login(client, "admin")
    page = client.get(f"/plans/{plan_id}/reports/bundle").get_data(as_text=True)
    assert "まだ作成していません" in page and "data-status-url" not in page and "bundle-progress.js" not in page
    assert "保存期間（7日）" in page  # the report cache's MAX_AGE_SECONDS, in days
    started = client.post(f"/plans/{plan_id}/reports/bundle")
    assert started.status_code == 302 and started.headers["Location"].endswith(f"/plans/{plan_id}/reports/bundle")
    assert fetch_zip(client, plan_id).mimetype == "application/zip"


def test_budget_papers_are_linked_where_finance_users_look(client, plan_id, app):
    """The 予算見積資料 of a body is on its page; the plan page lists the leads' (the prefecture leads the RPA group
    as host and has one); a municipality gets its own only, as the finance kind's audience says."""
    login(client, "pref20")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "幹事団体の予算見積資料（1団体）" in page and f"/plans/{plan_id}/reports/finance/200000.pdf" in page
    body = client.get(f"/plans/{plan_id}/body/200000").get_data(as_text=True)
    assert f"/plans/{plan_id}/reports/finance/200000.xlsx" in body
    r = client.get(f"/plans/{plan_id}/reports/finance/200000.pdf")
    text = pdf_text(r.data)
    assert r.status_code == 200 and "予算見積資料" in text and "分担金及び負担金" in text
    assert client.get(f"/plans/{plan_id}/reports/finance/202029.xlsx").data[:2] == b"PK"
    publish_now(app.extensions["db_engine"], plan_id)
    logout(client)
    login(client, "muni202011")  # 長野市: a member of the RPA group, coordinator of the OCR group
    body = client.get(f"/plans/{plan_id}/body/202011").get_data(as_text=True)
    assert f"/plans/{plan_id}/reports/finance/202011.pdf" in body
    assert "幹事団体の予算見積資料" not in client.get(f"/plans/{plan_id}").get_data(as_text=True)
    text = pdf_text(client.get(f"/plans/{plan_id}/reports/finance/202011.pdf").data)
    assert "18節負担金、補助及び交付金" in text and "契約予定額（見込）" in text
    assert client.get(f"/plans/{plan_id}/reports/finance/200000.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/finance/202029.pdf").status_code == 404


def test_group_pages_name_each_mode_s_statement(client, plan_id):
    """仕様統一方式 owes nothing between bodies: the group page links its 契約予定額（見込）算定書 and the members'
    お知らせ, not a 負担金算定書 or 負担額通知; a lead-mode group keeps the 負担 words; the download names follow."""
    login(client, "admin")
    unified = client.get(f"/plans/{plan_id}/groups/ocr-2026-1").get_data(as_text=True)
    assert "契約予定額（見込）算定書（PDF）" in unified and "契約予定額（見込）のお知らせ（PDF）" in unified
    assert "負担金算定書" not in unified and "負担額通知（PDF）" not in unified
    lead = client.get(f"/plans/{plan_id}/groups/rpa-2026-1").get_data(as_text=True)
    assert "負担金算定書（PDF）" in lead and "負担額通知（PDF）" in lead and "契約予定額" not in lead
    # each draft to read (PDF) and to edit (Word)
    assert "協定書案（PDF）" in lead and "協定書案（Word）" in lead
    assert "覚書案（PDF）" in unified and "覚書案（Word）" in unified
    for url, name in (
        (
            f"/plans/{plan_id}/reports/group/ocr-2026-1.xlsx",
            "契約予定額（見込）算定書_AI-OCR_長野市_2026_ocr-2026-1.xlsx",
        ),
        (f"/plans/{plan_id}/reports/group/rpa-2026-1.xlsx", "負担金算定書_RPA_長野県_2026_rpa-2026-1.xlsx"),
    ):
        r = client.get(url)
        assert r.status_code == 200 and _download_name(r) == name
