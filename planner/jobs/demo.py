"""The demo's plans, made after ``planner.services.demo.load_demo``: the demo scenario run by the web's solve job in
this process (a job builds on services, so this lives with the jobs rather than with the demo's data), adopted as
計画 No.1 第1版 and published to the members, beside a copy allocated by 単独費用比 left as a draft 試算.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from planner.db.models import Plan, PlanSeries, Scenario, User, utcnow
from planner.db.rows import fetch, id_of
from planner.services import plan_lifecycle
from planner.services.demo import DRAFT_SUFFIX, PUBLISH_MESSAGE, REPLY_DAYS, DemoError, DemoReport
from planner.services.scenarios import copy_scenario

from .runner import run_solve
from .state import iso


@dataclass
class DemoPlans:
    """What ``plan_demo`` left: the published plan and the draft 試算."""

    published_plan_id: int
    label: str  # 計画 No.1 第1版
    deadline: date
    draft_scenario_id: int
    draft_plan_id: int
    seconds: float

    def lines(self) -> list[str]:
        return [
            f"計画を作成しました（最適化 {self.seconds:.1f} 秒）:",
            f"  {self.label}（計画 {self.published_plan_id}）を参加団体に公表しました。回答期限 "
            f"{self.deadline.year}年{self.deadline.month}月{self.deadline.day}日。"
            "市区町村のデモ用ログインでホーム画面から回答できます。",
            f"  比較用の試算（計画 {self.draft_plan_id}、シナリオ {self.draft_scenario_id}）は確定していません。"
            "都道府県のデモ用ログインで確定・公表を試せます。",
        ]


def _solve_now(engine: Engine, scenario_id: int) -> int:
    """Run the web's solve job for the scenario in this process and return the plan it made."""
    job_id = uuid.uuid4().hex
    with Session(engine) as session:
        scenario = fetch(session, Scenario, scenario_id)
        scenario.status, scenario.job_id = "queued", job_id
        scenario.progress = {"runner": "demo", "queued_at": iso(utcnow())}
        session.add(scenario)
        session.commit()
    status = run_solve(engine, scenario_id, job_id)
    with Session(engine) as session:
        scenario = fetch(session, Scenario, scenario_id)
        plan_id = (scenario.progress or {}).get("plan_id")
        if status != "done" or not plan_id:
            raise DemoError(
                f"デモのシナリオ「{scenario.name}」の最適化が終わりませんでした（{status}）: {scenario.log or ''}"
            )
        return int(plan_id)


def plan_demo(engine: Engine, report: DemoReport, now: datetime | None = None) -> DemoPlans:
    """Solve the demo scenario, adopt its plan as the prefecture's next plan number and publish it to the members
    with a reply deadline ``REPLY_DAYS`` ahead; solve a copy allocated by 単独費用比 and leave it a draft.

    Runs after ``load_demo`` has been committed (the solve job reads the database in its own sessions)."""
    started = time.perf_counter()
    with Session(engine) as session:
        coordinator = session.exec(select(User).where(col(User.username) == "demo-nagano-pref")).one()
        source = fetch(session, Scenario, report.scenario_id)
        draft = copy_scenario(session, coordinator, source, name=f"{source.name}{DRAFT_SUFFIX}")
        draft.allocation_method = "standalone_ratio"
        session.add(draft)
        session.commit()
        draft_id = id_of(draft)
    published_plan = _solve_now(engine, report.scenario_id)
    draft_plan = _solve_now(engine, draft_id)
    deadline = plan_lifecycle.today_jst(now) + timedelta(days=REPLY_DAYS)
    with Session(engine) as session:
        coordinator = session.exec(select(User).where(col(User.username) == "demo-nagano-pref")).one()
        plan = fetch(session, Plan, published_plan)
        scenario = fetch(session, Scenario, plan.scenario_id)
        # The demo's plan starts in 令和8–10年度 while the shipped rule set is 令和2年度's: the loader confirms it on
        # the coordinator's behalf (the audit log records the confirmation) so that the demo has a published plan.
        release = plan_lifecycle.adopt(
            session, coordinator, plan, scenario, title=scenario.name, confirm_rule_year=True
        )
        plan_lifecycle.publish(session, coordinator, release, deadline=deadline, message=PUBLISH_MESSAGE, now=now)
        series = fetch(session, PlanSeries, release.series_id)
        label = plan_lifecycle.version_label(series, release)
        session.commit()
    return DemoPlans(published_plan, label, deadline, draft_id, draft_plan, time.perf_counter() - started)
