"""Bodies pages: who may see and edit which body, optimistic locking, the bulk flags import, the CSV export."""

from __future__ import annotations

import base64
import csv
import io
import re

import pytest
from openpyxl import Workbook
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, DataVintage, Need
from tests.support.web import login


def engine_of(app):
    return app.extensions["db_engine"]


def body(app, code) -> Body:
    with Session(engine_of(app)) as session:
        return session.get(Body, code)


def audit_rows(app, **where):
    with Session(engine_of(app)) as session:
        query = select(AuditLog).order_by(AuditLog.id)
        for key, value in where.items():
            query = query.where(getattr(AuditLog, key) == value)
        return list(session.exec(query))


def flags_post(client, code, version, disadvantaged=False, has_data_plan=False, **extra):
    data = {f"b{code}-version": str(version), **extra}
    if disadvantaged:
        data[f"b{code}-disadvantaged"] = "y"
    if has_data_plan:
        data[f"b{code}-has_data_plan"] = "y"
    return client.post(f"/bodies/{code}/flags", data=data)


# --- access --------------------------------------------------------------------------------------------------


def test_municipality_staff_cannot_reach_the_bodies_pages(app, client, seed):
    login(client, "muni202011")
    for url in ("/bodies", "/bodies/202011", "/bodies/import", "/bodies/export.csv"):
        assert client.get(url).status_code == 403, url
    assert flags_post(client, "202011", 1, disadvantaged=True).status_code == 403
    assert body(app, "202011").disadvantaged is False
    assert any(a.action == "forbidden" for a in audit_rows(app, user_id=seed["users"]["muni202011"]))


def test_anonymous_visitors_are_sent_to_the_login_page(app, client, seed):
    r = client.get("/bodies")
    assert r.status_code == 302 and "/login" in r.headers["Location"]


def test_coordinator_lists_only_its_prefecture_even_when_asking_for_another(app, client, seed):
    login(client, "pref20")
    html = client.get("/bodies?prefecture=15").get_data(as_text=True)
    assert "長野市" in html and "小谷村" in html
    assert "新潟市" not in html
    assert "4 団体" in html


def test_admin_lists_filters_by_prefecture_kind_and_name(app, client, seed):
    login(client, "admin")
    assert "6 団体" in client.get("/bodies").get_data(as_text=True)
    html = client.get("/bodies?prefecture=15").get_data(as_text=True)
    assert "新潟市" in html and "長野市" not in html
    html = client.get("/bodies?kind=village").get_data(as_text=True)
    assert "小谷村" in html and "松本市" not in html and "1 団体" in html
    html = client.get("/bodies?q=松本").get_data(as_text=True)
    assert "松本市" in html and "長野市" not in html
    html = client.get("/bodies?q=2020").get_data(as_text=True)  # a code prefix
    assert "長野市" in html and "松本市" in html and "小谷村" not in html


def test_list_paginates_and_shows_figures_with_their_vintage(app, client, seed):
    from datetime import date

    with Session(engine_of(app)) as session:
        v = DataVintage(dataset="population", as_of=date(2022, 1, 1), source="総務省 住民基本台帳", rows=1)
        session.add(v)
        session.flush()
        session.get(Body, "202011").population_vintage_id = v.id
        for i in range(60):  # enough bodies for a second page
            session.add(
                Body(
                    code=f"2099{i:02d}", name=f"テスト町{i:02d}", prefecture_code="20", kind="town", lat=36.0, lng=138.0
                )
            )
        session.commit()
    login(client, "admin")
    html = client.get("/bodies").get_data(as_text=True)
    assert "369,977人" in html and "2022-01-01時点" in html
    assert "0.67" in html
    assert "1 / 2 ページ" in html and 'rel="next"' in html
    html2 = client.get("/bodies?page=2").get_data(as_text=True)
    assert "テスト町59" in html2 and "長野市" not in html2


def test_missing_figures_are_marked_not_imported(app, client, seed):
    with Session(engine_of(app)) as session:
        session.get(Body, "204820").population = None
        session.commit()
    login(client, "pref20")
    html = client.get("/bodies/204820").get_data(as_text=True)
    assert "未取込" in html and "まだ取り込まれていません" in html


# --- editing flags -------------------------------------------------------------------------------------------


def test_coordinator_edits_flags_of_its_body_and_the_change_is_audited(app, client, seed):
    login(client, "pref20")
    r = flags_post(client, "204820", 1, disadvantaged=True, has_data_plan=True)
    assert r.status_code == 302
    b = body(app, "204820")
    assert b.disadvantaged and b.has_data_plan and b.version == 2
    entries = audit_rows(app, entity="body", entity_id="204820")
    assert entries[-1].action == "update" and entries[-1].user_id == seed["users"]["pref20"]
    assert entries[-1].before == {"disadvantaged": False, "has_data_plan": False, "no_allocation_tax": False}
    assert entries[-1].after == {"disadvantaged": True, "has_data_plan": True, "no_allocation_tax": False}
    assert entries[-1].prefecture_code == "20"
    html = client.get("/bodies/204820").get_data(as_text=True)
    assert "変更履歴" in html and "長野県 担当" in html and "条件不利地域: いいえ → <strong>はい</strong>" in html


def test_coordinator_cannot_edit_or_view_another_prefectures_body(app, client, seed):
    login(client, "pref15")
    assert client.get("/bodies/202011").status_code == 403
    assert flags_post(client, "202011", 1, disadvantaged=True).status_code == 403
    assert body(app, "202011").disadvantaged is False and body(app, "202011").version == 1
    refused = [a for a in audit_rows(app, action="forbidden") if a.user_id == seed["users"]["pref15"]]
    assert refused and "/bodies/202011" in refused[-1].detail


def test_a_stale_version_is_refused_and_nothing_is_overwritten(app, client, seed):
    login(client, "admin")
    assert flags_post(client, "202029", 1, disadvantaged=True).status_code == 302
    # A second editor who opened the page at version 1 tries to save other values.
    r = flags_post(client, "202029", 1, has_data_plan=True)
    assert r.status_code == 409  # answered with the body's page showing the values that won, and their version
    b = body(app, "202029")
    assert b.disadvantaged is True and b.has_data_plan is False and b.version == 2
    html = r.get_data(as_text=True)
    assert "他の利用者が更新しました" in html
    assert 'name="b202029-version" type="hidden" value="2"' in html or 'value="2"' in html
    assert len([a for a in audit_rows(app, entity="body", entity_id="202029") if a.action == "update"]) == 1


def test_missing_version_is_an_error_not_a_blind_overwrite(app, client, seed):
    login(client, "admin")
    r = client.post("/bodies/202029/flags", data={"b202029-disadvantaged": "y"})
    assert r.status_code == 400
    assert body(app, "202029").disadvantaged is False
    assert "画面を開き直して" in r.get_data(as_text=True)
    r = client.post("/bodies/202029/flags", data={"b202029-disadvantaged": "y", "b202029-version": "abc"})
    assert r.status_code == 400 and body(app, "202029").disadvantaged is False


def test_unknown_body_is_404(app, client, seed):
    login(client, "admin")
    assert client.get("/bodies/999999").status_code == 404


def test_body_page_lists_its_needs(app, client, seed):
    with Session(engine_of(app)) as session:
        from planner.db.models import Category

        cat = session.exec(select(Category)).first()
        session.add(Need(body_code="202011", category_id=cat.id, volume=1200, start_year=2026))
        session.add(Need(body_code="202011", category_id=cat.id, volume=50, start_year=2027, status="withdrawn"))
        session.commit()
        cat_name = cat.name
    login(client, "pref20")
    html = client.get("/bodies/202011").get_data(as_text=True)
    assert "ニーズ（2 件）" in html and cat_name in html and "1,200" in html
    assert "令和8年度" in html and "取下げ" in html


# --- bulk import ---------------------------------------------------------------------------------------------


def upload(client, name, data: bytes):
    return client.post("/bodies/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")


def confirm_fields(html: str) -> dict:
    fields = dict(re.findall(r'<input[^>]*name="(file_name|content|basis)"[^>]*value="([^"]*)"', html))
    if len(fields) < 3:
        fields.update(
            {k: v for v, k in re.findall(r'<input[^>]*value="([^"]*)"[^>]*name="(file_name|content|basis)"', html)}
        )
    return fields


def test_flags_import_previews_then_applies_on_confirmation(app, client, seed):
    login(client, "pref20")
    data = "団体コード,団体名,条件不利地域,官民データ活用推進計画\n204820,小谷村,○,あり\n202029,松本市,,1\n".encode(
        "cp932"
    )
    r = upload(client, "flags.csv", data)
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "フラグが変わる団体は 2 です" in html
    assert "この内容で取り込む" in html
    assert body(app, "204820").disadvantaged is False  # the preview writes nothing
    assert not [v for v in _vintages(app) if v.dataset == "flags"]
    fields = confirm_fields(html)
    assert base64.b64decode(fields["content"]) == data
    r = client.post("/bodies/import/confirm", data=fields)
    assert r.status_code == 302
    b = body(app, "204820")
    assert b.disadvantaged and b.has_data_plan
    assert body(app, "202029").has_data_plan and not body(app, "202029").disadvantaged
    imports = audit_rows(app, action="import", entity="body")
    assert {a.entity_id for a in imports} == {"204820", "202029"}


def _vintages(app):
    with Session(engine_of(app)) as session:
        return list(session.exec(select(DataVintage)))


def test_flags_import_errors_name_row_and_column_and_write_nothing(app, client, seed):
    login(client, "admin")
    data = "code,disadvantaged\n204820,1\n999999,1\n202029,たぶん\n".encode()
    r = upload(client, "bad.csv", data)
    html = r.get_data(as_text=True)
    assert "何も書き込んでいません" in html
    assert "import/confirm" not in html
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]*)</td><td>([^<]*)</td></tr>", html)
    assert {int(r[0]) for r in rows} >= {3, 4}
    assert body(app, "204820").disadvantaged is False
    assert not [v for v in _vintages(app) if v.dataset == "flags"]


def test_coordinator_cannot_import_flags_of_another_prefecture(app, client, seed):
    login(client, "pref15")
    data = b"code,disadvantaged\n151009,1\n202011,1\n"
    html = upload(client, "mixed.csv", data).get_data(as_text=True)
    assert "管轄外" in html and "長野市" in html
    assert body(app, "151009").disadvantaged is False
    # Forging the confirmation with the same file is refused the same way.
    r = client.post(
        "/bodies/import/confirm", data={"file_name": "mixed.csv", "content": base64.b64encode(data).decode()}
    )
    assert r.status_code == 400 and "管轄外" in r.get_data(as_text=True)
    assert body(app, "151009").disadvantaged is False and body(app, "202011").disadvantaged is False


def test_flags_import_reads_xlsx(app, client, seed):
    wb = Workbook()
    ws = wb.active
    ws.append(["団体コード", "条件不利地域"])
    ws.append(["204820", "あり"])
    buf = io.BytesIO()
    wb.save(buf)
    login(client, "admin")
    html = upload(client, "flags.xlsx", buf.getvalue()).get_data(as_text=True)
    assert "フラグが変わる団体は 1 です" in html
    assert client.post("/bodies/import/confirm", data=confirm_fields(html)).status_code == 302
    assert body(app, "204820").disadvantaged is True


def test_upload_without_a_file_or_of_another_type_is_refused_at_the_field(app, client, seed):
    login(client, "admin")
    html = client.post("/bodies/import", data={}, content_type="multipart/form-data").get_data(as_text=True)
    assert "ファイルを選んでください" in html
    html = upload(client, "flags.pdf", b"%PDF-1.4").get_data(as_text=True)
    assert "CSV（.csv）または Excel（.xlsx）" in html


def test_tampered_confirmation_is_a_bad_request(app, client, seed):
    login(client, "admin")
    r = client.post("/bodies/import/confirm", data={"file_name": "x.csv", "content": "not base64!!"})
    assert r.status_code == 400


# --- export --------------------------------------------------------------------------------------------------


def test_export_csv_has_the_documented_columns_and_the_coordinators_bodies(app, client, seed):
    login(client, "pref20")
    r = client.get("/bodies/export.csv?prefecture=15")
    assert r.status_code == 200 and r.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(r.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0] == [
        "code",
        "name",
        "prefecture_code",
        "kind",
        "population",
        "fiscal_strength_index",
        "lat",
        "lng",
        "disadvantaged",
        "has_data_plan",
        "no_allocation_tax",
    ]  # the flags read back by the import
    assert {row[0] for row in rows[1:]} == {"200000", "202011", "202029", "204820"}
    assert audit_rows(app, action="export", entity="body")


@pytest.mark.parametrize("user", ["admin", "pref20"])
def test_pages_render_for_each_allowed_role(app, client, seed, user):
    login(client, user)
    for url in ("/bodies", "/bodies/202011", "/bodies/import"):
        r = client.get(url)
        assert r.status_code == 200, url
        assert "None" not in re.sub(r"<script.*?</script>", "", r.get_data(as_text=True)), url
