"""The plan lifecycle: 試算 (a solved plan, prefecture only) → 確定案 (adopted as 計画 No.N 第M版) → 公表 (published to
the members with a reply deadline) → 旧版 (superseded by a later published version), or 取り下げ (withdrawn by its
coordinator, with a reason the members are told). One set of needs is asked in one published plan at a time.

Every transition is a conditional UPDATE guarded by the rows' ``lock_version`` and state, and the unique keys
(prefecture, number), (series, version) and (plan) stop two concurrent adoptions from numbering the same version:
two coordinators adopting or publishing at once never leave two current versions — the loser gets
:class:`LifecycleConflict` and nothing of its attempt is written. Every transition is audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, or_, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import defer
from sqlmodel import Session, col, select

from planner.db.models import Body, Consortium, MemberShare, PlanRelease, PlanSeries, Scenario, utcnow
from planner.db.models import Plan as PlanRow
from planner.db.rows import attribute, fetch, id_of
from planner.domain import input_changes
from planner.domain.input_changes import InputChange
from planner.domain.instance_io import InstanceError
from planner.domain.subsidies import RuleYearMismatch, default_rules, rule_year_mismatch
from planner.domain.vocabulary import fiscal_year_of, jst_date, today_jst, wareki_fiscal_year
from planner.services.access import Actor

from . import access, publication
from .answers import carry_answers
from .audit import record
from .reference_data import subsidy_rule_set
from .release_inputs import changes_since_publication, current_snapshot, plan_price_source, plan_snapshot
from .releases import (
    LifecycleConflict,
    LifecycleError,
    current_releases_for_body,
    planned_members,
    undeletable_reason,
    version_label,
)

# Re-exported: callers name them through this module, as before they moved to releases / release_inputs.
__all__ = [
    "LifecycleConflict",
    "LifecycleError",
    "changes_since_publication",
    "current_releases_for_body",
    "current_snapshot",
    "jst_date",
    "plan_price_source",
    "plan_snapshot",
    "planned_members",
    "rule_year_mismatch",
    "today_jst",
    "undeletable_reason",
    "version_label",
]

STATE_LABELS = {
    "draft": "試算",
    "adopted": "確定案（未公表）",
    "published": "公表中",
    "superseded": "旧版",
    "withdrawn": "取り下げ",
}
WITHDRAWAL_REASON_MAX = 2000
WITHDRAWN_SHOWN_DAYS = 90  # how long a member's home page tells it of a withdrawn plan
MEMBER_VISIBLE_STATES = access.MEMBER_VISIBLE_STATUSES


# --- reading ----------------------------------------------------------------------------------------------------


@dataclass
class ReleaseInfo:
    """A plan's place in the lifecycle, for the pages: its version, state, history and input changes."""

    plan_id: int
    release: PlanRelease | None
    series: PlanSeries | None
    history: list[PlanRelease] = field(default_factory=list)  # the series' versions, newest first
    changes: list[InputChange] | None = None  # None: not checked (drafts); [] nothing changed
    changes_error: str | None = None

    @property
    def state(self) -> str:
        return self.release.state if self.release else "draft"

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]

    @property
    def label(self) -> str:
        if self.release is None or self.series is None:
            return f"試算（計画 {self.plan_id}）"
        return version_label(self.series, self.release)

    @property
    def is_current(self) -> bool:
        return bool(
            self.release
            and self.series
            and self.release.state == "published"
            and self.series.current_version == self.release.version
        )

    @property
    def current_release(self) -> PlanRelease | None:
        if self.series is None or self.series.current_version is None:
            return None
        return next((r for r in self.history if r.version == self.series.current_version), None)

    def deadline_passed(self, now: datetime | None = None) -> bool:
        d = self.release.reply_deadline if self.release else None
        return d is not None and today_jst(now) > d


def release_summary(info: ReleaseInfo) -> dict[str, Any]:
    """The lifecycle facts of a plan as plain values (the JSON API; documents can print the same)."""
    r, s = info.release, info.series
    return {
        "state": info.state,
        "state_label": info.state_label,
        "label": info.label,
        "number": s.number if s else None,
        "version": r.version if r else None,
        "current": info.is_current,
        "current_version": s.current_version if s else None,
        "published_at": r.published_at.isoformat() if r and r.published_at else None,
        "reply_deadline": r.reply_deadline.isoformat() if r and r.reply_deadline else None,
        "price_source": r.price_source if r else None,
        "inputs_changed": None if info.changes is None else [c.text for c in info.changes],
    }


def release_of_plan(session: Session, plan_id: int) -> PlanRelease | None:
    # The stored inputs snapshot (a large document) is read only when it is compared (release_inputs).
    return session.exec(
        select(PlanRelease)
        .where(col(PlanRelease.plan_id) == plan_id)
        .options(defer(attribute(col(PlanRelease.inputs))))
    ).first()


def release_info(session: Session, plan_id: int, *, with_changes: bool = True) -> ReleaseInfo:
    release = release_of_plan(session, plan_id)
    if release is None:
        return ReleaseInfo(plan_id, None, None)
    series = fetch(session, PlanSeries, release.series_id)
    history = list(
        session.exec(
            select(PlanRelease)
            .where(col(PlanRelease.series_id) == series.id)
            .order_by(col(PlanRelease.version).desc())
            .options(defer(attribute(col(PlanRelease.inputs))))
        )
    )
    info = ReleaseInfo(plan_id, release, series, history)
    if with_changes and release.state in MEMBER_VISIBLE_STATES:
        info.changes, info.changes_error = changes_since_publication(session, release)
    return info


def plan_status(session: Session, plan_id: int) -> str:
    """The plan's lifecycle status for the access policy (planner.services.access.members_may_see): "draft" for a
    plan never adopted, else its release's state (adopted / published / superseded)."""
    release = release_of_plan(session, plan_id)
    return release.state if release is not None else "draft"


def series_choices(session: Session, scenario: Scenario) -> list[PlanSeries]:
    """The 計画 No. a scenario's draft may be adopted into: its prefecture's own, or its consortium's (a lead never
    sees, nor adopts into, its prefecture's series)."""
    if not scenario.prefecture_code:
        return []
    return list(
        session.exec(
            select(PlanSeries)
            .where(
                col(PlanSeries.prefecture_code) == scenario.prefecture_code,
                _same_partnership(scenario.partnership_id),
            )
            .order_by(col(PlanSeries.number).desc())
        )
    )


def _same_partnership(partnership_id: int | None) -> ColumnElement[bool]:
    return (
        col(PlanSeries.partnership_id).is_(None)
        if partnership_id is None
        else col(PlanSeries.partnership_id) == partnership_id
    )


def suggested_series(session: Session, scenario: Scenario) -> int | None:
    """A plan re-planned from a published version belongs, by default, to that version's series."""
    replan_of = (scenario.overrides or {}).get("replan_of_release")
    if replan_of:
        release = session.get(PlanRelease, int(replan_of))
        if release is not None:
            return release.series_id
    return None


# --- input snapshots --------------------------------------------------------------------------------------------


# --- which year's program the estimates describe ----------------------------------------------------------------


def rule_year(session: Session, rule_version: str | None) -> int | None:
    """The fiscal year whose program the plan's rule set describes: the stored set of ``rule_version``; a plan
    settled without one used the shipped default (settlement's as_rule_set(None)); None for an unknown version."""
    if not rule_version:
        return int(default_rules()["fiscal_year"])
    stored = subsidy_rule_set(session, rule_version)
    return stored.fiscal_year if stored is not None else None


def plan_start_years(plan: PlanRow) -> list[int]:
    """The start years of the plan's groups (every need of the plan's instance is in one group)."""
    needs = (plan.instance_doc or {}).get("needs") or []
    return [int(n["start_year"]) for n in needs if isinstance(n, dict) and n.get("start_year") is not None]


def plan_rule_year_mismatch(session: Session, plan: PlanRow) -> RuleYearMismatch | None:
    """subsidy-rules.md section 4: the plan's groups start in years its rule set does not describe (None: they do)."""
    return rule_year_mismatch(rule_year(session, plan.rule_version), plan_start_years(plan))


# --- transitions ------------------------------------------------------------------------------------------------


def _check_coordinator(user: Actor, scenario: Scenario) -> None:
    """The one who runs the scenario's plans: its prefecture's coordinator, or a consortium's lead (whose
    prefecture reads the consortium's plans but does not act on them)."""
    if not access.edits_scenario(user, scenario):
        raise LifecycleError("この計画を確定・公表する権限がありません。")


def _check_members_in_scope(session: Session, scenario: Scenario, plan: PlanRow) -> None:
    """A plan computed with needs the scenario may not plan (one solved before the rule held) is not adopted or
    published: its members outside would be asked to answer another prefecture's plan."""
    members = {str(n.get("body")) for n in (plan.instance_doc or {}).get("needs") or [] if isinstance(n, dict)}
    outside = sorted(members - planned_members(session, scenario, members))
    if outside:
        names = dict(session.exec(select(col(Body.code), col(Body.name)).where(col(Body.code).in_(outside))).all())
        raise LifecycleError(
            "この計画には対象都道府県以外の団体のニーズが含まれているため、確定・公表できません（"
            + "、".join(names.get(c, c) for c in outside[:10])
            + (" ほか" if len(outside) > 10 else "")
            + "）。シナリオの計画を作り直してください。"
        )


def _new_series(session: Session, user: Actor, scenario: Scenario, title: str) -> PlanSeries:
    """A new 計画 No. of the scenario's prefecture: the next free number, taken again when a concurrent adoption
    took it first (the unique key (prefecture, number) tells), so that numbers have no gaps and nobody is refused."""
    prefecture_code = scenario.prefecture_code
    if prefecture_code is None:  # adopt() refuses such a scenario first
        raise LifecycleError("都道府県が決まっていないシナリオの計画は確定できません。")
    for _ in range(20):
        number = (
            session.exec(
                select(func.max(col(PlanSeries.number))).where(
                    col(PlanSeries.prefecture_code) == scenario.prefecture_code
                )
            ).one()
            or 0
        ) + 1
        series = PlanSeries(
            prefecture_code=prefecture_code,
            partnership_id=scenario.partnership_id,
            number=number,
            title=(title or scenario.name)[:120],
            created_by=user.id,
        )
        try:
            with session.begin_nested():
                session.add(series)
                session.flush()
        except IntegrityError:
            continue
        return series
    raise LifecycleConflict("他の利用者が同時に多数の計画を確定しています。もう一度お試しください。")


def adopt(
    session: Session,
    user: Actor,
    plan: PlanRow,
    scenario: Scenario,
    *,
    series_id: int | None = None,
    title: str = "",
    replan_of: int | None = None,
    confirm_rule_year: bool = False,
) -> PlanRelease:
    """Adopt a draft as the next version of a series (a new 計画 No. when ``series_id`` is None).

    When the plan's groups start in fiscal years its subsidy rule set does not describe, the coordinator confirms
    it (``confirm_rule_year``; subsidy-rules.md section 4) or the adoption is refused; the confirmation is audited.

    Flushes inside a savepoint so that a lost race (the same plan, number or version taken meanwhile) raises
    :class:`LifecycleConflict` and leaves the caller's transaction usable; the caller commits."""
    _check_coordinator(user, scenario)
    if not scenario.prefecture_code:
        raise LifecycleError("都道府県が決まっていないシナリオ（複数の都道府県にまたがる試算）の計画は確定できません。")
    if release_of_plan(session, id_of(plan)) is not None:
        raise LifecycleConflict("この試算は既に確定されています。")
    _check_members_in_scope(session, scenario, plan)
    mismatch = plan_rule_year_mismatch(session, plan)
    if mismatch is not None and not confirm_rule_year:
        raise LifecycleError(
            f"{mismatch.text}確定するには、見込額がその年度の制度と異なる場合があることを確認する欄に"
            "印を付けてください。"
        )
    try:
        snap = plan_snapshot(plan)
    except InstanceError as e:
        raise LifecycleError(f"計画の保存データを読めません: {e}") from e
    if series_id is None:
        series = _new_series(session, user, scenario, title)
    else:
        chosen = session.get(PlanSeries, series_id)
        if (
            chosen is None
            or chosen.prefecture_code != scenario.prefecture_code
            or chosen.partnership_id != scenario.partnership_id
        ):
            raise LifecycleError("指定した計画番号はこのシナリオの計画ではありません。")
        series = chosen
    try:
        with session.begin_nested():
            # The series' counter, incremented in the database: concurrent adoptions into one series wait for each
            # other's increment here and take the next numbers in turn.
            session.exec(
                update(PlanSeries)
                .where(col(PlanSeries.id) == series.id)
                .values(last_version=col(PlanSeries.last_version) + 1)
            )
            version = session.exec(select(col(PlanSeries.last_version)).where(col(PlanSeries.id) == series.id)).one()
            release = PlanRelease(
                series_id=id_of(series),
                version=version,
                plan_id=id_of(plan),
                state="adopted",
                price_source=plan_price_source(plan),
                inputs=snap,
                inputs_fingerprint=input_changes.fingerprint(snap),
                adopted_by=user.id,
                replan_of=replan_of,
            )
            session.add(release)
            session.flush()
    except IntegrityError as e:
        # Only the plan's own key can be taken meanwhile (another coordinator adopted this very draft).
        raise LifecycleConflict("他の利用者が同時にこの試算を確定しました。画面を読み込み直してください。") from e
    session.refresh(series)
    record(
        session,
        user_id=user.id,
        action="adopt",
        entity="plan_release",
        entity_id=str(release.id),
        after={"plan_id": plan.id, "series": series.number, "version": version}
        | (
            {
                "rule_year": mismatch.rule_year,
                "plan_years": list(mismatch.plan_years),
                "rule_year_confirmed": True,
            }
            if mismatch is not None
            else {}
        ),
        prefecture_code=scenario.prefecture_code,
        detail=f"試算（計画 {plan.id}）を{version_label(series, release)}として確定"
        + (f"。確認済み：{mismatch.confirmation}" if mismatch is not None else ""),
    )
    return release


RELEASE_CHANGED = "他の利用者が同時にこの版を変更しました。画面を読み込み直してください。"


def _move_release(session: Session, release: PlanRelease, from_state: str, conflict: str, /, **values: Any) -> None:
    """Change ``release`` by one conditional UPDATE: only while it is still in ``from_state`` at the version this
    request read (its lock_version, which the UPDATE moves on), so that of two requests changing the same version at
    once the second changes nothing and gets :class:`LifecycleConflict` (``conflict``) instead of overwriting the
    first."""
    _update_or_conflict(
        session,
        PlanRelease,
        [
            col(PlanRelease.id) == release.id,
            col(PlanRelease.state) == from_state,
            col(PlanRelease.lock_version) == release.lock_version,
        ],
        conflict,
        **values,
    )


def _update_or_conflict(
    session: Session,
    model: type[PlanRelease] | type[PlanSeries],
    where: list[ColumnElement[bool]],
    conflict: str,
    /,
    **values: Any,
) -> None:
    """One row of ``model`` matching ``where`` gets ``values`` and the next lock_version, or nothing changes and
    :class:`LifecycleConflict` (``conflict``) says another user changed it first (the condition is the UPDATE's own,
    so it holds at the moment of writing, not only when the row was read)."""
    moved = session.exec(
        update(model).where(*where).values(**values, lock_version=col(model.lock_version) + 1)
    ).rowcount
    if moved != 1:
        raise LifecycleConflict(conflict)


def publish(
    session: Session,
    user: Actor,
    release: PlanRelease,
    *,
    deadline: date,
    message: str = "",
    now: datetime | None = None,
) -> PlanRelease:
    """Publish an adopted version to its members with a reply deadline; the version in force before becomes 旧版,
    and the answers to it that stand in this version are carried over (planner.services.answers.carry_answers)."""
    series = fetch(session, PlanSeries, release.series_id)
    plan = fetch(session, PlanRow, release.plan_id)
    scenario = fetch(session, Scenario, plan.scenario_id)
    _check_coordinator(user, scenario)
    if release.state != "adopted":
        raise LifecycleConflict(f"{version_label(series, release)}は既に{STATE_LABELS[release.state]}です。")
    if deadline < today_jst(now):
        raise LifecycleError("回答期限は今日以降の日付にしてください。")
    _check_members_in_scope(session, scenario, plan)
    _check_needs_not_open_elsewhere(session, release)
    stamp = now or utcnow()
    frozen = publication.capture(
        scenario.name,
        today_jst(stamp),
        publication.scenario_issuer(session, scenario),
        publication.current_data_source(session),
    )
    _move_release(
        session,
        release,
        "adopted",
        "他の利用者が同時にこの版を公表しました。画面を読み込み直してください。",
        state="published",
        published_at=stamp,
        published_by=user.id,
        reply_deadline=deadline,
        message=message[:4000],
        frozen=frozen,
    )
    if series.current_version is not None and series.current_version >= release.version:
        raise LifecycleConflict(
            f"{version_label(series, release)}より新しい第{series.current_version}版が公表されているため、公表できません。"
        )
    # Only a version newer than the one in force is published, the condition held in the UPDATE itself: of two
    # versions published at once the older one finds the newer in force (having waited for its commit) and loses.
    _update_or_conflict(
        session,
        PlanSeries,
        [
            col(PlanSeries.id) == series.id,
            or_(col(PlanSeries.current_version).is_(None), col(PlanSeries.current_version) < release.version),
        ],
        f"他の利用者が同時に{version_label(series, release)}より新しい版を公表しました。画面を読み込み直してください。",
        current_version=release.version,
    )
    # The version it replaces, read while this transaction holds the series (not the one read before it waited)
    previous = session.exec(
        select(func.max(col(PlanRelease.version))).where(
            col(PlanRelease.series_id) == series.id,
            col(PlanRelease.state) == "published",
            col(PlanRelease.id) != release.id,
        )
    ).one()
    session.exec(
        update(PlanRelease)
        .where(
            col(PlanRelease.series_id) == series.id,
            col(PlanRelease.state) == "published",
            col(PlanRelease.id) != release.id,
        )
        .values(state="superseded", superseded_at=stamp, lock_version=col(PlanRelease.lock_version) + 1)
    )
    session.refresh(release)
    session.refresh(series)
    carried = carry_answers(session, user, release)
    record(
        session,
        user_id=user.id,
        action="publish",
        entity="plan_release",
        entity_id=str(release.id),
        before={"current_version": previous},
        after={"current_version": release.version, "reply_deadline": deadline},
        prefecture_code=series.prefecture_code,
        detail=f"{version_label(series, release)}を公表（回答期限 {deadline:%Y-%m-%d}）"
        + (f"。第{previous}版は旧版になりました" if previous else "")
        + (f"。グループと負担が変わらない回答・不参加の回答 {carried} 件を引き継ぎました" if carried else ""),
    )
    return release


def open_releases_sharing_needs(session: Session, release: PlanRelease) -> list[tuple[PlanRelease, PlanSeries, int]]:
    """The versions in force of OTHER series that ask for answers on some of this release's needs, each with how
    many needs they share: one set of needs is asked in one published plan at a time (a town must not be asked to
    answer two plans for the same need)."""
    mine = select(col(MemberShare.need_key)).join(Consortium, col(Consortium.id) == col(MemberShare.consortium_id))
    mine = mine.where(col(Consortium.plan_id) == release.plan_id)
    rows = session.exec(
        select(PlanRelease, PlanSeries, func.count(func.distinct(col(MemberShare.need_key))))
        .join(PlanSeries, col(PlanSeries.id) == col(PlanRelease.series_id))
        .join(Consortium, col(Consortium.plan_id) == col(PlanRelease.plan_id))
        .join(MemberShare, col(MemberShare.consortium_id) == col(Consortium.id))
        .where(
            col(PlanRelease.state) == "published",
            col(PlanSeries.current_version) == col(PlanRelease.version),
            col(PlanRelease.series_id) != release.series_id,
            col(MemberShare.need_key).in_(mine),
        )
        .group_by(col(PlanRelease.id), col(PlanSeries.id))
        .order_by(col(PlanSeries.number))
    ).all()
    return [(r, s, int(n)) for r, s, n in rows]


def _check_needs_not_open_elsewhere(session: Session, release: PlanRelease) -> None:
    others = open_releases_sharing_needs(session, release)
    if others:
        named = "、".join(f"{version_label(s, r)}（{n} 件）" for r, s, n in others[:5])
        raise LifecycleConflict(
            f"この計画のニーズは公表中の{named}でも回答を求めています。同じニーズに回答を求める計画は一つだけです。"
            "先にその計画を取り下げるか、その計画の次の版として確定してください。"
        )


def withdraw(
    session: Session, user: Actor, release: PlanRelease, *, reason: str, now: datetime | None = None
) -> list[str]:
    """Withdraw (取り下げ) the published version in force: it takes no more answers, the series has no version in
    force until a later one is published, and its members are told why on their home page. Returns the member
    bodies told (their codes)."""
    series = fetch(session, PlanSeries, release.series_id)
    plan = fetch(session, PlanRow, release.plan_id)
    scenario = fetch(session, Scenario, plan.scenario_id)
    _check_coordinator(user, scenario)
    reason = (reason or "").strip()
    if not reason:
        raise LifecycleError("取り下げの理由を入力してください（参加団体に表示されます）。")
    if len(reason) > WITHDRAWAL_REASON_MAX:
        raise LifecycleError(f"取り下げの理由は{WITHDRAWAL_REASON_MAX}文字以内にしてください。")
    if release.state != "published" or series.current_version != release.version:
        raise LifecycleConflict(
            f"{version_label(series, release)}は公表中の版ではないため取り下げられません（{STATE_LABELS[release.state]}）。"
        )
    stamp = now or utcnow()
    _move_release(
        session,
        release,
        "published",
        RELEASE_CHANGED,
        state="withdrawn",
        withdrawn_at=stamp,
        withdrawn_by=user.id,
        withdrawal_reason=reason,
    )
    _update_or_conflict(
        session,
        PlanSeries,
        [col(PlanSeries.id) == series.id, col(PlanSeries.current_version) == release.version],
        "他の利用者が同時にこの計画の新しい版を公表しました。画面を読み込み直してください。",
        current_version=None,
    )
    session.refresh(release)
    session.refresh(series)
    told = member_bodies(session, release.plan_id)
    record(
        session,
        user_id=user.id,
        action="withdraw",
        entity="plan_release",
        entity_id=str(release.id),
        before={"state": "published", "current_version": release.version},
        after={"state": "withdrawn", "current_version": None, "reason": reason, "members_told": told},
        prefecture_code=series.prefecture_code,
        detail=f"{version_label(series, release)}を取り下げ（理由：{reason[:200]}）。参加団体 {len(told)} 団体に表示",
    )
    return told


def member_bodies(session: Session, plan_id: int) -> list[str]:
    """The member bodies of a plan's groups (from its stored shares), by code."""
    return list(
        session.exec(
            select(col(MemberShare.body_code))
            .join(Consortium, col(Consortium.id) == col(MemberShare.consortium_id))
            .where(col(Consortium.plan_id) == plan_id)
            .distinct()
            .order_by(col(MemberShare.body_code))
        )
    )


def withdrawn_for_body(
    session: Session, body_code: str, now: datetime | None = None
) -> list[tuple[PlanRelease, PlanSeries]]:
    """The versions withdrawn in the last WITHDRAWN_SHOWN_DAYS days that had asked the body to answer, newest first:
    its home page tells it that the request was taken back, and why."""
    since = (now or utcnow()) - timedelta(days=WITHDRAWN_SHOWN_DAYS)
    rows = session.exec(
        select(PlanRelease, PlanSeries)
        .join(PlanSeries, col(PlanSeries.id) == col(PlanRelease.series_id))
        .where(
            col(PlanRelease.state) == "withdrawn",
            col(PlanRelease.withdrawn_at) >= since,
            col(PlanRelease.plan_id).in_(access.plans_including(body_code)),
        )
        .order_by(col(PlanRelease.withdrawn_at).desc())
    ).all()
    return [(r, s) for r, s in rows]


def start_years_needing_supplementary_budget(plan_doc: dict[str, Any], issued_on: date) -> list[int]:
    """The joint groups' start years at or before the fiscal year the plan is issued in: a budget for them is
    not in that year's 当初予算 (already passed), so a member joining needs a 補正予算 (or the start moves)."""
    fiscal = fiscal_year_of(issued_on)
    years = {
        int(g["start_year"])
        for g in plan_doc.get("groups") or []
        if isinstance(g, dict) and g.get("mode") != "standalone" and isinstance(g.get("start_year"), int)
    }
    return sorted(y for y in years if y <= fiscal)


def supplementary_budget_warning(plan_doc: dict[str, Any], issued_on: date) -> str | None:
    """The warning the plan's pages and documents carry for start_years_needing_supplementary_budget, or None."""
    years = start_years_needing_supplementary_budget(plan_doc, issued_on)
    if not years:
        return None
    fiscal = fiscal_year_of(issued_on)
    return (
        f"導入年度が{'・'.join(wareki_fiscal_year(y) for y in years)}のグループがあります。"
        f"この計画の発行日（{issued_on.year}年{issued_on.month}月{issued_on.day}日）は{wareki_fiscal_year(fiscal)}中のため、"
        "当初予算に計上されていない団体は補正予算が必要です（または導入年度を翌年度以降に見直してください）。"
    )


def extend_deadline(
    session: Session, user: Actor, release: PlanRelease, deadline: date, now: datetime | None = None
) -> None:
    series = fetch(session, PlanSeries, release.series_id)
    scenario = fetch(session, Scenario, fetch(session, PlanRow, release.plan_id).scenario_id)
    _check_coordinator(user, scenario)
    if release.state != "published":
        raise LifecycleError("回答期限を変えられるのは公表中の版だけです。")
    if deadline < today_jst(now):
        raise LifecycleError("回答期限は今日以降の日付にしてください。")
    before = release.reply_deadline
    _move_release(session, release, "published", RELEASE_CHANGED, reply_deadline=deadline)
    session.refresh(release)
    record(
        session,
        user_id=user.id,
        action="extend",
        entity="plan_release",
        entity_id=str(release.id),
        before={"reply_deadline": before},
        after={"reply_deadline": deadline},
        prefecture_code=series.prefecture_code,
        detail=f"{version_label(series, release)}の回答期限を {before:%Y-%m-%d} から {deadline:%Y-%m-%d} に変更"
        if before
        else f"{version_label(series, release)}の回答期限を {deadline:%Y-%m-%d} に設定",
    )


def check_deletable(session: Session, plan_ids: list[int]) -> None:
    """An adopted or published plan is a record of what was decided: its scenario cannot be deleted."""
    reason = undeletable_reason(session, plan_ids)
    if reason is not None:
        raise LifecycleError(reason)


def delete_for_plans(session: Session, plan_ids: list[int]) -> None:
    """Remove the releases (and answers) of plans being deleted wholesale (the demo's reload)."""
    from sqlalchemy import delete

    from planner.db.models import MemberAnswer

    if not plan_ids:
        return
    release_ids = list(session.exec(select(col(PlanRelease.id)).where(col(PlanRelease.plan_id).in_(plan_ids))))
    if not release_ids:
        return
    series_ids = set(session.exec(select(col(PlanRelease.series_id)).where(col(PlanRelease.id).in_(release_ids))))
    session.exec(delete(MemberAnswer).where(col(MemberAnswer.release_id).in_(release_ids)))
    session.exec(update(PlanRelease).where(col(PlanRelease.replan_of).in_(release_ids)).values(replan_of=None))
    session.exec(delete(PlanRelease).where(col(PlanRelease.id).in_(release_ids)))
    for sid in series_ids:
        if (
            session.exec(select(func.count()).select_from(PlanRelease).where(col(PlanRelease.series_id) == sid)).one()
            == 0
        ):
            session.exec(delete(PlanSeries).where(col(PlanSeries.id) == sid))


def release_label(session: Session, release: PlanRelease) -> str:
    """「計画 No.n 第m版」 of a release (its series read for the number)."""
    series = session.get(PlanSeries, release.series_id)
    assert series is not None  # a release belongs to a series (foreign key)
    return version_label(series, release)


def replans_of(session: Session, release: PlanRelease) -> list[PlanRelease]:
    """The releases adopted as re-plans of ``release`` (its board links them)."""
    return list(session.exec(select(PlanRelease).where(col(PlanRelease.replan_of) == release.id)))
