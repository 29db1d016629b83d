"""Reference data kept as editable, versioned rows: the price book (単価表) and the subsidy rule sets.

The shipped files (planner/data/price_book_reference.json, planner/data/subsidy_rules/*.json) are loaded by
``planner init-db`` when their version is absent; administrators then create new versions from edits. Old
versions are kept, because plans record the version they were solved with.
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import Category as CategoryRow
from planner.db.models import PriceBook, PriceEntry, SubsidyRuleSet
from planner.db.rows import id_of
from planner.domain.instance_io import INSTANCE_FORMAT, InstanceError, parse_instance
from planner.domain.model import JOINT_MODES, MODES, Category
from planner.domain.subsidy_rules import validate_rules

from .audit import record as audit
from .problems import Problem, problems_of

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
REFERENCE_PRICE_BOOK = DATA_DIR / "price_book_reference.json"
SUBSIDY_RULES_DIR = DATA_DIR / "subsidy_rules"

PRICE_FIELDS = ("fixed_initial", "fixed_annual", "member_initial", "member_annual", "per_km_annual")
EDITABLE_FIELDS = (*PRICE_FIELDS, "lines", "max_members")
_CATEGORY_FIELDS = ("name", "group", "unit", "sat_program", "volume_per_10k_pop")


class ReferenceDataError(ValueError):
    """Reference data that cannot be used; ``problems`` say where and what (Japanese)."""

    def __init__(self, problems: Iterable[Problem | str]):
        self.problems = problems_of(problems)  # each one a Problem: the text, and the field or path it is about
        super().__init__("\n".join(self.problems))


# --- price book ---------------------------------------------------------------------------------------------


def validate_price_book_document(doc: Any, where: str = "単価表") -> list[str]:
    """Problems of a price-book document (the layout of price_book_reference.json); empty when it is usable."""
    if not isinstance(doc, dict):
        return [f"{where}: JSON オブジェクトではありません"]
    problems = []
    for key in ("version", "categories"):
        if key not in doc:
            problems.append(f"{where}: 「{key}」がありません")
    if problems:
        return problems
    if not isinstance(doc["version"], str) or not doc["version"].strip() or len(doc["version"]) > 40:
        problems.append(f"{where}: version は 40 文字以内の文字列にしてください")
    # The domain's instance reader knows every rule a category's prices must follow (non-negative integer yen,
    # concave volume-discount lines, max_members of joint modes); a price book is checked as an instance
    # without bodies or needs, so both always agree.
    try:
        parse_instance(
            {
                "format": INSTANCE_FORMAT,
                "name": "price-book",
                "fiscal_year": 2026,
                "horizon_years": doc.get("horizon_years", 5),
                "bodies": [],
                "needs": [],
                "categories": doc["categories"],
            }
        )
    except InstanceError as e:
        problems.extend(f"{where}: {p}" for p in e.problems)
    return problems


def _entry_dict(entry: PriceEntry) -> dict[str, Any]:
    d: dict[str, Any] = {f: getattr(entry, f) for f in PRICE_FIELDS}
    d["lines"] = [list(line) for line in entry.lines]
    if entry.mode in JOINT_MODES:
        d["max_members"] = entry.max_members
    return d


def price_book_document(session: Session, book: PriceBook) -> dict[str, Any]:
    """A stored price book in the layout of price_book_reference.json (for export, editing and checking): the
    caller's own copy, free to change."""
    return copy.deepcopy(stored_price_book(session, book).doc)


@dataclass(frozen=True)
class StoredPriceBook:
    """A price book's document, read once per process: a stored book never changes (its entries are written with
    it, and edits make a new version), so the pages that read it on every request (the need form's estimates, the
    inputs check of a published plan) do not query and rebuild it each time. ``digest`` names its content."""

    doc: dict[str, Any]  # shared: read it, never change it (price_book_document gives a copy)
    digest: str


# a stored book's row as read (id, version, created, horizon, label, source, note): changed when the row is
_BookKey = tuple[int | None, str, datetime, int, str, str, str]
_BOOKS: dict[_BookKey, StoredPriceBook] = {}
_BOOKS_LOCK = threading.Lock()
_BOOKS_KEPT = 16  # versions; a deployment has a handful


def stored_price_book(session: Session, book: PriceBook) -> StoredPriceBook:
    """The book's document, shared and not to be changed (see :class:`StoredPriceBook`). Keyed by the row's id,
    version and creation time: a book rolled back and another stored under the same id are told apart."""
    key = (book.id, book.version, book.created_at, book.horizon_years, book.label, book.source, book.note)
    with _BOOKS_LOCK:
        found = _BOOKS.get(key)
    if found is not None:
        return found
    doc = _read_price_book(session, book)
    text = json.dumps(doc, ensure_ascii=False, sort_keys=True, default=str)
    found = StoredPriceBook(doc, hashlib.sha256(text.encode("utf-8")).hexdigest())
    if book.id is not None and not session.new and not session.dirty:  # only what is stored is kept
        with _BOOKS_LOCK:
            if len(_BOOKS) >= _BOOKS_KEPT:
                _BOOKS.clear()
            _BOOKS[key] = found
    return found


def _read_price_book(session: Session, book: PriceBook) -> dict[str, Any]:
    categories = {c.id: c for c in session.exec(select(CategoryRow))}
    entries: dict[str, dict[str, PriceEntry]] = {}
    for e in session.exec(select(PriceEntry).where(col(PriceEntry.price_book_id) == book.id)):
        entries.setdefault(e.category_id, {})[e.mode] = e
    out = []
    for cid in sorted(entries, key=lambda c: (categories[c].sort_order, c)):
        cat = categories[cid]
        rec: dict[str, Any] = {"id": cid, **{f: getattr(cat, f) for f in _CATEGORY_FIELDS}}
        for mode in MODES:
            if mode in entries[cid]:
                rec[mode] = _entry_dict(entries[cid][mode])
        out.append(rec)
    return {
        "version": book.version,
        "label": book.label,
        "source": book.source,
        "note": book.note,
        "horizon_years": book.horizon_years,
        "categories": out,
    }


def _store_price_book(session: Session, doc: Mapping[str, Any], *, user_id: int | None) -> PriceBook:
    existing_categories = {c.id for c in session.exec(select(CategoryRow))}
    for order, cat in enumerate(doc["categories"]):
        if cat["id"] not in existing_categories:
            session.add(
                CategoryRow(
                    id=cat["id"],
                    name=cat.get("name", cat["id"]),
                    group=cat.get("group", ""),
                    unit=cat.get("unit", ""),
                    sat_program=cat.get("sat_program", ""),
                    volume_per_10k_pop=cat.get("volume_per_10k_pop"),
                    sort_order=order,
                )
            )
    book = PriceBook(
        version=doc["version"],
        label=doc.get("label", "参考値"),
        source=doc.get("source", ""),
        note=doc.get("note", ""),
        horizon_years=doc.get("horizon_years", 5),
        created_by=user_id,
    )
    session.add(book)
    session.flush()
    for cat in doc["categories"]:
        for mode in MODES:
            p = cat[mode]
            session.add(
                PriceEntry(
                    price_book_id=id_of(book),
                    category_id=cat["id"],
                    mode=mode,
                    lines=[list(line) for line in p["lines"]],
                    max_members=p.get("max_members") if mode in JOINT_MODES else None,
                    **{f: int(p.get(f, 0)) for f in PRICE_FIELDS},
                )
            )
    session.flush()
    return book


def set_current_price_book(session: Session, book: PriceBook) -> None:
    for other in session.exec(select(PriceBook).where(col(PriceBook.is_current) == True)):  # noqa: E712
        other.is_current = False
    book.is_current = True
    session.flush()


def load_price_book_file(
    session: Session, path: Path = REFERENCE_PRICE_BOOK, user_id: int | None = None
) -> PriceBook | None:
    """Store a price-book JSON file unless its version is already there; it becomes current when none is.

    Returns the new PriceBook, or None when the version existed (nothing written).
    """
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ReferenceDataError([f"{path}: 単価表の JSON を読めません（{e}）"]) from e
    problems = validate_price_book_document(doc, str(path))
    if problems:
        raise ReferenceDataError(problems)
    if session.exec(select(PriceBook).where(col(PriceBook.version) == doc["version"])).first() is not None:
        return None
    book = _store_price_book(session, doc, user_id=user_id)
    if session.exec(select(PriceBook).where(col(PriceBook.is_current) == True)).first() is None:  # noqa: E712
        set_current_price_book(session, book)
    audit(
        session,
        user_id=user_id,
        action="create",
        entity="price_book",
        entity_id=book.version,
        detail=f"単価表 {book.version}（{book.label}）を {Path(path).name} から登録",
    )
    return book


def current_price_book(session: Session) -> PriceBook | None:
    return session.exec(select(PriceBook).where(col(PriceBook.is_current) == True)).first()  # noqa: E712


def _next_version(session: Session, base: str) -> str:
    taken = set(session.exec(select(col(PriceBook.version))))
    m = re.fullmatch(r"(.*?)(\d+)", base)
    stem, n = (m.group(1), int(m.group(2))) if m else (base + "-", 1)
    while True:
        n += 1
        candidate = f"{stem}{n}"
        if candidate not in taken:
            return candidate


def create_price_book_version(
    session: Session,
    base_version: str,
    changes: Mapping[str, Mapping[str, Mapping[str, Any]]],
    user_id: int | None,
    *,
    version: str | None = None,
    label: str | None = None,
    note: str | None = None,
    source: str | None = None,
    make_current: bool = True,
) -> PriceBook:
    """A new price-book version: the base version with ``changes`` applied; the base and older ones are kept.

    ``changes`` is {category id: {mode: {field: value}}} with fields fixed_initial, fixed_annual, member_initial,
    member_annual, per_km_annual (integer yen), lines ([[alpha, beta], ...]) and max_members (joint modes).
    Raises :class:`ReferenceDataError` (nothing written) when a change is unknown or makes the book invalid.
    """
    base = session.exec(select(PriceBook).where(col(PriceBook.version) == base_version)).first()
    if base is None:
        raise ReferenceDataError([f"単価表の版「{base_version}」がありません"])
    doc = copy.deepcopy(price_book_document(session, base))
    by_id = {c["id"]: c for c in doc["categories"]}
    problems = []
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for cid, modes in changes.items():
        if cid not in by_id:
            problems.append(Problem(f"分野「{cid}」は単価表 {base_version} にありません"))
            continue
        for mode, fields in modes.items():
            if mode not in MODES:
                problems.append(Problem.at(cid, f"方式「{mode}」は standalone・lead・unified のいずれかです"))
                continue
            for name, value in fields.items():
                where = f"{cid}.{mode}.{name}"
                if name not in EDITABLE_FIELDS or (name == "max_members" and mode not in JOINT_MODES):
                    problems.append(Problem.at(where, "変更できる項目ではありません"))
                    continue
                if name in PRICE_FIELDS and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
                    problems.append(Problem.at(where, f"0 以上の整数（円）にしてください（{value!r}）"))
                    continue
                before[where] = by_id[cid][mode].get(name)
                after[where] = value
                by_id[cid][mode][name] = value
    if not problems and not after:
        problems.append(Problem("変更がありません"))
    if problems:
        raise ReferenceDataError(problems)
    new_version = version or _next_version(session, base_version)
    if session.exec(select(PriceBook).where(col(PriceBook.version) == new_version)).first() is not None:
        raise ReferenceDataError([Problem(f"単価表の版「{new_version}」は既にあります", "version")])
    doc.update(
        version=new_version,
        source=source if source is not None else base.source,
        label=label if label is not None else base.label,
        note=note if note is not None else f"{base_version} から変更: " + "、".join(after),
    )
    invalid = validate_price_book_document(doc, f"単価表 {new_version}")
    if invalid:
        raise ReferenceDataError(invalid)
    book = _store_price_book(session, doc, user_id=user_id)
    if make_current:
        set_current_price_book(session, book)
    audit(
        session,
        user_id=user_id,
        action="create",
        entity="price_book",
        entity_id=new_version,
        before=before,
        after=after,
        detail=f"{base_version} をもとに作成",
    )
    session.flush()
    return book


def domain_categories(session: Session, book: PriceBook, category_ids: list[str] | None = None) -> dict[str, Category]:
    """The price book's categories as domain objects (validated like an instance file); the domain objects are
    frozen, so they are kept with the stored book (a bounded number of category choices)."""
    stored = stored_price_book(session, book)
    key = (stored.digest, book.version, book.horizon_years, tuple(category_ids or ()))
    with _BOOKS_LOCK:
        found = _CATEGORIES.get(key)
    if found is None:
        found = _domain_categories(book, stored.doc, category_ids)
        with _BOOKS_LOCK:
            if len(_CATEGORIES) >= _CATEGORIES_KEPT:
                _CATEGORIES.clear()
            _CATEGORIES[key] = found
    return dict(found)


# (the book's digest, version, horizon, the categories asked for)
_CATEGORIES: dict[tuple[str, str, int, tuple[str, ...]], dict[str, Category]] = {}
_CATEGORIES_KEPT = 64  # a book's categories one by one and all together, for a few books


def _domain_categories(book: PriceBook, doc: dict[str, Any], category_ids: list[str] | None) -> dict[str, Category]:
    cats = [c for c in doc["categories"] if not category_ids or c["id"] in category_ids]
    try:
        instance = parse_instance(
            {
                "format": INSTANCE_FORMAT,
                "name": book.version,
                "fiscal_year": 2026,
                "horizon_years": book.horizon_years,
                "bodies": [],
                "needs": [],
                "categories": cats,
            }
        )
    except InstanceError as e:
        raise ReferenceDataError([f"単価表 {book.version}: {p}" for p in e.problems]) from e
    return dict(instance.categories)


# --- subsidy rules ------------------------------------------------------------------------------------------


@dataclass
class RulesLoadReport:
    loaded: list[str] = field(default_factory=list)  # versions added
    current: str | None = None


def load_subsidy_rules(
    session: Session, directory: Path = SUBSIDY_RULES_DIR, user_id: int | None = None
) -> RulesLoadReport:
    """Store every rule file of ``directory`` whose version is absent; the newest fiscal year becomes current
    when something was added or nothing is current. Inner structure is the domain's business, not checked here."""
    report = RulesLoadReport()
    files = sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []
    docs = []
    problems = []
    for path in files:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            problems.append(f"{path}: 補助制度ルールの JSON を読めません（{e}）")
            continue
        if not isinstance(doc, dict):
            problems.append(f"{path}: JSON オブジェクトではありません")
            continue
        fy, version = doc.get("fiscal_year"), doc.get("version")
        if isinstance(fy, bool) or not isinstance(fy, int) or not 1989 <= fy <= 2200:
            problems.append(f"{path}: fiscal_year（年度、例 2026）がないか整数ではありません")
        if not isinstance(version, str) or not version.strip() or len(version) > 40:
            problems.append(f"{path}: version（40 文字以内の文字列）がありません")
        docs.append((path, doc))
    versions = [d.get("version") for _, d in docs]
    for v in {v for v in versions if versions.count(v) > 1}:
        problems.append(f"{directory}: version「{v}」のファイルが複数あります")
    if problems:
        raise ReferenceDataError(problems)
    existing = set(session.exec(select(col(SubsidyRuleSet.version))))
    for path, doc in docs:
        if doc["version"] in existing:
            continue
        session.add(
            SubsidyRuleSet(fiscal_year=doc["fiscal_year"], version=doc["version"], data=doc, created_by=user_id)
        )
        report.loaded.append(doc["version"])
        audit(
            session,
            user_id=user_id,
            action="create",
            entity="subsidy_rule_set",
            entity_id=doc["version"],
            detail=f"{path.name} から登録",
        )
    session.flush()
    current = current_subsidy_rule_set(session)
    # A current set the domain can no longer read (an older schema, such as the R8-1 set that cited the
    # 令和7年6月30日版 for terms it does not state) gives way to the newest usable one.
    unusable = current is not None and bool(validate_rules(current.data))
    if report.loaded or current is None or unusable:
        candidates = session.exec(
            select(SubsidyRuleSet).order_by(col(SubsidyRuleSet.fiscal_year).desc(), col(SubsidyRuleSet.id).desc())
        ).all()
        newest = next((rs for rs in candidates if not validate_rules(rs.data)), candidates[0] if candidates else None)
        if newest is not None and newest is not current:
            for rs in session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.is_current) == True)):  # noqa: E712
                rs.is_current = False
            newest.is_current = True
            current = newest
        session.flush()
    report.current = current.version if current else None
    return report


def subsidy_rule_set(session: Session, version: str | None) -> SubsidyRuleSet | None:
    """The rule set of ``version`` (a plan's ``rule_version``); None for no version or an unknown one."""
    if not version:
        return None
    return session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.version) == version)).first()


def current_subsidy_rule_set(session: Session) -> SubsidyRuleSet | None:
    return session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.is_current) == True)).first()  # noqa: E712
