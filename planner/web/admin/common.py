"""The administration blueprint and what its pages share."""

from __future__ import annotations

from flask import Blueprint, abort, request

from planner.web.db import db_session
from planner.web.params import MAX_PAGE, parse_int

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50


def int_arg(name: str, default: int = 1) -> int:
    return parse_int(request.args.get(name), default, lo=1, hi=MAX_PAGE)


def get_or_404(model, key, what: str):
    row = db_session().get(model, key)
    if row is None:
        abort(404, description=f"{what} {key} はありません")
    return row
