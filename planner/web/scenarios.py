"""Scenario pages: list, create, edit, copy, delete, run and cancel the solve job, overrides.

Coordinators work on their own prefecture's scenarios, administrators on all; municipality staff have none.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask import Blueprint, abort, current_app, flash, make_response, redirect, render_template, request, url_for
from flask_login import current_user

from planner import jobs
from planner.db.models import Body, Scenario
from planner.db.models import Plan as PlanRow
from planner.db.rows import id_of
from planner.domain.allocation import method_label
from planner.domain.model import CORE_OPTIONS
from planner.domain.vocabulary import METHOD_LABELS, PLAN_STATUS_LABELS, prefecture_name, wareki_fiscal_year
from planner.services import access, body_admin, transactions
from planner.services import plan_lifecycle as lifecycle
from planner.services import plans as plan_service
from planner.services import scenario_views as views
from planner.services import scenarios as svc
from planner.services.instances import need_scope, needs_by_kind
from planner.web.api import phase_step
from planner.web.db import db_session
from planner.web.forms.planning import ActionForm, OverrideForm, ScenarioForm, split_codes
from planner.web.kept_input import restored_form
from planner.web.params import MAX_PAGE, parse_int
from planner.web.partnerships import partnership_row
from planner.web.security import forbidden, require_submitted, roles_required

bp = Blueprint("scenarios", __name__, url_prefix="/scenarios")

PER_PAGE = 25


# --- helpers --------------------------------------------------------------------------------------------------------


def load_scenario(scenario_id: int) -> Scenario:
    session = db_session()
    scenario = svc.find_scenario(session, scenario_id)
    missing = f"シナリオ {scenario_id} はありません"
    if scenario is None:
        abort(404, description=missing)
    if not access.sees_scenario(current_user, scenario):
        # Answered exactly like a missing id, so that ids cannot be probed for other prefectures' scenarios.
        forbidden(
            f"シナリオ {scenario_id}（都道府県コード {scenario.prefecture_code} のもの）",
            status=404,
            public_description=missing,
        )
    jobs.reap_if_stale(session, current_app.config, scenario)
    return scenario


def _posted_action(scenario_id: int) -> tuple[Any, Scenario, ActionForm]:
    """The checks every button on the scenario page makes before acting: the scenario is there and the user's,
    and the form is fresh (CSRF). Returns the request's session, the scenario and the form (its version field)."""
    scenario = load_scenario(scenario_id)
    require_edits(scenario)
    form = ActionForm()
    require_submitted(form)
    return db_session(), scenario, form


def require_edits(scenario: Scenario) -> None:
    """A scenario the user sees but does not run (a lead-run consortium's, read by the lead's prefecture) is refused
    any change, run or copy: only its lead acts on it (planner.services.access.edits_scenario)."""
    if not access.edits_scenario(current_user, scenario):
        forbidden(
            f"シナリオ {scenario.id}：協議会 {scenario.partnership_id} のシナリオは幹事団体が操作します（閲覧のみ）"
        )


def prefectures(session) -> list[Body]:
    return body_admin.prefectures(session)


def prefecture_body_code(session, prefecture_code: str | None) -> str | None:
    body = body_admin.prefecture_body(session, prefecture_code)
    return body.code if body else None


def fill_choices(form: ScenarioForm, session) -> None:
    prefs = prefectures(session)
    if access.is_admin(current_user):
        form.prefecture_code.choices = [("", "（都道府県を限定しない）")] + [(p.prefecture_code, p.name) for p in prefs]
    else:
        form.prefecture_code.choices = [
            (p.prefecture_code, p.name) for p in prefs if p.prefecture_code == current_user.prefecture_code
        ]
    form.category_ids.choices = [(c.id, c.name) for c in views.categories(session)]
    form.price_book_id.choices = [
        (b.id, f"{b.version}（{b.label}）" + ("・現行" if b.is_current else ""))
        for b in views.price_book_choices(session)
    ]
    form.subsidy_rule_set_id.choices = [(0, "（実行時の現行版）")] + [
        (r.id, f"{r.version}（{r.fiscal_year}年度）" + ("・現行" if r.is_current else ""))
        for r in views.rule_set_choices(session)
    ]


def form_data(form: ScenarioForm, session) -> dict:
    pref = form.prefecture_code.data or None
    hosts_codes = split_codes(form.extra_hosts.data)
    pref_body = prefecture_body_code(session, pref)
    if form.prefecture_as_host.data and pref_body and pref_body not in hosts_codes:
        hosts_codes.insert(0, pref_body)
    weights = {}
    if form.allocation_method.data == "formula":
        weights = {
            k: float(Decimal(getattr(form, f"weight_{k}").data or 0) / 100) for k in ("equal", "population", "volume")
        }
    return {
        "name": form.name.data.strip(),
        "prefecture_code": pref,
        "fiscal_year": form.fiscal_year.data,
        "horizon_years": form.horizon_years.data,
        "geography_type": form.geography_type.data,
        "radius_km": form.radius_km.data if form.geography_type.data == "radius_km" else None,
        "max_members": form.max_members.data,
        "allocation_method": form.allocation_method.data,
        "allocation_weights": weights,
        "allocation_core": form.allocation_core.data if form.allocation_core.data in CORE_OPTIONS else "rule",
        "lead_must_be_grant_eligible": bool(form.lead_must_be_grant_eligible.data),
        "lead_work_lead_yen": int(form.lead_work_lead_yen.data or 0),
        "lead_work_unified_yen": int(form.lead_work_unified_yen.data or 0),
        "body_codes": split_codes(form.body_codes.data),
        "category_ids": list(form.category_ids.data or []),
        "hosts": [{"body": code, "categories": []} for code in hosts_codes],
        "price_book_id": form.price_book_id.data or None,
        "subsidy_rule_set_id": form.subsidy_rule_set_id.data or None,
        "time_limit_seconds": form.time_limit_seconds.data,
        "is_demo": bool(form.is_demo.data),
    }


def fill_form(form: ScenarioForm, scenario: Scenario, session) -> None:
    form.name.data = scenario.name
    form.prefecture_code.data = scenario.prefecture_code or ""
    form.body_codes.data = "\n".join(scenario.body_codes or [])
    form.category_ids.data = list(scenario.category_ids or [])
    form.fiscal_year.data = scenario.fiscal_year
    form.horizon_years.data = scenario.horizon_years
    form.geography_type.data = scenario.geography_type
    form.radius_km.data = scenario.radius_km
    form.max_members.data = scenario.max_members
    pref_body = prefecture_body_code(session, scenario.prefecture_code)
    host_codes = [h.get("body") for h in scenario.hosts or []]
    form.prefecture_as_host.data = pref_body in host_codes
    form.extra_hosts.data = ", ".join(str(c) for c in host_codes if c != pref_body)
    form.allocation_method.data = scenario.allocation_method
    form.allocation_core.data = scenario.allocation_core if scenario.allocation_core in CORE_OPTIONS else "report"
    form.lead_must_be_grant_eligible.data = bool(scenario.lead_must_be_grant_eligible)
    form.lead_work_lead_yen.data = scenario.lead_work_lead_yen or 0
    form.lead_work_unified_yen.data = scenario.lead_work_unified_yen or 0
    weights = scenario.allocation_weights or {}
    for key in ("equal", "population", "volume"):
        if key in weights:
            getattr(form, f"weight_{key}").data = Decimal(str(round(weights[key] * 100, 1)))
    form.price_book_id.data = scenario.price_book_id or 0
    form.subsidy_rule_set_id.data = scenario.subsidy_rule_set_id or 0
    form.time_limit_seconds.data = scenario.time_limit_seconds
    form.is_demo.data = scenario.is_demo
    form.version.data = str(scenario.version)


def _form_page(form: ScenarioForm, scenario: Scenario | None) -> str:
    """The scenario form, with how many users' and demo needs its prefecture has: a new scenario plans the users'
    needs only, so on the demo (where every need is a demo need) it would plan none without saying so."""
    pref = form.prefecture_code.data or (scenario.prefecture_code if scenario else None)
    counts = needs_by_kind(db_session(), pref or None)
    need_counts = {
        "where": prefecture_name(pref) if pref else "全都道府県",
        "users": counts[False],
        "demo": counts[True],
    }
    return render_template("scenarios/form.html", form=form, scenario=scenario, need_counts=need_counts)


def int_arg(name: str, default: int = 1) -> int:
    return parse_int(request.args.get(name), default, lo=1, hi=MAX_PAGE)


# --- pages ------------------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*access.PLANNERS)
def index():
    session = db_session()
    pref = request.args.get("prefecture") or None
    status = request.args.get("status") or None
    if status not in svc.STATUS_LABELS:
        status = None
    q = (request.args.get("q") or "").strip() or None
    page = int_arg("page")
    rows, total = svc.list_scenarios(
        session, current_user, prefecture_code=pref, status=status, text=q, page=page, per_page=PER_PAGE
    )
    for row in rows:
        jobs.reap_if_stale(session, current_app.config, row)
    pref_names = {p.prefecture_code: p.name for p in prefectures(session)}
    return render_template(
        "scenarios/index.html",
        scenarios=rows,
        total=total,
        page=page,
        per_page=PER_PAGE,
        pages=max(1, -(-total // PER_PAGE)),
        pref_names=pref_names,
        status=status,
        q=q or "",
        prefecture=pref,
        status_labels=svc.STATUS_LABELS,
    )


@bp.route("/new", methods=["GET", "POST"])
@roles_required(*access.PLANNERS)
def new():
    session = db_session()
    restored = restored_form()
    form = ScenarioForm(formdata=restored) if restored is not None else ScenarioForm()
    fill_choices(form, session)
    if request.method == "GET" and restored is None:
        if access.is_coordinator(current_user):
            form.prefecture_code.data = current_user.prefecture_code
        defaults = svc.defaults(session)
        form.price_book_id.data = defaults["price_book_id"] or 0
        form.subsidy_rule_set_id.data = defaults["subsidy_rule_set_id"] or 0
    if form.validate_on_submit():
        try:
            scenario = transactions.run(session, svc.create_scenario, current_user, form_data(form, session))
        except svc.ScenarioError as e:
            flash(str(e), "error")
        else:
            flash(f"シナリオ「{scenario.name}」を作成しました。", "success")
            return redirect(url_for("scenarios.show", scenario_id=scenario.id))
    return _form_page(form, scenario=None), 400 if request.method == "POST" else 200


@bp.get("/<int:scenario_id>")
@roles_required(*access.ROLES)
def show(scenario_id: int):
    session = db_session()
    scenario = load_scenario(scenario_id)
    plan_rows = views.scenario_plans(session, scenario)
    latest = plan_service.plan_view(plan_rows[0]) if plan_rows else None
    names = body_names(session, scenario, latest)
    overrides = [(item, svc.describe_override(names, item)) for item in svc.override_items(scenario)]
    override_form = build_override_form(session, scenario, latest)
    source = source_plan(session, scenario)
    hosts = [names.get(h.get("body"), h.get("body")) for h in scenario.hosts or []]
    categories = views.category_names(session)
    price_book, rule_set = views.chosen_references(session, scenario)
    return render_template(
        "scenarios/show.html",
        scenario=scenario,
        plans=plan_rows,
        latest=latest,
        need_scope=need_scope(session, scenario),
        needs_link=needs_link(scenario),
        source=source,
        groups_from_source=latest is None and source is not None,
        phase_step=phase_step,
        overrides=overrides,
        override_form=override_form,
        action_form=ActionForm(),
        undeletable=lifecycle.undeletable_reason(session, [id_of(p) for p in plan_rows]),
        hosts=hosts,
        categories=categories,
        price_book=price_book,
        rule_set=rule_set,
        pref_name=names.get(("pref", scenario.prefecture_code), scenario.prefecture_code or "複数"),
        status_labels=svc.STATUS_LABELS,
        geography_labels=svc.GEOGRAPHY_LABELS,
        plan_status_labels=PLAN_STATUS_LABELS,
        allocation_labels=METHOD_LABELS,
        allocation_label=method_label(scenario.allocation_method, scenario.allocation_weights),
        body_list=[names.get(c, c) for c in scenario.body_codes or []],
        can_edit=access.edits_scenario(current_user, scenario),
        partnership=partnership_row(scenario),
    )


def needs_link(scenario: Scenario, *, demo: bool | None = None) -> str:
    """The needs list showing the needs this scenario plans (or, with ``demo``, the other kind it leaves out)."""
    args: dict[str, Any] = {
        "data": "demo" if (scenario.is_demo if demo is None else demo) else "user",
        "status": "active",
    }
    if scenario.prefecture_code and access.is_admin(current_user):
        args["prefecture"] = scenario.prefecture_code
    if len(scenario.body_codes or []) == 1:
        args["body"] = scenario.body_codes[0]
    if len(scenario.category_ids or []) == 1:
        args["category"] = scenario.category_ids[0]
    return url_for("needs.index", **args)


def body_names(session, scenario: Scenario, latest=None) -> dict:
    """Names for override descriptions: bodies of the scenario (or its latest plan), categories, prefecture."""
    return views.override_names(session, scenario, latest)


def source_plan(session, scenario: Scenario) -> PlanRow | None:
    """The latest plan of the scenario this one was copied from (for its groups and the comparison), if any."""
    return views.source_plan(session, current_user, scenario)


def group_plan(session, scenario: Scenario, latest):
    """The plan whose groups a need can be fixed to: the scenario's latest, or for a copy not yet run, the plan of
    the scenario it was copied from (the groups the user saw when deciding on the copy)."""
    if latest is not None:
        return latest
    row = source_plan(session, scenario)
    return plan_service.plan_view(row) if row is not None else None


def build_override_form(session, scenario: Scenario, latest, formdata=None) -> OverrideForm:
    form = OverrideForm(formdata=formdata) if formdata is not None else OverrideForm()
    fill_override_choices(form, session, scenario, latest)
    form.version.data = str(scenario.version)
    return form


def fill_override_choices(form: OverrideForm, session, scenario: Scenario, latest) -> None:
    groups = group_plan(session, scenario, latest)
    if latest is not None:
        bodies = sorted({m.body_code: m.body_name for g in latest.groups for m in g.members}.items())
        cats = list({g.group.category: g.category_name for g in latest.groups}.items())
    if groups is not None:
        origin = "" if groups is latest else f"（複製元の計画 {groups.id} のグループ）"
        form.group_key.choices = [("", "（選択）" + origin)] + [
            (
                g.id,
                f"{g.category_name}／{g.lead_name}（{wareki_fiscal_year(g.group.start_year)}開始、"
                f"{g.mode_label}、{len(g.members)}団体）",
            )
            for g in groups.groups
            if g.joint
        ]
    if latest is None:
        bodies = views.override_bodies(session, scenario)
        cats = views.override_categories(session, scenario)
        if groups is None:
            form.group_key.choices = [("", "（計画がまだありません）")]
    form.category.choices = cats
    form.body_a.choices = [(code, f"{name}（{code}）") for code, name in bodies]
    form.body_b.choices = [("", "（選択）"), *form.body_a.choices]


def override_item_from_form(form: OverrideForm, latest) -> dict:
    item = {"kind": form.kind.data, "category": form.category.data, "bodies": [form.body_a.data]}
    if form.kind.data in ("together", "apart"):
        item["bodies"].append(form.body_b.data)
    if form.kind.data == "fix_group":
        group = latest.by_id.get(form.group_key.data) if latest is not None else None
        if group is None:
            raise svc.ScenarioError("固定先のグループが見つかりません。")
        if group.group.category != form.category.data:
            raise svc.ScenarioError("固定先のグループは選んだ分野のグループにしてください。")
        item.update(
            mode=group.group.mode,
            lead_body=group.group.lead_body,
            group_label=f"{group.category_name}／{group.lead_name}",
        )
    return item


@bp.route("/<int:scenario_id>/edit", methods=["GET", "POST"])
@roles_required(*access.PLANNERS)
def edit(scenario_id: int):
    session = db_session()
    scenario = load_scenario(scenario_id)
    if scenario.partnership_id is not None:
        # The form's prefecture and body fields cannot say what a consortium plans: its lead makes a new scenario
        # from the consortium's page instead.
        forbidden(f"シナリオ {scenario.id}：協議会のシナリオは条件の編集画面では変更できません")
    restored = restored_form()
    form = ScenarioForm(formdata=restored) if restored is not None else ScenarioForm()
    fill_choices(form, session)
    if request.method == "GET":
        if restored is None:
            fill_form(form, scenario, session)
    elif form.validate_on_submit():
        try:
            transactions.run(
                session, svc.update_scenario, current_user, scenario, form_data(form, session), form.version.data
            )
        except svc.BadVersion as e:
            flash(str(e), "error")
            return _form_page(form, scenario=scenario), 400
        except svc.StaleScenario as e:
            # Lost to a concurrent edit: show the values that won (the rollback left the scenario to be read
            # afresh), carrying their version for a deliberate retry.
            flash(str(e), "error")
            form = ScenarioForm(formdata=None)
            fill_choices(form, session)
            fill_form(form, scenario, session)
            return _form_page(form, scenario=scenario), 409
        except svc.ScenarioError as e:
            flash(str(e), "error")
            return _form_page(form, scenario=scenario), 409
        flash("シナリオを更新しました。再計画するには「実行」を押してください。", "success")
        return redirect(url_for("scenarios.show", scenario_id=scenario.id))
    else:
        return _form_page(form, scenario=scenario), 400
    return _form_page(form, scenario=scenario)


@bp.post("/<int:scenario_id>/run")
@roles_required(*access.ROLES)
def run(scenario_id: int):
    session, scenario, _ = _posted_action(scenario_id)
    try:
        jobs.submit_solve(session, current_app.extensions["db_engine"], current_app.config, scenario, current_user)
    except jobs.JobSubmitError as e:
        flash(str(e), "error")
    else:
        flash("最適化を開始しました。進捗はこの画面に表示されます。", "success")
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))


@bp.post("/<int:scenario_id>/cancel")
@roles_required(*access.ROLES)
def cancel(scenario_id: int):
    session, scenario, _ = _posted_action(scenario_id)
    try:
        status = jobs.request_cancel(session, current_app.config, scenario, current_user)
    except jobs.JobSubmitError as e:
        flash(str(e), "error")
    else:
        flash("中止しました。" if status == "cancelled" else "中止を要求しました。まもなく停止します。", "success")
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))


@bp.post("/<int:scenario_id>/copy")
@roles_required(*access.ROLES)
def copy(scenario_id: int):
    session, scenario, _ = _posted_action(scenario_id)
    clone = transactions.run(session, svc.copy_scenario, current_user, scenario)
    flash(f"シナリオを複製しました（「{clone.name}」）。", "success")
    return redirect(url_for("scenarios.show", scenario_id=clone.id))


@bp.post("/<int:scenario_id>/delete")
@roles_required(*access.ROLES)
def delete(scenario_id: int):
    session, scenario, _ = _posted_action(scenario_id)
    try:
        transactions.run(session, svc.delete_scenario, current_user, scenario)
    except svc.ScenarioError as e:
        flash(str(e), "error")
        return redirect(url_for("scenarios.show", scenario_id=scenario_id))
    flash("シナリオを削除しました。", "success")
    return redirect(url_for("scenarios.index"))


@bp.post("/<int:scenario_id>/overrides")
@roles_required(*access.ROLES)
def add_override(scenario_id: int):
    """Add an override to this scenario, or (the default) to a copy that is solved at once."""
    session = db_session()
    scenario = load_scenario(scenario_id)
    require_edits(scenario)
    latest_row = plan_service.latest_plan(session, id_of(scenario))
    latest = plan_service.plan_view(latest_row) if latest_row else None
    form = build_override_form(session, scenario, latest, formdata=request.form)
    if not form.validate_on_submit():
        for errors in form.errors.values():
            for error in errors:
                flash(f"上書き設定: {error}", "error")
        return redirect(url_for("scenarios.show", scenario_id=scenario.id))
    return apply_override_form(session, scenario, form, latest)


def apply_override_form(session, scenario: Scenario, form: OverrideForm, latest):
    try:
        item = override_item_from_form(form, group_plan(session, scenario, latest))
        if form.replan.data:
            target = transactions.run(session, views.copy_with_override, current_user, scenario, item, latest)
            jobs.submit_solve(session, current_app.extensions["db_engine"], current_app.config, target, current_user)
            flash("上書き設定を加えた複製を作成し、再計画を開始しました。完了後に元の計画と比較できます。", "success")
            return redirect(url_for("scenarios.show", scenario_id=target.id))
        transactions.run(session, svc.add_override, current_user, scenario, item, form.version.data)
    except (svc.BadVersion, svc.StaleScenario) as e:
        return _lost_versioned_write(scenario, e)
    except (svc.ScenarioError, jobs.JobSubmitError) as e:
        # what the service wrote is rolled back already; a refused job submission wrote nothing
        flash(str(e), "error")
        return redirect(url_for("scenarios.show", scenario_id=scenario.id))
    flash("上書き設定を追加しました。反映するには「実行」を押してください。", "success")
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))


@bp.post("/<int:scenario_id>/overrides/<item_id>/delete")
@roles_required(*access.ROLES)
def remove_override(scenario_id: int, item_id: str):
    session, scenario, form = _posted_action(scenario_id)
    try:
        transactions.run(session, svc.remove_override, current_user, scenario, item_id, form.version.data)
    except (svc.BadVersion, svc.StaleScenario) as e:
        return _lost_versioned_write(scenario, e)
    except svc.ScenarioError as e:
        flash(str(e), "error")
    else:
        flash("上書き設定を削除しました。", "success")
    return redirect(url_for("scenarios.show", scenario_id=scenario.id))


def _lost_versioned_write(scenario: Scenario, error: Exception):
    """The scenario page with the current values (after the concurrent change that won: the rollback left the
    scenario to be read afresh) and the reason: 409 for a lost race, 400 for a form without a usable version."""
    flash(str(error), "error")
    response = make_response(show(scenario.id))
    response.status_code = 400 if isinstance(error, svc.BadVersion) else 409
    return response
