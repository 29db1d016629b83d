"""Solutions of a cost game: the Shapley value (exact or sampled) and the nucleolus (a sequence of LPs).

The solvers only see a game (players and c(S)), never the cost model, so they can be checked against
published games. Coalitions are bit masks over the players' indexes 0..n-1.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TypeAlias, TypeGuard

import highspy
import numpy as np

from .arrays import BoolArray, FloatArray, IntArray, Vector
from .highs import LinearModel, SparseMatrix, load_model, pass_diagonal_hessian
from .packing import PackingOracle
from .separation import Excess, GroupOracle, Oracle
from .tolerances import GAME_LP_ACTIVE, GAME_LP_FEASIBILITY, GAME_SPAN_RESIDUAL

SHAPLEY_SEED = 20260401  # fixed so that a sampled Shapley value is reproducible run to run


def popcount(mask: int) -> int:
    return bin(mask).count("1")


def shapley_exact(n: int, value: Sequence[float]) -> list[float]:
    """Shapley value by the subset formula: phi_i = sum_{S not containing i} |S|!(n-|S|-1)!/n! (c(S+i) - c(S)).

    ``value[mask]`` is c of that coalition for every mask (value[0] = 0)."""
    if n == 0:
        return []
    weight = [math.factorial(s) * math.factorial(n - s - 1) / math.factorial(n) for s in range(n)]
    phi = [0.0] * n
    bits = [1 << i for i in range(n)]
    for mask in range(1 << n):
        base = value[mask]
        w = weight[popcount(mask)] if mask != (1 << n) - 1 else 0.0
        for i in range(n):
            if not mask & bits[i]:
                phi[i] += w * (value[mask | bits[i]] - base)
    return phi


@dataclass(frozen=True)
class StratifiedShapley:
    """A sampled Shapley value with an honest error: each block of orders is one unbiased estimate, and
    ``standard_errors`` is the spread of the blocks' estimates, with ``degrees_of_freedom`` = blocks - 1."""

    values: list[float]
    standard_errors: list[float]
    degrees_of_freedom: list[float]
    permutations: int
    blocks: int


SHAPLEY_MIN_BLOCKS = 4  # the fewest blocks whose intervals the tests find covering member by member


def shapley_stratified(
    n: int, value: Callable[[int], float], blocks: int, seed: int = SHAPLEY_SEED
) -> StratifiedShapley:
    """Monte Carlo over orders stratified by position: a block is the n cyclic shifts of one random order, in
    which every member stands once at every position k, preceded by the k members cyclically before it -- a
    uniformly random k-subset of the others. So each block gives every member one draw of every position's
    marginal cost, and its mean over the positions is an unbiased estimate of the Shapley value in which no
    position is left out by chance (a member whose marginal cost is extreme at a few positions only -- it makes a
    group feasible, or leads it -- is seen at those positions in every block).

    The draws inside a block are correlated (the cyclic shifts share their orders' windows), so the error is taken
    between blocks, which are independent: the standard error is the spread of the blocks' estimates over
    sqrt(blocks), with blocks - 1 degrees of freedom for Student's t (at least SHAPLEY_MIN_BLOCKS blocks). Every
    order's marginals add up to c(N), so the estimates do too."""
    rng = random.Random(seed)
    blocks = max(2, blocks)
    draws = np.zeros((blocks, n, n))  # block, member, position
    base = list(range(n))
    for b in range(blocks):
        rng.shuffle(base)
        for shift in range(n):
            order = base[shift:] + base[:shift]
            mask, before = 0, 0.0
            for position, i in enumerate(order):
                mask |= 1 << i
                after = value(mask)
                draws[b, i, position] = after - before
                before = after
    estimates = draws.mean(axis=2)  # block, member
    values = estimates.mean(axis=0)
    errors = estimates.std(axis=0, ddof=1) / math.sqrt(blocks)
    return StratifiedShapley(
        [float(v) for v in values],
        [float(e) for e in errors],
        [float(blocks - 1)] * n,
        blocks * n,
        blocks,
    )


def nucleolus(n: int, coalitions: Sequence[int], value: Callable[[int], float], grand_value: float) -> list[float]:
    """Nucleolus of a cost game: lexicographically maximise the smallest savings c(S) - x(S) over ``coalitions``.

    Each round solves max t s.t. x(S) + t <= c(S) for the free coalitions, x(S) = fixed value for the fixed ones,
    x(N) = c(N). Coalitions whose row has a non-zero dual are tight in every optimum (complementary slackness), so
    they are fixed at c(S) - t; free coalitions whose vector now lies in the span of the fixed ones are dropped
    (their saving is determined). Each round raises the rank of the fixed set, so at most n rounds; when it
    reaches n the allocation is the unique solution of the fixed equations. With every proper coalition given
    this is the exact nucleolus; with a sample it is the nucleolus of the sampled game.
    """
    if n == 0:
        return []
    if n == 1:
        return [grand_value]
    full = (1 << n) - 1
    scale = max(abs(grand_value), 1.0)
    free = [m for m in dict.fromkeys(coalitions) if 0 < m < full]
    free_matrix = _incidence(free, n)
    free_rhs = np.array([value(m) / scale for m in free])
    fixed_rows = [np.ones(n)]
    fixed_rhs = [grand_value / scale]
    x = np.full(n, grand_value / scale / n)
    for _ in range(n + 1):
        basis = _orthonormal_basis(np.array(fixed_rows))
        if basis.shape[0] >= n:
            break
        keep = _outside_span(free_matrix, basis)
        free_matrix, free_rhs = free_matrix[keep], free_rhs[keep]
        free = [m for m, k in zip(free, keep, strict=True) if k]
        if not free:
            break
        x, t, duals, slacks = _max_min_saving(free_matrix, free_rhs, np.array(fixed_rows), np.array(fixed_rhs))
        tight = np.abs(duals) > GAME_LP_ACTIVE
        if not tight.any():  # numerically flat duals: fall back to the rows binding at this optimum
            tight = slacks < GAME_LP_ACTIVE
        if not tight.any():
            break
        for row in free_matrix[tight]:
            fixed_rows.append(row)
        fixed_rhs.extend((free_rhs[tight] - t).tolist())
        free_matrix, free_rhs = free_matrix[~tight], free_rhs[~tight]
        free = [m for m, k in zip(free, ~tight, strict=True) if k]
    a, b = np.array(fixed_rows), np.array(fixed_rhs)
    if np.linalg.matrix_rank(a) >= n:
        x = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(v) * scale for v in x]


def _incidence(masks: Sequence[int], n: int) -> np.ndarray:
    arr = np.array(masks, dtype=np.int64).reshape(-1, 1)
    return ((arr >> np.arange(n, dtype=np.int64)) & 1).astype(float)


def _orthonormal_basis(rows: np.ndarray) -> np.ndarray:
    _, s, vt = np.linalg.svd(rows, full_matrices=False)
    rank = int((s > 1e-9 * max(1.0, s[0] if s.size else 1.0)).sum())
    return vt[:rank]


def _outside_span(matrix: np.ndarray, basis: np.ndarray) -> np.ndarray:
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    residual = matrix - (matrix @ basis.T) @ basis
    return np.asarray(np.linalg.norm(residual, axis=1) > GAME_SPAN_RESIDUAL)


def _max_min_saving(
    a_free: np.ndarray, b_free: np.ndarray, a_fixed: np.ndarray, b_fixed: np.ndarray
) -> tuple[np.ndarray, float, np.ndarray, np.ndarray]:
    """Solve max t s.t. a_free x + t <= b_free, a_fixed x = b_fixed with HiGHS; returns x, t, duals, slacks."""
    n = a_free.shape[1]
    m_free, m_fixed = a_free.shape[0], a_fixed.shape[0]
    rows = np.vstack([np.hstack([a_free, np.ones((m_free, 1))]), np.hstack([a_fixed, np.zeros((m_fixed, 1))])])
    inf = highspy.kHighsInf
    model = LinearModel.of(
        np.array([0.0] * n + [-1.0]),
        np.full(n + 1, -inf),
        np.full(n + 1, inf),
        np.concatenate([np.full(m_free, -inf), b_fixed]),
        np.concatenate([b_free, b_fixed]),
        SparseMatrix.from_dense(rows),
    )
    h = load_model(model)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"nucleolus LP not solved: {h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    values = np.array(sol.col_value)
    duals = np.array(sol.row_dual)[:m_free]
    x, t = values[:n], float(values[n])
    slacks = b_free - (a_free @ x + t)
    return x, t, duals, slacks


# --- least core, nucleolus and core projection by constraint generation ---------------------------------------
#
# These take a separation oracle (planner.domain.separation): ``min_excess(x)`` returns the coalition with the
# smallest excess c(S) - x(S) over all proper coalitions, ``iter_by_excess(x, skip)`` lists them in order of
# excess. The LPs hold only the coalitions the oracle has returned; an optimum is accepted when the oracle proves
# that no coalition outside them is violated, so each answer is exact for the whole game.

# the least core and the core projection also range over unions of groups where the core is empty (packing.py)
CoalitionOracle: TypeAlias = Oracle | PackingOracle

CG_TOLERANCE = 1e-9  # relative to the game's scale (the largest standalone cost): a fraction of a yen
CG_MAX_ITERATIONS = 5000


class _IncrementalLP:
    """max t (or a QP objective) over (x_1..x_n, t) with rows added as they are found; HiGHS dual simplex."""

    def __init__(
        self,
        n: int,
        lower: np.ndarray,
        upper: np.ndarray,
        objective: np.ndarray,
        hessian_diagonal: np.ndarray | None = None,
    ):
        self.n = n
        options: dict[str, float | str] = {}
        if hessian_diagonal is None:  # (the QP solver reports a solve error when asked for this much)
            options["primal_feasibility_tolerance"] = GAME_LP_FEASIBILITY
            options["dual_feasibility_tolerance"] = GAME_LP_FEASIBILITY
        options["presolve"] = "off"  # tiny models re-solved after each added row: warm start, no presolve
        model = LinearModel.of(objective, lower, upper, [], [], SparseMatrix.empty(len(objective)))
        self.h = load_model(model, options)
        if hessian_diagonal is not None:
            pass_diagonal_hessian(self.h, hessian_diagonal)
        self.rows = 0

    def add_row(self, columns: Sequence[int], coefficients: Sequence[float], lower: float, upper: float) -> int:
        self.h.addRow(
            float(lower),
            float(upper),
            len(columns),
            np.asarray(columns, dtype=np.int32),
            np.asarray(coefficients, dtype=float),
        )
        self.rows += 1
        return self.rows - 1

    def add_rows(self, rows: Sequence[tuple[Sequence[int], Sequence[float], float, float]]) -> None:
        """Many rows in one call (columns, coefficients, lower, upper each)."""
        if not rows:
            return
        starts: list[int] = []
        index: list[int] = []
        value: list[float] = []
        for cols, coeffs, _, _ in rows:
            starts.append(len(index))
            index.extend(cols)
            value.extend(coeffs)
        self.h.addRows(
            len(rows),
            np.array([r[2] for r in rows], dtype=float),
            np.array([r[3] for r in rows], dtype=float),
            len(index),
            np.array(starts, dtype=np.int32),
            np.array(index, dtype=np.int32),
            np.array(value, dtype=float),
        )
        self.rows += len(rows)

    def set_row_bounds(self, row: int, lower: float, upper: float) -> None:
        self.h.changeRowBounds(row, float(lower), float(upper))

    def solve(self) -> tuple[np.ndarray, np.ndarray]:
        h = self.h
        h.run()
        status = h.getModelStatus()
        if status != highspy.HighsModelStatus.kOptimal:
            raise GameSolveError(h.modelStatusToString(status))
        sol = h.getSolution()
        return np.array(sol.col_value), np.array(sol.row_dual)


CG_BATCH = 12


def _violations(oracle: CoalitionOracle, x: np.ndarray, below: float) -> list[Excess]:
    """Coalitions with excess under ``below`` (the exact most violated one first), or none when the oracle proves
    that there is none."""
    if isinstance(oracle, (GroupOracle, PackingOracle)):
        return oracle.violated(x, below, CG_BATCH)
    found = oracle.min_excess(x)
    return [found] if found.excess < below else []


def _seed(oracle: CoalitionOracle, grand_value: float) -> list[_Row] | list[Excess]:
    """A first batch of rows: the best group of every candidate at the standalone-ratio allocation (a good guess
    of which coalitions bind; only a warm start, the answer does not depend on it). Over unions of groups
    (PackingOracle) the single groups' rows are the seed: each is a coalition's valid row."""
    if isinstance(oracle, PackingOracle):
        oracle = oracle.group
    if not isinstance(oracle, GroupOracle):
        return []
    everything = _all_rows(oracle)
    if everything:
        return everything
    standalone = np.asarray(oracle.standalone, dtype=float)
    guess = standalone * (grand_value / max(float(standalone.sum()), 1.0))
    return oracle.violated(guess, float("inf"), 4 * oracle.n)


ATOM_UNION_LIMIT = 8  # up to 2^8 unions of atoms are priced one by one


def _free_unions(atoms: list[list[int]], in_span: Callable[[int], bool], oracle: Oracle) -> list[tuple[int, float]]:
    """The unions of atoms (proper, non-empty) outside the span of the fixed coalitions, with their cost (the
    cheapest single feasible group on them; infeasible ones left out)."""
    out = []
    atom_masks = [sum(1 << i for i in a) for a in atoms]
    full = sum(atom_masks)
    for pick in range(1, 1 << len(atoms)):
        mask = 0
        for k, a in enumerate(atom_masks):
            if pick >> k & 1:
                mask |= a
        if mask == full or in_span(mask):
            continue
        cost = oracle.cost(mask)[0]
        if math.isfinite(cost):
            out.append((mask, float(cost)))
    return out


def _all_rows(oracle: CoalitionOracle) -> list[_Row]:
    """Every proper group of a small group (the oracle prices them all at once): one LP/QP instead of rounds."""
    if isinstance(oracle, PackingOracle):
        oracle = oracle.group
    table = oracle.all_groups() if isinstance(oracle, GroupOracle) else None
    if table is None:
        return []
    masks, _, cost = table
    return [_Row(int(m), float(c)) for m, c in zip(masks, cost, strict=True)]


@dataclass(frozen=True)
class _Row:
    mask: int
    cost: float


class GameSolveError(RuntimeError):
    """An LP/QP of the game could not be solved (infeasible imputation set, numerical trouble)."""


def _members(mask: int, n: int) -> list[int]:
    return [i for i in range(n) if mask >> i & 1]


ROW_COST_NOISE = 1e-3  # yen: a coalition found again at a lower cost gets a new row (over unions of groups a
# single group's row states cost(B), and the packing MILP may then find the same members cheaper split: c(B))


def _new_row(mask: int, cost: float, seen: dict[int, float]) -> bool:
    """Whether a row for ``mask`` at ``cost`` adds anything (records it when it does)."""
    if mask in seen and cost >= seen[mask] - ROW_COST_NOISE:
        return False
    seen[mask] = cost
    return True


@dataclass(frozen=True)
class LeastCore:
    value: float  # t*: the largest saving every proper coalition gets at once (negative: the core is empty)
    allocation: list[float]
    coalitions: int  # how many coalitions the LP needed


def least_core(oracle: CoalitionOracle, grand_value: float) -> LeastCore:
    """max t s.t. x(S) + t <= c(S) for every proper coalition S, x(N) = c(N) (singletons included)."""
    n = oracle.n
    if n < 2:
        return LeastCore(0.0 if n == 0 else float(oracle.standalone[0] - grand_value), [grand_value] * n, 0)
    scale = max(float(np.max(oracle.standalone)), 1.0)
    inf = highspy.kHighsInf
    lp = _IncrementalLP(n, np.full(n + 1, -inf), np.full(n + 1, inf), np.r_[np.zeros(n), -1.0])
    lp.add_row(list(range(n)), [1.0] * n, grand_value / scale, grand_value / scale)
    seen: dict[int, float] = {}  # each coalition's row: the lowest cost stated for it so far
    for i in range(n):
        lp.add_row([i, n], [1.0, 1.0], -inf, float(oracle.standalone[i]) / scale)
        seen[1 << i] = float(oracle.standalone[i])
    bulk = []
    for found in _seed(oracle, grand_value):
        if _new_row(found.mask, found.cost, seen):
            cols = _members(found.mask, n)
            bulk.append(([*cols, n], [1.0] * (len(cols) + 1), -inf, found.cost / scale))
    lp.add_rows(bulk)
    for _ in range(CG_MAX_ITERATIONS):
        values, _ = lp.solve()
        x, t = values[:n] * scale, values[n]
        batch = [e for e in _violations(oracle, x, (t - CG_TOLERANCE) * scale) if _new_row(e.mask, e.cost, seen)]
        if not batch:
            return LeastCore(float(t * scale), [float(v) for v in x], len(seen))
        for found in batch:
            cols = _members(found.mask, n)
            lp.add_row([*cols, n], [1.0] * (len(cols) + 1), -inf, found.cost / scale)
    raise GameSolveError("least core: constraint generation did not converge")


@dataclass(frozen=True)
class NucleolusResult:
    allocation: list[float]
    individually_rational_bounds: bool  # False: the imputation set is empty, the prenucleolus was taken
    rounds: int
    coalitions: int
    levels: list[float]  # the successive maximal minimal savings t_1 < t_2 < ...


def nucleolus_by_generation(oracle: Oracle, grand_value: float, individual_bounds: bool = True) -> NucleolusResult:
    """The nucleolus of the cost game behind ``oracle``: among imputations (x(N) = c(N), x_i <= c({i})), the one that
    lexicographically maximises the sorted savings c(S) - x(S) of the proper coalitions.

    Maschler-Peleg-Shapley sequence of LPs: round k maximises t over the coalitions not yet fixed, with the fixed
    ones held at their savings. Rows with a non-zero dual at the optimum are tight in every optimum
    (complementary slackness) and are fixed at c(S) - t. A coalition whose incidence vector lies in the span of
    the fixed ones has a determined saving on the remaining set, so it no longer constrains t: the oracle's ordered
    search skips it, and each round raises the rank of the fixed set, at most n rounds. Within a round the
    coalitions are generated: the LP holds those found so far, the oracle returns the most violated one outside
    the span, until none is."""
    n = oracle.n
    if n == 0:
        return NucleolusResult([], True, 0, 0, [])
    if n == 1:
        return NucleolusResult([grand_value], True, 0, 0, [])
    scale = max(float(np.max(oracle.standalone)), 1.0)
    standalone = np.asarray(oracle.standalone, dtype=float)
    bounded = individual_bounds and float(standalone.sum()) >= grand_value - 1e-6 * scale
    inf = highspy.kHighsInf
    upper = np.r_[standalone / scale, inf] if bounded else np.full(n + 1, inf)
    lp = _IncrementalLP(n, np.full(n + 1, -inf), upper, np.r_[np.zeros(n), -1.0])
    lp.add_row(list(range(n)), [1.0] * n, grand_value / scale, grand_value / scale)
    fixed_rows = [np.ones(n)]
    fixed_rhs = [grand_value / scale]
    fixed_masks: set[int] = set()
    free: dict[int, tuple[int, float]] = {}  # mask -> (LP row, c(S) / scale)

    def add_free(mask: int, cost: float) -> None:
        cols = _members(mask, n)
        row = lp.add_row([*cols, n], [1.0] * (len(cols) + 1), -inf, cost / scale)
        free[mask] = (row, cost / scale)

    for i in range(n):
        add_free(1 << i, float(standalone[i]))
    levels: list[float] = []
    rounds = generated = 0
    x = np.full(n, grand_value / n)
    for rounds in range(1, n + 2):  # noqa: B007 -- the count is reported after the loop
        basis = _orthonormal_basis(np.array(fixed_rows))
        if basis.shape[0] >= n:
            break

        def in_span(mask: int, basis: np.ndarray = basis) -> bool:
            v = np.array([(mask >> i) & 1 for i in range(n)], dtype=float)
            return float(np.linalg.norm(v - (v @ basis.T) @ basis)) <= GAME_SPAN_RESIDUAL

        for mask in [m for m in free if in_span(m)]:
            row, _ = free.pop(mask)
            lp.set_row_bounds(row, -inf, inf)  # determined: no longer a constraint on t
        # Atoms: members that lie in exactly the same fixed coalitions. Every fixed row is constant on each atom,
        # so a coalition that splits an atom is outside their span; the unions of atoms (few) are checked one by
        # one. The ordered search therefore never lists the many determined coalitions.
        signature: dict[tuple[bool, ...], list[int]] = {}
        for i in range(n):
            signature.setdefault(tuple(bool(m >> i & 1) for m in fixed_masks), []).append(i)
        atoms = list(signature.values())
        unions = _free_unions(atoms, in_span, oracle) if len(atoms) <= ATOM_UNION_LIMIT else None
        # with more atoms: members whose share is already determined, and the rest as one atom (a coalition holding
        # none or all of the rest differs from a determined one by determined members only)
        undetermined = [i for i in range(n) if not in_span(1 << i)]

        def determined(m: int, in_span: Callable[[int], bool] = in_span) -> bool:
            return m in fixed_masks or in_span(m)

        while True:
            values, duals = lp.solve()
            x, t = values[:n], values[n]
            below = (t - CG_TOLERANCE) * scale
            batch: list[Excess | _Row] = [e for e in _violations(oracle, x * scale, below) if not determined(e.mask)]
            if not batch and oracle.min_excess(x * scale).excess < below:
                # the most violated coalitions are determined ones: the exact search over the rest -- coalitions
                # that split an atom, in order of excess (stopping where nothing is violated any more), and the
                # unions of atoms outside the span, each priced
                for e in oracle.iter_by_excess(x * scale, split=atoms if unions is not None else [undetermined]):
                    if e.excess >= below:
                        break
                    if not determined(e.mask) and e.mask not in free:
                        batch = [e]
                        break
                if unions is not None:
                    for mask, cost in unions:
                        excess = cost - float(x[_members(mask, n)].sum()) * scale
                        if excess < below and mask not in free:
                            batch.append(_Row(mask, cost))
            batch = [e for e in batch if e.mask not in free]
            if not batch:
                break
            for found in batch:
                add_free(found.mask, found.cost)
            generated += len(batch)
            if generated > CG_MAX_ITERATIONS:
                raise GameSolveError("nucleolus: constraint generation did not converge")
        levels.append(float(t * scale))
        tight = [m for m, (row, _) in free.items() if abs(duals[row]) > GAME_LP_ACTIVE]
        if not tight:  # flat duals (degenerate): the rows binding at this optimum
            tight = [m for m, (row, c) in free.items() if c - (x[_members(m, n)].sum() + t) < CG_TOLERANCE]
        if not tight:
            break
        for m in tight:
            row, c = free.pop(m)
            lp.h.changeCoeff(row, n, 0.0)  # fixed: x(S) = c(S) - t_k, no longer a function of t
            lp.set_row_bounds(row, c - t, c - t)
            v = np.zeros(n)
            v[_members(m, n)] = 1.0
            fixed_rows.append(v)
            fixed_rhs.append(c - t)
            fixed_masks.add(m)
    a, b = np.array(fixed_rows), np.array(fixed_rhs)
    if np.linalg.matrix_rank(a) >= n:
        x = np.linalg.lstsq(a, b, rcond=None)[0]
    return NucleolusResult([float(v) * scale for v in x], bounded, rounds, len(free) + len(fixed_masks), levels)


def project_onto_core(
    oracle: CoalitionOracle,
    grand_value: float,
    target: Vector,
    relax: float = 0.0,
    weights: Vector | None = None,
    upper: Vector | None = None,
) -> list[float]:
    """The allocation nearest to ``target`` with x(N) = c(N) and x(S) <= c(S) - relax for every proper coalition
    S; ``relax`` = the least-core value when the core is empty (negative), else 0 (the core).

    The distance is sum (x_i - target_i)^2 / weights_i (plain least squares without ``weights``; cost-model.md's
    relative least squares passes the unadjusted shares, at least 1 yen each, and at least PROJECTION_MIN_WEIGHT
    of the largest for the QP's conditioning). ``upper`` adds x_i <= upper_i, never relaxed (the net-fairness
    bounds).

    A strictly convex QP with the coalition rows generated by the oracle, solved by HiGHS's QP solver over the rows
    found so far; if the oracle finds no coalition over its bound at that x, x is the projection onto the whole
    set (the rows left out are all satisfied)."""
    n = oracle.n
    target = np.asarray(target, dtype=float)
    if n < 2:
        return [grand_value] * n
    scale = max(float(np.max(oracle.standalone)), 1.0)
    shift = min(relax, 0.0)
    w = np.ones(n) if weights is None else np.maximum(np.asarray(weights, dtype=float), 1.0)
    w = np.maximum(w / float(np.max(w)), PROJECTION_MIN_WEIGHT)  # only the ratios matter
    inf = highspy.kHighsInf
    caps = np.full(n, inf) if upper is None else np.asarray(upper, dtype=float) / scale
    tau = target / scale
    lp = _IncrementalLP(n, np.full(n, -inf), caps, -tau / w, hessian_diagonal=1.0 / w)
    lp.add_row(list(range(n)), [1.0] * n, grand_value / scale, grand_value / scale)
    seen: dict[int, float] = {}

    def row_of(mask: int, cost: float) -> tuple[list[int], list[float], float, float]:
        members = _members(mask, n)
        seen[mask] = min(cost, seen.get(mask, cost))
        return members, [1.0] * len(members), -inf, (cost - shift) / scale

    bulk = [row_of(1 << i, float(oracle.standalone[i])) for i in range(n)]
    bulk += [row_of(r.mask, r.cost) for r in _all_rows(oracle) if r.mask not in seen]
    lp.add_rows(bulk)
    for _ in range(CG_MAX_ITERATIONS):
        try:
            x, _ = lp.solve()
        except GameSolveError as e:
            raise GameSolveError(f"core projection infeasible: {e}") from e
        batch = [
            e
            for e in _violations(oracle, x * scale, shift - CG_TOLERANCE * scale)
            if e.mask not in seen or e.cost < seen[e.mask] - ROW_COST_NOISE
        ]
        if not batch:
            return [float(v) * scale for v in x]
        lp.add_rows([row_of(found.mask, found.cost) for found in batch])
    raise GameSolveError("core projection: constraint generation did not converge")


PROJECTION_MIN_WEIGHT = 1e-4


def nearest_weights(
    oracle: Oracle, grand_value: float, parts: np.ndarray, start: Sequence[float], member_margin: float = 0.0
) -> list[float] | None:
    """Weights w on the simplex, nearest to ``start`` in L1, whose allocation x = parts @ w leaves every proper
    group B a saving of at least ``member_margin`` * |B|; None when no such weights exist. An LP over
    (w, d+, d-) with the groups' rows generated by the oracle (evaluated at x + margin)."""
    n = oracle.n
    parts = np.asarray(parts, dtype=float)
    p = parts.shape[1]
    scale = max(float(np.max(oracle.standalone)), 1.0)
    inf = highspy.kHighsInf
    lp = _IncrementalLP(n, np.zeros(3 * p), np.full(3 * p, inf), np.r_[np.zeros(p), np.ones(2 * p)])
    lp.add_row(list(range(p)), [1.0] * p, 1.0, 1.0)
    for k in range(p):
        lp.add_row([k, p + k, 2 * p + k], [1.0, -1.0, 1.0], float(start[k]), float(start[k]))
    seen: set[int] = set()

    def row_of(mask: int, cost: float) -> tuple[list[int], list[float], float, float]:
        members = _members(mask, n)
        coeff = parts[members].sum(axis=0) / scale
        seen.add(mask)
        return list(range(p)), coeff.tolist(), -inf, (cost - member_margin * len(members)) / scale

    def add(mask: int, cost: float) -> None:
        lp.add_row(*row_of(mask, cost))

    bulk = [row_of(1 << i, float(oracle.standalone[i])) for i in range(n)]
    bulk += [row_of(r.mask, r.cost) for r in _all_rows(oracle) if r.mask not in seen]
    lp.add_rows(bulk)
    for _ in range(CG_MAX_ITERATIONS):
        try:
            values, _ = lp.solve()
        except GameSolveError:
            return None  # infeasible: no weights keep every group's saving
        w = values[:p]
        x = parts @ w
        batch = [e for e in _violations(oracle, x + member_margin, -CG_TOLERANCE * scale) if e.mask not in seen]
        if not batch:
            return [max(0.0, float(v)) for v in w]
        for found in batch:
            add(found.mask, found.cost)
    raise GameSolveError("nearest weights: constraint generation did not converge")


# --- the compact formulation: every group's constraint at once, by LP duality --------------------------------
#
# For one candidate r of the separation oracle (mode, lead, line), "every group B it can form has
# const_r + sum_{i in B} (w_ri - x_i) >= t" is "min { sum r_i z_i : z in [0,1]^E, z_f = 1, 2 <= sum z <= cap } >=
# t - const_r". That polytope is integral (an interval matrix), so the minimum is attained at a group; by LP
# duality the condition holds exactly when some (alpha, beta, u, gamma) >= 0 satisfies
#     x_i + alpha - beta - u_i + [i = f] gamma <= w_ri      for every i in E,
#     t - 2 alpha + cap beta + sum_i u_i - gamma <= const_r.
# So the least core, the projection onto the core and the weight search are one LP/QP each, with the same
# exactness as the oracle; the oracle then re-checks the answer.


def _compact_blocks(
    oracle: GroupOracle, first_free_column: int
) -> tuple[IntArray, IntArray, FloatArray, FloatArray, int, BoolArray]:
    """Triplets (row, column, value), row upper bounds and the number of extra columns for the candidates' dual
    rows; columns 0..n-1 are x, column n is t, the extra ones start at ``first_free_column``."""
    n = oracle.n
    rows: list[int] = []
    cols: list[int] = []
    vals: list[float] = []
    upper: list[float] = []
    member_row: list[bool] = []
    col = first_free_column
    row = 0
    for r in range(len(oracle.candidates)):
        weights = oracle.weight[r]
        eligible = np.nonzero(np.isfinite(weights))[0]
        alpha, beta = col, col + 1
        forced = int(oracle.forced[r])
        gamma = col + 2 if forced >= 0 else None
        u0 = col + (3 if gamma is not None else 2)
        for j, i in enumerate(eligible):
            rows += [row] * 4
            cols += [int(i), alpha, beta, u0 + j]
            vals += [1.0, 1.0, -1.0, -1.0]
            if gamma is not None and i == forced:
                rows.append(row)
                cols.append(gamma)
                vals.append(1.0)
            upper.append(float(weights[i]))
            member_row.append(True)
            row += 1
        rows += [row] * (3 + len(eligible))
        cols += [n, alpha, beta] + [u0 + j for j in range(len(eligible))]
        vals += [1.0, -2.0, float(oracle.cap[r])] + [1.0] * len(eligible)
        if gamma is not None:
            rows.append(row)
            cols.append(gamma)
            vals.append(-1.0)
        upper.append(float(oracle.const[r]))
        member_row.append(False)
        row += 1
        col = u0 + len(eligible)
    return (
        np.array(rows, dtype=np.int64),
        np.array(cols, dtype=np.int64),
        np.array(vals),
        np.array(upper),
        col - first_free_column,
        np.array(member_row, dtype=bool),
    )


def supports_compact(oracle: Oracle) -> TypeGuard[GroupOracle]:
    return isinstance(oracle, GroupOracle) and not oracle.apart


def _solve_compact(
    oracle: GroupOracle,
    grand_value: float,
    *,
    t_bounds: tuple[float, float],
    t_cost: float,
    x_target: np.ndarray | None = None,
    weight_parts: np.ndarray | None = None,
    weight_start: np.ndarray | None = None,
    member_margin: float = 0.0,
) -> tuple[np.ndarray, float, np.ndarray | None] | None:
    """Build and solve the compact model. ``t_bounds``/``t_cost`` make it the least core (t free, maximised) or
    the core with a fixed saving; ``x_target`` adds 1/2 |x - target|^2 (projection QP); ``weight_parts``
    (n x p) ties x = weight_parts @ w with w on the simplex and minimises the L1 distance to ``weight_start``.
    Everything is in units of ``scale``; returns (x, t, extra values) in yen, or None when infeasible."""
    n = oracle.n
    scale = max(float(np.max(oracle.standalone)), 1.0)
    inf = highspy.kHighsInf
    extra_first = n + 1
    r3, c3, v3, up3, n_extra, member_rows = _compact_blocks(oracle, extra_first)
    up3 = up3 - member_margin * member_rows  # every member's cost less the margin: x(B) <= c(B) - margin |B|
    num_col = extra_first + n_extra
    triplets_r = [np.zeros(n, dtype=np.int64)]
    triplets_c = [np.arange(n, dtype=np.int64)]
    triplets_v = [np.ones(n)]
    lower = [grand_value / scale]
    upper = [grand_value / scale]
    row0 = 1
    # singletons: x_i + t <= c({i})
    triplets_r += [row0 + np.arange(n), row0 + np.arange(n)]
    triplets_c += [np.arange(n, dtype=np.int64), np.full(n, n, dtype=np.int64)]
    triplets_v += [np.ones(n), np.ones(n)]
    lower += [-inf] * n
    upper += list((np.asarray(oracle.standalone, dtype=float) - member_margin) / scale)
    row0 += n
    triplets_r.append(r3 + row0)
    triplets_c.append(c3)
    triplets_v.append(v3)
    lower += [-inf] * len(up3)
    upper += list(up3 / scale)
    row0 += len(up3)
    col_lower = np.r_[np.full(n, -inf), t_bounds[0] / scale, np.zeros(n_extra)]
    col_upper = np.r_[np.full(n, inf), t_bounds[1] / scale, np.full(n_extra, inf)]
    cost = np.r_[np.zeros(n), t_cost, np.zeros(n_extra)]
    if weight_parts is not None:
        if weight_start is None:
            raise ValueError("weight_parts needs weight_start")
        p = weight_parts.shape[1]
        w0 = num_col
        d_plus, d_minus = w0 + p, w0 + 2 * p
        num_col += 3 * p
        col_lower = np.r_[col_lower, np.zeros(3 * p)]
        col_upper = np.r_[col_upper, np.full(3 * p, inf)]
        cost = np.r_[cost, np.zeros(p), np.ones(2 * p)]
        for i in range(n):  # x_i - sum_p parts[i, p] w_p = 0
            triplets_r.append(np.full(1 + p, row0))
            triplets_c.append(np.r_[i, w0 + np.arange(p)])
            triplets_v.append(np.r_[1.0, -weight_parts[i] / scale])
            lower.append(0.0)
            upper.append(0.0)
            row0 += 1
        triplets_r.append(np.full(p, row0))  # sum w = 1
        triplets_c.append(w0 + np.arange(p))
        triplets_v.append(np.ones(p))
        lower.append(1.0)
        upper.append(1.0)
        row0 += 1
        for k in range(p):  # w_k - d+_k + d-_k = start_k
            triplets_r.append(np.full(3, row0))
            triplets_c.append(np.array([w0 + k, d_plus + k, d_minus + k]))
            triplets_v.append(np.array([1.0, -1.0, 1.0]))
            lower.append(float(weight_start[k]))
            upper.append(float(weight_start[k]))
            row0 += 1
    if x_target is not None:
        cost[:n] = -np.asarray(x_target, dtype=float) / scale
    matrix = SparseMatrix.from_triplets(
        np.concatenate(triplets_r), np.concatenate(triplets_c), np.concatenate(triplets_v), num_col
    )
    model = LinearModel.of(cost, col_lower, col_upper, lower, upper, matrix)
    h = load_model(
        model,
        {"primal_feasibility_tolerance": GAME_LP_FEASIBILITY, "dual_feasibility_tolerance": GAME_LP_FEASIBILITY},
    )
    if x_target is not None:
        pass_diagonal_hessian(h, np.r_[np.ones(n), np.zeros(num_col - n)])  # 1/2 |x|^2 on the allocation only
    h.run()
    status = h.getModelStatus()
    if status == highspy.HighsModelStatus.kInfeasible:
        return None
    if status != highspy.HighsModelStatus.kOptimal:
        raise GameSolveError(h.modelStatusToString(status))
    values = np.array(h.getSolution().col_value)
    extra = (
        values[num_col - 3 * weight_parts.shape[1] : num_col - 2 * weight_parts.shape[1]]
        if weight_parts is not None
        else None
    )
    return values[:n] * scale, float(values[n] * scale), extra


def least_core_compact(oracle: GroupOracle, grand_value: float) -> LeastCore:
    inf = highspy.kHighsInf
    result = _solve_compact(oracle, grand_value, t_bounds=(-inf, inf), t_cost=-1.0)
    if result is None:
        raise GameSolveError("least core LP infeasible")
    x, t, _ = result
    return LeastCore(t, [float(v) for v in x], len(oracle.candidates))


def project_compact(oracle: GroupOracle, grand_value: float, target: Vector, relax: float = 0.0) -> list[float]:
    shift = min(relax, 0.0)
    result = _solve_compact(
        oracle, grand_value, t_bounds=(shift, shift), t_cost=0.0, x_target=np.asarray(target, dtype=float)
    )
    if result is None:
        raise GameSolveError("core projection infeasible")
    return [float(v) for v in result[0]]


def nearest_core_weights(
    oracle: GroupOracle, grand_value: float, parts: np.ndarray, start: Sequence[float], member_margin: float = 0.0
) -> list[float] | None:
    """Weights w on the simplex, nearest to ``start`` in L1, whose allocation x = parts @ w keeps every proper
    group B's saving at least ``member_margin`` * |B| (yen); None when no such weights exist."""
    result = _solve_compact(
        oracle,
        grand_value,
        t_bounds=(0.0, 0.0),
        t_cost=0.0,
        weight_parts=np.asarray(parts, dtype=float),
        weight_start=np.asarray(start, dtype=float),
        member_margin=member_margin,
    )
    if result is None:
        return None
    weights = result[2]
    assert weights is not None  # _solve_compact returns them whenever weight_parts is given
    return [max(0.0, float(v)) for v in weights]
