"""The agreement drafts' one text, and its two outputs: the Word file a practitioner edits (python-docx) and the PDF a
reader files (WeasyPrint).

planner.reports.agreement and planner.reports.memorandum write a :class:`Draft`: its recital, its articles (第N条 with
their 項 and 号), the signatures, the 別表 and the 別記, each said once. :func:`draft_docx` lays the draft out as Word
and :func:`draft_html` as the HTML the PDF is laid out from (templates/reports/agreement.html), so the two cannot say
different things: a test reads both and compares them.
"""

from __future__ import annotations

import io
import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field

from docx import Document
from docx.document import Document as DocxDocument
from docx.enum.section import WD_ORIENT, WD_SECTION
from docx.enum.table import WD_TABLE_ALIGNMENT
from docx.enum.text import WD_ALIGN_PARAGRAPH, WD_TAB_ALIGNMENT
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Length, Mm, Pt, RGBColor
from docx.table import Table

from .context import GroupReport
from .render import render_html

FONT = "IPAex明朝"
SIDE_MARGIN = Mm(25)

Paragraph = str | tuple[str, Sequence[str]]  # a 項, or a 項 with its 号


@dataclass(frozen=True)
class Recital:
    """A paragraph of prose outside the articles (the 前文, the 別記's opening), its first line indented."""

    text: str
    block: str = "recital"


@dataclass(frozen=True)
class Article:
    """第N条 with its caption and its 項 (２, ３, …) and 号 (（1）, （2）, …); ``number`` None for an unnumbered
    clause."""

    number: int | None
    title: str
    paragraphs: tuple[tuple[str, tuple[str, ...]], ...]
    block: str = "article"

    def lines(self) -> list[tuple[str, str, tuple[str, ...]]]:
        """Each 項 as (its label: 第N条, ２, ３…; its text; its 号 labelled （1）…)."""
        out = []
        for i, (text, points) in enumerate(self.paragraphs):
            label = (f"第{self.number}条" if self.number else "") if i == 0 else zenkaku(i + 1)
            out.append((label, text, tuple(f"（{k + 1}）{p}" for k, p in enumerate(points))))
        return out


@dataclass(frozen=True)
class Signatures:
    """The closing sentence, the date line and each party's 長 with a seal, kept on one page."""

    sentence: str
    heads: tuple[str, ...]
    block: str = "signatures"


@dataclass(frozen=True)
class AnnexTitle:
    text: str
    new_page: bool = False
    block: str = "annex_title"


@dataclass(frozen=True)
class Grid:
    """A 別表 at fixed column widths (mm), the amounts (columns from ``numbers_from``) right-aligned."""

    head: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths_mm: tuple[float, ...]
    numbers_from: int
    size: float = 8.0
    block: str = "grid"


@dataclass(frozen=True)
class YearGrid:
    """別表第2: each body's amounts by fiscal year, a body's 調整額 row under its figure with one name cell over both;
    on a landscape page where the years do not fit a portrait one (:func:`annex_layout`)."""

    title: str
    head: tuple[str, ...]
    rows: tuple[tuple[str, str, tuple[str, ...]], ...]  # (body, label, amounts by year and their total)
    figure: str  # the label of a body's first row (負担額, 見込額); the others are its parts (うち調整額)
    landscape: bool
    size: float
    amount_widths_mm: tuple[float, ...]
    note: str
    block: str = "year_grid"

    @property
    def widths_mm(self) -> tuple[float, ...]:
        return (ANNEX_NAME_WIDTH.mm, ANNEX_LABEL_WIDTH.mm, *self.amount_widths_mm)

    def spans(self) -> list[tuple[int, tuple[str, str, tuple[str, ...]]]]:
        """Each row with how many rows its name cell spans (0 for the rows under a body's first)."""
        out = []
        for i, row in enumerate(self.rows):
            if row[1] != self.figure:
                out.append((0, row))
                continue
            n = 1
            while i + n < len(self.rows) and self.rows[i + n][1] != self.figure:
                n += 1
            out.append((n, row))
        return out


@dataclass(frozen=True)
class Note:
    text: str
    block: str = "note"


@dataclass(frozen=True)
class Appendix:
    """別記: its label and centred title on a new portrait page."""

    label: str
    title: str
    block: str = "appendix"


Block = Recital | Article | Signatures | AnnexTitle | Grid | YearGrid | Note | Appendix


@dataclass
class Draft:
    """A 協定書（案） or 覚書（案）: its kind (agreement, memorandum), the group's report (its control lines and issuer),
    its title and its blocks in order."""

    kind: str
    report: GroupReport
    title: str
    blocks: list[Block] = field(default_factory=list)

    def recital(self, text: str) -> None:
        self.blocks.append(Recital(text))

    def article(self, number: int | None, title: str, *paragraphs: Paragraph) -> None:
        self.blocks.append(
            Article(
                number,
                title,
                tuple((p, ()) if isinstance(p, str) else (p[0], tuple(p[1])) for p in paragraphs),
            )
        )

    def signatures(self, sentence: str, heads: Sequence[str]) -> None:
        self.blocks.append(Signatures(sentence, tuple(heads)))

    def annex_title(self, text: str, new_page: bool = False) -> None:
        self.blocks.append(AnnexTitle(text, new_page))

    def grid(
        self, head: Sequence[str], rows: Sequence[Sequence[str]], widths_mm: Sequence[float], numbers_from: int
    ) -> None:
        self.blocks.append(Grid(tuple(head), tuple(tuple(r) for r in rows), tuple(widths_mm), numbers_from))

    def note(self, text: str) -> None:
        self.blocks.append(Note(text))

    def add(self, block: Block) -> None:
        self.blocks.append(block)

    def text(self) -> list[str]:
        """Every line of the draft's own text, in order (the header's control lines aside): what both outputs print."""
        out = [self.title]
        for b in self.blocks:
            if isinstance(b, Recital | Note):
                out.append(b.text)
            elif isinstance(b, Article):
                out.append(f"（{b.title}）")
                for label, text, points in b.lines():
                    out.append(f"{label}　{text}" if label else text)
                    out += points
            elif isinstance(b, Signatures):
                out += [b.sentence, DATE_LINE, *b.heads]
            elif isinstance(b, AnnexTitle):
                out.append(b.text)
            elif isinstance(b, Appendix):
                out += [b.label, b.title]
            elif isinstance(b, Grid):
                out += [*b.head, *(c for r in b.rows for c in r)]
            else:
                # a body's name once, over its rows (its 調整額 row under its 負担額), as both outputs print it
                cells = [c for span, r in b.spans() for c in ((r[0],) if span else ()) + (r[1], *r[2])]
                out += [b.title, *b.head, *cells, b.note]
        return out


DATE_LINE = "令和　　年　　月　　日"
SEAL = "印"


def zenkaku(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "０１２３４５６７８９"))


# --- the 別表第2's layout (shared by both outputs: the same page and the same columns) -------------------------------

# The body's name and the figure's label at fixed widths, the amounts sharing the rest of the text width (A4 less
# the side margins: 160 mm portrait, 247 mm landscape).
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


def annex_layout(heads: list[str], amount_texts: list[list[str]]) -> tuple[bool, float, list[Length]]:
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


def year_grid(
    title: str, head: Sequence[str], rows: Sequence[tuple[str, str, Sequence[int]]], figure: str, note: str
) -> YearGrid:
    texts = tuple((name, label, tuple(f"{a:,}" for a in amounts)) for name, label, amounts in rows)
    amount_texts = [[row[2][j] for row in texts] for j in range(len(head) - 2)]
    landscape, size, widths = annex_layout(list(head[2:]), amount_texts)
    return YearGrid(title, tuple(head), texts, figure, landscape, size, tuple(w.mm for w in widths), note)


# --- Word -------------------------------------------------------------------------------------------------------


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


def _new_document(r: GroupReport, kind: str, title: str) -> DocxDocument:
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


def _article(doc, a: Article) -> None:
    """The caption above, the 項 with a hanging indent, the 号 indented further, as 例規 are laid out."""
    head = doc.add_paragraph()
    head.add_run(f"（{a.title}）")
    head.paragraph_format.left_indent = Mm(3.7)
    head.paragraph_format.space_before = Pt(4)
    head.paragraph_format.keep_with_next = True
    for label, text, points in a.lines():
        p = doc.add_paragraph(f"{label}　{text}" if label else text)
        p.paragraph_format.first_line_indent = Mm(-3.7)
        p.paragraph_format.left_indent = Mm(3.7)
        for point in points:
            q = doc.add_paragraph(point)
            q.paragraph_format.first_line_indent = Mm(-7.4)
            q.paragraph_format.left_indent = Mm(11.1)


def _grid(doc, g: Grid) -> None:
    table = doc.add_table(rows=1, cols=len(g.head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, g.head, strict=True):
        cell.text = text
    for row in g.rows:
        for cell, text in zip(table.add_row().cells, row, strict=True):
            cell.text = text
    _set_widths(table, [Mm(w) for w in g.widths_mm])
    _repeat_head(table)
    _keep_rows(table)
    _size_and_align(table, g.numbers_from, g.size)


def _year_grid(doc, y: YearGrid) -> None:
    if y.landscape:
        annex = doc.add_section(WD_SECTION.NEW_PAGE)
        annex.orientation, annex.page_width, annex.page_height = WD_ORIENT.LANDSCAPE, Mm(297), Mm(210)
    _annex_title(doc, AnnexTitle(y.title))
    table = doc.add_table(rows=1, cols=len(y.head))
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    for cell, text in zip(table.rows[0].cells, y.head, strict=True):
        cell.text = text
    for span, (name, label, amounts) in y.spans():
        cells = table.add_row().cells
        cells[1].text = label
        for cell, amount in zip(cells[2:], amounts, strict=True):
            cell.text = amount
        if span:
            top = cells[0]
            top.text = name
        else:
            # One body, one name cell over its rows, as a practitioner lays out a 別表.
            top.merge(cells[0]).text = name
    _set_widths(table, [Mm(w) for w in y.widths_mm])
    _repeat_head(table)
    _keep_rows(table)
    _size_and_align(table, 2, y.size)
    _note(doc, Note(y.note))


def _size_and_align(table, numbers_from: int, size: float) -> None:
    for r_index, row in enumerate(table.rows):
        for i, cell in enumerate(row.cells):
            for paragraph in cell.paragraphs:
                if i >= numbers_from and r_index > 0:
                    paragraph.alignment = WD_ALIGN_PARAGRAPH.RIGHT
                for run in paragraph.runs:
                    run.font.size = Pt(size - 1 if r_index == 0 else size)


def _repeat_head(table) -> None:
    """The head row again at the top of each page a long 別表 runs onto (Word's and LibreOffice's 見出し行の繰り返し)."""
    head = OxmlElement("w:tblHeader")
    head.set(qn("w:val"), "true")
    table.rows[0]._tr.get_or_add_trPr().append(head)


def _keep_rows(table) -> None:
    """No row split over two pages (an amount's digits on one page and its 円 on the next)."""
    for row in table.rows:
        cant = OxmlElement("w:cantSplit")
        cant.set(qn("w:val"), "true")
        row._tr.get_or_add_trPr().append(cant)


def _note(doc, n: Note) -> None:
    p = doc.add_paragraph(n.text)
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


def _annex_title(doc, t: AnnexTitle) -> None:
    if t.new_page:
        _portrait_page(doc)
    p = doc.add_paragraph()
    p.add_run(t.text).bold = True
    p.paragraph_format.space_before = Pt(10)
    p.paragraph_format.keep_with_next = True


def _signatures(doc, s: Signatures) -> None:
    """One paragraph kept on one page (the names on a right tab): as separate paragraphs chained by keep-with-next,
    LibreOffice left the closing sentence alone at the foot of a page and the names on the next."""
    doc.add_paragraph()
    block = doc.add_paragraph()
    block.paragraph_format.keep_together = True
    block.paragraph_format.tab_stops.add_tab_stop(Length(Mm(210) - 2 * SIDE_MARGIN), WD_TAB_ALIGNMENT.RIGHT)
    run = block.add_run(s.sentence)
    run.add_break()
    run.add_break()
    run.add_text(DATE_LINE)
    for head in s.heads:
        run.add_break()
        run.add_break()
        run.add_text(f"\t{head}　　　　　　　　　　　　{SEAL}")


def _appendix(doc, a: Appendix) -> None:
    _portrait_page(doc)
    p = doc.add_paragraph()
    p.add_run(a.label).bold = True
    title = doc.add_paragraph()
    title.alignment = WD_ALIGN_PARAGRAPH.CENTER
    title.add_run(a.title).bold = True


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


def draft_docx(draft: Draft) -> bytes:
    """The draft as Word (python-docx), for the bodies' legal sections to edit."""
    doc = _new_document(draft.report, draft.kind, draft.title)
    for b in draft.blocks:
        if isinstance(b, Recital):
            doc.add_paragraph(b.text).paragraph_format.first_line_indent = Mm(3.7)
        elif isinstance(b, Article):
            _article(doc, b)
        elif isinstance(b, Signatures):
            _signatures(doc, b)
        elif isinstance(b, AnnexTitle):
            _annex_title(doc, b)
        elif isinstance(b, Grid):
            _grid(doc, b)
        elif isinstance(b, YearGrid):
            _year_grid(doc, b)
        elif isinstance(b, Note):
            _note(doc, b)
        else:
            _appendix(doc, b)
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


# --- PDF --------------------------------------------------------------------------------------------------------


def draft_html(draft: Draft) -> str:
    """The draft as the HTML its PDF is laid out from (the documents' stylesheet, IPAex明朝 for the text)."""
    return render_html(
        "agreement.html",
        d=draft,
        control=draft.report.control,
        doc_kind=draft.kind,
        doc_key=draft.report.group_id,
    )
