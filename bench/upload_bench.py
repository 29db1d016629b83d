"""How long a refused upload takes (issue #13's target: an oversized sheet refused within a second; issue #30's:
every hostile file refused within 2 s): the oversized sheets of tests/importers/test_oversized_sheets.py and the
hostile workbooks and CSVs of tests/security/test_upload_limits.py, parsed by each import that takes them.

    PYTHONPATH=$PWD .venv/bin/python bench/upload_bench.py [--repeat 3]

Prints, for each file, the slowest of --repeat refusals in wall time and in CPU time (this process and the forked
parser), with the machine's load average: the tests assert that each file is refused with its message, this script
measures how fast. On a machine shared past its cores, the CPU time is the figure to compare with the target.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from planner.importers.errors import FileProblems  # noqa: E402
from planner.importers.flags import parse_flags_file  # noqa: E402
from planner.importers.needs import parse_needs_file  # noqa: E402
from tests.importers.test_needs_import import lookups  # noqa: E402
from tests.importers.test_oversized_sheets import ROWS, big_xlsx  # noqa: E402
from tests.security.test_upload_limits import CSV, PARSERS, XLSX, built  # noqa: E402

TARGET_S = 2.0


def _cpu() -> float:
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def refusal_seconds(parse, data: bytes) -> tuple[float, float]:
    """(wall, CPU) seconds of one refusal."""
    started, cpu = time.perf_counter(), _cpu()
    try:
        parse(data)
    except FileProblems:
        return time.perf_counter() - started, _cpu() - cpu
    raise SystemExit("the file was accepted: it must be refused")


def worst(parse, data: bytes, repeat: int) -> tuple[float, float]:
    runs = [refusal_seconds(parse, data) for _ in range(repeat)]
    return max(w for w, _ in runs), max(c for _, c in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    parsers = {
        "needs": lambda data: parse_needs_file("big.xlsx", data, lookups()),
        "flags": lambda data: parse_flags_file("big.xlsx", data, frozenset({"202011"})),
    }
    slowest = 0.0
    for label, dimension in (("declared", f"A1:D{ROWS + 1}"), ("undeclared", None), ("lying", "A1:D2")):
        data = big_xlsx(dimension)
        for name, parse in parsers.items():
            wall, cpu = worst(parse, data, args.repeat)
            slowest = max(slowest, cpu)
            print(f"{name:8} rows-{label:<20} {len(data) / 1024:8.0f} KB  wall {wall:6.3f} s  CPU {cpu:6.3f} s")
    for kind in [*XLSX, *CSV]:
        data = built(kind)
        suffix = "xlsx" if kind in XLSX else "csv"
        for name, parse in PARSERS.items():
            if suffix == "csv" and name == "official":
                continue  # MIC's files are .xlsx only
            wall, cpu = worst(lambda d, parse=parse, name=f"hostile.{suffix}": parse(name, d), data, args.repeat)
            slowest = max(slowest, cpu)
            print(f"{name:8} {kind:<25} {len(data) / 1024:8.0f} KB  wall {wall:6.3f} s  CPU {cpu:6.3f} s")
    print(f"slowest refusal {slowest:.3f} s CPU (target {TARGET_S} s); load average {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
