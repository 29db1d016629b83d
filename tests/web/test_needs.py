"""Needs pages through the test client: each role's workflow, locking, audit, import, export and refusals."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook
from sqlmodel import Session, select

from planner.db.models import AuditLog, Need
from tests.support.web import login


@pytest.fixture
def app_config(tmp_path):
    return {"NEEDS_UPLOAD_DIR": str(tmp_path / "uploads")}


def engine_of(app):
    return app.extensions["db_engine"]


def add_need(app, body_code="202011", category_id="ocr", **values) -> int:
    values.setdefault("volume", 100.0)
    values.setdefault("start_year", 2026)
    with Session(engine_of(app)) as session:
        need = Need(body_code=body_code, category_id=category_id, **values)
        session.add(need)
        session.commit()
        return need.id


def get_need(app, need_id) -> Need:
    with Session(engine_of(app)) as session:
        return session.get(Need, need_id)


def audit_entries(app, **where) -> list[AuditLog]:
    with Session(engine_of(app)) as session:
        query = select(AuditLog)
        for key, value in where.items():
            query = query.where(getattr(AuditLog, key) == value)
        return list(session.exec(query.order_by(AuditLog.id)))


def form_data(**values) -> dict:
    data = {
        "body_code": "202011",
        "category_id": "ocr",
        "volume": "1,200",
        "start_year": "2026",
        "accepts_lead": "y",
        "accepts_unified": "y",
        "notes": "",
    }
    data.update(values)
    return {k: v for k, v in data.items() if v is not None}


# --- register, edit, withdraw ------------------------------------------------------------------------------------


def test_municipality_registers_a_need_with_full_width_and_separators(app, client, seed):
    login(client, "muni202011")
    page = client.get("/needs/new")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "令和8年度" in html and "needs-form.js" in html
    assert '="None"' not in html  # no attribute rendered from a missing value
    response = client.post("/needs/new", data=form_data(volume="１，２００", can_lead="y", notes="会議録に使う"))
    assert response.status_code == 302
    with Session(engine_of(app)) as session:
        need = session.exec(select(Need).where(Need.body_code == "202011")).one()
        assert (need.volume, need.start_year, need.can_lead, need.notes) == (1200.0, 2026, True, "会議録に使う")
    entry = audit_entries(app, entity="need", action="create")[-1]
    assert entry.body_code == "202011" and entry.prefecture_code == "20"
    assert entry.after["volume"] == 1200.0 and entry.before is None


def test_form_errors_are_japanese_and_tied_to_their_field(app, client, seed):
    login(client, "muni202011")
    response = client.post("/needs/new", data=form_data(volume="たくさん"))
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'id="volume-errors"' in html and "利用量は数値で入力してください" in html
    assert 'aria-invalid="true"' in html
    response = client.post("/needs/new", data=form_data(volume="0"))
    assert "0より大きい" in response.get_data(as_text=True)
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []


def test_duplicate_active_need_is_refused(app, client, seed):
    add_need(app, "202011", "ocr")
    login(client, "muni202011")
    response = client.post("/needs/new", data=form_data())
    assert response.status_code == 422
    assert "登録済み" in response.get_data(as_text=True)


def test_preview_shows_the_standalone_estimate_without_saving(app, client, seed):
    login(client, "muni202011")
    response = client.post("/needs/new", data=form_data(volume="100", preview="1"))
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "単独で導入した場合の概算" in html and "年間の合計" in html and "円" in html
    assert "人口からの目安" in html  # 長野市 has a population and ocr a volume per 10,000
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []


def test_estimate_endpoint_uses_the_domain_cost(app, client, seed):
    from planner.db.models import Body
    from planner.services.needs import standalone_estimate

    login(client, "muni202011")
    data = client.get("/needs/estimate?body=202011&category=ocr&volume=1,000&year=2026").get_json()
    assert data["ok"] is True
    with Session(engine_of(app)) as session:
        expected = standalone_estimate(session, session.get(Body, "202011"), "ocr", 1000.0)
    assert data["total_yen"] == expected.cost.total_yen
    assert data["total_yen"] == data["initial_yen"] + data["horizon_years"] * data["annual_yen"]
    bigger = client.get("/needs/estimate?body=202011&category=ocr&volume=5000").get_json()
    assert bigger["total_yen"] >= data["total_yen"]
    assert client.get("/needs/estimate?body=202011&category=ocr&volume=").get_json()["ok"] is False


def test_estimate_for_another_body_is_refused_and_logged(app, client, seed):
    login(client, "muni202011")
    response = client.get("/needs/estimate?body=202029&category=ocr&volume=10")
    assert response.status_code == 403
    assert audit_entries(app, action="forbidden")


def test_edit_with_optimistic_locking(app, client, seed):
    need_id = add_need(app, "202011", "ocr", volume=100.0)
    login(client, "muni202011")
    page = client.get(f"/needs/{need_id}/edit").get_data(as_text=True)
    assert 'name="version" type="hidden" value="1"' in page or 'value="1"' in page
    ok = client.post(f"/needs/{need_id}/edit", data=form_data(volume="150", version="1"))
    assert ok.status_code == 302
    assert get_need(app, need_id).volume == 150.0 and get_need(app, need_id).version == 2
    # someone else's form still carries version 1
    stale = client.post(f"/needs/{need_id}/edit", data=form_data(volume="999", version="1"))
    assert stale.status_code == 409
    html = stale.get_data(as_text=True)
    assert "他の方が先にこのニーズを更新しました" in html and 'value="999"' in html
    assert get_need(app, need_id).volume == 150.0
    # having seen the current values, the user may save deliberately: the page now carries version 2
    assert 'name="version" type="hidden" value="2"' in html
    assert client.post(f"/needs/{need_id}/edit", data=form_data(volume="999", version="2")).status_code == 302
    assert get_need(app, need_id).volume == 999.0
    update = audit_entries(app, entity="need", action="update")
    assert len(update) == 2 and update[0].before["volume"] == 100.0 and update[0].after["volume"] == 150.0


def test_withdraw_and_restore(app, client, seed):
    need_id = add_need(app, "202011", "ocr")
    login(client, "muni202011")
    assert client.post(f"/needs/{need_id}/withdraw", data={"version": "1"}).status_code == 302
    assert get_need(app, need_id).status == "withdrawn"
    # a second click from a page opened before the withdrawal is stale and changes nothing
    client.post(f"/needs/{need_id}/withdraw", data={"version": "1"})
    assert get_need(app, need_id).version == 2
    listing = client.get("/needs/").get_data(as_text=True)
    assert "条件に合うニーズはありません" in listing
    assert "取下げ" in client.get("/needs/?status=all").get_data(as_text=True)
    assert client.post(f"/needs/{need_id}/restore", data={"version": "2"}).status_code == 302
    assert get_need(app, need_id).status == "active"
    actions = [e.action for e in audit_entries(app, entity="need")]
    assert actions == ["withdraw", "restore"]


def test_withdrawn_need_cannot_be_edited(app, client, seed):
    need_id = add_need(app, "202011", "ocr", status="withdrawn")
    login(client, "muni202011")
    response = client.post(f"/needs/{need_id}/edit", data=form_data(volume="5", version="1"))
    assert response.status_code == 422
    assert get_need(app, need_id).volume == 100.0


# --- scope ---------------------------------------------------------------------------------------------------------


def test_list_is_scoped_by_role(app, client, seed):
    add_need(app, "202011", "ocr", notes="長野市のメモ")
    add_need(app, "202029", "ocr", notes="松本市のメモ")
    add_need(app, "151009", "ocr", notes="新潟市のメモ")
    login(client, "muni202011")
    html = client.get("/needs/").get_data(as_text=True)
    assert "長野市のメモ" in html and "松本市のメモ" not in html and "新潟市のメモ" not in html
    # a municipality cannot widen its scope with a filter
    html = client.get("/needs/?body=202029").get_data(as_text=True)
    assert "松本市のメモ" not in html
    client.post("/logout")
    login(client, "pref20")
    html = client.get("/needs/").get_data(as_text=True)
    assert "長野市のメモ" in html and "松本市のメモ" in html and "新潟市のメモ" not in html
    html = client.get("/needs/?body=202029").get_data(as_text=True)
    assert "長野市のメモ" not in html and "松本市のメモ" in html
    client.post("/logout")
    login(client, "admin")
    html = client.get("/needs/?prefecture=15").get_data(as_text=True)
    assert "新潟市のメモ" in html and "長野市のメモ" not in html


@pytest.mark.parametrize("username,body", [("muni202011", "202029"), ("pref20", "151009"), ("pref15", "202011")])
def test_forbidden_attempts_on_other_bodies_are_refused_and_logged(app, client, seed, username, body):
    need_id = add_need(app, body, "ocr")
    login(client, username)
    before = len(audit_entries(app, action="forbidden"))
    # another body's need is answered as a missing one (ids cannot be probed), and logged
    assert client.get(f"/needs/{need_id}/edit").status_code == 404
    assert client.post(f"/needs/{need_id}/edit", data=form_data(body_code=body, version="1")).status_code == 404
    assert client.post(f"/needs/{need_id}/withdraw", data={"version": "1"}).status_code == 404
    assert client.post("/needs/new", data=form_data(body_code=body)).status_code == 403
    assert len(audit_entries(app, action="forbidden")) == before + 4
    need = get_need(app, need_id)
    assert (need.volume, need.status, need.version) == (100.0, "active", 1)
    with Session(engine_of(app)) as session:
        assert len(session.exec(select(Need)).all()) == 1


def test_unknown_need_is_404(client, seed):
    login(client, "admin")
    assert client.get("/needs/999999/edit").status_code == 404


def test_prefecture_registers_for_its_bodies(app, client, seed):
    login(client, "pref20")
    page = client.get("/needs/new").get_data(as_text=True)
    assert "松本市" in page and "新潟市" not in page
    assert client.post("/needs/new", data=form_data(body_code="202029")).status_code == 302


def test_anonymous_is_sent_to_login(client, seed):
    assert client.get("/needs/").status_code == 302
    assert client.post("/needs/new", data=form_data()).status_code == 302


# --- export ---------------------------------------------------------------------------------------------------------


def test_export_csv_has_bom_and_neutralises_formulas(app, client, seed):
    add_need(app, "202011", "ocr", volume=1200.0, notes='=HYPERLINK("http://x")')
    add_need(app, "202029", "ocr", notes="@SUM(A1)")
    login(client, "muni202011")
    response = client.get("/needs/export.csv")
    assert response.status_code == 200
    raw = response.data
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0][:5] == ["団体コード", "団体名", "分野ID", "分野名", "利用量"]
    assert len(rows) == 2  # only the user's own body
    assert rows[1][0] == "202011" and rows[1][4] == "1200"
    assert rows[0][11] == "条件不利地域の住民サービス" and rows[1][11] == "×"
    assert rows[1][13].startswith("'=")  # 備考, after the new column
    assert "CSV 1 件" in audit_entries(app, action="export")[-1].detail


def test_export_xlsx_numbers_are_numbers_and_text_is_not_a_formula(app, client, seed):
    add_need(app, "202011", "ocr", volume=1200.0, notes="+cmd|' /C calc'!A0")
    login(client, "pref20")
    response = client.get("/needs/export.xlsx?category=ocr")
    assert response.status_code == 200
    ws = load_workbook(io.BytesIO(response.data)).active
    assert ws.cell(2, 1).value == "202011"
    assert ws.cell(2, 5).value == 1200 and isinstance(ws.cell(2, 5).value, (int, float))
    assert ws.cell(2, 7).value == 2026
    assert ws.cell(2, 14).data_type == "s" and ws.cell(2, 14).value.startswith("'+")


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_round_trips_through_import_unchanged(app, client, seed, fmt):
    """Re-importing an unchanged export changes nothing and says so (issue #15: it used to preview 更新 for all)."""
    add_need(app, "202011", "ocr", volume=17.1, notes="メモ", can_lead=True)
    add_need(app, "202011", "rpa", volume=3.0, notes="-2 は要確認", accepts_lead=False, accepts_unified=False)
    login(client, "muni202011")
    exported = client.get(f"/needs/export.{fmt}").data
    response = client.post(
        "/needs/import", data={"file": (io.BytesIO(exported), f"needs.{fmt}")}, content_type="multipart/form-data"
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    html = response.get_data(as_text=True)
    assert "新規 0 件、更新 0 件、変更なし 2 件" in html and "変更はありません" in html
    assert 'name="token"' not in html  # nothing to confirm


# --- import through the pages ------------------------------------------------------------------------------------


def upload(client, content: bytes, name="needs.csv"):
    return client.post("/needs/import", data={"file": (io.BytesIO(content), name)}, content_type="multipart/form-data")


def token_of(html: str) -> str:
    import re

    m = (
        re.search(r'name="token" type="hidden" value="([^"]+)"', html)
        or re.search(r'id="token" name="token" type="hidden" value="([^"]+)"', html)
        or re.search(r'name="token"[^>]*value="([^"]+)"', html)
    )
    assert m, "no token on the preview page"
    return m.group(1)


CSV_OK = (
    "団体コード,団体名,分野,利用量,開始年度,幹事方式可,仕様統一可,幹事可,備考\r\n"
    '202011,長野市,AI-OCR（文字認識）,"１，２００",令和8年度,○,○,×,窓口\r\n'
    "202011,長野市,rpa,30,R9,1,0,はい,\r\n"
)


def test_import_preview_then_confirm(app, client, seed):
    login(client, "muni202011")
    preview = upload(client, CSV_OK.encode("cp932"))
    html = preview.get_data(as_text=True)
    assert preview.status_code == 200, html
    assert "新規 2 件" in html and "令和8年度" in html
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []  # the preview writes nothing
    done = client.post("/needs/import/confirm", data={"token": token_of(html)})
    assert done.status_code == 302
    with Session(engine_of(app)) as session:
        needs = {n.category_id: n for n in session.exec(select(Need))}
    assert needs["ocr"].volume == 1200.0 and needs["ocr"].start_year == 2026 and needs["ocr"].notes == "窓口"
    assert needs["rpa"].start_year == 2027 and needs["rpa"].accepts_unified is False and needs["rpa"].can_lead
    assert [e.action for e in audit_entries(app, entity="need")] == ["import", "import", "import"]
    # the token is used up
    again = client.post("/needs/import/confirm", data={"token": token_of(html)})
    assert again.status_code == 302
    with Session(engine_of(app)) as session:
        assert len(session.exec(select(Need)).all()) == 2


def test_import_token_of_another_user_is_useless(app, client, seed):
    login(client, "muni202011")
    html = upload(client, CSV_OK.encode("utf-8")).get_data(as_text=True)
    token = token_of(html)
    client.post("/logout")
    login(client, "admin")
    response = client.post("/needs/import/confirm", data={"token": token})
    assert response.status_code == 302 and "/needs/import" in response.headers["Location"]
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []


def test_import_rows_of_other_bodies_are_problems_and_nothing_is_written(app, client, seed):
    login(client, "muni202011")
    content = CSV_OK + "202029,松本市,ocr,10,2026,○,○,×,\r\n"
    response = upload(client, content.encode("utf-8"))
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "松本市（202029）のニーズを登録する権限がありません" in html
    assert ">4<" in html and "A（団体コード）" in html
    assert 'name="token"' not in html
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []


def test_import_rejects_a_file_that_is_not_a_table(client, seed):
    login(client, "muni202011")
    response = upload(client, b"\x00\x01\x02binary", name="needs.csv")
    assert response.status_code == 422
    assert "CSV または Excel" in response.get_data(as_text=True)
    assert "受け付けるのは 20" in response.get_data(as_text=True)  # the page says the start-year window, as always
    response = upload(client, b"a,b\r\n1,2\r\n", name="needs.pdf")
    assert response.status_code == 422
    assert "CSV（.csv）または Excel（.xlsx）ファイルを選んでください" in response.get_data(as_text=True)


def test_import_confirm_rechecks_against_the_database(app, client, seed):
    """A need registered between preview and confirmation turns the row into an update, not a duplicate."""
    login(client, "muni202011")
    html = upload(client, CSV_OK.encode("utf-8")).get_data(as_text=True)
    need_id = add_need(app, "202011", "ocr", volume=5.0)
    assert client.post("/needs/import/confirm", data={"token": token_of(html)}).status_code == 302
    with Session(engine_of(app)) as session:
        ocr = session.exec(select(Need).where(Need.category_id == "ocr")).all()
    assert [(n.id, n.volume) for n in ocr] == [(need_id, 1200.0)]


def test_upload_size_limit(app, client, seed):
    app.config["MAX_CONTENT_LENGTH"] = 1000
    login(client, "muni202011")
    response = upload(client, b"x" * 5000)
    assert response.status_code == 413


def test_no_upload_gives_a_server_error_or_writes_anything(app, client, seed):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    from tests.importers.test_needs_import import csv_files

    login(client, "pref20")

    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=st.one_of(csv_files(), st.binary(max_size=200)), name=st.sampled_from(["a.csv", "b.xlsx", "c.txt"]))
    def check(data, name):
        response = upload(client, data, name=name)
        assert response.status_code in (200, 422), response.status_code
        with Session(engine_of(app)) as session:
            assert session.exec(select(Need)).all() == []

    check()


def test_no_form_input_gives_a_server_error(app, client, seed):
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    login(client, "muni202011")
    values = st.one_of(
        st.text(max_size=20),
        st.sampled_from(["202011", "202029", "ocr", "rpa", "2026", "１，２００", "1e400", "nan", "-1", "y", ""]),
    )
    fields = st.fixed_dictionaries(
        {},
        optional={
            k: values
            for k in (
                "body_code",
                "category_id",
                "volume",
                "start_year",
                "accepts_lead",
                "accepts_unified",
                "can_lead",
                "notes",
                "version",
                "preview",
            )
        },
    )

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )
    @given(data=fields)
    def check(data):
        response = client.post("/needs/new", data=data)
        assert response.status_code in (200, 302, 400, 403, 422), response.status_code  # 400: a NUL character
        with Session(engine_of(app)) as session:
            for need in session.exec(select(Need)):
                assert need.body_code == "202011" and need.volume > 0

    check()


def test_preview_warns_on_implausible_volumes_and_shows_before_and_after(app, client, seed):
    """17.1 -> 1,500 千枚 for 小谷村 (2,654 inhabitants) is warned twice but not refused; the change is shown."""
    need_id = add_need(app, "204820", "ocr", volume=17.1)
    login(client, "pref20")
    html = upload(
        client,
        (
            "団体コード,分野,利用量（年間）,開始年度,幹事方式可,仕様統一可\r\n"
            "204820,AI-OCR,1500,2026,○,○\r\n"
            "202029,音声認識,900,2026,×,×\r\n"
        ).encode(),
    ).get_data(as_text=True)
    assert "新規 1 件、更新 1 件、変更なし 0 件" in html and "確認が必要な行 2 件" in html
    assert "17.1 → <strong>1,500</strong>" in html
    assert "登録済みの 17.1 から 1,500 に変わります（約88倍）" in html
    assert "人口（2,654人）からの目安 1.3 を大きく上回ります" in html
    assert "単独導入としてだけ登録" in html
    token = token_of(html)
    assert client.post("/needs/import/confirm", data={"token": token}).status_code == 302
    assert get_need(app, need_id).volume == 1500


def test_preview_lists_the_valid_rows_when_others_have_errors(app, client, seed):
    login(client, "muni202011")
    response = upload(
        client,
        (
            "団体コード,分野,利用量,開始年度\r\n202011,ocr,-5,2026\r\n202011,rpa,3,2026\r\n"
            "202011,genai,10,令和30年度\r\n"
        ).encode(),
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "利用量は0より大きい数値にしてください（「-5」と入力されています）" in html
    assert "導入希望年度 2048年度（令和30年度） は受け付けられません" in html
    assert "取り込む内容（問題のない 1 行）" in html and "RPA" in html.split("取り込む内容（問題のない 1 行）")[1]
    assert 'name="token"' not in html
    with Session(engine_of(app)) as session:
        assert session.exec(select(Need)).all() == []


def test_the_form_warns_on_an_implausible_volume_without_refusing_it(app, client, seed):
    need_id = add_need(app, "204820", "ocr", volume=17.1)
    login(client, "pref20")
    data = {
        "body_code": "204820",
        "category_id": "ocr",
        "volume": "1500",
        "start_year": "2026",
        "accepts_lead": "y",
        "accepts_unified": "y",
        "notes": "",
        "version": "1",
    }
    page = client.post(f"/needs/{need_id}/edit", data={**data, "preview": "1"}).get_data(as_text=True)
    assert "登録済みの 17.1 から 1,500 に変わります" in page and "人口（2,654人）からの目安" in page
    assert client.post(f"/needs/{need_id}/edit", data=data).status_code == 302
    assert get_need(app, need_id).volume == 1500


def test_the_estimate_endpoint_returns_the_same_warnings_for_the_live_form(app, client, seed):
    need_id = add_need(app, "204820", "ocr", volume=17.1)
    login(client, "pref20")
    data = client.get(f"/needs/estimate?body=204820&category=ocr&volume=1500&year=2026&need={need_id}").get_json()
    assert len(data["warnings"]) == 2 and "17.1 から 1,500" in data["warnings"][0]
    assert client.get("/needs/estimate?body=204820&category=ocr&volume=1.2&year=2026").get_json()["warnings"] == []


def test_csv_downloads_name_their_charset_once(app, client, seed):
    login(client, "muni202011")
    for url in ("/needs/export.csv", "/needs/import/template.csv"):
        response = client.get(url)
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8", url
