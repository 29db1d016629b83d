"""Solved plans in the database: persist one (with its consortia, shares and estimates), read it back as a view
the pages, the API and the reports share, and compare two plans.

The Plan row keeps the instance and plan documents, so every view is rebuilt from the pure domain objects
(``parse_instance`` / ``plan_from_dict``); the Consortium / MemberShare / SubsidyEstimate rows exist for queries
("which plans include this body", lists and filters) and for other tools reading the database.
"""
from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import Consortium, MemberShare, Plan as PlanRow, Scenario, SubsidyEstimate, User
from planner.domain.instance_io import instance_to_dict, parse_instance
from planner.domain.model import Instance
from planner.domain.plan import Plan, PlanGroup, plan_from_dict
from planner.domain.settled import Allocation, MemberLine, Totals, member_lines

MODE_LABELS = {"lead": "幹事団体一括調達", "unified": "仕様統一・各団体調達", "standalone": "単独調達"}
MODE_SHORT = {"lead": "幹事一括", "unified": "仕様統一", "standalone": "単独"}
STATUS_LABELS = {"optimal": "最適解", "time_limit": "時間制限で打切り（暫定解）", "feasible": "実行可能解"}


# --- writing ------------------------------------------------------------------------------------------------------

def persist_plan(session: Session, scenario_id: int, instance: Instance, plan: Plan, *, price_book_version: str,
                 rule_version: str, extras: dict[str, Any] | None = None) -> PlanRow:
    """Add the plan and its rows to the session's transaction (the caller commits, or rolls everything back)."""
    doc = plan.to_dict()
    doc["stats"] = {**doc.get("stats", {}), "price_book_version": price_book_version, "rule_version": rule_version}
    for key, value in (extras or {}).items():
        doc[key] = value
    row = PlanRow(scenario_id=scenario_id, status=plan.status, objective_yen=plan.objective_yen,
                  lower_bound_yen=plan.lower_bound_yen, gap=plan.gap, standalone_total_yen=plan.standalone_total_yen,
                  solve_seconds=plan.solve_seconds, price_book_version=price_book_version, rule_version=rule_version,
                  instance_doc=instance_to_dict(instance), plan_doc=doc)
    session.add(row)
    session.flush()
    shares_and_subsidies = []
    for group in plan.groups:
        allocation = group.allocation
        consortium = Consortium(
            plan_id=row.id, group_key=group.id, category_id=group.category, start_year=group.start_year,
            mode=group.mode, lead_body_code=group.lead_body, initial_yen=group.cost.initial_yen,
            annual_yen=group.cost.annual_yen, total_yen=group.cost.total_yen,
            standalone_total_yen=group.standalone_total_yen,
            allocation_method=allocation.method[:20] if allocation else "",
            individually_rational=allocation.individually_rational if allocation else None,
            in_core=allocation.in_core if allocation else None,
            exhaustive_check=allocation.exhaustive_check if allocation else None)
        session.add(consortium)
        shares_and_subsidies.append((consortium, group))
    session.flush()
    estimates = []
    for consortium, group in shares_and_subsidies:
        for line in member_lines(instance, group):
            share = MemberShare(consortium_id=consortium.id, need_key=line.need_id, body_code=line.body_code,
                                initial_yen=line.initial_yen, annual_yen=line.annual_yen, total_yen=line.total_yen,
                                standalone_total_yen=line.standalone_total_yen)
            session.add(share)
            estimates.append((share, line))
    session.flush()
    for share, line in estimates:
        if line.subsidy is not None:
            session.add(SubsidyEstimate(member_share_id=share.id, grant_yen=line.grant_yen,
                                        special_tax_yen=line.special_tax_yen,
                                        special_tax_measure=(line.special_tax_measure or None),
                                        net_yen=line.net_yen, standalone_net_yen=line.standalone_net_yen,
                                        notes=list(line.notes)))
    session.flush()
    return row


# --- reading ------------------------------------------------------------------------------------------------------

@dataclass
class GroupView:
    group: PlanGroup
    category_name: str
    lead_name: str
    members: list[MemberLine]
    totals: Totals

    @property
    def id(self) -> str:
        return self.group.id

    @property
    def joint(self) -> bool:
        return self.group.mode != "standalone"

    @property
    def mode_label(self) -> str:
        return MODE_LABELS.get(self.group.mode, self.group.mode)

    @property
    def allocation(self) -> Allocation | None:
        return self.group.allocation

    @property
    def body_codes(self) -> list[str]:
        return [m.body_code for m in self.members]

    @property
    def lead_is_member(self) -> bool:
        return self.group.lead_body in self.body_codes

    def summary_dict(self) -> dict[str, Any]:
        g = self.group
        return {"id": g.id, "category": g.category, "category_name": self.category_name, "start_year": g.start_year,
                "mode": g.mode, "mode_label": self.mode_label, "lead_body": g.lead_body, "lead_name": self.lead_name,
                "members": len(self.members), "body_codes": self.body_codes, "cost": g.cost.as_dict(),
                "standalone_total_yen": g.standalone_total_yen, "saving_yen": g.saving_yen}


@dataclass
class PlanView:
    id: int
    scenario_id: int
    created_at: datetime | None
    price_book_version: str
    rule_version: str
    instance: Instance
    plan: Plan
    doc: dict[str, Any]
    groups: list[GroupView]
    totals: Totals
    by_id: dict[str, GroupView] = field(default_factory=dict)
    by_body: dict[str, list[GroupView]] = field(default_factory=dict)

    @property
    def status_label(self) -> str:
        return STATUS_LABELS.get(self.plan.status, self.plan.status)

    @property
    def override_costs(self) -> list[dict[str, Any]]:
        return list(self.doc.get("override_costs") or [])

    @property
    def notes(self) -> list[str]:
        return list(self.doc.get("notes") or [])

    def zero_reasons(self) -> list[tuple[str, str, int]]:
        """Why grants or special-tax estimates came to 0, counted over the members: (kind, reason, members),
        most frequent first, so that a plan whose estimates are all 0 says why on its first screen."""
        counts: dict[tuple[str, str], int] = {}
        for group in self.groups:
            for line in group.members:
                if line.subsidy is None:
                    continue
                joint = line.subsidy.joint
                for kind, amount, reason in (("補助金", joint.grant.amount_yen, joint.grant.reason),
                                             ("特別交付税", joint.special_tax.amount_yen, joint.special_tax.reason)):
                    if reason and not amount:
                        counts[(kind, reason)] = counts.get((kind, reason), 0) + 1
        return sorted(((k, r, n) for (k, r), n in counts.items()), key=lambda x: (-x[2], x[0], x[1]))

    def category_name(self, category_id: str) -> str:
        cat = self.instance.categories.get(category_id)
        return cat.name if cat else category_id

    def body_name(self, code: str) -> str:
        body = self.instance.bodies.get(code)
        return body.name if body else code

    def includes_body(self, code: str | None) -> bool:
        return bool(code) and code in self.by_body

    def filter_groups(self, *, category: str | None = None, mode: str | None = None, body: str | None = None,
                      joint_only: bool = False) -> list[GroupView]:
        out = self.groups
        if category:
            out = [g for g in out if g.group.category == category]
        if mode:
            out = [g for g in out if g.group.mode == mode]
        if joint_only:
            out = [g for g in out if g.joint]
        if body:
            out = [g for g in out if body in g.body_codes or g.group.lead_body == body]
        return out

    def category_totals(self) -> list[tuple[str, str, Totals]]:
        """(category id, name, totals) in the price book's order, for categories with needs."""
        per: dict[str, list[MemberLine]] = {}
        for g in self.groups:
            per.setdefault(g.group.category, []).extend(g.members)
        return [(cid, cat.name, Totals.of(per[cid])) for cid, cat in self.instance.categories.items() if cid in per]

    def body_totals(self, code: str) -> Totals:
        return Totals.of([m for g in self.by_body.get(code, []) for m in g.members if m.body_code == code])

    def map_bodies(self) -> list[dict[str, Any]]:
        return [{"code": b.code, "name": b.name, "lat": b.lat, "lng": b.lng, "prefecture_code": b.prefecture_code}
                for b in self.instance.bodies.values()]

    def map_groups(self, groups: Iterable[GroupView] | None = None) -> list[dict[str, Any]]:
        """Groups for the map; legend labels name the lead and start year (and the category when several)."""
        groups = list(self.groups if groups is None else groups)
        several = len({g.group.category for g in groups}) > 1
        return [{"id": g.id, "mode": g.group.mode, "lead_body": g.group.lead_body, "body_codes": g.body_codes,
                 "label": (f"{_short(g.category_name)} " if several else "") + f"{g.lead_name} {g.group.start_year}"}
                for g in groups]

    def summary_dict(self) -> dict[str, Any]:
        p = self.plan
        return {"id": self.id, "scenario_id": self.scenario_id, "instance": p.instance, "status": p.status,
                "status_label": self.status_label,
                "created_at": self.created_at.isoformat() if self.created_at else None,
                "objective_yen": p.objective_yen, "lower_bound_yen": p.lower_bound_yen, "gap": p.gap,
                "standalone_total_yen": p.standalone_total_yen, "solve_seconds": p.solve_seconds,
                "price_book_version": self.price_book_version, "rule_version": self.rule_version,
                "groups": len(self.groups), "joint_groups": sum(1 for g in self.groups if g.joint),
                "totals": self.totals.as_dict()}


def _short(name: str) -> str:
    """A category name without its explanation in brackets: 「AI-OCR（文字認識）」 → 「AI-OCR」."""
    return name.split("（", 1)[0]


_CACHE: "OrderedDict[tuple, PlanView]" = OrderedDict()
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8


def plan_view(row: PlanRow) -> PlanView:
    """The plan row as a view (cached: a stored plan never changes, and national plans take a while to parse)."""
    key = (row.id, row.scenario_id, row.created_at, row.objective_yen, len(row.plan_doc.get("groups", ())))
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    view = build_view(row.id, row.scenario_id, row.created_at, row.price_book_version, row.rule_version,
                      row.instance_doc, row.plan_doc)
    with _CACHE_LOCK:
        _CACHE[key] = view
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return view


def build_view(plan_id: int, scenario_id: int, created_at: datetime | None, price_book_version: str,
               rule_version: str, instance_doc: dict[str, Any], plan_doc: dict[str, Any]) -> PlanView:
    instance = parse_instance(instance_doc)
    plan = plan_from_dict(plan_doc)
    groups, by_id, by_body = [], {}, {}
    for g in plan.groups:
        lines = member_lines(instance, g)
        cat = instance.categories.get(g.category)
        lead = instance.bodies.get(g.lead_body)
        view = GroupView(g, cat.name if cat else g.category, lead.name if lead else g.lead_body, lines,
                         Totals.of(lines))
        groups.append(view)
        by_id[g.id] = view
        for code in dict.fromkeys(line.body_code for line in lines):
            by_body.setdefault(code, []).append(view)
    totals = Totals.of([m for view in groups for m in view.members])
    return PlanView(plan_id, scenario_id, created_at, price_book_version, rule_version, instance, plan, plan_doc,
                    groups, totals, by_id, by_body)


# --- access -------------------------------------------------------------------------------------------------------

def visible_plans(user: User):
    """A select() of (Plan, Scenario) rows the user may open."""
    query = select(PlanRow, Scenario).join(Scenario, Scenario.id == PlanRow.scenario_id)
    if user.role == "admin":
        return query
    if user.role == "prefecture" and user.prefecture_code:
        return query.where(Scenario.prefecture_code == user.prefecture_code)
    if user.role == "municipality" and user.body_code:
        members = (select(Consortium.plan_id).join(MemberShare, MemberShare.consortium_id == Consortium.id)
                   .where(MemberShare.body_code == user.body_code))
        return query.where(PlanRow.id.in_(members))
    return query.where(PlanRow.id == -1)


def list_plans(session: Session, user: User, *, scenario_id: int | None = None, prefecture_code: str | None = None,
               page: int = 1, per_page: int = 25) -> tuple[list[tuple[PlanRow, Scenario]], int]:
    query = visible_plans(user)
    if scenario_id:
        query = query.where(PlanRow.scenario_id == scenario_id)
    if prefecture_code:
        query = query.where(Scenario.prefecture_code == prefecture_code)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(PlanRow.created_at.desc(), PlanRow.id.desc())
                        .offset((page - 1) * per_page).limit(per_page)).all()
    return [tuple(r) for r in rows], int(total)


def plan_access(user: User, scenario: Scenario, view: PlanView) -> str | None:
    """"full" (coordinators of the prefecture and admins), "body" (municipality staff whose body is in the
    plan: their own view only), or None."""
    if user.role == "admin":
        return "full"
    if user.role == "prefecture":
        return "full" if scenario.prefecture_code and scenario.prefecture_code == user.prefecture_code else None
    if user.role == "municipality" and view.includes_body(user.body_code):
        return "body"
    return None


def latest_plan(session: Session, scenario_id: int) -> PlanRow | None:
    return session.exec(select(PlanRow).where(PlanRow.scenario_id == scenario_id)
                        .order_by(PlanRow.created_at.desc(), PlanRow.id.desc())).first()


# --- comparison ---------------------------------------------------------------------------------------------------

@dataclass
class Placement:
    group_id: str
    mode: str
    lead_body: str
    partners: frozenset[str]  # the other member bodies
    total_yen: int
    net_yen: int

    def signature(self) -> tuple:
        return (self.mode, self.lead_body, self.partners)


@dataclass
class BodyChange:
    body_code: str
    body_name: str
    category: str
    category_name: str
    a: Placement | None
    b: Placement | None

    @property
    def group_changed(self) -> bool:
        return (self.a.signature() if self.a else None) != (self.b.signature() if self.b else None)

    @property
    def net_diff_yen(self) -> int:
        return (self.b.net_yen if self.b else 0) - (self.a.net_yen if self.a else 0)

    @property
    def total_diff_yen(self) -> int:
        return (self.b.total_yen if self.b else 0) - (self.a.total_yen if self.a else 0)


@dataclass
class Comparison:
    a: PlanView
    b: PlanView
    changes: list[BodyChange]
    bodies_compared: int

    @property
    def totals_rows(self) -> list[tuple[str, int | None, int | None]]:
        ta, tb = self.a.totals, self.b.totals
        return [("単独導入の合計", ta.standalone_yen, tb.standalone_yen), ("共同調達後の総費用", ta.joint_yen, tb.joint_yen),
                ("削減額", ta.saving_yen, tb.saving_yen), ("補助金（見込額）", ta.grant_yen, tb.grant_yen),
                ("特別交付税（見込額）", ta.special_tax_yen, tb.special_tax_yen), ("実負担（見込額）", ta.net_yen, tb.net_yen),
                ("共同調達グループ数", sum(g.joint for g in self.a.groups), sum(g.joint for g in self.b.groups))]


def _placements(view: PlanView) -> dict[tuple[str, str], Placement]:
    out: dict[tuple[str, str], Placement] = {}
    for g in view.groups:
        codes = set(g.body_codes)
        for m in g.members:
            key = (m.body_code, g.group.category)
            p = out.get(key)
            if p is None:
                out[key] = Placement(g.id, g.group.mode, g.group.lead_body, frozenset(codes - {m.body_code}),
                                     m.total_yen, m.net_yen)
            else:  # several needs of one body in one category (different start years): add them up
                out[key] = Placement(p.group_id + "," + g.id, p.mode + "," + g.group.mode,
                                     p.lead_body + "," + g.group.lead_body,
                                     p.partners | frozenset(codes - {m.body_code}), p.total_yen + m.total_yen,
                                     p.net_yen + m.net_yen)
    return out


def compare_views(a: PlanView, b: PlanView) -> Comparison:
    """Totals side by side and every body whose group (mode, lead, partners) or burden changed, per category."""
    pa, pb = _placements(a), _placements(b)
    changes = []
    for key in sorted(set(pa) | set(pb)):
        x, y = pa.get(key), pb.get(key)
        code, cat = key
        change = BodyChange(code, b.body_name(code) if code in b.instance.bodies else a.body_name(code), cat,
                            b.category_name(cat) if cat in b.instance.categories else a.category_name(cat), x, y)
        if change.group_changed or change.net_diff_yen or change.total_diff_yen:
            changes.append(change)
    changes.sort(key=lambda c: (-abs(c.net_diff_yen), c.body_code, c.category))
    return Comparison(a, b, changes, len({k[0] for k in set(pa) | set(pb)}))
