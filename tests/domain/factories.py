"""Small hand-made instances for domain tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path

from planner.domain.instance_io import parse_instance

PRICE_BOOK = Path(__file__).resolve().parents[2] / "planner" / "data" / "price_book_reference.json"


def reference_categories(*ids: str) -> list[dict]:
    book = json.loads(PRICE_BOOK.read_text(encoding="utf-8"))
    cats = [{k: v for k, v in c.items() if k != "volume_per_10k_pop"} for c in book["categories"]]
    return [c for c in cats if not ids or c["id"] in ids]


def body(
    code: str,
    name: str,
    lat: float,
    lng: float,
    *,
    pref: str | None = None,
    kind: str = "town",
    population: int = 10000,
    fsi: float = 0.4,
    disadvantaged: bool = False,
    has_data_plan: bool = True,
    no_allocation_tax: bool = False,
) -> dict:
    return {
        "code": code,
        "name": name,
        "prefecture_code": pref or code[:2],
        "kind": kind,
        "population": population,
        "fiscal_strength_index": fsi,
        "lat": lat,
        "lng": lng,
        "disadvantaged": disadvantaged,
        "has_data_plan": has_data_plan,
        "no_allocation_tax": no_allocation_tax,
    }


def need(
    nid: str,
    body_code: str,
    category: str = "ocr",
    volume: float = 10.0,
    start_year: int = 2026,
    modes=("lead", "unified"),
    can_lead: bool = False,
    serves_disadvantaged_area: bool = False,
) -> dict:
    return {
        "id": nid,
        "body": body_code,
        "category": category,
        "volume": volume,
        "start_year": start_year,
        "modes": list(modes),
        "can_lead": can_lead,
        "serves_disadvantaged_area": serves_disadvantaged_area,
    }


def instance_doc(
    bodies: list[dict],
    needs: list[dict],
    *,
    categories: list[dict] | None = None,
    hosts: list[dict] | None = None,
    geography: dict | None = None,
    together=(),
    apart=(),
    fixed=(),
    allocation: dict | None = None,
    horizon: int = 5,
) -> dict:
    return {
        "format": "kyodo-planner-instance/1",
        "name": "test",
        "fiscal_year": 2026,
        "horizon_years": horizon,
        "bodies": copy.deepcopy(bodies),
        "categories": categories or reference_categories("ocr"),
        "hosts": hosts or [],
        "needs": copy.deepcopy(needs),
        "rules": {
            "geography": geography or {"type": "same_prefecture"},
            "together": [list(p) for p in together],
            "apart": [list(p) for p in apart],
            "fixed": list(fixed),
        },
        "allocation": allocation or {"method": "equal", "weights": {}},
    }


def make_instance(*args, **kwargs):
    return parse_instance(instance_doc(*args, **kwargs))
