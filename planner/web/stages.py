"""The group's 契約・精算 page: stages after the answers (planner.services.plan_stages), their forms, and the
documents they issue (確定負担額通知, 請求書 and 精算 notices, issued by the group's lead).

Every action is one transaction (services.transactions.run): a refusal shows its reason on the page and writes
nothing. Who may record what is access.runs_group_stages / records_member_budget, answered by the service.
"""

from __future__ import annotations

import io
from typing import Any

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.domain import contract_settlement as cs
from planner.domain.vocabulary import today_jst, wareki_fiscal_year
from planner.reports.names import fitted_name
from planner.reports.stage_documents import (
    GroupHeading,
    InvoiceDocument,
    Party,
    confirmed_notice_pdf,
    invoice_pdf,
)
from planner.services import access, mail, transactions
from planner.services import plan_stages as stages
from planner.services.plans import PlanNotFound
from planner.services.quotes import category_names
from planner.web.db import db_session
from planner.web.forms import stages as forms
from planner.web.partnerships import mail_note
from planner.web.security import forbidden, roles_required

bp = Blueprint("stages", __name__, url_prefix="/plans")

FORMS: dict[str, type[FlaskForm]] = {
    "budget": forms.BudgetForm,
    "debt": forms.DebtForm,
    "agreement": forms.AgreementForm,
    "contract": forms.ContractForm,
    "grant": forms.GrantForm,
    "actual": forms.YearActualForm,
    "bill": forms.BillForm,
    "settle": forms.SettleForm,
    "payment": forms.PaymentForm,
    "withdrawal": forms.WithdrawalForm,
}


@bp.app_context_processor
def _helpers():
    def body_group_stages(body_code: str | None, plan_id: int | None = None):
        """The body's groups with recorded stages, with their category's name (home and 負担額 pages)."""
        session = db_session()
        found = stages.body_group_stages(session, body_code, plan_id)
        names = category_names(session) if found else {}
        return [(s, names.get(s.category_id, s.category_id)) for s in found]

    return {"body_group_stages": body_group_stages, "invoice_kind_labels": stages.INVOICE_KINDS}


def _context(plan_id: int, group_id: str) -> stages.GroupContext:
    try:
        return stages.group_context(db_session(), current_user, plan_id, group_id)
    except PlanNotFound as e:
        if e.refused:
            forbidden(e.detail, status=404, public_description=e.public_message)
        abort(404, description=e.public_message)
    except stages.StageError as e:
        abort(404, description=str(e))


def _filled(name: str, ctx: stages.GroupContext, formdata: Any = None) -> FlaskForm:
    """The form ``name`` with the group's choices (years, members, the bodies the user records for)."""
    form = FORMS[name](formdata=formdata, prefix=name)
    years = [(fy, wareki_fiscal_year(fy)) for fy in cs.group_fiscal_years(ctx.instance, ctx.group)]
    for field_name in ("fiscal_year", "last_fiscal_year"):
        if hasattr(form, field_name):
            getattr(form, field_name).choices = years
    if hasattr(form, "body_code"):
        form.body_code.choices = [
            (code, ctx.body_name(code)) for code in ctx.member_bodies() if ctx.records_budget_of(current_user, code)
        ]
    if hasattr(form, "need_id"):
        form.need_id.choices = [
            (nid, ctx.body_name(ctx.body_of(nid)))
            for nid in ctx.group.members
            if ctx.body_of(nid) != ctx.group.lead_body
        ]
    return form


@bp.get("/<int:plan_id>/groups/<group_id>/stages")
@roles_required(*access.ROLES)
def page(plan_id: int, group_id: str):
    ctx = _context(plan_id, group_id)
    session = db_session()
    state = stages.progress(session, ctx)
    visible_invoices = [
        line
        for line in state.invoices
        if ctx.runs_stages or access.sees_member(current_user, ctx.loaded.access, line.invoice.payer_body)
    ]
    shares = state.confirmed.shares if state.confirmed is not None else ()
    if not ctx.runs_stages and state.confirmed is not None and ctx.loaded.access == "body":
        shares = tuple(s for s in shares if s.body_code == current_user.body_code)
    budget_form = _filled("budget", ctx)
    return render_template(
        "stages/page.html",
        ctx=ctx,
        state=state,
        shares=shares,
        invoices=visible_invoices,
        forms={name: _filled(name, ctx) for name in FORMS}
        if ctx.runs_stages
        else {"budget": budget_form, "debt": _filled("debt", ctx)},
        years=cs.group_fiscal_years(ctx.instance, ctx.group),
        step_labels=stages.STAGE_KINDS,
        budget_labels=stages.BUDGET_STATUSES,
        invoice_labels=stages.INVOICE_KINDS,
        wareki=wareki_fiscal_year,
        today=today_jst(),
    )


# What an action e-mails the members who must act on it: (subject, {body code: text}), or None
Notice = tuple[str, dict[str, str]] | None


def _stages_url(ctx: stages.GroupContext) -> str:
    return url_for("stages.page", plan_id=ctx.loaded.row.id, group_id=ctx.group.id, _external=True)


def _group_words(session: Any, ctx: stages.GroupContext) -> str:
    category = ctx.instance.categories[ctx.group.category].name
    return f"{stages.plan_label(session, ctx)} グループ {ctx.group.id}（{category}）"


def _confirmed_notice(session: Any, ctx: stages.GroupContext) -> Notice:
    """The members but the lead, each its 確定負担額 against the plan's 見込額 (the lead recorded the contract)."""
    state = stages.progress(session, ctx)
    if state.confirmed is None:
        return None
    group, lead, url = _group_words(session, ctx), ctx.body_name(ctx.group.lead_body), _stages_url(ctx)
    texts = {
        s.body_code: mail.confirmed_text(group, lead, s.estimated_total_yen, s.confirmed_total_yen, url)
        for s in state.confirmed.shares
        if not s.is_lead
    }
    return f"{group}：確定負担額のお知らせ", texts


def _invoice_notice(session: Any, ctx: stages.GroupContext, issued: list[Any], what: str) -> Notice:
    """Each payer its own 請求書 / 追加請求 / 還付: number, amount and due date."""
    group, lead, url = _group_words(session, ctx), ctx.body_name(ctx.group.lead_body), _stages_url(ctx)
    texts = {
        i.payer_body: mail.invoice_text(
            group,
            lead,
            stages.INVOICE_KINDS[i.kind],
            stages.invoice_number(i),
            i.amount_yen,
            i.due_on.isoformat() if i.due_on else "—",
            url,
        )
        for i in issued
    }
    return f"{group}：{what}", texts


def _withdrawal_notice(
    session: Any, ctx: stages.GroupContext, need_id: str, before: stages.GroupProgress, last_year: int
) -> Notice:
    """The members who stay (not the leaver, not the lead who recorded it): their 確定負担額 before and after."""
    after = stages.progress(session, ctx)
    leaver = ctx.body_of(need_id)
    group, url = _group_words(session, ctx), _stages_url(ctx)
    texts = {}
    for nid in ctx.group.members:
        code = ctx.body_of(nid)
        if nid == need_id or code in (leaver, ctx.group.lead_body):
            continue
        totals = None
        if before.confirmed is not None and after.confirmed is not None:
            totals = (before.confirmed.share(nid).confirmed_total_yen, after.confirmed.share(nid).confirmed_total_yen)
        texts[code] = mail.withdrawal_text(group, ctx.body_name(leaver), wareki_fiscal_year(last_year), totals, url)
    return f"{group}：参加団体の脱退と負担額の再計算", texts


def _apply(name: str, ctx: stages.GroupContext, form: Any) -> tuple[str, Notice]:
    """Record what ``form`` says (inside the action's transaction); the flash message to show and what to e-mail
    the members who must act on it (sent after the commit)."""
    session = db_session()
    user = current_user
    if name == "budget":
        stages.record_budget(
            session,
            user,
            ctx,
            form.body_code.data,
            form.fiscal_year.data,
            form.status.data,
            form.occurred_on.data,
            form.note.data or "",
        )
        return "予算措置を記録しました。", None
    if name == "debt":
        stages.record_debt(
            session, user, ctx, form.body_code.data, form.occurred_on.data, form.limit_yen.data, form.note.data or ""
        )
        return "債務負担行為の議決を記録しました。", None
    if name == "agreement":
        stages.record_agreement(session, user, ctx, form.occurred_on.data, form.title.data or "")
        return "協定の締結を記録しました。", None
    if name == "contract":
        amounts = {fy: request.form.get(f"amount_{fy}", "") for fy in cs.group_fiscal_years(ctx.instance, ctx.group)}
        stages.record_contract(session, user, ctx, form.occurred_on.data, form.vendor.data or "", amounts)
        return "契約結果を記録しました。確定負担額を計算しています（下の表）。", _confirmed_notice(session, ctx)
    if name == "grant":
        stages.record_grant(session, user, ctx, form.kind.data, form.occurred_on.data, form.amount_yen.data)
        return "補助金の記録を追加しました。", None
    if name == "actual":
        stages.record_year_actual(
            session, user, ctx, form.fiscal_year.data, form.occurred_on.data, form.actual_contract_yen.data
        )
        return f"{wareki_fiscal_year(form.fiscal_year.data)}の実績額を記録しました。", None
    if name == "bill":
        issued = stages.issue_bills(session, user, ctx, form.fiscal_year.data, form.issued_on.data, form.due_on.data)
        year = wareki_fiscal_year(form.fiscal_year.data)
        return f"{year}の請求書を {len(issued)} 件発行しました。", _invoice_notice(
            session, ctx, issued, f"{year}の請求書の発行"
        )
    if name == "settle":
        issued = stages.settle(session, user, ctx, form.fiscal_year.data, form.issued_on.data, form.due_on.data)
        year = wareki_fiscal_year(form.fiscal_year.data)
        return f"{year}の精算を行い、追加請求・還付を {len(issued)} 件発行しました。", _invoice_notice(
            session, ctx, issued, f"{year}の精算"
        )
    if name == "payment":
        try:
            invoice_id = int(form.invoice_id.data or "")
        except ValueError:
            raise stages.StageError("請求書が指定されていません", "invoice_id") from None
        stages.record_payment(
            session, user, ctx, invoice_id, form.paid_on.data, form.amount_yen.data, form.note.data or ""
        )
        return "入金を記録しました。", None
    if name == "withdrawal":
        before = stages.progress(session, ctx)
        stages.record_withdrawal(
            session,
            user,
            ctx,
            form.need_id.data,
            form.occurred_on.data,
            form.last_fiscal_year.data,
            form.termination_cost_yen.data or "0",
            form.reason.data or "",
        )
        return "脱退を記録しました。以後の年度の確定負担額は残る団体で計算し直しています。", _withdrawal_notice(
            session, ctx, form.need_id.data, before, form.last_fiscal_year.data
        )
    abort(404)


@bp.post("/<int:plan_id>/groups/<group_id>/stages/<name>")
@roles_required(*access.ROLES)
def act(plan_id: int, group_id: str, name: str):
    if name not in FORMS:
        abort(404)
    ctx = _context(plan_id, group_id)
    form = _filled(name, ctx, request.form)
    back = redirect(url_for("stages.page", plan_id=plan_id, group_id=group_id) + f"#{name}")
    if not form.validate():
        for field in form:
            for error in field.errors:
                flash(f"{field.label.text}：{error}" if field.name != "csrf_token" else str(error), "error")
        return back
    session = db_session()
    try:
        message, notice = transactions.run(session, lambda _session: _apply(name, ctx, form))
    except stages.StageError as e:
        flash(str(e), "error")
        return back
    if notice is not None and notice[1]:
        subject, texts = notice
        message += mail_note(lambda: mail.notify_each(session, current_app.config, subject, texts))
    flash(message, "success")
    return back


def _heading(ctx: stages.GroupContext) -> GroupHeading:
    lead = ctx.instance.bodies[ctx.group.lead_body]
    category = ctx.instance.categories[ctx.group.category]
    return GroupHeading(
        ctx.group.id, category.name, stages.plan_label(db_session(), ctx), Party(lead.code, lead.name, lead.kind)
    )


def _pdf(data: bytes, name: str):
    return send_file(
        io.BytesIO(data),
        mimetype="application/pdf",
        as_attachment=True,
        download_name=fitted_name(name, ".pdf"),
        max_age=0,
    )


@bp.get("/<int:plan_id>/groups/<group_id>/confirmed/<need_id>.pdf")
@roles_required(*access.ROLES)
def confirmed_notice(plan_id: int, group_id: str, need_id: str):
    ctx = _context(plan_id, group_id)
    state = stages.progress(db_session(), ctx)
    missing = "確定負担額はまだありません（契約結果を記録すると通知できます）"
    if need_id not in ctx.group.members:
        abort(404, description=missing)
    body = ctx.instance.bodies[ctx.body_of(need_id)]
    if not (ctx.runs_stages or access.sees_member(current_user, ctx.loaded.access, body.code)):
        forbidden(f"確定負担額通知 {group_id}/{need_id}（{body.code}）", status=404, public_description=missing)
    if state.confirmed is None:
        abort(404, description=missing)
    share = state.confirmed.share(need_id)
    withdrawn = tuple((ctx.body_name(ctx.body_of(w.need_id)), w.last_fiscal_year) for w in state.withdrawals)
    data = confirmed_notice_pdf(
        _heading(ctx), Party(body.code, body.name, body.kind), state.confirmed, share, today_jst(), withdrawn
    )
    return _pdf(data, f"確定負担額通知_{ctx.group.id}_{body.name}")


@bp.get("/<int:plan_id>/groups/<group_id>/invoices/<int:invoice_id>.pdf")
@roles_required(*access.ROLES)
def invoice(plan_id: int, group_id: str, invoice_id: int):
    ctx = _context(plan_id, group_id)
    missing = f"請求書 {invoice_id} はありません"
    try:
        line = stages.invoice_for(db_session(), ctx, invoice_id, current_user)
    except PlanNotFound as e:
        if e.refused:
            forbidden(e.detail, status=404, public_description=missing)
        abort(404, description=missing)
    payer = ctx.instance.bodies[line.invoice.payer_body]
    doc = InvoiceDocument(
        line.number,
        line.invoice.kind,
        line.invoice.fiscal_year,
        line.invoice.amount_yen,
        line.invoice.issued_on,
        line.invoice.due_on,
        line.invoice.basis or "",
        Party(payer.code, payer.name, payer.kind),
        line.paid_yen,
    )
    return _pdf(invoice_pdf(_heading(ctx), doc), f"{doc.title}_{line.number}_{payer.name}")
