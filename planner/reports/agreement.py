"""The agreement drafts a practitioner edits before the bodies sign (python-docx, である調).

A lead-mode group (幹事団体方式) gets a 協定書（案）: the recital naming what it is (a contract between the bodies, not
one of 地方自治法's forms of cooperation), 第4条 stating the rule its shares follow (planner.reports.agreement_rule)
with the population's base date, 精算 against the real contract price (the 別表 are 見込額), the grant passed
through by initial shares, each year's budget, withdrawal with recalculation and its costs, and the 個人情報取扱特記
事項 the lead attaches to its contract. A 仕様統一方式 group, whose members each contract on their own, gets the
lighter 覚書（案） instead (planner.reports.memorandum): no amounts are owed between its bodies.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor
from docx.table import Table

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup, SettledPlan
from planner.domain.statements import need_schedules
from planner.domain.vocabulary import METHOD_LABELS, wareki_fiscal_year

from .agreement_rule import adjustments, population_basis, rule_articles, share_rule
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


def new_document(r: GroupReport, kind: str, title: str) -> DocxDocument:
    """An A4 document in IPAex明朝 with its control lines in the header: the 文書番号, the plan and one issuer, the
    group's lead or coordinator who drafts it (the prefecture's 担当 and 連絡先 do not stand beside it)."""
    control = r.control
    doc = Document()
    section = doc.sections[0]
    section.page_width, section.page_height, section.orientation = Mm(210), Mm(297), WD_ORIENT.PORTRAIT
    section.left_margin = section.right_margin = SIDE_MARGIN
    section.top_margin = section.bottom_margin = Mm(20)
    _set_font(doc)
    lines = dict(control.lines(kind, r.group_id))
    header = section.header.paragraphs[0]
    header.text = ("【案】" if control.draft else "") + f"{lines['文書番号']}　{control.plan_text}"
    header.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    issued = section.header.add_paragraph(f"発行日 {lines['発行日']}　発行 {lines['発行']}")
    issued.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    for p in section.header.paragraphs:
        for run in p.runs:
            run.font.size = Pt(8)
    footer = section.footer.paragraphs[0]
    footer.text = f"団体データの出典：{control.data_source}"
    footer.runs[0].font.size = Pt(7)
    for notice in control.notices:
        doc.add_paragraph().add_run("ご注意：" + notice).bold = True
    head = doc.add_paragraph()
    head.alignment = WD_ALIGN_PARAGRAPH.CENTER
    run = head.add_run(title)
    run.bold, run.font.size = True, Pt(15)
    head.paragraph_format.space_after = Pt(12)
    return doc


Paragraph = str | tuple[str, Sequence[str]]  # a 項, or a 項 with its 号


def article(doc, number: int | None, title: str, *paragraphs: Paragraph) -> None:
    """第N条 with its caption above and its 項 (2, 3, …) and 号 (（1）, （2）, …) indented as 例規 are; ``number``
    None for the 別記's unnumbered clauses."""
    head = doc.add_paragraph()
    head.add_run(f"（{title}）")
    head.paragraph_format.left_indent = Mm(3.5)
    head.paragraph_format.space_before = Pt(4)
    head.paragraph_format.keep_with_next = True
    for i, item in enumerate(paragraphs):
        text, points = (item, ()) if isinstance(item, str) else item
        label = (f"第{number}条" if number else "") if i == 0 else _zenkaku(i + 1)
        p = doc.add_paragraph(f"{label}　{text}" if label else text)
        p.paragraph_format.first_line_indent = Mm(-3.7)
        p.paragraph_format.left_indent = Mm(3.7)
        for k, point in enumerate(points):
            q = doc.add_paragraph(f"（{k + 1}）{point}")
            q.paragraph_format.first_line_indent = Mm(-7.4)
            q.paragraph_format.left_indent = Mm(11.1)


def _zenkaku(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


def annex_table(
    doc, head: Sequence[str], rows: Sequence[Sequence[str]], widths: Sequence[Length], numbers_from: int, size=8.0
):
    """A 別表: a grid at fixed widths, amounts right-aligned, the heads a point smaller."""
    table = doc.add_table(rows=1, cols=len(head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = text
    for row in rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    _set_widths(table, list(widths))
    _repeat_head(table)
    for r_index, row in enumerate(table.rows):
        for i, cell in enumerate(row.cells):
            for paragraph in cell.paragraphs:
                if i >= numbers_from and r_index > 0:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in paragraph.runs:
                    run.font.size = Pt(size - 1 if r_index == 0 else size)
    return table


def _repeat_head(table) -> None:
    """The head row again at the top of each page a long 別表 runs onto (Word's and LibreOffice's 見出し行の繰り返し)."""
    head = OxmlElement("w:tblHeader")
    head.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(head)


def annex_note(doc, text: str) -> None:
    p = doc.add_paragraph(text)
    p.paragraph_format.space_before = Pt(3)
    for run in p.runs:
        run.font.size = Pt(8.5)


def _portrait_page(doc) -> None:
    """A new page, portrait again after a landscape 別表."""
    if doc.sections[-1].orientation == WD_ORIENT.LANDSCAPE:
        section = doc.add_section(WD_SECTION.NEW_PAGE)
        section.orientation, section.page_width, section.page_height = WD_ORIENT.PORTRAIT, Mm(210), Mm(297)
    else:
        doc.add_page_break()


def annex_title(doc, text: str, new_page: bool = False) -> None:
    if new_page:
        _portrait_page(doc)
    p = doc.add_paragraph()
    p.add_run(text).bold = True
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.keep_with_next = True


def _volume(value: float) -> str:
    """A yearly volume: grouped when whole (12,000), else to two decimals without grouping (12.5), so that no
    volume reads like a yen amount with a fraction."""
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def signatures(doc, instance: Instance, r: GroupReport, parties: Sequence[str], what: str, verb: str) -> None:
    """The closing sentence, the date and each party's 長 with a seal as one paragraph kept on one page (the names on
    a right tab): as separate paragraphs chained by keep-with-next, LibreOffice left the closing sentence alone at
    the foot of a page and the names on the next."""
    doc.add_paragraph()
    block = doc.add_paragraph()
    block.paragraph_format.keep_together = True
    block.paragraph_format.tab_stops.add_tab_stop(Length(Mm(210) - 2 * SIDE_MARGIN), WD_TAB_ALIGNMENT.RIGHT)
    run = block.add_run(
        f"この{what}の締結を証するため、本書{len(parties)}通を作成し、各当事者{verb}の上、各自1通を保有する。"
    )
    run.add_break()
    run.add_break()
    run.add_text("令和　　年　　月　　日")
    for name in parties:
        run.add_break()
        run.add_break()
        run.add_text(f"\t{_head(instance, r, name)}　　　　　　　　　　　　印")


def docx_bytes(doc) -> bytes:
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def parties_of(r: GroupReport) -> list[str]:
    return [m.body_name for m in r.members] + ([] if r.lead_is_member else [r.lead_name])


def joined(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else "、".join(names[:-1]) + "及び" + names[-1]


RECITAL_BASIS = (
    "この協定は、地方自治法（昭和22年法律第67号）第2条第14項の趣旨を踏まえ、構成団体が対等の立場で締結する契約"
    "であり、同法第252条の2の2第1項の協議会の設置、同法第252条の14第1項の事務の委託その他同法第2編第11章第3節に"
    "規定する普通地方公共団体相互間の協力の方式によるものではない。"
)


def agreement_docx(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    """The 協定書（案） of a lead-mode group (幹事団体方式): one contract by the lead, the members' 負担金 by the rule
    of 第4条, 精算 against the real contract price, the grant passed through by initial shares, budgets year by year,
    a 個人情報取扱特記事項 for the lead's contract, and withdrawal with recalculation and its costs."""
    group = find_group(plan, group_id)
    if group.mode == "standalone":
        raise ReportError(f"グループ {group_id} は単独調達のため協定書はありません")
    if group.mode != "lead":
        raise ReportError(
            f"グループ {group_id} は仕様統一方式（各団体が自ら契約）のため協定書はありません。覚書（案）を作成します"
        )
    r = group_report(instance, plan, group, meta)
    schedules = need_schedules(instance, group)
    years = [y.fiscal_year for y in schedules[0].years]
    lead_role = r.lead_role
    parties = parties_of(r)
    category = instance.categories[group.category]
    rule = share_rule(group)
    no_grant = grant_exclusion(group)
    grant_total = sum(m.grant_yen for m in r.members)
    work_yen = instance.allocation.lead_work_annual_yen.get("lead", 0)
    end = years[-1]

    doc = new_document(r, "agreement", f"{r.category_name}の共同調達に関する協定書（案）")
    doc.add_paragraph(
        f"{joined(parties)}（以下「構成団体」という。）は、{r.category_name}（以下「対象システム」という。）を共同で"
        "調達し、利用することについて、次のとおり協定を締結する。" + RECITAL_BASIS
    ).paragraph_format.first_line_indent = Mm(3.7)

    article(
        doc,
        1,
        "目的",
        "この協定は、構成団体が対象システムを共同で調達し、及び利用するために必要な事項を定め、調達及び運用に要する"
        "経費の節減と事務の効率化を図ることを目的とする。",
    )
    article(
        doc,
        2,
        "対象業務",
        f"この協定の対象とする業務（以下「対象業務」という。）は、{lead_role}が一の契約により対象システムを調達し、"
        f"構成団体がこれを利用すること（{r.mode_label}）とする。",
        f"対象業務の期間は、{wareki_fiscal_year(years[0])}から{wareki_fiscal_year(end)}までの{len(years)}年度とする。",
        "対象業務の仕様は、構成団体が協議して定める。",
    )
    duties = [
        "対象業務に係る契約の締結並びにその履行の監督及び検査",
        "構成団体の負担金の算定、請求、収納及び精算",
        *([] if no_grant else ["補助金の交付の申請、実績の報告その他補助金に関する事務"]),
        "契約に付する個人情報取扱特記事項に基づく事業者の監督",
        "構成団体との連絡調整その他対象業務の実施に必要な事務",
    ]
    article(
        doc,
        3,
        f"{lead_role}",
        f"構成団体は、{r.lead_name}を{lead_role}とする。",
        (f"{lead_role}は、次に掲げる事務を行う。", duties),
    )
    basis_sentence = (
        f"対象業務に要する経費は、{lead_role}が締結する契約の金額"
        + (f"に、{lead_role}の事務に要する経費として年額{work_yen:,}円を加えた額" if work_yen else "")
        + "とし、初期費用（導入及び構築に要する経費）と年間費用（各年度の利用及び運用に要する経費）に分ける。"
    )
    # A host (a prefecture leading for its municipalities) bears no share: the formula counts the others only.
    payer = "構成団体" if r.lead_is_member else "負担団体"
    formula_no = 2 if r.lead_is_member else 3  # 第4条's 項: the cost, (the host,) the formula, the rounding
    host_sentence = (
        []
        if r.lead_is_member
        else [
            f"{r.lead_name}は、対象システムを自ら利用しない{lead_role}として契約を締結し、負担額を負わない。この条及び"
            f"次条において、{r.lead_name}以外の構成団体を「負担団体」という。"
        ]
    )
    article(
        doc,
        4,
        "負担額の算定",
        basis_sentence,
        *host_sentence,
        *rule_articles(
            rule,
            lead_role,
            METHOD_LABELS.get(r.method, r.method),
            population_basis(r.control.data_source),
            category.unit,
            payer,
            formula_no,
        ),
        "別表第1及び別表第2の額は、"
        + f"{r.meta.price_source or r.price_book_label}による参考価格に基づく見込額であり、各構成団体の負担額は、"
        "次条の規定により契約の金額に基づいて精算する。初期費用の負担は導入年度に、年間費用の負担は各年度に属する。",
    )
    article(
        doc,
        5,
        "精算",
        f"{lead_role}は、対象業務に係る契約を締結したときは、各年度の対象業務に要する経費（契約の金額のうち当該年度"
        "に支払う額"
        + (f"に{lead_role}の事務に要する経費を加えた額" if work_yen else "")
        + "をいう。）を、"
        + (
            f"第4条第{formula_no}項に定める割合"
            if rule is not None and not rule.adjusted
            else "別表第2に掲げる当該年度の各構成団体の負担額の比"
        )
        + f"により按分し（1円未満の端数は、第4条第{formula_no + 1}項の例による。）、各構成団体の当該年度の負担額"
        "（以下「確定負担額」という。）として構成団体に通知する。",
        f"{lead_role}は、毎年度終了後、当該年度に実際に支払った経費の額により前項の規定の例により当該年度の確定負担額を"
        "算定し、当該年度に請求した負担金の額との差額を精算する。請求した額が確定負担額を超えるときはその差額を還付し、"
        "不足するときはその差額を追加して請求する。",
        *(
            ["前2項の算定に用いる人口及び年間利用量は、別表第1に掲げるものとする。"]
            if rule is not None and not rule.adjusted and (rule.weights.get("population") or rule.weights.get("volume"))
            else []
        ),
    )
    article(
        doc,
        6,
        "負担金の請求及び納付",
        f"{lead_role}は、毎年度、当該年度の負担金の額（前条の規定による精算を含む。）を構成団体に通知し、請求する。",
        "構成団体は、前項の請求を受けた日から30日以内に、負担金を" + f"{lead_role}に納付する。",
    )
    grant_paragraphs: list[Paragraph]
    if no_grant:
        grant_paragraphs = [
            f"対象業務は、{lead_role}が補助の対象とならないため、国庫補助金の交付を受けない（{no_grant}）。"
            "構成団体は、対象業務に係る経費について、個別に補助金の交付を申請しない。",
            "第4条の負担額は、補助金を含まない額とする。",
        ]
    else:
        grant_paragraphs = [
            f"{lead_role}は、対象業務について国庫補助金その他の補助金（以下「補助金」という。）の交付を受けるときは、"
            "対象業務全体の実施主体として申請する。",
            "第4条の負担額は、補助金の交付を受ける前の額とし、補助金は負担額から差し引かない。"
            f"{lead_role}は、交付の決定を受けた補助金の額を、別表第1に掲げる各構成団体の初期費用の負担額の比により按分し"
            f"（1円未満の端数は、第4条第{formula_no + 1}項の例による。）、当該構成団体に交付する。",
            "補助金の交付決定額と交付額の確定による額とが異なるときは、確定した額により前項の按分をやり直し、"
            "差額を精算する。",
            "補助金の全部又は一部の返還を求められたときは、構成団体は、返還額を第2項の比により負担する。ただし、返還の"
            "原因が特定の構成団体の責めに帰すべき事由によるときは、当該構成団体が負担する。",
            "補助金の按分の見込額は、補助金が採択された場合の見込額として別表第3に掲げる。",
        ]
    article(doc, 7, "補助金の取扱い", *grant_paragraphs)
    article(
        doc,
        8,
        "予算の措置",
        "この協定に基づく各構成団体の負担金の支出は、各年度の各構成団体の予算の定めるところによる。",
        f"{lead_role}は、複数年度にわたる契約を締結するときは、地方自治法第214条の規定による債務負担行為の議決を"
        "経て、又は同法第234条の3の規定による長期継続契約として締結する。この場合において、当該契約には、翌年度以降に"
        "歳出予算の減額又は削除があったときは契約を変更し、又は解除することができる旨を定める。",
        "構成団体は、負担金に係る予算が成立しなかったとき、又は減額されたときは、直ちにその旨を他の構成団体に"
        "通知する。この場合において、構成団体は、対象業務の内容の変更、負担額の再算定又は当該構成団体の脱退その他"
        "必要な措置について協議する。",
    )
    article(
        doc,
        9,
        "契約",
        f"対象業務に係る契約は、{lead_role}が自らを当事者として、地方自治法その他の法令及び{r.lead_name}の契約に関する"
        "規則の定めるところにより締結する。",
        (
            f"{lead_role}は、前項の契約において、次に掲げる事項を定める。",
            [
                "構成団体が対象システムを利用できること",
                "別記の個人情報取扱特記事項",
                "成果物の権利の帰属（次条第3項）",
                "前条第2項の予算の減額又は削除の場合の契約の変更又は解除",
            ],
        ),
    )
    article(
        doc,
        10,
        "個人情報の保護及び成果物",
        "各構成団体は、対象業務において取り扱う自らの保有する個人情報について、個人情報の保護に関する法律（平成15年"
        "法律第57号）及び各構成団体の定めるところにより、その管理の責任を負う。",
        f"{lead_role}は、別記の個人情報取扱特記事項を契約に付し、事業者にこれを遵守させ、その遵守の状況を監督する。"
        f"構成団体は、{lead_role}を通じて事業者に報告を求め、又は調査を行うことができる。事故が生じたときは、"
        f"{lead_role}は、直ちに影響を受ける構成団体に通知し、構成団体と協力して対応する。",
        f"対象業務により作成された成果物（{_deliverables(group.category)}を含む。）に係る権利は、{lead_role}に帰属させる。"
        f"{lead_role}は、構成団体に対し、この協定の有効期間中及び脱退又は終了の後も、当該成果物を無償で利用させる。"
        "各構成団体の入力したデータは、当該構成団体に帰属する。",
    )
    article(
        doc,
        11,
        "脱退",
        "構成団体は、脱退しようとする年度の前年度の9月30日までに書面により他の構成団体に申し出て、当該年度の前年度"
        "の末日をもって脱退することができる。第8条第3項の協議により脱退する場合も、同様とする。",
        f"構成団体が脱退したときは、{lead_role}は、脱退の日の属する年度の翌年度以後の確定負担額を、残る構成団体に"
        "ついて第5条第1項の規定の例により算定し直し、構成団体に通知する。",
        "脱退に伴い契約の変更又は解除に要する費用（違約金、データの移行及び削除に要する費用を含む。）は、脱退した"
        "構成団体が負担する。既に納付した負担金は、第5条の精算による場合を除き、返還しない。",
    )
    article(
        doc,
        12,
        "加入",
        "新たに加入を希望する団体があるときは、構成団体が協議して加入を認めることができる。この場合において、"
        f"{lead_role}は、加入の日以後の負担額を第4条の規定により算定し直す。",
    )
    article(
        doc,
        13,
        "有効期間",
        f"この協定の有効期間は、締結の日から{wareki_fiscal_year(end)}の末日（{end + 1}年3月31日）までとする。",
        "前項の規定にかかわらず、第5条、第7条、第10条及び第11条第3項の規定は、有効期間の満了後もなお効力を有する。",
    )
    article(doc, 14, "協議", "この協定に定めのない事項及びこの協定に関し疑義が生じた事項は、構成団体が協議して定める。")
    signatures(doc, instance, r, parties, "協定", "記名押印")

    _basis_annex(doc, instance, r, "別表第1　構成団体及び算定の基礎（見込額）", "負担額")
    year_annex(doc, instance, group, r, schedules, rule, years, "別表第2　年度別負担額（見込額・補助金の交付前）")
    if not no_grant and grant_total:
        annex_title(doc, "別表第3　補助金の按分（補助金が採択された場合の見込額）")
        rows = [[_name(m, lead_role), f"{m.initial_yen:,}", f"{m.grant_yen:,}"] for m in r.members]
        rows.append(["合計", f"{sum(m.initial_yen for m in r.members):,}", f"{grant_total:,}"])
        annex_table(
            doc, ["構成団体", "初期費用の負担額（円）", "補助金の按分額（円）"], rows, [Mm(52), Mm(54), Mm(54)], 1
        )
        annex_note(
            doc,
            f"補助金の見込額 {grant_total:,}円 を初期費用の負担額の比により按分した額（第7条第2項）。別表第2の負担額から"
            "差し引くものではない。",
        )
    _special_terms(doc, lead_role, group.category)
    return docx_bytes(doc)


def _name(m, role: str) -> str:
    return m.body_name + (f"（{role}）" if m.is_lead else "")


def _deliverables(category: str) -> str:
    """What the contract produces besides the licence, named so that its ownership is not argued later."""
    return {
        "rpa": "RPAのシナリオ、設定ファイル及び操作手順書",
        "ocr": "帳票定義、読取設定及び操作手順書",
    }.get(category, "設定ファイル、学習用に作成したデータ及び操作手順書")


def _basis_annex(doc, instance: Instance, r: GroupReport, title: str, word: str) -> None:
    """別表第1: each member's population and yearly volume (the bases of 第4条) and its initial and yearly amounts."""
    annex_title(doc, title, new_page=True)
    unit = instance.categories[r.category_id].unit
    rows = [
        [
            _name(m, r.lead_role),
            f"{m.population:,}" if m.population is not None else "—",
            _volume(m.volume),
            f"{m.initial_yen:,}",
            f"{m.annual_yen:,}",
        ]
        for m in r.members
    ]
    rows.append(
        [
            "合計",
            f"{sum(m.population or 0 for m in r.members):,}",
            _volume(sum(m.volume for m in r.members)),
            f"{r.initial_yen:,}",
            f"{r.annual_yen:,}",
        ]
    )
    head = ["構成団体", "人口（人）", f"年間利用量（{unit}）", f"初期費用の{word}（円）", f"年間費用の{word}（円）"]
    annex_table(doc, head, rows, [Mm(34), Mm(24), Mm(30), Mm(36), Mm(36)], 1)
    annex_note(
        doc,
        f"対象業務に要する経費の見込額：初期費用 {r.initial_yen:,}円、年間費用 {r.annual_yen:,}円（年額）、"
        f"{r.horizon_years}年間の総額 {r.total_yen:,}円（{r.meta.price_source or r.price_book_label}による参考価格）。"
        f"按分方法：{r.method_label}。人口：{population_basis(r.control.data_source).split('（', 1)[0]}。",
    )


def year_annex(
    doc,
    instance,
    group,
    r: GroupReport,
    schedules,
    rule,
    years,
    title: str,
    figure: str = "負担額",
    party: str = "構成団体",
) -> None:
    """別表第2: each member's 負担額 by fiscal year before any grant (第7条), and where the shares are the formula's
    plus a 調整額, the 調整額 too, so that 第4条 recomputed by hand gives each amount."""
    lead_role = r.lead_role
    gross = [[y.gross_yen for y in sch.years] for sch in schedules]
    extra = adjustments(instance, group, rule, years, gross) if rule is not None and rule.adjusted else None
    annex_rows: list[tuple[str, str, list[int]]] = []  # (body, figure, amounts by year and their total)
    for k, sch in enumerate(schedules):
        name = sch.line.body_name + (f"（{lead_role}）" if sch.line.is_lead else "")
        annex_rows.append((name, figure, [*gross[k], sch.line.total_yen]))
        if extra is not None:
            annex_rows.append((name, "うち調整額", [*extra[k], sum(extra[k])]))
    amounts = [sum(g[j] for g in gross) for j in range(len(years))]
    annex_rows.append(("合計", figure, [*amounts, sum(sch.line.total_yen for sch in schedules)]))
    head = [party, "区分", *map(wareki_fiscal_year, years), "合計（円）"]
    amount_texts = [[f"{row[2][j]:,}" for row in annex_rows] for j in range(len(years) + 1)]
    landscape, size, amount_widths = _annex_layout(head[2:], amount_texts)
    if landscape:
        annex = doc.add_section(WD_SECTION.NEW_PAGE)
        annex.orientation, annex.page_width, annex.page_height = WD_ORIENT.LANDSCAPE, Mm(297), Mm(210)
    annex_title(doc, title)
    table = doc.add_table(rows=1, cols=len(years) + 3)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, head, strict=True):
        cell.text = text
    for name, label, row_amounts in annex_rows:
        cells = table.add_row().cells
        cells[1].text = label
        for cell, amount in zip(cells[2:], row_amounts, strict=True):
            cell.text = f"{amount:,}"
        if label == figure:
            top = cells[0]
            top.text = name
        else:
            # One body, one name cell over its rows, as a practitioner lays out a 別表.
            top.merge(cells[0]).text = name
    _set_widths(table, [ANNEX_NAME_WIDTH, ANNEX_LABEL_WIDTH, *amount_widths])
    _repeat_head(table)
    for r_index, row in enumerate(table.rows):
        for i, cell in enumerate(row.cells):
            for paragraph in cell.paragraphs:
                if i >= 2:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in paragraph.runs:
                    run.font.size = Pt(size - 1 if r_index == 0 else size)
    annex_note(
        doc,
        f"調達方式：{r.mode_label}　{lead_role}：{r.lead_name}　按分方法：{r.method_label}。"
        f"初期費用の{figure}は導入年度に、年間費用の{figure}は各年度に計上している。",
    )


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


def grant_exclusion(group: SettledGroup) -> str | None:
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


def _special_terms(doc, lead_role: str, category: str) -> None:
    """別記: the 個人情報取扱特記事項 the lead attaches to its contract (甲 the lead, 乙 the contractor), covering each
    member's data as well as the lead's: supervision, deletion, incidents, damages and the ownership of 成果物."""
    _portrait_page(doc)
    p = doc.add_paragraph()
    p.add_run("別記").bold = True
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run("個人情報取扱特記事項").bold = True
    doc.add_paragraph(
        f"この特記事項は、{lead_role}（以下「甲」という。）が締結する対象システムに係る契約（以下「本契約」という。）"
        "に付するものであり、受注者（以下「乙」という。）は、本契約の履行に当たり、甲及び構成団体の個人情報"
        "（個人情報の保護に関する法律第2条第1項に規定する個人情報をいう。以下同じ。）を次のとおり取り扱わなければ"
        "ならない。"
    ).paragraph_format.first_line_indent = Mm(3.7)
    clauses: list[tuple[str, str]] = [
        (
            "基本的事項",
            "乙は、個人情報の保護の重要性を認識し、本契約の履行に当たっては、個人の権利利益を侵害することのない"
            "よう、個人情報の保護に関する法律その他の関係法令を遵守し、個人情報を適正に取り扱わなければならない。",
        ),
        (
            "秘密の保持",
            "乙は、本契約の履行に関して知り得た個人情報をみだりに他人に知らせ、又は不当な目的に利用してはならない。"
            "本契約が終了し、又は解除された後においても、同様とする。",
        ),
        (
            "目的外利用及び提供の禁止",
            "乙は、甲の指示がある場合を除き、本契約の履行に関して知り得た個人情報を本契約の目的以外の目的に利用し、"
            "又は第三者に提供してはならない。乙は、個人情報を機械学習その他の乙の製品又は役務の改良に用いてはならない。",
        ),
        (
            "安全管理措置",
            "乙は、個人情報の漏えい、滅失及び毀損の防止その他の適切な管理のために必要な措置を講じ、その内容を"
            "甲に書面で報告しなければならない。個人情報を取り扱う場所及びデータを保存する場所（国内に限る。）は、"
            "あらかじめ甲の承認を得たものとする。",
        ),
        (
            "従事者の監督",
            "乙は、個人情報を取り扱う従事者を定め、その者に対し、在職中及び退職後において本特記事項を遵守させる"
            "ための教育及び監督を行わなければならない。",
        ),
        (
            "再委託の制限",
            "乙は、甲の書面による承諾を得た場合を除き、個人情報の取扱いを第三者に委託してはならない。承諾を得て"
            "委託するときは、本特記事項と同等の義務を再委託先に課し、その履行を監督しなければならない。",
        ),
        (
            "複写及び複製の禁止",
            "乙は、甲の承諾を得た場合を除き、甲又は構成団体から提供された個人情報を複写し、又は複製してはならない。",
        ),
        (
            "返還及び削除",
            "乙は、本契約が終了し、若しくは解除されたとき、又は構成団体が脱退したときは、当該個人情報（当該構成団体"
            "に係るものに限る。）を甲の指示に従い返還し、又は復元できない方法により削除し、その結果を記載した証明書を"
            "甲に提出しなければならない。",
        ),
        (
            "事故発生時の報告",
            "乙は、個人情報の漏えい、滅失若しくは毀損その他の事故が生じ、又は生じたおそれがあることを知ったときは、"
            "直ちに甲に報告し、甲の指示に従わなければならない。甲は、影響を受ける構成団体に直ちに通知する。",
        ),
        (
            "監督及び調査",
            "甲は、必要があると認めるときは、乙に対し個人情報の取扱状況について報告を求め、又は作業場所に立ち入って"
            "調査することができる。構成団体から求めがあったときも、同様とする。乙は、これに協力しなければならない。",
        ),
        (
            "契約の解除及び損害賠償",
            "甲は、乙が本特記事項に違反したときは、本契約を解除することができる。乙は、本特記事項に違反したことにより"
            "甲、構成団体又は第三者に損害を与えたときは、その損害を賠償しなければならない。",
        ),
        (
            "成果物の帰属",
            f"本契約により作成された成果物（{_deliverables(category)}を含む。）の著作権（著作権法第27条及び第28条に"
            "規定する権利を含む。）その他の権利は、その引渡しの時に甲に帰属する。乙は、甲及び構成団体に対し著作者"
            "人格権を行使しない。甲は、構成団体に当該成果物を無償で利用させることができる。",
        ),
    ]
    for k, (caption, text) in enumerate(clauses, start=1):
        article(doc, k, caption, text)


# the drafts, and the parts the 覚書 (planner.reports.memorandum) is made of too
__all__ = [
    "agreement_docx",
    "agreement_file",
    "annex_note",
    "annex_table",
    "annex_title",
    "article",
    "docx_bytes",
    "grant_exclusion",
    "joined",
    "new_document",
    "parties_of",
    "safe_name",
    "signatures",
    "year_annex",
]
