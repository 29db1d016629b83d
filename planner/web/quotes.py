"""Vendor quotes of a scenario (見積): the list per category and mode, and a form prefilled from the reference price
book. Whoever sees the scenario reads them (``load_scenario``); whoever runs it changes them (``require_edits``: the
prefecture's coordinators, a lead-run consortium's lead — the lead's prefecture only reads a consortium's)."""

from __future__ import annotations

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import DateField, FormField, HiddenField, StringField
from wtforms.validators import DataRequired, Length, Optional

from planner.db.models import Category
from planner.db.rows import id_of
from planner.domain import vocabulary
from planner.domain.model import JOINT_MODES, MODES
from planner.services import access, transactions
from planner.services import quotes as svc
from planner.services.instances import scenario_price_book
from planner.services.reference_data import PRICE_FIELDS, price_book_document
from planner.web.db import db_session
from planner.web.forms.admin import format_lines, price_entry_form_class
from planner.web.scenarios import load_scenario, require_edits
from planner.web.security import roles_required

bp = Blueprint("quotes", __name__, url_prefix="/scenarios")

MODE_LABELS = {mode: vocabulary.mode_label(mode) for mode in MODES}
LOCK = re.compile(r"[0-9]{1,9}")  # ASCII digits only: str.isdigit() also takes "²", which int() refuses


@bp.app_context_processor
def _helpers():
    def scenario_quote_list(scenario_id: int):
        session = db_session()
        names = svc.category_names(session)
        return [(q, names.get(q.category_id, q.category_id)) for q in svc.scenario_quotes(session, scenario_id)]

    return {"scenario_quote_list": scenario_quote_list, "quote_mode_labels": MODE_LABELS}


def quote_form_class(mode: str):
    class QuoteForm(FlaskForm):
        vendor = StringField(
            "事業者名",
            validators=[
                DataRequired("見積を出した事業者の名前を入力してください"),
                Length(max=120, message="120 文字以内にしてください"),
            ],
        )
        reference = StringField("見積書番号など", validators=[Optional(), Length(max=120)])
        quoted_on = DateField("見積日", validators=[Optional()])
        lock = HiddenField()
        prices = FormField(price_entry_form_class(mode in JOINT_MODES), label="金額")

    return QuoteForm


def _category_or_404(session, category_id: str) -> Category:
    cat = svc.category(session, category_id)
    if cat is None:
        abort(404, description=f"分野 {category_id} はありません")
    return cat


@bp.get("/<int:scenario_id>/quotes")
@roles_required(*access.ROLES)
def index(scenario_id: int):
    scenario = load_scenario(scenario_id)
    session = db_session()
    book = scenario_price_book(session, scenario)
    doc = price_book_document(session, book)
    quotes = {(q.category_id, q.mode): q for q in svc.scenario_quotes(session, id_of(scenario))}
    rows = [
        (c, mode, quotes.get((c["id"], mode)))
        for c in doc["categories"]
        if not scenario.category_ids or c["id"] in scenario.category_ids
        for mode in MODES
    ]
    return render_template(
        "quotes/index.html",
        scenario=scenario,
        book=book,
        rows=rows,
        mode_labels=MODE_LABELS,
        can_edit=access.edits_scenario(current_user, scenario),
    )


@bp.route("/<int:scenario_id>/quotes/<category_id>/<any(standalone, lead, unified):mode>", methods=["GET", "POST"])
@roles_required(*access.ROLES)
def edit(scenario_id: int, category_id: str, mode: str):
    scenario = load_scenario(scenario_id)
    require_edits(scenario)
    session = db_session()
    category = _category_or_404(session, category_id)
    book = scenario_price_book(session, scenario)
    existing = svc.find_quote(session, id_of(scenario), category_id, mode)
    reference = svc.reference_entry(session, book, category_id, mode)
    if reference is None:
        abort(404, description=f"単価表 {book.version} に {category.name}（{MODE_LABELS[mode]}）の単価がありません")
    form = quote_form_class(mode)(formdata=request.form if request.method == "POST" else None)
    problems: list[str] = []
    conflict = False
    status = 200
    if request.method == "GET":
        form.lock.data = str(existing.lock_version if existing else svc.NEW_QUOTE)
        start = svc.quote_prices(existing) if existing else reference
        for f in PRICE_FIELDS:
            form.prices[f].data = start.get(f, 0)
        form.prices.lines.data = format_lines(start.get("lines"))
        if mode in JOINT_MODES:
            form.prices.max_members.data = start.get("max_members")
        if existing:
            form.vendor.data, form.reference.data = existing.vendor, existing.reference
            form.quoted_on.data = existing.quoted_on
    elif not LOCK.fullmatch(form.lock.data or ""):
        abort(400, description="lock（画面を開いたときの見積の版）が不正です。画面を読み込み直してください。")
    elif form.validate_on_submit():
        prices = {f: form.prices[f].data for f in PRICE_FIELDS}
        prices["lines"] = form.prices.lines.parsed
        if mode in JOINT_MODES:
            prices["max_members"] = form.prices.max_members.data
        values = svc.QuoteValues(form.vendor.data or "", form.quoted_on.data, form.reference.data or "", prices)
        try:
            transactions.run(
                session,
                svc.save_quote,
                current_user,
                scenario,
                book,
                category_id,
                mode,
                values,
                expected_lock=int(form.lock.data),
            )
        except svc.QuoteConflict as e:
            # The quote as it is now is shown beside what was typed; saving again replaces it knowingly.
            existing = svc.find_quote(session, id_of(scenario), category_id, mode)
            form.lock.data = str(existing.lock_version if existing else svc.NEW_QUOTE)
            problems, conflict, status = e.problems, True, 409
        except svc.QuoteError as e:
            problems = e.problems
        else:
            flash(
                f"{category.name}（{MODE_LABELS[mode]}）の見積を保存しました。次の実行からこの金額で計算します。",
                "success",
            )
            return redirect(url_for("quotes.index", scenario_id=scenario.id))
    if request.method == "POST" and status == 200:
        status = 422
    return render_template(
        "quotes/edit.html",
        scenario=scenario,
        book=book,
        category=category,
        mode=mode,
        mode_label=MODE_LABELS[mode],
        form=form,
        existing=existing,
        reference=reference,
        problems=problems,
        conflict=conflict,
        current_prices=svc.quote_prices(existing) if conflict and existing else None,
        price_fields=PRICE_FIELDS,
        format_lines=format_lines,
    ), status


@bp.post("/<int:scenario_id>/quotes/<category_id>/<any(standalone, lead, unified):mode>/delete")
@roles_required(*access.ROLES)
def delete(scenario_id: int, category_id: str, mode: str):
    scenario = load_scenario(scenario_id)
    require_edits(scenario)
    session = db_session()
    if not FlaskForm().validate_on_submit():
        abort(400)
    quote = svc.find_quote(session, id_of(scenario), category_id, mode)
    if quote is None:
        abort(404, description="この分野・方式の見積はありません")
    transactions.run(session, svc.delete_quote, current_user, scenario, quote)
    flash("見積を削除しました。この分野・方式は単価表の金額に戻ります。", "success")
    return redirect(url_for("quotes.index", scenario_id=scenario.id))
