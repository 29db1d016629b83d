"""Scenarios (計画の条件): create, edit, copy, delete, overrides, and who may see them.

Overrides are kept on the scenario at the level users think in — bodies and a category — under
``Scenario.overrides["items"]``; :func:`apply_overrides` turns them into the instance's need-level
together / apart / fixed rules after the instance is built, so validation names the override that is impossible.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func
from sqlalchemy.orm.exc import StaleDataError
from sqlmodel import Session, col, select

from planner.db.models import (
    Body,
    Category,
    Consortium,
    MemberShare,
    Plan,
    PriceBook,
    Scenario,
    SubsidyEstimate,
    SubsidyRuleSet,
    utcnow,
)
from planner.db.rows import fetch, id_of, keys
from planner.domain import model
from planner.domain.instance_io import InstanceError, instance_to_dict, parse_instance
from planner.domain.model import Instance
from planner.domain.vocabulary import lead_role, mode_label, wareki_fiscal_year
from planner.services import access
from planner.services.access import Actor

from . import quotes
from .instances import scenario_need_query
from .releases import undeletable_reason

# The names describe_override prints without a session: body code -> name and ("category", id) -> category name
OverrideNames = dict[Any, str]

OVERRIDE_KINDS = {
    "together": "同じグループにする",
    "apart": "別のグループにする",
    "fix_group": "指定したグループに固定する",
    "fix_standalone": "単独調達に固定する",
}
STATUS_LABELS = {
    "draft": "未実行",
    "queued": "実行待ち",
    "running": "実行中",
    "cancelling": "中止処理中",
    "done": "完了",
    "failed": "失敗",
    "cancelled": "中止",
}
ACTIVE_STATUSES = ("queued", "running", "cancelling")
GEOGRAPHY_LABELS = {"same_prefecture": "同一都道府県内", "radius_km": "幹事団体からの距離（km）以内", "any": "制限なし"}
EDITABLE_FIELDS = (
    "name",
    "prefecture_code",
    "fiscal_year",
    "horizon_years",
    "geography_type",
    "radius_km",
    "max_members",
    "allocation_method",
    "allocation_weights",
    "allocation_core",
    "lead_must_be_grant_eligible",
    "lead_work_lead_yen",
    "lead_work_unified_yen",
    "body_codes",
    "category_ids",
    "hosts",
    "price_book_id",
    "subsidy_rule_set_id",
    "time_limit_seconds",
    "is_demo",  # plans the demo's needs instead of the users' (never both)
)


def _record(session: Session, **kwargs: Any) -> None:
    # Imported on use: the job runner uses this module's override logic without the audit service.
    from planner.services import audit

    audit.record(session, **kwargs)


class ScenarioError(ValueError):
    """A request about a scenario that cannot be carried out; the message is shown to the user."""


class StaleScenario(ScenarioError):
    """Someone else changed the scenario since the user saw it (the conditional UPDATE matched no row)."""


class BadVersion(ScenarioError):
    """The form carried no version, or one that is not a number: the request is malformed, not stale."""


STALE_MESSAGE = "このシナリオは他の利用者によって更新されています。もう一度読み込んでください（表示は現在の内容です）。"


def parse_version(raw: Any) -> int:
    """The scenario version a form was built from; :class:`BadVersion` when it is missing or not a number."""
    text = str(raw).strip() if raw is not None else ""
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise BadVersion("フォームにシナリオの版（version）がないか、数値ではありません。画面を開き直してください。")
    return int(text)


def flush_versioned(session: Session) -> None:
    """Write the pending changes; the scenario's UPDATE carries ``WHERE version = <read>`` (its mapper's
    version_id_col), so a concurrent writer that got there first makes this one lose instead of being overwritten."""
    try:
        session.flush()
    except StaleDataError as e:
        raise StaleScenario(STALE_MESSAGE) from e


def find_scenario(session: Session, scenario_id: int) -> Scenario | None:
    """The scenario of ``scenario_id``, whoever may see it (the caller asks planner.services.access)."""
    return session.get(Scenario, scenario_id)


def scenario_rule_set(session: Session, scenario: Scenario) -> SubsidyRuleSet | None:
    """The subsidy rule set a run of ``scenario`` uses: its own choice, else the current one (None before any rule
    set is stored: the settlement then takes the newest shipped one)."""
    if scenario.subsidy_rule_set_id:
        return session.get(SubsidyRuleSet, scenario.subsidy_rule_set_id)
    return session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.is_current) == True)).first()  # noqa: E712


def list_scenarios(
    session: Session,
    user: Actor,
    *,
    prefecture_code: str | None = None,
    status: str | None = None,
    text: str | None = None,
    page: int = 1,
    per_page: int = 25,
) -> tuple[list[Scenario], int]:
    query = access.visible_scenarios(user)
    if prefecture_code:
        query = query.where(col(Scenario.prefecture_code) == prefecture_code)
    if status:
        query = query.where(col(Scenario.status) == status)
    if text:
        query = query.where(col(Scenario.name).contains(text))
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(
        query.order_by(col(Scenario.updated_at).desc(), col(Scenario.id).desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    return list(rows), int(total)


# --- create / edit / copy / delete ------------------------------------------------------------------------------


def scenario_snapshot(s: Scenario) -> dict[str, Any]:
    """The audited view of a scenario's parameters."""
    snap = {f: copy.deepcopy(getattr(s, f)) for f in EDITABLE_FIELDS}
    snap["overrides"] = copy.deepcopy(s.overrides)
    snap["version"] = s.version
    return snap


def defaults(session: Session) -> dict[str, Any]:
    book = session.exec(select(PriceBook).where(col(PriceBook.is_current) == True)).first()  # noqa: E712
    rules = session.exec(select(SubsidyRuleSet).where(col(SubsidyRuleSet.is_current) == True)).first()  # noqa: E712
    return {
        "price_book_id": book.id if book else None,
        "subsidy_rule_set_id": rules.id if rules else None,
        "horizon_years": book.horizon_years if book else 5,
    }


def validate_parameters(session: Session, user: Actor, data: dict[str, Any]) -> None:
    """Server-side checks the form cannot make: the prefecture and bodies are ones the user may plan for."""
    pref = data.get("prefecture_code") or None
    if not access.sees_prefecture(user, pref):
        raise ScenarioError("自都道府県のシナリオのみ作成・編集できます。")
    codes = list(data.get("body_codes") or [])
    if codes:
        found = session.exec(select(col(Body.code), col(Body.prefecture_code)).where(col(Body.code).in_(codes))).all()
        missing = sorted(set(codes) - {c for c, _ in found})
        if missing:
            raise ScenarioError(f"存在しない団体コードがあります: {', '.join(missing[:10])}")
        if pref is not None:
            outside = sorted(c for c, p in found if p != pref)
            if outside:
                raise ScenarioError(f"対象都道府県以外の団体が含まれています: {', '.join(outside[:10])}")
    elif pref is None:
        raise ScenarioError("都道府県を指定しない場合は、対象団体を指定してください。")
    for host in data.get("hosts") or []:
        body = session.get(Body, host.get("body", ""))
        if body is None:
            raise ScenarioError(f"幹事（ホスト）団体 {host.get('body')} が見つかりません。")
        if pref is not None and body.prefecture_code != pref and data.get("geography_type") == "same_prefecture":
            raise ScenarioError(f"幹事（ホスト）団体 {body.name} は対象都道府県の団体ではありません。")
    cats = list(data.get("category_ids") or [])
    if cats:
        known = set(session.exec(select(col(Category.id)).where(col(Category.id).in_(cats))).all())
        unknown = sorted(set(cats) - known)
        if unknown:
            raise ScenarioError(f"存在しない分野があります: {', '.join(unknown)}")
    if data.get("geography_type") == "radius_km" and not (data.get("radius_km") or 0) > 0:
        raise ScenarioError("距離の条件を選んだ場合は、半径（km）を正の数で指定してください。")
    cap = data.get("max_members")
    if cap is not None and (isinstance(cap, bool) or not isinstance(cap, int) or not 2 <= cap <= 500):
        raise ScenarioError("1グループの上限団体数は2〜500の整数で指定してください（空欄なら上限なし）。")
    if data.get("price_book_id") is not None and session.get(PriceBook, data["price_book_id"]) is None:
        raise ScenarioError("指定した価格表の版が見つかりません。")
    if data.get("subsidy_rule_set_id") is not None and session.get(SubsidyRuleSet, data["subsidy_rule_set_id"]) is None:
        raise ScenarioError("指定した補助制度ルールの版が見つかりません。")


def create_scenario(session: Session, user: Actor, data: dict[str, Any]) -> Scenario:
    validate_parameters(session, user, data)
    base = defaults(session)
    values = {k: data[k] for k in EDITABLE_FIELDS if k in data}
    for key, value in base.items():
        if values.get(key) is None:
            values[key] = value
    scenario = Scenario(**values, created_by=user.id, status="draft")
    session.add(scenario)
    session.flush()
    _record(
        session,
        user_id=user.id,
        action="create",
        entity="scenario",
        entity_id=str(scenario.id),
        after=scenario_snapshot(scenario),
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」を作成",
    )
    return scenario


def _check_editable(scenario: Scenario, expected_version: Any) -> None:
    version = parse_version(expected_version)
    if scenario.status in ACTIVE_STATUSES:
        raise ScenarioError("実行中のシナリオは変更できません。中止するか、終了を待ってください。")
    if version != scenario.version:
        raise StaleScenario(STALE_MESSAGE)


def update_scenario(
    session: Session, user: Actor, scenario: Scenario, data: dict[str, Any], expected_version: Any
) -> Scenario:
    _check_editable(scenario, expected_version)
    validate_parameters(session, user, {**scenario_snapshot(scenario), **data})
    before = scenario_snapshot(scenario)
    for key in EDITABLE_FIELDS:
        if key in data:
            setattr(scenario, key, data[key])
    _save_update(session, user, scenario, before, f"シナリオ「{scenario.name}」を変更")
    return scenario


def _bump(scenario: Scenario) -> None:
    scenario.version += 1
    scenario.updated_at = utcnow()


def _save_update(session: Session, user: Actor, scenario: Scenario, before: dict[str, Any], detail: str) -> None:
    """Write an edit of the scenario: a new version (the conditional UPDATE refuses an edit made meanwhile) and its
    audit entry with the scenario before and after."""
    _bump(scenario)
    session.add(scenario)
    _record(
        session,
        user_id=user.id,
        action="update",
        entity="scenario",
        entity_id=str(scenario.id),
        before=before,
        after=scenario_snapshot(scenario),
        prefecture_code=scenario.prefecture_code,
        detail=detail,
    )
    flush_versioned(session)


def copy_scenario(
    session: Session,
    user: Actor,
    scenario: Scenario,
    *,
    name: str | None = None,
    extra_override: dict[str, Any] | None = None,
) -> Scenario:
    """A new draft with the same parameters (and overrides), optionally with one more override."""
    values = {k: copy.deepcopy(getattr(scenario, k)) for k in EDITABLE_FIELDS}
    values["name"] = (name or f"{scenario.name}（複製）")[:120]
    overrides = copy.deepcopy(scenario.overrides or {})
    if extra_override is not None:
        overrides.setdefault("items", []).append(normalise_override(extra_override))
    overrides["copied_from"] = scenario.id
    clone = Scenario(
        **values,
        overrides=overrides,
        created_by=user.id,
        status="draft",
        # a consortium's copy stays the consortium's (the form never edits these)
        partnership_id=scenario.partnership_id,
        partnership_lead_code=scenario.partnership_lead_code,
    )
    session.add(clone)
    session.flush()
    from planner.services.quotes import copy_quotes

    copy_quotes(session, id_of(scenario), id_of(clone))  # a copy keeps the vendors' prices
    _record(
        session,
        user_id=user.id,
        action="create",
        entity="scenario",
        entity_id=str(clone.id),
        after=scenario_snapshot(clone),
        prefecture_code=clone.prefecture_code,
        detail=f"シナリオ {scenario.id}「{scenario.name}」を複製して「{clone.name}」を作成",
    )
    return clone


def delete_scenario(session: Session, user: Actor, scenario: Scenario) -> None:
    if scenario.status in ACTIVE_STATUSES:
        raise ScenarioError("実行中のシナリオは削除できません。先に中止してください。")
    plan_ids = keys(session.exec(select(col(Plan.id)).where(col(Plan.scenario_id) == scenario.id)))
    reason = undeletable_reason(session, plan_ids)
    if reason is not None:
        raise ScenarioError(reason)
    quotes.delete_for_scenarios(session, [id_of(scenario)])
    delete_plans(session, plan_ids)
    before = scenario_snapshot(scenario)
    _record(
        session,
        user_id=user.id,
        action="delete",
        entity="scenario",
        entity_id=str(scenario.id),
        before=before,
        prefecture_code=scenario.prefecture_code,
        detail=f"シナリオ「{scenario.name}」と計画 {len(plan_ids)} 件を削除",
    )
    session.delete(scenario)
    flush_versioned(session)  # DELETE ... WHERE version = <read>: never deletes over an edit it has not seen


def delete_plans(session: Session, plan_ids: Iterable[int]) -> None:
    plan_ids = list(plan_ids)
    if not plan_ids:
        return
    consortium_ids = select(col(Consortium.id)).where(col(Consortium.plan_id).in_(plan_ids))
    share_ids = select(col(MemberShare.id)).where(col(MemberShare.consortium_id).in_(consortium_ids))
    session.exec(delete(SubsidyEstimate).where(col(SubsidyEstimate.member_share_id).in_(share_ids)))
    session.exec(delete(MemberShare).where(col(MemberShare.consortium_id).in_(consortium_ids)))
    session.exec(delete(Consortium).where(col(Consortium.plan_id).in_(plan_ids)))
    session.exec(delete(Plan).where(col(Plan.id).in_(plan_ids)))


# --- overrides ----------------------------------------------------------------------------------------------------


def normalise_override(item: dict[str, Any]) -> dict[str, Any]:
    kind = item.get("kind")
    if kind not in OVERRIDE_KINDS:
        raise ScenarioError(f"上書き設定の種類が不正です: {kind}")
    bodies = [b for b in item.get("bodies") or [] if b]
    if kind in ("together", "apart"):
        if len(bodies) != 2 or bodies[0] == bodies[1]:
            raise ScenarioError("「同じグループ」「別のグループ」には異なる2団体を指定してください。")
    elif len(bodies) != 1:
        raise ScenarioError("固定する団体を1つ指定してください。")
    if kind == "fix_group" and not (item.get("mode") in ("lead", "unified") and item.get("lead_body")):
        raise ScenarioError(
            "グループに固定するには、方式と幹事団体（仕様統一方式では取りまとめ団体）を指定してください。"
        )
    if not item.get("category"):
        raise ScenarioError("上書き設定の分野を指定してください。")
    clean = {"id": item.get("id") or uuid.uuid4().hex[:8], "kind": kind, "category": item["category"], "bodies": bodies}
    if kind == "fix_group":
        clean.update(mode=item["mode"], lead_body=item["lead_body"], group_label=item.get("group_label", ""))
    return clean


def override_items(scenario: Scenario) -> list[dict[str, Any]]:
    return list((scenario.overrides or {}).get("items", []))


def add_override(
    session: Session, user: Actor, scenario: Scenario, item: dict[str, Any], expected_version: Any
) -> dict[str, Any]:
    _check_editable(scenario, expected_version)
    clean = normalise_override(item)
    check_override_bodies(session, scenario, clean)
    before = scenario_snapshot(scenario)
    overrides = copy.deepcopy(scenario.overrides or {})
    overrides.setdefault("items", []).append(clean)
    scenario.overrides = overrides
    _save_update(session, user, scenario, before, f"上書き設定を追加: {describe_override(session, clean)}")
    return clean


def remove_override(session: Session, user: Actor, scenario: Scenario, item_id: str, expected_version: Any) -> None:
    _check_editable(scenario, expected_version)
    items = override_items(scenario)
    remaining = [i for i in items if i.get("id") != item_id]
    if len(remaining) == len(items):
        raise ScenarioError("指定した上書き設定が見つかりません。")
    before = scenario_snapshot(scenario)
    removed = next(i for i in items if i.get("id") == item_id)
    overrides = copy.deepcopy(scenario.overrides or {})
    overrides["items"] = remaining
    scenario.overrides = overrides
    _save_update(session, user, scenario, before, f"上書き設定を削除: {describe_override(session, removed)}")


def check_override_bodies(session: Session, scenario: Scenario, item: dict[str, Any]) -> None:
    codes = list(item["bodies"]) + ([item["lead_body"]] if item.get("lead_body") else [])
    for code in codes:
        body = session.get(Body, code)
        if body is None:
            raise ScenarioError(f"団体コード {code} が見つかりません。")
        if (
            scenario.body_codes
            and code not in scenario.body_codes
            and code not in {h.get("body") for h in scenario.hosts or []}
        ):
            raise ScenarioError(f"{body.name} はこのシナリオの対象団体ではありません。")
        if (
            not scenario.body_codes
            and not session.exec(
                select(col(Body.code)).where(col(Body.code) == code, access.planned_bodies(scenario))
            ).first()
        ):
            raise ScenarioError(
                f"{body.name} はこの協議会の参加団体ではありません。"
                if scenario.partnership_id
                else f"{body.name} はこのシナリオの都道府県の団体ではありません。"
            )
    if session.get(Category, item["category"]) is None:
        raise ScenarioError(f"分野 {item['category']} が見つかりません。")
    check_override_needs(session, scenario, item)


def check_override_needs(session: Session, scenario: Scenario, item: dict[str, Any]) -> None:
    """Refuse at entry what the run would refuse: a body without a need of the category, or a 'together' pair whose
    needs start in different fiscal years (a group shares one start year)."""
    category = fetch(session, Category, item["category"])  # add_override refused an unknown one
    years: dict[str, set[int]] = {}
    for need in session.exec(scenario_need_query(scenario, item["bodies"], [item["category"]])):
        years.setdefault(need.body_code, set()).add(need.start_year)
    bodies = {code: session.get(Body, code) for code in item["bodies"]}
    names = {code: body.name if body is not None else code for code, body in bodies.items()}
    for code in item["bodies"]:
        if code not in years:
            raise ScenarioError(
                f"{names[code]}には、このシナリオで計画する分野「{category.name}」の登録中のニーズがありません。"
            )
    if item["kind"] == "together":
        a, b = item["bodies"]
        if not years[a] & years[b]:

            def label(code: str) -> str:
                return "・".join(wareki_fiscal_year(y) for y in sorted(years[code]))

            raise ScenarioError(
                f"{names[a]}（{label(a)}開始）と{names[b]}（{label(b)}開始）は導入希望年度が異なるため、"
                "同じグループにできません。グループは導入希望年度が同じニーズでつくります。"
            )


def describe_override(session_or_names: Session | OverrideNames, item: dict[str, Any]) -> str:
    """A Japanese sentence for an override, e.g. 「AI-OCR：長野市と松本市を同じグループにする」."""

    def name(code: str) -> str:
        if isinstance(session_or_names, dict):
            return str(session_or_names.get(code, code))
        body = session_or_names.get(Body, code)
        return body.name if body else code

    def category(cid: str) -> str:
        if isinstance(session_or_names, dict):
            return str(session_or_names.get(("category", cid), cid))
        cat = session_or_names.get(Category, cid)
        return cat.name if cat else cid

    bodies = [name(c) for c in item.get("bodies", [])]
    head = f"{category(item.get('category', ''))}："
    kind = item.get("kind")
    if kind == "together":
        return head + f"{bodies[0]}と{bodies[1]}を同じグループにする"
    if kind == "apart":
        return head + f"{bodies[0]}と{bodies[1]}を別のグループにする"
    if kind == "fix_group":
        mode = str(item["mode"]) if item.get("mode") in ("lead", "unified") else "unified"
        return head + (
            f"{bodies[0]}を{name(item.get('lead_body', ''))}が{lead_role(mode)}の{mode_label(mode)}グループに固定する"
        )
    if kind == "fix_standalone":
        return head + f"{bodies[0]}を単独調達に固定する"
    return head + str(kind)


@dataclass
class OverrideRules:
    together: list[tuple[str, str]]
    apart: list[tuple[str, str]]
    fixed: list[dict[str, str]]


def override_rules(instance: Instance, items: Iterable[dict[str, Any]]) -> OverrideRules:
    """Need-level rules for body-level override items; a ScenarioError names an item that cannot apply."""
    by_body_cat: dict[tuple[str, str], list[model.Need]] = {}
    for need in instance.needs:
        by_body_cat.setdefault((need.body, need.category), []).append(need)
    rules = OverrideRules([], [], [])
    for item in items:
        cat = item["category"]
        cat_name = instance.categories[cat].name if cat in instance.categories else cat
        kind_name = str(item.get("kind"))
        label = f"上書き設定（{OVERRIDE_KINDS.get(kind_name, kind_name)}、{cat_name}）"
        needs = [by_body_cat.get((code, cat), []) for code in item["bodies"]]
        for code, found in zip(item["bodies"], needs, strict=True):
            if not found:
                raise ScenarioError(f"{label}: {_body_name(instance, code)}に{cat_name}のニーズがありません。")
        kind = item["kind"]
        if kind == "together":
            pairs = [(a.id, b.id) for a in needs[0] for b in needs[1] if a.start_year == b.start_year]
            if not pairs:
                raise ScenarioError(
                    f"{label}: {_body_name(instance, item['bodies'][0])}と"
                    f"{_body_name(instance, item['bodies'][1])}の導入希望年度が異なるため、"
                    "同じグループにできません。"
                )
            rules.together.extend(pairs)
        elif kind == "apart":
            rules.apart.extend((a.id, b.id) for a in needs[0] for b in needs[1] if a.start_year == b.start_year)
        elif kind == "fix_standalone":
            rules.fixed.extend({"need": n.id, "mode": "standalone"} for n in needs[0])
        elif kind == "fix_group":
            for n in needs[0]:
                if item["mode"] not in n.modes:
                    raise ScenarioError(
                        f"{label}: {_body_name(instance, n.body)}のニーズは"
                        f"{mode_label(item['mode'])}を受け入れていません。"
                    )
                rules.fixed.append({"need": n.id, "mode": item["mode"], "lead_body": item["lead_body"]})
    return rules


def instance_names(instance: Instance) -> OverrideNames:
    """The names describe_override needs, taken from a planning instance (no session at hand)."""
    names: OverrideNames = {code: body.name for code, body in instance.bodies.items()}
    names.update({("category", cid): cat.name for cid, cat in instance.categories.items()})
    return names


def _body_name(instance: Instance, code: str) -> str:
    body = instance.bodies.get(code)
    return body.name if body else code


def apply_overrides(instance: Instance, items: Iterable[dict[str, Any]]) -> Instance:
    """The instance with the override items added to its rules (a later fixed rule replaces an earlier one)."""
    items = list(items)
    if not items:
        return instance
    rules = override_rules(instance, items)
    doc = instance_to_dict(instance)
    doc["rules"]["together"] = _unique_pairs(doc["rules"]["together"] + [list(p) for p in rules.together])
    doc["rules"]["apart"] = _unique_pairs(doc["rules"]["apart"] + [list(p) for p in rules.apart])
    fixed = {f["need"]: f for f in doc["rules"]["fixed"]}
    for f in rules.fixed:
        fixed[f["need"]] = f
    doc["rules"]["fixed"] = list(fixed.values())
    try:
        return parse_instance(doc)
    except InstanceError as e:
        raise ScenarioError(f"上書き設定を適用できません: {e}") from e


def _unique_pairs(pairs: list[list[str]]) -> list[list[str]]:
    seen, out = set(), []
    for a, b in pairs:
        key = frozenset((a, b))
        if key not in seen:
            seen.add(key)
            out.append([a, b])
    return out


def restrict_to_categories(instance: Instance, categories: set[str]) -> Instance:
    """The part of the instance with only these categories' needs (its rules restricted to match)."""
    doc = instance_to_dict(instance)
    keep = {n["id"] for n in doc["needs"] if n["category"] in categories}
    doc["needs"] = [n for n in doc["needs"] if n["id"] in keep]
    for key in ("together", "apart"):
        doc["rules"][key] = [p for p in doc["rules"][key] if p[0] in keep and p[1] in keep]
    doc["rules"]["fixed"] = [f for f in doc["rules"]["fixed"] if f["need"] in keep]
    return parse_instance(doc)
