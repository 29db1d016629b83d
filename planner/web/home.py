"""The home page: a dashboard per role (what is registered, where plans stand, what to do next)."""

from __future__ import annotations

from flask import Blueprint, render_template
from flask_login import current_user

from planner.domain.vocabulary import DATASET_LABELS, MODE_LABELS
from planner.services import access, body_admin, dashboard
from planner.services.access import ROLE_LABELS
from planner.services.audit import ACTION_LABELS, ENTITY_LABELS
from planner.services.audit_log import target_names
from planner.services.scenarios import STATUS_LABELS
from planner.web.db import db_session
from planner.web.security import roles_required

bp = Blueprint("home", __name__)


@bp.get("/home")
@roles_required()
def index():
    session = db_session()
    context = {"mode_labels": MODE_LABELS, "status_labels": STATUS_LABELS}
    if access.is_municipality(current_user):
        body = body_admin.body(session, current_user.body_code)
        context.update(
            body=body,
            counts=dashboard.need_counts_by_status(session, current_user.body_code or ""),
            placement=dashboard.latest_placement(session, current_user),
        )
        return render_template("home/index.html", partial="home/_municipality.html", **context)
    pref = access.scope_prefecture(current_user)
    context.update(
        matrix=dashboard.prefecture_need_matrix(session, pref),
        scenarios=dashboard.recent_scenarios(session, current_user),
        plans=dashboard.recent_plans(session, current_user),
        data=dashboard.data_status(session, pref),
        audit=dashboard.recent_audit(session, pref, limit=10 if access.is_admin(current_user) else 5),
        action_labels=ACTION_LABELS,
        entity_labels=ENTITY_LABELS,
    )
    context.update(targets=target_names(session, context["audit"]))
    if access.is_coordinator(current_user):
        prefecture = body_admin.prefecture_body(session, pref)
        context.update(prefecture_name=prefecture.name if prefecture else (pref or ""))
        return render_template("home/index.html", partial="home/_prefecture.html", **context)
    context.update(
        reference=dashboard.reference_status(session),
        users=dashboard.user_counts(session),
        role_labels=ROLE_LABELS,
        dataset_labels=DATASET_LABELS,
    )
    return render_template("home/index.html", partial="home/_admin.html", **context)
