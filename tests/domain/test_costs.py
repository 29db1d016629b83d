"""The cost formula of cost-model.md, checked by hand."""

import math

import pytest

from planner.domain.costs import group_cost, group_violations, haversine_km, round_yen

from .factories import body, make_instance, need

BODIES = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city", population=370000),
    body("202029", "松本市", 36.2380, 137.9720, kind="city", population=237000),
    body("204820", "小谷村", 36.7767, 137.9086, kind="village", population=2800),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
    body("150002", "新潟県", 37.9022, 139.0236, kind="prefecture"),
]


def test_haversine_matches_known_distance():
    # Tokyo Station to Osaka Station is about 403 km on a 6371 km sphere.
    assert haversine_km(35.6812, 139.7671, 34.7025, 135.4959) == pytest.approx(403.5, abs=1.0)
    assert haversine_km(36.0, 138.0, 36.0, 138.0) == 0.0


def test_standalone_cost_by_hand():
    inst = make_instance(BODIES, [need("a", "202011", volume=100.0)])
    cost = group_cost(inst, [inst.need("a")], "standalone", "202011")
    # ocr standalone: 1.5M initial; yearly 600k + min(40000*100, 400000+30000*100, 1.6M+20000*100) = 600k + 3.4M
    assert cost.initial_yen == 1_500_000
    assert cost.annual_yen == 4_000_000
    assert cost.total_yen == 1_500_000 + 5 * 4_000_000


def test_lead_group_cost_by_hand():
    inst = make_instance(BODIES, [need("a", "202011", volume=100.0, can_lead=True), need("b", "202029", volume=50.0)])
    members = [inst.need("a"), inst.need("b")]
    cost = group_cost(inst, members, "lead", "202011")
    d = haversine_km(36.2380, 137.9720, 36.6486, 138.1948)
    volume_charge = min(32000 * 150, 800000 + 24000 * 150, 3200000 + 16000 * 150, 12000000 + 10000 * 150)
    annual = 1_500_000 + 2 * 150_000 + 2000 * d + volume_charge
    assert cost.initial_yen == 3_000_000 + 2 * 200_000
    assert cost.annual_yen == round_yen(annual)
    assert cost.total_yen == cost.initial_yen + 5 * cost.annual_yen
    assert math.isclose(cost.exact_total, cost.initial_yen + 5 * annual)


def test_feasibility_rules():
    inst = make_instance(
        BODIES,
        [
            need("a", "202011", can_lead=True),
            need("b", "202029", modes=["unified"]),
            need("c", "204820"),
            need("d", "202029", start_year=2027),
        ],
        hosts=[{"body": "200000", "categories": ["ocr"]}, {"body": "150002", "categories": ["ocr"]}],
    )
    a, b, c, d = (inst.need(x) for x in "abcd")
    assert group_violations(inst, [a, c], "lead", "202011") == []
    assert group_violations(inst, [a, c], "lead", "200000") == []  # the prefecture hosts
    assert any("not accept lead" in p for p in group_violations(inst, [a, b], "lead", "202011"))
    assert any("neither a member with can_lead" in p for p in group_violations(inst, [a, c], "lead", "204820"))
    assert any("outside the geography" in p for p in group_violations(inst, [a, c], "lead", "150002"))
    assert any("coordinator" in p for p in group_violations(inst, [a, c], "unified", "200000"))
    assert any("start years" in p for p in group_violations(inst, [a, d], "unified", "202011"))
    assert any("at least two" in p for p in group_violations(inst, [a], "lead", "202011"))


def test_radius_rule():
    inst = make_instance(
        BODIES, [need("a", "202011", can_lead=True), need("b", "202029")], geography={"type": "radius_km", "km": 30}
    )
    a, b = inst.need("a"), inst.need("b")
    assert any("outside" in p for p in group_violations(inst, [a, b], "lead", "202011"))  # about 49 km apart
    wide = make_instance(
        BODIES, [need("a", "202011", can_lead=True), need("b", "202029")], geography={"type": "radius_km", "km": 60}
    )
    assert group_violations(wide, [wide.need("a"), wide.need("b")], "lead", "202011") == []


def test_overrides_in_group_check():
    inst = make_instance(
        BODIES,
        [need("a", "202011", can_lead=True), need("b", "202029"), need("c", "204820")],
        together=[("a", "b")],
        apart=[("a", "c")],
        fixed=[{"need": "b", "mode": "unified"}],
    )
    a, b, c = (inst.need(x) for x in "abc")
    problems = group_violations(inst, [a, c], "lead", "202011")
    assert any("together" in p for p in problems) and any("apart" in p for p in problems)
    assert any("fixed to mode unified" in p for p in group_violations(inst, [a, b], "lead", "202011"))
    assert group_violations(inst, [a, b], "unified", "202011") == []


def test_the_distance_cache_stays_small_after_many_distinct_pairs():
    # Issue #30: a web worker that had solved national plans kept ~340 MB of cached distances.
    import resource
    from types import SimpleNamespace as Place

    from planner.domain.costs import DISTANCE_CACHE_SIZE, _cached_distance, body_distance_km

    assert DISTANCE_CACHE_SIZE <= 1 << 16
    _cached_distance.cache_clear()
    a = Place(code="000001", lat=35.0, lng=135.0)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(600_000):
        body_distance_km(a, Place(code="000002", lat=35.0 + i * 1e-6, lng=136.0))
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert _cached_distance.cache_info().currsize <= DISTANCE_CACHE_SIZE
    assert grown_mb < 60, f"{grown_mb:.0f} MB"
