"""A ZIP build waiting in the RQ queue is reported as queued however long it waits (issue #30: it was called
「作成が中断されました」 after 120 s without a heartbeat); it is called lost only when Redis no longer holds its
job, and a build in this process that stopped beating is still reaped."""

from __future__ import annotations

import json
import time

from planner import jobs
from planner.jobs import documents


def _write(folder, key: str, **doc) -> None:
    (folder / f"{key}.json").write_text(json.dumps(doc), encoding="utf-8")


def test_a_build_queued_in_rq_stays_queued_past_the_stale_time(tmp_path, monkeypatch):
    asked = []

    def alive(redis_url, job_id, progress):
        asked.append((redis_url, job_id))
        return None

    monkeypatch.setattr(jobs, "_rq_job_problem", alive)
    long_ago = time.time() - 10 * documents.STALE_SECONDS
    _write(tmp_path, "k1", status="queued", runner="rq", heartbeat=long_ago, done=0, total=5)
    st = documents.state(tmp_path, "k1", "redis://127.0.0.1:6379/0")
    assert st["status"] == "queued" and "error" not in st
    assert asked == [("redis://127.0.0.1:6379/0", documents.rq_job_id("k1"))]


def test_a_queued_build_whose_job_left_redis_is_reported_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(jobs, "_rq_job_problem", lambda *a: "ジョブがキューから失われました。")
    _write(tmp_path, "k2", status="queued", runner="rq", heartbeat=time.time() - 1000)
    st = documents.state(tmp_path, "k2", "redis://127.0.0.1:6379/0")
    assert st["status"] == "failed" and "ジョブがキューから失われました" in st["error"]


def test_a_build_of_this_process_that_stopped_beating_is_still_reaped(tmp_path):
    _write(tmp_path, "k3", status="running", runner="thread", heartbeat=time.time() - 1000)
    assert documents.state(tmp_path, "k3")["status"] == "failed"
    _write(tmp_path, "k4", status="queued", runner="thread", heartbeat=time.time() - 1000)
    assert documents.state(tmp_path, "k4")["status"] == "failed"
    _write(tmp_path, "k5", status="queued", runner="rq", heartbeat=time.time())
    assert documents.state(tmp_path, "k5")["status"] == "queued"
