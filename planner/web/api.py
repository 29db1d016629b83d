"""The read-only JSON API (docs/api.md): plans, groups and scenario job status.

Session-authenticated with the same role rules as the pages; errors are JSON too: {"error": Japanese message,
"status": HTTP status, "code": machine-readable code such as "forbidden"}.
"""

from __future__ import annotations

from functools import wraps

from flask import Blueprint, current_app, jsonify, request, url_for
from flask_login import current_user
from werkzeug.exceptions import HTTPException

from planner import jobs
from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario
from planner.services import access, scenarios, transactions
from planner.services import plans as svc
from planner.services.plan_lifecycle import release_info, release_summary
from planner.services.scenarios import STATUS_LABELS
from planner.web.db import db_session
from planner.web.params import parse_id, parse_int
from planner.web.security import japanese_description, json_error

bp = Blueprint("api", __name__, url_prefix="/api")


class ApiError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


@bp.errorhandler(ApiError)
def _api_error(e: ApiError):
    body, status = json_error(e.status, e.message)
    return jsonify(body), status


@bp.errorhandler(HTTPException)
def _http_error(e: HTTPException):
    # werkzeug's English default texts (abort(400) without a description) give way to the Japanese title.
    body, status = json_error(e.code or 500, japanese_description(e) or None)
    return jsonify(body), status


def _forbidden(detail: str, *, status: int = 403, message: str = "この情報を見る権限がありません。") -> None:
    """Log the refused request and answer ``status`` with ``message`` (404 and the missing object's words where ids
    must not be probed)."""
    from planner.services import audit

    transactions.run(
        db_session(),
        audit.record,
        user_id=current_user.id,
        action="forbidden",
        entity="api",
        entity_id=request.path[:60],
        detail=detail,
    )
    raise ApiError(status, message)


def api_login_required(view):
    @wraps(view)
    def wrapper(*args, **kwargs):
        if not current_user.is_authenticated:
            raise ApiError(401, "ログインしてください。")
        return view(*args, **kwargs)

    return wrapper


def _load(plan_id: int) -> tuple[PlanRow, Scenario, svc.PlanView, access.PlanAccess]:
    """The plan through planner.services.plans.load_plan; missing and refused both answer 404 alike (a refusal is
    still logged)."""
    try:
        loaded = svc.load_plan(db_session(), current_user, plan_id)
    except svc.PlanNotFound as e:
        if e.refused:
            _forbidden(f"API {e.detail}", status=404, message=f"{e.public_message}。")
        raise ApiError(404, f"{e.public_message}。") from None
    return loaded.row, loaded.scenario, loaded.view, loaded.access


def _int_arg(name: str, default: int, lo: int, hi: int) -> int:
    raw = request.args.get(name)
    value = parse_int(raw, None, lo=lo, hi=hi)
    if value is None and raw is not None:
        raise ApiError(400, f"パラメータ {name} は整数で指定してください。")
    return default if value is None else value


ESTIMATE_LABEL = (
    "補助金・特別交付税は見込額（算定ルールは rule_version、端数処理と注記は各参加団体の notes）。"
    "現在の年度の制度は管理者が確認します。補助金は公募・評価で採択された場合を仮定しています"
)


def _group_dict(view: svc.PlanView, g: svc.GroupView, *, members_of: str | None = None) -> dict:
    d = g.summary_dict()
    members = g.members if members_of is None else [m for m in g.members if m.body_code == members_of]
    d["member_shares"] = [m.as_dict() for m in members]
    allocation = g.allocation.to_json()
    allocation.pop("shares", None)  # each member's share is in member_shares, and a body sees only its own
    d["allocation"] = allocation
    d["totals"] = g.totals.as_dict() if members_of is None else None
    alternative = g.group.eligible_lead_alternative
    d["eligible_lead_alternative"] = None if alternative is None else dict(alternative)
    d["url"] = url_for("api.plan_group", plan_id=view.id, group_id=g.id)
    return d


@bp.get("/plans")
@api_login_required
def plans():
    session = db_session()
    page = _int_arg("page", 1, 1, 100000)
    per_page = _int_arg("per_page", 25, 1, 100)
    raw_scenario = request.args.get("scenario_id")
    scenario_id = parse_id(raw_scenario)
    if raw_scenario and scenario_id is None:
        raise ApiError(400, "パラメータ scenario_id は 1 以上の整数で指定してください。")
    rows, total = svc.list_plans(
        session,
        current_user,
        scenario_id=scenario_id,
        prefecture_code=request.args.get("prefecture") or None,
        page=page,
        per_page=per_page,
    )
    items = [
        {
            "id": p.id,
            "scenario_id": s.id,
            "scenario_name": s.name,
            "prefecture_code": s.prefecture_code,
            "status": p.status,
            "objective_yen": p.objective_yen,
            "standalone_total_yen": p.standalone_total_yen,
            "saving_yen": p.standalone_total_yen - p.objective_yen,
            "gap": p.gap,
            "price_book_version": p.price_book_version,
            "rule_version": p.rule_version,
            "created_at": p.created_at.isoformat() if p.created_at else None,
            "url": url_for("api.plan", plan_id=p.id),
        }
        for p, s in rows
    ]
    if access.is_municipality(current_user):
        # A member's staff see their own body's part of a plan (/api/plans/<id>), never its totals over every body
        # of the prefecture: the list withholds them too.
        for item in items:
            for key in PLAN_WIDE_LIST_FIGURES:
                item.pop(key, None)
    return jsonify(items=items, page=page, per_page=per_page, total=total)


# The list's figures of the whole plan, withheld from municipality staff like PLAN_WIDE_FIGURES below.
PLAN_WIDE_LIST_FIGURES = ("objective_yen", "standalone_total_yen", "saving_yen", "gap")


# Figures of the whole plan (every body of the prefecture), for coordinators and administrators only.
PLAN_WIDE_FIGURES = (
    "objective_yen",
    "lower_bound_yen",
    "gap",
    "standalone_total_yen",
    "groups",
    "joint_groups",
    "totals",
)


@bp.get("/plans/<int:plan_id>")
@api_login_required
def plan(plan_id: int):
    _, scenario, view, plan_access = _load(plan_id)
    body = current_user.body_code if plan_access == "body" else None
    d = view.summary_dict()
    d["scenario"] = {"id": scenario.id, "name": scenario.name, "prefecture_code": scenario.prefecture_code}
    d["labels"] = {"price_book": f"{view.price_book_version}（参考値）", "estimates": ESTIMATE_LABEL}
    d["lifecycle"] = release_summary(release_info(db_session(), plan_id))  # 試算 / 計画 No.N 第M版, input changes
    d["price_source"] = view.doc.get("price_source") or d["labels"]["price_book"]
    if body is not None:
        # Municipality staff: their own body's groups and shares only, never the other members' figures nor the
        # plan's totals over every body of the prefecture.
        for key in PLAN_WIDE_FIGURES:
            d.pop(key, None)
        d["view"] = "body"
        d["body"] = {"code": body, "name": view.body_name(body), "totals": view.body_totals(body).as_dict()}
        d["totals"] = None
        d["groups"] = [_group_dict(view, g, members_of=body) for g in view.by_body.get(body, [])]
        d["groups_total"] = len(d["groups"])
        return jsonify(d)
    category = request.args.get("category") or None
    mode = request.args.get("mode") or None
    groups = view.filter_groups(
        category=category, mode=mode, body=request.args.get("body") or None, joint_only=request.args.get("joint") == "1"
    )
    page = _int_arg("page", 1, 1, 100000)
    per_page = _int_arg("per_page", 100, 1, 500)
    d["view"] = "full"
    d["categories"] = [{"id": cid, "name": name, "totals": t.as_dict()} for cid, name, t in view.category_totals()]
    d["override_costs"] = view.override_costs
    d["groups"] = [_group_dict(view, g) for g in groups[(page - 1) * per_page : page * per_page]]
    d["groups_total"] = len(groups)
    d["page"], d["per_page"] = page, per_page
    return jsonify(d)


@bp.get("/plans/<int:plan_id>/groups/<group_id>")
@api_login_required
def plan_group(plan_id: int, group_id: str):
    _, _, view, plan_access = _load(plan_id)
    g = view.by_id.get(group_id)
    if g is None:
        raise ApiError(404, f"グループ {group_id} はこの計画にありません。")
    if not access.sees_group(current_user, plan_access, g.body_codes):
        _forbidden(f"API 計画 {plan_id}：グループ {group_id} に団体コード {current_user.body_code} は含まれません")
    d = _group_dict(view, g)
    d["plan_id"] = plan_id
    d["subsidy_rule_version"] = view.rule_version
    d["price_book_version"] = view.price_book_version
    return jsonify(d)


def status_dict(scenario: Scenario) -> dict:
    progress = dict(scenario.progress or {})
    plan_id = progress.get("plan_id")
    return {
        "scenario_id": scenario.id,
        "status": scenario.status,
        "status_label": STATUS_LABELS.get(scenario.status, scenario.status),
        "active": scenario.status in ("queued", "running", "cancelling"),
        "phase": progress.get("phase"),
        "phase_label": progress.get("phase_label"),
        "done": progress.get("done"),
        "total": progress.get("total"),
        "incumbent_yen": progress.get("incumbent_yen"),
        "bound_yen": progress.get("bound_yen"),
        "gap": progress.get("gap"),
        "elapsed": progress.get("elapsed"),
        "heartbeat": progress.get("heartbeat"),
        "runner": progress.get("runner"),
        "error": progress.get("error"),
        "plan_id": plan_id,
        "plan_url": url_for("plans.show", plan_id=plan_id) if plan_id else None,
        "log_tail": (scenario.log or "").splitlines()[-8:],
        **phase_step(progress),
    }


def phase_step(progress: dict) -> dict:
    """The current phase's own count for the progress bar: groups settled while 按分・補助金の計算 runs (the solver's
    sub-problems would sit at their total), the solver's sub-problems otherwise."""
    if progress.get("phase") == "settling" and progress.get("settle_total") is not None:
        return {
            "step_done": progress.get("settle_done"),
            "step_total": progress.get("settle_total"),
            "step_unit": "グループ",
        }
    return {"step_done": progress.get("done"), "step_total": progress.get("total"), "step_unit": "部分問題"}


@bp.get("/scenarios/<int:scenario_id>/status")
@api_login_required
def scenario_status(scenario_id: int):
    session = db_session()
    scenario = scenarios.find_scenario(session, scenario_id)
    missing = f"シナリオ {scenario_id} はありません。"
    if scenario is None:
        raise ApiError(404, missing)
    if not access.sees_scenario(current_user, scenario):
        _forbidden(
            f"API シナリオ {scenario_id}（都道府県コード {scenario.prefecture_code} のもの）",
            status=404,
            message=missing,
        )
    jobs.reap_if_stale(session, current_app.config, scenario)
    response = jsonify(status_dict(scenario))
    response.headers["Cache-Control"] = "no-store"
    return response
