"""Allocation benchmark: Shapley value (target <= 2 s) and nucleolus (target <= 10 s) of a 12-member group.

    .venv/bin/python bench/allocation_bench.py [--instance ../shared/bench/nagano.json] [--repeat 3]

The group is Nagano's 12 RPA needs starting in 2026 (../shared/bench/nagano.json) where that file exists, else 12
made-up towns of one prefecture priced by the reference price book. Each figure includes building the cost game
(every one of the 4,095 coalitions priced by the partition DP), since that is what a plan's settlement pays; the
game's own time is printed too. Figures are the median of --repeat runs.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.domain.allocation import allocate  # noqa: E402
from planner.domain.cost_game import group_game  # noqa: E402
from planner.domain.costs import group_cost, group_violations  # noqa: E402
from planner.domain.instance_io import load_instance, parse_instance  # noqa: E402

DEFAULT_INSTANCE = ROOT.parent / "shared" / "bench" / "nagano.json"
SIZE = 12


def made_up_group():
    sys.path.insert(0, str(ROOT / "tests" / "domain"))
    from factories import body, instance_doc, need  # the test helper builds the price book entry

    rng = random.Random(12)
    bodies = [
        body(
            f"20{i:04d}",
            f"町{i}",
            36 + rng.random(),
            138 + rng.random(),
            pref="20",
            population=rng.randint(3000, 80000),
        )
        for i in range(SIZE)
    ]
    needs = [need(f"n{i}", b["code"], volume=rng.randint(5, 50), can_lead=i < 3) for i, b in enumerate(bodies)]
    return parse_instance(instance_doc(bodies, needs)), [n["id"] for n in needs], "12 made-up towns (ocr)"


def nagano_group(path: Path):
    """The first category/start year with 12 needs that accept one joint mode and fit in one group."""
    inst = load_instance(path)
    by_key: dict[tuple[str, int], list] = {}
    for n in inst.needs:
        by_key.setdefault((n.category, n.start_year), []).append(n)
    for key, needs in sorted(by_key.items(), key=lambda kv: -len(kv[1])):
        for mode in ("lead", "unified"):
            ids = [n.id for n in needs if mode in n.modes][:SIZE]
            if len(ids) == SIZE and best_whole_group(inst, ids) is not None:
                return inst, ids, f"{path.name}: {key[0]} {key[1]}, {SIZE} needs accepting {mode}"
    return made_up_group()


def best_whole_group(inst, ids):
    needs = [inst.need(i) for i in ids]
    leads = list(dict.fromkeys([n.body for n in needs] + inst.hosts_of(needs[0].category)))
    best = None
    for mode in ("lead", "unified"):
        for lead in leads:
            if not group_violations(inst, needs, mode, lead, all_need_ids=ids):
                cost = group_cost(inst, needs, mode, lead)
                if best is None or cost.exact_total < best[0].exact_total:
                    best = (cost, mode, lead)
    return best


def timed(fn, repeat):
    times = []
    result = None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--instance", type=Path, default=DEFAULT_INSTANCE)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    inst, ids, label = nagano_group(args.instance) if args.instance.exists() else made_up_group()
    whole = best_whole_group(inst, ids)
    if whole is None:
        raise SystemExit(f"{label}: no single feasible group of all {len(ids)} needs")
    cost, mode, lead = whole
    print(f"group: {label}; one {mode} group led by {lead}, {cost.total_yen:,} yen over {inst.horizon_years} years")
    t_game, game = timed(lambda: group_game(inst, ids, cost.exact_total), args.repeat)
    print(f"cost game (4,095 coalitions, partition DP):       {t_game:6.3f} s")
    for method, target in (("shapley", 2.0), ("nucleolus", 10.0)):
        t, rec = timed(lambda m=method: allocate(inst, ids, cost, lead, m), args.repeat)
        t_solve, _ = timed(lambda m=method: allocate(inst, ids, cost, lead, m, game=game), args.repeat)
        verdict = "ok" if t <= target else "OVER TARGET"
        print(
            f"{method:9s} incl. game: {t:6.3f} s  (solve+checks on a built game {t_solve:6.3f} s)  "
            f"target {target:.0f} s: {verdict}; IR {rec.individually_rational}, core {rec.in_core}, "
            f"exhaustive {rec.exhaustive_check}"
        )


if __name__ == "__main__":
    main()
