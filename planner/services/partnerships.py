"""Lead-run consortia (#29): a municipality acts for its body as 幹事/取りまとめ団体 of a named consortium (a 協議会,
a 連携中枢都市圏 ...) for one category, invites bodies of any prefecture, and plans with those that accept.

The model (docs/lifecycle.md, 「幹事団体が運営する協議会」):
- ``Partnership``: the consortium — its name, kind, category and lead body (and the lead's prefecture, which sees
  it read-only). The lead never changes (there is no transfer), which is why scenarios may copy it.
- ``PartnershipMember``: one row per body — the lead itself (state ``lead``) and each invitee (``invited`` →
  ``accepted`` or ``declined``, by that body's own staff; a declined body may be invited again). Each change is a
  conditional UPDATE on the state read, and audited.
- Its scenarios (``Scenario.partnership_id``/``partnership_lead_code``) plan the needs of the lead and of the
  accepted bodies only (planner.services.access.planned_bodies), with the same optimiser, allocation, fairness
  proofs and documents as a prefecture's; their plans are adopted into the consortium's own 計画 No.
  (``PlanSeries.partnership_id``), published, answered, reminded and withdrawn exactly like a prefecture's, by the
  lead's staff alone (planner.services.access.edits_scenario).

Later stages (予算措置, 協定, 契約, 確定負担額, 請求, 精算) hang off a published release of such a series like off
a prefecture's; the consortium adds only who runs them (the lead) and who is in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from planner.db.models import Body, Category, Partnership, PartnershipMember, Scenario, User, utcnow
from planner.db.models import Plan as PlanRow
from planner.db.rows import fetch, id_of
from planner.domain.vocabulary import fiscal_year_of, today_jst

from . import access, body_admin
from .audit import record
from .scenarios import defaults as scenario_defaults

KIND_LABELS = {
    "council": "協議会",
    "metro_area": "連携中枢都市圏",
    "settlement_area": "定住自立圏",
    "union": "広域連合",
    "other": "その他",
}
STATE_LABELS = {"lead": "幹事団体", "invited": "招待中（回答待ち）", "accepted": "参加", "declined": "辞退"}
NAME_MAX = 120
MESSAGE_MAX = 2000
INVITE_MAX = 200  # bodies in one invitation


class PartnershipError(ValueError):
    """A request about a consortium that cannot be carried out; the message is shown to the user."""


class PartnershipConflict(PartnershipError):
    """The state changed since the user saw it (another answer or invitation got there first)."""


class PartnershipNotFound(LookupError):
    """No consortium ``partnership_id`` for this user: missing, or refused (``refused``; ``detail`` for the audit
    log). Both answer alike."""

    def __init__(self, partnership_id: int, *, refused: bool = False, detail: str = ""):
        self.partnership_id, self.refused, self.detail = partnership_id, refused, detail
        super().__init__(self.public_message)

    @property
    def public_message(self) -> str:
        return f"協議会 {self.partnership_id} はありません"


@dataclass(frozen=True)
class MemberRow:
    member: PartnershipMember
    body: Body

    @property
    def state_label(self) -> str:
        return STATE_LABELS.get(self.member.state, self.member.state)


@dataclass(frozen=True)
class LoadedPartnership:
    """A consortium the user may see, with its bodies and the user's part in it."""

    row: Partnership
    lead: Body
    category_name: str
    members: list[MemberRow]
    user_state: str | None  # the user's body's state in it (None: not a member)
    leads: bool  # the user acts for the lead
    prefecture_names: dict[str, str]  # the members' prefectures, by code

    @property
    def kind_label(self) -> str:
        return KIND_LABELS.get(self.row.kind, self.row.kind)

    def in_state(self, *states: str) -> list[MemberRow]:
        return [m for m in self.members if m.member.state in states]

    @property
    def planned(self) -> list[MemberRow]:
        return self.in_state(*access.PLANNED_MEMBER_STATES)


def _member_rows(session: Session, partnership_id: int) -> list[MemberRow]:
    order = {"lead": 0, "accepted": 1, "invited": 2, "declined": 3}
    rows = session.exec(
        select(PartnershipMember, Body)
        .join(Body, col(Body.code) == col(PartnershipMember.body_code))
        .where(col(PartnershipMember.partnership_id) == partnership_id)
    ).all()
    out = [MemberRow(m, b) for m, b in rows]
    out.sort(key=lambda r: (order.get(r.member.state, 9), r.body.code))
    return out


def load(session: Session, user: Any, partnership_id: int) -> LoadedPartnership:
    """The consortium as ``user`` may see it, or :class:`PartnershipNotFound` (missing and refused alike)."""
    row = session.get(Partnership, partnership_id)
    if row is None:
        raise PartnershipNotFound(partnership_id)
    members = _member_rows(session, partnership_id)
    code = getattr(user, "body_code", None) if access.is_municipality(user) else None
    state = next((m.member.state for m in members if code and m.body.code == code), None)
    if not access.sees_partnership(user, row, state):
        raise PartnershipNotFound(
            partnership_id,
            refused=True,
            detail=f"協議会 {partnership_id}（幹事団体 {row.lead_body_code}、都道府県コード {row.prefecture_code}）",
        )
    lead = fetch(session, Body, row.lead_body_code)  # a foreign key
    category = session.get(Category, row.category_id)
    return LoadedPartnership(
        row,
        lead,
        category.name if category else row.category_id,
        members,
        state,
        access.leads(user, row.lead_body_code),
        {
            b.prefecture_code: b.name
            for b in body_admin.prefecture_bodies(session, {m.body.prefecture_code for m in members})
        },
    )


def visible(session: Session, user: Any) -> list[tuple[Partnership, Body, str | None]]:
    """The consortia the user may see, newest first, with the lead body and the user's body's state in each."""
    query = access.visible_partnerships(user).order_by(col(Partnership.created_at).desc(), col(Partnership.id).desc())
    rows = list(session.exec(query))
    leads = {b.code: b for b in session.exec(select(Body).where(col(Body.code).in_({p.lead_body_code for p in rows})))}
    states: dict[int, str] = {}
    code = getattr(user, "body_code", None) if access.is_municipality(user) else None
    if code and rows:
        states = dict(
            session.exec(
                select(col(PartnershipMember.partnership_id), col(PartnershipMember.state)).where(
                    col(PartnershipMember.body_code) == code,
                    col(PartnershipMember.partnership_id).in_([p.id for p in rows]),
                )
            ).all()
        )
    return [(p, leads[p.lead_body_code], states.get(id_of(p))) for p in rows]


def open_invitations(session: Session, body_code: str | None) -> list[tuple[Partnership, Body]]:
    """The invitations the body has not answered yet (its home page lists them)."""
    if not body_code:
        return []
    rows = session.exec(
        select(Partnership, Body)
        .join(PartnershipMember, col(PartnershipMember.partnership_id) == col(Partnership.id))
        .join(Body, col(Body.code) == col(Partnership.lead_body_code))
        .where(col(PartnershipMember.body_code) == body_code, col(PartnershipMember.state) == "invited")
        .order_by(col(Partnership.id))
    ).all()
    return [(p, b) for p, b in rows]


# --- changes ----------------------------------------------------------------------------------------------------


def _audit(session: Session, user: User, partnership: Partnership, action: str, detail: str, **kw: Any) -> None:
    record(
        session,
        user_id=user.id,
        action=action,
        entity="partnership",
        entity_id=str(partnership.id),
        prefecture_code=partnership.prefecture_code,
        detail=f"協議会「{partnership.name}」：{detail}",
        **kw,
    )


def create(
    session: Session,
    user: User,
    *,
    name: str,
    kind: str,
    category_id: str,
    note: str = "",
    is_demo: bool = False,
) -> Partnership:
    """A new consortium led by the user's own body (municipality staff only); the caller commits."""
    if not access.is_municipality(user) or not user.body_code:
        raise PartnershipError("協議会を設立できるのは、自団体を幹事団体とする市区町村の担当者だけです。")
    lead = session.get(Body, user.body_code)
    if lead is None:
        raise PartnershipError(f"団体コード {user.body_code} が登録されていません。")
    name = (name or "").strip()
    if not name:
        raise PartnershipError("協議会の名称を入力してください。")
    if len(name) > NAME_MAX:
        raise PartnershipError(f"協議会の名称は{NAME_MAX}文字以内で入力してください（{len(name)}文字）。")
    if kind not in KIND_LABELS:
        raise PartnershipError("協議会の種類を選んでください。")
    if session.get(Category, category_id) is None:
        raise PartnershipError("分野を選んでください。")
    if len(note or "") > MESSAGE_MAX:
        raise PartnershipError(f"備考は{MESSAGE_MAX}文字以内で入力してください。")
    # A demo account's consortium plans the demo's needs (planner demo), like the demo's own scenarios, and never
    # mixes them with users' needs.
    account = session.get(User, user.id) if getattr(user, "id", None) is not None else None
    is_demo = is_demo or bool(account is not None and account.is_demo)
    row = Partnership(
        name=name,
        kind=kind,
        category_id=category_id,
        lead_body_code=lead.code,
        prefecture_code=lead.prefecture_code,
        note=(note or "").strip(),
        is_demo=is_demo,
        created_by=user.id,
    )
    session.add(row)
    session.flush()
    session.add(PartnershipMember(partnership_id=id_of(row), body_code=lead.code, state="lead", invited_by=user.id))
    session.flush()
    _audit(
        session,
        user,
        row,
        "create",
        f"{lead.name}を幹事団体として設立（{KIND_LABELS[kind]}、分野 {category_id}）",
        after={"name": name, "kind": kind, "category": category_id, "lead": lead.code},
        body_code=lead.code,
    )
    return row


def _require_lead(user: Any, partnership: Partnership, what: str) -> None:
    if not (access.leads(user, partnership.lead_body_code) or access.is_admin(user)):
        raise PartnershipError(f"{what}は幹事団体の担当者だけが行えます。")


def resolve_bodies(session: Session, text: str) -> list[str]:
    """The body codes a lead typed: 団体コード (6 digits, or the 5 without the check digit) or names, one per line or
    separated by 、/,; a name shared by bodies of several prefectures (府中市) must carry its prefecture (東京都府中市)
    or be given by code. Anything not found refuses the whole list, naming it."""
    import re

    tokens = [t.strip() for t in re.split(r"[\n\r,、，\s]+", text or "") if t.strip()]
    if len(tokens) > INVITE_MAX:
        raise PartnershipError(f"一度に招待できるのは{INVITE_MAX}団体までです。")
    codes: list[str] = []
    problems: list[str] = []
    prefectures = body_admin.prefecture_names(session)
    for token in tokens:
        digits = token.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
        if digits.isdigit() and len(digits) in (5, 6):
            found = session.exec(select(col(Body.code)).where(col(Body.code).startswith(digits[:5]))).first()
            if found is None:
                problems.append(f"{token}（団体コードが見つかりません）")
            else:
                codes.append(found)
            continue
        matches = [b for b in session.exec(select(Body).where(col(Body.name) == token))]
        if not matches:
            # 岐阜県高山市: the prefecture's name, then the body's
            for pref_code, pref_name in prefectures.items():
                if token.startswith(pref_name) and len(token) > len(pref_name):
                    matches = list(
                        session.exec(
                            select(Body).where(
                                col(Body.name) == token[len(pref_name) :], col(Body.prefecture_code) == pref_code
                            )
                        )
                    )
                    break
        if len(matches) == 1:
            codes.append(matches[0].code)
        elif not matches:
            problems.append(f"{token}（団体が見つかりません）")
        else:
            where = "、".join(f"{prefectures.get(b.prefecture_code, '')}{b.name} {b.code}" for b in matches[:5])
            problems.append(f"{token}（同じ名前の団体が複数あります: {where}。都道府県名を付けるか団体コードで）")
    if problems:
        raise PartnershipError("招待する団体を確認してください: " + "、".join(problems[:10]))
    return codes


def invite(
    session: Session, user: User, partnership: Partnership, body_codes: list[str], message: str = ""
) -> tuple[list[Body], list[str]]:
    """Invite bodies (of any prefecture) into the consortium: returns the bodies invited and, in words, those left
    as they were (already in it, or waiting for their answer). A body that declined is invited again. Unknown
    codes and prefectures refuse the whole invitation. The caller commits."""
    _require_lead(user, partnership, "団体の招待")
    codes = list(dict.fromkeys(c.strip() for c in body_codes if c and c.strip()))
    if not codes:
        raise PartnershipError("招待する団体を選んでください。")
    if len(codes) > INVITE_MAX:
        raise PartnershipError(f"一度に招待できるのは{INVITE_MAX}団体までです。")
    if len(message or "") > MESSAGE_MAX:
        raise PartnershipError(f"招待の文面は{MESSAGE_MAX}文字以内で入力してください。")
    bodies = {b.code: b for b in session.exec(select(Body).where(col(Body.code).in_(codes)))}
    missing = [c for c in codes if c not in bodies]
    if missing:
        raise PartnershipError(f"団体コードが見つかりません: {', '.join(missing[:10])}")
    prefectures = [bodies[c].name for c in codes if bodies[c].kind == "prefecture"]
    if prefectures:
        raise PartnershipError(
            f"都道府県は協議会に招待できません（{'、'.join(prefectures[:5])}）。市区町村を選んでください。"
        )
    existing = {
        m.body_code: m
        for m in session.exec(
            select(PartnershipMember).where(
                col(PartnershipMember.partnership_id) == partnership.id, col(PartnershipMember.body_code).in_(codes)
            )
        )
    }
    invited: list[Body] = []
    kept: list[str] = []
    now = utcnow()
    for code in codes:
        body = bodies[code]
        member = existing.get(code)
        if member is None:
            session.add(
                PartnershipMember(
                    partnership_id=id_of(partnership),
                    body_code=code,
                    state="invited",
                    message=(message or "").strip(),
                    invited_at=now,
                    invited_by=user.id,
                )
            )
        elif member.state == "declined":
            moved = session.exec(
                update(PartnershipMember)
                .where(col(PartnershipMember.id) == member.id, col(PartnershipMember.state) == "declined")
                .values(
                    state="invited",
                    message=(message or "").strip(),
                    invited_at=now,
                    invited_by=user.id,
                    answered_at=None,
                    answered_by=None,
                )
                .execution_options(synchronize_session=False)
            ).rowcount
            if moved != 1:
                kept.append(f"{body.name}（状態が変わりました）")
                continue
        else:
            kept.append(f"{body.name}（{STATE_LABELS.get(member.state, member.state)}）")
            continue
        invited.append(body)
        _audit(
            session,
            user,
            partnership,
            "invite",
            f"{body.name}を招待",
            after={"body": code, "state": "invited"},
            body_code=code,
        )
    session.flush()
    return invited, kept


def respond(session: Session, user: User, partnership: Partnership, *, accept: bool) -> PartnershipMember:
    """The invited body's answer, given by its own staff: 参加 or 辞退 (an answer already given is not changed
    here; the lead may invite a body that declined again). The caller commits."""
    code = user.body_code if access.is_municipality(user) else None
    member = (
        session.exec(
            select(PartnershipMember).where(
                col(PartnershipMember.partnership_id) == partnership.id, col(PartnershipMember.body_code) == code
            )
        ).first()
        if code
        else None
    )
    if member is None or member.state == "lead":
        raise PartnershipError("この協議会から招待されている団体の担当者だけが回答できます。")
    new_state = "accepted" if accept else "declined"
    moved = session.exec(
        update(PartnershipMember)
        .where(col(PartnershipMember.id) == member.id, col(PartnershipMember.state) == "invited")
        .values(state=new_state, answered_at=utcnow(), answered_by=user.id)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved != 1:
        session.refresh(member)
        raise PartnershipConflict(
            f"この招待には既に回答済みです（{STATE_LABELS.get(member.state, member.state)}）。"
            "辞退した後に参加するときは、幹事団体にもう一度招待してもらってください。"
        )
    session.refresh(member)
    body = session.get(Body, code)
    _audit(
        session,
        user,
        partnership,
        # not "decline": the audit log's filter must not show the answers' own keys (join / decline)
        "invitation_accepted" if accept else "invitation_refused",
        f"{body.name if body else code}が招待に{'参加' if accept else '辞退'}と回答",
        before={"body": code, "state": "invited"},
        after={"body": code, "state": new_state},
        body_code=code,
    )
    return member


def new_scenario(
    session: Session,
    user: User,
    partnership: Partnership,
    *,
    name: str = "",
    fiscal_year: int | None = None,
    allocation_method: str = "formula",
    allocation_weights: dict[str, float] | None = None,
    is_demo: bool | None = None,
) -> Scenario:
    """A scenario of the consortium (run by its lead): its category, the lead as a possible 幹事 (host), no
    geographic limit (the members chose each other), and the needs of the lead and the accepted bodies only
    (planner.services.access.planned_bodies). The caller commits."""
    from planner.domain.model import ALLOCATION_METHODS

    _require_lead(user, partnership, "シナリオの作成")
    if allocation_method not in ALLOCATION_METHODS:
        raise PartnershipError("按分方法を選んでください。")
    weights = dict(allocation_weights or {})
    if allocation_method == "formula" and not weights:
        weights = {"equal": 0.5, "population": 0.5, "volume": 0.0}
    base = scenario_defaults(session)
    scenario = Scenario(
        name=((name or "").strip() or f"{partnership.name}の共同調達")[:120],
        prefecture_code=partnership.prefecture_code,
        fiscal_year=fiscal_year or fiscal_year_of(today_jst()),
        horizon_years=base.get("horizon_years") or 5,
        geography_type="any",
        allocation_method=allocation_method,
        allocation_weights=weights if allocation_method == "formula" else {},
        category_ids=[partnership.category_id],
        hosts=[{"body": partnership.lead_body_code, "categories": [partnership.category_id]}],
        price_book_id=base.get("price_book_id"),
        subsidy_rule_set_id=base.get("subsidy_rule_set_id"),
        is_demo=partnership.is_demo if is_demo is None else is_demo,
        partnership_id=partnership.id,
        partnership_lead_code=partnership.lead_body_code,
        created_by=user.id,
        status="draft",
    )
    session.add(scenario)
    session.flush()
    record(
        session,
        user_id=user.id,
        action="create",
        entity="scenario",
        entity_id=str(scenario.id),
        after={"name": scenario.name, "partnership": partnership.id, "category": partnership.category_id},
        prefecture_code=scenario.prefecture_code,
        body_code=partnership.lead_body_code,
        detail=f"協議会「{partnership.name}」のシナリオ「{scenario.name}」を作成",
    )
    return scenario


def scenarios_of(session: Session, partnership_id: int) -> list[tuple[Scenario, int]]:
    """The consortium's scenarios, newest first, with how many solved plans each has."""
    counts = dict(
        session.exec(
            select(col(PlanRow.scenario_id), func.count())
            .join(Scenario, col(Scenario.id) == col(PlanRow.scenario_id))
            .where(col(Scenario.partnership_id) == partnership_id)
            .group_by(col(PlanRow.scenario_id))
        ).all()
    )
    rows = session.exec(
        select(Scenario).where(col(Scenario.partnership_id) == partnership_id).order_by(col(Scenario.id).desc())
    ).all()
    return [(s, int(counts.get(id_of(s), 0))) for s in rows]


def category_choices(session: Session) -> list[tuple[str, str]]:
    return [(c.id, c.name) for c in session.exec(select(Category).order_by(col(Category.sort_order), col(Category.id)))]


def row_and_lead(session: Session, partnership_id: int | None) -> tuple[Partnership, Body | None] | None:
    """The consortium row and its lead body, for a page that already holds a scenario or plan the user may see."""
    row = session.get(Partnership, partnership_id) if partnership_id is not None else None
    return None if row is None else (row, session.get(Body, row.lead_body_code))
