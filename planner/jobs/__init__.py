"""Background solve jobs: submit, cancel, detect dead ones.

By default a job runs in a daemon thread of the web process. With ``REDIS_URL`` configured it is queued on RQ
(queue :data:`QUEUE_NAME`) and run by ``planner worker``. Either way the job's state lives on the Scenario row
(status, job_id, progress with a heartbeat, log), so any web process can show it and cancel it.
"""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from planner.db.models import Scenario, User, utcnow
from planner.db.rows import id_of

from .state import append_log, is_stale, iso, parse_iso, transition

QUEUE_NAME = "planner"
ACTIVE_STATUSES = ("queued", "running", "cancelling")
ALREADY_RUNNING = "このシナリオは既に実行中です。"
# A job the submitting request had not yet handed to Redis is not lost; only after this long without the
# "enqueued" mark (the request died in between) is a missing RQ job taken as lost.
ENQUEUE_GRACE = timedelta(seconds=30)
_worker_engine: Engine | None = None


class JobSubmitError(RuntimeError):
    pass


def runner_kind(config: dict[str, Any]) -> str:
    return "rq" if config.get("REDIS_URL") else "thread"


def submit_solve(session: Session, engine: Engine, config: dict[str, Any], scenario: Scenario, user: User) -> str:
    """Queue a solve of ``scenario``. Commits the session (the job must see the queued row). Returns the job id.

    The claim is one conditional UPDATE (``WHERE status NOT IN active``): of concurrent requests to run the same
    scenario exactly one starts a job, the others are told it is already running."""
    from planner.services import audit

    if scenario.status in ACTIVE_STATUSES:
        raise JobSubmitError(ALREADY_RUNNING)
    job_id = uuid.uuid4().hex
    runner = runner_kind(config)
    now = utcnow()
    who = user.display_name or user.username
    progress = {
        "runner": runner,
        "queued_at": iso(now),
        "phase": "queued",
        "phase_label": "実行待ち",
        "requested_by": who,
    }
    log = append_log(
        scenario.log, f"{who} が実行を依頼しました（{'RQ ワーカー' if runner == 'rq' else 'アプリ内スレッド'}）"
    )
    claimed = (
        session.exec(
            update(Scenario)
            .where(col(Scenario.id) == scenario.id, col(Scenario.status).notin_(ACTIVE_STATUSES))
            .values(status="queued", job_id=job_id, progress=progress, log=log, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        == 1
    )
    if not claimed:
        session.rollback()
        raise JobSubmitError(ALREADY_RUNNING)
    audit.record(
        session,
        user_id=user.id,
        action="run",
        entity="scenario",
        entity_id=str(scenario.id),
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」の最適化を開始",
    )
    session.commit()
    session.refresh(scenario)
    if runner == "rq":
        try:
            queue = rq_queue(config["REDIS_URL"])
            timeout = int((scenario.time_limit_seconds or 600) * 3 + 600)
            queue.enqueue(
                "planner.jobs.worker_entry",
                scenario.id,
                job_id,
                job_id=job_id,
                job_timeout=timeout,
                result_ttl=3600,
                failure_ttl=7 * 86400,
            )
        except Exception as e:  # Redis unreachable: say so on the scenario instead of leaving it queued forever
            transition(
                session,
                id_of(scenario),
                job_id,
                ("queued",),
                status="failed",
                log=append_log(scenario.log, f"ジョブをキューに登録できませんでした: {e}"),
            )
            session.commit()
            session.refresh(scenario)
            raise JobSubmitError(f"ジョブをキューに登録できませんでした（Redis: {e}）") from e
        # The evidence lost-job detection waits for: from here on, a job missing from Redis was lost there.
        # (A worker may already have taken the job; then the row is running and this changes nothing.)
        transition(session, id_of(scenario), job_id, ("queued",), progress={**progress, "enqueued_at": iso(utcnow())})
        session.commit()
        session.refresh(scenario)
    else:
        from .runner import run_solve

        threading.Thread(
            target=run_solve, args=(engine, scenario.id, job_id), name=f"planner-solve-{scenario.id}", daemon=True
        ).start()
    return job_id


def request_cancel(session: Session, config: dict[str, Any], scenario: Scenario, user: User) -> str:
    """Cancel a queued job at once, or ask a running one to stop (it does so within a heartbeat). Commits."""
    from planner.services import audit

    if scenario.status not in ("queued", "running"):
        raise JobSubmitError("実行中ではないため中止できません。")
    who = user.display_name or user.username
    if scenario.status == "queued":
        done = transition(
            session,
            id_of(scenario),
            scenario.job_id,
            ("queued",),
            status="cancelled",
            log=append_log(scenario.log, f"{who} が開始前に中止しました"),
            updated_at=utcnow(),
        )
        if done and (scenario.progress or {}).get("runner") == "rq" and config.get("REDIS_URL") and scenario.job_id:
            _cancel_rq_job(config["REDIS_URL"], scenario.job_id)
        new_status = "cancelled"
    else:
        done = transition(
            session,
            id_of(scenario),
            scenario.job_id,
            ("running",),
            status="cancelling",
            log=append_log(scenario.log, f"{who} が中止を要求しました"),
            updated_at=utcnow(),
        )
        new_status = "cancelling"
    if not done:
        session.rollback()
        raise JobSubmitError("状態が変わったため中止できませんでした。画面を更新してください。")
    audit.record(
        session,
        user_id=user.id,
        action="cancel",
        entity="scenario",
        entity_id=str(scenario.id),
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」の実行を中止",
    )
    session.commit()
    session.refresh(scenario)
    return new_status


def reap_if_stale(session: Session, config: dict[str, Any], scenario: Scenario) -> bool:
    """Mark an active scenario whose job is dead as failed (with the reason in its log). Commits if it did."""
    if scenario.status not in ("queued", "running", "cancelling"):
        return False
    reason = is_stale(scenario)
    if reason is None and scenario.status == "queued" and (scenario.progress or {}).get("runner") == "rq":
        reason = _rq_job_problem(config.get("REDIS_URL"), scenario.job_id, scenario.progress or {})
    if reason is None:
        return False
    progress = {
        **(scenario.progress or {}),
        "phase": "failed",
        "phase_label": "失敗",
        "error": reason,
        "finished_at": iso(utcnow()),
    }
    done = transition(
        session,
        id_of(scenario),
        scenario.job_id,
        (scenario.status,),
        status="failed",
        progress=progress,
        log=append_log(scenario.log, reason),
        updated_at=utcnow(),
    )
    session.commit()
    if done:
        session.refresh(scenario)
    return done


def rq_queue(redis_url: str):
    from redis import Redis
    from rq import Queue

    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url))


def _rq_job_problem(redis_url: str | None, job_id: str | None, progress: dict[str, Any]) -> str | None:
    """Why a queued RQ job is presumed dead, or None. A job missing from Redis is lost only on evidence: it was
    enqueued (the "enqueued_at" mark), or the request that queued it has had ENQUEUE_GRACE to do so."""
    if not redis_url or not job_id:
        return None
    from redis import Redis
    from rq.exceptions import NoSuchJobError
    from rq.job import Job

    try:
        job = Job.fetch(job_id, connection=Redis.from_url(redis_url))
        status = job.get_status(refresh=True)
    except NoSuchJobError:
        queued_at = parse_iso(progress.get("queued_at"))
        if progress.get("enqueued_at") or queued_at is None or utcnow() - queued_at > ENQUEUE_GRACE:
            return "ジョブがキューから失われました。もう一度実行してください。"
        return None
    except Exception:  # Redis down: nothing can be concluded about the job
        return None
    status = getattr(status, "value", status)
    if status in ("failed", "stopped", "canceled"):
        return f"ワーカーでジョブが終了しました（RQ の状態: {status}）。"
    return None


def _cancel_rq_job(redis_url: str, job_id: str) -> None:
    from redis import Redis
    from rq.job import Job

    try:
        Job.fetch(job_id, connection=Redis.from_url(redis_url)).cancel()
    except Exception:  # already taken or gone: the job itself will see the cancelled status and stop
        pass


def configure_worker_engine(engine: Engine | None) -> None:
    """The engine RQ jobs use in this process (``planner worker`` sets it from the settings)."""
    global _worker_engine
    _worker_engine = engine


def worker_engine() -> Engine:
    """The database engine from the settings alone (planner.config): a worker needs no web application."""
    from planner.config import load_settings
    from planner.db.session import make_engine

    return make_engine(str(load_settings()["DATABASE_URL"]))


def worker_entry(scenario_id: int, job_id: str) -> str:
    """The RQ job function."""
    global _worker_engine
    if _worker_engine is None:
        _worker_engine = worker_engine()
    else:
        # RQ forks a work horse per job: connections inherited from the parent must not be shared with it.
        _worker_engine.dispose(close=False)
    from .runner import run_solve

    return run_solve(_worker_engine, scenario_id, job_id)
