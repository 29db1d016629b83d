"""Solved plans in the database: persist one (the Plan row keeps the instance and plan documents; the Consortium /
MemberShare / SubsidyEstimate rows exist for queries such as "which plans include this body" and for other tools
reading the database), list the ones a user may open, and find a scenario's latest."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from planner.db.models import Consortium, MemberShare, Scenario, SubsidyEstimate
from planner.db.models import Plan as PlanRow
from planner.db.rows import id_of
from planner.domain.instance_io import instance_to_dict
from planner.domain.model import Instance
from planner.domain.settled import member_lines
from planner.domain.settled_plan import SettledPlan
from planner.services import access
from planner.services.access import Actor

# --- writing ------------------------------------------------------------------------------------------------------


def persist_plan(
    session: Session,
    scenario_id: int,
    instance: Instance,
    plan: SettledPlan,
    *,
    price_book_version: str,
    rule_version: str,
    extras: dict[str, Any] | None = None,
) -> PlanRow:
    """Add the plan and its rows to the session's transaction (the caller commits, or rolls everything back)."""
    doc = plan.to_dict()
    doc["stats"] = {**doc.get("stats", {}), "price_book_version": price_book_version, "rule_version": rule_version}
    for key, value in (extras or {}).items():
        doc[key] = value
    row = PlanRow(
        scenario_id=scenario_id,
        status=plan.status,
        objective_yen=plan.objective_yen,
        lower_bound_yen=plan.lower_bound_yen,
        gap=plan.gap,
        standalone_total_yen=plan.standalone_total_yen,
        solve_seconds=plan.solve_seconds,
        price_book_version=price_book_version,
        rule_version=rule_version,
        instance_doc=instance_to_dict(instance),
        plan_doc=doc,
    )
    session.add(row)
    session.flush()
    shares_and_subsidies = []
    for group in plan.groups:
        allocation = group.allocation
        consortium = Consortium(
            plan_id=id_of(row),
            group_key=group.id,
            category_id=group.category,
            start_year=group.start_year,
            mode=group.mode,
            lead_body_code=group.lead_body,
            initial_yen=group.cost.initial_yen,
            annual_yen=group.cost.annual_yen,
            total_yen=group.cost.total_yen,
            standalone_total_yen=group.standalone_total_yen,
            allocation_method=allocation.method[:20] if allocation else "",
            individually_rational=allocation.individually_rational if allocation else None,
            in_core=allocation.in_core if allocation else None,
            exhaustive_check=allocation.exhaustive_check if allocation else None,
        )
        session.add(consortium)
        shares_and_subsidies.append((consortium, group))
    session.flush()
    estimates = []
    for consortium, group in shares_and_subsidies:
        for line in member_lines(instance, group):
            share = MemberShare(
                consortium_id=id_of(consortium),
                need_key=line.need_id,
                body_code=line.body_code,
                initial_yen=line.initial_yen,
                annual_yen=line.annual_yen,
                total_yen=line.total_yen,
                standalone_total_yen=line.standalone_total_yen,
            )
            session.add(share)
            estimates.append((share, line))
    session.flush()
    for share, line in estimates:
        if line.subsidy is not None:
            session.add(
                SubsidyEstimate(
                    member_share_id=id_of(share),
                    grant_yen=line.grant_yen,
                    special_tax_yen=line.special_tax_yen,
                    special_tax_measure=(line.special_tax_measure or None),
                    net_yen=line.net_yen,
                    standalone_net_yen=line.standalone_net_yen,
                    notes=list(line.notes),
                )
            )
    session.flush()
    return row


# --- lists ------------------------------------------------------------------------------------------------------


def list_plans(
    session: Session,
    user: Actor,
    *,
    scenario_id: int | None = None,
    prefecture_code: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[tuple[PlanRow, Scenario]], int]:
    query = access.visible_plans(user)
    if scenario_id:
        query = query.where(col(PlanRow.scenario_id) == scenario_id)
    if prefecture_code:
        query = query.where(col(Scenario.prefecture_code) == prefecture_code)
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(PlanRow.created_at).desc(), col(PlanRow.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return [(plan, scenario) for plan, scenario in rows], int(total)


def latest_plan(session: Session, scenario_id: int) -> PlanRow | None:
    return session.exec(
        select(PlanRow)
        .where(col(PlanRow.scenario_id) == scenario_id)
        .order_by(col(PlanRow.created_at).desc(), col(PlanRow.id).desc())
    ).first()
