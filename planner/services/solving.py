"""The one solve pipeline: optimise an instance, settle the plan (allocation, fairness proof, subsidy estimates)
and attach the effect estimates, returning a frozen :class:`~planner.domain.settled_plan.SettledPlan`.

``planner solve`` (planner.cli.solving) and the web's background job (planner.jobs.runner) both call
:func:`solve_and_settle`; they differ only in where their inputs come from (files or the database) and in what
they do with the progress events (print timings, or show them on the scenario page and stop on a cancel).
Nothing here touches the database.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from planner.domain import optimiser, settlement
from planner.domain.effects import Baseline, EffectModel
from planner.domain.model import Instance
from planner.domain.plan import Plan
from planner.domain.settled_plan import SettledPlan
from planner.domain.subsidy_rules import RuleSet, as_rule_set

Stage = Literal["solving", "solved", "settling"]


@dataclass(frozen=True)
class EffectInputs:
    """What the effect estimates need besides the plan: the model, needs' own baselines (by need id) and bodies'
    staff cost per hour (by body code, already resolved from the body's own or its prefecture's figure)."""

    model: EffectModel
    baselines: Mapping[str, Baseline] = field(default_factory=dict)
    staff_costs: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class SolveProgress:
    """One progress event of :func:`solve_and_settle`.

    - ``solving``: the optimiser is running; ``solver`` holds its latest progress figures (``done``, ``total``,
      ``incumbent_yen``, ``bound_yen``, ``gap``, ``elapsed``); also sent once, empty, before it starts.
    - ``solved``: the optimiser has finished; ``plan`` is its (unsettled) answer.
    - ``settling``: ``done`` of ``total`` groups settled (sent before the first group and after each one).

    An exception raised by the callback (a cancelled job) stops the pipeline there."""

    stage: Stage
    solver: Mapping[str, Any] = field(default_factory=dict)
    plan: Plan | None = None
    done: int = 0
    total: int = 0


ProgressCallback = Callable[[SolveProgress], None]


def solve_and_settle(
    instance: Instance,
    *,
    rules: RuleSet | Mapping[str, Any] | None = None,
    method: str | None = None,
    weights: Mapping[str, float] | None = None,
    core: str | None = None,
    effects: EffectInputs | None = None,
    time_limit: float | None = None,
    gap: float = 0.0,
    solver: str = "auto",
    progress: ProgressCallback | None = None,
    cancel: Callable[[], bool] | None = None,
) -> SettledPlan:
    """Optimise ``instance``, settle the plan and attach the effect estimates (none when ``effects`` is None).

    ``rules`` default to the newest shipped rule set; ``method``/``weights``/``core`` to the instance's allocation
    spec. ``cancel`` is polled by the optimiser. Raises the domain's own errors for the caller to word:
    ``planner.domain.optimiser.Infeasible`` / ``Cancelled``, ``planner.domain.allocation.AllocationError`` (e.g.
    人口割 without populations), ``planner.domain.subsidies.SubsidyRulesError`` (a bad rule set)."""

    def tell(event: SolveProgress) -> None:
        if progress is not None:
            progress(event)

    def on_solver(info: dict[str, Any]) -> None:
        tell(SolveProgress("solving", solver=dict(info)))

    tell(SolveProgress("solving"))
    rule_set = as_rule_set(rules)
    # who may lead under lead_must_be_grant_eligible is the rule set's grant terms, for the optimiser as for the
    # settlement (planner.domain.settlement.with_grant_lead_rules)
    instance = settlement.with_grant_lead_rules(instance, rule_set)
    # Called through their modules, so that a test can stand in for either.
    plan = optimiser.optimise(
        instance,
        time_limit=time_limit,
        gap=gap,
        solver=solver,
        progress=on_solver if progress is not None else None,
        cancel=cancel,
    )
    tell(SolveProgress("solved", plan=plan))
    settled = settlement.settle_plan(
        instance,
        plan,
        rules=rule_set,
        method=method,
        weights=weights,
        core=core,
        progress=lambda done, total: tell(SolveProgress("settling", done=done, total=total)),
    )
    if effects is None:
        return settled
    return settlement.attach_effects(
        instance, settled, effects.model, baselines=effects.baselines, staff_costs=effects.staff_costs
    )
