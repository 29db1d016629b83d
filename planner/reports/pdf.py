"""PDF with WeasyPrint: A4 portrait, IPAex fonts embedded, page numbers (styles in static/css/report.css).

IPAex (TrueType) was chosen by measurement: a one-page Japanese table renders in about 0.2 s, against about 5 s
with Noto Sans CJK (CFF outlines, slow to subset). The fonts come from Debian's fonts-ipaexfont packages and are
found by family name through fontconfig, so nothing is downloaded.
"""

from __future__ import annotations

from functools import lru_cache

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan

from . import charts
from .context import ReportMeta, group_report, member_notice, summary_report
from .control import DocumentControl
from .effects_view import effect_charts, plan_effects
from .render import PROJECT_ROOT, REPORT_CSS, render_html


def _effects(instance: Instance, plan: SettledPlan):
    return plan_effects(instance, plan.effects)


@lru_cache(maxsize=1)
def _stylesheet():
    from weasyprint import CSS

    return CSS(filename=str(REPORT_CSS))


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML

    from . import pdf_output

    pdf_output.install()  # every PDF written the same way, alone or in a batch (see pdf_output)
    return HTML(string=html, base_url=str(PROJECT_ROOT)).write_pdf(stylesheets=[_stylesheet()])


def _control(meta: ReportMeta, kind: str, key: str, control: DocumentControl | None = None) -> dict:
    """The document-control block every template's base prints (and the 案 watermark on drafts)."""
    return {"control": control or meta.document_control, "doc_kind": kind, "doc_key": key}


def group_html(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> str:
    r = group_report(instance, plan, group_id, meta)
    return render_html("group.html", r=r, **_control(r.meta, "group", group_id, r.control))


def member_html(instance: Instance, plan: SettledPlan, need_id: str, meta: ReportMeta | None = None) -> str:
    n = member_notice(instance, plan, need_id, meta)
    return render_html(
        "member.html",
        n=n,
        effects=_effects(instance, plan),
        **_control(n.group.meta, "member", n.member.body_code, n.group.control),
    )


def summary_html(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> str:
    s = summary_report(instance, plan, meta)
    effects = _effects(instance, plan)
    by_category, by_body = effect_charts(effects, width=720)
    return render_html(
        "summary.html",
        s=s,
        figures=charts.summary_figures(s),
        effects=effects,
        effect_category_svg=by_category,
        effect_body_svg=by_body,
        **_control(s.meta, "summary", ""),
    )


def group_pdf(instance: Instance, plan: SettledPlan, group_id: str, meta: ReportMeta | None = None) -> bytes:
    """負担金算定書 of one group."""
    return html_to_pdf(group_html(instance, plan, group_id, meta))


def member_pdf(instance: Instance, plan: SettledPlan, need_id: str, meta: ReportMeta | None = None) -> bytes:
    """参加団体別 負担額通知 of one member (need)."""
    return html_to_pdf(member_html(instance, plan, need_id, meta))


def summary_pdf(instance: Instance, plan: SettledPlan, meta: ReportMeta | None = None) -> bytes:
    """The prefecture summary of the whole plan."""
    return html_to_pdf(summary_html(instance, plan, meta))
