"""What each role's home page summarises: read-only queries, scoped by the caller's role."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlalchemy
from sqlalchemy import case, func
from sqlmodel import Session, col, select

from planner.db.models import (
    AuditLog,
    Body,
    Category,
    Consortium,
    MemberShare,
    Need,
    PriceBook,
    Scenario,
    SubsidyRuleSet,
    User,
)
from planner.db.models import Plan as PlanRow
from planner.services import access
from planner.services import plans as plan_service
from planner.services.access import Actor
from planner.services.bodies import latest_vintages, population_status
from planner.services.reference_data import current_price_book, current_subsidy_rule_set

RECENT = 5


def need_counts_by_status(session: Session, body_code: str) -> dict[str, int]:
    rows = session.exec(
        select(col(Need.status), func.count()).where(col(Need.body_code) == body_code).group_by(col(Need.status))
    ).all()
    counts = {"active": 0, "withdrawn": 0}
    counts.update({status: int(n) for status, n in rows})
    return counts


@dataclass
class Placement:
    """Where a body stands in the latest plan it can see."""

    plan: PlanRow
    scenario: Scenario
    consortia: list[dict[str, Any]] = field(default_factory=list)  # category, mode, lead, members, joint


def latest_placement(session: Session, user: Actor) -> Placement | None:
    if not user.body_code:
        return None
    row = session.exec(
        access.visible_plans(user).order_by(col(PlanRow.created_at).desc(), col(PlanRow.id).desc())
    ).first()
    if row is None:
        return None
    plan, scenario = row
    names = {c.id: c.name for c in session.exec(select(Category))}
    consortia = session.exec(
        select(Consortium)
        .join(MemberShare, col(MemberShare.consortium_id) == col(Consortium.id))
        .where(col(Consortium.plan_id) == plan.id, col(MemberShare.body_code) == user.body_code)
        .distinct()
    ).all()
    items = []
    for c in sorted(consortia, key=lambda c: (c.category_id, c.start_year)):
        members = session.exec(
            select(func.count(func.distinct(col(MemberShare.body_code)))).where(col(MemberShare.consortium_id) == c.id)
        ).one()
        lead = session.get(Body, c.lead_body_code)
        items.append(
            {
                "category": names.get(c.category_id, c.category_id),
                "mode": c.mode,
                "start_year": c.start_year,
                "lead": lead.name if lead else c.lead_body_code,
                "members": int(members),
                "joint": int(members) > 1 or c.mode != "standalone",
            }
        )
    return Placement(plan=plan, scenario=scenario, consortia=items)


def prefecture_need_matrix(session: Session, prefecture_code: str | None) -> list[dict[str, Any]]:
    """Active needs per category: how many bodies registered one and their total volume."""
    # SQLAlchemy's select: SQLModel's typed select() takes at most four columns
    query = (
        sqlalchemy.select(
            col(Need.category_id),
            func.count(func.distinct(col(Need.body_code))),
            func.count(),
            func.sum(col(Need.volume)),
            func.sum(case((col(Need.is_demo), 1), else_=0)),
        )
        .join(Body, col(Body.code) == col(Need.body_code))
        .where(col(Need.status) == "active")
    )
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    # by index: SQLModel's Session.execute types a row's items as objects when unpacked
    counts = {
        r[0]: (int(r[1]), int(r[2]), float(r[3] or 0), int(r[4] or 0))
        for r in session.execute(query.group_by(col(Need.category_id)))
    }
    out = []
    for cat in session.exec(select(Category).order_by(col(Category.sort_order), col(Category.id))):
        bodies, needs, volume, demo = counts.get(cat.id, (0, 0, 0.0, 0))
        out.append(
            {
                "id": cat.id,
                "name": cat.name,
                "unit": cat.unit,
                "bodies": bodies,
                "needs": needs,
                "volume": volume,
                "demo": demo,
            }
        )  # demo: of ``needs``, the demo's (marked on the page)
    return out


def recent_scenarios(session: Session, user: Actor, limit: int = RECENT) -> list[Scenario]:
    return list(
        session.exec(
            access.visible_scenarios(user)
            .order_by(col(Scenario.updated_at).desc(), col(Scenario.id).desc())
            .limit(limit)
        )
    )


def recent_plans(session: Session, user: Actor, limit: int = RECENT) -> list[tuple[PlanRow, Scenario]]:
    rows, _total = plan_service.list_plans(session, user, per_page=limit)
    return rows


def fiscal_missing(session: Session, prefecture_code: str | None) -> int:
    query = select(func.count()).select_from(Body).where(col(Body.fiscal_strength_index) == None)  # noqa: E711
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    return int(session.exec(query).one())


def body_count(session: Session, prefecture_code: str | None) -> int:
    query = select(func.count()).select_from(Body)
    if prefecture_code:
        query = query.where(col(Body.prefecture_code) == prefecture_code)
    return int(session.exec(query).one())


def user_counts(session: Session) -> dict[str, int]:
    rows = session.exec(
        select(col(User.role), func.count())
        .where(col(User.is_active) == True)  # noqa: E712
        .group_by(col(User.role))
    ).all()
    return {role: int(n) for role, n in rows}


def recent_audit(session: Session, prefecture_code: str | None = None, limit: int = 10) -> list[AuditLog]:
    query = select(AuditLog)
    if prefecture_code:
        query = query.where(col(AuditLog.prefecture_code) == prefecture_code)
    return list(session.exec(query.order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc()).limit(limit)))


def reference_status(session: Session) -> dict[str, Any]:
    return {
        "price_book": current_price_book(session),
        "rule_set": current_subsidy_rule_set(session),
        "price_books": int(session.exec(select(func.count()).select_from(PriceBook)).one()),
        "rule_sets": int(session.exec(select(func.count()).select_from(SubsidyRuleSet)).one()),
        "vintages": latest_vintages(session),
    }


def data_status(session: Session, prefecture_code: str | None) -> dict[str, Any]:
    return {
        "bodies": body_count(session, prefecture_code),
        "population": population_status(session, prefecture_code=prefecture_code),
        "fiscal_missing": fiscal_missing(session, prefecture_code),
    }
