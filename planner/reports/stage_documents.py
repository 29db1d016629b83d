"""The documents of the stages after the answers: the 確定負担額通知 (見込 → 確定 by year, per member) and the
lead's 請求書 / 精算 notices, each issued by the group's lead body (its head, 長野市長), not by the prefecture.

They print what planner.services.plan_stages recorded and planner.domain.contract_settlement computed; nothing
here computes a figure. Rendered with the same templates' base, fonts and stylesheet as the plan's documents.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from planner.domain.contract_settlement import ConfirmedGroup, ConfirmedShare
from planner.domain.vocabulary import wareki_date, wareki_fiscal_year

from .pdf import html_to_pdf
from .records import head_title
from .render import render_html


@dataclass(frozen=True)
class Party:
    code: str
    name: str
    kind: str

    @property
    def head(self) -> str:
        return head_title(self.name, self.kind)


@dataclass(frozen=True)
class GroupHeading:
    group_id: str
    category_name: str
    plan_label: str  # 計画 No.1 第1版
    lead: Party


def confirmed_notice_html(
    heading: GroupHeading,
    member: Party,
    confirmed: ConfirmedGroup,
    share: ConfirmedShare,
    issued_on: date,
    withdrawn: tuple[tuple[str, int], ...] = (),
) -> str:
    """``withdrawn``: the members who left (name, last fiscal year), so a notice recomputed after a 脱退 says why."""
    return render_html(
        "confirmed_notice.html",
        heading=heading,
        member=member,
        confirmed=confirmed,
        share=share,
        issued=wareki_date(issued_on),
        wareki=wareki_fiscal_year,
        withdrawn=withdrawn,
        control=None,
    )


def confirmed_notice_pdf(
    heading: GroupHeading,
    member: Party,
    confirmed: ConfirmedGroup,
    share: ConfirmedShare,
    issued_on: date,
    withdrawn: tuple[tuple[str, int], ...] = (),
) -> bytes:
    return html_to_pdf(confirmed_notice_html(heading, member, confirmed, share, issued_on, withdrawn))


INVOICE_TITLES = {"bill": "請求書", "charge": "精算額請求書（追加請求）", "refund": "精算額還付通知書"}


@dataclass(frozen=True)
class InvoiceDocument:
    number: str
    kind: str
    fiscal_year: int
    amount_yen: int
    issued_on: date
    due_on: date | None
    basis: str
    payer: Party
    paid_yen: int = 0

    @property
    def title(self) -> str:
        return INVOICE_TITLES[self.kind]


def invoice_html(heading: GroupHeading, invoice: InvoiceDocument) -> str:
    return render_html(
        "invoice.html",
        heading=heading,
        invoice=invoice,
        issued=wareki_date(invoice.issued_on),
        due=wareki_date(invoice.due_on) if invoice.due_on else None,
        wareki=wareki_fiscal_year,
        control=None,
    )


def invoice_pdf(heading: GroupHeading, invoice: InvoiceDocument) -> bytes:
    return html_to_pdf(invoice_html(heading, invoice))
