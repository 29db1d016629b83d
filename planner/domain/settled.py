"""The settled plan: each group's cost allocation (按分), its proof of fairness, and each member's subsidy estimates
(見込額) as frozen, typed records with one JSON conversion.

A plan is *settled* when every group carries an :class:`Allocation` and a :class:`SubsidyEstimate` per member
(planner.domain.settlement). Everything that shows a member's figures -- the plan and group pages, the JSON API,
the PDFs and the workbooks -- reads them through :func:`member_lines`, so a figure cannot differ between a page and a
document.

JSON: ``Allocation.to_json`` / ``allocation_from_json`` and ``SubsidyEstimate.to_json`` / ``subsidy_from_json``
write and read the `kyodo-planner-plan/1` fields (instance-format.md, "Plan") plus the explanations the pages show.
Readers accept plans written before a field existed: a missing proof reads as "not proved" (``exhaustive_check``
false, ``min_excess_yen`` None), never as a proof.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .model import Instance
    from .settled_plan import SettledGroup

CORE_MODES = ("report", "adjust", "rule")


# --- money ------------------------------------------------------------------------------------------------------


def _yen(doc: Mapping[str, Any], key: str, where: str, default: int | None = None) -> int:
    """An amount in whole yen; text such as "1,000", fractions and booleans are refused with the field named."""
    value: object = doc.get(key, default)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{where}: {key} が整数の円ではありません（{value!r}）")
    return value


@dataclass(frozen=True)
class YenParts:
    """Initial cost, one year's running cost and the total over the horizon (initial + H x annual), in yen."""

    initial_yen: int
    annual_yen: int
    total_yen: int

    def to_json(self) -> dict[str, int]:
        return {"initial_yen": self.initial_yen, "annual_yen": self.annual_yen, "total_yen": self.total_yen}

    @classmethod
    def from_json(cls, doc: Mapping[str, Any], where: str = "金額") -> YenParts:
        return cls(_yen(doc, "initial_yen", where), _yen(doc, "annual_yen", where), _yen(doc, "total_yen", where))


# --- allocation and its proof -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class MemberShare:
    """One member's share of its group's cost (負担金), with what it would pay alone.

    ``adjustment_yen`` is the core adjustment in the total (positive: the member pays more than the method's own
    share); ``unadjusted_total_yen`` is the method's share before it. Sampled values carry their standard error and
    a confidence interval of the method's value (not of the rounded share)."""

    need_id: str
    initial_yen: int
    annual_yen: int
    total_yen: int
    standalone_total_yen: int
    adjustment_yen: int = 0
    standard_error_yen: int | None = None
    interval_yen: tuple[int, int] | None = None

    @property
    def unadjusted_total_yen(self) -> int:
        return self.total_yen - self.adjustment_yen

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.total_yen

    @property
    def parts(self) -> YenParts:
        return YenParts(self.initial_yen, self.annual_yen, self.total_yen)

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "initial_yen": self.initial_yen,
            "annual_yen": self.annual_yen,
            "total_yen": self.total_yen,
            "standalone_total_yen": self.standalone_total_yen,
            "adjustment_yen": self.adjustment_yen,
        }
        if self.standard_error_yen is not None:
            doc["standard_error_yen"] = self.standard_error_yen
        if self.interval_yen is not None:
            doc["interval_yen"] = list(self.interval_yen)
        return doc

    @classmethod
    def from_json(cls, need_id: str, doc: Mapping[str, Any], standalone_fallback: int | None = None) -> MemberShare:
        standalone = doc.get("standalone_total_yen", standalone_fallback)
        if standalone is None:
            raise ValueError(f"参加団体 {need_id} の単独調達費用（standalone_total_yen）がありません")
        interval = doc.get("interval_yen")
        error = doc.get("standard_error_yen")
        where = f"参加団体 {need_id} の負担額（allocation.shares）"
        return cls(
            need_id=need_id,
            initial_yen=_yen(doc, "initial_yen", where),
            annual_yen=_yen(doc, "annual_yen", where),
            total_yen=_yen(doc, "total_yen", where),
            standalone_total_yen=_yen({"standalone_total_yen": standalone}, "standalone_total_yen", where),
            adjustment_yen=_yen(doc, "adjustment_yen", where, 0),
            standard_error_yen=None if error is None else int(error),
            interval_yen=None if interval is None else (int(interval[0]), int(interval[1])),
        )


@dataclass(frozen=True)
class Coalition:
    """A feasible sub-group B of a group, as evidence: what B would cost on its own against what its members pay
    under the allocation. ``excess_yen`` = cost - paid; negative means B's members would save that much by
    forming their own group (the allocation is outside the core)."""

    members: tuple[str, ...]  # need ids
    cost_yen: int
    paid_yen: int
    mode: str | None = None  # the sub-group's own best mode (standalone for one member)
    lead_body: str | None = None

    @property
    def excess_yen(self) -> int:
        return self.cost_yen - self.paid_yen

    def to_json(self) -> dict[str, Any]:
        return {
            "members": list(self.members),
            "cost_yen": self.cost_yen,
            "paid_yen": self.paid_yen,
            "excess_yen": self.excess_yen,
            "mode": self.mode,
            "lead_body": self.lead_body,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Coalition:
        return cls(
            members=tuple(str(m) for m in doc["members"]),
            cost_yen=int(doc["cost_yen"]),
            paid_yen=int(doc["paid_yen"]),
            mode=doc.get("mode"),
            lead_body=doc.get("lead_body"),
        )


@dataclass(frozen=True)
class FairnessProof:
    """What was proved about an allocation (cost-model.md, "Proof of fairness").

    ``exhaustive_check``: both claims decided exactly (enumeration or an exactly solved separation problem).
    ``min_excess_yen``: min over feasible proper sub-groups B (single members included) of cost(B) - x(B), with
    ``worst_coalition`` attaining it; None only for plans written before proofs existed.
    ``least_core_yen``: the largest saving every proper coalition can be guaranteed at once (negative: the core is
    empty). ``tightest``: the few tightest coalitions, as evidence a finance officer can repeat by hand."""

    exhaustive_check: bool
    individually_rational: bool
    in_core: bool
    min_excess_yen: int | None
    worst_coalition: tuple[str, ...]
    least_core_yen: int | None
    tightest: tuple[Coalition, ...] = ()
    violations: tuple[str, ...] = ()  # Japanese sentences, one per failed claim

    @property
    def core_empty(self) -> bool:
        return self.least_core_yen is not None and self.least_core_yen < 0

    @property
    def overpaying_members(self) -> tuple[Coalition, ...]:
        """Single members that pay more than alone (from ``tightest``)."""
        return tuple(c for c in self.tightest if len(c.members) == 1 and c.excess_yen < 0)


@dataclass(frozen=True)
class WeightSuggestion:
    """The formula weights (均等割・人口割・利用量割) nearest to the chosen ones whose unadjusted shares need no core
    adjustment; ``distance`` is the L1 distance between the normalised weight vectors."""

    weights: Mapping[str, float]
    distance: float
    label: str


@dataclass(frozen=True)
class Allocation:
    """A group's cost allocation: the method, the members' shares (in the group's member order) and the proof."""

    method: str
    method_label: str
    weights: Mapping[str, float] | None  # normalised, for method "formula"
    core: str  # "report" | "adjust" | "rule"
    rounding_rule: str
    shares: tuple[MemberShare, ...]
    proof: FairnessProof
    sampled: bool = False
    standard_error_yen: int | None = None
    notes: tuple[str, ...] = ()
    suggested_method: str | None = None
    suggested_method_label: str | None = None
    suggested_weights: WeightSuggestion | None = None
    rounding_adjustment_yen: int = 0
    unadjusted_proof: FairnessProof | None = None  # the method's own shares' proof, when core adjustment moved them
    # the rule the shares follow exactly: the formula's weights, "adjusted" (member by member), None (not a formula)
    rule: Mapping[str, float] | str | None = None
    adjustment_summary: str | None = None  # 「調整の対象でない団体は…一律 p% 増」 when shares were adjusted

    def share(self, need_id: str) -> MemberShare:
        for s in self.shares:
            if s.need_id == need_id:
                return s
        raise KeyError(need_id)

    @property
    def adjusted(self) -> bool:
        return any(s.adjustment_yen for s in self.shares)

    # The spec's flat fields, for readers that want them without the proof object.
    @property
    def exhaustive_check(self) -> bool:
        return self.proof.exhaustive_check

    @property
    def individually_rational(self) -> bool:
        return self.proof.individually_rational

    @property
    def in_core(self) -> bool:
        return self.proof.in_core

    def to_json(self) -> dict[str, Any]:
        p = self.proof
        doc: dict[str, Any] = {
            "method": self.method,
            "method_label": self.method_label,
            "weights": dict(self.weights) if self.weights is not None else None,
            "core": self.core,
            "rounding_rule": self.rounding_rule,
            "exhaustive_check": p.exhaustive_check,
            "individually_rational": p.individually_rational,
            "in_core": p.in_core,
            "min_excess_yen": p.min_excess_yen,
            "worst_coalition": list(p.worst_coalition),
            "least_core_yen": p.least_core_yen,
            "tightest_coalitions": [c.to_json() for c in p.tightest],
            "violations": list(p.violations),
            "sampled": self.sampled,
            "standard_error_yen": self.standard_error_yen,
            "notes": list(self.notes),
            "suggested_method": self.suggested_method,
            "suggested_method_label": self.suggested_method_label,
            "suggested_weights": None
            if self.suggested_weights is None
            else {
                "weights": dict(self.suggested_weights.weights),
                "distance": self.suggested_weights.distance,
                "label": self.suggested_weights.label,
            },
            "shares": {s.need_id: s.to_json() for s in self.shares},
        }
        if self.rounding_adjustment_yen:
            doc["rounding_adjustment_yen"] = self.rounding_adjustment_yen
        if self.unadjusted_proof is not None:
            doc["unadjusted"] = _proof_json(self.unadjusted_proof)
        doc["rule"] = {"weights": dict(self.rule)} if isinstance(self.rule, Mapping) else self.rule
        doc["adjustment_summary"] = self.adjustment_summary
        return doc


def _proof_json(p: FairnessProof) -> dict[str, Any]:
    return {
        "exhaustive_check": p.exhaustive_check,
        "individually_rational": p.individually_rational,
        "in_core": p.in_core,
        "min_excess_yen": p.min_excess_yen,
        "worst_coalition": list(p.worst_coalition),
        "least_core_yen": p.least_core_yen,
        "tightest_coalitions": [c.to_json() for c in p.tightest],
        "violations": list(p.violations),
    }


def _proof_from_json(doc: Mapping[str, Any]) -> FairnessProof:
    min_excess = doc.get("min_excess_yen")
    least_core = doc.get("least_core_yen")
    return FairnessProof(
        exhaustive_check=bool(doc.get("exhaustive_check", False)) and min_excess is not None,
        individually_rational=bool(doc.get("individually_rational", False)),
        in_core=bool(doc.get("in_core", False)),
        min_excess_yen=None if min_excess is None else int(min_excess),
        worst_coalition=tuple(str(m) for m in doc.get("worst_coalition") or ()),
        least_core_yen=None if least_core is None else int(least_core),
        tightest=tuple(Coalition.from_json(c) for c in doc.get("tightest_coalitions") or ()),
        violations=tuple(str(v) for v in doc.get("violations") or ()),
    )


def allocation_from_json(
    doc: Mapping[str, Any], members: Sequence[str], standalone_fallback: Mapping[str, int] | None = None
) -> Allocation:
    """Read an allocation record; ``members`` fixes the order of the shares (the group's member order)."""
    shares_doc = doc.get("shares") or {}
    fallback = standalone_fallback or {}
    missing = [m for m in members if m not in shares_doc]
    if missing:
        raise ValueError(f"按分結果に参加団体 {', '.join(missing)} の負担額がありません")
    suggestion = doc.get("suggested_weights")
    unadjusted = doc.get("unadjusted")
    return Allocation(
        method=str(doc["method"]),
        method_label=str(doc.get("method_label") or doc["method"]),
        weights=None if doc.get("weights") is None else {k: float(v) for k, v in doc["weights"].items()},
        core=str(doc.get("core", "report")),
        rounding_rule=str(doc.get("rounding_rule", "")),
        shares=tuple(MemberShare.from_json(m, shares_doc[m], fallback.get(m)) for m in members),
        proof=_proof_from_json(doc),
        sampled=bool(doc.get("sampled", False)),
        standard_error_yen=None if doc.get("standard_error_yen") is None else int(doc["standard_error_yen"]),
        notes=tuple(str(n) for n in doc.get("notes") or ()),
        suggested_method=doc.get("suggested_method"),
        suggested_method_label=doc.get("suggested_method_label"),
        suggested_weights=None
        if suggestion is None
        else WeightSuggestion(
            weights={k: float(v) for k, v in suggestion["weights"].items()},
            distance=float(suggestion["distance"]),
            label=str(suggestion.get("label", "")),
        ),
        rounding_adjustment_yen=int(doc.get("rounding_adjustment_yen", 0) or 0),
        unadjusted_proof=None if unadjusted is None else _proof_from_json(unadjusted),
        rule=_rule_from_json(doc.get("rule")),
        adjustment_summary=doc.get("adjustment_summary"),
    )


def _rule_from_json(value: Any) -> Mapping[str, float] | str | None:
    if isinstance(value, Mapping) and isinstance(value.get("weights"), Mapping):
        return {str(k): float(v) for k, v in value["weights"].items()}
    return "adjusted" if value == "adjusted" else None


# --- subsidy estimates ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantEstimate:
    """The 1/2 grant (地域IoT実装・共同利用推進事業) on one member's initial share, or 0 with the reason."""

    amount_yen: int
    eligible: bool
    rule: str  # the rule in words, citing its source edition
    reason: str | None = None  # why 0 or why reduced (capped)
    project: str = ""  # who the project (実施主体) is: 「幹事団体が1事業（グループ全体）」 / 「団体ごとに1事業」
    implementer_body: str | None = None  # the 実施主体's body code (the lead in lead mode)
    capped: bool = False
    # 「要確認」 with the reason when the rule set marks the category 要確認 (the source does not clearly cover it)
    to_confirm: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "amount_yen": self.amount_yen,
            "eligible": self.eligible,
            "rule": self.rule,
            "reason": self.reason,
            "project": self.project,
            "implementer_body": self.implementer_body,
            "capped": self.capped,
            "to_confirm": self.to_confirm,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> GrantEstimate:
        return cls(
            amount_yen=int(doc.get("amount_yen", 0)),
            eligible=bool(doc.get("eligible", False)),
            rule=str(doc.get("rule", "")),
            reason=doc.get("reason"),
            project=str(doc.get("project", "")),
            implementer_body=doc.get("implementer_body"),
            capped=bool(doc.get("capped", False)),
            to_confirm=doc.get("to_confirm"),
        )


@dataclass(frozen=True)
class SpecialTaxEstimate:
    """The special allocation tax (特別交付税措置) on what the member still pays for introduction, or 0 with the
    reason. ``base_yen`` is the counted project cost after the per-year cap and the grant deduction."""

    amount_yen: int
    measure: str | None  # the measure's name, None when none applies
    measure_id: str | None
    rate: float | None
    correction: float | None  # 財政力補正 coefficient (1.0 with a note when the table is not set)
    base_yen: int
    rule: str
    reason: str | None = None
    capped_by_base: bool = False

    def to_json(self) -> dict[str, Any]:
        return {
            "amount_yen": self.amount_yen,
            "measure": self.measure,
            "measure_id": self.measure_id,
            "rate": self.rate,
            "correction": self.correction,
            "base_yen": self.base_yen,
            "rule": self.rule,
            "reason": self.reason,
            "capped_by_base": self.capped_by_base,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> SpecialTaxEstimate:
        rate, correction = doc.get("rate"), doc.get("correction")
        return cls(
            amount_yen=int(doc.get("amount_yen", 0)),
            measure=doc.get("measure"),
            measure_id=doc.get("measure_id"),
            rate=None if rate is None else float(rate),
            correction=None if correction is None else float(correction),
            base_yen=int(doc.get("base_yen", 0)),
            rule=str(doc.get("rule", "")),
            reason=doc.get("reason"),
            capped_by_base=bool(doc.get("capped_by_base", False)),
        )


@dataclass(frozen=True)
class Burden:
    """Gross share -> grant -> special allocation tax -> net burden (実質負担)."""

    gross: YenParts
    grant: GrantEstimate
    special_tax: SpecialTaxEstimate

    @property
    def net_yen(self) -> int:
        return self.gross.total_yen - self.grant.amount_yen - self.special_tax.amount_yen

    def to_json(self) -> dict[str, Any]:
        return {
            "gross": self.gross.to_json(),
            "grant": self.grant.to_json(),
            "special_tax": self.special_tax.to_json(),
            "grant_yen": self.grant.amount_yen,
            "special_tax_yen": self.special_tax.amount_yen,
            "net_yen": self.net_yen,
        }

    @classmethod
    def from_json(cls, doc: Mapping[str, Any]) -> Burden:
        return cls(
            gross=YenParts.from_json(doc["gross"]),
            grant=GrantEstimate.from_json(doc.get("grant") or {}),
            special_tax=SpecialTaxEstimate.from_json(doc.get("special_tax") or {}),
        )


@dataclass(frozen=True)
class SubsidyEstimate:
    """One member's estimates (見込額) for its joint share and for its standalone alternative."""

    need_id: str
    joint: Burden
    standalone: Burden
    notes: tuple[str, ...] = ()
    rule_version: str | None = None  # the rule set's name and version
    sources: tuple[str, ...] = ()  # titles of the source editions the rule set cites
    rounding: str = "1円未満切捨て"
    # The special tax if the grant is not awarded (it is then counted on the whole initial share); None in plans
    # written before the net guarantee, read as the tax with the grant (exact where the grant is 0).
    special_tax_without_grant_yen: int | None = None
    standalone_special_tax_without_grant_yen: int | None = None

    @property
    def grant_yen(self) -> int:
        return self.joint.grant.amount_yen

    @property
    def net_without_grant_yen(self) -> int:
        """The headline net burden: the grant not awarded, the special tax counted (guaranteed <= alone's)."""
        tax = self.special_tax_without_grant_yen
        return self.joint.gross.total_yen - (self.joint.special_tax.amount_yen if tax is None else tax)

    @property
    def standalone_net_without_grant_yen(self) -> int:
        tax = self.standalone_special_tax_without_grant_yen
        return self.standalone.gross.total_yen - (self.standalone.special_tax.amount_yen if tax is None else tax)

    @property
    def worse_off_if_grant_awarded_yen(self) -> int:
        """How much more the member pays net than alone when every grant is awarded (0 when not worse off)."""
        return max(0, self.joint.net_yen - self.standalone.net_yen)

    @property
    def grant_to_confirm(self) -> str | None:
        """Why a grant estimate of this member (joint, or alone when only that one is not 0) is 要確認, or None."""
        for grant in (self.joint.grant, self.standalone.grant):
            if grant.amount_yen > 0 and grant.to_confirm:
                return grant.to_confirm
        return None

    @property
    def special_tax_yen(self) -> int:
        return self.joint.special_tax.amount_yen

    @property
    def special_tax_measure(self) -> str | None:
        return self.joint.special_tax.measure

    @property
    def net_yen(self) -> int:
        return self.joint.net_yen

    @property
    def standalone_net_yen(self) -> int:
        return self.standalone.net_yen

    @property
    def net_saving_yen(self) -> int:
        return self.standalone.net_yen - self.joint.net_yen

    @property
    def gross_saving_yen(self) -> int:
        return self.standalone.gross.total_yen - self.joint.gross.total_yen

    def to_json(self) -> dict[str, Any]:
        joint = self.joint.to_json()
        return {
            "grant_yen": self.grant_yen,
            "special_tax_yen": self.special_tax_yen,
            "special_tax_measure": self.special_tax_measure,
            "net_yen": self.net_yen,
            "notes": list(self.notes),
            "gross": joint["gross"],
            "grant": joint["grant"],
            "special_tax": joint["special_tax"],
            "standalone": self.standalone.to_json(),
            "standalone_net_yen": self.standalone_net_yen,
            "net_saving_yen": self.net_saving_yen,
            "gross_saving_yen": self.gross_saving_yen,
            "rule_version": self.rule_version,
            "sources": list(self.sources),
            "rounding": self.rounding,
            "special_tax_without_grant_yen": self.special_tax_without_grant_yen,
            "standalone_special_tax_without_grant_yen": self.standalone_special_tax_without_grant_yen,
            "net_without_grant_yen": self.net_without_grant_yen,
            "standalone_net_without_grant_yen": self.standalone_net_without_grant_yen,
            "worse_off_if_grant_awarded_yen": self.worse_off_if_grant_awarded_yen,
        }


def subsidy_from_json(need_id: str, doc: Mapping[str, Any]) -> SubsidyEstimate:
    """Read one member's subsidy record (as written by ``SubsidyEstimate.to_json``).

    The net burden is always gross - grant - special tax; a record whose written ``net_yen`` says otherwise is
    refused rather than shown with either figure."""
    where = f"参加団体 {need_id} の見込額（subsidies）"
    if not isinstance(doc.get("gross"), Mapping):
        raise ValueError(f"{where}に負担額（gross）がありません")
    joint = Burden(
        gross=YenParts.from_json(doc["gross"], where),
        grant=GrantEstimate.from_json(doc.get("grant") or {"amount_yen": doc.get("grant_yen", 0)}),
        special_tax=SpecialTaxEstimate.from_json(
            doc.get("special_tax")
            or {"amount_yen": doc.get("special_tax_yen", 0), "measure": doc.get("special_tax_measure")}
        ),
    )
    standalone_doc = doc.get("standalone")
    if not isinstance(standalone_doc, Mapping):
        raise ValueError(f"参加団体 {need_id} の見込額に単独調達の場合（standalone）がありません")
    if "net_yen" in doc and _yen(doc, "net_yen", where) != joint.net_yen:
        raise ValueError(
            f"{where}: 実質負担 {doc['net_yen']:,}円 が 負担額 {joint.gross.total_yen:,}円 − 補助金 "
            f"{joint.grant.amount_yen:,}円 − 特別交付税 {joint.special_tax.amount_yen:,}円 と一致しません"
        )
    return SubsidyEstimate(
        need_id=need_id,
        joint=joint,
        standalone=Burden.from_json(standalone_doc),
        notes=tuple(str(n) for n in doc.get("notes") or ()),
        rule_version=doc.get("rule_version"),
        sources=tuple(str(s) for s in doc.get("sources") or ()),
        rounding=str(doc.get("rounding", "1円未満切捨て")),
        special_tax_without_grant_yen=_optional_yen(doc, "special_tax_without_grant_yen", where),
        standalone_special_tax_without_grant_yen=_optional_yen(doc, "standalone_special_tax_without_grant_yen", where),
    )


def _optional_yen(doc: Mapping[str, Any], key: str, where: str) -> int | None:
    return None if doc.get(key) is None else _yen(doc, key, where)


# --- the one reader of a member's figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class MemberLine:
    """Everything shown for one member of one group, read from the settled plan only (no fallbacks that differ
    between readers). ``subsidy`` is None only for a plan settled without subsidy estimates."""

    need_id: str
    body_code: str
    body_name: str
    is_lead: bool
    population: int | None
    volume: float
    share: MemberShare
    subsidy: SubsidyEstimate | None = None
    effect: Any = None  # the need's effect estimate (導入効果), when the plan carries one
    # 「補助金が採択された場合、…単独導入より実質負担が N円 多くなります」 with the group's eligible-lead alternative;
    # None when the member is not worse off (every page and document prints it in red beside the share)
    grant_warning: str | None = None

    @property
    def initial_yen(self) -> int:
        return self.share.initial_yen

    @property
    def annual_yen(self) -> int:
        return self.share.annual_yen

    @property
    def total_yen(self) -> int:
        return self.share.total_yen

    @property
    def standalone_total_yen(self) -> int:
        return self.share.standalone_total_yen

    @property
    def adjustment_yen(self) -> int:
        return self.share.adjustment_yen

    @property
    def saving_yen(self) -> int:
        """Gross saving against going alone (positive = saves)."""
        return self.share.saving_yen

    @property
    def grant_yen(self) -> int:
        return self.subsidy.grant_yen if self.subsidy else 0

    @property
    def grant_to_confirm(self) -> str | None:
        """要確認 and the reason beside a grant estimate of a category the source does not clearly cover."""
        return self.subsidy.grant_to_confirm if self.subsidy else None

    @property
    def special_tax_yen(self) -> int:
        return self.subsidy.special_tax_yen if self.subsidy else 0

    @property
    def special_tax_measure(self) -> str | None:
        return self.subsidy.special_tax_measure if self.subsidy else None

    @property
    def net_yen(self) -> int:
        return self.subsidy.net_yen if self.subsidy else self.share.total_yen

    @property
    def standalone_net_yen(self) -> int:
        return self.subsidy.standalone_net_yen if self.subsidy else self.share.standalone_total_yen

    @property
    def net_saving_yen(self) -> int:
        """Net saving after grant and special-tax estimates, against going alone with its own estimates."""
        return self.standalone_net_yen - self.net_yen

    @property
    def after_grant_yen(self) -> int:
        return self.total_yen - self.grant_yen

    @property
    def pays_more_than_alone(self) -> bool:
        return self.total_yen > self.standalone_total_yen

    @property
    def net_without_grant_yen(self) -> int:
        """The headline net burden: no grant, the special tax counted (guaranteed at most alone's)."""
        return self.subsidy.net_without_grant_yen if self.subsidy else self.share.total_yen

    @property
    def special_tax_without_grant_yen(self) -> int:
        """The special tax the headline counts: on the whole initial share, the grant not awarded (the tax with the
        grant, ``special_tax_yen``, belongs to the 「採択された場合」 line only)."""
        return self.total_yen - self.net_without_grant_yen

    @property
    def net_without_grant_saving_yen(self) -> int:
        """The headline saving: alone's net burden without the grant minus this one (never negative: guaranteed)."""
        return self.standalone_net_without_grant_yen - self.net_without_grant_yen

    @property
    def standalone_net_without_grant_yen(self) -> int:
        return self.subsidy.standalone_net_without_grant_yen if self.subsidy else self.share.standalone_total_yen

    @property
    def worse_off_if_grant_awarded_yen(self) -> int:
        return self.subsidy.worse_off_if_grant_awarded_yen if self.subsidy else 0

    @property
    def notes(self) -> tuple[str, ...]:
        return self.subsidy.notes if self.subsidy else ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "need_id": self.need_id,
            "body_code": self.body_code,
            "body_name": self.body_name,
            "is_lead": self.is_lead,
            "initial_yen": self.initial_yen,
            "annual_yen": self.annual_yen,
            "total_yen": self.total_yen,
            "adjustment_yen": self.adjustment_yen,
            "standalone_total_yen": self.standalone_total_yen,
            "saving_yen": self.saving_yen,
            "grant_yen": self.grant_yen,
            "special_tax_yen": self.special_tax_yen,
            "special_tax_measure": self.special_tax_measure,
            "net_yen": self.net_yen,
            "standalone_net_yen": self.standalone_net_yen,
            "net_saving_yen": self.net_saving_yen,
            "notes": list(self.notes),
            "net_without_grant_yen": self.net_without_grant_yen,
            "standalone_net_without_grant_yen": self.standalone_net_without_grant_yen,
            "special_tax_without_grant_yen": self.special_tax_without_grant_yen,
            "net_without_grant_saving_yen": self.net_without_grant_saving_yen,
            "worse_off_if_grant_awarded_yen": self.worse_off_if_grant_awarded_yen,
            "grant_warning": self.grant_warning,
            "grant_to_confirm": self.grant_to_confirm,
            **({"effect": self.effect.to_json()} if self.effect is not None else {}),
        }


@dataclass(frozen=True)
class Totals:
    """Sums of member lines (a group, a body, a category or the whole plan)."""

    standalone_yen: int = 0
    joint_yen: int = 0
    grant_yen: int = 0
    special_tax_yen: int = 0
    net_yen: int = 0
    standalone_net_yen: int = 0
    members: int = 0
    overpaying: int = 0  # members whose share exceeds their standalone cost
    overpaid_yen: int = 0  # the sum of those excesses
    # the headline (subsidy-rules.md section 4): the grant not awarded, the special tax on the whole initial share;
    # grant_yen, special_tax_yen and net_yen above are the 「採択された場合」 figures
    special_tax_without_grant_yen: int = 0
    net_without_grant_yen: int = 0
    standalone_net_without_grant_yen: int = 0

    @classmethod
    def of(cls, lines: Sequence[MemberLine]) -> Totals:
        over = [ln.total_yen - ln.standalone_total_yen for ln in lines if ln.pays_more_than_alone]
        return cls(
            standalone_yen=sum(ln.standalone_total_yen for ln in lines),
            joint_yen=sum(ln.total_yen for ln in lines),
            grant_yen=sum(ln.grant_yen for ln in lines),
            special_tax_yen=sum(ln.special_tax_yen for ln in lines),
            net_yen=sum(ln.net_yen for ln in lines),
            standalone_net_yen=sum(ln.standalone_net_yen for ln in lines),
            members=len(lines),
            overpaying=len(over),
            overpaid_yen=sum(over),
            special_tax_without_grant_yen=sum(ln.special_tax_without_grant_yen for ln in lines),
            net_without_grant_yen=sum(ln.net_without_grant_yen for ln in lines),
            standalone_net_without_grant_yen=sum(ln.standalone_net_without_grant_yen for ln in lines),
        )

    @property
    def net_without_grant_saving_yen(self) -> int:
        return self.standalone_net_without_grant_yen - self.net_without_grant_yen

    @property
    def saving_yen(self) -> int:
        return self.standalone_yen - self.joint_yen

    @property
    def net_saving_yen(self) -> int:
        return self.standalone_net_yen - self.net_yen

    @property
    def after_grant_yen(self) -> int:
        return self.joint_yen - self.grant_yen

    @property
    def saving_rate(self) -> float:
        return self.saving_yen / self.standalone_yen if self.standalone_yen else 0.0

    def as_dict(self) -> dict[str, int]:
        return {
            "standalone_yen": self.standalone_yen,
            "joint_yen": self.joint_yen,
            "saving_yen": self.saving_yen,
            "grant_yen": self.grant_yen,
            "special_tax_yen": self.special_tax_yen,
            "net_yen": self.net_yen,
            "standalone_net_yen": self.standalone_net_yen,
            "net_saving_yen": self.net_saving_yen,
            "special_tax_without_grant_yen": self.special_tax_without_grant_yen,
            "net_without_grant_yen": self.net_without_grant_yen,
            "standalone_net_without_grant_yen": self.standalone_net_without_grant_yen,
            "net_without_grant_saving_yen": self.net_without_grant_saving_yen,
        }


def member_lines(instance: Instance, group: SettledGroup) -> list[MemberLine]:
    """The lines of ``group``'s members in member order, lead first kept as the plan wrote them. Raises
    ValueError when a member's estimate was made on another share than the allocation's: every reader shows the
    same figures or none."""
    lines = []
    for nid in group.members:
        need = instance.need(nid)
        body = instance.bodies[need.body]
        subsidy = group.subsidies.get(nid)
        share = group.allocation.share(nid)
        if subsidy is not None and subsidy.joint.gross.total_yen != share.total_yen:
            raise ValueError(
                f"グループ {group.id} の参加団体 {nid}: 見込額の負担額 {subsidy.joint.gross.total_yen:,}円 が"
                f"按分の負担額 {share.total_yen:,}円 と一致しません"
            )
        lines.append(
            MemberLine(
                need_id=nid,
                body_code=body.code,
                body_name=body.name,
                is_lead=body.code == group.lead_body,
                population=body.population,
                volume=need.volume,
                share=share,
                subsidy=subsidy,
                effect=group.effects.get(nid),
                grant_warning=grant_warning(instance, group, body.name, subsidy),
            )
        )
    return lines


def grant_warning(instance: Instance, group: SettledGroup, name: str, subsidy: SubsidyEstimate | None) -> str | None:
    """The red line of a member that is worse off than alone if grants are awarded: who, how much, why, and the
    group's cheapest grant-eligible lead with its extra cost (cost-model.md, "Fairness in what members actually
    pay")."""
    if subsidy is None or subsidy.worse_off_if_grant_awarded_yen <= 0:
        return None
    amount = subsidy.worse_off_if_grant_awarded_yen
    joint, alone = subsidy.grant_yen, subsidy.standalone.grant.amount_yen
    why = (
        f"補助金の見込額が単独導入の {alone:,}円 に対し {joint:,}円 のため"
        if alone > joint
        else "共同調達で補助対象の初期費用が下がるため"
    )
    text = f"補助金が採択された場合、{name}の実質負担は単独で導入するより {amount:,}円 多くなります（{why}）。"
    if subsidy.net_without_grant_yen <= subsidy.standalone_net_without_grant_yen:
        text += "採択されない場合は単独より不利になりません。"
    alt = group.eligible_lead_alternative
    if alt:
        lead = instance.bodies.get(str(alt["lead_body"]))
        lead_name = lead.name if lead is not None else str(alt["lead_body"])
        text += (
            f"補助対象となる幹事団体（{lead_name}）にすると、グループの費用は {int(alt['extra_cost_yen']):,}円 "
            "増えますが、補助金の対象になります。"
        )
    elif group.mode == "lead" and not subsidy.joint.grant.eligible:
        text += "このグループには補助対象となる幹事団体の候補がありません。"
    return text
