"""The effect model kept as versioned rows; a need's baseline and a body's or prefecture's staff cost per hour."""

from __future__ import annotations

import copy

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, EffectModelVersion, Need
from planner.services.effect_models import (
    create_effect_model_version,
    current_effect_model,
    current_effect_model_row,
    load_effect_models,
    make_effect_model_current,
    scenario_effect_inputs,
    staff_costs_for,
)
from planner.services.reference_data import ReferenceDataError


def test_shipped_model_is_loaded_once_and_current(migrated_engine):
    with Session(migrated_engine) as session:
        assert sorted(load_effect_models(session)) == ["effect-R7.06-1", "effect-R7.06-2", "effect-R7.06-3"]
        assert load_effect_models(session) == []
        assert current_effect_model(session).version == "effect-R7.06-3"
        session.commit()


def test_new_version_from_an_edit_keeps_the_old_one(migrated_engine):
    with Session(migrated_engine) as session:
        load_effect_models(session)
        base = current_effect_model_row(session)
        doc = copy.deepcopy(base.data)
        doc["version"] = "effect-R7.06-8"
        doc["categories"]["chatbot"]["minutes_per_unit"]["high"]["value"] = 4
        row = create_effect_model_version(session, base, doc, None, make_current=True)
        assert current_effect_model(session).categories["chatbot"].minutes_per_unit.high.value == 4
        assert len(session.exec(select(EffectModelVersion)).all()) == 4  # the three shipped versions and the edit
        assert (
            session.exec(
                select(AuditLog).where(AuditLog.entity == "effect_model", AuditLog.entity_id == row.version)
            ).first()
            is not None
        )
        bad = copy.deepcopy(doc)
        bad["version"] = "effect-R7.06-9"
        bad["categories"]["ocr"]["reduction_rate"]["low"]["value"] = 0
        with pytest.raises(ReferenceDataError) as e:
            create_effect_model_version(session, row, bad, None)
        assert any("categories.ocr.reduction_rate.low.value" in p for p in e.value.problems)
        with pytest.raises(ReferenceDataError):
            create_effect_model_version(session, row, doc, None)  # the version exists
        assert make_effect_model_current(session, base, None)
        assert current_effect_model(session).version == "effect-R7.06-3"


def test_staff_cost_own_else_prefecture_and_baselines(nagano_engine):
    with Session(nagano_engine) as session:
        session.get(Body, "200000").staff_cost_per_hour_yen = 3000
        session.get(Body, "202029").staff_cost_per_hour_yen = 3500
        session.add(
            Need(id=7, body_code="202011", category_id="ocr", volume=20, start_year=2026, baseline_minutes_per_unit=3.0)
        )
        session.add(Need(id=8, body_code="202029", category_id="ocr", volume=20, start_year=2026))
        session.flush()
        assert staff_costs_for(session, ["202011", "202029"]) == {"202011": 3000, "202029": 3500}
        baselines, costs = scenario_effect_inputs(session, [7, 8], ["202011"])
        assert set(baselines) == {"n7"} and baselines["n7"].minutes_per_unit == 3.0
        assert costs == {"202011": 3000}
