#!/usr/bin/env bash
# One command: set everything up and run the whole test suite, on SQLite and then on PostgreSQL when the
# server at 127.0.0.1:5432 (database "test") answers. Each PostgreSQL run works in a database of its own.
set -euo pipefail
cd "$(dirname "$0")/.."
PLANNER_EXTRA_DEBIAN_PACKAGES="chromium postgresql-client ${PLANNER_EXTRA_DEBIAN_PACKAGES:-}" bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
# One pytest-xdist worker per core (PLANNER_TEST_WORKERS=0 runs in one process, for a debugger); loadgroup keeps
# the live-server module on one worker, so that only one live server runs at a time.
PARALLEL=(-n "${PLANNER_TEST_WORKERS:-auto}" --dist loadgroup)

echo "==> tests on SQLite"
PLANNER_TEST_DATABASE=sqlite python -m pytest "${PARALLEL[@]}" "$@"

PG_URL=${PLANNER_TEST_PG_URL:-postgresql+psycopg://postgres@127.0.0.1:5432/test}
if python - "$PG_URL" <<'PY'
import sys
import sqlalchemy as sa
try:
    sa.create_engine(sys.argv[1]).connect().close()
except Exception as e:
    print(f"PostgreSQL not reachable ({type(e).__name__}); skipping the PostgreSQL run")
    sys.exit(1)
PY
then
  echo "==> tests on PostgreSQL ($PG_URL, each run in its own database)"
  rc=0
  PLANNER_TEST_DATABASE=postgresql PLANNER_TEST_PG_URL="$PG_URL" python -m pytest "${PARALLEL[@]}" "$@" || rc=$?
  # pytest's 5 means "no test selected": only tests that touch a database run here
  if [ "$rc" -ne 0 ] && [ "$rc" -ne 5 ]; then exit "$rc"; fi
fi
