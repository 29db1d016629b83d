"""The facility-location MILP of one sub-problem, as plain arrays (one formulation for every backend).

Facility f = (option, copy, line) with y_f; x_if puts need i in it; z_i leaves i alone. Strong formulation:
x_if <= y_f, 2 y_f <= sum_i x_if <= max_members y_f, and a member lead is in its own group
(sum over its own needs x_qf >= y_f). The copies of a host's option are used in order (copy c before c+1, one
line each) so that the search does not revisit one plan under permuted copy numbers. Apart pairs:
x_af + x_bf <= y_f; together pairs: x_af = x_bf and neither may stay alone (alone_ok is False for them).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .enumeration import Group
from .pruning import kept_members
from .subproblems import Infeasible, SubProblem

# Assignment columns no optimal plan uses are left out (proof in pruning.py); tests switch it off to compare.
PRUNING = True


@dataclass
class Facility:
    option: int
    copy: int
    line: int
    y: int  # column index
    x: dict[int, int]  # need (local index) -> column index


@dataclass
class Formulation:
    cost: list[float] = field(default_factory=list)
    rows: list[tuple[float, float, list[int], list[float]]] = field(default_factory=list)  # (lo, hi, idx, val)
    z: dict[int, int] = field(default_factory=dict)
    facilities: list[Facility] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    def add_col(self, cost: float) -> int:
        self.cost.append(cost)
        return len(self.cost) - 1

    def add_row(self, lo: float, hi: float, idx: list[int], val: list[float]) -> None:
        self.rows.append((lo, hi, idx, val))


INF = float("inf")


def build(sp: SubProblem, banned: set[int] | None = None, parent: Formulation | None = None) -> Formulation:
    """The model; with ``banned`` columns of ``parent`` (same sub-problem) left out (reduced-cost fixing)."""
    keep_x = None
    if banned and parent is not None:
        keep_x = {
            (f.option, f.copy, f.line): {i for i, col in f.x.items() if col not in banned}
            for f in parent.facilities
            if f.y not in banned
        }
    m = Formulation()
    n = sp.size
    for i in range(n):
        if sp.alone_ok[i] and not (keep_x is not None and parent.z.get(i) in banned):
            m.z[i] = m.add_col(sp.standalone[i])
    together: dict[int, set[int]] = {}
    for a, b in sp.together:
        together.setdefault(a, set()).add(b)
        together.setdefault(b, set()).add(a)
    assign: list[list[int]] = [[] for _ in range(n)]
    for oi, opt in enumerate(sp.options):
        member_set = set(opt.members)
        # A need whose together partner cannot join this option cannot join it either.
        usable = [j for j, i in enumerate(opt.members) if all(p in member_set for p in together.get(i, ()))]
        if len(usable) < 2:
            continue
        prev_copy: list[int] | None = None
        for c in range(min(opt.copies, len(usable) // 2)):
            copy_ys = []
            for k, f, hb in opt.lines:
                if keep_x is not None:
                    kept = keep_x.get((oi, c, k))
                    if kept is None:
                        continue
                    cols = [j for j in usable if opt.members[j] in kept]
                elif PRUNING:
                    cols = kept_members(sp, opt, usable, f, hb)
                else:
                    cols = usable
                if len(cols) < 2 or (opt.required and not any(opt.members[j] in opt.required for j in cols)):
                    continue
                y = m.add_col(f)
                xs = {}
                for j in cols:
                    i = opt.members[j]
                    xs[i] = m.add_col(opt.base[j] + hb * sp.volumes[i])
                    assign[i].append(xs[i])
                m.facilities.append(Facility(oi, c, k, y, xs))
                copy_ys.append(y)
                xcols = list(xs.values())
                for col in xcols:
                    m.add_row(-INF, 0.0, [col, y], [1.0, -1.0])
                m.add_row(-INF, 0.0, [y] + xcols, [2.0] + [-1.0] * len(xcols))
                if opt.max_members < len(xcols):
                    m.add_row(-INF, 0.0, [y] + xcols, [-float(opt.max_members)] + [1.0] * len(xcols))
                if opt.required:
                    req = [xs[q] for q in opt.required if q in xs]
                    if len(req) == 1:
                        m.add_row(0.0, 0.0, [req[0], y], [1.0, -1.0])
                    else:
                        m.add_row(0.0, INF, req + [y], [1.0] * len(req) + [-1.0])
                for a, b in sp.apart:
                    if a in xs and b in xs:
                        m.add_row(-INF, 0.0, [xs[a], xs[b], y], [1.0, 1.0, -1.0])
                for a, b in sp.together:
                    if a in xs and b in xs:
                        m.add_row(0.0, 0.0, [xs[a], xs[b]], [1.0, -1.0])
            if not copy_ys:
                continue
            if len(copy_ys) > 1:
                m.add_row(-INF, 1.0, copy_ys, [1.0] * len(copy_ys))
            if prev_copy is not None:
                m.add_row(0.0, INF, prev_copy + copy_ys, [1.0] * len(prev_copy) + [-1.0] * len(copy_ys))
            prev_copy = copy_ys
    for i in range(n):
        cols = list(assign[i])
        if i in m.z:
            cols.append(m.z[i])
        if not cols:
            raise Infeasible(
                f"ニーズ {sp.need_ids[i]} は単独にも、どのグループにも入れません（上書き設定を確認してください）"
            )
        m.add_row(1.0, 1.0, cols, [1.0] * len(cols))
    return m


def groups_from_values(sp: SubProblem, m: Formulation, values) -> list[Group] | None:
    """The plan a 0/1 solution describes, or None when it is not one (every need exactly once)."""
    groups: list[Group] = []
    seen = [0] * sp.size
    for i, col in m.z.items():
        if values[col] > 0.5:
            groups.append(("standalone", sp.bodies[i], (i,)))
            seen[i] += 1
    for f in m.facilities:
        if values[f.y] > 0.5:
            members = tuple(sorted(i for i, col in f.x.items() if values[col] > 0.5))
            opt = sp.options[f.option]
            groups.append((opt.mode, opt.lead, members))
            for i in members:
                seen[i] += 1
        elif any(values[col] > 0.5 for col in f.x.values()):
            return None
    if any(s != 1 for s in seen):
        return None
    return groups


def start_values(sp: SubProblem, m: Formulation, warm: list[Group]) -> list[float] | None:
    """The warm-start plan as column values (each joint group on the copy and line that price it lowest)."""
    values = [0.0] * m.n_cols
    taken: set[tuple[int, int]] = set()  # (option, copy): one line per copy
    for mode, lead, members in warm:
        if mode == "standalone":
            if members[0] not in m.z:
                return None
            values[m.z[members[0]]] = 1.0
            continue
        vol = sum(sp.volumes[i] for i in members)
        best = None
        for f in m.facilities:
            opt = sp.options[f.option]
            if opt.mode != mode or opt.lead != lead or (f.option, f.copy) in taken:
                continue
            if not all(i in f.x for i in members):
                continue
            cost = m.cost[f.y] + vol * next(hb for k, _, hb in opt.lines if k == f.line)
            if best is None or cost < best[0] - 1e-9:
                best = (cost, f)
        if best is None:
            return None
        f = best[1]
        taken.add((f.option, f.copy))
        values[f.y] = 1.0
        for i in members:
            values[f.x[i]] = 1.0
    return values
