"""Which database the run uses: SQLite by default, PostgreSQL when ``PLANNER_TEST_DATABASE=postgresql``."""

from __future__ import annotations

import os

BACKEND = os.environ.get("PLANNER_TEST_DATABASE", "sqlite")
