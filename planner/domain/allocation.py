"""Fair cost allocation inside a group (負担金の按分; spec cost-model.md, "Cost allocation").

Every method yields a share ratio per member; the group's initial cost and its yearly running cost are each split
in that ratio into integer yen by the largest-remainder rule (``split_yen``), and a member's total is its initial
share plus H times its yearly share. The shares are then checked against the cost game (cost_game.py): individual
rationality and the core.

Ratio per method: equal 1 each; population the body's population; volume the need's yearly volume; formula the
normalised weights times the normalised population/volume/equal ratios; standalone_ratio the member's standalone
total; shapley and nucleolus the solution of the cost game (game_solutions.py). Splitting the parts in one ratio
keeps each member's initial/annual proportions equal to the group's.

Suggested method when the chosen one breaks individual rationality: among standalone_ratio, shapley, nucleolus
(tried in that order, the chosen method itself skipped), keep those whose shares are individually rational and
take the one whose shares move least from the chosen method's (smallest sum over members of the absolute change
of total_yen); ties go to the earlier method in that order. Above the exact size (cost_game.EXACT_LIMIT) the
sampled Shapley value is not offered: it is slow and carries a standard error.
"""
from __future__ import annotations

import random
from fractions import Fraction
from typing import Any, Mapping, Sequence

from . import cost_game
from .cost_game import CostGame, group_game
from .costs import GroupCost, standalone_cost
from .game_solutions import nucleolus, popcount, shapley_exact, shapley_sampled
from .model import ALLOCATION_METHODS, Instance

METHOD_LABELS = {
    "equal": "均等割", "population": "人口割", "volume": "利用量割", "formula": "割合按分",
    "standalone_ratio": "単独費用比", "shapley": "シャープレイ値", "nucleolus": "仁（nucleolus）",
}
FORMULA_PARTS = ("equal", "population", "volume")
SUGGESTION_ORDER = ("standalone_ratio", "shapley", "nucleolus")
CORE_SAMPLE = 64  # random coalitions checked above EXACT_LIMIT, besides every singleton and every complement
CORE_SEED = 20260402
SHAPLEY_OPTIMISER_BUDGET = 500  # optimiser calls (~20 ms each) one sampled Shapley value may make
SHAPLEY_MIN_PERMUTATIONS, SHAPLEY_MAX_PERMUTATIONS = 16, 64

ROUNDING_RULE = ("初期費用と年間費用をそれぞれ按分比率で配分し、1円未満を切り捨てたうえで、残りの円を端数の大きい順に"
                 "1円ずつ配分しています（端数が同じときは幹事団体、次に参加団体の並び順）。"
                 "各団体の合計額は初期費用＋{h}年×年間費用です。")


class AllocationError(ValueError):
    """The allocation cannot be computed from this input (a Japanese message naming the record and field)."""


def method_label(method: str, weights: Mapping[str, float] | None = None) -> str:
    if method != "formula":
        return METHOD_LABELS.get(method, method)
    parts = normalised_weights(weights)
    text = "・".join(f"{METHOD_LABELS[k]}{_percent(v)}%" for k, v in parts.items() if v > 0)
    return text or METHOD_LABELS["formula"]


def _percent(share: float) -> str:
    value = round(share * 100, 1)
    return str(int(value)) if value == int(value) else f"{value:.1f}"


def normalised_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """The formula's weights over equal/population/volume, scaled to sum 1."""
    weights = dict(weights or {})
    unknown = set(weights) - set(FORMULA_PARTS)
    if unknown:
        raise AllocationError(f"割合按分の重み: 不明な項目 {', '.join(sorted(unknown))}（equal, population, volume のみ）")
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


def _as_fraction(value) -> Fraction:
    if isinstance(value, (int, Fraction)):
        return Fraction(value)
    return Fraction(round(float(value), 6)).limit_denominator(10 ** 6) if abs(value) < 1e12 else Fraction(value)


def priority_order(member_ids: Sequence[str], lead_index: int | None) -> list[int]:
    order = list(range(len(member_ids)))
    if lead_index is not None:
        order.remove(lead_index)
        order.insert(0, lead_index)
    return order


def split_cost(ratios: Sequence, cost: GroupCost, horizon: int, lead_index: int | None) -> tuple[list[dict], int]:
    """Integer initial/annual/total shares; returns the shares and the rounding adjustment (see below).

    total_yen per member is initial + H * annual, so the members' totals add up to cost.initial + H * cost.annual.
    A GroupCost normally has total = that sum; if it does not (a plan edited by hand), the difference is spread
    over the members' totals by the same largest-remainder rule and returned, so the totals still add up."""
    order = priority_order(ratios, lead_index)
    initial = split_yen(cost.initial_yen, ratios, order)
    annual = split_yen(cost.annual_yen, ratios, order)
    totals = [i + horizon * a for i, a in zip(initial, annual)]
    adjustment = cost.total_yen - sum(totals)
    if adjustment:
        for k, extra in enumerate(split_yen(adjustment, ratios, order)):
            totals[k] += extra
    shares = [{"initial_yen": i, "annual_yen": a, "total_yen": t} for i, a, t in zip(initial, annual, totals)]
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


def formula_ratios(instance: Instance, member_ids: Sequence[str], weights: Mapping[str, float] | None) -> list:
    parts = normalised_weights(weights)
    ratios = [Fraction(0)] * len(member_ids)
    for part, w in parts.items():
        if w <= 0:
            continue
        base = basic_ratios(instance, member_ids, part)
        total = sum(base)
        wf = _as_fraction(w)
        ratios = [r + wf * b / total for r, b in zip(ratios, base)]
    return ratios


def game_ratios(game: CostGame, method: str) -> tuple[list[float], dict[str, Any]]:
    """Shapley or nucleolus of ``game``; the extra dict says whether it was sampled and its standard error."""
    n = game.n
    if method == "shapley":
        if game.exhaustive:
            return shapley_exact(n, game.table), {"sampled": False, "standard_error_yen": None}
        sampled = shapley_sampled(n, game.value, sampled_permutations(n))
        errors = [round(e) if e == e else None for e in sampled.standard_errors]
        known = [e for e in errors if e is not None]
        return sampled.values, {"sampled": True, "standard_error_yen": max(known) if known else None,
                                "standard_errors": errors, "permutations": sampled.permutations}
    if method == "nucleolus":
        coalitions = range(1, game.full) if game.exhaustive else core_sample(game)
        values = nucleolus(n, coalitions, game.value, game.value(game.full))
        return values, {"sampled": not game.exhaustive, "standard_error_yen": None}
    raise AllocationError(f"按分方法 {method} は協力ゲームの解ではありません")


def sampled_permutations(n: int) -> int:
    """Orders sampled for a large group's Shapley value: each order prices about n - SMALL_COALITION coalitions
    with the optimiser, so the count keeps that near SHAPLEY_OPTIMISER_BUDGET, within 16..64 (even: antithetic)."""
    per_order = max(1, n - cost_game.SMALL_COALITION)
    count = min(SHAPLEY_MAX_PERMUTATIONS, max(SHAPLEY_MIN_PERMUTATIONS, SHAPLEY_OPTIMISER_BUDGET // per_order))
    return count - count % 2


def core_sample(game: CostGame) -> list[int]:
    """Coalitions examined when the game is too large to enumerate: every singleton and complement, the
    coalitions already priced, and ``CORE_SAMPLE`` random ones (fixed seed)."""
    n, full = game.n, game.full
    masks = [1 << i for i in range(n)] + [full ^ (1 << i) for i in range(n)]
    masks += list(getattr(game, "evaluated", []))
    rng = random.Random(CORE_SEED)
    for _ in range(CORE_SAMPLE):
        m = rng.randrange(1, full)
        masks.append(m)
    return [m for m in dict.fromkeys(masks) if 0 < m < full]


# --- checks ---------------------------------------------------------------------------------------------------


def check_shares(game: CostGame, totals: Sequence[int], standalone: Sequence[int], names: Sequence[str],
                 horizon: int) -> dict[str, Any]:
    """Individual rationality and the core, with Japanese messages for what fails.

    Integer rounding moves a share by at most 1 yen of initial cost and 1 yen a year, so a coalition S is
    allowed (H + 1) * |S| yen of slack; any larger excess is a violation."""
    slack = horizon + 1
    violations = []
    ir = True
    for i, (share, alone) in enumerate(zip(totals, standalone)):
        if share > alone + slack:
            ir = False
            violations.append(f"{names[i]} の負担 {share:,}円 が単独調達の費用 {alone:,}円 を {share - alone:,}円 "
                              f"上回ります（個人合理性を満たしません）")
    n, full = game.n, game.full
    masks = range(1, full) if game.exhaustive else core_sample(game)
    worst = []
    for mask in masks:
        members = [i for i in range(n) if mask >> i & 1]
        paid = sum(totals[i] for i in members)
        cost = game.value(mask)
        excess = paid - cost
        if excess > slack * len(members):
            worst.append((excess, mask, paid, cost))
    in_core = ir and not worst
    worst.sort(key=lambda w: (-w[0], w[1]))
    for excess, mask, paid, cost in worst[:3]:
        if popcount(mask) == 1:
            continue  # already reported as individual rationality
        who = coalition_name(names, mask)
        violations.append(f"{who} の組は合計 {paid:,}円 を負担しますが、この組だけなら {round(cost):,}円 で"
                          f"済みます（{round(excess):,}円 の超過。コアに含まれません）")
    if len(worst) > 3:
        violations.append(f"ほかに {len(worst) - 3} 通りの組合せがコア条件を満たしません")
    return {"individually_rational": ir, "in_core": in_core, "violations": violations,
            "exhaustive_check": game.exhaustive}


def coalition_name(names: Sequence[str], mask: int) -> str:
    """「A・B」 for a small coalition; 「X・Y を除く 18 団体」 when naming who is out is shorter."""
    inside = [names[i] for i in range(len(names)) if mask >> i & 1]
    outside = [names[i] for i in range(len(names)) if not mask >> i & 1]
    if len(inside) > 4 and len(outside) < len(inside):
        return f"{'・'.join(outside)} を除く {len(inside)} 団体"
    return "・".join(inside)


# --- one group ----------------------------------------------------------------------------------------------


def allocate(instance: Instance, member_ids: Sequence[str], cost: GroupCost, lead_body: str | None = None,
             method: str | None = None, weights: Mapping[str, float] | None = None,
             game: CostGame | None = None, suggest: bool = True) -> dict[str, Any]:
    """The allocation record of one group (PlanGroup.allocation)."""
    method = method or instance.allocation.method
    if method not in ALLOCATION_METHODS:
        raise AllocationError(f"按分方法 {method!r} は使えません（{', '.join(ALLOCATION_METHODS)}）")
    if method == "formula" and weights is None:
        weights = instance.allocation.weights
    member_ids = list(member_ids)
    if not member_ids:
        raise AllocationError("参加団体のないグループは按分できません")
    horizon = instance.horizon_years
    needs = [instance.need(i) for i in member_ids]
    names = [f"{instance.bodies[n.body].name}（{n.id}）" for n in needs]
    standalone = [standalone_cost(instance, n).total_yen for n in needs]
    lead_index = next((k for k, n in enumerate(needs) if n.body == lead_body), None)
    if game is None:
        game = group_game(instance, member_ids, cost.exact_total)
    extra: dict[str, Any] = {"sampled": False, "standard_error_yen": None}
    if method == "formula":
        ratios = formula_ratios(instance, member_ids, weights)
    elif method in ("shapley", "nucleolus"):
        ratios, extra = game_ratios(game, method)
    else:
        ratios = basic_ratios(instance, member_ids, method)
    shares, adjustment = split_cost(ratios, cost, horizon, lead_index)
    totals = [s["total_yen"] for s in shares]
    check = check_shares(game, totals, standalone, names, horizon)
    rule = ROUNDING_RULE.format(h=horizon)
    if adjustment:
        rule += (f"グループの合計額が初期費用＋{horizon}年×年間費用と {adjustment:,}円 異なるため、その差額を同じ規則で"
                 "各団体の合計額に配分しています。")
    record: dict[str, Any] = {
        "method": method, "method_label": method_label(method, weights),
        "weights": normalised_weights(weights) if method == "formula" else None,
        "rounding_rule": rule, "exhaustive_check": check["exhaustive_check"],
        "individually_rational": check["individually_rational"], "in_core": check["in_core"],
        "violations": check["violations"], "suggested_method": None, "suggested_method_label": None,
        "sampled": bool(extra.get("sampled")), "standard_error_yen": extra.get("standard_error_yen"),
        "notes": list(game.notes), "shares": {},
    }
    if adjustment:
        record["rounding_adjustment_yen"] = adjustment
    if extra.get("sampled") and method == "shapley":
        record["notes"].append(f"参加団体が{cost_game.EXACT_LIMIT}を超えるため、シャープレイ値は無作為な順列 "
                               f"{extra['permutations']} 通りからの推定値です（標準誤差は各団体の shares に記載）。")
    if extra.get("sampled") and method == "nucleolus":
        record["notes"].append(f"参加団体が{cost_game.EXACT_LIMIT}を超えるため、仁は抽出した連合だけで計算した近似です。")
    if not game.exhaustive:
        record["notes"].append("参加団体が多いため、コアの確認は抽出した連合についてのみ行っています。")
    errors = extra.get("standard_errors")
    for k, nid in enumerate(member_ids):
        record["shares"][nid] = {**shares[k], "standalone_total_yen": standalone[k]}
        if errors:
            record["shares"][nid]["standard_error_yen"] = errors[k]
    if suggest and not check["individually_rational"]:
        _suggest(record, instance, member_ids, cost, lead_body, game, totals)
    return record


def _suggest(record: dict, instance: Instance, member_ids: Sequence[str], cost: GroupCost, lead_body: str | None,
             game: CostGame, totals: Sequence[int]) -> None:
    best = None
    for candidate in SUGGESTION_ORDER:
        if candidate == record["method"]:
            continue
        if candidate == "shapley" and not game.exhaustive:
            # A sampled Shapley value costs hundreds of optimiser calls and carries a standard error: too slow and too
            # uncertain to be worth offering; standalone_ratio and the nucleolus remain candidates.
            continue
        other = allocate(instance, member_ids, cost, lead_body, candidate, game=game, suggest=False)
        if not other["individually_rational"]:
            continue
        change = sum(abs(other["shares"][nid]["total_yen"] - t) for nid, t in zip(member_ids, totals))
        if best is None or change < best[0]:
            best = (change, candidate)
    if best is None:
        record["violations"].append("単独調達より負担が増える団体が出ない按分方法は見つかりませんでした"
                                    "（グループの費用が単独調達の合計を上回る可能性があります）。")
        return
    record["suggested_method"] = best[1]
    record["suggested_method_label"] = METHOD_LABELS[best[1]]  # the plan page and the PDF word the suggestion


def allocate_group(instance: Instance, group, method: str | None = None,
                   weights: Mapping[str, float] | None = None, game: CostGame | None = None) -> dict[str, Any]:
    """The allocation record for a PlanGroup."""
    return allocate(instance, group.members, group.cost, group.lead_body, method, weights, game)
