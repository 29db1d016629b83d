"""The administration blueprint and what its pages share."""

from __future__ import annotations

from flask import Blueprint, abort, flash, redirect, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.services import records, transactions
from planner.web.db import db_session
from planner.web.params import MAX_PAGE, parse_int

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50


def int_arg(name: str, default: int = 1) -> int:
    return parse_int(request.args.get(name), default, lo=1, hi=MAX_PAGE)


def get_or_404(model, key, what: str):
    row = records.find(db_session(), model, key)
    if row is None:
        abort(404, description=f"{what} {key} はありません")
    return row


def make_current(row, change, message: str, back: str):
    """The "現行にする" button of a versioned reference table (price books, subsidy rules, effect models):
    ``change(session, row, user_id)`` makes ``row`` the current version and says whether anything changed."""
    if not FlaskForm().validate_on_submit():
        abort(400)
    if transactions.run(db_session(), change, row, current_user.id):
        flash(message, "success")
    return redirect(url_for(back))
