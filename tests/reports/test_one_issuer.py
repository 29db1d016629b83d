"""One issuer a document: a group's 算定書 and its members' notices are issued and sealed by the group's lead or
coordinator alone (not beside the prefecture's 発行 and 担当); plan-wide documents by the prefecture's issuer."""

from __future__ import annotations

import io

import openpyxl

from planner.reports import pdf, xlsx
from planner.reports.control import Issuer, draft_control
from planner.reports.records import ReportMeta

from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_text

PREFECTURE = Issuer("長野県企画振興部DX推進課", "担当太郎", "026-000-0000", "長DX")


def test_group_documents_have_one_issuer_the_lead_and_plan_documents_the_prefecture():
    instance = nagano_instance()
    plan = nagano_plan(instance)
    meta = ReportMeta(control=draft_control("7", PREFECTURE))
    for group_id, lead in (("rpa-2026-1", "幹事団体長野県知事"), ("ocr-2026-1", "取りまとめ団体長野市長")):
        group = next(g for g in plan.groups if g.id == group_id)
        texts = [pdf_text(pdf.group_pdf(instance, plan, group_id, meta))]
        texts += [pdf_text(pdf.member_pdf(instance, plan, nid, meta)) for nid in group.members]
        for text in texts:
            assert f"発行{lead}" in text, text[:300]
            assert PREFECTURE.title not in text and PREFECTURE.person not in text
            assert text.count(lead) >= 2  # the control block and the sender or seal name the same body
        # the 算定書 is sealed by its issuer
        assert "上記のとおり算定します。" in texts[0] and texts[0].index(lead, texts[0].index("上記のとおり算定"))
        book = openpyxl.load_workbook(io.BytesIO(xlsx.group_workbook(instance, plan, group_id, meta)))
        cells = {str(c.value) for ws in book.worksheets for row in ws.iter_rows() for c in row if c.value}
        assert lead.replace("団体", "団体　", 1) in cells and not any(PREFECTURE.title in c for c in cells)
    summary = pdf_text(pdf.summary_pdf(instance, plan, meta))
    assert f"発行{PREFECTURE.title}" in summary
