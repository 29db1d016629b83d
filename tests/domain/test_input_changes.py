"""The inputs' snapshot and its diff (planner.domain.input_changes): what a published plan's notice lists."""

from __future__ import annotations

import copy
import dataclasses

from planner.domain.input_changes import diff, fingerprint, snapshot
from planner.domain.instance_io import instance_to_dict
from planner.domain.model import AllocationSpec, Body, Category, Host, Instance, ModePrice, Need
from tests.domain.factories import body, make_instance, need, reference_categories


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
    assert "ニーズの変更: 長野市のAI-OCR（2026年度）: 利用量 120 → 150、幹事を引き受けられる 可 → 不可" in texts
    assert "単価の変更: AI-OCR（幹事一括）" in texts
    assert "補助制度ルールの版: R8 → R9" in texts
    assert "団体データの変更: 松本市: 人口 237,000 → 236,000" in texts
    assert "条件の変更: 共同・別グループ・固定の指定や地理条件" in texts
    assert any(t.startswith("価格の出典: 単価表 R8-ref-1（参考値） → 見積 1 件") for t in texts)
    assert kinds[:3] == ["need_added", "need_withdrawn", "need_edited"]
    assert fingerprint(before) != fingerprint(after)


# The domain model's fields that change no figure: keys and names (a renamed body or category is the same input to
# every computation) and the category's descriptive fields, which the figures do not read. Every other field of
# the model must reach the snapshot: a field added to the model fails the test below until it does (or is added
# here, with the reason).
NOT_FIGURES = {
    Instance: {"name"},
    Body: {"code", "name"},
    Need: {"id"},
    Category: {"id", "name", "group", "unit", "sat_program"},
    # not an input: the instance format has no field for it (the grant's rule, a constant of the code)
    AllocationSpec: {"lead_ineligible_kinds"},
}


def _changed(value):
    """Another valid value of a field's type."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, (int, float)):
        return value + 1
    if isinstance(value, frozenset):
        return frozenset({"lead"}) if value != frozenset({"lead"}) else frozenset({"unified"})
    if isinstance(value, str):
        return {"city": "town", "town": "city"}.get(value, "2027" if value.isdigit() else value + "x")
    raise AssertionError(f"no other value for {value!r}")


# Another value of each field of the allocation's settings (a field added to AllocationSpec fails with KeyError
# until it is given one here, and then the snapshot must see it change).
ALLOCATION_CHANGES = {
    "method": "population",
    "weights": {"equal": 1.0},
    "core": "adjust",
    "lead_must_be_grant_eligible": True,
    "lead_work_annual_yen": {"lead": 120_000},
}


def _base() -> Instance:
    return make_instance(
        [
            body("202011", "長野市", 36.65, 138.19, kind="city", population=370_000),
            body("202029", "松本市", 36.24, 137.97, kind="city", population=237_000),
        ],
        [need("n1", "202011", can_lead=True), need("n2", "202029")],
        categories=reference_categories("ocr", "rpa"),
    )


def _figure_fields(model: type) -> list[str]:
    return [f.name for f in dataclasses.fields(model) if f.name not in NOT_FIGURES.get(model, set())]


def _variants(instance: Instance):
    """(what changed, the instance with one figure-feeding field of the domain model changed), for every field."""
    b = instance.bodies["202029"]
    for name in _figure_fields(Body):
        value = getattr(b, name)
        if value is None:
            continue
        changed = dataclasses.replace(b, **{name: _changed(value)})
        yield f"Body.{name}", dataclasses.replace(instance, bodies={**instance.bodies, b.code: changed})
    n = instance.needs[1]
    for name in _figure_fields(Need):
        value = "rpa" if name == "category" else "202011" if name == "body" else _changed(getattr(n, name))
        changed_need = dataclasses.replace(n, **{name: value})
        yield f"Need.{name}", dataclasses.replace(instance, needs=(instance.needs[0], changed_need))
    c = instance.categories["ocr"]
    for name in _figure_fields(Category):
        assert name == "prices", f"Category.{name}: a field of the category the test does not know how to change"
        for mode, price in c.prices.items():
            for pname in (f.name for f in dataclasses.fields(ModePrice)):
                value = getattr(price, pname)
                if value is None:
                    continue
                new = [(0.0, 3.0)] if pname == "lines" else _changed(value)
                prices = {**c.prices, mode: dataclasses.replace(price, **{pname: new})}
                cats = {**instance.categories, c.id: dataclasses.replace(c, prices=prices)}
                yield f"Category.prices.{mode}.{pname}", dataclasses.replace(instance, categories=cats)
    for name in _figure_fields(Instance):
        if name in ("bodies", "needs", "categories"):
            continue  # their fields, above
        value = getattr(instance, name)
        if name == "hosts":
            new = (Host("202011", frozenset({"ocr"})),)
        elif name == "rules":
            new = dataclasses.replace(value, apart=(("n1", "n2"),))
        elif name == "allocation":
            for field_name in _figure_fields(AllocationSpec):
                new = dataclasses.replace(value, **{field_name: ALLOCATION_CHANGES[field_name]})
                yield f"AllocationSpec.{field_name}", dataclasses.replace(instance, allocation=new)
            continue
        else:
            new = _changed(value)
        yield f"Instance.{name}", dataclasses.replace(instance, **{name: new})


def test_the_snapshot_covers_every_field_of_the_model_that_feeds_a_figure():
    instance = _base()
    published = snapshot(instance_to_dict(instance), rule_version="R8")
    variants = list(_variants(instance))
    assert len(variants) > 30  # the walk reached the model's fields
    missed = []
    for what, changed in variants:
        now = snapshot(instance_to_dict(changed), rule_version="R8")
        if fingerprint(now) == fingerprint(published) or not diff(published, now):
            missed.append(what)
    assert not missed, f"changes the publication snapshot does not see: {missed}"


def test_the_flags_of_the_subsidy_estimates_are_named_when_they_change():
    instance = _base()
    published = snapshot(instance_to_dict(instance))
    b, n = instance.bodies["202029"], instance.needs[1]
    changed = dataclasses.replace(
        instance,
        bodies={**instance.bodies, b.code: dataclasses.replace(b, no_allocation_tax=True)},
        needs=(instance.needs[0], dataclasses.replace(n, serves_disadvantaged_area=True)),
    )
    texts = [c.text for c in diff(published, snapshot(instance_to_dict(changed)))]
    assert "団体データの変更: 松本市: 不交付団体 不可 → 可" in texts
    assert "ニーズの変更: 松本市のAI-OCR（2026年度）: 条件不利地域の住民サービス 不可 → 可" in texts


def test_a_field_the_published_snapshot_did_not_hold_is_not_reported_as_changed():
    """Releases published before a field was covered stored no value for it: nothing is said about it."""
    instance = _base()
    published = snapshot(instance_to_dict(instance))
    for b in published["bodies"].values():
        del b["no_allocation_tax"]
    for n in published["needs"].values():
        del n["serves_disadvantaged_area"]
    b = instance.bodies["202029"]
    changed = dataclasses.replace(
        instance, bodies={**instance.bodies, b.code: dataclasses.replace(b, no_allocation_tax=True)}
    )
    assert diff(published, snapshot(instance_to_dict(changed))) == []
