"""The web solve job writes each need's effect estimate into the plan, with the needs' own figures and the staff
cost of the body or its prefecture."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import Body, Need
from planner.db.models import Plan as PlanRow
from planner.services.effect_models import load_effect_models
from tests.support.plans import make_scenario, solve_now


def test_job_writes_effects(db):
    with Session(db) as session:
        load_effect_models(session)
        session.get(Body, "200000").staff_cost_per_hour_yen = 3000
        ocr = session.exec(select(Need).where(Need.category_id == "ocr", Need.body_code == "202011")).first()
        ocr.baseline_minutes_per_unit = 3.0
        session.commit()
        ocr_key, ocr_volume = f"n{ocr.id}", ocr.volume
    plan_id = solve_now(db, make_scenario(db))
    with Session(db) as session:
        doc = session.get(PlanRow, plan_id).plan_doc
    effects = doc["effects"]
    assert effects["model_version"] == "effect-R7.06-3" and "好事例" in effects["caveat"]
    assert set(effects["needs"]) == {m for g in doc["groups"] for m in g["members"]}
    e = effects["needs"][ocr_key]
    hours = ocr_volume * 1000 * 3 / 60
    assert e["basis"] == "own_minutes"
    assert e["hours_per_year"] == [round(hours * r, 1) for r in (0.22, 0.57, 0.95)]
    assert e["staff_cost_per_hour_yen"] == 3000  # the prefecture's figure
    # the headline net burden: the grant not awarded (the grant's own figures are 「採択された場合」)
    net = next(g["subsidies"][ocr_key]["net_without_grant_yen"] for g in doc["groups"] if ocr_key in g["members"])
    assert e["joint"]["yearly_net_yen"] == round(net / 5)
