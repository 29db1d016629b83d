"""The Flask application factory."""

from __future__ import annotations

import os
from pathlib import Path

from flask import Flask, has_request_context, request
from flask.sessions import SecureCookieSessionInterface
from werkzeug.middleware.proxy_fix import ProxyFix

from .config import PROJECT_ROOT, instance_path, load_settings
from .db.session import make_engine


def create_app(test_config: dict | None = None) -> Flask:
    """The application; ``test_config`` replaces the instance file and the environment's database and secret
    (planner.config.load_settings)."""
    app = Flask(
        __name__,
        instance_path=str(instance_path()),
        instance_relative_config=True,
        template_folder=str(PROJECT_ROOT / "templates"),
        static_folder=str(PROJECT_ROOT / "static"),
    )
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    app.config.from_mapping(load_settings(test_config, isolated=test_config is not None))
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))

    app.extensions["db_engine"] = make_engine(app.config["DATABASE_URL"])

    from . import web
    from .web import db

    db.init_app(app)
    web.register(app)
    _serve_behind_proxy(app)
    _refuse_outdated_schema(app)
    return app


def _refuse_outdated_schema(app: Flask) -> None:
    """A database migrated to an older revision than this code expects (an upgrade deployed without
    `planner init-db`) gets one clear 503 page instead of errors on every page that touches a new column. Databases
    without Alembic's table (tests that create the tables directly, a database not initialised yet) are left alone."""
    from sqlalchemy.exc import SQLAlchemyError

    from .db.migrate import current_revision, head_revision

    try:
        current = current_revision(app.extensions["db_engine"])
    except SQLAlchemyError:  # database not reachable yet: the first request reports it
        return
    head = head_revision()
    if current is None or current == head:
        return
    message = (
        f"データベースのスキーマ（版 {current}）がこのアプリケーション（版 {head}）より古いため、利用を止めています。"
        "管理者が `planner init-db` を実行してスキーマを更新してください。"
    )
    app.logger.error("database schema %s is behind %s: run `planner init-db`", current, head)

    @app.before_request
    def _schema_outdated():
        if request.endpoint == "static":
            return None
        if request.path.startswith("/api/"):
            return {"error": "サービスを一時停止しています", "detail": message}, 503, {"Retry-After": "600"}
        return message, 503, {"Content-Type": "text/plain; charset=utf-8", "Retry-After": "600"}


class _SessionInterface(SecureCookieSessionInterface):
    """Session cookies marked Secure whenever the request came over HTTPS, not only when configured so: a
    deployment behind TLS cannot then forget the flag."""

    def get_cookie_secure(self, app: Flask) -> bool:
        return super().get_cookie_secure(app) or (has_request_context() and request.is_secure)


def _serve_behind_proxy(app: Flask) -> None:
    """With PLANNER_TRUSTED_PROXY=1 (one reverse proxy in front), take the scheme and the client's address from the
    proxy's X-Forwarded-Proto/-For: the last X-Forwarded-For entry is the one the proxy wrote, the earlier ones are
    whatever the client sent (and must not reset the login throttle)."""
    app.session_interface = _SessionInterface()
    if app.config.get("TRUSTED_PROXY"):
        # Flask's documented way to add WSGI middleware replaces this method, which mypy refuses for any method
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=1, x_proto=1)  # type: ignore[method-assign]


def _instance_secret(instance_path: Path) -> str:
    """A per-installation secret kept in the instance folder, so sessions survive restarts."""
    path = instance_path / "secret_key"
    if not path.exists():
        path.write_text(os.urandom(32).hex())
        path.chmod(0o600)
    return path.read_text().strip()
