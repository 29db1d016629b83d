"""予算見積資料 by role and mode, one per body (PDF and XLSX), and the prefecture-wide 予算総括表 built from them.

The figures are planner.domain.budget_lines' (read from the settled plan); this module lays them out: 歳出 first,
then 財源内訳 (特定財源 and the 一般財源 that remains), the grant only as 「採択された場合」, the 特別交付税 as 参考, and the
債務負担行為 per 事項. Every amount is in 円 with its 千円 view beside it (planner.domain.budget_lines.THOUSAND_RULE).
In the workbooks the totals and the 千円 columns are formulas over the lines.
"""

from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass

from openpyxl import Workbook
from openpyxl.styles import Alignment

from planner.domain.budget_lines import (
    CONTRIBUTION,
    LONG_TERM_BASIS,
    ROLE_LABELS,
    THOUSAND_RULE,
    BodyBudget,
    BudgetLine,
    DebtLine,
    PrefectureBudget,
    body_budgets,
    prefecture_budget,
    thousand_down,
    thousand_up,
)
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan
from planner.domain.statements import ASSUMPTIONS
from planner.domain.vocabulary import Formula as F
from planner.domain.vocabulary import fiscal_year_label, wareki_fiscal_year

from .context import ReportError, ReportMeta, _meta, head_title
from .pdf import html_to_pdf
from .render import render_html
from .xlsx import YEN, _col, _save, _Writer, control_rows, first_sheet, sheet_title

THOUSAND = '#,##0"千円";[Red]-#,##0"千円"'

GRANT_NOTE = (
    "補助金（地域IoT実装・共同利用推進事業、国庫支出金）は公募・評価により採択されるもので、採択が決まるまで予算の"
    "財源に計上しない前提です。上の歳出・財源内訳には含めていません。"
)
SPECIAL_TAX_NOTE = (
    "特別交付税は国から各団体に交付される一般財源で、この予算の歳入（特定財源）ではありません。措置の見込みを参考として"
    "示します（補助金が採択されない場合の見込額）。"
)
DEBT_NOTES = (
    "債務負担行為は事項ごとに、契約（幹事団体方式の参加団体は協定）を結ぶ年度の予算で、翌年度以降に支出する額を限度額として"
    "設定する前提です。導入年度の4月から利用を始めるため前年度中に契約する場合は、前年度の予算で導入年度からの全期間"
    "（「全期間の額」欄）を限度額として設定します。",
    "幹事団体の事項は、参加団体の負担金で賄う分を含む契約の全体です。",
    f"長期継続契約（{LONG_TERM_BASIS}）：使用料の契約は、初期費用（導入）を導入年度の契約とし、翌年度以降の使用料を"
    "条例で定める長期継続契約として結ぶ場合、債務負担行為を設定しません（各年度の使用料はその年度の歳出予算に計上し、"
    "翌年度以降の歳出予算の減額・削除で契約を変更・解除できる旨を契約に定めます）。条例で定める契約に当たるかは各団体で"
    "ご確認ください。構築を含む委託と負担金（契約ではない）は長期継続契約の対象外のため、債務負担行為を設定します。",
)


def item_basis(budget: BodyBudget) -> list[str]:
    """Why each line's 節 or 款, line by line (a contract's 節 marked as the assumption it is)."""
    out = [
        f"{line.item}（{line.group_id}）：{line.basis}。"
        for line in (*budget.expenditure, *budget.revenue)
        if line.basis
    ]
    if "unified" in budget.roles:
        out.append("仕様統一方式では各団体が共通の仕様により自ら契約し、団体間の負担金はありません。")
    return out


@dataclass(frozen=True)
class Cell:
    """One amount with its 千円 view (rounded as its side is: 歳出 up, 歳入 down)."""

    yen: int
    thousand: int


@dataclass(frozen=True)
class Row:
    item: str
    label: str
    cells: tuple[Cell, ...]  # one per fiscal year
    total: Cell


def _row(item: str, label: str, amounts: list[int], up: bool) -> Row:
    rnd = thousand_up if up else thousand_down
    cells = tuple(Cell(a, rnd(a)) for a in amounts)
    return Row(item, label, cells, Cell(sum(amounts), sum(c.thousand for c in cells)))


def _sum_row(label: str, rows: list[Row], years: int) -> Row:
    cells = tuple(Cell(sum(r.cells[i].yen for r in rows), sum(r.cells[i].thousand for r in rows)) for i in range(years))
    return Row("", label, cells, Cell(sum(c.yen for c in cells), sum(c.thousand for c in cells)))


def _difference(label: str, a: Row, b: Row) -> Row:
    cells = tuple(Cell(x.yen - y.yen, x.thousand - y.thousand) for x, y in zip(a.cells, b.cells, strict=True))
    return Row("", label, cells, Cell(a.total.yen - b.total.yen, a.total.thousand - b.total.thousand))


@dataclass(frozen=True)
class BudgetView:
    """A body's 予算見積資料 with the words and rows the documents print."""

    budget: BodyBudget
    meta: ReportMeta
    plan_name: str
    categories: dict[str, str]
    bodies: dict[str, str]
    head: str

    @property
    def years(self) -> tuple[int, ...]:
        return self.budget.fiscal_years

    def _line_row(self, line: BudgetLine, up: bool) -> Row:
        return _row(line.item, line.label, [line.amount_in(fy) for fy in self.years], up)

    @property
    def expenditure_rows(self) -> list[Row]:
        return [self._line_row(line, True) for line in self.budget.expenditure]

    @property
    def expenditure_total(self) -> Row:
        return _sum_row("歳出 計", self.expenditure_rows, len(self.years))

    @property
    def revenue_rows(self) -> list[Row]:
        return [self._line_row(line, False) for line in self.budget.revenue]

    @property
    def revenue_total(self) -> Row:
        return _sum_row("特定財源 計", self.revenue_rows, len(self.years))

    @property
    def general_fund(self) -> Row:
        return _difference("一般財源", self.expenditure_total, self.revenue_total)

    @property
    def member_parts(self) -> list[tuple[BudgetLine, list[Row]]]:
        """A lead's 歳入 by paying member, per group."""
        out = []
        for line in self.budget.revenue:
            rows = [
                _row(
                    code,
                    self.bodies.get(code, code),
                    [sum(y.yen for y in years if y.fiscal_year == fy) for fy in self.years],
                    False,
                )
                for code, years in line.parts
            ]
            out.append((line, rows))
        return out

    @property
    def period(self) -> str:
        fy = self.years
        return f"{wareki_fiscal_year(fy[0])}〜{wareki_fiscal_year(fy[-1])}（{len(fy)}年度）" if fy else ""

    def category(self, category_id: str) -> str:
        return self.categories.get(category_id, category_id)

    def debt_period(self, d: DebtLine) -> str:
        return f"{wareki_fiscal_year(d.from_year)}から{wareki_fiscal_year(d.to_year)}まで"

    def long_term_text(self, d: DebtLine) -> str:
        """Whether a 長期継続契約 may take the 債務負担行為's place (the basis is in DEBT_NOTES)."""
        if d.long_term:
            return "長期継続契約とする場合は設定不要（条例の対象の場合）"
        return "対象外：設定が必要（負担金）" if d.item == CONTRIBUTION else "対象外：設定が必要（構築を含む委託）"

    @property
    def role_text(self) -> str:
        return "・".join(ROLE_LABELS[r] for r in self.budget.roles)


def _views(instance: Instance, plan: SettledPlan, meta: ReportMeta | None, body_codes=None) -> list[BudgetView]:
    meta = _meta(plan, meta)
    try:
        budgets = body_budgets(instance, plan, body_codes)
    except ValueError as e:
        raise ReportError(str(e)) from e
    categories = {cid: c.name for cid, c in instance.categories.items()}
    bodies = {code: b.name for code, b in instance.bodies.items()}
    return [
        BudgetView(b, meta, plan.instance or instance.name, categories, bodies, head_title(b.body_name, b.body_kind))
        for b in budgets
    ]


def budget_view(instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None) -> BudgetView:
    views = _views(instance, plan, meta, [body_code])
    if not views:
        raise ReportError(f"団体 {body_code} はこの計画で予算に計上するものがありません")
    return views[0]


def budget_bodies(instance: Instance, plan: SettledPlan) -> list[str]:
    """The bodies with a 予算見積資料: a need in the plan or the lead of a joint group (a host prefecture too)."""
    return sorted(
        {instance.need(n).body for g in plan.groups for n in g.members}
        | {g.lead_body for g in plan.groups if g.mode == "lead"}
    )


# --- PDF --------------------------------------------------------------------------------------------------------


def finance_html(view: BudgetView) -> str:
    return render_html(
        "finance.html",
        v=view,
        assumptions=ASSUMPTIONS,
        thousand_rule=THOUSAND_RULE,
        grant_note=GRANT_NOTE,
        special_tax_note=SPECIAL_TAX_NOTE,
        debt_notes=DEBT_NOTES,
        item_basis=item_basis(view.budget),
        control=view.meta.document_control,
        doc_kind="finance",
        doc_key=view.budget.body_code,
    )


def finance_pdf(instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None) -> bytes:
    return html_to_pdf(finance_html(budget_view(instance, plan, body_code, meta)))


# --- workbook ---------------------------------------------------------------------------------------------------


def _amount_block(w: _Writer, years: tuple[int, ...], lines: list[tuple[str, str, list[int]]], up: bool, total: str):
    """Rows of 節/款, 内容, one 円 column a year and 計, then the same in 千円 beside (ROUNDUP/ROUNDDOWN formulas);
    a total row of SUMs. Returns (first row, total row)."""
    n = len(years)
    first = w.row
    fn = "ROUNDUP" if up else "ROUNDDOWN"
    yen_last = 2 + n + 1  # column of 計 (円)
    for item, label, amounts in lines:
        row = w.row
        yen_cells = [*amounts, F(f"=SUM(C{row}:{_col(2 + n)}{row})")]
        k_cells = [F(f"={fn}({_col(3 + i)}{row}/1000,0)") for i in range(n)]
        k_cells.append(F(f"=SUM({_col(yen_last + 1)}{row}:{_col(yen_last + n)}{row})"))
        w.cells([item, label, *yen_cells, *k_cells], [None, None] + [YEN] * (n + 1) + [THOUSAND] * (n + 1))
    last = w.row - 1
    sums = [F(f"=SUM({_col(c)}{first}:{_col(c)}{last})") if last >= first else 0 for c in range(3, 3 + 2 * (n + 1))]
    tot = w.cells([total, None, *sums], [None, None] + [YEN] * (n + 1) + [THOUSAND] * (n + 1), total=True)
    return first, tot


def _year_header(years: tuple[int, ...], first: str) -> list[str]:
    labels = [wareki_fiscal_year(fy) for fy in years]
    return [first, "内容", *[f"{x}（円）" for x in labels], "計（円）", *[f"{x}（千円）" for x in labels], "計（千円）"]


def _text_width(text: str) -> int:
    """Columns a text takes in a spreadsheet: a full-width character two, any other one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _fit_table_rows(ws) -> None:
    """Wrap the text of the table cells (those with a border) and give their rows the height of the longest cell:
    LibreOffice and Excel keep a row's default height on opening, so a wrapped 内容 or header would overflow."""
    for row in ws.iter_rows():
        lines = 1
        for cell in row:
            if not cell.border.left.style or not isinstance(cell.value, str) or cell.value.startswith("="):
                continue
            cell.alignment = Alignment(wrap_text=True, vertical="center", horizontal=cell.alignment.horizontal)
            width = ws.column_dimensions[cell.column_letter].width or 10
            lines = max(lines, math.ceil(_text_width(cell.value) / max(width - 1, 1)))
        if lines > 1:
            ws.row_dimensions[row[0].row].height = 13 * lines + 2


def _finance_sheet(ws, v: BudgetView, used: set[str]) -> None:
    b = v.budget
    years = v.years
    n = len(years)
    ws.title = sheet_title(f"{b.body_code} {b.body_name}", used)
    w = _Writer(ws)
    w.title(f"{b.body_name} 共同調達に係る予算見積資料（見込額）")
    control_rows(w, v.meta.document_control, "finance", b.body_code)
    w.line("団体", f"{b.body_name}（{b.body_code}）")
    w.line("役割", v.role_text)
    w.line("期間", v.period)
    w.line("千円表示", THOUSAND_RULE)
    w.skip()
    w.line("1. 歳出", bold=True)
    w.header(_year_header(years, "節"))
    _e_first, e_total = _amount_block(
        w, years, [(r.item, r.label, [c.yen for c in r.cells]) for r in v.expenditure_rows], True, "歳出 計"
    )
    w.skip()
    w.line("2. 財源内訳", bold=True)
    w.header(_year_header(years, "款"))
    _r_first, r_total = _amount_block(
        w, years, [(r.item, r.label, [c.yen for c in r.cells]) for r in v.revenue_rows], False, "特定財源 計"
    )
    cols = range(3, 3 + 2 * (n + 1))
    w.cells(
        ["一般財源", "歳出 計 − 特定財源 計", *[F(f"={_col(c)}{e_total}-{_col(c)}{r_total}") for c in cols]],
        [None, None] + [YEN] * (n + 1) + [THOUSAND] * (n + 1),
        total=True,
    )
    w.skip()
    w.line("3. 補助金が採択された場合（国庫支出金。上の歳出・財源内訳には含めていません）", bold=True)
    w.line(GRANT_NOTE)
    w.header(
        [
            "分野",
            "グループ",
            "年度",
            "国庫支出金（円）",
            "歳出の増減（円）",
            "特定財源の増減（円）",
            "一般財源の増減（円）",
        ]
    )
    for a in b.if_awarded:
        w.cells(
            [
                v.category(a.category_id),
                a.group_id,
                fiscal_year_label(a.fiscal_year),
                a.national_yen,
                a.expenditure_change_yen,
                a.revenue_change_yen,
                a.general_fund_change_yen,
            ],
            [None, None, None] + [YEN] * 4,
        )
    if not b.if_awarded:
        w.line("この計画では補助金の見込みはありません。")
    w.skip()
    w.line("4. 特別交付税（参考）", bold=True)
    w.line(SPECIAL_TAX_NOTE)
    w.header(["措置", "内容", *[f"{wareki_fiscal_year(fy)}（円）" for fy in years], "計（円）"])
    for line in b.special_tax:
        row = w.row
        w.cells(
            [line.item, line.label, *[line.amount_in(fy) for fy in years], F(f"=SUM(C{row}:{_col(2 + n)}{row})")],
            [None, None] + [YEN] * (n + 1),
        )
    if not b.special_tax:
        w.line("この計画では特別交付税の見込みはありません。")
    w.skip()
    w.line("5. 債務負担行為（事項ごと）", bold=True)
    w.header(["事項", "節", "設定年度", "期間", "限度額（円）", "限度額（千円）", "全期間の額（円）", "長期継続契約"])
    for d in b.debts:
        row = w.row
        w.cells(
            [
                d.title,
                d.item,
                fiscal_year_label(d.set_year),
                v.debt_period(d),
                d.limit_yen,
                F(f"=ROUNDUP(E{row}/1000,0)"),
                d.whole_yen,
                v.long_term_text(d),
            ],
            [None, None, None, None, YEN, THOUSAND, YEN, None],
        )
    if not b.debts:
        w.line("翌年度以降に支出するものはありません。")
    for note in DEBT_NOTES:
        w.line(note)
    if b.revenue:
        w.skip()
        w.line("6. 歳入の内訳（参加団体別の負担金）", bold=True)
        for line, rows in v.member_parts:
            w.line(line.label)
            w.header(_year_header(years, "団体コード"))
            _amount_block(w, years, [(r.item, r.label, [c.yen for c in r.cells]) for r in rows], False, "計")
    w.skip()
    w.line("前提", bold=True)
    for text in [*item_basis(b), *ASSUMPTIONS]:
        w.line(text)
    w.widths([20, 46] + [14] * (n + 1) + [11] * (n + 1))
    _fit_table_rows(ws)


def finance_workbook(instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None) -> bytes:
    v = budget_view(instance, plan, body_code, meta)
    wb = Workbook()
    _finance_sheet(wb.active, v, set())
    return _save(wb, v.meta.document_control)


# --- the prefecture-wide 予算総括表 -----------------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetTableView:
    """The 年度別予算総括表: every body's budget (every lead included, the prefecture as host too), 歳出 first."""

    table: PrefectureBudget
    views: tuple[BudgetView, ...]
    meta: ReportMeta
    plan_name: str

    @property
    def years(self) -> tuple[int, ...]:
        return self.table.fiscal_years

    def _rows(self, budgets, attr: str, up: bool) -> list[tuple[BodyBudget, Row]]:
        return [
            (b, _row(b.body_code, b.body_name, [getattr(b, f"{attr}_in")(fy) for fy in self.years], up))
            for b in budgets
        ]

    @property
    def expenditure(self) -> list[tuple[BodyBudget, Row]]:
        return self._rows(self.table.budgets, "expenditure", True)

    @property
    def revenue(self) -> list[tuple[BodyBudget, Row]]:
        """The leads' 分担金及び負担金 (every lead of a lead-mode group, the host prefecture included)."""
        return self._rows(self.table.leads, "revenue", False)

    def total(self, rows: list[tuple[BodyBudget, Row]], label: str) -> Row:
        return _sum_row(label, [r for _, r in rows], len(self.years))

    @property
    def transfers(self) -> Row:
        """うち団体間の負担金: the lead-mode members' 負担金, counted in their 歳出 and again in the lead's contract."""
        return _row(
            "",
            "うち参加団体から幹事団体への負担金",
            [sum(b.revenue_in(fy) for b in self.table.budgets) for fy in self.years],
            True,
        )

    @property
    def net(self) -> Row:
        """歳出の純計: what the bodies pay out of the prefecture's public sector, each contract counted once."""
        return _row(
            "",
            "純計（団体間の負担金を除く）",
            [sum(b.expenditure_in(fy) - b.revenue_in(fy) for b in self.table.budgets) for fy in self.years],
            True,
        )

    @property
    def roles(self) -> dict[str, str]:
        return {v.budget.body_code: v.role_text for v in self.views}


def budget_table_view(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> BudgetTableView:
    views = _views(instance, plan, meta)
    meta = _meta(plan, meta)
    return BudgetTableView(
        prefecture_budget([v.budget for v in views]), tuple(views), meta, plan.instance or instance.name
    )


def budget_html(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> str:
    t = budget_table_view(instance, plan, meta)
    return render_html(
        "budget.html",
        t=t,
        meta=t.meta,
        plan_name=t.plan_name,
        assumptions=ASSUMPTIONS,
        thousand_rule=THOUSAND_RULE,
        grant_note=GRANT_NOTE,
        special_tax_note=SPECIAL_TAX_NOTE,
        control=t.meta.document_control,
        doc_kind="budget",
        doc_key="",
    )


def budget_pdf(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> bytes:
    return html_to_pdf(budget_html(instance, plan, meta))


def _table_sheet(ws, t: BudgetTableView, rows: list[tuple[BodyBudget, Row]], title: str, up: bool, total: str):
    w = _Writer(ws)
    w.title(f"{title}（{t.meta.title or t.plan_name}）")
    control_rows(w, t.meta.document_control, "budget")
    w.line("千円表示", THOUSAND_RULE)
    w.skip()
    w.header(_year_header(t.years, "団体コード"))
    return w, _amount_block(w, t.years, [(r.item, r.label, [c.yen for c in r.cells]) for _, r in rows], up, total)


def budget_workbook(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> bytes:
    """年度別予算総括表: 歳出 by body and year, the leads' 歳入 (分担金及び負担金), the 財源内訳 by body, then each body's
    予算見積資料 on its own sheet."""
    t = budget_table_view(instance, plan, meta)
    n = len(t.years)
    wb = Workbook()
    used: set[str] = set()
    ws = first_sheet(wb)
    ws.title = sheet_title("歳出", used)
    w, (_first, spend_total) = _table_sheet(ws, t, t.expenditure, "年度別 歳出（団体別）", True, "歳出 計")
    transfers = t.transfers
    w.cells(
        ["", transfers.label, *[c.yen for c in transfers.cells], F(f"=SUM(C{w.row}:{_col(2 + n)}{w.row})")],
        [None, None] + [YEN] * (n + 1),
    )
    w.cells(
        ["", t.net.label, *[F(f"={_col(3 + i)}{spend_total}-{_col(3 + i)}{w.row - 1}") for i in range(n + 1)]],
        [None, None] + [YEN] * (n + 1),
        total=True,
    )
    w.widths([12, 30] + [14] * (n + 1) + [11] * (n + 1))
    _fit_table_rows(ws)
    ws = wb.create_sheet()
    ws.title = sheet_title("歳入（分担金及び負担金）", used)
    w, _ = _table_sheet(ws, t, t.revenue, "年度別 歳入 分担金及び負担金（幹事団体別）", False, "歳入 計")
    w.widths([12, 30] + [14] * (n + 1) + [11] * (n + 1))
    _fit_table_rows(ws)
    ws = wb.create_sheet()
    ws.title = sheet_title("財源内訳", used)
    w = _Writer(ws)
    w.title(f"財源内訳（団体別、期間計）（{t.meta.title or t.plan_name}）")
    control_rows(w, t.meta.document_control, "budget")
    w.line(GRANT_NOTE)
    w.line(SPECIAL_TAX_NOTE)
    w.skip()
    w.header(
        [
            "団体コード",
            "団体名",
            "役割",
            "歳出 計（円）",
            "特定財源（分担金及び負担金）（円）",
            "一般財源（円）",
            "国庫支出金（採択された場合）（円）",
            "特別交付税（参考）（円）",
        ]
    )
    top = w.row
    for b in t.table.budgets:
        row = w.row
        w.cells(
            [
                b.body_code,
                b.body_name,
                t.roles[b.body_code],
                b.expenditure_total_yen,
                b.revenue_total_yen,
                F(f"=D{row}-E{row}"),
                b.national_if_awarded_yen,
                b.special_tax_total_yen,
            ],
            [None, None, None] + [YEN] * 5,
        )
    bottom = w.row - 1
    w.cells(
        ["合計", f"{len(t.table.budgets)}団体", None, *[F(f"=SUM({c}{top}:{c}{bottom})") for c in "DEFGH"]],
        [None, None, None] + [YEN] * 5,
        total=True,
    )
    w.widths([12, 16, 40, 16, 18, 16, 18, 16])
    _fit_table_rows(ws)
    for v in t.views:
        _finance_sheet(wb.create_sheet(), v, used)
    return _save(wb, t.meta.document_control)
