"""Stages after the answers, per group of a published plan: 予算措置 per member, 債務負担行為の議決, 協定締結,
契約結果, the grant's 交付申請 → 交付決定 → 確定, then the 確定負担額, the lead's yearly 請求書, payments, the
year-end 精算 and a member's 脱退 (docs/lifecycle.md, "契約から精算まで").

Each step is a dated :class:`~planner.db.models.GroupStage` record (never changed: a correction is a later record
of the same kind, the latest in force) or an :class:`~planner.db.models.Invoice` / ``Payment``; every write is
audited. The figures are computed by :mod:`planner.domain.contract_settlement` from the published plan and the
records; nothing here splits a yen itself.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy import func
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from planner.db.models import Consortium, GroupStage, Invoice, MemberShare, Payment, PlanRelease, PlanSeries
from planner.domain import contract_settlement as cs
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup
from planner.domain.vocabulary import wareki_fiscal_year

from . import access
from .audit import record
from .plan_lifecycle import release_of_plan
from .plans.loading import LoadedPlan, PlanNotFound, load_plan
from .releases import version_label

STAGE_KINDS = {
    "budget": "予算措置",
    "debt": "債務負担行為の議決",
    "agreement": "協定締結",
    "contract": "契約結果",
    "grant_application": "補助金の交付申請",
    "grant_decision": "補助金の交付決定",
    "grant_final": "補助金の額の確定",
    "year_actual": "年度の実績額",
    "withdrawal": "脱退",
}
BUDGET_STATUSES = {"requested": "要求中", "approved": "計上済", "rejected": "否決"}
INVOICE_KINDS = {"bill": "請求書", "charge": "精算（追加請求）", "refund": "精算（還付）"}
# the order the stages come in, for the page's timeline
GROUP_STEPS = ("agreement", "grant_application", "grant_decision", "contract", "grant_final")


class StageError(ValueError):
    """A stage input that cannot be recorded; ``field`` names the form field it is about."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class GroupContext:
    """A group of a published plan as ``user`` may see it, and what the user may record there."""

    loaded: LoadedPlan
    release: PlanRelease
    group: SettledGroup
    runs_stages: bool  # the lead's staff or the prefecture's coordinator

    @property
    def instance(self) -> Instance:
        return self.loaded.instance

    def body_of(self, need_id: str) -> str:
        return str(self.instance.need(need_id).body)

    def body_name(self, code: str) -> str:
        """A body's name as the plan's instance holds it (every member and lead is there: no query)."""
        body = self.instance.bodies.get(code)
        return body.name if body is not None else code

    def member_bodies(self) -> list[str]:
        return [self.body_of(nid) for nid in self.group.members]

    def records_budget_of(self, user: Any, body_code: str) -> bool:
        return access.records_member_budget(
            user, self.loaded.scenario, self.loaded.access, body_code, self.group.lead_body
        )


def group_context(session: Session, user: Any, plan_id: int, group_id: str) -> GroupContext:
    """The group ``group_id`` of plan ``plan_id`` for ``user``; PlanNotFound when the plan or group is missing or
    not the user's to see, StageError when the plan is not a published version (stages start after publication)."""
    loaded = load_plan(session, user, plan_id)
    group = next((g for g in loaded.plan.groups if g.id == group_id), None)
    if group is None:
        raise PlanNotFound(plan_id)
    if not access.sees_group(user, loaded.access, [loaded.instance.need(n).body for n in group.members]):
        raise PlanNotFound(plan_id, refused=True, detail=f"計画 {plan_id} のグループ {group_id}（自団体を含まない）")
    release = release_of_plan(session, plan_id)
    if release is None or release.state not in ("published", "superseded", "withdrawn"):
        raise StageError("契約から精算までの記録は、参加団体に公表した計画の版で行います")
    runs = access.runs_group_stages(user, loaded.scenario, loaded.access, group.lead_body)
    return GroupContext(loaded, release, group, runs)


def plan_label(session: Session, ctx: GroupContext) -> str:
    """計画 No.1 第2版: how the stage documents name the published version they follow."""
    series = session.get(PlanSeries, ctx.release.series_id)
    return version_label(series, ctx.release) if series is not None else f"計画 {ctx.loaded.row.id}"


# --- reading ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class InvoiceLine:
    invoice: Invoice
    number: str
    paid_yen: int
    payer_name: str

    @property
    def outstanding_yen(self) -> int:
        return self.invoice.amount_yen - self.paid_yen


@dataclass(frozen=True)
class GroupProgress:
    """Everything recorded for a group, the figures computed from it, and the warnings to show."""

    records: tuple[GroupStage, ...]  # all, oldest first
    latest: Mapping[str, GroupStage]  # the group-level record in force per kind
    budgets: Mapping[str, GroupStage]  # body code -> the latest 予算措置
    debts: Mapping[str, GroupStage]  # body code -> the latest 債務負担行為の議決
    contract: cs.ContractResult | None
    withdrawals: tuple[cs.Withdrawal, ...]
    confirmed: cs.ConfirmedGroup | None
    actuals: Mapping[int, int]  # fiscal year -> the contract's actual payments
    invoices: tuple[InvoiceLine, ...]
    warnings: tuple[str, ...] = field(default_factory=tuple)

    def granted_yen(self) -> int | None:
        """The grant the group received or was promised: the 確定額 once recorded, else the 交付決定額."""
        for kind in ("grant_final", "grant_decision"):
            if kind in self.latest:
                return int(self.latest[kind].data.get("amount_yen", 0))
        return None


def _records(session: Session, release_id: int, group_id: str) -> list[GroupStage]:
    return list(
        session.exec(
            select(GroupStage)
            .where(col(GroupStage.release_id) == release_id, col(GroupStage.group_key) == group_id)
            .order_by(col(GroupStage.occurred_on), col(GroupStage.id))
        )
    )


def _latest(records: Iterable[GroupStage], key: Any) -> dict[Any, GroupStage]:
    out: dict[Any, GroupStage] = {}
    for r in records:
        out[key(r)] = r  # records come oldest first: the last one is in force
    return out


def contract_of(stage: GroupStage) -> cs.ContractResult:
    amounts = {int(y): int(v) for y, v in stage.data.get("amounts_by_year", {}).items()}
    return cs.ContractResult(str(stage.data.get("vendor", "")), stage.occurred_on, amounts)


def progress(session: Session, ctx: GroupContext) -> GroupProgress:
    records = _records(session, ctx.release.id or 0, ctx.group.id)
    group_level = [r for r in records if r.body_code is None and r.need_key is None and r.fiscal_year is None]
    latest = _latest(group_level, lambda r: r.kind)
    budgets = _latest((r for r in records if r.kind == "budget"), lambda r: r.body_code)
    debts = _latest((r for r in records if r.kind == "debt"), lambda r: r.body_code)
    actuals = {
        int(r.fiscal_year): int(r.data.get("actual_contract_yen", 0))
        for r in records
        if r.kind == "year_actual" and r.fiscal_year is not None
    }
    withdrawals = tuple(
        cs.Withdrawal(r.need_key or "", int(r.data["last_fiscal_year"]), int(r.data.get("termination_cost_yen", 0)))
        for r in _latest((r for r in records if r.kind == "withdrawal"), lambda r: r.need_key).values()
    )
    contract = contract_of(latest["contract"]) if "contract" in latest else None
    confirmed = None
    warnings: list[str] = []
    if contract is not None:
        confirmed = cs.confirm_shares(ctx.instance, ctx.group, contract, withdrawals)
        decided = latest.get("grant_decision")
        warnings += cs.contract_warnings(
            contract.contract_date, decided.occurred_on if decided else None, "grant_application" in latest
        )
    for body_code, stage in budgets.items():
        if stage.data.get("status") == "rejected":
            warnings.append(
                f"{ctx.body_name(body_code)}の予算が否決されています（{wareki_fiscal_year(stage.fiscal_year or 0)}）。"
                "協定の予算不成立の定めにより、参加の継続か脱退かを決めてください。"
            )
    return GroupProgress(
        tuple(records),
        latest,
        budgets,
        debts,
        contract,
        withdrawals,
        confirmed,
        actuals,
        tuple(_invoice_lines(session, ctx)),
        tuple(warnings),
    )


def invoice_number(invoice: Invoice) -> str:
    return f"{wareki_fiscal_year(invoice.fiscal_year)}第{invoice.serial}号"


def _invoice_lines(session: Session, ctx: GroupContext) -> list[InvoiceLine]:
    invoices = session.exec(
        select(Invoice)
        .where(col(Invoice.release_id) == ctx.release.id, col(Invoice.group_key) == ctx.group.id)
        .order_by(col(Invoice.fiscal_year), col(Invoice.serial))
    ).all()
    if not invoices:
        return []
    paid = dict(
        session.exec(
            select(col(Payment.invoice_id), func.sum(col(Payment.amount_yen)))
            .where(col(Payment.invoice_id).in_([i.id for i in invoices]))
            .group_by(col(Payment.invoice_id))
        ).all()
    )
    return [
        InvoiceLine(i, invoice_number(i), int(paid.get(i.id or 0, 0) or 0), ctx.body_name(i.payer_body))
        for i in invoices
    ]


def invoice_for(session: Session, ctx: GroupContext, invoice_id: int, user: Any) -> InvoiceLine:
    """One invoice of the group, for its issuer's side and its payer's own staff; PlanNotFound otherwise."""
    for line in _invoice_lines(session, ctx):
        if line.invoice.id != invoice_id:
            continue
        if ctx.runs_stages or access.sees_member(user, ctx.loaded.access, line.invoice.payer_body):
            return line
        raise PlanNotFound(
            ctx.loaded.row.id or 0, refused=True, detail=f"請求書 {invoice_id}（{line.invoice.payer_body} あて）"
        )
    raise PlanNotFound(ctx.loaded.row.id or 0)


# --- writing ------------------------------------------------------------------------------------------------------


def _require_runner(ctx: GroupContext) -> None:
    if not ctx.runs_stages:
        raise StageError(
            "この操作はグループの幹事団体の担当者と計画を運営する担当者（都道府県の計画は都道府県の担当者、"
            "協議会の計画は幹事団体の担当者）だけができます"
        )
    if ctx.group.mode != "lead" or len(ctx.group.members) < 2:
        raise StageError(
            "仕様統一方式と単独調達のグループでは、協定・契約・請求は各団体が自ら行います（幹事団体方式のグループで記録します）"
        )


def _years(ctx: GroupContext) -> tuple[int, ...]:
    return cs.group_fiscal_years(ctx.instance, ctx.group)


def _yen(value: Any, field_name: str, label: str) -> int:
    try:
        amount = int(str(value).replace(",", "").strip())
    except (TypeError, ValueError):
        raise StageError(f"{label}「{value}」は整数（円）ではありません", field_name) from None
    if amount < 0:
        raise StageError(f"{label}は 0 円以上です（{amount:,}円）", field_name)
    if amount > 10**13:
        raise StageError(f"{label}が大きすぎます（上限 10兆円）", field_name)
    return amount


def _add(
    session: Session,
    user: Any,
    ctx: GroupContext,
    kind: str,
    occurred_on: date,
    data: dict[str, Any],
    *,
    body_code: str | None = None,
    need_key: str | None = None,
    fiscal_year: int | None = None,
) -> GroupStage:
    stage = GroupStage(
        release_id=ctx.release.id or 0,
        group_key=ctx.group.id,
        kind=kind,
        body_code=body_code,
        need_key=need_key,
        fiscal_year=fiscal_year,
        occurred_on=occurred_on,
        data=data,
        recorded_by=getattr(user, "id", None),
    )
    session.add(stage)
    session.flush()
    record(
        session,
        user_id=getattr(user, "id", None),
        action=f"stage_{kind}",
        entity="group_stage",
        entity_id=stage.id,
        after={"group": ctx.group.id, "body": body_code, "need": need_key, "fiscal_year": fiscal_year, **data},
        prefecture_code=ctx.loaded.scenario.prefecture_code,
        body_code=body_code or ctx.group.lead_body,
        detail=f"{STAGE_KINDS[kind]}（グループ {ctx.group.id}、{occurred_on.isoformat()}）",
    )
    return stage


def record_budget(
    session: Session, user: Any, ctx: GroupContext, body_code: str, fiscal_year: int, status: str, on: date, note: str
) -> GroupStage:
    if body_code not in ctx.member_bodies():
        raise StageError(f"団体 {body_code} はこのグループの参加団体ではありません", "body_code")
    if not ctx.records_budget_of(user, body_code):
        raise StageError("予算措置は、その団体の担当者か幹事団体・都道府県の担当者が記録します", "body_code")
    if status not in BUDGET_STATUSES:
        raise StageError(f"予算措置の状況「{status}」は 要求中・計上済・否決 のどれでもありません", "status")
    if fiscal_year not in _years(ctx):
        raise StageError(f"{fiscal_year}年度はグループの期間の外です", "fiscal_year")
    return _add(
        session,
        user,
        ctx,
        "budget",
        on,
        {"status": status, "note": note[:500]},
        body_code=body_code,
        fiscal_year=fiscal_year,
    )


def record_debt(
    session: Session, user: Any, ctx: GroupContext, body_code: str, on: date, limit_yen: Any, note: str
) -> GroupStage:
    if body_code not in ctx.member_bodies():
        raise StageError(f"団体 {body_code} はこのグループの参加団体ではありません", "body_code")
    if not ctx.records_budget_of(user, body_code):
        raise StageError("債務負担行為の議決は、その団体の担当者か幹事団体・都道府県の担当者が記録します", "body_code")
    years = _years(ctx)
    data = {
        "limit_yen": _yen(limit_yen, "limit_yen", "限度額"),
        "period": f"{years[0]}-{years[-1]}",
        "note": note[:500],
    }
    return _add(session, user, ctx, "debt", on, data, body_code=body_code)


def record_agreement(session: Session, user: Any, ctx: GroupContext, on: date, title: str) -> GroupStage:
    _require_runner(ctx)
    parties = ctx.member_bodies()
    return _add(
        session,
        user,
        ctx,
        "agreement",
        on,
        {"title": title.strip()[:200] or "共同調達に関する協定", "parties": parties},
    )


def record_contract(
    session: Session, user: Any, ctx: GroupContext, on: date, vendor: str, amounts: Mapping[int, Any]
) -> GroupStage:
    """The contract result; refused (nothing written) when an amount is missing, negative or outside the period."""
    _require_runner(ctx)
    parsed = {int(y): _yen(v, f"amount_{y}", f"{y}年度の契約金額") for y, v in amounts.items()}
    contract = cs.ContractResult(vendor.strip(), on, parsed)
    try:
        cs.check_contract(ctx.instance, ctx.group, contract)
    except cs.ContractError as e:
        raise StageError(str(e), "vendor" if "事業者" in str(e) else None) from e
    data = {"vendor": contract.vendor[:200], "amounts_by_year": {str(y): v for y, v in sorted(parsed.items())}}
    return _add(session, user, ctx, "contract", on, data)


def record_grant(session: Session, user: Any, ctx: GroupContext, kind: str, on: date, amount_yen: Any) -> GroupStage:
    _require_runner(ctx)
    if kind not in ("grant_application", "grant_decision", "grant_final"):
        raise StageError(f"補助金の段階「{kind}」はありません", "kind")
    return _add(session, user, ctx, kind, on, {"amount_yen": _yen(amount_yen, "amount_yen", "補助金の額")})


def record_year_actual(
    session: Session, user: Any, ctx: GroupContext, fiscal_year: int, on: date, actual_contract_yen: Any
) -> GroupStage:
    _require_runner(ctx)
    if fiscal_year not in _years(ctx):
        raise StageError(f"{fiscal_year}年度はグループの期間の外です", "fiscal_year")
    amount = _yen(actual_contract_yen, "actual_contract_yen", "実績額")
    return _add(session, user, ctx, "year_actual", on, {"actual_contract_yen": amount}, fiscal_year=fiscal_year)


def record_withdrawal(
    session: Session,
    user: Any,
    ctx: GroupContext,
    need_id: str,
    on: date,
    last_fiscal_year: int,
    termination_cost_yen: Any,
    reason: str,
) -> GroupStage:
    _require_runner(ctx)
    if need_id not in ctx.group.members:
        raise StageError(f"{need_id} はこのグループの参加団体のニーズではありません", "need_id")
    if ctx.body_of(need_id) == ctx.group.lead_body:
        raise StageError("幹事団体は脱退できません（幹事団体を替えるには協定を変更してください）", "need_id")
    years = _years(ctx)
    if not years[0] <= last_fiscal_year <= years[-1]:
        raise StageError(f"最後に参加する年度 {last_fiscal_year} はグループの期間の外です", "last_fiscal_year")
    if not reason.strip():
        raise StageError("脱退の理由を入れてください", "reason")
    remaining = [n for n in ctx.group.members if n != need_id]
    if len(remaining) < 2 and last_fiscal_year < years[-1]:
        raise StageError("脱退すると参加団体が幹事団体だけになります（協定の終了として扱ってください）", "need_id")
    data = {
        "last_fiscal_year": last_fiscal_year,
        "termination_cost_yen": _yen(termination_cost_yen, "termination_cost_yen", "解約に伴う費用"),
        "reason": reason.strip()[:500],
    }
    return _add(session, user, ctx, "withdrawal", on, data, need_key=need_id, body_code=ctx.body_of(need_id))


def _next_serial(session: Session, issuer: str, fiscal_year: int) -> int:
    last = session.exec(
        select(func.max(col(Invoice.serial))).where(
            col(Invoice.issuer_body) == issuer, col(Invoice.fiscal_year) == fiscal_year
        )
    ).one()
    return int(last or 0) + 1


def _issue(
    session: Session,
    user: Any,
    ctx: GroupContext,
    rows: list[tuple[str, str, int, str]],
    fiscal_year: int,
    issued_on: date,
    due_on: date | None,
) -> list[Invoice]:
    """Invoices (need id, kind, amount, basis) numbered in turn; two issuers racing for the same numbers make the
    later one's unique key fail, and the whole issue is refused with nothing written."""
    issuer = ctx.group.lead_body
    serial = _next_serial(session, issuer, fiscal_year)
    out = []
    for need_id, kind, amount, basis in rows:
        invoice = Invoice(
            release_id=ctx.release.id or 0,
            group_key=ctx.group.id,
            issuer_body=issuer,
            payer_body=ctx.body_of(need_id),
            need_key=need_id,
            fiscal_year=fiscal_year,
            serial=serial,
            kind=kind,
            amount_yen=amount,
            issued_on=issued_on,
            due_on=due_on,
            basis=basis,
            issued_by=getattr(user, "id", None),
        )
        session.add(invoice)
        out.append(invoice)
        serial += 1
    try:
        session.flush()
    except IntegrityError as e:
        raise StageError("同じ時に他の担当者が請求書を発行しました。画面を開き直してください") from e
    for invoice in out:
        record(
            session,
            user_id=getattr(user, "id", None),
            action=f"invoice_{invoice.kind}",
            entity="invoice",
            entity_id=invoice.id,
            after={"number": invoice_number(invoice), "payer": invoice.payer_body, "amount_yen": invoice.amount_yen},
            prefecture_code=ctx.loaded.scenario.prefecture_code,
            body_code=invoice.payer_body,
            detail=f"{INVOICE_KINDS[invoice.kind]} {invoice_number(invoice)}（グループ {ctx.group.id}）",
        )
    return out


def issue_bills(
    session: Session, user: Any, ctx: GroupContext, fiscal_year: int, issued_on: date, due_on: date | None
) -> list[Invoice]:
    """The year's 請求書 to every member but the lead, for its 確定負担額 of that year (the contract must be recorded;
    a year already billed is refused)."""
    _require_runner(ctx)
    state = progress(session, ctx)
    if state.confirmed is None:
        raise StageError("請求書は契約結果を記録してから発行します（確定負担額により請求します）")
    if fiscal_year not in state.confirmed.fiscal_years:
        raise StageError(f"{fiscal_year}年度はグループの期間の外です", "fiscal_year")
    if any(line.invoice.kind == "bill" and line.invoice.fiscal_year == fiscal_year for line in state.invoices):
        raise StageError(f"{wareki_fiscal_year(fiscal_year)}の請求書は発行済みです")
    rows = []
    for share in state.confirmed.shares:
        if share.is_lead:
            continue
        year = share.in_year(fiscal_year)
        amount = year.confirmed_yen
        basis = f"{wareki_fiscal_year(fiscal_year)}の確定負担額（{state.confirmed.basis}）"
        w = next((w for w in state.withdrawals if w.need_id == share.need_id), None)
        if w is not None and w.last_fiscal_year == fiscal_year and w.termination_cost_yen:
            amount += w.termination_cost_yen
            basis += f"、脱退に伴う解約費用 {w.termination_cost_yen:,}円を含む"
        if amount:
            rows.append((share.need_id, "bill", amount, basis))
    if not rows:
        raise StageError(f"{wareki_fiscal_year(fiscal_year)}に請求する額はありません")
    return _issue(session, user, ctx, rows, fiscal_year, issued_on, due_on)


def record_payment(
    session: Session, user: Any, ctx: GroupContext, invoice_id: int, paid_on: date, amount_yen: Any, note: str
) -> Payment:
    _require_runner(ctx)
    line = invoice_for(session, ctx, invoice_id, user)
    amount = _yen(amount_yen, "amount_yen", "入金額")
    if amount == 0:
        raise StageError("入金額は 1 円以上です", "amount_yen")
    if amount > line.outstanding_yen:
        raise StageError(
            f"入金額 {amount:,}円 が未収額 {line.outstanding_yen:,}円 を超えています（{line.number}）", "amount_yen"
        )
    payment = Payment(
        invoice_id=invoice_id,
        paid_on=paid_on,
        amount_yen=amount,
        note=note[:200],
        recorded_by=getattr(user, "id", None),
    )
    session.add(payment)
    session.flush()
    record(
        session,
        user_id=getattr(user, "id", None),
        action="payment",
        entity="invoice",
        entity_id=invoice_id,
        after={"number": line.number, "paid_on": paid_on.isoformat(), "amount_yen": amount},
        prefecture_code=ctx.loaded.scenario.prefecture_code,
        body_code=line.invoice.payer_body,
        detail=f"入金 {amount:,}円（{line.number}、{line.payer_name}）",
    )
    return payment


def year_settlement(
    session: Session, ctx: GroupContext, fiscal_year: int, state: GroupProgress | None = None
) -> cs.YearSettlement:
    """The 精算 of ``fiscal_year`` from the records: the year's 実績額 against what was billed, with the grant passed
    on in the start year (the 確定額 once recorded, else the 交付決定額)."""
    state = state or progress(session, ctx)
    if fiscal_year not in state.actuals:
        raise StageError(f"{wareki_fiscal_year(fiscal_year)}の実績額がまだ記録されていません", "fiscal_year")
    billed: dict[str, int] = {}
    for line in state.invoices:
        if line.invoice.fiscal_year == fiscal_year and line.invoice.cancelled_at is None:
            sign = -1 if line.invoice.kind == "refund" else 1
            billed[line.invoice.need_key] = billed.get(line.invoice.need_key, 0) + sign * line.invoice.amount_yen
    if state.confirmed is not None:
        for share in state.confirmed.shares:
            if share.is_lead:  # the lead bills itself nothing: its share is its own 一般財源, as confirmed
                billed[share.need_id] = share.in_year(fiscal_year).confirmed_yen
    grant = state.granted_yen()
    passed = (
        cs.grant_pass_through(ctx.instance, ctx.group, grant)
        if grant is not None and fiscal_year == ctx.group.start_year
        else None
    )
    return cs.settle_year(
        ctx.instance, ctx.group, fiscal_year, state.actuals[fiscal_year], billed, state.withdrawals, passed
    )


def settle(
    session: Session, user: Any, ctx: GroupContext, fiscal_year: int, issued_on: date, due_on: date | None
) -> list[Invoice]:
    """Issue the year's 精算: an 追加請求 or a 還付 to every member but the lead whose difference is not 0 (once a
    year)."""
    _require_runner(ctx)
    state = progress(session, ctx)
    if any(
        line.invoice.kind in ("charge", "refund") and line.invoice.fiscal_year == fiscal_year for line in state.invoices
    ):
        raise StageError(f"{wareki_fiscal_year(fiscal_year)}の精算は済んでいます")
    result = year_settlement(session, ctx, fiscal_year, state)
    rows = []
    lead_needs = {s.need_id for s in state.confirmed.shares if s.is_lead} if state.confirmed else set()
    for line in result.lines:
        if line.need_id in lead_needs or line.difference_yen == 0:
            continue
        kind = "charge" if line.difference_yen > 0 else "refund"
        basis = (
            f"{wareki_fiscal_year(fiscal_year)}の精算: 実績による負担額 {line.actual_share_yen:,}円 − 請求済み "
            f"{line.billed_yen:,}円"
            + (f" − 補助金の配分 {line.grant_adjustment_yen:,}円" if line.grant_adjustment_yen else "")
        )
        rows.append((line.need_id, kind, abs(line.difference_yen), basis))
    if not rows:
        raise StageError(f"{wareki_fiscal_year(fiscal_year)}の精算で請求・還付する額はありません")
    return _issue(session, user, ctx, rows, fiscal_year, issued_on, due_on)


# --- a body's own view: where its groups stand (home page, 負担額通知 page) ---------------------------------------


@dataclass(frozen=True)
class BodyInvoice:
    id: int
    number: str
    kind: str
    fiscal_year: int
    amount_yen: int
    paid_yen: int
    due_on: date | None

    @property
    def outstanding_yen(self) -> int:
        return 0 if self.kind == "refund" else self.amount_yen - self.paid_yen


@dataclass(frozen=True)
class BodyGroupStages:
    """One group of a published plan the body is in (or leads), as far as its stages have gone."""

    plan_id: int
    label: str  # 計画 No.2 第1版
    group_key: str
    category_id: str
    leads: bool  # the body is the group's lead (it runs these stages)
    steps: tuple[tuple[str, date], ...]  # the group-level stages recorded, in their order (label, date)
    confirmed: bool  # a contract is recorded: the 確定負担額 (and its notice) exist
    last_fiscal_year: int | None  # the body withdrew, taking part up to this year
    invoices: tuple[BodyInvoice, ...]  # to the body (the lead: every invoice it issued for the group)

    @property
    def outstanding_yen(self) -> int:
        return sum(i.outstanding_yen for i in self.invoices)


def body_group_stages(session: Session, body_code: str | None, plan_id: int | None = None) -> list[BodyGroupStages]:
    """The groups with recorded stages the body takes part in or leads (of ``plan_id`` only, when given): where the
    contract, its 確定負担額, the invoices to the body and their payments stand. Membership is the plan's own
    record of its groups (consortium, member_share), so a body sees only its groups."""
    if not body_code:
        return []
    keys = set(session.exec(select(col(GroupStage.release_id), col(GroupStage.group_key)).distinct()).all())
    keys |= set(session.exec(select(col(Invoice.release_id), col(Invoice.group_key)).distinct()).all())
    if not keys:
        return []
    query = select(PlanRelease, PlanSeries).join(PlanSeries, col(PlanSeries.id) == col(PlanRelease.series_id))
    query = query.where(col(PlanRelease.id).in_({r for r, _ in keys}))
    if plan_id is not None:
        query = query.where(col(PlanRelease.plan_id) == plan_id)
    releases = {r.id: (r, s) for r, s in session.exec(query).all()}
    wanted = [(rid, g) for rid, g in keys if rid in releases]
    if not wanted:
        return []
    plan_ids = {releases[rid][0].plan_id for rid, _ in wanted}
    groups = {
        (c.plan_id, c.group_key): c
        for c in session.exec(select(Consortium).where(col(Consortium.plan_id).in_(plan_ids))).all()
    }
    member_of = {
        cid
        for cid in session.exec(
            select(col(MemberShare.consortium_id)).where(
                col(MemberShare.body_code) == body_code,
                col(MemberShare.consortium_id).in_([c.id for c in groups.values()]),
            )
        ).all()
    }
    out = []
    for rid, group_key in sorted(wanted, key=lambda k: (-k[0], k[1])):
        release, series = releases[rid]
        group = groups.get((release.plan_id, group_key))
        if group is None:
            continue
        leads = group.lead_body_code == body_code
        if not leads and group.id not in member_of:
            continue
        records = _records(session, rid, group_key)
        latest = _latest(
            (r for r in records if r.body_code is None and r.need_key is None and r.fiscal_year is None),
            lambda r: r.kind,
        )
        steps = tuple((STAGE_KINDS[k], latest[k].occurred_on) for k in GROUP_STEPS if k in latest)
        left = [r for r in records if r.kind == "withdrawal" and r.body_code == body_code]
        invoices = session.exec(
            select(Invoice)
            .where(col(Invoice.release_id) == rid, col(Invoice.group_key) == group_key)
            .where(col(Invoice.issuer_body) == body_code if leads else col(Invoice.payer_body) == body_code)
            .order_by(col(Invoice.fiscal_year), col(Invoice.serial))
        ).all()
        paid = dict(
            session.exec(
                select(col(Payment.invoice_id), func.sum(col(Payment.amount_yen)))
                .where(col(Payment.invoice_id).in_([i.id for i in invoices]))
                .group_by(col(Payment.invoice_id))
            ).all()
        )
        out.append(
            BodyGroupStages(
                plan_id=release.plan_id,
                label=version_label(series, release),
                group_key=group_key,
                category_id=group.category_id,
                leads=leads,
                steps=steps,
                confirmed="contract" in latest,
                last_fiscal_year=int(left[-1].data["last_fiscal_year"]) if left else None,
                invoices=tuple(
                    BodyInvoice(
                        i.id or 0,
                        invoice_number(i),
                        i.kind,
                        i.fiscal_year,
                        i.amount_yen,
                        int(paid.get(i.id or 0, 0) or 0),
                        i.due_on,
                    )
                    for i in invoices
                    if i.cancelled_at is None
                ),
            )
        )
    return out
