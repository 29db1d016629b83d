"""Shared fixtures.

The suite runs on SQLite by default and, from ``scripts/test.sh``, again on PostgreSQL
(``PLANNER_TEST_DATABASE=postgresql``): that run creates a database of its own, drops it at the end, and keeps
only the tests that touch a database (the pure domain tests have nothing to gain from a second run).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.backend import BACKEND

# The shared fixtures: every test's database (the expensive ones built once per session and copied per test) and
# the login path's remembered password checks.
pytest_plugins = ["tests.support.databases", "tests.support.passwords"]

# ../shared beside the checkout; PLANNER_SHARED_DIR points elsewhere (a git worktree kept away from it)
SHARED = Path(os.environ.get("PLANNER_SHARED_DIR") or Path(__file__).resolve().parent.parent.parent / "shared")
DB_FIXTURES = {"engine", "app", "client", "db_url", "session"}


def shared_path(*parts: str) -> Path:
    """A file in ../shared, or skip the test (with the reason) where it is absent."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not available beside the checkout")
    return path


def pytest_collection_modifyitems(config, items):
    if BACKEND != "postgresql":
        return
    keep, drop = [], []
    for item in items:
        uses_db = bool(DB_FIXTURES & set(getattr(item, "fixturenames", ())))
        (keep if uses_db and not item.get_closest_marker("sqlite_only") else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


def pytest_configure(config):
    config.addinivalue_line("markers", "sqlite_only: needs SQLite (for example the online backup)")


def pytest_collection_finish(session):
    """Collect garbage less often: most of the suite's time is WeasyPrint, Flask and SQLAlchemy making short-lived
    objects in cycles, and with Python's default thresholds the cyclic collector runs over a heap that holds every
    imported module again and again. The modules (imported by now) are frozen out of its view and the youngest
    generation is collected every 20,000 allocations instead of 700. tests/reports with tests/web/test_plans.py took
    25.2 s before and 20.0 s after in one process; the whole suite's figures are in the README (テストの実行時間). The
    product's render workers pause the collector for the same reason (planner.reports.bundle._render_in_worker)."""
    import gc

    gc.freeze()
    gc.set_threshold(20_000, 20, 20)
