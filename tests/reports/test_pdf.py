"""The PDFs read back: every member's name and amounts exactly as the plan has them, fonts embedded."""

import re

import pytest

from planner.reports import pdf
from planner.reports.context import ReportMeta

from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_font_programs, pdf_fonts, pdf_pages, pdf_text


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    return instance, nagano_plan(instance)


@pytest.fixture(scope="module")
def group_pdf(setting):
    return pdf.group_pdf(*setting, "ocr-2026-1")


def test_group_document_has_every_member_and_amount(setting, group_pdf):
    instance, plan = setting
    text = pdf_text(group_pdf)
    g = next(g for g in plan.groups if g.id == "ocr-2026-1")
    for nid in g.members:
        body = instance.bodies[instance.need(nid).body]
        share, sub = g.allocation.share(nid), g.subsidies[nid]
        row = "".join(
            yen(getattr(share, k)) for k in ("initial_yen", "annual_yen", "total_yen", "standalone_total_yen")
        )
        assert body.code + body.name + ("取りまとめ" if body.code == g.lead_body else "") in text
        assert row + yen(share.standalone_total_yen - share.total_yen) in text
        tax = share.total_yen - sub.net_without_grant_yen  # the special tax with the grant not awarded
        assert body.name + yen(share.total_yen) + yen(tax) in text
        assert (
            yen(sub.net_without_grant_yen)
            + yen(sub.standalone_net_without_grant_yen)
            + yen(sub.standalone_net_without_grant_yen - sub.net_without_grant_yen)
            + yen(sub.grant_yen)
            + yen(sub.net_yen)
        ) in text
    for k in ("initial_yen", "annual_yen", "total_yen"):
        assert yen(getattr(g.cost, k)) in text
    assert (
        "契約予定額（見込）算定書" in text
        and "負担金" not in text
        and "見込額" in text
        and "令和8年度" in text
        and "令和12年度" in text
    )
    assert "均等割" in text and "最大剰余法" in text and "個人合理性" in text and "コア" in text
    assert "R8-ref-1" in text and "R7-test" in text
    assert "取りまとめ団体長野市長" in text and "印" in text  # the lead's signature and stamp block
    assert "ページ" in text


def test_fonts_are_ipaex_and_embedded(group_pdf):
    fonts = pdf_fonts(group_pdf)
    assert fonts and all(fonts.values()), fonts
    assert all("IPAex" in name for name in fonts), fonts


def test_fonts_are_embedded_truetype_subsets(setting, group_pdf):
    """Every font of every document is an IPAex TrueType program embedded as a subset (FontFile2, ABCDEF+ prefix),
    so the finance section's printer needs no Japanese font of its own."""
    instance, plan = setting
    for data in (group_pdf, pdf.member_pdf(instance, plan, "n-otari-ocr"), pdf.summary_pdf(instance, plan)):
        fonts = pdf_font_programs(data)
        assert fonts
        for name, programs in fonts.items():
            assert programs == {"/FontFile2"}, (name, programs)
            assert re.fullmatch(r"/[A-Z]{6}\+IPAex(Gothic|Mincho)(-Bold)?", name), name
    assert any("IPAexMincho" in name for name in pdf_font_programs(group_pdf))  # the title and the seal block


def test_group_document_prints_the_settlement_records(setting):
    """The allocation's own method wording, rounding rule, core violations and suggested method, and the rules the
    subsidy estimates used, all reach the 負担金算定書."""
    import dataclasses

    instance, plan = setting
    g = next(g for g in plan.groups if g.id == "ocr-2026-1")
    proof = dataclasses.replace(
        g.allocation.proof, in_core=False, violations=("小谷村・白馬村 の組は単独の方が安くなります",)
    )
    allocation = dataclasses.replace(
        g.allocation,
        method_label="均等割（テスト用の表記）",
        rounding_rule="端数はテスト用の規則で配分しています。",
        proof=proof,
        suggested_method="standalone_ratio",
        suggested_method_label="単独導入費用比",
        notes=("抽出した連合のみで確認しました。",),
    )
    subsidies = {
        nid: dataclasses.replace(
            sub,
            joint=dataclasses.replace(
                sub.joint,
                grant=dataclasses.replace(sub.joint.grant, rule="テスト補助金（補助率1/2）"),
                special_tax=dataclasses.replace(
                    sub.joint.special_tax, measure_id="advanced_ict", rule="テスト措置（措置率0.5）"
                ),
            ),
        )
        for nid, sub in g.subsidies.items()
    }
    changed = dataclasses.replace(g, allocation=allocation, subsidies=subsidies)
    other = dataclasses.replace(plan, groups=[changed if x.id == g.id else x for x in plan.groups])
    text = pdf_text(pdf.group_pdf(instance, other, g.id))
    for expected in (
        "均等割（テスト用の表記）",
        "端数はテスト用の規則で配分しています。",
        "小谷村・白馬村の組は単独の方が安くなります",
        "「単独導入費用比」を提案します",
        "抽出した連合のみで確認しました。",
        "補助金：テスト補助金（補助率1/2）",
        "特別交付税：テスト措置（措置率0.5）",
        "コア：満たしていません",
    ):
        assert expected in text, expected


def test_member_notice_by_year(setting):
    instance, plan = setting
    data = pdf.member_pdf(instance, plan, "n-otari-ocr", ReportMeta(title="長野県AI共同化2026"))
    text = pdf_text(data)
    g = next(g for g in plan.groups if g.id == "ocr-2026-1")
    share, sub = g.allocation.share("n-otari-ocr"), g.subsidies["n-otari-ocr"]
    first = share.initial_yen + share.annual_yen
    assert "小谷村長様" in text and "長野県AI共同化2026" in text
    # 仕様統一方式: 小谷村 contracts on its own; the coordinator notifies no 負担額 and no 負担金 passes between bodies
    assert "契約予定額（見込）のお知らせ" in text and "負担額通知" not in text and "団体間の負担金はなく" in text
    assert (
        "令和8年度（2026年度）"
        + yen(share.initial_yen)
        + yen(share.annual_yen)
        + yen(first)
        + yen(share.total_yen - sub.net_without_grant_yen)
        + yen(first - (share.total_yen - sub.net_without_grant_yen))
        + yen(sub.grant_yen)
        + yen(first - sub.grant_yen - sub.special_tax_yen)
    ) in text
    assert (
        "令和12年度（2030年度）0" + yen(share.annual_yen) + yen(share.annual_yen) + "0" + yen(share.annual_yen) in text
    )
    assert "合計" + yen(share.initial_yen) + yen(5 * share.annual_yen) + yen(share.total_yen) in text
    assert yen(sub.net_without_grant_yen) in text and yen(sub.net_yen) in text
    assert "導入年度に全額を見込んでいます" in text  # the stated assumption
    assert pdf_pages(data) == 1


def test_summary_lists_every_consortium(setting):
    instance, plan = setting
    text = pdf_text(pdf.summary_pdf(instance, plan))
    assert "長野県AI・RPA共同調達計画まとめ" in text
    for g in plan.groups:
        if g.mode == "standalone":
            continue
        assert g.id in text
        assert yen(g.cost.total_yen) + yen(g.standalone_total_yen) + yen(g.saving_yen) in text
    assert yen(plan.objective_yen) + "円" in text and yen(plan.standalone_total_yen) + "円" in text
    assert "1件は単独調達" in text
    assert "図1" in text and "図2" in text and "図3" in text


def test_thirty_member_table_runs_over_pages_with_every_member(big_setting):
    instance, plan = big_setting
    data = pdf.group_pdf(instance, plan, "ocr-big")
    text = pdf_text(data)
    g = plan.groups[0]
    assert pdf_pages(data) >= 2
    for nid in g.members:
        body = instance.bodies[instance.need(nid).body]
        share = g.allocation.share(nid)
        assert body.name in text
        assert yen(share.initial_yen) + yen(share.annual_yen) + yen(share.total_yen) in text


@pytest.fixture(scope="module")
def big_setting():
    from .bigplan import thirty_member_setting

    return thirty_member_setting()


def test_long_tables_repeat_their_header_and_the_seal_stays_with_its_section():
    """Over several pages every page of member rows starts with the column headings, and the lead's signature
    and stamp block is never alone on a page: it shares its page with 7. 算定の根拠."""
    import io

    import pypdf

    from .bigplan import thirty_member_setting

    # lead mode: its 算定書 has no 仕様統一 paragraph, so the 5. table of thirty members runs over a page break
    instance, plan = thirty_member_setting("lead")
    reader = pypdf.PdfReader(io.BytesIO(pdf.group_pdf(instance, plan, "ocr-big")))
    pages = [re.sub(r"\s+", "", p.extract_text()) for p in reader.pages]
    g = plan.groups[0]
    rows = [instance.bodies[instance.need(n).body].name + yen(g.allocation.share(n).total_yen) for n in g.members]
    with_rows = [t for t in pages if any(row in t for row in rows)]
    assert len(with_rows) >= 2
    for text in with_rows:
        assert "団体名" in text and "期間総額（円）" in text
    seal_page = next(t for t in pages if "上記のとおり算定します" in t)
    assert "7.算定の根拠" in seal_page and seal_page.index("7.算定の根拠") < seal_page.index("上記のとおり算定します")
