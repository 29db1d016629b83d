"""A solve job killed with SIGKILL (a real process: the OOM killer, a node lost) never leaves a half-written plan,
and the scenario ends up failed with its log once the dead job is noticed.

tests/web/test_jobs.py covers failures the job sees itself (exceptions, cancel); here the job gets no chance to
clean up. The child process runs ``planner.jobs.runner.run_solve`` exactly as a worker does, with the tests'
stand-in optimiser slowed down so that it can be killed at a chosen moment.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlmodel import Session, func, select

from planner.db.models import Consortium, MemberShare, Scenario, SubsidyEstimate
from planner.db.models import Plan as PlanRow
from tests.support.plans import jobs_database, make_scenario

ROOT = Path(__file__).resolve().parents[2]

CHILD = textwrap.dedent("""
    import sys, time
    from pathlib import Path
    from planner.domain import optimiser, settlement
    import planner.jobs.runner as runner
    import planner.services.plans as plans
    from planner.db.session import make_engine
    from tests.support.plans import standin_optimise, standin_settle

    url, scenario_id, job_id, where, marker = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], Path(sys.argv[5])
    runner.HEARTBEAT_SECONDS = 0.2

    def optimise(instance, *, progress=None, cancel=None, **kw):
        if where == "solving":
            for i in range(10 ** 6):
                progress({"done": i, "total": 10 ** 6, "incumbent_yen": 10 ** 9 - i, "bound_yen": 1, "gap": 0.5,
                          "elapsed": i * 0.05})
                if i == 3:
                    marker.write_text("solving")
                time.sleep(0.05)
        return standin_optimise(instance, progress=progress, cancel=cancel, **kw)

    real_persist = plans.persist_plan

    def persist_and_hang(session, *args, **kwargs):
        row = real_persist(session, *args, **kwargs)  # plan, consortia, shares, estimates flushed, not committed
        session.flush()
        marker.write_text("persisting")
        time.sleep(600)
        return row

    if where == "persisting":
        plans.persist_plan = persist_and_hang
    optimiser.optimise = optimise
    settlement.settle_plan = standin_settle
    runner.run_solve(make_engine(url), scenario_id, job_id)
""")


@pytest.fixture
def db(engine):
    return jobs_database(engine)


def plan_rows(engine) -> dict[str, int]:
    with Session(engine) as session:
        return {
            m.__name__: session.exec(select(func.count()).select_from(m)).one()
            for m in (PlanRow, Consortium, MemberShare, SubsidyEstimate)
        }


def start_child(engine, db_url: str, scenario_id: int, where: str, marker: Path) -> subprocess.Popen:
    from tests.web.test_jobs import queue

    job_id = queue(engine, scenario_id)
    return subprocess.Popen(
        [sys.executable, "-c", CHILD, db_url, str(scenario_id), job_id, where, str(marker)],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def wait_for_marker(child: subprocess.Popen, marker: Path, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not (marker.exists() and marker.read_text() == text):
        if child.poll() is not None:
            raise AssertionError(f"the job ended by itself: {child.stdout.read().decode(errors='replace')}")
        if time.monotonic() > deadline:
            child.kill()
            raise AssertionError(f"the job never reached {text!r}")
        time.sleep(0.05)


def kill(child: subprocess.Popen) -> None:
    child.send_signal(signal.SIGKILL)
    child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL


def reap(engine, monkeypatch) -> Scenario:
    """What the next page view or status poll does (planner.jobs.reap_if_stale), a staleness limit later."""
    from planner import jobs
    from planner.jobs import state

    monkeypatch.setattr(state, "STALE_AFTER", timedelta(seconds=1))
    time.sleep(2.1)  # heartbeats are stored to the second
    with Session(engine, expire_on_commit=False) as session:
        scenario = session.exec(select(Scenario)).one()
        assert jobs.reap_if_stale(session, {}, scenario)
        return session.get(Scenario, scenario.id)


@pytest.mark.parametrize("where", ["solving", "persisting"])
def test_a_job_killed_mid_run_leaves_no_plan_and_ends_failed_with_its_log(db, db_url, tmp_path, monkeypatch, where):
    scenario_id = make_scenario(db)
    marker = tmp_path / "marker"
    child = start_child(db, db_url, scenario_id, where, marker)
    try:
        wait_for_marker(child, marker, where)
        if where == "solving":
            time.sleep(0.5)  # a heartbeat or two with the solver's progress
        kill(child)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    with Session(db) as session:
        killed = session.get(Scenario, scenario_id)
        assert killed.status == "running"  # nobody is left to say otherwise ...
        assert killed.progress.get("heartbeat")
        if where == "solving":
            assert killed.progress["phase"] == "solving" and killed.progress.get("done", 0) >= 1
    assert plan_rows(db) == {"Plan": 0, "Consortium": 0, "MemberShare": 0, "SubsidyEstimate": 0}

    scenario = reap(db, monkeypatch)  # ... until the dead job is noticed
    assert scenario.status == "failed"
    assert "実行を開始しました" in scenario.log  # the job's own log is kept
    assert "応答が途絶えました" in scenario.log and "応答が途絶えました" in scenario.progress["error"]
    assert scenario.progress["phase"] == "failed"
    assert plan_rows(db) == {"Plan": 0, "Consortium": 0, "MemberShare": 0, "SubsidyEstimate": 0}

    # The scenario can be run again afterwards, and that run is complete.
    from tests.security.conftest import use_standin_solver
    from tests.support.plans import solve_now

    use_standin_solver(monkeypatch)
    plan_id = solve_now(db, scenario_id)
    counts = plan_rows(db)
    assert counts["Plan"] == 1 and counts["Consortium"] > 0 and counts["MemberShare"] > 0
    with Session(db) as session:
        assert session.get(Scenario, scenario_id).progress["plan_id"] == plan_id
