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
from dataclasses import dataclass

from ..highs import new_silent_highs
from .enumeration import Group
from .formulation import Formulation, build, groups_from_values, start_values
from .rounding import round_lp
from .subproblems import SubProblem

# Tests switch these off to drive every sub-problem through reduced-cost fixing and branch and bound.
LP_SHORTCUTS = True


@dataclass
class MilpResult:
    groups: list[Group] | None
    objective: float  # exact cost of groups (inf when none)
    bound: float  # proven lower bound
    status: str  # optimal | time_limit | failed
    n_vars: int = 0
    n_vars_integer: int = 0
    seconds: float = 0.0
    lp_bound: float = -math.inf


def solve_exact(
    sp: SubProblem, *, warm: list[Group] | None, warm_value: float, time_limit: float | None, gap: float, backend: str
) -> MilpResult:
    started = time.perf_counter()
    deadline = None if time_limit is None else started + time_limit
    model = build(sp)
    lp = _solve(model, backend, relax=True, time_limit=time_limit)
    n_vars = model.n_cols
    if lp is None:  # the LP itself ran out of time
        return MilpResult(None, math.inf, -math.inf, "time_limit", n_vars, 0, time.perf_counter() - started)
    lb, values, reduced = lp
    tol = _tolerance(warm_value, gap)
    if not LP_SHORTCUTS:
        return _branch_and_bound(sp, model, lb, values, reduced, warm, warm_value, deadline, gap, backend, started)
    if warm is not None and lb >= warm_value - tol:
        return MilpResult(
            warm, warm_value, min(lb, warm_value), "optimal", n_vars, 0, time.perf_counter() - started, lb
        )
    lp_groups = groups_from_values(sp, model, values) if all(v < 1e-7 or v > 1 - 1e-7 for v in values) else None
    if lp_groups is not None:
        value = plan_value(sp, lp_groups)
        return MilpResult(lp_groups, value, min(lb, value), "optimal", n_vars, 0, time.perf_counter() - started, lb)
    if deadline is not None and time.perf_counter() > deadline - 0.05:
        return MilpResult(
            warm, warm_value, min(lb, warm_value), "time_limit", n_vars, 0, time.perf_counter() - started, lb
        )
    # A better incumbent first: the integer model on the LP's support and the nearly-priced columns (a
    # restriction of the model, so whatever it finds is a feasible plan). It closes most of the greedy's gap.
    slack = 2e-5 * abs(lb)
    support = {j for j, d in enumerate(reduced) if values[j] > 1e-9 or d <= slack}
    restricted = build(sp, set(range(model.n_cols)) - support, model)
    remaining = None if deadline is None else max(0.05, (deadline - time.perf_counter()) / 3)
    found = _solve(
        restricted,
        backend,
        relax=False,
        time_limit=remaining,
        gap=max(gap, 1e-6),
        cutoff=warm_value if warm is not None else None,
    )
    if found is not None and found[1] is not None:
        candidate = groups_from_values(sp, restricted, found[1])
        if candidate is not None:
            cand_value = plan_value(sp, candidate)
            if warm is None or cand_value < warm_value:
                warm, warm_value = candidate, cand_value
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
    if deadline is not None and time.perf_counter() > deadline - 0.05:
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
    return _branch_and_bound(sp, model, lb, values, reduced, warm, warm_value, deadline, gap, backend, started)


def _branch_and_bound(sp, model, lb, values, reduced, warm, warm_value, deadline, gap, backend, started):
    n_vars = model.n_cols
    if warm is not None:
        # The margin errs on the side of keeping a column (reduced costs carry the solver's tolerances).
        margin = _tolerance(warm_value, 0.0)
        banned = {j for j, d in enumerate(reduced) if values[j] < 1e-7 and lb + d > warm_value + margin}
        reduced_model = build(sp, banned, model) if banned else model
    else:
        reduced_model = model
    remaining = None if deadline is None else max(0.05, deadline - time.perf_counter())
    start = start_values(sp, reduced_model, warm) if warm is not None and backend == "cbc" else None
    mip = _solve(
        reduced_model,
        backend,
        relax=False,
        time_limit=remaining,
        gap=gap,
        start=start,
        cutoff=warm_value if warm is not None else None,
    )
    seconds = time.perf_counter() - started
    if mip is None:
        return MilpResult(None, math.inf, lb, "time_limit", n_vars, reduced_model.n_cols, seconds, lb)
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
    # Costs are sums of yen amounts of order 1e6..1e10: a relative 1e-9 is far below one yen.
    return max(gap * value, 1e-9 * abs(value), 1e-6)


def plan_value(sp: SubProblem, groups: list[Group]) -> float:
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


def _solve(
    model: Formulation,
    backend: str,
    *,
    relax: bool,
    time_limit: float | None,
    gap: float = 0.0,
    start: list[float] | None = None,
    cutoff: float | None = None,
):
    if backend == "highs":
        return _solve_highs(model, relax, time_limit, gap, start, cutoff)
    return _solve_cbc(model, relax, time_limit, gap, start)


# --- HiGHS ------------------------------------------------------------------------------------------------------


def _solve_highs(model: Formulation, relax: bool, time_limit, gap, start, cutoff):
    import highspy
    import numpy as np

    h = new_silent_highs()
    # No "threads" option: HiGHS keeps one global scheduler per process, and a run asking for another thread
    # count than the first one in the process fails outright (other parts of the application use HiGHS too).
    if time_limit is not None:
        h.setOptionValue("time_limit", float(max(0.05, time_limit)))
    lp = highspy.HighsLp()
    n = model.n_cols
    lp.num_col_ = n
    lp.num_row_ = len(model.rows)
    lp.col_cost_ = np.asarray(model.cost, dtype=float)
    lp.col_lower_ = np.zeros(n)
    lp.col_upper_ = np.ones(n)
    lp.row_lower_ = np.asarray([r[0] for r in model.rows], dtype=float)
    lp.row_upper_ = np.asarray([r[1] for r in model.rows], dtype=float)
    starts = [0]
    index: list[int] = []
    value: list[float] = []
    for _, _, idx, val in model.rows:
        index.extend(idx)
        value.extend(val)
        starts.append(len(index))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.asarray(starts, dtype=np.int32)
    lp.a_matrix_.index_ = np.asarray(index, dtype=np.int32)
    lp.a_matrix_.value_ = np.asarray(value, dtype=float)
    if not relax:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * n
        h.setOptionValue("mip_rel_gap", float(gap))
        h.setOptionValue("mip_abs_gap", 1e-6)
    h.passModel(lp)
    # No MIP start: HiGHS 1.16 with presolve can report a start's plan under a wrong, lower objective and stop
    # as "optimal". The incumbent's cost as a cutoff prunes the same nodes without that risk.
    if not relax and cutoff is not None:
        h.setOptionValue("objective_bound", float(cutoff) + 1e-6)
    if h.run() == highspy.HighsStatus.kError:
        raise RuntimeError(f"HiGHS failed on a model of {n} columns and {len(model.rows)} rows")
    status = h.getModelStatus()
    info = h.getInfo()
    if relax:
        if status != highspy.HighsModelStatus.kOptimal:
            return None
        sol = h.getSolution()
        return float(info.objective_function_value), list(sol.col_value), list(sol.col_dual)
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
        cost = sum(c * v for c, v in zip(model.cost, values))
        if abs(cost - info.objective_function_value) > 1e-6 * max(1.0, abs(cost)):
            # The solver's own figures disagree with its answer: keep the answer, trust no proof from it.
            return -math.inf, values, False
    return bound, values, proven


# --- CBC through PuLP -------------------------------------------------------------------------------------------


def _solve_cbc(model: Formulation, relax: bool, time_limit, gap, start):
    import pulp

    prob = pulp.LpProblem("subproblem", pulp.LpMinimize)
    cat = pulp.LpContinuous if relax else pulp.LpBinary
    if hasattr(prob, "add_variable"):  # PuLP >= 3.3
        cols = [prob.add_variable(f"c{j}", 0, 1, cat=cat) for j in range(model.n_cols)]
    else:
        cols = [pulp.LpVariable(f"c{j}", 0, 1, cat) for j in range(model.n_cols)]
    prob += pulp.LpAffineExpression(list(zip(cols, model.cost)))
    for r, (lo, hi, idx, val) in enumerate(model.rows):
        expr = pulp.LpAffineExpression([(cols[j], v) for j, v in zip(idx, val)])
        if lo == hi:
            prob += pulp.LpConstraint(expr, pulp.LpConstraintEQ, f"r{r}", lo)
        else:
            if lo > -math.inf:
                prob += pulp.LpConstraint(expr, pulp.LpConstraintGE, f"r{r}l", lo)
            if hi < math.inf:
                prob += pulp.LpConstraint(expr, pulp.LpConstraintLE, f"r{r}u", hi)
    if start is not None and not relax:
        for var, v in zip(cols, start):
            var.setInitialValue(v)
    limit = None if time_limit is None else max(1, math.ceil(time_limit))
    with warnings.catch_warnings():  # PuLP 3.3 marks its bundled CBC as deprecated for 4.0
        warnings.simplefilter("ignore", DeprecationWarning)
        solver = pulp.PULP_CBC_CMD(
            msg=False,
            timeLimit=limit,
            gapRel=gap if not relax else None,
            warmStart=start is not None and not relax,
            threads=1,
            mip=not relax,
        )
    prob.solve(solver)
    if relax:
        if prob.status != pulp.LpStatusOptimal:
            return None
        return (float(pulp.value(prob.objective)), [v.varValue or 0.0 for v in cols], [v.dj or 0.0 for v in cols])
    if prob.status == pulp.LpStatusInfeasible:
        return math.inf, None, True  # nothing in this model at all (below the caller's incumbent)
    values = (
        [v.varValue or 0.0 for v in cols]
        if prob.sol_status in (pulp.LpSolutionOptimal, pulp.LpSolutionIntegerFeasible)
        else None
    )
    proven = prob.status == pulp.LpStatusOptimal and prob.sol_status == pulp.LpSolutionOptimal
    if proven and values is not None:
        # CBC reports no dual bound through PuLP; an optimal answer within gapRel proves obj * (1 - gap).
        obj = sum(c * v for c, v in zip(model.cost, values))
        return obj * (1 - gap), values, True
    return -math.inf, values, False


# --- incumbent from Lagrangian multipliers (no full LP) -------------------------------------------------------

LAGRANGIAN_KEEP_SHARE = 0.02  # keep x_if when c_if - lam_i <= this share of s_i


def improve_with_multipliers(
    sp: SubProblem, lam, warm: list[Group], warm_value: float, time_limit: float, backend: str
) -> tuple[list[Group], float]:
    """A better plan for a component whose full LP is too slow: the model restricted to the columns the
    Lagrangian multipliers price as nearly attractive (c_if - lam_i small) plus the warm plan's, its LP, and
    the integer model on that LP's support, cut off at the warm plan's cost. Every model here is a restriction
    of the full one, so whatever it returns is a feasible plan; it proves nothing (the bound comes from
    elsewhere)."""
    started = time.perf_counter()
    model = build(sp)
    start = start_values(sp, model, warm)
    if start is None:
        return warm, warm_value
    banned = {
        col
        for f in model.facilities
        for i, col in f.x.items()
        if model.cost[col] - lam[i] > LAGRANGIAN_KEEP_SHARE * abs(sp.standalone[i]) and start[col] < 0.5
    }
    restricted = build(sp, banned, model)
    left = time_limit - (time.perf_counter() - started)
    if left <= 0.1:
        return warm, warm_value
    lp = _solve(restricted, backend, relax=True, time_limit=0.7 * left)
    if lp is None:
        return warm, warm_value
    lb, values, reduced = lp
    rounded = round_lp(sp, restricted, values)
    if rounded is not None:
        value = plan_value(sp, rounded)
        if value < warm_value:
            warm, warm_value = rounded, value
    slack = 2e-5 * abs(lb)
    support = {j for j, d in enumerate(reduced) if values[j] > 1e-9 or d <= slack}
    support.update(j for j, v in enumerate(start_values(sp, restricted, warm) or []) if v > 0.5)
    inner = build(sp, set(range(restricted.n_cols)) - support, restricted)
    left = time_limit - (time.perf_counter() - started)
    if left <= 0.1:
        return warm, warm_value
    found = _solve(inner, backend, relax=False, time_limit=left, gap=1e-6, cutoff=warm_value)
    if found is not None and found[1] is not None:
        candidate = groups_from_values(sp, inner, found[1])
        if candidate is not None:
            value = plan_value(sp, candidate)
            if value < warm_value:
                return candidate, value
    return warm, warm_value
