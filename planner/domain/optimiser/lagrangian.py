"""A lower bound for a big sub-problem without its LP: Lagrangian relaxation of "every need exactly once".

With multipliers lam_i on those rows, the facility model falls apart into independent pieces:
    L(lam) = sum_i lam_i + sum_{i may stay alone} min(0, s_i - lam_i)
             + sum_options copies_o * min(0, min_k min_S (F_k + sum_{i in S} (c_ik - lam_i)))
where S ranges over member sets of size 2..max_members holding one of the lead's own needs (none for a host).
Every plan is feasible for the pieces, and the relaxed rows contribute zero for it, so L(lam) <= its cost for any
lam: L is a valid bound at every iteration (together/apart pairs are simply dropped, which only relaxes more).
Subgradient steps push it towards the LP bound. Used when the LP of a huge component cannot finish in time.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING

from ..tolerances import COST_RELATIVE_NOISE
from .pruning import kept_members
from .subproblems import SubProblem

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    FloatArray = npt.NDArray[np.float64]
    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

STALL_ROUNDS = 10  # evaluations without a better bound before the step is halved
DEFLECTION = 0.5
MIN_STEP = 1e-6  # step scale theta below which the subgradient has stalled for good
# Stop when the bound is this close to the plan's cost (relative): what is left is below a yen per 10 million.
CLOSE_ENOUGH = 1e-7


def lagrangian_bound(sp: SubProblem, upper: float, seconds: float, start: FloatArray | None = None) -> float:
    return lagrangian(sp, upper, seconds, start)[0]


def lagrangian(
    sp: SubProblem, upper: float, seconds: float, start: FloatArray | None = None
) -> tuple[float, FloatArray]:
    """(best bound, the multipliers that gave it)."""
    import numpy as np

    deadline = time.perf_counter() + seconds
    alone = np.asarray(sp.standalone, dtype=float)
    ok = np.asarray(sp.alone_ok, dtype=bool)
    pieces = _Pieces(sp)
    if start is None:
        # Each need's cheapest conceivable share (its own cost plus an equal part of a full group's fixed cost).
        start = np.where(ok, alone, np.inf)
        for need, cost, f, cap in pieces.shares():
            np.minimum.at(start, need, cost + f / cap)
    lam = np.array(start, dtype=float)
    best = -np.inf
    best_lam = lam.copy()
    theta, stall = 1.0, 0
    direction: FloatArray | None = None
    while True:
        value, use = pieces.evaluate(lam)
        value += lam.sum() + np.minimum(0.0, alone - lam)[ok].sum()
        use[ok & (alone < lam)] += 1.0
        if value > best + COST_RELATIVE_NOISE * abs(best if np.isfinite(best) else 1.0):
            best, stall, best_lam = value, 0, lam.copy()
        else:
            stall += 1
            if stall >= STALL_ROUNDS:
                theta, stall = theta / 2, 0
        g = 1.0 - use
        if float(g @ g) == 0:
            break
        # A deflected subgradient (part of the previous direction kept) zig-zags less than the plain one.
        direction = g if direction is None else g + DEFLECTION * direction
        norm = float(direction @ direction)
        if theta < MIN_STEP or time.perf_counter() > deadline or upper - best <= CLOSE_ENOUGH * abs(upper):
            break
        lam = lam + theta * (upper - value) / norm * direction
    return float(best), best_lam


class _Pieces:
    """The facility pieces (option x line) of the relaxation, as flat arrays so that one evaluation is a few
    numpy calls. Columns that pruning.py proves unused are left out (the pruned model has the same integer
    optimum, so its Lagrangian bounds that optimum too, and tighter). A piece whose lead has several own needs
    (rare) is evaluated one by one."""

    def __init__(self, sp: SubProblem) -> None:
        import numpy as np

        volumes = np.asarray(sp.volumes, dtype=float)
        self.n = sp.size
        self.copies = np.asarray([max(1, min(o.copies, len(o.members) // 2)) for o in sp.options], dtype=float)
        f_of: list[float] = []
        opt_of: list[int] = []
        req_need: list[int] = []
        req_cost: list[float] = []
        cap: list[int] = []
        least: list[int] = []
        e_need: list[IntArray] = []
        e_cost: list[FloatArray] = []
        e_seg: list[IntArray] = []
        # (option, f, needs, costs, required positions, max_members)
        self.slow: list[tuple[int, float, IntArray, FloatArray, IntArray, int]] = []
        for oi, opt in enumerate(sp.options):
            required = set(opt.required)
            positions = list(range(len(opt.members)))
            for _, f, hb in opt.lines:
                kept = kept_members(sp, opt, positions, f, hb)
                need = np.asarray([opt.members[j] for j in kept], dtype=np.int64)
                cost = np.asarray([opt.base[j] for j in kept], dtype=float) + hb * volumes[need]
                req = [t for t, j in enumerate(kept) if opt.members[j] in required]
                if len(kept) < 2 or (required and not req):
                    continue
                if len(req) > 1:
                    self.slow.append((oi, f, need, cost, np.asarray(req, dtype=np.int64), opt.max_members))
                    continue
                p = len(f_of)
                f_of.append(f)
                opt_of.append(oi)
                if req:
                    q = req[0]
                    req_need.append(int(need[q]))
                    req_cost.append(float(cost[q]))
                    need, cost = np.delete(need, q), np.delete(cost, q)
                    cap.append(opt.max_members - 1)
                    least.append(1)
                else:
                    req_need.append(0)
                    req_cost.append(np.nan)  # no required member
                    cap.append(opt.max_members)
                    least.append(2)
                e_need.append(need)
                e_cost.append(cost)
                e_seg.append(np.full(len(need), p, dtype=np.int64))
        self.f = np.asarray(f_of, dtype=float)
        self.opt = np.asarray(opt_of, dtype=np.int64)
        self.req_need = np.asarray(req_need, dtype=np.int64)
        self.req_cost = np.asarray(req_cost, dtype=float)
        self.has_req = ~np.isnan(self.req_cost)
        self.req_cost = np.nan_to_num(self.req_cost)
        self.cap = np.asarray(cap, dtype=np.int64)
        self.least = np.asarray(least, dtype=np.int64)
        self.e_need = np.concatenate(e_need) if e_need else np.zeros(0, dtype=np.int64)
        self.e_cost = np.concatenate(e_cost) if e_cost else np.zeros(0)
        self.e_seg = np.concatenate(e_seg) if e_seg else np.zeros(0, dtype=np.int64)
        counts = np.bincount(self.e_seg, minlength=len(f_of))
        self.seg_start = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.rank = np.arange(len(self.e_seg)) - self.seg_start[self.e_seg]  # e_seg is sorted already

    def shares(self) -> Iterator[tuple[IntArray, FloatArray, float, int]]:
        """(needs, their costs, F, group cap) per piece, for the starting multipliers."""
        import numpy as np

        for p in range(len(self.f)):
            sel = self.e_seg == p
            need = np.concatenate((self.e_need[sel], self.req_need[p : p + 1][self.has_req[p : p + 1]]))
            cost = np.concatenate((self.e_cost[sel], self.req_cost[p : p + 1][self.has_req[p : p + 1]]))
            yield need, cost, self.f[p], max(1, min(self.cap[p] + self.has_req[p], len(need)))
        for _, f, need, cost, _, most in self.slow:
            yield need, cost, f, max(1, min(most, len(need)))

    def evaluate(self, lam: FloatArray) -> tuple[float, FloatArray]:
        """(sum over options of copies * min(0, best piece), how often each need is used by those pieces)."""
        import numpy as np

        n_pieces = len(self.f)
        v = self.e_cost - lam[self.e_need]
        order = np.lexsort((v, self.e_seg))  # by piece, then most negative first
        vs = v[order]
        take = (self.rank < self.cap[self.e_seg]) & ((vs < 0) | (self.rank < self.least[self.e_seg]))
        sums = np.bincount(self.e_seg, weights=np.where(take, vs, 0.0), minlength=n_pieces)
        rc = self.f + sums + np.where(self.has_req, self.req_cost - lam[self.req_need], 0.0)
        slow_rc: list[float] = []
        slow_sets: list[IntArray] = []
        for _, f, need, cost, req, most in self.slow:
            total, chosen = _least_group(cost - lam[need], req, most)
            slow_rc.append(f + total)
            slow_sets.append(need[chosen])
        all_rc = np.concatenate((rc, np.asarray(slow_rc, dtype=float)))
        all_opt = np.concatenate((self.opt, np.asarray([s[0] for s in self.slow], dtype=np.int64)))
        by_option = np.lexsort((all_rc, all_opt))
        first = by_option[np.unique(all_opt[by_option], return_index=True)[1]]  # the best piece of each option
        first = first[all_rc[first] < 0]
        value = float((self.copies[all_opt[first]] * all_rc[first]).sum())
        use = np.zeros(self.n)
        chosen = np.zeros(len(all_rc), dtype=bool)
        chosen[first] = True
        weight = np.zeros(len(all_rc))
        weight[first] = self.copies[all_opt[first]]
        picked = take & chosen[:n_pieces][self.e_seg]
        use += np.bincount(self.e_need[order][picked], weights=weight[self.e_seg][picked], minlength=self.n)
        req_on = chosen[:n_pieces] & self.has_req
        use += np.bincount(self.req_need[req_on], weights=weight[:n_pieces][req_on], minlength=self.n)
        for t, members in enumerate(slow_sets):
            if chosen[n_pieces + t]:
                use[members] += weight[n_pieces + t]
        return value, use


def _least_group(v: FloatArray, required: IntArray, most: int) -> tuple[float, IntArray]:
    """(least F-free sum over an allowed member set, its positions): size 2..most, one required if any."""
    import numpy as np

    if len(required):
        best: tuple[float, IntArray] | None = None
        for q in required:
            others = np.delete(np.arange(len(v)), q)
            chosen = _most_negative(v[others], most - 1, 1)
            total = v[q] + v[others][chosen].sum()
            if best is None or total < best[0]:
                best = (total, np.concatenate(([q], others[chosen])))
        assert best is not None  # required is not empty
        return best
    chosen = _most_negative(v, most, 2)
    return v[chosen].sum(), chosen


def _most_negative(v: FloatArray, most: int, least: int) -> IntArray:
    import numpy as np

    if len(v) <= least:
        return np.arange(len(v))
    k = min(most, len(v))
    order = np.argpartition(v, k - 1)[:k] if k < len(v) else np.arange(len(v))
    order = order[np.argsort(v[order])]
    return order[: max(least, int((v[order] < 0).sum()))]
