"""The agreement draft (協定書案) read back with python-docx: parties, lead, mode, formula, clauses, amounts by year."""

import io
import shutil
import subprocess

import pytest
from docx import Document

from planner.domain.settled import member_lines
from planner.reports.agreement import agreement_docx, agreement_file
from planner.reports.context import ReportError, group_report

from .fixtures import nagano_instance, nagano_plan

CLAUSES = (
    "目的",
    "対象業務",
    "幹事団体の事務",
    "経費の負担と納付時期",
    "契約",
    "個人情報・情報セキュリティ",
    "脱退・加入",
    "協議",
    "有効期間",
    "疑義",
)


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


def text_of(data: bytes) -> tuple[str, list[list[str]]]:
    doc = Document(io.BytesIO(data))
    body = "\n".join(p.text for p in doc.paragraphs)
    header = doc.sections[0].header.paragraphs[0].text
    tables = [[c.text for c in row.cells] for t in doc.tables for row in t.rows]
    return header + "\n" + body, tables


def test_agreement_names_parties_lead_mode_formula_clauses_and_amounts(setting):
    instance, plan = setting
    data = agreement_docx(instance, plan, "rpa-2026-1")
    text, rows = text_of(data)
    assert "共同調達に関する協定書（案）" in text and "【案】" in text
    for clause in CLAUSES:
        assert f"（{clause}）" in text, clause
    assert "長野県を幹事団体とする" in text and "幹事団体方式（一括調達）" in text
    assert "按分方法：均等割" in text and "令和12年度の末日（2031年3月31日）" in text
    group = next(g for g in plan.groups if g.id == "rpa-2026-1")
    by_name = {}
    for r in rows:
        if r[0]:
            current = r[0]
        by_name.setdefault(current, []).append(r)
    for ln in member_lines(instance, group):
        gross, net = by_name[ln.body_name][0], by_name[ln.body_name][1]
        first = ln.initial_yen + ln.annual_yen
        assert gross[1:4] == ["負担額", f"{first:,}", f"{ln.annual_yen:,}"]
        assert gross[-1] == f"{ln.total_yen:,}" and net[-1] == f"{ln.net_yen:,}"
    assert rows[-1][0] == "合計" and rows[-1][-1] == f"{group.cost.total_yen:,}"
    assert next(r for r in rows if r[0] == "文書番号")[1].endswith("協-rpa-2026-1")


def test_unified_group_has_a_coordinator_and_members_contract_themselves(setting):
    instance, plan = setting
    text, _ = text_of(agreement_docx(instance, plan, "ocr-2026-1"))
    assert "長野市を取りまとめ団体とする" in text and "（取りまとめ団体の事務）" in text
    assert "各構成団体が締結する" in text


def test_file_name_carries_category_lead_and_year_and_standalone_has_none(setting):
    instance, plan = setting
    assert agreement_file(group_report(instance, plan, "rpa-2026-1")) == "協定書案_RPA_長野県_令和8年度_rpa-2026-1.docx"
    alone = next(g for g in plan.groups if g.mode == "standalone")
    with pytest.raises(ReportError, match="単独調達"):
        agreement_docx(instance, plan, alone.id)


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_libreoffice_opens_the_draft(setting, tmp_path):
    instance, plan = setting
    src = tmp_path / "a.docx"
    src.write_bytes(agreement_docx(instance, plan, "rpa-2026-1"))
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/lo",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(src),
        ],
        check=True,
        timeout=180,
        capture_output=True,
    )
    assert (tmp_path / "a.pdf").stat().st_size > 10000
