"""Numbers beyond what the database holds, malformed locks and deeply nested JSON (issue 30): each is refused with
400/422 naming the field, never a 500, and nothing is written.

Prices are bounded by planner.domain.instance_io.MAX_PRICE_YEN (a plan's totals must still fit the 64-bit yen
columns); JSON typed or uploaded by a user nests at most planner.services.json_input.MAX_DEPTH levels.
"""

from __future__ import annotations

import html as html_lib
import io
import re

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import EffectModelVersion, PriceBook, ScenarioQuote, SubsidyRuleSet
from tests.security.conftest import login

QUOTE = {
    "vendor": "信州システム株式会社",
    "reference": "",
    "quoted_on": "",
    "prices-fixed_initial": "3000000",
    "prices-fixed_annual": "600000",
    "prices-member_initial": "100000",
    "prices-member_annual": "120000",
    "prices-per_km_annual": "0",
    "prices-lines": "0, 900\n20000, 700",
    "prices-max_members": "12",
    "lock": "0",
}
HUGE = ["9" * 20, str(2**63), str(2**63 - 1)]


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.exec(select(func.count()).select_from(model)).one()


def _fields(page: str) -> dict[str, str]:
    """The form's inputs and text areas as a browser would post them (checkboxes that are checked)."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name = re.search(r'name="([^"]+)"', tag)
        if not name or 'type="submit"' in tag:
            continue
        if 'type="checkbox"' in tag and "checked" not in tag:
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data[name.group(1)] = html_lib.unescape(value.group(1)) if value else ("y" if "checkbox" in tag else "")
    for name, text in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', page, re.S):
        data[name] = html_lib.unescape(text.lstrip("\n"))
    return data


@pytest.mark.parametrize("field", ["prices-fixed_initial", "prices-member_annual", "prices-max_members"])
@pytest.mark.parametrize("value", HUGE)
def test_quote_amounts_beyond_the_column_are_refused_at_the_field(world, client, field, value):
    sid = world.scratch_scenario("20")
    login(client, "pref20")
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data={**QUOTE, field: value})
    assert r.status_code == 422
    text = r.get_data(as_text=True)
    label = {"prices-fixed_initial": "固定初期費", "prices-member_annual": "参加団体ごとの年額"}.get(
        field, "参加団体数の上限"
    )
    assert label in text and "以下の整数" in text
    with Session(world.engine) as session:
        assert session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).first() is None


@pytest.mark.parametrize("lines", ["0, 1e400", f"0, {'9' * 20}", "nan, 5", "0, inf"])
def test_quote_lines_beyond_the_bound_are_refused(world, client, lines):
    sid = world.scratch_scenario("20")
    login(client, "pref20")
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data={**QUOTE, "prices-lines": lines})
    assert r.status_code == 422 and "1行目" in r.get_data(as_text=True)


@pytest.mark.parametrize("lock", ["²", "١", "-1", "9" * 20, "", "1.0"])
def test_a_malformed_quote_lock_is_a_bad_request_naming_it(world, client, lock):
    sid = world.scratch_scenario("20")
    login(client, "pref20")
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data={**QUOTE, "lock": lock})
    assert r.status_code == 400 and "lock" in r.get_data(as_text=True)


@pytest.mark.parametrize("value", HUGE)
def test_price_book_amounts_beyond_the_column_are_refused(world, client, value):
    login(client, "admin")
    with Session(world.engine) as session:
        book_id = session.exec(select(PriceBook.id)).first()
    page = client.get(f"/admin/price-books/{book_id}/edit").get_data(as_text=True)
    data = _fields(page)
    name = next(k for k in data if k.endswith("fixed_initial"))
    before = _count(world.engine, PriceBook)
    r = client.post(f"/admin/price-books/{book_id}/edit", data={**data, name: value})
    assert r.status_code in (400, 422)
    assert "以下の整数" in r.get_data(as_text=True)
    assert _count(world.engine, PriceBook) == before


@pytest.mark.parametrize("levels", [40, 100_000])
def test_deeply_nested_effect_model_cases_are_refused_naming_the_field(world, client, levels):
    login(client, "admin")
    with Session(world.engine) as session:
        model_id = session.exec(select(EffectModelVersion.id)).first()
    page = client.get(f"/admin/effects/{model_id}/edit").get_data(as_text=True)
    data = _fields(page)
    data["version"] = f"deep-{levels}"
    data["cases"] = "[" * levels + "]" * levels
    before = _count(world.engine, EffectModelVersion)
    r = client.post(f"/admin/effects/{model_id}/edit", data=data)
    assert r.status_code in (400, 422)
    assert "cases: JSON の入れ子が深すぎます" in r.get_data(as_text=True)
    assert _count(world.engine, EffectModelVersion) == before


@pytest.mark.parametrize("levels", [40, 100_000])
def test_a_deeply_nested_subsidy_rule_file_is_refused(world, client, levels):
    login(client, "admin")
    before = _count(world.engine, SubsidyRuleSet)
    body = '{"version": "deep", "terms": ' + "[" * levels + "]" * levels + "}"
    r = client.post(
        "/admin/rules/import",
        data={"file": (io.BytesIO(body.encode()), "deep.json")},
        content_type="multipart/form-data",
    )
    assert r.status_code in (400, 422)
    assert "deep.json: JSON の入れ子が深すぎます" in r.get_data(as_text=True)
    assert _count(world.engine, SubsidyRuleSet) == before


def test_the_bound_leaves_room_for_real_prices(world, client):
    """A national system's price (数百億円) is accepted; the bound is far above anything a body buys."""
    sid = world.scratch_scenario("20")
    login(client, "pref20")
    r = client.post(f"/scenarios/{sid}/quotes/ocr/lead", data={**QUOTE, "prices-fixed_initial": "50000000000"})
    assert r.status_code == 302
    with Session(world.engine) as session:
        quote = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).one()
        assert quote.fixed_initial == 50_000_000_000
