"""Bodies (団体): the national master list, MIC's official figures, per-body flags, CSV export.

Every write function works inside the caller's session and flushes without committing: the caller (a CLI command
through ``session_scope``, or a web request) commits once, so an import is one transaction. Validation happens
before the first write, so a bad file leaves the database untouched even if the caller were to commit.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy import update
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from planner.db.models import Body, DataVintage, utcnow
from planner.domain.instance_io import BODY_FIELDS
from planner.domain.vocabulary import csv_text
from planner.importers.errors import FileProblems, Problem
from planner.importers.flags import FLAG_FIELDS, parse_flags_file
from planner.importers.official import BodyIndex, ParsedOfficialFile, parse_official_file
from planner.importers.tabular import Source, read_bytes
from planner.masterdata.national import master_bodies, ward_codes

from . import body_admin, transactions
from .audit import record as audit
from .effect_models import set_staff_cost

# A body's fields as the instance file has them; the flags import reads the flags back.
EXPORT_COLUMNS = BODY_FIELDS
_MASTER_FIELDS = ("name", "prefecture_code", "kind", "lat", "lng")
_FISCAL_DATASETS = ("fiscal_municipal", "fiscal_prefecture", "fiscal_designated")


# --- the national master list -------------------------------------------------------------------------------


@dataclass
class MasterSyncReport:
    added: int = 0
    updated: list[str] = field(default_factory=list)  # codes whose name/kind/position changed
    not_in_master: list[str] = field(default_factory=list)  # in the database only (kept: plans may refer to them)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated)


def sync_master_bodies(session: Session) -> MasterSyncReport:
    """Insert the bodies of the master list that are missing and correct names, kinds and positions.

    Figures (population, 財政力指数) and flags are never touched here; a second run changes nothing.
    """
    report = MasterSyncReport()
    existing = {b.code: b for b in session.exec(select(Body))}
    master_codes = set()
    for m in master_bodies():
        master_codes.add(m.code)
        body = existing.get(m.code)
        if body is None:
            session.add(
                Body(code=m.code, name=m.name, prefecture_code=m.prefecture_code, kind=m.kind, lat=m.lat, lng=m.lng)
            )
            report.added += 1
            continue
        if any(getattr(body, f) != getattr(m, f) for f in _MASTER_FIELDS):
            for f in _MASTER_FIELDS:
                setattr(body, f, getattr(m, f))
            body.version += 1
            body.updated_at = utcnow()
            report.updated.append(m.code)
    report.not_in_master = sorted(set(existing) - master_codes)
    session.flush()
    return report


def body_index(session: Session) -> BodyIndex:
    rows = session.exec(select(col(Body.code), col(Body.name), col(Body.kind), col(Body.prefecture_code))).all()
    return BodyIndex(
        names={r[0]: r[1] for r in rows},
        kinds={r[0]: r[2] for r in rows},
        prefecture_codes={r[0]: r[3] for r in rows},
        ward_codes=ward_codes(),
    )


# --- MIC's official files -----------------------------------------------------------------------------------


@dataclass
class FileReport:
    file_name: str
    dataset: str
    label: str
    as_of: date | None
    source: str
    bodies_updated: int
    skipped_rows: int
    vintage_id: int | None = None


@dataclass
class ImportReport:
    files: list[FileReport] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    missing: dict[str, list[str]] = field(default_factory=dict)  # dataset -> body codes the file had no row for

    def lines(self) -> list[str]:
        out = []
        for f in self.files:
            as_of = f.as_of.isoformat() if f.as_of else "不明"
            out.append(
                f"{f.file_name}: {f.label}（時点 {as_of}）を {f.bodies_updated} 団体に反映しました"
                f"（対象外の行 {f.skipped_rows}: 行政区・郡計・注記など）"
            )
        for dataset, codes in self.missing.items():
            shown = "、".join(codes[:10]) + ("…" if len(codes) > 10 else "")
            out.append(f"注意: {dataset} の値がファイルにない団体が {len(codes)} あります: {shown}")
        out.extend(f"注意: {w}" for w in self.warnings)
        return out


def import_official_files(
    session: Session, files: Sequence[tuple[str, Source]], user_id: int | None = None
) -> ImportReport:
    """Recognise, validate and apply MIC's official files (population, 財政力指数) in one transaction.

    ``files`` are (file name, bytes or path). Raises :class:`FileProblems` listing every problem (file, row,
    column) before anything is written.
    """
    if not files:
        raise FileProblems([Problem("（なし）", "取り込むファイルが指定されていません")])
    index = body_index(session)
    if not index.names:
        raise FileProblems(
            [Problem("（データベース）", "団体が登録されていません。先に planner init-db を実行してください")]
        )
    parsed: list[ParsedOfficialFile] = []
    problems: list[Problem] = []
    for file_name, source in files:
        try:
            parsed.append(parse_official_file(file_name, read_bytes(file_name, source), index))
        except FileProblems as e:
            problems.extend(e.problems)
    seen: dict[str, str] = {}
    for p in parsed:
        if p.dataset in seen:
            problems.append(
                Problem(p.file_name, f"「{p.label}」のファイルが2つ指定されています（{seen[p.dataset]} と重複）")
            )
        seen[p.dataset] = p.file_name
    if problems:
        raise FileProblems(problems)

    report = ImportReport()
    bodies = {b.code: b for b in session.exec(select(Body))}
    now = utcnow()
    for p in parsed:
        vintage = DataVintage(
            dataset=p.dataset,
            as_of=p.as_of,
            source=p.source[:200],
            file_name=Path(p.file_name).name[:200],
            rows=len(p.values),
            imported_by=user_id,
            imported_at=now,
        )
        session.add(vintage)
        session.flush()
        for code, values in p.values.items():
            body = bodies[code]
            changed = any(getattr(body, k) != v for k, v in values.items())
            for k, v in values.items():
                setattr(body, k, v)
            if p.dataset == "population":
                body.population_vintage_id = vintage.id
            else:
                body.fiscal_vintage_id = vintage.id
            if changed:
                body.version += 1
                body.updated_at = now
        missing = sorted(c for c, kind in index.kinds.items() if kind in p.expected_kinds and c not in p.values)
        if missing and p.dataset != "fiscal_designated":
            report.missing[p.label] = missing
        report.warnings.extend(p.warnings)
        report.files.append(
            FileReport(p.file_name, p.dataset, p.label, p.as_of, p.source, len(p.values), p.skipped_rows, vintage.id)
        )
        audit(
            session,
            user_id=user_id,
            action="import",
            entity="body",
            entity_id=p.dataset,
            after={
                "file": p.file_name,
                "as_of": p.as_of.isoformat() if p.as_of else None,
                "bodies": len(p.values),
                "vintage_id": vintage.id,
            },
            detail=f"{p.label}: {p.source}",
        )
    session.flush()
    return report


# --- flags ---------------------------------------------------------------------------------------------------


@dataclass
class FlagsReport:
    file_name: str
    rows: int
    changed: list[str]  # body codes whose flags changed
    vintage_id: int | None = None


def import_flags(
    session: Session, file_name: str, source: Source, user_id: int | None = None, prefecture_code: str | None = None
) -> FlagsReport:
    """Bulk-update 条件不利地域 and 官民データ活用推進計画 from a CSV/XLSX list.

    With ``prefecture_code`` (a prefecture coordinator), every row must be a body of that prefecture.
    """
    bodies = {b.code: b for b in session.exec(select(Body))}
    parsed = parse_flags_file(file_name, read_bytes(file_name, source), frozenset(bodies))
    if prefecture_code is not None:
        outside = [
            Problem(file_name, f"団体コード {code}（{bodies[code].name}）は管轄外の団体です", row, "code")
            for code, row in parsed.rows.items()
            if bodies[code].prefecture_code != prefecture_code
        ]
        if outside:
            raise FileProblems(outside)
    vintage = DataVintage(
        dataset="flags",
        source="利用者による一括取込",
        file_name=file_name[:200],
        rows=len(parsed.values),
        imported_by=user_id,
    )
    session.add(vintage)
    session.flush()
    changed = []
    for code, values in parsed.values.items():
        body = bodies[code]
        before = {k: getattr(body, k) for k in values}
        if all(before[k] == v for k, v in values.items()):
            continue
        _apply_flags(body, values)
        changed.append(code)
        audit(
            session,
            user_id=user_id,
            action="import",
            entity="body",
            entity_id=code,
            prefecture_code=body.prefecture_code,
            body_code=code,
            before=before,
            after=dict(values),
            detail=f"フラグ一括取込: {file_name}",
        )
    session.flush()
    return FlagsReport(file_name=file_name, rows=len(parsed.values), changed=changed, vintage_id=vintage.id)


class StaleBodyError(RuntimeError):
    """The body was changed by someone else since it was shown (optimistic locking)."""


def set_body_flags(
    session: Session,
    code: str,
    *,
    user_id: int | None,
    disadvantaged: bool | None = None,
    has_data_plan: bool | None = None,
    no_allocation_tax: bool | None = None,
    expected_version: int | None = None,
) -> Body:
    """Edit one body's flags (the web page's form). ``expected_version`` guards against lost updates."""
    body = session.get(Body, code)
    if body is None:
        raise LookupError(f"団体コード {code} に当たる団体がありません")
    if expected_version is not None and body.version != expected_version:
        raise StaleBodyError(f"{body.name} は他の利用者が更新しました。画面を開き直してから編集してください")
    values = {
        k: v
        for k, v in (
            ("disadvantaged", disadvantaged),
            ("has_data_plan", has_data_plan),
            ("no_allocation_tax", no_allocation_tax),
        )
        if v is not None
    }
    before = {k: getattr(body, k) for k in values}
    if before == values and expected_version is not None:
        # Nothing to change, as long as nobody changed it meanwhile: "saved" must be true when this commits.
        held = session.exec(
            update(Body)
            .where(col(Body.code) == code, col(Body.version) == expected_version)
            .values(version=col(Body.version))
            .execution_options(synchronize_session=False)
        ).rowcount
        if held != 1:
            raise StaleBodyError(f"{body.name} は他の利用者が更新しました。画面を開き直してから編集してください")
    if before != values:
        name = body.name  # a failed flush expires the row: its name is read first, for the message
        _apply_flags(body, values)
        try:
            # UPDATE ... WHERE version = <read> (Body's version_id_col): the database decides. Flushed before the
            # audit entry is written, whose own queries would otherwise autoflush it outside this guard.
            session.flush()
        except StaleDataError as e:
            raise StaleBodyError(f"{name} は他の利用者が更新しました。画面を開き直してから編集してください") from e
        audit(
            session,
            user_id=user_id,
            action="update",
            entity="body",
            entity_id=code,
            prefecture_code=body.prefecture_code,
            body_code=code,
            before=before,
            after=values,
        )
    return body


def _apply_flags(body: Body, values: dict[str, bool]) -> None:
    for k in FLAG_FIELDS:
        if k in values:
            setattr(body, k, values[k])
    body.version += 1
    body.updated_at = utcnow()


# --- reading ------------------------------------------------------------------------------------------------


def export_bodies_csv(session: Session, out: TextIO, prefecture_code: str | None = None) -> int:
    """Write the bodies table as CSV (columns :data:`EXPORT_COLUMNS`); returns the number of bodies."""
    query = select(Body).order_by(col(Body.code))
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    n = 0
    for b in session.exec(query):
        writer.writerow(
            [
                b.code,
                csv_text(b.name),
                b.prefecture_code,
                b.kind,
                "" if b.population is None else b.population,
                "" if b.fiscal_strength_index is None else repr(b.fiscal_strength_index),
                repr(b.lat),
                repr(b.lng),
                int(b.disadvantaged),
                int(b.has_data_plan),
                int(b.no_allocation_tax),
            ]
        )  # repr: the shortest text that reads back exactly
        n += 1
    return n


def bodies_csv_text(session: Session, prefecture_code: str | None = None) -> str:
    buf = io.StringIO()
    export_bodies_csv(session, buf, prefecture_code)
    return buf.getvalue()


@dataclass(frozen=True)
class PopulationStatus:
    """Whether population figures are in the database (features that split by population need them)."""

    bodies: int
    missing_codes: tuple[str, ...]
    as_of: date | None

    @property
    def imported(self) -> bool:
        return not self.missing_codes

    @property
    def message(self) -> str:
        if self.imported:
            return ""
        if len(self.missing_codes) == self.bodies:
            return (
                "人口がまだ取り込まれていません。管理者が総務省の住民基本台帳人口ファイルを取り込むと、"
                "人口割の按分と人口からの利用量の目安が使えます"
            )
        return f"人口が未取込の団体が {len(self.missing_codes)} あります（人口割の按分では 0 人として扱われます）"


def population_status(
    session: Session, codes: Iterable[str] | None = None, prefecture_code: str | None = None
) -> PopulationStatus:
    query = select(col(Body.code), col(Body.population), col(Body.population_vintage_id))
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    rows = session.exec(query).all()
    if codes is not None:
        wanted = set(codes)
        rows = [r for r in rows if r[0] in wanted]
    missing = tuple(sorted(r[0] for r in rows if r[1] is None))
    vintage_ids = {r[2] for r in rows if r[2] is not None}
    as_of = None
    if vintage_ids:
        vintages = session.exec(select(DataVintage).where(col(DataVintage.id).in_(vintage_ids))).all()
        as_of = max((v.as_of for v in vintages if v.as_of), default=None)
    return PopulationStatus(bodies=len(rows), missing_codes=missing, as_of=as_of)


def latest_vintages(session: Session) -> dict[str, DataVintage]:
    """The newest import of each dataset (for the data page: 'population as of 2022-01-01, 総務省 ...')."""
    out: dict[str, DataVintage] = {}
    for v in session.exec(select(DataVintage).order_by(col(DataVintage.id))):
        out[v.dataset] = v
    return out


def read_path_sources(paths: Iterable[Path]) -> list[tuple[str, Source]]:
    return [(Path(p).name, Path(p)) for p in paths]


def import_history(session: Session, limit: int = 30) -> list[DataVintage]:
    """The latest official-data imports, newest first (the administration page's history)."""
    return list(
        session.exec(
            select(DataVintage).order_by(col(DataVintage.imported_at).desc(), col(DataVintage.id).desc()).limit(limit)
        )
    )


STAFF_COST_CONFLICT = "ほかの利用者が先に団体の情報を更新しました。最新の内容を確認して、もう一度入力してください"


def save_staff_cost(session: Session, body: Body, yen_per_hour: int | None, user_id: int | None) -> bool:
    """A body's staff cost per hour (planner.services.effect_models.set_staff_cost) as one transaction: whether it
    changed; ValueError for a figure out of range, :class:`StaleBodyError` when another edit of the body won."""
    try:
        return transactions.run(session, set_staff_cost, body, yen_per_hour, user_id)
    except StaleDataError:  # Body's version_id_col: the row changed since it was read
        raise StaleBodyError(STAFF_COST_CONFLICT) from None


def bodies_csv_download(session: Session, prefecture_code: str | None, user_id: int | None) -> str:
    """The bodies list as CSV text, its export recorded in the audit log (the caller commits)."""
    text = bodies_csv_text(session, prefecture_code)
    audit(
        session,
        user_id=user_id,
        action="export",
        entity="body",
        entity_id=prefecture_code or "all",
        prefecture_code=prefecture_code,
        detail="団体一覧 CSV を出力",
    )
    return text


@dataclass(frozen=True)
class FlagsPreview:
    """What a flags file would change, found by running the real import and rolling it back: the report (None when
    the file has problems), each changed body's flags before and after, the problems, and the fingerprint of the
    flags the preview was made against (a confirmation made against other flags is refused)."""

    report: FlagsReport | None
    changes: list[dict[str, Any]]
    problems: list[Problem] | None
    basis: str


def preview_flags_import(
    session: Session, file_name: str, data: bytes, *, user_id: int | None, prefecture_code: str | None
) -> FlagsPreview:
    before = body_admin.flag_snapshot(session, prefecture_code)
    basis = body_admin.flags_fingerprint(session, prefecture_code)
    try:
        report = import_flags(session, file_name, data, user_id=user_id, prefecture_code=prefecture_code)
        changes = []
        for code in report.changed:
            body = session.get(Body, code)
            assert body is not None  # the import just changed it
            name, dis, plan, no_tax = before[code] if code in before else (body.name, None, None, None)
            changes.append(
                {
                    "code": code,
                    "name": name,
                    "before": (dis, plan, no_tax),
                    "after": (body.disadvantaged, body.has_data_plan, body.no_allocation_tax),
                }
            )
        return FlagsPreview(report, changes, None, basis)
    except FileProblems as e:
        return FlagsPreview(None, [], e.problems, basis)
    finally:
        session.rollback()
