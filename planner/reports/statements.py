"""Year-by-year statements as documents: one 年度別負担額 per member body (PDF and XLSX) and the prefecture-wide
年度別予算総括表 (PDF and XLSX), for 予算要求 and 債務負担行為.

The figures are planner.domain.statements' (every one read through settled.member_lines); this module only lays
them out. In the workbooks every total is an Excel formula over the year rows, with a 検算 against the plan.
"""

from __future__ import annotations

from dataclasses import dataclass

from openpyxl import Workbook

from planner.domain.budget_lines import DebtLine, body_budgets
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan
from planner.domain.statements import ASSUMPTIONS, BodyStatement, body_statements
from planner.domain.vocabulary import MODE_SHORT, fiscal_year_label, wareki_fiscal_year
from planner.domain.vocabulary import Formula as F

from .context import ReportError, ReportMeta, _meta, head_title
from .pdf import html_to_pdf
from .render import render_html
from .xlsx import YEN, _col, _save, _Writer, control_rows, sheet_title

DEBT_NOTE = (
    "債務負担行為は事項（グループ）ごとに、期間と限度額を設定します。限度額は導入年度の翌年度以降に支出する額"
    "（実質負担ではなく負担額。幹事団体は契約の全体）で、節・長期継続契約の扱いは予算見積資料のとおりです。"
)


@dataclass(frozen=True)
class StatementView:
    """A body's statement with the words the documents print (category names, the lead's name, the head)."""

    statement: BodyStatement
    meta: ReportMeta
    plan_name: str
    categories: dict[str, str]
    bodies: dict[str, str]
    head: str
    debts: tuple[DebtLine, ...] = ()  # one 債務負担行為 事項 a group (planner.domain.budget_lines), never pooled

    @property
    def years(self):
        return self.statement.years

    def debt_period(self, d: DebtLine) -> str:
        return f"{wareki_fiscal_year(d.from_year)}〜{wareki_fiscal_year(d.to_year)}"

    @property
    def period(self) -> str:
        fy = self.statement.fiscal_years
        return f"{wareki_fiscal_year(fy[0])}〜{wareki_fiscal_year(fy[-1])}（{len(fy)}年度）"

    def mode_short(self, mode: str) -> str:
        return MODE_SHORT.get(mode, mode)


def _views(instance: Instance, plan: SettledPlan, meta: ReportMeta | None, body_codes=None) -> list[StatementView]:
    meta = _meta(plan, meta)
    try:
        statements = body_statements(instance, plan, body_codes)
    except ValueError as e:
        raise ReportError(str(e)) from e
    categories = {cid: c.name for cid, c in instance.categories.items()}
    bodies = {code: b.name for code, b in instance.bodies.items()}
    debts = {b.body_code: b.debts for b in body_budgets(instance, plan, [s.body_code for s in statements])}
    return [
        StatementView(
            s,
            meta,
            plan.instance or instance.name,
            categories,
            bodies,
            head_title(s.body_name, s.body_kind),
            debts.get(s.body_code, ()),
        )
        for s in statements
    ]


def statement_view(
    instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None
) -> StatementView:
    views = _views(instance, plan, meta, [body_code])
    if not views:
        raise ReportError(f"団体 {body_code} はこの計画にニーズがありません")
    return views[0]


# --- PDF --------------------------------------------------------------------------------------------------------


def statement_html(view: StatementView) -> str:
    return render_html(
        "statement.html",
        v=view,
        assumptions=ASSUMPTIONS,
        debt_note=DEBT_NOTE,
        control=view.meta.document_control,
        doc_kind="statement",
        doc_key=view.statement.body_code,
    )


def statement_pdf(instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None) -> bytes:
    return html_to_pdf(statement_html(statement_view(instance, plan, body_code, meta)))


# --- workbooks --------------------------------------------------------------------------------------------------

# The headline columns first (the grant not awarded, the special tax on the whole initial share), then the grant's
# own 「採択された場合」 columns (subsidy-rules.md section 4: the grant is never in the headline net burden).
_YEAR_HEAD = [
    "年度",
    "和暦",
    "初期負担",
    "年間負担",
    "負担額 計",
    "特別交付税 見込額",
    "実質負担 見込額",
    "補助金（採択された場合）",
    "特別交付税（採択された場合）",
    "実質負担（採択された場合）",
]


def _statement_sheet(ws, v: StatementView, used: set[str]) -> None:
    s = v.statement
    ws.title = sheet_title(f"{s.body_code} {s.body_name}", used)
    w = _Writer(ws)
    w.title(f"{s.body_name} 共同調達 年度別負担額（見込額）")
    control_rows(w, v.meta.document_control, "statement", s.body_code)
    w.line("団体", f"{s.body_name}（{s.body_code}）")
    w.line("期間", v.period)
    for a in ASSUMPTIONS:
        w.line("前提", a)
    w.skip()
    w.header(_YEAR_HEAD)
    first = w.row
    for y in s.years:
        row = w.row
        w.cells(
            [
                y.fiscal_year,
                fiscal_year_label(y.fiscal_year),
                y.initial_yen,
                y.annual_yen,
                F(f"=C{row}+D{row}"),
                y.special_tax_without_grant_yen,
                F(f"=E{row}-F{row}"),
                y.grant_yen,
                y.special_tax_yen,
                F(f"=E{row}-H{row}-I{row}"),
            ],
            ["0", None] + [YEN] * 8,
        )
    last = w.row - 1
    total = w.cells(
        ["合計", None] + [F(f"=SUM({_col(c)}{first}:{_col(c)}{last})") for c in range(3, 11)],
        [None, None] + [YEN] * 8,
        total=True,
    )
    w.line("債務負担行為（事項ごと）", bold=True)
    for d in v.debts:
        w.line(d.title, d.limit_yen, f"{fiscal_year_label(d.set_year)}に設定、期間 {v.debt_period(d)}")
        ws.cell(w.row - 1, 2).number_format = YEN
    if not v.debts:
        w.line("翌年度以降に支出するものはありません。")
    w.line(DEBT_NOTE)
    w.skip()
    w.line("内訳（ニーズ・グループ別）", bold=True)
    w.header(
        [
            "分野",
            "グループ",
            "方式",
            "幹事・取りまとめ",
            "導入年度",
            "初期負担",
            "年間負担",
            "期間総額",
            "特別交付税 見込額",
            "実質負担 見込額",
            "補助金（採択された場合）",
            "実質負担（採択された場合）",
        ]
    )
    nfirst = w.row
    for n in s.needs:
        ln = n.line
        w.cells(
            [
                v.categories.get(n.category_id, n.category_id),
                n.group_id,
                v.mode_short(n.mode),
                v.bodies.get(n.lead_body, n.lead_body),
                wareki_fiscal_year(n.start_year),
                ln.initial_yen,
                ln.annual_yen,
                ln.total_yen,
                ln.special_tax_without_grant_yen,
                ln.net_without_grant_yen,
                ln.grant_yen,
                ln.net_yen,
            ],
            [None, None, None, None, None] + [YEN] * 7,
        )
    nlast = w.row - 1
    need_total = w.cells(
        ["計", None, None, None, None] + [F(f"=SUM({_col(c)}{nfirst}:{_col(c)}{nlast})") for c in range(6, 13)],
        [None] * 5 + [YEN] * 7,
        total=True,
    )
    w.skip()
    w.line("検算（年度別の合計 ＝ 内訳の合計）", bold=True)
    for label, col_year, col_need in (
        ("負担額", "E", "H"),
        ("特別交付税", "F", "I"),
        ("実質負担", "G", "J"),
        ("補助金（採択された場合）", "H", "K"),
        ("実質負担（採択された場合）", "J", "L"),
    ):
        w.line(label, F(f"={col_year}{total}={col_need}{need_total}"))
    w.widths([16, 24, 14, 14, 14, 15, 15, 15, 15, 15, 15, 15])


def statement_workbook(instance: Instance, plan: SettledPlan, body_code: str, meta: ReportMeta | None = None) -> bytes:
    v = statement_view(instance, plan, body_code, meta)
    wb = Workbook()
    _statement_sheet(wb.active, v, set())
    return _save(wb, v.meta.document_control)
