import copy
import json

import pytest

from planner.domain.settled_plan import settled_plan_from_dict
from planner.reports.context import ReportError, group_report, member_notice, summary_report

from .fixtures import nagano_instance
from .plans import settled_plan_doc

GROUPS = [
    ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
    ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
]


@pytest.fixture(scope="module")
def instance():
    return nagano_instance()


@pytest.fixture
def doc(instance):
    return settled_plan_doc(instance, GROUPS)


def test_group_report_carries_the_plan_figures(instance, doc):
    r = group_report(instance, settled_plan_from_dict(doc), "ocr-2026-1")
    g = doc["groups"][0]
    assert (r.initial_yen, r.annual_yen, r.total_yen) == tuple(
        g["cost"][k] for k in ("initial_yen", "annual_yen", "total_yen")
    )
    assert [m.need_id for m in r.members] == g["members"]
    for m in r.members:
        share, sub = g["allocation"]["shares"][m.need_id], g["subsidies"][m.need_id]
        assert (m.initial_yen, m.annual_yen, m.total_yen) == (
            share["initial_yen"],
            share["annual_yen"],
            share["total_yen"],
        )
        assert (m.grant_yen, m.special_tax_yen, m.net_yen) == (sub["grant_yen"], sub["special_tax_yen"], sub["net_yen"])
    assert r.lead_is_member and r.members[0].is_lead
    assert r.saving_yen == g["standalone_total_yen"] - g["cost"]["total_yen"]
    assert r.meta.price_book_version == "R8-ref-1" and r.rule_version == "R7-test"
    # the build-up's lines add up to the plan's figures
    assert sum(line.yen for line in r.initial_lines) == r.initial_yen
    assert round(sum(line.yen for line in r.annual_lines)) == r.annual_yen


def test_host_lead_is_not_a_member(instance, doc):
    r = group_report(instance, settled_plan_from_dict(doc), "rpa-2026-1")
    assert r.lead_name == "長野県" and not r.lead_is_member
    assert r.lead_head == "長野県知事" and r.members[0].body_head == "長野市長"
    assert all(not m.is_lead for m in r.members)


def test_member_notice_by_fiscal_year(instance, doc):
    n = member_notice(instance, settled_plan_from_dict(doc), "n-otari-ocr")
    m = n.member
    assert [y.fiscal_year for y in n.years] == [2026, 2027, 2028, 2029, 2030]
    assert n.years[0].initial_yen == m.initial_yen and all(y.initial_yen == 0 for y in n.years[1:])
    assert n.years[0].grant_yen == m.grant_yen and n.years[0].special_tax_yen == m.special_tax_yen
    assert sum(y.gross_yen for y in n.years) == m.total_yen
    assert sum(y.net_yen for y in n.years) == m.net_yen
    assert m.special_tax_yen > 0  # 小谷村 is disadvantaged: the fixture gives it special tax
    assert n.schedule_note == ""


def test_share_rounded_on_the_total_lands_in_the_last_year(instance, doc):
    shares = doc["groups"][0]["allocation"]["shares"]
    a, b = shares["n-nagano-ocr"], shares["n-matsumoto-ocr"]
    a["total_yen"] += 3
    b["total_yen"] -= 3
    for nid, d in (("n-nagano-ocr", 3), ("n-matsumoto-ocr", -3)):
        doc["groups"][0]["subsidies"][nid]["net_yen"] += d
        doc["groups"][0]["subsidies"][nid]["gross"]["total_yen"] += d
    n = member_notice(instance, settled_plan_from_dict(doc), "n-nagano-ocr")
    assert sum(y.gross_yen for y in n.years) == n.member.total_yen
    assert n.years[-1].annual_yen == n.member.annual_yen + 3 and "+3円" in n.schedule_note


def test_summary_totals(instance, doc):
    s = summary_report(instance, settled_plan_from_dict(doc))
    assert [r.group.group_id for r in s.groups] == ["ocr-2026-1", "rpa-2026-1"]
    assert len(s.standalone_groups) == 1
    assert s.plan_total_yen == doc["objective_yen"]
    assert s.standalone_total_yen == doc["standalone_total_yen"]
    assert s.region == "長野県"
    assert sum(c.plan_yen for c in s.categories) == s.plan_total_yen
    assert s.net_yen == s.plan_total_yen - s.grant_yen - s.special_tax_yen
    assert {g["id"] for g in s.map_groups} == {"ocr-2026-1", "rpa-2026-1"}


def test_the_summary_period_is_the_groups_years_not_the_base_year(instance, doc):
    """The instance's fiscal_year (基準年度) changes no figure; the groups' horizons run from their 導入年度."""
    import dataclasses

    moved = dataclasses.replace(instance, fiscal_year=2031)
    s = summary_report(moved, settled_plan_from_dict(doc))
    years = [r.group.start_year for r in s.groups] + [g.start_year for g in s.standalone_groups]
    last = max(years) + instance.horizon_years - 1
    assert s.period_label == (
        f"令和{min(years) - 2018}年度〜令和{last - 2018}年度（各グループの導入年度から{instance.horizon_years}年間）"
    )
    assert "令和13年度" not in s.period_label


def _gross_differs_from_share(record):
    record["gross"]["total_yen"] += 1_000
    record["net_yen"] += 1_000


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda g: g["cost"].__setitem__("annual_yen", g["cost"]["annual_yen"] + 1), "単価表からの計算"),
        (lambda g: g.pop("allocation"), "allocation.shares"),
        (lambda g: g["allocation"]["shares"]["n-otari-ocr"].__setitem__("initial_yen", 1), "初期費用負担の合計"),
        (lambda g: g["subsidies"]["n-otari-ocr"].__setitem__("net_yen", 5), "実質負担"),
        (lambda g: g["allocation"]["shares"]["n-otari-ocr"].__setitem__("total_yen", "1,000"), "整数の円"),
        (lambda g: g["allocation"]["shares"].pop("n-hakuba-ocr"), "n-hakuba-ocr"),
        (lambda g: _gross_differs_from_share(g["subsidies"]["n-otari-ocr"]), "見込額の負担額"),
    ],
)
def test_inconsistent_plans_are_refused_with_the_group_named(instance, doc, breakage, message):
    """Refused when the plan is read (figures that contradict each other within a record) or when it is printed
    (figures that contradict the instance or each other across records); ReportError is a ValueError."""
    broken = copy.deepcopy(doc)
    breakage(broken["groups"][0])
    with pytest.raises(ValueError) as e:
        group_report(instance, settled_plan_from_dict(broken), "ocr-2026-1")
    assert "ocr-2026-1" in str(e.value) and message in str(e.value)


def test_unknown_ids(instance, doc):
    plan = settled_plan_from_dict(doc)
    with pytest.raises(ReportError, match="no-such"):
        group_report(instance, plan, "no-such")
    with pytest.raises(ReportError, match="nobody"):
        member_notice(instance, plan, "nobody")


def test_a_plan_file_without_settlement_is_settled_by_planner_report(instance, doc, tmp_path):
    """A hand-made plan file (the optimiser's groups, no allocation or estimates) is settled when read for
    printing; a lone member then pays its whole cost, its own standalone cost."""
    from planner.reports.files import load_plan

    alone = next(g for g in doc["groups"] if g["mode"] == "standalone")
    for g in doc["groups"]:
        g.pop("allocation")
        g.pop("subsidies")
    path = tmp_path / "plan.json"
    path.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    plan = load_plan(path, instance)
    r = group_report(instance, plan, alone["id"])
    assert r.members[0].total_yen == alone["cost"]["total_yen"] and r.saving_yen == 0
    assert all(g.subsidies.keys() == set(g.members) for g in plan.groups)


def test_shared_notes_are_printed_once_with_the_members_named(instance, doc):
    g = doc["groups"][0]
    names = {"n-nagano-ocr": "長野市", "n-matsumoto-ocr": "松本市", "n-otari-ocr": "小谷村", "n-hakuba-ocr": "白馬村"}
    for nid in g["members"]:
        g["subsidies"][nid]["notes"] = [
            "補助金・特別交付税の額はいずれも見込額です（算定ルール R7-test）。",
            "補正係数を1.0として計算しています。",
        ]
    g["subsidies"]["n-otari-ocr"]["notes"].append("特別交付税の見込額は0円です: 条件不利地域なし")
    g["subsidies"]["n-hakuba-ocr"]["notes"].append("特別交付税の見込額は0円です: 条件不利地域なし")
    r = group_report(instance, settled_plan_from_dict(doc), "ocr-2026-1")
    assert r.grouped_notes == [
        ("全団体", "補正係数を1.0として計算しています。"),
        (f"{names['n-otari-ocr']}・{names['n-hakuba-ocr']}", "特別交付税の見込額は0円です: 条件不利地域なし"),
    ]


def test_formula_method_is_labelled_with_its_weights(instance, doc):
    g = doc["groups"][0]
    g["allocation"]["method"] = "formula"
    g["allocation"]["weights"] = {"equal": 0.1, "population": 0.9, "volume": 0.0}
    r = group_report(instance, settled_plan_from_dict(doc), "ocr-2026-1")
    assert r.method_label == "均等割10%・人口割90%"
    assert r.method_formula.startswith(
        "各団体の契約予定額（見込） ＝ グループの費用 × （10% ÷ 参加団体数 ＋ 90% × 人口"
    )  # a 仕様統一 group
