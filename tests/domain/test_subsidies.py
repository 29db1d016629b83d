"""Subsidy estimates by hand: the 1/2 grant and its cap per project, the special allocation tax, the rule data."""
import copy

import pytest

from planner.domain.subsidies import (CapLedger, default_rules, estimate_group, grant_estimates,
                                      special_tax_estimate, validate_rules)

from .factories import body, make_instance, need, reference_categories

BODIES = [body("204820", "小谷村", 36.7767, 137.9086, kind="village", disadvantaged=True),
          body("204412", "木曽町", 35.8425, 137.6917, disadvantaged=True),
          body("203211", "佐久市", 36.2489, 138.4769, kind="city"),
          body("131008", "横浜市", 35.4437, 139.6380, pref="14", kind="designated_city"),
          body("205885", "飯綱町", 36.7550, 138.2560, has_data_plan=False),
          body("200000", "長野県", 36.6513, 138.1810, kind="prefecture", disadvantaged=True)]


def instance():
    needs = [need("v", "204820"), need("k", "204412"), need("s", "203211"), need("y", "131008"),
             need("i", "205885"), need("p", "200000"), need("r", "204412", category="rpa"),
             need("v2", "204820", category="rpa"), need("k2", "204412", volume=3)]
    return make_instance(BODIES, needs, categories=reference_categories("ocr", "rpa"))


RULES = default_rules()


def test_shipped_rules_are_valid_and_cite_their_sources():
    assert RULES["fiscal_year"] == 2026 and RULES["version"] == "R8-1"
    assert validate_rules(RULES) == []
    titles = [s["title"] for s in RULES["sources"]]
    assert any("令和7年6月30日版" in t for t in titles) and all("AI・RPA活用促進" in t for t in titles)
    assert RULES["grant"]["rate"]["value"] == 0.5 and RULES["grant"]["cap_per_project_yen"]["value"] == 20_000_000
    assert RULES["fiscal_correction"]["table"] is None


def test_grant_cap_is_scaled_across_a_lead_mode_group():
    inst = instance()
    initial = {"v": 20_000_000, "k": 16_000_000, "s": 8_000_000}
    grants = grant_estimates(inst, "lead", "204820", ["v", "k", "s"], initial, RULES)
    # halves 10M + 8M + 4M = 22M > 20M: 20M x 10/22, 8/22, 4/22 = 9,090,909.09 / 7,272,727.27 / 3,636,363.64;
    # one yen left goes to the largest fraction (s)
    assert [grants[n]["amount_yen"] for n in "vks"] == [9_090_909, 7_272_727, 3_636_364]
    assert all(grants[n]["reason"].startswith("上限到達") for n in "vks")
    # unified: each member is its own project with its own cap, so nothing is cut
    unified = grant_estimates(inst, "unified", "204820", ["v", "k", "s"], initial, RULES)
    assert [unified[n]["amount_yen"] for n in "vks"] == [10_000_000, 8_000_000, 4_000_000]
    alone = grant_estimates(inst, "standalone", None, ["v"], {"v": 50_000_001}, RULES)
    assert alone["v"]["amount_yen"] == 20_000_000 and alone["v"]["reason"].startswith("上限到達")


def test_designated_city_and_a_town_without_data_plan_get_no_grant():
    inst = instance()
    grants = grant_estimates(inst, "unified", "203211", ["s", "y", "i", "p"],
                             {"s": 3_000_001, "y": 3_000_000, "i": 3_000_000, "p": 3_000_000}, RULES)
    assert grants["s"]["amount_yen"] == 1_500_000 and grants["s"]["reason"] is None  # rounded down
    assert grants["y"]["amount_yen"] == 0 and grants["y"]["reason"].startswith("対象外の団体種別")
    assert "指定都市" in grants["y"]["reason"]
    assert grants["i"]["amount_yen"] == 0 and grants["i"]["reason"].startswith("推進計画未提出")
    assert grants["p"]["amount_yen"] == 0 and "都道府県" in grants["p"]["reason"]
    assert "地域IoT実装・共同利用推進事業" in grants["s"]["rule"]


def test_disadvantaged_towns_ai_ocr_at_half_and_rpa_at_three_tenths():
    inst = instance()
    ocr, notes = special_tax_estimate(inst, "k", 1_500_000, RULES)
    assert ocr["amount_yen"] == 750_000 and ocr["rate"] == 0.5 and ocr["correction"] == 1.0
    assert ocr["measure"] == "条件不利地域における先端的な情報通信技術の導入"
    rpa, _ = special_tax_estimate(inst, "r", 1_500_000, RULES)
    assert rpa["amount_yen"] == 450_000 and rpa["rate"] == 0.3 and rpa["measure"] == "自治体行政のスマート化"
    city, _ = special_tax_estimate(inst, "s", 1_500_000, RULES)  # 佐久市 has no 条件不利地域
    assert city["amount_yen"] == 0 and city["measure"] is None and city["reason"].startswith("条件不利地域なし")


def test_correction_not_set_is_said_and_a_set_table_is_applied():
    inst = instance()
    _, notes = special_tax_estimate(inst, "k", 1_000_000, RULES)
    assert any("財政力補正の表が未設定" in n for n in notes)
    rules = copy.deepcopy(RULES)
    rules["fiscal_correction"]["table"] = [{"min_index": 0.0, "max_index": 0.3, "coefficient": 1.0},
                                           {"min_index": 0.3, "max_index": 0.5, "coefficient": 0.8},
                                           {"min_index": 0.5, "max_index": None, "coefficient": 0.6}]
    assert validate_rules(rules) == []
    tax, notes = special_tax_estimate(inst, "k", 1_000_000, rules)  # fsi 0.4 -> 0.8
    assert tax["amount_yen"] == 400_000 and tax["correction"] == 0.8 and notes == []


def test_the_forty_million_base_cap_and_its_use_across_a_year():
    inst = instance()
    ledger = CapLedger()
    tax, _ = special_tax_estimate(inst, "k", 80_000_000, RULES, ledger)
    assert tax["base_yen"] == 40_000_000 and tax["amount_yen"] == 20_000_000
    assert tax["reason"].startswith("上限到達")
    # the same town's second AI project that year finds the 40M used up; its RPA (another measure, no cap) does not
    more, _ = special_tax_estimate(inst, "k2", 10_000_000, RULES, ledger)
    assert more["base_yen"] == 0 and more["amount_yen"] == 0 and "使用済み" in more["reason"]
    rpa, _ = special_tax_estimate(inst, "r", 10_000_000, RULES, ledger)
    assert rpa["amount_yen"] == 3_000_000
    prefecture, _ = special_tax_estimate(inst, "p", 300_000_000, RULES)
    assert prefecture["base_yen"] == 120_000_000 and prefecture["amount_yen"] == 60_000_000


def test_where_two_measures_apply_the_larger_is_taken_and_named():
    rules = copy.deepcopy(RULES)
    smart = next(m for m in rules["special_tax"]["measures"] if m["id"] == "smart_government")
    smart["programs"]["value"]["advanced_ict"] = 0.3
    inst = instance()
    tax, notes = special_tax_estimate(inst, "k", 1_000_000, rules)
    assert tax["amount_yen"] == 500_000 and tax["measure"].startswith("条件不利地域")
    assert any("複数の措置が該当" in n for n in notes)
    city, _ = special_tax_estimate(inst, "s", 1_000_000, rules)
    assert city["amount_yen"] == 300_000 and city["measure"] == "自治体行政のスマート化"


def test_member_record_has_every_figure_and_the_saving_against_going_alone():
    inst = instance()
    shares = {"v": {"initial_yen": 2_000_000, "annual_yen": 500_000, "total_yen": 4_500_000},
              "k": {"initial_yen": 2_000_001, "annual_yen": 500_000, "total_yen": 4_500_001}}
    alone = {n: {"initial_yen": 4_000_000, "annual_yen": 900_000, "total_yen": 8_500_000} for n in "vk"}
    out = estimate_group(inst, "lead", "204820", ["v", "k"], shares, alone, RULES)
    k = out["k"]
    assert k["grant_yen"] == 1_000_000 and k["special_tax_yen"] == 500_000
    assert k["net_yen"] == 4_500_001 - 1_000_000 - 500_000
    assert k["standalone"]["grant_yen"] == 2_000_000 and k["standalone"]["special_tax_yen"] == 1_000_000
    assert k["standalone_net_yen"] == 8_500_000 - 3_000_000
    assert k["net_saving_yen"] == k["standalone_net_yen"] - k["net_yen"]
    assert k["gross"] == shares["k"] and k["rule_version"] == "R8-1" and k["sources"]
    assert k["notes"][0].startswith("補助金・特別交付税の額はいずれも見込額です")
    assert any("補助金の見込額は単独調達より" in n for n in k["notes"])
    assert k["special_tax"]["rule"].startswith("特別交付税措置")


@pytest.mark.parametrize("path, value, expected", [
    (("grant", "rate", "value"), 2, "grant.rate.value"),
    (("grant", "cap_per_project_yen", "value"), -1, "grant.cap_per_project_yen.value"),
    (("grant", "ineligible_kinds", "value"), ["county"], "grant.ineligible_kinds.value"),
    (("grant", "rate", "sources"), ["unknown"], "grant.rate.sources"),
    (("version",), "", "version"),
    (("fiscal_year",), "2026", "fiscal_year"),
])
def test_validate_rules_names_the_field(path, value, expected):
    doc = copy.deepcopy(RULES)
    node = doc
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    problems = validate_rules(doc)
    assert problems and any(p.startswith(expected) for p in problems)


def test_validate_rules_catches_overlapping_correction_rows():
    doc = copy.deepcopy(RULES)
    doc["fiscal_correction"]["table"] = [{"min_index": 0.0, "max_index": 0.5, "coefficient": 1.0},
                                         {"min_index": 0.4, "max_index": None, "coefficient": 0.5}]
    assert any("範囲が重なっています" in p for p in validate_rules(doc))
    assert validate_rules([]) == ["ルール全体が JSON オブジェクトではありません"]
