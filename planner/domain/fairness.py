"""The proof of fairness of a group's shares and their core adjustment (cost-model.md, "Proof of fairness" and
"Core adjustment"), at every group size.

``prove`` decides individual rationality and the core exactly with the separation oracle (separation.py): the
smallest excess cost(B) - x(B) over every feasible proper sub-group B is computed, not sampled, and the few
tightest sub-groups are kept as evidence (what they would cost on their own against what they pay).
``least_core_value`` is the largest saving every proper coalition can be guaranteed at once.
``adjust_to_core`` moves shares to the nearest core point (least squares over the members' totals) -- or to the
nearest least-core point when the core is empty -- in whole yen that add up exactly, each member's adjustment
split between its initial and annual parts in the group's own proportion.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from typing import TYPE_CHECKING, TypedDict

import numpy as np

from . import game_solutions
from .costs import group_cost
from .game_solutions import CoalitionOracle, LeastCore
from .model import Instance
from .separation import Excess, Oracle
from .settled import Coalition, FairnessProof, MemberShare
from .tolerances import YEN_NOISE

if TYPE_CHECKING:
    from .net_fairness import NetLimits
    from .settled_plan import SettledGroup

EVIDENCE_COUNT = 5  # tightest coalitions kept as evidence
COMPACT_FROM = 11  # members from which one compact LP beats generating the coalitions (measured on the bench)
FLOAT_NOISE_YEN = YEN_NOISE  # c(B) are sums of floats; integer shares are compared with this much leeway only


def least_core_value(oracle: Oracle, grand_value: float, coalition_oracle: CoalitionOracle | None = None) -> LeastCore:
    """The least core of the group's game (exact). The separation oracle ranges over single feasible groups; when
    the result is non-negative that is also the least core over all coalitions (a coalition's cost is a sum of
    groups' costs, each already guaranteeing the saving). When it is negative (empty core) a coalition made of
    several groups can be worse off than any one of them, and ``coalition_oracle`` (the exact game where the group
    is small enough to enumerate, else the packing MILP over unions of groups, packing.py) decides it."""
    if oracle.n >= COMPACT_FROM and game_solutions.supports_compact(oracle):
        value = game_solutions.least_core_compact(oracle, grand_value)
    else:
        value = game_solutions.least_core(oracle, grand_value)
    if value.value < 0 and coalition_oracle is not None:
        value = game_solutions.least_core(coalition_oracle, grand_value)
    return value


def prove(
    oracle: Oracle,
    totals: Sequence[int],
    least_core: float | None,
    names: Sequence[str],
    instance: Instance | None = None,
) -> FairnessProof:
    """The exact proof for integer totals ``totals`` (in the oracle's member order)."""
    x = np.asarray(totals, dtype=float)
    ids = oracle.member_ids
    standalone = np.asarray(oracle.standalone, dtype=float)
    if oracle.n < 2:
        excess = float(standalone[0] - x[0]) if oracle.n else 0.0
        alone: tuple[Coalition, ...] = (
            (Coalition(tuple(ids), round(standalone[0]), int(x[0]), "standalone", None),) if ids else ()
        )
        fair = bool(excess >= -FLOAT_NOISE_YEN)
        return FairnessProof(
            True,
            fair,
            fair,
            math.floor(excess + FLOAT_NOISE_YEN),
            tuple(ids),
            None if least_core is None else math.floor(least_core + FLOAT_NOISE_YEN),
            alone,
            (),
        )
    tight = oracle.tightest(x, EVIDENCE_COUNT)
    worst = tight[0]
    evidence = tuple(_evidence(oracle, e, x, instance) for e in tight)
    over = [i for i in range(oracle.n) if x[i] > standalone[i] + FLOAT_NOISE_YEN]
    ir = not over
    in_core = bool(worst.excess >= -FLOAT_NOISE_YEN)
    violations = []
    for i in over:
        violations.append(
            f"{names[i]} の負担 {int(x[i]):,}円 が単独調達の費用 {round(standalone[i]):,}円 を "
            f"{int(x[i] - round(standalone[i])):,}円 上回ります（個人合理性を満たしません）"
        )
    for e, c in zip(tight, evidence, strict=True):
        if e.excess >= -FLOAT_NOISE_YEN or len(c.members) == 1:
            continue
        # The worst sub-group in words, once; the others are in the evidence table.
        violations.append(
            f"{coalition_name(names, e.mask)} の組は合計 {c.paid_yen:,}円 を負担しますが、この組だけなら "
            f"{c.cost_yen:,}円 で済みます（{c.paid_yen - c.cost_yen:,}円 の超過。コアに含まれません）"
        )
        break
    return FairnessProof(
        exhaustive_check=True,
        individually_rational=ir,
        in_core=in_core,
        min_excess_yen=math.floor(worst.excess + FLOAT_NOISE_YEN),
        worst_coalition=tuple(ids[i] for i in range(oracle.n) if worst.mask >> i & 1),
        least_core_yen=None if least_core is None else math.floor(least_core + FLOAT_NOISE_YEN),
        tightest=evidence,
        violations=tuple(violations),
    )


def _evidence(oracle: Oracle, e: Excess, x: np.ndarray, instance: Instance | None) -> Coalition:
    members = [i for i in range(oracle.n) if e.mask >> i & 1]
    ids = tuple(oracle.member_ids[i] for i in members)
    paid = round(float(x[members].sum()))
    cost: float = e.cost
    if instance is not None and e.mode in ("lead", "unified"):
        # the figure a finance officer gets by pricing that group by the price book (rounded yearly cost)
        cost = group_cost(instance, [instance.need(i) for i in ids], e.mode, e.lead_body).total_yen
    elif instance is not None and e.mode == "standalone":
        cost = round(float(oracle.standalone[members[0]]))
    return Coalition(ids, math.floor(cost + FLOAT_NOISE_YEN), paid, e.mode or None, e.lead_body or None)


def coalition_name(names: Sequence[str], mask: int) -> str:
    """「A・B」 for a small coalition; 「X・Y を除く 18 団体」 when naming who is out is shorter."""
    inside = [names[i] for i in range(len(names)) if mask >> i & 1]
    outside = [names[i] for i in range(len(names)) if not mask >> i & 1]
    if len(inside) > 4 and len(outside) < len(inside):
        return f"{'・'.join(outside)} を除く {len(inside)} 団体"
    return "・".join(inside)


# --- the core adjustment ----------------------------------------------------------------------------------------


def core_target(
    oracle: CoalitionOracle,
    grand_yen: int,
    unadjusted: Sequence[int],
    least_core: float,
    margin: float = 1.0,
    upper: Sequence[int] | None = None,
) -> np.ndarray:
    """The nearest point of the core -- of the least core when the core is empty -- to the unadjusted totals, in
    relative least squares (sum (x_i - x0_i)^2 / x0_i, x0_i at least 1 yen), with x_i <= ``upper`` (the members'
    net-fairness bounds) kept exactly. The set is shrunk by ``margin`` yen per member (x(B) <= c(B) - margin |B|)
    so that rounding to whole yen and the QP's tolerance cannot push a coalition over its cost; where that leaves
    nothing (a core thinner than that) the exact set is used. Raises GameSolveError when the bounds and the
    (least) core cannot both hold."""
    n = oracle.n
    target = np.asarray(unadjusted, dtype=float)
    weights = np.maximum(target, 1.0)
    caps = None if upper is None else np.asarray(upper, dtype=float)
    relax = min(least_core, 0.0)
    if least_core >= margin:  # project y = x + margin onto the core of the same costs
        try:
            shifted = None if caps is None else caps + margin
            return (
                np.asarray(_project(oracle, grand_yen + margin * n, target + margin, relax, weights, shifted)) - margin
            )
        except game_solutions.GameSolveError:
            pass  # the shrunk core is empty: use the core itself
    try:
        return np.asarray(_project(oracle, float(grand_yen), target, relax, weights, caps))
    except game_solutions.GameSolveError:
        # a core thinner than the solver's tolerance (least core ~ 0): the nearest point that no coalition exceeds
        # by more than a yen; the proof of the rounded shares then says exactly where they stand
        return np.asarray(_project(oracle, float(grand_yen), target, min(relax, 0.0) - 1.0, weights, caps))


def bounded_target(grand_yen: int, unadjusted: Sequence[int], upper: Sequence[int]) -> np.ndarray:
    """The nearest point (relative least squares) to the unadjusted totals under the members' bounds alone: what
    settlement keeps when the bounds and the core cannot both hold (the coalition claims that then fail are named
    by the proof). In closed form: x_i = min(upper_i, x0_i + mu w_i) with w_i = max(x0_i, 1) and mu found by
    bisection so that the shares add up (every member below its bound changes by the same percentage). When the
    bounds add up to less than the group's cost no share can keep them all; the shortfall is then spread in
    proportion to w (and the plan's check names who is over)."""
    target = np.asarray(unadjusted, dtype=float)
    w = np.maximum(target, 1.0)
    caps = np.asarray(upper, dtype=float)
    grand = float(grand_yen)
    if caps.sum() <= grand:
        return np.asarray(caps + (grand - caps.sum()) * w / w.sum())

    def total(mu: float) -> float:
        return float(np.minimum(caps, target + mu * w).sum())

    low, high = -1.0, 1.0
    while total(low) > grand:
        low *= 2
    while total(high) < grand:
        high *= 2
    for _ in range(200):
        mid = (low + high) / 2
        if total(mid) < grand:
            low = mid
        else:
            high = mid
    return np.asarray(np.minimum(caps, target + high * w))


BINDING_YEN_PER_MEMBER = 2  # a coalition this close to its own cost after adjustment is one that bound it


def uniform_change_sentence(
    before: Sequence[int],
    after: Sequence[int],
    proof: FairnessProof,
    names: Sequence[str],
    member_ids: Sequence[str],
    limits: NetLimits | None = None,
) -> str | None:
    """「調整の対象でない団体は、按分方法どおりの額から一律 p% 増（減）。…が…より不利にならないよう調整」.

    In relative least squares every member that no binding coalition or bound touches changes by the same
    percentage (the multiplier of the group's total); the members of the coalitions that are tight after the
    adjustment, and those at their net-fairness bound, are the ones adjusted otherwise, and are named."""
    n = len(before)
    if all(a == b for a, b in zip(before, after, strict=True)):
        return None
    touched: set[int] = set()
    binding: list[str] = []
    for c in proof.tightest:
        if c.excess_yen <= BINDING_YEN_PER_MEMBER * len(c.members):
            idx = [k for k in range(n) if member_ids[k] in c.members]
            touched.update(idx)
            mask = sum(1 << k for k in idx)
            binding.append(f"{names[idx[0]]}（単独導入）" if len(idx) == 1 else f"{coalition_name(names, mask)} の組")
    bound_hit = []
    if limits is not None:
        for k in range(n):
            if after[k] >= limits.bounds[k] - BINDING_YEN_PER_MEMBER and after[k] != before[k]:
                touched.add(k)
                bound_hit.append(names[k])
    free = [k for k in range(n) if k not in touched and before[k] > 0]
    forced = binding[0] + (f"など {len(binding)} 組" if len(binding) > 1 else "") if binding else ""
    parts = []
    if forced:
        parts.append(f"{forced}が単独のグループで導入するより不利にならないよう")
    if bound_hit:
        who = "・".join(bound_hit[:3]) + (f" など {len(bound_hit)} 団体" if len(bound_hit) > 3 else "")
        parts.append(f"{who}の実質負担（補助金なし）が単独導入を上回らないよう")
    why = ("、".join(parts) + "調整しています。") if parts else ""
    if not free:
        return "すべての団体が調整の対象です。" + why
    changes = sorted((after[k] - before[k]) / before[k] for k in free)
    p = changes[len(changes) // 2]
    if abs(p) < 0.0005:
        head = "調整の対象でない団体は、按分方法どおりの額のままです。"
    else:
        head = f"調整の対象でない団体は、按分方法どおりの額から一律 {abs(p) * 100:.1f}% {'増' if p > 0 else '減'}。"
    return head + why


CORE_MARGINS = (1.0, 4.0, 16.0, 64.0)  # tried in turn until the rounded shares are proved in the core


def _project(
    oracle: CoalitionOracle,
    grand: float,
    target: np.ndarray,
    relax: float,
    weights: np.ndarray | None = None,
    upper: np.ndarray | None = None,
) -> list[float]:
    return game_solutions.project_onto_core(oracle, grand, target, relax, weights, upper)


def round_signed(values: Sequence[float], total: int, priority: Sequence[int]) -> list[int]:
    """Integers within 1 of ``values`` that add up to ``total`` (largest remainder; ties in ``priority`` order)."""
    exact = [Fraction(v).limit_denominator(10**6) for v in values]
    floors = [math.floor(v) for v in exact]
    left = total - sum(floors)
    rank = {idx: pos for pos, idx in enumerate(priority)}
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), rank[i]))
    if left >= 0:
        for i in order[:left]:
            floors[i] += 1
    else:
        for i in list(reversed(order))[:-left]:
            floors[i] -= 1
    return floors


def split_adjustment(
    adjustments: Sequence[int], initial_yen: int, annual_yen: int, horizon: int, priority: Sequence[int]
) -> list[tuple[int, int]]:
    """Each member's total adjustment as (initial, yearly) integers in the group's proportion of initial to
    total cost; the yearly parts add up to 0 (the group's yearly cost is unchanged), hence the initial parts
    too, and initial + H * yearly is exactly the member's adjustment."""
    group_total = initial_yen + horizon * annual_yen
    share_annual = (horizon * annual_yen / group_total) if group_total else 0.0
    yearly = (
        round_signed([a * share_annual / horizon for a in adjustments], 0, priority)
        if horizon
        else [0] * len(adjustments)
    )
    return [(a - horizon * y, y) for a, y in zip(adjustments, yearly, strict=True)]


# --- what the pages and documents say -------------------------------------------------------------------------
#
# One wording for the plan and group pages, the 算定書, the summary and the 負担額通知, read from the settled plan.


@dataclasses.dataclass(frozen=True)
class FairnessAlert:
    """Members that pay more than alone and groups with a sub-group that would break away, over some groups."""

    overpaying: tuple[tuple[str, str, int], ...]  # (group id, need id, yen over the standalone cost)
    breakaway: tuple[tuple[str, tuple[str, ...], int], ...]  # (group id, the sub-group, what it would save)
    unproved_groups: int = 0

    @property
    def overpaid_yen(self) -> int:
        return sum(y for _, _, y in self.overpaying)

    @property
    def largest_breakaway_yen(self) -> int:
        return max((y for _, _, y in self.breakaway), default=0)

    @property
    def any(self) -> bool:
        return bool(self.overpaying or self.breakaway)

    def headline(self) -> str | None:
        """「単独で調達するより負担が大きい団体が 3 団体（超過 合計 1,234円）…」, or None when nobody loses."""
        parts = []
        if self.overpaying:
            parts.append(
                f"単独で調達するより負担が大きい団体が {len(self.overpaying)} 団体あります（超過の合計 "
                f"{self.overpaid_yen:,}円）。"
            )
        if self.breakaway:
            groups = len(self.breakaway)
            parts.append(
                f"{groups} グループで、一部の団体だけで別のグループを組んだ方が安くなります（最大 "
                f"{self.largest_breakaway_yen:,}円）。"
            )
        if not parts:
            return None
        return "".join(parts) + "負担額の見直し（コア調整）を検討してください。"


def fairness_alert(groups: Iterable[SettledGroup]) -> FairnessAlert:
    """The alert over SettledGroups (a plan's, or one group's as ``[group]``)."""
    overpaying: list[tuple[str, str, int]] = []
    breakaway: list[tuple[str, tuple[str, ...], int]] = []
    unproved = 0
    for g in groups:
        a = g.allocation
        if len(g.members) < 2:
            continue
        if not a.exhaustive_check:
            unproved += 1
        for s in a.shares:
            if s.total_yen > s.standalone_total_yen:
                overpaying.append((g.id, s.need_id, s.total_yen - s.standalone_total_yen))
        p = a.proof
        if p.min_excess_yen is not None and p.min_excess_yen < 0 and len(p.worst_coalition) >= 2:
            breakaway.append((g.id, tuple(p.worst_coalition), -p.min_excess_yen))
    return FairnessAlert(tuple(overpaying), tuple(breakaway), unproved)


def member_paragraph(instance: Instance, group: SettledGroup, need_id: str) -> str | None:
    """A plain paragraph for the member's 負担額通知 when it pays more than alone, belongs to a sub-group that would
    pay less on its own, or had its share adjusted into the core; None otherwise."""
    a = group.allocation
    if len(group.members) < 2:
        return None
    share = a.share(need_id)
    sentences = []
    if share.total_yen > share.standalone_total_yen:
        sentences.append(
            f"貴団体の負担額 {share.total_yen:,}円 は、単独で導入する場合の費用 "
            f"{share.standalone_total_yen:,}円 を {share.total_yen - share.standalone_total_yen:,}円 "
            "上回っています。このままでは共同調達に参加する利点がありません。"
        )
    p = a.proof
    if (
        p.min_excess_yen is not None
        and p.min_excess_yen < 0
        and need_id in p.worst_coalition
        and len(p.worst_coalition) >= 2
    ):
        others = [instance.bodies[instance.need(i).body].name for i in p.worst_coalition if i != need_id]
        worst = p.tightest[0] if p.tightest else None
        paid = f"（現在の負担の合計 {worst.paid_yen:,}円、その組だけなら {worst.cost_yen:,}円）" if worst else ""
        sentences.append(
            f"貴団体と{'・'.join(others)}の組は、この組だけで別に導入すると合計 "
            f"{-p.min_excess_yen:,}円 安くなります{paid}。"
        )
    return "".join(sentences) or None


def adjustment_sentence(share: MemberShare) -> str | None:
    """「按分方法どおり X円、コア調整 +Y円（…）」 for a member whose share was adjusted."""
    if not share.adjustment_yen:
        return None
    return (
        f"按分方法どおり {share.unadjusted_total_yen:,}円、コア調整 {share.adjustment_yen:+,}円"
        "（どの団体・組も単独より不利にならないための調整）"
    )


class EvidenceRow(TypedDict):
    who: str
    size: int
    mode: str
    lead: str
    cost_yen: int
    paid_yen: int
    excess_yen: int
    breaks_away: bool


def evidence_rows(instance: Instance, group: SettledGroup) -> list[EvidenceRow]:
    """The few tightest sub-groups of a group as rows a finance officer can check by hand: who, what they would
    cost on their own (priced by the price book), what they pay under the allocation, and the difference."""
    a = group.allocation
    rows: list[EvidenceRow] = []
    for c in a.proof.tightest:
        names = [instance.bodies[instance.need(i).body].name for i in c.members]
        outside = [instance.bodies[instance.need(i).body].name for i in group.members if i not in c.members]
        who = (
            "・".join(names)
            if len(names) <= 4 or len(outside) >= len(names)
            else f"{'・'.join(outside)} を除く {len(names)} 団体"
        )
        mode = {"standalone": "単独", "lead": "幹事方式", "unified": "仕様統一方式"}.get(c.mode or "", "")
        lead = (
            instance.bodies[c.lead_body].name
            if c.lead_body is not None and c.lead_body in instance.bodies and len(names) > 1
            else ""
        )
        rows.append(
            {
                "who": who,
                "size": len(names),
                "mode": mode,
                "lead": lead,
                "cost_yen": c.cost_yen,
                "paid_yen": c.paid_yen,
                "excess_yen": c.excess_yen,
                "breaks_away": c.excess_yen < 0,
            }
        )
    return rows
