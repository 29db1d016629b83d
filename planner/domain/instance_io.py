"""Read and validate a `kyodo-planner-instance/1` document (spec: instance-format.md).

Validation is complete before anything is solved: every problem is collected with the record and field it is
in, so that one run tells the user everything that is wrong.
"""

from __future__ import annotations

import dataclasses
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .model import (
    ALLOCATION_METHODS,
    BODY_KINDS,
    CORE_OPTIONS,
    GEOGRAPHY_TYPES,
    JOINT_MODES,
    MODES,
    AllocationSpec,
    Body,
    Category,
    FixedRule,
    Geography,
    Host,
    Instance,
    ModePrice,
    Need,
    Rules,
)

INSTANCE_FORMAT = "kyodo-planner-instance/1"


class InstanceError(ValueError):
    """An invalid instance; ``problems`` lists every problem as 'where: what'."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        shown = problems[:50]
        more = f"\n... and {len(problems) - 50} more" if len(problems) > 50 else ""
        super().__init__("invalid instance:\n" + "\n".join(f"  - {p}" for p in shown) + more)


def load_instance(path: str | Path) -> Instance:
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise InstanceError([f"{path}: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}"]) from e
    except UnicodeDecodeError as e:
        raise InstanceError([f"{path}: not UTF-8 text ({e.reason} at byte {e.start})"]) from e
    return parse_instance(doc)


class _Checker:
    def __init__(self) -> None:
        self.problems: list[str] = []

    def fail(self, where: str, what: str) -> None:
        self.problems.append(f"{where}: {what}")

    def field(
        self, rec: Any, key: str, where: str, kinds: tuple[type, ...], *, required: bool = True, default: Any = None
    ) -> Any:
        """rec[key] when it is of one of ``kinds`` (JSON values: the caller knows which), else ``default``."""
        if not isinstance(rec, dict):
            self.fail(where, "must be an object")
            return default
        if key not in rec or rec[key] is None:
            if required:
                self.fail(f"{where}.{key}", "is missing")
            return default
        value = rec[key]
        if bool in kinds and isinstance(value, bool):
            return value
        if isinstance(value, bool) or not isinstance(value, kinds):
            names = "/".join(_KIND_NAMES.get(k, k.__name__) for k in kinds)
            self.fail(f"{where}.{key}", f"must be {names}, got {json.dumps(value, ensure_ascii=False)[:40]}")
            return default
        if isinstance(value, float) and not math.isfinite(value):
            self.fail(f"{where}.{key}", "must be a finite number")
            return default
        return value

    def number(
        self,
        rec: Any,
        key: str,
        where: str,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        required: bool = True,
        default: Any = None,
        integer: bool = False,
    ) -> Any:
        kinds = (int,) if integer else (int, float)
        value = self.field(rec, key, where, kinds, required=required, default=default)
        if value is not None and minimum is not None and value < minimum:
            self.fail(f"{where}.{key}", f"must be at least {minimum}, got {value}")
            return default
        if value is not None and maximum is not None and value > maximum:
            self.fail(f"{where}.{key}", f"must be at most {maximum:,}, got {value:,}")
            return default
        return value


_KIND_NAMES = {
    str: "a string",
    int: "an integer",
    float: "a number",
    bool: "true/false",
    list: "a list",
    dict: "an object",
}


def _label(where: str, rec: Any, key: str) -> str:
    if isinstance(rec, dict) and isinstance(rec.get(key), str):
        return f'{where} ({key} "{rec[key]}")'
    return where


def parse_instance(doc: Any) -> Instance:
    """Turn a decoded JSON document into an :class:`Instance`, or raise :class:`InstanceError`."""
    c = _Checker()
    if not isinstance(doc, dict):
        raise InstanceError(["instance: must be a JSON object"])
    fmt = doc.get("format")
    if fmt != INSTANCE_FORMAT:
        c.fail("format", f'must be "{INSTANCE_FORMAT}", got {json.dumps(fmt, ensure_ascii=False)}')
    name = c.field(doc, "name", "instance", (str,), default="instance")
    fiscal_year = c.number(doc, "fiscal_year", "instance", minimum=1989, integer=True, default=2026)
    horizon = c.number(doc, "horizon_years", "instance", minimum=1, integer=True, default=5)

    bodies = _parse_bodies(c, doc.get("bodies"))
    categories = _parse_categories(c, doc.get("categories"))
    hosts = _parse_hosts(c, doc.get("hosts", []), bodies, categories)
    needs = _parse_needs(c, doc.get("needs"), bodies, categories)
    rules = _parse_rules(c, doc.get("rules", {}), needs, bodies)
    allocation = _parse_allocation(c, doc.get("allocation", {}))
    if c.problems:
        raise InstanceError(c.problems)
    categories = with_lead_work(categories, allocation.lead_work_annual_yen)
    return Instance(
        name=name,
        fiscal_year=fiscal_year,
        horizon_years=horizon,
        bodies=bodies,
        categories=categories,
        hosts=tuple(hosts),
        needs=tuple(needs.values()),
        rules=rules,
        allocation=allocation,
    )


def _records(c: _Checker, value: Any, where: str) -> list[Any]:
    if not isinstance(value, list):
        c.fail(where, "must be a list")
        return []
    return value


def _parse_bodies(c: _Checker, value: Any) -> dict[str, Body]:
    bodies: dict[str, Body] = {}
    for i, rec in enumerate(_records(c, value, "bodies")):
        where = _label(f"bodies[{i}]", rec, "code")
        before = len(c.problems)
        code = c.field(rec, "code", where, (str,))
        if code is not None and not (len(code) == 6 and code.isdigit()):
            c.fail(f"{where}.code", "must be a 6-digit 全国地方公共団体コード")
        name = c.field(rec, "name", where, (str,))
        pref = c.field(rec, "prefecture_code", where, (str,))
        if pref is not None and not (len(pref) == 2 and pref.isdigit() and 1 <= int(pref) <= 47):
            c.fail(f"{where}.prefecture_code", f'must be a 2-digit prefecture code 01-47, got "{pref}"')
        kind = c.field(rec, "kind", where, (str,))
        if kind is not None and kind not in BODY_KINDS:
            c.fail(f"{where}.kind", f'must be one of {", ".join(BODY_KINDS)}, got "{kind}"')
        lat = c.number(rec, "lat", where)
        lng = c.number(rec, "lng", where)
        if lat is not None and not -90 <= lat <= 90:
            c.fail(f"{where}.lat", f"must be between -90 and 90, got {lat}")
        if lng is not None and not -180 <= lng <= 180:
            c.fail(f"{where}.lng", f"must be between -180 and 180, got {lng}")
        population = c.number(rec, "population", where, minimum=0, integer=True, required=False)
        fsi = c.number(rec, "fiscal_strength_index", where, minimum=0, required=False)
        disadvantaged = c.field(rec, "disadvantaged", where, (bool,), required=False, default=False)
        has_plan = c.field(rec, "has_data_plan", where, (bool,), required=False, default=False)
        no_tax = c.field(rec, "no_allocation_tax", where, (bool,), required=False, default=False)
        if code is not None and code in bodies:
            c.fail(f"{where}.code", f"duplicate body code {code}")
            continue
        if len(c.problems) == before:
            bodies[code] = Body(
                code=code,
                name=name,
                prefecture_code=pref,
                kind=kind,
                lat=float(lat),
                lng=float(lng),
                population=population,
                fiscal_strength_index=None if fsi is None else float(fsi),
                disadvantaged=disadvantaged,
                has_data_plan=has_plan,
                no_allocation_tax=no_tax,
            )
    return bodies


# Bounds of a price: a plan's totals (a price times members and years, summed over groups) must still fit the
# database's 64-bit yen columns, and no system a municipality buys costs more than 10兆円. max_members is stored
# in a 32-bit column; there are fewer than 2,000 bodies.
MAX_PRICE_YEN = 10**13
MAX_MEMBERS = 100_000


def _parse_mode_price(c: _Checker, rec: Any, where: str, joint: bool) -> ModePrice | None:
    if not isinstance(rec, dict):
        c.fail(where, "must be an object")
        return None
    before = len(c.problems)
    yen = {
        k: c.number(
            rec, k, where, minimum=0, maximum=MAX_PRICE_YEN, integer=True, required=k != "per_km_annual", default=0
        )
        for k in ("fixed_initial", "fixed_annual", "member_initial", "member_annual", "per_km_annual")
    }
    lines = []
    raw_lines = rec.get("lines")
    if not isinstance(raw_lines, list) or not raw_lines:
        c.fail(f"{where}.lines", "must be a non-empty list of [alpha, beta] pairs")
    else:
        for j, line in enumerate(raw_lines):
            ok = (
                isinstance(line, list)
                and len(line) == 2
                and all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in line)
            )
            if not ok:
                c.fail(f"{where}.lines[{j}]", "must be a pair of numbers [alpha, beta]")
            elif line[0] < 0 or line[1] < 0:
                c.fail(f"{where}.lines[{j}]", "alpha and beta must not be negative")
            elif line[0] > MAX_PRICE_YEN or line[1] > MAX_PRICE_YEN:
                c.fail(f"{where}.lines[{j}]", f"alpha and beta must be at most {MAX_PRICE_YEN:,}")
            else:
                lines.append((float(line[0]), float(line[1])))
        if len(lines) == len(raw_lines):
            _check_concave(c, lines, f"{where}.lines")
    max_members = None
    if joint:
        max_members = c.number(rec, "max_members", where, minimum=2, maximum=MAX_MEMBERS, integer=True)
    if len(c.problems) != before:
        return None
    return ModePrice(lines=tuple(lines), max_members=max_members, **yen)


def _check_concave(c: _Checker, lines: list[tuple[float, float]], where: str) -> None:
    """Volume discounts: ordered by alpha, each next line must start higher and charge less per unit, and
    every line must be the cheapest for some volume.

    That is what a volume-discount schedule means (a concave charge with a real kink at every line); a line
    that is never the cheapest, or a higher unit price for a larger volume, is almost certainly a data-entry
    mistake, so it is rejected rather than silently ignored.
    """
    lines = sorted(lines)
    for j in range(1, len(lines)):
        (a0, b0), (a1, b1) = lines[j - 1], lines[j]
        if not (a1 > a0 and b1 < b0):
            c.fail(
                f"{where}[{j}]",
                f"not a volume discount after line {j - 1}: each next line needs a higher "
                f"alpha and a lower beta ({[a0, b0]} then {[a1, b1]})",
            )
            return
    for j in range(1, len(lines) - 1):
        # line j must be the minimum on some interval: its breakpoints with its neighbours must be ordered
        (a0, b0), (a1, b1), (a2, b2) = lines[j - 1], lines[j], lines[j + 1]
        if (a1 - a0) / (b0 - b1) >= (a2 - a1) / (b1 - b2):
            c.fail(f"{where}[{j}]", "this line is never the cheapest: the discount schedule is not concave")
            return


def _parse_categories(c: _Checker, value: Any) -> dict[str, Category]:
    categories: dict[str, Category] = {}
    for i, rec in enumerate(_records(c, value, "categories")):
        where = _label(f"categories[{i}]", rec, "id")
        before = len(c.problems)
        cid = c.field(rec, "id", where, (str,))
        name = c.field(rec, "name", where, (str,), default=cid)
        group = c.field(rec, "group", where, (str,), required=False, default="")
        unit = c.field(rec, "unit", where, (str,), required=False, default="")
        sat = c.field(rec, "sat_program", where, (str,), required=False, default="")
        prices = {}
        for mode in MODES:
            if not isinstance(rec, dict) or mode not in rec:
                c.fail(f"{where}.{mode}", "is missing")
                continue
            price = _parse_mode_price(c, rec[mode], f"{where}.{mode}", joint=mode in JOINT_MODES)
            if price is not None:
                prices[mode] = price
        if cid is not None and cid in categories:
            c.fail(f"{where}.id", f"duplicate category id {cid}")
            continue
        if len(c.problems) == before:
            categories[cid] = Category(id=cid, name=name, group=group, unit=unit, sat_program=sat, prices=prices)
    return categories


def _parse_hosts(c: _Checker, value: Any, bodies: dict[str, Body], categories: dict[str, Category]) -> list[Host]:
    hosts = []
    for i, rec in enumerate(_records(c, value, "hosts")):
        where = _label(f"hosts[{i}]", rec, "body")
        body = c.field(rec, "body", where, (str,))
        if body is not None and body not in bodies:
            c.fail(f"{where}.body", f"unknown body {body}")
        cats = c.field(rec, "categories", where, (list,), default=[])
        for j, cid in enumerate(cats):
            if cid not in categories:
                c.fail(f"{where}.categories[{j}]", f"unknown category {cid}")
        if body is not None:
            hosts.append(Host(body=body, categories=frozenset(x for x in cats if isinstance(x, str))))
    return hosts


def _parse_needs(c: _Checker, value: Any, bodies: dict[str, Body], categories: dict[str, Category]) -> dict[str, Need]:
    needs: dict[str, Need] = {}
    for i, rec in enumerate(_records(c, value, "needs")):
        where = _label(f"needs[{i}]", rec, "id")
        before = len(c.problems)
        nid = c.field(rec, "id", where, (str,))
        body = c.field(rec, "body", where, (str,))
        if body is not None and body not in bodies:
            c.fail(f"{where}.body", f"unknown body {body}")
        cat = c.field(rec, "category", where, (str,))
        if cat is not None and cat not in categories:
            c.fail(f"{where}.category", f"unknown category {cat}")
        volume = c.number(rec, "volume", where, minimum=0)
        start_year = c.number(rec, "start_year", where, minimum=1989, integer=True)
        modes = c.field(rec, "modes", where, (list,), default=[])
        for j, m in enumerate(modes):
            if m not in JOINT_MODES and m != "standalone":
                c.fail(f"{where}.modes[{j}]", f'must be "lead" or "unified", got {json.dumps(m, ensure_ascii=False)}')
        can_lead = c.field(rec, "can_lead", where, (bool,), required=False, default=False)
        serves = c.field(rec, "serves_disadvantaged_area", where, (bool,), required=False, default=False)
        if nid is not None and nid in needs:
            c.fail(f"{where}.id", f"duplicate need id {nid}")
            continue
        if len(c.problems) == before:
            needs[nid] = Need(
                id=nid,
                body=body,
                category=cat,
                volume=float(volume),
                start_year=start_year,
                modes=frozenset(m for m in modes if m in JOINT_MODES),
                can_lead=can_lead,
                serves_disadvantaged_area=serves,
            )
    return needs


def _parse_rules(c: _Checker, rec: Any, needs: dict[str, Need], bodies: dict[str, Body]) -> Rules:
    if not isinstance(rec, dict):
        c.fail("rules", "must be an object")
        return Rules()
    geo_rec = rec.get("geography", {"type": "same_prefecture"})
    geo = Geography()
    gtype = c.field(geo_rec, "type", "rules.geography", (str,), default="same_prefecture")
    if gtype not in GEOGRAPHY_TYPES:
        c.fail("rules.geography.type", f'must be one of {", ".join(GEOGRAPHY_TYPES)}, got "{gtype}"')
    elif gtype == "radius_km":
        km = c.number(geo_rec, "km", "rules.geography", minimum=0)
        geo = Geography("radius_km", None if km is None else float(km))
    else:
        geo = Geography(gtype)

    def pairs(key: str) -> tuple[tuple[str, str], ...]:
        out = []
        for i, pair in enumerate(_records(c, rec.get(key, []), f"rules.{key}")):
            where = f"rules.{key}[{i}]"
            if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, str) for x in pair)):
                c.fail(where, "must be a pair of need ids")
                continue
            a, b = pair
            unknown = [x for x in pair if x not in needs]
            for x in unknown:
                c.fail(where, f"unknown need {x}")
            if unknown:
                continue
            if a == b:
                c.fail(where, f"pairs a need with itself ({a})")
                continue
            if key == "together":
                na, nb = needs[a], needs[b]
                if na.category != nb.category:
                    c.fail(
                        where, f"needs of different categories ({na.category}, {nb.category}) can never share a group"
                    )
                elif na.start_year != nb.start_year:
                    c.fail(
                        where,
                        f"needs with different start years ({na.start_year}, {nb.start_year}) can never share a group",
                    )
            out.append((a, b))
        return tuple(out)

    together, apart = pairs("together"), pairs("apart")
    clash = {frozenset(p) for p in together} & {frozenset(p) for p in apart}
    for pair in sorted(tuple(sorted(p)) for p in clash):
        c.fail("rules", f"pair {pair[0]}/{pair[1]} is both together and apart")
    fixed = []
    seen = set()
    for i, f in enumerate(_records(c, rec.get("fixed", []), "rules.fixed")):
        where = _label(f"rules.fixed[{i}]", f, "need")
        need = c.field(f, "need", where, (str,))
        mode = c.field(f, "mode", where, (str,), required=False)
        lead = c.field(f, "lead_body", where, (str,), required=False)
        if need is not None and need not in needs:
            c.fail(f"{where}.need", f"unknown need {need}")
            continue
        if need in seen:
            c.fail(f"{where}.need", f"need {need} is fixed twice")
        seen.add(need)
        if mode is not None and mode not in MODES:
            c.fail(f"{where}.mode", f'must be one of {", ".join(MODES)}, got "{mode}"')
        elif mode is not None and mode != "standalone" and need in needs and mode not in needs[need].modes:
            c.fail(f"{where}.mode", f"need {need} does not accept {mode} mode")
        if lead is not None and lead not in bodies:
            c.fail(f"{where}.lead_body", f"unknown body {lead}")
        if need is not None:
            fixed.append(FixedRule(need=need, mode=mode, lead_body=lead))
    return Rules(geography=geo, together=together, apart=apart, fixed=tuple(fixed))


def _parse_allocation(c: _Checker, rec: Any) -> AllocationSpec:
    if not isinstance(rec, dict):
        c.fail("allocation", "must be an object")
        return AllocationSpec()
    method = c.field(rec, "method", "allocation", (str,), required=False, default="formula")
    if method not in ALLOCATION_METHODS:
        c.fail("allocation.method", f'must be one of {", ".join(ALLOCATION_METHODS)}, got "{method}"')
    weights_rec = rec.get("weights", {"equal": 0.1, "population": 0.9, "volume": 0.0})
    weights = {}
    if not isinstance(weights_rec, dict):
        c.fail("allocation.weights", "must be an object")
    else:
        for key, value in weights_rec.items():
            if key not in ("equal", "population", "volume"):
                c.fail(f"allocation.weights.{key}", "must be one of equal, population, volume")
            elif (
                isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) or value < 0
            ):
                c.fail(f"allocation.weights.{key}", "must be a number of at least 0")
            else:
                weights[key] = float(value)
        if method == "formula" and weights and sum(weights.values()) <= 0:
            c.fail("allocation.weights", "must not all be 0 for the formula method")
    core = rec.get("core", "report")
    if core not in CORE_OPTIONS:
        c.fail("allocation.core", f'must be "report", "adjust" or "rule", got {core!r}')
        core = "report"
    eligible_lead = rec.get("lead_must_be_grant_eligible", False)
    if not isinstance(eligible_lead, bool):
        c.fail("allocation.lead_must_be_grant_eligible", f"must be true or false, got {eligible_lead!r}")
        eligible_lead = False
    work_rec = rec.get("lead_work_annual_yen", {})
    work: dict[str, int] = {}
    if not isinstance(work_rec, dict):
        c.fail("allocation.lead_work_annual_yen", "must be an object {lead: yen, unified: yen}")
    else:
        for mode, value in work_rec.items():
            if mode not in JOINT_MODES:
                c.fail(f"allocation.lead_work_annual_yen.{mode}", "must be lead or unified")
            elif isinstance(value, bool) or not isinstance(value, int) or value < 0:
                c.fail(f"allocation.lead_work_annual_yen.{mode}", f"must be whole yen of at least 0, got {value!r}")
            elif value:
                work[mode] = value
    return AllocationSpec(
        method=method,
        weights=weights or {"equal": 0.1, "population": 0.9, "volume": 0.0},
        core=core,
        lead_must_be_grant_eligible=eligible_lead,
        lead_work_annual_yen=work,
    )


def with_lead_work(categories: dict[str, Category], work: Mapping[str, int]) -> dict[str, Category]:
    """The categories with each joint mode's 幹事事務費 added to its fixed yearly cost: every pricer (the optimiser,
    the cost game, the separation oracle, group_cost) then sees it as one more fixed cost of every joint group."""
    if not work:
        return categories
    return {
        cid: dataclasses.replace(
            cat,
            prices={
                m: dataclasses.replace(p, fixed_annual=p.fixed_annual + work.get(m, 0)) if m in work else p
                for m, p in cat.prices.items()
            },
        )
        for cid, cat in categories.items()
    }


BODY_FIELDS = (
    "code",
    "name",
    "prefecture_code",
    "kind",
    "population",
    "fiscal_strength_index",
    "lat",
    "lng",
    "disadvantaged",
    "has_data_plan",
    "no_allocation_tax",
)


def body_record(body: Any) -> dict[str, Any]:
    """A body as the instance file writes it, from a domain Body or any record with the same attributes (the
    database's bodies)."""
    return {name: getattr(body, name) for name in BODY_FIELDS}


def instance_to_dict(instance: Instance) -> dict[str, Any]:
    """The instance as a `kyodo-planner-instance/1` document (the inverse of :func:`parse_instance`)."""

    def price(p: ModePrice, joint: bool) -> dict[str, Any]:
        d = {
            "fixed_initial": p.fixed_initial,
            "fixed_annual": p.fixed_annual,
            "member_initial": p.member_initial,
            "member_annual": p.member_annual,
            "per_km_annual": p.per_km_annual,
            "lines": [list(line) for line in p.lines],
        }
        if joint:
            d["max_members"] = p.max_members
        return d

    def without_work(p: ModePrice, mode: str) -> ModePrice:  # the file states the 幹事事務費 once, in allocation
        work = instance.allocation.lead_work_annual_yen.get(mode, 0)
        return dataclasses.replace(p, fixed_annual=p.fixed_annual - work) if work else p

    geo: dict[str, Any] = {"type": instance.rules.geography.type}
    if instance.rules.geography.type == "radius_km":
        geo["km"] = instance.rules.geography.km
    return {
        "format": INSTANCE_FORMAT,
        "name": instance.name,
        "fiscal_year": instance.fiscal_year,
        "horizon_years": instance.horizon_years,
        "bodies": [body_record(b) for b in instance.bodies.values()],
        "categories": [
            {
                "id": cat.id,
                "name": cat.name,
                "group": cat.group,
                "unit": cat.unit,
                "sat_program": cat.sat_program,
                **{m: price(without_work(cat.prices[m], m), m in JOINT_MODES) for m in MODES},
            }
            for cat in instance.categories.values()
        ],
        "hosts": [{"body": h.body, "categories": sorted(h.categories)} for h in instance.hosts],
        "needs": [
            {
                "id": n.id,
                "body": n.body,
                "category": n.category,
                "volume": n.volume,
                "start_year": n.start_year,
                "modes": sorted(n.modes),
                "can_lead": n.can_lead,
                "serves_disadvantaged_area": n.serves_disadvantaged_area,
            }
            for n in instance.needs
        ],
        "rules": {
            "geography": geo,
            "together": [list(p) for p in instance.rules.together],
            "apart": [list(p) for p in instance.rules.apart],
            "fixed": [
                {k: v for k, v in (("need", f.need), ("mode", f.mode), ("lead_body", f.lead_body)) if v is not None}
                for f in instance.rules.fixed
            ],
        },
        "allocation": {
            "method": instance.allocation.method,
            "weights": dict(instance.allocation.weights),
            "core": instance.allocation.core,
            "lead_must_be_grant_eligible": instance.allocation.lead_must_be_grant_eligible,
            "lead_work_annual_yen": dict(instance.allocation.lead_work_annual_yen),
        },
    }
