"""Input typed into a form is not lost when the login or the form expired before it was saved.

A post to one of the forms below that cannot be accepted (its CSRF token is gone with the session, or nobody is
signed in any more) is stored server-side (planner.services.kept_input) under a random token in the session
cookie; after signing in again the same form is shown filled with what was typed and a message that it is not
saved yet. Only these forms: a button's post (run, delete) has no form to come back to, and an upload's file cannot
be kept.
"""

from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, flash, request
from flask import session as session_cookie
from werkzeug.datastructures import MultiDict

from planner.services import kept_input, transactions

KEPT_ENDPOINTS = frozenset({"scenarios.new", "scenarios.edit", "needs.new", "needs.edit", "lifecycle.answer"})
SESSION_KEY = "kept_input"

NOT_SAVED_LOGIN = (
    "ログインの有効期限が切れていたため、入力した内容はまだ保存されていません。"
    "もう一度ログインすると、入力した内容を戻した画面を表示します。"
)
NOT_SAVED_FORM = "フォームの有効期限が切れていたため、入力した内容はまだ保存されていません。"
RESTORED = "前回入力した内容を戻しました。まだ保存されていません。内容を確かめてから保存（送信）してください。"


def _engine():
    return current_app.extensions["db_engine"]


def _posted_from_this_site() -> bool:
    """The post came from one of our own pages: without this, another site could post a form into a visitor's
    browser and have it shown back to them, filled with its words, when they next open that form."""
    source = request.headers.get("Origin") or request.referrer or ""
    parts = urlsplit(source)
    return bool(parts.scheme and parts.netloc) and f"{parts.scheme}://{parts.netloc}" == request.host_url.rstrip("/")


def keep_posted_form(user_id: int | None) -> bool:
    """Store this request's posted form if it is one whose input is kept; True when it was stored."""
    if request.method != "POST" or request.endpoint not in KEPT_ENDPOINTS or request.files:
        return False
    if not _posted_from_this_site():
        return False
    fields = [(name, value) for name, value in request.form.items(multi=True)]
    if not fields:
        return False
    token = transactions.run_apart(_engine(), kept_input.keep, request.path, fields, user_id)
    session_cookie[SESSION_KEY] = token
    return True


def restored_form() -> MultiDict | None:
    """On showing a form (GET), the input kept for it, once, with the message that it is not saved yet."""
    token = session_cookie.get(SESSION_KEY)
    if request.method != "GET" or not isinstance(token, str):
        return None
    from flask_login import current_user

    fields = transactions.run_apart(_engine(), kept_input.take, token, request.path, getattr(current_user, "id", None))
    if fields is None:
        return None
    session_cookie.pop(SESSION_KEY, None)
    flash(RESTORED, "warning")
    return MultiDict(fields)
