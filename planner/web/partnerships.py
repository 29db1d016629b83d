"""Lead-run consortia (協議会): a municipality's staff found one for their body and a category, invite bodies of any
prefecture, and make its scenarios; an invited body's staff accept or decline; the lead's prefecture reads it.

The pages translate only: who may do what is planner.services.access (through planner.services.partnerships,
which also refuses), each change is one transaction (services.transactions.run), and a consortium the user may
not see answers 404 like a missing one (the refusal is logged).
"""

from __future__ import annotations

from collections.abc import Callable
from smtplib import SMTPException

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.domain.vocabulary import METHOD_LABELS
from planner.services import access, mail, transactions
from planner.services import partnerships as svc
from planner.web.db import db_session
from planner.web.security import forbidden, require_submitted, roles_required

bp = Blueprint("partnerships", __name__, url_prefix="/consortia")

# The allocation methods a lead picks from when it makes a scenario (the scenario's own page says the rest)
SCENARIO_METHODS = ("formula", "equal", "population", "volume", "standalone_ratio", "shapley")


def mail_note(send: Callable[[], int | None]) -> str:
    """What became of the e-mail an action sends (planner.services.mail), in words for its flash: nothing without a
    mail server, how many were sent, or that the server could not be reached (the action itself stands)."""
    try:
        sent = send()
    except (OSError, SMTPException) as e:
        current_app.logger.warning("mail not sent: %s", e)
        return "メールは送れませんでした（メールサーバーに接続できません）。"
    if sent is None:
        return ""
    return (
        f"{sent} 団体の担当者にメールを送りました。"
        if sent
        else "メールアドレスのある担当者がいないため、メールは送っていません。"
    )


def _row_and_lead(partnership_id: int | None):
    memo = g.setdefault("partnership_rows", {})
    if partnership_id not in memo:
        memo[partnership_id] = svc.row_and_lead(db_session(), partnership_id)
    return memo[partnership_id]


def partnership_row(scenario):
    """The consortium of a scenario the user may already see (None for a prefecture's own)."""
    found = _row_and_lead(scenario.partnership_id) if scenario is not None and scenario.partnership_id else None
    return found[0] if found else None


@bp.app_context_processor
def _helpers():
    def consortium_lead_name(scenario) -> str:
        found = _row_and_lead(scenario.partnership_id) if scenario is not None else None
        if not found:
            return ""
        return found[1].name if found[1] is not None else found[0].lead_body_code

    def open_invitations():
        if not access.is_municipality(current_user):
            return []
        return svc.open_invitations(db_session(), current_user.body_code)

    def visible_partnerships():
        return svc.visible(db_session(), current_user)

    return {
        "visible_partnerships": visible_partnerships,
        "partnership_state_labels": svc.STATE_LABELS,
        "partnership_of": partnership_row,
        "consortium_lead_name": consortium_lead_name,
        "open_partnership_invitations": open_invitations,
    }


def load(partnership_id: int) -> svc.LoadedPartnership:
    try:
        return svc.load(db_session(), current_user, partnership_id)
    except svc.PartnershipNotFound as e:
        if e.refused:
            forbidden(e.detail, status=404, public_description=e.public_message)
        abort(404, description=e.public_message)


def _lead_action(partnership_id: int, what: str) -> svc.LoadedPartnership:
    """The checks of a lead's button: the consortium is the user's to see, the user acts for its lead (or is an
    administrator), and the form is fresh."""
    loaded = load(partnership_id)
    if not (loaded.leads or access.is_admin(current_user)):
        forbidden(f"協議会 {partnership_id}：{what}は幹事団体の担当者だけが行えます")
    require_submitted(FlaskForm())
    return loaded


@bp.get("/")
@roles_required(*access.ROLES)
def index():
    return render_template(
        "partnerships/index.html",
        rows=svc.visible(db_session(), current_user),
        kind_labels=svc.KIND_LABELS,
        state_labels=svc.STATE_LABELS,
        founds=access.is_municipality(current_user),
        invitations=svc.open_invitations(db_session(), current_user.body_code)
        if access.is_municipality(current_user)
        else [],
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(access.MUNICIPALITY)
def new():
    session = db_session()
    error = None
    if request.method == "POST":
        require_submitted(FlaskForm())
        try:
            row = transactions.run(
                session,
                svc.create,
                current_user,
                name=request.form.get("name") or "",
                kind=request.form.get("kind") or "",
                category_id=request.form.get("category") or "",
                note=request.form.get("note") or "",
            )
        except svc.PartnershipError as e:
            error = str(e)
        else:
            flash(f"「{row.name}」を設立しました。参加を呼びかける団体を招待してください。", "success")
            return redirect(url_for("partnerships.show", partnership_id=row.id))
    return render_template(
        "partnerships/new.html",
        kinds=svc.KIND_LABELS,
        categories=svc.category_choices(session),
        error=error,
        posted=request.form,
    ), (422 if error else 200)


@bp.get("/<int:partnership_id>")
@roles_required(*access.ROLES)
def show(partnership_id: int):
    loaded = load(partnership_id)
    session = db_session()
    return render_template(
        "partnerships/show.html",
        p=loaded,
        scenarios=svc.scenarios_of(session, partnership_id)
        if loaded.leads or not access.is_municipality(current_user)
        else [],
        runs=loaded.leads or access.is_admin(current_user),
        methods=[(m, METHOD_LABELS[m]) for m in SCENARIO_METHODS],
        state_labels=svc.STATE_LABELS,
    )


@bp.post("/<int:partnership_id>/invite")
@roles_required(*access.ROLES)
def invite(partnership_id: int):
    loaded = _lead_action(partnership_id, "団体の招待")
    session = db_session()
    try:
        codes = svc.resolve_bodies(session, request.form.get("bodies") or "")
        invited, kept = transactions.run(
            session, svc.invite, current_user, loaded.row, codes, request.form.get("message") or ""
        )
    except svc.PartnershipError as e:
        flash(str(e), "error")
        return redirect(url_for("partnerships.show", partnership_id=partnership_id)), 303
    if invited:
        link = url_for("partnerships.show", partnership_id=partnership_id, _external=True)
        text = mail.invitation_text(
            loaded.row.name, loaded.lead.name, loaded.category_name, request.form.get("message") or "", link
        )
        note = mail_note(
            lambda: mail.notify(
                session, current_app.config, [b.code for b in invited], f"「{loaded.row.name}」への参加の招待", text
            )
        )
        flash(
            f"{len(invited)} 団体（{'、'.join(b.name for b in invited)}）を招待しました。"
            f"各団体のホーム画面と協議会の画面に招待が表示され、担当者が参加・辞退を回答します。{note}",
            "success",
        )
    if kept:
        flash(f"次の団体はそのままです: {'、'.join(kept)}", "info")
    return redirect(url_for("partnerships.show", partnership_id=partnership_id))


@bp.post("/<int:partnership_id>/answer")
@roles_required(*access.ROLES)
def answer(partnership_id: int):
    loaded = load(partnership_id)
    if loaded.user_state is None or loaded.user_state == "lead":
        forbidden(f"協議会 {partnership_id}：招待されていない団体の回答")
    require_submitted(FlaskForm())
    choice = request.form.get("answer")
    if choice not in ("accept", "decline"):
        abort(400, description="参加するか辞退するかを選んでください。")
    try:
        transactions.run(db_session(), svc.respond, current_user, loaded.row, accept=choice == "accept")
    except svc.PartnershipError as e:
        flash(str(e), "error")
        return redirect(url_for("partnerships.show", partnership_id=partnership_id)), 303
    flash(
        f"「{loaded.row.name}」に参加すると回答しました。幹事団体の計画に自団体のニーズ（{loaded.category_name}）が入ります。"
        if choice == "accept"
        else f"「{loaded.row.name}」への参加を辞退しました。",
        "success",
    )
    return redirect(url_for("partnerships.show", partnership_id=partnership_id))


@bp.post("/<int:partnership_id>/scenarios")
@roles_required(*access.ROLES)
def new_scenario(partnership_id: int):
    loaded = _lead_action(partnership_id, "シナリオの作成")
    method = request.form.get("allocation_method") or "formula"
    if method not in SCENARIO_METHODS:
        abort(400, description="按分方法を選んでください。")
    try:
        scenario = transactions.run(
            db_session(),
            svc.new_scenario,
            current_user,
            loaded.row,
            name=request.form.get("name") or "",
            allocation_method=method,
        )
    except svc.PartnershipError as e:
        flash(str(e), "error")
        return redirect(url_for("partnerships.show", partnership_id=partnership_id)), 303
    flash(
        f"シナリオ「{scenario.name}」を作成しました。参加団体 {len(loaded.planned)} 団体のニーズを計画します。"
        "「実行」を押して最適化してください。",
        "success",
    )
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))
