"""A prefecture's document settings: its coordinator (and administrators) set the issuer, 担当, 連絡先 and the sign of
the 文書番号; the change is audited and over-long values are refused without writing anything."""

from sqlmodel import Session, select

from planner.db.models import AuditLog, DocumentSetting
from tests.support.web import login

VALUES = {
    "issuer_title": "長野県 企画振興部 DX推進課",
    "contact_person": "共同調達担当 信州 太郎",
    "contact": "026-000-0000",
    "number_prefix": "長DX",
}


def test_coordinator_sets_the_document_control(client, app, seed):
    login(client, "pref20")
    page = client.get("/prefectures/20/document-settings")
    assert page.status_code == 200 and "長野県の文書設定" in page.get_data(as_text=True)
    assert "政府標準利用規約" in page.get_data(as_text=True)  # the data source the documents cite
    r = client.post("/prefectures/20/document-settings", data=VALUES)
    assert r.status_code == 302 and "saved=1" in r.headers["Location"]
    with Session(app.extensions["db_engine"]) as session:
        row = session.get(DocumentSetting, "20")
        assert (row.issuer_title, row.contact_person, row.contact, row.number_prefix) == tuple(VALUES.values())
        entry = session.exec(select(AuditLog).where(AuditLog.entity == "document_setting")).one()
        assert entry.after["number_prefix"] == "長DX" and entry.prefecture_code == "20"
    assert "長野県 企画振興部 DX推進課" in client.get("/prefectures/20/document-settings").get_data(as_text=True)


def test_too_long_values_are_refused_and_nothing_is_written(client, app, seed):
    login(client, "pref20")
    r = client.post("/prefectures/20/document-settings", data={**VALUES, "number_prefix": "長" * 21})
    assert r.status_code == 200 and "文書番号の記号は20文字以内" in r.get_data(as_text=True)
    with Session(app.extensions["db_engine"]) as session:
        assert session.get(DocumentSetting, "20") is None


def test_other_prefecture_and_municipality_are_refused(client, seed):
    login(client, "pref15")
    assert client.get("/prefectures/20/document-settings").status_code == 403
    assert client.get("/prefectures/99/document-settings").status_code == 404
