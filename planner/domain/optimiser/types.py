"""The optimiser's records: one group of a sub-problem's plan, what solving a sub-problem returns, and the options
of a run. They live here, apart from the code that makes and reads them, so that the driver, the MILP and the
assembly share them without importing one another (assemble used to import SubResult back from the driver)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, NamedTuple

SOLVERS = ("auto", "highs", "cbc")

Status = Literal["optimal", "time_limit", "feasible"]
Method = Literal["enumeration", "milp", "colgen", "heuristic"]
MilpStatus = Literal["optimal", "time_limit", "failed"]


class Group(NamedTuple):
    """One group of a sub-problem's plan. A NamedTuple rather than a dataclass: the search code builds and
    compares millions of them, and a tuple is what it used before (equal to the plain tuple it replaces)."""

    mode: str  # lead | unified | standalone
    lead: str  # body code of the lead (of the need itself when standalone)
    members: tuple[int, ...]  # local need indices in the sub-problem, ascending


class Fallback(NamedTuple):
    """What a big sub-problem has before (or instead of) its MILP: a plan (None when not made yet, or the greedy
    found none), that plan's exact cost (inf without a plan, the standalone total when not made yet) and a proven
    lower bound."""

    groups: list[Group] | None
    value: float
    bound: float


class WorkerUsage(NamedTuple):
    """Resources a worker process reports about itself (fork-server workers are not this process's children)."""

    pid: int
    peak_rss_mb: float
    cpu_seconds: float


@dataclass(frozen=True)
class SubResult:
    """The answer for one sub-problem: its plan, the plan's exact cost and a proven lower bound (<= objective)."""

    groups: list[Group]
    objective: float
    bound: float
    status: Status
    method: Method
    seconds: float = 0.0
    n_vars: int = 0
    # Where the time went, for the bench's "where the time goes" (wall seconds by step: heuristic, lagrangian, lp,
    # master_lp, pricing, branch_and_bound, ...), this process's CPU seconds for it, and when it started (time.time(),
    # the same clock in every process, so that the parent can place a worker's component on its timeline).
    phases: dict[str, float] = field(default_factory=dict)
    cpu_seconds: float = 0.0
    started_at: float = 0.0


@dataclass(frozen=True)
class MilpResult:
    """What milp.solve_exact returns: a plan (None when the solver found none in time) and what is proven."""

    groups: list[Group] | None
    objective: float  # exact cost of groups (inf when none)
    bound: float  # proven lower bound
    status: MilpStatus
    n_vars: int = 0
    n_vars_integer: int = 0
    seconds: float = 0.0
    lp_bound: float = -float("inf")
    phases: dict[str, float] = field(default_factory=dict)  # wall seconds: build, lp, support_mip, branch_and_bound


@dataclass(frozen=True)
class OptimiserOptions:
    """Everything a run of the optimiser can be told, passed down explicitly (to worker processes too).

    The first four are what the CLI and the web job set; the rest are the measured switch-over points of the
    design (bench/README.md) and two switches the tests turn off to drive every sub-problem through the general
    path. The defaults are the tuned production values."""

    solver: str = "auto"  # auto | highs | cbc
    time_limit: float | None = None  # seconds for the whole run; None: until every sub-problem is proven
    gap: float = 0.0  # relative MIP gap accepted per sub-problem
    workers: int | None = None  # worker processes for the big MILPs; None: min(2, CPUs); 1: all in this process
    # Sub-problems of at most this many needs are solved by enumeration: 3^8 subset pairs take a few
    # milliseconds, less than building a MILP.
    enumeration_max_needs: int = 8
    # MILPs at least this big go to worker processes (smaller ones cost less than the fork).
    parallel_min_needs: int = 25
    # Below this many needs the LP is quick enough to be the bound; at or above it, under a time limit, a
    # Lagrangian bound is secured first when the model is huge or the time short.
    lagrangian_min_needs: int = 100
    lagrangian_max_seconds: float = 3.0
    lagrangian_share: float = 0.1  # of the time left
    # Measured: HiGHS solves the LP of ~26,000 columns in 1-2 s, of ~60,000 in 10-30 s (bench/README.md).
    lagrangian_min_columns: int = 40_000
    lagrangian_tight_seconds: float = 15.0
    # Under a time limit the workers first give every big component a bound and a polished plan (a share of the
    # limit, biggest first), so that none is left with the greedy plan and the closed-form bound when the exact
    # pass, smallest first, does not reach it. Only components whose full LP is slow (25,000 columns take 1-5 s,
    # 60,000 take 10-30 s) are in it: below that the exact pass is quicker than the first wave, which would only
    # delay it (national_radius60's largest model has 25,032 columns and is solved exactly within its limit).
    first_wave_min_columns: int = 27_000
    first_wave_share: float = 0.5  # of the workers' time, shared out by component size squared
    first_wave_lagrangian_share: float = 0.3  # of a component's share; the rest improves its plan
    # Leave out the assignment columns no optimal plan uses (proof in pruning.py); off only to compare.
    pruning: bool = True
    # Accept the heuristic plan when the LP bound reaches it, or the LP's own answer when it is integral; off to
    # drive every MILP through reduced-cost fixing and branch and bound.
    lp_shortcuts: bool = True
    # Big sub-problems without pair overrides by column generation with exact pricing and Lagrangian fixing
    # (colgen.py) instead of the full facility LP; off to compare with the method before it (HiGHS only).
    column_generation: bool = True
    # ... for the components whose facility model has at least this many columns: below it the full LP takes a
    # second or two and usually proves the heuristic plan optimal at once, which column generation does not beat
    # (national_radius60 in the same run: 16.0 s CPU with column generation everywhere, 9.9 s without).
    colgen_min_columns: int = 27_000
    # ... and under a time limit too. On since 2026-12-07 22:25 UTC (bench/README.md, issue 32): with the master's
    # time limit counted per run (colgen.run_for), at the same CPU seconds in the same minutes, radius 100 ended at
    # 2.07 % against the previous method's 3.04 % and radius 150 at 2.18 % against 3.75 %. Off: the previous method
    # (Lagrangian first wave, full LP) in time-limited runs, as the web job ran before.
    colgen_under_time_limit: bool = True

    def __post_init__(self) -> None:
        if self.solver not in SOLVERS:
            raise ValueError(f"solver must be one of {', '.join(SOLVERS)}, got {self.solver!r}")
        if self.gap < 0 or self.gap >= 1:
            raise ValueError(f"gap must be in [0, 1), got {self.gap}")


class LpSolution(NamedTuple):
    """An optimal LP relaxation: its value (a lower bound), the column values and the reduced costs."""

    bound: float
    values: list[float]
    reduced_costs: list[float]


class MipSolution(NamedTuple):
    """What an integer solve returns: a proven bound (-inf when none), the best answer's column values (None
    when there is none) and whether the solver finished (bound and answer within the requested gap)."""

    bound: float
    values: list[float] | None
    proven: bool
