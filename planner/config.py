"""The one configuration loader, for the web application, the command line and Alembic.

Settings come from, the later winning:
1. the defaults below (a SQLite database in the instance folder, no Redis, a 10 MB upload limit);
2. ``instance/config.py`` (UPPERCASE names; the instance folder is ``PLANNER_INSTANCE_PATH`` or ``instance/``
   beside the code);
3. the environment: ``DATABASE_URL``, ``REDIS_URL``, ``SECRET_KEY`` and the ``PLANNER_*`` switches in
   :data:`ENVIRONMENT_SWITCHES`;
4. explicit overrides (the tests' configuration, which also skips 2 and the first three names of 3 so that a
   developer's own database is never touched by a test).

No Flask here: ``planner init-db`` and the migrations must work before (and without) the web application.
"""

from __future__ import annotations

import os
import runpy
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parent.parent

CORE_ENVIRONMENT = ("DATABASE_URL", "REDIS_URL", "SECRET_KEY")


def _flag(text: str) -> bool:
    return text.strip().lower() in ("1", "true", "yes", "on")


# environment variable -> (setting, how to read it)
ENVIRONMENT_SWITCHES: dict[str, tuple[str, Callable[[str], Any]]] = {
    "PLANNER_SECURE_COOKIES": ("SESSION_COOKIE_SECURE", _flag),  # the site is served over HTTPS only
    "PLANNER_TRUSTED_PROXY": ("TRUSTED_PROXY", _flag),  # one reverse proxy in front sets X-Forwarded-*
    "PLANNER_SESSION_IDLE_HOURS": ("SESSION_IDLE_HOURS", float),
    "PLANNER_SESSION_MAX_HOURS": ("SESSION_MAX_HOURS", float),
    # publishing a plan starts building its full document set (the coordinator's ZIP) in the background
    "PLANNER_BUILD_DOCUMENTS_ON_PUBLISH": ("BUILD_DOCUMENTS_ON_PUBLISH", _flag),
    # e-mail of invitations and reminders through SMTP (planner.services.mail); none without MAIL_SERVER
    "MAIL_SERVER": ("MAIL_SERVER", str),
    "MAIL_PORT": ("MAIL_PORT", int),
    "MAIL_USE_TLS": ("MAIL_USE_TLS", _flag),
    "MAIL_USE_SSL": ("MAIL_USE_SSL", _flag),
    "MAIL_USERNAME": ("MAIL_USERNAME", str),
    "MAIL_PASSWORD": ("MAIL_PASSWORD", str),
    "MAIL_DEFAULT_SENDER": ("MAIL_DEFAULT_SENDER", str),
}


def instance_path(environ: Mapping[str, str] | None = None) -> Path:
    environ = os.environ if environ is None else environ
    return Path(environ.get("PLANNER_INSTANCE_PATH") or PROJECT_ROOT / "instance")


def defaults(instance: Path) -> dict[str, Any]:
    return {
        "SECRET_KEY": None,
        "DATABASE_URL": f"sqlite:///{instance / 'planner.sqlite'}",
        "REDIS_URL": None,
        "MAX_CONTENT_LENGTH": 10 * 1024 * 1024,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_SECURE": False,
        "TRUSTED_PROXY": False,
        "SESSION_IDLE_HOURS": 8.0,  # a session ends after this long without a request
        "SESSION_MAX_HOURS": 12.0,  # and in any case this long after signing in (0: no cap)
        "BUILD_DOCUMENTS_ON_PUBLISH": True,
        "SIGNUP_CODE_DAYS": 14,  # a sign-up code from the accounts CSV import works this many days
        "MAIL_SERVER": None,  # SMTP host: invitations and reminders are e-mailed only when set
        "MAIL_PORT": 25,
        "MAIL_USE_TLS": False,
        "MAIL_USE_SSL": False,
        "MAIL_USERNAME": None,
        "MAIL_PASSWORD": None,
        "MAIL_DEFAULT_SENDER": "noreply@localhost",
    }


def instance_settings(instance: Path) -> dict[str, Any]:
    """The UPPERCASE names of ``instance/config.py`` (none when the file is absent)."""
    path = instance / "config.py"
    if not path.is_file():
        return {}
    return {k: v for k, v in runpy.run_path(str(path)).items() if k.isupper()}


def load_settings(
    overrides: Mapping[str, Any] | None = None, *, environ: Mapping[str, str] | None = None, isolated: bool = False
) -> dict[str, Any]:
    """Every setting, resolved in the order the module docstring gives. ``isolated`` (the tests) skips the
    instance file and the core environment variables."""
    environ = os.environ if environ is None else environ
    instance = instance_path(environ)
    settings = defaults(instance)
    if not isolated:
        settings.update(instance_settings(instance))
        settings.update({k: environ[k] for k in CORE_ENVIRONMENT if environ.get(k)})
    for variable, (name, read) in ENVIRONMENT_SWITCHES.items():
        if environ.get(variable):
            try:
                settings[name] = read(environ[variable])
            except ValueError as e:
                raise ValueError(f"環境変数 {variable} の値「{environ[variable]}」を読めません") from e
    settings.update(overrides or {})
    return settings


def database_url(environ: Mapping[str, str] | None = None) -> str:
    """The database the application, the CLI and the migrations use."""
    return str(load_settings(environ=environ)["DATABASE_URL"])
