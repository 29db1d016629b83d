"""A stored plan as the view the pages, the API and the dashboards share, rebuilt from the pure domain objects
(``parse_instance`` / ``settled_plan_from_dict``) and cached: a stored plan never changes."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from planner.db.models import Plan as PlanRow
from planner.db.rows import id_of
from planner.domain.instance_io import parse_instance
from planner.domain.model import Instance
from planner.domain.settled import Allocation, MemberLine, Totals, member_lines
from planner.domain.settled_plan import SettledGroup, SettledPlan, settled_plan_from_dict
from planner.domain.vocabulary import PLAN_STATUS_LABELS, category_short, mode_label


@dataclass
class GroupView:
    group: SettledGroup
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
        return mode_label(self.group.mode)

    @property
    def allocation(self) -> Allocation:
        return self.group.allocation

    @property
    def body_codes(self) -> list[str]:
        return [m.body_code for m in self.members]

    @property
    def lead_is_member(self) -> bool:
        return self.group.lead_body in self.body_codes

    def summary_dict(self) -> dict[str, Any]:
        g = self.group
        return {
            "id": g.id,
            "category": g.category,
            "category_name": self.category_name,
            "start_year": g.start_year,
            "mode": g.mode,
            "mode_label": self.mode_label,
            "lead_body": g.lead_body,
            "lead_name": self.lead_name,
            "members": len(self.members),
            "body_codes": self.body_codes,
            "cost": g.cost.as_dict(),
            "standalone_total_yen": g.standalone_total_yen,
            "saving_yen": g.saving_yen,
        }


@dataclass
class PlanView:
    id: int
    scenario_id: int
    created_at: datetime | None
    price_book_version: str
    rule_version: str
    instance: Instance
    plan: SettledPlan
    doc: dict[str, Any]
    groups: list[GroupView]
    totals: Totals
    by_id: dict[str, GroupView] = field(default_factory=dict)
    by_body: dict[str, list[GroupView]] = field(default_factory=dict)
    # What the pages derive from the view alone (totals per category, effects, charts), kept with it: a stored plan
    # never changes, and the view is cached with its plan (plan_view)
    _derived: dict[Any, Any] = field(default_factory=dict, repr=False, compare=False)

    def derived(self, key: Any, make: Callable[[], Any]) -> Any:
        """``make()``, once for this view (two requests at once may both make it; either result is the same)."""
        if key not in self._derived:
            self._derived[key] = make()
        return self._derived[key]

    @property
    def status_label(self) -> str:
        return PLAN_STATUS_LABELS.get(self.plan.status, self.plan.status)

    @property
    def override_costs(self) -> list[dict[str, Any]]:
        return list(self.doc.get("override_costs") or [])

    @property
    def notes(self) -> list[str]:
        return list(self.doc.get("notes") or [])

    def data_plan_pending(self) -> list[tuple[str, list[str]]]:
        """The 実施主体 whose grant estimate holds only if they submit their 市町村官民データ活用推進計画 by the
        application (subsidy-rules.md section 1: the plan lists them), each with the groups it is 実施主体 of."""
        from planner.domain.subsidies import REASON_DATA_PLAN

        pending: dict[str, list[str]] = {}
        for group in self.groups:
            for line in group.members:
                grant = line.subsidy.joint.grant if line.subsidy else None
                if grant is None or not grant.reason or REASON_DATA_PLAN not in grant.reason:
                    continue
                name = self.body_name(grant.implementer_body or line.body_code)
                if group.id not in pending.setdefault(name, []):
                    pending[name].append(group.id)
        return sorted(pending.items())

    def zero_reasons(self) -> list[tuple[str, str, int]]:
        """Why grants or special-tax estimates came to 0, counted over the members: (kind, reason, members),
        most frequent first, so that a plan whose estimates are all 0 says why on its first screen."""
        counts: dict[tuple[str, str], int] = {}
        for group in self.groups:
            for line in group.members:
                if line.subsidy is None:
                    continue
                joint = line.subsidy.joint
                for kind, amount, reason in (
                    ("補助金", joint.grant.amount_yen, joint.grant.reason),
                    ("特別交付税", joint.special_tax.amount_yen, joint.special_tax.reason),
                ):
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

    def filter_groups(
        self, *, category: str | None = None, mode: str | None = None, body: str | None = None, joint_only: bool = False
    ) -> list[GroupView]:
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
        return list(self.derived("category_totals", self._category_totals))

    def _category_totals(self) -> list[tuple[str, str, Totals]]:
        per: dict[str, list[MemberLine]] = {}
        for g in self.groups:
            per.setdefault(g.group.category, []).extend(g.members)
        return [(cid, cat.name, Totals.of(per[cid])) for cid, cat in self.instance.categories.items() if cid in per]

    def body_totals(self, code: str) -> Totals:
        return Totals.of([m for g in self.by_body.get(code, []) for m in g.members if m.body_code == code])

    def map_bodies(self) -> list[dict[str, Any]]:
        return [
            {"code": b.code, "name": b.name, "lat": b.lat, "lng": b.lng, "prefecture_code": b.prefecture_code}
            for b in self.instance.bodies.values()
        ]

    def map_groups(self, groups: Iterable[GroupView] | None = None) -> list[dict[str, Any]]:
        """Groups for the map; legend labels name the lead and start year (and the category when several)."""
        groups = list(self.groups if groups is None else groups)
        several = len({g.group.category for g in groups}) > 1
        return [
            {
                "id": g.id,
                "mode": g.group.mode,
                "lead_body": g.group.lead_body,
                "body_codes": g.body_codes,
                "label": (f"{category_short(g.category_name)} " if several else "")
                + f"{g.lead_name} {g.group.start_year}年度",
            }
            for g in groups
        ]

    def summary_dict(self) -> dict[str, Any]:
        p = self.plan
        return {
            "id": self.id,
            "scenario_id": self.scenario_id,
            "instance": p.instance,
            "status": p.status,
            "status_label": self.status_label,
            "created_at": self.created_at.isoformat() if self.created_at else None,
            "objective_yen": p.objective_yen,
            "lower_bound_yen": p.lower_bound_yen,
            "gap": p.gap,
            "standalone_total_yen": p.standalone_total_yen,
            "solve_seconds": p.solve_seconds,
            "price_book_version": self.price_book_version,
            "rule_version": self.rule_version,
            "groups": len(self.groups),
            "joint_groups": sum(1 for g in self.groups if g.joint),
            "totals": self.totals.as_dict(),
        }


# (plan id, scenario id, created, objective, bound, seconds): what tells a stored plan from one re-saved under its id
_CacheKey = tuple[int, int, datetime, int, int, float]
_CACHE: OrderedDict[_CacheKey, tuple[PlanView, int]] = OrderedDict()  # key -> (view, its needs)
_CACHE_LOCK = threading.Lock()
_CACHE_SIZE = 8
# A view keeps ~3.5 KB per need: eight national plans would hold a few hundred MB in every worker for good
# (issue #30). The cache also stops at this many needs in all (~70 MB); the newest view is always kept.
_CACHE_NEEDS = 20_000


def plan_view(row: PlanRow) -> PlanView:
    """The plan row as a view (cached: a stored plan never changes, and national plans take a while to parse).

    The key is made of the row's small columns only, so that a row loaded without its two documents (deferred, as
    planner.services.plans.load_plan does) reads them from the database only when the view is not cached yet."""
    plan_id = id_of(row)
    key = (plan_id, row.scenario_id, row.created_at, row.objective_yen, row.lower_bound_yen, row.solve_seconds)
    with _CACHE_LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key][0]
    view = build_view(
        plan_id,
        row.scenario_id,
        row.created_at,
        row.price_book_version,
        row.rule_version,
        row.instance_doc,
        row.plan_doc,
    )
    with _CACHE_LOCK:
        _CACHE[key] = (view, len((row.instance_doc or {}).get("needs", ())))
        while len(_CACHE) > 1 and (
            len(_CACHE) > _CACHE_SIZE or sum(needs for _, needs in _CACHE.values()) > _CACHE_NEEDS
        ):
            _CACHE.popitem(last=False)
    return view


def build_view(
    plan_id: int,
    scenario_id: int,
    created_at: datetime | None,
    price_book_version: str,
    rule_version: str,
    instance_doc: dict[str, Any],
    plan_doc: dict[str, Any],
) -> PlanView:
    instance = parse_instance(instance_doc)
    plan = settled_plan_from_dict(plan_doc)
    groups: list[GroupView] = []
    by_id: dict[str, GroupView] = {}
    by_body: dict[str, list[GroupView]] = {}
    for g in plan.groups:
        lines = member_lines(instance, g)
        cat = instance.categories.get(g.category)
        lead = instance.bodies.get(g.lead_body)
        view = GroupView(
            g, cat.name if cat else g.category, lead.name if lead else g.lead_body, lines, Totals.of(lines)
        )
        groups.append(view)
        by_id[g.id] = view
        for code in dict.fromkeys(line.body_code for line in lines):
            by_body.setdefault(code, []).append(view)
    totals = Totals.of([m for view in groups for m in view.members])
    return PlanView(
        plan_id,
        scenario_id,
        created_at,
        price_book_version,
        rule_version,
        instance,
        plan,
        plan_doc,
        groups,
        totals,
        by_id,
        by_body,
    )
