"""The web layer: blueprints translate HTTP to and from the services and the domain core.

Each module in :data:`BLUEPRINT_MODULES` exports ``bp`` (a Blueprint) and, optionally, ``init_app(app)``.
"""

from __future__ import annotations

import importlib

from flask import Flask

BLUEPRINT_MODULES = (
    "security",
    "auth",
    "home",
    "needs",
    "bodies",
    "scenarios",
    "plans",
    "reports",
    "admin",
    "api",
    "lifecycle",
    "quotes",
)


def register(app: Flask) -> None:
    from .params import DatabaseIntConverter

    app.url_map.converters["int"] = DatabaseIntConverter  # before any route is added: ids stay within the database
    for name in BLUEPRINT_MODULES:
        try:
            module = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as e:
            if e.name == f"{__name__}.{name}":
                continue  # not written yet
            raise
        if hasattr(module, "init_app"):
            module.init_app(app)
        if hasattr(module, "bp"):
            app.register_blueprint(module.bp)
