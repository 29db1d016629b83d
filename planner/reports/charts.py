"""The summary's map and charts, drawn by planner.charts (engineer D2's pure SVG functions)."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

from .context import SummaryReport

_MISSING = "図の描画機能（planner.charts）がこの環境にないため、{names}は省略しています。"


@dataclass
class SummaryFigures:
    map_svg: str | None
    savings_svg: str | None
    waterfall_svg: str | None
    missing: str = ""  # which figures are absent and why, printed in their place
    # The map's groups (number, colour, label, members), listed below it in HTML so that a long list runs over pages.
    map_legend: list = field(default_factory=list)


def summary_figures(s: SummaryReport) -> SummaryFigures:
    try:
        charts = importlib.import_module("planner.charts")
    except ModuleNotFoundError as e:
        if e.name != "planner.charts":
            raise
        charts = None
    draw = {name: getattr(charts, name, None) for name in ("consortium_map_svg", "savings_bar_svg", "waterfall_svg")}
    waterfall = [
        ("単独導入の合計", s.standalone_total_yen),
        ("共同調達後", s.plan_total_yen),
        ("補助金（見込額）控除後", s.plan_total_yen - s.grant_yen),
        ("特別交付税（見込額）控除後", s.net_yen),
    ]
    bars = [(c.name, c.standalone_yen, c.plan_yen, c.net_yen) for c in s.categories]
    figures = SummaryFigures(
        map_svg=draw["consortium_map_svg"](s.map_bodies, s.map_groups, width=720, height=560, legend=False)
        if draw["consortium_map_svg"] and s.map_bodies
        else None,
        savings_svg=draw["savings_bar_svg"](bars, width=720) if draw["savings_bar_svg"] else None,
        waterfall_svg=draw["waterfall_svg"](waterfall, width=560) if draw["waterfall_svg"] else None,
    )
    if figures.map_svg:
        figures.map_legend = charts.map_legend(s.map_groups)
    absent = [
        label
        for name, label in (
            ("consortium_map_svg", "地図"),
            ("savings_bar_svg", "分野別の棒グラフ"),
            ("waterfall_svg", "費用の推移の図"),
        )
        if draw[name] is None
    ]
    if absent:
        figures.missing = _MISSING.format(names="・".join(absent))
    return figures
