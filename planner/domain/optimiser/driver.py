"""Solve every sub-problem (small ones by enumeration, the rest by MILP, in parallel) and assemble the plan."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from multiprocessing.pool import ApplyResult
from multiprocessing.pool import Pool as ProcessPool
from typing import Any

from ..model import Instance
from ..plan import Plan
from ..tolerances import TIME_SLIVER
from . import colgen
from .assemble import build_plan
from .enumeration import solve_by_enumeration
from .heuristic import greedy_groups, improve
from .lagrangian import lagrangian, lagrangian_bound
from .milp import improve_with_multipliers, plan_value, solve_exact
from .subproblems import Infeasible, SubProblem, decompose
from .types import SOLVERS, Fallback, Group, OptimiserOptions, Status, SubResult, WorkerUsage

__all__ = ["SOLVERS", "Cancelled", "OptimiserOptions", "optimise"]

# The first wave improves a component's plan from its Lagrangian multipliers only with at least this many
# seconds of its budget left (a restricted LP and MILP in less are not worth starting).
_MIN_IMPROVE_SECONDS = 0.5
_POLL_SECONDS = 0.05  # how long the parent waits on a worker before checking cancel() again

Progress = Callable[[dict[str, Any]], None]


class Cancelled(Exception):
    """The caller's ``cancel()`` returned True; nothing is returned."""


@dataclass
class _Run:
    subs: list[SubProblem]
    results: dict[int, SubResult] = field(default_factory=dict)
    fallback: dict[int, Fallback] = field(default_factory=dict)
    worker_usage: dict[int, WorkerUsage] = field(default_factory=dict)  # by pid


def resolve_backend(solver: str) -> str:
    if solver not in SOLVERS:
        raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {solver!r}")
    if solver == "auto":
        # Measured on the benchmarks (bench/README.md): HiGHS is faster, and in-process.
        try:
            import highspy  # noqa: F401

            return "highs"
        except ImportError:
            return "cbc"
    return solver


def optimise(
    instance: Instance,
    *,
    time_limit: float | None = None,
    gap: float = 0.0,
    progress: Progress | None = None,
    solver: str = "auto",
    cancel: Callable[[], bool] | None = None,
    workers: int | None = None,
    options: OptimiserOptions | None = None,
) -> Plan:
    """The least-cost plan of the instance, with a proven lower bound (see the package docstring).

    ``time_limit``, ``gap``, ``solver`` and ``workers`` are shorthands for the fields of ``options`` (give
    either, not both). Big sub-problems run in worker processes started from a multiprocessing fork server, so a
    script that calls this must keep its top-level code under ``if __name__ == "__main__":`` (the usual
    multiprocessing rule); every entry point of the project does. ``workers=1`` solves everything in this process.
    """
    if options is None:
        resolve_backend(solver)  # the same error, in the same order, as before options existed
        options = OptimiserOptions(solver=solver, time_limit=time_limit, gap=gap, workers=workers)
    elif (time_limit, gap, solver, workers) != (None, 0.0, "auto", None):
        raise TypeError("optimise: give time_limit/gap/solver/workers either as keywords or in options, not both")
    return _optimise(instance, options, progress, cancel)


def _optimise(
    instance: Instance, opts: OptimiserOptions, progress: Progress | None, cancel: Callable[[], bool] | None
) -> Plan:
    started, started_at = time.perf_counter(), time.time()
    time_limit = opts.time_limit
    deadline = None if time_limit is None else started + float(time_limit)
    backend = resolve_backend(opts.solver)
    phases: dict[str, float] = {}

    def check_cancel() -> None:
        if cancel is not None and cancel():
            raise Cancelled()

    check_cancel()
    t = time.perf_counter()
    subs = decompose(instance)
    phases["decompose"] = time.perf_counter() - t
    run = _Run(subs)
    small = [k for k, sp in enumerate(subs) if sp.size <= opts.enumeration_max_needs or not sp.options]
    # Without a time limit the biggest go first (the workers finish together); with one, the smallest go first,
    # so that as many sub-problems as possible are proven and the biggest get all the time that is left.
    small_set = set(small)
    big = sorted(
        (k for k in range(len(subs)) if k not in small_set),
        key=lambda k: subs[k].size if time_limit is not None else -subs[k].size,
    )

    t = time.perf_counter()
    for k in big:
        if time_limit is None:  # the heuristic plans are made where each MILP runs (in the workers, in parallel)
            run.fallback[k] = Fallback(None, sum(subs[k].standalone), quick_bound(subs[k]))
        else:  # made now, so that a component reached after the limit has its plan without further work
            groups = greedy_groups(subs[k])
            run.fallback[k] = Fallback(
                groups, plan_value(subs[k], groups) if groups else math.inf, quick_bound(subs[k])
            )
    phases["heuristic"] = time.perf_counter() - t

    def report() -> None:
        if progress is None:
            return
        inc = bnd = 0.0
        for k, sp in enumerate(subs):
            r = run.results.get(k)
            if r is not None:
                inc, bnd = inc + r.objective, bnd + r.bound
            elif k in run.fallback:
                inc, bnd = inc + run.fallback[k].value, bnd + run.fallback[k].bound
            else:
                inc, bnd = inc + sum(sp.standalone), bnd + quick_bound(sp)
        progress(
            {
                "done": len(run.results),
                "total": len(subs),
                "incumbent_yen": _yen(inc),
                "bound_yen": math.floor(bnd) if math.isfinite(bnd) else None,
                "gap": (inc - bnd) / inc if inc > 0 and math.isfinite(inc) else 0.0,
                "elapsed": time.perf_counter() - started,
            }
        )

    report()
    t = time.perf_counter()
    n_workers = opts.workers if opts.workers is not None else min(2, os.cpu_count() or 1)
    parallel = [k for k in big if subs[k].size >= opts.parallel_min_needs] if n_workers > 1 else []
    if len(parallel) < 2 and not (parallel and cancel is not None):
        parallel = []  # one MILP gains nothing from a worker unless it must stay cancellable
    pool = _start_pool(run, parallel, n_workers, deadline, backend, opts) if parallel else None
    phases["pool_start"] = time.perf_counter() - t
    if pool is None:
        parallel = []
    try:
        for k in small:
            check_cancel()
            e0 = time.perf_counter()
            value, groups = solve_by_enumeration(subs[k])
            run.results[k] = SubResult(groups, value, value, "optimal", "enumeration", time.perf_counter() - e0)
            if len(run.results) % 50 == 0:
                report()
        report()
        for k in big:
            if k in parallel:
                continue
            check_cancel()
            run.results[k] = _solve_big(subs[k], run.fallback[k], deadline, backend, opts)
            report()
        if pool is not None:
            _collect(pool, run, check_cancel, report)
    finally:
        if pool is not None:
            pool.pool.terminate()
            pool.pool.join()
    phases["solve"] = time.perf_counter() - t

    t = time.perf_counter()
    plan = build_plan(instance, subs, run.results, started)
    phases["assemble"] = time.perf_counter() - t
    methods: dict[str, int] = {}
    for r in run.results.values():
        methods[r.method] = methods.get(r.method, 0) + 1
    plan.stats.update(
        {
            "subproblems": len(subs),
            "subproblems_by_method": methods,
            "largest_subproblem_needs": max((sp.size for sp in subs), default=0),
            "candidate_options": sum(len(sp.options) for sp in subs),
            "milp_variables": sum(r.n_vars for r in run.results.values()),
            "time_limited_subproblems": sum(1 for r in run.results.values() if r.status == "time_limit"),
            "solver": backend,
            "workers": n_workers if pool is not None else 1,
            "phase_seconds": {k: round(v, 3) for k, v in phases.items()},
            "time_limit": time_limit,
            "gap_requested": opts.gap,
            "worker_peak_rss_mb": round(max((u.peak_rss_mb for u in run.worker_usage.values()), default=0.0), 1),
            "worker_cpu_seconds": round(sum(u.cpu_seconds for u in run.worker_usage.values()), 2),
            "solve_phases": _solve_phases(run),
            "components": _timeline(run, started_at),
        }
    )
    report()
    return plan


def _solve_phases(run: _Run) -> dict[str, dict[str, float]]:
    """Wall seconds per method and step, summed over the sub-problems (workers' included: two run at once, so
    the sums may exceed the run's wall time), with each method's count and CPU seconds."""
    out: dict[str, dict[str, float]] = {}
    for r in run.results.values():
        m = out.setdefault(r.method, {"count": 0.0, "seconds": 0.0, "cpu": 0.0})
        m["count"] += 1
        m["seconds"] += r.seconds
        m["cpu"] += r.cpu_seconds
        for name, sec in r.phases.items():
            m[name] = m.get(name, 0.0) + sec
    return {k: {name: round(v, 3) for name, v in m.items()} for k, m in out.items()}


TIMELINE_COMPONENTS = 8  # the biggest sub-problems whose own timeline a run's stats keep


def _timeline(run: _Run, started_at: float) -> list[dict[str, Any]]:
    """The biggest sub-problems: when each started and ended (seconds from the run's start), by which method,
    how it ended, its gap and where its time went."""
    rows = []
    for k in sorted(run.results, key=lambda k: -run.subs[k].size)[:TIMELINE_COMPONENTS]:
        r = run.results[k]
        begin = r.started_at - started_at if r.started_at else None
        rows.append(
            {
                "needs": run.subs[k].size,
                "method": r.method,
                "status": r.status,
                "start": None if begin is None else round(begin, 2),
                "end": None if begin is None else round(begin + r.seconds, 2),
                "cpu": round(r.cpu_seconds, 2),
                "gap": (r.objective - r.bound) / r.objective if r.objective > 0 and math.isfinite(r.objective) else 0.0,
                "phases": {name: round(v, 2) for name, v in r.phases.items() if v >= 0.005},
            }
        )
    return rows


def heuristic_plan(sp: SubProblem, polish: bool = True) -> tuple[list[Group] | None, float]:
    groups = greedy_groups(sp)
    if groups is None:
        return None, math.inf
    if polish:
        groups = improve(sp, groups)
    return groups, plan_value(sp, groups)


def _solve_big(
    sp: SubProblem,
    fallback: Fallback,
    deadline: float | None,
    backend: str,
    opts: OptimiserOptions,
    bounded: bool = False,
) -> SubResult:
    """One MILP; on a time limit or a solver failure the better of its incumbent and the heuristic, with the
    best bound known (the MILP's dual bound, else the LP relaxation, else the combinatorial bound). The result
    says where its time went (phases), its CPU seconds in this process and when it started (time.time())."""
    started_at, cpu = time.time(), time.process_time()
    phases: dict[str, float] = {}
    res = _solve_big_timed(sp, fallback, deadline, backend, opts, bounded, phases)
    return replace(res, phases=phases | res.phases, cpu_seconds=time.process_time() - cpu, started_at=started_at)


def _solve_big_timed(
    sp: SubProblem,
    fallback: Fallback,
    deadline: float | None,
    backend: str,
    opts: OptimiserOptions,
    bounded: bool,
    phases: dict[str, float],
) -> SubResult:
    started = time.perf_counter()
    qbound = fallback.bound
    remaining = None if deadline is None else deadline - started
    late = remaining is not None and remaining <= TIME_SLIVER
    warm: list[Group] | None
    if fallback.groups is not None:
        warm, warm_value = fallback.groups, fallback.value
        if not late:
            warm = improve(sp, warm)
            warm_value = plan_value(sp, warm)
    else:
        warm, warm_value = heuristic_plan(sp, polish=not late)
    phases["heuristic"] = time.perf_counter() - started
    if late:  # reached after the limit: the greedy plan and the closed-form bound, nothing more
        return _fallback_result(sp, warm, warm_value, qbound, started, opts)
    if warm is not None and _use_colgen(sp, backend, opts):
        start = None
        if remaining is not None:
            # Under a time limit column generation may stop before its master settles, and its first rounds' bounds
            # are poor: a few seconds of subgradient first give a bound at once and a centre to smooth towards.
            budget = min(opts.lagrangian_max_seconds, opts.lagrangian_share * remaining)
            t = time.perf_counter()
            lag, start = lagrangian(sp, warm_value, budget)
            phases["lagrangian"] = time.perf_counter() - t
            qbound = max(qbound, lag)
        cg = colgen.solve(sp, warm, warm_value, deadline=deadline, gap=opts.gap, pruning=opts.pruning, start=start)
        phases.update(cg.seconds)
        bound = max(cg.bound, qbound)
        cg_status: Status = "optimal" if cg.proven else ("time_limit" if deadline is not None else "feasible")
        return SubResult(
            cg.groups,
            cg.value,
            min(bound, cg.value),
            cg_status,
            "colgen",
            time.perf_counter() - started,
            cg.final_columns,
        )
    if (
        not bounded
        and deadline is not None
        and remaining is not None
        and sp.size >= opts.lagrangian_min_needs
        and warm is not None
        and (model_columns(sp) > opts.lagrangian_min_columns or remaining < opts.lagrangian_tight_seconds)
    ):
        # Under a time limit a huge component's LP may not finish: secure a bound that does not need it.
        budget = min(opts.lagrangian_max_seconds, opts.lagrangian_share * remaining)
        t = time.perf_counter()
        qbound = max(qbound, lagrangian_bound(sp, warm_value, budget))
        phases["lagrangian"] = time.perf_counter() - t
        remaining = deadline - time.perf_counter()
        if remaining <= TIME_SLIVER:
            return _fallback_result(sp, warm, warm_value, qbound, started, opts)
    res = solve_exact(
        sp,
        warm=warm,
        warm_value=warm_value,
        time_limit=remaining,
        gap=opts.gap,
        backend=backend,
        pruning=opts.pruning,
        lp_shortcuts=opts.lp_shortcuts,
    )
    phases.update(res.phases)
    bound = max(res.bound, qbound)
    groups: list[Group] | None
    if res.groups is not None and res.objective <= warm_value:
        groups, value = res.groups, res.objective
    else:
        groups, value = warm, warm_value
    if groups is None:
        raise Infeasible(
            "上書き設定（together / fixed）をすべて満たすグループ分けが見つかりません: " + ", ".join(sp.need_ids[:10])
        )
    status: Status = "optimal" if res.status == "optimal" else ("time_limit" if deadline is not None else "feasible")
    return SubResult(groups, value, min(bound, value), status, "milp", time.perf_counter() - started, res.n_vars)


def _use_colgen(sp: SubProblem, backend: str, opts: OptimiserOptions) -> bool:
    return (
        opts.column_generation
        and (opts.time_limit is None or opts.colgen_under_time_limit)
        and backend == "highs"
        and model_columns(sp) >= opts.colgen_min_columns
        and colgen.eligible(sp)
    )


def _fallback_result(
    sp: SubProblem,
    warm: list[Group] | None,
    warm_value: float,
    qbound: float,
    started: float,
    opts: OptimiserOptions,
) -> SubResult:
    if warm is None:
        # No time left and no heuristic answer: the needs that cannot stay alone need the exact search.
        if sp.size > opts.enumeration_max_needs:
            raise Infeasible("時間内に上書き設定を満たすグループ分けが見つかりません: " + ", ".join(sp.need_ids[:10]))
        value, groups = solve_by_enumeration(sp)
        return SubResult(groups, value, value, "optimal", "enumeration", time.perf_counter() - started)
    return SubResult(
        warm, warm_value, min(qbound, warm_value), "time_limit", "heuristic", time.perf_counter() - started
    )


def model_columns(sp: SubProblem) -> int:
    """Roughly how many columns the facility model of this sub-problem has."""
    return sum(len(o.members) * len(o.lines) * max(1, min(o.copies, len(o.members) // 2)) for o in sp.options)


def quick_bound(sp: SubProblem) -> float:
    """A lower bound in closed form: a member of a group on option o, line k pays at least its own cost plus
    F_k / max_members (all F_k are non-negative), and no need pays less than the cheapest of that and going alone."""
    cheapest = [sp.standalone[i] if sp.alone_ok[i] else math.inf for i in range(sp.size)]
    for opt in sp.options:
        cap = min(opt.max_members, len(opt.members))
        for j, i in enumerate(opt.members):
            for _, f, hb in opt.lines:
                c = opt.base[j] + hb * sp.volumes[i] + f / cap
                if c < cheapest[i]:
                    cheapest[i] = c
    return sum(cheapest)


def _yen(value: float) -> int | None:
    return round(value) if math.isfinite(value) else None


# --- worker processes -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _WorkerState:
    """What every worker process gets once, at start (pickled through the fork server)."""

    subs: list[SubProblem]
    fallback: dict[int, Fallback]
    wall_deadline: float | None  # time.time() based: the same instant in every process
    backend: str
    options: OptimiserOptions
    first_wave: frozenset[int]
    colgen_budgets: dict[int, float] = field(default_factory=dict)  # seconds per component, under a time limit


_WORKER: list[_WorkerState] = []  # the state of this worker process (empty in the parent)


def _init_worker(state: _WorkerState) -> None:
    _WORKER[:] = [state]


@dataclass
class _Pool:
    pool: ProcessPool
    handles: dict[int, ApplyResult[tuple[SubResult, WorkerUsage]]]
    bounds: dict[int, ApplyResult[tuple[Fallback, WorkerUsage]]]


def _start_pool(
    run: _Run, parallel: list[int], n_workers: int, deadline: float | None, backend: str, opts: OptimiserOptions
) -> _Pool | None:
    import multiprocessing as mp
    import pickle

    first: list[int] = []
    budgets: dict[int, float] = {}
    if deadline is not None:
        first = sorted(
            (
                k
                for k in parallel
                if run.subs[k].size >= opts.lagrangian_min_needs
                and model_columns(run.subs[k]) >= opts.first_wave_min_columns
                and not _use_colgen(run.subs[k], backend, opts)
            ),
            key=lambda k: -run.subs[k].size,
        )
        if first:
            left = max(0.0, deadline - time.perf_counter())
            # By size squared: the LP (and so the plan's improvement) of a big component costs superlinearly more.
            total = sum(run.subs[k].size ** 2 for k in first)
            budgets = {k: opts.first_wave_share * left * n_workers * run.subs[k].size ** 2 / total for k in first}
    # Column generation's components go first, biggest first, each with a share of the workers' time by size
    # squared (as the first wave): it returns its best plan and bound when its share is spent, and the smaller
    # components, smallest first, get the rest. Without a time limit, the order above (biggest first) stands.
    cg = [k for k in parallel if _use_colgen(run.subs[k], backend, opts)]
    cg_budgets: dict[int, float] = {}
    if deadline is not None and cg:
        cg.sort(key=lambda k: -run.subs[k].size)
        parallel = cg + [k for k in parallel if k not in set(cg)]
        left = max(0.0, deadline - time.perf_counter())
        total = sum(run.subs[k].size ** 2 for k in cg)
        cg_budgets = {k: opts.first_wave_share * left * n_workers * run.subs[k].size ** 2 / total for k in cg}
    # Workers start from a fork server, never by forking this process: a process that has already run HiGHS holds
    # its global thread scheduler, and a child forked from it can wait forever on threads that no longer exist
    # (seen once: two workers spinning at 100 % CPU for minutes). The sub-problems are pickled once per worker.
    # Deadlines are wall-clock based, so they mean the same in every process.
    state = _WorkerState(
        subs=run.subs,
        fallback=dict(run.fallback),
        wall_deadline=None if deadline is None else time.time() + (deadline - time.perf_counter()),
        backend=backend,
        options=opts,
        first_wave=frozenset(first),
        colgen_budgets=cg_budgets,
    )
    try:
        pickle.dumps(state, protocol=pickle.HIGHEST_PROTOCOL)  # a worker that cannot start is respawned forever
        ctx = mp.get_context("forkserver")
    except (ValueError, pickle.PicklingError, TypeError, AttributeError):
        return None  # no fork server on this platform, or state that cannot travel: solve in this process
    try:
        pool = ctx.Pool(processes=min(n_workers, len(parallel)), initializer=_init_worker, initargs=(state,))
    except OSError:
        return None
    bounds = {k: pool.apply_async(_worker_bound_measured, (k, budgets[k])) for k in first}  # queued first, run first
    handles = {k: pool.apply_async(_worker_solve_measured, (k,)) for k in parallel}  # in the order chosen above
    return _Pool(pool, handles, bounds)


def _worker_deadline(state: _WorkerState) -> float | None:
    wall = state.wall_deadline
    return None if wall is None else time.perf_counter() + (wall - time.time())


def _worker_bound(k: int, budget: float, state: _WorkerState | None = None) -> Fallback:
    """(plan, its cost, lower bound) of a big component within ``budget`` seconds: the greedy plan polished by
    local search, the Lagrangian bound (near the LP bound, without the LP), then the plan improved from the
    Lagrangian multipliers (milp.improve_with_multipliers)."""
    st = state if state is not None else _WORKER[0]
    opts = st.options
    sp = st.subs[k]
    groups, value, bound = st.fallback[k]
    deadline = _worker_deadline(st)
    if groups is None or (deadline is not None and deadline - time.perf_counter() <= TIME_SLIVER):
        return Fallback(groups, value, bound)
    started = time.perf_counter()
    groups = improve(sp, groups)
    value = plan_value(sp, groups)
    seconds = min(opts.lagrangian_max_seconds, opts.first_wave_lagrangian_share * budget)
    if deadline is not None:
        seconds = min(seconds, deadline - time.perf_counter())
    if seconds > TIME_SLIVER:
        lag, lam = lagrangian(sp, value, seconds)
        bound = max(bound, lag)
        left = budget - (time.perf_counter() - started)
        if deadline is not None:
            left = min(left, deadline - time.perf_counter())
        if left > _MIN_IMPROVE_SECONDS:
            groups, value = improve_with_multipliers(sp, lam, groups, value, left, st.backend, opts.pruning)
    return Fallback(groups, value, bound)


def _usage() -> WorkerUsage:
    """(pid, peak RSS in MB, CPU seconds) of this worker: fork-server workers are not this process's children, so
    getrusage(RUSAGE_CHILDREN) in the parent cannot see them; they report their own."""
    import resource

    ru = resource.getrusage(resource.RUSAGE_SELF)
    return WorkerUsage(os.getpid(), ru.ru_maxrss / 1024, ru.ru_utime + ru.ru_stime)


def _worker_bound_measured(k: int, budget: float) -> tuple[Fallback, WorkerUsage]:
    return _worker_bound(k, budget), _usage()


def _worker_solve_measured(k: int) -> tuple[SubResult, WorkerUsage]:
    return _worker_solve(k), _usage()


def _worker_solve(k: int) -> SubResult:
    st = _WORKER[0]
    deadline = _worker_deadline(st)
    if k in st.colgen_budgets and deadline is not None:
        deadline = min(deadline, time.perf_counter() + st.colgen_budgets[k])
    return _solve_big(st.subs[k], st.fallback[k], deadline, st.backend, st.options, bounded=k in st.first_wave)


def _merge_first_wave(run: _Run, k: int) -> None:
    """Combine a component's first-wave plan and bound with its exact pass (both are valid for it)."""
    r = run.results.get(k)
    if r is None or r.status == "optimal" or k not in run.fallback:
        return
    groups, value, bound = run.fallback[k]
    if groups is not None and value < r.objective:
        r = replace(r, groups=groups, objective=value)
    run.results[k] = replace(r, bound=min(max(r.bound, bound), r.objective))


def _collect(pool: _Pool, run: _Run, check_cancel: Callable[[], None], report: Callable[[], None]) -> None:
    pending = dict(pool.handles)
    waiting = dict(pool.bounds)
    while pending:
        check_cancel()
        for k, h in list(waiting.items()):
            if h.ready():
                try:
                    run.fallback[k], usage = h.get()
                    run.worker_usage[usage.pid] = usage
                except Exception:  # an optional improvement; the exact pass still answers for k
                    pass
                del waiting[k]
                _merge_first_wave(run, k)
                report()
        for k, r in list(pending.items()):
            if r.ready():
                run.results[k], usage = r.get()  # re-raises Infeasible from the worker
                run.worker_usage[usage.pid] = usage
                del pending[k]
                if k in pool.bounds and k not in waiting:
                    _merge_first_wave(run, k)
                report()
        if pending:
            next(iter(pending.values())).wait(_POLL_SECONDS)
