"""Needs pages: list and filter, register, edit, withdraw/restore, the standalone estimate, import and export.

Municipality staff work on their own body's needs, prefecture coordinators on their prefecture's bodies',
administrators on all. Every request checks this on the server; refusals are logged by ``forbidden``.
"""

from __future__ import annotations

from pathlib import Path

from flask import Blueprint, Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_login import current_user

from planner.db.models import Body, Category, Need
from planner.domain.effects import Baseline
from planner.domain.need_fields import heading
from planner.domain.vocabulary import csv_text, today_jst, wareki_fiscal_year
from planner.domain.vocabulary import volume as volume_text
from planner.domain.volume_checks import volume_warnings
from planner.importers.errors import FileProblems
from planner.importers.needs import (
    ROW_LABELS,
    accepted_start_years,
    current_fiscal_year,
    field_labels,
    parse_needs_file,
    volume_value,
    year_label,
)
from planner.reports.effect_text import effect_lines
from planner.services import access, body_admin, effect_models, needs_export, transactions, upload_store
from planner.services import needs as svc
from planner.web.db import db_session
from planner.web.forms.needs import ConfirmImportForm, ImportForm, NeedForm, StatusForm, year_choices
from planner.web.kept_input import restored_form
from planner.web.params import MAX_PAGE, parse_int
from planner.web.security import forbidden, roles_required

bp = Blueprint("needs", __name__, url_prefix="/needs")

PER_PAGE = 50
# The import template's columns after the body and the category (headings from planner.domain.need_fields)
TEMPLATE_FIELDS = (
    "volume",
    "start_year",
    "accepts_lead",
    "accepts_unified",
    "can_lead",
    "notes",
    "baseline_minutes_per_unit",
    "baseline_hours_per_year",
)
EXPORT_LIMIT = 100_000


def upload_dir() -> Path:
    return Path(current_app.config.get("NEEDS_UPLOAD_DIR") or Path(current_app.instance_path) / "needs_uploads")


def int_arg(name: str, default: int | None = None) -> int | None:
    return parse_int(request.args.get(name), default, lo=-MAX_PAGE, hi=MAX_PAGE)


def read_filters(session) -> svc.NeedFilters:
    status: str | None = request.args.get("status", "active")
    if status not in svc.STATUS_LABELS:
        status = None  # "all"
    pref = (request.args.get("prefecture") or "").strip() or None
    if not access.is_admin(current_user):
        pref = None  # the scope already limits coordinators and municipality staff
    body = (request.args.get("body") or "").strip() or None
    if access.is_municipality(current_user):
        body = None
    origin = request.args.get("data")
    return svc.NeedFilters(
        prefecture_code=pref,
        body_code=body,
        category_id=(request.args.get("category") or "").strip() or None,
        status=status,
        start_year=int_arg("year"),
        origin=origin if origin in svc.ORIGIN_LABELS else None,
    )


def load_need(need_id: int) -> tuple[Need, Body]:
    session = db_session()
    need = svc.find_need(session, need_id)
    missing = f"ニーズ {need_id} はありません"
    if need is None:
        abort(404, description=missing)
    body = body_admin.body(session, need.body_code)
    if body is None or not access.edits_body_row(current_user, body):
        # Answered exactly like a missing id, so that ids cannot be probed for other bodies' needs.
        forbidden(f"ニーズ {need_id}（団体コード {need.body_code} のもの）", status=404, public_description=missing)
    return need, body


# More bodies than this and the register form offers a search (prefecture and name or code) above the select.
BODY_SEARCH_THRESHOLD = 30


def prefecture_names(session) -> dict[str, str]:
    return body_admin.prefecture_names(session)


def body_choices(session) -> list[tuple[str, str]]:
    bodies = svc.editable_bodies(session, current_user)
    if access.is_admin(current_user):  # names repeat across prefectures (府中市, 伊達市): say which
        prefs = prefecture_names(session)
        return [
            (
                b.code,
                f"{b.name}（{prefs.get(b.prefecture_code, '')}・{b.code}）"
                if b.kind != "prefecture"
                else f"{b.name}（{b.code}）",
            )
            for b in bodies
        ]
    return [(b.code, f"{b.name}（{b.code}）") for b in bodies]


def body_search() -> dict:
    """The register form's body search as the query string gives it (the no-JavaScript path)."""
    pref = (request.args.get("prefecture") or "").strip()
    return {
        "prefecture": pref if access.is_admin(current_user) and pref.isdigit() else "",
        "q": (request.args.get("q") or "").strip()[:40],
    }


def search_bodies(choices: list[tuple[str, str]], search: dict) -> list[tuple[str, str]]:
    """The choices matching the search: by prefecture (the code's first two digits) and by name or code."""
    import unicodedata

    q = unicodedata.normalize("NFKC", search["q"]).lower()
    return [
        (code, label)
        for code, label in choices
        if (not search["prefecture"] or code[:2] == search["prefecture"])
        and (not q or q in unicodedata.normalize("NFKC", label).lower())
    ]


def fill_choices(form: NeedForm, session, need: Need | None = None) -> list[Category]:
    cats = svc.categories(session)
    form.category_id.choices = [(c.id, f"{c.name}（{c.unit}）" if c.unit else c.name) for c in cats]
    form.start_year.choices = year_choices(current_fiscal_year(), need.start_year if need else None)
    body = body_admin.body(session, need.body_code) if need is not None else None
    if body is not None:  # an existing need stays with its body
        form.body_code.choices = [(body.code, f"{body.name}（{body.code}）")]
    else:
        form.body_code.choices = body_choices(session)
    return cats


def form_context(form: NeedForm, session, cats: list[Category], need: Need | None = None) -> dict:
    """The estimate and the population suggestion for the values on the form (the no-JS path)."""
    body = body_admin.body(session, form.body_code.data)
    category = svc.category(session, form.category_id.data)
    volume = volume_value(form.volume.data) if form.volume.data else None
    estimate = effect = None
    if body is not None and category is not None and volume and volume > 0:
        estimate = svc.standalone_estimate(session, body, category.id, volume, form.start_year.data or 2026)
        effect = _effect_for_form(
            session,
            body,
            category,
            volume,
            form.start_year.data or 2026,
            Baseline(
                form.baseline_values()["baseline_minutes_per_unit"], form.baseline_values()["baseline_hours_per_year"]
            ),
            estimate,
        )
    warnings = (
        volume_warnings(
            volume,
            category.unit,
            previous=need.volume if need is not None else None,
            population=body.population if body is not None else None,
            per_10k_pop=category.volume_per_10k_pop,
        )
        if category is not None and volume
        else []
    )
    return {
        "form": form,
        "need": need,
        "body": body,
        "category": category,
        "estimate": estimate,
        "effect": effect,
        "volume_warnings": warnings,
        "suggestion": svc.volume_suggestion(category, body),
        "categories": cats,
        "units": {c.id: c.unit for c in cats},
    }


def _effect_for_form(
    session, body: Body, category: Category, volume: float, year: int, baseline: Baseline, estimate=None
) -> dict | None:
    """The effect estimate beside the cost estimate (``estimate``, computed once): the wording (shared with the
    plan pages), the caveat."""
    found = effect_models.need_form_effect(
        session, body, category.id, category.unit, volume, year, baseline, estimate=estimate
    )
    if found is None:
        return None
    text = effect_lines(found["effect"], standalone_label="単独で導入した場合", net_known=found["net_known"])
    return {**text.as_dict(), "caveat": found["caveat"], "model_version": found["model_version"]}


# --- list, export -----------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required()
def index():
    session = db_session()
    filters = read_filters(session)
    page = max(1, int_arg("page", 1) or 1)
    rows, total = svc.list_needs(session, current_user, filters, page=page, per_page=PER_PAGE)
    origins = svc.origin_counts(session, current_user, filters)
    cats = {c.id: c for c in svc.categories(session)}
    prefectures = body_admin.prefectures(session) if access.is_admin(current_user) else []
    bodies = body_choices(session) if access.is_coordinator(current_user) else []
    return render_template(
        "needs/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // PER_PAGE)),
        filters=filters,
        categories=cats,
        prefectures=prefectures,
        bodies=bodies,
        status_labels=svc.STATUS_LABELS,
        years=year_choices(current_fiscal_year(), wide=True),
        status_form=StatusForm(),
        origins=origins,
        origin_labels=svc.ORIGIN_LABELS,
    )


@bp.get("/export.<fmt>")
@roles_required()
def export(fmt: str):
    if fmt not in ("csv", "xlsx"):
        abort(404)
    session = db_session()
    filters = read_filters(session)
    rows = transactions.run(session, svc.export_rows, current_user, filters, fmt, EXPORT_LIMIT)
    cats = {c.id: c for c in svc.categories(session)}
    stamp = today_jst().strftime("%Y%m%d")  # the day in Japan, not the server's
    if fmt == "csv":
        body, mimetype = needs_export.to_csv(rows, cats), "text/csv"  # Flask adds the charset of a text type
    else:
        body = needs_export.to_xlsx(rows, cats)
        mimetype = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    response = Response(body, mimetype=mimetype)
    response.headers["Content-Disposition"] = f"attachment; filename=needs-{stamp}.{fmt}"
    return response


# --- register, edit, status -------------------------------------------------------------------------------------


@bp.route("/new", methods=["GET", "POST"])
@roles_required()
def new():
    session = db_session()
    restored = restored_form()
    form = NeedForm(formdata=restored) if restored is not None else NeedForm()
    cats = fill_choices(form, session)
    if not form.body_code.choices:
        forbidden("ニーズを登録する団体が利用者に設定されていません")
    search, searchable = body_search(), len(form.body_code.choices) > BODY_SEARCH_THRESHOLD
    found = None
    if request.method == "GET" and restored is None:
        wanted = request.args.get("body") or (current_user.body_code if access.is_municipality(current_user) else None)
        if searchable and (search["prefecture"] or search["q"]):
            found = search_bodies(form.body_code.choices, search)
            if len(found) == 1:
                wanted = found[0][0]
            form.body_code.choices = found or form.body_code.choices
        if wanted in dict(form.body_code.choices):
            form.body_code.data = wanted
        if request.args.get("category") in dict(form.category_id.choices):
            form.category_id.data = request.args["category"]
        form.start_year.data = current_fiscal_year() + 1
    elif form.body_code.data and form.body_code.data not in dict(form.body_code.choices):
        forbidden(f"団体コード {form.body_code.data} のニーズの登録")
    if form.validate_on_submit() and "preview" not in request.form:
        body = body_admin.body(session, form.body_code.data)
        try:
            need = transactions.run(session, svc.create_need, current_user, body, form.values())
        except svc.NeedError as e:
            form.category_id.errors.append(str(e))
        else:
            category = svc.category(session, need.category_id)
            flash(f"{body.name}の{category.name if category else need.category_id}のニーズを登録しました", "success")
            return redirect(
                url_for("needs.index", body=body.code if not access.is_municipality(current_user) else None)
            )
    status = 422 if request.method == "POST" and form.errors else 200
    finder = (
        {
            "search": search,
            "found": found,
            "total": len(body_choices(session)) if found is not None else None,
            "prefectures": prefecture_names(session) if access.is_admin(current_user) else {},
        }
        if searchable
        else None
    )
    return render_template(
        "needs/form.html", title="ニーズの登録", finder=finder, **form_context(form, session, cats)
    ), status


def _form_version(raw) -> int:
    """The need version the form was built from; a form without a usable one is malformed (400), never a 500."""
    text = (raw or "").strip()
    if not (text.isascii() and text.isdigit() and len(text) <= 9):
        abort(400, description="フォームにニーズの版（version）がないか、数値ではありません。画面を開き直してください")
    return int(text)


@bp.route("/<int:need_id>/edit", methods=["GET", "POST"])
@roles_required()
def edit(need_id: int):
    session = db_session()
    need, body = load_need(need_id)
    restored = restored_form()
    if restored is not None:
        form = NeedForm(formdata=restored)
    else:
        form = NeedForm(obj=None if request.method == "POST" else need)
    cats = fill_choices(form, session, need)
    form.body_code.data = body.code  # a need stays with its body
    if request.method == "GET" and restored is None:
        form.volume.data = volume_text(need.volume)
        for name in ("baseline_minutes_per_unit", "baseline_hours_per_year"):
            value = getattr(need, name)
            form[name].data = "" if value is None else volume_text(value)
        form.version.data = str(need.version)
    stale = False
    if form.validate_on_submit() and "preview" not in request.form:
        try:
            transactions.run(
                session, svc.update_need, current_user, need, body, form.values(), _form_version(form.version.data)
            )
        except svc.StaleNeed:
            # The rollback expired the need: it is read afresh, with the values and version that won.
            stale = True
            # The next save is a deliberate decision over the current values, so it carries their version.
            form.version.data = str(need.version)
        except svc.NeedError as e:
            form.category_id.errors.append(str(e))
        else:
            flash(f"{body.name}のニーズ {need.id} を更新しました", "success")
            return redirect(
                url_for("needs.index", body=body.code if not access.is_municipality(current_user) else None)
            )
    context = form_context(form, session, cats, need)
    status = 409 if stale else (422 if request.method == "POST" and form.errors else 200)
    return render_template("needs/form.html", title="ニーズの編集", stale=stale, current=need, **context), status


def _change_status(need_id: int, status: str):
    session = db_session()
    need, body = load_need(need_id)
    form = StatusForm()
    if not form.validate_on_submit():
        abort(400, description="フォームの内容を確認できません")
    try:
        transactions.run(session, svc.set_status, current_user, need, body, status, _form_version(form.version.data))
    except svc.NeedError as e:
        flash(str(e), "error")
    else:
        flash(
            f"{body.name}のニーズ {need.id} を" + ("取り下げました" if status == "withdrawn" else "登録中に戻しました"),
            "success",
        )
    next_page = request.form.get("next") or ""
    return redirect(
        next_page if next_page.startswith("/needs") and not next_page.startswith("//") else url_for("needs.index")
    )


@bp.post("/<int:need_id>/withdraw")
@roles_required()
def withdraw(need_id: int):
    return _change_status(need_id, "withdrawn")


@bp.post("/<int:need_id>/restore")
@roles_required()
def restore(need_id: int):
    return _change_status(need_id, "active")


@bp.get("/estimate")
@roles_required()
def estimate():
    """The standalone cost for the values being typed (JSON for static/js/needs-form.js)."""
    session = db_session()
    body = body_admin.body(session, request.args.get("body", ""))
    if body is None:
        return jsonify({"ok": False, "message": "団体を選んでください"}), 400
    if not access.edits_body_row(current_user, body):
        forbidden(f"団体コード {body.code} の試算")
    category = svc.category(session, request.args.get("category", ""))
    if category is None:
        return jsonify({"ok": False, "message": "分野を選んでください"}), 400
    out = {"unit": category.unit, "suggestion": svc.volume_suggestion(category, body)}
    volume = volume_value(request.args.get("volume", ""))
    if volume is None or volume <= 0:
        return jsonify({"ok": False, "message": "利用量を入力すると概算を表示します", **out})
    need = svc.find_need(session, int_arg("need")) if int_arg("need") else None
    previous = need.volume if need is not None and need.body_code == body.code else None  # body checked above
    out["warnings"] = volume_warnings(
        volume, category.unit, previous=previous, population=body.population, per_10k_pop=category.volume_per_10k_pop
    )
    year = int_arg("year", 2026) or 2026
    result = svc.standalone_estimate(session, body, category.id, volume, year)
    if result is None:
        return jsonify({"ok": False, "message": "現行の単価表がないため概算できません", **out})
    baseline = Baseline(*(_optional_positive(request.args.get(k, "")) for k in ("minutes", "hours")))
    effect = _effect_for_form(session, body, category, volume, year, baseline, result)
    return jsonify({"ok": True, **out, **result.as_dict(), "effect": effect})


def _optional_positive(raw: str) -> float | None:
    value = volume_value(raw) if raw.strip() else None
    return value if value is not None and value > 0 else None


# --- import -------------------------------------------------------------------------------------------------------


def _parse(file_name: str, data: bytes):
    session = db_session()
    return parse_needs_file(file_name, data, svc.import_lookups(session, current_user))


@bp.route("/import", methods=["GET", "POST"])
@roles_required()
def import_upload():
    form = ImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        file_name = Path(upload.filename).name[:120]
        try:
            parsed = _parse(file_name, data)
        except FileProblems as e:
            return render_template(
                "needs/import.html", form=form, file_problems=e.messages, field_labels=field_labels(), **year_window()
            ), 422
        session = db_session()
        lines = svc.plan_import(session, parsed)
        changing = any(line.action != "unchanged" for line in lines)
        token = upload_store.save(upload_dir(), current_user.id, file_name, data) if parsed.ok and changing else None
        return render_template("needs/import_preview.html", **preview_context(session, parsed, lines, token)), (
            200 if parsed.ok else 422
        )
    status = 422 if request.method == "POST" else 200
    return render_template(
        "needs/import.html", form=form, file_problems=[], field_labels=field_labels(), **year_window()
    ), status


def year_window() -> dict:
    years = accepted_start_years(current_fiscal_year())
    return {"first_year": year_label(years[0]), "last_year": year_label(years[-1])}


def preview_context(session, parsed, lines, token) -> dict:
    counts = {action: sum(1 for line in lines if line.action == action) for action in ("create", "update", "unchanged")}
    return {
        "parsed": parsed,
        "lines": lines,
        "token": token,
        "counts": counts,
        "warned": sum(1 for line in lines if line.warnings),
        "confirm_form": ConfirmImportForm(token=token) if token else None,
        "bodies": _body_names(session, parsed),
        "categories": {c.id: c for c in svc.categories(session)},
        "by_row": parsed.problems_by_row(),
    }


def _body_names(session, parsed) -> dict[str, str]:
    return body_admin.body_names(session, {r.body_code for r in parsed.rows})


@bp.post("/import/confirm")
@roles_required()
def import_confirm():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, description="フォームの内容を確認できません")
    # Single use: a double click or a replayed form cannot import the same file twice.
    stored = upload_store.claim(upload_dir(), form.token.data, current_user.id)
    if stored is None:
        flash(
            "この取込は既に確定されたか、確認期限が切れたか、ファイルが見つかりません。"
            "一覧で結果を確認し、必要ならもう一度ファイルを選んでください",
            "error",
        )
        return redirect(url_for("needs.import_upload"))
    session = db_session()
    try:
        parsed = _parse(stored.file_name, stored.data)
    except FileProblems as e:
        flash("ファイルを読めません: " + "／".join(e.messages[:3]), "error")
        return redirect(url_for("needs.import_upload"))
    if not parsed.ok:
        # The database changed since the preview (or the user's scope did): show the problems again.
        return render_template(
            "needs/import_preview.html", **preview_context(session, parsed, svc.plan_import(session, parsed), None)
        ), 422
    try:
        result = transactions.run(session, svc.import_needs, current_user, parsed, source=stored.file_name)
    except svc.NeedError as e:
        flash(f"取り込めませんでした（何も登録していません）: {e}", "error")
        return redirect(url_for("needs.import_upload"))
    upload_store.discard(upload_dir(), stored.token)
    flash(
        f"{stored.file_name} を取り込みました：新規 {result.created} 件、更新 {result.updated} 件、"
        f"変更なし {result.unchanged} 件",
        "success",
    )
    return redirect(url_for("needs.index"))


@bp.get("/import/template.csv")
@roles_required()
def import_template():
    """A sample file with the headers (and one example row for the user's own body where there is one)."""
    session = db_session()
    cats = svc.categories(session)
    bodies = svc.editable_bodies(session, current_user)
    body = next((b for b in bodies if b.code == current_user.body_code), bodies[0] if bodies else None)
    row = [ROW_LABELS[k] for k in ("body_code", "body_name", "category_id")]
    lines = [",".join(row + [heading(k) for k in TEMPLATE_FIELDS])]
    if body is not None and cats:
        lines.append(
            f"{body.code},{csv_text(body.name)},{cats[0].id},100,"
            f"{wareki_fiscal_year(current_fiscal_year() + 1)},○,○,×,,,"
        )
    response = Response(("\r\n".join(lines) + "\r\n").encode("utf-8-sig"), mimetype="text/csv")
    response.headers["Content-Disposition"] = "attachment; filename=needs-template.csv"
    return response
