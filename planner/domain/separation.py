"""The separation problem of a group's cost game, solved exactly at every group size (cost-model.md, "Proof of
fairness").

Shares x of a group G are in the core exactly when no feasible group B, a proper subset of G, has
cost(B) < x(B): a coalition's cost is that of its cheapest partition into feasible groups, so a coalition that
would gain by leaving contains a group that would. For one candidate (mode m, lead l, pricing line k) a group
costs a constant plus a sum of per-member terms,

    cost_mlk(B) = fixed_initial_m + H (fixed_annual_m + alpha_k)
                  + sum_{i in B} [member_initial_m + H (member_annual_m + per_km_m dist(i, l) + beta_k v_i)],

and the true cost of B is the minimum over lines (the volume charge is the minimum of the lines) and over
feasible (m, l). So min_B cost(B) - x(B) is, per candidate, a selection of the smallest reduced costs
r_i = w_i - x_i among the members that may join (accept m, within the geography of l, not fixed elsewhere),
with one of the lead's own needs forced in (a host leads without being a member), at least two members, at
most ``max_members``, and B != G. Sorting the reduced costs solves each candidate exactly; the smallest over all
candidates and every member alone (its standalone cost) is the exact minimum excess. ``iter_by_excess`` lists the
groups in order of excess (Lawler's k-best scheme over the same candidates), which the nucleolus uses to skip
coalitions whose excess is already determined and the reports use for the few tightest coalitions.

`together` overrides never bind here (a single group holds both of a pair inside it, and a pair with one need
outside B does not constrain B); `apart` pairs cannot lie inside a feasible G, and if a hand-edited plan has one,
groups holding both are filtered out of the ordered search.
"""

from __future__ import annotations

import dataclasses
import heapq
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TypeAlias

import numpy as np

from .arrays import AnyArray, BoolArray, FloatArray, IntArray, Vector
from .cost_game import coordinating_needs, host_bodies
from .costs import EARTH_RADIUS_KM, geography_allows, lead_allowed, standalone_cost
from .model import Instance, Need
from .tolerances import RADIUS_RECHECK_KM

INF = float("inf")


@dataclasses.dataclass(frozen=True)
class Candidate:
    mode: str
    lead_body: str
    line: int


@dataclasses.dataclass(frozen=True)
class Excess:
    """A coalition (bit mask over the group's members) with its cost and its excess cost - x(B)."""

    mask: int
    cost: float
    excess: float
    mode: str  # "standalone" for a single member
    lead_body: str


# A node of the ordered search: (value, mask, how many free members are chosen, the free members in order,
# the members forced in, those forced out)
_Node = tuple[float, int, int, list[int], frozenset[int], frozenset[int]]


class GroupOracle:
    """The candidates of one group's members, as arrays: ``const[c] + sum_{i in B} weight[c, i]``."""

    def __init__(self, instance: Instance, member_ids: Sequence[str]):
        self.member_ids = list(member_ids)
        needs = [instance.need(i) for i in self.member_ids]
        self.n = n = len(needs)
        self.full = (1 << n) - 1
        bodies = instance.bodies
        horizon = instance.horizon_years
        # a member alone costs its standalone total as the plan prints it (yearly cost rounded to the yen), so that
        # "pays more than alone" means the same on every page and in the proof
        self.standalone = np.array([float(standalone_cost(instance, nd).total_yen) for nd in needs])
        self.need_bodies = [nd.body for nd in needs]
        index = {nid: k for k, nid in enumerate(self.member_ids)}
        self.apart = [
            (1 << index[a]) | (1 << index[b]) for a, b in instance.rules.apart if a in index and b in index and a != b
        ]
        consts: list[float] = []
        weights: list[FloatArray] = []
        forced: list[int] = []
        caps: list[int] = []
        labels: list[Candidate] = []
        if n >= 2:
            category = instance.categories[needs[0].category]
            hosts = [h for h in host_bodies(instance, category.id) if h in bodies]
            volumes = np.array([nd.volume for nd in needs], dtype=float)
            fixed = [instance.fixed_rule(nd.id) for nd in needs]
            fixed_lead = any(f is not None and f.lead_body is not None for f in fixed)
            geometry = _Geometry(instance, needs)
            for mode in ("lead", "unified"):
                if mode not in category.prices:
                    continue
                price = category.price(mode)
                cap_mode = n if price.max_members is None else int(price.max_members)
                coordinators = coordinating_needs(instance, needs, mode)
                leads = list(dict.fromkeys([needs[k].body for k in coordinators] + (hosts if mode == "lead" else [])))
                leads = [b for b in leads if lead_allowed(instance, b, mode)]
                accepts = np.array(
                    [
                        mode in nd.modes and (f is None or f.mode is None or f.mode == mode)
                        for nd, f in zip(needs, fixed, strict=True)
                    ]
                )
                for lead in leads:
                    dist, reach = geometry(lead)
                    eligible = accepts & reach
                    if fixed_lead:
                        eligible &= np.array([f is None or f.lead_body is None or f.lead_body == lead for f in fixed])
                    count = int(eligible.sum())
                    if count < 2:
                        continue
                    own = [k for k in coordinators if needs[k].body == lead and eligible[k]]
                    is_host = mode == "lead" and lead in hosts
                    if not own and not is_host:
                        continue
                    base = price.member_initial + horizon * (price.member_annual + price.per_km_annual * dist)
                    cap = min(cap_mode, count - (1 if count == n else 0))
                    if cap < 2:
                        continue
                    for k, (alpha, beta) in _useful_lines(price.lines, volumes[eligible], cap):
                        const = price.fixed_initial + horizon * (price.fixed_annual + alpha)
                        w = np.where(eligible, base + horizon * beta * volumes, INF)
                        # A host leads without a member; a member lead needs one of its own needs inside B (one
                        # row per such need: the union of the rows is exactly "at least one inside").
                        for f in [-1] if is_host else own:
                            consts.append(const)
                            weights.append(w)
                            forced.append(f)
                            caps.append(cap)
                            labels.append(Candidate(mode, lead, k))
        self.candidates: list[Candidate] = labels
        self.const = np.array(consts, dtype=float)
        self.weight = np.array(weights, dtype=float).reshape(len(labels), n)
        self.forced = np.array(forced, dtype=int)
        self.cap = np.array(caps, dtype=int)

    # --- small groups: every group priced at once ------------------------------------------------------------

    TABLE_LIMIT = 10  # up to 2^10 - 2 proper groups: pricing them all in one numpy product beats any search

    def all_groups(self) -> tuple[IntArray, FloatArray, FloatArray] | None:
        """(masks, incidence, cost) of every feasible proper group (single members included) for a group of at
        most TABLE_LIMIT members, else None. cost is the cheapest candidate's (the same figures as ``cost``)."""
        if self.n > self.TABLE_LIMIT or self.n < 2:
            return None
        cached: tuple[IntArray, FloatArray, FloatArray] | None = self.__dict__.get("_all")
        if cached is not None:
            return cached
        n = self.n
        masks = np.arange(1, (1 << n) - 1, dtype=np.int64)
        inc = ((masks[:, None] >> np.arange(n, dtype=np.int64)) & 1).astype(float)
        size = inc.sum(axis=1)
        cost = np.full(len(masks), INF)
        if len(self.candidates):
            finite = np.where(np.isfinite(self.weight), self.weight, 0.0)
            priced = inc @ finite.T + self.const[None, :]  # masks x candidates
            outside = inc @ (~np.isfinite(self.weight)).T.astype(float) > 0
            has_forced = np.where(self.forced[None, :] >= 0, inc[:, np.maximum(self.forced, 0)] > 0, True)
            ok = ~outside & has_forced & (size[:, None] >= 2) & (size[:, None] <= self.cap[None, :])
            for p in self.apart:
                ok &= ((masks & p) != p)[:, None]
            cost = np.where(ok, priced, INF).min(axis=1)
        single = size == 1
        cost[single] = inc[single] @ self.standalone
        keep = np.isfinite(cost)
        result = (masks[keep], inc[keep], cost[keep])
        self.__dict__["_all"] = result
        return result

    def _table_excess(self, x: FloatArray) -> tuple[IntArray, FloatArray, FloatArray]:
        table = self.all_groups()
        assert table is not None  # callers ask only for groups small enough to table
        masks, inc, cost = table
        return masks, cost, cost - inc @ x

    def _table_item(self, mask: int, cost: float, excess: float) -> Excess:
        if mask & (mask - 1) == 0:
            i = mask.bit_length() - 1
            return Excess(mask, cost, excess, "standalone", self.need_bodies[i])
        _, mode, lead = self.cost(mask)
        return Excess(mask, cost, excess, mode, lead)

    # --- the exact minimum ---------------------------------------------------------------------------------

    def best_per_candidate(self, x: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
        """For each candidate row: the smallest cost(B) - x(B) over the groups it can form, the size of that B and
        the members' order (forced member first, then by reduced cost)."""
        rows = len(self.candidates)
        if rows == 0:
            return np.zeros(0), np.zeros(0, dtype=int), np.zeros((0, self.n), dtype=int)
        reduced = self.weight - x[None, :]
        key = reduced.copy()
        has_forced = self.forced >= 0
        key[np.nonzero(has_forced)[0], self.forced[has_forced]] = -INF
        order = np.argsort(key, axis=1, kind="stable")
        sorted_reduced = np.take_along_axis(reduced, order, axis=1)
        prefix = np.cumsum(sorted_reduced, axis=1)
        sizes = np.arange(1, self.n + 1)[None, :]
        allowed = (sizes >= 2) & (sizes <= self.cap[:, None])
        prefix = np.where(allowed, prefix, INF)
        best_size = np.argmin(prefix, axis=1)
        best = prefix[np.arange(rows), best_size] + self.const
        return best, best_size + 1, order

    def min_excess(self, x: Vector) -> Excess:
        """The exact min over feasible proper groups B (single members included) of cost(B) - x(B)."""
        x = np.asarray(x, dtype=float)
        if self.all_groups() is not None:
            masks, cost, excess = self._table_excess(x)
            k = int(np.argmin(excess))
            return self._table_item(int(masks[k]), float(cost[k]), float(excess[k]))
        if self.apart:
            return next(self.iter_by_excess(x))
        singles = self.standalone - x
        i = int(np.argmin(singles))
        result = Excess(1 << i, float(self.standalone[i]), float(singles[i]), "standalone", self.need_bodies[i])
        best, size, order = self.best_per_candidate(x)
        if len(best):
            r = int(np.argmin(best))
            if best[r] < result.excess:
                mask = _mask(order[r, : size[r]])
                cand = self.candidates[r]
                result = Excess(
                    mask, float(best[r] + x[order[r, : size[r]]].sum()), float(best[r]), cand.mode, cand.lead_body
                )
        return result

    def violated(self, x: Vector, below: float, limit: int) -> list[Excess]:
        """Up to ``limit`` distinct groups with excess under ``below``, each the best of its candidate (the most
        violated first); the first is the exact minimum when any group is under ``below``. Adding several per
        round of constraint generation saves LP solves."""
        x = np.asarray(x, dtype=float)
        if self.all_groups() is not None:
            masks, cost, excess = self._table_excess(x)
            under = np.nonzero(excess < below)[0]
            under = under[np.argsort(excess[under], kind="stable")][:limit]
            return [self._table_item(int(masks[k]), float(cost[k]), float(excess[k])) for k in under]
        if self.apart:
            first = self.min_excess(x)
            return [first] if first.excess < below else []
        found: dict[int, Excess] = {}
        singles = self.standalone - x
        for i in np.nonzero(singles < below)[0]:
            found[1 << int(i)] = Excess(
                1 << int(i), float(self.standalone[i]), float(singles[i]), "standalone", self.need_bodies[i]
            )
        best, size, order = self.best_per_candidate(x)
        for r in np.argsort(best, kind="stable"):
            if best[r] >= below or len(found) >= 4 * limit:
                break
            members = order[r, : size[r]]
            mask = _mask(members)
            if mask not in found or found[mask].excess > best[r]:
                cand = self.candidates[r]
                found[mask] = Excess(mask, float(best[r] + x[members].sum()), float(best[r]), cand.mode, cand.lead_body)
        out = []
        for e in sorted(found.values(), key=lambda e: e.excess)[:limit]:
            if e.mode != "standalone":  # another candidate may price the same members lower: its true cost
                true_cost, mode, lead = self.cost(e.mask)
                e = Excess(e.mask, true_cost, true_cost - (e.cost - e.excess), mode, lead)
            out.append(e)
        return sorted(out, key=lambda e: e.excess)

    # --- groups in order of excess ------------------------------------------------------------------------------

    def iter_by_excess(
        self,
        x: Vector,
        skip: Callable[[int], bool] | None = None,
        split: Sequence[Sequence[int]] | None = None,
    ) -> Iterator[Excess]:
        """Every feasible proper group once, in non-decreasing order of cost(B) - x(B) (its true cost: the first
        candidate to produce a group is its cheapest), except those ``skip`` rejects and those holding an apart
        pair. Lawler's scheme: a popped solution of a candidate's subproblem (members forced in/out) splits the
        rest of that subproblem into children by its decisions on the free members, in order.

        ``split`` (a list of "atoms", disjoint member index lists) restricts the list to groups that hold some but
        not all of at least one atom, searched from 2(|A| - 1) subproblems per atom A (a_1..a_{j-1} in and a_j
        out, or a_1..a_{j-1} out and a_j in; overlaps between atoms are removed by the seen-set): the nucleolus
        uses it to leave out, without listing them, the unions of atoms, among them every coalition whose saving
        its fixed coalitions determine."""
        x = np.asarray(x, dtype=float)
        within = None
        if split is not None:
            atoms = [_mask(a) for a in split if len(a) >= 2]
            within = lambda m: any(0 < (m & a) != a for a in atoms)  # noqa: E731
        if self.all_groups() is not None:
            masks, cost, excess = self._table_excess(x)
            for k in np.argsort(excess, kind="stable"):
                mask = int(masks[k])
                if (within is None or within(mask)) and (skip is None or not skip(mask)):
                    yield self._table_item(mask, float(cost[k]), float(excess[k]))
            return
        reduced = self.weight - x[None, :]
        heap: list[tuple[float, int, int, int, _Node | None]] = []
        tie = itertools.count()
        starts: list[tuple[frozenset[int], frozenset[int]]] = [(frozenset(), frozenset())]
        if split is not None:
            starts = []
            for atom in split:
                order = list(atom)
                for j in range(1, len(order)):
                    starts.append((frozenset(order[:j]), frozenset([order[j]])))
                    starts.append((frozenset([order[j]]), frozenset(order[:j])))
        for i in range(self.n):
            if within is None or within(1 << i):
                heapq.heappush(heap, (float(self.standalone[i] - x[i]), next(tie), -1, 1 << i, None))
        for r in range(len(self.candidates)):
            for inside, outside in starts:
                node = self._solve(r, reduced[r], inside, outside)
                if node is not None:
                    heapq.heappush(heap, (node[0], next(tie), r, node[1], node))
        seen: set[int] = set()
        while heap:
            value, _, r, mask, node = heapq.heappop(heap)
            if node is not None:
                for child in self._children(r, reduced[r], node):
                    heapq.heappush(heap, (child[0], next(tie), r, child[1], child))
            if mask in seen:
                continue
            seen.add(mask)
            if any(mask & p == p for p in self.apart) or (skip is not None and skip(mask)):
                continue
            value = float(value)
            if r < 0:
                i = mask.bit_length() - 1
                yield Excess(mask, float(self.standalone[i]), value, "standalone", self.need_bodies[i])
            else:
                cand = self.candidates[r]
                paid = float(sum(x[i] for i in range(self.n) if mask >> i & 1))
                yield Excess(mask, value + paid, value, cand.mode, cand.lead_body)

    def _solve(self, r: int, reduced: FloatArray, inside: frozenset[int], outside: frozenset[int]) -> _Node | None:
        """Best group of candidate r with ``inside`` members forced in and ``outside`` out: (value, mask, chosen
        free members in order, the free members in order, inside, outside) or None."""
        forced = int(self.forced[r])
        must = set(inside)
        if forced >= 0:
            if forced in outside:
                return None
            must.add(forced)
        if any(reduced[i] == INF for i in must):
            return None
        cap = int(self.cap[r])
        if len(must) > cap:
            return None
        free = [
            i
            for i in np.argsort(reduced, kind="stable").tolist()
            if reduced[i] < INF and i not in must and i not in outside
        ]
        low = max(0, 2 - len(must))
        high = min(cap - len(must), len(free))
        if low > high:
            return None
        base = float(sum(reduced[i] for i in must)) + float(self.const[r])
        best_k, best, running = -1, INF, 0.0
        for k in range(0, high + 1):
            if k > 0:
                running += reduced[free[k - 1]]
            if k >= low and base + running < best:
                best, best_k = base + running, k
        mask = _mask(list(must) + free[:best_k])
        return best, mask, best_k, free, frozenset(must), frozenset(outside)

    def _children(self, r: int, reduced: FloatArray, node: _Node) -> Iterator[_Node]:
        _, _, k, free, must, outside = node
        inside_now, outside_now = set(must), set(outside)
        for j, item in enumerate(free):
            chosen = j < k
            if chosen:
                child = self._solve(r, reduced, frozenset(inside_now), frozenset(outside_now | {item}))
                inside_now.add(item)
            else:
                child = self._solve(r, reduced, frozenset(inside_now | {item}), frozenset(outside_now))
                outside_now.add(item)
            if child is not None:
                yield child

    # --- one group's cost ------------------------------------------------------------------------------------

    def cost(self, mask: int) -> tuple[float, str, str]:
        """cost(B) of one group (its cheapest candidate; a single member's standalone cost): (yen, mode, lead)."""
        members = [i for i in range(self.n) if mask >> i & 1]
        if len(members) == 1:
            return float(self.standalone[members[0]]), "standalone", self.need_bodies[members[0]]
        if not len(self.candidates) or any(mask & p == p for p in self.apart):
            return INF, "", ""
        cols = np.array(members)
        sums = self.weight[:, cols].sum(axis=1) + self.const
        inside = np.zeros(self.n + 1, dtype=bool)  # the extra last slot answers forced == -1 (a host: no one)
        inside[cols] = True
        ok = (self.cap >= len(members)) & ((self.forced < 0) | inside[self.forced])
        sums = np.where(ok, sums, INF)
        r = int(np.argmin(sums))
        cand = self.candidates[r]
        return float(sums[r]), cand.mode, cand.lead_body

    def tightest(self, x: Vector, count: int) -> list[Excess]:
        """The ``count`` groups with the smallest excess (distinct members)."""
        return list(itertools.islice(self.iter_by_excess(x), count))


class TableOracle:
    """The same interface over an explicit game (every coalition's cost; tests and hand-checked games)."""

    def __init__(self, players: Sequence[str], table: Sequence[float]):
        self.member_ids = list(players)
        self.n = len(self.member_ids)
        self.full = (1 << self.n) - 1
        self.table = np.asarray(table, dtype=float)
        masks = np.arange(1, self.full, dtype=np.int64)
        self.masks = masks
        self.incidence = ((masks[:, None] >> np.arange(self.n, dtype=np.int64)) & 1).astype(float)
        self.standalone = self.table[[1 << i for i in range(self.n)]] if self.n else np.zeros(0)
        self.apart: list[int] = []

    def min_excess(self, x: Vector) -> Excess:
        return next(self.iter_by_excess(x))

    def iter_by_excess(
        self,
        x: Vector,
        skip: Callable[[int], bool] | None = None,
        split: Sequence[Sequence[int]] | None = None,
    ) -> Iterator[Excess]:
        x = np.asarray(x, dtype=float)
        if split is not None:
            atoms = [_mask(a) for a in split if len(a) >= 2]
            inner = skip
            skip = lambda m: not any(0 < (m & a) != a for a in atoms) or (inner is not None and inner(m))  # noqa: E731
        if self.n < 2:
            if self.n == 1:
                yield Excess(1, float(self.table[1]), float(self.table[1] - x[0]), "standalone", "")
            return
        excess = self.table[1 : self.full] - self.incidence @ x
        for k in np.argsort(excess, kind="stable"):
            mask = int(self.masks[k])
            if skip is not None and skip(mask):
                continue
            yield Excess(mask, float(self.table[mask]), float(excess[k]), "", "")

    def cost(self, mask: int) -> tuple[float, str, str]:
        return float(self.table[mask]), "", ""

    def tightest(self, x: Vector, count: int) -> list[Excess]:
        return list(itertools.islice(self.iter_by_excess(x), count))


class _Geometry:
    """Each lead's distances to the members and who is within its geography, once per lead (numpy haversine; pairs
    within a metre of a radius are re-checked with costs.geography_allows so that the two never disagree)."""

    RECHECK_KM = RADIUS_RECHECK_KM

    def __init__(self, instance: Instance, needs: Sequence[Need]):
        self.instance = instance
        self.needs = needs
        bodies = instance.bodies
        self.lat = np.radians(np.array([bodies[nd.body].lat for nd in needs], dtype=float))
        self.lng = np.radians(np.array([bodies[nd.body].lng for nd in needs], dtype=float))
        self.pref = np.array([bodies[nd.body].prefecture_code for nd in needs])
        self.codes = [nd.body for nd in needs]
        self.code_array = np.array(self.codes)
        self._cache: dict[str, tuple[FloatArray, BoolArray]] = {}

    def __call__(self, lead: str) -> tuple[FloatArray, BoolArray]:
        cached = self._cache.get(lead)
        if cached is not None:
            return cached
        instance = self.instance
        body = instance.bodies[lead]
        p1, l1 = np.radians(body.lat), np.radians(body.lng)
        a = np.sin((self.lat - p1) / 2) ** 2 + np.cos(p1) * np.cos(self.lat) * np.sin((self.lng - l1) / 2) ** 2
        dist = 2 * EARTH_RADIUS_KM * np.arcsin(np.minimum(1.0, np.sqrt(a)))
        dist = np.where(self.code_array == lead, 0.0, dist)
        geo = instance.rules.geography
        if geo.type == "same_prefecture":
            reach = self.pref == body.prefecture_code
        elif geo.type == "radius_km":
            km = float(geo.km or 0.0)
            reach = dist <= km + 1e-9
            for i in np.nonzero(np.abs(dist - km) <= self.RECHECK_KM)[0]:
                reach[i] = geography_allows(instance, instance.bodies[self.codes[i]], body)
        else:
            reach = np.ones(len(self.codes), dtype=bool)
        self._cache[lead] = (dist, reach)
        return dist, reach


def _useful_lines(
    lines: Sequence[tuple[float, float]], volumes: FloatArray, cap: int
) -> list[tuple[int, tuple[float, float]]]:
    """The pricing lines that can be the cheapest for some group of this candidate: a line is left out when another
    is no dearer at both ends of the volumes such a group can have (two smallest .. the ``cap`` largest), hence on
    the whole range, so every group it prices is priced no higher by the other (exact)."""
    ordered = np.sort(volumes)
    low, high = float(ordered[:2].sum()), float(ordered[-cap:].sum())
    ends = [(a + b * low, a + b * high) for a, b in lines]
    kept: list[tuple[int, tuple[float, float]]] = []
    for k in range(len(lines)):
        dominated = any(
            j != k and ends[j][0] <= ends[k][0] and ends[j][1] <= ends[k][1] and (ends[j] != ends[k] or j < k)
            for j in range(len(lines))
        )
        if not dominated:
            a, b = lines[k]
            kept.append((k, (a, b)))
    return kept


def _mask(indexes: Iterable[int] | AnyArray) -> int:
    mask = 0
    for i in indexes:
        mask |= 1 << int(i)
    return mask


# What the least core, the nucleolus and the core projection (planner.domain.game_solutions) accept: a group's
# oracle, or an explicit game's. Only GroupOracle batches violated groups, tables small groups and has the
# candidates' arrays the compact LPs are built from.
Oracle: TypeAlias = GroupOracle | TableOracle
