"""共同調達に関する協定書（案）: an editable Word document (python-docx) per joint group.

A practitioner edits it before the members sign, so it is a plain document with the clauses they expect
(目的, 対象業務, 幹事団体の事務, 経費の負担と納付時期, 契約, 個人情報・情報セキュリティ, 脱退・加入, 協議, 有効期間, 疑義),
and the figures of the plan: the members, the lead or coordinator, the mode, the 負担金 formula in words and each
member's amounts by fiscal year (planner.domain.statements, read from settled.member_lines).
"""

from __future__ import annotations

import io
import itertools

from docx import Document
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor
from docx.table import Table

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup, SettledPlan
from planner.domain.statements import need_schedules
from planner.domain.vocabulary import wareki_fiscal_year

from .agreement_rule import adjustments, rule_articles, share_rule
from .context import GroupReport, ReportError, ReportMeta, find_group, group_report
from .control import file_name
from .names import safe_name

FONT = "IPAex明朝"
SIDE_MARGIN = Mm(25)


def agreement_file(r: GroupReport) -> str:
    """協定書案_AI-OCR（文字認識）_長野市_令和8年度 (category, lead, start year; the group id keeps it unique)."""
    category = r.category_name.split("（", 1)[0]
    return file_name("agreement", category, r.lead_name, wareki_fiscal_year(r.start_year), r.group_id) + ".docx"


def _set_font(doc) -> None:
    style = doc.styles["Normal"]
    style.font.name = FONT
    style.font.size = Pt(10.5)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)
    for name in ("Title", "Heading 1", "Heading 2"):
        s = doc.styles[name]
        s.font.name = FONT
        s.font.color.rgb = RGBColor(0, 0, 0)
        s.element.rPr.rFonts.set(qn("w:eastAsia"), FONT)


def _article(doc, number: int, title: str, *paragraphs: str) -> None:
    head = doc.add_paragraph()
    head.add_run(f"（{title}）").bold = True
    for i, text in enumerate(paragraphs):
        p = doc.add_paragraph()
        p.add_run((f"第{number}条　" if i == 0 else f"{i + 1}　") + text)
        p.paragraph_format.first_line_indent = Mm(-5) if i == 0 else None
        p.paragraph_format.left_indent = Mm(5) if i == 0 else None


def agreement_docx(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    group = find_group(plan, group_id)
    if group.mode == "standalone":
        raise ReportError(f"グループ {group_id} は単独調達のため協定書はありません")
    r = group_report(instance, plan, group, meta)
    control = r.meta.document_control
    schedules = need_schedules(instance, group)
    years = [y.fiscal_year for y in schedules[0].years]
    names = "、".join(m.body_name for m in r.members)
    lead_role = r.lead_role
    all_parties = [m.body_name for m in r.members] + ([] if r.lead_is_member else [r.lead_name])

    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height, section.orientation = Mm(210), Mm(297), WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = SIDE_MARGIN
    section.top_margin = section.bottom_margin = Mm(20)
    _set_font(doc)
    header = section.header.paragraphs[0]
    header.text = (
        ("【案】" if control.draft else "") + f"{control.number('agreement', r.group_id)}　" + control.plan_text
    )
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    footer = section.footer.paragraphs[0]
    footer.text = f"{control.issuer_title}　団体データの出典：{control.data_source}"
    footer.runs[0].font.size = Pt(7)

    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = title.add_run(f"{r.category_name}の共同調達に関する協定書（案）")
    run.bold, run.font.size = True, Pt(16)
    info = doc.add_table(rows=0, cols=2)
    info.style = "Table Grid"
    for label, text in control.lines("agreement", r.group_id):
        cells = info.add_row().cells
        cells[0].text, cells[1].text = label, text
    _set_widths(info, [Mm(30), Length(Mm(210) - 2 * SIDE_MARGIN - Mm(30))])
    for notice in control.notices:
        doc.add_paragraph().add_run("ご注意：" + notice).bold = True
    doc.add_paragraph()
    doc.add_paragraph(
        f"{names}{'' if r.lead_is_member else '及び' + r.lead_name}（以下「構成団体」という。）は、{r.category_name}"
        f"の共同調達について、次のとおり協定を締結する。"
    )

    _article(
        doc,
        1,
        "目的",
        f"この協定は、構成団体が{r.category_name}を共同で調達し、及び利用することにより、調達及び運用に要する経費の"
        "節減と事務の効率化を図ることを目的とする。",
    )
    _article(
        doc,
        2,
        "対象業務",
        f"この協定の対象とする業務（以下「対象業務」という。）は、{r.category_name}の導入及び運用"
        f"（{r.mode_label}）とする。",
        "対象業務の仕様は、構成団体が協議して定める。",
    )
    # A lead the grant excludes (a prefecture or designated city) is not told to apply for it; 第4条5 says why the
    # group gets none.
    no_grant = _grant_exclusion(group) if r.mode == "lead" else None
    duties = (
        (
            "対象業務に係る契約の締結及び履行の管理",
            "構成団体の負担金の算定及び請求",
            "構成団体との連絡調整",
            "対象業務の実施に必要な事務" if no_grant else "補助金の申請その他対象業務の実施に必要な事務",
        )
        if r.mode == "lead"
        else (
            "共通仕様書の作成及び構成団体との調整",
            "事業者からの見積の取りまとめ",
            "構成団体の負担額の算定",
            "構成団体との連絡調整",
        )
    )
    _article(
        doc,
        3,
        f"{lead_role}の事務",
        f"構成団体は、{r.lead_name}を{lead_role}とする。",
        f"{lead_role}は、次の事務を行う。" + "".join(f"（{i + 1}）{d}　" for i, d in enumerate(duties)).rstrip(),
    )
    rule = share_rule(group)
    _article(
        doc,
        4,
        "経費の負担と納付時期",
        *rule_articles(rule, lead_role, r.mode != "lead", r.method_formula),
        f"各構成団体の負担額の見込額は、別表のとおりとする（算定期間：{r.period_label}）。初期費用の負担は導入年度に、"
        "年間費用の負担は各年度に属する。",
        (
            f"{lead_role}は、毎年度、当該年度の負担金を構成団体に請求し、構成団体は請求を受けた日から30日以内に納付する。"
            if r.mode == "lead"
            else "構成団体は、それぞれの契約に定めるところにより事業者に支払う。"
        ),
        (
            f"この対象業務は、{lead_role}が補助対象とならないため、補助金の交付を受けない（{no_grant}）。別表の負担額は、"
            "補助金を含まない額とする。"
            if no_grant
            else "別表の負担額は、国庫補助金その他の補助金の交付を受ける前の額とする。補助金の交付を受けたときの"
            "構成団体間の取扱いは、交付の決定の後に構成団体が協議して定める。"
        ),
    )
    _article(
        doc,
        5,
        "契約",
        (
            f"対象業務に係る契約は、{r.lead_name}が構成団体を代表して締結する。"
            if r.mode == "lead"
            else "対象業務に係る契約は、共通仕様に基づき各構成団体が締結する。"
        ),
        "契約の方法は、地方自治法その他の法令の定めるところによる。",
    )
    _article(
        doc,
        6,
        "個人情報・情報セキュリティ",
        "構成団体は、対象業務において取り扱う個人情報を、個人情報の保護に関する法律及び各構成団体の定めるところにより"
        "適正に取り扱う。",
        "構成団体は、各構成団体の情報セキュリティポリシーを遵守し、事業者にも遵守させる。",
    )
    _article(
        doc,
        7,
        "脱退・加入",
        "構成団体は、脱退しようとする年度の前年度の9月30日までに書面により他の構成団体に申し出て、脱退することが"
        "できる。この場合において、既に納付した負担金は返還しない。",
        "新たに加入を希望する団体があるときは、構成団体が協議して加入を認めることができる。この場合、負担額は再算定する。",
    )
    _article(doc, 8, "協議", "この協定に定める事項を変更するときは、構成団体が協議して定める。")
    _article(
        doc,
        9,
        "有効期間",
        f"この協定の有効期間は、締結の日から{wareki_fiscal_year(years[-1])}の末日（{years[-1] + 1}年3月31日）"
        "までとする。",
    )
    _article(
        doc, 10, "疑義", "この協定に定めのない事項及びこの協定に関し疑義が生じた事項は、構成団体が協議して定める。"
    )

    # The 別表 lists 負担額 before grants (第4条5); where the shares are the formula's plus a 調整額, the 調整額 too,
    # so that 第4条 recomputed by hand gives each amount.
    gross = [[y.gross_yen for y in sch.years] for sch in schedules]
    extra = adjustments(instance, group, rule, years, gross) if rule is not None and rule.adjusted else None
    figures = ["負担額", *(["うち調整額"] if extra is not None else [])]
    annex_rows: list[tuple[str, str, list[int]]] = []  # (body, figure, amounts by year and their total)
    for k, sch in enumerate(schedules):
        name = sch.line.body_name + (f"（{lead_role}）" if sch.line.is_lead else "")
        annex_rows.append((name, "負担額", [*gross[k], sch.line.total_yen]))
        if extra is not None:
            annex_rows.append((name, "うち調整額", [*extra[k], sum(extra[k])]))
    amounts = [sum(g[j] for g in gross) for j in range(len(years))]
    annex_rows.append(("合計", "負担額", [*amounts, sum(sch.line.total_yen for sch in schedules)]))
    head = ["構成団体", "区分", *map(wareki_fiscal_year, years), "合計（円）"]
    amount_texts = [[f"{row[2][j]:,}" for row in annex_rows] for j in range(len(years) + 1)]
    landscape, size, amount_widths = _annex_layout(head[2:], amount_texts)
    if landscape:
        annex = doc.add_section(WD_SECTION.NEW_PAGE)
        annex.orientation, annex.page_width, annex.page_height = WD_ORIENT.LANDSCAPE, Mm(297), Mm(210)
    else:
        doc.add_page_break()
    doc.add_paragraph().add_run("別表　構成団体及び年度別負担額（見込額・補助金の交付前）").bold = True
    doc.add_paragraph(f"調達方式：{r.mode_label}　{lead_role}：{r.lead_name}　按分方法：{r.method_label}")
    table = doc.add_table(rows=1, cols=len(years) + 3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = text
    for name, label, amounts in annex_rows:
        cells = table.add_row().cells
        cells[1].text = label
        for cell, amount in zip(cells[2:], amounts, strict=True):
            cell.text = f"{amount:,}"
        if label == figures[0]:
            top = cells[0]
            top.text = name
        else:
            # One body, one name cell over its rows, as a practitioner lays out a 別表.
            top.merge(cells[0]).text = name
    _set_widths(table, [ANNEX_NAME_WIDTH, ANNEX_LABEL_WIDTH, *amount_widths])
    for r_index, row in enumerate(table.rows):
        for i, cell in enumerate(row.cells):
            for paragraph in cell.paragraphs:
                if i >= 2:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in paragraph.runs:
                    run.font.size = Pt(size - 1 if r_index == 0 else size)
    costs = doc.add_paragraph(
        f"グループの費用：初期 {r.initial_yen:,}円、年額 {r.annual_yen:,}円、期間総額 {r.total_yen:,}円"
        f"（{r.meta.price_book_version or '単価表'}による見込み）。"
    )
    costs.paragraph_format.space_before = Pt(6)

    doc.add_paragraph()
    doc.add_paragraph(
        "この協定の締結を証するため、本書を"
        + f"{len(all_parties)}通作成し、構成団体が記名押印の上、各自1通を保有する。"
    )
    doc.add_paragraph("令和　　年　　月　　日")
    for name in all_parties:
        p = doc.add_paragraph(f"{_head(instance, r, name)}　　　　　　　　　　　　印")
        p.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# The 別表's columns: the body's name and the figure's label at fixed widths, the amounts sharing the rest of the
# text width (A4 less the side margins: 160 mm portrait, 247 mm landscape).
ANNEX_NAME_WIDTH, ANNEX_LABEL_WIDTH = Mm(28), Mm(24)
ANNEX_AMOUNTS_WIDTH = {
    landscape: Length(page - 2 * SIDE_MARGIN - ANNEX_NAME_WIDTH - ANNEX_LABEL_WIDTH)
    for landscape, page in ((False, Mm(210)), (True, Mm(297)))
}
# Advance widths in IPAex明朝 (em): digits 0.618, the comma 0.238 (read from ipaexm.ttf's hmtx table).
_EM = {**dict.fromkeys("0123456789", 0.618), ",": 0.238}
CELL_PADDING = Mm(1)  # left and right, instead of Word's 1.9 mm


def _text_width(text: str, points: float) -> Length:
    """The width of ``text`` in IPAex明朝, with the quarter em that Word and LibreOffice add by default where Japanese
    meets Latin text (令和 10 年度)."""
    ems = sum(_EM.get(ch, 1.0) for ch in text)
    ems += 0.25 * sum((a in _EM) != (b in _EM) for a, b in itertools.pairwise(text))
    return Length(round(ems * points * Pt(1)))


def _annex_layout(heads: list[str], amount_texts: list[list[str]]) -> tuple[bool, float, list[Length]]:
    """Landscape or not, the font size (the heads a point smaller) and each amount column's width: the first of
    portrait at 8 points, portrait at 7, landscape at 8 and landscape at 7 where every amount and head fits on one
    line; each column gets what its longest text needs, and the columns share what is left. Should even that not
    fit, the columns are as wide as the page allows and the longest amounts wrap."""
    for landscape, points in ((False, 8.0), (False, 7.0), (True, 8.0), (True, 7.0)):
        needs = [
            max(_text_width(head, points - 1), *(_text_width(t, points) for t in texts)) + 2 * CELL_PADDING + Mm(0.5)
            for head, texts in zip(heads, amount_texts, strict=True)
        ]
        spare = ANNEX_AMOUNTS_WIDTH[landscape] - sum(needs)
        if spare >= 0:
            return landscape, points, [Length(n + spare // len(needs)) for n in needs]
    share = ANNEX_AMOUNTS_WIDTH[True] // len(amount_texts)
    return True, 7.0, [Length(share)] * len(amount_texts)


def _set_widths(table: Table, widths: list[Length]) -> None:
    """Column widths set as Word reads them (each cell) and as LibreOffice does (the table's grid); left to autofit,
    the name and label columns were squeezed to a few characters a line."""
    margins = OxmlElement("w:tblCellMar")
    for side in ("left", "right"):
        margin = OxmlElement(f"w:{side}")
        margin.set(qn("w:w"), str(round(CELL_PADDING.twips)))
        margin.set(qn("w:type"), "dxa")
        margins.append(margin)
    # In the schema's order (Word refuses a document whose order is wrong): after the layout, before the look.
    table._tbl.tblPr.insert_element_before(margins, "w:tblLook", "w:tblCaption", "w:tblDescription", "w:tblPrChange")
    table.autofit = False
    for column, width in zip(table.columns, widths, strict=True):
        column.width = width
    for row in table.rows:
        for cell, width in zip(row.cells, widths, strict=True):
            cell.width = width


def _grant_exclusion(group: SettledGroup) -> str | None:
    """Why the lead-mode group can receive no grant (its lead's kind, as the estimates recorded it), or None."""
    grants = [s.joint.grant for s in group.subsidies.values()]
    if not grants or any(g.eligible for g in grants):
        return None
    return next((g.reason for g in grants if g.reason), "幹事団体が補助対象外")


def _head(instance: Instance, r: GroupReport, name: str) -> str:
    for m in r.members:
        if m.body_name == name:
            return m.body_head
    return r.lead_head


__all__ = ["agreement_docx", "agreement_file", "safe_name"]
