"""Fair cost allocation inside a group (負担金の按分; spec cost-model.md, "Cost allocation"), returned as a typed
settled.Allocation with its proof of fairness.

Every method yields a share ratio per member; the group's initial cost and its yearly running cost are each split
in that ratio into integer yen by the largest-remainder rule (``split_yen``), and a member's total is its initial
share plus H times its yearly share. Ratio per method: equal 1 each; population the body's population; volume the
need's yearly volume; formula the normalised weights times the normalised population/volume/equal ratios;
standalone_ratio the member's standalone total; shapley and nucleolus the solution of the cost game (exact
Shapley up to cost_game.EXACT_LIMIT members, sampled above with a standard error and a 95 % interval; the
nucleolus at every size by constraint generation, game_solutions.py).

The shares actually written are then proved (fairness.prove): individual rationality and the core decided
exactly by the separation oracle (separation.py) at every group size, with the smallest margin, the sub-group
attaining it, the least-core value and the few tightest sub-groups as evidence. With ``core="adjust"`` shares
outside the core are moved to the nearest core point (least-core point when the core is empty), the unadjusted
proof kept beside the adjusted one; for the formula family the nearest weights that need no adjustment are
suggested where they exist.

Suggested method when the chosen one breaks individual rationality (``core="report"``): among standalone_ratio,
shapley, nucleolus (tried in that order, the chosen method itself skipped), keep those whose shares are
individually rational and take the one whose shares move least from the chosen method's (smallest sum over
members of the absolute change of total_yen); ties go to the earlier method in that order. Above the exact size
the sampled Shapley value is not offered: it is slow and carries a standard error.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, TypedDict

from . import cost_game, fairness, formula_rule, game_solutions
from .cost_game import CostGame, group_game
from .costs import GroupCost
from .fairness import (
    CORE_MARGINS,
    coalition_name,  # noqa: F401  (re-exported: callers name coalitions through this module)
    core_target,
    least_core_value,
    prove,
    round_signed,
    split_adjustment,
)
from .game_solutions import (
    SHAPLEY_MIN_BLOCKS,
    CoalitionOracle,
    LeastCore,
    nucleolus_by_generation,
    shapley_exact,
    shapley_stratified,
)
from .model import ALLOCATION_METHODS, CORE_OPTIONS, Instance
from .packing import PackingOracle
from .separation import GroupOracle, Oracle, TableOracle
from .settled import Allocation, MemberShare, WeightSuggestion
from .shares import FORMULA_PARTS as FORMULA_PARTS
from .shares import AllocationError as AllocationError
from .shares import Ratios as Ratios
from .shares import ShareParts as ShareParts
from .shares import basic_ratios as basic_ratios
from .shares import formula_ratios as formula_ratios
from .shares import normalised_weights as normalised_weights
from .shares import priority_order as priority_order
from .shares import split_cost as split_cost
from .shares import split_yen as split_yen
from .vocabulary import METHOD_LABELS, wareki_fiscal_year

if TYPE_CHECKING:
    from .net_fairness import NetLimits
    from .plan import PlanGroup

SUGGESTION_ORDER = ("standalone_ratio", "shapley", "nucleolus")
SHAPLEY_OPTIMISER_BUDGET = 500  # optimiser calls (~20 ms each) one sampled Shapley value may make
SHAPLEY_MAX_BLOCKS = 8  # blocks of n orders stratified by position (a small group's budget allows more)

ROUNDING_RULE = (
    "初期費用と年間費用をそれぞれ按分比率で配分し、1円未満を切り捨てたうえで、残りの円を端数の大きい順に"
    "1円ずつ配分しています（端数が同じときは幹事団体、次に参加団体の並び順）。"
    "各団体の合計額は初期費用＋{h}年×年間費用です。"
)


def method_label(method: str, weights: Mapping[str, float] | None = None) -> str:
    if method != "formula":
        return METHOD_LABELS.get(method, method)
    parts = normalised_weights(weights)
    text = "・".join(f"{METHOD_LABELS[k]}{_percent(v)}%" for k, v in parts.items() if v > 0)
    return text or METHOD_LABELS["formula"]


# Each method's formula in the words the documents print (算定方法, the agreement's 第4条): beside the methods'
# computation, so that a new method brings its words with it. "formula" and "shapley" take their figures in
# formula_text.
FORMULAS = {
    "standalone": "単独調達のため按分はありません（費用の全額を負担）。",
    "equal": "各団体の負担額 ＝ グループの費用 ÷ 参加団体数",
    "population": "各団体の負担額 ＝ グループの費用 × 当該団体の人口 ÷ 参加団体の人口の合計",
    "volume": "各団体の負担額 ＝ グループの費用 × 当該団体の利用量 ÷ 参加団体の利用量の合計",
    "formula": (
        "各団体の負担額 ＝ グループの費用 × （{equal}% ÷ 参加団体数 ＋ {population}% × 人口 ÷ 人口計 ＋ "
        "{volume}% × 利用量 ÷ 利用量計）"
    ),
    "standalone_ratio": (
        "各団体の負担額 ＝ グループの費用 × 当該団体の単独導入費用 ÷ 参加団体の単独導入費用の合計（削減率が全団体で同じ）"
    ),
    "shapley": (
        "シャープレイ値： 各団体が加わる全ての順番について、その団体が加わったことによる費用の増分を平均した額"
        "（部分集合の費用 c(S) は、その団体だけで同じ条件の下で最も安く導入した場合の費用）"
    ),
    "nucleolus": (
        "仁（nucleolus）： 全ての部分集合について単独で導入する場合との差（節減額）のうち最も小さいものを"
        "できるだけ大きくする配分"
    ),
}


def formula_text(
    method: str,
    weights: Mapping[str, float] | None = None,
    *,
    sampled: bool = False,
    standard_error_yen: int | None = None,
) -> str:
    """The method's formula in words (:data:`FORMULAS`), with a weighted formula's percentages and a sampled
    Shapley value's standard error filled in."""
    text = FORMULAS.get(method, method)
    if method == "formula":
        w = weights or {}
        total = sum(w.get(k, 0.0) for k in ("equal", "population", "volume")) or 1.0
        # The weights' names (均等割10%・人口割90%) are the method's label, printed beside: not repeated here.
        text = text.format(**{k: _formula_pct(w.get(k, 0.0) / total * 100) for k in ("equal", "population", "volume")})
    if method == "shapley" and (sampled or standard_error_yen):
        text += f"。参加団体が多いため標本推定（標準誤差 {standard_error_yen or 0:,}円）"
    return text


def _formula_pct(x: float) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _percent(share: float) -> str:
    value = round(share * 100, 1)
    return str(int(value)) if value == int(value) else f"{value:.1f}"


# --- the game solutions ----------------------------------------------------------------------------------------


def sampled_blocks(n: int) -> int:
    """Blocks of n orders (stratified by position, game_solutions.shapley_stratified) sampled for a large group's
    Shapley value: each order prices about n - SMALL_COALITION coalitions with the optimiser, so the count keeps
    the calls near SHAPLEY_OPTIMISER_BUDGET, but never under SHAPLEY_MIN_BLOCKS (an honest interval needs that
    many independent blocks: above about 20 members this costs more than the budget), nor over SHAPLEY_MAX_BLOCKS."""
    per_order = max(1, n - cost_game.SMALL_COALITION)
    return min(SHAPLEY_MAX_BLOCKS, max(SHAPLEY_MIN_BLOCKS, SHAPLEY_OPTIMISER_BUDGET // (n * per_order)))


def t_quantile(probability: float, df: float) -> float:
    """Student's t quantile for any (fractional, >= 1) degrees of freedom: the t distribution's CDF, through the
    regularised incomplete beta function, inverted by bisection (exact to well under 1e-6; Welch-Satterthwaite
    degrees of freedom are fractional and can be as small as 1, where expansions around the normal fail)."""
    d = max(1.0, float(df))
    if probability == 0.5:
        return 0.0
    if probability < 0.5:
        return -t_quantile(1 - probability, d)
    low, high = 0.0, 1.0
    while _t_cdf(high, d) < probability:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if _t_cdf(mid, d) < probability:
            low = mid
        else:
            high = mid
        if high - low < 1e-10 * max(1.0, high):
            break
    return (low + high) / 2


def _t_cdf(t: float, df: float) -> float:
    x = df / (df + t * t)
    tail = 0.5 * _incomplete_beta(df / 2, 0.5, x)
    return 1 - tail if t >= 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularised incomplete beta I_x(a, b) (continued fraction, Lentz's method)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log(1 - x))
    if x > (a + 1) / (a + b + 2):
        return 1 - _incomplete_beta(b, a, 1 - x)
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 500):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-15:
            break
    return front * result / a


class SampledEstimate(TypedDict):
    values: list[float]
    standard_errors: list[float]
    half_widths: list[float | None]  # of the 95 % interval; None where the standard error is undefined
    permutations: int


def sampled_shapley(game: CostGame, permutations: int | None = None, seed: int | None = None) -> SampledEstimate:
    """The Shapley value of a game too large to enumerate, estimated from orders stratified by position
    (``permutations`` // n blocks of n orders, at least two; game_solutions.shapley_stratified), with each
    member's standard error from the spread between blocks and a 95 % interval from Student's t with blocks - 1
    degrees of freedom; tests check the intervals' coverage member by member on games with exact values."""
    n = game.n
    kwargs = {} if seed is None else {"seed": seed}
    blocks = sampled_blocks(n) if permutations is None else max(2, permutations // max(1, n))
    est = shapley_stratified(n, game.value, blocks, **kwargs)
    level = 1 - (1 - SHAPLEY_CONFIDENCE) / 2
    half: list[float | None] = [
        t_quantile(level, d) * e if e == e else None
        for e, d in zip(est.standard_errors, est.degrees_of_freedom, strict=True)
    ]
    return SampledEstimate(
        values=est.values, standard_errors=est.standard_errors, half_widths=half, permutations=est.permutations
    )


# --- one group ----------------------------------------------------------------------------------------------


def member_names(instance: Instance, member_ids: Sequence[str]) -> list[str]:
    """Users read bodies' names, never need ids; a body with two needs in the group is told apart by its fiscal year
    (and, should even that repeat, by its place in the group)."""
    names = [instance.bodies[instance.need(i).body].name for i in member_ids]
    out = []
    for i, name in zip(member_ids, names, strict=True):
        if names.count(name) > 1:
            name = f"{name}（{wareki_fiscal_year(instance.need(i).start_year)}開始）"
        out.append(name)
    return [name if out.count(name) == 1 else f"{name}・{k + 1}" for k, name in enumerate(out)]


def allocate(
    instance: Instance,
    member_ids: Sequence[str],
    cost: GroupCost,
    lead_body: str | None = None,
    method: str | None = None,
    weights: Mapping[str, float] | None = None,
    core: str | None = None,
    game: CostGame | None = None,
    suggest: bool = True,
    limits: NetLimits | None = None,
) -> Allocation:
    """A group's allocation with its exact proof of fairness (and, with ``core="adjust"``, moved into the core;
    with ``core="rule"``, the nearest formula that is fair first).

    ``limits`` are the members' net-fairness bounds (net_fairness.py): kept in every method and core option, and
    tightened here if the written shares' rounding breaks them. ``game`` replaces the group's cost game (a TableGame fed directly, e.g. a game from the literature): its
    coalitions are then checked by enumeration instead of the separation oracle."""
    spec = instance.allocation
    method = method or spec.method
    core = core or getattr(spec, "core", "report")
    if method not in ALLOCATION_METHODS:
        raise AllocationError(f"按分方法 {method!r} は使えません（{', '.join(ALLOCATION_METHODS)}）")
    if core not in CORE_OPTIONS:
        raise AllocationError(f"コア調整（core）は report・adjust・rule のいずれかです（{core!r}）")
    if method == "formula" and weights is None:
        weights = spec.weights
    member_ids = list(member_ids)
    if not member_ids:
        raise AllocationError("参加団体のないグループは按分できません")
    horizon = instance.horizon_years
    n = len(member_ids)
    names = member_names(instance, member_ids)
    needs = [instance.need(i) for i in member_ids]
    lead_index = next((k for k, nd in enumerate(needs) if nd.body == lead_body), None)
    order = priority_order(member_ids, lead_index)
    oracle = _oracle(instance, member_ids, game)
    standalone = [round(v) for v in oracle.standalone]
    grand = float(cost.total_yen)
    notes: list[str] = list(getattr(game, "notes", []) or [])
    coalitions = _CoalitionGame(instance, member_ids, game)

    lc = least_core_value(oracle, grand, None) if n >= 2 else LeastCore(0.0, [grand], 0)
    # Where the core is empty a union of groups can be shorter than any one of them: the least core over every
    # coalition, from the exact game where it is tabled, else by separation over unions of groups (packing.py)
    union_oracle: CoalitionOracle | None = None
    if lc.value < 0 and n >= 2:
        union_oracle = coalitions.oracle()
        if union_oracle is None and isinstance(oracle, GroupOracle):
            union_oracle = PackingOracle(oracle, instance)
        if union_oracle is not None:
            lc = least_core_value(oracle, grand, union_oracle)

    sampled: SampledEstimate | None = None
    ratios: Ratios
    if method == "formula":
        ratios = formula_ratios(instance, member_ids, weights)
    elif method == "shapley":
        ratios, sampled = _shapley_ratios(instance, member_ids, cost, coalitions)
    elif method == "nucleolus":
        ratios = _nucleolus_ratios(oracle, coalitions, grand, lc, notes)
    else:
        ratios = basic_ratios(instance, member_ids, method)
    shares, rounding = split_cost(ratios, cost, horizon, lead_index)
    totals = [s["total_yen"] for s in shares]
    proof = prove(oracle, totals, lc.value if n >= 2 else None, names, instance)
    if n < 2:
        limits = None
    net_fair = limits is None or not any(limits.over(shares))

    # core "rule": the chosen formula if it passes, else the nearest proved grid weights (formula_rule.py)
    share_rule: Mapping[str, float] | str | None = None
    if method in FORMULA_FAMILY:
        chosen = normalised_weights(weights) if method == "formula" else {k: float(k == method) for k in FORMULA_PARTS}
        share_rule = chosen
        if core == "rule" and n >= 2 and not (proof.in_core and net_fair):
            found = None
            if lc.value >= 0:
                found = formula_rule.find_rule(instance, member_ids, cost, lead_index, chosen, oracle, limits, [chosen])
            if found is not None:
                notes.append(
                    f"選択した按分（{method_label(method, weights)}）では"
                    f"{'コア' if not proof.in_core else '実質負担の条件'}を満たさないため、条件を満たす最も近い割合"
                    f"（{method_label('formula', found.weights)}）で按分しています（協定書に記載する算定方法）。"
                )
                method, weights, share_rule = "formula", found.weights, found.weights
                shares = found.shares
                rounding = 0
                totals = [s["total_yen"] for s in shares]
                proof = prove(oracle, totals, lc.value, names, instance)
                net_fair = True
            else:
                share_rule = "adjusted"
                notes.append(
                    "均等割・人口割・利用量割のどの割合（1%刻み）でもコアと実質負担の条件を同時に満たせないため、"
                    "選択した割合の額を団体ごとに調整しています。"
                )

    adjustments = [0] * n
    unadjusted_proof = None
    adjustment_summary: str | None = None
    wants_core = core in ("adjust", "rule") and n >= 2 and not proof.in_core
    if wants_core or not net_fair:
        unadjusted_proof = proof
        if share_rule is not None:
            share_rule = "adjusted"
        # the least core over unions of groups where the core is empty (the exact game, or the packing MILP)
        core_oracle: CoalitionOracle = union_oracle if union_oracle is not None else oracle
        bounds_won = False
        adjusted = list(totals)
        for _ in range(4):  # the bounds are tightened by the written shares' rounding at most a few times
            upper = None if limits is None else list(limits.bounds)
            bounds_won = False
            if wants_core or core != "report":
                try:
                    for margin in CORE_MARGINS:
                        target = core_target(core_oracle, sum(totals), totals, lc.value, margin, upper)
                        adjusted = round_signed(list(target), sum(totals), order)
                        proof = prove(oracle, adjusted, lc.value, names, instance)
                        if proof.in_core or lc.value < 0:
                            break
                except game_solutions.GameSolveError:
                    bounds_won = True
            else:
                bounds_won = True  # core "report": only the net bounds are enforced
            if bounds_won and upper is not None:
                caps = [min(u, s) for u, s in zip(upper, standalone, strict=True)] if core != "report" else upper
                if sum(caps) < sum(totals):
                    caps = upper
                target = fairness.bounded_target(sum(totals), totals, caps)
                adjusted = round_signed(list(target), sum(totals), order)
                proof = prove(oracle, adjusted, lc.value, names, instance)
            adjustments = [a - t for a, t in zip(adjusted, totals, strict=True)]
            parts = split_adjustment(adjustments, cost.initial_yen, cost.annual_yen, horizon, order)
            trial = [
                ShareParts(
                    initial_yen=s["initial_yen"] + di, annual_yen=s["annual_yen"] + da, total_yen=s["total_yen"] + a
                )
                for s, a, (di, da) in zip(shares, adjustments, parts, strict=True)
            ]
            over = [0] * n if limits is None else limits.over(trial)
            if not any(over) or limits is None:
                break
            limits.tighten(over)
        shares = trial
        if bounds_won and limits is not None:
            notes.append(
                "補助金が採択されない場合でも各団体の実質負担が単独導入を上回らないこと（実質負担の保証）を優先した"
                "ため、次の組の条件は満たしていません（下の検証を参照）。"
                if not proof.in_core
                else "補助金が採択されない場合でも各団体の実質負担が単独導入を上回らないよう、負担額を調整しました。"
            )
        adjustment_summary = fairness.uniform_change_sentence(totals, adjusted, proof, names, member_ids, limits)
        if adjustment_summary:
            notes.append(adjustment_summary)
        if lc.value < 0:
            notes.append(EMPTY_CORE_NOTE.format(yen=-math.floor(lc.value + 1e-6)))
        elif wants_core:
            notes.append(ADJUSTED_NOTE.format(count=sum(1 for a in adjustments if a)))
    elif n >= 2 and lc.value < 0:
        notes.append(EMPTY_CORE_NOTE.format(yen=-math.floor(lc.value + 1e-6)))

    rule = ROUNDING_RULE.format(h=horizon)
    if rounding:
        rule += (
            f"グループの合計額が初期費用＋{horizon}年×年間費用と {rounding:,}円 異なるため、その差額を同じ規則で"
            "各団体の合計額に配分しています。"
        )
    if any(adjustments):
        rule += ADJUSTMENT_RULE
    if sampled is not None:
        notes.append(
            f"参加団体が{cost_game.EXACT_LIMIT}を超えるため、シャープレイ値は順番 {sampled['permutations']} 通り"
            "（どの団体もどの順位にも同じ回数つくよう順位で層化した無作為な順番）からの推定値です。各団体の標準誤差と"
            "95%区間（独立な組の間のばらつきから求めたもの）を記載しています。負担額の公平性（個人合理性・コア）は推定では"
            "なく、厳密に確認しています。"
        )
    member_shares = []
    for k, nid in enumerate(member_ids):
        se: int | None = None
        interval: tuple[int, int] | None = None
        half = sampled["half_widths"][k] if sampled is not None else None
        if sampled is not None and half is not None:
            value = sampled["values"][k]
            se = round(sampled["standard_errors"][k])
            interval = (math.floor(value - half), math.ceil(value + half))
        member_shares.append(
            MemberShare(
                nid,
                shares[k]["initial_yen"],
                shares[k]["annual_yen"],
                shares[k]["total_yen"],
                standalone[k],
                adjustments[k],
                se,
                interval,
            )
        )
    suggested = None
    if suggest and not (unadjusted_proof or proof).individually_rational and core == "report":
        suggested = _suggest_method(instance, member_ids, cost, lead_index, method, totals, oracle, coalitions, lc)
    weight_suggestion = None
    if (
        suggest
        and core != "rule"
        and n >= 2
        and method in FORMULA_FAMILY
        and not (unadjusted_proof or proof).in_core
        and lc.value >= 0
    ):
        weight_suggestion = suggest_weights(instance, member_ids, cost, lead_index, method, weights, oracle, limits)
    return Allocation(
        method=method,
        method_label=method_label(method, weights),
        weights=normalised_weights(weights) if method == "formula" else None,
        core=core,
        rounding_rule=rule,
        shares=tuple(member_shares),
        proof=proof,
        sampled=sampled is not None,
        standard_error_yen=max(
            (s.standard_error_yen for s in member_shares if s.standard_error_yen is not None), default=None
        ),
        notes=tuple(notes),
        suggested_method=suggested,
        suggested_method_label=METHOD_LABELS[suggested] if suggested else None,
        suggested_weights=weight_suggestion,
        rounding_adjustment_yen=rounding,
        unadjusted_proof=unadjusted_proof,
        rule=share_rule,
        adjustment_summary=adjustment_summary,
    )


EMPTY_CORE_NOTE = (
    "このグループはコアが空です（どの分け方でも、ある組は単独のグループの方が安くなります）。"
    "すべての組の不利を最小にする最小コア（各組の超過は最大 {yen:,}円）を基準にしています。"
)
ADJUSTED_NOTE = (
    "按分方法どおりの負担ではコア（単独・部分グループより不利な団体・組がない配分）を外れるため、"
    "最も近いコア内の配分に調整しました（調整した団体 {count}）。"
)
ADJUSTMENT_RULE = (
    "コア調整: 按分方法どおりの合計額から、すべての組がそれぞれ単独のグループで負担する費用を超えない"
    "配分のうち最も近いもの（各団体の変化の割合の二乗を按分方法どおりの額で重み付けした和が最小。"
    "調整の対象でない団体はすべて同じ割合で変わります）へ移し、調整額を各団体の初期費用と年間費用に"
    "グループ全体の比率で振り分けています（1円未満は端数の大きい順）。"
)
FORMULA_FAMILY = ("equal", "population", "volume", "formula")
SHAPLEY_CONFIDENCE = 0.95


class _CoalitionGame:
    """The exact game c(S) (every coalition's cheapest partition), built only when something needs it: the exact
    Shapley value, or the least core / nucleolus of a group whose core is empty."""

    def __init__(self, instance: Instance, member_ids: Sequence[str], game: CostGame | None):
        self.instance, self.member_ids, self.given = instance, list(member_ids), game
        self._game = game

    def game(self) -> CostGame:
        if self._game is None:
            self._game = group_game(self.instance, self.member_ids)
        return self._game

    def oracle(self) -> TableOracle | None:
        if self.given is None and len(self.member_ids) > cost_game.EXACT_LIMIT:
            return None
        g = self.game()
        return TableOracle(g.players, g.table) if g.table is not None else None


def _oracle(instance: Instance, member_ids: Sequence[str], game: CostGame | None) -> Oracle:
    if game is not None:
        if game.table is None:
            raise AllocationError("与えられたゲームは全ての提携の費用を持っていません")
        return TableOracle(game.players, game.table)
    return GroupOracle(instance, member_ids)


def _shapley_ratios(
    instance: Instance, member_ids: Sequence[str], cost: GroupCost, coalitions: _CoalitionGame
) -> tuple[list[float], SampledEstimate | None]:
    if len(member_ids) <= cost_game.EXACT_LIMIT or coalitions.given is not None:
        game = coalitions.game()
        if game.table is None:
            raise AllocationError("与えられたゲームは全ての提携の費用を持っていません")
        table = list(game.table)
        table[-1] = float(cost.total_yen)
        return shapley_exact(game.n, table), None
    game = group_game(instance, member_ids, float(cost.total_yen))
    sampled = sampled_shapley(game)
    return sampled["values"], sampled


def _nucleolus_ratios(
    oracle: Oracle, coalitions: _CoalitionGame, grand: float, lc: LeastCore, notes: list[str]
) -> list[float]:
    if oracle.n < 2:
        return [grand] * oracle.n
    if lc.value < 0:
        exact = coalitions.oracle()
        if exact is not None:
            oracle = exact
    result = nucleolus_by_generation(oracle, grand)
    if not result.individually_rational_bounds:
        notes.append("単独調達の合計がグループの費用を下回るため、個人合理性の上限なしの仁（プレ仁）です。")
    return result.allocation


def _suggest_method(
    instance: Instance,
    member_ids: Sequence[str],
    cost: GroupCost,
    lead_index: int | None,
    chosen: str,
    totals: Sequence[int],
    oracle: Oracle,
    coalitions: _CoalitionGame,
    lc: LeastCore,
) -> str | None:
    """Among SUGGESTION_ORDER (the chosen method skipped, the sampled Shapley value too), the individually rational
    one whose totals move least from the chosen method's."""
    best: tuple[int, str] | None = None
    standalone = [float(v) for v in oracle.standalone]
    for candidate in SUGGESTION_ORDER:
        if candidate == chosen:
            continue
        if candidate == "shapley" and len(member_ids) > cost_game.EXACT_LIMIT and coalitions.given is None:
            continue
        ratios: Ratios
        if candidate == "shapley":
            ratios, _ = _shapley_ratios(instance, member_ids, cost, coalitions)
        elif candidate == "nucleolus":
            ratios = _nucleolus_ratios(oracle, coalitions, float(cost.total_yen), lc, [])
        else:
            ratios = basic_ratios(instance, member_ids, candidate)
        shares, _ = split_cost(ratios, cost, instance.horizon_years, lead_index)
        other = [s["total_yen"] for s in shares]
        if any(o > s + fairness.FLOAT_NOISE_YEN for o, s in zip(other, standalone, strict=True)):
            continue
        change = sum(abs(o - t) for o, t in zip(other, totals, strict=True))
        if best is None or change < best[0]:
            best = (change, candidate)
    return best[1] if best else None


def suggest_weights(
    instance: Instance,
    member_ids: Sequence[str],
    cost: GroupCost,
    lead_index: int | None,
    method: str,
    weights: Mapping[str, float] | None,
    oracle: Oracle,
    limits: NetLimits | None = None,
) -> WeightSuggestion | None:
    """The formula weights (均等割・人口割・利用量割) nearest to the chosen ones (L1 over the normalised weights) whose
    own shares, rounded as written, are in the core and net-fair: the 5-point grid, then the 1-point grid, each
    candidate proved by the separation oracle (formula_rule.py). None where no grid weights do."""
    start = normalised_weights(weights) if method == "formula" else {k: float(k == method) for k in FORMULA_PARTS}
    found = formula_rule.find_rule(instance, member_ids, cost, lead_index, start, oracle, limits, [start])
    if found is None:
        return None
    normal = found.weights
    distance = sum(abs(normal.get(p, 0.0) - start.get(p, 0.0)) for p in FORMULA_PARTS)
    return WeightSuggestion(weights=normal, distance=round(distance, 4), label=method_label("formula", normal))


def allocate_group(
    instance: Instance,
    group: PlanGroup,
    method: str | None = None,
    weights: Mapping[str, float] | None = None,
    core: str | None = None,
    limits: NetLimits | None = None,
) -> Allocation:
    """The allocation of a PlanGroup."""
    return allocate(instance, group.members, group.cost, group.lead_body, method, weights, core, limits=limits)
