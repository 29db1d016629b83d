"""The one access policy: who may see or change which prefecture's, body's, scenario's and plan's data.

Pages, services, document downloads and the JSON API all ask these functions (and the queries below, which are
the same rules in SQL), and tests/security/test_access_policy.py checks them directly, role by role. A user is
anything with ``role``, ``prefecture_code`` and ``body_code`` (a database User or the web's LoginUser); an
anonymous user (``is_authenticated`` false) may see nothing.

The rules:
- administrators see and change everything;
- prefecture coordinators see and change their own prefecture's bodies, needs and scenarios, and whole plans of
  their prefecture's scenarios;
- municipality staff see and change their own body's needs, and see their own body's view of a plan that includes
  their body (their lines and the groups they are in), never another member's notice;
- whether members see a plan at all depends on its status: :func:`members_may_see` is the one place where a plan's
  status joins the rule;
- a lead-run consortium (planner.services.partnerships) is run by its lead body's staff alone: they see and run its
  scenarios and whole plans (and no other scenario or plan of their prefecture); the lead's prefecture sees them
  read-only (:func:`edits_scenario` refuses its coordinators); an invited body's staff see the consortium and, like
  any member, their own part of its published plans.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any, Literal, Protocol, TypeVar

from sqlalchemy import ColumnElement, and_, or_, true
from sqlalchemy.orm import Mapped
from sqlalchemy.sql.expression import Select
from sqlmodel import col, select
from sqlmodel.sql.expression import Select as RowSelect
from sqlmodel.sql.expression import SelectOfScalar

from planner.db.models import (
    Body,
    Consortium,
    MemberShare,
    Need,
    Partnership,
    PartnershipMember,
    PlanRelease,
    Scenario,
)
from planner.db.models import Plan as PlanRow

# The roles and their sets: the only place they are spelt (pages, forms and services import them from here).
ADMIN, PREFECTURE, MUNICIPALITY = "admin", "prefecture", "municipality"
ROLES = (ADMIN, PREFECTURE, MUNICIPALITY)
PLANNERS = (ADMIN, PREFECTURE)  # those who plan: the bodies register, scenarios, whole plans, the audit log
ROLE_LABELS = {ADMIN: "管理者", PREFECTURE: "都道府県担当者", MUNICIPALITY: "市区町村担当者"}
PlanAccess = Literal["full", "body"]
# A query that _scoped narrows: a select() of rows or of (row, row) tuples, returned as the same kind
_Query = TypeVar("_Query", bound="Select[*tuple[Any, ...]]")


class Actor(Protocol):
    """Who acts in a service call: a database ``User`` or the web's signed-in snapshot
    (planner.web.security.LoginUser); services read no more of it than this."""

    @property
    def id(self) -> int | None: ...

    @property
    def role(self) -> str: ...

    @property
    def prefecture_code(self) -> str | None: ...

    @property
    def body_code(self) -> str | None: ...


def role_of(user: Any) -> str | None:
    if user is None or not getattr(user, "is_authenticated", True):
        return None
    role = getattr(user, "role", None)
    return role if role in ROLES else None


def is_admin(user: Any) -> bool:
    return role_of(user) == ADMIN


def is_coordinator(user: Any) -> bool:
    """A prefecture's coordinator (役割 都道府県担当者)."""
    return role_of(user) == PREFECTURE


def is_municipality(user: Any) -> bool:
    return role_of(user) == MUNICIPALITY


def has_role(user: Any, roles: Collection[str]) -> bool:
    """The user is signed in with one of ``roles`` (a page's :data:`ROLES`, :data:`PLANNERS` or ``(ADMIN,)``)."""
    return role_of(user) in roles


def plans(user: Any) -> bool:
    """Administrators and coordinators: :data:`PLANNERS`."""
    return role_of(user) in PLANNERS


# --- prefectures and bodies -------------------------------------------------------------------------------------


def sees_prefecture(user: Any, prefecture_code: str | None) -> bool:
    """Whole-prefecture data (its scenarios, whole plans, the audit entries of its bodies)."""
    role = role_of(user)
    if role == ADMIN:
        return True
    return role == PREFECTURE and bool(prefecture_code) and user.prefecture_code == prefecture_code


def scope_prefecture(user: Any) -> str | None:
    """The prefecture a coordinator is limited to (None for administrators, who see every prefecture)."""
    return user.prefecture_code if role_of(user) == PREFECTURE else None


def sees_body(user: Any, body_code: str | None, body_prefecture_code: str | None) -> bool:
    """A body's data (its needs, flags and figures); ``body_prefecture_code`` is the body's prefecture."""
    role = role_of(user)
    if role == ADMIN:
        return True
    if role == PREFECTURE:
        return bool(user.prefecture_code) and body_prefecture_code == user.prefecture_code
    if role == MUNICIPALITY:
        return bool(body_code) and user.body_code == body_code
    return False


def edits_body(user: Any, body_code: str | None, body_prefecture_code: str | None) -> bool:
    # Every role changes exactly what it is responsible for, which is what it sees.
    return sees_body(user, body_code, body_prefecture_code)


def edits_body_row(user: Any, body: Body | None) -> bool:
    return body is not None and edits_body(user, body.code, body.prefecture_code)


def lists_bodies(user: Any) -> bool:
    """The bodies register (and its exports) is for planners: municipality staff see their own body only."""
    return role_of(user) in PLANNERS


# --- scenarios --------------------------------------------------------------------------------------------------


def leads(user: Any, lead_body_code: str | None) -> bool:
    """Staff of the lead body of a lead-run consortium (``lead_body_code`` None: a prefecture's own, led by nobody)."""
    return role_of(user) == MUNICIPALITY and bool(lead_body_code) and user.body_code == lead_body_code


def sees_scenario(user: Any, scenario: Scenario) -> bool:
    if leads(user, scenario.partnership_lead_code):
        return True
    return sees_prefecture(user, scenario.prefecture_code) if scenario.prefecture_code else role_of(user) == ADMIN


def edits_scenario(user: Any, scenario: Scenario) -> bool:
    """Who runs a scenario and its plans' lifecycle (solve, adopt, publish, remind, withdraw): the prefecture's
    coordinators their own prefecture's, the lead's staff their consortium's — the lead's prefecture only reads a
    consortium's — and administrators everything."""
    if scenario.partnership_lead_code:
        return role_of(user) == ADMIN or leads(user, scenario.partnership_lead_code)
    return sees_scenario(user, scenario)


# --- lead-run consortia ----------------------------------------------------------------------------------------


# A partnership body's states that put its needs into the consortium's scenarios
PLANNED_MEMBER_STATES = ("lead", "accepted")


def sees_partnership(user: Any, partnership: Partnership, member_state: str | None) -> bool:
    """A consortium's page: its lead's staff, the staff of a body it invited (``member_state`` is that body's
    state in it, None when the user's body is not in it), the lead's prefecture (read-only) and administrators."""
    role = role_of(user)
    if role == ADMIN or leads(user, partnership.lead_body_code):
        return True
    if role == PREFECTURE:
        return sees_prefecture(user, partnership.prefecture_code)
    return role == MUNICIPALITY and member_state is not None


def visible_partnerships(user: Any) -> SelectOfScalar[Partnership]:
    """A select() of the partnerships the user may see (:func:`sees_partnership`)."""
    role = role_of(user)
    query = select(Partnership)
    if role == ADMIN:
        return query
    if role == PREFECTURE and user.prefecture_code:
        return query.where(col(Partnership.prefecture_code) == user.prefecture_code)
    if role == MUNICIPALITY and user.body_code:
        mine = select(col(PartnershipMember.partnership_id)).where(col(PartnershipMember.body_code) == user.body_code)
        return query.where(col(Partnership.id).in_(mine))  # the lead is a member too (state "lead")
    return query.where(col(Partnership.id) == -1)


def planned_bodies(scenario: Scenario) -> ColumnElement[bool]:
    """The condition on ``Body`` rows whose needs ``scenario`` may plan: its own prefecture's bodies and no others,
    whatever its body list, hosts or geography say (a host of another prefecture may lead groups, but its needs are
    not the coordinator's to plan, nor are its staff asked to answer). A scenario of no prefecture (an
    administrator's trial over several) has no such limit and cannot be adopted.

    A lead-run consortium's scenario plans the lead's needs and those of the bodies that accepted its invitation,
    whichever prefecture they are in, and no other body's (an invitation still open or declined brings nothing).

    The one place of the rule: the needs a run reads (planner.services.instances.scenario_need_query), adoption and
    publication (planner.services.plan_lifecycle) and the members asked to answer (planner.services.answers) ask it."""
    if scenario.partnership_id is not None:
        return col(Body.code).in_(
            select(col(PartnershipMember.body_code)).where(
                col(PartnershipMember.partnership_id) == scenario.partnership_id,
                col(PartnershipMember.state).in_(PLANNED_MEMBER_STATES),
            )
        )
    if not scenario.prefecture_code:
        return true()
    return col(Body.prefecture_code) == scenario.prefecture_code


def planned_body_codes(scenario: Scenario) -> SelectOfScalar[str]:
    """A select() of the codes of the bodies whose needs ``scenario`` may plan (:func:`planned_bodies`)."""
    return select(col(Body.code)).where(planned_bodies(scenario))


# --- plans ------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PlanFacts:
    """What the policy needs to know about a plan: whose it is, who is in it, and how far it has got."""

    prefecture_code: str | None  # the scenario's
    member_bodies: Collection[str]
    status: str | None = None  # the plan's lifecycle status; None for plans that have none
    lead_body: str | None = None  # the lead of the consortium that runs the plan (Scenario.partnership_lead_code)


# planner.services.plan_lifecycle's release states a member sees: a withdrawn version stays readable, so that its
# members can see what was taken back and why
MEMBER_VISIBLE_STATUSES = ("published", "superseded", "withdrawn")


def members_may_see(status: str | None) -> bool:
    """Whether a plan in ``status`` is shown to the staff of its member bodies: once published (and as 旧版 after a
    later version replaced it). Drafts (試算), adopted but unpublished versions and plans whose status the caller
    did not establish (None) stay with the prefecture; :func:`visible_plans` is the same rule in SQL."""
    return status in MEMBER_VISIBLE_STATUSES


def plan_access(user: Any, plan: PlanFacts) -> PlanAccess | None:
    """ "full" (the prefecture's coordinators and administrators, and a lead-run consortium's lead: the whole plan,
    whatever its status), "body" (staff of a member body: their own body's view), or None. "full" is reading: who
    acts on the plan is :func:`edits_scenario`'s answer."""
    role = role_of(user)
    if leads(user, plan.lead_body):
        return "full"
    if role == ADMIN or (role == PREFECTURE and sees_prefecture(user, plan.prefecture_code)):
        return "full"
    if role == MUNICIPALITY and user.body_code in plan.member_bodies and members_may_see(plan.status):
        return "body"
    return None


def sees_group(user: Any, access: PlanAccess | None, group_bodies: Collection[str]) -> bool:
    """A consortium of a plan the user has ``access`` to: the whole plan's readers see every group, a member's staff
    the groups their body is in (as a member or as the lead)."""
    return access == "full" or (access == "body" and user.body_code in group_bodies)


def sees_member(user: Any, access: PlanAccess | None, body_code: str) -> bool:
    """One member's figures (its notice): the whole plan's readers, and that body's own staff."""
    return access == "full" or (access == "body" and user.body_code == body_code)


# --- the same rules as queries -----------------------------------------------------------------------------------


def _scoped(
    query: _Query,
    user: Any,
    *,
    prefecture: Mapped[str | None] | Mapped[str],
    body: Callable[[str], tuple[ColumnElement[bool], ...]] | None = None,
    nothing: ColumnElement[bool],
) -> _Query:
    """``query`` limited to what the user's role covers: everything (administrators), the condition ``prefecture``
    on the coordinator's prefecture code, the conditions ``body(code)`` on a municipality user's body code (none
    when ``body`` is None), otherwise ``nothing``."""
    role = role_of(user)
    if role == ADMIN:
        return query
    if role == PREFECTURE and user.prefecture_code:
        return query.where(prefecture == user.prefecture_code)
    if role == MUNICIPALITY and user.body_code and body is not None:
        return query.where(*body(user.body_code))
    return query.where(nothing)


def plans_including(body_code: str) -> SelectOfScalar[int]:
    """A select() of the ids of the plans with a consortium (joint or standalone) the body is a member of."""
    return (
        select(col(Consortium.plan_id))
        .join(MemberShare, col(MemberShare.consortium_id) == col(Consortium.id))
        .where(col(MemberShare.body_code) == body_code)
    )


def visible_scenarios(user: Any) -> SelectOfScalar[Scenario]:
    """A select() of the scenarios the user may see: a lead's staff see their consortia's."""
    return _scoped(
        select(Scenario),
        user,
        prefecture=col(Scenario.prefecture_code),
        body=lambda code: (col(Scenario.partnership_lead_code) == code,),
        nothing=col(Scenario.id) == -1,
    )


def visible_plans(user: Any) -> RowSelect[PlanRow, Scenario]:
    """A select() of (Plan, Scenario) rows the user may open (see :func:`plan_access`)."""
    published = select(col(PlanRelease.plan_id)).where(col(PlanRelease.state).in_(MEMBER_VISIBLE_STATUSES))
    return _scoped(
        select(PlanRow, Scenario).join(Scenario, col(Scenario.id) == col(PlanRow.scenario_id)),
        user,
        prefecture=col(Scenario.prefecture_code),
        body=lambda code: (
            or_(
                col(Scenario.partnership_lead_code) == code,
                and_(col(PlanRow.id).in_(plans_including(code)), col(PlanRow.id).in_(published)),
            ),
        ),
        nothing=col(PlanRow.id) == -1,
    )


def visible_needs(user: Any) -> RowSelect[Need, Body]:
    """A select() of (Need, Body) rows the user may see."""
    return _scoped(
        select(Need, Body).join(Body, col(Body.code) == col(Need.body_code)),
        user,
        prefecture=col(Body.prefecture_code),
        body=lambda code: (col(Need.body_code) == code,),
        nothing=col(Need.id) == -1,
    )


def editable_bodies_query(user: Any) -> SelectOfScalar[Body]:
    """A select() of the bodies whose needs the user may change (ordered by code)."""
    return _scoped(
        select(Body).order_by(col(Body.code)),
        user,
        prefecture=col(Body.prefecture_code),
        body=lambda code: (col(Body.code) == code,),
        nothing=col(Body.code) == "",
    )


# --- stages after the answers (planner.services.plan_stages) -------------------------------------------------------


def runs_group_stages(user: Any, scenario: Scenario, access: PlanAccess | None, lead_body: str) -> bool:
    """Who records a group's 協定・契約結果・請求・精算 and the grant's calendar: the group's lead body's own staff
    (the 幹事団体 signs the contract), and who runs the plan (:func:`edits_scenario`: the prefecture's coordinators,
    a lead-run consortium's lead) except administrators, who read only."""
    if access is None:
        return False
    if is_municipality(user) and user.body_code == lead_body:
        return True
    return role_of(user) != ADMIN and edits_scenario(user, scenario)


def records_member_budget(
    user: Any, scenario: Scenario, access: PlanAccess | None, body_code: str, lead_body: str
) -> bool:
    """A member's 予算措置 and 債務負担行為の議決: the member's own staff, and whoever runs the group's stages."""
    if access is not None and is_municipality(user) and user.body_code == body_code:
        return True
    return runs_group_stages(user, scenario, access, lead_body)
