"""Authentication, authorisation and HTTP hardening for every page.

The permission rules themselves live in planner.services.access, which every blueprint, service and the API ask;
here a refusal becomes a logged 403, and a page is closed to roles that cannot use it. Checks run on the server
for each request; the navigation only hides what a role cannot use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import wraps
from typing import NoReturn

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    has_request_context,
    redirect,
    render_template,
    request,
    url_for,
)
from flask import session as session_cookie
from flask_login import AnonymousUserMixin, LoginManager, current_user, login_user
from flask_wtf.csrf import CSRFError, CSRFProtect
from werkzeug.exceptions import HTTPException

from planner.db.models import User
from planner.db.rows import id_of
from planner.services import access, audit, sign_in, transactions
from planner.services.access import ROLE_LABELS, ROLES
from planner.web import kept_input

bp = Blueprint("security", __name__)
login_manager = LoginManager()
csrf = CSRFProtect()

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


@dataclass(frozen=True)
class LoginUser:
    """The signed-in user as a detached snapshot, so that a rollback in the request's session cannot expire it."""

    id: int
    username: str
    display_name: str
    role: str
    prefecture_code: str | None
    body_code: str | None
    active: bool = True
    generation: int = 0

    is_authenticated = True
    is_anonymous = False

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        # The generation makes a cookie issued before a logout, a password reset or a deactivation worthless.
        return f"{self.id}:{self.generation}"

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, self.role)

    @classmethod
    def from_row(cls, row: User) -> LoginUser:
        return cls(
            id=id_of(row),
            username=row.username,
            display_name=row.display_name or row.username,
            role=row.role,
            prefecture_code=row.prefecture_code,
            body_code=row.body_code,
            active=row.is_active,
            generation=row.session_generation or 0,
        )


class Anonymous(AnonymousUserMixin):
    id = None
    role = None
    prefecture_code = None
    body_code = None
    display_name = ""


def _engine():
    return current_app.extensions["db_engine"]


LOGIN_AT = "login_at"  # session key: when the user signed in (seconds since the epoch)


def _session_too_old() -> bool:
    """A working day's cap on a session however busy it is: the idle limit alone would let a stolen cookie,
    kept in use, live for ever."""
    started = session_cookie.get(LOGIN_AT)
    if not isinstance(started, (int, float)):
        return True
    limit = current_app.config.get("SESSION_MAX_HOURS") or 0
    return bool(limit) and time.time() - started > float(limit) * 3600


@login_manager.user_loader
def _load_user(identity: str):
    user_id, _, generation = (identity or "").partition(":")
    try:
        key, generation_number = int(user_id), int(generation)
    except (TypeError, ValueError):
        return None  # also a cookie from before session generations existed: sign in again
    if _session_too_old():
        return None
    row = sign_in.session_user(_engine(), key, generation_number)
    return LoginUser.from_row(row) if row is not None else None


def start_session(user: LoginUser) -> None:
    """Sign ``user`` in on a permanent (idle-limited) session that remembers when it began."""
    # Nothing from before the login (a fixated or stale session) carries over but the token of input kept from a
    # form posted after the last login expired, so that the form comes back filled.
    kept = session_cookie.get(kept_input.SESSION_KEY)
    session_cookie.clear()
    if isinstance(kept, str):
        session_cookie[kept_input.SESSION_KEY] = kept
    session_cookie.permanent = True
    session_cookie[LOGIN_AT] = int(time.time())
    login_user(user)


# --- refusals ---------------------------------------------------------------------------------------------------
# Who may see what is decided by planner.services.access; this module only turns a "no" into a logged 403.

FORBIDDEN_MESSAGE = "この画面を見る権限がありません。必要な場合は県の担当者または管理者にお問い合わせください。"
STALE_FORM_MESSAGE = "フォームの有効期限が切れました。画面を読み込み直してもう一度送信してください。"


def require_submitted(form) -> None:
    """400 with the Japanese reason unless ``form`` (a Flask-WTF form of this request) was posted and is valid."""
    if not form.validate_on_submit():
        abort(400, description=STALE_FORM_MESSAGE)


def forbidden(detail: str, *, status: int = 403, public_description: str | None = None) -> NoReturn:
    """Log the refused attempt (in a transaction of its own, so it survives the request's rollback) and 403.

    ``status=404`` with the ``public_description`` a missing object gets: for URLs whose ids must not be probed,
    an object the user may not see is answered exactly like one that does not exist (the log still says which)."""
    user_id = getattr(current_user, "id", None) if has_request_context() else None
    path = request.path if has_request_context() else ""
    try:
        transactions.run_apart(
            _engine(),
            audit.record,
            user_id=user_id,
            action="forbidden",
            entity="page",
            entity_id=path[:60],
            prefecture_code=getattr(current_user, "prefecture_code", None),
            body_code=getattr(current_user, "body_code", None),
            detail=f"{request.method} {path}: {detail}" if has_request_context() else detail,
        )
    except Exception:  # the refusal matters more than its log entry
        current_app.logger.exception("could not write the audit entry of a refused request")
    # The detail (which object, whose) is for the audit log; the user reads the general sentence only.
    abort(status, description=public_description if public_description is not None else FORBIDDEN_MESSAGE)


def roles_required(*roles: str) -> Callable:
    unknown = set(roles) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles: {sorted(unknown)}")

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            if not current_user.is_authenticated:
                if kept_input.keep_posted_form(_signed_out_user_id()):
                    flash(kept_input.NOT_SAVED_LOGIN, "warning")
                return login_manager.unauthorized()
            if roles and not access.has_role(current_user, roles):
                forbidden(f"役割 {current_user.role} はこの画面を使えません")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _signed_out_user_id() -> int | None:
    """Who this cookie belonged to when its login ended (a logout elsewhere, the day's cap), if it still says."""
    user_id = str(session_cookie.get("_user_id") or "").partition(":")[0]
    return int(user_id) if user_id.isdigit() else None


def client_ip() -> str:
    """The client's address; behind a proxy, set PLANNER_TRUSTED_PROXY=1 so that ProxyFix (planner/app.py) takes
    it from the entry of X-Forwarded-For the proxy wrote (never the client-supplied first entry)."""
    return (request.remote_addr or "")[:45]


# --- application setup ---------------------------------------------------------------------------------------


def _security_headers(response):
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    if current_app.config.get("SESSION_COOKIE_SECURE"):
        response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
    if current_user.is_authenticated and response.mimetype == "text/html":
        # Pages with a body's figures must not stay in a shared browser's cache after logout.
        response.headers.setdefault("Cache-Control", "no-store")
    if _is_data_download(response):
        # Downloads and API answers carry the same figures; send_file's "no-cache" would still let them be stored.
        response.headers["Cache-Control"] = "no-store"
        response.headers.pop("Expires", None)
    return response


DATA_MIMETYPES = frozenset(
    {
        "application/json",
        "text/csv",
        "application/pdf",
        "application/zip",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    }
)


def _is_data_download(response) -> bool:
    return (
        response.mimetype in DATA_MIMETYPES
        or request.path.startswith("/api/")
        or "attachment" in response.headers.get("Content-Disposition", "")
    )


_ERROR_TITLES = {
    400: "入力を受け付けられません",
    401: "ログインしてください",
    403: "この操作を行う権限がありません",
    404: "ページが見つかりません",
    405: "この方法では利用できません",
    409: "他の操作と競合しました",
    413: "ファイルが大きすぎます",
    422: "入力内容を確認してください",
    429: "しばらくお待ちください",
    500: "システムエラーが発生しました",
}


# Machine-readable companions of the Japanese messages in JSON errors ({"error": 日本語, "code": ...}).
ERROR_CODES = {
    400: "bad_request",
    401: "login_required",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "unprocessable",
    429: "too_many_requests",
    500: "server_error",
}


def japanese_description(error: HTTPException) -> str:
    """The description given with abort(), or "" when it is werkzeug's English default text (not for our users)."""
    text = error.description or ""
    return text if any(ord(ch) > 0x7F for ch in text) else ""


def json_error(status: int, message: str | None = None, detail: str = "") -> tuple[dict, int]:
    """Every JSON refusal: a Japanese message for people, the status and a code for programs."""
    body = {"error": message or _ERROR_TITLES.get(status, "エラーが発生しました"), "status": status}
    body["code"] = ERROR_CODES.get(status, "error")
    if detail:
        body["detail"] = detail
    return body, status


def _wants_json() -> bool:
    return request.path.startswith("/api/") or request.accept_mimetypes.best == "application/json"


NUL_REFUSED = (
    "入力に使えない文字（NUL, U+0000）が含まれています（{where}）。その文字を除いてからもう一度送信してください"
)


def _refuse_nul_characters():
    """No text with U+0000 reaches the database (PostgreSQL cannot store it, and no user means to send it): the
    request is refused where it enters, naming the part that carried it."""
    if "\x00" in request.path:
        abort(400, description=NUL_REFUSED.format(where="URL"))
    for source, label in ((request.args, "URL のパラメータ"), (request.form, "フォーム")):
        for key, value in source.items(multi=True):
            if "\x00" in key or "\x00" in value:
                abort(400, description=NUL_REFUSED.format(where=f"{label} {key.replace(chr(0), '')[:40]}"))
    for key, upload in request.files.items(multi=True):
        if "\x00" in (upload.filename or ""):
            abort(400, description=NUL_REFUSED.format(where=f"ファイル名（{key}）"))


def _error_page(error: HTTPException):
    if _wants_json():
        return json_error(error.code or 500, detail=japanese_description(error))
    detail = japanese_description(error) if error.code in (400, 403, 413, 422) else ""
    return render_template(
        "error.html", code=error.code, title=_ERROR_TITLES.get(error.code or 0, "エラー"), detail=detail
    ), error.code


def init_app(app: Flask) -> None:
    # The switches (PLANNER_SECURE_COOKIES, PLANNER_TRUSTED_PROXY, the session hours) are read by planner.config.
    secure = bool(app.config.get("SESSION_COOKIE_SECURE"))
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=secure,
        REMEMBER_COOKIE_HTTPONLY=True,
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
    )
    # A session ends after SESSION_IDLE_HOURS without a request (each request renews the cookie) and in any case
    # SESSION_MAX_HOURS after signing in; 0 turns the cap off.
    app.config["PERMANENT_SESSION_LIFETIME"] = timedelta(hours=float(app.config["SESSION_IDLE_HOURS"]))
    app.config["SESSION_REFRESH_EACH_REQUEST"] = True
    login_manager.login_view = "auth.login"
    login_manager.login_message = "ログインしてください"
    login_manager.login_message_category = "info"
    login_manager.anonymous_user = Anonymous
    login_manager.session_protection = "basic"
    login_manager.init_app(app)
    csrf.init_app(app)
    app.after_request(_security_headers)

    @app.errorhandler(CSRFError)
    def _csrf_error(error):
        # The token goes with the session, so this is mostly a login that expired while the form was open.
        signed_in = current_user.is_authenticated
        if kept_input.keep_posted_form(current_user.id if signed_in else _signed_out_user_id()):
            if signed_in:
                flash(kept_input.NOT_SAVED_FORM, "warning")
                return redirect(request.path)
            flash(kept_input.NOT_SAVED_LOGIN, "warning")
            return redirect(url_for(login_manager.login_view, next=request.path))
        return render_template(
            "error.html",
            code=400,
            title="フォームの有効期限が切れました",
            detail="画面をもう一度読み込んでから操作してください",
        ), 400

    for code in _ERROR_TITLES:
        if code != 500:
            app.register_error_handler(code, _error_page)

    @app.errorhandler(500)
    def _server_error(error):
        if _wants_json():
            return json_error(500, detail="管理者に連絡してください")
        return render_template("error.html", code=500, title=_ERROR_TITLES[500], detail="管理者に連絡してください"), 500

    app.before_request(_refuse_nul_characters)
