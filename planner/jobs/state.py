"""The job state kept on the Scenario row: status transitions guarded by the job id, heartbeats, stale detection.

Every write is a conditional UPDATE (``WHERE job_id = :job AND status IN ...``), so a job that was cancelled,
reaped as stale or superseded by a newer run can never overwrite the newer state, and the web process and the
worker never need a lock between them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from planner.db.models import Scenario, utcnow
from planner.domain.vocabulary import jst_datetime

# A running job writes its heartbeat every HEARTBEAT_SECONDS; after STALE_AFTER without one it is presumed dead.
HEARTBEAT_SECONDS = 2.0
STALE_AFTER = timedelta(seconds=60)
# An in-process job starts the moment it is queued; one still queued after this was lost with its process.
THREAD_QUEUE_TIMEOUT = timedelta(seconds=60)
LOG_LIMIT = 20000


def iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat()


def parse_iso(text: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(text))
    except (TypeError, ValueError):
        return None


def log_line(message: str, at: datetime | None = None) -> str:
    """A job log line stamped in Japan time, as every other time the users read (older lines say UTC)."""
    return f"[{jst_datetime(at or utcnow(), '%Y-%m-%d %H:%M:%S')} JST] {message}\n"


def append_log(log: str, message: str) -> str:
    text = (log or "") + log_line(message)
    return text if len(text) <= LOG_LIMIT else "…（前略）\n" + text[-LOG_LIMIT:]


def transition(
    engine_or_session: Engine | Session,
    scenario_id: int,
    job_id: str | None,
    from_statuses: Iterable[str],
    **values: Any,
) -> bool:
    """Set ``values`` on the scenario if it still belongs to ``job_id`` in one of ``from_statuses``."""
    statement = (
        update(Scenario)
        .where(
            col(Scenario.id) == scenario_id,
            col(Scenario.job_id) == job_id,
            col(Scenario.status).in_(list(from_statuses)),
        )
        .values(**values)
    )
    if isinstance(engine_or_session, Session):
        return engine_or_session.exec(statement).rowcount == 1
    with engine_or_session.begin() as conn:
        return conn.execute(statement).rowcount == 1


def is_stale(scenario: Scenario, now: datetime | None = None) -> str | None:
    """Why an active scenario's job is presumed dead, or None while it looks alive."""
    now = now or utcnow()
    progress = scenario.progress or {}
    if scenario.status in ("running", "cancelling"):
        beat = parse_iso(progress.get("heartbeat")) or parse_iso(progress.get("started_at"))
        if beat is None or now - beat > STALE_AFTER:
            last = iso(beat) if beat else "なし"
            return f"ジョブの応答が途絶えました（最終応答 {last} UTC）。ワーカーが停止した可能性があります。"
    elif scenario.status == "queued" and progress.get("runner", "thread") == "thread":
        queued = parse_iso(progress.get("queued_at"))
        if queued is None or now - queued > THREAD_QUEUE_TIMEOUT:
            return "ジョブが開始されませんでした（アプリケーションが再起動された可能性があります）。"
    return None
