"""What every page's layout needs: Jinja filters (yen, wareki) and the navigation for the signed-in role."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from flask import Flask, current_app, request, url_for
from flask_login import current_user

from planner.domain.costs import round_yen

PRODUCT_NAME = "共同調達プランナー"

# (first fiscal year, era name); 平成31年度 does not exist because the 2019 fiscal year began under 令和.
_ERAS = ((2019, "令和"), (1989, "平成"), (1926, "昭和"))


def yen(value) -> str:
    """1234567 -> 1,234,567円; money is shown as whole yen."""
    if value is None or value == "":
        return "—"
    try:
        amount = value if isinstance(value, int) else round_yen(float(value))
    except (TypeError, ValueError):
        return str(value)
    return f"{amount:,}円"


def yen_thousand(value) -> str:
    """1234567 -> 1,235千円 (rounded half up), the unit budget documents use."""
    if value is None or value == "":
        return "—"
    try:
        amount = round_yen(float(value) / 1000)
    except (TypeError, ValueError):
        return str(value)
    return f"{amount:,}千円"


def wareki_year(year) -> str:
    """2026 -> 令和8年度, 2019 -> 令和元年度."""
    try:
        y = int(year)
    except (TypeError, ValueError):
        return "—" if year in (None, "") else str(year)
    for first, era in _ERAS:
        if y >= first:
            n = y - first + 1
            return f"{era}{'元' if n == 1 else n}年度"
    return f"{y}年度"


def wareki(year) -> str:
    return wareki_year(year)


def fiscal_year_both(year) -> str:
    """2026 -> 令和8年度（2026）: the era year that documents use, with the Western year beside it."""
    label = wareki_year(year)
    return label if label == "—" else f"{label}（{year}）"


JST = timezone(timedelta(hours=9), "JST")  # Japan has no daylight saving time


def datetime_ja(value, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Timestamps are stored as naive UTC; users read Japan time."""
    if value is None:
        return "—"
    if isinstance(value, datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=timezone.utc)
        return aware.astimezone(JST).strftime(fmt)
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
    NavItem("ホーム", "home.index", ("admin", "prefecture", "municipality"), "/home"),
    NavItem("ニーズ", "needs.index", ("admin", "prefecture", "municipality"), "/needs"),
    NavItem("団体", "bodies.index", ("admin", "prefecture"), "/bodies"),
    NavItem("シナリオ", "scenarios.index", ("admin", "prefecture"), "/scenarios"),
    NavItem("計画", "plans.index", ("admin", "prefecture", "municipality"), "/plans"),
    NavItem("監査ログ", "admin.audit_log", ("admin", "prefecture"), "/admin/audit"),
    NavItem("管理", "admin.index", ("admin",), "/admin/"),
)


def navigation() -> list[dict]:
    if not current_user.is_authenticated:
        return []
    items = []
    for item in NAV:
        # Pages of modules not installed yet are left out instead of breaking every page.
        if current_user.role in item.roles and item.endpoint in current_app.view_functions:
            active = request.path.startswith(item.prefix) and not (
                item.prefix == "/admin/" and request.path.startswith("/admin/audit"))
            items.append({"label": item.label, "url": url_for(item.endpoint), "active": active})
    return items


def init_app(app: Flask) -> None:
    app.jinja_env.filters["yen"] = yen
    app.jinja_env.filters["yen_thousand"] = yen_thousand
    app.jinja_env.filters["wareki"] = wareki
    app.jinja_env.filters["fiscal_year"] = fiscal_year_both
    app.jinja_env.filters["datetime_ja"] = datetime_ja
    app.jinja_env.filters["datetime_ja_seconds"] = lambda value: datetime_ja(value, "%Y-%m-%d %H:%M:%S")
    from planner.reports.effect_text import TEMPLATE_HELPERS

    app.jinja_env.globals.update(TEMPLATE_HELPERS)

    @app.context_processor
    def _layout_context():
        return {"product_name": PRODUCT_NAME, "navigation": navigation}
