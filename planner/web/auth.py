"""Login and logout. Messages never say whether the name or the password was wrong."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, logout_user

from planner.db.models import User
from planner.services import audit
from planner.services.login_throttle import Limits, begin_attempt, settle
from planner.services.users import authenticate, end_sessions
from planner.web.db import db_session
from planner.web.forms.auth import LoginForm
from planner.web.security import LoginUser, client_ip, start_session

bp = Blueprint("auth", __name__)

GENERIC_FAILURE = "ログイン名またはパスワードが正しくありません"
BLOCKED = "ログインの失敗が続いたため、しばらく（{minutes}分程度）ログインできません。時間をおいてお試しください"


def _safe_next(target: str | None) -> str | None:
    """Only a path on this site: an absolute URL would make the login page an open redirect."""
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    return target


@bp.route("/")
def root():
    return redirect(url_for("home.index") if current_user.is_authenticated else url_for("auth.login"))


@bp.route("/login", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm()
    if form.validate_on_submit():
        session = db_session()
        username = form.username.data.strip()
        ip = client_ip()
        limits = Limits.from_config(current_app.config)
        attempt, reason = begin_attempt(session, username, ip, limits)
        if reason is not None:
            # The same words whichever limit it was, so the answer tells a guesser nothing about the account.
            flash(BLOCKED.format(minutes=int(limits.window.total_seconds() // 60)), "error")
            return render_template("auth/login.html", form=form), 429
        user = authenticate(session, username, form.password.data)
        settle(session, attempt, user)
        session.commit()  # also keeps a password hash upgraded by authenticate()
        if user is None:
            flash(GENERIC_FAILURE, "error")
            return render_template("auth/login.html", form=form), 200
        start_session(LoginUser.from_row(user))
        return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        session = db_session()
        row = session.get(User, current_user.id)
        if row is not None:
            end_sessions(row)  # a copy of this cookie (or the user's other sessions) must not outlive the logout
        audit.record(session, user_id=current_user.id, action="logout", entity="user", entity_id=str(current_user.id))
        session.commit()
    logout_user()
    flask_session.clear()
    flash("ログアウトしました", "info")
    return redirect(url_for("auth.login"))
