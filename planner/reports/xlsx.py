"""The documents' tables as Excel workbooks (openpyxl), for finance sections to check and reuse.

Amounts are real integers in yen formats, and every sum, difference and check is an Excel formula over the
cells above it, so that a finance section can see how each total is made and check it against the plan.
Each workbook also has 検算 cells that read TRUE (or 0) when the figures agree.
"""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from openpyxl import Workbook
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.header_footer import HeaderFooterItem
from openpyxl.worksheet.properties import PageSetupProperties
from openpyxl.worksheet.worksheet import Worksheet

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan
from planner.domain.vocabulary import Formula, starts_like_formula

from .context import GroupReport, MemberNotice, ReportMeta, SummaryReport, group_report, member_notice, summary_report
from .control import DocumentControl

F = Formula
YEN = '#,##0"円";[Red]-#,##0"円"'
INT = "#,##0"
PCT = "0.0%"
_BOLD = Font(bold=True)
_TITLE = Font(size=14, bold=True)
_CENTER = Alignment(horizontal="center", vertical="center", wrap_text=True)
_HEADER_FILL = PatternFill("solid", fgColor="E8EEF5")
_TOTAL_FILL = PatternFill("solid", fgColor="F3F3F3")
_THIN = Side(style="thin", color="888888")
_BORDER = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_ESTIMATE = "補助金・特別交付税・実質負担は見込額です（交付額・措置額を確定するものではありません）。"


def group_workbook(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    wb = Workbook()
    r = group_report(instance, plan, group_id, meta)
    _group_sheet(first_sheet(wb), r)
    return _save(wb, r.control)


def member_workbook(instance: Instance, plan: SettledPlan, need_id: str, meta: ReportMeta | None = None) -> bytes:
    wb = Workbook()
    notice = member_notice(instance, plan, need_id, meta)
    _member_sheet(first_sheet(wb), notice)
    if notice.member.effect is not None and plan.effects is not None:
        _member_effect_rows(first_sheet(wb), notice, plan.effects.caveat)
    _group_sheet(wb.create_sheet(), notice.group)
    return _save(wb, notice.group.control)


def summary_workbook(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> bytes:
    """総括 (categories and consortia) and one sheet per joint group with its members' shares."""
    wb = Workbook()
    s = summary_report(instance, plan, meta)
    _summary_sheet(first_sheet(wb), s)
    used = {first_sheet(wb).title}
    for row in s.groups:
        ws = wb.create_sheet()
        _group_sheet(ws, row.group, used, s.meta.document_control)
    return _save(wb, s.meta.document_control)


# ---------------------------------------------------------------------------------------------------------------


def first_sheet(wb: Workbook) -> Worksheet:
    """A new workbook's own sheet (openpyxl types ``active`` as any kind of sheet, or none)."""
    ws = wb.active
    if not isinstance(ws, Worksheet):
        raise TypeError("a new workbook starts with one worksheet")
    return ws


def _header(item: HeaderFooterItem | None) -> HeaderFooterItem:
    """A page header or footer, which every worksheet has (the types allow none)."""
    if item is None:
        raise TypeError("a worksheet without its page header or footer")
    return item


def _save(wb: Workbook, control: DocumentControl | None = None) -> bytes:
    for ws in wb.worksheets:
        page_setup(ws, control)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def page_setup(ws: Worksheet, control: DocumentControl | None = None) -> None:
    """A4, fitted to the page width, the used range as the print area; drafts say 案 in the page header and every
    page carries the 文書番号 in its footer."""
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.orientation = "landscape" if ws.max_column > 9 else "portrait"
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    props = ws.sheet_properties.pageSetUpPr
    if props is None:  # openpyxl makes them with the sheet; the types allow none
        props = ws.sheet_properties.pageSetUpPr = PageSetupProperties()
    props.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.5
    ws.print_area = f"A1:{get_column_letter(max(ws.max_column, 1))}{max(ws.max_row, 1)}"
    if control is not None:
        if control.draft:
            centre = _header(ws.oddHeader).center
            centre.text = "案（試算）"
            centre.size = 14
            centre.color = "C00000"
        _header(ws.oddHeader).right.text = f"{control.plan_label}"
        _header(ws.oddFooter).left.text = control.issuer.title
    _header(ws.oddFooter).right.text = "&P / &N"


def control_rows(w: _Writer, control: DocumentControl, kind: str, key: str = "") -> None:
    """The document-control lines under a sheet's title (文書番号, plan and version, date, issuer, 担当, 連絡先, and
    where the population and fiscal-index figures come from)."""
    if control.draft:
        w.line("【案】この文書は試算（案）です。確定したものではありません。", bold=True)
    for label, text in control.lines(kind, key):
        w.line(label, text)
    for notice in control.notices:
        w.line("ご注意", notice, bold=True)
    # The PDFs print it in their footer; a workbook has no footer room for it, so it goes with the control lines.
    w.line("団体データの出典", control.data_source)


def sheet_title(text: str, used: set[str] | None = None) -> str:
    """Excel sheet names: at most 31 characters, none of []:*?/\\, unique within the workbook."""
    base = re.sub(r"[\[\]:*?/\\]", "_", text)[:31] or "sheet"
    title, i = base, 2
    while used is not None and title in used:
        suffix = f"~{i}"
        title, i = base[: 31 - len(suffix)] + suffix, i + 1
    if used is not None:
        used.add(title)
    return title


def _put(ws: Worksheet, row: int, col: int, value):
    """Write a cell. Only :class:`Formula` values become formulas; every other text (a body's or scenario's name,
    whatever it starts with) is stored as text, marked so that Excel keeps it text when the cell is edited."""
    if isinstance(value, Formula):
        return ws.cell(row, col, str(value))
    cell = ws.cell(row, col, value)
    if isinstance(value, str):
        cell.value = value
        cell.data_type = "s"
        if starts_like_formula(value):
            cell.quotePrefix = True
    return cell


class _Writer:
    """Writes rows top to bottom and remembers where things are, so that formulas can refer to them."""

    def __init__(self, ws: Worksheet):
        self.ws = ws
        self.row = 1

    def title(self, text: str) -> None:
        _put(self.ws, self.row, 1, text).font = _TITLE
        self.row += 1

    def line(self, *values, bold: bool = False) -> int:
        for col, value in enumerate(values, start=1):
            if value is not None:
                c = _put(self.ws, self.row, col, value)
                if bold:
                    c.font = _BOLD
        self.row += 1
        return self.row - 1

    def skip(self) -> None:
        self.row += 1

    def header(self, labels: list[str]) -> int:
        for col, label in enumerate(labels, start=1):
            c = _put(self.ws, self.row, col, label)
            c.font = _BOLD
            c.fill = _HEADER_FILL
            c.border = _BORDER
            c.alignment = _CENTER
        self.row += 1
        return self.row - 1

    def cells(self, values: list, formats: list[str | None], total: bool = False) -> int:
        for col, (value, fmt) in enumerate(zip(values, formats, strict=True), start=1):
            c = _put(self.ws, self.row, col, value)
            c.border = _BORDER
            if fmt:
                c.number_format = fmt
            if total:
                c.font = _BOLD
                c.fill = _TOTAL_FILL
        self.row += 1
        return self.row - 1

    def widths(self, widths: Sequence[float]) -> None:
        for col, width in enumerate(widths, start=1):
            self.ws.column_dimensions[get_column_letter(col)].width = width


def _col(n: int) -> str:
    return get_column_letter(n)


def _group_sheet(
    ws: Worksheet, r: GroupReport, used: set[str] | None = None, control: DocumentControl | None = None
) -> None:
    """A group's sheet; ``control``: the document's own where the sheet is part of a plan-wide workbook."""
    ws.title = sheet_title(r.group_id, used)
    w = _Writer(ws)
    w.title(
        f"{r.category_name} 仕様統一方式 {r.document_name}"
        if r.unified
        else f"{r.category_name} 共同調達 負担金算定書（見込額）"
    )
    control_rows(w, control or r.control, "group", r.group_id)
    if r.unified:
        w.line(r.own_contracts_note)
    w.line("グループ", r.group_id)
    w.line("調達方式", r.mode_label)
    w.line(r.lead_role, f"{r.lead_name}（{r.lead_code}）")
    w.line("算定期間", r.period_label)
    years_row = w.line("算定年数", r.horizon_years)
    years = f"$B${years_row}"
    w.line("単価表", r.meta.price_source or r.price_book_label)
    w.line("補助制度ルール", r.rule_version or "（版の記録なし）")
    w.line("按分方法", f"{r.method_label}： {r.method_formula}")
    if r.rounding_rule:
        w.line("端数の処理", r.rounding_rule)
    for rule in r.subsidy_rules:
        w.line("適用したルール", rule)
    w.line(_ESTIMATE)
    w.skip()

    w.line("費用の積算", bold=True)
    w.header(["項目", "金額（円）", "算定"])
    first = w.row
    for line in r.initial_lines:
        w.cells([line.label, int(line.yen), line.detail], [None, YEN, None])
    initial_row = w.cells(["初期費用 計", Formula(f"=SUM(B{first}:B{w.row - 1})"), None], [None, YEN, None], total=True)
    first = w.row
    for line in r.annual_lines:
        w.cells([line.label, line.yen, line.detail], [None, YEN, None])
    annual_row = w.cells(
        ["年間費用 計", Formula(f"=SUM(B{first}:B{w.row - 1})"), None],
        [None, YEN, None],
        total=True,
    )
    total_row = w.cells(
        ["算定期間の総額", Formula(f"=B{initial_row}+B{annual_row}*{years}"), "初期費用 ＋ 年間費用 × 算定年数"],
        [None, YEN, None],
        total=True,
    )
    w.cells(["計画の総額（検算用）", r.total_yen, "上の総額と一致すること"], [None, YEN, None])
    w.cells(["検算", Formula(f"=B{total_row}=B{total_row + 1}"), None], [None, None, None])
    w.skip()

    live = _allocation_block(w, r, f"$B${initial_row}", f"$B${annual_row}", years) if r.formula_weights else None

    w.line("参加団体別の契約予定額（見込）" if r.unified else "参加団体別の負担額（見込額）", bold=True)
    if live:
        w.line("初期負担・年間負担・期間総額は上の「按分の計算」の数式によります（入力を変えると再計算されます）。")
    labels = [
        "団体コード",
        "団体名",
        "人口",
        "利用量",
        "初期負担",
        "年間負担",
        "期間総額",
        "単独導入の場合",
        "削減額",
        "特別交付税 見込額",
        "実質負担 見込額",
        "単独の場合の実質負担",
        "実質削減額",
        "補助金（採択された場合）",
        "特別交付税（採択された場合）",
        "実質負担（採択された場合）",
        "検算（総額−初期−年額×年数）",
    ]
    w.header(labels)
    first = w.row
    for k, m in enumerate(r.members):
        row = w.row
        initial, annual, total = m.initial_yen, m.annual_yen, m.total_yen
        if live:
            calc = live[k]
            initial, annual, total = F(f"=$K${calc}"), F(f"=$P${calc}"), F(f"=E{row}+F{row}*{years}")
        w.cells(
            [
                m.body_code,
                m.body_name + (f"（{r.lead_mark}）" if m.is_lead else ""),
                m.population,
                m.volume,
                initial,
                annual,
                total,
                m.standalone_total_yen,
                F(f"=H{row}-G{row}"),
                # the headline: the grant not awarded, the special tax on the whole initial share
                m.special_tax_without_grant_yen,
                F(f"=G{row}-J{row}"),
                m.standalone_net_without_grant_yen,
                F(f"=L{row}-K{row}"),
                # the grant's own 「採択された場合」 columns (subsidy-rules.md section 4)
                m.grant_yen,
                m.special_tax_yen,
                F(f"=G{row}-N{row}-O{row}"),
                F(f"=G{row}-(E{row}+F{row}*{years})"),
            ],
            [None, None, INT, "#,##0.##"] + [YEN] * 13,
        )
    last = w.row - 1
    sums: list[Formula | None] = [Formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})") for c in range(3, 17)]
    sums[1] = None  # volumes of different needs are summed in the cost build-up already
    members_total = w.cells(
        ["合計", f"{len(r.members)}団体", *sums, None], [None, None, INT, None] + [YEN] * 13, total=True
    )
    w.skip()
    w.line("検算", bold=True)
    w.line("初期負担の合計 ＝ 初期費用 計", Formula(f"=E{members_total}=B{initial_row}"))
    w.line("年間負担の合計 ＝ 年間費用 計", Formula(f"=F{members_total}=B{annual_row}"))
    w.line("期間総額の合計 ＝ 算定期間の総額", Formula(f"=G{members_total}=B{total_row}"))
    _fairness_rows(w, r)
    w.widths([24, 22, 11, 10, 14, 14, 15, 15, 14, 14, 15, 15, 14, 14, 14, 15, 14])
    ws.freeze_panes = None


def _allocation_block(w: _Writer, r: GroupReport, initial: str, annual: str, years: str) -> list[int]:
    """按分の計算: the shares as live formulas from the inputs on the sheet (weights, populations, volumes, the
    group's initial and yearly cost), by the plan's rounding rule (largest remainder, ties to the lead and then the
    member order). Returns each member's row; the plan's own figures sit beside them with a 検算 column.

    Columns: C population, D volume, E priority (1 = first among equal remainders), F ratio; initial G quota,
    H floor, I remainder, J rank, K share; annual L..P likewise."""
    ws = w.ws
    weights = r.formula_weights or {}
    w.line("按分の計算（数式：重み・人口・利用量・グループの費用から再計算）", bold=True)
    w.line(
        f"按分方法：{r.method_label}。比率 ＝ 均等割の重み ÷ 団体数 ＋ 人口割の重み × 人口 ÷ 人口計 ＋ "
        "利用量割の重み × 利用量 ÷ 利用量計"
    )
    w.line(
        "端数の処理："
        + (
            r.rounding_rule
            or "初期費用と年間費用をそれぞれ比率で配分し、1円未満を切り捨て、残りの円を端数の大きい"
            "順に1円ずつ配分（端数が同じときは優先順位の小さい団体）。"
        )
        + "（配分額は小数第6位で丸めてから切り捨てます。）"
    )
    rows = {}
    for key, label in (("equal", "均等割の重み"), ("population", "人口割の重み"), ("volume", "利用量割の重み")):
        rows[key] = w.line(label, weights.get(key, 0.0))
        ws.cell(rows[key], 2).number_format = "0.0####%"
    we, wp, wv = (f"$B${rows[k]}" for k in ("equal", "population", "volume"))
    w.header(
        [
            "団体コード",
            "団体名",
            "人口",
            "利用量",
            "優先順位",
            "按分比率",
            "初期 配分額",
            "初期 切捨て",
            "初期 端数",
            "初期 端数順位",
            "初期負担",
            "年額 配分額",
            "年額 切捨て",
            "年額 端数",
            "年額 端数順位",
            "年間負担",
            "計画の初期負担",
            "計画の年間負担",
            "検算",
        ]
    )
    first = w.row
    last = first + len(r.members) - 1
    lead = next((k for k, m in enumerate(r.members) if m.is_lead), None)
    order = ([lead] if lead is not None else []) + [k for k in range(len(r.members)) if k != lead]
    priority = {k: pos + 1 for pos, k in enumerate(order)}

    def rng(col: str) -> str:
        return f"${col}${first}:${col}${last}"

    out = []
    for k, m in enumerate(r.members):
        row = w.row
        ratio = F(
            f"=IF({we}=0,0,{we}/COUNT({rng('E')}))+IF({wp}=0,0,{wp}*C{row}/SUM({rng('C')}))"
            f"+IF({wv}=0,0,{wv}*D{row}/SUM({rng('D')}))"
        )
        cells = [m.body_code, m.body_name, m.population or 0, m.volume, priority[k], ratio]
        for amount, q, f, rem, rank in ((initial, "G", "H", "I", "J"), (annual, "L", "M", "N", "O")):
            cells += [
                F(f"=ROUND({amount}*F{row}/SUM({rng('F')}),6)"),
                F(f"=INT({q}{row})"),
                F(f"={q}{row}-{f}{row}"),
                F(f"=SUMPRODUCT(({rng(rem)}>{rem}{row})*1)+SUMPRODUCT(({rng(rem)}={rem}{row})*({rng('E')}<E{row}))"),
                F(f"={f}{row}+IF({rank}{row}<{amount}-SUM({rng(f)}),1,0)"),
            ]
        cells += [m.initial_yen, m.annual_yen, F(f"=AND(K{row}=Q{row},P{row}=R{row})")]
        w.cells(
            cells,
            [
                None,
                None,
                INT,
                "#,##0.##",
                "0",
                "0.000000%",
                "#,##0.000000",
                INT,
                "0.000000",
                "0",
                YEN,
                "#,##0.000000",
                INT,
                "0.000000",
                "0",
                YEN,
                YEN,
                YEN,
                None,
            ],
        )
        out.append(row)
    w.cells(
        [
            "計（按分の計算）",
            None,
            F(f"=SUM({rng('C')})"),
            F(f"=SUM({rng('D')})"),
            None,
            F(f"=SUM({rng('F')})"),
            None,
            None,
            None,
            None,
            F(f"=SUM({rng('K')})"),
            None,
            None,
            None,
            None,
            F(f"=SUM({rng('P')})"),
            F(f"=SUM({rng('Q')})"),
            F(f"=SUM({rng('R')})"),
            F(f"=AND(K{w.row}={initial},P{w.row}={annual})"),
        ],
        [
            None,
            None,
            INT,
            "#,##0.##",
            None,
            "0.000000%",
            None,
            None,
            None,
            None,
            YEN,
            None,
            None,
            None,
            None,
            YEN,
            YEN,
            YEN,
            None,
        ],
        total=True,
    )
    w.skip()
    return out


def _fairness_rows(w: _Writer, r: GroupReport) -> None:
    """The proof of fairness: the headline, the core adjustment beside each unadjusted share, and the tightest
    sub-groups (their cost alone against what they pay), after the tables so that no formula moves."""
    w.skip()
    w.line("按分結果の検証（負担の公平性）", bold=True)
    if r.fairness_headline:
        w.line(r.fairness_headline)
    for line in r.rationality + r.proof_lines:
        w.line(line)
    if r.adjusted:
        w.header(["団体名", "按分方法どおりの期間総額", "コア調整", "調整後の期間総額", "検算"])
        for m in r.members:
            row = w.row
            w.cells(
                [
                    m.body_name,
                    m.share.unadjusted_total_yen,
                    m.adjustment_yen,
                    m.total_yen,
                    Formula(f"=B{row}+C{row}=D{row}"),
                ],
                [None, YEN, YEN, YEN, None],
            )
    if r.evidence:
        w.header(["団体の組（余裕の小さい順）", "方式", "その組だけの費用", "按分での負担の合計", "余裕"])
        for e in r.evidence:
            row = w.row
            w.cells(
                [
                    e["who"],
                    e["mode"] + (f"（{e['lead']}）" if e["lead"] else ""),
                    e["cost_yen"],
                    e["paid_yen"],
                    Formula(f"=C{row}-D{row}"),
                ],
                [None, None, YEN, YEN, YEN],
            )
    if r.weight_suggestion:
        w.line("コア調整が要らない最も近い割合", r.weight_suggestion)


def _member_sheet(ws: Worksheet, n: MemberNotice) -> None:
    r, m = n.group, n.member
    # 仕様統一方式: each body contracts on its own; the coordinator tells it the expected contract, notifies no 負担額
    unified = r.mode == "unified"
    ws.title = sheet_title(f"{'契約予定額' if unified else '負担額通知'} {m.body_name}")
    w = _Writer(ws)
    w.title(
        f"{r.category_name} 仕様統一方式 契約予定額（見込）のお知らせ"
        if unified
        else f"{r.category_name} 共同調達 負担額通知（見込額）"
    )
    control_rows(w, r.control, "member", m.body_code)
    w.line("団体", f"{m.body_name}（{m.body_code}）")
    w.line("グループ", f"{r.group_id}（{r.mode_short}、{r.lead_role} {r.lead_name}）")
    w.line("按分方法", r.method_label)
    w.line("補助制度ルール", r.rule_version or "（版の記録なし）")
    w.line(_ESTIMATE)
    if unified:
        w.line("仕様統一方式では各団体が自ら契約し、団体間の負担金はありません（金額は貴団体の契約予定額の見込み）。")
    w.line("前提：初期負担は導入年度、年間負担は各年度に計上。補助金・特別交付税は初期費用が対象のため導入年度に計上。")
    w.line(
        "実質負担は補助金が採択されない場合の額（特別交付税は初期負担の全額に対して算定）。"
        "補助金は公募のため「採択された場合」の列に分けています。"
    )
    if n.schedule_note:
        w.line(n.schedule_note)
    w.skip()
    w.header(
        [
            "年度",
            "和暦",
            "初期負担",
            "年間負担",
            "契約予定額 計" if unified else "負担額 計",
            "特別交付税 見込額",
            "実質負担 見込額",
            "補助金（採択された場合）",
            "特別交付税（採択された場合）",
            "実質負担（採択された場合）",
        ]
    )
    first = w.row
    for y in n.years:
        row = w.row
        w.cells(
            [
                y.fiscal_year,
                y.label,
                y.initial_yen,
                y.annual_yen,
                Formula(f"=C{row}+D{row}"),
                y.special_tax_without_grant_yen,
                Formula(f"=E{row}-F{row}"),
                y.grant_yen,
                y.special_tax_yen,
                Formula(f"=E{row}-H{row}-I{row}"),
            ],
            ["0", None] + [YEN] * 8,
        )
    last = w.row - 1
    total = w.cells(
        ["合計", None] + [Formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})") for c in range(3, 11)],
        [None, None] + [YEN] * 8,
        total=True,
    )
    w.skip()
    w.line(f"検算（{r.document_name}の数値）", bold=True)
    for label, col, value in (
        ("期間総額", "E", m.total_yen),
        ("特別交付税 見込額", "F", m.special_tax_without_grant_yen),
        ("実質負担 見込額", "G", m.net_without_grant_yen),
        ("補助金（採択された場合）", "H", m.grant_yen),
        ("特別交付税（採択された場合）", "I", m.special_tax_yen),
        ("実質負担（採択された場合）", "J", m.net_yen),
    ):
        row = w.line(label, value, Formula(f"={col}{total}=B{w.row}"))
        ws.cell(row, 2).number_format = YEN
    row = w.line("単独で導入する場合", m.standalone_total_yen)
    ws.cell(row, 2).number_format = YEN
    row = w.line("削減額", Formula(f"=B{row}-E{total}"))
    ws.cell(row, 2).number_format = YEN
    if m.adjustment_yen:
        row = w.line("うちコア調整", m.adjustment_yen, r.adjustment_sentences.get(m.need_id, ""))
        ws.cell(row, 2).number_format = YEN
    paragraph = r.member_paragraphs.get(m.need_id)
    if paragraph:
        w.line(paragraph)
    w.widths([22, 24, 15, 15, 15, 16, 16, 16, 16, 16])


def _member_effect_rows(ws: Worksheet, n: MemberNotice, caveat: str) -> None:
    """The effect estimate under the year-by-year table: hours as numbers, yen per hour as formulas over them."""
    m, e = n.member, n.member.effect
    w = _Writer(ws)
    w.row = ws.max_row + 2
    w.line("導入効果の見込み（参考・事例にもとづく見込み）", bold=True)
    w.line(e.message)
    if e.hours is None:
        w.line(caveat)
        return
    w.header(["", "低位", "中位", "高位"])
    hours = w.cells(["削減時間（時間/年）", e.hours.low, e.hours.central, e.hours.high], [None] + ["#,##0.0"] * 3)
    net = w.line("実質負担 見込額（期間合計、補助金なし）", m.net_without_grant_yen)
    ws.cell(net, 2).number_format = YEN
    years = w.line("算定期間（年）", n.group.horizon_years)
    w.cells(
        ["削減1時間あたりの実質負担（円）"] + [f"=ROUND(B{net}/B{years}/{c}{hours},0)" for c in "BCD"],
        [None] + [YEN] * 3,
    )
    if e.staff_cost_per_hour_yen:
        cost = w.line("人件費単価（円/時間）", e.staff_cost_per_hour_yen)
        ws.cell(cost, 2).number_format = YEN
        w.cells(["人件費換算（円/年）"] + [f"=ROUND({c}{hours}*B{cost},0)" for c in "BCD"], [None] + [YEN] * 3)
    w.line("各列の削減時間で割った額です（削減時間が多い見込みほど1時間あたりは安くなります）。")
    for case in e.cases:
        w.line("根拠の事例", case)
    w.line(caveat)


def _summary_sheet(ws: Worksheet, s: SummaryReport) -> None:
    ws.title = "総括"
    w = _Writer(ws)
    w.title(f"{s.region} AI・RPA 共同調達計画 まとめ（見込額）")
    control_rows(w, s.meta.document_control, "summary")
    w.line("計画", s.meta.title or s.plan_name)
    w.line("期間", s.period_label)
    w.line("単価表", s.meta.price_source or s.meta.price_book_version or "（版の記録なし）")
    w.line("補助制度ルール", s.rule_version or "（版の記録なし）")
    w.line(_ESTIMATE)
    w.skip()
    w.line("分野別", bold=True)
    w.header(
        ["分野", "ニーズ数", "共同グループ数", "単独導入の場合", "計画の費用", "削減額", "削減率", "実質負担 見込額"]
    )
    # 実質負担 is the headline throughout: the grant not awarded (subsidy-rules.md section 4); the grant follows on
    # its own 「採択された場合」 lines
    first = w.row
    for c in s.categories:
        row = w.row
        w.cells(
            [
                c.name,
                c.needs,
                c.groups,
                c.standalone_yen,
                c.plan_yen,
                Formula(f"=D{row}-E{row}"),
                Formula(f"=IF(D{row}=0,0,F{row}/D{row})"),
                c.net_without_grant_yen,
            ],
            [None, INT, INT, YEN, YEN, YEN, PCT, YEN],
        )
    last = w.row - 1
    row = w.row
    cat_total = w.cells(
        ["合計"]
        + [Formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})") for c in range(2, 7)]
        + [Formula(f"=IF(D{row}=0,0,F{row}/D{row})"), Formula(f"=SUM(H{first}:H{last})")],
        [None, INT, INT, YEN, YEN, YEN, PCT, YEN],
        total=True,
    )
    w.line("計画全体の費用（検算用）", s.plan_total_yen, Formula(f"=E{cat_total}=B{w.row}"))
    ws.cell(w.row - 1, 2).number_format = YEN
    w.line("特別交付税 見込額 計", s.special_tax_without_grant_yen)
    ws.cell(w.row - 1, 2).number_format = YEN
    w.line(
        "実質負担 見込額 計（検算）",
        Formula(f"=E{cat_total}-B{w.row - 1}"),
        Formula(f"=B{w.row}=H{cat_total}"),
    )
    ws.cell(w.row - 1, 2).number_format = YEN
    w.line("補助金が採択された場合：補助金 見込額 計", s.grant_yen)
    ws.cell(w.row - 1, 2).number_format = YEN
    w.line("補助金が採択された場合：特別交付税 見込額 計", s.special_tax_yen)
    ws.cell(w.row - 1, 2).number_format = YEN
    w.line(
        "補助金が採択された場合：実質負担 見込額 計",
        Formula(f"=E{cat_total}-B{w.row - 2}-B{w.row - 1}"),
        Formula(f"=B{w.row}={s.net_yen}"),
    )
    ws.cell(w.row - 1, 2).number_format = YEN
    w.skip()
    w.line("共同調達グループ", bold=True)
    w.header(
        [
            "グループ",
            "分野",
            "方式",
            "幹事団体",
            "団体数",
            "導入年度",
            "期間総額",
            "単独導入の場合",
            "削減額",
            "削減率",
            "特別交付税 見込額",
            "実質負担 見込額",
            "補助金（採択された場合）",
            "実質負担（採択された場合）",
        ]
    )
    first = w.row
    for gr in s.groups:
        g = gr.group
        row = w.row
        w.cells(
            [
                g.group_id,
                g.category_name,
                g.mode_short,
                g.lead_name,
                len(g.members),
                g.start_year,
                g.total_yen,
                g.standalone_total_yen,
                Formula(f"=H{row}-G{row}"),
                Formula(f"=IF(H{row}=0,0,I{row}/H{row})"),
                gr.special_tax_without_grant_yen,
                Formula(f"=G{row}-K{row}"),
                gr.grant_yen,
                gr.net_yen,
            ],
            [None, None, None, None, INT, "0", YEN, YEN, YEN, PCT, YEN, YEN, YEN, YEN],
        )
    last = max(first, w.row) - 1
    if s.groups:
        row = w.row
        sums = {c: Formula(f"=SUM({_col(c)}{first}:{_col(c)}{last})") for c in (5, 7, 8, 9, 11, 12, 13, 14)}
        w.cells(
            [
                "共同調達 計",
                None,
                None,
                None,
                sums[5],
                None,
                sums[7],
                sums[8],
                sums[9],
                Formula(f"=IF(H{row}=0,0,I{row}/H{row})"),
                sums[11],
                sums[12],
                sums[13],
                sums[14],
            ],
            [None, None, None, None, INT, None, YEN, YEN, YEN, PCT, YEN, YEN, YEN, YEN],
            total=True,
        )
    w.line(f"単独調達のニーズ：{len(s.standalone_groups)}件（各団体が単独で調達）")
    w.widths([26, 22, 10, 16, 10, 10, 16, 16, 15, 9, 15, 16, 16, 16])
