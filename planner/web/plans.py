"""Plan pages: the summary with its map and charts, consortia, one body's view, comparison, overrides.

Coordinators of the scenario's prefecture and administrators see whole plans; municipality staff see only their
own body's view of plans that include it (and the consortium pages of the groups their body is in).
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict

from flask import Blueprint, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from planner.charts import consortium_map_svg, hours_range_svg, savings_bar_svg, waterfall_svg
from planner.db.rows import id_of
from planner.domain.fairness import evidence_rows, fairness_alert
from planner.domain.settled import MemberLine, Totals
from planner.domain.share_basis import share_basis
from planner.domain.vocabulary import MODE_LABELS, MODE_SHORT, PLAN_STATUS_LABELS, jst_datetime
from planner.reports.effects_view import plan_effects
from planner.services import access
from planner.services import plans as svc
from planner.services.quotes import group_price_source
from planner.services.scenarios import describe_override
from planner.web.db import db_session
from planner.web.forms.planning import CompareForm
from planner.web.params import MAX_PAGE, parse_id, parse_int
from planner.web.security import forbidden, roles_required

bp = Blueprint("plans", __name__, url_prefix="/plans")

PER_PAGE = 50
EFFECT_BODY_CHART_LIMIT = 20


def effects_context(view: svc.PlanView, *, charts: bool = False) -> dict:
    """The plan's effect estimates for the page (and, on the summary, the charts by category and by body); made
    once per cached view."""
    return dict(view.derived(("effects", charts), lambda: _effects_context(view, charts=charts)))


def _effects_context(view: svc.PlanView, *, charts: bool) -> dict:
    effects = plan_effects(view.instance, view.plan.effects)
    out: dict = {"effects": effects}
    if charts and effects.present:
        out["effects_category_chart"] = Markup(
            hours_range_svg(
                effects.chart_rows(effects.by_category()), width=760, title="分野別の削減時間の見込み（年間）"
            )
        )
        bodies = [(name, t) for _code, name, t in effects.by_body()][:EFFECT_BODY_CHART_LIMIT]
        rows = effects.chart_rows(bodies)
        out["effects_body_chart"] = (
            Markup(hours_range_svg(rows, width=760, title="団体別の削減時間の見込み（年間）")) if rows else None
        )
        out["effects_body_limit"] = EFFECT_BODY_CHART_LIMIT
    return out


Loaded = svc.LoadedPlan  # the pages' name for it (planner.web.lifecycle uses it too)


def load(plan_id: int) -> svc.LoadedPlan:
    """The plan as the current user may open it (planner.services.plans.load_plan), else 404: a plan that does
    not exist and one the user may not open are answered alike (the refusal is still logged)."""
    try:
        return svc.load_plan(db_session(), current_user, plan_id)
    except svc.PlanNotFound as e:
        if e.refused:
            forbidden(e.detail, status=404, public_description=e.public_message)
        abort(404, description=e.public_message)


def require_full(loaded: Loaded, what: str) -> None:
    if not loaded.full:
        forbidden(f"計画 {loaded.row.id}：{what}は都道府県の担当者と管理者だけが行えます")


def page_arg() -> int:
    return parse_int(request.args.get("page"), 1, lo=1, hi=MAX_PAGE)


def map_category(view: svc.PlanView, requested: str | None) -> str | None:
    """The category the map shows: the one asked for, else the one with the most bodies in consortia."""
    if requested and (requested == "all" or requested in view.instance.categories):
        return requested
    counts: dict[str, int] = {}
    for g in view.groups:
        if g.joint:
            counts[g.group.category] = counts.get(g.group.category, 0) + len(g.members)
    return max(counts, key=lambda c: (counts[c], c)) if counts else None


# --- list --------------------------------------------------------------------------------------------------------


@bp.get("/")
@roles_required(*access.ROLES)
def index():
    session = db_session()
    page = page_arg()
    rows, total = svc.list_plans(session, current_user, page=page, per_page=25)
    return render_template(
        "plans/index.html",
        rows=rows,
        total=total,
        page=page,
        pages=max(1, -(-total // 25)),
        status_labels=PLAN_STATUS_LABELS,
    )


# --- the summary -------------------------------------------------------------------------------------------------


@bp.get("/<int:plan_id>")
@roles_required(*access.ROLES)
def show(plan_id: int):
    loaded = load(plan_id)
    if not loaded.full:
        return redirect(url_for("plans.body", plan_id=plan_id, code=current_user.body_code))
    view = loaded.view
    category = request.args.get("category") or None
    mode = request.args.get("mode") or None
    body = (request.args.get("body") or "").strip() or None
    joint_only = request.args.get("joint", "1") == "1"
    groups = view.filter_groups(
        category=category if category in view.instance.categories else None,
        mode=mode if mode in MODE_LABELS else None,
        body=body,
        joint_only=joint_only,
    )
    page = page_arg()
    pages = max(1, -(-len(groups) // PER_PAGE))
    shown = groups[(page - 1) * PER_PAGE : page * PER_PAGE]
    map_cat = map_category(view, request.args.get("map"))
    map_groups = view.groups if map_cat == "all" else [g for g in view.groups if g.group.category == map_cat]
    figure_map = _map_markup(view.map_bodies(), view.map_groups(map_groups), width=760, height=600)
    bars = view.derived(
        "savings_bars",
        lambda: Markup(
            savings_bar_svg(
                [
                    (name, t.standalone_yen, t.joint_yen, t.net_without_grant_yen)
                    for _, name, t in view.category_totals()
                ],
                width=760,
            )
        ),
    )
    waterfall = view.derived("waterfall", lambda: Markup(waterfall_svg(totals_steps(view.totals), width=560)))
    names = {code: b.name for code, b in view.instance.bodies.items()}
    names.update({("category", cid): c.name for cid, c in view.instance.categories.items()})
    overrides = [(item, describe_override(names, item)) for item in (loaded.scenario.overrides or {}).get("items", [])]
    costs = {c.get("id"): c for c in view.override_costs}
    alert = fairness_alert([g.group for g in view.groups])
    # the leads of lead-mode groups, whose 予算見積資料 carry the whole contracts (the prefecture's finance users start here)
    led: dict[str, int] = {}
    for g in view.groups:
        if g.group.mode == "lead":
            led[g.group.lead_body] = led.get(g.group.lead_body, 0) + 1
    # shown as the finance kind's audience ("body") allows: every lead to the prefecture, a body its own
    finance_leads = [
        (code, view.instance.bodies[code].name, n)
        for code, n in sorted(led.items())
        if access.sees_member(current_user, loaded.access, code)
    ]
    return render_template(
        "plans/show.html",
        finance_leads=finance_leads,
        loaded=loaded,
        view=view,
        scenario=loaded.scenario,
        groups=shown,
        fairness=alert,
        group_count=len(groups),
        page=page,
        pages=pages,
        category=category,
        mode=mode,
        body=body or "",
        joint_only=joint_only,
        map_category=map_cat,
        figure_map=figure_map,
        bars=bars,
        waterfall=waterfall,
        mode_labels=MODE_LABELS,
        overrides=overrides,
        override_costs=costs,
        category_totals=view.category_totals(),
        **effects_context(view, charts=True),
    )


def _map_markup(bodies: list[dict], groups: list[dict], *, width: int, height: int) -> Markup:
    """The map drawn twice: for wide screens, and 360 px wide for phones (where the wide one, scaled down to fit,
    would print its names and legend at 5 px); the stylesheet shows one of them.

    Drawing (outlines projected, names placed) is a large part of a plan page; the drawing is a function of what it
    is given, so it is kept under a hash of exactly that (a stored plan never changes, and its pages are read many
    times), in a cache bounded by its size."""
    key = hashlib.sha256(repr((bodies, groups, width, height)).encode("utf-8")).hexdigest()
    with _MAPS_LOCK:
        found = _MAPS.get(key)
        if found is not None:
            _MAPS.move_to_end(key)
            return found
    wide = consortium_map_svg(bodies, groups, width=width, height=height)
    narrow = consortium_map_svg(bodies, groups, width=360, height=400)
    markup = Markup(f'<div class="map-wide">{wide}</div><div class="map-narrow">{narrow}</div>')
    with _MAPS_LOCK:
        _MAPS[key] = markup
        while len(_MAPS) > 1 and sum(len(m) for m in _MAPS.values()) > _MAPS_CHARS:
            _MAPS.popitem(last=False)
    return markup


_MAPS: OrderedDict[str, Markup] = OrderedDict()
_MAPS_LOCK = threading.Lock()
_MAPS_CHARS = 1_500_000  # some 20 of a prefecture's maps (2 bytes a character): 3 MB in each worker


# --- one consortium ------------------------------------------------------------------------------------------------


@bp.get("/<int:plan_id>/groups/<group_id>")
@roles_required(*access.ROLES)
def group(plan_id: int, group_id: str):
    loaded = load(plan_id)
    view = loaded.view
    g = view.by_id.get(group_id)
    if g is None:
        abort(404, description=f"グループ {group_id} はこの計画にありません")
    if not access.sees_group(current_user, loaded.access, g.body_codes):
        forbidden(f"計画 {plan_id}：グループ {group_id} に団体コード {current_user.body_code} は含まれません")
    figure_map = _map_markup(
        [b for b in view.map_bodies() if b["code"] in set(g.body_codes) | {g.group.lead_body}] or view.map_bodies(),
        view.map_groups([g]),
        width=560,
        height=420,
    )
    member_waterfalls = [(m, Markup(waterfall_svg(_member_steps(m), width=520))) for m in g.members]
    return render_template(
        "plans/group.html",
        loaded=loaded,
        view=view,
        scenario=loaded.scenario,
        g=g,
        fairness=fairness_alert([g.group]),
        evidence=evidence_rows(view.instance, g.group),
        figure_map=figure_map,
        member_waterfalls=member_waterfalls,
        # a member of the group sees every member's figures here, but only its own body page and notice: the
        # page links to no page its viewer would be refused
        sees_member=lambda code: access.sees_member(current_user, loaded.access, code),
        mode_labels=MODE_LABELS,
        price_source=group_price_source(view.doc, g.group.category, g.group.mode, view.price_book_version),
        **effects_context(view),
    )


# The waterfalls end at the headline net burden: the grant is awarded by public call and is never part of it
# (subsidy-rules.md section 4); pages print it beside the chart as its own 「採択された場合」 line.


def _member_steps(m: MemberLine) -> list[tuple[str, int]]:
    return [
        ("単独導入", m.standalone_total_yen),
        ("共同調達の負担", m.total_yen),
        ("特別交付税（見込額）控除後", m.net_without_grant_yen),
    ]


def totals_steps(t: Totals) -> list[tuple[str, int]]:
    """The plan's waterfall: standalone → joint → after the special tax (the grant not awarded)."""
    return [
        ("単独導入の合計", t.standalone_yen),
        ("共同調達後", t.joint_yen),
        ("特別交付税（見込額）控除後", t.net_without_grant_yen),
    ]


# --- one body -------------------------------------------------------------------------------------------------------


@bp.get("/<int:plan_id>/body/<code>")
@roles_required(*access.ROLES)
def body(plan_id: int, code: str):
    loaded = load(plan_id)
    if not access.sees_member(current_user, loaded.access, code):
        forbidden(f"計画 {plan_id}：団体コード {code} は利用者の団体ではありません")
    view = loaded.view
    if code not in view.instance.bodies:
        abort(404, description=f"団体 {code} はこの計画の対象ではありません")
    groups = view.by_body.get(code, [])
    led = [g for g in view.groups if g.joint and g.group.lead_body == code and code not in g.body_codes]
    totals = view.body_totals(code)
    rows, basis = [], {}
    for g in groups:
        for m in g.members:
            if m.body_code == code:
                rows.append((g, m))
                if g.joint:
                    basis[m.need_id] = share_basis(
                        view.instance,
                        [x.need_id for x in g.members],
                        m.need_id,
                        g.allocation.method,
                        g.allocation.weights,
                        m.standalone_total_yen,
                    )
    figure_map = None
    joint = [g for g in groups if g.joint]
    if joint:
        codes = {c for g in joint for c in g.body_codes} | {g.group.lead_body for g in joint}
        figure_map = _map_markup(
            [b for b in view.map_bodies() if b["code"] in codes], view.map_groups(joint), width=560, height=420
        )
    return render_template(
        "plans/body.html",
        loaded=loaded,
        view=view,
        scenario=loaded.scenario,
        body=view.instance.bodies[code],
        rows=rows,
        basis=basis,
        led=led,
        # a 予算見積資料 for a body with a need in the plan or leading a lead-mode group (the finance kind's keys)
        has_finance=bool(rows) or any(g.group.mode == "lead" and g.group.lead_body == code for g in view.groups),
        totals=totals,
        waterfall=Markup(waterfall_svg(_body_steps(totals), width=520)),
        figure_map=figure_map,
        mode_labels=MODE_LABELS,
        **effects_context(view),
        members=[(g.category_name, m.need_id) for g, m in rows],
    )


def _body_steps(t: Totals) -> list[tuple[str, int]]:
    return [
        ("単独導入", t.standalone_yen),
        ("共同調達の負担", t.joint_yen),
        ("特別交付税（見込額）控除後", t.net_without_grant_yen),
    ]


# --- comparison -----------------------------------------------------------------------------------------------------


@bp.get("/compare")
@roles_required(*access.PLANNERS)
def compare():
    session = db_session()
    rows, _ = svc.list_plans(session, current_user, page=1, per_page=200)
    form = CompareForm(request.args)
    form.a.choices = form.b.choices = [
        (p.id, f"計画 {p.id}：{s.name}（{jst_datetime(p.created_at)}）") for p, s in rows
    ]
    comparison = None
    if request.args.get("a") and request.args.get("b"):
        a_id, b_id = parse_id(request.args["a"]), parse_id(request.args["b"])
        if a_id is None or b_id is None:
            abort(400, description="比較する計画の番号が不正です")
        a, b = load(a_id), load(b_id)
        require_full(a, "計画の比較")
        require_full(b, "計画の比較")
        comparison = svc.compare_views(a.view, b.view)
        comparison_scenarios = (a.scenario, b.scenario)
        page = page_arg()
        changes = comparison.changes[(page - 1) * PER_PAGE : page * PER_PAGE]
        pages = max(1, -(-len(comparison.changes) // PER_PAGE))
        return render_template(
            "plans/compare.html",
            form=form,
            comparison=comparison,
            changes=changes,
            page=page,
            pages=pages,
            scenarios=comparison_scenarios,
            mode_labels=MODE_SHORT,
        )
    return render_template("plans/compare.html", form=form, comparison=None)


# --- overrides from the plan ----------------------------------------------------------------------------------------


@bp.route("/<int:plan_id>/override", methods=["GET", "POST"])
@roles_required(*access.PLANNERS)
def override(plan_id: int):
    """Choose an override for this plan's scenario (pre-filled from a body's row), then re-plan a copy."""
    from planner.web import scenarios as scenario_pages

    loaded = load(plan_id)
    require_full(loaded, "上書きして再計画")
    session = db_session()
    scenario = scenario_pages.load_scenario(id_of(loaded.scenario))
    form = scenario_pages.build_override_form(
        session, scenario, loaded.view, formdata=request.form if request.method == "POST" else None
    )
    if request.method == "GET":
        form.body_a.data = request.args.get("body") or None
        form.category.data = request.args.get("category") or None
        form.kind.data = request.args.get("kind") or "together"
    elif form.validate_on_submit():
        return scenario_pages.apply_override_form(session, scenario, form, loaded.view)
    return render_template("plans/override.html", loaded=loaded, view=loaded.view, scenario=scenario, form=form)
