"""Administration: MIC's official data (population and fiscal indicators) imports."""

from __future__ import annotations

from flask import flash, render_template, request
from flask_login import current_user

from planner.domain.vocabulary import DATASET_LABELS
from planner.importers.errors import FileProblems
from planner.services import access, transactions
from planner.services.audit_log import user_names
from planner.services.bodies import import_history, import_official_files, latest_vintages
from planner.web.db import db_session
from planner.web.forms.admin import OfficialUploadForm
from planner.web.security import roles_required

from .common import bp


@bp.route("/data", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def data():
    session = db_session()
    form = OfficialUploadForm()
    problems = None
    report = None
    status = 200
    if form.validate_on_submit():
        files = [(f.filename.rsplit("/", 1)[-1], f.read()) for f in form.files.data or [] if f and f.filename]
        try:
            report = transactions.run(session, import_official_files, files, user_id=current_user.id)
        except FileProblems as e:
            problems = e.problems
            status = 422
        else:
            flash("公的データを取り込みました", "success")
    elif request.method == "POST":
        status = 422  # no file, or a name that is not .xlsx: the upload has problems, as above
    history = import_history(session)
    return render_template(
        "admin/data.html",
        form=form,
        problems=problems,
        report=report,
        latest=latest_vintages(session),
        history=history,
        names=user_names(session, [v.imported_by for v in history]),
        dataset_labels=DATASET_LABELS,
    ), status
