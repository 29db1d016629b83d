"""A group's cost split among its members (負担金の按分; spec cost-model.md, "Cost allocation"): the share ratio each
ratio method gives (equal, population, volume, standalone_ratio, and the formula's weighted mix of the first three)
and the split of the initial and yearly cost into integer yen by the largest-remainder rule.

allocation.py picks the method, proves the shares and adjusts them; formula_rule.py searches the formula's weights.
Both split through here, so neither needs the other to compute a share.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence, Sized
from fractions import Fraction
from typing import TypedDict

from .costs import GroupCost, standalone_cost
from .model import Instance

FORMULA_PARTS = ("equal", "population", "volume")


class AllocationError(ValueError):
    """The allocation cannot be computed from this input (a Japanese message naming the record and field)."""


def normalised_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """The formula's weights over equal/population/volume, scaled to sum 1."""
    weights = dict(weights or {})
    unknown = set(weights) - set(FORMULA_PARTS)
    if unknown:
        raise AllocationError(
            f"割合按分の重み: 不明な項目 {', '.join(sorted(unknown))}（equal, population, volume のみ）"
        )
    values = {}
    for k in FORMULA_PARTS:
        v = weights.get(k, 0.0) or 0.0
        if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0 or v != v:
            raise AllocationError(f"割合按分の重み {k} は 0 以上の数値にしてください（{v!r}）")
        values[k] = float(v)
    total = sum(values.values())
    if total <= 0:
        raise AllocationError("割合按分の重み（equal, population, volume）の合計が 0 です")
    return {k: v / total for k, v in values.items()}


def split_yen(amount: int, ratios: Sequence[float | int | Fraction], priority: Sequence[int]) -> list[int]:
    """Split integer ``amount`` in proportion to ``ratios`` (largest remainder).

    Each quota is floored; the yen left over go one each to the largest fractional parts; equal fractions go in
    ``priority`` order (a permutation of the indexes: the lead first, then the members' order). Float ratios are
    read to six decimals so that values equal up to float noise count as ties."""
    n = len(ratios)
    if n == 0:
        if amount:
            raise AllocationError("配分先がありません")
        return []
    exact = [_as_fraction(r) for r in ratios]
    total = sum(exact)
    if total == 0:
        raise AllocationError("按分比率の合計が 0 です")
    quotas = [amount * r / total for r in exact]
    floors = [q.numerator // q.denominator for q in quotas]
    left = amount - sum(floors)
    rank = {idx: pos for pos, idx in enumerate(priority)}
    order = sorted(range(n), key=lambda i: (-(quotas[i] - floors[i]), rank[i]))
    for i in order[:left]:
        floors[i] += 1
    return floors


def _as_fraction(value: float | Fraction) -> Fraction:
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return Fraction(round(float(value), 6)).limit_denominator(10**6) if abs(value) < 1e12 else Fraction(value)


def priority_order(members: Sized, lead_index: int | None) -> list[int]:
    """The members' indexes with the lead first (it takes the rounding's odd yen first)."""
    order = list(range(len(members)))
    if lead_index is not None:
        order.remove(lead_index)
        order.insert(0, lead_index)
    return order


class ShareParts(TypedDict):
    """One member's integer share of a group's cost."""

    initial_yen: int
    annual_yen: int
    total_yen: int


# a method's ratios: exact fractions (population, volume, formula ...) or floats (Shapley value, nucleolus)
Ratios = Sequence[float | int | Fraction]


def split_cost(ratios: Ratios, cost: GroupCost, horizon: int, lead_index: int | None) -> tuple[list[ShareParts], int]:
    """Integer initial/annual/total shares; returns the shares and the rounding adjustment (see below).

    total_yen per member is initial + H * annual, so the members' totals add up to cost.initial + H * cost.annual.
    A GroupCost normally has total = that sum; if it does not (a plan edited by hand), the difference is spread
    over the members' totals by the same largest-remainder rule and returned, so the totals still add up."""
    order = priority_order(ratios, lead_index)
    initial = split_yen(cost.initial_yen, ratios, order)
    annual = split_yen(cost.annual_yen, ratios, order)
    totals = [i + horizon * a for i, a in zip(initial, annual, strict=True)]
    adjustment = cost.total_yen - sum(totals)
    if adjustment:
        for k, extra in enumerate(split_yen(adjustment, ratios, order)):
            totals[k] += extra
    shares = [
        ShareParts(initial_yen=i, annual_yen=a, total_yen=t) for i, a, t in zip(initial, annual, totals, strict=True)
    ]
    return shares, adjustment


# --- the ratios of each method -----------------------------------------------------------------------------


def basic_ratios(instance: Instance, member_ids: Sequence[str], method: str) -> list[Fraction]:
    needs = [instance.need(i) for i in member_ids]
    if method == "equal":
        return [Fraction(1)] * len(needs)
    if method == "population":
        out = []
        for n in needs:
            body = instance.bodies[n.body]
            if body.population is None or body.population <= 0:
                raise AllocationError(f"人口割: 団体 {body.name}（{body.code}）の人口（population）が未設定か 0 です")
            out.append(Fraction(body.population))
        return out
    if method == "volume":
        if sum(n.volume for n in needs) <= 0:
            raise AllocationError("利用量割: 参加団体の利用量（volume）の合計が 0 です")
        return [_as_fraction(n.volume) for n in needs]
    if method == "standalone_ratio":
        return [Fraction(standalone_cost(instance, n).total_yen) for n in needs]
    raise AllocationError(f"按分方法 {method} は比率で表せません")


def formula_ratios(
    instance: Instance, member_ids: Sequence[str], weights: Mapping[str, float] | None
) -> list[Fraction]:
    parts = normalised_weights(weights)
    ratios = [Fraction(0)] * len(member_ids)
    for part, w in parts.items():
        if w <= 0:
            continue
        base = basic_ratios(instance, member_ids, part)
        total = sum(base)
        wf = _as_fraction(w)
        ratios = [r + wf * b / total for r, b in zip(ratios, base, strict=True)]
    return ratios
