"""The administration blueprint and what its pages share."""
from __future__ import annotations

from flask import Blueprint, abort, request

from planner.web.db import db_session

bp = Blueprint("admin", __name__, url_prefix="/admin")

AUDIT_PER_PAGE = 50


def int_arg(name: str, default: int = 1) -> int:
    try:
        return max(1, int(request.args.get(name, default)))
    except (TypeError, ValueError):
        return default


def get_or_404(model, key, what: str):
    row = db_session().get(model, key)
    if row is None:
        abort(404, description=f"{what} {key} はありません")
    return row
