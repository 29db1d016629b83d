"""Login, logout and sign-up with a one-time code. Messages never say whether the name or the password (or code) was
wrong."""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask import session as flask_session
from flask_login import current_user, logout_user

from planner.services import sign_in
from planner.services.login_throttle import Limits
from planner.services.users import password_problem
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
        limits = Limits.from_config(current_app.config)
        outcome = sign_in.log_in(db_session(), form.username.data.strip(), form.password.data, client_ip(), limits)
        if outcome.blocked is not None:
            # The same words whichever limit it was, so the answer tells a guesser nothing about the account.
            flash(BLOCKED.format(minutes=int(limits.window.total_seconds() // 60)), "error")
            return render_template("auth/login.html", form=form), 429
        user = outcome.user
        if user is None:
            flash(GENERIC_FAILURE, "error")
            return render_template("auth/login.html", form=form), 200
        start_session(LoginUser.from_row(user))
        return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
    return render_template("auth/login.html", form=form)


@bp.route("/logout", methods=["POST"])
def logout():
    if current_user.is_authenticated:
        sign_in.log_out(db_session(), current_user.id)
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
        username = form.username.data.strip().lower()
        limits = Limits.from_config(current_app.config)
        outcome = sign_in.sign_up(db_session(), username, form.code.data, form.password.data, client_ip(), limits)
        if outcome.blocked is not None:
            flash(BLOCKED.format(minutes=int(limits.window.total_seconds() // 60)), "error")
            return render_template("auth/signup.html", form=form), 429
        if outcome.user is None:
            flash(outcome.problem or "", "error")
            return render_template("auth/signup.html", form=form), 200
        start_session(LoginUser.from_row(outcome.user))
        flash("パスワードを設定しました。次からはこのパスワードでログインします", "success")
        return redirect(url_for("home.index"))
    return render_template("auth/signup.html", form=form), (422 if form.errors else 200)
