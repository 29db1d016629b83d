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

from .subproblems import SubProblem


def lagrangian_bound(sp: SubProblem, upper: float, seconds: float, start=None) -> float:
    return lagrangian(sp, upper, seconds, start)[0]


def lagrangian(sp: SubProblem, upper: float, seconds: float, start=None):
    """(best bound, the multipliers that gave it)."""
    import numpy as np

    deadline = time.perf_counter() + seconds
    n = sp.size
    volumes = np.asarray(sp.volumes, dtype=float)
    alone = np.asarray(sp.standalone, dtype=float)
    ok = np.asarray(sp.alone_ok, dtype=bool)
    pieces = []
    for opt in sp.options:
        members = np.asarray(opt.members, dtype=np.int64)
        base = np.asarray(opt.base, dtype=float)
        lines = [(f, base + hb * volumes[members]) for _, f, hb in opt.lines]
        required = np.asarray([j for j, i in enumerate(opt.members) if i in set(opt.required)], dtype=np.int64)
        copies = max(1, min(opt.copies, len(opt.members) // 2))
        pieces.append((members, lines, required, opt.max_members, copies))
    if start is None:
        # Each need's cheapest conceivable share (its own cost plus an equal part of a full group's fixed cost).
        start = np.where(ok, alone, np.inf)
        for members, lines, required, most, copies in pieces:
            cap = min(most, len(members))
            for f, cost in lines:
                np.minimum.at(start, members, cost + f / cap)
    lam = np.array(start, dtype=float)
    best = -np.inf
    best_lam = lam.copy()
    theta, stall = 1.0, 0
    while True:
        value = lam.sum() + np.minimum(0.0, alone - lam)[ok].sum()
        use = np.zeros(n)
        use[ok & (alone < lam)] = 1.0
        for members, lines, required, most, copies in pieces:
            piece_best, piece_set = 0.0, None
            for f, cost in lines:
                v = cost - lam[members]
                total, chosen = _least_group(v, required, most)
                rc = f + total
                if rc < piece_best:
                    piece_best, piece_set = rc, members[chosen]
            if piece_set is not None:
                value += copies * piece_best
                use[piece_set] += copies
        if value > best + 1e-9 * abs(best if np.isfinite(best) else 1.0):
            best, stall, best_lam = value, 0, lam.copy()
        else:
            stall += 1
            if stall >= 4:
                theta, stall = theta / 2, 0
        g = 1.0 - use
        norm = float(g @ g)
        if norm == 0 or theta < 1e-4 or time.perf_counter() > deadline or upper - best <= 1e-7 * abs(upper):
            break
        lam = lam + theta * (upper - value) / norm * g
    return float(best), best_lam


def _least_group(v, required, most: int):
    """(least F-free sum over an allowed member set, its positions): size 2..most, one required if any."""
    import numpy as np

    if len(required):
        best = None
        for q in required:
            others = np.delete(np.arange(len(v)), q)
            chosen = _most_negative(v[others], most - 1, 1)
            total = v[q] + v[others][chosen].sum()
            if best is None or total < best[0]:
                best = (total, np.concatenate(([q], others[chosen])))
        return best
    chosen = _most_negative(v, most, 2)
    return v[chosen].sum(), chosen


def _most_negative(v, most: int, least: int):
    import numpy as np

    if len(v) <= least:
        return np.arange(len(v))
    k = min(most, len(v))
    order = np.argpartition(v, k - 1)[:k] if k < len(v) else np.arange(len(v))
    order = order[np.argsort(v[order])]
    return order[:max(least, int((v[order] < 0).sum()))]
