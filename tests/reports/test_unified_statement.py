"""仕様統一方式: each body contracts on its own, so the group's 算定書 speaks of each body's 契約予定額（見込） and claims
no 負担金 between bodies (issue 28); a lead-mode group's 負担金算定書 keeps its wording."""

import io
import re

import pytest
from openpyxl import load_workbook

from planner.reports import pdf, xlsx

from .fixtures import nagano_instance, nagano_plan


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def html_text(instance, plan, gid: str) -> str:
    return re.sub(r"<[^>]+>", "", pdf.group_html(instance, plan, gid))


def workbook_text(instance, plan, gid: str) -> str:
    wb = load_workbook(io.BytesIO(xlsx.group_workbook(instance, plan, gid)))
    return "\n".join(str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row if isinstance(v, str))


def group_of_mode(plan, mode: str):
    return next(g for g in plan.groups if g.mode == mode and len(g.members) > 1)


def test_unified_statement_names_own_contracts_and_no_burden(setting):
    instance, plan = setting
    g = group_of_mode(plan, "unified")
    for text in (html_text(instance, plan, g.id), workbook_text(instance, plan, g.id)):
        assert "負担金" not in text and "負担額" not in text
        assert "各団体が契約の当事者として自ら契約し" in text and "団体間で支払う金額はなく" in text
        assert "契約予定額（見込）算定書" in text and "参加団体別の契約予定額（見込）" in text
    # the formula, the fairness words and the rounding come from shared wording and are said in the same terms
    assert "各団体の契約予定額（見込） ＝ グループの費用" in html_text(instance, plan, g.id)


def test_lead_statement_keeps_burden_wording(setting):
    instance, plan = setting
    g = group_of_mode(plan, "lead")
    for text in (html_text(instance, plan, g.id), workbook_text(instance, plan, g.id)):
        assert "負担金算定書" in text and "参加団体別の負担額" in text
        assert "契約予定額" not in text and "団体間で支払う金額" not in text


def test_unified_pdf_reads_the_same(setting):
    from .helpers import pdf_text

    instance, plan = setting
    g = group_of_mode(plan, "unified")
    text = pdf_text(pdf.group_pdf(instance, plan, g.id))
    assert "負担金" not in text and "各団体が契約の当事者として自ら契約し" in text


def test_files_are_named_for_what_they_hold(setting):
    """The ZIP's folders (and so the download names, and planner report's names under them) call a 仕様統一 group's
    算定書 and its members' notices by their titles, with no 負担金 or 負担額; a lead-mode group's keep theirs."""
    from planner.reports.bundle import Document, document_files

    instance, plan = setting
    for mode, statement, notice in (
        ("unified", "契約予定額（見込）算定書/", "契約予定額（見込）のお知らせ/"),
        ("lead", "負担金算定書/", "負担額通知/"),
    ):
        g = group_of_mode(plan, mode)
        names = document_files(instance, plan, Document("group", g.id))
        assert [n.rsplit(".", 1)[1] for n in names] == ["pdf", "xlsx"] and all(n.startswith(statement) for n in names)
        for need_id in g.members:
            (name,) = document_files(instance, plan, Document("member", need_id))
            assert name.startswith(notice), name
        if mode == "unified":
            assert all("負担" not in n for n in names)
