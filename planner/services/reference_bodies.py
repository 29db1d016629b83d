"""Reference figures shipped with the product: population, households and 財政力指数 per body code, derived from
MIC's official files by the project's own importer (planner.importers.official).

``planner build-reference-data FILES...`` reads the official xlsx files as MIC publishes them and writes the
compact derived file planner/data/reference_bodies.json, with each dataset's source, date and the licence notice;
the official files themselves are never copied into the project. ``planner init-db`` loads the derived file into
bodies that have no figure yet, or only an older one, so a new installation shows real populations; importing a
newer official file (``planner import-official`` or the admin data page) still replaces the figures.

Licence: the figures are 総務省's, used and processed under the 政府標準利用規約（第2.0版）, which requires the
credit 「出典：総務省」 and a note that the data was processed; every place that shows them says so (CREDIT).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import Body, DataVintage, utcnow
from planner.importers.errors import FileProblems, Problem
from planner.importers.official import SOURCE_URLS, BodyIndex, ParsedOfficialFile, parse_official_file
from planner.masterdata.credit import DATA_CREDIT, LICENCE
from planner.masterdata.national import master_bodies, ward_codes

from .reference_data import DATA_DIR

REFERENCE_FILE = DATA_DIR / "reference_bodies.json"
FORMAT = "kyodo-planner-reference-bodies/1"
CREDIT = DATA_CREDIT
SHIPPED_FILE_NAME = "reference_bodies.json（同梱の加工データ）"
COLUMNS = ("code", "population", "households", "fiscal_strength_index")
# Fiscal datasets in the order they are applied: a designated city's own file wins over the all-municipalities one.
_FISCAL_ORDER = ("fiscal_municipal", "fiscal_designated", "fiscal_prefecture")


def master_index() -> BodyIndex:
    """The body index of the national master list (no database needed to build the dataset)."""
    bodies = master_bodies()
    return BodyIndex(
        names={b.code: b.name for b in bodies},
        kinds={b.code: b.kind for b in bodies},
        prefecture_codes={b.code: b.prefecture_code for b in bodies},
        ward_codes=ward_codes(),
    )


def build_reference_dataset(paths: Iterable[Path], built_on: date | None = None) -> dict[str, Any]:
    """The derived dataset from MIC's official files (a population file and the three fiscal files)."""
    index = master_index()
    parsed: list[ParsedOfficialFile] = []
    problems: list[Problem] = []
    for path in paths:
        try:
            parsed.append(parse_official_file(Path(path).name, Path(path).read_bytes(), index))
        except FileProblems as e:
            problems.extend(e.problems)
    seen: dict[str, str] = {}
    for p in parsed:
        if p.dataset in seen:
            problems.append(
                Problem(p.file_name, f"「{p.label}」のファイルが2つ指定されています（{seen[p.dataset]} と重複）")
            )
        seen[p.dataset] = p.file_name
    if "population" not in seen:
        problems.append(
            Problem("（指定ファイル）", "住民基本台帳に基づく人口・世帯数（市区町村別）のファイルがありません")
        )
    if problems:
        raise FileProblems(problems)
    by_dataset = {p.dataset: p for p in parsed}
    values: dict[str, dict[str, Any]] = {code: {} for code in index.names}
    fiscal_of: dict[str, str] = {}
    for dataset in ("population", *_FISCAL_ORDER):
        official = by_dataset.get(dataset)
        if official is None:
            continue
        for code, figures in official.values.items():
            values[code].update(figures)
            if dataset != "population":
                fiscal_of[code] = dataset
    rows = []
    for code in sorted(values):
        v = values[code]
        if not v:
            continue
        rows.append(
            [code, v.get("population"), v.get("households"), v.get("fiscal_strength_index"), fiscal_of.get(code)]
        )
    datasets = [
        {
            "dataset": p.dataset,
            "label": p.label,
            "source": p.source,
            "as_of": p.as_of.isoformat() if p.as_of else None,
            "file_name": Path(p.file_name).name,
            "url": SOURCE_URLS["population" if p.dataset == "population" else "fiscal"],
            "bodies": len(p.values),
        }
        for p in sorted(parsed, key=lambda p: ("population", *_FISCAL_ORDER).index(p.dataset))
    ]
    return {
        "format": FORMAT,
        "built_on": (built_on or date.today()).isoformat(),
        "built_by": "planner build-reference-data（planner/importers/official.py で読み取り）",
        "licence": LICENCE,
        "credit": CREDIT,
        "datasets": datasets,
        "columns": [*COLUMNS, "fiscal_dataset"],
        "rows": rows,
    }


def write_reference_dataset(doc: dict[str, Any], path: Path = REFERENCE_FILE) -> None:
    # One body per line: small diffs when a newer official file is built in.
    head = json.dumps({k: v for k, v in doc.items() if k != "rows"}, ensure_ascii=False, indent=1)
    rows = ",\n".join("  " + json.dumps(r, ensure_ascii=False) for r in doc["rows"])
    Path(path).write_text(head[:-2] + ',\n "rows": [\n' + rows + "\n ]\n}\n", encoding="utf-8")


def read_reference_dataset(path: Path = REFERENCE_FILE) -> dict[str, Any] | None:
    if not Path(path).is_file():
        return None
    doc = json.loads(Path(path).read_text(encoding="utf-8"))
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ValueError(f"{path}: 形式が {FORMAT} ではありません")
    return doc


@dataclass
class ReferenceLoadReport:
    population: int = 0  # bodies given the shipped population
    fiscal: int = 0  # bodies given the shipped 財政力指数
    as_of: dict[str, str] = field(default_factory=dict)  # dataset -> as-of date
    available: bool = True

    def line(self) -> str:
        if not self.available:
            return "参考データ（人口・財政力指数）: 同梱ファイルがありません"
        if not (self.population or self.fiscal):
            return "参考データ（人口・財政力指数）: 変更なし"
        return (
            f"参考データ（総務省の公表データを加工）: 人口 {self.population} 団体、財政力指数 {self.fiscal} 団体に設定しました"
            f"（時点 {', '.join(sorted(set(self.as_of.values())))}）"
        )


def load_reference_bodies(session: Session, path: Path = REFERENCE_FILE) -> ReferenceLoadReport:
    """Give every body without a figure, or with one older than the shipped one, the shipped figure.

    Idempotent: the shipped vintages are created once; a body whose figure came from a newer (or the same)
    vintage is left alone, so official files imported later are never overwritten by a re-run."""
    doc = read_reference_dataset(path)
    report = ReferenceLoadReport()
    if doc is None:
        report.available = False
        return report
    datasets = {d["dataset"]: d for d in doc["datasets"]}
    vintages: dict[str, DataVintage] = {}
    for name, d in datasets.items():
        as_of = date.fromisoformat(d["as_of"]) if d.get("as_of") else None
        existing = session.exec(
            select(DataVintage).where(
                col(DataVintage.dataset) == name,
                col(DataVintage.file_name) == SHIPPED_FILE_NAME,
                col(DataVintage.as_of) == as_of,
            )
        ).first()
        if existing is None:
            existing = DataVintage(
                dataset=name,
                as_of=as_of,
                file_name=SHIPPED_FILE_NAME,
                source=f"{d['source']}（同梱の加工データ、{doc['built_on']} 作成）"[:200],
                rows=int(d.get("bodies", 0)),
            )
            session.add(existing)
            session.flush()
        vintages[name] = existing
        report.as_of[name] = d.get("as_of") or "不明"
    known = {v.id: v.as_of for v in session.exec(select(DataVintage))}
    bodies = {b.code: b for b in session.exec(select(Body))}
    position = {c: i for i, c in enumerate(doc["columns"])}
    now = utcnow()

    def older(vintage_id: int | None, shipped: DataVintage) -> bool:
        if vintage_id is None:
            return True
        if vintage_id == shipped.id:
            return False
        current = known.get(vintage_id)
        return current is None or (shipped.as_of is not None and current < shipped.as_of)

    for row in doc["rows"]:
        body = bodies.get(row[position["code"]])
        if body is None:
            continue
        changed = False
        population = vintages.get("population")
        if (
            population is not None
            and row[position["population"]] is not None
            and older(body.population_vintage_id, population)
        ):
            body.population = int(row[position["population"]])
            hh = row[position["households"]]
            body.households = None if hh is None else int(hh)
            body.population_vintage_id = population.id
            report.population += 1
            changed = True
        fiscal = vintages.get(row[position["fiscal_dataset"]] or "")
        if (
            fiscal is not None
            and row[position["fiscal_strength_index"]] is not None
            and older(body.fiscal_vintage_id, fiscal)
        ):
            body.fiscal_strength_index = float(row[position["fiscal_strength_index"]])
            body.fiscal_vintage_id = fiscal.id
            report.fiscal += 1
            changed = True
        if changed:
            body.version += 1
            body.updated_at = now
    session.flush()
    return report
