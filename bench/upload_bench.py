"""How long a refused upload takes: the oversized sheets of tests/importers/test_oversized_sheets.py, parsed by the
needs and flags importers (issue #13's target: refused within a second; issue #30's: every hostile file within 2 s).

    PYTHONPATH=$PWD .venv/bin/python bench/upload_bench.py [--repeat 3]

Prints, for each file, the slowest of --repeat refusals and the machine's load average beside it: the tests assert
that each file is refused with its message, this script measures how fast.
"""

from __future__ import annotations

import argparse
import os
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


def refusal_seconds(parse, data: bytes) -> float:
    started = time.perf_counter()
    try:
        parse(data)
    except FileProblems:
        return time.perf_counter() - started
    raise SystemExit("the file was accepted: it must be refused")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    parsers = {
        "needs": lambda data: parse_needs_file("big.xlsx", data, lookups()),
        "flags": lambda data: parse_flags_file("big.xlsx", data, frozenset({"202011"})),
    }
    for label, dimension in (("declared", f"A1:D{ROWS + 1}"), ("undeclared", None), ("lying", "A1:D2")):
        data = big_xlsx(dimension)
        for name, parse in parsers.items():
            worst = max(refusal_seconds(parse, data) for _ in range(args.repeat))
            print(f"{name:6} {ROWS:,} rows, dimension {label:10} {len(data) / 1024:7.0f} KB  refused in {worst:.3f} s")


if __name__ == "__main__":
    main()
