"""Bodies (団体): the national list with its official figures, per-body flags, bulk flags import, CSV export.

Administrators see every body; prefecture coordinators see and edit the bodies of their prefecture only.
Municipality staff have no access (their own body's figures appear on their home page).
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter

from flask import Blueprint, Response, abort, flash, g, make_response, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.db.models import Body
from planner.domain.vocabulary import BODY_KIND_LABELS
from planner.importers.errors import FileProblems
from planner.services import access, body_admin, transactions
from planner.services.access import edits_body_row, scope_prefecture, sees_body
from planner.services.audit import ACTION_LABELS
from planner.services.audit_log import diff_rows, user_names
from planner.services.bodies import (
    StaleBodyError,
    bodies_csv_download,
    import_flags,
    preview_flags_import,
    save_staff_cost,
    set_body_flags,
)
from planner.web.db import db_session
from planner.web.forms.bodies import FlagsConfirmForm, FlagsForm, FlagsUploadForm
from planner.web.params import MAX_PAGE, parse_int
from planner.web.security import forbidden, roles_required

bp = Blueprint("bodies", __name__, url_prefix="/bodies")

PER_PAGE = 50


def _int_arg(name: str, default: int = 1) -> int:
    return parse_int(request.args.get(name), default, lo=1, hi=MAX_PAGE)


def _load_body(code: str) -> Body:
    body = body_admin.body(db_session(), code)
    if body is None:
        abort(404, description=f"団体コード {code} の団体はありません")
    if not sees_body(current_user, code, body.prefecture_code):
        forbidden(f"団体 {code}（都道府県コード {body.prefecture_code}）")
    return body


def _list_prefecture() -> str | None:
    """The prefecture filter: a coordinator's own, whatever the URL says; an administrator's choice."""
    scope = scope_prefecture(current_user)
    if scope:
        return scope
    chosen = (request.args.get("prefecture") or "").strip() or None
    if chosen is not None and not (chosen.isascii() and chosen.isdigit() and len(chosen) == 2):
        abort(
            400,
            description=f"都道府県の指定「{chosen[:10]}」が不正です。都道府県コードを半角数字2桁（例: 20）で指定してください",
        )
    return chosen


@bp.get("")
@roles_required(*access.PLANNERS)
def index():
    session = db_session()
    pref = _list_prefecture()
    kind = request.args.get("kind") or None
    if kind not in BODY_KIND_LABELS:
        kind = None
    q = (request.args.get("q") or "").strip()[:40] or None
    page = _int_arg("page")
    rows, total = body_admin.list_bodies(session, prefecture_code=pref, kind=kind, name=q, page=page, per_page=PER_PAGE)
    vintages = body_admin.vintages(
        session, [b.population_vintage_id for b in rows] + [b.fiscal_vintage_id for b in rows]
    )
    prefs = body_admin.prefectures(session)
    # Most rows share one import; its date goes in the column head and only the exceptions are marked per row.
    common = {
        key: Counter(getattr(b, key) for b in rows if getattr(b, key)).most_common(1)
        for key in ("population_vintage_id", "fiscal_vintage_id")
    }
    common = {key: (c[0][0] if c else None) for key, c in common.items()}
    forms = {b.code: _flags_form(b) for b in rows if edits_body_row(current_user, b)}
    return render_template(
        "bodies/index.html",
        bodies=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        prefecture=pref,
        kind=kind,
        q=q or "",
        pref_names={p.prefecture_code: p.name for p in prefs},
        kind_labels=BODY_KIND_LABELS,
        vintages=vintages,
        common=common,
        forms=forms,
        fixed_prefecture=scope_prefecture(current_user),
    )


def _flags_form(body: Body, formdata=None) -> FlagsForm:
    form = FlagsForm(formdata=formdata, prefix=f"b{body.code}")
    if formdata is None:
        form.disadvantaged.data = body.disadvantaged
        form.has_data_plan.data = body.has_data_plan
        form.no_allocation_tax.data = body.no_allocation_tax
        form.version.data = body.version
    return form


@bp.get("/<code>")
@roles_required(*access.PLANNERS)
def show(code: str):
    session = db_session()
    body = _load_body(code)
    vintages = body_admin.vintages(session, [body.population_vintage_id, body.fiscal_vintage_id])
    history = body_admin.flags_history(session, code)
    return render_template(
        "bodies/show.html",
        body=body,
        kind_labels=BODY_KIND_LABELS,
        vintages=vintages,
        needs=body_admin.body_needs(session, code),
        history=history,
        names=user_names(session, [h.user_id for h in history]),
        diff_rows=diff_rows,
        action_labels=ACTION_LABELS,
        form=_flags_form(body) if edits_body_row(current_user, body) else None,
        staff_cost_form=FlaskForm(formdata=None) if edits_body_row(current_user, body) else None,
        prefecture_staff_cost=_prefecture_staff_cost(session, body),
    )


def _prefecture_staff_cost(session, body: Body) -> int | None:
    if body.kind == "prefecture":
        return None
    pref = body_admin.prefecture_body(session, body.prefecture_code)
    return pref.staff_cost_per_hour_yen if pref is not None else None


@bp.post("/<code>/flags")
@roles_required(*access.PLANNERS)
def update_flags(code: str):
    session = db_session()
    body = _load_body(code)
    if not edits_body_row(current_user, body):
        forbidden(f"団体 {code} の区分の変更")
    form = FlagsForm(prefix=f"b{code}")
    back = request.form.get("next") or ""
    target = back if back.startswith("/bodies") and not back.startswith("//") else url_for("bodies.show", code=code)
    if not form.validate():
        for errors in form.errors.values():
            for e in errors:
                flash(f"{body.name}: {e}", "error")
        return _show_with_status(code, 400)
    try:
        transactions.run(
            session,
            set_body_flags,
            code,
            user_id=current_user.id,
            disadvantaged=form.disadvantaged.data,
            has_data_plan=form.has_data_plan.data,
            no_allocation_tax=form.no_allocation_tax.data,
            expected_version=form.version.data,
        )
    except StaleBodyError as e:
        # Lost to a concurrent edit: the body's page shows the values that won (and their version), which the
        # rollback left to be read afresh.
        flash(str(e), "error")
        return _show_with_status(code, 409)
    flash(f"{body.name} の条件不利地域・推進計画・不交付団体を保存しました", "success")
    return redirect(target)


@bp.post("/<code>/staff-cost")
@roles_required(*access.PLANNERS)
def update_staff_cost(code: str):
    """A body's (or, on a prefecture, its towns' default) staff cost per hour, for the effect estimate in yen."""
    from planner.importers.needs import volume_value

    session = db_session()
    body = _load_body(code)
    if not edits_body_row(current_user, body):
        forbidden(f"団体 {code} の人件費単価の変更")
    if not FlaskForm().validate_on_submit():
        abort(400, description="フォームの内容を確認できません")
    raw = (request.form.get("staff_cost_per_hour_yen") or "").strip()
    value = volume_value(raw) if raw else None
    if raw and (value is None or not float(value).is_integer()):
        flash(f"{body.name}: 人件費単価は円単位の整数で入力してください（「{raw}」）", "error")
        return redirect(url_for("bodies.show", code=code))
    try:
        changed = save_staff_cost(session, body, None if value is None else int(value), current_user.id)
    except StaleBodyError as e:  # another edit of the body won
        flash(f"{body.name}: {e}", "error")
        return _show_with_status(code, 409)
    except ValueError as e:
        flash(f"{body.name}: {e}", "error")
        return redirect(url_for("bodies.show", code=code))
    if changed:
        flash(
            f"{body.name} の人件費単価を" + (f"{int(value):,}円/時間にしました" if value else "未設定にしました"),
            "success",
        )
    return redirect(url_for("bodies.show", code=code))


def _show_with_status(code: str, status: int):
    response = make_response(show(code))
    response.status_code = status
    return response


@bp.get("/export.csv")
@roles_required(*access.PLANNERS)
def export_csv():
    session = db_session()
    pref = _list_prefecture()
    text = transactions.run(session, bodies_csv_download, pref, current_user.id)
    name = f"bodies_{pref or 'all'}.csv"
    # A BOM so that Excel opens the UTF-8 file with its Japanese names intact.
    return Response(
        "\ufeff" + text, mimetype="text/csv", headers={"Content-Disposition": f"attachment; filename={name}"}
    )


# --- bulk flags import: upload -> preview -> confirm ------------------------------------------------------------


def _preview(file_name: str, data: bytes):
    """What the file would change (planner.services.bodies.preview_flags_import: the real import, rolled back)."""
    preview = preview_flags_import(
        db_session(), file_name, data, user_id=current_user.id, prefecture_code=scope_prefecture(current_user)
    )
    g.flags_basis = preview.basis
    return preview.report, preview.changes, preview.problems


@bp.route("/import", methods=["GET", "POST"])
@roles_required(*access.PLANNERS)
def import_flags_page():
    form = FlagsUploadForm()
    if form.validate_on_submit():
        upload = form.file.data
        file_name = (upload.filename or "upload.csv").rsplit("/", 1)[-1][:200]
        data = upload.read()
        report, changes, problems = _preview(file_name, data)
        confirm = None
        if report is not None and changes:
            confirm = FlagsConfirmForm(formdata=None)
            confirm.file_name.data = file_name
            confirm.content.data = base64.b64encode(data).decode("ascii")
            confirm.basis.data = g.flags_basis
        return render_template(
            "bodies/import.html",
            form=form,
            file_name=file_name,
            report=report,
            changes=changes,
            problems=problems,
            confirm=confirm,
        ), (422 if problems else 200)
    # A POST that fails the form (no file, a name that is not .csv/.xlsx) is an upload with problems too.
    return render_template(
        "bodies/import.html", form=form, file_name=None, report=None, changes=[], problems=None, confirm=None
    ), (422 if request.method == "POST" else 200)


@bp.post("/import/confirm")
@roles_required(*access.PLANNERS)
def import_flags_confirm():
    session = db_session()
    form = FlagsConfirmForm()
    if not form.validate_on_submit():
        abort(400, description="取込内容を確認できません。もう一度ファイルを選んでください")
    file_name = (form.file_name.data or "upload.csv")[:200]
    try:
        data = base64.b64decode(form.content.data or "", validate=True)
    except (binascii.Error, ValueError):
        abort(400, description="取込内容を確認できません。もう一度ファイルを選んでください")
    if form.basis.data != body_admin.flags_fingerprint(session, scope_prefecture(current_user)):
        # Replayed or late: the bodies changed since this preview, which would revert those changes unseen.
        report, changes, problems = _preview(file_name, data)
        confirm = None
        if report is not None and changes:
            confirm = FlagsConfirmForm(formdata=None)
            confirm.file_name.data = file_name
            confirm.content.data = form.content.data
            confirm.basis.data = g.flags_basis
        return render_template(
            "bodies/import.html",
            form=FlagsUploadForm(),
            file_name=file_name,
            report=report,
            changes=changes,
            problems=problems,
            confirm=confirm,
            stale=not problems,
        ), (400 if problems else 409)
    try:
        report = transactions.run(
            session,
            import_flags,
            file_name,
            data,
            user_id=current_user.id,
            prefecture_code=scope_prefecture(current_user),
        )
    except FileProblems as e:
        return render_template(
            "bodies/import.html",
            form=FlagsUploadForm(),
            file_name=file_name,
            report=None,
            changes=[],
            problems=e.problems,
            confirm=None,
        ), 400
    flash(f"{file_name} を取り込みました（{report.rows} 行、フラグが変わった団体 {len(report.changed)}）", "success")
    return redirect(url_for("bodies.index"))
