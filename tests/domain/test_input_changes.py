"""The inputs' snapshot and its diff (planner.domain.input_changes): what a published plan's notice lists."""

from __future__ import annotations

import copy

from planner.domain.input_changes import diff, fingerprint, snapshot


def _doc():
    price = {
        "fixed_initial": 100,
        "fixed_annual": 10,
        "member_initial": 5,
        "member_annual": 1,
        "per_km_annual": 0,
        "lines": [[0, 2]],
    }
    return {
        "fiscal_year": 2026,
        "horizon_years": 5,
        "bodies": [
            {
                "code": "202011",
                "name": "長野市",
                "population": 370000,
                "fiscal_strength_index": 0.67,
                "disadvantaged": False,
                "has_data_plan": True,
            },
            {
                "code": "202029",
                "name": "松本市",
                "population": 237000,
                "fiscal_strength_index": 0.66,
                "disadvantaged": False,
                "has_data_plan": False,
            },
        ],
        "categories": [
            {
                "id": "ocr",
                "name": "AI-OCR（文字認識）",
                "standalone": price,
                "lead": {**price, "max_members": 10},
                "unified": {**price, "max_members": 10},
            }
        ],
        "hosts": [],
        "needs": [
            {
                "id": "n1",
                "body": "202011",
                "category": "ocr",
                "volume": 120.0,
                "start_year": 2026,
                "modes": ["unified", "lead"],
                "can_lead": True,
            },
            {
                "id": "n2",
                "body": "202029",
                "category": "ocr",
                "volume": 80.0,
                "start_year": 2026,
                "modes": ["lead"],
                "can_lead": False,
            },
        ],
        "rules": {"geography": {"type": "same_prefecture"}, "together": [], "apart": [], "fixed": []},
        "allocation": {"method": "equal", "weights": {}},
    }


def test_identical_inputs_have_the_same_fingerprint_and_no_changes():
    a = snapshot(_doc(), rule_version="R8", price_source="単価表 R8-ref-1（参考値）")
    b = snapshot(copy.deepcopy(_doc()), rule_version="R8", price_source="単価表 R8-ref-1（参考値）")
    assert fingerprint(a) == fingerprint(b) and diff(a, b) == []
    # the order of a need's modes is not a change
    doc = _doc()
    doc["needs"][0]["modes"] = ["lead", "unified"]
    assert fingerprint(snapshot(doc, rule_version="R8", price_source="単価表 R8-ref-1（参考値）")) == fingerprint(a)


def test_each_kind_of_change_is_named():
    before = snapshot(_doc(), rule_version="R8", price_source="単価表 R8-ref-1（参考値）")
    doc = _doc()
    doc["needs"][0]["volume"] = 150.0
    doc["needs"][0]["can_lead"] = False
    del doc["needs"][1]
    doc["needs"].append(
        {
            "id": "n7",
            "body": "202029",
            "category": "ocr",
            "volume": 10.0,
            "start_year": 2027,
            "modes": ["lead"],
            "can_lead": False,
        }
    )
    doc["categories"][0]["lead"] = {**doc["categories"][0]["lead"], "fixed_initial": 90}
    doc["bodies"][1]["population"] = 236000
    doc["rules"]["fixed"] = [{"need": "n1", "mode": "standalone"}]
    after = snapshot(
        doc, rule_version="R9", price_source="見積 1 件（AI-OCR・幹事一括：A社）、その他は単価表 R8-ref-1（参考値）"
    )
    changes = diff(before, after)
    texts = [c.text for c in changes]
    kinds = [c.kind for c in changes]
    assert "ニーズの追加: 松本市のAI-OCR（2027年度）" in texts
    assert "ニーズの取下げ・対象外: 松本市のAI-OCR（2026年度）" in texts
    assert "ニーズの変更: 長野市のAI-OCR（2026年度）: 利用量 120 → 150、幹事可否 可 → 不可" in texts
    assert "単価の変更: AI-OCR（幹事一括）" in texts
    assert "補助制度ルールの版: R8 → R9" in texts
    assert "団体データの変更: 松本市: 人口 237,000 → 236,000" in texts
    assert "条件の変更: 共同・別グループ・固定の指定や地理条件" in texts
    assert any(t.startswith("価格の出典: 単価表 R8-ref-1（参考値） → 見積 1 件") for t in texts)
    assert kinds[:3] == ["need_added", "need_withdrawn", "need_edited"]
    assert fingerprint(before) != fingerprint(after)
