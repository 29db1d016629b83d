"""A fast feasible plan for one sub-problem: the MILP's warm start and the answer when time runs out.

Greedy over candidates: repeatedly open the group (lead, mode, line) that saves most against its members going
alone, filled with the members that gain most, until no group saves anything; the rest stay alone. Needs that may
not stay alone (overrides) weigh heavily so that they are placed first.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..tolerances import YEN_NOISE
from .subproblems import Option, SubProblem
from .types import Group

_MUST_PLACE = 1e15  # bonus for placing a need that may not stay alone; dwarfs every real saving
# A local-search move must gain more than this (yen): smaller gains are float noise, and taking them could
# cycle between two plans of the same cost.
_MIN_GAIN = YEN_NOISE


def greedy_groups(sp: SubProblem) -> list[Group] | None:
    """A feasible partition of the sub-problem, or None when the greedy could not place every need."""
    n = sp.size
    atom_of = list(range(n))  # together pairs travel as one atom

    def find(a: int) -> int:
        while atom_of[a] != a:
            a = atom_of[a]
        return a

    for a, b in sp.together:
        ra, rb = find(a), find(b)
        if ra != rb:
            atom_of[rb] = ra
    atoms: dict[int, list[int]] = {}
    for i in range(n):
        atoms.setdefault(find(i), []).append(i)
    atom = [find(i) for i in range(n)]
    apart_of: dict[int, set[int]] = {}
    for a, b in sp.apart:
        apart_of.setdefault(a, set()).add(b)
        apart_of.setdefault(b, set()).add(a)
    weight = [sp.standalone[i] + (0.0 if sp.alone_ok[i] else _MUST_PLACE) for i in range(n)]
    placed = [False] * n
    used_copies = [0] * len(sp.options)
    groups: list[Group] = []
    member_sets = [set(o.members) for o in sp.options]
    while True:
        best: tuple[float, int, list[int]] | None = None
        for oi, opt in enumerate(sp.options):
            if used_copies[oi] >= opt.copies:
                continue
            free = [j for j, i in enumerate(opt.members) if not placed[i]]
            if len(free) < 2:
                continue
            for _, f, hb in opt.lines:
                cand = _fill(sp, opt, member_sets[oi], free, f, hb, weight, atoms, atom, apart_of, placed)
                if cand is not None and (best is None or cand[0] > best[0]):
                    best = (cand[0], oi, cand[1])
        if best is None or best[0] <= 0:
            break
        _, oi, members = best
        opt = sp.options[oi]
        used_copies[oi] += 1
        for i in members:
            placed[i] = True
        groups.append(Group(opt.mode, opt.lead, tuple(sorted(members))))
    for i in range(n):
        if not placed[i]:
            if not sp.alone_ok[i]:
                return None
            groups.append(Group("standalone", sp.bodies[i], (i,)))
    return groups


def _fill(
    sp: SubProblem,
    opt: Option,
    member_set: set[int],
    free: list[int],
    f: float,
    hb: float,
    weight: list[float],
    atoms: dict[int, list[int]],
    atom: list[int],
    apart_of: dict[int, set[int]],
    placed: list[bool],
) -> tuple[float, list[int]] | None:
    """The best group of this option on line (f, hb) among the free needs: (saving, members), or None."""
    gain_of: dict[int, float] = {}
    for j in free:
        i = opt.members[j]
        gain_of[i] = weight[i] - (opt.base[j] + hb * sp.volumes[i])
    # Atoms whose every need is free and may join this option.
    atom_gain: dict[int, float] = {}
    for i in gain_of:
        a = atom[i]
        if a in atom_gain:
            continue
        group = atoms[a]
        if all(k in gain_of for k in group):
            atom_gain[a] = sum(gain_of[k] for k in group)
    seeds: list[int | None] = (
        [None] if not opt.required else [atom[i] for i in opt.required if i in gain_of and atom[i] in atom_gain]
    )
    if not seeds:
        return None
    ranked = sorted(atom_gain, key=lambda a: -atom_gain[a])
    best: tuple[float, list[int]] | None = None
    for seed in seeds[:3]:
        chosen: list[int] = []
        blocked: set[int] = set()
        total = 0.0
        order = ([seed] if seed is not None else []) + [a for a in ranked if a != seed]
        for a in order:
            group = atoms[a]
            if len(chosen) + len(group) > opt.max_members:
                continue
            if a != seed and atom_gain[a] <= 0 and len(chosen) >= 2:
                break
            if any(k in blocked for k in group):
                continue
            chosen.extend(group)
            total += atom_gain[a]
            for k in group:
                blocked |= apart_of.get(k, set())
        if len(chosen) < 2:
            continue
        saving = total - f
        if best is None or saving > best[0]:
            best = (saving, chosen)
    return best


@dataclass
class _Open:
    """A joint group while the local search moves needs: its option, members, sum of their base costs, volume."""

    option: int
    members: set[int]
    sumbase: float
    volume: float


def improve(sp: SubProblem, groups: list[Group], max_passes: int = 20) -> list[Group]:
    """Local search on a plan: move single needs between groups (or out alone) and re-choose each group's lead
    and mode, while the total falls. Only where no together/apart pair constrains the moves."""
    if sp.together or sp.apart:
        return groups
    by_key = {(o.mode, o.lead): oi for oi, o in enumerate(sp.options)}
    base_of = [dict(zip(o.members, o.base, strict=True)) for o in sp.options]
    required = [set(o.required) for o in sp.options]

    def price(oi: int, sumbase: float, vol: float) -> float:
        return sumbase + min(f + hb * vol for _, f, hb in sp.options[oi].lines)

    state: list[_Open] = []
    alone: set[int] = set()
    for mode, lead, members in groups:
        if mode == "standalone":
            alone.add(members[0])
            continue
        oi = by_key[(mode, lead)]
        state.append(_Open(oi, set(members), sum(base_of[oi][i] for i in members), sum(sp.volumes[i] for i in members)))

    def valid_without(g: _Open, i: int) -> bool:
        rest = g.members - {i}
        if required[g.option] and not (rest & required[g.option]):
            return False
        return len(rest) >= 2 or all(sp.alone_ok[j] for j in rest)

    def cost_without(g: _Open, i: int) -> float:
        if len(g.members) - 1 < 2:
            return sum(sp.standalone[j] for j in g.members if j != i)
        return price(g.option, g.sumbase - base_of[g.option][i], g.volume - sp.volumes[i])

    for _ in range(max_passes):
        improved = False
        where: dict[int, int] = {}
        for gi, g in enumerate(state):
            for i in g.members:
                where[i] = gi
        for i in range(sp.size):
            src = where.get(i)
            if src is None and i not in alone:
                continue
            if src is not None:
                g = state[src]
                if not valid_without(g, i):
                    continue
                leave_gain = price(g.option, g.sumbase, g.volume) - cost_without(g, i)
            else:
                leave_gain = sp.standalone[i]
            best: float = 0.0
            target: int | None = None
            if src is not None and sp.alone_ok[i] and leave_gain - sp.standalone[i] > _MIN_GAIN:
                best, target = leave_gain - sp.standalone[i], -1
            for gi, h in enumerate(state):
                if gi == src or len(h.members) >= sp.options[h.option].max_members or i not in base_of[h.option]:
                    continue
                add = price(h.option, h.sumbase + base_of[h.option][i], h.volume + sp.volumes[i]) - price(
                    h.option, h.sumbase, h.volume
                )
                if leave_gain - add > best + _MIN_GAIN:
                    best, target = leave_gain - add, gi
            if target is None:
                continue
            improved = True
            if src is not None:
                g = state[src]
                g.members.discard(i)
                g.sumbase -= base_of[g.option][i]
                g.volume -= sp.volumes[i]
                if len(g.members) < 2:
                    alone.update(g.members)
                    g.members.clear()
            else:
                alone.discard(i)
            if target == -1:
                alone.add(i)
            else:
                h = state[target]
                h.members.add(i)
                h.sumbase += base_of[h.option][i]
                h.volume += sp.volumes[i]
            state = [g for g in state if g.members]
            where = {j: gi for gi, g in enumerate(state) for j in g.members}
        for g in state:  # re-choose lead and mode
            in_group = g.members
            best_oi, best_cost = g.option, price(g.option, g.sumbase, g.volume)
            for oi, o in enumerate(sp.options):
                if len(in_group) > o.max_members or not in_group <= base_of[oi].keys():
                    continue
                if required[oi] and not (in_group & required[oi]):
                    continue
                c = price(oi, sum(base_of[oi][i] for i in in_group), g.volume)
                if c < best_cost - _MIN_GAIN:
                    best_oi, best_cost = oi, c
            if best_oi != g.option:
                improved = True
                g.option = best_oi
                g.sumbase = sum(base_of[best_oi][i] for i in in_group)
        if not improved:
            break
    out = [Group(sp.options[g.option].mode, sp.options[g.option].lead, tuple(sorted(g.members))) for g in state]
    out += [Group("standalone", sp.bodies[i], (i,)) for i in sorted(alone)]
    return out
