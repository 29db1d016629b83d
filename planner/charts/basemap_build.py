"""Build planner/data/prefecture_outlines.json from the japanmap package (run once when the package changes).

japanmap (Apache-2.0, Saito Tsutomu) ships one outline per prefecture: the land area that holds its 県庁, as
shared border arcs, already thinned to about 4,000 points for all Japan. This keeps those outlines, rounded to
four decimals (about 10 m) and keyed by the two-digit prefecture code, so that the web application does not
need japanmap (nor the OpenCV it requires) at run time. Regenerate with ``planner build-basemap``.

The package's data file is read directly, without importing the package (its import pulls in NumPy and its
raster helpers pull in OpenCV, neither of which a JSON read needs).
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
from pathlib import Path

OUTPUT = Path(__file__).resolve().parent.parent / "data" / "prefecture_outlines.json"
DIGITS = 4


def japanmap_data_file() -> Path:
    spec = importlib.util.find_spec("japanmap")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("japanmap is not installed: pip install 'kyodo-planner[dev]' (or 'japanmap>=0.6,<0.7')")
    return Path(next(iter(spec.submodule_search_locations))) / "japan.json"


def build_outlines(data_file: Path | None = None) -> dict:
    """{"source": ..., "licence": ..., "prefectures": {"20": [[lng, lat], ...], ...}} from japanmap's file."""
    data_file = data_file or japanmap_data_file()
    with data_file.open(encoding="utf-8") as f:
        points, borders = json.load(f)
    if len(borders) != 47:
        raise ValueError(f"{data_file}: expected 47 prefectures, found {len(borders)}")
    prefectures = {}
    for index, segments in enumerate(borders):
        ring: list[list[float]] = []
        for _neighbour, point_ids in segments:
            for i in point_ids:
                lng, lat = points[i][0]
                p = [round(lng, DIGITS), round(lat, DIGITS)]
                if not ring or ring[-1] != p:  # a segment starts where the previous one ended
                    ring.append(p)
        if len(ring) > 1 and ring[0] == ring[-1]:
            ring.pop()
        if len(ring) < 3:
            raise ValueError(f"{data_file}: prefecture {index + 1} has no outline")
        prefectures[f"{index + 1:02d}"] = ring
    try:
        version = importlib.metadata.version("japanmap")
    except importlib.metadata.PackageNotFoundError:
        version = "unknown"
    return {
        "source": f"japanmap {version} (PyPI), file japan.json: prefecture outlines (the land area holding each "
        "prefecture's office; outlying islands are not included)",
        "licence": "Apache License 2.0, Copyright Saito Tsutomu (https://github.com/SaitoTsutomu/japanmap); "
        "derived: rounded to 4 decimals and keyed by prefecture code by planner.charts.basemap_build",
        "coordinates": "[longitude, latitude], WGS84 degrees",
        "prefectures": prefectures,
    }


def _package_licence() -> str:
    for f in importlib.metadata.files("japanmap") or ():
        if f.name == "LICENSE":
            return f.read_text(encoding="utf-8")
    raise RuntimeError("japanmap's LICENSE file is missing from its installation")


def write_outlines(output: Path = OUTPUT, data_file: Path | None = None) -> Path:
    """Write the outlines and, beside them, the package's licence (Apache-2.0 asks that it travel with them)."""
    outlines = build_outlines(data_file)
    output.with_suffix(".LICENSE.txt").write_text(
        "planner/data/prefecture_outlines.json is derived from the data file japan.json of the japanmap package\n"
        "(https://github.com/SaitoTsutomu/japanmap, Copyright Saito Tsutomu), distributed under the licence below.\n"
        "Changes: one ring per prefecture, coordinates rounded to 4 decimals, keyed by prefecture code.\n\n"
        + _package_licence(),
        encoding="utf-8",
    )
    text = json.dumps(outlines, ensure_ascii=False, separators=(",", ":"))
    # One prefecture per line: small diffs when the package's outlines change.
    text = text.replace(',"prefectures":{', ',\n"prefectures":{\n').replace('],"', '],\n"')
    output.write_text(text + "\n", encoding="utf-8")
    return output
