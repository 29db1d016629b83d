"""Administration: the effect model (導入効果の見込みモデル): its versions, one version's figures with the cases
they rest on, a new version from an edited copy, and which version is current.

Like the price book and the subsidy rules, a version is never edited in place; plans keep the version their
estimates were made with."""

from __future__ import annotations

import copy
import json

from flask import abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.db.models import EffectModelVersion
from planner.domain.effects import LEVELS, EffectModelError, parse_effect_model
from planner.importers.needs import volume_value
from planner.services import access, effect_models, transactions
from planner.services.audit_log import user_names
from planner.services.json_input import JsonInputError, load_json
from planner.services.reference_data import ReferenceDataError
from planner.web.db import db_session
from planner.web.security import roles_required

from .common import bp, get_or_404, make_current

LEVEL_LABELS = {"low": "低位", "central": "中位", "high": "高位"}
FIGURES = (("minutes_per_unit", "1単位あたりの作業時間（分）", 1), ("reduction_rate", "削減率（%）", 100))


def _row_or_404(model_id: int) -> EffectModelVersion:
    return get_or_404(EffectModelVersion, model_id, "導入効果モデル")


@bp.get("/effects")
@roles_required(access.ADMIN)
def effect_models_page():
    session = db_session()
    rows = effect_models.effect_model_versions(session)
    return render_template(
        "admin/effect_models.html",
        rows=rows,
        action_form=FlaskForm(formdata=None),
        names=user_names(session, [r.created_by for r in rows]),
    )


@bp.get("/effects/<int:model_id>")
@roles_required(access.ADMIN)
def effect_model(model_id: int):
    row = _row_or_404(model_id)
    try:
        model = parse_effect_model(row.data)
        problems: list[str] = []
    except EffectModelError as e:
        model, problems = None, e.problems
    return render_template(
        "admin/effect_model.html",
        row=row,
        model=model,
        problems=problems,
        levels=LEVELS,
        level_labels=LEVEL_LABELS,
        action_form=FlaskForm(formdata=None),
    )


def _edited_document(base: dict, form) -> tuple[dict, list[str]]:
    """The base document with the form's figures, caveat and cases; problems of values that are not numbers."""
    doc = copy.deepcopy(base)
    problems: list[str] = []
    doc["version"] = (form.get("version") or "").strip()
    doc["caveat"] = (form.get("caveat") or "").strip()
    raw_cases = form.get("cases") or ""
    try:
        doc["cases"] = load_json(raw_cases, "cases")
    except JsonInputError as e:
        problems.append(str(e))
    for cid, rec in (doc.get("categories") or {}).items():
        for key, _label, scale in FIGURES:
            spread = rec.get(key) if isinstance(rec, dict) else None
            if not isinstance(spread, dict) or "from_cases" in spread:  # derived from the cases, edited there
                continue
            for lvl in LEVELS:
                name = f"{cid}.{key}.{lvl}"
                raw = (form.get(f"{name}.value") or "").strip()
                value = volume_value(raw)
                if value is None:
                    problems.append(f"categories.{name}.value: 数値を入力してください（「{raw}」）")
                    continue
                figure = spread.setdefault(lvl, {})
                figure["value"] = round(value / scale, 6) if scale != 1 else value
                figure["basis"] = (form.get(f"{name}.basis") or "").strip()
                figure["cases"] = [c.strip() for c in (form.get(f"{name}.cases") or "").split(",") if c.strip()]
    return doc, problems


@bp.route("/effects/<int:model_id>/edit", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def effect_model_edit(model_id: int):
    session = db_session()
    base = _row_or_404(model_id)
    doc = copy.deepcopy(base.data or {})
    problems: list[str] = []
    form = FlaskForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400, description="フォームの内容を確認できません（画面を開き直してください）")
        doc, problems = _edited_document(base.data or {}, request.form)
        if not problems:
            try:
                new = transactions.run(
                    session,
                    effect_models.create_effect_model_version,
                    base,
                    doc,
                    current_user.id,
                    make_current=bool(request.form.get("make_current")),
                )
            except ReferenceDataError as e:
                problems = list(e.problems)
            else:
                flash(
                    f"導入効果モデルの新しい版 {new.version} を作成しました"
                    + ("（現行にしました）" if new.is_current else ""),
                    "success",
                )
                return redirect(url_for("admin.effect_model", model_id=new.id))
    else:
        doc["version"] = f"{base.version}-改"[:40]
    return render_template(
        "admin/effect_model_edit.html",
        base=base,
        doc=doc,
        form=form,
        problems=problems,
        levels=LEVELS,
        level_labels=LEVEL_LABELS,
        figures=FIGURES,
        cases_text=json.dumps(doc.get("cases") or [], ensure_ascii=False, indent=1)
        if not isinstance(doc.get("cases"), str)
        else doc["cases"],
    ), (400 if problems else 200)


@bp.post("/effects/<int:model_id>/current")
@roles_required(access.ADMIN)
def effect_model_current(model_id: int):
    row = _row_or_404(model_id)
    message = f"導入効果モデル {row.version} を現行にしました"
    return make_current(row, effect_models.make_effect_model_current, message, "admin.effect_models_page")
