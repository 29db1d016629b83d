"""Support for the planning tests (no tests here): seed needs, run the solve job, stand-ins for the optimiser.

The stand-ins replace the real optimiser and settlement where a test wants the same small plan every time, or
behaviour the real ones must not be relied on for (a solver that runs until cancelled, one that fails). The real
job path is exercised in test_jobs.py.
"""

from __future__ import annotations

import time
import uuid

from sqlmodel import Session, select

from planner.db.models import Body, Consortium, MemberShare, Need, Scenario, SubsidyEstimate, utcnow
from planner.db.models import Plan as PlanRow
from planner.domain.costs import group_cost, group_violations, standalone_cost
from planner.domain.plan import Plan, PlanGroup

# Needs for the seed's Nagano bodies (長野市, 松本市, 小谷村; 長野市 has no 生成AI need) and one in Niigata (新潟市).
NEEDS = [
    ("202011", "ocr", 120.0, 2026, True, True, True),
    ("202029", "ocr", 80.0, 2026, True, True, False),
    ("204820", "ocr", 5.0, 2026, True, True, False),
    ("202011", "rpa", 30.0, 2026, True, True, True),
    ("202029", "rpa", 20.0, 2026, True, False, False),
    ("204820", "rpa", 2.0, 2026, True, True, False),
    ("202029", "genai", 400.0, 2026, True, True, True),
    ("204820", "genai", 20.0, 2026, True, True, False),
    ("151009", "ocr", 150.0, 2026, True, True, True),
]


# The job tests' bodies (tests/web/conftest.py's ``db`` gives them data plans and 小谷村 条件不利 status).
JOB_BODIES = [
    ("200000", "長野県", "20", "prefecture", 36.2, 138.0, 2_000_000),
    ("202011", "長野市", "20", "city", 36.65, 138.18, 370_000),
    ("202029", "松本市", "20", "city", 36.24, 137.97, 237_000),
    ("204820", "小谷村", "20", "village", 36.78, 137.91, 2_700),
    ("150002", "新潟県", "15", "prefecture", 37.6, 138.9, 2_150_000),
    ("151009", "新潟市", "15", "designated_city", 37.92, 139.04, 780_000),
]


def add_plan_rows(
    session: Session,
    scenario_id: int,
    *,
    yen: int,
    standalone_yen: int,
    lower_bound_yen: int | None = None,
    subsidy_yen: int | None = None,
) -> PlanRow:
    """A stored plan of one group (長野市 leading AI-OCR) with one member share and its subsidy estimate, every amount
    ``yen`` (``standalone_yen`` going alone); the subsidy amounts are ``subsidy_yen``, or the model's defaults."""
    plan = PlanRow(
        scenario_id=scenario_id,
        status="optimal",
        objective_yen=yen,
        lower_bound_yen=yen if lower_bound_yen is None else lower_bound_yen,
        gap=0,
        standalone_total_yen=standalone_yen,
        solve_seconds=0.1,
    )
    session.add(plan)
    session.flush()
    amounts = {"initial_yen": yen, "annual_yen": yen, "total_yen": yen, "standalone_total_yen": standalone_yen}
    group = Consortium(
        plan_id=plan.id,
        group_key="g1",
        category_id="ocr",
        start_year=2026,
        mode="lead",
        lead_body_code="202011",
        **amounts,
    )
    session.add(group)
    session.flush()
    share = MemberShare(consortium_id=group.id, need_key="n1", body_code="202011", **amounts)
    session.add(share)
    session.flush()
    subsidy = (
        {}
        if subsidy_yen is None
        else dict.fromkeys(("grant_yen", "special_tax_yen", "net_yen", "standalone_net_yen"), subsidy_yen)
    )
    session.add(SubsidyEstimate(member_share_id=share.id, **subsidy))
    session.flush()
    return plan


def add_needs(engine, rows=NEEDS) -> dict[tuple[str, str], int]:
    ids = {}
    with Session(engine) as session:
        for body, cat, volume, year, lead, unified, can_lead in rows:
            need = Need(
                body_code=body,
                category_id=cat,
                volume=volume,
                start_year=year,
                accepts_lead=lead,
                accepts_unified=unified,
                can_lead=can_lead,
            )
            session.add(need)
            session.flush()
            ids[(body, cat)] = need.id
        session.commit()
    return ids


def jobs_database(engine):
    """The bodies of ``JOB_BODIES`` (小谷村 in a 条件不利地域), the reference price book and the needs: a database to
    solve in, without the web layer."""
    from planner.services.reference_data import load_price_book_file

    with Session(engine) as session:
        for code, name, pref, kind, lat, lng, pop in JOB_BODIES:
            session.add(
                Body(
                    code=code,
                    name=name,
                    prefecture_code=pref,
                    kind=kind,
                    lat=lat,
                    lng=lng,
                    population=pop,
                    has_data_plan=True,
                    disadvantaged=code == "204820",
                )
            )
        session.commit()
        load_price_book_file(session)
        session.commit()
    add_needs(engine)
    return engine


def make_scenario(engine, *, prefecture="20", name="長野県 共同調達 令和8年度", **values) -> int:
    with Session(engine) as session:
        pref_body = session.exec(
            select(Body).where(Body.kind == "prefecture", Body.prefecture_code == prefecture)
        ).first()
        values.setdefault("hosts", [{"body": pref_body.code, "categories": []}] if pref_body else [])
        values.setdefault("allocation_method", "equal")
        scenario = Scenario(name=name, prefecture_code=prefecture, time_limit_seconds=20, **values)
        session.add(scenario)
        session.commit()
        return scenario.id


def wait_for(engine, scenario_id: int, statuses, timeout: float = 60.0) -> Scenario:
    deadline = time.monotonic() + timeout
    while True:
        with Session(engine) as session:
            scenario = session.get(Scenario, scenario_id)
            if scenario.status in statuses:
                return scenario
        if time.monotonic() > deadline:
            raise AssertionError(f"scenario {scenario_id} stayed {scenario.status}: {scenario.log}")
        time.sleep(0.1)


def solve_now(engine, scenario_id: int) -> int:
    """Run the solve job synchronously (as the worker would) and return the new plan's id."""
    from planner.jobs.runner import run_solve

    job_id = uuid.uuid4().hex
    with Session(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        scenario.status, scenario.job_id = "queued", job_id
        scenario.progress = {"runner": "thread", "queued_at": utcnow().isoformat()}
        session.add(scenario)
        session.commit()
    status = run_solve(engine, scenario_id, job_id)
    with Session(engine) as session:
        scenario = session.get(Scenario, scenario_id)
        assert status == "done", scenario.log
        row = session.exec(
            select(PlanRow).where(PlanRow.scenario_id == scenario_id).order_by(PlanRow.id.desc())
        ).first()
        return row.id


# --- stand-ins (tests only) -----------------------------------------------------------------------------------------


def standin_optimise(instance, *, time_limit=None, gap=0.0, progress=None, solver="auto", cancel=None):
    """One lead-mode group per category and start year where that is feasible and saves money, else standalone."""
    started = time.monotonic()
    keys = sorted({(n.category, n.start_year) for n in instance.needs})
    all_ids = [n.id for n in instance.needs]
    groups = []
    for i, (cat, year) in enumerate(keys):
        needs = [n for n in instance.needs if n.category == cat and n.start_year == year]
        joint = [n for n in needs if "lead" in n.modes]
        leads = instance.hosts_of(cat) + [n.body for n in joint if n.can_lead]
        chosen = None
        for lead in leads:
            if len(joint) >= 2 and not group_violations(instance, joint, "lead", lead, all_need_ids=all_ids):
                cost = group_cost(instance, joint, "lead", lead)
                alone = sum(standalone_cost(instance, n).total_yen for n in joint)
                if cost.total_yen < alone:
                    chosen = (joint, lead, cost, alone)
                    break
        placed = set()
        if chosen:
            members, lead, cost, alone = chosen
            groups.append(
                PlanGroup(
                    f"{cat}-{year}-{len(groups) + 1:03d}", cat, year, "lead", lead, [n.id for n in members], cost, alone
                )
            )
            placed = {n.id for n in members}
        for n in needs:
            if n.id not in placed:
                cost = standalone_cost(instance, n)
                groups.append(
                    PlanGroup(
                        f"{cat}-{year}-{len(groups) + 1:03d}",
                        cat,
                        year,
                        "standalone",
                        n.body,
                        [n.id],
                        cost,
                        cost.total_yen,
                    )
                )
        if progress:
            objective = sum(g.cost.total_yen for g in groups)
            progress(
                {
                    "done": i + 1,
                    "total": len(keys),
                    "incumbent_yen": objective,
                    "bound_yen": objective,
                    "gap": 0.0,
                    "elapsed": time.monotonic() - started,
                }
            )
    objective = sum(g.cost.total_yen for g in groups)
    standalone = {n.id: standalone_cost(instance, n).total_yen for n in instance.needs}
    return Plan(
        instance.name,
        "optimal",
        objective,
        objective,
        0.0,
        sum(standalone.values()),
        time.monotonic() - started,
        groups,
        standalone,
        {"solver": "test stand-in"},
    )


def standin_settle(instance, plan, rules=None, *, method=None, weights=None, progress=None, core=None):
    """A SettledPlan with every member's share and estimates from tests.reports.plans (均等割, simplified rules)."""
    from planner.domain.settled_plan import SettledGroup, SettledPlan
    from tests.reports.plans import settled_plan

    if progress is not None:
        progress(0, len(plan.groups))

    specs = [(g.id, g.mode, g.lead_body, list(g.members)) for g in plan.groups if g.mode != "standalone"]
    settled = settled_plan(instance, specs)
    by_members = {tuple(g.members): g for g in settled.groups}
    groups = []
    for g in plan.groups:
        s = by_members[tuple(g.members)]
        groups.append(SettledGroup.of(g, s.allocation, s.subsidies))
    if progress is not None:
        progress(len(plan.groups), len(plan.groups))
    return SettledPlan(
        plan.instance,
        plan.status,
        plan.objective_yen,
        plan.lower_bound_yen,
        plan.gap,
        plan.standalone_total_yen,
        plan.solve_seconds,
        tuple(groups),
        dict(plan.need_standalone_yen),
        dict(plan.stats),
    )


def install_standins(monkeypatch, optimise=standin_optimise, settle=standin_settle) -> None:
    """Put stand-in functions in place of the optimiser's and the settlement's (planner.services.solving calls them
    through their modules)."""
    from planner.domain import optimiser, settlement

    monkeypatch.setattr(optimiser, "optimise", optimise)
    monkeypatch.setattr(settlement, "settle_plan", settle)


def publish_now(engine, plan_id: int, *, username: str = "pref20", deadline=None, series_id=None) -> int:
    """Adopt the plan (as the next version of ``series_id``, or a new number) and publish it to its members, as the
    coordinator ``username`` would; returns the release id. Municipality staff see only published plans."""
    from datetime import timedelta

    from planner.db.models import User
    from planner.services import plan_lifecycle

    with Session(engine, expire_on_commit=False) as session:
        user = session.exec(select(User).where(User.username == username)).one()
        row = session.get(PlanRow, plan_id)
        scenario = session.get(Scenario, row.scenario_id)
        release = plan_lifecycle.adopt(session, user, row, scenario, series_id=series_id, confirm_rule_year=True)
        plan_lifecycle.publish(
            session, user, release, deadline=deadline or plan_lifecycle.today_jst() + timedelta(days=14)
        )
        session.commit()
        return release.id


def joint_group_with(view, code):
    """The plan view's consortium that ``code`` is a member of."""
    return next(g for g in view.groups if g.joint and code in g.body_codes)
