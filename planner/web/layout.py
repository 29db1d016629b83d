"""What every page's layout needs: the Jinja filters (the documents' own set, planner.reports.render.FILTERS: the
vocabulary's yen, volumes, 和暦 and labels) and the navigation for the signed-in role."""

from __future__ import annotations

from dataclasses import dataclass

from flask import Flask, request, url_for
from flask_login import current_user

from planner.reports.render import install as install_template_filters
from planner.services import access
from planner.services.demo import DEMO_ASSUMPTIONS

PRODUCT_NAME = "共同調達プランナー"


@dataclass(frozen=True)
class NavItem:
    label: str
    endpoint: str
    roles: tuple[str, ...]
    prefix: str  # the URL prefix that marks the item as the current section


NAV = (
    NavItem("ホーム", "home.index", access.ROLES, "/home"),
    NavItem("ニーズ", "needs.index", access.ROLES, "/needs"),
    NavItem("団体", "bodies.index", access.PLANNERS, "/bodies"),
    NavItem("シナリオ", "scenarios.index", access.PLANNERS, "/scenarios"),
    NavItem("計画", "plans.index", access.ROLES, "/plans"),
    NavItem("協議会", "partnerships.index", access.ROLES, "/consortia"),
    NavItem("監査ログ", "admin.audit_log", access.PLANNERS, "/admin/audit"),
    NavItem("管理", "admin.index", (access.ADMIN,), "/admin/"),
)


def navigation() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = []
    for item in NAV:
        if access.has_role(current_user, item.roles):
            active = request.path.startswith(item.prefix) and not (
                item.prefix == "/admin/" and request.path.startswith("/admin/audit")
            )
            items.append({"label": item.label, "url": url_for(item.endpoint), "active": active})
    return items


def init_app(app: Flask) -> None:
    install_template_filters(app.jinja_env)  # the documents' filter set (planner.reports.render.FILTERS)

    @app.context_processor
    def _layout_context():
        return {
            "product_name": PRODUCT_NAME,
            "navigation": navigation,
            "demo_assumptions": DEMO_ASSUMPTIONS,
        }
