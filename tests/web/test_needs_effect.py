"""The need form shows the effect estimate (導入効果の見込み) beside the cost estimate, before registering; the
baseline figures are stored, audited, exported and imported."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from planner.db.models import Body, Need
from tests.support.web import login


@pytest.fixture
def app_config(tmp_path):
    return {"NEEDS_UPLOAD_DIR": str(tmp_path / "uploads")}


def engine_of(app):
    return app.extensions["db_engine"]


def form_data(**values) -> dict:
    data = {
        "body_code": "202011",
        "category_id": "chatbot",
        "volume": "13.364",
        "start_year": "2026",
        "accepts_lead": "y",
        "accepts_unified": "y",
        "notes": "",
    }
    data.update(values)
    return data


def test_endpoint_gives_the_hours_range_and_yen_per_hour(app, client, seed):
    login(client, "muni202011")
    data = client.get("/needs/estimate?body=202011&category=chatbot&volume=13.364&year=2026").get_json()
    effect = data["effect"]
    assert effect["headline"] == "年 223〜1,114時間（中位 668時間）の削減見込み"  # 13,364 x 1/3/5 min / 60
    assert any("単独で導入した場合: 削減1時間あたり" in line for line in effect["lines"])
    assert any("人件費単価が未設定" in line for line in effect["lines"])
    assert "好事例" in effect["caveat"] and "現状値" in effect["caveat"]
    assert any("13,364件" in c for c in effect["cases"])


def test_ocr_needs_the_bodys_figure_then_uses_it(app, client, seed):
    login(client, "muni202011")
    data = client.get("/needs/estimate?body=202011&category=ocr&volume=20&year=2026").get_json()
    assert data["effect"]["headline"] == "現状値を入力すると見込みを示します"
    with Session(engine_of(app)) as session:
        session.get(Body, "200000").staff_cost_per_hour_yen = 3000  # the prefecture's figure serves 長野市
        session.commit()
    data = client.get("/needs/estimate?body=202011&category=ocr&volume=20&year=2026&minutes=３").get_json()
    effect = data["effect"]
    assert effect["headline"] == "年 220〜950時間（中位 570時間）の削減見込み"  # 20,000 x 3 min x 22/57/95 %
    assert any("人件費単価 3,000円/時間" in line and "660,000〜2,850,000円" in line for line in effect["lines"])
    assert any("回収期間" in line for line in effect["lines"])
    assert any(line.startswith("団体の現状値（1単位あたりの時間）による見込み") for line in effect["lines"])


def test_preview_and_save_keep_the_baseline(app, client, seed):
    login(client, "muni202011")
    page = client.post("/needs/new", data=form_data(preview="1", baseline_minutes_per_unit="4"))
    html = page.get_data(as_text=True)
    assert "導入効果の見込み" in html and "年 891時間の削減見込み" in html  # 13,364 x 4 / 60 = 890.9
    assert "好事例" in html
    bad = client.post("/needs/new", data=form_data(baseline_hours_per_year="-3"))
    assert bad.status_code == 422 and "0より大きい数値" in bad.get_data(as_text=True)
    assert client.post("/needs/new", data=form_data(baseline_hours_per_year="1,200")).status_code == 302
    with Session(engine_of(app)) as session:
        need = session.exec(select(Need).where(Need.body_code == "202011")).one()
        assert (need.baseline_minutes_per_unit, need.baseline_hours_per_year) == (None, 1200.0)
    edit = client.get(f"/needs/{need.id}/edit").get_data(as_text=True)
    assert 'value="1,200"' in edit or 'value="1200"' in edit
    export = client.get("/needs/export.csv").get_data(as_text=True)
    assert "現状の年間作業時間" in export.splitlines()[0] and export.splitlines()[1].endswith(",1200")


def test_import_reads_the_baseline_columns(app, client, seed):
    from types import SimpleNamespace

    from planner.importers.needs import parse_needs_file
    from planner.services import needs as svc

    csv_text = (
        "団体コード,分野ID,利用量,開始年度,現状の作業時間（分/単位）,現状の年間作業時間\r\n"
        "202011,ocr,20,2026,３,\r\n202029,rpa,2,2026,,５００\r\n"
    )
    with Session(engine_of(app)) as session:
        user = SimpleNamespace(
            id=seed["users"]["pref20"], role="prefecture", prefecture_code="20", body_code=None, is_authenticated=True
        )
        parsed = parse_needs_file("n.csv", csv_text.encode("utf-8"), svc.import_lookups(session, user))
        assert parsed.problems == []
        svc.import_needs(session, user, parsed)
        session.commit()
        got = {
            n.body_code: (n.baseline_minutes_per_unit, n.baseline_hours_per_year) for n in session.exec(select(Need))
        }
    assert got == {"202011": (3.0, None), "202029": (None, 500.0)}
    bad = "団体コード,分野ID,利用量,開始年度,現状の年間作業時間\r\n202011,ocr,20,2026,たくさん\r\n"
    with Session(engine_of(app)) as session:
        user = SimpleNamespace(
            id=seed["users"]["pref20"], role="prefecture", prefecture_code="20", body_code=None, is_authenticated=True
        )
        parsed = parse_needs_file("b.csv", bad.encode("utf-8"), svc.import_lookups(session, user))
    assert len(parsed.problems) == 1 and "たくさん" in parsed.problems[0].message


def test_the_form_and_the_endpoint_estimate_the_standalone_cost_once(app, client, seed, monkeypatch):
    # The effect estimate reuses the cost estimate the form shows (it was computed twice a request: issue #30).
    from planner.services import needs as svc

    calls = []
    real = svc.standalone_estimate
    monkeypatch.setattr(svc, "standalone_estimate", lambda *a, **k: calls.append(a[1:]) or real(*a, **k))
    login(client, "muni202011")
    data = client.get("/needs/estimate?body=202011&category=chatbot&volume=13.364&year=2026").get_json()
    assert data["ok"] and data["effect"]["headline"].startswith("年 223〜1,114時間")
    assert len(calls) == 1
    page = client.post("/needs/new", data=form_data(preview="1", baseline_minutes_per_unit="4"))
    assert "年 891時間の削減見込み" in page.get_data(as_text=True)
    assert len(calls) == 2
