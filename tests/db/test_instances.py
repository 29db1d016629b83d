"""From a stored scenario to the domain instance the optimiser solves."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from planner.db.models import Body, Need, Scenario
from planner.domain.instance_io import InstanceError, instance_to_dict, parse_instance
from planner.services.instances import build_instance, build_instance_with_notes
from planner.services.reference_data import create_price_book_version


def _need(s, body, category, *, demo=False, status="active", lead=True, unified=True, volume=12.5, year=2026):
    need = Need(
        body_code=body,
        category_id=category,
        volume=volume,
        start_year=year,
        accepts_lead=lead,
        accepts_unified=unified,
        can_lead=body == "202011",
        is_demo=demo,
        status=status,
    )
    s.add(need)
    s.flush()
    return need


def test_scenario_of_a_prefecture(nagano_engine):
    with Session(nagano_engine, expire_on_commit=False) as s:
        s.get(Body, "202011").population = 370000
        a = _need(s, "202011", "ocr", lead=True, unified=False)
        b = _need(s, "205419", "ocr", volume=3.0)
        c = _need(s, "202029", "rpa", year=2027)
        _need(s, "202029", "ocr", status="withdrawn")
        _need(s, "204854", "ocr", demo=True)
        _need(s, "011002", "ocr")  # another prefecture
        scenario = Scenario(
            name="長野県 2026",
            prefecture_code="20",
            fiscal_year=2026,
            geography_type="radius_km",
            radius_km=40.0,
            hosts=[{"body": "200000", "categories": ["ocr"]}],
            overrides={
                "together": [[a.id, f"n{b.id}"]],
                "apart": [],
                "fixed": [{"need": f"n{a.id}", "mode": "lead", "lead_body": "202011"}],
            },
            allocation_method="population",
            allocation_weights={},
        )
        s.add(scenario)
        s.commit()
        built = build_instance_with_notes(s, scenario)
    inst = built.instance
    assert len(inst.bodies) == 78 and "011002" not in inst.bodies
    assert inst.bodies["202011"].population == 370000 and inst.bodies["205419"].population is None
    assert [n.id for n in inst.needs] == [f"n{a.id}", f"n{b.id}", f"n{c.id}"]
    assert inst.need(f"n{a.id}").modes == frozenset({"lead"}) and inst.need(f"n{a.id}").can_lead
    assert inst.need(f"n{c.id}").start_year == 2027 and inst.need(f"n{b.id}").volume == 3.0
    assert set(inst.categories) == {
        "chatbot",
        "speech",
        "ocr",
        "matching",
        "image",
        "optimal",
        "forecast",
        "genai",
        "rpa",
    }
    assert inst.hosts_of("ocr") == ["200000"] and inst.hosts_of("rpa") == []
    assert inst.rules.geography.type == "radius_km" and inst.rules.geography.km == 40.0
    assert inst.rules.together == ((f"n{a.id}", f"n{b.id}"),)
    assert inst.fixed_rule(f"n{a.id}").lead_body == "202011"
    assert inst.allocation.method == "population"
    assert built.price_book.version == "R8-ref-1" and built.notes == []
    assert parse_instance(instance_to_dict(inst)) == inst  # the instance is a valid instance document


def test_demo_scenarios_see_demo_needs_only_and_lists_narrow_the_scope(nagano_engine):
    with Session(nagano_engine, expire_on_commit=False) as s:
        real = _need(s, "202011", "rpa")  # a user's need (one active need per body and category: not ocr here)
        demo = _need(s, "202011", "ocr", demo=True)
        demo_rpa = _need(s, "205419", "rpa", demo=True)
        gone = _need(s, "202029", "ocr", demo=True)
        create_price_book_version(s, "R8-ref-1", {"ocr": {"lead": {"fixed_initial": 1}}}, None)
        scenario = Scenario(
            name="【デモ】",
            prefecture_code="20",
            is_demo=True,
            body_codes=["202011", "205419", "202029"],
            category_ids=["ocr", "nope"],
            hosts=[{"body": "011002", "categories": []}],
            overrides={"apart": [[demo.id, real.id]], "fixed": [{"need": gone.id + 1000}]},
        )
        s.add(scenario)
        s.commit()
        built = build_instance_with_notes(s, scenario)
    inst = built.instance
    assert sorted(inst.bodies) == ["011002", "202011", "202029", "205419"]  # a host joins the bodies
    assert [n.id for n in inst.needs] == [f"n{demo.id}", f"n{gone.id}"]
    assert inst.hosts_of("ocr") == ["011002"]
    assert inst.rules.apart == () and len(built.notes) == 3
    assert built.price_book.version == "R8-ref-2" and inst.categories["ocr"].price("lead").fixed_initial == 1
    assert demo_rpa.id not in {int(n.id[1:]) for n in inst.needs}


def test_invalid_stored_scenario_raises_the_domain_error(nagano_engine):
    with Session(nagano_engine, expire_on_commit=False) as s:
        scenario = Scenario(name="bad", prefecture_code="20", geography_type="radius_km", radius_km=None)
        s.add(scenario)
        s.commit()
        with pytest.raises(InstanceError, match=r"rules.geography.km"):
            build_instance(s, scenario)
