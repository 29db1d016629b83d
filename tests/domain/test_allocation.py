"""Allocation methods, the largest-remainder rounding, and the IR / core checks, by hand."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from planner.domain import cost_game
from planner.domain.allocation import AllocationError, allocate, coalition_name, method_label, split_cost, split_yen
from planner.domain.cost_game import TableGame
from planner.domain.costs import GroupCost, group_cost, standalone_cost
from planner.domain.fairness import prove
from planner.domain.separation import TableOracle

from .factories import body, make_instance, need

THREE = [
    body("203211", "佐久市", 36.2489, 138.4769, kind="city", population=10000),
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=20000),
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=30001),
]
AWKWARD = GroupCost(1_000_000, 1_000_001, 1_000_000 + 5 * 1_000_001, 6_000_005.0)


def three_instance(**kwargs):
    needs = [
        need("x", "203211", volume=10),
        need("y", "202029", volume=20, can_lead=True),
        need("z", "202011", volume=30),
    ]
    return make_instance(THREE, needs, **kwargs)


def parts(record, key):
    return [getattr(record.share(i), key) for i in ("x", "y", "z")]


def test_equal_split_gives_the_remainder_to_the_lead_first():
    inst = three_instance()
    rec = allocate(inst, ["x", "y", "z"], AWKWARD, lead_body="202029", method="equal")
    # 1,000,000 / 3: one yen left, all fractions tie -> the lead (y)
    assert parts(rec, "initial_yen") == [333_333, 333_334, 333_333]
    # 1,000,001 / 3: two yen left -> the lead, then the first member in order (x)
    assert parts(rec, "annual_yen") == [333_334, 333_334, 333_333]
    assert parts(rec, "total_yen") == [333_333 + 5 * 333_334, 333_334 + 5 * 333_334, 333_333 + 5 * 333_333]
    assert sum(parts(rec, "total_yen")) == AWKWARD.total_yen
    assert rec.method_label == "均等割" and "幹事団体" in rec.rounding_rule


def test_population_split_by_largest_remainder():
    rec = allocate(three_instance(), ["x", "y", "z"], AWKWARD, lead_body="202029", method="population")
    # quotas 166,663.889 / 333,327.778 / 500,008.333: two yen left -> x and y
    assert parts(rec, "initial_yen") == [166_664, 333_328, 500_008]
    # quotas 166,664.056 / 333,328.111 / 500,008.833: one yen left -> z
    assert parts(rec, "annual_yen") == [166_664, 333_328, 500_009]
    assert rec.method_label == "人口割"


def test_formula_ten_ninety_split_and_label():
    rec = allocate(
        three_instance(),
        ["x", "y", "z"],
        AWKWARD,
        lead_body="202029",
        method="formula",
        weights={"equal": 1, "population": 9},
    )
    assert rec.method_label == "均等割10%・人口割90%"
    assert rec.weights == {"equal": pytest.approx(0.1), "population": pytest.approx(0.9), "volume": 0.0}
    # quotas 183,330.833 / 333,328.333 / 483,340.833: two yen left -> x (.83337) then z (.83321)
    assert parts(rec, "initial_yen") == [183_331, 333_328, 483_341]
    # quotas 183,331.017 / 333,328.667 / 483,341.317: one yen left -> y
    assert parts(rec, "annual_yen") == [183_331, 333_329, 483_341]


def test_volume_split_and_ties_with_equal_volumes_go_to_the_lead():
    needs = [
        need("x", "203211", volume=10),
        need("y", "202029", volume=10),
        need("z", "202011", volume=10, can_lead=True),
    ]
    inst = make_instance(THREE, needs)
    cost = GroupCost(100, 0, 100, 100.0)
    rec = allocate(inst, ["x", "y", "z"], cost, lead_body="202011", method="volume")
    assert parts(rec, "initial_yen") == [33, 33, 34]
    assert method_label("formula", {"equal": 0.25, "volume": 0.75}) == "均等割25%・利用量割75%"


def test_inconsistent_total_is_spread_and_stated():
    inst = three_instance()
    cost = GroupCost(1000, 10, 1052, 1052.0)  # 1000 + 5 * 10 = 1050, two yen short of the stated total
    rec = allocate(inst, ["x", "y", "z"], cost, lead_body="202029", method="equal")
    assert sum(parts(rec, "total_yen")) == 1052
    assert sum(parts(rec, "initial_yen")) == 1000 and sum(parts(rec, "annual_yen")) == 10
    assert rec.rounding_adjustment_yen == 2
    assert "2円 異なる" in rec.rounding_rule


def test_missing_population_is_named():
    bodies = [dict(b) for b in THREE]
    bodies[1]["population"] = None
    inst = make_instance(bodies, [need("x", "203211"), need("y", "202029")])
    with pytest.raises(AllocationError, match="松本市（202029）の人口"):
        allocate(inst, ["x", "y"], GroupCost(10, 1, 15, 15.0), method="population")


def test_bad_formula_weights_are_refused():
    with pytest.raises(AllocationError, match="合計が 0"):
        allocate(three_instance(), ["x", "y"], GroupCost(10, 1, 15, 15.0), method="formula", weights={})
    with pytest.raises(AllocationError, match="不明な項目"):
        allocate(three_instance(), ["x", "y"], GroupCost(10, 1, 15, 15.0), method="formula", weights={"area": 1})


def test_core_check_catches_a_deliberately_unfair_split():
    m = 1_000_000
    costs = {
        frozenset("a"): 10 * m,
        frozenset("b"): 10 * m,
        frozenset("c"): 10 * m,
        frozenset("ab"): 12 * m,
        frozenset("ac"): 18 * m,
        frozenset("bc"): 18 * m,
        frozenset("abc"): 20 * m,
    }
    game = TableGame.from_dict(["a", "b", "c"], costs)
    oracle = TableOracle(game.players, game.table)
    names = ["A町", "B町", "C町"]
    fair = prove(oracle, [5 * m, 5 * m, 10 * m], 0, names)
    assert fair.individually_rational and fair.in_core and fair.exhaustive_check
    # every saving by hand: a 5, b 5, c 0, ab 2, ac 3, bc 3 (millions) -> c alone is the tightest, at 0
    assert fair.min_excess_yen == 0 and fair.worst_coalition == ("c",)
    unfair = prove(oracle, [7 * m, 7 * m, 6 * m], 0, names)
    assert unfair.individually_rational and not unfair.in_core
    assert unfair.min_excess_yen == -2 * m and unfair.worst_coalition == ("a", "b")
    assert unfair.tightest[0].cost_yen == 12 * m and unfair.tightest[0].paid_yen == 14 * m
    assert any("A町・B町" in v and "14,000,000円" in v and "12,000,000円" in v for v in unfair.violations)
    greedy = prove(oracle, [11 * m, 4 * m, 5 * m], 0, names)
    # a alone is 1 m over, but a and b together pay 15 m for a 12 m group: -3 m is the worst
    assert not greedy.individually_rational and greedy.min_excess_yen == -3 * m
    assert any(v.startswith("A町 の負担 11,000,000円") and "1,000,000円 上回ります" in v for v in greedy.violations)


def test_large_coalitions_are_named_by_who_is_left_out():
    names = [f"町{i}" for i in range(6)]
    assert coalition_name(names, 0b000011) == "町0・町1"
    assert coalition_name(names, 0b111110) == "町0 を除く 5 団体"


def test_breaking_individual_rationality_is_said_and_a_method_suggested():
    bodies = [
        body("202011", "長野市", 36.6486, 138.1948, kind="city", population=370000),
        body("205834", "小川村", 36.6170, 137.9740, kind="village", population=2400),
        body("205885", "飯綱町", 36.7550, 138.2560, population=10000),
    ]
    inst = make_instance(
        bodies,
        [need("a", "202011", volume=20, can_lead=True), need("b", "205834", volume=20), need("c", "205885", volume=20)],
    )
    members = [inst.need(i) for i in "abc"]
    cost = group_cost(inst, members, "lead", "202011")
    assert cost.total_yen < sum(rec_s.total_yen for rec_s in (standalone_cost(inst, m) for m in members))
    rec = allocate(inst, list("abc"), cost, lead_body="202011", method="population")
    assert not rec.individually_rational and not rec.in_core
    assert any("長野市 の負担" in v and "上回ります" in v for v in rec.proof.violations)
    assert rec.suggested_method in ("standalone_ratio", "shapley", "nucleolus")
    assert rec.suggested_method_label in ("単独費用比", "シャープレイ値", "仁（nucleolus）")
    suggested = allocate(inst, list("abc"), cost, lead_body="202011", method=rec.suggested_method)
    assert suggested.individually_rational
    # nearest: no other IR candidate moves the shares less
    base = [rec.share(i).total_yen for i in "abc"]
    moves = {}
    for m in ("standalone_ratio", "shapley", "nucleolus"):
        other = allocate(inst, list("abc"), cost, lead_body="202011", method=m)
        if other.individually_rational:
            moves[m] = sum(abs(other.share(i).total_yen - b) for i, b in zip("abc", base, strict=False))
    assert moves[rec.suggested_method] == min(moves.values())


def test_game_methods_on_a_real_group_are_in_the_core():
    inst = three_instance()
    members = [inst.need(i) for i in "xyz"]
    cost = group_cost(inst, members, "lead", "202029")
    for method in ("standalone_ratio", "shapley", "nucleolus"):
        rec = allocate(inst, list("xyz"), cost, lead_body="202029", method=method)
        assert sum(parts(rec, "total_yen")) == cost.total_yen
        assert rec.individually_rational and rec.in_core and rec.exhaustive_check
        assert rec.sampled is False and rec.suggested_method is None
        for i in "xyz":
            assert rec.share(i).total_yen <= rec.share(i).standalone_total_yen


def test_above_the_exact_limit_shapley_is_sampled_with_its_error(monkeypatch):
    monkeypatch.setattr(cost_game, "EXACT_LIMIT", 2)
    inst = three_instance()
    cost = group_cost(inst, [inst.need(i) for i in "xyz"], "lead", "202029")
    rec = allocate(inst, list("xyz"), cost, lead_body="202029", method="shapley")
    # the value is estimated, the proof of the shares actually used is still exact
    assert rec.sampled is True and rec.exhaustive_check is True
    assert isinstance(rec.standard_error_yen, int) and rec.standard_error_yen >= 0
    assert sum(parts(rec, "total_yen")) == cost.total_yen
    for i in "xyz":
        share = rec.share(i)
        assert share.standard_error_yen is not None and share.interval_yen[0] <= share.interval_yen[1]


def test_single_member_group_pays_its_own_cost():
    inst = three_instance()
    cost = group_cost(inst, [inst.need("x")], "standalone", "203211")
    rec = allocate(inst, ["x"], cost, lead_body="203211", method="shapley")
    assert rec.share("x").to_json() == {**cost.as_dict(), "standalone_total_yen": cost.total_yen, "adjustment_yen": 0}
    assert rec.individually_rational and rec.in_core


@settings(max_examples=200, deadline=None)
@given(
    amount=st.integers(min_value=0, max_value=10**10),
    ratios=st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=14).filter(any),
    lead=st.integers(min_value=0, max_value=13),
)
def test_split_yen_adds_up_and_stays_within_a_yen_of_the_quota(amount, ratios, lead):
    lead = lead % len(ratios)
    order = [lead] + [i for i in range(len(ratios)) if i != lead]
    shares = split_yen(amount, ratios, order)
    assert sum(shares) == amount
    total = sum(ratios)
    for s, r in zip(shares, ratios, strict=False):
        assert 0 <= s - amount * r // total <= 1


@settings(max_examples=200, deadline=None)
@given(
    initial=st.integers(min_value=0, max_value=10**9),
    annual=st.integers(min_value=0, max_value=10**8),
    horizon=st.integers(min_value=1, max_value=10),
    skew=st.integers(min_value=-50, max_value=50),
    ratios=st.lists(st.floats(min_value=0.001, max_value=1e7), min_size=1, max_size=14),
)
def test_shares_add_up_exactly_to_every_part(initial, annual, horizon, skew, ratios):
    total = initial + horizon * annual + skew
    shares, adjustment = split_cost(ratios, GroupCost(initial, annual, total, float(total)), horizon, 0)
    assert sum(s["initial_yen"] for s in shares) == initial
    assert sum(s["annual_yen"] for s in shares) == annual
    assert sum(s["total_yen"] for s in shares) == total
    assert adjustment == skew


def test_split_handles_negative_ratios_from_a_game_solution():
    assert sum(split_yen(1000, [-0.5, 1.25, 1.25], [1, 0, 2])) == 1000


def test_every_permutation_of_ties_follows_the_stated_order():
    for lead in range(4):
        order = [lead] + [i for i in range(4) if i != lead]
        shares = split_yen(6, [1, 1, 1, 1], order)
        expected = [1] * 4
        for i in order[:2]:
            expected[i] += 1
        assert shares == expected
