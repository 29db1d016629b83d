"""The consortium map: prefecture outlines, bodies at their positions coloured by consortium, leads named, and a
legend listing every consortium.

No map tiles (nothing may be fetched at run time): the outlines ship in planner/data (see planner.charts.basemap).
An equirectangular projection, scaled by cos(latitude) at the centre of the bodies' bounding box, is accurate
enough at the scale of one prefecture or a region, and keeps the drawing reproducible for the PDFs.

Each consortium has a number and a colour from a palette made to stay distinguishable for hundreds of
categories (colorcet's Glasbey palette for light backgrounds); the number is printed beside its lead's name and
in the legend, so that the map can be read where colours are too many to tell apart, or printed in grey.
Names sit on a white box (never a white text outline, which WeasyPrint paints over the letters) and are placed
so that no two overlap (planner.charts.labels).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass

from planner.domain.vocabulary import MODE_LABELS

from .basemap import prefecture_outlines
from .labels import Box, LabelRequest, place_labels, text_width
from .svg import GRID, GROUP_PALETTE, MUTED, STANDALONE_GREY, TEXT, esc, nice_step, num, open_svg, text

KM_PER_DEGREE = 6371.0 * math.pi / 180.0
SEA = "#EAF1F7"
LAND = "#FFFFFF"
LAND_OTHER = "#F1F3F4"  # prefectures with no body on the map
BORDER = "#9AA5B1"
LEGEND_ROW = 17
LEGEND_COLUMN = 236
LABEL_SIZE_LEAD = 11
LABEL_SIZE = 10
MIN_SPAN_DEG = 0.25  # a map of one or two bodies still shows their surroundings


@dataclass(frozen=True)
class LegendEntry:
    """One joint group as the map numbers and colours it (for a legend drawn outside the SVG, e.g. in a PDF)."""

    number: int
    group_id: str
    colour: str
    label: str
    members: int


def _joint(groups: Iterable[Mapping]) -> list[Mapping]:
    return [g for g in groups if g.get("mode") != "standalone" and len(g.get("body_codes") or ()) >= 1]


def map_legend(groups: Iterable[Mapping]) -> list[LegendEntry]:
    """The numbers and colours that consortium_map_svg gives the same ``groups``."""
    joint = _joint(groups)
    return [
        LegendEntry(i + 1, g["id"], c, str(g.get("label") or g["id"]), len(set(g.get("body_codes") or ())))
        for i, (g, c) in enumerate(zip(joint, group_colours(len(joint)), strict=True))
    ]


def group_colours(count: int) -> list[str]:
    """``count`` distinct colours; past the palette's 256 they repeat (the numbers still tell groups apart)."""
    return [GROUP_PALETTE[i % len(GROUP_PALETTE)] for i in range(count)]


@dataclass
class _Projection:
    min_x: float
    max_y: float
    scale: float  # pixels per projected degree
    offset_x: float
    offset_y: float
    cos_lat: float

    def __call__(self, lat: float, lng: float) -> tuple[float, float]:
        return (
            self.offset_x + (lng * self.cos_lat - self.min_x) * self.scale,
            self.offset_y + (self.max_y - lat) * self.scale,
        )

    def inverse(self, x: float, y: float) -> tuple[float, float]:
        """(lat, lng) at a pixel."""
        return self.max_y - (y - self.offset_y) / self.scale, (
            (x - self.offset_x) / self.scale + self.min_x
        ) / self.cos_lat

    def km_to_px(self, km: float) -> float:
        return km / KM_PER_DEGREE * self.scale


def _fit(points: Sequence[tuple[float, float]], frame: Box, pad: float) -> _Projection:
    lats = [p[0] for p in points] or [35.0]
    lngs = [p[1] for p in points] or [135.0]
    cos_lat = math.cos(math.radians((min(lats) + max(lats)) / 2))
    xs = [lng * cos_lat for lng in lngs]
    span_x = max(max(xs) - min(xs), MIN_SPAN_DEG)
    span_y = max(max(lats) - min(lats), MIN_SPAN_DEG)
    scale = min((frame.width - 2 * pad) / span_x, (frame.height - 2 * pad) / span_y)
    # Centre the bodies in the frame along both axes.
    offset_x = frame.x + (frame.width - (max(xs) - min(xs)) * scale) / 2
    offset_y = frame.y + (frame.height - (max(lats) - min(lats)) * scale) / 2
    return _Projection(min(xs), max(lats), scale, offset_x, offset_y, cos_lat)


def _highlight_ids(highlight: str | Collection[str] | None) -> set[str]:
    if highlight is None:
        return set()
    if isinstance(highlight, str):
        return {highlight}
    return set(highlight)


def _is_prefecture(code: str) -> bool:
    return len(code) == 6 and code[2:5] == "000"


def _clip_id(bodies: list[Mapping], width: int, height: int) -> str:
    """A clip-path id unique to this drawing, so that two maps on one page never share one."""
    digest = hashlib.sha1(f"{width}x{height}:{','.join(sorted(b['code'] for b in bodies))}".encode()).hexdigest()
    return f"map-clip-{digest[:10]}"


def consortium_map_svg(
    bodies: Iterable[Mapping],
    groups: Iterable[Mapping],
    *,
    width: int = 720,
    height: int = 560,
    highlight: str | Collection[str] | None = None,
    legend: bool = True,
) -> str:
    """An SVG map of ``bodies`` ({code, name, lat, lng, prefecture_code}) coloured by ``groups``
    ({id, mode, lead_body, body_codes, label}); ``highlight`` (group id or ids) fades every other group.

    ``height`` is the map's; the legend below it adds what it needs to list every joint group. With
    ``legend=False`` the groups are left to a list outside the drawing (``map_legend``: a PDF, where one long
    SVG cannot run over pages); the symbols stay."""
    bodies = [b for b in bodies if b.get("lat") is not None and b.get("lng") is not None]
    by_code = {b["code"]: b for b in bodies}
    groups = list(groups)
    joint = _joint(groups)
    focus = _highlight_ids(highlight)
    colours = group_colours(len(joint))
    colour = {g["id"]: colours[i] for i, g in enumerate(joint)}
    number = {g["id"]: i + 1 for i, g in enumerate(joint)}

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
    led: dict[str, list[Mapping]] = {}
    for g in joint:
        led.setdefault(g["lead_body"], []).append(g)

    frame = Box(1, 1, width - 2, height - 2)
    proj = _fit([(b["lat"], b["lng"]) for b in bodies], frame, pad=28)
    title = "共同調達グループの地図"
    desc = (
        f"{len(bodies)}団体、共同調達グループ{len(joint)}件。色と番号はグループ、二重丸は幹事団体・取りまとめ団体、"
        "四角は都道府県（位置は県庁所在地の庁舎）、灰色は単独調達またはグループに属さない団体。"
        "線の色は都道府県境。"
    )
    if not bodies:
        out = open_svg(width, height, title, desc, css_class="chart consortium-map")
        out.append(
            f'<rect x="0.5" y="0.5" width="{num(width - 1)}" height="{num(height - 1)}" fill="#F8FAFC" '
            f'stroke="{GRID}"/>'
        )
        out.append(text(width / 2, height / 2, "表示できる団体がありません", anchor="middle", fill=MUTED))
        out.append("</svg>")
        return "".join(out)

    out = []
    clip = _clip_id(bodies, width, height)
    out.append(
        f'<defs><clipPath id="{clip}"><rect x="{num(frame.x)}" y="{num(frame.y)}" '
        f'width="{num(frame.width)}" height="{num(frame.height)}"/></clipPath></defs>'
    )
    out.append(
        f'<rect class="sea" x="{num(frame.x)}" y="{num(frame.y)}" width="{num(frame.width)}" '
        f'height="{num(frame.height)}" fill="{SEA}"/>'
    )
    out.append(f'<g clip-path="url(#{clip})">')
    out.extend(_outlines(proj, frame, {b.get("prefecture_code") for b in bodies}))

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
            out.append(
                f'<line x1="{num(lx)}" y1="{num(ly)}" x2="{num(x)}" y2="{num(y)}" stroke="{colour[g["id"]]}" '
                f'stroke-width="1.5" stroke-opacity="{opacity}"{dash}/>'
            )
    out.append("</g>")

    # Bodies: grey ones first so that coloured members and leads stay on top.
    # Prefectures first of all: a prefecture sits on its capital (both at the capital's office), and the city's
    # circle must stay visible on top of the prefecture's larger square.
    ordered = sorted(
        bodies, key=lambda b: (not _is_prefecture(b["code"]), b["code"] in body_group, b["code"] in led, b["code"])
    )
    markers: list[tuple[str, Box]] = []
    out.append('<g class="bodies">')
    for b in ordered:
        x, y = proj(b["lat"], b["lng"])
        group = body_group.get(b["code"])
        fill = colour[group["id"]] if group is not None else STANDALONE_GREY
        opacity = 0.25 if faded(group) else 1.0
        tip = b["name"] + ("：" + "、".join(memberships[b["code"]]) if b["code"] in memberships else "")
        is_lead = b["code"] in led
        if _is_prefecture(b["code"]):
            r: float = 9 if is_lead else 7
            shape = (
                f'<rect x="{num(x - r)}" y="{num(y - r)}" width="{num(2 * r)}" height="{num(2 * r)}" '
                f'fill="{fill}" fill-opacity="{opacity}" stroke="{TEXT}" stroke-width="{2 if is_lead else 1}"/>'
            )
        elif is_lead:
            r = 8
            shape = (
                f'<circle cx="{num(x)}" cy="{num(y)}" r="8" fill="#FFFFFF" fill-opacity="{opacity}" '
                f'stroke="{TEXT}" stroke-width="2"/>'
                f'<circle cx="{num(x)}" cy="{num(y)}" r="5" fill="{fill}" fill-opacity="{opacity}"/>'
            )
        elif group is not None:
            r = 4.5
            shape = (
                f'<circle cx="{num(x)}" cy="{num(y)}" r="4.5" fill="{fill}" fill-opacity="{opacity}" '
                f'stroke="#FFFFFF" stroke-width="1"/>'
            )
        else:
            r = 3
            shape = f'<circle cx="{num(x)}" cy="{num(y)}" r="3" fill="{fill}" fill-opacity="{min(opacity, 0.8)}"/>'
        markers.append((b["code"], Box(x - r, y - r, 2 * r, 2 * r)))
        out.append(f'<g data-code="{esc(b["code"])}"><title>{esc(tip)}</title>{shape}</g>')
    out.append("</g>")
    out.append("</g>")  # end of the clipped map

    names, leads_unnamed = _names(bodies, by_code, led, number, colour, faded, proj, frame, markers)
    out.extend(names)
    # The scale bar below the map, where it hides no body.
    out.extend(_scale_bar(proj, 12, height + 18))
    out.append(
        f'<rect x="0.5" y="0.5" width="{num(width - 1)}" height="{num(height - 1)}" fill="none" stroke="{GRID}"/>'
    )
    legend_svg, legend_bottom = _legend(joint, colour, number, height + 22, width, focus, leads_unnamed, legend)
    out.extend(legend_svg)
    out.append("</svg>")
    return "".join(open_svg(width, math.ceil(legend_bottom + 10), title, desc, css_class="chart consortium-map") + out)


def _outlines(proj: _Projection, frame: Box, shown_prefectures: set) -> list[str]:
    north, west = proj.inverse(frame.x, frame.y)
    south, east = proj.inverse(frame.right, frame.bottom)
    out = [f'<g class="prefectures" stroke="{BORDER}" stroke-width="0.8" stroke-linejoin="round">']
    for code, outline in sorted(prefecture_outlines().items()):
        if not outline.intersects(west, south, east, north):
            continue
        points = " ".join(f"{num(x)},{num(y)}" for x, y in (proj(lat, lng) for lng, lat in outline.ring))
        fill = LAND if code in shown_prefectures else LAND_OTHER
        out.append(f'<polygon data-prefecture="{code}" points="{points}" fill="{fill}"/>')
    out.append("</g>")
    return out


def _names(bodies, by_code, led, number, colour, faded, proj, frame, markers) -> tuple[list[str], int]:
    """Leads' names with their groups' numbers first, then (on a small map) every other body's name; and how
    many leads found no free spot for their name."""
    requests = []
    styles: dict[str, tuple[str, int, str | None, str, float]] = {}
    for code in sorted(led, key=lambda c: min(number[g["id"]] for g in led[c])):
        b = by_code.get(code)
        if b is None:
            continue
        nums = "・".join(str(number[g["id"]]) for g in led[code])
        label = f"{nums} {b['name']}"
        x, y = proj(b["lat"], b["lng"])
        w = text_width(label, LABEL_SIZE_LEAD) + 8
        requests.append(LabelRequest(code, x, y, w, LABEL_SIZE_LEAD + 6, radius=8))
        first = led[code][0]
        styles[code] = (label, LABEL_SIZE_LEAD, "bold", colour[first["id"]], 0.35 if faded(first) else 1.0)
    if len(bodies) <= 40:
        for b in sorted(bodies, key=lambda b: b["code"]):
            if b["code"] in led:
                continue
            x, y = proj(b["lat"], b["lng"])
            w = text_width(b["name"], LABEL_SIZE) + 6
            requests.append(LabelRequest(b["code"], x, y, w, LABEL_SIZE + 5, radius=5))
            styles[b["code"]] = (b["name"], LABEL_SIZE, None, GRID, 1.0)
    placed, left_out = place_labels(requests, frame, markers)
    out = ['<g class="names">']
    for p in placed:
        label, size, weight, border, opacity = styles[p.key]
        if p.leader:
            x1, y1, x2, y2 = p.leader
            out.append(
                f'<line class="leader" x1="{num(x1)}" y1="{num(y1)}" x2="{num(x2)}" y2="{num(y2)}" '
                f'stroke="{MUTED}" stroke-width="0.8" stroke-opacity="{opacity}"/>'
            )
        bx = p.box
        out.append(
            f'<g class="label" data-label="{esc(p.key)}" opacity="{opacity}">'
            f'<rect x="{num(bx.x)}" y="{num(bx.y)}" width="{num(bx.width)}" height="{num(bx.height)}" '
            f'rx="2" fill="#FFFFFF" fill-opacity="0.92" stroke="{border}" stroke-width="1"/>'
            + text(
                bx.x + bx.width / 2,
                bx.y + bx.height / 2 + size * 0.36,
                label,
                anchor="middle",
                size=size,
                weight=weight,
            )
            + "</g>"
        )
    out.append("</g>")
    return out, sum(1 for k in left_out if k in led)


def _scale_bar(proj: _Projection, x: float, y: float) -> list[str]:
    target_km = 120.0 / max(proj.km_to_px(1.0), 1e-9)  # about 120 px long
    km = nice_step(target_km, 1)
    px = proj.km_to_px(km)
    label = f"{km:g} km"
    return [
        f'<g class="scale-bar" stroke="{TEXT}" stroke-width="1.5">'
        f'<line x1="{num(x)}" y1="{num(y)}" x2="{num(x + px)}" y2="{num(y)}"/>'
        f'<line x1="{num(x)}" y1="{num(y - 4)}" x2="{num(x)}" y2="{num(y)}"/>'
        f'<line x1="{num(x + px)}" y1="{num(y - 4)}" x2="{num(x + px)}" y2="{num(y)}"/></g>',
        text(x + px + 6, y + 1, label, size=11, fill=MUTED),
    ]


# --- the legend: the symbols, then every joint group in columns ----------------------------------------------

_SYMBOLS = (
    "幹事団体・取りまとめ団体",
    "都道府県（県庁）",
    MODE_LABELS["lead"],
    MODE_LABELS["unified"],
    "単独調達・対象外",
)


def _legend(
    joint: list[Mapping],
    colour: dict[str, str],
    number: dict[str, int],
    top: float,
    width: int,
    focus: set[str],
    leads_unnamed: int = 0,
    groups_listed: bool = True,
) -> tuple[list[str], float]:
    """The legend's markup and its bottom edge."""
    out = ['<g class="legend">']
    x, y = 10.0, top + 20
    # Symbols first: they are needed to read any of the groups; they wrap when the map is narrow.
    for i, label in enumerate(_SYMBOLS):
        w = 22 + text_width(label, 11) + 16
        if x + w > width and x > 10:
            x, y = 10.0, y + LEGEND_ROW
        cx, cy = x + 6, y - 4
        if i == 0:
            out.append(
                f'<circle cx="{num(cx)}" cy="{num(cy)}" r="7" fill="#FFFFFF" stroke="{TEXT}" stroke-width="2"/>'
                f'<circle cx="{num(cx)}" cy="{num(cy)}" r="4" fill="{MUTED}"/>'
            )
        elif i == 1:
            out.append(
                f'<rect x="{num(cx - 5)}" y="{num(cy - 5)}" width="10" height="10" fill="#FFFFFF" '
                f'stroke="{TEXT}" stroke-width="1.5"/>'
            )
        elif i in (2, 3):
            dash = ' stroke-dasharray="4 3"' if i == 3 else ""
            out.append(
                f'<line x1="{num(x)}" y1="{num(cy)}" x2="{num(x + 12)}" y2="{num(cy)}" stroke="{MUTED}" '
                f'stroke-width="1.5"{dash}/>'
            )
        else:
            out.append(f'<circle cx="{num(cx)}" cy="{num(cy)}" r="3" fill="{STANDALONE_GREY}"/>')
        out.append(text(x + 18, y, label, size=11))
        x += w
    if joint:
        y += 24
        where = "下の一覧" if groups_listed else "図の下の凡例"
        lines = [
            (f"共同調達グループ（{len(joint)}件）", 11, "bold", None),
            (
                "幹事団体名の前の数字はグループの番号、一覧の（）内は団体数です。"
                if groups_listed
                else "幹事団体名の前の数字はグループの番号です（図の下の凡例を参照）。",
                10,
                None,
                MUTED,
            ),
        ]
        if leads_unnamed:
            lines.append(
                (
                    f"地図上では重なるため、幹事団体 {leads_unnamed} 団体の名前を省いています"
                    f"（各グループの幹事団体は{where}の名前のとおりです）。",
                    10,
                    None,
                    MUTED,
                )
            )
        first = True
        for content, size, weight, fill in lines:
            for line in _wrap(content, size, width - 20):
                if not first:
                    y += size + 5
                first = False
                out.append(text(10, y, line, size=size, weight=weight, fill=fill))
        if not groups_listed:
            out.append("</g>")
            return out, y
        y += LEGEND_ROW + 2
        columns = max(1, int((width - 16) // LEGEND_COLUMN))
        rows = -(-len(joint) // columns)  # columns fill top to bottom
        column_w = (width - 16) / columns
        for i, g in enumerate(joint):
            col, row = divmod(i, rows)
            gx, gy = 10 + col * column_w, y + row * LEGEND_ROW
            opacity = 0.3 if focus and g["id"] not in focus else 1.0
            members = len(set(g.get("body_codes") or ()))
            label = str(g.get("label") or g["id"])
            entry = f"{number[g['id']]}. {label}（{members}）"
            room = column_w - 24
            shown = (
                entry
                if text_width(entry, 11) <= room
                else _fit_text(label, f"（{members}）", f"{number[g['id']]}. ", room)
            )
            out.append(
                f'<g class="legend-group" data-group="{esc(g["id"])}"><title>{esc(entry)}</title>'
                f'<rect x="{num(gx)}" y="{num(gy - 10)}" width="12" height="12" rx="2" '
                f'fill="{colour[g["id"]]}" fill-opacity="{opacity}"/>' + text(gx + 18, gy, shown, size=11) + "</g>"
            )
        y += (rows - 1) * LEGEND_ROW
    out.append("</g>")
    return out, y


def _wrap(content: str, size: float, room: float) -> list[str]:
    """Lines of at most ``room`` px (Japanese breaks between any two characters)."""
    lines, line = [], ""
    for ch in content:
        if line and text_width(line + ch, size) > room:
            lines.append(line)
            line = ""
        line += ch
    return [*lines, line] if line else lines


def _fit_text(label: str, suffix: str, prefix: str, room: float) -> str:
    """The label shortened with an ellipsis so that prefix + label + suffix fits ``room`` px at 11 px."""
    while label and text_width(f"{prefix}{label}…{suffix}", 11) > room:
        label = label[:-1]
    return f"{prefix}{label}…{suffix}"
