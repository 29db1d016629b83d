"""Vendor quotes of a lead-run consortium's scenario (#29: "the same optimiser, fairness and documents"): the lead
enters and changes them; the lead's prefecture reads them (閲覧のみ) and is refused any change; another body's
staff get 404 like a missing scenario."""

from __future__ import annotations

import re

from sqlmodel import Session, select

from planner.db.models import ScenarioQuote, User
from planner.services import partnerships
from tests.security.conftest import login


def _scenario(world) -> int:
    with Session(world.engine, expire_on_commit=False) as session:
        lead = session.get(User, world.users["muni202029"])
        row = partnerships.create(session, lead, name="見積の協議会", kind="council", category_id="rpa")
        scenario = partnerships.new_scenario(session, lead, row, name="見積の協議会 令和8年度")
        session.commit()
        return scenario.id


def _client(world, username):
    client = world.app.test_client()
    login(client, username)
    return client


def test_the_consortium_lead_enters_quotes_and_its_prefecture_only_reads_them(world):
    sid = _scenario(world)
    lead = _client(world, "muni202029")
    index = lead.get(f"/scenarios/{sid}/quotes").get_data(as_text=True)
    assert "見積を入力" in index and "閲覧のみ" not in index
    form = lead.get(f"/scenarios/{sid}/quotes/rpa/lead")
    assert form.status_code == 200
    token = re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', form.get_data(as_text=True))
    html = form.get_data(as_text=True)
    fields = dict(re.findall(r'name="(prices-[a-z_]+)"[^>]*value="([^"]*)"', html))
    fields.update(re.findall(r'<textarea[^>]*name="(prices-[a-z_]+)"[^>]*>\s*([^<]*)</textarea>', html))
    lock = re.search(r'name="lock" type="hidden" value="([^"]*)"', form.get_data(as_text=True))
    data = {**fields, "vendor": "信州RPA株式会社", "lock": lock.group(1) if lock else "new"}
    if token:
        data["csrf_token"] = token.group(1)
    r = lead.post(f"/scenarios/{sid}/quotes/rpa/lead", data=data)
    assert r.status_code == 302, r.get_data(as_text=True)[:2000]
    with Session(world.engine) as session:
        quote = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).one()
        assert quote.vendor == "信州RPA株式会社"

    pref = _client(world, "pref20")
    index = pref.get(f"/scenarios/{sid}/quotes").get_data(as_text=True)
    assert "信州RPA株式会社" in index and "閲覧のみ" in index and "見積を変更" not in index
    assert pref.get(f"/scenarios/{sid}/quotes/rpa/lead").status_code == 403
    assert pref.post(f"/scenarios/{sid}/quotes/rpa/lead/delete").status_code in (400, 403)
    other = _client(world, "muni202011")
    assert other.get(f"/scenarios/{sid}/quotes").status_code == 404
    with Session(world.engine) as session:
        assert (
            session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).one().vendor
            == "信州RPA株式会社"
        )
