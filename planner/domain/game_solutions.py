"""Solutions of a cost game: the Shapley value (exact or sampled) and the nucleolus (a sequence of LPs).

The solvers only see a game (players and c(S)), never the cost model, so they can be checked against
published games. Coalitions are bit masks over the players' indexes 0..n-1.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Callable, Sequence

import highspy
import numpy as np

from .highs import new_silent_highs

SHAPLEY_SEED = 20260401  # fixed so that a sampled Shapley value is reproducible run to run
SHAPLEY_PERMUTATIONS = 64  # orders (32 antithetic pairs); each costs up to n optimiser calls in a large group


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
class SampledShapley:
    values: list[float]
    standard_errors: list[float]
    permutations: int


def shapley_sampled(n: int, value: Callable[[int], float], permutations: int = SHAPLEY_PERMUTATIONS,
                    seed: int = SHAPLEY_SEED) -> SampledShapley:
    """Monte Carlo over random orders (fixed seed), drawn in antithetic pairs: an order and its reverse, whose
    marginals are negatively correlated, so the pair's mean varies less than two independent draws.

    The estimate is the mean over all orders; its standard error is the sample std of the pair means over
    sqrt(pairs). Every order's marginals add up to c(N), so the estimates do too."""
    rng = random.Random(seed)
    pairs = max(1, permutations // 2)
    sums = [0.0] * n
    squares = [0.0] * n
    order = list(range(n))
    for _ in range(pairs):
        rng.shuffle(order)
        pair = [0.0] * n
        for sequence in (order, order[::-1]):
            mask, before = 0, 0.0
            for i in sequence:
                mask |= 1 << i
                after = value(mask)
                pair[i] += (after - before) / 2
                before = after
        for i in range(n):
            sums[i] += pair[i]
            squares[i] += pair[i] * pair[i]
    means = [s / pairs for s in sums]
    errors = []
    for i in range(n):
        if pairs < 2:
            errors.append(float("nan"))
            continue
        variance = max(0.0, (squares[i] - pairs * means[i] ** 2) / (pairs - 1))
        errors.append(math.sqrt(variance / pairs))
    return SampledShapley(means, errors, 2 * pairs)


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
        free = [m for m, k in zip(free, keep) if k]
        if not free:
            break
        x, t, duals, slacks = _max_min_saving(free_matrix, free_rhs, np.array(fixed_rows), np.array(fixed_rhs))
        tight = np.abs(duals) > 1e-9
        if not tight.any():  # numerically flat duals: fall back to the rows binding at this optimum
            tight = slacks < 1e-9
        if not tight.any():
            break
        for row in free_matrix[tight]:
            fixed_rows.append(row)
        fixed_rhs.extend((free_rhs[tight] - t).tolist())
        free_matrix, free_rhs = free_matrix[~tight], free_rhs[~tight]
        free = [m for m, k in zip(free, ~tight) if k]
    a, b = np.array(fixed_rows), np.array(fixed_rhs)
    if np.linalg.matrix_rank(a) >= n:
        x = np.linalg.lstsq(a, b, rcond=None)[0]
    return [float(v) * scale for v in x]


def _incidence(masks: Sequence[int], n: int) -> np.ndarray:
    arr = np.array(masks, dtype=np.int64).reshape(-1, 1)
    return ((arr >> np.arange(n, dtype=np.int64)) & 1).astype(float)


def _orthonormal_basis(rows: np.ndarray) -> np.ndarray:
    u, s, vt = np.linalg.svd(rows, full_matrices=False)
    rank = int((s > 1e-9 * max(1.0, s[0] if s.size else 1.0)).sum())
    return vt[:rank]


def _outside_span(matrix: np.ndarray, basis: np.ndarray) -> np.ndarray:
    if matrix.shape[0] == 0:
        return np.zeros(0, dtype=bool)
    residual = matrix - (matrix @ basis.T) @ basis
    return np.linalg.norm(residual, axis=1) > 1e-7


def _max_min_saving(a_free: np.ndarray, b_free: np.ndarray, a_fixed: np.ndarray, b_fixed: np.ndarray):
    """Solve max t s.t. a_free x + t <= b_free, a_fixed x = b_fixed with HiGHS; returns x, t, duals, slacks."""
    n = a_free.shape[1]
    m_free, m_fixed = a_free.shape[0], a_fixed.shape[0]
    rows = np.vstack([np.hstack([a_free, np.ones((m_free, 1))]), np.hstack([a_fixed, np.zeros((m_fixed, 1))])])
    inf = highspy.kHighsInf
    lp = highspy.HighsLp()
    lp.num_col_ = n + 1
    lp.num_row_ = m_free + m_fixed
    lp.col_cost_ = np.array([0.0] * n + [-1.0])
    lp.col_lower_ = np.full(n + 1, -inf)
    lp.col_upper_ = np.full(n + 1, inf)
    lp.row_lower_ = np.concatenate([np.full(m_free, -inf), b_fixed])
    lp.row_upper_ = np.concatenate([b_free, b_fixed])
    nz_rows, nz_cols = np.nonzero(rows)
    starts = np.searchsorted(nz_rows, np.arange(rows.shape[0] + 1))
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.num_col_ = n + 1
    lp.a_matrix_.num_row_ = rows.shape[0]
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = nz_cols.astype(np.int32)
    lp.a_matrix_.value_ = rows[nz_rows, nz_cols]
    h = new_silent_highs()
    h.passModel(lp)
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        raise RuntimeError(f"nucleolus LP not solved: {h.modelStatusToString(h.getModelStatus())}")
    sol = h.getSolution()
    values = np.array(sol.col_value)
    duals = np.array(sol.row_dual)[:m_free]
    x, t = values[:n], float(values[n])
    slacks = b_free - (a_free @ x + t)
    return x, t, duals, slacks
