"""The summary's map and charts, drawn by planner.charts (pure SVG functions)."""

from __future__ import annotations

from dataclasses import dataclass, field

from planner import charts

from .context import SummaryReport


@dataclass
class SummaryFigures:
    map_svg: str | None
    savings_svg: str
    waterfall_svg: str
    # The map's groups (number, colour, label, members), listed below it in HTML so that a long list runs over pages.
    map_legend: list = field(default_factory=list)


def summary_figures(s: SummaryReport) -> SummaryFigures:
    # ends at the headline net burden (the grant not awarded); the grant is the summary's 「採択された場合」 line
    waterfall = [
        ("単独導入の合計", s.standalone_total_yen),
        ("共同調達後", s.plan_total_yen),
        ("特別交付税（見込額）控除後", s.net_without_grant_yen),
    ]
    bars = [(c.name, c.standalone_yen, c.plan_yen, c.net_without_grant_yen) for c in s.categories]
    figures = SummaryFigures(
        map_svg=charts.consortium_map_svg(s.map_bodies, s.map_groups, width=720, height=560, legend=False)
        if s.map_bodies
        else None,
        savings_svg=charts.savings_bar_svg(bars, width=720),
        waterfall_svg=charts.waterfall_svg(waterfall, width=560),
    )
    if figures.map_svg:
        figures.map_legend = charts.map_legend(s.map_groups)
    return figures
