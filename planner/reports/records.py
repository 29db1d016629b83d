"""The records the documents print (the PDF templates and the Excel workbooks read the same ones, so the two
outputs cannot disagree). planner.reports.context builds them from an Instance and a SettledPlan."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from planner.domain.fairness import EvidenceRow
from planner.domain.settled import MemberLine
from planner.domain.subsidies import is_estimate_note
from planner.domain.vocabulary import (
    METHOD_LABELS,
    MODE_DESCRIPTIONS,
    fiscal_year_label,
    lead_mark,
    lead_role,
    measure_label,
    measure_short,
    mode_label,
    mode_short,
    wareki_date,
    wareki_fiscal_year,
)

from .control import DocumentControl, draft_control, today_jst


class ReportError(ValueError):
    """The plan cannot be printed as it is (missing allocation, figures that do not add up, unknown ids)."""


@dataclass(frozen=True)
class ReportMeta:
    """Facts about the plan that are not in the plan document itself (the web layer has them on the Plan row)."""

    price_book_version: str = ""
    rule_version: str = ""
    issued_on: date = field(default_factory=today_jst)
    title: str = ""  # e.g. the scenario's name
    sources: tuple[str, ...] = ()  # the subsidy rule set's cited sources
    price_source: str = ""  # which prices the plan used in words (price book, vendor quotes); empty: the book's
    control: DocumentControl | None = None  # 文書番号, version, issuer; None: a draft's (see ``document_control``)

    @property
    def document_control(self) -> DocumentControl:
        return self.control or draft_control(issued_on=self.issued_on)

    @property
    def issued_wareki(self) -> str:
        return wareki_date(self.issued_on)


@dataclass
class CostLine:
    label: str
    detail: str
    yen: int  # integer yen, as every figure a document prints (wording.cost_build_up rounds the lines)

    @property
    def display(self) -> str:
        return f"{self.yen:,}"


def head_title(name: str, kind: str) -> str:
    """The head of a body as a letter addresses it: 長野県知事, 長野市長, 小谷村長."""
    return f"{name}知事" if kind == "prefecture" else f"{name}長"


@dataclass(frozen=True)
class MemberRow:
    """A member as the documents print it: the settled plan's one :class:`MemberLine` (every figure is read from it,
    ``row.total_yen`` is ``row.line.total_yen``) plus the words only a document needs."""

    line: MemberLine
    body_head: str  # the addressee: 長野市長

    def __getattr__(self, name: str):
        if name == "line":  # not yet set (copying, unpickling): no delegation loop
            raise AttributeError(name)
        return getattr(self.line, name)

    @property
    def notes(self) -> list[str]:
        # Every settled member carries "the amounts are estimates (rule X)"; the document says so once, in its banner.
        return [n for n in self.line.notes if not is_estimate_note(n)]

    @property
    def special_tax_measure_id(self) -> str | None:
        return self.line.subsidy.joint.special_tax.measure_id if self.line.subsidy else None

    @property
    def measure_label(self) -> str:
        return measure_label(self.special_tax_measure) if self.special_tax_yen or self.special_tax_measure else "—"

    @property
    def measure_short(self) -> str:
        if not (self.special_tax_yen or self.special_tax_measure):
            return "—"
        # The settlement names the measure in full; its id gives the short word a table column can hold.
        return measure_short(self.special_tax_measure_id or self.special_tax_measure)


@dataclass
class GroupReport:
    plan_name: str
    meta: ReportMeta
    horizon_years: int
    group_id: str
    category_id: str
    category_name: str
    category_unit: str
    start_year: int
    mode: str
    lead_code: str
    lead_name: str
    lead_head: str
    lead_is_member: bool
    members: list[MemberRow]
    initial_lines: list[CostLine]
    annual_lines: list[CostLine]
    initial_yen: int
    annual_yen: int
    total_yen: int
    standalone_total_yen: int
    method: str
    method_formula: str
    rationality: list[str]
    rule_version: str
    sources: list[str]
    subsidy_notes: list[str]
    method_text: str = ""  # the allocation's own words for the method (with the formula weights)
    rounding_rule: str = ""
    violations: list[str] = field(default_factory=list)
    suggested_method: str = ""
    allocation_notes: list[str] = field(default_factory=list)
    subsidy_rules: list[str] = field(default_factory=list)  # the grant and special-tax rules applied, in full
    # For workbooks that recompute: the normalised formula weights when the shares are the method's own split
    # (均等割・人口割・利用量割 or their combination, no core adjustment, no rounding spread on totals), else None.
    formula_weights: dict[str, float] | None = None
    fairness_headline: str = ""  # members paying more than alone / a sub-group that would break away (count, yen)
    evidence: list[EvidenceRow] = field(default_factory=list)  # the tightest sub-groups: cost alone vs their shares
    proof_lines: list[str] = field(default_factory=list)  # min excess, least core, the unadjusted shares' proof
    weight_suggestion: str = ""
    member_paragraphs: dict[str, str] = field(default_factory=dict)  # need id -> the 負担額通知's paragraph
    adjustment_sentences: dict[str, str] = field(default_factory=dict)  # need id -> its core adjustment in words

    @property
    def adjusted(self) -> bool:
        return any(m.adjustment_yen for m in self.members)

    @property
    def is_joint(self) -> bool:
        return self.mode != "standalone"

    @property
    def unified(self) -> bool:
        return self.mode == "unified"

    @property
    def share_term(self) -> str:
        """What a member's figure is called. In 仕様統一方式 each body contracts on its own, so its figure is the expected
        price of its own contract, not a 負担額 owed to another body (the member notice says the same)."""
        return "契約予定額（見込）" if self.unified else "負担額"

    @property
    def document_name(self) -> str:
        if self.unified:
            return "契約予定額（見込）算定書"
        return "負担金算定書" if self.is_joint else "費用算定書"

    @property
    def own_contracts_note(self) -> str:
        """仕様統一方式 only: who contracts and that nothing is owed between bodies, said without the word 負担金 so
        that no reader takes the 算定書 for a claim."""
        if not self.unified:
            return ""
        return (
            f"仕様統一方式では、共通の仕様により各団体が契約の当事者として自ら契約し、費用を自ら支払います。"
            f"団体間で支払う金額はなく、{self.lead_name}（{self.lead_role}）が請求するものもありません。"
            f"この算定書の各団体の額は、共同で定めた参考価格から見込んだ各団体の{self.share_term}（費用の見込額）です。"
        )

    @property
    def control(self) -> DocumentControl:
        """The document control of the group's own documents (算定書, notices): a joint group's are issued and sealed
        by its lead or coordinator, the one body that computes and claims the shares (協定書 第3条); a standalone
        need's by the plan's issuer."""
        control = self.meta.document_control
        return control.issued_by(f"{self.lead_role}　{self.lead_head}") if self.is_joint else control

    @property
    def mode_label(self) -> str:
        """The mode with what it means, for a finance section reading the document cold."""
        label = mode_label(self.mode)
        return f"{label}：{MODE_DESCRIPTIONS[self.mode]}" if self.is_joint and self.mode in MODE_DESCRIPTIONS else label

    @property
    def mode_short(self) -> str:
        return mode_short(self.mode)

    @property
    def lead_role(self) -> str:
        return lead_role(self.mode)

    @property
    def procurement(self) -> str:
        return "共同調達" if self.is_joint else "単独調達"

    @property
    def lead_mark(self) -> str:
        return lead_mark(self.mode)

    @property
    def start_year_label(self) -> str:
        return fiscal_year_label(self.start_year)

    @property
    def end_year(self) -> int:
        return self.start_year + self.horizon_years - 1

    @property
    def period_label(self) -> str:
        return f"{wareki_fiscal_year(self.start_year)}〜{wareki_fiscal_year(self.end_year)}（{self.horizon_years}年間）"

    @property
    def method_label(self) -> str:
        return self.method_text or METHOD_LABELS.get(self.method, self.method)

    @property
    def price_book_label(self) -> str:
        return self.meta.price_book_version or f"インスタンス「{self.plan_name}」記載の単価（版の記録なし）"

    @property
    def grouped_notes(self) -> list[tuple[str, str]]:
        """(who, note): a note several members share is printed once with their names, not once per member."""
        everyone = len(self.members)
        by_text: dict[str, list[str]] = {}
        for m in self.members:
            for n in m.notes:
                names = by_text.setdefault(n, [])
                if m.body_name not in names:
                    names.append(m.body_name)
        out = []
        for text, names in by_text.items():
            who = "全団体" if everyone > 1 and len(names) == everyone else "・".join(names)
            out.append((who, text))
        return out

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.total_yen

    @property
    def saving_rate(self) -> float:
        return self.saving_yen / self.standalone_total_yen if self.standalone_total_yen else 0.0

    def total(self, attr: str) -> int:
        return sum(getattr(m, attr) or 0 for m in self.members)

    @property
    def measures(self) -> list[tuple[str, str]]:
        """(short, full) names of the special-tax measures the members get, for the table's note."""
        seen: dict[str, str] = {}
        for m in self.members:
            if m.measure_short != "—":
                seen.setdefault(m.measure_short, m.measure_label)
        return list(seen.items())

    @property
    def standalone_net_known(self) -> bool:
        return all(m.standalone_net_yen is not None for m in self.members)


@dataclass
class YearRow:
    fiscal_year: int
    initial_yen: int
    annual_yen: int
    grant_yen: int
    special_tax_yen: int  # if the grant is awarded
    special_tax_without_grant_yen: int = 0  # the headline's

    @property
    def label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def gross_yen(self) -> int:
        return self.initial_yen + self.annual_yen

    @property
    def net_yen(self) -> int:
        """If the grant is awarded (the 「採択された場合」 columns)."""
        return self.gross_yen - self.grant_yen - self.special_tax_yen

    @property
    def net_without_grant_yen(self) -> int:
        """The headline: no grant, the special tax counted."""
        return self.gross_yen - self.special_tax_without_grant_yen


@dataclass
class MemberNotice:
    group: GroupReport
    member: MemberRow
    years: list[YearRow]
    schedule_note: str


@dataclass
class SummaryGroupRow:
    group: GroupReport

    @property
    def grant_yen(self) -> int:
        return self.group.total("grant_yen")

    @property
    def special_tax_yen(self) -> int:
        return self.group.total("special_tax_yen")

    @property
    def net_yen(self) -> int:
        return self.group.total("net_yen")

    @property
    def net_without_grant_yen(self) -> int:
        return self.group.total("net_without_grant_yen")

    @property
    def special_tax_without_grant_yen(self) -> int:
        return self.group.total("special_tax_without_grant_yen")


@dataclass
class CategoryRow:
    category_id: str
    name: str
    needs: int
    joint_needs: int
    groups: int
    standalone_yen: int  # every need of the category going alone
    plan_yen: int  # the plan's cost (joint groups and standalone needs)
    net_yen: int  # after grants and special tax (if the grants are awarded)
    net_without_grant_yen: int = 0  # the headline: no grant, the special tax counted

    @property
    def saving_yen(self) -> int:
        return self.standalone_yen - self.plan_yen


@dataclass
class SummaryReport:
    plan_name: str
    meta: ReportMeta
    region: str
    fiscal_year: int
    horizon_years: int
    first_year: int  # the earliest group's 導入年度: the instance's fiscal_year changes no figure
    last_year: int  # the last year of the latest group's horizon
    status: str
    gap: float
    groups: list[SummaryGroupRow]  # joint groups only
    standalone_groups: list[GroupReport]
    categories: list[CategoryRow]
    body_count: int
    member_body_count: int
    need_count: int
    joint_need_count: int
    standalone_total_yen: int
    plan_total_yen: int
    grant_yen: int
    special_tax_yen: int  # if the grants are awarded
    net_yen: int  # if the grants are awarded
    special_tax_without_grant_yen: int  # the headline's
    net_without_grant_yen: int  # the headline
    rule_version: str
    sources: list[str]
    map_bodies: list[dict]
    map_groups: list[dict]
    fairness_headline: str = ""
    adjusted_groups: int = 0

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.plan_total_yen

    @property
    def saving_rate(self) -> float:
        return self.saving_yen / self.standalone_total_yen if self.standalone_total_yen else 0.0

    @property
    def fiscal_year_label(self) -> str:
        return fiscal_year_label(self.fiscal_year)

    @property
    def period_label(self) -> str:
        """The years the figures cover: each group's horizon runs from its own 導入年度."""
        span = f"{wareki_fiscal_year(self.first_year)}〜{wareki_fiscal_year(self.last_year)}"
        return f"{span}（各グループの導入年度から{self.horizon_years}年間）"

    def joint_total(self, attr: str) -> int:
        return sum(getattr(r.group, attr) for r in self.groups)
