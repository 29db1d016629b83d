"""The register form's body search for administrators and large prefectures (issue #15 point 11): without
JavaScript the search runs on the server; with it, static/js/body-finder.js narrows the select as you type."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session, select

from planner.db.models import Body
from tests.support.web import login


@pytest.fixture
def many_bodies(app, seed):
    """The whole national list (1,788 bodies), as an administrator sees it."""
    from planner.masterdata.national import master_bodies

    with Session(app.extensions["db_engine"]) as s:
        known = set(s.exec(select(Body.code)))
        for m in master_bodies():
            if m.code not in known:
                s.add(
                    Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind, lat=m.lat, lng=m.lng)
                )
        s.commit()


def options(html: str) -> list[tuple[str, str]]:
    select = re.search(r'<select[^>]*id="body_code"[^>]*>(.*?)</select>', html, re.S).group(1)
    return re.findall(r'<option[^>]*value="([^"]*)"[^>]*>([^<]*)</option>', select)


def test_admin_searches_by_prefecture_and_name_without_javascript(client, many_bodies):
    login(client, "admin")
    page = client.get("/needs/new").get_data(as_text=True)
    assert 'id="body-finder"' in page and "js/body-finder.js" in page and len(options(page)) > 1700
    assert "府中市（東京都・132063）" in page and "府中市（広島県・342084）" in page  # same names, told apart
    page = client.get("/needs/new?prefecture=20&q=阿智").get_data(as_text=True)
    [(code, label)] = options(page)
    assert label == f"阿智村（長野県・{code}）" and code.startswith("20")
    assert f'selected value="{code}"' in page or f'value="{code}" selected' in page
    assert "1 団体が該当します" in page
    assert len(options(client.get("/needs/new?prefecture=20").get_data(as_text=True))) == 78
    page = client.get("/needs/new?q=府中市").get_data(as_text=True)
    assert {code for code, _ in options(page)} == {"132063", "342084"} and "2 団体が該当します" in page
    page = client.get("/needs/new?q=存在しない村").get_data(as_text=True)
    assert "該当する団体がありません" in page and len(options(page)) > 1700


def test_registering_after_a_search_works_and_small_scopes_have_no_search(client, app, many_bodies):
    login(client, "admin")
    response = client.post(
        "/needs/new",
        data={
            "body_code": "204820",
            "category_id": "ocr",
            "volume": "3",
            "start_year": "2027",
            "accepts_lead": "y",
            "accepts_unified": "y",
        },
    )
    assert response.status_code == 302
    client.post("/logout")
    login(client, "muni202011")
    assert 'id="body-finder"' not in client.get("/needs/new").get_data(as_text=True)
