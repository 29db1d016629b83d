"""Administration: accounts in bulk from a CSV (団体コード, 氏名, メール, 役割): a preview with every row's problems,
then all accounts in one transaction, each with a one-time sign-up code on a page to print and hand over.

The codes are shown on that response only (they are stored hashed), so the page is sent with no-store and says so.
"""

from __future__ import annotations

from pathlib import Path

from flask import Response, abort, current_app, flash, redirect, render_template, url_for
from flask_login import current_user

from planner.services import access, transactions, upload_store
from planner.services import account_import as accounts
from planner.web.db import db_session
from planner.web.forms.admin import AccountImportForm
from planner.web.forms.needs import ConfirmImportForm
from planner.web.security import roles_required

from .common import bp

TEMPLATE_CSV = "団体コード,氏名,メール,役割\n200000,長野 花子,hanako.nagano@pref.example.jp,都道府県担当者\n202011,信州 太郎,taro.shinshu@city.example.jp,市区町村担当者\n"


def _upload_dir() -> Path:
    return Path(current_app.config.get("NEEDS_UPLOAD_DIR") or Path(current_app.instance_path) / "needs_uploads")


def _days() -> int:
    return int(current_app.config.get("SIGNUP_CODE_DAYS") or accounts.SIGNUP_CODE_DAYS)


@bp.route("/users/import", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def users_import():
    form = AccountImportForm()
    if form.validate_on_submit():
        upload = form.file.data
        data = upload.read()
        file_name = Path(upload.filename).name[:120]
        preview = accounts.preview_accounts(db_session(), file_name, data)
        token = upload_store.save(_upload_dir(), current_user.id, file_name, data) if preview.ok else None
        return render_template(
            "admin/users_import.html",
            form=form,
            preview=preview,
            confirm_form=ConfirmImportForm(token=token) if token else None,
            labels=accounts.COLUMN_LABELS,
            days=_days(),
        ), (200 if preview.ok else 422)
    return render_template(
        "admin/users_import.html",
        form=form,
        preview=None,
        confirm_form=None,
        labels=accounts.COLUMN_LABELS,
        days=_days(),
    ), (422 if form.errors else 200)


@bp.get("/users/import/template.csv")
@roles_required(access.ADMIN)
def users_import_template():
    return Response(
        "\ufeff" + TEMPLATE_CSV,
        mimetype="text/csv",
        headers={"Content-Disposition": "attachment; filename=accounts-template.csv"},
    )


@bp.post("/users/import/confirm")
@roles_required(access.ADMIN)
def users_import_confirm():
    form = ConfirmImportForm()
    if not form.validate_on_submit():
        abort(400, description="フォームの内容を確認できません")
    # Single use: a double click or a replayed form cannot create the accounts (and print codes) twice.
    stored = upload_store.claim(_upload_dir(), form.token.data, current_user.id)
    if stored is None:
        flash(
            "この取込は既に確定されたか、確認期限が切れました。利用者の一覧で結果を確かめ、必要ならもう一度ファイルを選んでください",
            "error",
        )
        return redirect(url_for("admin.users_import"))
    session = db_session()
    preview = accounts.preview_accounts(session, stored.file_name, stored.data)
    if not preview.ok:
        # the database changed since the preview (a login name taken meanwhile): nothing is created
        return render_template(
            "admin/users_import.html",
            form=AccountImportForm(formdata=None),
            preview=preview,
            confirm_form=None,
            labels=accounts.COLUMN_LABELS,
            days=_days(),
        ), 422
    issued = transactions.run(session, accounts.create_accounts, preview, current_user.id, days=_days())
    response = Response(
        render_template("admin/signup_codes.html", issued=issued, file_name=stored.file_name, days=_days())
    )
    response.headers["Cache-Control"] = "no-store"
    return response
