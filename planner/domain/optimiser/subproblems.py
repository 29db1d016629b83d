"""Split an instance into independent sub-problems and list each one's candidate groups.

A candidate is an :class:`Option`: one lead body with one joint mode, the needs that may join it, and the
volume-discount lines worth trying. Choosing one line per group is exact because the yearly volume charge is the
minimum over the lines: a group priced on any line costs at least its true cost, and on the best line exactly it.
So with a chosen line k a group of option o costs ``F_k + sum(base_i + hb_k * v_i)`` -- a facility-location
model with fixed cost ``F_k = fixed_initial + H * (fixed_annual + alpha_k)``.

Needs i and j are in one sub-problem when some option could take both (or a ``together`` pair links them):
the connected components of that graph never share a group, so they are solved independently.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..costs import body_distance_km, geography_allows, lead_allowed, standalone_cost
from ..model import Instance, ModePrice, Need
from ..tolerances import RADIUS_RECHECK_KM

# Distances are pre-filtered with numpy; pairs this close to the radius are re-checked with the domain's own
# geography_allows so that the optimiser and group_violations can never disagree on the boundary.
_RADIUS_RECHECK_KM = RADIUS_RECHECK_KM


@dataclass
class Option:
    """Groups led by ``lead`` in ``mode``; member cost on line k is ``base[j] + lines[k][1] * volume``."""

    lead: str
    mode: str
    members: tuple[int, ...]  # local indices of the needs that may join, ascending
    base: tuple[float, ...]  # per member (parallel to members): member_initial + H*(member_annual + per_km*dist)
    required: tuple[int, ...]  # local indices of which at least one must be in the group (empty for a host)
    max_members: int
    copies: int  # how many groups this lead may run in this mode (see _copies)
    lines: tuple[tuple[int, float, float], ...]  # (line index, F_k, H*beta_k), after pruning


@dataclass
class SubProblem:
    category: str
    start_year: int
    need_ids: tuple[str, ...]
    bodies: tuple[str, ...]
    volumes: tuple[float, ...]
    standalone: tuple[float, ...]  # exact standalone total of each need
    alone_ok: tuple[bool, ...]  # may the need stay a group of one (overrides can forbid it)
    together: tuple[tuple[int, int], ...] = ()
    apart: tuple[tuple[int, int], ...] = ()
    options: list[Option] = field(default_factory=list)

    @property
    def size(self) -> int:
        return len(self.need_ids)

    @property
    def label(self) -> str:
        return f"{self.category}-{self.start_year}:{self.need_ids[0]}(+{self.size - 1})"


class Infeasible(ValueError):
    """The overrides cannot all be met (for example a need fixed to a lead that cannot take it)."""


def decompose(instance: Instance) -> list[SubProblem]:
    """All sub-problems of the instance, each category x start year split into independent components."""
    chunks: dict[tuple[str, int], list[Need]] = {}
    for n in instance.needs:
        chunks.setdefault((n.category, n.start_year), []).append(n)
    cat_order = {c: i for i, c in enumerate(instance.categories)}
    together_of: dict[str, list[str]] = {}
    for a, b in instance.rules.together:
        together_of.setdefault(a, []).append(b)
        together_of.setdefault(b, []).append(a)
    apart = {frozenset(p) for p in instance.rules.apart}
    out: list[SubProblem] = []
    for cat, year in sorted(chunks, key=lambda k: (cat_order.get(k[0], 0), k[1])):
        needs = chunks[(cat, year)]
        if instance.rules.geography.type == "same_prefecture":
            # Every member sits in its lead's prefecture, so prefectures never share a group.
            by_pref: dict[str, list[Need]] = {}
            for n in needs:
                by_pref.setdefault(instance.bodies[n.body].prefecture_code, []).append(n)
            parts = [by_pref[p] for p in sorted(by_pref)]
        else:
            parts = [needs]
        for part in parts:
            out.extend(_components(instance, cat, year, part, together_of, apart))
    return out


def _alone_ok(instance: Instance, n: Need, together_of: dict[str, list[str]]) -> bool:
    if together_of.get(n.id):
        return False  # a group of one cannot hold the pair
    rule = instance.fixed_rule(n.id)
    if rule is None:
        return True
    if rule.mode is not None and rule.mode != "standalone":
        return False
    return rule.lead_body is None or rule.lead_body == n.body


def _may_join(instance: Instance, n: Need, mode: str, lead: str) -> bool:
    if mode not in n.modes:
        return False
    rule = instance.fixed_rule(n.id)
    if rule is None:
        return True
    if rule.mode is not None and rule.mode != mode:
        return False
    return rule.lead_body is None or rule.lead_body == lead


def _reachable(instance: Instance, needs: list[Need], leads: list[str]) -> list[list[tuple[int, float]]]:
    """For each lead, the (need index, distance km) pairs the geography rule allows."""
    geo = instance.rules.geography
    bodies = instance.bodies
    if geo.type == "radius_km" and len(needs) * len(leads) > 2000:
        import numpy as np

        km = float(geo.km or 0.0)
        lat = np.radians([bodies[n.body].lat for n in needs])
        lng = np.radians([bodies[n.body].lng for n in needs])
        out: list[list[tuple[int, float]]] = []
        for lead in leads:
            b = bodies[lead]
            lat0, lng0 = np.radians(b.lat), np.radians(b.lng)
            a = np.sin((lat - lat0) / 2) ** 2 + np.cos(lat0) * np.cos(lat) * np.sin((lng - lng0) / 2) ** 2
            d = 2 * 6371.0 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
            row: list[tuple[int, float]] = []
            for hit in np.nonzero(d <= km + _RADIUS_RECHECK_KM)[0]:
                nb = bodies[needs[hit].body]
                if geography_allows(instance, nb, b):
                    row.append((int(hit), body_distance_km(nb, b)))
            out.append(row)
        return out
    out = []
    for lead in leads:
        b = bodies[lead]
        row = []
        for i, n in enumerate(needs):
            nb = bodies[n.body]
            if geography_allows(instance, nb, b):
                row.append((i, body_distance_km(nb, b)))
        out.append(row)
    return out


def _components(
    instance: Instance,
    cat: str,
    year: int,
    needs: list[Need],
    together_of: dict[str, list[str]],
    apart: set[frozenset[str]],
) -> list[SubProblem]:
    category = instance.categories[cat]
    horizon = instance.horizon_years
    hosts = [h for h in instance.hosts_of(cat) if h in instance.bodies]
    index = {n.id: i for i, n in enumerate(needs)}
    standalone = [standalone_cost(instance, n).exact_total for n in needs]
    alone = [_alone_ok(instance, n, together_of) for n in needs]
    forced_alone = []
    for n in needs:
        rule = instance.fixed_rule(n.id)
        forced_alone.append(rule is not None and rule.mode == "standalone")

    # Raw options over the whole chunk, in chunk indices; components are found from them.
    raw: list[tuple[str, str, list[int], list[float], list[int]]] = []
    for mode in ("lead", "unified"):
        if mode not in category.prices:
            continue
        price = category.price(mode)
        member_leads = [n for n in needs if mode in n.modes and n.can_lead]  # a coordinator too needs can_lead
        leads = list(dict.fromkeys([n.body for n in member_leads] + (hosts if mode == "lead" else [])))
        leads = [b for b in leads if lead_allowed(instance, b, mode)]
        reach = _reachable(instance, needs, leads)
        host_set = set(hosts) if mode == "lead" else set()
        for lead, row in zip(leads, reach, strict=True):
            members, base = [], []
            for i, dist in row:
                n = needs[i]
                if forced_alone[i] or not _may_join(instance, n, mode, lead):
                    continue
                members.append(i)
                base.append(price.member_initial + horizon * (price.member_annual + price.per_km_annual * dist))
            if len(members) < 2:
                continue
            if lead in host_set:
                required: list[int] = []
            else:
                required = [i for i in members if needs[i].body == lead and needs[i].can_lead]
                if not required:
                    continue
            raw.append((lead, mode, members, base, required))

    parent = list(range(len(needs)))

    def find(a: int) -> int:
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    for _, _, members, _, _ in raw:
        r = find(members[0])
        for i in members[1:]:
            s = find(i)
            if s != r:
                parent[s] = r
    for n in needs:
        for other in together_of.get(n.id, ()):
            if other in index:
                a, b = find(index[n.id]), find(index[other])
                if a != b:
                    parent[b] = a
            else:  # validation keeps pairs within one category and year; another prefecture is unreachable
                raise Infeasible(f"together の組 {n.id}/{other} は同じグループになれません（地理条件）")

    comps: dict[int, list[int]] = {}
    for i in range(len(needs)):
        comps.setdefault(find(i), []).append(i)
    local_of: dict[int, tuple[int, int]] = {}
    subs: list[SubProblem] = []
    for ci, members in enumerate(sorted(comps.values())):
        for j, i in enumerate(members):
            local_of[i] = (ci, j)
        ids = [needs[i].id for i in members]
        sp = SubProblem(
            category=cat,
            start_year=year,
            need_ids=tuple(ids),
            bodies=tuple(needs[i].body for i in members),
            volumes=tuple(float(needs[i].volume) for i in members),
            standalone=tuple(standalone[i] for i in members),
            alone_ok=tuple(alone[i] for i in members),
        )
        local = {nid: j for j, nid in enumerate(ids)}
        sp.together = tuple(
            sorted({_pair(local[a], local[b]) for a in ids for b in together_of.get(a, ()) if b in local})
        )
        sp.apart = tuple(
            sorted({_pair(local[a], local[b]) for p in apart for a, b in [tuple(p)] if a in local and b in local})
        )
        subs.append(sp)
    for lead, mode, members, base, required in raw:
        ci = local_of[members[0]][0]
        sp = subs[ci]
        loc = [local_of[i][1] for i in members]
        order = sorted(range(len(loc)), key=lambda t: loc[t])
        opt = _make_option(
            category.price(mode),
            horizon,
            sp,
            lead,
            mode,
            [loc[t] for t in order],
            [base[t] for t in order],
            sorted(local_of[i][1] for i in required),
        )
        if opt is not None:
            sp.options.append(opt)
    return subs


def _pair(a: int, b: int) -> tuple[int, int]:
    return (a, b) if a <= b else (b, a)


def _make_option(
    price: ModePrice,
    horizon: int,
    sp: SubProblem,
    lead: str,
    mode: str,
    members: list[int],
    base: list[float],
    required: list[int],
) -> Option | None:
    max_members = int(price.max_members) if price.max_members is not None else len(members)
    if max_members < 2:
        return None
    vols = sorted(sp.volumes[i] for i in members)
    v_lo = vols[0] + vols[1]
    v_hi = sum(vols[-max_members:])
    lines = _useful_lines(price.lines, v_lo, v_hi)
    priced = tuple(
        (k, price.fixed_initial + horizon * (price.fixed_annual + alpha), horizon * beta) for k, (alpha, beta) in lines
    )
    member_set = set(members)
    if required:
        copies = len(required)  # each group this body leads needs one of its own needs as a member
    else:
        copies = _host_copies(len(members), max_members, any(a in member_set and b in member_set for a, b in sp.apart))
    return Option(
        lead=lead,
        mode=mode,
        members=tuple(members),
        base=tuple(base),
        required=tuple(required),
        max_members=max_members,
        copies=copies,
        lines=priced,
    )


def _useful_lines(
    lines: tuple[tuple[float, float], ...], v_lo: float, v_hi: float
) -> list[tuple[int, tuple[float, float]]]:
    """Drop a line when another kept line is no dearer at both ends of the volumes a group here can have.

    Both are linear in the volume, so the other line is no dearer on the whole interval [v_lo, v_hi]: any group
    priced on the dropped line can be priced on the other at no extra cost, and the optimum is unchanged.
    """
    ends = [(a + b * v_lo, a + b * v_hi) for a, b in lines]
    dropped: set[int] = set()
    for k in range(len(lines)):
        for j in range(len(lines)):
            if j == k or j in dropped:
                continue
            no_dearer = ends[j][0] <= ends[k][0] and ends[j][1] <= ends[k][1]
            if no_dearer and (ends[j] != ends[k] or j < k):
                dropped.add(k)
                break
    return [(k, (lines[k][0], lines[k][1])) for k in range(len(lines)) if k not in dropped]


def _host_copies(n_members: int, max_members: int, has_apart: bool) -> int:
    """How many groups one host may need to lead in one mode.

    Without apart pairs among its possible members, two groups of the same host and mode whose sizes add up to
    at most max_members can be merged at no extra cost: price the merged group on the line with the smaller beta
    (line k1); the saving is F_k2 + H*(beta_k2 - beta_k1)*V2 >= 0 because every price and alpha is non-negative
    (validated). Merging keeps together pairs whole and breaks no fixed rule (same mode and lead). So some
    optimum has every two such groups larger than max_members together: all but the smallest have more than
    max_members/2 members, hence at most 2*n/max_members + 1 groups.
    """
    most = n_members // 2
    if has_apart:
        return max(1, most)
    return max(1, min(most, (2 * n_members) // max_members + 1))
