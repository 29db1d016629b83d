"""Downloads of a plan's documents: PDF and Excel per consortium, per member, the summary, and all as a ZIP.

Coordinators of the scenario's prefecture and administrators get everything; municipality staff get the notice of
their own body's needs and the 負担金算定書 of the groups their body is in (and a ZIP of just those).
"""
from __future__ import annotations

import io
from dataclasses import asdict, dataclass
from pathlib import Path

from flask import Blueprint, abort, current_app, send_file
from flask_login import current_user
from sqlmodel import select

from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario, SubsidyRuleSet
from planner.domain.instance_io import InstanceError, parse_instance
from planner.domain.model import Instance
from planner.domain.plan import Plan, plan_from_dict
from planner.domain.subsidy_rules import SubsidyRulesError, parse_rules
from planner.reports import bundle, pdf, xlsx
from planner.reports.cache import cache_key, cached
from planner.reports.context import ReportError, ReportMeta, find_group, group_of_need
from planner.web.db import db_session
from planner.services import access
from planner.web.security import forbidden, roles_required

bp = Blueprint("reports", __name__)

ROLES = ("admin", "prefecture", "municipality")
MIMETYPES = {"pdf": "application/pdf",
             "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
             "zip": "application/zip"}


@dataclass
class _Loaded:
    row: PlanRow
    scenario: Scenario
    instance: Instance
    plan: Plan
    meta: ReportMeta
    plan_access: access.PlanAccess

    @property
    def sees_all(self) -> bool:
        return self.plan_access == "full"

    def body_of_need(self, need_id: str) -> str:
        return self.instance.need(need_id).body

    def group_bodies(self, group_id: str) -> set[str]:
        return {self.body_of_need(n) for n in find_group(self.plan, group_id).members}


def _load(plan_id: int) -> _Loaded:
    session = db_session()
    row = session.get(PlanRow, plan_id)
    if row is None:
        abort(404, description=f"計画 {plan_id} はありません")
    scenario = session.get(Scenario, row.scenario_id)
    if scenario is None:
        abort(404, description=f"計画 {plan_id} のシナリオがありません")
    try:
        instance = parse_instance(row.instance_doc)
        plan = plan_from_dict(row.plan_doc)
    except (InstanceError, ValueError, KeyError, TypeError) as e:
        abort(500, description=f"計画 {plan_id} の保存データを読めません: {e}")
    members = {instance.need(nid).body for g in plan.groups for nid in g.members if nid in instance.needs_by_id}
    plan_access = access.plan_access(current_user, access.PlanFacts(scenario.prefecture_code, members))
    if plan_access is None:
        forbidden(f"plan {plan_id}: prefecture {scenario.prefecture_code}")
    rules = session.exec(select(SubsidyRuleSet).where(SubsidyRuleSet.version == row.rule_version)).first() \
        if row.rule_version else None
    sources = _rule_sources(rules.data or {}) if rules else ()
    meta = ReportMeta(price_book_version=row.price_book_version, rule_version=row.rule_version,
                      title=scenario.name, sources=sources)
    return _Loaded(row, scenario, instance, plan, meta, plan_access)


def _rule_sources(doc) -> tuple[str, ...]:
    """The sources the rule set's applied terms cite, spelt as the estimates spell them (so they are listed once);
    a document the domain cannot parse lists every source it names."""
    try:
        return parse_rules(doc).cited_source_titles()
    except SubsidyRulesError:
        return tuple(_source_text(s) for s in (doc.get("sources") or []))


def _source_text(source) -> str:
    if isinstance(source, dict):
        return "　".join(str(source[k]) for k in ("title", "url") if source.get(k))
    return str(source)


def _send(data: bytes, name: str, ext: str):
    return send_file(io.BytesIO(data), mimetype=MIMETYPES[ext], as_attachment=True, download_name=f"{name}.{ext}",
                     max_age=0)


def _unprintable(e: ReportError):
    abort(422, description=f"この計画の帳票を作成できません: {e}")


@bp.get("/plans/<int:plan_id>/reports/group/<group_id>.<any(pdf, xlsx):ext>")
@roles_required(*ROLES)
def group_document(plan_id: int, group_id: str, ext: str):
    loaded = _load(plan_id)
    try:
        bodies = loaded.group_bodies(group_id)
    except ReportError:
        abort(404, description=f"計画 {plan_id} にグループ {group_id} はありません")
    if not access.sees_group(current_user, loaded.plan_access, bodies):
        forbidden(f"plan {plan_id}: group {group_id}")
    try:
        if ext == "pdf":
            data = pdf.group_pdf(loaded.instance, loaded.plan, group_id, loaded.meta)
        else:
            data = xlsx.group_workbook(loaded.instance, loaded.plan, group_id, loaded.meta)
    except ReportError as e:
        _unprintable(e)
    return _send(data, f"負担金算定書_{bundle.safe_name(group_id)}", ext)


@bp.get("/plans/<int:plan_id>/reports/member/<need_id>.<any(pdf, xlsx):ext>")
@roles_required(*ROLES)
def member_document(plan_id: int, need_id: str, ext: str):
    loaded = _load(plan_id)
    if need_id not in loaded.instance.needs_by_id:
        abort(404, description=f"計画 {plan_id} にニーズ {need_id} はありません")
    try:
        group_of_need(loaded.plan, need_id)
    except ReportError:
        abort(404, description=f"計画 {plan_id} にニーズ {need_id} を含むグループはありません")
    body = loaded.body_of_need(need_id)
    if not access.sees_member(current_user, loaded.plan_access, body):
        forbidden(f"plan {plan_id}: member {need_id}")
    try:
        if ext == "pdf":
            data = pdf.member_pdf(loaded.instance, loaded.plan, need_id, loaded.meta)
        else:
            data = xlsx.member_workbook(loaded.instance, loaded.plan, need_id, loaded.meta)
    except ReportError as e:
        _unprintable(e)
    name = loaded.instance.bodies[body].name
    return _send(data, f"負担額通知_{bundle.safe_name(name)}_{bundle.safe_name(need_id)}", ext)


@bp.get("/plans/<int:plan_id>/reports/summary.<any(pdf, xlsx):ext>")
@roles_required(*ROLES)
def summary_document(plan_id: int, ext: str):
    loaded = _load(plan_id)
    if not loaded.sees_all:
        forbidden(f"plan {plan_id}: summary")
    try:
        if ext == "pdf":
            data = pdf.summary_pdf(loaded.instance, loaded.plan, loaded.meta)
        else:
            data = xlsx.summary_workbook(loaded.instance, loaded.plan, loaded.meta)
    except ReportError as e:
        _unprintable(e)
    return _send(data, f"共同調達計画まとめ_計画{plan_id}", ext)


@bp.get("/plans/<int:plan_id>/reports.zip")
@roles_required(*ROLES)
def plan_zip(plan_id: int):
    loaded = _load(plan_id)

    def allowed(doc: bundle.Document) -> bool:
        if doc.kind == "group":
            return access.sees_group(current_user, loaded.plan_access, loaded.group_bodies(doc.key))
        if doc.kind == "member":
            return access.sees_member(current_user, loaded.plan_access, loaded.body_of_need(doc.key))
        return loaded.sees_all

    included = [d for d in bundle.plan_documents(loaded.plan) if allowed(d)]
    if not included:
        forbidden(f"plan {plan_id}: no document of this plan is the user's")
    key = cache_key(loaded.row.instance_doc, loaded.row.plan_doc, asdict(loaded.meta),
                    [(d.kind, d.key) for d in included])
    folder = current_app.config.get("REPORT_CACHE_DIR") or Path(current_app.instance_path) / "report_cache"
    try:
        data = cached(folder, key, ".zip", lambda: bundle.plan_zip(loaded.instance, loaded.plan, loaded.meta,
                                                                   allowed=allowed))
    except ReportError as e:
        _unprintable(e)
    return _send(data, f"帳票一式_計画{plan_id}", "zip")
