"""The effect estimate (導入効果): hand-computed hours, yen per hour and payback for a chatbot, an AI-OCR and an RPA
need, on the shipped effect model."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import ClassVar

import pytest

from planner.domain.effects import (
    ESTIMATE,
    NEEDS_OWN_FIGURE,
    NO_ESTIMATE,
    Baseline,
    Burdens,
    NeedEffect,
    Range,
    default_effect_model_doc,
    effects_from_plan,
    estimate_effects,
    estimate_need,
    parse_effect_model,
    total_hours,
    validate_effect_model,
)

MODEL_FILE = Path(__file__).resolve().parents[2] / "planner" / "data" / "effect_model" / "R7-06.json"


@pytest.fixture(scope="module")
def doc():
    return json.loads(MODEL_FILE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model(doc):
    return parse_effect_model(doc)


def test_shipped_model_is_valid_and_cites_the_survey_truthfully(doc, model):
    assert validate_effect_model(doc) == []
    assert "好事例" in model.caveat and "現状値" in model.caveat
    assert all("令和7年6月30日版" in title for title in model.sources.values())
    wordings = " ".join(c.wording for c in model.cases.values())
    for figure in (
        "13,364件",
        "約5分",
        "66,820分",
        "月60件",
        "1件1分",
        "700時間",
        "70%",
        "1,170時間",
        "100%",
        "105＋75＋300＋95時間",
        "22〜95%",
        "5,950時間",
        "57%",
        "2,800時間",
        "1,887時間",
        "4,024時間",
        "14.6時間〜2,000時間",
        "2週間〜2か月",
    ):
        assert figure in wordings, figure
    # every figure names the case it rests on
    for cat in model.categories.values():
        for spread in (cat.minutes_per_unit, cat.reduction_rate):
            if spread is not None:
                assert all(f.cases and f.basis for f in (spread.low, spread.central, spread.high))


def test_chatbot_from_the_model_with_money(model):
    # 13,364 inquiries (13.364 千件) x 1 / 3 / 5 minutes x 100 % / 60
    joint = Burdens(net_initial_yen=1_000_000, annual_yen=600_000, horizon_years=5)  # 4,000,000 net, 800,000 a year
    alone = Burdens(net_initial_yen=2_500_000, annual_yen=1_000_000, horizon_years=5)  # 7,500,000, 1,500,000 a year
    e = estimate_need(
        model, "n1", "chatbot", 13.364, unit="千件/年", joint=joint, standalone=alone, staff_cost_per_hour_yen=3000
    )
    assert e.status == ESTIMATE and e.basis == "model"
    assert e.driver_units == 13_364
    assert e.hours == Range(222.7, 668.2, 1113.7)  # 13,364/60 = 222.73; x3 = 668.2; x5 = 1,113.67
    # yen per hour: 800,000 / 1,113.7 = 718.3; / 668.2 = 1,197.2; / 222.7 = 3,592.3 (low yen with the high hours)
    assert e.joint.yearly_net_yen == 800_000
    assert e.joint.yen_per_hour == Range(718, 1197, 3592)
    assert e.standalone.yen_per_hour == Range(1347, 2245, 6736)  # 1,500,000 / 1,113.7, / 668.2, / 222.7 (6,735.5)
    # value: hours x 3,000 yen
    assert e.value_yen_per_year == Range(668_100, 2_004_600, 3_341_100)
    # payback = 1,000,000 / (value - 600,000): /2,741,100 = 0.36; /1,404,600 = 0.71; /68,100 = 14.68
    assert e.joint.payback_years == Range(0.4, 0.7, 14.7)
    # going alone, the low hours' value (668,100) does not cover the running cost (1,000,000): never paid back
    assert e.standalone.payback_years.high is None
    assert "好事例" not in e.message  # the caveat is the model's, shown once per page
    assert any("13,364件" in c and "令和7年6月30日版" in c for c in e.cases)


def test_chatbot_with_the_bodys_own_minutes(model):
    e = estimate_need(model, "n1", "chatbot", 2.0, baseline=Baseline(minutes_per_unit=4))
    assert e.basis == "own_minutes"
    assert e.hours == Range(133.3, 133.3, 133.3)  # 2,000 x 4 / 60
    assert "団体の現状値" in e.message


def test_ocr_needs_the_bodys_own_figure(model):
    e = estimate_need(model, "n2", "ocr", 20, unit="千枚/年")
    assert e.status == NEEDS_OWN_FIGURE and e.hours is None and e.joint is None
    assert "1枚あたり" in e.message
    assert any("5,950時間、57%" in c for c in e.cases)


def test_ocr_with_own_minutes_and_own_hours(model):
    joint = Burdens(net_initial_yen=500_000, annual_yen=300_000, horizon_years=5)  # 2,000,000 -> 400,000 a year
    e = estimate_need(model, "n2", "ocr", 20, baseline=Baseline(minutes_per_unit=3), joint=joint)
    # 20,000 sheets x 3 min = 1,000 h x 22 % / 57 % / 95 %
    assert e.hours == Range(220.0, 570.0, 950.0)
    assert e.joint.yen_per_hour == Range(421, 702, 1818)  # 400,000 / 950, / 570, / 220
    assert e.joint.payback_years is None and e.value_yen_per_year is None  # no staff cost: hours only
    own_hours = estimate_need(model, "n2", "ocr", 20, baseline=Baseline(minutes_per_unit=3, hours_per_year=300))
    assert own_hours.basis == "own_hours" and own_hours.hours == Range(66.0, 171.0, 285.0)


def test_rpa_from_the_model_and_from_own_hours(model):
    e = estimate_need(model, "n3", "rpa", 2, unit="ロボット数")
    # 2 scenarios x 876 / 10,253 / 120,000 min / 60
    assert e.hours == Range(29.2, 341.8, 4000.0)
    own = estimate_need(
        model,
        "n3",
        "rpa",
        2,
        baseline=Baseline(hours_per_year=500),
        joint=Burdens(200_000, 100_000, 4),
        staff_cost_per_hour_yen=2500,
    )
    assert own.hours == Range(500.0, 500.0, 500.0)
    assert own.value_yen_per_year == Range(1_250_000, 1_250_000, 1_250_000)
    assert own.joint.yen_per_hour == Range(300, 300, 300)  # (200,000 + 4 x 100,000) / 4 / 500
    assert own.joint.payback_years == Range(0.2, 0.2, 0.2)  # 200,000 / (1,250,000 - 100,000)


def test_no_invented_hours(model):
    matching = estimate_need(model, "n4", "matching", 3)
    assert matching.status == NO_ESTIMATE and matching.hours is None
    assert "2週間〜2か月" in matching.message or any("2週間〜2か月" in c for c in matching.cases)
    assert estimate_need(model, "n5", "genai", 40).status == NO_ESTIMATE
    assert estimate_need(model, "n6", "unknown", 1).status == NO_ESTIMATE
    # a price book whose unit differs from the model's: the driver units would be wrong
    assert estimate_need(model, "n1", "chatbot", 13, unit="件/年").status == NO_ESTIMATE


def test_model_problems_are_named(doc):
    bad = copy.deepcopy(doc)
    bad["categories"]["chatbot"]["minutes_per_unit"]["low"]["value"] = 9
    bad["categories"]["ocr"]["reduction_rate"]["high"]["value"] = 1.5
    bad["categories"]["rpa"]["minutes_per_unit"]["high"]["cases"] = ["nowhere"]
    del bad["caveat"]
    problems = validate_effect_model(bad)
    assert any("categories.chatbot.minutes_per_unit" in p and "low ≦ central ≦ high" in p for p in problems)
    assert any("categories.ocr.reduction_rate.high.value" in p for p in problems)
    assert any("nowhere" in p for p in problems)
    assert any(p.startswith("caveat") for p in problems)


def test_json_round_trip(model):
    e = estimate_need(
        model,
        "n1",
        "chatbot",
        13.364,
        joint=Burdens(1_000_000, 600_000, 5),
        standalone=Burdens(2_500_000, 1_000_000, 5),
        staff_cost_per_hour_yen=3000,
    )
    assert NeedEffect.from_json("n1", json.loads(json.dumps(e.to_json()))) == e
    assert effects_from_plan({"format": "kyodo-planner-plan/1"}) is None
    assert total_hours([e, e]) == Range(445.4, 1336.4, 2227.4)
    assert total_hours([estimate_need(model, "n4", "matching", 3)]) is None


def test_plan_effects_use_each_members_net_burden(model):
    """On a settled plan: yearly net burden = (gross initial - grant - special tax + H x annual) / H."""
    from planner.domain.settlement import settle_plan

    from .test_settlement import plan_and_instance

    inst, plan = plan_and_instance()
    settled = settle_plan(inst, plan)
    estimates = estimate_effects(
        inst, settled.groups, model, baselines={"a": Baseline(minutes_per_unit=2)}, staff_costs={"202011": 3000}
    )
    assert estimates.model_version == model.version and "好事例" in estimates.caveat
    back = effects_from_plan({"effects": json.loads(json.dumps(estimates.to_json()))})
    assert back == estimates  # the one JSON conversion loses nothing
    effects = back.needs
    assert set(effects) == {"a", "b", "c", "d"}
    a = effects["a"]
    assert a.hours == Range(146.7, 380.0, 633.3)  # 20,000 sheets x 2 min = 666.7 h x 22 / 57 / 95 %
    sub = settled.groups[0].subsidies["a"]
    # the headline net burden: the grant not awarded, the special tax on the whole initial share
    assert sub.special_tax_without_grant_yen is not None and sub.grant_yen > 0
    net_total = (
        sub.joint.gross.initial_yen
        - sub.special_tax_without_grant_yen
        + inst.horizon_years * sub.joint.gross.annual_yen
    )
    assert net_total == sub.net_without_grant_yen != sub.net_yen  # the same net burden the plan shows first
    assert a.joint.yearly_net_yen == round(net_total / inst.horizon_years)
    assert a.joint.yen_per_hour.central == round(net_total / inst.horizon_years / 380.0)
    assert a.joint.payback_years is not None and a.standalone is not None
    assert effects["b"].status == NEEDS_OWN_FIGURE and effects["b"].joint is None


def test_hours_totals_and_chart(model):
    from planner.charts import hours_range_svg
    from planner.domain.effects import hours_totals

    effects = {
        "a": estimate_need(model, "a", "chatbot", 13.364),
        "b": estimate_need(model, "b", "rpa", 2),
        "c": estimate_need(model, "c", "ocr", 20),
        "d": estimate_need(model, "d", "chatbot", 13.364),
    }
    totals = {t.key: t for t in hours_totals(effects, lambda nid: effects[nid].category)}
    assert totals["chatbot"].hours == Range(445.4, 1336.4, 2227.4) and totals["chatbot"].with_hours == 2
    assert totals["ocr"].hours is None and totals["ocr"].without_hours == 1
    svg = hours_range_svg([("チャットボット", 445.4, 1336.4, 2227.4), ("RPA", 29.2, 341.8, 4000.0)])
    assert svg.startswith("<svg") and "中位 1,336（445〜2,227）時間" in svg and "低位〜高位の幅" in svg
    assert "見込みがある項目がありません" in hours_range_svg([])


def test_member_lines_carry_the_effect_after_a_round_trip(model):
    """attach_effects puts the field on the plan; written and read back, member_lines gives each line its effect."""
    from planner.domain.settled import member_lines
    from planner.domain.settled_plan import settled_plan_from_dict
    from planner.domain.settlement import attach_effects, settle_plan

    from .test_settlement import plan_and_instance

    inst, plan = plan_and_instance()
    settled = attach_effects(inst, settle_plan(inst, plan), model, baselines={"a": Baseline(minutes_per_unit=2)})
    back = settled_plan_from_dict(json.loads(json.dumps(settled.to_dict())))
    lines = {ln.need_id: ln for g in back.groups for ln in member_lines(inst, g)}
    assert lines["a"].effect.hours == Range(146.7, 380.0, 633.3)
    assert lines["a"].effect.joint.yearly_net_yen == round(lines["a"].net_without_grant_yen / inst.horizon_years)
    assert lines["b"].effect.status == NEEDS_OWN_FIGURE
    assert back.to_dict()["effects"] == settled.to_dict()["effects"]


def test_yen_per_hour_divides_the_plans_own_net_total():
    """A share rounded on the total (initial + H x annual off by the rounding) uses the net total the plan prints."""
    from planner.domain.effects import money_effect

    burdens = Burdens(net_initial_yen=100_000, annual_yen=10_000, horizon_years=5, stated_net_total_yen=150_003)
    m = money_effect(burdens, Range(10.0, 20.0, 30.0), None)
    assert m.yearly_net_yen == 30_001  # 150,003 / 5 = 30,000.6
    assert m.yen_per_hour == Range(1000, 1500, 3000)


# --- the second version: RPA from the cases' quartiles, bounded by the body-wide cases ---------------------------

MODEL_FILE_2 = MODEL_FILE.with_name("R7-06-2.json")


@pytest.fixture(scope="module")
def doc2():
    return json.loads(MODEL_FILE_2.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model2(doc2):
    return parse_effect_model(doc2)


def test_log_quartiles_by_hand():
    from planner.domain.effects import log_quartiles

    # two values: the range read as spread evenly on a log scale, exp(ln a + p (ln b - ln a))
    q1, median, q3 = log_quartiles([14.6, 2000])
    assert median == pytest.approx((14.6 * 2000) ** 0.5)  # 170.88
    assert q1 == pytest.approx(14.6**0.75 * 2000**0.25)  # 49.95
    assert q3 == pytest.approx(14.6**0.25 * 2000**0.75)  # 584.60
    # five values: the order statistics themselves at 25 / 50 / 75 %
    assert log_quartiles([1, 10, 100, 1000, 10000]) == pytest.approx((10, 100, 1000))


def test_rpa_per_scenario_figures_are_the_cases_quartiles_not_the_outlier(doc2, model2):
    assert model2.version == "effect-R7.06-2"
    rpa = model2.categories["rpa"]
    # the file states no RPA minutes: they come from the case's per-task hours
    assert doc2["categories"]["rpa"]["minutes_per_unit"] == {"from_cases": ["rpa_scenarios"]}
    hours = [v / 60 for v in rpa.minutes_per_unit.values()]
    assert hours == pytest.approx([49.95, 170.88, 584.60], abs=0.01)
    assert hours[2] < 2000 / 3  # the 2,000-hour task is no longer a per-scenario figure
    assert "四分位" in rpa.minutes_per_unit.central.basis
    # editing the case's figures changes the derived figures (nothing is hard-coded)
    edited = copy.deepcopy(doc2)
    case = next(c for c in edited["cases"] if c["id"] == "rpa_scenarios")
    case["hours_per_task"] = [10, 100, 1000]
    derived = parse_effect_model(edited).categories["rpa"].minutes_per_unit.values()
    assert [v / 60 for v in derived] == pytest.approx([10**1.5, 100, 10**2.5])


def test_rpa_range_on_a_city_is_usable_and_says_how_it_was_made(model2):
    # 松本市 in the walkthrough: 29 robots, population 237,000 -> 29 x 49.95 / 170.88 / 584.60 h
    e = estimate_need(model2, "n", "rpa", 29, unit="ロボット数", population=237_000)
    assert e.hours == Range(1448.5, 4955.5, 16953.5)
    assert e.hours.high / e.hours.low < 12  # was 422〜57,800 (137 times)
    assert "事例の四分位" in e.message and "上限には達していません" in e.message
    assert "人口 237,000人" in e.message


def test_rpa_in_a_small_town_is_bounded_by_the_body_wide_cases(model2):
    # hours per resident: 1,887/38,000 = 0.04966, 4,024/28,000 = 0.14371, 2,800/15,000 = 0.18667 (low/median/high)
    # 5,000 residents: caps 248.3 / 718.6 / 933.3 h; 29 robots would claim 1,448.5 / 4,955.5 / 16,953.5
    e = estimate_need(model2, "n", "rpa", 29, unit="ロボット数", population=5_000)
    assert e.hours == Range(248.3, 718.6, 933.3)
    assert "低位・中位・高位を上限に抑えています" in e.message and "人口に比例" not in e.message
    assert "人口1人あたり年 0.050〜0.187時間" in e.message
    assert any("2,800時間" in c for c in e.cases) and any("4,024時間" in c for c in e.cases)
    # one robot in the same town stays under every cap (584.6 < 933.3)
    one = estimate_need(model2, "n", "rpa", 1, unit="ロボット数", population=5_000)
    assert one.hours == Range(49.9, 170.9, 584.6)
    # the body's own hours are never bounded
    own = estimate_need(model2, "n", "rpa", 29, baseline=Baseline(hours_per_year=5000), population=5_000)
    assert own.hours == Range(5000.0, 5000.0, 5000.0)
    # without a population the bound is not applied, and the text says so
    unknown = estimate_need(model2, "n", "rpa", 29, unit="ロボット数")
    assert unknown.hours == Range(1448.5, 4955.5, 16953.5) and "人口が分からない" in unknown.message


def test_derived_and_bound_problems_are_named(doc2):
    bad = copy.deepcopy(doc2)
    bad["categories"]["rpa"]["minutes_per_unit"] = {"from_cases": ["rpa_pop15k"]}
    bad["categories"]["rpa"]["body_bound"] = {"cases": ["rpa_scenarios"], "scaling": "area"}
    next(c for c in bad["cases"] if c["id"] == "rpa_pop38k")["hours_per_year"] = -1
    problems = validate_effect_model(bad)
    assert any("categories.rpa.minutes_per_unit.from_cases" in p and "rpa_pop15k" in p for p in problems)
    assert any("categories.rpa.body_bound.scaling" in p for p in problems)
    assert any("categories.rpa.body_bound.cases" in p and "rpa_scenarios" in p for p in problems)
    assert any("hours_per_year" in p and "cases[" in p for p in problems)


def test_plan_effects_bound_by_each_bodys_population(model2):
    # estimate_effects reads only need(), categories, horizon_years and bodies[code].population

    class Need:
        def __init__(self, body):
            self.body, self.category, self.volume = body, "rpa", 29

    class Body:
        def __init__(self, population):
            self.population = population

    class Instance:
        def __init__(self):
            self.horizon_years, self.categories = 5, {}
            self.bodies = {"a": Body(5_000), "b": Body(237_000)}

        def need(self, nid):
            return Need(nid)

    class Group:
        members = ("a", "b")
        subsidies: ClassVar[dict] = {}

    field = estimate_effects(Instance(), [Group()], model2).to_json()
    assert field["needs"]["a"]["hours_per_year"] == [248.3, 718.6, 933.3]
    assert field["needs"]["b"]["hours_per_year"] == [1448.5, 4955.5, 16953.5]


# --- the third version: RPA from the quartiles of the table's task rows (issue #31 point 6) -----------------------

MODEL_FILE_3 = MODEL_FILE.with_name("R7-06-3.json")


@pytest.fixture(scope="module")
def doc3():
    return json.loads(MODEL_FILE_3.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def model3(doc3):
    return parse_effect_model(doc3)


def test_rpa_per_scenario_figures_are_the_task_rows_quartiles(doc3, model3):
    assert model3.version == "effect-R7.06-3"
    assert parse_effect_model(default_effect_model_doc()).version == "effect-R7.06-3"  # the shipped current one
    rpa = model3.categories["rpa"]
    assert doc3["categories"]["rpa"]["minutes_per_unit"] == {"from_cases": ["rpa_scenarios"]}
    assert [v / 60 for v in rpa.minutes_per_unit.values()] == pytest.approx([53, 145, 541])
    assert (
        "中央値 145時間" in rpa.minutes_per_unit.central.basis and "業務ごとの行" in rpa.minutes_per_unit.central.basis
    )
    # the quartiles are the case's, read from the file: another reading gives other figures, with no change of code
    edited = copy.deepcopy(doc3)
    case = next(c for c in edited["cases"] if c["id"] == "rpa_scenarios")
    case["quartiles_per_task"] = [40, 120, 500]
    derived = parse_effect_model(edited).categories["rpa"].minutes_per_unit.values()
    assert [v / 60 for v in derived] == pytest.approx([40, 120, 500])


@pytest.mark.parametrize(
    ("quartiles", "problem"),
    [([53, 541], "quartiles_per_task"), ([541, 145, 53], "小さい順"), ([0, 145, 541], "正の数"), ("53", "quartiles")],
)
def test_quartiles_per_task_must_be_three_increasing_hours(doc3, quartiles, problem):
    bad = copy.deepcopy(doc3)
    next(c for c in bad["cases"] if c["id"] == "rpa_scenarios")["quartiles_per_task"] = quartiles
    problems = validate_effect_model(bad)
    assert any("cases[" in p and problem in p for p in problems), problems


def test_rpa_on_matsumoto_and_on_a_small_town(model3):
    # 松本市 in the walkthrough: 29 robots, 237,000 residents: 29 x 53 / 145 / 541 h, under the body-wide caps
    # (0.0497 / 0.1437 / 0.1867 h per resident: 11,769 / 34,058 / 44,240 h)
    city = estimate_need(model3, "n", "rpa", 29, unit="ロボット数", population=237_000)
    assert city.hours == Range(1537.0, 4205.0, 15689.0)
    assert city.hours.high / city.hours.low < 11  # version 1: 422〜57,800 h (137 times)
    assert "事例の四分位" in city.message and "上限には達していません" in city.message
    # a town of 5,000 with 29 robots: every level is the body-wide cases' hours per resident times 5,000
    town = estimate_need(model3, "n", "rpa", 29, unit="ロボット数", population=5_000)
    assert town.hours == Range(248.3, 718.6, 933.3)
    assert "低位・中位・高位を上限に抑えています" in town.message and "人口1人あたり年 0.050〜0.187時間" in town.message
    # one robot there: the quartiles themselves (541 < 933.3)
    assert estimate_need(model3, "n", "rpa", 1, unit="ロボット数", population=5_000).hours == Range(53.0, 145.0, 541.0)
