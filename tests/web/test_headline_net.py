"""The headline net burden is the one without the grant, on every page and document (subsidy-rules.md section 4).

The grant is awarded by public call, so every figure called 実質負担 that is not labelled 「採択された場合」 is the
net burden with the grant not awarded and the special tax counted (``net_without_grant_yen``); the grant and the net
burden with it are their own 「採択された場合」 line. The fixture's plan has members whose grant is not 0, so a page or
document that still printed the net burden with the grant as its headline would show another figure."""

from __future__ import annotations

import re

import pytest

from planner.domain.statements import body_statements
from tests.reports.helpers import Workbook, pdf_text
from tests.support.plans import publish_now
from tests.support.web import login


def _yen(v: int) -> str:
    return f"−{-v:,}" if v < 0 else f"{v:,}"


def _page_text(html: str) -> str:
    return re.sub(r"\s+", "", re.sub(r"<[^>]+>", " ", html))


def _lines(view):
    return [m for g in view.groups for m in g.members]


def test_the_fixture_has_members_whose_grant_changes_the_net_burden(planned):
    lines = _lines(planned["view"])
    assert any(m.grant_yen > 0 and m.net_yen != m.net_without_grant_yen for m in lines)
    t = planned["view"].totals
    assert t.net_without_grant_yen == t.joint_yen - t.special_tax_without_grant_yen != t.net_yen


def _amount_after(html: str, label: str) -> int:
    """The first 「1,234円」 after ``label`` in a page's text."""
    text = _page_text(html)
    at = text.index(label) + len(label)
    found = re.match(r"[^\d−-]*?([−-]?[\d,]+)円", text[at:])
    assert found, text[at : at + 80]
    digits = int(found.group(1).replace(",", "").lstrip("−-"))
    return -digits if found.group(1).startswith(("−", "-")) else digits


def test_pages_and_api_headline_the_net_burden_without_the_grant(client, planned):
    view = planned["view"]
    login(client, "pref20")
    t = view.totals
    # the plan page: the headline card, then the grant's own 「採択された場合」 card
    page = client.get(f"/plans/{view.id}").get_data(as_text=True)
    assert _amount_after(page, "実質負担（見込額・補助金なし）") == t.net_without_grant_yen
    assert _amount_after(page, "補助金が採択された場合") == t.net_yen
    # each body's page
    for code in sorted({m.body_code for m in _lines(view)}):
        totals = view.body_totals(code)
        page = client.get(f"/plans/{view.id}/body/{code}").get_data(as_text=True)
        assert _amount_after(page, "実質負担（見込額・補助金なし）") == totals.net_without_grant_yen, code
        assert _amount_after(page, "補助金が採択された場合") == totals.net_yen, code
    # the comparison page (the plan with itself): its 実質負担 row is the headline
    page = client.get(f"/plans/compare?a={view.id}&b={view.id}").get_data(as_text=True)
    assert _amount_after(page, "実質負担（見込額・補助金なし）") == t.net_without_grant_yen
    assert _amount_after(page, "実質負担（採択された場合）") == t.net_yen
    # the API names both
    api = client.get(f"/api/plans/{view.id}").get_json()["totals"]
    assert (api["net_without_grant_yen"], api["net_yen"]) == (t.net_without_grant_yen, t.net_yen)


def test_documents_headline_the_net_burden_without_the_grant(client, planned):
    view = planned["view"]
    login(client, "pref20")
    lines = _lines(view)
    t = view.totals
    base = f"/plans/{view.id}/reports"

    # the summary: its KPI and its workbook's check line
    text = pdf_text(client.get(f"{base}/summary.pdf").data)
    assert f"実質負担見込額{_yen(t.net_without_grant_yen)}円" in text
    assert f"特別交付税見込額{_yen(t.special_tax_without_grant_yen)}円" in text
    assert f"補助金が採択された場合補助金{_yen(t.grant_yen)}円実質負担{_yen(t.net_yen)}円" in text
    wb = Workbook(client.get(f"{base}/summary.xlsx").data)
    row = wb.find("総括", "実質負担 見込額 計（検算）")
    assert wb.value("総括", f"B{row}") == t.net_without_grant_yen and wb.value("総括", f"C{row}") is True

    # the budget table (歳出・歳入・財源内訳): the general funds are what the members pay with no grant; the grant is
    # only the 【採択された場合】 column
    statements = body_statements(view.instance, view.plan)
    text = pdf_text(client.get(f"{base}/budget.pdf").data)
    assert "【採択された場合】" in text
    wb = Workbook(client.get(f"{base}/budget.xlsx").data)
    check = wb.find("財源内訳", "合計")
    assert wb.value("財源内訳", f"F{check}") == t.joint_yen  # 一般財源: the members' shares, no grant taken off

    # each body's statement: the totals row of its year table
    for s in statements:
        total = s.total
        assert total.net_without_grant_yen == sum(n.line.net_without_grant_yen for n in s.needs)
        text = pdf_text(client.get(f"{base}/statement/{s.body_code}.pdf").data)
        assert (
            "合計"
            + _yen(total.initial_yen)
            + _yen(total.annual_yen)
            + _yen(total.gross_yen)
            + _yen(total.special_tax_without_grant_yen)
            + _yen(total.net_without_grant_yen)
            + _yen(total.grant_yen)
            + _yen(total.net_yen)
        ) in text, s.body_code
        wb = Workbook(client.get(f"{base}/statement/{s.body_code}.xlsx").data)
        sheet = wb.wb.sheetnames[0]
        row = wb.find(sheet, "合計")
        assert wb.value(sheet, f"G{row}") == total.net_without_grant_yen, s.body_code
        assert wb.value(sheet, f"F{row}") == total.special_tax_without_grant_yen, s.body_code

    # each member's 負担額通知: the special-tax row and the headline are the grant-not-awarded figures
    for m in lines:
        text = pdf_text(client.get(f"{base}/member/{m.need_id}.pdf").data)
        assert f"特別交付税見込額{_yen(m.special_tax_without_grant_yen)}円" in text, m.need_id
        assert f"実質負担見込額（補助金なし）{_yen(m.net_without_grant_yen)}円" in text, m.need_id
        assert f"補助金が採択された場合補助金見込額{_yen(m.grant_yen)}円" in text, m.need_id
        wb = Workbook(client.get(f"{base}/member/{m.need_id}.xlsx").data)
        sheet = wb.wb.sheetnames[0]
        row = wb.find(sheet, "実質負担 見込額")
        assert wb.value(sheet, f"B{row}") == m.net_without_grant_yen and wb.value(sheet, f"C{row}") is True
        row = wb.find(sheet, "実質負担（採択された場合）")
        assert wb.value(sheet, f"B{row}") == m.net_yen and wb.value(sheet, f"C{row}") is True


@pytest.mark.parametrize("app_config", [{"BUILD_DOCUMENTS_ON_PUBLISH": False}])
def test_the_answer_form_headlines_the_net_burden_without_the_grant(app, client, planned):
    view = planned["view"]
    publish_now(planned["engine"], view.id)
    login(client, "muni202011")
    page = _page_text(client.get(f"/plans/{view.id}/answer").get_data(as_text=True))
    horizon = view.instance.horizon_years
    mine = [m for m in _lines(view) if m.body_code == "202011"]
    assert mine
    for m in mine:
        assert f"実質負担（見込額・補助金なし、{horizon}年間の合計）{m.net_without_grant_yen:,}円" in page
        assert f"補助金が採択された場合の実質負担{m.net_yen:,}円" in page
