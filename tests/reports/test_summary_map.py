"""The summary's map: its legend names each consortium as readers know it (分野, 幹事団体, 和暦), not by its id."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.domain.settled_plan import settled_plan_from_dict
from planner.reports.charts import summary_figures
from planner.reports.context import summary_report

from .fixtures import nagano_instance
from .plans import settled_plan_doc

NS = {"s": "http://www.w3.org/2000/svg"}
GROUPS = [
    ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
    ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
]


def test_summary_map_legend_names_category_lead_and_fiscal_year():
    instance = nagano_instance()
    s = summary_report(instance, settled_plan_from_dict(settled_plan_doc(instance, GROUPS)))
    labels = {g["id"]: g["label"] for g in s.map_groups}
    assert set(labels) == {"ocr-2026-1", "rpa-2026-1"}
    for gid, label in labels.items():
        assert gid not in label and "令和8年度" in label
    assert labels["ocr-2026-1"].startswith("AI-OCR ")
    figures = summary_figures(s)
    # The groups are listed below the map in HTML (a long list runs over pages; one SVG cannot).
    assert [(e.number, e.group_id, e.label) for e in figures.map_legend] == [
        (i + 1, g["id"], labels[g["id"]]) for i, g in enumerate(s.map_groups)
    ]
    root = ET.fromstring(figures.map_svg)
    assert root.find(".//s:g[@class='legend-group']", NS) is None
    colours = [e.colour for e in figures.map_legend]
    assert len(set(colours)) == len(colours)
    # The map's markers use the legend's colours.
    fills = {r.get("fill") for r in root.iterfind(".//s:g[@class='bodies']//s:circle", NS)}
    assert set(colours) <= fills


def test_summary_pdf_lists_the_map_legend_in_text():
    import io

    from pypdf import PdfReader

    from planner.reports import pdf

    instance = nagano_instance()
    plan = settled_plan_from_dict(settled_plan_doc(instance, GROUPS))
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.summary_pdf(instance, plan))).pages)
    text = text.replace(" ", "").replace("\n", "")
    assert "図3の凡例" in text
    s = summary_report(instance, plan)
    for g in s.map_groups:
        assert g["label"].replace(" ", "") in text
