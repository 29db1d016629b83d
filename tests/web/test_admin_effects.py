"""The administrator's effect-model pages and a body's staff cost per hour."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, EffectModelVersion
from tests.support.web import login, logout


def engine_of(app):
    return app.extensions["db_engine"]


def test_admin_views_and_edits_the_model(app, client, seed):
    login(client, "admin")
    listing = client.get("/admin/effects").get_data(as_text=True)
    assert all(f"effect-R7.06-{n}" in listing for n in (1, 2, 3)) and "現行" in listing
    with Session(engine_of(app)) as session:
        row = session.exec(select(EffectModelVersion).where(EffectModelVersion.is_current)).one()
    assert row.version == "effect-R7.06-3"
    page = client.get(f"/admin/effects/{row.id}").get_data(as_text=True)
    assert "好事例" in page and "13,364件" in page and "時間の見込みなし" in page
    # the RPA figures are the quartiles of the cases' task rows, and the page says how
    assert "事例の四分位" in page and "業務ごとの行" in page and "中央値 145時間" in page and "人口に比例" in page
    form = client.get(f"/admin/effects/{row.id}/edit")
    assert form.status_code == 200
    data = {
        "version": "effect-R7.06-9",
        "caveat": row.data["caveat"],
        "make_current": "1",
        "cases": __import__("json").dumps(row.data["cases"], ensure_ascii=False),
    }
    for cid, rec in row.data["categories"].items():
        for key, scale in (("minutes_per_unit", 1), ("reduction_rate", 100)):
            spread = rec.get(key) or {}
            if "from_cases" in spread:  # derived from the cases: no figures on the form
                assert f'name="{cid}.{key}.low.value"' not in form.get_data(as_text=True)
                continue
            for lvl, f in spread.items():
                data[f"{cid}.{key}.{lvl}.value"] = str(f["value"] * scale)
                data[f"{cid}.{key}.{lvl}.basis"] = f["basis"]
                data[f"{cid}.{key}.{lvl}.cases"] = ", ".join(f["cases"])
    data["chatbot.minutes_per_unit.high.value"] = "4"
    data["chatbot.minutes_per_unit.high.basis"] = "電話対応の実測に合わせて見直し"
    bad = dict(data, **{"ocr.reduction_rate.high.value": "120"})
    response = client.post(f"/admin/effects/{row.id}/edit", data=bad)
    assert response.status_code == 400 and "categories.ocr.reduction_rate.high.value" in response.get_data(as_text=True)
    response = client.post(f"/admin/effects/{row.id}/edit", data=data)
    assert response.status_code == 302
    with Session(engine_of(app)) as session:
        rows = {r.version: r for r in session.exec(select(EffectModelVersion))}
        assert rows["effect-R7.06-9"].is_current and not rows["effect-R7.06-3"].is_current
        assert rows["effect-R7.06-9"].data["categories"]["chatbot"]["minutes_per_unit"]["high"]["value"] == 4
        assert rows["effect-R7.06-9"].data["categories"]["ocr"]["reduction_rate"]["high"]["value"] == 0.95
        assert rows["effect-R7.06-9"].data["categories"]["rpa"]["minutes_per_unit"] == {"from_cases": ["rpa_scenarios"]}
        assert session.exec(
            select(AuditLog).where(AuditLog.entity == "effect_model", AuditLog.entity_id == "effect-R7.06-9")
        ).first()
    assert client.get("/admin/effects", headers={}).status_code == 200
    logout(client)
    login(client, "muni202011")
    assert client.get("/admin/effects").status_code in (302, 403)


def test_staff_cost_per_body_and_prefecture(app, client, seed):
    login(client, "pref20")
    assert client.post("/bodies/200000/staff-cost", data={"staff_cost_per_hour_yen": "3,000"}).status_code == 302
    page = client.get("/bodies/202011").get_data(as_text=True)
    assert "3,000円/時間（この団体に使います）" in page
    client.post("/bodies/202011/staff-cost", data={"staff_cost_per_hour_yen": "abc"})
    with Session(engine_of(app)) as session:
        assert session.get(Body, "200000").staff_cost_per_hour_yen == 3000
        assert session.get(Body, "202011").staff_cost_per_hour_yen is None
    assert client.post("/bodies/151009/staff-cost", data={"staff_cost_per_hour_yen": "3000"}).status_code == 403
