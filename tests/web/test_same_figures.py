"""One settled plan, four outputs: the consortium page, the JSON API, the 負担金算定書 PDF and its workbook show the
same figures for every member, whichever group it is in, because all four read the one member-lines reader
(planner.domain.settled)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from planner.domain.settled import member_lines
from tests.reports.helpers import Workbook, pdf_text
from tests.support.web import login

FIGURES = (
    "initial_yen",
    "annual_yen",
    "total_yen",
    "standalone_total_yen",
    "saving_yen",
    "grant_yen",
    "special_tax_yen",
    "net_yen",
    "standalone_net_yen",
    "net_saving_yen",
)


class _AllocationTable(HTMLParser):
    """The body rows of the page's allocation table, each as its cells' text."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self._in_table = self._in_body = False
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if tag == "table" and "allocation" in classes:
            self._in_table = True
        elif self._in_table and tag == "tbody":
            self._in_body = True
        elif self._in_body and tag == "tr":
            self.rows.append([])
        elif self._in_body and tag == "td":
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "td" and self._cell is not None:
            self.rows[-1].append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._in_table = False

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def page_amount(text: str) -> int:
    """「1,234円」, 「−5,000円」 (a decrease), 「+5,000円」, 「±0円」 as an integer."""
    digits = re.sub(r"[^\d]", "", text)
    assert digits, text
    return -int(digits) if text.startswith(("−", "-")) else int(digits)


def yen(v: int) -> str:
    """Amounts in the documents' tables: digits, a negative one with the minus sign (−, U+2212)."""
    return f"−{-v:,}" if v < 0 else f"{v:,}"


def test_page_api_pdf_and_workbook_show_the_same_figures_for_every_member(client, planned):
    view = planned["view"]
    login(client, "pref20")
    joint = [g for g in view.groups if g.joint]
    assert joint, "the fixture plans at least one consortium"
    checked = in_documents = 0
    for g in view.groups:
        expected = member_lines(view.instance, g.group)
        assert [m.need_id for m in g.members] == [m.need_id for m in expected]

        # the page: one row per member, in member order
        table = _AllocationTable()
        table.feed(client.get(f"/plans/{view.id}/groups/{g.id}").get_data(as_text=True))
        assert len(table.rows) == len(expected), g.id
        # the JSON API
        api = client.get(f"/api/plans/{view.id}/groups/{g.id}").get_json()["member_shares"]
        assert [m["need_id"] for m in api] == [m.need_id for m in expected]

        for line, cells, api_line in zip(expected, table.rows, api, strict=False):
            assert line.body_name in cells[0]
            if len(cells) == 14:  # core-adjusted: the method's own share and the adjustment beside the total
                assert page_amount(cells[4]) == line.share.unadjusted_total_yen, (g.id, line.need_id)
                assert (cells[5] == "—" and not line.adjustment_yen) or page_amount(cells[5]) == line.adjustment_yen
                cells = cells[:4] + cells[6:]
            # the headline: the net burden without the grant, with alone's under it (「単独の場合 …円」)
            headline, alone = cells[6].split("単独の場合")
            assert (page_amount(headline), page_amount(alone)) == (
                line.net_without_grant_yen,
                line.standalone_net_without_grant_yen,
            ), (g.id, line.need_id)
            cells = cells[:6] + cells[7:]
            shown = [page_amount(c) for c in cells[1:]]
            # the page shows savings as savings (+: the member pays less than alone; issue #15 point 4)
            assert shown == [
                line.initial_yen,
                line.annual_yen,
                line.total_yen,
                line.standalone_total_yen,
                line.saving_yen,
                line.grant_yen,
                line.special_tax_yen,
                line.net_yen,
                line.standalone_net_yen,
                line.net_saving_yen,
            ], (g.id, line.need_id)
            assert {k: api_line[k] for k in FIGURES} == {k: getattr(line, k) for k in FIGURES}
            checked += 1

        # the 負担金算定書 (PDF): the allocation table's row and the estimates' row of each member
        text = pdf_text(client.get(f"/plans/{view.id}/reports/group/{g.id}.pdf").data)
        for line in expected:
            assert (
                yen(line.initial_yen)
                + yen(line.annual_yen)
                + yen(line.total_yen)
                + yen(line.standalone_total_yen)
                + yen(line.saving_yen)
            ) in text, (g.id, line.need_id)
            # the headline (the grant not awarded), then the grant's own 「採択された場合」 columns
            assert line.body_name + yen(line.total_yen) + yen(line.special_tax_without_grant_yen) in text
            assert (
                yen(line.net_without_grant_yen)
                + yen(line.standalone_net_without_grant_yen)
                + yen(line.net_without_grant_saving_yen)
                + yen(line.grant_yen)
                + yen(line.net_yen)
            ) in text, (g.id, line.need_id)

        # the workbook: its formulas evaluated cell by cell
        wb = Workbook(client.get(f"/plans/{view.id}/reports/group/{g.id}.xlsx").data)
        first = wb.find_last(g.id, "団体コード") + 1  # the member table (after the 按分の計算 of formula methods)
        for offset, line in enumerate(expected):
            row = first + offset
            assert wb.value(g.id, f"A{row}") == line.body_code
            got = [wb.value(g.id, f"{col}{row}") for col in "EFGHIJKLMNOPQ"]
            assert got == [
                line.initial_yen,
                line.annual_yen,
                line.total_yen,
                line.standalone_total_yen,
                line.saving_yen,
                line.special_tax_without_grant_yen,
                line.net_without_grant_yen,
                line.standalone_net_without_grant_yen,
                line.net_without_grant_saving_yen,
                line.grant_yen,
                line.special_tax_yen,
                line.net_yen,
                0,  # 検算: total - (initial + H x annual)
            ], (g.id, line.need_id)
            in_documents += 1
    members = sum(len(g.members) for g in view.groups)
    assert checked == members and in_documents == members
