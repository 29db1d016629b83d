"""One pipeline, deterministic documents: the Nagano bench (../shared/bench/nagano.json) planned through both ways
a plan is made -- ``planner solve`` (planner.cli.solving) and the web's solve job (planner.jobs.runner.run_solve, run
here in this process on a database) -- gives the same plan document, and every kind of PDF document laid out from
the one and from the other, with the same issue date, has the same bytes.

The job reads its instance from the database. The one stand-in here is at that seam: the scenario's instance as
the database builds it (its price book, notes and prices) with the bench's needs, bodies and rules put in its place
(and the scenario's allocation settings are the bench's), so that both paths start from the same instance; everything after it (rule set and effect model as init-db stores
them, optimiser, settlement, effects, persisting, reading the stored plan back) is the job's own code.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date

import pytest
from click.testing import CliRunner
from sqlmodel import Session

from planner.cli import main
from planner.db.models import Plan as PlanRow
from planner.db.session import make_engine, session_scope
from planner.domain.instance_io import load_instance
from planner.domain.settled_plan import settled_plan_from_dict
from planner.reports.context import ReportMeta
from planner.reports.kind_renderers import RENDERERS
from planner.services import instances
from planner.services.effect_models import load_effect_models
from planner.services.plans import plan_view
from planner.services.reference_data import load_subsidy_rules
from tests.conftest import shared_path
from tests.support.databases import migrate_with_nagano, module_database
from tests.support.plans import make_scenario, solve_now

# Measured, not computed: how long the run took differs from run to run and says nothing about the plan.
TIMINGS = ("solve_seconds",)
STAT_TIMINGS = ("phase_seconds", "worker_cpu_seconds", "worker_peak_rss_mb")
# What only the job knows and adds to the stored document (persist_plan): its scenario, the notes of building the
# instance, the prices it used, and the versions of the price book and rule set read from the database.
JOB_ONLY = ("scenario_id", "notes", "price_source", "quotes_used")
JOB_ONLY_STATS = ("price_book_version",)
ISSUED_ON = date(2027, 4, 1)  # one issue date for every rendering (a document prints the day it is issued)


COMPONENT_TIMINGS = ("start", "end", "cpu", "phases")  # of each component the optimiser solved (stats.components)


def comparable(doc: dict) -> dict:
    doc = json.loads(json.dumps(doc))  # a copy, with JSON's types (as the database stores it)
    for key in TIMINGS:
        doc.pop(key)
    stats = doc["stats"]
    for key in STAT_TIMINGS:
        stats.pop(key, None)
    # what each component was and how it ended, not when or how long (their order is the order they finished in)
    components = [{k: v for k, v in c.items() if k not in COMPONENT_TIMINGS} for c in stats.get("components", [])]
    stats["components"] = sorted(components, key=lambda c: json.dumps(c, sort_keys=True))
    # how many sub-problems each method solved, not the seconds it took
    stats["solve_phases"] = {m: p.get("count") for m, p in stats.get("solve_phases", {}).items()}
    return doc


@pytest.fixture(scope="module")
def bench():
    return shared_path("bench", "nagano.json")


@pytest.fixture(scope="module")
def cli_doc(bench, tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cli") / "plan.json"
    result = CliRunner().invoke(main, ["solve", str(bench), "-o", str(out)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def job_row(bench, tmp_path_factory, db_templates) -> PlanRow:
    bench_instance = load_instance(bench)
    build = instances.build_instance_with_notes

    def with_the_bench(session, scenario):
        return dataclasses.replace(build(session, scenario), instance=bench_instance)

    folder = tmp_path_factory.mktemp("job")
    with module_database(folder, db_templates, "nagano", migrate_with_nagano) as (url, _):
        engine = make_engine(url)
        try:
            with session_scope(engine) as session:  # what init-db stores besides bodies and prices
                load_subsidy_rules(session)
                load_effect_models(session)
            spec = json.loads(bench.read_text(encoding="utf-8"))["allocation"]  # the scenario says how to split
            scenario_id = make_scenario(
                engine,
                allocation_method=spec["method"],
                allocation_weights=spec["weights"],
                allocation_core=spec["core"],
            )
            with pytest.MonkeyPatch.context() as mp:
                mp.setattr(instances, "build_instance_with_notes", with_the_bench)
                plan_id = solve_now(engine, scenario_id)
            with Session(engine, expire_on_commit=False) as session:
                row = session.get(PlanRow, plan_id)
                assert row is not None
                session.expunge(row)
                return row
        finally:
            engine.dispose()


def test_the_command_line_and_the_job_write_the_same_plan(cli_doc, job_row):
    job_doc = comparable(job_row.plan_doc)
    cli = comparable(cli_doc)
    assert set(job_doc) - set(cli) == set(JOB_ONLY)
    assert set(job_doc["stats"]) - set(cli["stats"]) == set(JOB_ONLY_STATS)
    for key in JOB_ONLY:
        job_doc.pop(key)
    for key in JOB_ONLY_STATS:
        job_doc["stats"].pop(key)
    # the job's scenario carries a time limit the command line was not given; both plans are proved optimal
    assert job_doc["stats"].pop("time_limit") == 20 and cli["stats"].pop("time_limit") is None
    assert cli["status"] == "optimal" and cli["gap"] == 0.0
    assert cli["effects"]["needs"], "the shipped effect model's estimates are part of both plans"
    assert job_doc == cli


def test_every_pdf_of_both_plans_has_the_same_bytes(bench, cli_doc, job_row):
    """Each kind's first document (the largest group for the group's kinds) as a PDF: the command line's plan file
    read as ``planner report`` reads it, the job's stored plan as the web reads it; the two renderings are
    separate layouts of the same document, so equal bytes also say nothing in a PDF changes between renderings
    (no creation time, no random identifier)."""
    cli = (load_instance(bench), settled_plan_from_dict(cli_doc))
    view = plan_view(job_row)
    job = (view.instance, view.plan)
    meta = ReportMeta(price_book_version="R8-ref-1", rule_version="R2-budget-2", issued_on=ISSUED_ON)
    compared = []
    for name, renderer in RENDERERS.items():
        if "pdf" not in renderer.kind.downloads:
            continue
        keys = renderer.keys(cli[1], cli[0])
        assert keys == renderer.keys(job[1], job[0]), name
        if renderer.kind.key_of == "group":
            sizes = {g.id: len(g.members) for g in cli[1].groups}
            keys = sorted(keys, key=lambda k: (-sizes[k], k))
        key = keys[0]
        first = renderer.downloads["pdf"](*cli, key, meta)
        second = renderer.downloads["pdf"](*job, key, meta)
        assert first.startswith(b"%PDF-") and len(first) > 10_000, name
        assert first == second, f"{name} {key}: the PDFs differ"
        assert b"/CreationDate" not in first and b"/ModDate" not in first, name
        compared.append(name)
    assert {"summary", "budget", "group", "member", "statement", "finance"} <= set(compared), compared
