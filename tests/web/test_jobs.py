"""The solve job: runs, persists in one transaction, reports progress, cancels, fails cleanly, detects dead jobs."""

from __future__ import annotations

import threading
import time
import uuid
from datetime import timedelta

import pytest
from sqlmodel import Session, func, select

from planner.db.models import Consortium, MemberShare, Scenario, SubsidyEstimate, utcnow
from planner.db.models import Plan as PlanRow
from planner.jobs.runner import run_solve
from planner.jobs.state import is_stale, iso
from tests.support.plans import (
    add_needs,
    install_standins,
    make_scenario,
    solve_now,
    wait_for,
)
from tests.support.redis_db import JOBS_SLOT, empty_redis_database


def counts(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            m.__name__: session.exec(select(func.count()).select_from(m)).one()
            for m in (PlanRow, Consortium, MemberShare, SubsidyEstimate)
        }


def queue(engine, scenario_id: int) -> str:
    job_id = uuid.uuid4().hex
    with Session(engine) as session:
        s = session.get(Scenario, scenario_id)
        s.status, s.job_id, s.progress = "queued", job_id, {"runner": "thread", "queued_at": iso(utcnow())}
        session.add(s)
        session.commit()
    return job_id


def test_job_persists_plan_with_its_rows_in_one_go(db, solver):
    scenario_id = make_scenario(db)
    plan_id = solve_now(db, scenario_id)
    with Session(db) as session:
        scenario = session.get(Scenario, scenario_id)
        assert scenario.status == "done"
        assert scenario.progress["plan_id"] == plan_id and scenario.progress["phase"] == "done"
        assert "完了: 計画の総費用" in scenario.log and "実行を開始しました" in scenario.log
        row = session.get(PlanRow, plan_id)
        assert row.price_book_version == "R8-ref-1"
        assert row.instance_doc["format"] == "kyodo-planner-instance/1"
        # Only Nagano's needs (the scenario's prefecture) plus the host.
        assert {n["body"] for n in row.instance_doc["needs"]} == {"202011", "202029", "204820"}
        consortia = session.exec(select(Consortium).where(Consortium.plan_id == plan_id)).all()
        assert len(consortia) == len(row.plan_doc["groups"])
        assert sum(c.total_yen for c in consortia) == row.objective_yen
        for c in consortia:
            shares = session.exec(select(MemberShare).where(MemberShare.consortium_id == c.id)).all()
            assert sum(s.total_yen for s in shares) == c.total_yen
            assert sum(s.initial_yen for s in shares) == c.initial_yen
            for s in shares:
                est = session.exec(select(SubsidyEstimate).where(SubsidyEstimate.member_share_id == s.id)).one()
                assert est.net_yen == s.total_yen - est.grant_yen - est.special_tax_yen
        assert any(c.mode != "standalone" for c in consortia)


def test_failure_leaves_the_scenario_failed_with_its_reason_and_no_plan(db, monkeypatch):
    def broken_settle(instance, plan, rules=None, **kw):
        raise RuntimeError("按分の計算に失敗（テスト）")

    install_standins(monkeypatch, settle=broken_settle)
    scenario_id = make_scenario(db)
    job_id = queue(db, scenario_id)
    assert run_solve(db, scenario_id, job_id) == "failed"
    with Session(db) as session:
        s = session.get(Scenario, scenario_id)
        assert s.status == "failed" and "按分の計算に失敗（テスト）" in s.log and "失敗しました" in s.log
        assert "按分の計算に失敗" in s.progress["error"]
    assert counts(db)["Plan"] == 0


def test_an_allocation_that_cannot_be_computed_fails_with_the_reason(db, monkeypatch):
    from planner.domain.allocation import AllocationError

    def population_missing(instance, plan, rules=None, **kw):
        raise AllocationError("人口割: 団体 松本市（202029）の人口（population）が未設定か 0 です")

    install_standins(monkeypatch, settle=population_missing)
    scenario_id = make_scenario(db)
    assert run_solve(db, scenario_id, queue(db, scenario_id)) == "failed"
    with Session(db) as session:
        s = session.get(Scenario, scenario_id)
        assert s.status == "failed" and "負担金の按分ができません" in s.progress["error"]
        assert "松本市" in s.progress["error"]
    assert counts(db)["Plan"] == 0


def test_failure_while_writing_rolls_every_row_back(db, solver, monkeypatch):
    import planner.services.plans as plans

    real_persist = plans.persist_plan

    def persist_then_fail(session, *args, **kwargs):
        real_persist(session, *args, **kwargs)  # plan, consortia, shares and estimates are flushed ...
        raise OSError("ディスクがいっぱいです（テスト）")  # ... and then the write fails

    monkeypatch.setattr(plans, "persist_plan", persist_then_fail)
    scenario_id = make_scenario(db)
    assert run_solve(db, scenario_id, queue(db, scenario_id)) == "failed"
    assert counts(db) == {"Plan": 0, "Consortium": 0, "MemberShare": 0, "SubsidyEstimate": 0}
    with Session(db) as session:
        assert "ディスクがいっぱいです" in session.get(Scenario, scenario_id).log


def test_a_scenario_without_needs_fails_with_a_clear_message(db, solver):
    scenario_id = make_scenario(db, category_ids=["voice"])  # nobody needs 音声認識
    assert run_solve(db, scenario_id, queue(db, scenario_id)) == "failed"
    with Session(db) as session:
        assert "有効なニーズがありません" in session.get(Scenario, scenario_id).log


def slow_optimise(instance, *, time_limit=None, gap=0.0, progress=None, solver="auto", cancel=None):
    """Reports progress and runs until cancelled (raising the optimiser's Cancelled, as the real one does)."""
    from planner.domain.optimiser import Cancelled

    for i in range(600):
        if progress:
            progress(
                {
                    "done": i,
                    "total": 1000,
                    "incumbent_yen": 1_000_000 - i,
                    "bound_yen": 900_000,
                    "gap": 0.1,
                    "elapsed": i * 0.05,
                }
            )
        if cancel and cancel():
            raise Cancelled()
        time.sleep(0.05)
    raise AssertionError("never cancelled")


def test_progress_heartbeat_and_cancel(db, monkeypatch):
    from planner.jobs import state

    monkeypatch.setattr(state, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr("planner.jobs.runner.HEARTBEAT_SECONDS", 0.2)
    install_standins(monkeypatch, optimise=slow_optimise)
    scenario_id = make_scenario(db)
    job_id = queue(db, scenario_id)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("status", run_solve(db, scenario_id, job_id)))
    worker.start()
    deadline = time.monotonic() + 20
    while True:
        with Session(db) as session:
            s = session.get(Scenario, scenario_id)
            if s.status == "running" and (s.progress or {}).get("done", 0) > 3:
                break
        assert time.monotonic() < deadline, "no progress reported"
        time.sleep(0.1)
    assert s.progress["phase"] == "solving" and s.progress["total"] == 1000
    assert s.progress["incumbent_yen"] < 1_000_000 and s.progress["bound_yen"] == 900_000
    assert s.progress["heartbeat"] and is_stale(s) is None
    with Session(db) as session:
        s = session.get(Scenario, scenario_id)
        s.status = "cancelling"
        session.add(s)
        session.commit()
    worker.join(timeout=20)
    assert result["status"] == "cancelled"
    with Session(db) as session:
        s = session.get(Scenario, scenario_id)
        assert s.status == "cancelled" and "中止" in s.log
    assert counts(db)["Plan"] == 0


def test_stale_detection():
    now = utcnow()
    alive = Scenario(name="x", status="running", progress={"heartbeat": iso(now - timedelta(seconds=5))})
    dead = Scenario(name="x", status="running", progress={"heartbeat": iso(now - timedelta(minutes=5))})
    lost = Scenario(
        name="x", status="queued", progress={"runner": "thread", "queued_at": iso(now - timedelta(minutes=5))}
    )
    waiting = Scenario(name="x", status="queued", progress={"runner": "rq", "queued_at": iso(now - timedelta(hours=1))})
    assert is_stale(alive, now) is None
    assert "応答が途絶えました" in is_stale(dead, now)
    assert "開始されませんでした" in is_stale(lost, now)
    assert is_stale(waiting, now) is None  # an RQ job may wait for a worker; RQ itself is asked about it
    assert is_stale(Scenario(name="x", status="done"), now) is None


def test_a_job_superseded_or_reaped_never_writes(db, solver):
    scenario_id = make_scenario(db)
    job_id = queue(db, scenario_id)
    with Session(db) as session:  # another run took over the scenario before this job started
        s = session.get(Scenario, scenario_id)
        s.job_id = "someone-else"
        session.add(s)
        session.commit()
    assert run_solve(db, scenario_id, job_id) == "gone"
    assert counts(db)["Plan"] == 0


def test_real_optimiser_and_settlement_through_the_job(db):
    scenario_id = make_scenario(
        db, allocation_method="formula", allocation_weights={"equal": 0.1, "population": 0.9, "volume": 0.0}
    )
    plan_id = solve_now(db, scenario_id)
    with Session(db) as session:
        row = session.get(PlanRow, plan_id)
        doc = row.plan_doc
        assert doc["status"] == "optimal" and doc["objective_yen"] == row.objective_yen
        joint = [g for g in doc["groups"] if g["mode"] != "standalone"]
        assert joint, "the reference prices make joint procurement worthwhile for these needs"
        for g in doc["groups"]:
            shares = g["allocation"]["shares"]
            assert sum(s["total_yen"] for s in shares.values()) == g["cost"]["total_yen"]
            assert set(g["subsidies"]) == set(g["members"])


@pytest.fixture
def redis_url():
    with empty_redis_database(JOBS_SLOT) as url:
        yield url


def test_rq_path_queues_the_job_for_a_worker(app, client, seed, solver, redis_url):
    from redis import Redis
    from rq import Queue, SimpleWorker

    from planner import jobs
    from tests.support.web import login

    engine = app.extensions["db_engine"]
    app.config["REDIS_URL"] = redis_url
    add_needs(engine)
    scenario_id = make_scenario(engine)
    login(client, "pref20")
    assert client.post(f"/scenarios/{scenario_id}/run").status_code == 302
    status = client.get(f"/api/scenarios/{scenario_id}/status").get_json()
    assert status["status"] == "queued" and status["runner"] == "rq"  # nothing runs until a worker takes it
    connection = Redis.from_url(redis_url)
    jobs.configure_worker_engine(engine)
    try:
        SimpleWorker([Queue(jobs.QUEUE_NAME, connection=connection)], connection=connection).work(burst=True)
    finally:
        jobs.configure_worker_engine(None)
    scenario = wait_for(engine, scenario_id, ("done", "failed"), timeout=5)
    assert scenario.status == "done", scenario.log
    assert "RQ ワーカー" in scenario.log
    assert client.get(f"/api/scenarios/{scenario_id}/status").get_json()["plan_id"] == scenario.progress["plan_id"]


def test_rq_job_lost_from_the_queue_is_marked_failed(app, client, seed, redis_url):
    from redis import Redis

    engine = app.extensions["db_engine"]
    app.config["REDIS_URL"] = redis_url
    scenario_id = make_scenario(engine)
    from tests.support.web import login

    login(client, "pref20")
    client.post(f"/scenarios/{scenario_id}/run")
    Redis.from_url(redis_url).flushdb()  # Redis lost its data (restart without persistence)
    status = client.get(f"/api/scenarios/{scenario_id}/status").get_json()
    assert status["status"] == "failed" and "キューから失われました" in status["error"]


def test_worker_command_needs_redis(tmp_path, monkeypatch):
    from click.testing import CliRunner

    from planner.cli import main

    monkeypatch.setenv("PLANNER_INSTANCE_PATH", str(tmp_path))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'w.sqlite'}")
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 2 and "REDIS_URL が設定されていません" in result.output
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")  # nothing listens there
    result = CliRunner().invoke(main, ["worker", "--burst"])
    assert result.exit_code == 2 and "Redis に接続できません" in result.output


def test_settling_reports_its_own_progress_to_the_status_and_the_page(db, monkeypatch):
    """按分・補助金の計算 shows groups settled / total (issue #15 point 8), not the solver's finished count."""
    from planner.jobs import state
    from planner.web.api import phase_step

    monkeypatch.setattr(state, "HEARTBEAT_SECONDS", 0.2)
    monkeypatch.setattr("planner.jobs.runner.HEARTBEAT_SECONDS", 0.2)
    halfway, release = threading.Event(), threading.Event()

    def slow_settle(instance, plan, rules=None, *, method=None, weights=None, progress=None, core=None):
        from tests.support.plans import standin_settle

        progress(0, 3)
        progress(1, 3)
        halfway.set()
        assert release.wait(20)
        progress(3, 3)
        return standin_settle(instance, plan, rules, method=method, weights=weights)

    install_standins(monkeypatch, settle=slow_settle)
    scenario_id = make_scenario(db)
    job_id = queue(db, scenario_id)
    result = {}
    worker = threading.Thread(target=lambda: result.setdefault("status", run_solve(db, scenario_id, job_id)))
    worker.start()
    try:
        assert halfway.wait(20)
        deadline = time.monotonic() + 10
        while True:
            with Session(db) as session:
                progress = session.get(Scenario, scenario_id).progress or {}
            if progress.get("settle_done") == 1:
                break
            assert time.monotonic() < deadline, f"settling progress not written: {progress}"
            time.sleep(0.1)
        assert progress["phase"] == "settling" and progress["settle_total"] == 3
        assert progress["done"] == progress["total"]  # the solver's count sits at its total ...
        assert phase_step(progress) == {"step_done": 1, "step_total": 3, "step_unit": "グループ"}  # ... this moves
    finally:
        release.set()
        worker.join(timeout=20)
    assert result["status"] == "done"
