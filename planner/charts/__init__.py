"""Server-rendered SVG charts (pure functions, no Flask): the web pages inline them and the PDFs reuse them."""
from .bars import savings_bar_svg, waterfall_svg
from .consortium_map import consortium_map_svg

__all__ = ["consortium_map_svg", "savings_bar_svg", "waterfall_svg"]
