"""The demo: one prefecture (長野県) with needs drawn at survey-like rates, demo users, and (``plan_demo``) a plan
published to the members with a reply deadline beside a draft 試算 to compare with it.

Everything it creates is marked (``is_demo``, scenario names starting with 【デモ】) and loading the demo again
replaces it. It needs only ``planner init-db`` (which loads the shipped population figures); without population
figures, volumes are drawn for a body of an assumed size and the report says so.

So that the grant and the special-tax paths show, the demo assumes plausible subsidy flags where nobody has set
any for the prefecture yet: a 条件不利地域 for towns, villages and smaller cities, a submitted 推進計画 for the
larger cities and about half of the rest, 軽井沢町 as a 不交付団体, and resident-facing needs (chatbots, health
guidance) of bodies with a 条件不利地域 as services there. The pages of a demo scenario say these are assumptions.

A town logging in to the demo should find a plan to answer, as it would in May of a real year:
``planner.jobs.demo.plan_demo`` runs the demo scenario (the web's solve job, synchronously), adopts the result as 計画 No.1 第1版 and publishes it with a
reply deadline two weeks ahead, as the demo coordinator; and it solves a copy allocated by 単独費用比 and leaves it a
試算, so the coordinator can also walk a draft through adoption (or compare the two allocations).
"""

from __future__ import annotations

import math
import random
from collections.abc import Set
from dataclasses import dataclass, field

from sqlmodel import Session, col, delete, select

from planner.db.models import (
    Body,
    Category,
    Consortium,
    MemberShare,
    Need,
    Partnership,
    PartnershipMember,
    Plan,
    Scenario,
    SubsidyEstimate,
    User,
    utcnow,
)
from planner.db.rows import fetch, id_of, keys

from .access import ADMIN, MUNICIPALITY, PREFECTURE, ROLE_LABELS
from .audit import record as audit
from .bodies import population_status
from .reference_data import ReferenceDataError, current_price_book, current_subsidy_rule_set
from .users import create_user, generate_password, hash_password

DEMO_PREFECTURE = "20"  # 長野県
DEMO_SEED = 20260401
DEMO_PREFIX = "【デモ】"
ASSUMED_POPULATION = 20_000  # volumes of bodies whose population has not been imported
FISCAL_YEAR = 2026
REPLY_DAYS = 14  # the published demo plan asks for answers within two weeks of loading
PUBLISH_MESSAGE = "令和9年度予算要求に向けて、各ニーズへの参加の意向を回答期限までに回答してください（デモ）。"
DRAFT_SUFFIX = "（比較試算：単独費用比で按分）"

# Share of municipalities that register each category (national survey-like levels, rounded): generative AI and
# speech recognition are the most common wishes, demand forecasting the rarest.
ADOPTION_RATE = {
    "genai": 0.55,
    "speech": 0.45,
    "ocr": 0.45,
    "rpa": 0.40,
    "chatbot": 0.35,
    "matching": 0.15,
    "optimal": 0.15,
    "image": 0.12,
    "forecast": 0.08,
}
# Larger bodies register more, small villages less.
SIZE_FACTOR = ((100_000, 1.2), (10_000, 1.0), (0, 0.8))
# Start years: half want the first year, most of the rest the next.
START_YEARS = ((FISCAL_YEAR, 0.5), (FISCAL_YEAR + 1, 0.35), (FISCAL_YEAR + 2, 0.15))
# Demo assumptions for the subsidy flags (not official designations; see the module docstring).
DEMO_DISADVANTAGED_BELOW = 50_000  # cities under this population are assumed to have a 条件不利地域
DEMO_PLAN_CITY_FROM = 50_000  # cities from this population are assumed to have submitted the 推進計画
DEMO_PLAN_SHARE = 0.5  # share of the other municipalities assumed to have submitted it
DEMO_NO_ALLOCATION_TAX = ("203211",)  # 軽井沢町
RESIDENT_SERVICE_CATEGORIES = ("chatbot", "optimal")  # resident-facing: inquiries, health guidance
DEMO_ASSUMPTIONS = (
    "デモの仮定：長野県の団体の条件不利地域・官民データ活用推進計画・不交付団体の印と、住民向けサービス"
    "（チャットボット・受診勧奨）の印は、補助金・特別交付税の見込みを示すためにデモが仮に設定したもので、"
    "実際の指定・提出状況ではありません（投入時に県内の団体に印が1つもなかった場合に設定します）。"
)

DEMO_USERS = (
    # username, role, body code, prefecture code, display name
    ("demo-admin", ADMIN, None, None, "デモ管理者"),
    ("demo-nagano-pref", PREFECTURE, None, DEMO_PREFECTURE, "長野県 デジタル推進課（デモ）"),
    ("demo-nagano-city", MUNICIPALITY, "202011", None, "長野市 DX推進課（デモ）"),
    ("demo-matsumoto", MUNICIPALITY, "202029", None, "松本市 DX推進課（デモ）"),
    ("demo-obuse", MUNICIPALITY, "205419", None, "小布施町 総務課（デモ）"),
    # the towns 松本市 invites into its RPA 協議会 in the demo walk (docs/lifecycle.md), one across the border in 岐阜県;
    # made only where the body is registered
    ("demo-shimosuwa", MUNICIPALITY, "203611", None, "下諏訪町 総務課（デモ）"),
    ("demo-sakaki", MUNICIPALITY, "205214", None, "坂城町 企画政策課（デモ）"),
    ("demo-takayama", MUNICIPALITY, "212032", None, "高山市 デジタル推進課（デモ）"),
)
# Demo needs outside 長野県 (the prefecture's plans never read them): 高山市's RPA, so that 松本市's consortium has a
# member across the border to invite. (body, category, volume, start year)
CROSS_BORDER_NEEDS = (("212032", "rpa", 8.0, 2026),)


@dataclass
class DemoLogin:
    username: str
    password: str
    role: str
    scope: str  # "長野県", "長野市", "全体"


@dataclass
class DemoReport:
    scenario_id: int
    scenario_name: str
    needs: int
    bodies_with_needs: int
    logins: list[DemoLogin] = field(default_factory=list)
    removed_needs: int = 0
    removed_scenarios: int = 0
    population_message: str = ""
    user_needs_kept: int = 0  # users' active needs in the demo prefecture, which the demo neither plans nor replaces
    flags_assumed: int = 0  # bodies given the demo's subsidy flags (0: the prefecture's own flags were kept)

    def lines(self) -> list[str]:
        out = [
            f"デモデータを投入しました: {self.scenario_name}（シナリオ ID {self.scenario_id}）",
            f"  ニーズ {self.needs} 件（{self.bodies_with_needs} 団体）。前回のデモ（ニーズ {self.removed_needs} 件、"
            f"シナリオ {self.removed_scenarios} 件）は置き換えました。",
        ]
        if self.user_needs_kept:
            out.append(
                f"  利用者が登録したニーズ {self.user_needs_kept} 件はそのまま残し、同じ団体・分野のデモのニーズは"
                "作っていません。デモのシナリオはデモのニーズだけを計画します。"
            )
        if self.population_message:
            out.append(
                f"  注意: {self.population_message}"
                f"（需要量は人口 {ASSUMED_POPULATION:,} 人の団体として仮定し、デモのシナリオは"
                "均等割10%・利用量割90%で按分します）"
            )
        if self.flags_assumed:
            out.append(f"  {DEMO_ASSUMPTIONS}（{self.flags_assumed} 団体）")
        else:
            out.append("  補助制度の印（条件不利地域・推進計画・不交付団体）は県内に登録済みのものを使いました。")
        out.append("デモ用ログイン（パスワードは投入のたびに作り直されます）:")
        for login in self.logins:
            out.append(
                f"  {ROLE_LABELS[login.role]:<10} {login.scope:<8} ログイン名 {login.username:<18} "
                f"パスワード {login.password}"
            )
        return out


class DemoError(RuntimeError):
    pass


def remove_demo_data(session: Session) -> tuple[int, int]:
    """Delete demo scenarios (with their plans) and demo needs; returns (needs, scenarios) removed."""
    scenario_ids = keys(session.exec(select(col(Scenario.id)).where(col(Scenario.is_demo) == True)))  # noqa: E712
    if scenario_ids:
        plan_ids = keys(session.exec(select(col(Plan.id)).where(col(Plan.scenario_id).in_(scenario_ids))))
        from planner.services import plan_lifecycle, quotes

        plan_lifecycle.delete_for_plans(session, plan_ids)
        quotes.delete_for_scenarios(session, scenario_ids)
        if plan_ids:
            consortium_ids = list(session.exec(select(col(Consortium.id)).where(col(Consortium.plan_id).in_(plan_ids))))
            if consortium_ids:
                share_ids = list(
                    session.exec(select(col(MemberShare.id)).where(col(MemberShare.consortium_id).in_(consortium_ids)))
                )
                if share_ids:
                    session.exec(delete(SubsidyEstimate).where(col(SubsidyEstimate.member_share_id).in_(share_ids)))
                    session.exec(delete(MemberShare).where(col(MemberShare.id).in_(share_ids)))
                session.exec(delete(Consortium).where(col(Consortium.id).in_(consortium_ids)))
            session.exec(delete(Plan).where(col(Plan.id).in_(plan_ids)))
        session.exec(delete(Scenario).where(col(Scenario.id).in_(scenario_ids)))
    # the demo accounts' consortia (their scenarios went above, being demo scenarios)
    demo_partnerships = list(session.exec(select(col(Partnership.id)).where(col(Partnership.is_demo) == True)))  # noqa: E712
    if demo_partnerships:
        session.exec(delete(PartnershipMember).where(col(PartnershipMember.partnership_id).in_(demo_partnerships)))
        session.exec(delete(Partnership).where(col(Partnership.id).in_(demo_partnerships)))
    needs = session.exec(delete(Need).where(col(Need.is_demo) == True))  # noqa: E712
    session.flush()
    return needs.rowcount or 0, len(scenario_ids)


def _demo_users(session: Session) -> tuple[list[DemoLogin], dict[str, int]]:
    """Create the demo users, or give the existing ones new passwords (their ids stay, so audit entries stay valid)."""
    logins: list[DemoLogin] = []
    user_by_body: dict[str, int] = {}
    for username, role, body_code, pref, display in DEMO_USERS:
        if body_code and session.get(Body, body_code) is None:
            continue  # a database with some prefectures' bodies only (tests): that account is not made
        password = generate_password()
        user = session.exec(select(User).where(col(User.username) == username)).first()
        if user is not None and not user.is_demo:
            raise DemoError(f"ログイン名「{username}」はデモ以外の利用者が使っています。デモを投入できません")
        if user is None:
            user = create_user(
                session,
                username,
                password,
                role,
                body_code=body_code,
                prefecture_code=pref,
                display_name=display,
                is_demo=True,
            )
        else:
            user.password_hash = hash_password(password)
            user.is_active = True
            user.role, user.display_name = role, display
            user.body_code = body_code
            user.prefecture_code = pref or (fetch(session, Body, body_code).prefecture_code if body_code else None)
        scope = fetch(session, Body, body_code).name if body_code else ("長野県" if pref else "全体")
        logins.append(DemoLogin(username, password, role, scope))
        if body_code:
            user_by_body[body_code] = id_of(user)
        elif role == PREFECTURE:
            user_by_body["prefecture"] = id_of(user)
    known = {u[0] for u in DEMO_USERS}
    for stale in session.exec(select(User).where(col(User.is_demo) == True)):  # noqa: E712
        if stale.username not in known:
            stale.is_active = False
    session.flush()
    return logins, user_by_body


def _size_factor(population: int) -> float:
    return next(f for threshold, f in SIZE_FACTOR if population >= threshold)


def _start_year(rnd: random.Random) -> int:
    x = rnd.random()
    for year, share in START_YEARS:
        if x < share:
            return year
        x -= share
    return START_YEARS[-1][0]


def _assume_flags(session: Session, bodies: list[Body], seed: int) -> int:
    """Set the demo's subsidy flags on the prefecture's municipalities, unless any flag is already set there."""
    if any(b.disadvantaged or b.has_data_plan or b.no_allocation_tax for b in bodies):
        return 0
    rnd = random.Random(seed + 1)  # its own draw: the needs stay the same for the same seed
    changed = 0
    for body in bodies:
        if body.kind == "prefecture":
            continue
        population = body.population if body.population is not None else ASSUMED_POPULATION
        city = body.kind in ("city", "designated_city")
        disadvantaged = not city or population < DEMO_DISADVANTAGED_BELOW
        has_plan = (city and population >= DEMO_PLAN_CITY_FROM) or rnd.random() < DEMO_PLAN_SHARE
        no_tax = body.code in DEMO_NO_ALLOCATION_TAX
        if (disadvantaged, has_plan, no_tax) == (False, False, False):
            continue
        body.disadvantaged, body.has_data_plan, body.no_allocation_tax = disadvantaged, has_plan, no_tax
        body.version += 1
        body.updated_at = utcnow()
        audit(
            session,
            user_id=None,
            action="update",
            entity="body",
            entity_id=body.code,
            prefecture_code=body.prefecture_code,
            body_code=body.code,
            after={"disadvantaged": disadvantaged, "has_data_plan": has_plan, "no_allocation_tax": no_tax},
            detail="デモの仮定として設定（実際の指定・提出状況ではありません）",
        )
        changed += 1
    session.flush()
    return changed


def _draw_needs(
    bodies: list[Body],
    categories: list[Category],
    rnd: random.Random,
    user_by_body: dict[str, int],
    taken: Set[tuple[str, str]] = frozenset(),
) -> list[Need]:
    """Needs drawn for every municipality; where a user has registered the category (``taken``), the user's need
    stands and the demo draws none (the draw itself is unchanged, so the other needs stay the same)."""
    needs = []
    now = utcnow()
    for body in bodies:
        if body.kind == "prefecture":
            continue
        population = body.population if body.population is not None else ASSUMED_POPULATION
        factor = _size_factor(population)
        # Cities run most procurements themselves; a third of the small bodies are also willing to lead.
        can_lead = population >= 30_000 or rnd.random() < 0.3
        for cat in categories:
            if rnd.random() >= ADOPTION_RATE.get(cat.id, 0.2) * factor:
                continue
            per_10k = cat.volume_per_10k_pop or 1.0
            volume = max(0.1, round(per_10k * population / 10_000 * math.exp(rnd.gauss(0.0, 0.3)), 1))
            pick = rnd.random()
            lead, unified = (True, True) if pick < 0.6 else ((True, False) if pick < 0.8 else (False, True))
            year = _start_year(rnd)
            if (body.code, cat.id) in taken:
                continue
            needs.append(
                Need(
                    body_code=body.code,
                    category_id=cat.id,
                    volume=volume,
                    start_year=year,
                    accepts_lead=lead,
                    accepts_unified=unified,
                    can_lead=can_lead,
                    serves_disadvantaged_area=body.disadvantaged and cat.id in RESIDENT_SERVICE_CATEGORIES,
                    notes="デモデータ（自動生成）",
                    is_demo=True,
                    created_at=now,
                    updated_at=now,
                    created_by=user_by_body.get(body.code, user_by_body.get("prefecture")),
                )
            )
    return needs


def _cross_border_needs(session: Session, user_by_body: dict[str, int]) -> list[Need]:
    """:data:`CROSS_BORDER_NEEDS` where the body is registered and has no user's need of the category."""
    out = []
    now = utcnow()
    for code, category, volume, year in CROSS_BORDER_NEEDS:
        if session.get(Body, code) is None or session.get(Category, category) is None:
            continue
        taken = session.exec(
            select(col(Need.id)).where(
                col(Need.body_code) == code, col(Need.category_id) == category, col(Need.status) == "active"
            )
        ).first()
        if taken is None:
            out.append(
                Need(
                    body_code=code,
                    category_id=category,
                    volume=volume,
                    start_year=year,
                    notes="デモデータ（協議会の招待先）",
                    is_demo=True,
                    created_at=now,
                    updated_at=now,
                    created_by=user_by_body.get(code),
                )
            )
    return out


def load_demo(session: Session, seed: int = DEMO_SEED) -> DemoReport:
    """Replace the demo data with a fresh draw (the same for the same seed and the same population data)."""
    bodies = list(
        session.exec(select(Body).where(col(Body.prefecture_code) == DEMO_PREFECTURE).order_by(col(Body.code)))
    )
    if not bodies:
        raise DemoError("長野県の団体が登録されていません。先に planner init-db を実行してください")
    book = current_price_book(session)
    if book is None:
        raise ReferenceDataError(["単価表が登録されていません。先に planner init-db を実行してください"])
    categories = list(session.exec(select(Category).order_by(col(Category.sort_order), col(Category.id))))
    removed_needs, removed_scenarios = remove_demo_data(session)
    logins, user_by_body = _demo_users(session)
    flags_assumed = _assume_flags(session, bodies, seed)
    rnd = random.Random(seed)
    taken = set(
        session.exec(
            select(col(Need.body_code), col(Need.category_id)).where(
                col(Need.status) == "active",
                col(Need.is_demo) == False,  # noqa: E712
                col(Need.body_code).in_([b.code for b in bodies]),
            )
        )
    )
    needs = _draw_needs(bodies, categories, rnd, user_by_body, taken)
    session.add_all(needs)
    session.add_all(_cross_border_needs(session, user_by_body))
    prefecture = next(b for b in bodies if b.kind == "prefecture")
    rules = current_subsidy_rule_set(session)
    status = population_status(session, prefecture_code=DEMO_PREFECTURE)
    # 均等割10%・人口割90% is the usual agreement; without imported population it cannot be computed, so the demo
    # splits by volume instead (the volumes were drawn for an assumed population) and says so.
    weights = (
        {"equal": 0.1, "population": 0.9, "volume": 0.0}
        if status.imported
        else {"equal": 0.1, "population": 0.0, "volume": 0.9}
    )
    scenario = Scenario(
        name=f"{DEMO_PREFIX}{prefecture.name} AI・RPA 共同調達（{FISCAL_YEAR}年度〜）",
        prefecture_code=DEMO_PREFECTURE,
        fiscal_year=FISCAL_YEAR,
        horizon_years=book.horizon_years,
        geography_type="same_prefecture",
        allocation_method="formula",
        allocation_weights=weights,
        hosts=[{"body": prefecture.code, "categories": [c.id for c in categories]}],
        price_book_id=book.id,
        subsidy_rule_set_id=rules.id if rules else None,
        is_demo=True,
        status="draft",
        created_by=user_by_body.get("prefecture"),
    )
    session.add(scenario)
    session.flush()
    audit(
        session,
        user_id=None,
        action="create",
        entity="scenario",
        entity_id=str(scenario.id),
        prefecture_code=DEMO_PREFECTURE,
        detail=f"デモデータ投入: ニーズ {len(needs)} 件",
    )
    return DemoReport(
        scenario_id=id_of(scenario),
        scenario_name=scenario.name,
        needs=len(needs),
        bodies_with_needs=len({n.body_code for n in needs}),
        logins=logins,
        removed_needs=removed_needs,
        removed_scenarios=removed_scenarios,
        user_needs_kept=len(taken),
        population_message=status.message,
        flags_assumed=flags_assumed,
    )
