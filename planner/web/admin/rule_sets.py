"""Administration: subsidy-rule versions (each change a new, audited version; plans keep theirs)."""

from __future__ import annotations

import copy
import json
import re

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from sqlmodel import select

from planner.db.models import SubsidyRuleSet
from planner.services import reference_admin as refadmin
from planner.services.audit_log import user_names
from planner.services.problems import Problem
from planner.services.reference_data import ReferenceDataError
from planner.web.db import db_session
from planner.web.forms.admin import RuleSetForm
from planner.web.security import roles_required

from .common import bp, get_or_404, make_current


@bp.get("/rules")
@roles_required("admin")
def rule_sets():
    session = db_session()
    rows = list(
        session.exec(select(SubsidyRuleSet).order_by(SubsidyRuleSet.fiscal_year.desc(), SubsidyRuleSet.id.desc()))
    )
    return render_template(
        "admin/rule_sets.html",
        rule_sets=rows,
        names=user_names(session, [r.created_by for r in rows]),
        action_form=FlaskForm(formdata=None),
        corrections={r.id: refadmin.find_correction_table(r.data or {}).rows is not None for r in rows},
    )


@bp.get("/rules/<int:rule_set_id>")
@roles_required("admin")
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
    base = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    doc = base.data or {}
    table = refadmin.find_correction_table(doc)
    form = RuleSetForm()
    general: list[str] = []
    if request.method == "GET":
        form.version.data = f"{base.version}-改"[:40]
        form.fiscal_year.data = base.fiscal_year
        form.correction_set.data = table.rows is not None
        # the form always offers at least eight rows, blank ones below the table's own
        for entry, row in zip(form.correction.entries, table.rows or [], strict=False):
            entry.form.lower.data, entry.form.upper.data, entry.form.coefficient.data = (
                row.lower,
                row.upper,
                row.coefficient,
            )
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
                    f.coefficient.errors = [*f.coefficient.errors, "係数を入力してください"]
                    continue
                # 財政力指数 is never negative: an open lower end is 0.
                rows.append(
                    refadmin.CorrectionRow(
                        f.lower.data if f.lower.data is not None else 0.0, f.upper.data, f.coefficient.data
                    )
                )
                row_entries.append(f)
            if not rows and not any(e.form.coefficient.errors for e in form.correction.entries):
                form.correction_set.errors = [
                    *form.correction_set.errors,
                    "表を設定するときは少なくとも1行入力してください（未設定にするならチェックを外します）",
                ]
            else:
                general.extend(refadmin.correction_problems(rows))
        has_field_errors = bool(form.correction_set.errors) or any(
            e.form.coefficient.errors for e in form.correction.entries
        )
        if not has_field_errors and not general:
            new_doc = dict(form.body.parsed)
            new_doc["version"] = form.version.data.strip()
            new_doc["fiscal_year"] = form.fiscal_year.data
            new_doc = refadmin.with_correction_table(new_doc, table, rows)
            try:
                new = refadmin.create_rule_set_version(
                    session, base, new_doc, current_user.id, make_current=form.make_current.data
                )
            except ReferenceDataError as e:
                session.rollback()
                for p in e.problems:
                    if p.field in ("version", "fiscal_year"):
                        target = getattr(form, p.field)
                        target.errors = [*target.errors, p.message]
                    elif not _place_correction_problem(p, table, row_entries):
                        general.append(p)
            else:
                session.commit()
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
@roles_required("admin")
def rule_set_current(rule_set_id: int):
    rs = get_or_404(SubsidyRuleSet, rule_set_id, "補助制度ルール")
    return make_current(
        rs, refadmin.make_rule_set_current, f"補助制度ルール {rs.version} を現行にしました", "admin.rule_sets"
    )
