"""The summary's map: its legend names each consortium as readers know it (分野, 幹事団体, 和暦), not by its id."""
from __future__ import annotations

import xml.etree.ElementTree as ET

from planner.domain.plan import plan_from_dict
from planner.reports.charts import summary_figures
from planner.reports.context import summary_report

from .fixtures import nagano_instance
from .plans import settled_plan_doc

NS = {"s": "http://www.w3.org/2000/svg"}
GROUPS = [("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
          ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"])]


def test_summary_map_legend_names_category_lead_and_fiscal_year():
    instance = nagano_instance()
    s = summary_report(instance, plan_from_dict(settled_plan_doc(instance, GROUPS)))
    labels = {g["id"]: g["label"] for g in s.map_groups}
    assert set(labels) == {"ocr-2026-1", "rpa-2026-1"}
    for gid, label in labels.items():
        assert gid not in label and "令和8年度" in label
    assert labels["ocr-2026-1"].startswith("AI-OCR ")
    root = ET.fromstring(summary_figures(s).map_svg)
    legend = "".join(root.find(".//s:g[@class='legend']", NS).itertext())
    assert all(label in legend for label in labels.values())
    assert "ocr-2026-1" not in legend
