"""Hours saved a year (導入効果の見込み) as horizontal bars: the central estimate as the bar, the low-high range as a
whisker across it, so that the range is never read as a single figure."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from .svg import GRID, MUTED, esc, nice_step, num, open_svg, text, truncate

BAR_TEAL = "#009E73"
WHISKER = "#1F2328"


def _hours(v: float) -> str:
    return f"{v:,.0f}"


def hours_range_svg(
    rows: Iterable[Sequence], *, width: int = 720, title: str = "職員の作業時間の削減見込み（年間）"
) -> str:
    """Rows of (label, low, central, high) hours a year; rows without hours are left out by the caller."""
    rows = [(str(r[0]), float(r[1]), float(r[2]), float(r[3])) for r in rows]
    label_w = min(200, max(90, 13 * max((len(r[0]) for r in rows), default=6)))
    bar_h, gap, top = 14, 12, 34
    height = top + max(len(rows), 1) * (bar_h + gap) + 20  # the axis labels; no blank above the caption
    right_pad = 190
    plot_x, plot_w = label_w + 8, max(width - label_w - 8 - right_pad, 80)
    out = open_svg(
        width,
        height,
        title,
        "項目ごとに、削減時間の中位の見込みを棒で、低位から高位の幅を線で示した図（事例にもとづく見込み）",
        css_class="chart hours-range",
    )
    out.append(f'<rect x="{num(plot_x)}" y="10" width="12" height="12" fill="{BAR_TEAL}"/>')
    out.append(text(plot_x + 16, 20, "中位の見込み", size=11))
    out.append(
        f'<line x1="{num(plot_x + 120)}" y1="16" x2="{num(plot_x + 150)}" y2="16" stroke="{WHISKER}" '
        'stroke-width="1.5"/>'
    )
    out.append(text(plot_x + 156, 20, "低位〜高位の幅", size=11))
    max_value = max([r[3] for r in rows] or [0])
    if not rows or max_value <= 0:
        out.append(text(width / 2, top + 20, "時間の見込みがある項目がありません", anchor="middle", fill=MUTED))
        out.append("</svg>")
        return "".join(out)
    step = nice_step(max_value, 4)
    axis_max = step * max(1, -(-max_value // step))
    scale = plot_w / axis_max
    bottom = top + len(rows) * (bar_h + gap) - gap / 2
    tick = 0.0
    while tick <= axis_max + 1e-6:
        tx = plot_x + tick * scale
        out.append(f'<line x1="{num(tx)}" y1="{num(top - 4)}" x2="{num(tx)}" y2="{num(bottom)}" stroke="{GRID}"/>')
        out.append(text(tx, bottom + 14, f"{_hours(tick)}時間", anchor="middle", size=10, fill=MUTED))
        tick += step
    for i, (label, low, central, high) in enumerate(rows):
        y0 = top + i * (bar_h + gap)
        mid = y0 + bar_h / 2
        out.append(
            f"<g><title>{esc(label)}：年 {_hours(low)}〜{_hours(high)}時間（中位 {_hours(central)}時間）の見込み</title>"
        )
        out.append(text(plot_x - 8, mid + 4, truncate(label, label_w // 12), anchor="end", size=11))
        out.append(
            f'<rect x="{num(plot_x)}" y="{num(y0)}" width="{num(max(central, 0) * scale)}" '
            f'height="{num(bar_h)}" fill="{BAR_TEAL}"/>'
        )
        x1, x2 = plot_x + low * scale, plot_x + high * scale
        out.append(
            f'<line x1="{num(x1)}" y1="{num(mid)}" x2="{num(x2)}" y2="{num(mid)}" stroke="{WHISKER}" '
            'stroke-width="1.5"/>'
        )
        for x in (x1, x2):
            out.append(
                f'<line x1="{num(x)}" y1="{num(y0 + 2)}" x2="{num(x)}" y2="{num(y0 + bar_h - 2)}" '
                f'stroke="{WHISKER}" stroke-width="1.5"/>'
            )
        out.append(text(x2 + 6, mid + 4, f"中位 {_hours(central)}（{_hours(low)}〜{_hours(high)}）時間", size=11))
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)
