"""Downloads of a plan's documents, and who may download which."""
import io
import zipfile

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, Plan as PlanRow, Scenario
from planner.domain.instance_io import instance_to_dict
from tests.reports.fixtures import nagano_instance
from tests.reports.helpers import pdf_text
from tests.reports.plans import settled_plan_doc
from tests.web.conftest import login
from tests.web.test_plans_support import publish_now

GROUPS = [("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
          ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"])]


@pytest.fixture
def plan_id(app, seed, tmp_path):
    app.config["REPORT_CACHE_DIR"] = tmp_path / "report_cache"
    instance = nagano_instance()
    doc = settled_plan_doc(instance, GROUPS)
    with Session(app.extensions["db_engine"]) as session:
        scenario = Scenario(name="長野県 AI共同化 令和8年度", prefecture_code="20", status="done")
        session.add(scenario)
        session.flush()
        row = PlanRow(scenario_id=scenario.id, status=doc["status"], objective_yen=doc["objective_yen"],
                      lower_bound_yen=doc["lower_bound_yen"], gap=doc["gap"],
                      standalone_total_yen=doc["standalone_total_yen"], solve_seconds=doc["solve_seconds"],
                      price_book_version="R8-ref-1", rule_version="R7-web", instance_doc=instance_to_dict(instance),
                      plan_doc=doc)
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
    r = client.get(f"/plans/{plan_id}/reports.zip")
    assert r.status_code == 200 and r.mimetype == "application/zip"
    names = set(zipfile.ZipFile(io.BytesIO(r.data)).namelist())
    assert {"summary.pdf", "summary.xlsx", "負担金算定書/ocr-2026-1.pdf", "負担金算定書/rpa-2026-1.xlsx",
            "負担額通知/member-n-hakuba-ocr.pdf", "負担額通知/member-n-ueda-rpa.pdf"} <= names
    assert len([n for n in names if n.startswith("負担額通知/")]) == 7
    again = client.get(f"/plans/{plan_id}/reports.zip")  # the second download comes from the cache
    assert again.data == r.data and len(list(app.config["REPORT_CACHE_DIR"].iterdir())) == 1


def test_a_draft_plan_gives_municipalities_no_document(client, plan_id):
    login(client, "muni202011")  # 長野市 is in both groups, but the plan is still a draft (試算)
    for path in ("reports/group/ocr-2026-1.pdf", "reports/member/n-nagano-ocr.pdf", "reports.zip"):
        assert client.get(f"/plans/{plan_id}/{path}").status_code == 403


def test_municipality_gets_only_its_own_documents(client, plan_id, app):
    publish_now(app.extensions["db_engine"], plan_id)
    login(client, "muni202011")  # 長野市: in both groups
    assert client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.pdf").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/member/n-nagano-ocr.pdf").status_code == 200
    assert client.get(f"/plans/{plan_id}/reports/member/n-matsumoto-ocr.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/summary.pdf").status_code == 404
    r = client.get(f"/plans/{plan_id}/reports.zip")
    assert r.status_code == 200
    assert sorted(zipfile.ZipFile(io.BytesIO(r.data)).namelist()) == sorted([
        "負担金算定書/ocr-2026-1.pdf", "負担金算定書/ocr-2026-1.xlsx", "負担金算定書/rpa-2026-1.pdf",
        "負担金算定書/rpa-2026-1.xlsx", "負担額通知/member-n-nagano-ocr.pdf", "負担額通知/member-n-nagano-rpa.pdf"])
    with Session(app.extensions["db_engine"]) as session:
        assert session.exec(select(AuditLog).where(AuditLog.action == "forbidden")).first() is not None


def test_municipality_outside_a_group_is_refused(client, plan_id, app):
    publish_now(app.extensions["db_engine"], plan_id)
    login(client, "muni202029")  # 松本市: in the OCR group only
    assert client.get(f"/plans/{plan_id}/reports/group/rpa-2026-1.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/group/ocr-2026-1.xlsx").status_code == 200


def test_other_prefecture_is_refused(client, plan_id):
    login(client, "pref15")
    for path in ("group/ocr-2026-1.pdf", "member/n-nagano-ocr.pdf", "summary.xlsx"):
        assert client.get(f"/plans/{plan_id}/reports/{path}").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports.zip").status_code == 404


def test_refused_and_missing_documents_get_the_same_answer(client, plan_id):
    """No id oracle (issue #13, point 11): another prefecture's existing plan answers exactly like a missing one."""
    login(client, "pref15")
    refused = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    missing = client.get(f"/plans/{plan_id + 99}/reports/summary.pdf")
    assert refused.status_code == missing.status_code == 404
    assert refused.get_data(as_text=True).replace(f"計画 {plan_id} ", "計画 # ") == \
        missing.get_data(as_text=True).replace(f"計画 {plan_id + 99} ", "計画 # ")


def test_unknown_plan_group_and_need(client, plan_id):
    login(client, "admin")
    assert client.get(f"/plans/{plan_id + 99}/reports/summary.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/group/nope.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/member/nope.pdf").status_code == 404
    assert client.get(f"/plans/{plan_id}/reports/summary.docx").status_code == 404


def test_anonymous_is_sent_to_login(client, plan_id):
    r = client.get(f"/plans/{plan_id}/reports/summary.pdf")
    assert r.status_code in (302, 401)
