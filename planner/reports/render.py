"""HTML for the documents, from the Jinja templates in templates/reports (shared by the PDF and the web preview).

A Jinja environment of its own rather than Flask's, so that ``planner report`` prints from files alone without
an application or a database. Both environments get the one filter set, :data:`FILTERS` (:func:`install`): a
figure reads the same on a page and in a document.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup

from planner.domain import vocabulary
from planner.masterdata.credit import DATA_CREDIT

PROJECT_ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = PROJECT_ROOT / "templates"
REPORT_CSS = PROJECT_ROOT / "static" / "css" / "report.css"


def pct(value: float, digits: int = 1) -> str:
    return f"{value * 100:.{digits}f}%"


# Every template's filters, the pages' (planner.web.layout) and the documents' alike: the vocabulary's words.
FILTERS = {
    "yen": vocabulary.yen,
    "num": vocabulary.yen_digits,
    "yen_thousand": vocabulary.yen_thousand,
    "pct": pct,
    "volume": vocabulary.volume,
    "wareki": vocabulary.wareki_fiscal_year,
    "fiscal_year": vocabulary.fiscal_year_label,
    "mode_label": vocabulary.mode_label,
    "mode_short": vocabulary.mode_short,
    "lead_role": vocabulary.lead_role,
    "lead_mark": vocabulary.lead_mark,
    "kind_label": vocabulary.body_kind_label,
    "datetime_ja": vocabulary.datetime_ja,
    "datetime_ja_seconds": lambda value: vocabulary.datetime_ja(value, "%Y-%m-%d %H:%M:%S"),
    "svg": lambda s: Markup(s) if s else "",
}


def install(env: Environment) -> None:
    """Give a Jinja environment the filter set and the template helpers every template may call."""
    from .effect_text import TEMPLATE_HELPERS

    env.filters.update(FILTERS)
    env.globals.update(TEMPLATE_HELPERS)
    env.globals["data_credit"] = DATA_CREDIT  # 総務省's figures (population) appear on pages and in documents


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    install(env)
    from .stamp import STAMPED_LABELS

    env.globals["stamped_labels"] = STAMPED_LABELS  # the version's words, drawn over a body kept by content
    return env


def render_html(template: str, **context) -> str:
    return environment().get_template(f"reports/{template}").render(**context)
