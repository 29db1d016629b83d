"""Administration: users (create, edit, activate, reset passwords)."""

from __future__ import annotations

from flask import abort, current_app, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from planner.db.models import User
from planner.services import access, body_admin, outreach, transactions, user_admin
from planner.services.access import ADMIN, ROLE_LABELS
from planner.services.account_import import SIGNUP_CODE_DAYS
from planner.services.users import UserError, generate_password
from planner.web.db import db_session
from planner.web.forms.admin import PasswordResetForm, UserEditForm, UserForm
from planner.web.security import LoginUser, roles_required, start_session

from .common import bp, get_or_404


def _prefecture_choices(form) -> None:
    form.prefecture_code.choices = [("", "（選ばない）")] + [
        (p.prefecture_code, f"{p.prefecture_code} {p.name}") for p in body_admin.prefectures(db_session())
    ]


def _scope_error(form, error: UserError) -> None:
    """Show a service error under the input it is about."""
    target = getattr(form, error.field or "role", None) or form.role
    target.errors = [*target.errors, str(error)]


@bp.get("/users")
@roles_required(access.ADMIN)
def users():
    session = db_session()
    pref_names = {p.prefecture_code: p.name for p in body_admin.prefectures(session)}
    users = user_admin.list_users(session)
    return render_template(
        "admin/users.html",
        users=users,
        role_labels=ROLE_LABELS,
        pref_names=pref_names,
        body_names=user_admin.body_names(session, users),
    )


@bp.route("/users/new", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def user_new():
    form = UserForm()
    _prefecture_choices(form)
    if form.validate_on_submit():
        password = form.password.data or generate_password()
        try:
            user = transactions.run(
                db_session(),
                user_admin.create_account,
                form.username.data,
                password,
                form.role.data,
                prefecture_code=form.prefecture_code.data or None,
                body_code=form.body_code.data or None,
                display_name=(form.display_name.data or "").strip(),
                created_by=current_user.id,
            )
        except UserError as e:
            _scope_error(form, e)
        else:
            flash(f"利用者 {user.username} を作成しました", "success")
            return render_template(
                "admin/password_shown.html", user=user, password=password, generated=not form.password.data
            )
    return render_template("admin/user_form.html", form=form, user=None)


@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
@roles_required(access.ADMIN)
def user_edit(user_id: int):
    session = db_session()
    user = get_or_404(User, user_id, "利用者")
    form = UserEditForm(obj=user if request.method == "GET" else None)
    if not access.is_admin(user):  # an administrator is made on the command line only, never by promotion here
        form.role.choices = [(k, v) for k, v in form.role.choices if k != ADMIN]
    _prefecture_choices(form)
    if request.method == "GET":
        form.prefecture_code.data = user.prefecture_code if access.is_coordinator(user) else ""
        form.body_code.data = user.body_code or ""
    if form.validate_on_submit():
        try:
            changed = transactions.run(
                session,
                user_admin.update_user,
                user,
                display_name=form.display_name.data or "",
                role=form.role.data,
                prefecture_code=form.prefecture_code.data or None,
                body_code=form.body_code.data or None,
                changed_by=current_user.id,
            )
        except UserError as e:
            _scope_error(form, e)
        else:
            flash(
                f"利用者 {user.username} を更新しました" if changed else "変更はありませんでした",
                "success" if changed else "info",
            )
            return redirect(url_for("admin.users"))
    return render_template(
        "admin/user_form.html",
        form=form,
        user=user,
        reset_form=PasswordResetForm(formdata=None),
        action_form=FlaskForm(formdata=None),
    )


@bp.post("/users/<int:user_id>/active")
@roles_required(access.ADMIN)
def user_active(user_id: int):
    user = get_or_404(User, user_id, "利用者")
    form = FlaskForm()
    if not form.validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    try:
        transactions.run(db_session(), user_admin.set_active, user, active, current_user.id)
    except UserError as e:
        flash(str(e), "error")
    else:
        flash(f"利用者 {user.username} を{'有効' if active else '無効'}にしました", "success")
    return redirect(url_for("admin.user_edit", user_id=user_id))


@bp.post("/users/<int:user_id>/password")
@roles_required(access.ADMIN)
def user_password(user_id: int):
    user = get_or_404(User, user_id, "利用者")
    form = PasswordResetForm()
    if form.validate_on_submit():
        try:
            password = transactions.run(
                db_session(), user_admin.reset_password, user, current_user.id, form.password.data or None
            )
        except UserError as e:
            form.password.errors.append(str(e))
        else:
            if user.id == current_user.id:  # the reset ended this very session too: keep the administrator in
                start_session(LoginUser.from_row(user))
            return render_template(
                "admin/password_shown.html", user=user, password=password, generated=not form.password.data
            )
    edit = UserEditForm(obj=user)
    _prefecture_choices(edit)
    edit.prefecture_code.data = user.prefecture_code or ""
    return render_template(
        "admin/user_form.html", form=edit, user=user, reset_form=form, action_form=FlaskForm(formdata=None)
    ), 400


@bp.post("/users/<int:user_id>/signup-code")
@roles_required(access.ADMIN)
def user_signup_code(user_id: int):
    """再発行: a new printable sign-up code for an account still waiting for its person (the earlier code stops)."""
    user = get_or_404(User, user_id, "利用者")
    if not FlaskForm().validate_on_submit():
        abort(400)
    days = int(current_app.config.get("SIGNUP_CODE_DAYS", SIGNUP_CODE_DAYS))
    try:
        issued = transactions.run(db_session(), outreach.reissue_for_account, current_user, user, days=days)
    except outreach.OutreachError as e:
        flash(str(e), "error")
        return redirect(url_for("admin.users"))
    return render_template("admin/signup_codes.html", issued=[issued], days=days, reissued=True)
