"""The consortium map on real data: outlines under it, distinct colours, names that never overlap, every group in
the legend, and names legible in WeasyPrint (no white text outline)."""

from __future__ import annotations

import itertools
import random
import xml.etree.ElementTree as ET

import pytest

from planner.charts import consortium_map_svg
from planner.charts.basemap import point_in_ring, prefecture_outlines
from planner.charts.consortium_map import group_colours
from planner.charts.labels import Box, LabelRequest, place_labels, text_width
from planner.charts.svg import STANDALONE_GREY
from planner.masterdata.national import master_bodies

NS = {"s": "http://www.w3.org/2000/svg"}


def _bodies(prefecture: str) -> list[dict]:
    return [
        {"code": b.code, "name": b.name, "lat": b.lat, "lng": b.lng, "prefecture_code": b.prefecture_code}
        for b in master_bodies()
        if b.prefecture_code == prefecture
    ]


def _groups(bodies: list[dict], count: int, seed: int = 7) -> list[dict]:
    rnd = random.Random(seed)
    codes = [b["code"] for b in bodies]
    names = {b["code"]: b["name"] for b in bodies}
    out = []
    for i in range(count):
        lead = rnd.choice(codes)
        members = sorted(set(rnd.sample(codes, rnd.randint(2, 9))) | {lead})
        out.append(
            {
                "id": f"g{i}",
                "mode": rnd.choice(["lead", "unified"]),
                "lead_body": lead,
                "body_codes": members,
                "label": f"AI-OCR {names[lead]} 2027",
            }
        )
    return out


def _lab(hex_colour: str) -> tuple[float, float, float]:
    """sRGB hex to CIELAB (D65)."""
    rgb = [int(hex_colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    lin = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in rgb]
    x = (0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2]) / 0.95047
    y = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    z = (0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2]) / 1.08883
    f = [t ** (1 / 3) if t > 0.008856 else 7.787 * t + 16 / 116 for t in (x, y, z)]
    return 116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])


def _delta_e(a: str, b: str) -> float:
    return sum((p - q) ** 2 for p, q in zip(_lab(a), _lab(b), strict=False)) ** 0.5


def test_forty_group_colours_are_distinct_from_each_other_and_from_the_grey_of_standalone_bodies():
    colours = group_colours(40)
    assert len(set(colours)) == 40
    closest = min(_delta_e(a, b) for a, b in itertools.combinations(colours, 2))
    assert closest > 10, closest  # CIE76: about 2.3 is just noticeable; 10 is plainly different side by side
    assert min(_delta_e(c, STANDALONE_GREY) for c in colours) > 10
    assert all(_lab(c)[0] < 85 for c in colours)  # none too light to see on the white land


def test_a_dense_map_gives_every_group_its_own_colour_and_number_and_lists_them_all():
    bodies = _bodies("20")
    groups = _groups(bodies, 36)
    root = ET.fromstring(consortium_map_svg(bodies, groups, width=760, height=600))
    legend = root.findall(".//s:g[@class='legend-group']", NS)
    assert len(legend) == 36
    fills = [e.find("s:rect", NS).get("fill") for e in legend]
    assert len(set(fills)) == 36
    texts = ["".join(e.find("s:text", NS).itertext()) for e in legend]
    assert [t.split(".")[0] for t in texts] == [str(i) for i in range(1, 37)]


def _label_boxes(root: ET.Element) -> list[Box]:
    out = []
    for g in root.iterfind(".//s:g[@class='label']", NS):
        r = g.find("s:rect", NS)
        out.append(Box(float(r.get("x")), float(r.get("y")), float(r.get("width")), float(r.get("height"))))
    return out


@pytest.mark.parametrize(
    "prefecture,groups,width", [("20", 36, 760), ("20", 12, 560), ("13", 30, 760), ("01", 40, 720)]
)
def test_names_never_overlap_and_stay_on_the_map(prefecture, groups, width):
    bodies = _bodies(prefecture)
    root = ET.fromstring(consortium_map_svg(bodies, _groups(bodies, groups), width=width, height=520))
    boxes = _label_boxes(root)
    assert len(boxes) >= min(groups, 10)
    for a, b in itertools.combinations(boxes, 2):
        assert not a.intersects(b), (a, b)
    for box in boxes:
        assert 0 <= box.x and box.right <= width and 0 <= box.y and box.bottom <= 520


def test_every_lead_is_named_or_the_legend_says_how_many_are_not():
    bodies = _bodies("20")
    groups = _groups(bodies, 36)
    root = ET.fromstring(consortium_map_svg(bodies, groups, width=760, height=600))
    named = {g.get("data-label") for g in root.iterfind(".//s:g[@class='label']", NS)}
    leads = {g["lead_body"] for g in groups}
    missing = leads - named
    legend = "".join(root.find(".//s:g[@class='legend']", NS).itertext())
    if missing:
        assert f"幹事団体 {len(missing)} 団体の名前を省いています" in legend
    else:
        assert "省いています" not in legend


def test_names_sit_on_a_box_without_a_text_outline():
    """WeasyPrint ignores paint-order, so a white text stroke covered the letters (the white smear in the PDF)."""
    bodies = _bodies("20")
    svg = consortium_map_svg(bodies, _groups(bodies, 8))
    root = ET.fromstring(svg)
    assert "paint-order" not in svg
    for el in root.iter():
        if el.tag.endswith("}text") or (el.tag.endswith("}g") and el.get("class") == "names"):
            assert el.get("stroke") is None
    for g in root.iterfind(".//s:g[@class='label']", NS):
        assert g.find("s:rect", NS).get("fill") == "#FFFFFF" and g.find("s:text", NS) is not None


def test_prefecture_outlines_are_drawn_under_the_bodies():
    bodies = _bodies("20")
    root = ET.fromstring(consortium_map_svg(bodies, _groups(bodies, 5), width=760, height=600))
    polygons = {p.get("data-prefecture"): p for p in root.iterfind(".//s:g[@class='prefectures']/s:polygon", NS)}
    # 長野県 and its eight neighbours (新潟 富山 岐阜 愛知 静岡 山梨 埼玉 群馬) are in view.
    assert {"20", "15", "16", "21", "23", "22", "19", "11", "10"} <= set(polygons)
    assert polygons["20"].get("fill") == "#FFFFFF" and polygons["15"].get("fill") != "#FFFFFF"
    # The outline is under the bodies (drawn first) and clipped to the map.
    children = [c.get("class") for c in root.iter() if c.get("class") in ("prefectures", "bodies")]
    assert children == ["prefectures", "bodies"]
    # Nearly every body of the prefecture projects inside its outline (islands and border towns may sit on it).
    ring = prefecture_outlines()["20"].ring
    inside = sum(point_in_ring(b["lng"], b["lat"], ring) for b in bodies)
    assert inside >= 0.95 * len(bodies)


def test_every_prefecture_has_an_outline_in_the_shipped_file():
    outlines = prefecture_outlines()
    assert sorted(outlines) == [f"{i:02d}" for i in range(1, 48)]
    assert all(len(o.ring) >= 10 for o in outlines.values())


def test_place_labels_keeps_boxes_apart_and_inside_the_frame():
    rnd = random.Random(3)
    frame = Box(0, 0, 400, 300)
    requests = [
        LabelRequest(str(i), rnd.uniform(0, 400), rnd.uniform(0, 300), text_width("長野市", 11) + 8, 17)
        for i in range(80)
    ]
    placed, left_out = place_labels(requests, frame)
    assert len(placed) + len(left_out) == 80 and len(placed) > 20
    for a, b in itertools.combinations([p.box for p in placed], 2):
        assert not a.intersects(b)
    assert all(p.box.inside(frame) for p in placed)


def test_place_labels_puts_a_lone_label_beside_its_point_and_moves_a_crowded_one_with_a_leader():
    frame = Box(0, 0, 300, 200)
    first, second = LabelRequest("a", 100, 100, 60, 16), LabelRequest("b", 104, 100, 60, 16)
    placed, left_out = place_labels([first, second], frame)
    assert not left_out
    assert placed[0].leader is None and placed[0].box.x == pytest.approx(100 + 4 + 3)  # right of the point
    assert not placed[0].box.intersects(placed[1].box)


def test_the_shipped_outlines_are_what_build_basemap_makes_from_the_package(tmp_path):
    pytest.importorskip("japanmap", reason="japanmap (dev extra) builds the outlines; not needed at run time")
    from importlib import resources

    from planner.charts.basemap_build import write_outlines

    built = write_outlines(tmp_path / "prefecture_outlines.json")
    shipped = resources.files("planner").joinpath("data", "prefecture_outlines.json").read_text(encoding="utf-8")
    assert built.read_text(encoding="utf-8") == shipped
    assert "Apache License" in (tmp_path / "prefecture_outlines.LICENSE.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("width", [360, 560, 760])
def test_legend_lines_fit_the_width_of_the_drawing(width):
    bodies = _bodies("20")
    root = ET.fromstring(consortium_map_svg(bodies, _groups(bodies, 36), width=width, height=400))
    for t in root.find(".//s:g[@class='legend']", NS).iter("{http://www.w3.org/2000/svg}text"):
        content = "".join(t.itertext())
        size = float(t.get("font-size") or 12)
        assert float(t.get("x")) + text_width(content, size) <= width, content
