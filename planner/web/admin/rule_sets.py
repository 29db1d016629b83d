"""Administration: subsidy-rule versions (each change a new, audited version; plans keep theirs)."""

from __future__ import annotations

import copy
import json
import re
from urllib.parse import quote

from flask import Response, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.db.models import SubsidyRuleSet
from planner.domain.vocabulary import MODE_LABELS
from planner.services import access, transactions
from planner.services import reference_admin as refadmin
from planner.services.audit_log import user_names
from planner.services.json_input import JsonInputError, load_json
from planner.services.problems import Problem
from planner.services.reference_data import ReferenceDataError, current_subsidy_rule_set
from planner.web.db import db_session
from planner.web.forms import rule_terms
from planner.web.forms.admin import RuleImportForm
from planner.web.security import roles_required

from .common import bp, get_or_404, make_current


@bp.get("/rules")
@roles_required(access.ADMIN)
def rule_sets():
    return _rule_sets_page(db_session(), import_form=RuleImportForm(formdata=None))


def _rule_sets_page(session, *, import_form, import_problems: list[str] | None = None) -> str:
    rows = refadmin.rule_sets(session)
    return render_template(
        "admin/rule_sets.html",
        rule_sets=rows,
        names=user_names(session, [r.created_by for r in rows]),
        action_form=FlaskForm(formdata=None),
        corrections={r.id: refadmin.find_correction_table(r.data or {}).rows is not None for r in rows},
        import_form=import_form,
        import_problems=import_problems or [],
    )


MAX_RULES_BYTES = 1_000_000  # a rule set is a few KB; anything near this is not one


@bp.get("/rules/<int:rule_set_id>")
@roles_required(access.ADMIN)
def rule_set(rule_set_id: int):
    rs = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    doc = rs.data or {}
    return render_template(
        "admin/rule_set.html",
        rs=rs,
        correction=refadmin.find_correction_table(doc),
        sources=refadmin.source_titles(doc),
        figures=refadmin.cited_figures(doc),
        source_numbers={k: i for i, k in enumerate(refadmin.source_titles(doc), start=1)},
        text=json.dumps(doc, ensure_ascii=False, indent=2),
        action_form=FlaskForm(formdata=None),
        show_value=_show_value,
    )


def _show_value(value) -> str:
    if value is None:
        return "—（未設定）"
    if isinstance(value, bool):
        return "はい" if value else "いいえ"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, dict):
        return "、".join(f"{k}: {_show_value(v)}" for k, v in value.items()) or "—（なし）"
    if isinstance(value, list):
        return "、".join(_show_value(v) for v in value) or "—（なし）"
    return str(value)


def _categories(session) -> list[tuple[str, str]]:
    """(id, name) of the current price book's categories: the rows of a measure's rates on the form."""
    from planner.services.reference_data import current_price_book, price_book_document

    book = current_price_book(session)
    if book is None:
        return []
    return [(str(c["id"]), str(c.get("name") or c["id"])) for c in price_book_document(session, book)["categories"]]


def _correction_rows(form) -> tuple[list | None, list, list[str]]:
    """(table rows or None when unset, the form rows behind them, problems for above the form) from the table's
    inputs; input problems are added to the inputs."""
    if not form.correction_set.data:
        return None, [], []
    rows: list = []
    row_entries: list = []  # the form rows behind the table's rows (blank form rows are skipped)
    for entry in form.correction.entries:
        f = entry.form
        if f.lower.data is None and f.upper.data is None and f.coefficient.data is None:
            continue
        if f.coefficient.data is None:
            f.coefficient.errors = [*f.coefficient.errors, "係数を入力してください"]
            continue
        # 財政力指数 is never negative: an open lower end is 0.
        rows.append(
            refadmin.CorrectionRow(f.lower.data if f.lower.data is not None else 0.0, f.upper.data, f.coefficient.data)
        )
        row_entries.append(f)
    if not rows and not any(e.form.coefficient.errors for e in form.correction.entries):
        form.correction_set.errors = [
            *form.correction_set.errors,
            "表を設定するときは少なくとも1行入力してください（未設定にするならチェックを外します）",
        ]
        return rows, row_entries, []
    return rows, row_entries, refadmin.correction_problems(rows)


@bp.route("/rules/<int:rule_set_id>/edit", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def rule_set_edit(rule_set_id: int):
    """A new version from a form with one block per term (value, the source's wording, its sources)."""
    session = db_session()
    base = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    doc = copy.deepcopy(base.data or {})
    table = refadmin.find_correction_table(doc)
    categories = _categories(session)
    general: list[str] = []
    if request.method == "GET":
        data = rule_terms.form_data(doc, categories)
        data.update(
            version=f"{base.version}-改"[:40], fiscal_year=base.fiscal_year, correction_set=table.rows is not None
        )
        data["correction"] = [
            {"lower": r.lower, "upper": r.upper, "coefficient": r.coefficient} for r in table.rows or []
        ]
        form = rule_terms.rule_terms_form(doc, categories, data=data)
    else:
        form = rule_terms.rule_terms_form(doc, categories)
    if form.is_submitted():
        # every input is read even when some fail their own checks, so one post shows every problem
        form.validate()
        rows, row_entries, table_problems = _correction_rows(form)
        general.extend(table_problems)
        new_doc = rule_terms.document_from_form(form, doc)
        if not rule_terms.has_errors(form) and not general:
            new_doc = refadmin.with_correction_table(new_doc, table, rows)
            try:
                new = transactions.run(
                    session,
                    refadmin.create_rule_set_version,
                    base,
                    new_doc,
                    current_user.id,
                    make_current=form.make_current.data,
                )
            except ReferenceDataError as e:
                for p in e.problems:
                    if _place_correction_problem(p, table, row_entries):
                        continue
                    if not rule_terms.place_problem(form, getattr(p, "field", None), getattr(p, "message", str(p))):
                        general.append(p)
            else:
                flash(
                    f"補助制度ルールの新しい版 {new.version} を作成しました"
                    + ("（現行にしました）" if new.is_current else ""),
                    "success",
                )
                return redirect(url_for("admin.rule_set", rule_set_id=new.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/rule_set_edit.html",
        base=base,
        form=form,
        general=general,
        errors=rule_terms.error_list(form),
        measures=rule_terms.measures_of(doc),
        mode_labels=MODE_LABELS,
        cap_kinds=rule_terms.CAP_KINDS,
    ), status


_TABLE_ROW_FIELD = re.compile(r"^(?P<table>[\w.]+)\[(?P<index>\d+)\]\.(?P<key>\w+)$")


def _place_correction_problem(problem: Problem, table: refadmin.CorrectionTable, row_entries: list) -> bool:
    """A problem about row i of the correction table (field fiscal_correction.table[i].min_index) goes under that
    row's input; True when placed."""
    m = _TABLE_ROW_FIELD.match(problem.field or "")
    if not m or ".".join(table.path) not in m.group("table"):
        return False
    index, key = int(m.group("index")), m.group("key")
    if index >= len(row_entries) or key not in table.row_keys:
        return False
    field = getattr(row_entries[index], ("lower", "upper", "coefficient")[table.row_keys.index(key)])
    field.errors = [*field.errors, problem.message]
    return True


@bp.post("/rules/<int:rule_set_id>/current")
@roles_required(access.ADMIN)
def rule_set_current(rule_set_id: int):
    rs = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    return make_current(
        rs, refadmin.make_rule_set_current, f"補助制度ルール {rs.version} を現行にしました", "admin.rule_sets"
    )


@bp.get("/rules/<int:rule_set_id>/export")
@roles_required(access.ADMIN)
def rule_set_export(rule_set_id: int):
    """The version's whole document as a JSON file (to keep, compare, or edit and import as a new version)."""
    rs = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    body = json.dumps(rs.data or {}, ensure_ascii=False, indent=2) + "\n"
    response = Response(body, mimetype="application/json")
    # RFC 5987: a version name may be Japanese (R2-budget-1-改); the plain name is the ASCII fallback
    name = quote(f"subsidy-rules_{rs.version}.json")
    response.headers["Content-Disposition"] = f"attachment; filename=subsidy-rules.json; filename*=UTF-8''{name}"
    return response


@bp.post("/rules/import")
@roles_required(access.ADMIN)
def rule_set_import():
    """A new version from a JSON file: checked like the form (every problem with its path), all or nothing."""
    session = db_session()
    form = RuleImportForm()
    problems: list[str] = []
    if not form.validate_on_submit():
        problems = [f"{form[name].label.text}：{e}" for name, errs in form.errors.items() for e in errs]
    else:
        raw = form.file.data.read(MAX_RULES_BYTES + 1)
        doc = None
        if len(raw) > MAX_RULES_BYTES:
            problems.append(f"ファイルが大きすぎます（{MAX_RULES_BYTES // 1000:,} KB まで）")
        else:
            try:
                doc = load_json(raw.decode("utf-8-sig"), form.file.data.filename or "JSON ファイル")
            except UnicodeDecodeError:
                problems.append("ファイルを UTF-8 の文字として読めません（書き出した JSON をそのまま使ってください）")
            except JsonInputError as e:
                problems.append(str(e))
        if doc is not None:
            base = current_subsidy_rule_set(session)
            try:
                new = transactions.run(
                    session,
                    refadmin.create_rule_set_version,
                    base,
                    doc,
                    current_user.id,
                    make_current=form.make_current.data,
                    detail=f"JSON ファイル {form.file.data.filename} から取り込み",
                )
            except ReferenceDataError as e:
                problems = list(e.problems)
            else:
                flash(
                    f"補助制度ルールの版 {new.version} を取り込みました"
                    + ("（現行にしました）" if new.is_current else ""),
                    "success",
                )
                return redirect(url_for("admin.rule_set", rule_set_id=new.id))
    return _rule_sets_page(session, import_form=form, import_problems=problems), 400
