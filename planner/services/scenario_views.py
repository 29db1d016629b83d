"""The scenario pages' reading side (planner.web.scenarios): the choices of the scenario form, a scenario's plans
and chosen reference versions, the names its overrides are described with, the plan whose groups a need can be
fixed to, and the copy with one more override that is solved at once."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session, col, select

from planner.db.models import Body, Category, PriceBook, Scenario, SubsidyRuleSet, User
from planner.db.models import Plan as PlanRow

from . import access, body_admin
from . import scenarios as svc
from .plans import PlanView, latest_plan

OVERRIDE_BODY_LIMIT = 2000  # a scenario of no prefecture lists at most this many bodies to choose from


def categories(session: Session) -> list[Category]:
    return list(session.exec(select(Category).order_by(col(Category.sort_order), col(Category.id))))


def category_names(session: Session) -> dict[str, str]:
    return {c.id: c.name for c in session.exec(select(Category))}


def price_book_choices(session: Session) -> list[PriceBook]:
    """The price-book versions a scenario may fix, newest first."""
    return list(session.exec(select(PriceBook).order_by(col(PriceBook.created_at).desc())))


def rule_set_choices(session: Session) -> list[SubsidyRuleSet]:
    """The subsidy rule sets a scenario may fix, the latest fiscal year first."""
    return list(session.exec(select(SubsidyRuleSet).order_by(col(SubsidyRuleSet.fiscal_year).desc())))


def scenario_plans(session: Session, scenario: Scenario) -> list[PlanRow]:
    """The scenario's plans, newest first."""
    return list(
        session.exec(
            select(PlanRow)
            .where(col(PlanRow.scenario_id) == scenario.id)
            .order_by(col(PlanRow.created_at).desc(), col(PlanRow.id).desc())
        )
    )


def chosen_references(session: Session, scenario: Scenario) -> tuple[PriceBook | None, SubsidyRuleSet | None]:
    """The price book and rule set the scenario fixed (None for "the current one when it runs")."""
    book = session.get(PriceBook, scenario.price_book_id) if scenario.price_book_id else None
    rules = session.get(SubsidyRuleSet, scenario.subsidy_rule_set_id) if scenario.subsidy_rule_set_id else None
    return book, rules


def override_names(session: Session, scenario: Scenario, latest: PlanView | None = None) -> dict[Any, str]:
    """Names for override descriptions: bodies of the scenario (or its latest plan), categories, prefecture."""
    names: dict[Any, str] = {}
    if latest is not None:
        names.update({code: b.name for code, b in latest.instance.bodies.items()})
        names.update({("category", cid): c.name for cid, c in latest.instance.categories.items()})
    query = select(col(Body.code), col(Body.name))
    if scenario.body_codes:
        query = query.where(
            col(Body.code).in_(list(scenario.body_codes) + [h.get("body") for h in scenario.hosts or []])
        )
    elif scenario.prefecture_code:
        query = query.where(col(Body.prefecture_code) == scenario.prefecture_code)
    else:
        query = query.where(col(Body.code).in_([h.get("body") for h in scenario.hosts or []]))
    names.update({code: name for code, name in session.exec(query)})
    names.update({("category", c.id): c.name for c in session.exec(select(Category))})
    if scenario.prefecture_code:
        pref = body_admin.prefecture_body(session, scenario.prefecture_code)
        if pref:
            names[("pref", scenario.prefecture_code)] = pref.name
    return names


def source_plan(session: Session, user: Any, scenario: Scenario) -> PlanRow | None:
    """The latest plan of the scenario this one was copied from (for its groups and the comparison), if the user
    may see that scenario."""
    source_id = (scenario.overrides or {}).get("copied_from")
    if not isinstance(source_id, int):
        return None
    source = session.get(Scenario, source_id)
    if source is None or source.id is None or not access.sees_scenario(user, source):
        return None
    return latest_plan(session, source.id)


def override_bodies(session: Session, scenario: Scenario) -> list[tuple[str, str]]:
    """(code, name) of the bodies an override of a scenario not yet run may name."""
    query = select(col(Body.code), col(Body.name)).order_by(col(Body.code))
    if scenario.body_codes:
        query = query.where(col(Body.code).in_(scenario.body_codes))
    elif scenario.prefecture_code:
        query = query.where(col(Body.prefecture_code) == scenario.prefecture_code)
    return [(code, name) for code, name in session.exec(query.limit(OVERRIDE_BODY_LIMIT))]


def override_categories(session: Session, scenario: Scenario) -> list[tuple[str, str]]:
    """(id, name) of the categories an override of a scenario not yet run may name."""
    return [(c.id, c.name) for c in categories(session) if not scenario.category_ids or c.id in scenario.category_ids]


def copy_with_override(
    session: Session, user: User, scenario: Scenario, item: dict[str, Any], latest: PlanView | None
) -> Scenario:
    """A copy of ``scenario`` with one more override, named after it (the caller starts its solve)."""
    names = override_names(session, scenario, latest)
    clean = svc.normalise_override(item)
    svc.check_override_bodies(session, scenario, clean)
    title = svc.describe_override(names, clean)
    return svc.copy_scenario(session, user, scenario, name=f"{scenario.name}／{title}", extra_override=clean)
