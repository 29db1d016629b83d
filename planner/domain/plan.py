"""A plan: the optimiser's answer (spec: instance-format.md, "Plan"), with its explanations.

``Plan.to_dict`` writes the `kyodo-planner-plan/1` document; ``plan_from_dict`` reads it back (the reports and
the web layer read plans that way). A settled group's allocation and subsidy estimates are the typed records of
planner.domain.settled, written and read through their one JSON conversion.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .costs import GroupCost
from .effects import NeedEffect, effects_from_plan
from .settled import Allocation, SubsidyEstimate, allocation_from_json, subsidy_from_json

PLAN_FORMAT = "kyodo-planner-plan/1"


@dataclass
class PlanGroup:
    id: str
    category: str
    start_year: int
    mode: str  # lead | unified | standalone
    lead_body: str
    members: list[str]  # need ids
    cost: GroupCost
    standalone_total_yen: int  # what the members would pay going alone, summed (the saving's baseline)
    allocation: Allocation | None = None  # filled by planner.domain.settlement
    subsidies: dict[str, SubsidyEstimate] | None = None  # need id -> estimates; filled by planner.domain.settlement
    effects: dict[str, NeedEffect] | None = None  # need id -> effect estimate, from the plan's ``effects`` field

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.cost.total_yen

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "category": self.category,
            "start_year": self.start_year,
            "mode": self.mode,
            "lead_body": self.lead_body,
            "members": list(self.members),
            "cost": self.cost.as_dict(),
            "standalone_total_yen": self.standalone_total_yen,
            "saving_yen": self.saving_yen,
        }
        if self.allocation is not None:
            d["allocation"] = self.allocation.to_json()
        if self.subsidies is not None:
            d["subsidies"] = {nid: estimate.to_json() for nid, estimate in self.subsidies.items()}
        return d


@dataclass
class Plan:
    instance: str
    status: str  # optimal | time_limit | feasible
    objective_yen: int
    lower_bound_yen: int
    gap: float
    standalone_total_yen: int
    solve_seconds: float
    groups: list[PlanGroup]
    # Explanations and statistics: each need's standalone cost, sub-problem counts, solver used, ...
    need_standalone_yen: dict[str, int] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)
    effects: dict[str, Any] | None = None  # the effect estimates (planner.domain.effects.plan_effects; README)

    def to_dict(self) -> dict[str, Any]:
        doc = {
            "format": PLAN_FORMAT,
            "instance": self.instance,
            "status": self.status,
            "objective_yen": self.objective_yen,
            "lower_bound_yen": self.lower_bound_yen,
            "gap": self.gap,
            "standalone_total_yen": self.standalone_total_yen,
            "solve_seconds": round(self.solve_seconds, 3),
            "groups": [g.to_dict() for g in self.groups],
            "need_standalone_yen": dict(self.need_standalone_yen),
            "stats": dict(self.stats),
        }
        if self.effects is not None:
            doc["effects"] = self.effects
        return doc


def plan_from_dict(doc: dict[str, Any]) -> Plan:
    if doc.get("format") != PLAN_FORMAT:
        raise ValueError(f'not a plan: format must be "{PLAN_FORMAT}", got {doc.get("format")!r}')
    need_standalone = {k: int(v) for k, v in doc.get("need_standalone_yen", {}).items()}
    effects = effects_from_plan(doc) if isinstance(doc.get("effects"), dict) else None
    groups = []
    for g in doc["groups"]:
        cost = g["cost"]
        members = list(g["members"])
        standalone_total = int(g.get("standalone_total_yen", cost["total_yen"]))
        try:
            allocation, subsidies = _settlement_from_json(g, members, standalone_total, need_standalone)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"グループ {g['id']} の按分・見込額が読めません: {e}") from e
        groups.append(
            PlanGroup(
                id=g["id"],
                category=g["category"],
                start_year=int(g["start_year"]),
                mode=g["mode"],
                lead_body=g["lead_body"],
                members=members,
                cost=GroupCost(
                    int(cost["initial_yen"]), int(cost["annual_yen"]), int(cost["total_yen"]), float(cost["total_yen"])
                ),
                standalone_total_yen=standalone_total,
                allocation=allocation,
                subsidies=subsidies,
                effects=None if effects is None else {m: effects[m] for m in members if m in effects},
            )
        )
    return Plan(
        instance=doc.get("instance", ""),
        status=doc["status"],
        objective_yen=int(doc["objective_yen"]),
        lower_bound_yen=int(doc["lower_bound_yen"]),
        gap=float(doc["gap"]),
        standalone_total_yen=int(doc["standalone_total_yen"]),
        solve_seconds=float(doc.get("solve_seconds", 0.0)),
        groups=groups,
        need_standalone_yen=need_standalone,
        stats=dict(doc.get("stats", {})),
        effects=doc["effects"] if effects is not None else None,
    )


def _settlement_from_json(
    g: dict[str, Any], members: list[str], standalone_total: int, need_standalone: dict[str, int]
) -> tuple[Allocation | None, dict[str, SubsidyEstimate] | None]:
    """A group's typed allocation and estimates. Shares written before they carried ``standalone_total_yen`` take
    it from the plan's per-need standalone costs (a lone member: the group's own standalone total)."""
    allocation = None
    if g.get("allocation") is not None:
        fallback = dict(need_standalone)
        if len(members) == 1:
            fallback.setdefault(members[0], standalone_total)
        allocation = allocation_from_json(g["allocation"], members, fallback)
    subsidies = None
    if g.get("subsidies") is not None:
        subsidies = {str(nid): subsidy_from_json(str(nid), record) for nid, record in g["subsidies"].items()}
    return allocation, subsidies
