"""``bench/load_test.py`` runs as shipped (issue #30: it stopped with MultipleResultsFound while seeding, then
its municipalities read a draft they may not see): the benchmark itself, at a small scale, on the run's database
(SQLite, or PostgreSQL with PLANNER_TEST_DATABASE=postgresql), seeds the demo, serves it with ``planner run`` and
checks its own results (no error, no lost update, no traceback in the server's log). Its figures are the
benchmark's business, not this test's."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.xdist_group("live_server")  # one live server at a time (scripts/test.sh: --dist loadgroup)
def test_the_load_benchmark_runs_as_shipped(db_url):
    args = ["--clients", "2", "--duration", "3", "--workers", "1", "--threads", "2", "--think", "0.3"]
    result = subprocess.run(
        [sys.executable, "bench/load_test.py", "--database-url", db_url, *args, "--extra-needs-per-body", "1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for line in ("errors: 0", "lost or doubled updates: 0", "tracebacks or errors in the server log: 0"):
        assert line in output, output[-4000:]
