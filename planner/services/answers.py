"""Members' answers to a published plan (意向確認): for each of its needs a body answers 参加 / 不参加 / 条件付き by the
reply deadline; the coordinator sees the board with who has not answered, reminds them, and re-plans with the
decliners fixed standalone as the next version.

There is no e-mail in this system: a reminder is an audit entry (action ``remind``) that the member's home page
shows until it answers.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Mapped
from sqlmodel import Session, col, select

from planner.db.models import AuditLog, Body, MemberAnswer, PlanRelease, PlanSeries, Scenario, utcnow
from planner.db.models import Plan as PlanRow
from planner.db.rows import fetch, id_of
from planner.domain.vocabulary import today_jst
from planner.services.access import Actor

from . import access
from .audit import record
from .releases import LifecycleConflict, LifecycleError, version_label

if TYPE_CHECKING:
    from planner.domain.answer_carry import MemberPart
    from planner.domain.model import Instance

    from .plans.views import PlanView

ANSWER_LABELS = {"join": "参加", "decline": "不参加", "conditional": "条件付き"}
# The answer board's filters, in the order of its summary: (key in the address, label, the answer; None: none yet).
BOARD_FILTERS = [(key, ANSWER_LABELS[key], key) for key in ("join", "conditional", "decline")] + [
    ("none", "未回答", None)
]


class AnswerError(LifecycleError):
    """An answer that cannot be recorded; the message says why (Japanese)."""


class AnswersClosed(AnswerError):
    pass


@dataclass
class NeedLine:
    """One member need in the plan with the group it was placed in and its answer (if any)."""

    need_key: str
    body_code: str
    body_name: str
    category_name: str
    start_year: int
    group_id: str
    mode: str
    lead_name: str
    members: int
    total_yen: int
    net_yen: int  # if the grant is awarded (the 「採択された場合」 line)
    standalone_total_yen: int
    answer: MemberAnswer | None = None
    grant_warning: str | None = None  # worse off than alone if grants are awarded (shown in red)
    grant_to_confirm: str | None = None  # the category's grant is 要確認 in the rule data (shown with the reason)
    net_without_grant_yen: int | None = None
    previous: PreviousAnswer | None = None  # the answer to the version this one replaced, if any

    @property
    def carried(self) -> bool:
        return self.previous is not None and self.previous.shown_as_carried(self.answer)


def need_lines(
    view: PlanView, body_code: str | None = None, answers: dict[str, MemberAnswer] | None = None
) -> list[NeedLine]:
    """The plan's member needs (one body's when ``body_code`` is given), in group order."""
    out = []
    answers = answers or {}
    for g in view.groups:
        for m in g.members:
            if body_code is not None and m.body_code != body_code:
                continue
            need = view.instance.need(m.need_id)
            out.append(
                NeedLine(
                    m.need_id,
                    m.body_code,
                    view.body_name(m.body_code),
                    g.category_name,
                    need.start_year,
                    g.id,
                    g.group.mode,
                    g.lead_name,
                    len(set(g.body_codes)),
                    m.total_yen,
                    m.net_yen,
                    m.standalone_total_yen,
                    answers.get(m.need_id),
                    grant_warning=m.grant_warning,
                    grant_to_confirm=m.grant_to_confirm,
                    net_without_grant_yen=m.net_without_grant_yen,
                )
            )
    return out


def asked_lines(session: Session, release: PlanRelease, lines: list[NeedLine]) -> list[NeedLine]:
    """The lines whose bodies the release's plan may ask to answer: those its scenario may plan
    (planner.services.access.planned_bodies). A plan that reached another prefecture's needs before that rule held
    never asks that prefecture's bodies, shows them on the board, or lets the coordinator remind them."""
    from .releases import planned_members

    plan = session.get(PlanRow, release.plan_id)
    scenario = session.get(Scenario, plan.scenario_id) if plan else None
    if scenario is None:
        return []
    allowed = planned_members(session, scenario, {line.body_code for line in lines})
    return [line for line in lines if line.body_code in allowed]


def answers_of(session: Session, release_id: int, body_code: str | None = None) -> dict[str, MemberAnswer]:
    query = select(MemberAnswer).where(col(MemberAnswer.release_id) == release_id)
    if body_code is not None:
        query = query.where(col(MemberAnswer.body_code) == body_code)
    return {a.need_key: a for a in session.exec(query)}


def deadline_text(release: PlanRelease) -> str:
    d = release.reply_deadline
    return f"{d.year}年{d.month}月{d.day}日" if d else "未設定"


def check_open(session: Session, release: PlanRelease, now: datetime | None = None) -> PlanSeries:
    """The release takes answers: it is the published version in force and its deadline has not passed."""
    series = fetch(session, PlanSeries, release.series_id)
    if release.state == "withdrawn":
        raise AnswersClosed(
            f"{version_label(series, release)}は取り下げられたため回答できません（理由：{release.withdrawal_reason}）。"
        )
    if release.state != "published" or series.current_version != release.version:
        raise AnswersClosed(
            f"{version_label(series, release)}は公表中の版ではないため回答できません。最新の版で回答してください。"
        )
    if release.reply_deadline is not None and today_jst(now) > release.reply_deadline:
        raise AnswersClosed(
            f"回答期限（{deadline_text(release)}）を過ぎたため回答を受け付けられません。"
            "回答する必要がある場合は、都道府県の担当者に期限の延長を依頼してください。"
        )
    return series


def _hold_current(session: Session, release: PlanRelease, series: PlanSeries) -> None:
    """Make the answers that follow land only while the release is the version in force: a write to its row
    conditional on that, which a concurrent publication (superseding it by a write to the same row) waits for or
    makes fail, so an answer never commits onto a version that has just become 旧版."""
    held = session.exec(
        update(PlanRelease)
        .where(col(PlanRelease.id) == release.id, col(PlanRelease.state) == "published")
        .values(lock_version=col(PlanRelease.lock_version))
        .execution_options(synchronize_session=False)
    ).rowcount
    if held != 1:
        raise AnswersClosed(
            f"{version_label(series, release)}は他の版の公表により旧版になったため回答できません。"
            "最新の版で回答してください。"
        )


def submit_answers(
    session: Session,
    user: Actor,
    release: PlanRelease,
    view: PlanView,
    given: dict[str, tuple[str, str]],
    now: datetime | None = None,
) -> int:
    """Record the user's body's answers {need key: (answer, comment)}; returns how many changed.

    All or nothing: every answer is checked before anything is written; a changed answer is a conditional update,
    so two staff of one body answering at once cannot overwrite each other unseen. The caller commits."""
    series = check_open(session, release, now)
    body = user.body_code
    if body is None:  # only a member body's staff answer (the pages offer the form to no one else)
        raise AnswerError("この計画に貴団体のニーズはありません。")
    mine = {line.need_key: line for line in asked_lines(session, release, need_lines(view, body))}
    if not mine:
        raise AnswerError("この計画に貴団体のニーズはありません。")
    problems = []
    for key, (answer, comment) in given.items():
        line = mine.get(key)
        if line is None:
            problems.append(f"ニーズ {key}: 貴団体のこの計画のニーズではありません")
        elif answer not in ANSWER_LABELS:
            problems.append(
                f"{line.category_name}（{line.start_year}年度）: 参加・不参加・条件付きのどれかを選んでください"
            )
        elif answer == "conditional" and not comment.strip():
            problems.append(
                f"{line.category_name}（{line.start_year}年度）: 条件付きの場合は条件をコメントに書いてください"
            )
        elif len(comment) > 2000:
            problems.append(f"{line.category_name}（{line.start_year}年度）: コメントは 2,000 文字以内にしてください")
    if problems:
        raise AnswerError("；".join(problems))
    existing = answers_of(session, id_of(release), body)
    changed = 0
    stamp = now or utcnow()
    _hold_current(session, release, series)
    for key, (answer, comment) in given.items():
        comment = comment.strip()
        line = mine[key]
        old = existing.get(key)
        if old is not None and old.answer == answer and (old.comment or "") == comment:
            continue
        # Read before the UPDATE below: it synchronises the loaded row to the new values.
        before = {"answer": old.answer, "comment": old.comment} if old is not None else None
        if old is None:
            try:
                with session.begin_nested():
                    session.add(
                        MemberAnswer(
                            release_id=id_of(release),
                            need_key=key,
                            body_code=body,
                            answer=answer,
                            comment=comment,
                            answered_at=stamp,
                            answered_by=user.id,
                        )
                    )
                    session.flush()
            except IntegrityError as e:
                raise LifecycleConflict(
                    "同じ団体の別の担当者が同時に回答しました。画面を読み込み直してください。"
                ) from e
        else:
            moved = session.exec(
                update(MemberAnswer)
                .where(col(MemberAnswer.id) == old.id, col(MemberAnswer.lock_version) == old.lock_version)
                .values(
                    answer=answer,
                    comment=comment,
                    answered_at=stamp,
                    answered_by=user.id,
                    lock_version=col(MemberAnswer.lock_version) + 1,
                )
            ).rowcount
            if moved != 1:
                raise LifecycleConflict("同じ団体の別の担当者が同時に回答しました。画面を読み込み直してください。")
        changed += 1
        record(
            session,
            user_id=user.id,
            action="answer",
            entity="member_answer",
            entity_id=f"{release.id}:{key}",
            before=before,
            after={"answer": answer, "comment": comment},
            prefecture_code=series.prefecture_code,
            body_code=body,
            detail=f"{version_label(series, release)}：{line.body_name}の{line.category_name}"
            f"（{line.start_year}年度）に「{ANSWER_LABELS[answer]}」と回答",
        )
    return changed


@dataclass
class Board:
    """The coordinator's view of the answers."""

    lines: list[NeedLine]
    bodies: list[tuple[str, str]]  # (code, name) of every member body
    unanswered: list[tuple[str, str, int]]  # (code, name, needs without an answer)
    reminders: dict[str, list[AuditLog]] = field(default_factory=dict)  # body -> reminders, newest first

    def with_answer(self, answer: str | None) -> list[NeedLine]:
        """The lines answered ``answer`` (a key of ANSWER_LABELS), or not answered yet (None)."""
        return [line for line in self.lines if (line.answer.answer if line.answer else None) == answer]

    def count(self, answer: str | None) -> int:
        return len(self.with_answer(answer))

    @property
    def decliners(self) -> list[NeedLine]:
        return [line for line in self.lines if line.answer and line.answer.answer == "decline"]

    @property
    def decliners_to_replan(self) -> list[NeedLine]:
        """Declined needs still in a joint group: a declined standalone need (one a re-plan already fixed, or one
        that was alone anyway) leaves nothing to re-plan."""
        return [line for line in self.decliners if line.mode != "standalone"]

    @property
    def asked_again(self) -> list[NeedLine]:
        """Needs answered in the previous version whose part changed here and that have no answer yet."""
        return [line for line in self.lines if line.answer is None and line.previous is not None]

    @property
    def carried(self) -> list[NeedLine]:
        return [line for line in self.lines if line.carried]


def board(session: Session, release: PlanRelease, view: PlanView) -> Board:
    answers = answers_of(session, id_of(release))
    lines = asked_lines(session, release, need_lines(view, None, answers))
    previous = previous_answers(session, release)
    for line in lines:
        line.previous = previous.get(line.need_key)
    bodies = list(dict.fromkeys((line.body_code, line.body_name) for line in lines))
    missing: dict[str, int] = {}
    for line in lines:
        if line.answer is None:
            missing[line.body_code] = missing.get(line.body_code, 0) + 1
    unanswered = [(code, name, missing[code]) for code, name in bodies if code in missing]
    return Board(lines, bodies, unanswered, reminders_by_body(session, id_of(release)))


def reminders_by_body(session: Session, release_id: int) -> dict[str, list[AuditLog]]:
    out: dict[str, list[AuditLog]] = {}
    for entry in session.exec(
        select(AuditLog)
        .where(
            col(AuditLog.action) == "remind",
            col(AuditLog.entity) == "plan_release",
            col(AuditLog.entity_id) == str(release_id),
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    ):
        out.setdefault(entry.body_code or "", []).append(entry)
    return out


def _check_runs(session: Session, user: Actor, release: PlanRelease) -> None:
    """Reminders and re-plans are the plan's runner's: the prefecture's coordinator, or a consortium's lead (the
    lead's prefecture reads a consortium's board but does not act on it)."""
    plan = session.get(PlanRow, release.plan_id)
    scenario = session.get(Scenario, plan.scenario_id) if plan else None
    if scenario is None or not access.edits_scenario(user, scenario):
        raise AnswerError("この計画の催促・再計画を行う権限がありません。")


def remind(
    session: Session,
    user: Actor,
    release: PlanRelease,
    view: PlanView,
    body_codes: Iterable[str] | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Record a reminder for each named body that has not answered everything (all such bodies when None);
    returns the bodies reminded. Shown on their home pages; no e-mail is sent (there is no mail service)."""
    _check_runs(session, user, release)
    series = check_open(session, release, now)
    b = board(session, release, view)
    pending = {code: name for code, name, _ in b.unanswered}
    targets = list(pending) if body_codes is None else [c for c in body_codes if c in pending]
    for code in targets:
        record(
            session,
            user_id=user.id,
            action="remind",
            entity="plan_release",
            entity_id=str(release.id),
            prefecture_code=series.prefecture_code,
            body_code=code,
            detail=f"{version_label(series, release)}：{pending[code]}に回答を催促（回答期限 {deadline_text(release)}）",
        )
    return targets


def reminders_for_body(session: Session, body_code: str, release_ids: Iterable[int]) -> dict[int, list[AuditLog]]:
    ids = [str(i) for i in release_ids]
    out: dict[int, list[AuditLog]] = {}
    if not ids:
        return out
    for entry in session.exec(
        select(AuditLog)
        .where(
            col(AuditLog.action) == "remind",
            col(AuditLog.entity) == "plan_release",
            col(AuditLog.entity_id).in_(ids),
            col(AuditLog.body_code) == body_code,
        )
        .order_by(col(AuditLog.at).desc(), col(AuditLog.id).desc())
    ):
        out.setdefault(int(entry.entity_id), []).append(entry)
    return out


# --- re-planning -------------------------------------------------------------------------------------------------


class AlreadyReplanned(LifecycleConflict):
    """The version was re-planned already (perhaps a moment ago, by another coordinator): ``scenario`` is that
    re-plan, where the caller sends the user instead of making a second one."""

    def __init__(self, scenario: Scenario | None):
        self.scenario = scenario
        super().__init__(
            f"この版は既に再計画されています（シナリオ「{scenario.name}」）。"
            if scenario
            else "この版は既に再計画されています。"
        )


_CLAIMED = -1  # the mark while the claiming transaction makes the scenario (never committed)


def _same_or_null(column: Mapped[int | None], value: int | None) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def replanned_scenario(session: Session, release: PlanRelease) -> Scenario | None:
    """The scenario re-planned from the release, while it exists (deleting it lets the version be re-planned)."""
    if not release.replan_scenario_id or release.replan_scenario_id == _CLAIMED:
        return None
    return session.get(Scenario, release.replan_scenario_id)


def replan_scenario(
    session: Session, user: Actor, release: PlanRelease, view: PlanView
) -> tuple[Scenario, list[NeedLine]]:
    """A copy of the plan's scenario with every declined need fixed standalone (the instance's ``fixed`` rule with
    mode standalone), its quotes copied, and marked as the re-plan of this release so that adopting its plan
    makes the series' next version. The caller commits and starts the run."""
    from planner.services.instances import need_id_from_key
    from planner.services.scenarios import copy_scenario

    _check_runs(session, user, release)
    series = fetch(session, PlanSeries, release.series_id)
    plan = fetch(session, PlanRow, release.plan_id)
    source = fetch(session, Scenario, plan.scenario_id)
    earlier = replanned_scenario(session, release)
    if earlier is not None:
        raise AlreadyReplanned(earlier)
    b = board(session, release, view)
    decliners = b.decliners_to_replan
    if not decliners:
        raise AnswerError(
            "共同調達のグループに入っているニーズへの不参加の回答がないため、再計画の必要はありません"
            "（不参加のニーズは既に単独調達です）。"
            if b.decliners
            else "不参加の回答がないため、再計画の必要はありません。"
        )
    # One re-plan per version: the version is claimed by a write conditional on the mark being what was read,
    # before anything is made, so of two coordinators pressing 再計画 together one makes the scenario and the
    # other (whose write waited for the first's commit and then found the mark changed) is sent to it.
    claimed = session.exec(
        update(PlanRelease)
        .where(
            col(PlanRelease.id) == release.id,
            _same_or_null(col(PlanRelease.replan_scenario_id), release.replan_scenario_id),
        )
        .values(replan_scenario_id=_CLAIMED)
        .execution_options(synchronize_session=False)
    ).rowcount
    if claimed != 1:
        session.refresh(release)
        raise AlreadyReplanned(replanned_scenario(session, release))
    declined = {(line.body_code, view.instance.need(line.need_key).category) for line in decliners}
    clone = copy_scenario(session, user, source, name=f"{source.name}（{version_label(series, release)}の回答を反映）")
    overrides = copy.deepcopy(clone.overrides or {})
    # An override that joins a decliner to a group would contradict its standalone rule: it is dropped, and named.
    kept: list[dict[str, Any]] = []
    dropped: list[dict[str, Any]] = []
    for item in overrides.get("items", []):
        involved = {(code, item.get("category")) for code in item.get("bodies", [])}
        if item.get("kind") == "fix_group" or item.get("kind") == "together":
            (dropped if involved & declined else kept).append(item)
        else:
            kept.append(item)
    overrides["items"] = kept
    fixed = [
        f
        for f in overrides.get("fixed") or []
        if need_id_from_key(f.get("need") if isinstance(f, dict) else None)
        not in {need_id_from_key(line.need_key) for line in decliners}
    ]
    fixed += [{"need": line.need_key, "mode": "standalone"} for line in decliners]
    overrides["fixed"] = fixed
    overrides["replan_of_release"] = release.id
    overrides["declined"] = [
        {
            "need": line.need_key,
            "body": line.body_code,
            "body_name": line.body_name,
            "category_name": line.category_name,
        }
        for line in decliners
    ]
    overrides["dropped_for_decliners"] = dropped
    clone.overrides = overrides
    session.add(clone)  # copy_scenario has copied the vendors' quotes too
    session.flush()
    session.exec(
        update(PlanRelease)
        .where(col(PlanRelease.id) == release.id)
        .values(replan_scenario_id=clone.id)
        .execution_options(synchronize_session=False)
    )
    session.refresh(release)
    record(
        session,
        user_id=user.id,
        action="replan",
        entity="plan_release",
        entity_id=str(release.id),
        after={"scenario_id": clone.id, "fixed_standalone": [line.need_key for line in decliners]},
        prefecture_code=series.prefecture_code,
        detail=f"{version_label(series, release)}の不参加 {len(decliners)} 件（"
        + "、".join(f"{line.body_name} {line.category_name}" for line in decliners[:10])
        + f"）を単独調達に固定して再計画（シナリオ {clone.id}）",
    )
    return clone, decliners


@dataclass
class MemberRequest:
    """A published version in force that asks the body for answers (its home page lists these)."""

    release: PlanRelease
    label: str
    scenario_name: str
    needs: int
    answered: int
    closed: bool
    deadline_text: str
    reminders: list[AuditLog]
    changes: list[Any]
    asked_by: str = "都道府県の担当者"  # who publishes and reminds: a consortium's lead, or the prefecture


def member_requests(session: Session, body_code: str | None, now: datetime | None = None) -> list[MemberRequest]:
    from sqlalchemy import func

    from planner.db.models import Consortium, MemberShare

    from .release_inputs import changes_since_publication
    from .releases import current_releases_for_body

    if not body_code:
        return []
    out = []
    found = current_releases_for_body(session, body_code)
    reminders = reminders_for_body(session, body_code, [id_of(r) for r, _, _ in found])
    for release, series, plan in found:
        needs = session.exec(
            select(func.count(func.distinct(col(MemberShare.need_key))))
            .join(Consortium, col(Consortium.id) == col(MemberShare.consortium_id))
            .where(col(Consortium.plan_id) == plan.id, col(MemberShare.body_code) == body_code)
        ).one()
        answered = len(answers_of(session, id_of(release), body_code))
        scenario = session.get(Scenario, plan.scenario_id)
        closed = release.reply_deadline is not None and today_jst(now) > release.reply_deadline
        changes, _ = changes_since_publication(session, release)
        lead = scenario.partnership_lead_code if scenario else None
        lead_body = session.get(Body, lead) if lead else None
        asked_by = f"幹事団体（{lead_body.name if lead_body else lead}）の担当者" if lead else "都道府県の担当者"
        out.append(
            MemberRequest(
                release,
                version_label(series, release),
                scenario.name if scenario else "",
                int(needs),
                answered,
                closed,
                deadline_text(release),
                reminders.get(id_of(release), []),
                changes,
                asked_by,
            )
        )
    return out


# --- carrying answers to the next version ------------------------------------------------------------------------


@dataclass
class PreviousAnswer:
    """A member's answer to the version this one replaced, and whether it stands here (planner.domain.answer_carry)."""

    version: int
    answer: MemberAnswer  # the row of the previous version
    carried: bool
    reason: str

    def shown_as_carried(self, current: MemberAnswer | None) -> bool:
        """The current answer is the carried one (the member has not answered this version itself since)."""
        return bool(
            self.carried
            and current is not None
            and current.answer == self.answer.answer
            and current.answered_at == self.answer.answered_at
        )


def previous_release(session: Session, release: PlanRelease) -> PlanRelease | None:
    """The version the members answered before this one: the series' latest earlier version that was published."""
    return session.exec(
        select(PlanRelease)
        .where(
            col(PlanRelease.series_id) == release.series_id,
            col(PlanRelease.version) < release.version,
            col(PlanRelease.published_at).is_not(None),
        )
        .order_by(col(PlanRelease.version).desc())
    ).first()


def _parts_of(session: Session, release: PlanRelease) -> tuple[Instance, dict[str, MemberPart]]:
    from planner.domain.answer_carry import member_parts
    from planner.domain.instance_io import parse_instance
    from planner.domain.settled_plan import settled_plan_from_dict

    row = fetch(session, PlanRow, release.plan_id)
    instance = parse_instance(row.instance_doc)
    return instance, member_parts(instance, settled_plan_from_dict(row.plan_doc))


def previous_answers(session: Session, release: PlanRelease, body_code: str | None = None) -> dict[str, PreviousAnswer]:
    """need key -> the previous version's answer to it, for the needs of this version that were answered there."""
    from planner.domain.answer_carry import carry_decisions

    previous = previous_release(session, release)
    if previous is None:
        return {}
    old_answers = answers_of(session, id_of(previous), body_code)
    if not old_answers:
        return {}
    _, old_parts = _parts_of(session, previous)
    instance, new_parts = _parts_of(session, release)
    names = {code: b.name for code, b in instance.bodies.items()}
    decisions = carry_decisions({k: a.answer for k, a in old_answers.items()}, old_parts, new_parts, names)
    return {k: PreviousAnswer(previous.version, old_answers[k], d.carried, d.reason) for k, d in decisions.items()}


def carry_answers(session: Session, user: Actor, release: PlanRelease) -> int:
    """At publication: the previous version's answers that stand in this one are recorded for it, as answered then
    (by whom and when), each audited; the others are left for the member to answer again. Returns how many."""
    series = fetch(session, PlanSeries, release.series_id)
    previous = previous_answers(session, release)
    if not previous:
        return 0
    instance, parts = _parts_of(session, release)
    existing = answers_of(session, id_of(release))
    carried = 0
    for key, prev in previous.items():
        if not prev.carried or key in existing:
            continue
        old = prev.answer
        session.add(
            MemberAnswer(
                release_id=id_of(release),
                need_key=key,
                body_code=old.body_code,
                answer=old.answer,
                comment=old.comment or "",
                answered_at=old.answered_at,
                answered_by=old.answered_by,
            )
        )
        part = parts[key]
        category = instance.categories[part.category].name if part.category in instance.categories else part.category
        record(
            session,
            user_id=user.id,
            action="carry",
            entity="member_answer",
            entity_id=f"{release.id}:{key}",
            before={"release_id": old.release_id, "answer": old.answer},
            after={"answer": old.answer, "comment": old.comment},
            prefecture_code=series.prefecture_code,
            body_code=old.body_code,
            detail=f"{version_label(series, release)}：{instance.bodies[old.body_code].name}の{category}"
            f"（{part.start_year}年度）に第{prev.version}版の回答「{ANSWER_LABELS[old.answer]}」を引継ぎ（{prev.reason}）",
        )
        carried += 1
    session.flush()
    return carried
