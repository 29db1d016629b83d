"""The audit log: every entry for administrators, their own prefecture's bodies' entries for coordinators."""

from __future__ import annotations

from datetime import date

from flask import render_template, request
from flask_login import current_user

from planner.services import access
from planner.services.access import scope_prefecture
from planner.services.audit import ACTION_LABELS, ENTITY_LABELS
from planner.services.audit_log import AuditFilter, diff_rows, filter_users, list_entries, target_names, user_names
from planner.web.db import db_session
from planner.web.params import parse_id
from planner.web.security import roles_required

from .common import AUDIT_PER_PAGE, bp, int_arg


def _date_arg(name: str) -> date | None:
    try:
        return date.fromisoformat(request.args.get(name) or "")
    except ValueError:
        return None


@bp.get("/audit")
@roles_required(*access.PLANNERS)
def audit_log():
    session = db_session()
    pref = scope_prefecture(current_user)
    entity = request.args.get("entity") or None
    action = request.args.get("action") or None
    user_id = parse_id(request.args.get("user"))
    filters = AuditFilter(
        entity=entity if entity in ENTITY_LABELS else None,
        action=action if action in ACTION_LABELS else None,
        user_id=user_id,
        date_from=_date_arg("from"),
        date_to=_date_arg("to"),
        body_code=(request.args.get("body") or "").strip() or None,
        entity_id=(request.args.get("id") or "").strip()[:60] or None,
    )
    page = int_arg("page")
    rows, total = list_entries(session, prefecture_code=pref, filters=filters, page=page, per_page=AUDIT_PER_PAGE)
    return render_template(
        "admin/audit.html",
        entries=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // AUDIT_PER_PAGE)),
        filters=filters,
        names=user_names(session, [r.user_id for r in rows]),
        targets=target_names(session, rows),
        users=filter_users(session, pref),
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
        diff_rows=diff_rows,
        date_from=request.args.get("from", ""),
        date_to=request.args.get("to", ""),
    )
