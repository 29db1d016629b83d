"""Instance validation: every problem named by record and field, before anything is solved."""

import json

import pytest

from planner.domain.instance_io import InstanceError, instance_to_dict, load_instance, parse_instance

from ..conftest import shared_path
from .factories import body, instance_doc, need

BODIES = [body("202011", "長野市", 36.6486, 138.1948, kind="city"), body("202029", "松本市", 36.2380, 137.9720)]


def problems_of(doc) -> list[str]:
    with pytest.raises(InstanceError) as info:
        parse_instance(doc)
    return info.value.problems


def test_valid_instance_round_trips():
    doc = instance_doc(BODIES, [need("a", "202011"), need("b", "202029")], together=[("a", "b")])
    inst = parse_instance(doc)
    assert len(inst.needs) == 2 and inst.rules.together == (("a", "b"),)
    assert parse_instance(instance_to_dict(inst)) == inst


def test_subsidy_flags_default_to_false_and_round_trip():
    doc = instance_doc(BODIES, [need("a", "202011"), need("b", "202029", serves_disadvantaged_area=True)])
    del doc["needs"][0]["serves_disadvantaged_area"]
    del doc["bodies"][0]["no_allocation_tax"]
    doc["bodies"][1]["no_allocation_tax"] = True
    inst = parse_instance(doc)
    assert inst.need("a").serves_disadvantaged_area is False and inst.need("b").serves_disadvantaged_area is True
    assert inst.bodies["202011"].no_allocation_tax is False and inst.bodies["202029"].no_allocation_tax is True
    out = instance_to_dict(inst)
    assert out["needs"][1]["serves_disadvantaged_area"] is True and out["bodies"][1]["no_allocation_tax"] is True
    assert parse_instance(out) == inst
    doc["needs"][1]["serves_disadvantaged_area"] = "yes"
    assert any(p.startswith('needs[1] (id "b").serves_disadvantaged_area') for p in problems_of(doc))


def test_unknown_body_and_category_are_named():
    doc = instance_doc(BODIES, [need("a", "999999"), need("b", "202029", category="nope")])
    problems = problems_of(doc)
    assert 'needs[0] (id "a").body: unknown body 999999' in problems
    assert 'needs[1] (id "b").category: unknown category nope' in problems


def test_negative_volume_and_bad_types():
    doc = instance_doc(BODIES, [need("a", "202011", volume=-1), need("b", "202029")])
    doc["needs"][1]["start_year"] = "2026"
    problems = problems_of(doc)
    assert any(p.startswith('needs[0] (id "a").volume: must be at least 0') for p in problems)
    assert any(p.startswith('needs[1] (id "b").start_year: must be an integer') for p in problems)


def test_together_across_categories_is_rejected():
    doc = instance_doc(BODIES, [need("a", "202011"), need("b", "202029", category="rpa")], together=[("a", "b")])
    doc["categories"] += [
        c for c in json.load(open(shared_or_local_book(), encoding="utf-8"))["categories"] if c["id"] == "rpa"
    ]
    problems = problems_of(doc)
    assert any(p.startswith("rules.together[0]: needs of different categories") for p in problems)


def shared_or_local_book():
    from .factories import PRICE_BOOK

    return PRICE_BOOK


def test_lines_that_are_not_a_discount_are_rejected():
    doc = instance_doc(BODIES, [need("a", "202011")])
    doc["categories"][0]["lead"]["lines"] = [[0, 30000], [800000, 32000]]
    problems = problems_of(doc)
    assert any(p.startswith('categories[0] (id "ocr").lead.lines[1]: not a volume discount') for p in problems)
    doc["categories"][0]["lead"]["lines"] = [[0, 30000], [800000, 29000], [900000, 10000]]
    problems = problems_of(doc)
    assert any("never the cheapest" in p for p in problems)


def test_bad_format_and_duplicates():
    doc = instance_doc([*BODIES, BODIES[0]], [need("a", "202011"), need("a", "202029")])
    doc["format"] = "other"
    problems = problems_of(doc)
    assert any(p.startswith("format: must be") for p in problems)
    assert any("duplicate body code 202011" in p for p in problems)
    assert any("duplicate need id a" in p for p in problems)


def test_not_json(tmp_path):
    path = tmp_path / "broken.json"
    path.write_text("{ not json", encoding="utf-8")
    with pytest.raises(InstanceError) as info:
        load_instance(path)
    assert "not valid JSON (line 1" in str(info.value)


def test_bench_instances_load():
    inst = load_instance(shared_path("bench", "nagano.json"))
    assert len(inst.bodies) == 78 and len(inst.needs) == 173
