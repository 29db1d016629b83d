"""The consortium map: bodies at their positions, coloured by consortium, leads marked, with a legend.

No map tiles (nothing may be fetched at run time): an equirectangular projection, scaled by cos(latitude) at the
centre of the bodies' bounding box, is accurate enough at the scale of one prefecture or a region, and keeps
the drawing reproducible for the PDFs.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Collection, Iterable, Mapping, Sequence

from .svg import GRID, MUTED, PALETTE, STANDALONE_GREY, esc, nice_step, num, open_svg, text, truncate

KM_PER_DEGREE = 6371.0 * math.pi / 180.0
LEGEND_WIDTH = 200
MODE_LABELS = {"lead": "幹事団体一括調達", "unified": "仕様統一・各団体調達", "standalone": "単独調達"}


@dataclass
class _Projection:
    min_x: float
    max_y: float
    scale: float  # pixels per projected degree
    offset_x: float
    offset_y: float
    cos_lat: float

    def __call__(self, lat: float, lng: float) -> tuple[float, float]:
        return (self.offset_x + (lng * self.cos_lat - self.min_x) * self.scale,
                self.offset_y + (self.max_y - lat) * self.scale)

    def km_to_px(self, km: float) -> float:
        return km / KM_PER_DEGREE * self.scale


def _fit(points: Sequence[tuple[float, float]], left: float, top: float, width: float, height: float) -> _Projection:
    lats = [p[0] for p in points] or [35.0]
    lngs = [p[1] for p in points] or [135.0]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [lng * cos_lat for lng in lngs]
    span_x = max(max(xs) - min(xs), 0.05)
    span_y = max(max(lats) - min(lats), 0.05)
    scale = min(width / span_x, height / span_y)
    # Centre the drawing in the box along the axis that has room to spare.
    offset_x = left + (width - (max(xs) - min(xs)) * scale) / 2
    offset_y = top + (height - (max(lats) - min(lats)) * scale) / 2
    return _Projection(min(xs), max(lats), scale, offset_x, offset_y, cos_lat)


def _highlight_ids(highlight: str | Collection[str] | None) -> set[str]:
    if highlight is None:
        return set()
    if isinstance(highlight, str):
        return {highlight}
    return set(highlight)


def _is_prefecture(code: str) -> bool:
    return len(code) == 6 and code[2:5] == "000"


def consortium_map_svg(bodies: Iterable[Mapping], groups: Iterable[Mapping], *, width: int = 720, height: int = 560,
                       highlight: str | Collection[str] | None = None) -> str:
    """An SVG map of ``bodies`` ({code, name, lat, lng, prefecture_code}) coloured by ``groups``
    ({id, mode, lead_body, body_codes, label}); ``highlight`` (group id or ids) fades every other group."""
    bodies = [b for b in bodies if b.get("lat") is not None and b.get("lng") is not None]
    by_code = {b["code"]: b for b in bodies}
    groups = list(groups)
    joint = [g for g in groups if g.get("mode") != "standalone" and len(g.get("body_codes") or ()) >= 1]
    focus = _highlight_ids(highlight)
    colour = {g["id"]: PALETTE[i % len(PALETTE)] for i, g in enumerate(joint)}

    # A body in several consortia (several categories) takes the colour of the highlighted one, else the first.
    body_group: dict[str, Mapping] = {}
    for g in sorted(joint, key=lambda g: g["id"] not in focus):
        for code in g.get("body_codes") or ():
            body_group.setdefault(code, g)
        body_group.setdefault(g["lead_body"], g)
    memberships: dict[str, list[str]] = {}
    for g in groups:
        for code in g.get("body_codes") or ():
            memberships.setdefault(code, []).append(g.get("label") or g["id"])
    leads = {g["lead_body"] for g in joint}

    legend_w = LEGEND_WIDTH if joint else 0
    margin = 16
    proj = _fit([(b["lat"], b["lng"]) for b in bodies], margin, margin, width - legend_w - 2 * margin,
                height - 2 * margin - 24)
    title = "共同調達グループの地図"
    desc = (f"{len(bodies)}団体、共同調達グループ{len(joint)}件。色はグループ、二重丸は幹事団体（調整団体）、"
            "灰色は単独調達またはグループに属さない団体。")
    out = open_svg(width, height, title, desc, css_class="chart consortium-map")
    out.append(f'<rect x="0.5" y="0.5" width="{num(width - 1)}" height="{num(height - 1)}" fill="#F8FAFC" '
               f'stroke="{GRID}"/>')
    if not bodies:
        out.append(text(width / 2, height / 2, "表示できる団体がありません", anchor="middle", fill=MUTED))
        out.append("</svg>")
        return "".join(out)

    def faded(g: Mapping | None) -> bool:
        return bool(focus) and (g is None or g["id"] not in focus)

    # Spokes from every member to its lead: the shape of each consortium at a glance.
    out.append('<g class="spokes" stroke-linecap="round">')
    for g in joint:
        lead = by_code.get(g["lead_body"])
        if lead is None:
            continue
        lx, ly = proj(lead["lat"], lead["lng"])
        dash = ' stroke-dasharray="4 3"' if g.get("mode") == "unified" else ""
        opacity = 0.15 if faded(g) else 0.7
        for code in g.get("body_codes") or ():
            member = by_code.get(code)
            if member is None or code == g["lead_body"]:
                continue
            x, y = proj(member["lat"], member["lng"])
            out.append(f'<line x1="{num(lx)}" y1="{num(ly)}" x2="{num(x)}" y2="{num(y)}" stroke="{colour[g["id"]]}" '
                       f'stroke-width="1.5" stroke-opacity="{opacity}"{dash}/>')
    out.append("</g>")

    # Bodies: grey ones first so that coloured members and leads stay on top.
    ordered = sorted(bodies, key=lambda b: (b["code"] in body_group, b["code"] in leads, b["code"]))
    out.append('<g class="bodies">')
    for b in ordered:
        x, y = proj(b["lat"], b["lng"])
        g = body_group.get(b["code"])
        fill = colour[g["id"]] if g is not None else STANDALONE_GREY
        opacity = 0.25 if faded(g) else 1.0
        tip = b["name"] + ("：" + "、".join(memberships[b["code"]]) if b["code"] in memberships else "")
        is_lead = b["code"] in leads
        if _is_prefecture(b["code"]):
            r = 7 if is_lead else 5
            shape = (f'<rect x="{num(x - r)}" y="{num(y - r)}" width="{num(2 * r)}" height="{num(2 * r)}" '
                     f'fill="{fill}" fill-opacity="{opacity}" stroke="#1F2328" stroke-width="{2 if is_lead else 1}"/>')
        elif is_lead:
            shape = (f'<circle cx="{num(x)}" cy="{num(y)}" r="8" fill="#FFFFFF" fill-opacity="{opacity}" '
                     f'stroke="#1F2328" stroke-width="2"/>'
                     f'<circle cx="{num(x)}" cy="{num(y)}" r="5" fill="{fill}" fill-opacity="{opacity}"/>')
        elif g is not None:
            shape = (f'<circle cx="{num(x)}" cy="{num(y)}" r="4.5" fill="{fill}" fill-opacity="{opacity}" '
                     f'stroke="#FFFFFF" stroke-width="1"/>')
        else:
            shape = f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{fill}" fill-opacity="{min(opacity, 0.8)}"/>'
        out.append(f'<g data-code="{esc(b["code"])}"><title>{esc(tip)}</title>{shape}</g>')
    out.append("</g>")

    # Names: every body on a small map, else the leads only, where there are few enough to stay legible.
    if len(bodies) <= 40:
        named = sorted(bodies, key=lambda b: b["code"])
    else:
        named = [by_code[c] for c in sorted(leads) if c in by_code]
    if len(named) <= 40:
        out.append('<g class="names" font-size="11" stroke="#FFFFFF" stroke-width="3" paint-order="stroke">')
        for b in named:
            x, y = proj(b["lat"], b["lng"])
            weight = "bold" if b["code"] in leads else None
            out.append(text(x + 10, y + 4, b["name"], weight=weight))
        out.append("</g>")

    out.extend(_scale_bar(proj, margin, height - margin))
    if joint:
        out.extend(_legend(joint, colour, width - legend_w, height, focus))
    out.append("</svg>")
    return "".join(out)


def _scale_bar(proj: _Projection, x: float, y: float) -> list[str]:
    target_km = 120.0 / max(proj.km_to_px(1.0), 1e-9)  # about 120 px long
    km = nice_step(target_km, 1)
    px = proj.km_to_px(km)
    label = f"{km:g} km"
    return [f'<g class="scale-bar" stroke="#1F2328" stroke-width="1.5">'
            f'<line x1="{num(x)}" y1="{num(y)}" x2="{num(x + px)}" y2="{num(y)}"/>'
            f'<line x1="{num(x)}" y1="{num(y - 4)}" x2="{num(x)}" y2="{num(y)}"/>'
            f'<line x1="{num(x + px)}" y1="{num(y - 4)}" x2="{num(x + px)}" y2="{num(y)}"/></g>',
            text(x + px + 6, y + 1, label, size=11, fill=MUTED)]


def _legend(joint: list[Mapping], colour: dict[str, str], left: float, height: float, focus: set[str]) -> list[str]:
    out = [f'<g class="legend">', f'<line x1="{num(left)}" y1="8" x2="{num(left)}" y2="{num(height - 8)}" '
           f'stroke="{GRID}"/>']
    x = left + 12
    y = 24
    out.append(text(x, y, "凡例", weight="bold"))
    y += 18
    # Symbols first: they are needed to read any of the groups.
    out.append(f'<circle cx="{num(x + 6)}" cy="{num(y - 4)}" r="7" fill="#FFFFFF" stroke="#1F2328" stroke-width="2"/>'
               f'<circle cx="{num(x + 6)}" cy="{num(y - 4)}" r="4" fill="{MUTED}"/>')
    out.append(text(x + 18, y, "幹事団体・調整団体", size=11))
    y += 18
    out.append(f'<rect x="{num(x + 1)}" y="{num(y - 9)}" width="10" height="10" fill="#FFFFFF" stroke="#1F2328" '
               f'stroke-width="1.5"/>')
    out.append(text(x + 18, y, "都道府県", size=11))
    y += 18
    out.append(f'<line x1="{num(x)}" y1="{num(y - 4)}" x2="{num(x + 12)}" y2="{num(y - 4)}" stroke="{MUTED}" '
               f'stroke-width="1.5"/>')
    out.append(text(x + 18, y, MODE_LABELS["lead"], size=11))
    y += 18
    out.append(f'<line x1="{num(x)}" y1="{num(y - 4)}" x2="{num(x + 12)}" y2="{num(y - 4)}" stroke="{MUTED}" '
               f'stroke-width="1.5" stroke-dasharray="4 3"/>')
    out.append(text(x + 18, y, MODE_LABELS["unified"], size=11))
    y += 18
    out.append(f'<circle cx="{num(x + 6)}" cy="{num(y - 4)}" r="3" fill="{STANDALONE_GREY}"/>')
    out.append(text(x + 18, y, "単独調達・対象外", size=11))
    y += 26
    out.append(text(x, y, "グループ", weight="bold"))
    y += 18
    rows = max(0, int((height - 16 - y) // 17))
    shown = joint if len(joint) <= rows else joint[: max(rows - 1, 0)]
    for g in shown:
        opacity = 0.3 if focus and g["id"] not in focus else 1.0
        members = len(set(g.get("body_codes") or ()))
        out.append(f'<rect x="{num(x)}" y="{num(y - 10)}" width="12" height="12" rx="2" fill="{colour[g["id"]]}" '
                   f'fill-opacity="{opacity}"/>')
        out.append(text(x + 18, y, f"{truncate(str(g.get('label') or g['id']), 14)}（{members}）", size=11))
        y += 17
    if len(shown) < len(joint):
        out.append(text(x, y, f"ほか {len(joint) - len(shown)} グループ", size=11, fill=MUTED))
    out.append("</g>")
    return out
