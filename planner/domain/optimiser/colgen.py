"""A big sub-problem solved by column generation over groups, with exact pricing, then a proof by Lagrangian fixing.

**Master.** Choose groups G (each an option o = (lead, mode), a line k and a member set S) and alone needs so that
every need is covered once and option o runs at most ``copies_o`` groups:

    min sum_G c_G l_G + sum_i s_i z_i   s.t.  sum_{G ∋ i} l_G + z_i = 1 (pi_i),  sum_{G of o} l_G <= copies_o (mu_o)

Its LP is solved over the columns generated so far (the restricted master), warm-started after each round.

**Pricing is exact** (the structure the separation oracle in ../separation.py exploits): on a fixed (option,
line) a group's cost is F_k + sum_{i in S} c_ik, linear in the members, so the least reduced cost over all its
member sets of size 2..max_members holding the lead's own need q (none for a host) is found by sorting
r_i = c_ik - pi_i: take q, then the most negative r_i while negative and while the group has room, and at least
enough for two members. Taking a sorted prefix is optimal because the cost is a sum and only the count is bounded.

**Bound at every round.** For any multipliers pi, every plan P satisfies

    cost(P) = sum_i pi_i + sum_{G in P} (c_G - pi(G)) + sum_{i alone in P} (s_i - pi_i)
           >= L(pi) = sum_i pi_i + sum_o copies_o min(0, min_k rc_ok(pi)) + sum_{i may be alone} min(0, s_i - pi_i)

because P runs at most copies_o groups of option o, each costing at least its piece's least reduced cost, and the
alone needs at least their own terms. So L(pi) is a valid lower bound for any pi, not only at convergence (the
same relaxation as lagrangian.py). At the master's optimal duals with no column left to add, L(pi) equals the
master LP, which equals the strong facility model's LP: each facility's polytope {x <= y, 2y <= sum x <= M y,
x_q = y} is the cone over an integral cardinality polytope, so the decomposition loses nothing. Multipliers are
smoothed towards the best ones found (Wentges): columns come from pi_s = a pi_best + (1 - a) pi_master, and when
that prices no column of negative master reduced cost, from pi_master itself.

**Columns that cannot beat the incumbent (Lagrangian fixing).** With the best multipliers pi*, bound LB = L(pi*)
and an incumbent of cost UB, forcing need i into a group of (o, k) replaces one copy's term min(0, rc_o) by the
least reduced cost of a group of (o, k) that holds i:

    forced_i = rc_ok                       when i is in the piece's best set S*,
             = rc_ok + r_i - r_last        when S* is full (|S*| = max_members) or holds two members only because
                                           two are the minimum (its last member has r_last > 0): i replaces it,
             = rc_ok + r_i                 otherwise (S* holds every negative r and has room for i).

(The best set with i forced in is the sorted prefix of the others, one shorter when the group is full or i can
stand in for the minimum's second member.) Every plan putting i in a group of (o, k) costs at least
LB - min(0, rc_o) + forced_i (the other copies and pieces keep their terms); when that exceeds UB the column
x_i,(o,k) is left out of the facility model, in every copy. Likewise a whole facility (o, k) when
LB - min(0, rc_o) + rc_ok > UB, and i alone when LB - min(0, s_i - pi_i) + (s_i - pi_i) > UB. Every plan using
a left-out column costs more than UB, so the facility model without them, solved by HiGHS with cutoff UB, proves
min(UB, its bound) -- the same argument as milp.py's LP reduced-cost fixing, without the full LP.

Only for sub-problems without together/apart pairs and with at most one own need per lead (the pricing above is
exact for them); the others keep milp.solve_exact.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..tolerances import AUXILIARY_MIP_GAP, COST_RELATIVE_NOISE, NEAR_PRICED_SHARE, TIME_SLIVER, YEN_NOISE
from .formulation import Allowed, Formulation, build, groups_from_values
from .heuristic import improve
from .milp import _solve_integer, plan_value
from .pruning import kept_members
from .subproblems import Infeasible, SubProblem
from .types import Group

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

SMOOTHING = 0.5  # weight of the best multipliers in the pricing point (Wentges smoothing)
# A column enters the master only with a reduced cost below this share of the bound's size (float noise aside).
_ENTER = 1e-9
_MAX_ROUNDS = 2000
_DIVE_SHARE = 0.15  # of the time left, for diving in the master
_PLAN_RESERVE = 0.15  # of a time-limited run's time, kept from the rounds for the plan and the proof
# After new columns the old basis stays primal feasible: the primal simplex goes on from it (measured faster than
# the dual simplex on the 262-need ocr-2027 component of radius 100: 3.0 s against 5.1 s over 86 rounds).
_PRIMAL_SIMPLEX = 4
_DUAL_SIMPLEX = 1


def run_for(h: Any, seconds: float) -> None:
    """Let the next run of the persistent HiGHS instance ``h`` take at most ``seconds``. HiGHS compares its
    time_limit with the instance's run time summed over all its runs, not with this run's: a master that had run
    for 9 s and was given the 11 s left stopped after 2 (measured on radius 100's 446-need component: its rounds
    ended at half their budget, with the master unsettled, and the rest went to a proof with a subgradient bound)."""
    h.setOptionValue("time_limit", float(min(1e9, h.getRunTime() + max(TIME_SLIVER, seconds))))


def eligible(sp: SubProblem) -> bool:
    """Whether the pricing here is exact for ``sp`` (no pair overrides, at most one own need per lead)."""
    return not sp.together and not sp.apart and all(len(o.required) <= 1 for o in sp.options)


@dataclass
class Pieces:
    """The (option, line) pieces as flat arrays, entries sorted by piece: one pricing is a few numpy calls."""

    n: int
    f: FloatArray  # per piece: F_k
    opt: IntArray  # per piece: option index
    line: IntArray  # per piece: line index k
    cap: IntArray  # per piece: max_members
    copies: FloatArray  # per option
    e_need: IntArray  # per entry: need
    e_cost: FloatArray  # per entry: c_ik
    e_req: BoolArray  # per entry: the lead's own need
    e_seg: IntArray  # per entry: piece
    seg_start: IntArray
    rank: IntArray
    alone_ok: BoolArray
    alone: FloatArray

    @classmethod
    def of(cls, sp: SubProblem, pruning: bool = True) -> Pieces:
        import numpy as np

        volumes = np.asarray(sp.volumes, dtype=float)
        f: list[float] = []
        opt_of: list[int] = []
        line: list[int] = []
        cap: list[int] = []
        needs: list[IntArray] = []
        costs: list[FloatArray] = []
        reqs: list[BoolArray] = []
        for oi, o in enumerate(sp.options):
            positions = list(range(len(o.members)))
            for k, fk, hb in o.lines:
                kept = kept_members(sp, o, positions, fk, hb) if pruning else positions
                need = np.asarray([o.members[j] for j in kept], dtype=np.int64)
                if len(need) < 2:
                    continue
                req = np.isin(need, np.asarray(o.required, dtype=np.int64))
                if o.required and not req.any():
                    continue
                f.append(fk)
                opt_of.append(oi)
                line.append(k)
                cap.append(o.max_members)
                needs.append(need)
                costs.append(np.asarray([o.base[j] for j in kept], dtype=float) + hb * volumes[need])
                reqs.append(req)
        seg = [np.full(len(x), p, dtype=np.int64) for p, x in enumerate(needs)]
        e_seg = np.concatenate(seg) if seg else np.zeros(0, dtype=np.int64)
        counts = np.bincount(e_seg, minlength=len(f))
        seg_start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        return cls(
            n=sp.size,
            f=np.asarray(f, dtype=float),
            opt=np.asarray(opt_of, dtype=np.int64),
            line=np.asarray(line, dtype=np.int64),
            cap=np.asarray(cap, dtype=np.int64),
            copies=np.asarray([max(1, min(o.copies, len(o.members) // 2)) for o in sp.options], dtype=float),
            e_need=np.concatenate(needs) if needs else np.zeros(0, dtype=np.int64),
            e_cost=np.concatenate(costs) if costs else np.zeros(0),
            e_req=np.concatenate(reqs) if reqs else np.zeros(0, dtype=bool),
            e_seg=e_seg,
            seg_start=seg_start,
            rank=np.arange(len(e_seg)) - seg_start[e_seg],
            alone_ok=np.asarray(sp.alone_ok, dtype=bool),
            alone=np.asarray(sp.standalone, dtype=float),
        )

    @property
    def n_pieces(self) -> int:
        return len(self.f)

    def price(self, pi: FloatArray) -> Priced:
        """Each piece's least reduced cost and best member set at ``pi``, and the bound L(pi)."""
        import numpy as np

        r = self.e_cost - pi[self.e_need]
        key = np.where(self.e_req, -np.inf, r)  # the lead's own need always first
        order = np.lexsort((key, self.e_seg))
        rs = r[order]
        seg = self.e_seg  # already sorted by piece: positions keep their piece
        take = (self.rank < self.cap[seg]) & ((key[order] < 0) | (self.rank < 2))
        p = self.n_pieces
        rc = self.f + np.bincount(seg, weights=np.where(take, rs, 0.0), minlength=p)
        best = np.zeros(len(self.copies))
        np.minimum.at(best, self.opt, rc)  # min(0, least reduced cost of the option)
        value = float(pi.sum() + (self.copies * best).sum() + np.minimum(0.0, self.alone - pi)[self.alone_ok].sum())
        return Priced(value, rc, best, order, take, rs)

    def forced(self, priced: Priced) -> FloatArray:
        """For every entry (in ``priced.order``'s positions): the least reduced cost of a group of its piece that
        holds its need (module docstring)."""
        import numpy as np

        p = self.n_pieces
        seg = self.e_seg
        ntake = np.bincount(seg, weights=priced.take, minlength=p).astype(np.int64)
        r_last = priced.rs[self.seg_start + ntake - 1]
        drop = np.where((ntake == self.cap) | ((ntake == 2) & (r_last > 0)), r_last, 0.0)
        out: FloatArray = np.where(priced.take, priced.rc[seg], priced.rc[seg] - drop[seg] + priced.rs)
        return out


@dataclass
class Priced:
    value: float  # L(pi)
    rc: FloatArray  # per piece
    best: FloatArray  # per option: min(0, least piece rc)
    order: IntArray  # entries sorted by piece, then reduced cost
    take: BoolArray  # per sorted position: in the piece's best set
    rs: FloatArray  # per sorted position: r


@dataclass
class _Master:
    """The restricted master LP in a persistent HiGHS instance (columns appended, basis kept)."""

    sp: SubProblem
    pieces: Pieces
    h: Any
    n_opt_rows: int
    opt_row: dict[int, int]
    columns: list[tuple[int, tuple[int, ...]]] = field(default_factory=list)  # (option or -1 alone, members)
    costs: list[float] = field(default_factory=list)
    seen: set[tuple[int, tuple[int, ...]]] = field(default_factory=set)

    def add(self, cols: list[tuple[int, tuple[int, ...], float]]) -> int:
        import numpy as np

        new = [(o, m, c) for o, m, c in cols if (o, m) not in self.seen]
        if not new:
            return 0
        starts: list[int] = []
        index: list[int] = []
        for o, members, cost in new:
            self.seen.add((o, members))
            self.columns.append((o, members))
            self.costs.append(cost)
            starts.append(len(index))
            index.extend(members)
            if o >= 0:
                index.append(self.sp.size + self.opt_row[o])
        self.h.addCols(
            len(new),
            np.asarray([c for _, _, c in new], dtype=np.float64),
            np.zeros(len(new)),
            np.full(len(new), np.inf),
            len(index),
            np.asarray(starts, dtype=np.int32),
            np.asarray(index, dtype=np.int32),
            np.ones(len(index)),
        )
        return len(new)


def group_cost(sp: SubProblem, option: int, members: tuple[int, ...]) -> float:
    """A joint group's exact cost (its best line), as milp.plan_value prices it."""
    o = sp.options[option]
    pos = {i: j for j, i in enumerate(o.members)}
    vol = sum(sp.volumes[i] for i in members)
    return sum(o.base[pos[i]] for i in members) + min(f + hb * vol for _, f, hb in o.lines)


@dataclass
class ColgenResult:
    groups: list[Group]
    value: float
    bound: float
    proven: bool
    rounds: int
    columns: int
    seconds: dict[str, float]
    final_columns: int = 0
    lp_value: float = math.inf


def solve(
    sp: SubProblem,
    warm: list[Group],
    warm_value: float,
    *,
    deadline: float | None,
    gap: float,
    pruning: bool = True,
    log: list[tuple[float, float, float]] | None = None,
    start: FloatArray | None = None,
    polish: bool = True,
    prove: bool = True,
) -> ColgenResult:
    """The best plan found and a proven bound: column generation (bound), a plan from the master's LP (rounding,
    a dive), then the facility model without the
    Lagrangian-fixed columns under cutoff (proof). ``start``: multipliers to begin from (the bound starts from
    theirs); ``polish`` off leaves the incumbent to the proof step alone (tests); ``prove`` off stops before the
    proof step (bench/coordinator_rule.py compares LP bounds)."""
    import highspy
    import numpy as np

    from ..highs import INF, LinearModel, SparseMatrix, load_model

    started = time.perf_counter()
    secs = {"rounding": 0.0, "pricing": 0.0, "master_lp": 0.0, "fixing": 0.0, "final_mip": 0.0}
    pieces = Pieces.of(sp, pruning)
    option_index = {(o.mode, o.lead): oi for oi, o in enumerate(sp.options)}
    used_opts = sorted(
        {int(o) for o in pieces.opt} | {option_index[(g.mode, g.lead)] for g in warm if g.mode != "standalone"}
    )
    opt_row = {o: r for r, o in enumerate(used_opts)}
    n = sp.size
    row_lo = np.concatenate((np.ones(n), np.full(len(used_opts), -INF)))
    row_hi = np.concatenate((np.ones(n), pieces.copies[used_opts] if used_opts else np.zeros(0)))
    h = load_model(
        LinearModel.of(np.zeros(0), np.zeros(0), np.zeros(0), row_lo, row_hi, SparseMatrix.empty(0)),
        # Presolve would rework the whole master after every round; the simplex from the kept basis does not.
        {"time_limit": 1e9, "presolve": "off", "simplex_strategy": _PRIMAL_SIMPLEX},
    )
    master = _Master(sp, pieces, h, len(used_opts), opt_row)
    master.add([(-1, (i,), sp.standalone[i]) for i in range(n) if sp.alone_ok[i]])
    master.add(
        [
            (
                option_index[(g.mode, g.lead)],
                tuple(g.members),
                group_cost(sp, option_index[(g.mode, g.lead)], g.members),
            )
            for g in warm
            if g.mode != "standalone"
        ]
    )
    best_groups, ub = warm, warm_value

    def tol(value: float) -> float:
        return max(gap * abs(value), COST_RELATIVE_NOISE * abs(value), 1e-6)

    def left() -> float:
        return math.inf if deadline is None else deadline - time.perf_counter()

    def note(lb: float) -> None:
        if log is not None:
            log.append((time.perf_counter() - started, ub, lb))

    # Under a deadline the rounds stop with a share of the time left for the plan from the master (rounding, dive,
    # the nearly-priced model) and the proof: a master that has not settled still gives a plan better than the
    # greedy one, and its Lagrangian bound is valid.
    reserve = 0.0 if deadline is None else _PLAN_RESERVE * max(0.0, left())
    lb = -math.inf
    pi_best: FloatArray | None = None
    if start is not None:
        priced = pieces.price(start)
        lb, pi_best = priced.value, start.copy()
        _add_columns(master, pieces, priced, start, np.zeros(len(pieces.copies)), warm_value, per_option=False)
    rounds = 0
    lp_value = math.inf
    while rounds < _MAX_ROUNDS and left() - reserve > TIME_SLIVER:
        rounds += 1
        t = time.perf_counter()
        run_for(h, left() - reserve)
        h.run()
        secs["master_lp"] += time.perf_counter() - t
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            break
        lp_value = float(h.getInfo().objective_function_value)
        duals = np.asarray(h.getSolution().row_dual, dtype=float)
        pi_m = duals[:n]
        mu = np.zeros(len(pieces.copies))
        if used_opts:
            mu[used_opts] = np.minimum(0.0, duals[n:])
        t = time.perf_counter()
        added = 0
        points = [pi_m] if pi_best is None else [SMOOTHING * pi_best + (1 - SMOOTHING) * pi_m, pi_m]
        for pi in points:
            priced = pieces.price(pi)
            if priced.value > lb:
                lb, pi_best = priced.value, pi.copy()
            added = _add_columns(master, pieces, priced, pi_m, mu, lp_value)
            if added:
                break
        secs["pricing"] += time.perf_counter() - t
        note(lb)
        if not added or lb >= lp_value - tol(lp_value) or lb >= ub - tol(ub):
            break
    if pi_best is None:
        return ColgenResult(best_groups, ub, lb, False, rounds, len(master.columns), secs)
    pi_best_final: FloatArray = pi_best

    # A better plan from the master's LP answer: its columns by value, each one's still free members, polished.
    t = time.perf_counter()
    rounded = _round(master, list(h.getSolution().col_value)) if polish else None
    if rounded is not None:
        value = plan_value(sp, rounded)
        if value < ub:
            best_groups, ub = rounded, value
    dive_until = None if deadline is None else time.perf_counter() + _DIVE_SHARE * left()
    dived = _dive(master, dive_until) if polish else None
    if dived is not None:
        value = plan_value(sp, dived)
        if value < ub:
            best_groups, ub = dived, value
    secs["rounding"] = time.perf_counter() - t
    note(lb)

    # A better plan from the columns the bound prices at almost nothing (the master's support among them): the
    # facility model restricted to them, cut off at the incumbent -- what milp.py does on its LP's support. The
    # better the incumbent, the more the proof step below can leave out.
    if polish and prove and lb < ub - tol(ub) and left() > TIME_SLIVER:
        t = time.perf_counter()
        near = _restricted(
            sp, _allowed(pieces, pieces.price(pi_best_final), pi_best_final, lb + NEAR_PRICED_SHARE * abs(lb))
        )
        found = (
            None
            if near is None
            else _solve_integer(
                near,
                "highs",
                time_limit=None if deadline is None else max(TIME_SLIVER, left() / 3),
                gap=AUXILIARY_MIP_GAP,
                cutoff=ub,
            )
        )
        if near is not None and found is not None and found.values is not None:
            cand = groups_from_values(sp, near, found.values)
            if cand is not None and plan_value(sp, cand) < ub:
                best_groups, ub = cand, plan_value(sp, cand)
        secs["near_mip"] = time.perf_counter() - t
        note(lb)
    if lb >= ub - tol(ub):
        return ColgenResult(best_groups, ub, min(lb, ub), True, rounds, len(master.columns), secs)
    if left() <= TIME_SLIVER or not prove:
        return ColgenResult(best_groups, ub, lb, False, rounds, len(master.columns), secs, 0, lp_value)

    # The proof: the facility model without the columns the bound shows cannot take part in a plan below UB.
    t = time.perf_counter()
    fixed_at = ub
    model = _restricted(sp, _allowed(pieces, pieces.price(pi_best_final), pi_best_final, fixed_at))
    secs["fixing"] += time.perf_counter() - t
    if model is None:  # some need has no column a plan below the incumbent could use: none is below it
        note(ub)
        return ColgenResult(best_groups, ub, ub, True, rounds, len(master.columns), secs, 0, lp_value)
    t = time.perf_counter()
    mip = _solve_integer(
        model, "highs", time_limit=None if deadline is None else max(TIME_SLIVER, left()), gap=gap, cutoff=ub
    )
    secs["final_mip"] += time.perf_counter() - t
    if mip.values is not None:
        cand = groups_from_values(sp, model, mip.values)
        if cand is not None:
            value = plan_value(sp, cand)
            if value < ub:
                best_groups, ub = cand, value
    # Plans outside the model cost more than fixed_at; inside it, at least the solver's proven bound.
    bound = max(lb, min(fixed_at, mip.bound))
    note(bound)
    return ColgenResult(
        best_groups, ub, min(bound, ub), mip.proven, rounds, len(master.columns), secs, model.n_cols, lp_value
    )


def _add_columns(
    master: _Master,
    pieces: Pieces,
    priced: Priced,
    pi_m: FloatArray,
    mu: FloatArray,
    scale: float,
    per_option: bool = True,
) -> int:
    """Add, per option, the best set of its piece of least reduced cost at the master's duals (pi_m, mu), when
    that is negative (the pricing point may differ from pi_m under smoothing)."""
    import numpy as np

    p = pieces.n_pieces
    seg = pieces.e_seg
    needs = pieces.e_need[priced.order]
    take = priced.take
    cost = pieces.f + np.bincount(seg, weights=np.where(take, pieces.e_cost[priced.order], 0.0), minlength=p)
    red = cost - np.bincount(seg, weights=np.where(take, pi_m[needs], 0.0), minlength=p) - mu[pieces.opt]
    enter = -_ENTER * max(1.0, abs(scale))
    cand = np.nonzero(red < enter)[0]
    if not len(cand):
        return 0
    if per_option:
        order = cand[np.lexsort((red[cand], pieces.opt[cand]))]
        first = order[np.unique(pieces.opt[order], return_index=True)[1]]  # the best piece of each option
    else:
        first = cand
    chosen = np.zeros(p, dtype=bool)
    chosen[first] = True
    picked = take & chosen[seg]
    sets: dict[int, list[int]] = {}
    for s, i in zip(seg[picked].tolist(), needs[picked].tolist(), strict=True):
        sets.setdefault(s, []).append(i)
    cols = []
    for s, members in sets.items():
        o = int(pieces.opt[s])
        m = tuple(sorted(members))
        cols.append((o, m, group_cost(master.sp, o, m)))
    return master.add(cols)


def _dive(master: _Master, deadline: float | None) -> list[Group] | None:
    """A plan by diving in the restricted master: fix the columns at 1 (and the largest fractional one) to 1,
    solve the LP again from its basis, until the answer is integral; then round it (the last LP may still be
    fractional when time runs out or the fixings leave it infeasible). The bounds are restored afterwards."""
    import highspy
    import numpy as np

    h = master.h
    fixed: list[int] = []
    # Fixing a column at 1 leaves the basis dual feasible, not primal: the dual simplex goes on from it.
    h.setOptionValue("simplex_strategy", _DUAL_SIMPLEX)
    values = np.asarray(h.getSolution().col_value, dtype=float)
    best = values
    try:
        while deadline is None or time.perf_counter() < deadline - TIME_SLIVER:
            frac = (values > 1e-6) & (values < 1 - 1e-6)
            if not frac.any():
                break
            new = [int(j) for j in np.nonzero(values >= 1 - 1e-6)[0] if j not in fixed]
            cand = np.where(frac, values, -1.0)
            new.append(int(np.argmax(cand)))
            for j in new:
                h.changeColBounds(j, 1.0, np.inf)
            fixed.extend(new)
            run_for(h, math.inf if deadline is None else deadline - time.perf_counter())
            h.run()
            if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
                break
            values = np.asarray(h.getSolution().col_value, dtype=float)
            best = values
    finally:
        for j in fixed:
            h.changeColBounds(j, 0.0, np.inf)
        h.setOptionValue("simplex_strategy", _PRIMAL_SIMPLEX)
    return _round(master, best.tolist())


def _round(master: _Master, values: list[float]) -> list[Group] | None:
    """A plan from a master LP answer: columns by falling value, each keeping those of its members still free
    (a subset of a feasible group with two or more members and the lead's own need is feasible: the same
    option, fewer members), the rest alone; then heuristic.improve's local search. None when a need left over
    may not stay alone."""
    sp = master.sp
    free = [True] * sp.size
    used = [0] * len(sp.options)
    groups: list[Group] = []
    for j in sorted(range(len(values)), key=lambda j: -values[j]):
        if values[j] <= 1e-6:
            break
        o, members = master.columns[j]
        rest = tuple(i for i in members if free[i])
        if o < 0:
            if rest:
                groups.append(Group("standalone", sp.bodies[rest[0]], rest))
                free[rest[0]] = False
            continue
        opt = sp.options[o]
        if len(rest) < 2 or used[o] >= opt.copies or (opt.required and not set(rest) & set(opt.required)):
            continue
        used[o] += 1
        groups.append(Group(opt.mode, opt.lead, rest))
        for i in rest:
            free[i] = False
    for i in range(sp.size):
        if free[i]:
            if not sp.alone_ok[i]:
                return None
            groups.append(Group("standalone", sp.bodies[i], (i,)))
    return improve(sp, groups)


def _restricted(sp: SubProblem, allowed: Allowed) -> Formulation | None:
    """The facility model on ``allowed`` only, or None when some need has no column left in it (then no plan
    uses only allowed columns)."""
    try:
        return build(sp, allowed=allowed)
    except Infeasible:
        return None


def _allowed(pieces: Pieces, priced: Priced, pi: FloatArray, ub: float) -> Allowed:
    """The facility model's columns that a plan of cost at most ``ub`` may use (module docstring: fixing)."""
    import numpy as np

    lb = priced.value
    margin = COST_RELATIVE_NOISE * abs(ub) + YEN_NOISE  # err on the side of keeping a column
    seg = pieces.e_seg
    base = lb - priced.best[pieces.opt]  # the bound without the forced copy's term, per piece
    piece_ok = base + priced.rc <= ub + margin
    entry_ok = (base[seg] + pieces.forced(priced) <= ub + margin) & piece_ok[seg]
    needs = pieces.e_need[priced.order]
    by_line: dict[tuple[int, int], set[int]] = {}
    for s, i in zip(seg[entry_ok].tolist(), needs[entry_ok].tolist(), strict=True):
        by_line.setdefault((int(pieces.opt[s]), int(pieces.line[s])), set()).add(i)
    slack = pieces.alone - pi
    alone_ok = pieces.alone_ok & (lb - np.minimum(0.0, slack) + slack <= ub + margin)
    return by_line, {int(i) for i in np.nonzero(alone_ok)[0]}
