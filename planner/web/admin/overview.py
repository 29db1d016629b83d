"""Administration's first page: users, the latest official data and the current reference data at a glance."""

from __future__ import annotations

from flask import render_template

from planner.domain.vocabulary import DATASET_LABELS
from planner.services import access, user_admin
from planner.services.bodies import latest_vintages
from planner.services.reference_data import current_price_book, current_subsidy_rule_set
from planner.web.db import db_session
from planner.web.security import roles_required

from .common import bp


@bp.get("/")
@roles_required(access.ADMIN)
def index():
    session = db_session()
    users = user_admin.list_users(session)
    return render_template(
        "admin/index.html",
        users=users,
        vintages=latest_vintages(session),
        price_book=current_price_book(session),
        rule_set=current_subsidy_rule_set(session),
        dataset_labels=DATASET_LABELS,
    )
