"""The inputs behind a plan's figures as a snapshot (planner.domain.input_changes), and what changed in them since
a version was published: the stored plan's inputs against those a run of its scenario would use today.

Used by the lifecycle (the snapshot stored at adoption) and by the answers pages (「公表後に入力が変わりました」).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import Any

from sqlalchemy.orm import load_only
from sqlmodel import Session, col, select

from planner.db.models import Plan as PlanRow
from planner.db.models import PlanRelease, Scenario, SubsidyRuleSet
from planner.db.rows import attribute
from planner.domain import input_changes
from planner.domain.input_changes import InputChange
from planner.domain.instance_io import InstanceError, instance_to_dict, parse_instance

from .instances import ScenarioRows, assemble_instance, read_scenario_rows
from .scenarios import apply_overrides, override_items


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
    return _snapshot(scenario, read_scenario_rows(session, scenario), _rule_version(session, scenario))


def _rule_version(session: Session, scenario: Scenario) -> str:
    """The version of the rule set a run would use (scenario_rule_set's choice), without reading its document."""
    query = select(col(SubsidyRuleSet.version))
    if scenario.subsidy_rule_set_id:
        query = query.where(col(SubsidyRuleSet.id) == scenario.subsidy_rule_set_id)
    else:
        query = query.where(col(SubsidyRuleSet.is_current) == True)  # noqa: E712
    return session.exec(query).first() or ""


def _snapshot(scenario: Scenario, rows: ScenarioRows, rule_version: str) -> dict[str, Any]:
    built = assemble_instance(scenario, rows)
    instance = apply_overrides(built.instance, override_items(scenario))
    return input_changes.snapshot(
        instance_to_dict(instance), rule_version=rule_version, price_source=built.price_source
    )


# (release, its stored fingerprint, the digest of today's input rows, the rule version) -> the check's answer.
# Keyed by content, so an input changed is a new key at once and nothing is ever invalidated; a plan page read
# many times between two input changes compares once. Bounded: the answers are small, and an old key is never
# asked again once the inputs moved on.
_CHECKS: OrderedDict[tuple[int | None, str, str, str], list[InputChange]] = OrderedDict()
_CHECKS_LOCK = threading.Lock()
_CHECKS_KEPT = 64


def changes_since_publication(session: Session, release: PlanRelease) -> tuple[list[InputChange], str | None]:
    """What differs between the release's stored inputs and today's; (changes, reason the check failed).

    Reads today's input rows (needs, bodies, quotes, the scenario) and rebuilds the instance from them only when
    their digest is one not compared yet for this release (planner.services.instances.ScenarioRows.digest)."""
    # Only the scenario's id: the plan's documents are large, and the plan pages have the row already.
    plan = session.get(
        PlanRow, release.plan_id, options=[load_only(attribute(col(PlanRow.id)), attribute(col(PlanRow.scenario_id)))]
    )
    scenario = session.get(Scenario, plan.scenario_id) if plan is not None else None
    if scenario is None:
        return [], "計画のシナリオが削除されたため、入力の変更を確認できません。"
    try:
        rows = read_scenario_rows(session, scenario)
    except ValueError as e:  # no price book
        return [InputChange("settings", f"今の入力からは計画を作り直せません: {str(e)[:300]}")], None
    key = (release.id, release.inputs_fingerprint or "", rows.digest(scenario), _rule_version(session, scenario))
    with _CHECKS_LOCK:
        found = _CHECKS.get(key)
        if found is not None:
            _CHECKS.move_to_end(key)
            return list(found), None
    changes = _compare(release, scenario, rows, key[3])
    with _CHECKS_LOCK:
        _CHECKS[key] = changes
        while len(_CHECKS) > _CHECKS_KEPT:
            _CHECKS.popitem(last=False)
    return list(changes), None


def _compare(release: PlanRelease, scenario: Scenario, rows: ScenarioRows, rule_version: str) -> list[InputChange]:
    try:
        now = _snapshot(scenario, rows, rule_version)
    except (InstanceError, ValueError) as e:
        return [InputChange("settings", f"今の入力からは計画を作り直せません: {str(e)[:300]}")]
    if input_changes.fingerprint(now) == release.inputs_fingerprint:
        return []
    return input_changes.diff(release.inputs or {}, now)
