"""The facility-location MILP of one sub-problem, as plain arrays (one formulation for every backend).

Facility f = (option, copy, line) with y_f; x_if puts need i in it; z_i leaves i alone. Strong formulation:
x_if <= y_f, 2 y_f <= sum_i x_if <= max_members y_f, and a member lead is in its own group
(sum over its own needs x_qf >= y_f). The copies of a host's option are used in order (copy c before c+1, one
line each) so that the search does not revisit one plan under permuted copy numbers. Apart pairs:
x_af + x_bf <= y_f; together pairs: x_af = x_bf and neither may stay alone (alone_ok is False for them).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from ..highs import INF, LinearModel, SparseMatrix
from ..tolerances import CHOSEN, YEN_TIE
from .pruning import kept_members
from .subproblems import Infeasible, SubProblem
from .types import Group

# The constraint families of the model, as row labels name them (``family[key]``, the key in local indices):
ASSIGN = "assign"  # assign[i]: need i is in exactly one group or alone
LINK = "link"  # link[i,f]: x_if <= y_f (i only in an open facility)
MIN_SIZE = "min_size"  # min_size[f]: an open facility has at least two members
MAX_SIZE = "max_size"  # max_size[f]: ... and at most the option's max_members
LEAD_MEMBER = "lead_member"  # lead_member[f]: a member lead's group holds one of its own needs
APART = "apart"  # apart[a,b,f]: an apart pair is not both in f
TOGETHER = "together"  # together[a,b,f]: a together pair is in f both or neither
ONE_LINE = "one_line"  # one_line[o,c]: copy c of option o is priced on one line at most
COPY_ORDER = "copy_order"  # copy_order[o,c]: copy c is used only when copy c-1 is (no permuted duplicates)
FAMILIES = (ASSIGN, LINK, MIN_SIZE, MAX_SIZE, LEAD_MEMBER, APART, TOGETHER, ONE_LINE, COPY_ORDER)


@dataclass
class Facility:
    option: int
    copy: int
    line: int
    y: int  # column index
    x: dict[int, int]  # need (local index) -> column index


@dataclass
class Formulation:
    """Columns (costs; all 0/1) and rows kept flat, in the compressed form HiGHS takes, each row labelled by its
    constraint family and key so that a model can be read (:meth:`describe`) and counted per family."""

    cost: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_start: list[int] = field(default_factory=lambda: [0])
    row_index: list[int] = field(default_factory=list)
    row_value: list[float] = field(default_factory=list)
    row_family: list[str] = field(default_factory=list)
    row_key: list[tuple[int, ...]] = field(default_factory=list)
    z: dict[int, int] = field(default_factory=dict)
    facilities: list[Facility] = field(default_factory=list)

    @property
    def n_cols(self) -> int:
        return len(self.cost)

    @property
    def n_rows(self) -> int:
        return len(self.row_lower)

    def add_col(self, cost: float) -> int:
        self.cost.append(cost)
        return len(self.cost) - 1

    def add_row(
        self, lo: float, hi: float, idx: list[int], val: list[float], family: str, key: tuple[int, ...]
    ) -> None:
        self.row_lower.append(lo)
        self.row_upper.append(hi)
        self.row_index.extend(idx)
        self.row_value.extend(val)
        self.row_start.append(len(self.row_index))
        self.row_family.append(family)
        self.row_key.append(key)

    @property
    def rows(self) -> Iterator[tuple[float, float, list[int], list[float]]]:
        """(lower, upper, column indices, coefficients) of every row, in order."""
        for r in range(self.n_rows):
            a, b = self.row_start[r], self.row_start[r + 1]
            yield self.row_lower[r], self.row_upper[r], self.row_index[a:b], self.row_value[a:b]

    def linear_model(self, integer: bool) -> LinearModel:
        """The model for HiGHS: every column in [0, 1], integer or relaxed."""
        n = self.n_cols
        return LinearModel.of(
            self.cost,
            [0.0] * n,
            [1.0] * n,
            self.row_lower,
            self.row_upper,
            SparseMatrix.from_lists(self.row_start, self.row_index, self.row_value),
            integer,
        )

    def family_counts(self) -> dict[str, int]:
        """How many rows each constraint family has (families without rows left out)."""
        counts: dict[str, int] = {}
        for family in self.row_family:
            counts[family] = counts.get(family, 0) + 1
        return counts

    def row_label(self, r: int) -> str:
        return f"{self.row_family[r]}[{','.join(str(k) for k in self.row_key[r])}]"

    def column_labels(self) -> list[str]:
        """alone[i] for z_i, open[o,c,k] for y_f (option o, copy c, line k), join[i,o,c,k] for x_if."""
        labels = [f"c{j}" for j in range(self.n_cols)]
        for i, col in self.z.items():
            labels[col] = f"alone[{i}]"
        for f in self.facilities:
            labels[f.y] = f"open[{f.option},{f.copy},{f.line}]"
            for i, col in f.x.items():
                labels[col] = f"join[{i},{f.option},{f.copy},{f.line}]"
        return labels

    def describe(self, need_ids: Sequence[str] | None = None) -> str:
        """The model as readable text, one line per row: ``label: lo <= terms <= hi`` after the objective. Need
        ids, when given, are listed against the local indices the labels use."""
        cols = self.column_labels()
        lines = [f"minimise {_terms(range(self.n_cols), self.cost, cols)}", f"subject to ({self.n_rows} rows)"]
        for r, (lo, hi, idx, val) in enumerate(self.rows):
            expr = _terms(idx, val, cols)
            if lo == hi:
                lines.append(f"  {self.row_label(r)}: {expr} = {lo:g}")
            elif lo == -INF:
                lines.append(f"  {self.row_label(r)}: {expr} <= {hi:g}")
            elif hi == INF:
                lines.append(f"  {self.row_label(r)}: {expr} >= {lo:g}")
            else:
                lines.append(f"  {self.row_label(r)}: {lo:g} <= {expr} <= {hi:g}")
        lines.append(f"binary {self.n_cols} columns")
        if need_ids is not None:
            lines.append("needs: " + ", ".join(f"{i}={nid}" for i, nid in enumerate(need_ids)))
        return "\n".join(lines)

    @classmethod
    def block_diagonal(cls, parts: Sequence[Formulation]) -> Formulation:
        """One model holding several independent ones, columns renumbered (facilities and z are not kept)."""
        if len(parts) == 1:
            return parts[0]
        merged = cls()
        for part in parts:
            offset = merged.n_cols
            merged.cost.extend(part.cost)
            for r, (lo, hi, idx, val) in enumerate(part.rows):
                merged.add_row(lo, hi, [j + offset for j in idx], val, part.row_family[r], part.row_key[r])
        return merged


def _terms(idx: Iterable[int], val: Iterable[float], names: list[str]) -> str:
    parts = []
    for j, v in zip(idx, val, strict=True):
        if v == 1.0:
            parts.append(f"+ {names[j]}")
        elif v == -1.0:
            parts.append(f"- {names[j]}")
        else:
            parts.append(f"{'-' if v < 0 else '+'} {abs(v):g} {names[j]}")
    text = " ".join(parts)
    return text[2:] if text.startswith("+ ") else text


Allowed = tuple[dict[tuple[int, int], set[int]], set[int]]  # ((option, line) -> needs that may join, alone needs)


def build(
    sp: SubProblem,
    banned: set[int] | None = None,
    parent: Formulation | None = None,
    *,
    pruning: bool = True,
    allowed: Allowed | None = None,
) -> Formulation:
    """The model; with ``parent`` (a model of the same sub-problem) its columns less ``banned`` (reduced-cost
    fixing, restricted models). ``pruning`` leaves out the assignment columns no optimal plan uses (pruning.py);
    off only to compare, and irrelevant with a parent (its columns are already chosen). ``allowed`` restricts the
    model without a parent: the needs that may join each (option, line) in every copy (a facility not listed is
    left out) and the needs that may stay alone (colgen.py's Lagrangian fixing)."""
    keep_x: dict[tuple[int, int, int], set[int]] | None = None
    banned_z: set[int] = set()
    if allowed is not None:
        by_line, alone_allowed = allowed
        keep_x = {
            (oi, c, k): needs
            for (oi, k), needs in by_line.items()
            for c in range(max(1, min(sp.options[oi].copies, len(sp.options[oi].members) // 2)))
        }
        banned_z = {i for i in range(sp.size) if i not in alone_allowed}
    elif parent is not None:
        banned = banned or set()
        keep_x = {
            (f.option, f.copy, f.line): {i for i, col in f.x.items() if col not in banned}
            for f in parent.facilities
            if f.y not in banned
        }
        banned_z = {i for i, col in parent.z.items() if col in banned}
    m = Formulation()
    n = sp.size
    for i in range(n):
        if sp.alone_ok[i] and i not in banned_z:
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
                elif pruning:
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
                fi = len(m.facilities)
                m.facilities.append(Facility(oi, c, k, y, xs))
                copy_ys.append(y)
                xcols = list(xs.values())
                for i, col in xs.items():
                    m.add_row(-INF, 0.0, [col, y], [1.0, -1.0], LINK, (i, fi))
                m.add_row(-INF, 0.0, [y, *xcols], [2.0] + [-1.0] * len(xcols), MIN_SIZE, (fi,))
                if opt.max_members < len(xcols):
                    m.add_row(-INF, 0.0, [y, *xcols], [-float(opt.max_members)] + [1.0] * len(xcols), MAX_SIZE, (fi,))
                if opt.required:
                    req = [xs[q] for q in opt.required if q in xs]
                    if len(req) == 1:
                        m.add_row(0.0, 0.0, [req[0], y], [1.0, -1.0], LEAD_MEMBER, (fi,))
                    else:
                        m.add_row(0.0, INF, [*req, y], [1.0] * len(req) + [-1.0], LEAD_MEMBER, (fi,))
                for a, b in sp.apart:
                    if a in xs and b in xs:
                        m.add_row(-INF, 0.0, [xs[a], xs[b], y], [1.0, 1.0, -1.0], APART, (a, b, fi))
                for a, b in sp.together:
                    if a in xs and b in xs:
                        m.add_row(0.0, 0.0, [xs[a], xs[b]], [1.0, -1.0], TOGETHER, (a, b, fi))
            if not copy_ys:
                continue
            if len(copy_ys) > 1:
                m.add_row(-INF, 1.0, copy_ys, [1.0] * len(copy_ys), ONE_LINE, (oi, c))
            if prev_copy is not None:
                m.add_row(
                    0.0, INF, prev_copy + copy_ys, [1.0] * len(prev_copy) + [-1.0] * len(copy_ys), COPY_ORDER, (oi, c)
                )
            prev_copy = copy_ys
    for i in range(n):
        cols = list(assign[i])
        if i in m.z:
            cols.append(m.z[i])
        if not cols:
            raise Infeasible(
                f"ニーズ {sp.need_ids[i]} は単独にも、どのグループにも入れません（上書き設定を確認してください）"
            )
        m.add_row(1.0, 1.0, cols, [1.0] * len(cols), ASSIGN, (i,))
    return m


def groups_from_values(sp: SubProblem, m: Formulation, values: Sequence[float]) -> list[Group] | None:
    """The plan a 0/1 solution describes, or None when it is not one (every need exactly once)."""
    groups: list[Group] = []
    seen = [0] * sp.size
    for i, col in m.z.items():
        if values[col] > CHOSEN:
            groups.append(Group("standalone", sp.bodies[i], (i,)))
            seen[i] += 1
    for f in m.facilities:
        if values[f.y] > CHOSEN:
            members = tuple(sorted(i for i, col in f.x.items() if values[col] > CHOSEN))
            opt = sp.options[f.option]
            groups.append(Group(opt.mode, opt.lead, members))
            for i in members:
                seen[i] += 1
        elif any(values[col] > CHOSEN for col in f.x.values()):
            return None
    if any(s != 1 for s in seen):
        return None
    return groups


def start_values(sp: SubProblem, m: Formulation, warm: Sequence[Group]) -> list[float] | None:
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
        best: tuple[float, Facility] | None = None
        for f in m.facilities:
            opt = sp.options[f.option]
            if opt.mode != mode or opt.lead != lead or (f.option, f.copy) in taken:
                continue
            if not all(i in f.x for i in members):
                continue
            cost = m.cost[f.y] + vol * next(hb for k, _, hb in opt.lines if k == f.line)
            if best is None or cost < best[0] - YEN_TIE:
                best = (cost, f)
        if best is None:
            return None
        f = best[1]
        taken.add((f.option, f.copy))
        values[f.y] = 1.0
        for i in members:
            values[f.x[i]] = 1.0
    return values
