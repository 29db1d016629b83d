"""What made the national radius-100 instance harder in the week of 2026-11-30 (issue 32).

Two things changed that week: unified groups need a coordinator that is a member with can_lead (e1e3702; before,
any member could coordinate a unified group), and the instance generator draws new need and body flags
(serves_disadvantaged_area, disadvantaged, has_data_plan, no_allocation_tax). The flags do not enter the
optimiser's costs (planner/domain/costs.py reads none of them), so this script compares the same instance's
sub-problems under the two coordinator rules: components, candidate options, and for the largest components the
LP bound (column generation run to convergence; no proof step) against the best plan the rounding finds.

    PYTHONPATH=$PWD .venv/bin/python bench/coordinator_rule.py /tmp/national_radius100.json --top 4 --seconds 600

The old rule is the current decomposition with the one condition of e1e3702 reverted, in this process only.
"""

from __future__ import annotations

import argparse
import inspect
import textwrap
import time

from planner.domain.instance_io import load_instance
from planner.domain.optimiser import colgen, subproblems
from planner.domain.optimiser.driver import heuristic_plan, model_columns

_NEW = "member_leads = [n for n in needs if mode in n.modes and n.can_lead]"
_OLD = 'member_leads = [n for n in needs if mode in n.modes and (mode == "unified" or n.can_lead)]'
_NEW_REQ = "required = [i for i in members if needs[i].body == lead and needs[i].can_lead]"
_OLD_REQ = 'required = [i for i in members if needs[i].body == lead and (mode == "unified" or needs[i].can_lead)]'


def old_rule_components():  # type: ignore[no-untyped-def]
    source = textwrap.dedent(inspect.getsource(subproblems._components))
    if _NEW not in source or _NEW_REQ not in source:
        raise SystemExit("subproblems._components changed: update the rule switch in this script")
    namespace = dict(vars(subproblems))
    exec(source.replace(_NEW, _OLD).replace(_NEW_REQ, _OLD_REQ), namespace)
    return namespace["_components"]


def describe(label: str, subs: list[subproblems.SubProblem], top: int, seconds: float) -> None:
    subs = sorted(subs, key=lambda s: -s.size)
    print(
        f"{label}: {len(subs)} sub-problems, {sum(1 for s in subs if s.size > 8)} above 8 needs, largest "
        f"{subs[0].size}; options {sum(len(s.options) for s in subs):,}"
    )
    for sp in subs[:top]:
        started = time.process_time()
        groups, value = heuristic_plan(sp)
        assert groups is not None
        result = colgen.solve(sp, groups, value, deadline=time.perf_counter() + seconds, gap=0.0, prove=False)
        print(
            f"  {sp.label}: {sp.size} needs, {len(sp.options)} options, ~{model_columns(sp):,} model columns; "
            f"greedy {value:,.0f}, best {result.value:,.0f}, LP {result.lp_value:,.0f} "
            f"(best - LP {(result.value - result.lp_value) / result.value:.3%}), bound {result.bound:,.0f} after "
            f"{result.rounds} rounds, {time.process_time() - started:.1f} s CPU"
        )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("instance")
    ap.add_argument("--top", type=int, default=6)
    ap.add_argument("--seconds", type=float, default=600.0)
    a = ap.parse_args()
    instance = load_instance(a.instance)
    describe("coordinator must have can_lead (now)", subproblems.decompose(instance), a.top, a.seconds)
    current = subproblems._components
    subproblems._components = old_rule_components()
    try:
        describe("any member may coordinate (before e1e3702)", subproblems.decompose(instance), a.top, a.seconds)
    finally:
        subproblems._components = current


if __name__ == "__main__":
    main()
