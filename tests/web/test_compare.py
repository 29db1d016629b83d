"""Overrides (body level → need-level rules), what they cost, and the comparison of two plans."""

from __future__ import annotations

import pytest

from planner.domain.costs import group_cost, standalone_cost
from planner.domain.instance_io import instance_to_dict
from planner.services.plans import build_view, compare_views
from planner.services.scenarios import ScenarioError, apply_overrides, restrict_to_categories
from planner.web.plans import totals_steps
from tests.domain.factories import body, make_instance, need, reference_categories
from tests.reports.plans import settled_plan_doc

BODIES = [
    body("200000", "長野県", 36.2, 138.0, kind="prefecture", population=2_000_000),
    body("202011", "長野市", 36.65, 138.18, kind="city", population=370_000),
    body("202029", "松本市", 36.24, 137.97, kind="city", population=237_000),
    body("204820", "小谷村", 36.78, 137.91, kind="village", population=2_700, disadvantaged=True),
    body("204854", "白馬村", 36.70, 137.86, kind="village", population=8_900),
]
NEEDS = [
    need("n1", "202011", "ocr", 120, can_lead=True),
    need("n2", "202029", "ocr", 80),
    need("n3", "204820", "ocr", 5),
    need("n4", "204854", "ocr", 10, modes=("unified",)),
    need("n5", "202011", "rpa", 30, can_lead=True),
    need("n6", "204820", "rpa", 2),
    need("n7", "202029", "ocr", 40, start_year=2027),
]


@pytest.fixture
def instance():
    return make_instance(
        BODIES,
        NEEDS,
        categories=reference_categories("ocr", "rpa"),
        hosts=[{"body": "200000", "categories": ["ocr", "rpa"]}],
    )


def test_overrides_become_need_level_rules(instance):
    items = [
        {"id": "a", "kind": "together", "category": "ocr", "bodies": ["202011", "204820"]},
        {"id": "b", "kind": "apart", "category": "ocr", "bodies": ["202029", "204854"]},
        {"id": "c", "kind": "fix_standalone", "category": "rpa", "bodies": ["204820"]},
        {
            "id": "d",
            "kind": "fix_group",
            "category": "ocr",
            "bodies": ["202029"],
            "mode": "lead",
            "lead_body": "200000",
        },
    ]
    out = apply_overrides(instance, items)
    assert out.rules.together == (("n1", "n3"),)
    assert out.rules.apart == (("n2", "n4"),)  # the 2027 need of 松本市 (n7) cannot share a group anyway
    fixed = {f.need: (f.mode, f.lead_body) for f in out.rules.fixed}
    assert fixed == {"n6": ("standalone", None), "n2": ("lead", "200000"), "n7": ("lead", "200000")}
    assert apply_overrides(instance, []) is instance


def test_impossible_overrides_name_the_body(instance):
    with pytest.raises(ScenarioError, match="白馬村にRPAのニーズがありません"):
        apply_overrides(instance, [{"kind": "together", "category": "rpa", "bodies": ["202011", "204854"]}])
    with pytest.raises(ScenarioError, match="白馬村のニーズは幹事団体方式（一括調達）を受け入れていません"):
        apply_overrides(
            instance,
            [{"kind": "fix_group", "category": "ocr", "bodies": ["204854"], "mode": "lead", "lead_body": "200000"}],
        )
    with pytest.raises(ScenarioError, match="導入希望年度が異なる"):
        apply_overrides(
            make_instance(BODIES, [NEEDS[2], NEEDS[6]], categories=reference_categories("ocr")),
            [{"kind": "together", "category": "ocr", "bodies": ["204820", "202029"]}],
        )
    clash = [
        {"kind": "together", "category": "ocr", "bodies": ["202011", "204820"]},
        {"kind": "apart", "category": "ocr", "bodies": ["204820", "202011"]},
    ]
    with pytest.raises(ScenarioError, match="上書き設定を適用できません"):
        apply_overrides(instance, clash)


def test_restrict_to_categories_keeps_only_their_needs_and_rules(instance):
    ruled = apply_overrides(
        instance,
        [
            {"kind": "together", "category": "ocr", "bodies": ["202011", "204820"]},
            {"kind": "fix_standalone", "category": "rpa", "bodies": ["204820"]},
        ],
    )
    part = restrict_to_categories(ruled, {"rpa"})
    assert {n.id for n in part.needs} == {"n5", "n6"}
    assert part.rules.together == () and [f.need for f in part.rules.fixed] == ["n6"]


def view_of(instance, groups, plan_id):
    doc = settled_plan_doc(instance, groups)
    return build_view(plan_id, 1, None, "R8-ref-1", "R7-test", instance_to_dict(instance), doc)


def test_plan_view_totals_add_up(instance):
    view = view_of(instance, [("ocr-1", "lead", "200000", ["n1", "n2", "n3"])], 1)
    t = view.totals
    assert t.joint_yen == view.plan.objective_yen
    assert t.standalone_yen == sum(standalone_cost(instance, n).total_yen for n in instance.needs)
    assert t.net_yen == t.joint_yen - t.grant_yen - t.special_tax_yen
    assert t.saving_yen == t.standalone_yen - t.joint_yen
    assert next(s for s, _ in totals_steps(t)) == "単独導入の合計"
    g = view.by_id["ocr-1"]
    assert (
        g.totals.joint_yen
        == group_cost(instance, [instance.need(n) for n in ("n1", "n2", "n3")], "lead", "200000").total_yen
    )
    assert not g.lead_is_member and g.lead_name == "長野県"
    # A body's view: its lines across categories.
    nagano = view.body_totals("202011")
    assert nagano.joint_yen == sum(
        m.total_yen for gv in view.by_body["202011"] for m in gv.members if m.body_code == "202011"
    )
    assert view.includes_body("202011") and not view.includes_body("200000")
    assert [cid for cid, _, _ in view.category_totals()] == ["ocr", "rpa"]
    assert len(view.filter_groups(category="ocr", joint_only=True)) == 1
    assert {g.id for g in view.filter_groups(body="204820")} >= {"ocr-1"}


def test_comparison_lists_every_body_whose_group_or_burden_changed(instance):
    a = view_of(instance, [("ocr-1", "lead", "200000", ["n1", "n2", "n3"])], 1)
    b = view_of(instance, [("ocr-1", "lead", "200000", ["n1", "n2"]), ("rpa-1", "lead", "202011", ["n5", "n6"])], 2)
    cmp = compare_views(a, b)
    changed = {(c.body_code, c.category) for c in cmp.changes}
    # 小谷村 left the OCR group; 長野市 and 松本市 stayed but pay a different share; RPA became a group.
    assert ("204820", "ocr") in changed and ("202011", "rpa") in changed and ("204820", "rpa") in changed
    assert ("202011", "ocr") in changed  # same group members minus one: partners changed
    assert ("204854", "ocr") not in changed and ("202029", "ocr") in changed
    otari = next(c for c in cmp.changes if (c.body_code, c.category) == ("204820", "ocr"))
    assert otari.group_changed and otari.a.mode == "lead" and otari.b.mode == "standalone"
    assert otari.net_diff_yen == otari.b.net_without_grant_yen - otari.a.net_without_grant_yen
    # the headline is the net burden without the grant: alone, 小谷村 would get a grant its group (led by the
    # prefecture) does not, and the comparison's 実質負担 leaves that grant out
    line_a = next(m for g in a.groups for m in g.members if m.need_id == "n3")
    line_b = next(m for g in b.groups for m in g.members if m.need_id == "n3")
    assert line_b.grant_yen > 0 and line_b.net_yen != line_b.net_without_grant_yen
    assert (otari.a.net_without_grant_yen, otari.b.net_without_grant_yen) == (
        line_a.net_without_grant_yen,
        line_b.net_without_grant_yen,
    )
    rows = dict((label, (x, y)) for label, x, y in cmp.totals_rows)
    assert rows["共同調達後の総費用"] == (a.totals.joint_yen, b.totals.joint_yen)
    assert rows["実質負担（見込額・補助金なし）"] == (a.totals.net_without_grant_yen, b.totals.net_without_grant_yen)
    assert rows["補助金（採択された場合）"] == (a.totals.grant_yen, b.totals.grant_yen)
    assert rows["実質負担（採択された場合）"] == (a.totals.net_yen, b.totals.net_yen)
    assert b.totals.net_without_grant_yen == b.totals.joint_yen - b.totals.special_tax_without_grant_yen
    assert rows["共同調達グループ数"] == (1, 2)
    assert compare_views(a, a).changes == []


def test_the_comparison_names_the_conditions_that_differ(instance):
    import dataclasses

    from planner.domain.model import AllocationSpec, Geography, Rules

    a = view_of(instance, [("ocr-1", "lead", "200000", ["n1", "n2", "n3"])], 1)
    changed = dataclasses.replace(
        instance,
        horizon_years=7,
        rules=Rules(geography=Geography("radius_km", 40.0)),
        allocation=AllocationSpec(method="shapley", weights={}, core="adjust"),
    )
    b = view_of(changed, [("ocr-1", "lead", "200000", ["n1", "n2", "n3"])], 2)
    cmp = compare_views(a, b)
    assert cmp.differing_conditions == ["計画期間", "地理的条件", "按分方法", "コア調整"]
    rows = {r.label: (r.a, r.b) for r in cmp.condition_rows}
    assert rows["計画期間"] == ("各グループの導入年度から 5 年間", "各グループの導入年度から 7 年間")
    assert rows["地理的条件"] == ("同一都道府県内", "幹事団体から 40 km 以内")
    assert rows["単価"][0] == rows["単価"][1]
    assert compare_views(a, a).differing_conditions == []
