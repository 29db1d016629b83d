"""A plan from a fractional LP solution of the facility model: open the most-open facilities first.

Facilities are taken by decreasing y_f; each becomes a group of its not yet placed members with x_if >= y_f / 2
(most assigned first, up to max_members), if that group is allowed (two members or more, one of the lead's own
needs when the lead is a member, copies of the option left) and saves money against its members going alone.
Needs left over go alone. The result is then polished by the local search. Only used where no together / apart
pair constrains the groups (the local search has the same limit); it proves nothing, it only feeds incumbents.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..tolerances import LP_VALUE_NOISE, OPEN
from .formulation import Formulation
from .heuristic import improve
from .subproblems import SubProblem
from .types import Group


def round_lp(sp: SubProblem, model: Formulation, values: Sequence[float]) -> list[Group] | None:
    if sp.together or sp.apart:
        return None
    placed = [False] * sp.size
    used = [0] * len(sp.options)
    groups: list[Group] = []
    order = sorted(model.facilities, key=lambda f: -values[f.y])
    for f in order:
        y = values[f.y]
        if y < OPEN:
            break
        opt = sp.options[f.option]
        if used[f.option] >= opt.copies:
            continue
        cand = sorted(
            (i for i, col in f.x.items() if not placed[i] and values[col] >= 0.5 * y - LP_VALUE_NOISE),
            key=lambda i: -values[f.x[i]],
        )
        if opt.required:
            req = [i for i in cand if i in opt.required]
            if not req:
                continue
            cand = [req[0]] + [i for i in cand if i != req[0]]
        members = cand[: opt.max_members]
        if len(members) < 2:
            continue
        base = {i: opt.base[j] for j, i in enumerate(opt.members)}
        vol = sum(sp.volumes[i] for i in members)
        cost = sum(base[i] for i in members) + min(fk + hb * vol for _, fk, hb in opt.lines)
        if cost >= sum(sp.standalone[i] for i in members):
            continue
        used[f.option] += 1
        for i in members:
            placed[i] = True
        groups.append(Group(opt.mode, opt.lead, tuple(sorted(members))))
    for i in range(sp.size):
        if not placed[i]:
            if not sp.alone_ok[i]:
                return None
            groups.append(Group("standalone", sp.bodies[i], (i,)))
    return improve(sp, groups)
