"""The optimiser against a brute-force oracle on many random tiny instances (issue 3, "Correct").

The oracle knows nothing of the optimiser: it enumerates every set partition of the needs and, for each block,
every mode and lead body, keeping the cheapest block pricing that costs.group_violations accepts -- and, checked by
the oracle itself rather than trusted to group_violations, only a member with can_lead (or, in lead mode, a host)
runs a joint group: a body that declined to lead is never made the unified mode's 取りまとめ団体 (cost-model.md).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest

from planner.domain.costs import group_cost, group_violations
from planner.domain.optimiser import Infeasible, OptimiserOptions, optimise

from .factories import body, make_instance, need, reference_categories

# Two prefectures (20 Nagano, 15 Niigata) with bodies 10-80 km apart, plus the two prefectures as bodies.
BODY_POOL = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city"),
    body("202029", "松本市", 36.2380, 137.9720, kind="city"),
    body("202037", "上田市", 36.4019, 138.2491, kind="city"),
    body("204820", "小谷村", 36.7767, 137.9086, kind="village"),
    body("203211", "佐久市", 36.2489, 138.4769, kind="city"),
    body("152021", "上越市", 37.1478, 138.2360, kind="city"),
    body("152161", "糸魚川市", 37.0390, 137.8626, kind="city"),
    body("152234", "妙高市", 37.0253, 138.2536, kind="city"),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
    body("150002", "新潟県", 37.9022, 139.0236, kind="prefecture"),
]
MUNICIPALITIES = [b["code"] for b in BODY_POOL if b["kind"] != "prefecture"]


def set_partitions(items):
    if not items:
        yield []
        return
    first, rest = items[0], items[1:]
    for part in set_partitions(rest):
        yield [[first], *part]
        for k in range(len(part)):
            yield [*part[:k], [first] + part[k], *part[k + 1 :]]


def best_block(instance, needs):
    """Cheapest feasible (mode, lead) for one block, or None."""
    best = None
    if len(needs) == 1:
        modes = ["standalone"]
    else:
        modes = ["lead", "unified"]
    for mode in modes:
        for lead in instance.bodies:
            if mode != "standalone" and not may_run(instance, needs, mode, lead):
                continue
            if group_violations(instance, needs, mode, lead):
                continue
            cost = group_cost(instance, needs, mode, lead).exact_total
            if best is None or cost < best:
                best = cost
    return best


def may_run(instance, needs, mode, lead):
    """cost-model.md rule 3, written out here: a member with can_lead, or (lead mode) a host of the category."""
    if any(n.body == lead and n.can_lead for n in needs):
        return True
    return mode == "lead" and lead in instance.hosts_of(needs[0].category)


def oracle(instance):
    needs = list(instance.needs)
    block_cache = {}
    best = math.inf
    for partition in set_partitions(needs):
        total = 0.0
        for block in partition:
            key = frozenset(n.id for n in block)
            if key not in block_cache:
                block_cache[key] = best_block(instance, block)
            c = block_cache[key]
            if c is None:
                total = math.inf
                break
            total += c
        best = min(best, total)
    return best


def random_instance(rng: random.Random):
    n = rng.randint(1, 8)
    cats = reference_categories("ocr", "rpa")
    for c in cats:  # small member limits make max_members bind
        for mode in ("lead", "unified"):
            if rng.random() < 0.5:
                c[mode]["max_members"] = rng.choice([2, 3])
    geo = rng.choice(
        [{"type": "same_prefecture"}, {"type": "radius_km", "km": rng.choice([30, 60, 120])}, {"type": "any"}]
    )
    bodies = list(BODY_POOL)
    needs = []
    used = set()
    for k in range(n):
        code = rng.choice(MUNICIPALITIES)
        cat = rng.choice(["ocr", "ocr", "rpa"])
        year = rng.choice([2026, 2026, 2027])
        if (code, cat, year) in used and rng.random() < 0.7:
            code = rng.choice(MUNICIPALITIES)
        used.add((code, cat, year))
        modes = rng.choice([["lead", "unified"], ["lead", "unified"], ["lead"], ["unified"]])
        needs.append(
            need(
                f"n{k}",
                code,
                category=cat,
                volume=round(rng.uniform(1, 400), 1),
                start_year=year,
                modes=modes,
                can_lead=rng.random() < 0.6,
            )
        )
    hosts = []
    if rng.random() < 0.6:
        hosts.append({"body": "200000", "categories": rng.choice([["ocr"], ["ocr", "rpa"]])})
    if rng.random() < 0.3:
        hosts.append({"body": "150002", "categories": ["ocr", "rpa"]})
    together, apart, fixed = [], [], []
    ids = [x["id"] for x in needs]
    for _ in range(rng.choice([0, 0, 1, 2])):
        a, b = rng.sample(ids, 2) if len(ids) >= 2 else (None, None)
        if a is None:
            break
        na, nb = needs[ids.index(a)], needs[ids.index(b)]
        pair = sorted([a, b])
        if pair in together or pair in apart:
            continue
        in_pairs = {x for p in together for x in p}
        if rng.random() < 0.6 and a not in in_pairs and b not in in_pairs:
            # a together pair needs one category and start year: align b with a
            nb["category"], nb["start_year"] = na["category"], na["start_year"]
            together.append(pair)
        else:
            apart.append(pair)
    if rng.random() < 0.35:
        x = rng.choice(needs)
        rule = {"need": x["id"]}
        kind = rng.random()
        if kind < 0.25:
            rule["mode"] = "standalone"
        elif kind < 0.6:
            rule["mode"] = rng.choice(x["modes"])
        if rng.random() < 0.5:
            rule["lead_body"] = rng.choice([x["body"], "200000", rng.choice(MUNICIPALITIES)])
        fixed.append(rule)
    return make_instance(
        bodies, needs, categories=cats, hosts=hosts, geography=geo, together=together, apart=apart, fixed=fixed
    )


def check_plan(instance, plan):
    ids = [m for g in plan.groups for m in g.members]
    assert sorted(ids) == sorted(n.id for n in instance.needs)  # every need exactly once
    for g in plan.groups:
        needs = [instance.need(m) for m in g.members]
        assert group_violations(instance, needs, g.mode, g.lead_body) == []
        if g.mode != "standalone":
            assert may_run(instance, needs, g.mode, g.lead_body), (g.mode, g.lead_body, g.members)
        assert g.cost == group_cost(instance, needs, g.mode, g.lead_body)
        assert g.standalone_total_yen == sum(plan.need_standalone_yen[m] for m in g.members)
    assert plan.objective_yen == sum(g.cost.total_yen for g in plan.groups)
    assert plan.lower_bound_yen <= plan.objective_yen


@pytest.mark.parametrize("seed", range(150))
def test_optimiser_matches_brute_force(seed):
    rng = random.Random(seed)
    instance = random_instance(rng)
    expected = oracle(instance)
    if math.isinf(expected):
        with pytest.raises(Infeasible):
            optimise(instance)
        return
    plan = optimise(instance)
    check_plan(instance, plan)
    exact = sum(g.cost.exact_total for g in plan.groups)
    assert exact == pytest.approx(expected, rel=1e-9, abs=1e-3)
    assert plan.status == "optimal"
    assert plan.gap == 0.0


@pytest.mark.parametrize("seed", range(60))
@pytest.mark.parametrize("backend", ["highs", "cbc"])
def test_milp_path_matches_brute_force(seed, backend):
    """The same oracle with enumeration switched off, so every sub-problem goes through the MILP."""
    # ... and half of them without the LP shortcuts: reduced-cost fixing, then branch and bound
    options = OptimiserOptions(enumeration_max_needs=0, lp_shortcuts=seed % 2 == 0)
    rng = random.Random(1000 + seed)
    instance = random_instance(rng)
    expected = oracle(instance)
    if math.isinf(expected):
        with pytest.raises(Infeasible):
            optimise(instance, options=options)
        return
    plan = optimise(instance, options=replace(options, solver=backend))
    check_plan(instance, plan)
    assert sum(g.cost.exact_total for g in plan.groups) == pytest.approx(expected, rel=1e-9, abs=1e-3)
    assert plan.status == "optimal" and plan.stats["solver"] == backend


def test_unified_coordinator_must_be_willing_to_lead():
    """Two towns accept only unified mode and neither can lead: no 取りまとめ団体, so both go alone; once one
    can lead, it coordinates and the pair is cheaper together."""
    from .factories import make_instance
    from .factories import need as make_need

    bodies = [BODY_POOL[0], BODY_POOL[2]]  # 長野市, 上田市 (same prefecture)
    declined = [
        make_need("a", "202011", volume=200, modes=["unified"]),
        make_need("b", "202037", volume=200, modes=["unified"]),
    ]
    inst = make_instance(bodies, declined, categories=reference_categories("ocr"))
    assert group_violations(inst, list(inst.needs), "unified", "202011") == [
        "coordinator 202011 is not a member with can_lead"
    ]
    plan = optimise(inst)
    assert [g.mode for g in plan.groups] == ["standalone", "standalone"]
    assert oracle(inst) == pytest.approx(sum(g.cost.exact_total for g in plan.groups))
    willing = [dict(declined[0]), dict(declined[1], can_lead=True)]
    inst = make_instance(bodies, willing, categories=reference_categories("ocr"))
    plan = optimise(inst)
    assert [(g.mode, g.lead_body) for g in plan.groups] == [("unified", "202037")]
    assert oracle(inst) == pytest.approx(plan.groups[0].cost.exact_total)
