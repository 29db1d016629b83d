"""The cost game of one group (spec cost-model.md, "Cost allocation").

c(S) = the optimal cost of serving the needs in S by themselves under the same rules: modes, who may lead
(members with can_lead, hosts), max_members, geography, and the overrides restricted to pairs inside S. A member
may always go alone, so c({i}) is its standalone cost even when an override fixes it to a joint group (the
standalone alternative is the baseline every share is measured against).

Up to ``EXACT_LIMIT`` members every c(S) is computed exactly: g(T) = the best single feasible group on T (over
modes and leads, through costs.group_cost/group_violations), then c(S) = min over T containing S's lowest member
of g(T) + c(S \\ T) -- a partition DP that equals the optimiser's optimum on S. Above that the optimiser prices
each coalition asked for (cached), small coalitions still by the DP.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING

from .costs import body_distance_km, geography_allows, group_cost, group_violations, standalone_cost
from .model import Instance, Need, Rules

if TYPE_CHECKING:
    pass

EXACT_LIMIT = 14  # 3^14 DP steps: about 1 s in the worst case; every coalition is priced exactly up to here
SMALL_COALITION = 9  # inside a larger group, coalitions up to this size are still priced by the DP (fast)
COALITION_TIME_LIMIT = 10.0  # seconds the optimiser may spend on one coalition of a large group
INF = math.inf


class CostGame:
    """A cost game on ``players`` (names, index = bit of the coalition mask)."""

    players: tuple[str, ...]
    exhaustive: bool = False  # True when every coalition's value is known (``table`` set)
    table: list[float] | None = None
    notes: list[str]

    @property
    def n(self) -> int:
        return len(self.players)

    @property
    def full(self) -> int:
        return (1 << self.n) - 1

    def value(self, mask: int) -> float:
        raise NotImplementedError

    def mask_of(self, names: Iterable[str]) -> int:
        index = {p: i for i, p in enumerate(self.players)}
        mask = 0
        for name in names:
            mask |= 1 << index[name]
        return mask

    def members(self, mask: int) -> list[str]:
        return [p for i, p in enumerate(self.players) if mask >> i & 1]


class TableGame(CostGame):
    """Every coalition's cost given; ``table[mask]``, table[0] = 0."""

    def __init__(self, players: Sequence[str], table: Sequence[float], notes: Sequence[str] = ()):
        if len(table) != 1 << len(players):
            raise ValueError(f"a game on {len(players)} players needs {1 << len(players)} values, got {len(table)}")
        self.players = tuple(players)
        self.table: list[float] = list(table)
        self.table[0] = 0.0
        self.exhaustive = True
        self.notes = list(notes)

    def value(self, mask: int) -> float:
        return self.table[mask]

    @classmethod
    def from_dict(cls, players: Sequence[str], costs: Mapping[frozenset[str], float]) -> TableGame:
        """A game fed directly: ``costs`` maps every non-empty coalition (frozenset of player names) to c(S)."""
        players = tuple(players)
        table = [0.0] * (1 << len(players))
        for mask in range(1, 1 << len(players)):
            key = frozenset(p for i, p in enumerate(players) if mask >> i & 1)
            if key not in costs:
                raise ValueError(f"the game has no cost for coalition {sorted(key)}")
            table[mask] = float(costs[key])
        return cls(players, table)


class OracleGame(CostGame):
    """Costs computed on demand by ``oracle(list of player names)`` and cached; for groups too large to enumerate."""

    def __init__(
        self,
        players: Sequence[str],
        oracle: Callable[[list[str]], float],
        notes: Sequence[str] = (),
        known: Mapping[int, float] | None = None,
    ):
        self.players = tuple(players)
        self._oracle = oracle
        self._cache: dict[int, float] = {0: 0.0, **(known or {})}
        self.exhaustive = False
        self.table = None
        self.notes = notes if isinstance(notes, list) else list(notes)  # the oracle may add notes later

    def value(self, mask: int) -> float:
        v = self._cache.get(mask)
        if v is None:
            v = float(self._oracle(self.members(mask)))
            self._cache[mask] = v
        return v

    @property
    def evaluated(self) -> list[int]:
        return [m for m in self._cache if m]


def coordinating_needs(instance: Instance, needs: Sequence[Need], mode: str) -> list[int]:
    """Indexes of the needs whose body may lead (``lead``) or coordinate (``unified``) a group of ``mode`` that
    they are members of. Asked of costs.group_violations itself (a two-member probe at the need's own body), so the
    separation oracle, the exact game and the feasibility rules read "who may coordinate" from one place."""
    out = []
    for k, need in enumerate(needs):
        if mode not in need.modes:
            continue
        key = (need.id, mode)
        cache = instance.__dict__.setdefault("_coordinator_cache", {})
        ok = cache.get(key)
        if ok is None:
            partner = dataclasses.replace(need, id=f"{need.id}\x00probe", can_lead=False, modes=frozenset({mode}))
            problems = group_violations(instance, [need, partner], mode, need.body, check_overrides=False)
            ok = not problems
            cache[key] = ok
        if ok:
            out.append(k)
    return out


def host_bodies(instance: Instance, category: str) -> list[str]:
    """Bodies that may lead lead-mode groups of ``category`` without being members (instance hosts)."""
    return [h for h in instance.hosts_of(category) if h in instance.bodies]


def group_game(instance: Instance, member_ids: Sequence[str], grand_cost: float | None = None) -> CostGame:
    """The cost game of the needs ``member_ids`` (one category and start year).

    ``grand_cost`` replaces c(N): what the members actually share is the cost of the group as planned, which
    may exceed the optimum on N when overrides with needs outside the group shaped it."""
    needs = [instance.need(i) for i in member_ids]
    if len(needs) <= EXACT_LIMIT:  # read at call time so that tests can lower it
        table, notes = exact_values(instance, needs)
        if grand_cost is not None:
            table[-1] = float(grand_cost)
        return TableGame(member_ids, table, notes)
    oracle, notes = _coalition_oracle(instance, needs)
    full = (1 << len(needs)) - 1
    known = {1 << i: standalone_cost(instance, n).exact_total for i, n in enumerate(needs)}
    if grand_cost is not None:
        known[full] = float(grand_cost)
    return OracleGame(member_ids, oracle, notes, known)


def exact_values(instance: Instance, needs: Sequence[Need]) -> tuple[list[float], list[str]]:
    """c(S) for every coalition mask of ``needs`` by the partition DP (exact totals, unrounded)."""
    pricer = GroupPricer(instance, needs)
    best_group = [pricer.g(mask) if mask else INF for mask in range(1 << len(needs))]
    pairs = pricer.pairs
    values = _partition_dp(len(needs), best_group, pairs)
    notes: list[str] = []
    if pairs and any(v == INF for v in values):
        # Some coalition cannot keep its together pairs in one feasible group: price it without them rather
        # than leave c(S) infinite (every member can always go alone).
        relaxed = _partition_dp(len(needs), best_group, [])
        values = [r if v == INF else v for v, r in zip(values, relaxed, strict=True)]
        notes.append(RELAXED_NOTE)
    return values, notes


RELAXED_NOTE = "同一グループ指定を満たせない組合せは、その指定なしで費用を計算しました。"


def best_single_groups(instance: Instance, needs: Sequence[Need]) -> list[float]:
    """g(T) for every mask T (see GroupPricer.g)."""
    pricer = GroupPricer(instance, needs)
    return [pricer.g(mask) if mask else INF for mask in range(1 << len(needs))]


class GroupPricer:
    """Prices single groups g(T) and coalitions c(S) of one group's needs, caching both by mask."""

    def __init__(self, instance: Instance, needs: Sequence[Need]):
        self.instance = instance
        self.needs = list(needs)
        self.pairs = _together_masks(instance, needs)
        self._g: dict[int, float] = {}
        self._c: dict[int, float] = {0: 0.0}
        self._c_relaxed: dict[int, float] = {0: 0.0}
        category = instance.categories[needs[0].category]
        self.category = category
        bodies = instance.bodies
        self.hosts = [h for h in instance.hosts_of(category.id) if h in bodies]
        leads = list(dict.fromkeys([n.body for n in needs] + self.hosts))
        self.dist = {lead: [body_distance_km(bodies[n.body], bodies[lead]) for n in needs] for lead in leads}
        self.geo_mask = {
            lead: sum(1 << i for i, n in enumerate(needs) if geography_allows(instance, bodies[n.body], bodies[lead]))
            for lead in leads
        }
        self.can_lead_mask: dict[str, int] = {}
        self.body_mask: dict[str, int] = {}
        for i, n in enumerate(needs):
            if n.can_lead:
                self.can_lead_mask[n.body] = self.can_lead_mask.get(n.body, 0) | 1 << i
            self.body_mask[n.body] = self.body_mask.get(n.body, 0) | 1 << i
        self.modes = [
            (mode, sum(1 << i for i, n in enumerate(needs) if mode in n.modes), category.price(mode).max_members)
            for mode in ("lead", "unified")
            if mode in category.prices
        ]

    def g(self, mask: int) -> float:
        """The cheapest feasible single group on exactly the needs of ``mask`` (inf when none); a singleton goes
        alone. Leads are tried in order of their summed distance to the members, the only lead-dependent term of
        the cost, so the first lead that group_violations accepts is the cheapest for that mode."""
        cached = self._g.get(mask)
        if cached is not None:
            return cached
        members = [i for i in range(len(self.needs)) if mask >> i & 1]
        if len(members) == 1:
            best = standalone_cost(self.instance, self.needs[members[0]]).exact_total
        else:
            best = INF
            for mode, accept, max_members in self.modes:
                if mask & ~accept or (max_members is not None and len(members) > max_members):
                    continue
                if mode == "lead":
                    leads = [b for b, m in self.can_lead_mask.items() if m & mask] + self.hosts
                else:
                    leads = [b for b, m in self.body_mask.items() if m & mask]
                leads = [b for b in dict.fromkeys(leads) if mask & ~self.geo_mask[b] == 0]
                if not leads:
                    continue
                leads.sort(key=lambda b: sum(self.dist[b][i] for i in members))
                group = [self.needs[i] for i in members]
                ids = [n.id for n in group]
                for lead in leads:
                    if not group_violations(self.instance, group, mode, lead, all_need_ids=ids):
                        best = min(best, group_cost(self.instance, group, mode, lead).exact_total)
                        break
        self._g[mask] = best
        return best

    def c(self, mask: int) -> tuple[float, bool]:
        """c(S) for one coalition by the memoised partition DP; the flag says the together overrides had to be
        dropped because S could not be served with them."""
        value = self._dp(mask, self._c, self.pairs)
        if value < INF or not self.pairs:
            return value, False
        return self._dp(mask, self._c_relaxed, []), True

    def _dp(self, s: int, memo: dict[int, float], pairs: Sequence[int]) -> float:
        cached = memo.get(s)
        if cached is not None:
            return cached
        low = s & -s
        rest = s ^ low
        inside = [p for p in pairs if p & s == p]
        best = INF
        sub = rest
        while True:
            t = sub | low
            gt = self.g(t)
            if gt < best and (not inside or all((t & p) in (0, p) for p in inside)):
                best = min(best, gt + self._dp(s ^ t, memo, pairs))
            if sub == 0:
                break
            sub = (sub - 1) & rest
        memo[s] = best
        return best


def _together_masks(instance: Instance, needs: Sequence[Need]) -> list[int]:
    index = {n.id: i for i, n in enumerate(needs)}
    return [
        (1 << index[a]) | (1 << index[b]) for a, b in instance.rules.together if a in index and b in index and a != b
    ]


def _partition_dp(n: int, g: Sequence[float], pairs: Sequence[int]) -> list[float]:
    """c(S) = min over T (lowest member of S in T, T subset of S) of g(T) + c(S \\ T); no together pair of S split."""
    c = [0.0] * (1 << n)
    for s in range(1, 1 << n):
        low = s & -s
        rest = s ^ low
        inside = [p for p in pairs if p & s == p]
        best = INF
        sub = rest
        while True:
            t = sub | low
            gt = g[t]
            if gt < best:
                if not inside or all((t & p) in (0, p) for p in inside):
                    v = gt + c[s ^ t]
                    if v < best:
                        best = v
            if sub == 0:
                break
            sub = (sub - 1) & rest
        c[s] = best
    return c


def sub_instance(instance: Instance, need_ids: Sequence[str]) -> Instance:
    """The instance restricted to ``need_ids``, overrides kept only for pairs (and needs) inside it."""
    keep = set(need_ids)
    rules = instance.rules
    return dataclasses.replace(
        instance,
        needs=tuple(n for n in instance.needs if n.id in keep),
        rules=Rules(
            geography=rules.geography,
            together=tuple(p for p in rules.together if p[0] in keep and p[1] in keep),
            apart=tuple(p for p in rules.apart if p[0] in keep and p[1] in keep),
            fixed=tuple(f for f in rules.fixed if f.need in keep),
        ),
    )


def _coalition_oracle(instance: Instance, needs: Sequence[Need]) -> tuple[Callable[[list[str]], float], list[str]]:
    """Coalitions up to SMALL_COALITION members by the DP (sharing one cache of single groups), larger ones by the
    optimiser on the coalition's sub-instance."""
    # Late: the web application loads this module with the allocation, and needs the optimiser only here.
    from .optimiser import optimise

    notes = ["大きなグループのため、部分連合の費用は最適化計算で求めました。"]
    pricer = GroupPricer(instance, needs)
    index = {n.id: i for i, n in enumerate(needs)}

    def value(ids: list[str]) -> float:
        if len(ids) <= SMALL_COALITION:
            v, relaxed = pricer.c(sum(1 << index[i] for i in ids))
            if relaxed and RELAXED_NOTE not in notes:
                notes.append(RELAXED_NOTE)
            return v
        # one process: a coalition is small, and a pool per call would cost more than it saves
        plan = optimise(sub_instance(instance, ids), time_limit=COALITION_TIME_LIMIT, workers=1)
        return float(sum(g.cost.exact_total for g in plan.groups))

    return value, notes
