"""Solve one sub-problem's MILP exactly: LP relaxation, reduced-cost fixing, then branch and bound.

1. The LP relaxation gives a bound LB. When LB reaches the heuristic's cost UB (common: the strong formulation
   is tight here), the heuristic plan is optimal and no integer search is needed.
2. Reduced-cost fixing: for a minimisation LP with 0 <= x <= 1 and optimal reduced costs d, every integer
   solution x costs at least LB + sum_j d_j (x_j - x*_j) >= LB + d_j for a column with x*_j = 0 set to 1. A
   column with LB + d_j >= UB can therefore only appear in plans no better than the one we hold, and is left
   out of the integer model (its proven bound stays valid: plans using it cost at least UB).
3. Branch and bound on what is left, warm-started (HiGHS) and told the cutoff UB.

Backends: HiGHS through highspy (arrays passed straight in, fast to build), or CBC through PuLP.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from ..tolerances import (
    AUXILIARY_MIP_GAP,
    CHOSEN,
    COST_RELATIVE_NOISE,
    INTEGRAL,
    LP_VALUE_NOISE,
    NEAR_PRICED_SHARE,
    SOLVER_OBJECTIVE_AGREEMENT,
    TIME_SLIVER,
    YEN_NOISE,
)
from .formulation import Formulation, build, groups_from_values, start_values
from .rounding import round_lp
from .subproblems import SubProblem
from .types import Group, LpSolution, MilpResult, MipSolution

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt


def solve_exact(
    sp: SubProblem,
    *,
    warm: list[Group] | None,
    warm_value: float,
    time_limit: float | None,
    gap: float,
    backend: str,
    pruning: bool = True,
    lp_shortcuts: bool = True,
) -> MilpResult:
    """The sub-problem's best plan and a proven bound. ``lp_shortcuts`` off drives it through reduced-cost
    fixing and branch and bound even when the LP already answers (tests); ``pruning`` as in formulation.build.
    The result's ``phases`` say where the wall time went (build, lp, support_mip, branch_and_bound)."""
    phases: dict[str, float] = {}
    res = _solve_exact(sp, warm, warm_value, time_limit, gap, backend, pruning, lp_shortcuts, phases)
    return replace(res, phases=phases)


def _solve_exact(
    sp: SubProblem,
    warm: list[Group] | None,
    warm_value: float,
    time_limit: float | None,
    gap: float,
    backend: str,
    pruning: bool,
    lp_shortcuts: bool,
    phases: dict[str, float],
) -> MilpResult:
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    model = build(sp, pruning=pruning)
    t = time.perf_counter()
    phases["build"] = t - started
    lp = _solve_relaxation(model, backend, time_limit)
    phases["lp"] = time.perf_counter() - t
    n_vars = model.n_cols
    if lp is None:  # the LP itself ran out of time
        return MilpResult(None, math.inf, -math.inf, "time_limit", n_vars, 0, time.perf_counter() - started)
    lb, values, reduced = lp
    tol = _tolerance(warm_value, gap)
    search = _Search(sp, model, lb, values, reduced, deadline, gap, backend, started, phases)
    if not lp_shortcuts:
        return _branch_and_bound(search, warm, warm_value)
    if warm is not None and lb >= warm_value - tol:
        return MilpResult(
            warm, warm_value, min(lb, warm_value), "optimal", n_vars, 0, time.perf_counter() - started, lb
        )
    integral = all(v < INTEGRAL or v > 1 - INTEGRAL for v in values)
    lp_groups = groups_from_values(sp, model, values) if integral else None
    if lp_groups is not None:
        value = plan_value(sp, lp_groups)
        return MilpResult(lp_groups, value, min(lb, value), "optimal", n_vars, 0, time.perf_counter() - started, lb)
    if deadline is not None and time.perf_counter() > deadline - TIME_SLIVER:
        return MilpResult(
            warm, warm_value, min(lb, warm_value), "time_limit", n_vars, 0, time.perf_counter() - started, lb
        )
    # A better incumbent first: the integer model on the LP's support and the nearly-priced columns (a
    # restriction of the model, so whatever it finds is a feasible plan). It closes most of the greedy's gap.
    t = time.perf_counter()
    restricted = build(sp, set(range(model.n_cols)) - _support(lb, values, reduced), model)
    remaining = None if deadline is None else max(TIME_SLIVER, (deadline - time.perf_counter()) / 3)
    found = _solve_integer(
        restricted,
        backend,
        time_limit=remaining,
        gap=max(gap, AUXILIARY_MIP_GAP),
        cutoff=warm_value if warm is not None else None,
    )
    if found.values is not None:
        candidate = groups_from_values(sp, restricted, found.values)
        if candidate is not None:
            cand_value = plan_value(sp, candidate)
            if warm is None or cand_value < warm_value:
                warm, warm_value = candidate, cand_value
    phases["support_mip"] = time.perf_counter() - t
    if warm is not None and lb >= warm_value - tol:
        return MilpResult(
            warm,
            warm_value,
            min(lb, warm_value),
            "optimal",
            n_vars,
            restricted.n_cols,
            time.perf_counter() - started,
            lb,
        )
    if deadline is not None and time.perf_counter() > deadline - TIME_SLIVER:
        return MilpResult(
            warm,
            warm_value,
            min(lb, warm_value),
            "time_limit",
            n_vars,
            restricted.n_cols,
            time.perf_counter() - started,
            lb,
        )
    return _branch_and_bound(search, warm, warm_value)


class _Search:
    """What the branch and bound starts from: the full model and its LP answer, the limits and the solver."""

    def __init__(
        self,
        sp: SubProblem,
        model: Formulation,
        lb: float,
        values: list[float],
        reduced: list[float],
        deadline: float | None,
        gap: float,
        backend: str,
        started: float,
        phases: dict[str, float],
    ) -> None:
        self.sp, self.model, self.lb, self.values, self.reduced = sp, model, lb, values, reduced
        self.deadline, self.gap, self.backend, self.started = deadline, gap, backend, started
        self.phases = phases


def _support(lb: float, values: Sequence[float], reduced: Sequence[float]) -> set[int]:
    """The LP's support and the columns its reduced costs price within a small share of the bound."""
    slack = NEAR_PRICED_SHARE * abs(lb)
    return {j for j, d in enumerate(reduced) if values[j] > LP_VALUE_NOISE or d <= slack}


def _branch_and_bound(s: _Search, warm: list[Group] | None, warm_value: float) -> MilpResult:
    sp, model, lb = s.sp, s.model, s.lb
    n_vars = model.n_cols
    t = time.perf_counter()
    if warm is not None:
        # The margin errs on the side of keeping a column (reduced costs carry the solver's tolerances).
        margin = _tolerance(warm_value, 0.0)
        banned = {j for j, d in enumerate(s.reduced) if s.values[j] < INTEGRAL and lb + d > warm_value + margin}
        reduced_model = build(sp, banned, model) if banned else model
    else:
        reduced_model = model
    remaining = None if s.deadline is None else max(TIME_SLIVER, s.deadline - time.perf_counter())
    start = start_values(sp, reduced_model, warm) if warm is not None and s.backend == "cbc" else None
    mip = _solve_integer(
        reduced_model,
        s.backend,
        time_limit=remaining,
        gap=s.gap,
        start=start,
        cutoff=warm_value if warm is not None else None,
    )
    seconds = time.perf_counter() - s.started
    s.phases["branch_and_bound"] = time.perf_counter() - t
    bound, values, proven = mip
    groups = groups_from_values(sp, reduced_model, values) if values is not None else None
    value = plan_value(sp, groups) if groups is not None else math.inf
    if warm is not None and warm_value <= value:
        groups, value = warm, warm_value
    # Plans outside the reduced model cost at least UB = warm_value, so min(UB, its bound) bounds them all.
    bound = max(lb, bound if warm is None else min(warm_value, bound))
    if groups is None:
        return MilpResult(
            None, math.inf, bound, "time_limit" if not proven else "failed", n_vars, reduced_model.n_cols, seconds, lb
        )
    return MilpResult(
        groups,
        value,
        min(bound, value),
        "optimal" if proven else "time_limit",
        n_vars,
        reduced_model.n_cols,
        seconds,
        lb,
    )


def _tolerance(value: float, gap: float) -> float:
    """How far below a plan's cost a bound may stay and still prove it optimal (within ``gap``)."""
    return max(gap * value, COST_RELATIVE_NOISE * abs(value), YEN_NOISE)


def plan_value(sp: SubProblem, groups: Sequence[Group]) -> float:
    """The exact cost of a sub-problem plan (the same formula as costs.group_cost, on the option data)."""
    total = 0.0
    by_key = {(o.mode, o.lead): o for o in sp.options}
    for mode, lead, members in groups:
        if mode == "standalone":
            total += sp.standalone[members[0]]
            continue
        opt = by_key[(mode, lead)]
        base = {i: opt.base[j] for j, i in enumerate(opt.members)}
        vol = sum(sp.volumes[i] for i in members)
        total += sum(base[i] for i in members) + min(f + hb * vol for _, f, hb in opt.lines)
    return total


def _solve_relaxation(model: Formulation, backend: str, time_limit: float | None) -> LpSolution | None:
    """The LP relaxation's optimum, or None when it did not finish."""
    if backend == "highs":
        return _relaxation_highs(model, time_limit)
    return _relaxation_cbc(model, time_limit)


def _solve_integer(
    model: Formulation,
    backend: str,
    *,
    time_limit: float | None,
    gap: float = 0.0,
    start: list[float] | None = None,
    cutoff: float | None = None,
) -> MipSolution:
    if backend == "highs":
        return _integer_highs(model, time_limit, gap, cutoff)
    return _integer_cbc(model, time_limit, gap, start)


def _solve(
    model: Formulation,
    backend: str,
    *,
    relax: bool,
    time_limit: float | None,
    gap: float = 0.0,
    start: list[float] | None = None,
    cutoff: float | None = None,
) -> LpSolution | MipSolution | None:
    """Either solve by one switch (the tests and the plain-MILP yardstick of ``planner bench-settle`` use it)."""
    if relax:
        return _solve_relaxation(model, backend, time_limit)
    return _solve_integer(model, backend, time_limit=time_limit, gap=gap, start=start, cutoff=cutoff)


# --- HiGHS ------------------------------------------------------------------------------------------------------


def _run_highs(model: Formulation, integer: bool, options: dict[str, bool | int | float | str]) -> Any:
    """The loaded, run Highs instance (typed Any: highspy is imported only when this backend is used)."""
    import highspy

    from ..highs import load_model

    h = load_model(model.linear_model(integer), options)
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS failed on a model of {model.n_cols} columns and {model.n_rows} rows")
    return h


def _time_options(time_limit: float | None) -> dict[str, bool | int | float | str]:
    # No "threads" option: HiGHS keeps one global scheduler per process, and a run asking for another thread
    # count than the first one in the process fails outright (other parts of the application use HiGHS too).
    return {} if time_limit is None else {"time_limit": float(max(TIME_SLIVER, time_limit))}


def _relaxation_highs(model: Formulation, time_limit: float | None) -> LpSolution | None:
    import highspy

    h = _run_highs(model, False, _time_options(time_limit))
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    return LpSolution(float(h.getInfo().objective_function_value), list(sol.col_value), list(sol.col_dual))


def _integer_highs(model: Formulation, time_limit: float | None, gap: float, cutoff: float | None) -> MipSolution:
    import highspy

    options = _time_options(time_limit)
    options["mip_rel_gap"] = float(gap)
    options["mip_abs_gap"] = YEN_NOISE
    # No MIP start: HiGHS 1.16 with presolve can report a start's plan under a wrong, lower objective and stop
    # as "optimal". The incumbent's cost as a cutoff prunes the same nodes without that risk.
    if cutoff is not None:
        options["objective_bound"] = float(cutoff) + YEN_NOISE
    h = _run_highs(model, True, options)
    status = h.getModelStatus()
    info = h.getInfo()
    proven = status in (
        highspy.HighsModelStatus.kOptimal,
        highspy.HighsModelStatus.kInfeasible,
        highspy.HighsModelStatus.kObjectiveBound,
    )
    bound = float(info.mip_dual_bound)
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kObjectiveBound):
        bound = math.inf  # nothing better than the cutoff: the caller keeps the warm start
    if not math.isfinite(bound) and bound < 0:
        bound = -math.inf
    values = None
    if info.primal_solution_status == 2:  # kSolutionStatusFeasible
        values = list(h.getSolution().col_value)
        cost = sum(c * v for c, v in zip(model.cost, values, strict=True))
        if abs(cost - info.objective_function_value) > SOLVER_OBJECTIVE_AGREEMENT * max(1.0, abs(cost)):
            # The solver's own figures disagree with its answer: keep the answer, trust no proof from it.
            return MipSolution(-math.inf, values, False)
    return MipSolution(bound, values, proven)


# --- CBC through PuLP -------------------------------------------------------------------------------------------


def _cbc_problem(model: Formulation, relax: bool) -> tuple[Any, list[Any]]:
    """The PuLP problem and its columns (PuLP is untyped: Any)."""
    import pulp

    prob = pulp.LpProblem("subproblem", pulp.LpMinimize)
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    if hasattr(prob, "add_variable"):  # PuLP >= 3.3
        cols = [prob.add_variable(f"c{j}", 0, 1, cat=cat) for j in range(model.n_cols)]
    else:
        cols = [pulp.LpVariable(f"c{j}", 0, 1, cat) for j in range(model.n_cols)]
    prob += pulp.LpAffineExpression(list(zip(cols, model.cost, strict=True)))
    for r, (lo, hi, idx, val) in enumerate(model.rows):
        expr = pulp.LpAffineExpression([(cols[j], v) for j, v in zip(idx, val, strict=True)])
        if lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", lo)
        else:
            if lo > -math.inf:
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}l", lo)
            if hi < math.inf:
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}u", hi)
    return prob, cols


def _cbc_solve(prob: Any, relax: bool, time_limit: float | None, gap: float | None, warm_start: bool) -> None:
    import pulp

    limit = None if time_limit is None else max(1, math.ceil(time_limit))
    with warnings.catch_warnings():  # PuLP 3.3 marks its bundled CBC as deprecated for 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(
            msg=False, timeLimit=limit, gapRel=gap, warmStart=warm_start, threads=1, mip=not relax
        )
    prob.solve(solver)


def _relaxation_cbc(model: Formulation, time_limit: float | None) -> LpSolution | None:
    import pulp

    prob, cols = _cbc_problem(model, relax=True)
    _cbc_solve(prob, True, time_limit, None, False)
    if prob.status != pulp.LpStatusOptimal:
        return None
    return LpSolution(float(pulp.value(prob.objective)), [v.varValue or 0.0 for v in cols], [v.dj or 0.0 for v in cols])


def _integer_cbc(model: Formulation, time_limit: float | None, gap: float, start: list[float] | None) -> MipSolution:
    import pulp

    prob, cols = _cbc_problem(model, relax=False)
    if start is not None:
        for var, v in zip(cols, start, strict=True):
            var.setInitialValue(v)
    _cbc_solve(prob, False, time_limit, gap, start is not None)
    if prob.status == pulp.LpStatusInfeasible:
        return MipSolution(math.inf, None, True)  # nothing in this model at all (below the caller's incumbent)
    values = (
        [v.varValue or 0.0 for v in cols]
        if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        else None
    )
    proven = prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
    if proven and values is not None:
        # CBC reports no dual bound through PuLP; an optimal answer within gapRel proves obj * (1 - gap).
        obj = sum(c * v for c, v in zip(model.cost, values, strict=True))
        return MipSolution(obj * (1 - gap), values, True)
    return MipSolution(-math.inf, values, False)


# --- incumbent from Lagrangian multipliers (no full LP) -------------------------------------------------------

LAGRANGIAN_KEEP_SHARE = 0.02  # keep x_if when c_if - lam_i <= this share of s_i
# Less than this left (seconds) is not worth building and solving another restricted model.
_MIN_SECONDS_PER_STEP = 0.1
_LP_SHARE = 0.7  # of the time left, for the restricted model's LP; the rest for its integer model


def improve_with_multipliers(
    sp: SubProblem,
    lam: npt.NDArray[np.float64],
    warm: list[Group],
    warm_value: float,
    time_limit: float,
    backend: str,
    pruning: bool = True,
) -> tuple[list[Group], float]:
    """A better plan for a component whose full LP is too slow: the model restricted to the columns the
    Lagrangian multipliers price as nearly attractive (c_if - lam_i small) plus the warm plan's, its LP, and
    the integer model on that LP's support, cut off at the warm plan's cost. Every model here is a restriction
    of the full one, so whatever it returns is a feasible plan; it proves nothing (the bound comes from
    elsewhere)."""
    started = time.perf_counter()
    model = build(sp, pruning=pruning)
    start = start_values(sp, model, warm)
    if start is None:
        return warm, warm_value
    banned = {
        col
        for f in model.facilities
        for i, col in f.x.items()
        if model.cost[col] - lam[i] > LAGRANGIAN_KEEP_SHARE * abs(sp.standalone[i]) and start[col] < CHOSEN
    }
    restricted = build(sp, banned, model)
    left = time_limit - (time.perf_counter() - started)
    if left <= _MIN_SECONDS_PER_STEP:
        return warm, warm_value
    lp = _solve_relaxation(restricted, backend, _LP_SHARE * left)
    if lp is None:
        return warm, warm_value
    lb, values, reduced = lp
    rounded = round_lp(sp, restricted, values)
    if rounded is not None:
        value = plan_value(sp, rounded)
        if value < warm_value:
            warm, warm_value = rounded, value
    support = _support(lb, values, reduced)
    support.update(j for j, v in enumerate(start_values(sp, restricted, warm) or []) if v > CHOSEN)
    inner = build(sp, set(range(restricted.n_cols)) - support, restricted)
    left = time_limit - (time.perf_counter() - started)
    if left <= _MIN_SECONDS_PER_STEP:
        return warm, warm_value
    found = _solve_integer(inner, backend, time_limit=left, gap=AUXILIARY_MIP_GAP, cutoff=warm_value)
    if found.values is not None:
        candidate = groups_from_values(sp, inner, found.values)
        if candidate is not None:
            value = plan_value(sp, candidate)
            if value < warm_value:
                return candidate, value
    return warm, warm_value
