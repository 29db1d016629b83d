#!/usr/bin/env bash
# The static checks, run by CI before the tests: lint (ruff check), formatting (ruff format --check) and the type
# check (mypy: all of planner/, strict on planner/domain and planner/services; the scope and options are in
# pyproject.toml). Sets up the environment first,
# like scripts/test.sh. Runs all three and fails when any of them fails, so one run lists every problem.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"

failed=()
echo "==> ruff check (lint)"
ruff check . || failed+=("ruff check")
echo "==> ruff format --check (formatting; 'ruff format <files>' fixes it)"
ruff format --check . || failed+=("ruff format --check")
echo "==> mypy (planner/; strict on planner/domain and planner/services: a new function there needs its types)"
mypy || failed+=("mypy")

if [ ${#failed[@]} -gt 0 ]; then
  echo "checks failed: ${failed[*]}" >&2
  exit 1
fi
echo "==> checks passed"
