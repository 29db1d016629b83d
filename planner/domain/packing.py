"""Separation over unions of groups: the exact most violated coalition of a group's cost game at any size
(cost-model.md, "Proof of fairness" and "Core adjustment": where the core is empty the least core takes its place).

A coalition S costs c(S), its cheapest partition into feasible groups. While every proper coalition keeps a
non-negative saving, single groups are the only coalitions that matter (separation.py): a union of groups saves
the sum of their savings. Where the core is empty (the least-core value t is negative) a union of k groups each
short by t is short by k t, so the least core, and the core adjustment that reaches it, need

    min over proper non-empty S of c(S) - x(S)  =  min over packings P of disjoint feasible groups, not covering G,
                                                   of  sum_{B in P} (cost(B) - x(B)).

Every candidate of the group's oracle (mode m, lead l, pricing line k) prices a group as a constant plus per-member
weights, so the packing problem is a small MILP over the same candidates, solved to optimality by HiGHS:

    z_r     groups opened on candidate r (0/1 for a member lead, whose own need must be inside; any number for a
            host, which may lead several groups: their members only need 2 z_r <= count <= cap_r z_r),
    y_ri    member i in a group of candidate r (only where r may take i: mode, geography, fixed overrides),
    s_i     member i alone (its standalone cost),
    min  sum_r const_r z_r + sum_ri (w_ri - x_i) y_ri + sum_i (standalone_i - x_i) s_i
    s.t. each member in at most one group or alone; 1 <= |S| <= n - 1; a together pair inside S in one group.

The solution is a packing, whose cost is at least c(S) of its members; at the optimum it is exactly c(S) (a cheaper
partition of the same S would be a better packing), so the row it gives the least-core LP is the coalition's own
constraint: the LP over the rows found so far is a relaxation, and it is the least core once the MILP finds no
coalition below the LP's t. Tests check the value against the partition DP over every coalition (groups of up to
16 members) and the coalition game's table where it exists.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterator, Sequence

import highspy
import numpy as np

from .arrays import FloatArray, Vector
from .highs import INF, LinearModel, SparseMatrix, load_model
from .model import Instance
from .separation import Excess, GroupOracle

MILP_OPTIONS: dict[str, float | str | bool] = {
    "mip_rel_gap": 0.0,
    "mip_abs_gap": 1e-7,  # of the scaled objective (the largest standalone cost = 1): well under a yen
    "presolve": "on",
}


class PackingError(RuntimeError):
    """The packing MILP did not finish at a proved optimum."""


class PackingOracle:
    """The separation oracle over every coalition (unions of groups), built on a group's single-group oracle.

    It answers ``min_excess``/``violated`` (what the least core and the core projection ask, game_solutions.py) and
    ``cost`` (c(S) of one coalition); ordered listing (the nucleolus's) is not offered."""

    def __init__(self, group: GroupOracle, instance: Instance | None = None):
        self.group = group
        self.member_ids = group.member_ids
        self.n = n = group.n
        self.full = group.full
        self.standalone = group.standalone
        self.apart = group.apart
        index = {nid: k for k, nid in enumerate(self.member_ids)}
        self.together: list[tuple[int, int]] = []
        if instance is not None:
            self.together = [
                (index[a], index[b]) for a, b in instance.rules.together if a in index and b in index and a != b
            ]
        self.scale = max(float(np.max(group.standalone)) if n else 1.0, 1.0)
        # columns: z_r, then y_ri for the finite weights (row-major), then s_i
        rows = len(group.candidates)
        self.rows = rows
        finite = np.isfinite(group.weight) if rows else np.zeros((0, n), dtype=bool)
        self.pairs = [(int(r), int(i)) for r, i in zip(*np.nonzero(finite), strict=True)]
        self.y0 = rows
        self.s0 = rows + len(self.pairs)
        self.columns = self.s0 + n
        self.host = group.forced < 0 if rows else np.zeros(0, dtype=bool)
        self._free: highspy.Highs | None = None

    # --- the model -------------------------------------------------------------------------------------------

    def _model(self, prize: FloatArray, inside: int | None) -> LinearModel:
        """The packing MILP with member prizes ``prize`` (scaled); with ``inside`` the coalition is fixed to that
        mask (its cheapest partition: c(S)) instead of free and proper."""
        g, n, rows = self.group, self.n, self.rows
        cost = np.zeros(self.columns)
        lower = np.zeros(self.columns)
        upper = np.ones(self.columns)
        if rows:
            cost[:rows] = g.const / self.scale
            upper[:rows] = np.where(self.host, n // 2, 1)
        for k, (r, i) in enumerate(self.pairs):
            cost[self.y0 + k] = g.weight[r, i] / self.scale - prize[i]
        cost[self.s0 :] = g.standalone / self.scale - prize
        matrix: list[tuple[list[int], list[float]]] = []
        row_lower: list[float] = []
        row_upper: list[float] = []

        def row(cols: list[int], coeffs: list[float], lo: float, hi: float) -> None:
            matrix.append((cols, coeffs))
            row_lower.append(lo)
            row_upper.append(hi)

        of_member: list[list[int]] = [[] for _ in range(n)]
        of_row: list[list[int]] = [[] for _ in range(rows)]
        for k, (r, i) in enumerate(self.pairs):
            of_member[i].append(self.y0 + k)
            of_row[r].append(self.y0 + k)
        column = {pair: self.y0 + k for k, pair in enumerate(self.pairs)}
        for i in range(n):
            cols = [*of_member[i], self.s0 + i]
            if inside is None:
                row(cols, [1.0] * len(cols), 0.0, 1.0)
            elif inside >> i & 1:
                row(cols, [1.0] * len(cols), 1.0, 1.0)
            else:
                for c in cols:
                    upper[c] = 0.0
        if inside is None:
            every = [c for cols in of_member for c in cols] + list(range(self.s0, self.s0 + n))
            row(every, [1.0] * len(every), 1.0, float(n - 1))
        for r in range(rows):
            cols = of_row[r]
            for c in cols:  # y_ri <= z_r: the strong form (the aggregated rows below alone make a weak relaxation)
                row([c, r], [1.0, -1.0], -INF, 0.0)
            row([*cols, r], [1.0] * len(cols) + [-float(g.cap[r])], -INF, 0.0)
            row([*cols, r], [1.0] * len(cols) + [-2.0], 0.0, INF)
            f = int(g.forced[r])
            if f >= 0:
                row([column[(r, f)], r], [1.0, -1.0], 0.0, 0.0)
            for p in self.apart:
                a, b = (i for i in range(n) if p >> i & 1)
                if (r, a) in column and (r, b) in column:
                    row([column[(r, a)], column[(r, b)], r], [1.0, 1.0, -1.0], -INF, 0.0)
        for a, b in self.together:
            # both inside S: neither alone (s_a + u_b <= 1), and a in a group of candidate r only if b is in one of
            # r too (y_ra - y_rb + u_b <= 1, whose y_rb terms cancel), and the same with a and b exchanged
            for one, other in ((a, b), (b, a)):
                u_other = [*of_member[other], self.s0 + other]
                row([self.s0 + one, *u_other], [1.0] * (1 + len(u_other)), -INF, 1.0)
                for r in range(rows):
                    mine = column.get((r, one))
                    if mine is None:
                        continue
                    cols = [mine, *(c for c in u_other if c != column.get((r, other)))]
                    row(cols, [1.0] * len(cols), -INF, 1.0)
        return LinearModel.of(cost, lower, upper, row_lower, row_upper, SparseMatrix.from_rows(matrix), integer=True)

    def _solve(self, prize: FloatArray, inside: int | None) -> tuple[float, int, float] | None:
        """(objective in yen, coalition mask, its packing's cost in yen), or None when no packing exists. The free
        model is built once and only its member columns' costs change between calls (constraint generation asks
        it again and again with new shares)."""
        if inside is None:
            h = self._free
            if h is None:
                h = self._free = load_model(self._model(prize, None), MILP_OPTIONS)
            else:
                costs = self._costs()
                costs[self.y0 :] -= np.r_[prize[[i for _, i in self.pairs]], prize]
                idx = np.arange(self.y0, self.columns, dtype=np.int32)
                h.changeColsCost(len(idx), idx, costs[self.y0 :])
        else:
            h = load_model(self._model(prize, inside), MILP_OPTIONS)
        h.run()
        status = h.getModelStatus()
        if status == highspy.HighsModelStatus.kInfeasible:
            return None
        if status != highspy.HighsModelStatus.kOptimal:
            raise PackingError(f"packing MILP: {h.modelStatusToString(status)}")
        v = np.round(np.asarray(h.getSolution().col_value))
        mask = 0
        for k, (_, i) in enumerate(self.pairs):
            if v[self.y0 + k] > 0.5:
                mask |= 1 << i
        for i in range(self.n):
            if v[self.s0 + i] > 0.5:
                mask |= 1 << i
        cost = float(np.dot(self._costs(), v)) * self.scale
        objective = cost - float(sum(prize[i] for i in range(self.n) if mask >> i & 1)) * self.scale
        return objective, mask, cost

    def _costs(self) -> FloatArray:
        g = self.group
        costs = np.zeros(self.columns)
        if self.rows:
            costs[: self.rows] = g.const / self.scale
        for k, (r, i) in enumerate(self.pairs):
            costs[self.y0 + k] = g.weight[r, i] / self.scale
        costs[self.s0 :] = g.standalone / self.scale
        return costs

    # --- the oracle interface ----------------------------------------------------------------------------------

    def min_excess(self, x: Vector) -> Excess:
        """The exact min over proper non-empty coalitions S of c(S) - x(S), with S and c(S)."""
        prize = np.asarray(x, dtype=float) / self.scale
        found = self._solve(prize, None)
        if found is None:  # every proper coalition can always go alone member by member: cannot happen
            raise PackingError("packing MILP infeasible")
        excess, mask, cost = found
        return Excess(mask, cost, excess, "coalition", "")

    def violated(self, x: Vector, below: float, limit: int) -> list[Excess]:
        """Coalitions with c(S) - x(S) under ``below``; none only when the MILP proves there is none. Cheap rows
        first: single groups, then a greedy union of disjoint groups short of their cost (each row is valid: the
        cost it states is a partition's, at least c(S)); the MILP is solved only when those find nothing."""
        x = np.asarray(x, dtype=float)
        singles = self.group.violated(x, below, limit)
        if singles:
            return singles
        short = self.group.violated(x, 0.0, 4 * self.n)
        mask, cost, excess = 0, 0.0, 0.0
        for e in short:
            if e.mask & mask or (mask | e.mask) == self.full:
                continue
            mask, cost, excess = mask | e.mask, cost + e.cost, excess + e.excess
        if mask and excess < below:
            return [Excess(mask, cost, excess, "coalition", "")]
        found = self.min_excess(x)
        return [found] if found.excess < below else []

    def cost(self, mask: int) -> tuple[float, str, str]:
        """c(S): the cheapest partition of the coalition ``mask`` into feasible groups."""
        if mask & (mask - 1) == 0:
            i = mask.bit_length() - 1
            return float(self.standalone[i]), "standalone", self.group.need_bodies[i]
        found = self._solve(np.zeros(self.n), mask)
        return (INF, "", "") if found is None else (found[2], "coalition", "")

    def iter_by_excess(
        self,
        x: Vector,
        skip: Callable[[int], bool] | None = None,
        split: Sequence[Sequence[int]] | None = None,
    ) -> Iterator[Excess]:
        """Only the most violated coalition (the packing MILP has no ordered listing); enough for ``min_excess``
        callers, never used for the nucleolus."""
        first = self.min_excess(x)
        if skip is None or not skip(first.mask):
            yield first

    def tightest(self, x: Vector, count: int) -> list[Excess]:
        return list(itertools.islice(self.iter_by_excess(x), count))
