"""The inputs behind a plan's figures as a snapshot (planner.domain.input_changes), and what changed in them since
a version was published: the stored plan's inputs against those a run of its scenario would use today.

Used by the lifecycle (the snapshot stored at adoption) and by the answers pages (「公表後に入力が変わりました」).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.db.models import PlanRelease, Scenario
from planner.domain import input_changes
from planner.domain.input_changes import InputChange
from planner.domain.instance_io import InstanceError, instance_to_dict, parse_instance

from .instances import build_instance_with_notes
from .scenarios import apply_overrides, override_items, scenario_rule_set


def _canonical(instance_doc: dict[str, Any]) -> dict[str, Any]:
    return instance_to_dict(parse_instance(instance_doc))


def plan_snapshot(plan: PlanRow) -> dict[str, Any]:
    """The inputs the plan's figures were computed from."""
    return input_changes.snapshot(
        _canonical(plan.instance_doc), rule_version=plan.rule_version or "", price_source=plan_price_source(plan)
    )


def plan_price_source(plan: PlanRow) -> str:
    return str(
        (plan.plan_doc or {}).get("price_source")
        or (f"単価表 {plan.price_book_version}（参考値）" if plan.price_book_version else "")
    )


def current_snapshot(session: Session, scenario: Scenario) -> dict[str, Any]:
    """The inputs a run of the scenario would use today (needs, prices and quotes, rules, overrides)."""
    built = build_instance_with_notes(session, scenario)
    instance = apply_overrides(built.instance, override_items(scenario))
    rules = scenario_rule_set(session, scenario)
    return input_changes.snapshot(
        instance_to_dict(instance), rule_version=rules.version if rules else "", price_source=built.price_source
    )


def changes_since_publication(session: Session, release: PlanRelease) -> tuple[list[InputChange], str | None]:
    """What differs between the release's stored inputs and today's; (changes, reason the check failed)."""
    plan = session.get(PlanRow, release.plan_id)
    scenario = session.get(Scenario, plan.scenario_id) if plan else None
    if scenario is None:
        return [], "計画のシナリオが削除されたため、入力の変更を確認できません。"
    try:
        now = current_snapshot(session, scenario)
    except (InstanceError, ValueError) as e:
        return [InputChange("settings", f"今の入力からは計画を作り直せません: {str(e)[:300]}")], None
    if input_changes.fingerprint(now) == release.inputs_fingerprint:
        return [], None
    return input_changes.diff(release.inputs or {}, now), None
