"""Savings bars (per category or per body) and the cost waterfall, as server-rendered SVG."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from planner.domain.vocabulary import MINUS, yen

from .svg import GRID, MUTED, STANDALONE_GREY, esc, nice_step, num, open_svg, text, truncate, yen_short

JOINT_BLUE = "#0072B2"
NET_GREEN = "#009E73"
SAVING_GREEN = "#009E73"
INCREASE_RED = "#D55E00"

SERIES = (("単独導入", STANDALONE_GREY), ("共同調達", JOINT_BLUE), ("特交後（見込額、補助金なし）", NET_GREEN))


def savings_bar_svg(rows: Iterable[Sequence], *, width: int = 720) -> str:
    """Horizontal bars per row (label, standalone_yen, joint_yen, net_yen): what each costs alone, jointly, and
    jointly after the special allocation tax estimate (the grant not awarded: never part of the headline), with the
    saving written beside them."""
    rows = [(str(r[0]), int(r[1]), int(r[2]), int(r[3])) for r in rows]
    label_w = min(200, max(90, 13 * max((len(r[0]) for r in rows), default=6)))
    bar_h, gap, top = 11, 14, 38
    group_h = 3 * bar_h + gap
    height = (
        top + max(len(rows), 1) * group_h + 20
    )  # the axis labels and their descenders; no blank between the chart and its caption
    right_pad = 150
    plot_x, plot_w = label_w + 8, max(width - label_w - 8 - right_pad, 80)
    max_value = max([max(r[1], r[2], r[3], 0) for r in rows] or [0])
    out = open_svg(
        width,
        height,
        "単独導入と共同調達の費用比較",
        "項目ごとに、単独導入の費用、共同調達の費用、特別交付税（見込額）控除後の費用（補助金なし）を比べた棒グラフ",
        css_class="chart savings-bars",
    )
    # Legend across the top.
    x = plot_x
    for name, fill in SERIES:
        out.append(f'<rect x="{num(x)}" y="10" width="12" height="12" fill="{fill}"/>')
        out.append(text(x + 16, 20, name, size=11))
        x += 24 + 12 * len(name)
    if not rows or max_value <= 0:
        out.append(text(width / 2, top + 20, "表示する費用がありません", anchor="middle", fill=MUTED))
        out.append("</svg>")
        return "".join(out)
    step = nice_step(max_value, 4)
    axis_max = step * max(1, -(-max_value // step))
    scale = plot_w / axis_max
    bottom = top + len(rows) * group_h - gap / 2
    tick = 0.0
    while tick <= axis_max + 1e-6:
        tx = plot_x + tick * scale
        out.append(f'<line x1="{num(tx)}" y1="{num(top - 4)}" x2="{num(tx)}" y2="{num(bottom)}" stroke="{GRID}"/>')
        out.append(text(tx, bottom + 14, yen_short(tick), anchor="middle", size=10, fill=MUTED))
        tick += step
    for i, (label, standalone, joint, net) in enumerate(rows):
        y0 = top + i * group_h
        out.append(f"<g><title>{esc(label)}：単独 {yen(standalone)}、共同 {yen(joint)}、控除後 {yen(net)}</title>")
        out.append(text(plot_x - 8, y0 + 1.5 * bar_h + 4, truncate(label, label_w // 12), anchor="end", size=11))
        for j, (value, (_, fill)) in enumerate(zip((standalone, joint, net), SERIES, strict=True)):
            w = max(value, 0) * scale
            out.append(
                f'<rect x="{num(plot_x)}" y="{num(y0 + j * bar_h)}" width="{num(w)}" '
                f'height="{num(bar_h - 1)}" fill="{fill}"/>'
            )
        saving = standalone - net
        colour = SAVING_GREEN if saving >= 0 else INCREASE_RED
        label_x = plot_x + max(standalone, joint, net, 0) * scale + 6
        word = "削減" if saving >= 0 else "増加"
        out.append(text(label_x, y0 + 1.5 * bar_h + 4, f"{word} {yen_short(abs(saving))}", size=11, fill=colour))
        out.append("</g>")
    out.append("</svg>")
    return "".join(out)


def waterfall_svg(steps: Iterable[Sequence], *, width: int = 560) -> str:
    """Vertical bars for successive totals (label, yen) — standalone → joint → after the special allocation tax
    (the grant is not awarded: it is never part of the headline) —, each reduction drawn as the step down from the
    bar before, with its amount."""
    steps = [(str(s[0]), int(s[1])) for s in steps]
    height = 300
    top, bottom_pad, left = 30, 58, 70
    plot_h = height - top - bottom_pad
    plot_w = width - left - 12
    out = open_svg(
        width,
        height,
        "費用の内訳（単独導入から実負担まで）",
        "単独導入の費用から、共同調達による削減、特別交付税（見込額）を順に差し引いた滝グラフ（補助金は採択された場合の別の見込み）",
        css_class="chart waterfall",
    )
    max_value = max([v for _, v in steps] + [0])
    if not steps or max_value <= 0:
        out.append(text(width / 2, height / 2, "表示する費用がありません", anchor="middle", fill=MUTED))
        out.append("</svg>")
        return "".join(out)
    step = nice_step(max_value, 4)
    axis_max = step * max(1, -(-max_value // step))
    scale = plot_h / axis_max
    base_y = top + plot_h

    def y_of(value: float) -> float:
        return base_y - max(value, 0) * scale

    tick = 0.0
    while tick <= axis_max + 1e-6:
        ty = y_of(tick)
        out.append(f'<line x1="{num(left)}" y1="{num(ty)}" x2="{num(width - 12)}" y2="{num(ty)}" stroke="{GRID}"/>')
        out.append(text(left - 6, ty + 4, yen_short(tick), anchor="end", size=10, fill=MUTED))
        tick += step
    slot = plot_w / len(steps)
    bar_w = min(80.0, slot * 0.55)
    previous = None
    for i, (label, value) in enumerate(steps):
        cx = left + slot * (i + 0.5)
        x = cx - bar_w / 2
        fill = STANDALONE_GREY if i == 0 else (JOINT_BLUE if i == 1 else NET_GREEN)
        out.append(f"<g><title>{esc(label)}：{yen(value)}</title>")
        out.append(
            f'<rect x="{num(x)}" y="{num(y_of(value))}" width="{num(bar_w)}" '
            f'height="{num(base_y - y_of(value))}" fill="{fill}"/>'
        )
        if previous is not None and previous != value:
            # The reduction: a hatched band from the previous total down to this one, and its amount.
            hi, lo = max(previous, value), min(previous, value)
            colour = SAVING_GREEN if value < previous else INCREASE_RED
            # A reduction is the empty band above the bar; an increase outlines the part of the bar it added.
            band_fill = "#FFFFFF" if value < previous else "none"
            out.append(
                f'<rect x="{num(x)}" y="{num(y_of(hi))}" width="{num(bar_w)}" '
                f'height="{num(y_of(lo) - y_of(hi))}" fill="{band_fill}" stroke="{colour}" '
                f'stroke-dasharray="3 2"/>'
            )
            sign = MINUS if value < previous else "+"
            out.append(
                text(
                    cx, y_of(hi) - 5, f"{sign}{yen_short(abs(previous - value))}", anchor="middle", size=10, fill=colour
                )
            )
            prev_x = left + slot * (i - 0.5) + bar_w / 2
            out.append(
                f'<line x1="{num(prev_x)}" y1="{num(y_of(previous))}" x2="{num(x)}" '
                f'y2="{num(y_of(previous))}" stroke="{MUTED}" stroke-dasharray="2 2"/>'
            )
        else:
            out.append(text(cx, y_of(value) - 5, yen_short(value), anchor="middle", size=10))
        for k, line in enumerate(_wrap(label, max(4, int(slot // 11)))[:2]):
            out.append(text(cx, base_y + 16 + 13 * k, line, anchor="middle", size=11))
        out.append(text(cx, base_y + 16 + 13 * 2 + 2, yen(value), anchor="middle", size=10, fill=MUTED))
        out.append("</g>")
        previous = value
    out.append(
        f'<line x1="{num(left)}" y1="{num(base_y)}" x2="{num(width - 12)}" y2="{num(base_y)}" stroke="#1F2328"/>'
    )
    out.append("</svg>")
    return "".join(out)


def _wrap(label: str, width: int) -> list[str]:
    """Japanese labels have no spaces: break at （ or after width characters."""
    if len(label) <= width:
        return [label]
    cut = label.find("（")
    if 0 < cut <= width:
        return [label[:cut], label[cut:]]
    return [label[:width], label[width:]]
