"""The plan lifecycle pages: adopt a draft, publish it with a reply deadline, the board of members' answers
(remind, extend the deadline, re-plan with the decliners standalone), and a member's answer form.

Access is checked on the server for each request: the plan is loaded through ``planner.web.plans.load`` (which
refuses other prefectures' plans and unpublished plans to municipality staff, logging the refusal), then each
action requires the prefecture's view (coordinators and admins) or the member's own body.
"""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, current_app, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner import jobs
from planner.db.models import PlanRelease
from planner.db.rows import id_of
from planner.services import access, mail, outreach, transactions
from planner.services import answers as answer_svc
from planner.services import plan_lifecycle as lifecycle
from planner.services.account_import import SIGNUP_CODE_DAYS
from planner.web import reports
from planner.web.db import db_session
from planner.web.kept_input import restored_form
from planner.web.partnerships import mail_note
from planner.web.plans import load, require_full
from planner.web.security import forbidden, require_submitted, roles_required

bp = Blueprint("lifecycle", __name__, url_prefix="/plans")


@bp.app_context_processor
def _helpers():
    def plan_release(plan_id: int, with_changes: bool = True):
        # Memoised for the request: the input-change check rebuilds the scenario's instance.
        memo = g.setdefault("plan_release_info", {})
        key = (plan_id, with_changes)
        if key not in memo:
            memo[key] = lifecycle.release_info(db_session(), plan_id, with_changes=with_changes)
        return memo[key]

    def member_requests(body_code: str | None):
        return answer_svc.member_requests(db_session(), body_code)

    def suggested_series(scenario):
        return lifecycle.suggested_series(db_session(), scenario)

    def supplementary_budget_warning(view, info):
        # Issued on: the publication's day for a published version, today for a draft or an unpublished one
        published = info.release.published_at if info.release is not None else None
        issued_on = lifecycle.jst_date(published) if published else lifecycle.today_jst()
        return lifecycle.supplementary_budget_warning(view.doc, issued_on)

    def withdrawn_for_body(body_code: str | None):
        return lifecycle.withdrawn_for_body(db_session(), body_code) if body_code else []

    def series_for(scenario):
        return lifecycle.series_choices(db_session(), scenario)

    def rule_year_of(view):
        # subsidy-rules.md section 4: the rule set's fiscal year beside the plan's years, and (the mismatch) the
        # adopt form's confirmation; (year or None, mismatch or None)
        memo = g.setdefault("rule_year_of", {})
        if view.id not in memo:
            session = db_session()
            year = lifecycle.rule_year(session, view.rule_version)
            years = [group.group.start_year for group in view.groups]
            memo[view.id] = (year, lifecycle.rule_year_mismatch(year, years))
        return memo[view.id]

    return {
        "plan_release": plan_release,
        "answer_labels": answer_svc.ANSWER_LABELS,
        "member_requests": member_requests,
        "suggested_series": suggested_series,
        "series_for": series_for,
        "rule_year_of": rule_year_of,
        "supplementary_budget_warning": supplementary_budget_warning,
        "withdrawn_for_body": withdrawn_for_body,
        "lifecycle_state_labels": lifecycle.STATE_LABELS,
        "version_label": lifecycle.version_label,
        "today_jst": lifecycle.today_jst,
    }


def _checked_form() -> None:
    require_submitted(FlaskForm())


def _date_arg(name: str) -> date | None:
    raw = (request.form.get(name) or "").strip()
    try:
        return date.fromisoformat(raw) if raw else None
    except ValueError:
        return None


def _deadline_arg() -> date | None:
    deadline = _date_arg("deadline")
    if deadline is None:
        flash("回答期限を日付（例 2026-12-20）で入力してください。", "error")
    return deadline


def _release_or_404(session, plan_id: int) -> PlanRelease:
    release = lifecycle.release_of_plan(session, plan_id)
    if release is None:
        abort(404, description=f"計画 {plan_id} は確定されていません（試算です）")
    return release


def _require_runs(loaded, action: str) -> None:
    """The whole plan's view and the right to act on it: a lead-run consortium's plan is acted on by its lead
    alone; its prefecture reads it (planner.services.access.edits_scenario)."""
    require_full(loaded, action)
    if not loaded.runs(current_user):
        forbidden(f"計画 {loaded.row.id}：{action}は協議会の幹事団体が行います（都道府県は閲覧のみ）")


def _coordinator_action(plan_id: int, action: str):
    """The checks every coordinator's action on an adopted plan makes: the whole plan's view and the right to act
    on it, a fresh form, and the plan's release. Returns (loaded plan, session, release)."""
    loaded = load(plan_id)
    _require_runs(loaded, action)
    _checked_form()
    session = db_session()
    return loaded, session, _release_or_404(session, plan_id)


# Where a coordinator's action the lifecycle refuses returns to, with the reason.
_BACK = {
    "lifecycle.adopt": "plans.show",
    "lifecycle.publish": "plans.show",
    "lifecycle.deadline": "lifecycle.board",
    "lifecycle.remind": "lifecycle.board",
    "lifecycle.replan": "lifecycle.board",
    "lifecycle.withdraw": "lifecycle.board",
    "lifecycle.signup_code": "lifecycle.board",
}


@bp.errorhandler(lifecycle.LifecycleError)
def _refused(e: lifecycle.LifecycleError):
    """A refused action keeps nothing of what it wrote (services.transactions.run rolled it back) and shows why on
    the page it came from."""
    back = _BACK.get(request.endpoint or "")
    if back is None:  # not an action (a page): an error, not a refusal
        raise e
    flash(str(e), "error")
    return redirect(url_for(back, plan_id=(request.view_args or {})["plan_id"]))


# --- coordinator: adopt, publish, extend -------------------------------------------------------------------------


@bp.post("/<int:plan_id>/adopt")
@roles_required(*access.ROLES)
def adopt(plan_id: int):
    loaded = load(plan_id)
    _require_runs(loaded, "確定案への採用")
    _checked_form()
    session = db_session()
    choice = request.form.get("series") or "new"
    series_id = None
    if choice != "new":
        try:
            series_id = int(choice)
        except ValueError:
            abort(400, description="計画番号の指定が不正です")
    replan_of = (loaded.scenario.overrides or {}).get("replan_of_release")
    release = transactions.run(
        session,
        lifecycle.adopt,
        current_user,
        loaded.row,
        loaded.scenario,
        series_id=series_id,
        title=(request.form.get("title") or "").strip(),
        replan_of=int(replan_of) if replan_of and series_id else None,
        confirm_rule_year=request.form.get("confirm_rule_year") == "1",
    )
    flash(f"{lifecycle.release_label(session, release)}として確定しました。内容を確認して公表してください。", "success")
    return redirect(url_for("plans.show", plan_id=plan_id))


@bp.post("/<int:plan_id>/publish")
@roles_required(*access.ROLES)
def publish(plan_id: int):
    _, session, release = _coordinator_action(plan_id, "公表")
    deadline = _deadline_arg()
    if deadline is None:
        return redirect(url_for("plans.show", plan_id=plan_id))
    transactions.run(
        session,
        lifecycle.publish,
        current_user,
        release,
        deadline=deadline,
        message=(request.form.get("message") or "").strip(),
    )
    building = ""
    if current_app.config["BUILD_DOCUMENTS_ON_PUBLISH"]:
        try:
            if reports.start_full_set(plan_id):
                building = "帳票一式（ZIP）の作成を始めました。"
        except OSError:
            # The plan is published either way; the ZIP is then built when first asked for.
            current_app.logger.exception("plan %s: the document build on publication could not start", plan_id)
    flash(
        f"{lifecycle.release_label(session, release)}を公表しました。参加団体は自団体の部分を見て回答できます"
        f"（回答期限 {deadline:%Y-%m-%d}）。{building}",
        "success",
    )
    return redirect(url_for("lifecycle.board", plan_id=plan_id))


@bp.post("/<int:plan_id>/deadline")
@roles_required(*access.ROLES)
def deadline(plan_id: int):
    _, session, release = _coordinator_action(plan_id, "回答期限の変更")
    new = _deadline_arg()
    if new is None:
        return redirect(url_for("lifecycle.board", plan_id=plan_id))
    transactions.run(session, lifecycle.extend_deadline, current_user, release, new)
    flash(f"回答期限を {new:%Y-%m-%d} にしました。", "success")
    return redirect(url_for("lifecycle.board", plan_id=plan_id))


@bp.post("/<int:plan_id>/withdraw")
@roles_required(*access.ROLES)
def withdraw(plan_id: int):
    _, session, release = _coordinator_action(plan_id, "取り下げ")
    told = transactions.run(session, lifecycle.withdraw, current_user, release, reason=request.form.get("reason") or "")
    flash(
        f"{lifecycle.release_label(session, release)}を取り下げました。回答の受付を終了し、参加団体 {len(told)} 団体の"
        "ホーム画面に取り下げと理由を表示しています。",
        "success",
    )
    return redirect(url_for("plans.show", plan_id=plan_id))


# --- coordinator: the board of answers --------------------------------------------------------------------------


@bp.get("/<int:plan_id>/answers")
@roles_required(*access.ROLES)
def board(plan_id: int):
    loaded = load(plan_id)
    require_full(loaded, "回答一覧")
    session = db_session()
    release = _release_or_404(session, plan_id)
    info = lifecycle.release_info(session, plan_id)
    answers_board = answer_svc.board(session, release, loaded.view)
    replans = lifecycle.replans_of(session, release)
    # ?answer=join|conditional|decline|none narrows the table (a link from the summary); anything else shows all.
    shown = next((f for f in answer_svc.BOARD_FILTERS if f[0] == request.args.get("answer")), None)
    asked = [code for code, _name in answers_board.bodies]
    return render_template(
        "lifecycle/board.html",
        no_account=outreach.accountless(session, asked),
        waiting_signup=outreach.waiting_for_signup(session, asked),
        runs=loaded.runs(current_user),
        filters=answer_svc.BOARD_FILTERS,
        shown=shown,
        shown_lines=answers_board.with_answer(shown[2]) if shown else answers_board.lines,
        loaded=loaded,
        view=loaded.view,
        scenario=loaded.scenario,
        info=info,
        release=release,
        board=answers_board,
        replans=replans,
        replanned=answer_svc.replanned_scenario(session, release),
        deadline_text=answer_svc.deadline_text(release),
    )


@bp.get("/<int:plan_id>/answers/pending.csv")
@roles_required(*access.ROLES)
def pending_csv(plan_id: int):
    """The bodies still to answer, for those who telephone them (whoever reads the board)."""
    loaded = load(plan_id)
    require_full(loaded, "未回答の団体の一覧")
    session = db_session()
    release = _release_or_404(session, plan_id)
    answers_board = answer_svc.board(session, release, loaded.view)
    data = outreach.pending_csv(answers_board, outreach.accountless(session, [c for c, _n in answers_board.bodies]))
    response = make_response(data)
    response.headers["Content-Type"] = "text/csv; charset=utf-8"
    response.headers["Content-Disposition"] = f"attachment; filename=pending-{plan_id}.csv"
    return response


@bp.post("/<int:plan_id>/answers/signup-code")
@roles_required(*access.ROLES)
def signup_code(plan_id: int):
    """A printable sign-up code for the staff of a body asked in the plan (issued again while nobody signed up)."""
    loaded, session, _release = _coordinator_action(plan_id, "登録コードの発行")
    code = request.form.get("body") or ""
    if not loaded.view.includes_body(code):
        abort(400, description="この計画の団体を選んでください。")
    days = int(current_app.config.get("SIGNUP_CODE_DAYS", SIGNUP_CODE_DAYS))
    try:
        issued, again = transactions.run(session, outreach.issue_staff_code, current_user, code, days=days)
    except outreach.OutreachError as e:
        flash(str(e), "error")
        return redirect(url_for("lifecycle.board", plan_id=plan_id))
    return render_template(
        "lifecycle/signup_code.html",
        issued=[issued],
        again=again,
        days=days,
        plan_id=plan_id,
    )


@bp.post("/<int:plan_id>/remind")
@roles_required(*access.ROLES)
def remind(plan_id: int):
    loaded, session, release = _coordinator_action(plan_id, "回答の督促")
    body = request.form.get("body") or None
    reminded = transactions.run(
        session, answer_svc.remind, current_user, release, loaded.view, [body] if body else None
    )
    if reminded:
        label = lifecycle.release_info(session, plan_id).label
        text = mail.reminder_text(
            label, answer_svc.deadline_text(release), url_for("lifecycle.answer", plan_id=plan_id, _external=True)
        )
        note = mail_note(lambda: mail.notify(session, current_app.config, reminded, f"{label}への回答のお願い", text))
        flash(
            f"{len(reminded)} 団体に回答の催促を記録しました。各団体のホーム画面に表示されます。"
            + (note or "（メールサーバーが設定されていないため、メールは送られません）"),
            "success",
        )
    else:
        flash("未回答の団体はありません。", "info")
    return redirect(url_for("lifecycle.board", plan_id=plan_id))


@bp.post("/<int:plan_id>/replan")
@roles_required(*access.ROLES)
def replan(plan_id: int):
    loaded, session, release = _coordinator_action(plan_id, "再計画")
    try:
        scenario, decliners = transactions.run(session, answer_svc.replan_scenario, current_user, release, loaded.view)
    except answer_svc.AlreadyReplanned as e:
        flash(str(e), "info")
        if e.scenario is None:
            return redirect(url_for("lifecycle.board", plan_id=plan_id))
        return redirect(url_for("scenarios.show", scenario_id=e.scenario.id))
    try:
        jobs.submit_solve(session, current_app.extensions["db_engine"], current_app.config, scenario, current_user)
    except jobs.JobSubmitError as e:
        flash(str(e), "error")
    else:
        flash(
            f"不参加 {len(decliners)} 件を単独調達に固定して再計画を始めました。結果の試算を確定すると"
            "同じ計画番号の次の版になります。",
            "success",
        )
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))


# --- member: the answer form -------------------------------------------------------------------------------------


@bp.route("/<int:plan_id>/answer", methods=["GET", "POST"])
@roles_required(access.MUNICIPALITY)
def answer(plan_id: int):
    loaded = load(plan_id)
    session = db_session()
    code = current_user.body_code
    if not code or not loaded.view.includes_body(code):
        forbidden(f"計画 {plan_id}：団体コード {code} のニーズはこの計画にありません")
    release = _release_or_404(session, plan_id)
    if not answer_svc.asked_lines(session, release, answer_svc.need_lines(loaded.view, code)):
        forbidden(f"計画 {plan_id}：団体コード {code} はこの計画の都道府県の団体ではありません")
    info = lifecycle.release_info(session, plan_id)
    error = None
    status = 200
    if request.method == "POST":
        _checked_form()
        given = {}
        for line in answer_svc.need_lines(loaded.view, code):
            choice = request.form.get(f"answer-{line.need_key}")
            if choice:
                given[line.need_key] = (choice, request.form.get(f"comment-{line.need_key}") or "")
        if not given:
            error = "回答が選ばれていません。ニーズごとに参加・不参加・条件付きのどれかを選んでください。"
            status = 422
        else:
            try:
                changed = transactions.run(
                    session, answer_svc.submit_answers, current_user, release, loaded.view, given
                )
            except answer_svc.AnswersClosed as e:
                error, status = str(e), 409
            except lifecycle.LifecycleError as e:
                error, status = str(e), 422 if not isinstance(e, lifecycle.LifecycleConflict) else 409
            else:
                flash(
                    f"回答を記録しました（{changed} 件を更新）。期限までは何度でも変更できます。"
                    if changed
                    else "回答に変更はありません。",
                    "success",
                )
                return redirect(url_for("lifecycle.answer", plan_id=plan_id))
    answers = answer_svc.answers_of(session, id_of(release), code)
    lines = answer_svc.need_lines(loaded.view, code, answers)
    previous = answer_svc.previous_answers(session, release, code)
    for line in lines:
        line.previous = previous.get(line.need_key)
    posted = request.form if request.method == "POST" else restored_form()
    closed = None
    try:
        answer_svc.check_open(session, release)
    except answer_svc.AnswersClosed as e:
        closed = str(e)
    reminders = answer_svc.reminders_for_body(session, code, [id_of(release)]).get(id_of(release), [])
    return render_template(
        "lifecycle/answer.html",
        loaded=loaded,
        view=loaded.view,
        scenario=loaded.scenario,
        info=info,
        release=release,
        lines=lines,
        error=error,
        posted=posted,
        closed=closed,
        reminders=reminders,
        deadline_text=answer_svc.deadline_text(release),
        body_name=loaded.view.body_name(code),
    ), status
