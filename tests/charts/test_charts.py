"""The SVG charts: well-formed, CSP-safe markup whose geometry follows the data."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from planner.charts import consortium_map_svg, savings_bar_svg, waterfall_svg

NS = {"s": "http://www.w3.org/2000/svg"}

BODIES = [
    {"code": "200000", "name": "長野県", "lat": 36.3, "lng": 138.1, "prefecture_code": "20"},
    {"code": "202011", "name": "長野市", "lat": 36.65, "lng": 138.18, "prefecture_code": "20"},
    {"code": "202029", "name": "松本市", "lat": 36.24, "lng": 137.97, "prefecture_code": "20"},
    {"code": "204820", "name": "小谷村", "lat": 36.78, "lng": 137.91, "prefecture_code": "20"},
    {"code": "205214", "name": "飯田市", "lat": 35.51, "lng": 137.82, "prefecture_code": "20"},
    {"code": "999999", "name": "位置なし", "lat": None, "lng": None, "prefecture_code": "20"},
]
GROUPS = [
    {
        "id": "ocr-2026-001",
        "mode": "lead",
        "lead_body": "200000",
        "body_codes": ["202011", "204820"],
        "label": "AI-OCR 長野県",
    },
    {
        "id": "rpa-2026-001",
        "mode": "unified",
        "lead_body": "202029",
        "body_codes": ["202029", "205214"],
        "label": "RPA 松本市",
    },
    {
        "id": "rpa-2026-002",
        "mode": "standalone",
        "lead_body": "202011",
        "body_codes": ["202011"],
        "label": "RPA 長野市",
    },
]


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def assert_csp_safe(svg: str) -> None:
    # Inline style attributes and <style> elements would be blocked by the CSP (and script is never allowed).
    assert "style=" not in svg and "<style" not in svg and "<script" not in svg and "javascript:" not in svg


def body_positions(root: ET.Element) -> dict[str, tuple[float, float]]:
    out = {}
    for g in root.iterfind(".//s:g[@data-code]", NS):
        shape = g.find("s:circle", NS)
        if shape is not None:
            out[g.get("data-code")] = (float(shape.get("cx")), float(shape.get("cy")))
        else:
            rect = g.find("s:rect", NS)
            out[g.get("data-code")] = (
                float(rect.get("x")) + float(rect.get("width")) / 2,
                float(rect.get("y")) + float(rect.get("height")) / 2,
            )
    return out


def test_map_projects_bodies_north_up_inside_the_frame():
    svg = consortium_map_svg(BODIES, GROUPS, width=720, height=560)
    assert_csp_safe(svg)
    root = parse(svg)
    _, _, w, h = map(float, root.get("viewBox").split())
    assert w == 720 and h > 560 and root.get("role") == "img"  # the legend is below the 560 px map
    pos = body_positions(root)
    assert set(pos) == {"200000", "202011", "202029", "204820", "205214"}  # the body without a position is left out
    for x, y in pos.values():
        assert 0 <= x <= 720 and 0 <= y <= 560
    # North is up, east is right.
    assert pos["202011"][1] < pos["202029"][1] < pos["205214"][1]
    assert pos["204820"][0] < pos["202011"][0]
    # Equal scale on both axes after the cos(latitude) correction: distances keep their ratio.
    from planner.domain.costs import haversine_km

    by_code = {b["code"]: b for b in BODIES}

    def px_per_km(a: str, b: str) -> float:
        (xa, ya), (xb, yb) = pos[a], pos[b]
        km = haversine_km(by_code[a]["lat"], by_code[a]["lng"], by_code[b]["lat"], by_code[b]["lng"])
        return ((xa - xb) ** 2 + (ya - yb) ** 2) ** 0.5 / km

    assert px_per_km("202011", "205214") == pytest.approx(px_per_km("204820", "202011"), rel=0.03)


def test_map_colours_members_marks_leads_and_draws_a_legend():
    svg = consortium_map_svg(BODIES, GROUPS)
    root = parse(svg)
    fills = {}
    for g in root.iterfind(".//s:g[@data-code]", NS):
        shapes = list(g)
        fills[g.get("data-code")] = [s.get("fill") for s in shapes if s.get("fill")]
    # Members of one group share its colour; the lead prefecture is a square with a heavy outline.
    assert fills["202011"][-1] == fills["204820"][-1]
    assert fills["202029"][-1] == fills["205214"][-1] != fills["202011"][-1]
    pref = root.find(".//s:g[@data-code='200000']/s:rect", NS)
    assert pref is not None and pref.get("stroke-width") == "2"
    # The unified group's spokes are dashed, the lead group's solid.
    lines = root.findall(".//s:g[@class='spokes']/s:line", NS)
    assert len(lines) == 3  # two members of the lead group (host is not a member) + one of the unified group
    assert sum(1 for line in lines if line.get("stroke-dasharray")) == 1
    legend = "".join(root.find(".//s:g[@class='legend']", NS).itertext())
    assert "1. AI-OCR 長野県（2）" in legend and "2. RPA 松本市（2）" in legend and "幹事団体" in legend
    assert "RPA 長野市" not in legend  # standalone groups are not consortia
    # Tooltips name every group a body is in.
    title = root.find(".//s:g[@data-code='202011']/s:title", NS).text
    assert "AI-OCR 長野県" in title and "RPA 長野市" in title
    assert "km" in "".join(root.find(".//s:g[@class='scale-bar']/..", NS).itertext())


def test_map_highlight_fades_other_groups():
    root = parse(consortium_map_svg(BODIES, GROUPS, highlight="rpa-2026-001"))
    member = root.find(".//s:g[@data-code='205214']/s:circle", NS)
    other = root.find(".//s:g[@data-code='204820']/s:circle", NS)
    assert member.get("fill-opacity") == "1.0" and float(other.get("fill-opacity")) < 0.5


def test_map_escapes_names_and_handles_no_bodies():
    bodies = [dict(BODIES[1], name='<script>"x"</script>')]
    svg = consortium_map_svg(bodies, [])
    assert_csp_safe(svg)
    assert "&lt;script&gt;" in svg
    parse(svg)
    empty = consortium_map_svg([], [])
    assert "表示できる団体がありません" in empty
    parse(empty)


def test_map_legend_lists_every_group():
    groups = [
        {
            "id": f"g{i}",
            "mode": "lead",
            "lead_body": "202011",
            "body_codes": ["202011", "202029"],
            "label": f"グループ{i}",
        }
        for i in range(60)
    ]
    svg = consortium_map_svg(BODIES, groups, height=560)
    root = parse(svg)
    entries = root.findall(".//s:g[@class='legend-group']", NS)
    assert [e.get("data-group") for e in entries] == [f"g{i}" for i in range(60)]
    legend = "".join(root.find(".//s:g[@class='legend']", NS).itertext())
    assert "ほか" not in legend and "60. グループ59（2）" in legend
    # Every entry lies inside the drawing, below the map.
    height = float(root.get("viewBox").split()[3])
    ys = [float(e.find("s:rect", NS).get("y")) for e in entries]
    assert min(ys) > 560 and max(ys) + 12 <= height


def bar_widths(root: ET.Element) -> list[float]:
    return [float(r.get("width")) for r in root.iterfind(".//s:g/s:rect", NS)]


def test_savings_bars_scale_with_the_values_and_state_the_saving():
    rows = [("AI-OCR（文字認識）", 10_000_000, 6_000_000, 4_000_000), ("RPA", 5_000_000, 5_500_000, 5_200_000)]
    svg = savings_bar_svg(rows, width=720)
    assert_csp_safe(svg)
    root = parse(svg)
    widths = bar_widths(root)
    assert len(widths) == 6
    assert widths[1] / widths[0] == pytest.approx(0.6, rel=1e-3)
    assert widths[2] / widths[0] == pytest.approx(0.4, rel=1e-3)
    assert widths[3] / widths[0] == pytest.approx(0.5, rel=1e-3)
    text = "".join(root.itertext())
    assert "削減 600万円" in text and "増加 20万円" in text
    assert "AI-OCR（文字認識）：単独 10,000,000円、共同 6,000,000円、控除後 4,000,000円" in text


def test_savings_bars_empty():
    svg = savings_bar_svg([])
    assert "表示する費用がありません" in svg
    parse(svg)


def test_waterfall_steps_down_with_the_reductions_labelled():
    steps = [
        ("単独導入の合計", 120_000_000),
        ("共同調達後", 80_000_000),
        ("補助金（見込額）控除後", 70_000_000),
        ("特別交付税（見込額）控除後", 66_000_000),
    ]
    svg = waterfall_svg(steps, width=560)
    assert_csp_safe(svg)
    root = parse(svg)
    bars = [g.find("s:rect", NS) for g in root.iterfind("s:g", NS)]
    heights = [float(b.get("height")) for b in bars]
    assert heights[1] / heights[0] == pytest.approx(80 / 120, rel=1e-3)
    assert heights[3] / heights[0] == pytest.approx(66 / 120, rel=1e-3)
    text = "".join(root.itertext())
    assert "−4,000万円" in text and "−1,000万円" in text and "−400万円" in text
    assert "66,000,000円" in text and "特別交付税" in text


def test_waterfall_zero_and_increase():
    assert "表示する費用がありません" in waterfall_svg([("単独導入の合計", 0)])
    svg = waterfall_svg([("単独導入の合計", 100), ("共同調達後", 150)])
    assert "+50円" in svg
    parse(svg)
