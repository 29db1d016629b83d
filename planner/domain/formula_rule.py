"""A rule the agreement can state (cost-model.md, "A rule the agreement can state"): the formula weights
(均等割・人口割・利用量割) nearest to the chosen ones whose shares are in the core and fair net of subsidies.

The candidates are the points of the 5-point grid of the weight simplex in order of L1 distance to the chosen
weights, then those of the 1-point grid. Each is PROVED: its shares are computed exactly as they would be written
(largest remainder), checked against every member's standalone cost and net-fairness bound, and then against every
feasible proper sub-group by the separation oracle. A candidate the oracle refutes leaves its violated sub-group
behind as a cut, so later candidates that break a known cut are refused without another oracle call (the cuts only
screen, with a tolerance for rounding: the proof of an accepted candidate is always the oracle's).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .costs import GroupCost
from .model import Instance
from .separation import Oracle
from .shares import AllocationError, ShareParts, basic_ratios, formula_ratios, split_cost
from .tolerances import YEN_NOISE

if TYPE_CHECKING:
    from .net_fairness import NetLimits

PARTS = ("equal", "population", "volume")
GRID_STEPS = (5, 1)  # percentage points: the 5 % grid first, then the 1 % grid


def grid(step: int) -> list[tuple[int, int, int]]:
    """The simplex's points (均等割, 人口割, 利用量割 in percent) in steps of ``step`` points."""
    return [(e, p, 100 - e - p) for e in range(0, 101, step) for p in range(0, 101 - e, step)]


@dataclass(frozen=True)
class RuleFound:
    weights: dict[str, float]  # normalised, over PARTS
    shares: list[ShareParts]
    candidates_tried: int  # shares computed exactly
    oracle_calls: int


def find_rule(
    instance: Instance,
    member_ids: Sequence[str],
    cost: GroupCost,
    lead_index: int | None,
    start: Mapping[str, float],
    oracle: Oracle,
    limits: NetLimits | None,
    skip: Sequence[Mapping[str, float]] = (),
) -> RuleFound | None:
    """The nearest proved grid weights to ``start`` (normalised), or None when no grid point passes."""

    n = len(member_ids)
    horizon = instance.horizon_years
    usable = []
    columns = []
    for part in PARTS:
        try:
            base = basic_ratios(instance, member_ids, part)
        except AllocationError:
            continue
        total = sum(base)
        usable.append(part)
        columns.append([float(b / total) * cost.total_yen for b in base])
    if not usable:
        return None
    parts = np.array(columns).T  # n x usable: each part's total shares
    standalone = np.asarray(oracle.standalone, dtype=float)
    caps = standalone.copy()
    if limits is not None:
        caps = np.minimum(caps, np.asarray(limits.bounds, dtype=float))
    slack = horizon + 1.0  # rounding moves a member's total by less than this
    cut_rows: list[np.ndarray] = []
    cut_costs: list[float] = []
    cut_sizes: list[float] = []
    origin = np.array([float(start.get(p, 0.0)) for p in PARTS])
    tested = {tuple(round(float(w.get(p, 0.0)) * 100, 6) for p in PARTS) for w in skip}
    tried = calls = 0
    for step in GRID_STEPS:
        points = [pt for pt in grid(step) if pt not in tested]
        points.sort(key=lambda pt: (float(np.abs(np.array(pt) / 100.0 - origin).sum()), pt))
        for pt in points:
            tested.add(pt)
            w = {p: pt[k] / 100.0 for k, p in enumerate(PARTS)}
            if any(w[p] > 0 and p not in usable for p in PARTS):
                continue
            x = parts @ np.array([w[p] for p in usable])
            if np.any(x > caps + slack):
                continue
            if cut_rows and np.any(np.vstack(cut_rows) @ x > np.array(cut_costs) + slack * np.array(cut_sizes)):
                continue
            tried += 1
            shares, _ = split_cost(formula_ratios(instance, member_ids, w), cost, horizon, lead_index)
            totals = np.array([s["total_yen"] for s in shares], dtype=float)
            if np.any(totals > standalone + YEN_NOISE):
                continue
            if limits is not None and any(limits.over(shares)):
                continue
            calls += 1
            worst = oracle.min_excess(totals)
            if worst.excess < -YEN_NOISE:
                row = np.zeros(n)
                row[[i for i in range(n) if worst.mask >> i & 1]] = 1.0
                cut_rows.append(row)
                cut_costs.append(float(worst.cost))
                cut_sizes.append(float(row.sum()))
                continue
            return RuleFound(w, shares, tried, calls)
    return None
