"""Administration: users, MIC's official data, price-book and subsidy-rule versions, and the audit log.

Everything here is for administrators, except the audit log, which prefecture coordinators may read for their own
prefecture's bodies. Reference data is never edited in place: each change is a new version, audited, and plans
keep the version they were solved with.
"""
from __future__ import annotations

import copy
import json
import re
from datetime import date

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import select
from wtforms import FormField

from planner.db.models import DataVintage, PriceBook, SubsidyRuleSet, User
from planner.domain.model import JOINT_MODES, MODES
from planner.importers.errors import FileProblems
from planner.services import body_admin
from planner.services import reference_admin as refadmin
from planner.services import user_admin
from planner.services.audit import ACTION_LABELS, ENTITY_LABELS
from planner.services.audit_log import AuditFilter, diff_rows, list_entries, user_names
from planner.services.bodies import import_official_files, latest_vintages
from planner.services.reference_data import (PRICE_FIELDS, ReferenceDataError, create_price_book_version,
                                             current_price_book, current_subsidy_rule_set, price_book_document)
from planner.services.users import ROLE_LABELS, UserError, create_user, generate_password
from planner.web.db import db_session
from planner.web.forms.admin import (OfficialUploadForm, PasswordResetForm, PriceBookMetaForm,
                                     RuleSetForm, UserEditForm, UserForm, format_lines, price_entry_form_class)
from planner.web.security import LoginUser, roles_required, scope_prefecture, start_session

bp = Blueprint("admin", __name__, url_prefix="/admin")

MODE_LABELS = {"standalone": "単独", "lead": "幹事方式", "unified": "仕様統一方式"}
AUDIT_PER_PAGE = 50


def _int_arg(name: str, default: int = 1) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def _get_or_404(model, key, what: str):
    row = db_session().get(model, key)
    if row is None:
        abort(404, description=f"{what} {key} はありません")
    return row


@bp.get("/")
@roles_required("admin")
def index():
    session = db_session()
    users = user_admin.list_users(session)
    return render_template("admin/index.html", users=users, vintages=latest_vintages(session),
                           price_book=current_price_book(session), rule_set=current_subsidy_rule_set(session),
                           dataset_labels=body_admin.DATASET_LABELS)


# --- users ----------------------------------------------------------------------------------------------------

def _prefecture_choices(form) -> None:
    form.prefecture_code.choices = [("", "（選ばない）")] + [
        (p.prefecture_code, f"{p.prefecture_code} {p.name}") for p in body_admin.prefectures(db_session())]


def _scope_error(form, error: UserError) -> None:
    """Show a service error under the input it is about."""
    message = str(error)
    field = getattr(error, "field", None)
    if field is None:
        if "パスワード" in message:
            field = "password"
        elif "ログイン名" in message:
            field = "username"
        else:
            field = "role"
    target = getattr(form, field, None) or form.role
    target.errors = list(target.errors) + [message]


@bp.get("/users")
@roles_required("admin")
def users():
    session = db_session()
    pref_names = {p.prefecture_code: p.name for p in body_admin.prefectures(session)}
    return render_template("admin/users.html", users=user_admin.list_users(session), role_labels=ROLE_LABELS,
                           pref_names=pref_names)


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required("admin")
def user_new():
    session = db_session()
    form = UserForm()
    _prefecture_choices(form)
    if form.validate_on_submit():
        password = form.password.data or generate_password()
        try:
            pref, body = user_admin.resolve_scope(session, form.role.data, form.prefecture_code.data or None,
                                                  form.body_code.data or None)
            user = create_user(session, form.username.data, password, form.role.data, body_code=body,
                               prefecture_code=pref if form.role.data == "prefecture" else None,
                               display_name=(form.display_name.data or "").strip(), created_by=current_user.id)
        except UserError as e:
            session.rollback()
            _scope_error(form, e)
        else:
            session.commit()
            flash(f"利用者 {user.username} を作成しました", "success")
            return render_template("admin/password_shown.html", user=user, password=password,
                                   generated=not form.password.data)
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required("admin")
def user_edit(user_id: int):
    session = db_session()
    user = _get_or_404(User, user_id, "利用者")
    form = UserEditForm(obj=user if request.method == "GET" else None)
    _prefecture_choices(form)
    if request.method == "GET":
        form.prefecture_code.data = user.prefecture_code if user.role == "prefecture" else ""
        form.body_code.data = user.body_code or ""
    if form.validate_on_submit():
        try:
            changed = user_admin.update_user(session, user, display_name=form.display_name.data or "",
                                             role=form.role.data, prefecture_code=form.prefecture_code.data or None,
                                             body_code=form.body_code.data or None, changed_by=current_user.id)
        except UserError as e:
            session.rollback()
            _scope_error(form, e)
        else:
            session.commit()
            flash(f"利用者 {user.username} を更新しました" if changed else "変更はありませんでした",
                  "success" if changed else "info")
            return redirect(url_for("admin.users"))
    return render_template("admin/user_form.html", form=form, user=user, reset_form=PasswordResetForm(formdata=None),
                           action_form=FlaskForm(formdata=None))


@bp.post("/users/<int:user_id>/active")
@roles_required("admin")
def user_active(user_id: int):
    session = db_session()
    user = _get_or_404(User, user_id, "利用者")
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        user_admin.set_active(session, user, active, current_user.id)
    except UserError as e:
        session.rollback()
        flash(str(e), "error")
    else:
        session.commit()
        flash(f"利用者 {user.username} を{'有効' if active else '無効'}にしました", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@roles_required("admin")
def user_password(user_id: int):
    session = db_session()
    user = _get_or_404(User, user_id, "利用者")
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            password = user_admin.reset_password(session, user, current_user.id, form.password.data or None)
        except UserError as e:
            session.rollback()
            form.password.errors.append(str(e))
        else:
            session.commit()
            if user.id == current_user.id:  # the reset ended this very session too: keep the administrator in
                start_session(LoginUser.from_row(user))
            return render_template("admin/password_shown.html", user=user, password=password,
                                   generated=not form.password.data)
    edit = UserEditForm(obj=user)
    _prefecture_choices(edit)
    edit.prefecture_code.data = user.prefecture_code or ""
    return render_template("admin/user_form.html", form=edit, user=user, reset_form=form,
                           action_form=FlaskForm(formdata=None)), 400


# --- official data --------------------------------------------------------------------------------------------

@bp.route("/data", methods=["GET", "POST"])
@roles_required("admin")
def data():
    session = db_session()
    form = OfficialUploadForm()
    problems = None
    report = None
    status = 200
    if form.validate_on_submit():
        files = [(f.filename.rsplit("/", 1)[-1], f.read()) for f in form.files.data or [] if f and f.filename]
        try:
            report = import_official_files(session, files, user_id=current_user.id)
        except FileProblems as e:
            session.rollback()
            problems = e.problems
            status = 422
        else:
            session.commit()
            flash("公的データを取り込みました", "success")
    elif request.method == "POST":
        status = 422  # no file, or a name that is not .xlsx: the upload has problems, as above
    history = list(session.exec(select(DataVintage).order_by(DataVintage.imported_at.desc(),
                                                              DataVintage.id.desc()).limit(30)))
    return render_template("admin/data.html", form=form, problems=problems, report=report,
                           latest=latest_vintages(session), history=history,
                           names=user_names(session, [v.imported_by for v in history]),
                           dataset_labels=body_admin.DATASET_LABELS), status


# --- price book -----------------------------------------------------------------------------------------------

@bp.get("/price-books")
@roles_required("admin")
def price_books():
    session = db_session()
    books = list(session.exec(select(PriceBook).order_by(PriceBook.created_at.desc(), PriceBook.id.desc())))
    return render_template("admin/price_books.html", books=books, names=user_names(session, [b.created_by for b in books]),
                           action_form=FlaskForm(formdata=None))


@bp.get("/price-books/<int:book_id>")
@roles_required("admin")
def price_book(book_id: int):
    session = db_session()
    book = _get_or_404(PriceBook, book_id, "単価表")
    doc = price_book_document(session, book)
    return render_template("admin/price_book.html", book=book, doc=doc, modes=MODES, mode_labels=MODE_LABELS,
                           price_fields=PRICE_FIELDS, action_form=FlaskForm(formdata=None))


def _price_form(doc: dict, formdata=None):
    """A form with one sub-form per category × mode, named by position so any category id is safe."""
    attrs = {}
    keys = {}
    for i, cat in enumerate(doc["categories"]):
        for mode in MODES:
            name = f"c{i}_{mode}"
            attrs[name] = FormField(price_entry_form_class(mode in JOINT_MODES),
                                    label=f"{cat.get('name', cat['id'])}・{MODE_LABELS[mode]}")
            keys[name] = (cat["id"], mode)
    form_class = type("PriceBookForm", (PriceBookMetaForm,), attrs)
    form = form_class(formdata=formdata)
    if formdata is None:
        for name, (cid, mode) in keys.items():
            entry = next(c for c in doc["categories"] if c["id"] == cid)[mode]
            sub = getattr(form, name)
            for f in PRICE_FIELDS:
                getattr(sub, f).data = entry.get(f, 0)
            sub.lines.data = format_lines(entry.get("lines"))
            if mode in JOINT_MODES:
                sub.max_members.data = entry.get("max_members")
    return form, keys


@bp.route("/price-books/<int:book_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def price_book_edit(book_id: int):
    session = db_session()
    book = _get_or_404(PriceBook, book_id, "単価表")
    doc = price_book_document(session, book)
    form, keys = _price_form(doc, formdata=request.form if request.method == "POST" else None)
    if request.method == "GET":
        form.label.data, form.source.data = book.label, book.source
    general = []
    if request.method == "POST" and form.validate():
        edited: dict = {}
        for name, (cid, mode) in keys.items():
            sub = getattr(form, name)
            values = {f: getattr(sub, f).data for f in PRICE_FIELDS}
            values["lines"] = sub.lines.parsed
            if mode in JOINT_MODES:
                values["max_members"] = sub.max_members.data
            edited.setdefault(cid, {})[mode] = values
        changes = refadmin.price_changes(doc, edited)
        try:
            new = create_price_book_version(
                session, book.version, changes, current_user.id, version=(form.version.data or "").strip() or None,
                label=form.label.data, source=form.source.data or "", note=form.note.data or None,
                make_current=form.make_current.data)
        except ReferenceDataError as e:
            session.rollback()
            general = _place_price_problems(form, keys, e.problems)
        else:
            session.commit()
            flash(f"単価表の新しい版 {new.version} を作成しました" + ("（現行にしました）" if new.is_current else ""),
                  "success")
            return redirect(url_for("admin.price_book", book_id=new.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/price_book_edit.html", book=book, doc=doc, form=form, keys=keys, modes=MODES,
                           mode_labels=MODE_LABELS, price_fields=PRICE_FIELDS, general=general), status


def _place_price_problems(form, keys: dict, problems: list[str]) -> list[str]:
    """Messages of the form 'category.mode.field: ...' go under their field; the rest above the form."""
    by_key = {v: k for k, v in keys.items()}
    general = []
    for p in problems:
        head, _, rest = p.partition(":")
        parts = head.strip().split(".")
        if len(parts) == 3 and (parts[0], parts[1]) in by_key:
            sub = getattr(form, by_key[(parts[0], parts[1])])
            if parts[2] in sub._fields:
                sub[parts[2]].errors = list(sub[parts[2]].errors) + [rest.strip()]
                continue
        if "版" in p and "既に" in p:
            form.version.errors = list(form.version.errors) + [p]
            continue
        general.append(p)
    return general


@bp.post("/price-books/<int:book_id>/current")
@roles_required("admin")
def price_book_current(book_id: int):
    session = db_session()
    book = _get_or_404(PriceBook, book_id, "単価表")
    if not FlaskForm().validate_on_submit():
        abort(400)
    if refadmin.make_price_book_current(session, book, current_user.id):
        session.commit()
        flash(f"単価表 {book.version} を現行にしました。これから作る計画はこの版を使います", "success")
    return redirect(url_for("admin.price_books"))


# --- subsidy rule sets ----------------------------------------------------------------------------------------

@bp.get("/rules")
@roles_required("admin")
def rule_sets():
    session = db_session()
    rows = list(session.exec(select(SubsidyRuleSet).order_by(SubsidyRuleSet.fiscal_year.desc(),
                                                             SubsidyRuleSet.id.desc())))
    return render_template("admin/rule_sets.html", rule_sets=rows, names=user_names(session, [r.created_by for r in rows]),
                           action_form=FlaskForm(formdata=None),
                           corrections={r.id: refadmin.find_correction_table(r.data or {}).rows is not None
                                        for r in rows})


@bp.get("/rules/<int:rule_set_id>")
@roles_required("admin")
def rule_set(rule_set_id: int):
    rs = _get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    doc = rs.data or {}
    return render_template("admin/rule_set.html", rs=rs, correction=refadmin.find_correction_table(doc),
                           sources=refadmin.source_titles(doc), figures=refadmin.cited_figures(doc),
                           source_numbers={k: i for i, k in enumerate(refadmin.source_titles(doc), start=1)},
                           text=json.dumps(doc, ensure_ascii=False, indent=2), action_form=FlaskForm(formdata=None),
                           validator=refadmin.rules_validator_available(), show_value=_show_value)


def _show_value(value) -> str:
    if value is None:
        return "—（未設定）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, (dict, list)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _rest_of_rules(doc: dict, table: refadmin.CorrectionTable) -> dict:
    """The document without version, fiscal year and the correction rows (those have their own fields)."""
    rest = copy.deepcopy(doc)
    rest.pop("version", None)
    rest.pop("fiscal_year", None)
    target = rest
    for key in table.path[:-1]:
        target = target.get(key, {}) if isinstance(target, dict) else {}
    if not isinstance(target, dict):
        return rest
    if table.container_key and isinstance(target.get(table.path[-1]), dict):
        target[table.path[-1]].pop(table.container_key, None)
    else:
        target.pop(table.path[-1], None)
    return rest


@bp.route("/rules/<int:rule_set_id>/edit", methods=["GET", "POST"])
@roles_required("admin")
def rule_set_edit(rule_set_id: int):
    session = db_session()
    base = _get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    doc = base.data or {}
    table = refadmin.find_correction_table(doc)
    form = RuleSetForm()
    general: list[str] = []
    if request.method == "GET":
        form.version.data = f"{base.version}-改"[:40]
        form.fiscal_year.data = base.fiscal_year
        form.correction_set.data = table.rows is not None
        for entry, row in zip(form.correction.entries, table.rows or []):
            entry.form.lower.data, entry.form.upper.data, entry.form.coefficient.data = \
                row.lower, row.upper, row.coefficient
        form.body.data = json.dumps(_rest_of_rules(doc, table), ensure_ascii=False, indent=2)
    if form.validate_on_submit():
        rows = None
        row_entries: list = []  # the form rows behind the table's rows (blank form rows are skipped)
        if form.correction_set.data:
            rows = []
            for entry in form.correction.entries:
                f = entry.form
                if f.lower.data is None and f.upper.data is None and f.coefficient.data is None:
                    continue
                if f.coefficient.data is None:
                    f.coefficient.errors = list(f.coefficient.errors) + ["係数を入力してください"]
                    continue
                # 財政力指数 is never negative: an open lower end is 0.
                rows.append(refadmin.CorrectionRow(f.lower.data if f.lower.data is not None else 0.0, f.upper.data,
                                                   f.coefficient.data))
                row_entries.append(f)
            if not rows and not any(e.form.coefficient.errors for e in form.correction.entries):
                form.correction_set.errors = list(form.correction_set.errors) + [
                    "表を設定するときは少なくとも1行入力してください（未設定にするならチェックを外します）"]
            else:
                general.extend(refadmin.correction_problems(rows))
        has_field_errors = bool(form.correction_set.errors) or any(
            e.form.coefficient.errors for e in form.correction.entries)
        if not has_field_errors and not general:
            new_doc = dict(form.body.parsed)
            new_doc["version"] = form.version.data.strip()
            new_doc["fiscal_year"] = form.fiscal_year.data
            new_doc = refadmin.with_correction_table(new_doc, table, rows)
            try:
                new = refadmin.create_rule_set_version(session, base, new_doc, current_user.id,
                                                       make_current=form.make_current.data)
            except ReferenceDataError as e:
                session.rollback()
                for p in e.problems:
                    if p.startswith("version:"):
                        form.version.errors = list(form.version.errors) + [p.partition(":")[2].strip()]
                    elif p.startswith("fiscal_year:"):
                        form.fiscal_year.errors = list(form.fiscal_year.errors) + [p.partition(":")[2].strip()]
                    elif not _place_correction_problem(p, table, row_entries):
                        general.append(p)
            else:
                session.commit()
                flash(f"補助制度ルールの新しい版 {new.version} を作成しました" +
                      ("（現行にしました）" if new.is_current else ""), "success")
                return redirect(url_for("admin.rule_set", rule_set_id=new.id))
    status = 400 if request.method == "POST" else 200
    return render_template("admin/rule_set_edit.html", base=base, form=form, general=general,
                           validator=refadmin.rules_validator_available()), status


_TABLE_PROBLEM = re.compile(r"^\S*\[(\d+)\]\.(\w+):\s*(.+)$")


def _place_correction_problem(problem: str, table: refadmin.CorrectionTable, row_entries: list) -> bool:
    """'fiscal_correction.table[1].min_index: ...' goes under that row's input; True when placed."""
    m = _TABLE_PROBLEM.match(problem)
    if not m or ".".join(table.path) not in problem.split("[", 1)[0]:
        return False
    index, key, message = int(m.group(1)), m.group(2), m.group(3)
    if index >= len(row_entries) or key not in table.row_keys:
        return False
    field = getattr(row_entries[index], ("lower", "upper", "coefficient")[table.row_keys.index(key)])
    field.errors = list(field.errors) + [message]
    return True


@bp.post("/rules/<int:rule_set_id>/current")
@roles_required("admin")
def rule_set_current(rule_set_id: int):
    session = db_session()
    rs = _get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    if not FlaskForm().validate_on_submit():
        abort(400)
    if refadmin.make_rule_set_current(session, rs, current_user.id):
        session.commit()
        flash(f"補助制度ルール {rs.version} を現行にしました", "success")
    return redirect(url_for("admin.rule_sets"))


# --- audit log ------------------------------------------------------------------------------------------------

def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/audit")
@roles_required("admin", "prefecture")
def audit_log():
    session = db_session()
    pref = scope_prefecture(current_user)
    entity = request.args.get("entity") or None
    action = request.args.get("action") or None
    try:
        user_id = int(request.args["user"]) if request.args.get("user") else None
    except ValueError:
        user_id = None
    filters = AuditFilter(entity=entity if entity in ENTITY_LABELS else None,
                          action=action if action in ACTION_LABELS else None, user_id=user_id,
                          date_from=_date_arg("from"), date_to=_date_arg("to"),
                          body_code=(request.args.get("body") or "").strip() or None,
                          entity_id=(request.args.get("id") or "").strip()[:60] or None)
    page = _int_arg("page")
    rows, total = list_entries(session, prefecture_code=pref, filters=filters, page=page, per_page=AUDIT_PER_PAGE)
    # The user filter lists only the people a coordinator may already see in the log.
    user_query = select(User).order_by(User.username)
    if pref:
        user_query = user_query.where(User.prefecture_code == pref)
    return render_template("admin/audit.html", entries=rows, total=total, page=page,
                           pages=max(1, -(-total // AUDIT_PER_PAGE)), filters=filters,
                           names=user_names(session, [r.user_id for r in rows]), users=session.exec(user_query).all(),
                           action_labels=ACTION_LABELS, entity_labels=ENTITY_LABELS, diff_rows=diff_rows,
                           date_from=request.args.get("from", ""), date_to=request.args.get("to", ""))


from . import admin_effects  # noqa: E402,F401  (the effect model's pages, on this blueprint)
