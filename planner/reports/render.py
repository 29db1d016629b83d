"""HTML for the documents, from the Jinja templates in templates/reports (shared by the PDF and the web preview).

A Jinja environment of its own rather than Flask's, so that ``planner report`` prints from files alone without
an application or a database.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from planner.domain.vocabulary import fiscal_year_label, wareki_fiscal_year, yen, yen_digits
from planner.masterdata.credit import DATA_CREDIT

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT_ROOT / "templates"
REPORT_CSS = PROJECT_ROOT / "static" / "css" / "report.css"


def pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


def volume(value: float) -> str:
    return f"{int(value):,}" if float(value).is_integer() else f"{value:,.1f}"


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        yen=yen,
        num=yen_digits,
        pct=pct,
        volume=volume,
        wareki=wareki_fiscal_year,
        fiscal_year=fiscal_year_label,
        svg=lambda s: Markup(s) if s else "",
    )
    from .effect_text import TEMPLATE_HELPERS

    env.globals.update(TEMPLATE_HELPERS)
    env.globals["data_credit"] = DATA_CREDIT  # 総務省's figures (population) appear in the documents
    from .stamp import STAMPED_LABELS

    env.globals["stamped_labels"] = STAMPED_LABELS  # the version's words, drawn over a body kept by content
    return env


def render_html(template: str, **context) -> str:
    return environment().get_template(f"reports/{template}").render(**context)
