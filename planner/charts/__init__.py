"""Server-rendered SVG charts (pure functions, no Flask): the web pages inline them and the PDFs reuse them."""

from .bars import savings_bar_svg, waterfall_svg
from .consortium_map import LegendEntry, consortium_map_svg, map_legend
from .effects import hours_range_svg

__all__ = ["LegendEntry", "consortium_map_svg", "hours_range_svg", "map_legend", "savings_bar_svg", "waterfall_svg"]
