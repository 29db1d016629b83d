"""From a stored Scenario to the pure domain :class:`~planner.domain.model.Instance` the optimiser solves.

The instance is assembled as a `kyodo-planner-instance/1` document and read back with the domain's own reader,
so a scenario from the database is checked exactly like an instance file. Need ids are "n{need.id}": stable
across runs, so plans, overrides and reports can refer to them.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import inspect as sa_inspect
from sqlmodel import Session, col, func, select
from sqlmodel.sql.expression import SelectOfScalar

from planner.db.models import Body, Category, Need, PriceBook, Scenario
from planner.db.rows import id_of
from planner.domain.instance_io import INSTANCE_FORMAT, body_record, parse_instance
from planner.domain.model import JOINT_MODES, Instance
from planner.domain.model import Body as DomainBody
from planner.domain.model import Category as DomainCategory
from planner.domain.model import Need as DomainNeed

from . import access
from .reference_data import ReferenceDataError, current_price_book, stored_price_book


def need_key(need_id: int) -> str:
    return f"n{need_id}"


def need_id_from_key(key: Any) -> int | None:
    """Overrides may hold "n12" or 12; anything else is not a need id."""
    if isinstance(key, bool):
        return None
    if isinstance(key, int):
        return key
    if isinstance(key, str):
        raw = key[1:] if key.startswith("n") else key
        if raw.isdigit():
            return int(raw)
    return None


@dataclass
class BuiltInstance:
    instance: Instance
    price_book: PriceBook
    notes: list[str] = field(default_factory=list)  # rules dropped because their needs left the scenario
    price_source: str = ""  # which prices the instance carries, in words (price book and vendor quotes)
    quotes_used: list[dict[str, Any]] = field(default_factory=list)  # quoted_prices(): which entries a quote set


def scenario_price_book(session: Session, scenario: Scenario) -> PriceBook:
    book = session.get(PriceBook, scenario.price_book_id) if scenario.price_book_id else current_price_book(session)
    if book is None:
        raise ReferenceDataError(["単価表が登録されていません（planner init-db を実行してください）"])
    return book


def scenario_bodies(session: Session, scenario: Scenario) -> list[Body]:
    """The scenario's bodies: its list, or, when empty, every body it may plan (its prefecture's, the prefecture
    included; a consortium's lead and accepted members: planner.services.access.planned_bodies)."""
    query = select(Body).order_by(col(Body.code))
    if scenario.body_codes:
        query = query.where(col(Body.code).in_(scenario.body_codes))
    else:
        query = query.where(access.planned_bodies(scenario))
    return list(session.exec(query))


def scenario_need_query(
    scenario: Scenario, body_codes: Iterable[str], category_ids: Iterable[str], *, demo: bool | None = None
) -> SelectOfScalar[Need]:
    """The active needs a scenario plans: those of its bodies and categories, and of its own kind, never outside
    what :func:`planner.services.access.planned_bodies` lets it plan (hosts of another prefecture lead groups but
    bring no needs). A demo scenario plans the demo's needs and every other scenario the users' (``demo`` asks for
    the other kind, to count it)."""
    return select(Need).where(
        col(Need.status) == "active",
        col(Need.is_demo) == (scenario.is_demo if demo is None else demo),
        col(Need.body_code).in_(list(body_codes)),
        col(Need.body_code).in_(access.planned_body_codes(scenario)),
        col(Need.category_id).in_(list(category_ids)),
    )


@dataclass(frozen=True)
class NeedScope:
    """What the scenario page says about its input: how many needs it plans and how many of the other kind
    (demo or users') in the same bodies and categories it leaves out, so that the two never mix silently."""

    demo: bool
    planned: int
    left_out: int


def needs_by_kind(session: Session, prefecture_code: str | None) -> dict[bool, int]:
    """Active needs of a prefecture (all prefectures for None) by kind: {False: users', True: the demo's}. The
    scenario form says when only the demo has any, since a new scenario would otherwise plan none."""
    query = select(col(Need.is_demo), func.count()).where(col(Need.status) == "active").group_by(col(Need.is_demo))
    if prefecture_code:
        query = query.join(Body, col(Body.code) == col(Need.body_code)).where(
            col(Body.prefecture_code) == prefecture_code
        )
    counts = {bool(demo): int(n) for demo, n in session.exec(query)}
    return {False: counts.get(False, 0), True: counts.get(True, 0)}


def need_scope(session: Session, scenario: Scenario) -> NeedScope:
    codes = [b.code for b in scenario_bodies(session, scenario)]
    codes += [str(h["body"]) for h in scenario.hosts or [] if isinstance(h, dict) and h.get("body")]
    cats = list(scenario.category_ids or session.exec(select(col(Category.id))))

    def count(demo: bool) -> int:
        query = scenario_need_query(scenario, set(codes), cats, demo=demo)
        return int(session.exec(select(func.count()).select_from(query.subquery())).one())

    return NeedScope(demo=scenario.is_demo, planned=count(scenario.is_demo), left_out=count(not scenario.is_demo))


def build_instance(session: Session, scenario: Scenario) -> Instance:
    return build_instance_with_notes(session, scenario).instance


def build_instance_with_notes(session: Session, scenario: Scenario) -> BuiltInstance:
    """The scenario as a domain instance; raises InstanceError (problems in English, 'where: what') if the
    stored data cannot make a valid instance, ReferenceDataError if there is no price book."""
    return assemble_instance(scenario, read_scenario_rows(session, scenario))


@dataclass
class ScenarioRows:
    """Every stored row a run of the scenario reads besides the scenario itself: the instance is a function of the
    scenario's columns and these (:func:`assemble_instance`), so :meth:`digest` names the instance's inputs — the
    inputs check of a published plan (planner.services.release_inputs) rebuilds nothing while it stays the same."""

    book: PriceBook
    book_doc: dict[str, Any]  # the stored book's document, shared: not to be changed
    book_digest: str
    quotes: list[Any]  # ScenarioQuote rows
    bodies: list[Body]  # the scenario's bodies
    hosts: dict[str, Body | None]  # hosts outside them (None: not registered)
    needs: list[Need]

    def digest(self, scenario: Scenario) -> str:
        """A hash of every column of the scenario and of every row read (the book by its document's hash)."""
        values = [
            (type(row).__name__, [_column_values(row)])
            for row in (scenario, *self.quotes, *self.bodies, *(b for b in self.hosts.values() if b), *self.needs)
        ]
        hosts = sorted((code, body is None) for code, body in self.hosts.items())
        text = repr((values, hosts, self.book.id, self.book.version, self.book_digest))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


_COLUMNS: dict[type, tuple[str, ...]] = {}


def _column_values(row: Any) -> list[Any]:
    """Every mapped column's value of ``row``: read from the loaded state (an attribute read through SQLAlchemy's
    descriptors costs several times more, and a digest reads thousands), an expired one through the descriptor."""
    keys = _COLUMNS.get(type(row))
    if keys is None:
        keys = _COLUMNS[type(row)] = tuple(a.key for a in sa_inspect(type(row)).column_attrs)
    loaded = row.__dict__
    return [loaded[k] if k in loaded else getattr(row, k) for k in keys]


def read_scenario_rows(session: Session, scenario: Scenario) -> ScenarioRows:
    """The rows a run of ``scenario`` reads (ReferenceDataError without a price book)."""
    from .quotes import scenario_quotes

    book = scenario_price_book(session, scenario)
    stored = stored_price_book(session, book)
    quotes = scenario_quotes(session, scenario.id) if scenario.id is not None else []
    category_ids = {
        c["id"] for c in stored.doc["categories"] if not scenario.category_ids or c["id"] in scenario.category_ids
    }
    bodies = scenario_bodies(session, scenario)
    known = {b.code for b in bodies}
    hosts: dict[str, Body | None] = {}
    for h in scenario.hosts or []:
        code = h.get("body") if isinstance(h, dict) else None
        if code and code not in known and code not in hosts:
            hosts[code] = session.get(Body, code)
    codes = known | {c for c, b in hosts.items() if b is not None}
    needs = list(session.exec(scenario_need_query(scenario, codes, category_ids).order_by(col(Need.id))))
    return ScenarioRows(book, stored.doc, stored.digest, quotes, bodies, hosts, needs)


def assemble_instance(scenario: Scenario, rows: ScenarioRows) -> BuiltInstance:
    """The instance of ``scenario`` from the rows read for it (no database)."""
    from .quotes import apply_quotes, price_source_text, quoted_prices

    book, quotes = rows.book, rows.quotes
    book_doc = cap_members(apply_quotes(rows.book_doc, quotes), scenario.max_members)
    categories = [c for c in book_doc["categories"] if not scenario.category_ids or c["id"] in scenario.category_ids]
    category_ids = {c["id"] for c in categories}
    notes: list[str] = []
    missing_categories = sorted(set(scenario.category_ids or ()) - category_ids)
    if missing_categories:
        notes.append(f"単価表 {book.version} にない分野を除きました: {', '.join(missing_categories)}")

    bodies = {b.code: b for b in rows.bodies}
    hosts = []
    for h in scenario.hosts or []:
        code = h.get("body") if isinstance(h, dict) else None
        cats = [c for c in (h.get("categories") or sorted(category_ids)) if c in category_ids] if code else []
        if code and code not in bodies:
            host_body = rows.hosts.get(code)
            if host_body is None:
                notes.append(f"受託団体 {code} は登録されていないため除きました")
                continue
            bodies[code] = host_body  # a host leads groups without being one of the scenario's bodies
        if code and cats:
            hosts.append({"body": code, "categories": cats})

    needs = rows.needs
    need_keys = {need_key(id_of(n)) for n in needs}

    doc = {
        "format": INSTANCE_FORMAT,
        "name": scenario.name,
        "fiscal_year": scenario.fiscal_year,
        "horizon_years": scenario.horizon_years,
        "bodies": [body_record(b) for b in bodies.values()],
        "categories": [{k: v for k, v in c.items() if k != "volume_per_10k_pop"} for c in categories],
        "hosts": hosts,
        "needs": [
            {
                "id": need_key(id_of(n)),
                "body": n.body_code,
                "category": n.category_id,
                "volume": n.volume,
                "start_year": n.start_year,
                "modes": [m for m, ok in (("lead", n.accepts_lead), ("unified", n.accepts_unified)) if ok],
                "can_lead": n.can_lead,
                "serves_disadvantaged_area": n.serves_disadvantaged_area,
            }
            for n in needs
        ],
        "rules": _rules(scenario, need_keys, notes),
        "allocation": {
            "method": scenario.allocation_method,
            "core": scenario.allocation_core or "report",
            "lead_must_be_grant_eligible": bool(scenario.lead_must_be_grant_eligible),
            "lead_work_annual_yen": {
                "lead": int(scenario.lead_work_lead_yen or 0),
                "unified": int(scenario.lead_work_unified_yen or 0),
            },
            **({"weights": dict(scenario.allocation_weights)} if scenario.allocation_weights else {}),
        },
    }
    used = [q for q in quotes if q.category_id in category_ids]
    names = {c["id"]: c.get("name", c["id"]) for c in categories}
    return BuiltInstance(parse_instance(doc), book, notes, price_source_text(book, used, names), quoted_prices(used))


def cap_members(book_doc: dict[str, Any], cap: int | None) -> dict[str, Any]:
    """The scenario's 1グループの上限団体数 on every joint mode of ``book_doc`` (in place): the optimiser reads a
    mode's max_members, and a quote's or the book's own smaller cap stays."""
    if cap:
        for category in book_doc["categories"]:
            for mode in JOINT_MODES:
                price = category.get(mode)
                if isinstance(price, dict):
                    own = price.get("max_members")
                    price["max_members"] = cap if own is None else min(int(own), cap)
    return book_doc


def one_need_instance(
    body: Body,
    category_id: str,
    volume: float,
    start_year: int,
    horizon_years: int,
    categories: dict[str, DomainCategory],
    name: str,
) -> tuple[Instance, DomainNeed]:
    """An instance of one body's one need, going alone (no mode, no lead): what the need form's estimates of
    cost, grant and effect are computed on. The need's id is ``name``."""
    need = DomainNeed(
        id=name,
        body=body.code,
        category=category_id,
        volume=float(volume),
        start_year=start_year,
        modes=frozenset(),
        can_lead=False,
    )
    instance = Instance(
        name=name,
        fiscal_year=start_year,
        horizon_years=horizon_years,
        bodies={body.code: DomainBody(**body_record(body))},
        categories=categories,
        hosts=(),
        needs=(need,),
    )
    return instance, need


def _rules(scenario: Scenario, need_keys: set[str], notes: list[str]) -> dict[str, Any]:
    geography: dict[str, Any] = {"type": scenario.geography_type}
    if scenario.geography_type == "radius_km":
        geography["km"] = scenario.radius_km
    overrides = scenario.overrides or {}
    rules: dict[str, Any] = {"geography": geography}
    for key in ("together", "apart"):
        pairs = []
        for pair in overrides.get(key) or []:
            keys = [need_id_from_key(x) for x in pair] if isinstance(pair, (list, tuple)) else [None]
            converted = [need_key(k) for k in keys if k is not None]
            if len(converted) == 2 and all(k in need_keys for k in converted):
                pairs.append(converted)
            else:
                notes.append(
                    f"{'共同' if key == 'together' else '別グループ'}の指定 {pair} は対象外のニーズを含むため除きました"
                )
        rules[key] = pairs
    fixed = []
    for f in overrides.get("fixed") or []:
        nid = need_id_from_key(f.get("need")) if isinstance(f, dict) else None
        if nid is None or need_key(nid) not in need_keys:
            notes.append(f"固定の指定 {f} は対象外のニーズを含むため除きました")
            continue
        fixed.append({"need": need_key(nid), **{k: f[k] for k in ("mode", "lead_body") if f.get(k) is not None}})
    rules["fixed"] = fixed
    return rules
