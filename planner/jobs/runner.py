"""The solve job: build the instance, optimise, settle, price the overrides, persist — or fail cleanly.

The same function runs in a thread of the web process (default) and in an RQ worker (``REDIS_URL`` set).
Nothing is written about the plan until the very end, where the plan, its consortia, member shares and subsidy
estimates and the scenario's "done" status go in ONE transaction; a job that fails, is cancelled or is killed
leaves no plan rows behind (a killed job stops its heartbeat and is later marked failed, see state.is_stale).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from planner.db.models import Scenario, utcnow
from planner.db.rows import fetch
from planner.domain.model import Instance
from planner.domain.plan import Plan
from planner.domain.settled_plan import SettledPlan
from planner.services.solving import EffectInputs, SolveProgress

from .state import HEARTBEAT_SECONDS, append_log, iso, transition

log = logging.getLogger(__name__)

PHASE_LABELS = {
    "queued": "実行待ち",
    "building": "入力データの作成",
    "solving": "最適化",
    "settling": "按分・補助金の計算",
    "override_costs": "上書き設定の影響を計算",
    "saving": "保存",
    "done": "完了",
}


class JobCancelled(Exception):
    pass


class JobError(Exception):
    """A failure whose message is meant for the user (Japanese)."""


class _Reporter:
    """Holds the job's progress in memory and writes it, with a heartbeat, from one thread every few seconds.

    A single writer keeps the progress column free of lost updates; reading the status back on each beat is also
    how a cancel request (status "cancelling") reaches the solver.
    """

    def __init__(self, engine: Engine, scenario_id: int, job_id: str, progress: dict[str, Any], log_text: str):
        self.engine, self.scenario_id, self.job_id = engine, scenario_id, job_id
        self.progress = dict(progress)
        self.log_text = log_text
        self.flushed_log = log_text  # the log as last written to the row
        self.lock = threading.Lock()
        self.cancel_event = threading.Event()
        self.stop_event = threading.Event()
        self.started = time.monotonic()
        self.thread = threading.Thread(target=self._run, name=f"planner-job-{scenario_id}", daemon=True)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stop_event.set()
        self.thread.join(timeout=10)

    def cancelled(self) -> bool:
        return self.cancel_event.is_set()

    def check_cancel(self) -> None:
        if self.cancel_event.is_set():
            raise JobCancelled()

    def phase(self, name: str) -> None:
        self.update(phase=name, phase_label=PHASE_LABELS.get(name, name))
        self.note(f"{PHASE_LABELS.get(name, name)}を開始")

    def update(self, **values: Any) -> None:
        with self.lock:
            self.progress.update(values)

    def note(self, message: str) -> None:
        with self.lock:
            self.log_text = append_log(self.log_text, message)

    def on_pipeline(self, event: SolveProgress) -> None:
        """solve_and_settle's progress callback: phases and numbers for the page (never blocking the solver on the
        database); between the optimiser and the settlement, and after each settled group, a cancel stops it."""
        if event.stage == "solving":
            if not event.solver:
                self.phase("solving")
                return
            keys = ("done", "total", "incumbent_yen", "bound_yen", "gap")
            info = event.solver
            self.update(**{k: info[k] for k in keys if k in info}, solver_elapsed=info.get("elapsed"))
        elif event.stage == "solved" and event.plan is not None:
            plan = event.plan
            self.update(incumbent_yen=plan.objective_yen, bound_yen=plan.lower_bound_yen, gap=plan.gap)
            self.note(f"最適化が終了: 状態 {plan.status}、総費用 {plan.objective_yen:,}円、{plan.solve_seconds:.1f} 秒")
            self.check_cancel()
            self.phase("settling")
        elif event.stage == "settling":
            self.update(settle_done=event.done, settle_total=event.total)
            self.check_cancel()

    def snapshot(self) -> tuple[dict[str, Any], str]:
        with self.lock:
            progress = dict(self.progress)
            progress["elapsed"] = round(time.monotonic() - self.started, 1)
            progress["heartbeat"] = iso(utcnow())
            return progress, self.log_text

    def flush(self) -> None:
        progress, log_text = self.snapshot()
        try:
            alive = transition(
                self.engine, self.scenario_id, self.job_id, ("running",), progress=progress, log=log_text
            )
            if alive:
                self.flushed_log = log_text
            else:
                # Cancelling, or the row moved on (reaped, deleted): either way the work must stop.
                self.cancel_event.set()
                self._adopt_database_log()
        except Exception:  # a busy database must not kill the job; the next beat tries again
            log.exception("progress write failed for scenario %s", self.scenario_id)

    def _adopt_database_log(self) -> None:
        """Keep the lines the web appended (who asked to cancel) ahead of the job's own new lines."""
        with Session(self.engine) as session:
            row = session.get(Scenario, self.scenario_id)
            if row is None or row.job_id != self.job_id:
                return
            with self.lock:
                added = self.log_text[len(self.flushed_log) :] if self.log_text.startswith(self.flushed_log) else ""
                self.log_text = (row.log or "") + added
                self.flushed_log = row.log or ""

    def _run(self) -> None:
        while not self.stop_event.wait(HEARTBEAT_SECONDS):
            self.flush()


@dataclass
class SolveResult:
    instance: Instance
    plan: SettledPlan
    price_book_version: str
    rule_version: str
    extras: dict[str, Any] = field(default_factory=dict)


def run_solve(engine: Engine, scenario_id: int, job_id: str) -> str:
    """Run one solve job to its end; returns the final status (done / failed / cancelled / gone)."""
    with Session(engine, expire_on_commit=False) as session:
        scenario = session.get(Scenario, scenario_id)
        if scenario is None or scenario.job_id != job_id:
            return "gone"
        now = utcnow()
        if scenario.status == "cancelling":
            transition(
                session,
                scenario_id,
                job_id,
                ("cancelling",),
                status="cancelled",
                log=append_log(scenario.log, "開始前に中止されました"),
                updated_at=now,
            )
            session.commit()
            return "cancelled"
        progress = {
            **(scenario.progress or {}),
            "phase": "building",
            "phase_label": PHASE_LABELS["building"],
            "started_at": iso(now),
            "heartbeat": iso(now),
        }
        log_text = append_log(scenario.log, "実行を開始しました")
        if not transition(
            session, scenario_id, job_id, ("queued",), status="running", progress=progress, log=log_text, updated_at=now
        ):
            session.rollback()
            return "gone"
        session.commit()

    reporter = _Reporter(engine, scenario_id, job_id, progress, log_text)
    reporter.start()
    try:
        result = solve_scenario(engine, scenario_id, reporter)
        reporter.check_cancel()
        reporter.phase("saving")
        return _persist(engine, scenario_id, job_id, reporter, result)
    except JobCancelled:
        return _finish(engine, scenario_id, job_id, reporter, "cancelled", "利用者の操作により中止しました")
    except Exception as e:  # every failure leaves the scenario failed with its reason, and no plan
        if _is_optimiser_cancel(e):
            return _finish(engine, scenario_id, job_id, reporter, "cancelled", "利用者の操作により中止しました")
        message = str(e) if isinstance(e, JobError) else f"{type(e).__name__}: {e}"
        log.exception("solve job for scenario %s failed", scenario_id)
        detail = "".join(traceback.format_exception_only(type(e), e)).strip()
        return _finish(
            engine, scenario_id, job_id, reporter, "failed", f"失敗しました: {message}", error=message, detail=detail
        )
    finally:
        reporter.stop()


def _is_optimiser_cancel(e: Exception) -> bool:
    from planner.domain.optimiser import Cancelled  # late, like the solve itself (run_solve)

    return isinstance(e, Cancelled)


def _finish(
    engine: Engine, scenario_id: int, job_id: str, reporter: _Reporter, status: str, message: str, **extra: Any
) -> str:
    reporter.stop()
    progress, log_text = reporter.snapshot()
    progress.update(
        phase=status,
        phase_label={"failed": "失敗", "cancelled": "中止"}.get(status, status),
        finished_at=iso(utcnow()),
        **extra,
    )
    with Session(engine) as session:
        transition(
            session,
            scenario_id,
            job_id,
            ("queued", "running", "cancelling"),
            status=status,
            progress=progress,
            log=append_log(log_text, message),
            updated_at=utcnow(),
        )
        session.commit()
    return status


def _persist(engine: Engine, scenario_id: int, job_id: str, reporter: _Reporter, result: SolveResult) -> str:
    from planner.services.plans import persist_plan

    reporter.stop()
    progress, log_text = reporter.snapshot()
    plan = result.plan
    progress.update(
        phase="done",
        phase_label=PHASE_LABELS["done"],
        finished_at=iso(utcnow()),
        incumbent_yen=plan.objective_yen,
        bound_yen=plan.lower_bound_yen,
        gap=plan.gap,
    )
    message = (
        f"完了: 計画の総費用 {plan.objective_yen:,}円（単独導入の合計 {plan.standalone_total_yen:,}円、"
        f"下界 {plan.lower_bound_yen:,}円、ギャップ {plan.gap:.4%}、状態 {plan.status}）"
    )
    with Session(engine, expire_on_commit=False) as session:
        try:
            row = persist_plan(
                session,
                scenario_id,
                result.instance,
                plan,
                price_book_version=result.price_book_version,
                rule_version=result.rule_version,
                extras=result.extras,
            )
            progress["plan_id"] = row.id
            # The guard makes plan rows and "done" one atomic step: a job cancelled or reaped meanwhile
            # rolls its plan back.
            if not transition(
                session,
                scenario_id,
                job_id,
                ("running",),
                status="done",
                progress=progress,
                log=append_log(log_text, message),
                updated_at=utcnow(),
            ):
                session.rollback()
                return _finish(engine, scenario_id, job_id, reporter, "cancelled", "保存の直前に中止されました")
            session.commit()
        except Exception:
            session.rollback()
            raise
    return "done"


def solve_scenario(engine: Engine, scenario_id: int, reporter: _Reporter) -> SolveResult:
    """Build, optimise, settle and price the overrides (no writes to the database)."""
    from planner.domain.instance_io import InstanceError
    from planner.services.instances import build_instance_with_notes
    from planner.services.scenarios import ScenarioError, apply_overrides, override_items, scenario_rule_set

    with Session(engine, expire_on_commit=False) as session:
        scenario = fetch(session, Scenario, scenario_id)
        try:
            built = build_instance_with_notes(session, scenario)
        except InstanceError as e:
            raise JobError(f"入力データに問題があります: {e}") from e
        except ValueError as e:  # ReferenceDataError and friends carry Japanese messages
            raise JobError(str(e)) from e
        for note in built.notes:
            reporter.note(note)
        items = override_items(scenario)
        try:
            instance = apply_overrides(built.instance, items)
        except ScenarioError as e:
            raise JobError(str(e)) from e
        rules = scenario_rule_set(session, scenario)
        try:
            effect_inputs = _effect_inputs(session, instance)
        except ValueError as e:  # a stored model the domain cannot read: the plan is still worth having
            effect_inputs = None
            reporter.note(f"導入効果モデルを読めないため、導入効果の見込みを省きました: {e}")
        time_limit = scenario.time_limit_seconds
        method, weights = scenario.allocation_method, dict(scenario.allocation_weights or {}) or None
    if not instance.needs:
        raise JobError("対象団体に有効なニーズがありません。ニーズを登録してから実行してください。")
    reporter.note(
        f"入力: 団体 {len(instance.bodies)}、分野 {len(instance.categories)}、ニーズ {len(instance.needs)}、"
        f"上書き設定 {len(items)} 件"
    )
    reporter.check_cancel()

    from planner.domain.allocation import AllocationError
    from planner.domain.subsidies import SubsidyRulesError
    from planner.services.solving import solve_and_settle

    reporter.update(needs=len(instance.needs))
    try:
        plan = solve_and_settle(
            instance,
            rules=rules.data if rules else None,
            method=method,
            weights=weights,
            effects=effect_inputs,
            time_limit=time_limit,
            progress=reporter.on_pipeline,
            cancel=reporter.cancelled,
        )
    except AllocationError as e:  # e.g. 人口割 while population has not been imported
        raise JobError(f"負担金の按分ができません: {e}") from e
    except SubsidyRulesError as e:
        raise JobError("補助制度ルールに問題があります: " + "；".join(e.problems)) from e
    reporter.check_cancel()

    extras: dict[str, Any] = {
        "scenario_id": scenario_id,
        "notes": list(built.notes),
        "price_source": built.price_source,
        "quotes_used": built.quotes_used,
    }
    if items:
        reporter.phase("override_costs")
        extras["override_costs"] = override_costs(built.instance, items, time_limit, reporter.cancelled, reporter.note)
    return SolveResult(instance, plan, built.price_book.version, rules.version if rules else "", extras)


def _effect_inputs(session: Session, instance: Instance) -> EffectInputs | None:
    """The current effect model with needs' own baselines and bodies' staff costs, or None before an effect model
    is stored."""
    from planner.services.effect_models import current_effect_model, scenario_effect_inputs
    from planner.services.instances import need_id_from_key

    model = current_effect_model(session)
    if model is None:
        return None
    ids = [i for i in (need_id_from_key(n.id) for n in instance.needs) if i is not None]
    baselines, staff_costs = scenario_effect_inputs(session, ids, list(instance.bodies))
    return EffectInputs(model, baselines, staff_costs)


def override_costs(
    base: Instance,
    items: list[dict[str, Any]],
    time_limit: float | None,
    cancelled: Callable[[], bool],
    note: Callable[[str], None],
) -> list[dict[str, Any]]:
    """What each override costs: the optimum of its category with every override, minus the optimum without it.

    Categories are independent sub-problems, so re-solving only the override's category gives the exact
    difference at a fraction of the whole solve.
    """
    from planner.domain.optimiser import optimise
    from planner.domain.vocabulary import signed_yen
    from planner.services.scenarios import (
        ScenarioError,
        apply_overrides,
        describe_override,
        instance_names,
        restrict_to_categories,
    )

    out = []
    names = instance_names(base)
    with_all: dict[str, Plan] = {}
    for item in items:
        cat = item["category"]
        entry = {"id": item.get("id"), "kind": item.get("kind"), "category": cat}
        try:
            part = restrict_to_categories(base, {cat})
            same_cat = [i for i in items if i["category"] == cat]
            if cat not in with_all:
                with_all[cat] = optimise(apply_overrides(part, same_cat), time_limit=time_limit, cancel=cancelled)
            others = [i for i in same_cat if i is not item]
            without = optimise(apply_overrides(part, others), time_limit=time_limit, cancel=cancelled)
        except ScenarioError as e:
            entry.update(cost_yen=None, error=str(e))
            out.append(entry)
            continue
        both_optimal = with_all[cat].status == "optimal" and without.status == "optimal"
        entry.update(
            cost_yen=with_all[cat].objective_yen - without.objective_yen,
            with_yen=with_all[cat].objective_yen,
            without_yen=without.objective_yen,
            exact=both_optimal,
        )
        # Users read the override as they wrote it, not its internal id; a positive figure is extra cost.
        note(
            f"上書き設定「{describe_override(names, item)}」による総費用の増減: {signed_yen(entry['cost_yen'])}"
            + ("" if both_optimal else "（概算）")
        )
        out.append(entry)
    return out
