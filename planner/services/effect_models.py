"""The effect model (導入効果の見込みモデル) kept as versioned rows, like the subsidy rule sets, and the effect inputs a
scenario's needs and bodies carry (a need's own baseline figures, a body's or prefecture's staff cost per hour).

``planner init-db`` stores every shipped planner/data/effect_model/*.json whose version is absent; an administrator
makes new versions from edited copies (checked by the domain's parser); old versions are kept because plans record
the version they were estimated with.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from planner.db.models import Body, EffectModelVersion, Need
from planner.db.rows import id_of
from planner.domain.effects import (
    EFFECT_MODEL_DIR,
    Baseline,
    EffectModel,
    EffectModelError,
    parse_effect_model,
    resolve_staff_costs,
    validate_effect_model,
)

from . import audit, body_admin
from .reference_data import ReferenceDataError

if TYPE_CHECKING:
    from planner.domain.effects import Burdens

    from .needs import Estimate


def load_effect_models(session: Session, directory: Path = EFFECT_MODEL_DIR, user_id: int | None = None) -> list[str]:
    """Store every model file of ``directory`` whose version is absent (the newest becomes current when something
    was added or nothing is current). Raises ReferenceDataError (nothing written) for a broken file."""
    docs, problems = [], []
    for path in sorted(Path(directory).glob("*.json")) if Path(directory).is_dir() else []:
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError, UnicodeDecodeError) as e:
            problems.append(f"{path}: 導入効果モデルの JSON を読めません（{e}）")
            continue
        problems.extend(f"{path.name}: {p}" for p in validate_effect_model(doc))
        docs.append((path, doc))
    if problems:
        raise ReferenceDataError(problems)
    existing = set(session.exec(select(col(EffectModelVersion.version))))
    loaded = []
    for path, doc in docs:
        if doc["version"] in existing:
            continue
        session.add(EffectModelVersion(version=doc["version"], data=doc, created_by=user_id))
        loaded.append(doc["version"])
        audit.record(
            session,
            user_id=user_id,
            action="create",
            entity="effect_model",
            entity_id=doc["version"],
            detail=f"{path.name} から登録",
        )
    session.flush()
    if loaded or current_effect_model_row(session) is None:
        newest = max(
            session.exec(select(EffectModelVersion)), key=lambda r: (r.version in loaded, r.version), default=None
        )
        if newest is not None:
            _set_current(session, newest)
    return loaded


def current_effect_model_row(session: Session) -> EffectModelVersion | None:
    return session.exec(select(EffectModelVersion).where(col(EffectModelVersion.is_current) == True)).first()  # noqa: E712


def current_effect_model(session: Session) -> EffectModel | None:
    """The current model as the domain reads it; None when none is stored (a database before init-db)."""
    row = current_effect_model_row(session)
    if row is None:
        return None
    try:
        return parse_effect_model(row.data)
    except EffectModelError as e:
        raise ReferenceDataError([f"導入効果モデル {row.version}: {p}" for p in e.problems]) from e


def _set_current(session: Session, row: EffectModelVersion) -> None:
    for other in session.exec(select(EffectModelVersion).where(col(EffectModelVersion.is_current) == True)):  # noqa: E712
        other.is_current = False
    row.is_current = True
    session.flush()


def make_effect_model_current(session: Session, row: EffectModelVersion, user_id: int | None) -> bool:
    previous = current_effect_model_row(session)
    if previous is not None and previous.id == row.id:
        return False
    _set_current(session, row)
    audit.record(
        session,
        user_id=user_id,
        action="update",
        entity="effect_model",
        entity_id=row.version,
        before={"current": previous.version if previous else None},
        after={"current": row.version},
        detail=f"現行の導入効果モデルを {row.version} に変更",
    )
    session.flush()
    return True


def create_effect_model_version(
    session: Session,
    base: EffectModelVersion,
    doc: Mapping[str, Any],
    user_id: int | None,
    *,
    make_current: bool = False,
) -> EffectModelVersion:
    """Store an edited copy of ``base`` as a new version (the base is kept). Raises ReferenceDataError."""
    problems = validate_effect_model(doc)
    if (
        not problems
        and session.exec(select(EffectModelVersion).where(col(EffectModelVersion.version) == doc["version"])).first()
        is not None
    ):
        problems.append(f"version: 版「{doc['version']}」は既にあります。別の版名にしてください")
    if problems:
        raise ReferenceDataError(problems)
    row = EffectModelVersion(version=doc["version"], data=dict(doc), created_by=user_id)
    session.add(row)
    session.flush()
    before = base.data or {}
    changed = {k: doc.get(k) for k in set(doc) | set(before) if before.get(k) != doc.get(k) and k != "version"}
    audit.record(
        session,
        user_id=user_id,
        action="create",
        entity="effect_model",
        entity_id=row.version,
        before={k: before.get(k) for k in changed},
        after=changed,
        detail=f"{base.version} をもとに作成",
    )
    if make_current:
        make_effect_model_current(session, row, user_id)
    session.flush()
    return row


# --- a scenario's effect inputs -------------------------------------------------------------------------------


def need_baseline(need: Need) -> Baseline:
    return Baseline(minutes_per_unit=need.baseline_minutes_per_unit, hours_per_year=need.baseline_hours_per_year)


def staff_costs_for(session: Session, codes: Iterable[str]) -> dict[str, int]:
    """Staff cost per hour of each body: its own figure, else its prefecture's."""
    bodies = list(session.exec(select(Body).where(col(Body.code).in_(list(codes)))))
    prefectures = {b.prefecture_code for b in bodies}
    prefecture_bodies = body_admin.prefecture_bodies(session, prefectures)
    everyone = {b.code: b for b in bodies + prefecture_bodies}
    own = {b.code: b.staff_cost_per_hour_yen for b in everyone.values() if b.staff_cost_per_hour_yen}
    resolved = resolve_staff_costs(((b.code, b.kind, b.prefecture_code) for b in everyone.values()), own)
    return {code: cost for code, cost in resolved.items() if code in {b.code for b in bodies}}


def staff_cost_for(session: Session, code: str) -> int | None:
    return staff_costs_for(session, [code]).get(code)


def scenario_effect_inputs(
    session: Session, need_ids: Iterable[int], body_codes: Iterable[str]
) -> tuple[dict[str, Baseline], dict[str, int]]:
    """(baselines by plan need key "n{id}", staff costs by body code) for a scenario's needs and bodies."""
    from .instances import need_key

    ids = list(need_ids)
    needs = list(session.exec(select(Need).where(col(Need.id).in_(ids)))) if ids else []
    baselines = {need_key(id_of(n)): need_baseline(n) for n in needs if need_baseline(n).given}
    return baselines, staff_costs_for(session, body_codes)


# --- the need form's estimate -----------------------------------------------------------------------------------


def need_form_effect(
    session: Session,
    body: Body,
    category_id: str,
    unit: str,
    volume: float,
    start_year: int,
    baseline: Baseline,
    estimate: Estimate | None = None,
) -> dict[str, Any] | None:
    """The effect estimate for the values on the need form, going alone (the only way known before a plan):
    {"effect": NeedEffect, "net_known": bool, "caveat", "model_version"}; None without a stored model.
    ``estimate``: the standalone estimate of the same values when the caller has it (the form shows it too),
    so that it is not computed twice a request."""
    from planner.domain.effects import Burdens, estimate_need

    from .needs import standalone_estimate

    try:
        model = current_effect_model(session)
    except ReferenceDataError:
        return None
    if model is None:
        return None
    if estimate is None and volume and volume > 0:
        estimate = standalone_estimate(session, body, category_id, volume, start_year)
    burdens, net_known = None, False
    if estimate is not None:
        cost = estimate.cost
        burdens = Burdens(cost.initial_yen, cost.annual_yen, estimate.horizon_years)
        net = _standalone_subsidy(session, body, category_id, volume, start_year, estimate)
        if net is not None:
            burdens, net_known = net, True
    effect = estimate_need(
        model,
        "form",
        category_id,
        volume or 0.0,
        baseline=baseline,
        unit=unit,
        standalone=burdens,
        staff_cost_per_hour_yen=staff_cost_for(session, body.code),
        population=body.population,
    )
    return {"effect": effect, "net_known": net_known, "caveat": model.caveat, "model_version": model.version}


def _standalone_subsidy(
    session: Session, body: Body, category_id: str, volume: float, start_year: int, estimate: Estimate
) -> Burdens | None:
    """Going alone after the current rule set's grant and special-tax estimates, as Burdens (None when the rules
    or the body's data do not allow an estimate; the form then says the figures are before subsidies)."""
    from planner.domain.effects import burdens_from_subsidy
    from planner.domain.subsidies import SubsidyRulesError, estimate_group, validate_rules

    from .instances import one_need_instance
    from .reference_data import current_price_book, current_subsidy_rule_set, domain_categories

    rules = current_subsidy_rule_set(session)
    book = current_price_book(session)
    if rules is None or book is None or validate_rules(rules.data):
        return None
    try:
        cats = domain_categories(session, book, [category_id])
        instance, _ = one_need_instance(
            body, category_id, volume, start_year, estimate.horizon_years, cats, name="form"
        )
        cost = estimate.cost.as_dict()
        record = estimate_group(instance, "standalone", None, ["form"], {"form": cost}, {"form": cost}, rules.data)[
            "form"
        ]
    except (ReferenceDataError, SubsidyRulesError, KeyError, ValueError):
        return None
    return burdens_from_subsidy(record, estimate.horizon_years)[1]


MAX_STAFF_COST_YEN = 100_000


def set_staff_cost(session: Session, body: Body, yen_per_hour: int | None, user_id: int | None) -> bool:
    """Set (or clear, with None) a body's staff cost per hour; a prefecture's figure serves its bodies that have
    none. Audited; returns False when nothing changed. Raises ValueError with a Japanese message when out of range."""
    if yen_per_hour is not None and not 1 <= yen_per_hour <= MAX_STAFF_COST_YEN:
        raise ValueError(f"人件費単価は 1〜{MAX_STAFF_COST_YEN:,} 円/時間で入力してください（{yen_per_hour:,}）")
    before = body.staff_cost_per_hour_yen
    if before == yen_per_hour:
        return False
    body.staff_cost_per_hour_yen = yen_per_hour
    body.version = (body.version or 0) + 1
    session.add(body)
    audit.record(
        session,
        user_id=user_id,
        action="update",
        entity="body",
        entity_id=body.code,
        prefecture_code=body.prefecture_code,
        body_code=body.code,
        before={"staff_cost_per_hour_yen": before},
        after={"staff_cost_per_hour_yen": yen_per_hour},
        detail=f"{body.name} の人件費単価（導入効果の円換算）を変更",
    )
    session.flush()
    return True


def effect_model_versions(session: Session) -> list[EffectModelVersion]:
    """Every version, newest first."""
    return list(session.exec(select(EffectModelVersion).order_by(col(EffectModelVersion.id).desc())))
