"""The web layer: blueprints translate HTTP to and from the services and the domain core.

:func:`register` names every blueprint and every module that adds filters or hooks to the application, so that a
module that fails to import stops the application at start-up instead of leaving its pages out.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from . import (
        admin,
        api,
        auth,
        bodies,
        home,
        layout,
        lifecycle,
        needs,
        partnerships,
        plans,
        quotes,
        reports,
        scenarios,
        security,
        stages,
    )
    from .params import DatabaseIntConverter

    app.url_map.converters["int"] = DatabaseIntConverter  # before any route is added: ids stay within the database
    security.init_app(app)  # sign-in, CSRF, headers and error pages
    layout.init_app(app)  # the navigation and the shared template filters
    for module in (
        security,
        auth,
        home,
        needs,
        bodies,
        scenarios,
        plans,
        reports,
        admin,
        api,
        lifecycle,
        quotes,
        partnerships,
        stages,
    ):
        app.register_blueprint(module.bp)
