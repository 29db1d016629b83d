"""Administration: price-book versions (never edited in place: each change is a new, audited version)."""

from __future__ import annotations

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm
from wtforms import FormField

from planner.db.models import PriceBook
from planner.domain.model import JOINT_MODES, MODES
from planner.domain.vocabulary import MODE_LABELS
from planner.services import access, transactions
from planner.services import reference_admin as refadmin
from planner.services.audit_log import user_names
from planner.services.problems import Problem
from planner.services.reference_data import (
    PRICE_FIELDS,
    ReferenceDataError,
    create_price_book_version,
    price_book_document,
)
from planner.web.db import db_session
from planner.web.forms.admin import PriceBookMetaForm, format_lines, price_entry_form_class
from planner.web.security import roles_required

from .common import bp, get_or_404, make_current


@bp.get("/price-books")
@roles_required(access.ADMIN)
def price_books():
    session = db_session()
    books = refadmin.price_books(session)
    return render_template(
        "admin/price_books.html",
        books=books,
        names=user_names(session, [b.created_by for b in books]),
        action_form=FlaskForm(formdata=None),
    )


@bp.get("/price-books/<int:book_id>")
@roles_required(access.ADMIN)
def price_book(book_id: int):
    session = db_session()
    book = get_or_404(PriceBook, book_id, "単価表")
    doc = price_book_document(session, book)
    return render_template(
        "admin/price_book.html",
        book=book,
        doc=doc,
        modes=MODES,
        mode_labels=MODE_LABELS,
        price_fields=PRICE_FIELDS,
        action_form=FlaskForm(formdata=None),
    )


def _price_form(doc: dict, formdata=None):
    """A form with one sub-form per category × mode, named by position so any category id is safe."""
    attrs = {}
    keys = {}
    for i, cat in enumerate(doc["categories"]):
        for mode in MODES:
            name = f"c{i}_{mode}"
            attrs[name] = FormField(
                price_entry_form_class(mode in JOINT_MODES), label=f"{cat.get('name', cat['id'])}・{MODE_LABELS[mode]}"
            )
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
@roles_required(access.ADMIN)
def price_book_edit(book_id: int):
    session = db_session()
    book = get_or_404(PriceBook, book_id, "単価表")
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
            new = transactions.run(
                session,
                create_price_book_version,
                book.version,
                changes,
                current_user.id,
                version=(form.version.data or "").strip() or None,
                label=form.label.data,
                source=form.source.data or "",
                note=form.note.data or None,
                make_current=form.make_current.data,
            )
        except ReferenceDataError as e:
            general = _place_price_problems(form, keys, e.problems)
        else:
            flash(
                f"単価表の新しい版 {new.version} を作成しました" + ("（現行にしました）" if new.is_current else ""),
                "success",
            )
            return redirect(url_for("admin.price_book", book_id=new.id))
    status = 400 if request.method == "POST" else 200
    return render_template(
        "admin/price_book_edit.html",
        book=book,
        doc=doc,
        form=form,
        keys=keys,
        modes=MODES,
        mode_labels=MODE_LABELS,
        price_fields=PRICE_FIELDS,
        general=general,
    ), status


def _place_price_problems(form, keys: dict, problems: list[Problem]) -> list[Problem]:
    """Problems about a price (path category.mode.field) go under that input, the version's under the version; the
    rest above the form."""
    by_key = {v: k for k, v in keys.items()}
    general = []
    for p in problems:
        parts = (p.field or "").split(".")
        if len(parts) == 3 and (parts[0], parts[1]) in by_key:
            sub = getattr(form, by_key[(parts[0], parts[1])])
            if parts[2] in sub._fields:
                sub[parts[2]].errors = [*sub[parts[2]].errors, p.message]
                continue
        if p.field == "version":
            form.version.errors = [*form.version.errors, p.message]
            continue
        general.append(p)
    return general


@bp.post("/price-books/<int:book_id>/current")
@roles_required(access.ADMIN)
def price_book_current(book_id: int):
    book = get_or_404(PriceBook, book_id, "単価表")
    message = f"単価表 {book.version} を現行にしました。これから作る計画はこの版を使います"
    return make_current(book, refadmin.make_price_book_current, message, "admin.price_books")
