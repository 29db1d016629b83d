"""The cost game c(S) and the game solvers (Shapley, nucleolus) on games from the literature."""

import itertools
import math

import pytest

from planner.domain.cost_game import (
    GroupPricer,
    OracleGame,
    TableGame,
    best_single_groups,
    exact_values,
    group_game,
    sub_instance,
)
from planner.domain.costs import group_cost, group_violations, standalone_cost
from planner.domain.game_solutions import nucleolus, shapley_exact, shapley_stratified

from .factories import body, make_instance, need, reference_categories

BODIES = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=370000),
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=237000),
    body("204820", "小谷村", 36.7767, 137.9086, kind="village", population=2800),
    body("203211", "佐久市", 36.2489, 138.4769, kind="city", population=98000),
    body("204412", "木曽町", 35.8425, 137.6917, population=10000),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
    body("150002", "新潟県", 37.9022, 139.0236, kind="prefecture"),
    body("152021", "長岡市", 37.4461, 138.8511, kind="city", population=260000),
]


def _partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in _partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first] + part[k], *part[k + 1 :]]


def brute_force_cost(inst, ids):
    """The optimum on ``ids`` by enumerating every partition, mode and lead (independent of the DP)."""
    cat = inst.categories[inst.need(ids[0]).category]
    best = math.inf
    for partition in _partitions(list(ids)):
        total = 0.0
        for block in partition:
            needs = [inst.need(i) for i in block]
            if len(block) == 1:
                total += standalone_cost(inst, needs[0]).exact_total
                continue
            options = [
                group_cost(inst, needs, mode, lead).exact_total
                for mode in ("lead", "unified")
                for lead in list(inst.bodies)
                if not group_violations(inst, needs, mode, lead, all_need_ids=ids)
            ]
            if not options:
                total = math.inf
                break
            total += min(options)
        if total < math.inf:
            # together pairs inside ids must not be split between blocks
            for a, b in inst.rules.together:
                if a in ids and b in ids and not any(a in blk and b in blk for blk in partition):
                    total = math.inf
        best = min(best, total)
    assert cat
    return best


def five_needs(**kwargs):
    needs = [
        need("a", "202011", volume=120, can_lead=True),
        need("b", "202029", volume=60),
        need("c", "204820", volume=5),
        need("d", "203211", volume=30, modes=("unified",)),
        need("e", "204412", volume=8, can_lead=True),
    ]
    return make_instance(BODIES, needs, **kwargs)


def test_exact_game_equals_brute_force_optimum_on_every_coalition():
    inst = five_needs(hosts=[{"body": "200000", "categories": ["ocr"]}])
    ids = [n.id for n in inst.needs]
    values, notes = exact_values(inst, list(inst.needs))
    assert notes == []
    for mask in range(1, 1 << len(ids)):
        coalition = [ids[i] for i in range(len(ids)) if mask >> i & 1]
        assert values[mask] == pytest.approx(brute_force_cost(inst, coalition), rel=1e-12)


def test_singletons_are_standalone_and_joint_groups_save():
    inst = five_needs()
    game = group_game(inst, [n.id for n in inst.needs])
    for i, n in enumerate(inst.needs):
        assert game.value(1 << i) == standalone_cost(inst, n).exact_total
    assert game.exhaustive and game.value(game.full) < sum(game.value(1 << i) for i in range(game.n))


def test_overrides_inside_the_coalition_are_respected():
    inst = five_needs(apart=[("a", "b")], together=[("c", "e")], fixed=[{"need": "d", "mode": "standalone"}])
    ids = [n.id for n in inst.needs]
    values, _ = exact_values(inst, list(inst.needs))
    for mask in range(1, 1 << len(ids)):
        coalition = [ids[i] for i in range(len(ids)) if mask >> i & 1]
        assert values[mask] == pytest.approx(brute_force_cost(inst, coalition), rel=1e-12)
    pricer = GroupPricer(inst, list(inst.needs))  # the memoised DP for single coalitions agrees
    assert [pricer.c(mask)[0] for mask in range(1, 32)] == pytest.approx(values[1:], rel=1e-12)
    # d may only go alone: any coalition's cost is d's standalone cost plus the rest's
    d = 1 << 3
    assert values[0b11111] == pytest.approx(values[0b10111] + values[d])


def test_geography_and_max_members_limit_the_single_groups():
    needs = [need("a", "202011", can_lead=True), need("b", "152021", can_lead=True)]  # Nagano and Niigata
    inst = make_instance(BODIES, needs)
    g = best_single_groups(inst, list(inst.needs))
    assert g[0b11] == math.inf
    inst_any = make_instance(BODIES, needs, geography={"type": "any"})
    assert best_single_groups(inst_any, list(inst_any.needs))[0b11] < math.inf
    cats = reference_categories("ocr")
    cats[0]["lead"]["max_members"] = 2
    cats[0]["unified"]["max_members"] = 2
    three = make_instance(
        BODIES, [need("a", "202011", can_lead=True), need("b", "202029"), need("c", "203211")], categories=cats
    )
    g3 = best_single_groups(three, list(three.needs))
    assert g3[0b111] == math.inf and g3[0b011] < math.inf


def test_sub_instance_keeps_only_inner_overrides():
    inst = five_needs(apart=[("a", "b"), ("a", "c")], together=[("d", "e")], fixed=[{"need": "b", "mode": "lead"}])
    sub = sub_instance(inst, ["a", "b", "d"])
    assert [n.id for n in sub.needs] == ["a", "b", "d"]
    assert sub.rules.apart == (("a", "b"),) and sub.rules.together == ()
    assert [f.need for f in sub.rules.fixed] == ["b"]


def test_oracle_game_caches_and_counts_evaluations():
    calls = []

    def oracle(names):
        calls.append(tuple(names))
        return float(len(names))

    game = OracleGame(["x", "y", "z"], oracle)
    assert game.value(0b101) == 2.0 and game.value(0b101) == 2.0
    assert calls == [("x", "z")] and game.evaluated == [0b101]


def test_table_game_from_dict_needs_every_coalition():
    with pytest.raises(ValueError, match="no cost for coalition"):
        TableGame.from_dict(["a", "b"], {frozenset("a"): 1, frozenset("b"): 1})


# --- solvers on games from the literature ---------------------------------------------------------------------


def airport_game(costs):
    """Littlechild & Owen's airport game: c(S) = the longest runway any member of S needs."""
    players = [f"p{i}" for i in range(len(costs))]
    table = {
        frozenset(s): max(costs[players.index(p)] for p in s)
        for r in range(1, len(players) + 1)
        for s in itertools.combinations(players, r)
    }
    return TableGame.from_dict(players, table)


def test_shapley_of_the_airport_game_is_the_sequential_equal_split():
    game = airport_game([2, 6, 10])
    phi = shapley_exact(game.n, game.table)
    # Littlechild-Owen: each runway segment is split equally among those who use it
    assert phi == pytest.approx([2 / 3, 2 / 3 + 4 / 2, 2 / 3 + 4 / 2 + 4])


def test_nucleolus_of_the_airport_game():
    game = airport_game([2, 6, 10])
    x = nucleolus(game.n, range(1, game.full), game.value, game.value(game.full))
    # Littlechild (1974): the nucleolus equalises the smallest savings first: x1 = c1/2, then (x3 - 4) = (9 - x3)
    assert x == pytest.approx([1.0, 2.5, 6.5], abs=1e-7)


def test_glove_game_as_a_cost_game():
    # Left glove with player 1, right gloves with 2 and 3; v(S) = 1 when a pair forms. As a cost game c = -v.
    # Published values: Shapley (2/3, 1/6, 1/6); the core and so the nucleolus is the single point (1, 0, 0).
    players = ["l", "r1", "r2"]
    v = {
        frozenset(s): (1.0 if "l" in s and ("r1" in s or "r2" in s) else 0.0)
        for r in (1, 2, 3)
        for s in itertools.combinations(players, r)
    }
    game = TableGame.from_dict(players, {s: -val for s, val in v.items()})
    assert shapley_exact(3, game.table) == pytest.approx([-2 / 3, -1 / 6, -1 / 6])
    x = nucleolus(3, range(1, 7), game.value, game.value(7))
    assert x == pytest.approx([-1.0, 0.0, 0.0], abs=1e-7)


def test_symmetric_game_splits_equally_and_nucleolus_of_a_convex_game_is_in_the_core():
    players = list("abcd")
    game = TableGame.from_dict(
        players, {frozenset(s): 10 * len(s) ** 0.5 for r in range(1, 5) for s in itertools.combinations(players, r)}
    )
    assert shapley_exact(4, game.table) == pytest.approx([5.0] * 4)
    x = nucleolus(4, range(1, 15), game.value, game.value(15))
    assert x == pytest.approx([5.0] * 4, abs=1e-7)


def test_nucleolus_lies_in_the_core_of_a_real_group():
    inst = five_needs()
    game = group_game(inst, [n.id for n in inst.needs])
    x = nucleolus(game.n, range(1, game.full), game.value, game.value(game.full))
    assert sum(x) == pytest.approx(game.value(game.full))
    for mask in range(1, game.full):
        assert sum(x[i] for i in range(game.n) if mask >> i & 1) <= game.value(mask) + 1e-4


def test_sampled_shapley_is_close_to_exact_and_reports_its_error():
    game = airport_game([3, 5, 8, 13, 21, 34])
    exact = shapley_exact(game.n, game.table)
    est = shapley_stratified(game.n, game.value, blocks=60, seed=7)
    assert est.permutations == 60 * game.n
    assert sum(est.values) == pytest.approx(game.value(game.full))
    for e, s, err in zip(exact, est.values, est.standard_errors, strict=False):
        assert err >= 0 and abs(e - s) <= 5 * err + 1e-9
    again = shapley_stratified(game.n, game.value, blocks=60, seed=7)
    assert again.values == est.values  # fixed seed: reproducible


def test_a_together_pair_that_cannot_share_a_group_is_priced_without_it_and_said():
    needs = [need("a", "202011", can_lead=True), need("b", "152021", can_lead=True), need("c", "202029")]
    inst = make_instance(BODIES, needs, together=[("a", "b")])  # Nagano and Niigata under same_prefecture
    game = group_game(inst, ["a", "b", "c"])
    alone = [standalone_cost(inst, inst.need(i)).exact_total for i in "abc"]
    assert game.value(0b011) == pytest.approx(alone[0] + alone[1])
    assert game.value(0b111) < sum(alone)  # a and c still join, b goes alone
    assert any("同一グループ指定" in n for n in game.notes)
