"""The optimiser's answer, before settlement (spec: instance-format.md, "Plan"): groups, their modes, leads and
costs, with no allocation and no estimates.

:class:`Plan` is what ``planner.domain.optimiser.optimise`` and the baselines return and what
:func:`planner.domain.settlement.settle_plan` takes; the settled plan (allocations, subsidy estimates, effect
estimates) is its own frozen type, :class:`planner.domain.settled_plan.SettledPlan`, so "settled" is checked by the
type rather than by ``is None`` guards. ``plan_from_dict`` reads the optimiser's part of a `kyodo-planner-plan/1`
document (any settlement fields in it are ignored: a hand-made plan file is settled again).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from .costs import GroupCost

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

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.cost.total_yen

    def to_dict(self) -> dict[str, Any]:
        return {
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

    def to_dict(self) -> dict[str, Any]:
        return {
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


def check_format(doc: dict[str, Any]) -> None:
    if doc.get("format") != PLAN_FORMAT:
        raise ValueError(f'not a plan: format must be "{PLAN_FORMAT}", got {doc.get("format")!r}')


def group_from_dict(g: dict[str, Any]) -> PlanGroup:
    """One group's optimiser fields (a plan written before groups carried ``standalone_total_yen`` takes the
    group's own cost)."""
    cost = g["cost"]
    return PlanGroup(
        id=g["id"],
        category=g["category"],
        start_year=int(g["start_year"]),
        mode=g["mode"],
        lead_body=g["lead_body"],
        members=list(g["members"]),
        cost=GroupCost(
            int(cost["initial_yen"]), int(cost["annual_yen"]), int(cost["total_yen"]), float(cost["total_yen"])
        ),
        standalone_total_yen=int(g.get("standalone_total_yen", cost["total_yen"])),
    )


def plan_from_dict(doc: dict[str, Any]) -> Plan:
    """The optimiser's part of a plan document; settlement fields, if any, are not read."""
    check_format(doc)
    return Plan(
        instance=doc.get("instance", ""),
        status=doc["status"],
        objective_yen=int(doc["objective_yen"]),
        lower_bound_yen=int(doc["lower_bound_yen"]),
        gap=float(doc["gap"]),
        standalone_total_yen=int(doc["standalone_total_yen"]),
        solve_seconds=float(doc.get("solve_seconds", 0.0)),
        groups=[group_from_dict(g) for g in doc["groups"]],
        need_standalone_yen={k: int(v) for k, v in doc.get("need_standalone_yen", {}).items()},
        stats=dict(doc.get("stats", {})),
    )


def is_settled_doc(doc: dict[str, Any]) -> bool:
    """Whether every group of a plan document carries its allocation and estimates (``planner solve`` output, a
    stored plan) rather than the optimiser's groups alone (a hand-made plan file)."""
    return all(g.get("allocation") is not None and g.get("subsidies") is not None for g in doc.get("groups", []))
