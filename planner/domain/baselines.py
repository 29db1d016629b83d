"""The three baselines the optimiser's savings are measured against (issue 3, benchmark):

1. ``standalone_plan`` -- everyone procures alone;
2. ``prefecture_practice`` -- in each prefecture, category and start year the prefecture leads one lead-mode group
   of every need that accepts lead mode (split into chunks of the member limit), the rest alone;
3. ``greedy_merging`` -- start from everyone alone and repeatedly merge the two groups whose merge saves most.

Each returns a :class:`Plan` whose groups all pass costs.group_violations. The simple rules cannot express the
``together`` and ``fixed`` overrides, so the category x start-year cells of needs named in those are planned
exactly by the optimiser instead (apart pairs are respected by the rules themselves).
"""

from __future__ import annotations

import heapq
import time

from .cost_game import sub_instance
from .costs import geography_allows, standalone_cost
from .model import Instance, Need
from .optimiser.assemble import priced_groups
from .optimiser.subproblems import SubProblem, decompose
from .plan import Plan

Raw = tuple[str, str, list[str]]  # (mode, lead body, need ids)


def standalone_plan(instance: Instance) -> Plan:
    raw, rest = _override_part(instance)
    raw += [("standalone", n.body, [n.id]) for n in rest]
    return _plan(instance, raw, "baseline:standalone")


def prefecture_practice(instance: Instance) -> Plan:
    raw, rest = _override_part(instance)
    apart = {frozenset(p) for p in instance.rules.apart}
    cells: dict[tuple[str, str, int], list[Need]] = {}
    for n in rest:
        pref = instance.bodies[n.body].prefecture_code
        cells.setdefault((pref, n.category, n.start_year), []).append(n)
    # The prefecture's own body (its code carries a check digit: 北海道 is 010006, not 010000).
    prefecture_body = {b.prefecture_code: b.code for b in instance.bodies.values() if b.kind == "prefecture"}
    for (pref, cat, _year), needs in sorted(cells.items()):
        host = prefecture_body.get(pref, "")
        price = instance.categories[cat].prices.get("lead")
        usable = host in instance.bodies and host in instance.hosts_of(cat) and price is not None
        members = [
            n
            for n in sorted(needs, key=lambda n: n.id)
            if usable
            and "lead" in n.modes
            and geography_allows(instance, instance.bodies[n.body], instance.bodies[host])
        ]
        limit = price.max_members if price is not None and price.max_members else len(members) or 1
        chunks: list[list[Need]] = []
        for n in members:  # first chunk with room and no apart partner
            for chunk in chunks:
                if len(chunk) < limit and not any(frozenset((n.id, m.id)) in apart for m in chunk):
                    chunk.append(n)
                    break
            else:
                chunks.append([n])
        grouped: set[str] = set()
        for chunk in chunks:
            if len(chunk) >= 2:
                raw.append(("lead", host, [n.id for n in chunk]))
                grouped.update(n.id for n in chunk)
        raw += [("standalone", n.body, [n.id]) for n in needs if n.id not in grouped]
    return _plan(instance, raw, "baseline:prefecture")


def greedy_merging(instance: Instance) -> Plan:
    raw, rest = _override_part(instance)
    sub = sub_instance(instance, [n.id for n in rest])
    for sp in decompose(sub):
        raw += [(mode, lead, [sp.need_ids[i] for i in members]) for mode, lead, members in _greedy(sp)]
    return _plan(instance, raw, "baseline:greedy")


# --- helpers ----------------------------------------------------------------------------------------------------


def _override_part(instance: Instance) -> tuple[list[Raw], list[Need]]:
    """Needs named in together/fixed rules, planned exactly on their own; and the needs left for the rule."""
    named = {x for pair in instance.rules.together for x in pair} | {f.need for f in instance.rules.fixed}
    if not named:
        return [], list(instance.needs)
    # Whole category x start-year cells: a fixed lead body's own need, or a together partner, is always in the
    # same cell, so the part is plannable by itself and shares no possible group with the rest.
    cells = {(instance.need(x).category, instance.need(x).start_year) for x in named}
    named = {n.id for n in instance.needs if (n.category, n.start_year) in cells}
    rest = [n for n in instance.needs if n.id not in named]
    from .optimiser import optimise

    plan = optimise(sub_instance(instance, sorted(named)))
    return [(g.mode, g.lead_body, list(g.members)) for g in plan.groups], rest


def _plan(instance: Instance, raw: list[Raw], name: str) -> Plan:
    started = time.perf_counter()
    groups = priced_groups(instance, raw)
    need_alone = {n.id: standalone_cost(instance, n).total_yen for n in instance.needs}
    objective = sum(g.cost.total_yen for g in groups)
    return Plan(
        instance=instance.name,
        status="feasible",
        objective_yen=objective,
        lower_bound_yen=0,
        gap=1.0 if objective else 0.0,
        standalone_total_yen=sum(need_alone.values()),
        solve_seconds=time.perf_counter() - started,
        groups=groups,
        need_standalone_yen=need_alone,
        stats={"baseline": name},
    )


def _greedy(sp: SubProblem) -> list[tuple[str, str, tuple[int, ...]]]:
    """Pairwise greedy merging on one sub-problem, pricing a group by its best (lead, mode, line)."""
    n = sp.size
    apart = {frozenset(p) for p in sp.apart}
    # Per group: members, cost, and for every option holding all its members the sums needed to price it.
    members: dict[int, tuple[int, ...]] = {i: (i,) for i in range(n)}
    cost: dict[int, float] = {i: sp.standalone[i] for i in range(n)}
    choice: dict[int, tuple[str, str]] = {i: ("standalone", sp.bodies[i]) for i in range(n)}
    sums: dict[int, dict[int, tuple[float, float]]] = {i: {} for i in range(n)}  # option -> (sum base, volume)
    for oi, opt in enumerate(sp.options):
        for j, i in enumerate(opt.members):
            sums[i][oi] = (opt.base[j], sp.volumes[i])

    def merged(a: int, b: int) -> tuple[float, int] | None:
        if any(frozenset((x, y)) in apart for x in members[a] for y in members[b]):
            return None
        size = len(members[a]) + len(members[b])
        best: tuple[float, int] | None = None
        for oi, (ba, va) in sums[a].items():
            other = sums[b].get(oi)
            if other is None:
                continue
            opt = sp.options[oi]
            if size > opt.max_members:
                continue
            if opt.required and not any(i in opt.required for i in members[a] + members[b]):
                continue
            vol = va + other[1]
            c = ba + other[0] + min(f + hb * vol for _, f, hb in opt.lines)
            if best is None or c < best[0]:
                best = (c, oi)
        return best

    heap: list[tuple[float, int, int, int, int]] = []
    version = {i: 0 for i in range(n)}

    def push(a: int, b: int) -> None:
        m = merged(a, b)
        if m is not None:
            saving = cost[a] + cost[b] - m[0]
            if saving > 1e-6:
                heapq.heappush(heap, (-saving, a, b, version[a], version[b]))

    alive = set(range(n))
    for a in range(n):
        for b in range(a + 1, n):
            if sums[a].keys() & sums[b].keys():
                push(a, b)
    next_id = n
    while heap:
        _, a, b, va, vb = heapq.heappop(heap)
        if a not in alive or b not in alive or version[a] != va or version[b] != vb:
            continue
        m = merged(a, b)
        if m is None:
            continue
        c, oi = m
        g = next_id
        next_id += 1
        members[g] = tuple(sorted(members[a] + members[b]))
        cost[g] = c
        opt = sp.options[oi]
        choice[g] = (opt.mode, opt.lead)
        sums[g] = {o: (sa[0] + sums[b][o][0], sa[1] + sums[b][o][1]) for o, sa in sums[a].items() if o in sums[b]}
        version[g] = 0
        alive -= {a, b}
        for other in alive:
            if sums[g].keys() & sums[other].keys():
                push(g, other)
        alive.add(g)
    return [(choice[g][0], choice[g][1], members[g]) for g in sorted(alive, key=lambda g: members[g])]
