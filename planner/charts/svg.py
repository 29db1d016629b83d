"""Small helpers shared by the charts: escaping, number formats, the colour palette.

The charts are embedded inline in pages served with a strict CSP and in WeasyPrint PDFs, so they use SVG
presentation attributes only (never ``style`` attributes or ``<style>`` elements, which the CSP would block).
"""

from __future__ import annotations

import math
from html import escape

import colorcet

from planner.domain.vocabulary import MINUS

FONT = "IPAexGothic, 'IPAex Gothic', 'Noto Sans CJK JP', sans-serif"

# Okabe-Ito plus a few more, chosen to stay distinguishable for colour-blind readers and in greyscale print.
PALETTE = (
    "#0072B2",
    "#E69F00",
    "#009E73",
    "#CC79A7",
    "#56B4E9",
    "#D55E00",
    "#F0E442",
    "#7F3C8D",
    "#11A579",
    "#3969AC",
    "#F2B701",
    "#E73F74",
    "#80BA5A",
    "#E68310",
    "#008695",
    "#CF1C90",
)
# Consortia on the map: Glasbey's palette for light backgrounds (colorcet's glasbey_dark: 256 colours chosen to be
# as far apart as possible, none grey and none too light to see on white), so that 30+ groups stay distinct.
GROUP_PALETTE = tuple(colorcet.glasbey_dark)
STANDALONE_GREY = "#9AA0A6"
TEXT = "#1F2328"
MUTED = "#5F6368"
GRID = "#DADCE0"


def esc(text: object) -> str:
    return escape(str(text), quote=True)


def num(value: float) -> str:
    """A coordinate with two decimals at most (keeps the markup small and deterministic)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def yen_short(value: float) -> str:
    """Axis and bar labels: 1.23億円, 4,560万円, 9,800円."""
    v = float(value)
    sign = MINUS if v < 0 else ""
    v = abs(v)
    if v >= 1e8:
        return f"{sign}{v / 1e8:,.2f}億円"
    if v >= 1e4:
        return f"{sign}{v / 1e4:,.0f}万円"
    return f"{sign}{v:,.0f}円"


def nice_step(max_value: float, ticks: int = 5) -> float:
    """A round tick step (1, 2 or 5 times a power of ten) giving about ``ticks`` intervals up to max_value."""
    if max_value <= 0:
        return 1.0
    raw = max_value / ticks
    power = 10 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power:
            return factor * power
    return 10 * power


def open_svg(width: float, height: float, title: str, desc: str = "", css_class: str = "chart") -> list[str]:
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{esc(css_class)}" width="{num(width)}" '
        f'height="{num(height)}" viewBox="0 0 {num(width)} {num(height)}" role="img" '
        f'font-family="{esc(FONT)}" font-size="12" fill="{TEXT}">',
        f"<title>{esc(title)}</title>",
    ]
    if desc:
        parts.append(f"<desc>{esc(desc)}</desc>")
    return parts


def text(
    x: float,
    y: float,
    content: object,
    *,
    anchor: str = "start",
    size: float | None = None,
    fill: str | None = None,
    weight: str | None = None,
    baseline: str | None = None,
) -> str:
    attrs = [f'x="{num(x)}"', f'y="{num(y)}"']
    if anchor != "start":
        attrs.append(f'text-anchor="{anchor}"')
    if size is not None:
        attrs.append(f'font-size="{num(size)}"')
    if fill is not None:
        attrs.append(f'fill="{fill}"')
    if weight is not None:
        attrs.append(f'font-weight="{weight}"')
    if baseline is not None:
        attrs.append(f'dominant-baseline="{baseline}"')
    return f"<text {' '.join(attrs)}>{esc(content)}</text>"


def truncate(label: str, max_chars: int) -> str:
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"
