#!/usr/bin/env bash
# One command: set everything up, create the SQLite database in instance/, load the demo and start the app.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/bootstrap.sh
export PATH="$PWD/.venv/bin:$PATH"
planner init-db
planner demo
HOST=${HOST:-127.0.0.1}
PORT=${PORT:-5000}
echo
echo "==> 共同調達プランナー: http://$HOST:$PORT/ を開いてください (open http://$HOST:$PORT/)"
echo "    デモ用ログイン: planner demo の出力を参照 (see the demo logins printed above)"
exec planner run --host "$HOST" --port "$PORT"
