"""The settled plan as its own frozen type: every group carries its allocation, its members' subsidy estimates
and their effect estimates, so no reader has to ask whether settlement has run.

:func:`planner.domain.settlement.settle_plan` turns the optimiser's :class:`~planner.domain.plan.Plan` into a
:class:`SettledPlan`; :func:`planner.domain.settlement.attach_effects` adds the effect estimates;
``planner.services.solving.solve_and_settle`` runs the whole pipeline for ``planner solve`` and the web's job.
``SettledPlan.to_dict`` writes the `kyodo-planner-plan/1` document and :func:`settled_plan_from_dict` reads it
back, refusing a group without its allocation or estimates with the group named (a hand-made plan file is read
with ``plan_from_dict`` and settled instead, as ``planner report`` does).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .costs import GroupCost
from .effects import EffectEstimates, NeedEffect, effects_from_plan
from .plan import PLAN_FORMAT, PlanGroup, check_format, group_from_dict
from .settled import Allocation, SubsidyEstimate, allocation_from_json, subsidy_from_json


@dataclass(frozen=True)
class SettledGroup:
    """A consortium (or a lone need) with its cost split (``allocation``), each member's subsidy estimates
    (``subsidies``, by need id) and effect estimates (``effects``, by need id; empty when the plan has none)."""

    id: str
    category: str
    start_year: int
    mode: str  # lead | unified | standalone
    lead_body: str
    members: tuple[str, ...]  # need ids, in the plan's order
    cost: GroupCost
    standalone_total_yen: int  # what the members would pay going alone, summed (the saving's baseline)
    allocation: Allocation
    subsidies: Mapping[str, SubsidyEstimate]
    effects: Mapping[str, NeedEffect]
    # {lead_body, extra_cost_yen}: the cheapest grant-eligible lead, for a lead-mode group where a member is worse
    # off if grants are awarded (net_fairness.eligible_lead_alternative); None otherwise
    eligible_lead_alternative: Mapping[str, Any] | None = None

    @property
    def saving_yen(self) -> int:
        return self.standalone_total_yen - self.cost.total_yen

    @classmethod
    def of(
        cls,
        group: PlanGroup,
        allocation: Allocation,
        subsidies: Mapping[str, SubsidyEstimate],
        effects: Mapping[str, NeedEffect] | None = None,
        eligible_lead_alternative: Mapping[str, Any] | None = None,
    ) -> SettledGroup:
        return cls(
            id=group.id,
            category=group.category,
            start_year=group.start_year,
            mode=group.mode,
            lead_body=group.lead_body,
            members=tuple(group.members),
            cost=group.cost,
            standalone_total_yen=group.standalone_total_yen,
            allocation=allocation,
            subsidies=subsidies,
            effects=effects or {},
            eligible_lead_alternative=eligible_lead_alternative,
        )

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
            "allocation": self.allocation.to_json(),
            "subsidies": {nid: estimate.to_json() for nid, estimate in self.subsidies.items()},
            "eligible_lead_alternative": None
            if self.eligible_lead_alternative is None
            else dict(self.eligible_lead_alternative),
        }


@dataclass(frozen=True)
class SettledPlan:
    """The optimiser's plan with every group settled. ``effects`` is the plan's effect-estimate field: None only
    for a plan written before effect estimates existed (the pages and documents then leave the section out)."""

    instance: str
    status: str  # optimal | time_limit | feasible
    objective_yen: int
    lower_bound_yen: int
    gap: float
    standalone_total_yen: int
    solve_seconds: float
    groups: tuple[SettledGroup, ...]
    need_standalone_yen: Mapping[str, int]
    stats: Mapping[str, Any]
    effects: EffectEstimates | None = None

    def to_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
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
            doc["effects"] = self.effects.to_json()
        return doc


def settled_plan_from_dict(doc: dict[str, Any]) -> SettledPlan:
    """Read a settled `kyodo-planner-plan/1` document. Raises ValueError naming the group when a group has no
    allocation or estimates, or when its records contradict each other."""
    check_format(doc)
    need_standalone = {k: int(v) for k, v in doc.get("need_standalone_yen", {}).items()}
    effects = effects_from_plan(doc)
    by_need = effects.needs if effects is not None else {}
    groups = []
    for g in doc["groups"]:
        group = group_from_dict(g)
        try:
            allocation, subsidies = _settlement_from_json(g, group, need_standalone)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"グループ {g['id']} の按分・見込額が読めません: {e}") from e
        group_effects = {m: by_need[m] for m in group.members if m in by_need}
        groups.append(
            SettledGroup.of(
                group, allocation, subsidies, group_effects, _alternative(g.get("eligible_lead_alternative"))
            )
        )
    return SettledPlan(
        instance=doc.get("instance", ""),
        status=doc["status"],
        objective_yen=int(doc["objective_yen"]),
        lower_bound_yen=int(doc["lower_bound_yen"]),
        gap=float(doc["gap"]),
        standalone_total_yen=int(doc["standalone_total_yen"]),
        solve_seconds=float(doc.get("solve_seconds", 0.0)),
        groups=tuple(groups),
        need_standalone_yen=need_standalone,
        stats=dict(doc.get("stats", {})),
        effects=effects,
    )


def _settlement_from_json(
    g: dict[str, Any], group: PlanGroup, need_standalone: dict[str, int]
) -> tuple[Allocation, dict[str, SubsidyEstimate]]:
    """A group's typed allocation and estimates. Shares written before they carried ``standalone_total_yen`` take
    it from the plan's per-need standalone costs (a lone member: the group's own standalone total)."""
    if g.get("allocation") is None:
        raise ValueError(
            "按分結果（allocation.shares）がありません。按分と見込額を付けた計画（planner solve の出力）が必要です"
        )
    if g.get("subsidies") is None:
        raise ValueError("見込額（subsidies）がありません。按分と見込額を付けた計画（planner solve の出力）が必要です")
    fallback = dict(need_standalone)
    if len(group.members) == 1:
        fallback.setdefault(group.members[0], group.standalone_total_yen)
    allocation = allocation_from_json(g["allocation"], group.members, fallback)
    subsidies = {str(nid): subsidy_from_json(str(nid), record) for nid, record in g["subsidies"].items()}
    return allocation, subsidies


def _alternative(value: Any) -> dict[str, Any] | None:
    """The group's eligible-lead alternative as written (None in plans written before it existed)."""
    if not isinstance(value, Mapping) or value.get("lead_body") is None:
        return None
    return {"lead_body": str(value["lead_body"]), "extra_cost_yen": int(value.get("extra_cost_yen", 0))}
