"""Separation over unions of groups (planner/domain/packing.py) against an exact partition DP over every coalition.

Where a group's core is empty, a coalition made of several groups can be worse off than any one of them: the least
core, and the core adjustment that reaches it, need every coalition's cost c(S) = its cheapest partition into
feasible groups. Here c(S) is computed independently for every coalition by the partition DP (vectorised by layers
of coalition size, groups of up to 16 members), the least core is solved over that full table, and the packing
MILP's least core and the adjusted shares of a 15-member group are checked against it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from planner.domain import cost_game
from planner.domain.allocation import allocate
from planner.domain.game_solutions import least_core
from planner.domain.instance_io import parse_instance
from planner.domain.packing import PackingOracle
from planner.domain.separation import GroupOracle, TableOracle

from .test_fairness import planned_group, random_group_doc

INF = float("inf")


def single_group_costs(oracle: GroupOracle) -> np.ndarray:
    """g(T) for every mask T: the cheapest single feasible group on exactly T (a member alone: its standalone
    cost; inf where no group holds T), priced from the oracle's candidates (whose minimum the brute-force test in
    test_fairness.py checks against costs.group_cost/group_violations)."""
    n = oracle.n
    g = np.full(1 << n, INF)
    finite = np.where(np.isfinite(oracle.weight), oracle.weight, 0.0)
    banned = (~np.isfinite(oracle.weight)).astype(float)
    for start in range(0, 1 << n, 4096):
        masks = np.arange(start, min(start + 4096, 1 << n), dtype=np.int64)
        inc = ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(float)
        size = inc.sum(axis=1)
        priced = inc @ finite.T + oracle.const[None, :]
        ok = (inc @ banned.T == 0) & (size[:, None] >= 2) & (size[:, None] <= oracle.cap[None, :])
        forced = oracle.forced
        ok &= np.where(forced[None, :] >= 0, inc[:, np.maximum(forced, 0)] > 0, True)
        g[masks] = np.where(ok, priced, INF).min(axis=1, initial=INF)
    for i in range(n):
        g[1 << i] = oracle.standalone[i]
    return g


def partition_dp(n: int, g: np.ndarray) -> np.ndarray:
    """c(S) for every proper coalition: min over T within S holding S's lowest member of g(T) + c(S \\ T), by
    layers of |S| (each layer needs only smaller coalitions), every (S, T) pair of a layer at once."""
    c = np.full(1 << n, INF)
    c[0] = 0.0
    masks = np.arange(1 << n, dtype=np.int64)
    sizes = np.array([bin(m).count("1") for m in range(1 << n)])
    for k in range(1, n):
        layer = masks[sizes == k]
        subs = np.arange(1 << (k - 1), dtype=np.int64)
        step = max(1, 2_000_000 // len(subs))
        for start in range(0, len(layer), step):
            s = layer[start : start + step]
            low = s & -s
            rest = s ^ low
            # the positions of rest's bits, in order, for each coalition of the chunk
            pos = np.zeros((len(s), k - 1), dtype=np.int64)
            r = rest.copy()
            for b in range(k - 1):
                lowest = r & -r
                pos[:, b] = np.log2(lowest).astype(np.int64)
                r ^= lowest
            t = np.repeat(low[:, None], len(subs), axis=1)
            for b in range(k - 1):
                t |= ((subs >> b) & 1)[None, :] << pos[:, b][:, None]
            c[s] = (g[t] + c[s[:, None] ^ t]).min(axis=1)
    return c


def empty_core_group(seed: int, low: int, high: int):
    rng = random.Random(seed)
    n = rng.randint(low, high)
    inst = parse_instance(random_group_doc(rng, n, overrides=False))
    cost, lead = planned_group(inst)
    ids = [nd.id for nd in inst.needs]
    return inst, ids, cost, lead


# seeds of random_group_doc whose group has an empty core and whose least core is set by unions of groups (the
# single-group value in the comment): 8, 12 and 15 members
EMPTY_CORES = [(470, 8, 12), (502, 8, 12), (1051, 15, 16), (1295, 15, 16)]


@pytest.mark.parametrize(("seed", "low", "high"), EMPTY_CORES)
def test_least_core_over_unions_equals_the_partition_dp(seed, low, high):
    inst, ids, cost, _ = empty_core_group(seed, low, high)
    group = GroupOracle(inst, ids)
    n = len(ids)
    table = partition_dp(n, single_group_costs(group))
    table[-1] = cost.exact_total
    exact = least_core(TableOracle(ids, table), cost.exact_total)
    single = least_core(group, cost.exact_total)
    unions = least_core(PackingOracle(group, inst), cost.exact_total)
    assert exact.value < 0  # an empty core
    assert single.value > exact.value + 1_000  # single groups alone overstate it: unions of groups bind
    assert unions.value == pytest.approx(exact.value, abs=1.0)
    # the packing MILP's c(S) of a union it found is the DP's
    oracle = PackingOracle(group, inst)
    found = oracle.min_excess(np.asarray(unions.allocation))
    assert found.cost == pytest.approx(table[found.mask], abs=1.0)
    assert found.excess == pytest.approx(unions.value, abs=2.0)
    assert oracle.cost(found.mask)[0] == pytest.approx(table[found.mask], abs=1.0)


@pytest.mark.parametrize("method", ["formula", "shapley"])
def test_adjusted_shares_of_a_large_empty_core_group_reach_the_least_core(method):
    """15 members, above the exactly enumerated size: core "adjust" (the formula and the sampled Shapley value)
    moves the shares to the least core over every coalition, and the note states that value; checked against the
    partition DP's table."""
    inst, ids, cost, lead = empty_core_group(1051, 15, 16)
    assert len(ids) > cost_game.EXACT_LIMIT
    group = GroupOracle(inst, ids)
    table = partition_dp(len(ids), single_group_costs(group))
    table[-1] = float(cost.total_yen)  # what the members share: the group's cost in whole yen
    exact = least_core(TableOracle(ids, table), float(cost.total_yen)).value
    rec = allocate(inst, ids, cost, lead_body=lead, method=method, core="adjust")
    assert rec.proof.least_core_yen == int(np.floor(exact + 1e-6))
    x = np.array([s.total_yen for s in rec.shares], dtype=float)
    assert x.sum() == cost.total_yen
    masks = np.arange(1, (1 << len(ids)) - 1, dtype=np.int64)
    inc = ((masks[:, None] >> np.arange(len(ids), dtype=np.int64)) & 1).astype(float)
    worst = float((table[masks] - inc @ x).min())
    # every coalition keeps at least the least core's saving, up to a yen a member of rounding
    assert exact - len(ids) <= worst <= exact + 1
    assert rec.adjusted and f"各組の超過は最大 {-int(np.floor(exact + 1e-6)):,}円" in " ".join(rec.notes)
