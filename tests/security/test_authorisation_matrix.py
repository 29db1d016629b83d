"""Every route × every role × own / other object: who gets the page, who is refused, and that refusals are logged.

``ENDPOINTS`` classifies each endpoint of the application. A new route that is not classified here makes
``test_every_route_is_classified`` fail: add one line for it (the kinds of object are listed in ``targets``).

Roles tried on every route: anonymous, admin, the coordinators of 長野県 (pref20, who owns the world's 長野県
objects) and of 新潟県 (pref15, for whom they are another prefecture's), municipality staff of 長野市 (muni202011)
and of 松本市 (muni202029, for whom 長野市's objects are another body's).

Expected answers:
- anonymous on anything not public: a redirect to the login page (pages) or 401 (the JSON API);
- a role that may not use the page at all: 403;
- an object the user may not see (another prefecture's scenario or plan, another body's need, group, notice,
  PDF or API record): 403 or 404, and an audit entry ``forbidden`` naming the path;
- otherwise the page (2xx or a redirect that is not to the login page); a form sent empty may answer 400/409/422.
No request may answer 500, and no page for a user may show the name of another prefecture's scenario.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from flask import url_for
from sqlmodel import Session, select

from planner.db.models import AuditLog, MemberAnswer, Need, PlanRelease, Scenario, ScenarioQuote
from tests.security.conftest import World, forbidden_count, last_forbidden, login

ALL = ("admin", "prefecture", "municipality")
PLANNERS = ("admin", "prefecture")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}

# username -> role (None: not logged in)
USERS = {
    "anonymous": None,
    "admin": "admin",
    "pref20": "prefecture",
    "pref15": "prefecture",
    "muni202011": "municipality",
    "muni202029": "municipality",
}
PREFECTURE_OF = {"pref20": "20", "pref15": "15", "muni202011": "20", "muni202029": "20"}
BODY_OF = {"muni202011": "202011", "muni202029": "202029"}


@dataclass(frozen=True)
class Rule:
    """How an endpoint is protected.

    access: "public" (anyone), "login" (any signed-in role in ``roles``), or "object" (also scoped to the
    object named by the URL: ``obj`` is one of the kinds in :func:`targets`).
    """

    access: str
    roles: tuple[str, ...] = ALL
    obj: str | None = None
    api: bool = False  # JSON API: 401 instead of a login redirect
    params: dict = field(default_factory=dict)  # fixed URL values (for example a file format)


def public(**kw) -> Rule:
    return Rule("public", **kw)


def signed_in(roles=ALL, **kw) -> Rule:
    return Rule("login", tuple(roles), **kw)


def scoped(obj: str, roles=ALL, **kw) -> Rule:
    return Rule("object", tuple(roles), obj=obj, **kw)


ENDPOINTS: dict[str, Rule] = {
    "static": public(params={"filename": "css/app.css"}),
    "auth.root": public(),
    "auth.login": public(),
    "auth.logout": public(),
    "auth.signup": public(),  # sets a password with a one-time code: for people not signed in yet
    "home.index": signed_in(),
    # needs (D1): municipality staff their body's, coordinators their prefecture's, admins all
    "needs.index": signed_in(),
    "needs.new": signed_in(),
    "needs.edit": scoped("need"),
    "needs.withdraw": scoped("need"),
    "needs.restore": scoped("need"),
    "needs.estimate": scoped("estimate"),
    "needs.export": signed_in(params={"fmt": "csv"}),
    "needs.import_upload": signed_in(),
    "needs.import_confirm": signed_in(),
    "needs.import_template": signed_in(),
    # bodies (D3): coordinators their prefecture's bodies, admins all; municipality staff none
    "bodies.index": signed_in(PLANNERS),
    "bodies.show": scoped("body", PLANNERS),
    "bodies.update_flags": scoped("body", PLANNERS),
    "bodies.update_staff_cost": scoped("body", PLANNERS),  # 職員の時間単価 (導入効果の人件費換算)
    "bodies.export_csv": signed_in(PLANNERS),
    "bodies.import_flags_page": signed_in(PLANNERS),
    "bodies.import_flags_confirm": signed_in(PLANNERS),
    # scenarios: coordinators their prefecture's, admins all; municipality staff none
    "scenarios.index": signed_in(PLANNERS),
    "scenarios.new": signed_in(PLANNERS),
    "scenarios.show": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.edit": scoped("scenario", PLANNERS),
    "scenarios.run": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.cancel": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.copy": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.delete": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.add_override": scoped("scenario"),  # and a consortium's lead its own (test_partnerships_web)
    "scenarios.remove_override": scoped("scenario", params={"item_id": "no-such-item"}),
    # plans: whole plans for the prefecture's coordinators and admins, a body's own view for its staff
    "plans.index": signed_in(),
    "plans.show": scoped("plan"),
    "plans.body": scoped("plan_body"),
    "plans.group": scoped("plan_group"),
    "plans.compare": scoped("compare", PLANNERS),
    "plans.override": scoped("whole_plan", PLANNERS),
    # documents
    "reports.plan_zip": scoped("plan"),
    "reports.group_document": scoped("plan_group"),
    "reports.member_document": scoped("member"),
    "reports.summary_document": scoped("whole_plan"),
    "reports.statement_document": scoped("plan_body"),
    "reports.finance_document": scoped("plan_body"),
    "reports.budget_document": scoped("whole_plan"),
    "reports.agreement_document": scoped("plan_lead_group"),
    "reports.memorandum_document": scoped("plan_unified_group"),
    "reports.bundle_progress": scoped("plan"),
    "reports.bundle_restart": scoped("plan"),
    "reports.document_settings_page": scoped("prefecture", PLANNERS),
    # administration (D3): administrators only; the audit log also for coordinators (their prefecture's entries)
    "admin.index": signed_in(("admin",)),
    "admin.audit_log": signed_in(PLANNERS),
    "admin.data": signed_in(("admin",)),
    "admin.price_books": signed_in(("admin",)),
    "admin.price_book": scoped("price_book", ("admin",)),
    "admin.price_book_edit": scoped("price_book", ("admin",)),
    "admin.price_book_current": scoped("price_book", ("admin",)),
    "admin.rule_sets": signed_in(("admin",)),
    "admin.effect_models_page": signed_in(("admin",)),
    "admin.effect_model": signed_in(("admin",), params={"model_id": 1}),
    "admin.effect_model_edit": signed_in(("admin",), params={"model_id": 1}),
    "admin.effect_model_current": signed_in(("admin",), params={"model_id": 1}),
    "admin.rule_set": scoped("rule_set", ("admin",)),
    "admin.rule_set_edit": scoped("rule_set", ("admin",)),
    "admin.rule_set_current": scoped("rule_set", ("admin",)),
    "admin.rule_set_export": scoped("rule_set", ("admin",)),
    "admin.rule_set_import": signed_in(("admin",)),
    "admin.users": signed_in(("admin",)),
    "admin.user_new": signed_in(("admin",)),
    "admin.user_edit": scoped("user", ("admin",)),
    "admin.user_active": scoped("user", ("admin",)),
    "admin.user_password": scoped("user", ("admin",)),
    "admin.user_signup_code": scoped("user", ("admin",)),
    "admin.users_import": signed_in(("admin",)),
    "admin.users_import_template": signed_in(("admin",)),
    "admin.users_import_confirm": signed_in(("admin",)),
    # JSON API
    "api.plans": signed_in(api=True),
    "api.plan": scoped("plan", api=True),
    "api.plan_group": scoped("plan_group", api=True),
    "api.scenario_status": scoped("scenario", api=True),
    # plan lifecycle (#14): coordinators adopt, publish, see the answers, remind and re-plan; the member bodies of
    # a published plan answer for their own needs; drafts (試算) are never a municipality's
    "lifecycle.adopt": scoped("draft_plan"),
    "lifecycle.publish": scoped("adopted_plan"),
    "lifecycle.deadline": scoped("published_plan"),
    "lifecycle.board": scoped("published_plan"),
    "lifecycle.remind": scoped("published_plan"),
    "lifecycle.replan": scoped("published_plan"),
    "lifecycle.withdraw": scoped("published_plan"),
    "lifecycle.pending_csv": scoped("published_plan"),
    "lifecycle.signup_code": scoped("published_plan"),
    "lifecycle.answer": scoped("answer_plan", ("municipality",)),
    # lead-run consortia: the lead's staff run one, invitees answer, the lead's prefecture reads (#29)
    "partnerships.index": signed_in(),
    "partnerships.new": signed_in(("municipality",)),
    "partnerships.show": scoped("partnership"),
    "partnerships.invite": scoped("partnership_lead"),
    "partnerships.new_scenario": scoped("partnership_lead"),
    "partnerships.answer": scoped("partnership_invitee"),
    # stages after the answers of a published plan's group: the group's readers see the page and may post (the
    # service decides per action who records what: its lead's staff and who runs the plan, a member its own budget)
    "stages.page": scoped("published_group"),
    "stages.act": scoped("published_group", params={"name": "budget"}),
    # the lead's 請求書: who runs the stages and the payer's staff; a 確定負担額通知: who runs them and the member's
    "stages.invoice": scoped("stage_invoice"),
    "stages.confirmed_notice": scoped("stage_notice"),
    # vendor quotes of a scenario: who sees the scenario (its prefecture's coordinators, admins, a consortium's lead);
    # changed only by who runs it
    "quotes.index": scoped("scenario"),
    "quotes.edit": scoped("quote"),
    "quotes.delete": scoped("quote"),
}


@dataclass
class Target:
    """An object named by a URL, with the users who may see it."""

    label: str
    values: dict
    allowed: set[str]
    scratch: Callable[[], dict] | None = None  # fresh values for a state-changing request that will succeed


def _viewers(prefecture: str, bodies: set[str] = frozenset()) -> set[str]:
    """admin, the prefecture's coordinator and the staff of the given bodies."""
    out = {"admin"} | {u for u, p in PREFECTURE_OF.items() if u.startswith("pref") and p == prefecture}
    return out | {u for u, b in BODY_OF.items() if b in bodies}


def _scratch_need(world: World, body: str) -> Callable[[], dict]:
    def make() -> dict:
        with Session(world.engine) as session:
            # One active need per body and category (the database's unique index): the previous scratch need of
            # this body is withdrawn first.
            for old in session.exec(
                select(Need).where(Need.body_code == body, Need.category_id == "chatbot", Need.status == "active")
            ):
                old.status, old.version = "withdrawn", old.version + 1
                session.add(old)
            session.flush()
            need = Need(body_code=body, category_id="chatbot", volume=1.0, start_year=2027)
            session.add(need)
            session.commit()
            return {"need_id": need.id}

    return make


def _scratch_user(world: World) -> int:
    import uuid

    from planner.services.users import create_user

    with Session(world.engine) as session:
        user = create_user(
            session, f"scratch-{uuid.uuid4().hex[:8]}", "password-123", "municipality", body_code="204820"
        )
        session.commit()
        return user.id


def _scratch_plan(world: World, prefecture: str, *, adopt: bool = False) -> dict:
    """A copy of the prefecture's plan as a new draft of its scenario (adopted too when asked), for requests that
    will succeed in changing a plan's state."""
    from planner.db.models import Plan as PlanRow
    from planner.db.models import User
    from planner.services import plan_lifecycle

    with Session(world.engine) as session:
        source = session.get(PlanRow, world.plans[prefecture])
        copy = PlanRow(
            **{
                k: getattr(source, k)
                for k in (
                    "scenario_id",
                    "status",
                    "objective_yen",
                    "lower_bound_yen",
                    "gap",
                    "standalone_total_yen",
                    "solve_seconds",
                    "price_book_version",
                    "rule_version",
                    "instance_doc",
                    "plan_doc",
                )
            }
        )
        session.add(copy)
        session.flush()
        if adopt:
            user = session.get(User, world.users[f"pref{prefecture}"])
            scenario = session.get(Scenario, copy.scenario_id)
            plan_lifecycle.adopt(session, user, copy, scenario, confirm_rule_year=True)
        session.commit()
        return {"plan_id": copy.id}


def _scratch_quote(world: World, prefecture: str) -> dict:
    from planner.db.models import ScenarioQuote

    scenario_id = world.scratch_scenario(prefecture)
    with Session(world.engine) as session:
        session.add(
            ScenarioQuote(
                scenario_id=scenario_id,
                category_id="ocr",
                mode="lead",
                vendor="試験用事業者",
                lines=[[0, 1]],
                max_members=10,
            )
        )
        session.commit()
    return {"scenario_id": scenario_id, "category_id": "ocr", "mode": "lead"}


def _stages(world: World) -> tuple[int, str, str, int, str, str]:
    """A contract and the first year's bills on the 長野県 plan's lead-mode group (made on first use): (plan, group,
    lead body, an invoice id, its payer body, the payer's need id)."""
    from datetime import date

    from planner.db.models import Invoice, User
    from planner.domain.contract_settlement import group_fiscal_years
    from planner.services import plan_stages

    p20 = world.plans["20"]
    with Session(world.engine) as session:
        user = session.get(User, world.users["pref20"])
        group_id = next(gid for (pid, gid), mode in sorted(world.group_modes.items()) if pid == p20 and mode == "lead")
        ctx = plan_stages.group_context(session, user, p20, group_id)
        bill = session.exec(select(Invoice).where(Invoice.group_key == group_id)).first()
        if bill is None:
            years = group_fiscal_years(ctx.instance, ctx.group)
            amounts = dict.fromkeys(years, 1_000_000)
            plan_stages.record_contract(session, user, ctx, date(2026, 4, 1), "権限表の事業者", amounts)
            session.commit()
            ctx = plan_stages.group_context(session, user, p20, group_id)
            bill = plan_stages.issue_bills(session, user, ctx, years[0], date(2026, 5, 1), None)[0]
            session.commit()
        return p20, group_id, ctx.group.lead_body, bill.id, bill.payer_body, bill.need_key


def _partnership(world: World) -> int:
    """The world's consortium (made on first use): 松本市 leads it, 長野市 is invited and has not answered."""
    from planner.db.models import Partnership, User
    from planner.services import partnerships

    with Session(world.engine) as session:
        found = session.exec(select(Partnership.id).where(Partnership.name == "権限表の協議会")).first()
        if found is not None:
            return found
        lead = session.get(User, world.users["muni202029"])
        row = partnerships.create(session, lead, name="権限表の協議会", kind="council", category_id="rpa")
        partnerships.invite(session, lead, row, ["202011"])
        session.commit()
        return row.id


def targets(world: World, kind: str) -> list[Target]:
    if kind.startswith("partnership"):
        allowed = {
            "partnership": {"admin", "pref20", "muni202029", "muni202011"},
            "partnership_lead": {"admin", "muni202029"},
            "partnership_invitee": {"muni202011"},
        }[kind]
        return [Target("松本市's consortium", {"partnership_id": _partnership(world)}, allowed)]
    p20, p15 = world.plans["20"], world.plans["15"]
    plan20_bodies = {"202011", "202029", "204820"}
    if kind == "scenario":
        return [
            Target(
                f"{pref} scenario",
                {"scenario_id": sid},
                _viewers(pref),
                scratch=lambda pref=pref: {"scenario_id": world.scratch_scenario(pref)},
            )
            for pref, sid in world.scenarios.items()
        ]
    d20 = world.drafts["20"]
    if kind == "plan":
        return [
            Target("長野県 plan", {"plan_id": p20}, _viewers("20", plan20_bodies)),
            Target("新潟県 plan", {"plan_id": p15}, _viewers("15", {"151009"})),
            Target("長野県 draft", {"plan_id": d20}, _viewers("20")),
        ]  # members see published plans only
    if kind == "whole_plan":
        return [
            Target("長野県 plan", {"plan_id": p20}, _viewers("20")),
            Target("新潟県 plan", {"plan_id": p15}, _viewers("15")),
            Target("長野県 draft", {"plan_id": d20}, _viewers("20")),
        ]
    if kind == "plan_body":
        return [
            Target("長野市 in 長野県 plan", {"plan_id": p20, "code": "202011"}, _viewers("20", {"202011"})),
            Target("松本市 in 長野県 plan", {"plan_id": p20, "code": "202029"}, _viewers("20", {"202029"})),
            Target("新潟市 in 新潟県 plan", {"plan_id": p15, "code": "151009"}, _viewers("15", {"151009"})),
            Target("長野市 in 長野県 draft", {"plan_id": d20, "code": "202011"}, _viewers("20")),
        ]
    if kind == "draft_plan":
        return [
            Target("長野県 draft", {"plan_id": d20}, _viewers("20"), scratch=lambda: _scratch_plan(world, "20")),
            Target("新潟県 plan", {"plan_id": p15}, _viewers("15"), scratch=lambda: _scratch_plan(world, "15")),
        ]
    if kind == "adopted_plan":
        return [
            Target(
                f"{pref} adopted plan",
                {"plan_id": plan_id},
                _viewers(pref),
                scratch=lambda pref=pref: _scratch_plan(world, pref, adopt=True),
            )
            for pref, plan_id in (("20", p20), ("15", p15))
        ]
    if kind == "published_plan":
        return [
            Target("長野県 published plan", {"plan_id": p20}, _viewers("20")),
            Target("新潟県 published plan", {"plan_id": p15}, _viewers("15")),
        ]
    if kind == "answer_plan":
        return [
            Target("長野県 published plan", {"plan_id": p20}, {"muni202011", "muni202029"}),
            Target("新潟県 published plan", {"plan_id": p15}, set()),
            Target("長野県 draft", {"plan_id": d20}, set()),
        ]
    if kind == "quote":
        return [
            Target(
                f"{pref} scenario's AI-OCR lead quote",
                {"scenario_id": sid, "category_id": "ocr", "mode": "lead"},
                _viewers(pref),
                scratch=lambda pref=pref: _scratch_quote(world, pref),
            )
            for pref, sid in world.scenarios.items()
        ]
    if kind == "published_group":
        out = []
        for label, (plan_id, group_id, bodies) in sorted(world.groups.items()):
            pref = "20" if plan_id == p20 else "15"
            out.append(Target(f"group {label}", {"plan_id": plan_id, "group_id": group_id}, _viewers(pref, bodies)))
        return out
    if kind in ("stage_invoice", "stage_notice"):
        plan_id, group_id, lead, invoice_id, payer, need_id = _stages(world)
        runners = {"admin", "pref20"} | {u for u, b in BODY_OF.items() if b == lead}
        if kind == "stage_invoice":
            payers = {u for u, b in BODY_OF.items() if b == payer}
            return [
                Target(
                    f"invoice to {payer}",
                    {"plan_id": plan_id, "group_id": group_id, "invoice_id": invoice_id},
                    runners | payers,
                )
            ]
        return [
            Target(
                f"確定負担額通知 of {payer}",
                {"plan_id": plan_id, "group_id": group_id, "need_id": need_id},
                runners | {u for u, b in BODY_OF.items() if b == payer},
            )
        ]
    if kind == "plan_group":
        out = []
        for label, (plan_id, group_id, bodies) in sorted(world.groups.items()):
            pref = "20" if plan_id == p20 else "15"
            out.append(Target(f"group {label}", {"plan_id": plan_id, "group_id": group_id}, _viewers(pref, bodies)))
        for label, (plan_id, group_id, _bodies) in sorted(world.draft_groups.items()):
            out.append(Target(f"group {label}", {"plan_id": plan_id, "group_id": group_id}, _viewers("20")))
        return out
    if kind in ("plan_lead_group", "plan_unified_group"):
        # the group's agreement draft exists for groups of its mode only (a 協定書 or a 覚書), the others are 404
        mode = kind.split("_")[1]
        of_mode = [
            t
            for t in targets(world, "plan_group")
            if world.group_modes[t.values["plan_id"], t.values["group_id"]] == mode
        ]
        # The stand-in solver (tests/support/plans.py) forms lead-mode groups only, so the 覚書's URL has no group
        # here: who may get a 仕様統一 group's 覚書 is tried in tests/web/test_reports_web.py (a member 200, another
        # prefecture 404, and the 協定書 URL of that group 404 for everyone).
        return of_mode
    if kind == "member":
        out = []
        for body, (plan_id, need_id, _) in sorted(world.member_needs.items()):
            pref = "20" if plan_id == p20 else "15"
            out.append(Target(f"notice of {body}", {"plan_id": plan_id, "need_id": need_id}, _viewers(pref, {body})))
        for body, (plan_id, need_id, _) in sorted(world.draft_needs.items()):
            out.append(Target(f"draft notice of {body}", {"plan_id": plan_id, "need_id": need_id}, _viewers("20")))
        return out
    if kind == "prefecture":
        return [
            Target("長野県", {"prefecture_code": "20"}, _viewers("20")),
            Target("新潟県", {"prefecture_code": "15"}, _viewers("15")),
        ]
    if kind == "compare":
        return [
            Target("two 長野県 plans", {"a": p20, "b": p20}, _viewers("20")),
            Target("長野県 and 新潟県 plans", {"a": p20, "b": p15}, {"admin"}),
        ]
    if kind == "need":
        return [
            Target(
                "長野市's need",
                {"need_id": world.needs["202011"]},
                _viewers("20", {"202011"}),
                scratch=_scratch_need(world, "202011"),
            ),
            Target(
                "新潟市's need",
                {"need_id": world.needs["151009"]},
                _viewers("15", {"151009"}),
                scratch=_scratch_need(world, "151009"),
            ),
        ]
    if kind == "estimate":
        return [
            Target(f"estimate for {body}", {"body": body, "category": "ocr", "volume": "10"}, _viewers(pref, {body}))
            for body, pref in (("202011", "20"), ("202029", "20"), ("151009", "15"))
        ]
    if kind == "body":
        return [
            Target(f"body {body}", {"code": body}, _viewers(pref, {body}))
            for body, pref in (("202011", "20"), ("151009", "15"))
        ]
    if kind in ("price_book", "rule_set"):
        from planner.db.models import PriceBook, SubsidyRuleSet

        model, key = (PriceBook, "book_id") if kind == "price_book" else (SubsidyRuleSet, "rule_set_id")
        with Session(world.engine) as session:
            row = session.exec(select(model).where(model.is_current == True)).first()  # noqa: E712
        return [Target(f"current {kind}", {key: row.id}, {"admin"})]
    if kind == "user":
        return [
            Target(
                "松本市's user",
                {"user_id": world.users["muni202029"]},
                {"admin"},
                scratch=lambda: {"user_id": _scratch_user(world)},
            )
        ]
    raise AssertionError(f"no targets for object kind {kind!r}: add them to targets()")


# --- the tests ---------------------------------------------------------------------------------------------------


def test_every_route_is_classified(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    missing = sorted(endpoints - set(ENDPOINTS))
    assert not missing, (
        "routes without an authorisation rule (add them to ENDPOINTS in "
        f"tests/security/test_authorisation_matrix.py): {missing}"
    )


def _methods(app, endpoint: str) -> list[tuple[str, object]]:
    out = []
    for rule in app.url_map.iter_rules(endpoint):
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            out.append((method, rule))
    return out


def _url(app, endpoint: str, rule, values: dict, ext: str | None = None) -> str:
    values = dict(values)
    spec = ENDPOINTS[endpoint]
    for name, value in spec.params.items():
        values.setdefault(name, value)
    if "ext" in rule.arguments:
        values["ext"] = ext or "pdf"
    missing = rule.arguments - set(values)
    assert not missing, f"{endpoint}: no value for URL parts {sorted(missing)} (extend targets() or params)"
    with app.test_request_context():
        return url_for(endpoint, **values)


def _formats(rule) -> tuple[str, ...]:
    """The file types a document's URL answers (pdf and xlsx, or pdf and docx for the agreement drafts)."""
    found = re.search(r"<any\(([^)]*)\):ext>", rule.rule)
    return tuple(ext.strip() for ext in found.group(1).split(",")) if found else ("pdf",)


def _cases(app, endpoint: str):
    """(method, url, target or None) for every method, target and (for documents) file type."""
    world = app.extensions["security_world"]
    spec = ENDPOINTS[endpoint]
    for method, rule in _methods(app, endpoint):
        exts = _formats(rule) if "ext" in rule.arguments else (None,)
        for ext in exts:
            if spec.obj is None:
                yield method, rule, ext, None
            else:
                for target in targets(world, spec.obj):
                    yield method, rule, ext, target


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "/login" in response.headers.get("Location", "")


@pytest.fixture
def matrix_app(world, monkeypatch):
    # The matrix checks who may start a solve, not the solve itself (tests/web/test_jobs.py covers that).
    import planner.jobs

    monkeypatch.setattr(planner.jobs, "submit_solve", lambda *a, **k: "not-started")
    # Likewise who may have a plan's ZIP built, not the build (tests/web/test_reports_web.py covers that).
    import planner.jobs.documents

    monkeypatch.setattr(planner.jobs.documents, "start", lambda *a, **k: {"status": "queued"})
    world.app.extensions["security_world"] = world
    return world.app


@pytest.mark.parametrize("user", list(USERS))
@pytest.mark.parametrize("endpoint", sorted(ENDPOINTS))
def test_route_answers_each_role_as_classified(matrix_app, endpoint, user):
    app = matrix_app
    world: World = app.extensions["security_world"]
    spec = ENDPOINTS[endpoint]
    client = app.test_client()
    role = USERS[user]
    if role is not None:
        login(client, user)
    problems = []
    for method, rule, ext, target in _cases(app, endpoint):
        values = dict(target.values) if target else {}
        allowed_object = target is None or user in target.allowed
        allowed = spec.access == "public" or (role is not None and role in spec.roles and allowed_object)
        if method in STATE_CHANGING and allowed and target is not None and target.scratch is not None:
            values = target.scratch()  # the request will succeed: let it change a scratch object
        url = _url(app, endpoint, rule, values, ext)
        what = f"{user} {method} {url} ({target.label if target else 'no object'})"
        before = forbidden_count(world.engine)
        snapshot = _state(world) if method in STATE_CHANGING else None
        response = client.open(url, method=method)
        status = response.status_code
        if status >= 500:
            problems.append(f"{what}: {status}")
            continue
        if spec.access == "public":
            if status in (401, 403, 404):
                problems.append(f"{what}: public page answered {status}")
        elif role is None:
            if spec.api:
                if status != 401:
                    problems.append(f"{what}: anonymous API call answered {status}, expected 401")
            elif not _is_login_redirect(response):
                problems.append(f"{what}: anonymous answered {status}, expected a redirect to the login page")
        elif not allowed:
            if status not in (403, 404):
                problems.append(f"{what}: answered {status}, expected 403 or 404")
            elif forbidden_count(world.engine) != before + 1:
                problems.append(f"{what}: refused with {status} but not logged as 'forbidden' in the audit log")
            else:
                entry = last_forbidden(world.engine)
                if entry.user_id != world.users[user] or (
                    url.split("?")[0][:60] not in f"{entry.entity_id} {entry.detail}"
                ):
                    problems.append(f"{what}: the audit entry does not name the user and path: {entry}")
            if snapshot is not None and _state(world) != snapshot:
                problems.append(f"{what}: a refused request changed the database")
        else:
            if status in (401, 403, 404) or _is_login_redirect(response):
                problems.append(f"{what}: answered {status} to a user who may use it")
            elif method not in STATE_CHANGING and status not in (200, 302, 303):
                problems.append(f"{what}: answered {status}")
            elif forbidden_count(world.engine) != before:
                problems.append(f"{what}: an allowed request was logged as forbidden")
        if role is not None and status == 200 and _is_text(response):
            problems += _leaks(world, user, what, response.get_data(as_text=True))
    assert not problems, "\n".join(problems)


def _is_text(response) -> bool:
    return response.mimetype in ("text/html", "application/json", "text/csv", "text/plain")


def _leaks(world: World, user: str, what: str, text: str) -> list[str]:
    own = PREFECTURE_OF.get(user)
    if own is None:  # admin sees everything
        return []
    return [
        f"{what}: shows another prefecture's scenario name {name!r}"
        for pref, name in world.names.items()
        if pref != own and name in text
    ]


def _state(world: World) -> tuple:
    """The rows a refused request must leave alone."""
    with Session(world.engine) as session:
        scenarios = tuple(
            (s.id, s.version, s.status, s.name) for s in session.exec(select(Scenario).order_by(Scenario.id))
        )
        needs = tuple((n.id, n.version, n.status) for n in session.exec(select(Need).order_by(Need.id)))
        releases = tuple(
            (r.id, r.state, r.lock_version, r.reply_deadline)
            for r in session.exec(select(PlanRelease).order_by(PlanRelease.id))
        )
        answers = tuple(
            (a.id, a.answer, a.lock_version) for a in session.exec(select(MemberAnswer).order_by(MemberAnswer.id))
        )
        quotes = tuple((q.id, q.lock_version) for q in session.exec(select(ScenarioQuote).order_by(ScenarioQuote.id)))
        reminders = session.exec(select(AuditLog.id).where(AuditLog.action == "remind")).all()
    return scenarios, needs, releases, answers, quotes, tuple(reminders)


def test_a_refused_object_is_logged_with_the_user_and_reason(matrix_app, client):
    """Spot check of the audit entry's content: who, what path, and why."""
    world: World = matrix_app.extensions["security_world"]
    login(client, "pref15")
    response = client.get(f"/plans/{world.plans['20']}/reports/summary.pdf")
    assert response.status_code in (403, 404)
    entry = last_forbidden(world.engine)
    assert entry.user_id == world.users["pref15"] and entry.prefecture_code == "15"
    assert f"/plans/{world.plans['20']}/reports/summary.pdf" in entry.detail + entry.entity_id
    # Report URLs answer a refused document exactly like a missing one (no id oracle, issue #13); the log says which.
    assert "ページが見つかりません" in response.get_data(as_text=True)
