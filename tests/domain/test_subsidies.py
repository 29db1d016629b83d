"""Subsidy estimates by hand (subsidy-rules.md): who the grant's project is, its cap, the special allocation tax
with its measure requirements and its cap on the project cost, bodies outside 特別交付税, rates by mode, rounding,
and the typed rule set's validation."""

import copy
import json

import pytest

from planner.domain.settled import SubsidyEstimate, subsidy_from_json
from planner.domain.subsidies import (
    CapLedger,
    default_rules,
    estimate_group,
    grant_estimates,
    parse_rules,
    special_tax_estimate,
    validate_rules,
)
from planner.domain.subsidy_rules import RULES_DIR, SubsidyRulesError

from .factories import body, make_instance, need, reference_categories

BODIES = [
    body("204820", "小谷村", 36.7767, 137.9086, kind="village", disadvantaged=True),
    body("204412", "木曽町", 35.8425, 137.6917, disadvantaged=True),
    body("202177", "佐久市", 36.2489, 138.4769, kind="city"),
    body("202011", "長野市", 36.6486, 138.1948, kind="city"),
    body("131008", "横浜市", 35.4437, 139.6380, pref="14", kind="designated_city"),
    body("205885", "飯綱町", 36.7550, 138.2560, has_data_plan=False),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture", disadvantaged=True),
    body("131016", "千代田区", 35.6940, 139.7536, kind="special_ward"),
    body("203211", "軽井沢町", 36.3484, 138.5969, disadvantaged=True, no_allocation_tax=True),
]


def instance():
    needs = [
        need("v", "204820"),
        need("k", "204412"),
        need("s", "202177"),
        need("y", "131008"),
        need("i", "205885"),
        need("p", "200000", serves_disadvantaged_area=True),
        need("r", "204412", category="rpa"),
        need("k2", "204412", volume=3, serves_disadvantaged_area=True),
        need("chat", "204412", category="chatbot", serves_disadvantaged_area=True),
        need("ward", "131016", category="rpa"),
        need("karu", "203211", category="chatbot", serves_disadvantaged_area=True),
    ]
    return make_instance(BODIES, needs, categories=reference_categories("ocr", "rpa", "chatbot"))


RULES = default_rules()
RULE_SET = parse_rules(RULES)


def parts(initial, annual=0, horizon=5):
    return {"initial_yen": initial, "annual_yen": annual, "total_yen": initial + horizon * annual}


def test_shipped_rule_set_is_the_r2_budget_terms_and_cites_only_that_edition_for_terms():
    assert [p.name for p in RULES_DIR.glob("*.json")] == ["R2-budget.json"]
    assert RULES["version"] == "R2-budget-2" and RULES["fiscal_year"] == 2020
    assert validate_rules(RULES) == []
    assert "令和2年度予算" in RULE_SET.name and RULE_SET.label == "R2-budget-2（令和2年度予算の制度条件）"
    assert "令和7年6月30日版" not in json.dumps(RULES, ensure_ascii=False)
    r2 = next(s for s in RULE_SET.sources if s.id == "mic_ai_rpa_r2")
    assert r2.title == "自治体におけるAI・RPA活用促進（令和2年度予算）"
    assert RULE_SET.grant.sources == ("mic_ai_rpa_r2",)
    assert all(m.sources == ("mic_ai_rpa_r2",) for m in RULE_SET.measures)
    assert RULE_SET.grant.rate("lead") == RULE_SET.grant.rate("standalone") == 0.5
    assert RULE_SET.grant.cap_per_project_yen == 20_000_000 and RULE_SET.grant.competitive
    assert RULE_SET.rounding == "yen" and RULE_SET.correction_table is None
    # the category -> measure mapping is rule data: every AI category under (a), RPA under (b)
    advanced, smart = RULE_SET.measures
    assert set(advanced.categories) == {"chatbot", "speech", "ocr", "matching", "image", "optimal", "forecast", "genai"}
    assert advanced.need_requirement == "serves_disadvantaged_area" and advanced.requires_disadvantaged
    assert set(smart.categories) == {"rpa"} and smart.need_requirement is None


# --- the grant follows the 実施主体 -------------------------------------------------------------------------


def test_prefecture_hosted_lead_group_gets_no_grant_and_every_line_says_why():
    inst = instance()
    grants = grant_estimates(
        inst, "lead", "200000", ["v", "k", "s"], {"v": 4_000_000, "k": 3_000_000, "s": 2_000_000}, RULE_SET
    )
    for nid in "vks":  # each member is eligible on its own, but the project is the prefecture's
        assert grants[nid].amount_yen == 0 and not grants[nid].eligible
        assert grants[nid].reason.startswith("対象外の団体種別") and "幹事団体の長野県" in grants[nid].reason
        assert grants[nid].implementer_body == "200000"


def test_lead_without_data_plan_gets_its_estimate_with_the_condition_and_a_designated_city_lead_none():
    inst = instance()
    no_plan = grant_estimates(inst, "lead", "205885", ["i", "v"], {"i": 4_000_000, "v": 4_000_000}, RULE_SET)
    # the 推進計画 is a condition of the decision, met by the application: the estimate stands, the condition said
    assert [no_plan[n].amount_yen for n in ("i", "v")] == [2_000_000, 2_000_000]
    assert all(
        g.reason.startswith("推進計画未提出")
        and "飯綱町" in g.reason
        and "交付申請時までに推進計画を提出すれば対象" in g.reason
        for g in no_plan.values()
    )
    city = grant_estimates(inst, "lead", "131008", ["y", "v"], {"y": 4_000_000, "v": 4_000_000}, RULE_SET)
    assert all(g.amount_yen == 0 and "指定都市" in g.reason for g in city.values())


def test_eligible_lead_over_the_cap_one_cap_divided_by_initial_shares():
    inst = instance()
    # group initial 20M + 16M + 8M = 44M; 1/2 = 22M > 20M cap -> the group's grant is 20,000,000, divided 20:16:8:
    # 9,090,909.09 / 7,272,727.27 / 3,636,363.63 -> floors 19,999,999, the yen left to the largest fraction (s)
    grants = grant_estimates(
        inst, "lead", "204820", ["v", "k", "s"], {"v": 20_000_000, "k": 16_000_000, "s": 8_000_000}, RULE_SET
    )
    assert [grants[n].amount_yen for n in "vks"] == [9_090_909, 7_272_727, 3_636_364]
    assert all(g.capped and g.reason.startswith("上限到達") for g in grants.values())
    # a designated city inside an eligible lead's group gets its share: eligibility is judged on the lead only
    mixed = grant_estimates(inst, "lead", "204820", ["v", "y"], {"v": 3_000_000, "y": 1_000_001}, RULE_SET)
    # group 4,000,001 x 1/2 = 2,000,000.5 -> 2,000,000 (rounded down), split 3,000,000 : 1,000,001
    # = 1,499,999.625 / 500,000.375 -> floors 1,999,999, one yen to v
    assert mixed["v"].amount_yen == 1_500_000 and mixed["y"].amount_yen == 500_000
    # unified: each member is its own project with its own cap, so nothing is cut
    unified = grant_estimates(
        inst, "unified", "204820", ["v", "k", "s"], {"v": 20_000_000, "k": 16_000_000, "s": 8_000_000}, RULE_SET
    )
    assert [unified[n].amount_yen for n in "vks"] == [10_000_000, 8_000_000, 4_000_000]
    alone = grant_estimates(inst, "standalone", None, ["v"], {"v": 50_000_001}, RULE_SET)
    assert alone["v"].amount_yen == 20_000_000 and alone["v"].reason.startswith("上限到達")


def test_in_unified_mode_each_member_is_judged_on_itself():
    inst = instance()
    grants = grant_estimates(
        inst,
        "unified",
        "202177",
        ["s", "y", "i", "p"],
        {"s": 3_000_001, "y": 3_000_000, "i": 3_000_000, "p": 3_000_000},
        RULE_SET,
    )
    assert grants["s"].amount_yen == 1_500_000 and grants["s"].reason is None  # 1,500,000.5 rounded down
    assert grants["y"].amount_yen == 0 and "指定都市" in grants["y"].reason
    assert grants["i"].amount_yen == 1_500_000 and grants["i"].reason.startswith("推進計画未提出")  # a condition
    assert grants["p"].amount_yen == 0 and "都道府県" in grants["p"].reason
    assert grants["s"].rule.startswith("地域IoT実装・共同利用推進事業（補助率1/2、上限20,000,000円/事業")


# --- which categories the grant covers (rule data) -----------------------------------------------------------------


def test_the_grants_categories_are_rule_data_with_rpa_and_genai_marked_to_be_confirmed():
    cats = RULE_SET.grant.categories
    assert {c for c, v in cats.items() if v.status == "対象"} == {
        "chatbot",
        "speech",
        "ocr",
        "matching",
        "image",
        "optimal",
        "forecast",
    }
    assert {c for c, v in cats.items() if v.status == "要確認"} == {"rpa", "genai"}
    # every status rests on the source's own words (subsidy-rules.md section 1), and 要確認 says why
    assert all(v.quote == "令和2年度よりAI等活用を新設" for v in cats.values())
    assert cats["genai"].reason == "R2資料は「AI等活用を新設」とするのみで、生成AIが対象か明らかでない"
    assert cats["rpa"].reason == "R2資料の補助金の記載（AI等活用を新設）からはRPAが対象か明らかでない"
    assert "RPAが対象か明らかでない" in cats["rpa"].reason
    assert RULES["grant"]["categories"]["sources"] == ["mic_ai_rpa_r2", "planner_policy"]


def test_a_to_be_confirmed_category_gets_its_estimate_with_to_be_confirmed_and_the_reason():
    inst = instance()
    rpa = grant_estimates(inst, "standalone", None, ["r"], {"r": 3_000_000}, RULE_SET)["r"]
    assert rpa.amount_yen == 1_500_000 and rpa.eligible  # estimated as for a covered category ...
    assert rpa.to_confirm == "RPA：R2資料の補助金の記載（AI等活用を新設）からはRPAが対象か明らかでない"
    ocr = grant_estimates(inst, "standalone", None, ["k"], {"k": 3_000_000}, RULE_SET)["k"]
    assert ocr.amount_yen == 1_500_000 and ocr.to_confirm is None
    # ... and the member's record and lines say it beside the figures (a 0 grant has nothing to confirm)
    est = estimate_group(inst, "standalone", None, ["r"], {"r": parts(3_000_000)}, {"r": parts(3_000_000)}, RULE_SET)
    assert est["r"].grant_to_confirm == rpa.to_confirm
    assert f"補助金の見込額は要確認（{rpa.to_confirm}）。" in est["r"].notes
    assert subsidy_from_json("r", est["r"].to_json()).joint.grant.to_confirm == rpa.to_confirm
    none = grant_estimates(inst, "standalone", None, ["ward"], {"ward": 0}, RULE_SET)["ward"]
    assert none.amount_yen == 0 and none.to_confirm is None


def test_a_category_the_rule_set_does_not_list_gets_no_grant_with_the_reason():
    doc = copy.deepcopy(RULES)
    del doc["grant"]["categories"]["value"]["rpa"]
    rules = parse_rules(doc)
    inst = instance()
    g = grant_estimates(inst, "standalone", None, ["r"], {"r": 3_000_000}, rules)["r"]
    assert g.amount_yen == 0 and not g.eligible
    assert g.reason == "対象外の分野（分野「RPA」は地域IoT実装・共同利用推進事業の対象分野にありません）"
    # a rule set written before the field covers every category, each 要確認 with what the administrator must do
    del doc["grant"]["categories"]
    older = parse_rules(doc)
    g = grant_estimates(inst, "standalone", None, ["k"], {"k": 3_000_000}, older)["k"]
    assert g.amount_yen == 1_500_000 and "grant.categories" in g.to_confirm and "管理者が分野ごとに" in g.to_confirm


# --- special allocation tax -------------------------------------------------------------------------------


def test_a_towns_back_office_ai_ocr_gets_no_measure_a():
    inst = instance()  # 木曽町 has a 条件不利地域, but its AI-OCR is not a service for the residents there
    tax, _ = special_tax_estimate(inst, "k", "standalone", 3_000_000, 1_500_000, RULE_SET)
    assert tax.amount_yen == 0 and tax.measure is None
    assert tax.reason.startswith("条件不利地域の住民向けサービスではない")


def test_the_towns_resident_chatbot_gets_measure_a_at_half_with_the_cap_on_the_project_cost():
    inst = instance()
    alone = {"chat": parts(60_000_000, 1_000_000)}
    est = estimate_group(inst, "standalone", "204412", ["chat"], alone, alone, RULE_SET)["chat"]
    assert isinstance(est, SubsidyEstimate)
    # grant: 1/2 x 60,000,000 = 30,000,000 > cap -> 20,000,000
    assert est.grant_yen == 20_000_000
    # special tax: project cost counted 40,000,000 (the municipal cap per year, on the cost before the grant);
    # grant deducted in proportion: 20,000,000 x 40/60 = 13,333,333.33 -> 13,333,333; base 26,666,667;
    # x 0.5 x 1.0 = 13,333,333.5 -> 13,333,333 (rounded down to the yen)
    tax = est.joint.special_tax
    assert tax.measure_id == "advanced_ict" and tax.rate == 0.5 and tax.correction == 1.0
    assert tax.base_yen == 26_666_667 and tax.amount_yen == 13_333_333
    assert tax.capped_by_base and tax.reason.startswith("上限到達")
    assert est.net_yen == 65_000_000 - 20_000_000 - 13_333_333
    # without the cap the same chatbot at 30,000,000: grant 15,000,000, base 15,000,000, tax 7,500,000
    small = {"chat": parts(30_000_000)}
    est = estimate_group(inst, "standalone", "204412", ["chat"], small, small, RULE_SET)["chat"]
    assert (est.grant_yen, est.special_tax_yen, est.joint.special_tax.reason) == (15_000_000, 7_500_000, None)


def test_rpa_at_three_tenths_and_a_city_without_a_disadvantaged_area():
    inst = instance()
    rpa, _ = special_tax_estimate(inst, "r", "standalone", 1_500_000, 0, RULE_SET)
    assert rpa.amount_yen == 450_000 and rpa.rate == 0.3 and rpa.measure == "自治体行政のスマート化"
    rules = copy.deepcopy(RULES)  # 佐久市 has no 条件不利地域: even a resident service gets no measure (a)
    inst2 = make_instance(
        BODIES, [need("s", "202177", serves_disadvantaged_area=True)], categories=reference_categories("ocr")
    )
    city, _ = special_tax_estimate(inst2, "s", "standalone", 1_500_000, 0, rules)
    assert city.amount_yen == 0 and city.reason.startswith("条件不利地域なし")


def test_special_ward_and_a_body_without_ordinary_allocation_tax_get_zero_with_reasons():
    inst = instance()
    ward = {"ward": parts(2_000_000)}
    est = estimate_group(inst, "standalone", "131016", ["ward"], ward, ward, RULE_SET)["ward"]
    assert est.grant_yen == 1_000_000  # a special ward may receive the grant
    assert est.special_tax_yen == 0 and est.joint.special_tax.reason.startswith("特別区")
    assert "都区財政調整制度" in est.joint.special_tax.reason
    assert any(n.startswith("特別交付税の見込額は0円です: 特別区") for n in est.notes)
    karu = {"karu": parts(2_000_000)}
    est = estimate_group(inst, "standalone", "203211", ["karu"], karu, karu, RULE_SET)["karu"]
    assert est.grant_yen == 1_000_000 and est.special_tax_yen == 0
    assert est.joint.special_tax.reason.startswith("不交付団体") and "軽井沢町" in est.joint.special_tax.reason
    assert est.standalone.special_tax.amount_yen == 0


def test_a_mode_dependent_rate():
    rules = copy.deepcopy(RULES)
    smart = next(m for m in rules["special_tax"]["measures"] if m["id"] == "smart_government")
    smart["categories"]["value"]["rpa"] = {"lead": 0.5, "unified": 0.4, "standalone": 0.3}
    rules["grant"]["rate"]["value"] = {"lead": 0.75, "unified": 0.5, "standalone": 0.5}
    rule_set = parse_rules(rules)
    inst = instance()
    shares = {"r": parts(1_000_000)}
    alone = {"r": parts(2_000_000)}
    est = estimate_group(inst, "unified", "204412", ["r"], shares, alone, rule_set)["r"]
    # unified: grant 1/2 x 1,000,000 = 500,000; tax 0.4 x (1,000,000 - 500,000) = 200,000
    assert est.grant_yen == 500_000 and est.special_tax_yen == 200_000 and est.joint.special_tax.rate == 0.4
    assert "（仕様統一）" in est.joint.special_tax.rule
    # its standalone alternative: grant 1,000,000; tax 0.3 x 1,000,000 = 300,000
    assert est.standalone.grant.amount_yen == 1_000_000 and est.standalone.special_tax.amount_yen == 300_000
    lead = estimate_group(inst, "lead", "204412", ["r"], shares, alone, rule_set)["r"]
    # lead: grant 3/4 x 1,000,000 = 750,000; tax 0.5 x 250,000 = 125,000
    assert lead.grant_yen == 750_000 and lead.special_tax_yen == 125_000
    assert "幹事一括3/4・仕様統一1/2・単独1/2" in lead.joint.grant.rule


def test_the_cap_on_the_project_cost_is_shared_by_a_bodys_projects_in_one_year():
    inst = instance()
    ledger = CapLedger()
    first, _ = special_tax_estimate(inst, "chat", "lead", 30_000_000, 0, RULE_SET, ledger)
    assert first.base_yen == 30_000_000 and first.amount_yen == 15_000_000
    # the same town's second measure-(a) project that year: 10M of the 40M left; of its 20M cost 10M is counted,
    # its grant 4M deducted in proportion (4M x 10/20 = 2M): base 8M, tax 4M
    second, _ = special_tax_estimate(inst, "k2", "lead", 20_000_000, 4_000_000, RULE_SET, ledger)
    assert second.base_yen == 8_000_000 and second.amount_yen == 4_000_000
    assert "計上済み" in second.reason
    third, _ = special_tax_estimate(inst, "chat", "lead", 5_000_000, 0, RULE_SET, ledger)
    assert third.amount_yen == 0 and third.base_yen == 0
    rpa, _ = special_tax_estimate(inst, "r", "lead", 10_000_000, 0, RULE_SET, ledger)  # (b) has no cap
    assert rpa.amount_yen == 3_000_000
    prefecture, _ = special_tax_estimate(inst, "p", "standalone", 300_000_000, 0, RULE_SET)
    assert prefecture.base_yen == 120_000_000 and prefecture.amount_yen == 60_000_000


def test_correction_not_set_is_said_and_a_set_table_is_applied():
    inst = instance()
    _, notes = special_tax_estimate(inst, "chat", "standalone", 1_000_000, 0, RULE_SET)
    assert any("財政力補正の表が未設定" in n for n in notes)
    rules = copy.deepcopy(RULES)
    rules["fiscal_correction"]["table"] = [
        {"min_index": 0.0, "max_index": 0.3, "coefficient": 1.0},
        {"min_index": 0.3, "max_index": 0.5, "coefficient": 0.8},
        {"min_index": 0.5, "max_index": None, "coefficient": 0.6},
    ]
    assert validate_rules(rules) == []
    tax, notes = special_tax_estimate(inst, "chat", "standalone", 1_000_000, 0, rules)  # fsi 0.4 -> 0.8
    assert tax.amount_yen == 400_000 and tax.correction == 0.8 and notes == []


def test_where_two_measures_apply_the_larger_is_taken_and_named():
    rules = copy.deepcopy(RULES)
    smart = next(m for m in rules["special_tax"]["measures"] if m["id"] == "smart_government")
    smart["categories"]["value"]["chatbot"] = 0.3
    inst = instance()
    tax, notes = special_tax_estimate(inst, "chat", "standalone", 1_000_000, 0, rules)
    assert tax.amount_yen == 500_000 and tax.measure.startswith("条件不利地域")
    assert any("複数の措置が該当" in n for n in notes)


def test_thousand_yen_rounding_is_rule_data_and_printed():
    rules = copy.deepcopy(RULES)
    rules["rounding"]["value"] = "thousand_yen"
    inst = instance()
    alone = {"chat": parts(60_000_000)}
    est = estimate_group(inst, "standalone", "204412", ["chat"], alone, alone, rules)["chat"]
    assert est.special_tax_yen == 13_333_000 and est.grant_yen == 20_000_000
    assert est.rounding == "千円未満切捨て" and "千円未満切捨て" in est.notes[0]


def test_member_record_says_estimate_rule_set_administrator_check_and_public_call():
    inst = instance()
    shares = {"v": parts(2_000_000, 500_000), "k": parts(2_000_001, 500_000)}
    alone = {n: parts(4_000_000, 900_000) for n in "vk"}
    out = estimate_group(inst, "lead", "204820", ["v", "k"], shares, alone, RULE_SET)
    k = out["k"]
    # group 4,000,001 x 1/2 -> 2,000,000, split 2,000,000 : 2,000,001 -> 999,999.75 / 1,000,000.25 -> v gets the yen
    assert out["v"].grant_yen == 1_000_000 and k.grant_yen == 1_000_000
    assert k.special_tax_yen == 0  # AI-OCR, not a resident service
    assert k.net_yen == 4_500_001 - 1_000_000
    assert k.standalone.grant.amount_yen == 2_000_000
    assert k.rule_version == "R2-budget-2（令和2年度予算の制度条件）" and k.rounding == "1円未満切捨て"
    assert k.sources == ("総務省「自治体におけるAI・RPA活用促進（令和2年度予算）」",)  # the edition every term cites
    assert k.notes[0].startswith("補助金・特別交付税の額はいずれも見込額です（算定ルール R2-budget-2")
    assert "管理者が確認" in k.notes[0] and "公募で採択された場合を仮定" in k.notes[0]
    assert subsidy_from_json("k", k.to_json()) == k  # one JSON conversion, both ways


@pytest.mark.parametrize(
    "path, value, expected",
    [
        (("grant", "rate", "value"), 2, "grant.rate.value"),
        (("grant", "rate", "value"), {"lead": 0.5}, "grant.rate.value"),
        (("grant", "cap_per_project_yen", "value"), -1, "grant.cap_per_project_yen.value"),
        (("grant", "ineligible_kinds", "value"), ["county"], "grant.ineligible_kinds.value"),
        (("grant", "rate", "sources"), ["unknown"], "grant.rate.sources"),
        (("grant", "competitive"), None, "grant.competitive"),
        (
            ("special_tax", "measures", 0, "need_requirement", "value"),
            "volume",
            "special_tax.measures[0].need_requirement",
        ),
        (
            ("special_tax", "measures", 1, "categories", "value", "rpa"),
            {"lead": 0.5, "unified": 1.5, "standalone": 0.3},
            "special_tax.measures[1].categories.value.rpa.unified",
        ),
        (("grant", "categories", "value", "rpa", "status"), "たぶん", "grant.categories.value.rpa.status"),
        (("grant", "categories", "value", "rpa", "reason"), "", "grant.categories.value.rpa.reason"),
        (("grant", "categories", "value", "ocr", "quote"), " ", "grant.categories.value.ocr.quote"),
        (("grant", "categories", "value"), {}, "grant.categories.value"),
        (("grant", "categories", "sources"), ["unknown"], "grant.categories.sources"),
        (("rounding", "value"), "ten_yen", "rounding.value"),
        (("schema",), "kyodo-planner-subsidy-rules/1", "schema"),
        (("version",), "", "version"),
        (("fiscal_year",), "2026", "fiscal_year"),
    ],
)
def test_validate_rules_names_the_field(path, value, expected):
    doc = copy.deepcopy(RULES)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = validate_rules(doc)
    assert problems and any(p.startswith(expected) for p in problems), problems
    with pytest.raises(SubsidyRulesError):
        parse_rules(doc)


@pytest.mark.parametrize(
    "table, expected",
    [
        (
            [
                {"min_index": 0.0, "max_index": 0.5, "coefficient": 1.0},
                {"min_index": 0.4, "max_index": None, "coefficient": 0.5},
            ],
            "範囲が重なっています",
        ),
        (
            [
                {"min_index": 0.5, "max_index": None, "coefficient": 1.0},
                {"min_index": 0.0, "max_index": 0.5, "coefficient": 0.5},
            ],
            "小さい順",
        ),
        ([{"min_index": 0.0, "max_index": 0.5, "coefficient": 0}], "0 より大きく 2 以下"),
        ([{"min_index": 0.0, "max_index": 0.5, "coefficient": 2.5}], "0 より大きく 2 以下"),
        ([{"min_index": 0.123, "max_index": 0.5, "coefficient": 1}], "小数点以下2桁"),
    ],
)
def test_validate_rules_checks_the_correction_table(table, expected):
    doc = copy.deepcopy(RULES)
    doc["fiscal_correction"]["table"] = table
    assert any(expected in p and p.startswith("fiscal_correction.table") for p in validate_rules(doc))
    assert validate_rules([]) == ["ルール全体が JSON オブジェクトではありません"]
