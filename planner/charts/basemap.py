"""The base map under the consortium map: prefecture outlines shipped in planner/data (nothing is fetched).

The outlines come from the japanmap package (see planner/charts/basemap_build.py and
planner/data/prefecture_outlines.LICENSE.txt). Municipal outlines are not drawn: no maintained package
installable from PyPI ships them for offline use.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True)
class PrefectureOutline:
    code: str  # "20"
    ring: tuple[tuple[float, float], ...]  # (lng, lat)
    west: float
    south: float
    east: float
    north: float

    def intersects(self, west: float, south: float, east: float, north: float) -> bool:
        return not (self.east < west or self.west > east or self.north < south or self.south > north)


@lru_cache(maxsize=1)
def prefecture_outlines() -> dict[str, PrefectureOutline]:
    with resources.files("planner").joinpath("data", "prefecture_outlines.json").open(encoding="utf-8") as f:
        data = json.load(f)
    out = {}
    for code, ring in data["prefectures"].items():
        pts = tuple((float(lng), float(lat)) for lng, lat in ring)
        lngs = [p[0] for p in pts]
        lats = [p[1] for p in pts]
        out[code] = PrefectureOutline(code, pts, min(lngs), min(lats), max(lngs), max(lats))
    return out


def point_in_ring(x: float, y: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Even-odd rule: whether (x, y) lies inside the polygon ``ring``."""
    inside = False
    j = len(ring) - 1
    for i, (xi, yi) in enumerate(ring):
        xj, yj = ring[j]
        if (yi > y) != (yj > y) and x < (xj - xi) * (y - yi) / (yj - yi) + xi:
            inside = not inside
        j = i
    return inside
