"""What the plan lifecycle, the members' answers and the scenarios share about a plan's releases (計画 No.N 第M版):
the lifecycle's errors, version labels, which bodies a scenario may plan, the versions in force for a
body, and whether a scenario's plans may be deleted.

It sits below planner.services.plan_lifecycle (the transitions), planner.services.answers and
planner.services.scenarios, and imports none of them, so that they need not import each other in a circle.
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlmodel import Session, col, select

from planner.db.models import Body, PlanRelease, PlanSeries, Scenario
from planner.db.models import Plan as PlanRow

from . import access


class LifecycleError(ValueError):
    """A transition that cannot be made; the message is shown to the user."""


class LifecycleConflict(LifecycleError):
    """Someone else changed the plan's state first."""


def version_label(series: PlanSeries, release: PlanRelease) -> str:
    return f"計画 No.{series.number} 第{release.version}版"


def current_releases_for_body(session: Session, body_code: str) -> list[tuple[PlanRelease, PlanSeries, PlanRow]]:
    """The published versions in force that include the body (its home page lists them)."""
    rows = session.exec(
        select(PlanRelease, PlanSeries, PlanRow)
        .join(PlanSeries, col(PlanSeries.id) == col(PlanRelease.series_id))
        .join(PlanRow, col(PlanRow.id) == col(PlanRelease.plan_id))
        .where(
            col(PlanRelease.state) == "published",
            col(PlanSeries.current_version) == col(PlanRelease.version),
            col(PlanRelease.plan_id).in_(access.plans_including(body_code)),
        )
        .order_by(col(PlanRelease.published_at).desc())
    ).all()
    out = []
    for release, series, plan in rows:
        scenario = session.get(Scenario, plan.scenario_id)
        if scenario is not None and planned_members(session, scenario, [body_code]):
            out.append((release, series, plan))
    return out


def planned_members(session: Session, scenario: Scenario, body_codes: Iterable[str]) -> set[str]:
    """Those of ``body_codes`` whose needs the scenario may plan (planner.services.access.planned_bodies)."""
    codes = sorted(set(body_codes))
    if not codes:
        return set()
    return set(session.exec(access.planned_body_codes(scenario).where(col(Body.code).in_(codes))))


def undeletable_reason(session: Session, plan_ids: list[int]) -> str | None:
    """Why the scenario of ``plan_ids`` cannot be deleted (one is adopted or published), or None. The scenario
    page asks this to leave out its delete button, and the deletion itself to refuse."""
    if not plan_ids:
        return None
    found = session.exec(
        select(PlanRelease, PlanSeries)
        .join(PlanSeries, col(PlanSeries.id) == col(PlanRelease.series_id))
        .where(col(PlanRelease.plan_id).in_(plan_ids))
    ).first()
    if found is None:
        return None
    release, series = found
    return f"このシナリオの計画は{version_label(series, release)}として確定されているため削除できません。"
