"""Login, logout and sign-up with a one-time code. Messages never say whether the name or the password (or code) was
wrong."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, logout_user

from planner.db.models import User
from planner.services import audit
from planner.services.account_import import SignupError, redeem_code
from planner.services.login_throttle import Limits, begin_attempt, settle
from planner.services.users import authenticate, end_sessions, password_problem
from planner.web.db import db_session
from planner.web.forms.auth import LoginForm, SignupForm
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


@bp.route("/signup", methods=["GET", "POST"])
def signup():
    """Set one's own password with the one-time code the administrator handed over (accounts from the CSV import).
    Attempts count against the same limits as logins, so codes cannot be guessed at speed."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = SignupForm()
    if form.validate_on_submit():
        problem = password_problem(form.password.data)
        if problem:  # said before the code is tried: a weak password is no guess at a code
            form.password.errors = [*form.password.errors, problem]
            return render_template("auth/signup.html", form=form), 422
        session = db_session()
        username = form.username.data.strip().lower()
        limits = Limits.from_config(current_app.config)
        attempt, reason = begin_attempt(session, username, client_ip(), limits)
        if reason is not None:
            flash(BLOCKED.format(minutes=int(limits.window.total_seconds() // 60)), "error")
            return render_template("auth/signup.html", form=form), 429
        try:
            user = redeem_code(session, username, form.code.data, form.password.data)
        except SignupError as e:
            settle(session, attempt, None)
            session.commit()
            flash(str(e), "error")
            return render_template("auth/signup.html", form=form), 200
        settle(session, attempt, user)
        session.commit()
        start_session(LoginUser.from_row(user))
        flash("パスワードを設定しました。次からはこのパスワードでログインします", "success")
        return redirect(url_for("home.index"))
    return render_template("auth/signup.html", form=form), (422 if form.errors else 200)
