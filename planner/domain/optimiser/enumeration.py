"""Exact answer for small sub-problems by enumeration: the best group on every subset, then the best partition.

Cheaper than building a MILP for the many sub-problems of a handful of needs, and exact by construction.
"""

from __future__ import annotations

from .subproblems import Infeasible, SubProblem
from .types import Group

INF = float("inf")


def best_groups_by_subset(sp: SubProblem) -> tuple[list[float], list[Group | None]]:
    """For every bitmask of needs, the cheapest single feasible group holding exactly those needs."""
    n = sp.size
    best = [INF] * (1 << n)
    how: list[Group | None] = [None] * (1 << n)
    for i in range(n):
        if sp.alone_ok[i]:
            best[1 << i] = sp.standalone[i]
            how[1 << i] = Group("standalone", sp.bodies[i], (i,))
    apart_masks = [(1 << a) | (1 << b) for a, b in sp.apart]
    together_masks = [(1 << a) | (1 << b) for a, b in sp.together]
    for opt in sp.options:
        m = len(opt.members)
        size = [0] * (1 << m)
        base = [0.0] * (1 << m)
        vol = [0.0] * (1 << m)
        glob = [0] * (1 << m)
        required = 0
        for i in opt.required:
            required |= 1 << i
        for sub in range(1, 1 << m):
            low = (sub & -sub).bit_length() - 1
            prev = sub & (sub - 1)
            size[sub] = size[prev] + 1
            base[sub] = base[prev] + opt.base[low]
            vol[sub] = vol[prev] + sp.volumes[opt.members[low]]
            g = glob[prev] | (1 << opt.members[low])
            glob[sub] = g
            if size[sub] < 2 or size[sub] > opt.max_members:
                continue
            if required and not g & required:
                continue
            if any(g & am == am for am in apart_masks):
                continue
            if any(0 < g & tm != tm for tm in together_masks):
                continue
            v = vol[sub]
            cost = base[sub] + min(f + hb * v for _, f, hb in opt.lines)
            if cost < best[g]:
                best[g] = cost
                how[g] = Group(opt.mode, opt.lead, tuple(i for i in range(sp.size) if g >> i & 1))
    return best, how


def solve_by_enumeration(sp: SubProblem) -> tuple[float, list[Group]]:
    """The optimal partition of a small sub-problem (3^n subset pairs; meant for n up to about 10)."""
    n = sp.size
    best, how = best_groups_by_subset(sp)
    full = (1 << n) - 1
    value = [INF] * (1 << n)
    pick = [0] * (1 << n)
    value[0] = 0.0
    for s in range(1, full + 1):
        low = s & -s
        rest = s ^ low
        t = rest
        bv, bp = INF, 0
        while True:
            block = t | low
            c = best[block]
            if c < INF:
                c += value[s ^ block]
                if c < bv:
                    bv, bp = c, block
            if t == 0:
                break
            t = (t - 1) & rest
        value[s] = bv
        pick[s] = bp
    if value[full] == INF:
        raise Infeasible(
            "上書き設定（together / fixed）をすべて満たすグループ分けがありません: " + ", ".join(sp.need_ids)
        )
    groups: list[Group] = []
    s = full
    while s:
        block = pick[s]
        group = how[block]
        assert group is not None  # value[full] is finite, so every block on the path has a group
        groups.append(group)
        s ^= block
    return value[full], groups
