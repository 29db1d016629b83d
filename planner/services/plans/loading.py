"""The one plan loader: a stored plan, read back and checked against the access policy, for the plan pages
(planner.web.plans), the JSON API (planner.web.api), the document routes and the ZIP (planner.web.reports).

A plan that does not exist and a plan the user may not open give the same :class:`PlanNotFound` (the web answers
404 with the same words for both, so ids cannot be probed); ``refused`` tells the caller which it was, for the
audit log only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import defer
from sqlmodel import Session, col

from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario
from planner.db.rows import attribute
from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan

from .. import access
from ..plan_lifecycle import release_of_plan
from ..publication import Frozen, frozen_of_release
from .views import PlanView, plan_view


class PlanNotFound(LookupError):
    """No plan ``plan_id`` for this user: missing, or refused (``refused``; ``detail`` says whose it is, for the
    audit log). ``public_message`` is the one sentence users read in both cases."""

    def __init__(self, plan_id: int, *, refused: bool = False, detail: str = ""):
        self.plan_id, self.refused, self.detail = plan_id, refused, detail
        super().__init__(self.public_message)

    @property
    def public_message(self) -> str:
        return f"計画 {self.plan_id} はありません"


@dataclass(frozen=True)
class LoadedPlan:
    """A plan the user may open: its rows, the view (instance, settled plan, member lines) and how much of it the
    user sees (``access``: "full" for the prefecture and administrators, "body" for a member body's staff)."""

    row: PlanRow
    scenario: Scenario
    view: PlanView
    access: access.PlanAccess
    # what a published version printed at publication (title, issue date, issuer, data source); None otherwise
    frozen: Frozen | None = None

    @property
    def title(self) -> str:
        """The plan's title: the published one for a published version, else the scenario's current name."""
        return self.frozen.title if self.frozen is not None else self.scenario.name

    @property
    def full(self) -> bool:
        return self.access == "full"

    def runs(self, user: Any) -> bool:
        """Whether ``user`` acts on this plan (adopt, publish, remind, withdraw), not only reads it: a lead-run
        consortium's plan is run by its lead, and its prefecture reads it (planner.services.access.edits_scenario)."""
        return self.full and access.edits_scenario(user, self.scenario)

    @property
    def partnership_id(self) -> int | None:
        return self.scenario.partnership_id

    @property
    def instance(self) -> Instance:
        return self.view.instance

    @property
    def plan(self) -> SettledPlan:
        return self.view.plan


def load_plan(session: Session, user: Any, plan_id: int) -> LoadedPlan:
    """Plan ``plan_id`` as ``user`` may open it, or :class:`PlanNotFound`. A stored plan that cannot be read back
    raises ValueError (the stored documents are broken: a server error, not the user's)."""
    # The plan's two documents (a national plan's run to megabytes) are read only when its view is not cached yet.
    row = session.get(
        PlanRow, plan_id, options=[defer(attribute(col(PlanRow.instance_doc))), defer(attribute(col(PlanRow.plan_doc)))]
    )
    scenario = session.get(Scenario, row.scenario_id) if row is not None else None
    if row is None or scenario is None:
        raise PlanNotFound(plan_id)
    view = plan_view(row)
    release = release_of_plan(session, plan_id)
    status = release.state if release is not None else "draft"  # as plan_status says
    facts = access.PlanFacts(
        scenario.prefecture_code,
        view.by_body.keys(),
        status,
        lead_body=scenario.partnership_lead_code,
    )
    plan_access = access.plan_access(user, facts)
    if plan_access is None:
        raise PlanNotFound(
            plan_id, refused=True, detail=f"計画 {plan_id}（都道府県コード {scenario.prefecture_code} のもの）"
        )
    return LoadedPlan(row, scenario, view, plan_access, frozen_of_release(release))
