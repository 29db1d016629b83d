"""What every page's layout needs: Jinja filters (the vocabulary's yen, 和暦 and labels) and the navigation for the
signed-in role."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from flask import Flask, request, url_for
from flask_login import current_user

from planner.domain import vocabulary
from planner.masterdata.credit import DATA_CREDIT
from planner.services import access
from planner.services.demo import DEMO_ASSUMPTIONS

PRODUCT_NAME = "共同調達プランナー"


JST = vocabulary.JST


def datetime_ja(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Timestamps are stored as naive UTC; users read Japan time."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        return vocabulary.jst_datetime(value, fmt)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


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
    app.jinja_env.filters.update(
        yen=vocabulary.yen,
        yen_thousand=vocabulary.yen_thousand,
        wareki=vocabulary.wareki_fiscal_year,
        fiscal_year=vocabulary.fiscal_year_label,
        mode_label=vocabulary.mode_label,
        mode_short=vocabulary.mode_short,
        lead_role=vocabulary.lead_role,
        lead_mark=vocabulary.lead_mark,
        kind_label=vocabulary.body_kind_label,
    )
    app.jinja_env.filters["datetime_ja"] = datetime_ja
    app.jinja_env.filters["datetime_ja_seconds"] = lambda value: datetime_ja(value, "%Y-%m-%d %H:%M:%S")
    from planner.reports.effect_text import TEMPLATE_HELPERS

    app.jinja_env.globals.update(TEMPLATE_HELPERS)

    @app.context_processor
    def _layout_context():
        return {
            "product_name": PRODUCT_NAME,
            "navigation": navigation,
            "data_credit": DATA_CREDIT,
            "demo_assumptions": DEMO_ASSUMPTIONS,
        }
