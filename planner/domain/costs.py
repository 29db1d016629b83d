"""The cost of one group and the rules that make a group feasible (spec: cost-model.md).

Every other part of the domain (optimiser, baselines, allocation, reports) prices and checks groups through
these functions, so that there is exactly one definition of the cost model.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from .model import Body, Instance, ModePrice, Need

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance on a sphere of radius 6371 km."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def body_distance_km(a: Body, b: Body) -> float:
    if a.code == b.code:
        return 0.0
    return _cached_distance(a.lat, a.lng, b.lat, b.lng)


# Bounded to what one solve reuses (a prefecture's bodies against its candidate leads): at 1 << 20 entries the
# cache held ~340 MB in every web worker that had solved a national plan, and kept it (issue #30).
DISTANCE_CACHE_SIZE = 1 << 16


@lru_cache(maxsize=DISTANCE_CACHE_SIZE)
def _cached_distance(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    return haversine_km(lat1, lng1, lat2, lng2)


def round_yen(amount: float) -> int:
    """Money in every output is integer yen, rounded half up (a tiny epsilon absorbs float noise)."""
    return math.floor(amount + 0.5 + 1e-9)


@dataclass(frozen=True)
class GroupCost:
    """A group's cost: the initial part, one year's running cost, and the horizon total (yen).

    ``exact_total`` keeps the unrounded figure the optimiser minimises; outputs use the integer fields.
    """

    initial_yen: int
    annual_yen: int
    total_yen: int
    exact_total: float

    def as_dict(self) -> dict[str, int]:
        return {"initial_yen": self.initial_yen, "annual_yen": self.annual_yen, "total_yen": self.total_yen}


# The formula's terms by the names every document prints them under (cost-model.md's price-book fields in the
# comments): the domain's own words, so that a document states the sum group_cost makes and no other.
TERM_LABELS = {
    "fixed_initial": "固定初期費用",  # fixed_initial
    "member_initial": "参加団体ごとの初期費用",  # member_initial × |G|
    "fixed_annual": "固定年額",  # fixed_annual (less the scenario's lead work, its own line)
    "lead_work": "幹事事務費",  # the scenario's lead_work_annual_yen for a lead-mode group
    "coordinator_work": "取りまとめ事務費",  # ... for a unified-mode group
    "member_annual": "参加団体ごとの年額",  # member_annual × |G|
    "distance": "距離に応じた年間運用費",  # per_km_annual × Σ distance(i, lead)
    "volume": "利用量に応じた年額",  # min over the price lines of alpha + beta × V_G
}


@dataclass(frozen=True)
class CostTerms:
    """One group's cost, term by term, as the spec's formula adds it up: what :func:`group_cost` totals and what a
    document's cost build-up prints line by line."""

    price: ModePrice
    members: int
    volume: float
    distance_km: float  # Σ distance(member, lead); 0 for a standalone need
    line: tuple[float, float]  # (alpha, beta): the price line cheapest at ``volume``

    @property
    def initial(self) -> int:
        return self.price.fixed_initial + self.members * self.price.member_initial

    @property
    def distance_charge(self) -> float:
        return self.price.per_km_annual * self.distance_km

    @property
    def volume_charge(self) -> float:
        alpha, beta = self.line
        return alpha + beta * self.volume

    @property
    def annual(self) -> float:
        """One year's running cost, unrounded."""
        p = self.price
        return p.fixed_annual + self.members * p.member_annual + self.distance_charge + self.volume_charge


def cost_terms(instance: Instance, needs: Sequence[Need], mode: str, lead_body: str) -> CostTerms:
    """The terms of the spec's formula for these needs run in ``mode`` by ``lead_body``."""
    if not needs:
        raise ValueError("a group has at least one need")
    price = instance.categories[needs[0].category].price(mode)
    lead = instance.bodies[lead_body]
    volume = sum(n.volume for n in needs)
    distance = 0.0
    if mode != "standalone":
        distance = sum(body_distance_km(instance.bodies[n.body], lead) for n in needs)
    line = min(price.lines, key=lambda ab: ab[0] + ab[1] * volume)
    return CostTerms(price, len(needs), volume, distance, line)


def group_cost(instance: Instance, needs: Sequence[Need], mode: str, lead_body: str) -> GroupCost:
    """Price a group by the spec's formula; feasibility is checked separately by :func:`group_violations`."""
    terms = cost_terms(instance, needs, mode, lead_body)
    initial, annual = terms.initial, terms.annual
    annual_yen = round_yen(annual)
    horizon = instance.horizon_years
    return GroupCost(initial, annual_yen, initial + horizon * annual_yen, initial + horizon * annual)


def standalone_cost(instance: Instance, need: Need) -> GroupCost:
    return group_cost(instance, [need], "standalone", need.body)


def lead_allowed(instance: Instance, lead_body: str, mode: str) -> bool:
    """Whether ``lead_body`` may run a ``mode`` group by the scenario's own rules beyond can_lead and hosts: with
    ``lead_must_be_grant_eligible`` a lead-mode group's lead must be an eligible 実施主体 of the grant. The one
    place the optimiser, the cost game (through group_violations) and the separation oracle ask."""
    spec = instance.allocation
    if mode != "lead" or not spec.lead_must_be_grant_eligible:
        return True
    body = instance.bodies.get(lead_body)
    return body is not None and body.kind not in spec.lead_ineligible_kinds


def geography_allows(instance: Instance, member: Body, lead: Body) -> bool:
    geo = instance.rules.geography
    if geo.type == "same_prefecture":
        return member.prefecture_code == lead.prefecture_code
    if geo.type == "radius_km":
        return body_distance_km(member, lead) <= float(geo.km or 0.0) + 1e-9
    return True


def group_violations(
    instance: Instance,
    needs: Sequence[Need],
    mode: str,
    lead_body: str,
    check_overrides: bool = True,
    all_need_ids: Iterable[str] | None = None,
) -> list[str]:
    """Every rule of cost-model.md "What makes a group feasible" that the group breaks (empty if feasible).

    ``all_need_ids`` limits the together/apart overrides to those pairs whose both needs are in that set
    (used when a coalition of a larger instance is priced by itself); by default every pair counts.
    """
    problems: list[str] = []
    if not needs:
        return ["empty group"]
    ids = [n.id for n in needs]
    if len(set(ids)) != len(ids):
        problems.append("a need appears twice")
    if len({n.category for n in needs}) != 1:
        problems.append("needs of more than one category")
    if len({n.start_year for n in needs}) != 1:
        problems.append("needs with different start years")
    category = instance.categories.get(needs[0].category)
    if category is None:
        return [*problems, f"unknown category {needs[0].category}"]
    if lead_body not in instance.bodies:
        return [*problems, f"unknown lead body {lead_body}"]
    if mode == "standalone":
        if len(needs) != 1:
            problems.append("standalone groups have exactly one member")
        elif lead_body != needs[0].body:
            problems.append("a standalone need is its own lead")
    elif mode in ("lead", "unified"):
        if len(needs) < 2:
            problems.append(f"{mode} mode needs at least two members")
        for n in needs:
            if mode not in n.modes:
                problems.append(f"need {n.id} does not accept {mode} mode")
        # Who may run the group: a member willing to lead (can_lead) in both joint modes -- a body that declined
        # to lead is never made the unified mode's 取りまとめ団体 either -- or, in lead mode only, a host.
        lead_is_member = any(n.body == lead_body and n.can_lead for n in needs)
        if mode == "lead":
            if not lead_is_member and lead_body not in instance.hosts_of(category.id):
                problems.append(f"lead {lead_body} is neither a member with can_lead nor a host of {category.id}")
        elif not lead_is_member:
            problems.append(f"coordinator {lead_body} is not a member with can_lead")
        if not lead_allowed(instance, lead_body, mode):
            problems.append(f"lead {lead_body} is not eligible for the grant (lead_must_be_grant_eligible)")
        max_members = category.price(mode).max_members
        if max_members is not None and len(needs) > max_members:
            problems.append(f"{len(needs)} members exceed max_members {max_members}")
        lead = instance.bodies[lead_body]
        for n in needs:
            if not geography_allows(instance, instance.bodies[n.body], lead):
                problems.append(f"need {n.id} is outside the geography rule from lead {lead_body}")
    else:
        problems.append(f"unknown mode {mode}")
    if check_overrides:
        problems.extend(_override_violations(instance, needs, mode, lead_body, all_need_ids))
    return problems


def _override_violations(
    instance: Instance, needs: Sequence[Need], mode: str, lead_body: str, all_need_ids: Iterable[str] | None
) -> list[str]:
    problems = []
    inside = {n.id for n in needs}
    universe = set(all_need_ids) if all_need_ids is not None else None
    for a, b in instance.rules.together:
        if universe is not None and not (a in universe and b in universe):
            continue
        if (a in inside) != (b in inside):
            problems.append(f"together pair {a}/{b} is split")
    for a, b in instance.rules.apart:
        if a in inside and b in inside:
            problems.append(f"apart pair {a}/{b} shares a group")
    for n in needs:
        rule = instance.fixed_rule(n.id)
        if rule is None:
            continue
        if rule.mode is not None and rule.mode != mode:
            problems.append(f"need {n.id} is fixed to mode {rule.mode}")
        if rule.lead_body is not None and rule.lead_body != lead_body:
            problems.append(f"need {n.id} is fixed to lead {rule.lead_body}")
    return problems
