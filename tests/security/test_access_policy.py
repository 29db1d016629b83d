"""The access policy (planner.services.access) asked directly: every role against own and other objects.

test_authorisation_matrix.py checks that every route asks it and answers its "no" with a logged 403; this file
checks the answers themselves, without HTTP, and that the queries (the same rules in SQL) agree with them.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlmodel import Session, SQLModel, create_engine

from planner.db.models import Body, Consortium, MemberShare, Need, PlanRelease, PlanSeries, Scenario
from planner.db.models import Plan as PlanRow
from planner.services import access


@dataclass(frozen=True)
class Someone:
    role: str | None
    prefecture_code: str | None = None
    body_code: str | None = None
    is_authenticated: bool = True


ADMIN = Someone("admin")
PREF20 = Someone("prefecture", "20")
PREF15 = Someone("prefecture", "15")
NAGANO_STAFF = Someone("municipality", "20", "202011")  # 長野市
MATSUMOTO_STAFF = Someone("municipality", "20", "202029")  # 松本市
ANONYMOUS = Someone(None, is_authenticated=False)
STRANGER = Someone("guest", "20", "202011")  # a role the product does not know
EVERYONE = (ADMIN, PREF20, PREF15, NAGANO_STAFF, MATSUMOTO_STAFF, ANONYMOUS, STRANGER)

# The 長野県 plan has 長野市 and 小谷村 as members; 松本市 is not in it.
PLAN = access.PlanFacts(prefecture_code="20", member_bodies={"202011", "204820"}, status="published")


@pytest.mark.parametrize(
    "user, prefecture, body, expected",
    [
        (ADMIN, "15", "151009", True),
        (PREF20, "20", "202029", True),
        (PREF20, "15", "151009", False),
        (NAGANO_STAFF, "20", "202011", True),
        (NAGANO_STAFF, "20", "202029", False),
        (ANONYMOUS, "20", "202011", False),
        (STRANGER, "20", "202011", False),
    ],
)
def test_bodies_are_seen_and_changed_by_whoever_is_responsible(user, prefecture, body, expected):
    assert access.sees_body(user, body, prefecture) is expected
    assert access.edits_body(user, body, prefecture) is expected


def test_prefecture_data_and_scenarios():
    nagano = Scenario(name="長野県", prefecture_code="20")
    national = Scenario(name="全国", prefecture_code=None)
    assert [access.sees_scenario(u, nagano) for u in EVERYONE] == [True, True, False, False, False, False, False]
    assert [access.sees_scenario(u, national) for u in EVERYONE] == [True] + [False] * 6
    assert [access.edits_scenario(u, nagano) for u in EVERYONE] == [access.sees_scenario(u, nagano) for u in EVERYONE]
    assert access.scope_prefecture(PREF20) == "20" and access.scope_prefecture(ADMIN) is None
    assert access.scope_prefecture(NAGANO_STAFF) is None and not access.lists_bodies(NAGANO_STAFF)


def test_plans_whole_for_the_prefecture_and_a_members_own_view_for_its_staff():
    assert [access.plan_access(u, PLAN) for u in EVERYONE] == ["full", "full", None, "body", None, None, None]
    # a member's staff: the groups their body is in, their own notice, nobody else's
    assert access.sees_group(NAGANO_STAFF, "body", {"202011", "204820"})
    assert not access.sees_group(NAGANO_STAFF, "body", {"204820", "204854"})
    assert access.sees_member(NAGANO_STAFF, "body", "202011") and not access.sees_member(NAGANO_STAFF, "body", "204820")
    assert access.sees_group(PREF20, "full", {"204820"}) and access.sees_member(PREF20, "full", "204820")
    assert not access.sees_group(MATSUMOTO_STAFF, None, {"202029"})


@pytest.mark.parametrize(
    "status, members_see",
    [("draft", False), ("adopted", False), (None, False), ("published", True), ("superseded", True)],
)
def test_plan_status_is_one_place_in_the_rule(status, members_see):
    """Plan lifecycle: drafts (試算) and unpublished versions stay with the prefecture; a plan whose status the
    caller did not establish is refused to members; the prefecture and admins see every status."""
    plan = access.PlanFacts("20", {"202011"}, status=status)
    assert access.plan_access(NAGANO_STAFF, plan) == ("body" if members_see else None)
    assert access.plan_access(PREF20, plan) == "full" and access.plan_access(ADMIN, plan) == "full"


@pytest.fixture
def session():
    engine = create_engine("sqlite://")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as s:
        for code, name, pref in (
            ("202011", "長野市", "20"),
            ("202029", "松本市", "20"),
            ("204820", "小谷村", "20"),
            ("151009", "新潟市", "15"),
        ):
            s.add(Body(code=code, name=name, prefecture_code=pref, kind="city", lat=36.0, lng=138.0))
        s.add_all(
            [Scenario(id=1, name="長野県", prefecture_code="20"), Scenario(id=2, name="新潟県", prefecture_code="15")]
        )
        s.add_all(
            [
                PlanRow(
                    id=10,
                    scenario_id=1,
                    status="optimal",
                    objective_yen=1,
                    lower_bound_yen=1,
                    gap=0.0,
                    standalone_total_yen=2,
                    solve_seconds=0.1,
                ),
                PlanRow(
                    id=20,
                    scenario_id=2,
                    status="optimal",
                    objective_yen=1,
                    lower_bound_yen=1,
                    gap=0.0,
                    standalone_total_yen=2,
                    solve_seconds=0.1,
                ),
            ]
        )
        s.add(
            PlanRow(
                id=30,
                scenario_id=1,
                status="optimal",
                objective_yen=1,
                lower_bound_yen=1,
                gap=0.0,
                standalone_total_yen=2,
                solve_seconds=0.1,
            )
        )  # a draft (試算) with the same members
        for consortium, plan in ((100, 10), (300, 30)):
            s.add(
                Consortium(
                    id=consortium,
                    plan_id=plan,
                    group_key="g",
                    category_id="ocr",
                    start_year=2026,
                    mode="lead",
                    lead_body_code="202011",
                    initial_yen=0,
                    annual_yen=0,
                    total_yen=0,
                    standalone_total_yen=0,
                )
            )
            s.add_all(
                [
                    MemberShare(
                        consortium_id=consortium,
                        need_key=n,
                        body_code=b,
                        initial_yen=0,
                        annual_yen=0,
                        total_yen=0,
                        standalone_total_yen=0,
                    )
                    for n, b in (("n1", "202011"), ("n2", "204820"))
                ]
            )
        s.add(PlanSeries(id=1, prefecture_code="20", number=1, current_version=1))
        s.add(PlanRelease(series_id=1, version=1, plan_id=10, state="published"))  # plan 10 is published
        s.add_all(
            [Need(body_code=b, category_id="ocr", volume=1.0, start_year=2026) for b in ("202011", "202029", "151009")]
        )
        s.commit()
        yield s


def test_the_queries_agree_with_the_rules(session):
    scenarios = {s.id: s for s in session.exec(access.visible_scenarios(ADMIN))}
    plans_scenario = {10: scenarios[1], 20: scenarios[2], 30: scenarios[1]}
    status = {10: "published", 20: "draft", 30: "draft"}
    bodies = {b.code: b for b in session.exec(access.editable_bodies_query(ADMIN))}
    members = {10: {"202011", "204820"}, 20: set(), 30: {"202011", "204820"}}
    for user in EVERYONE:
        seen = {s.id for s in session.exec(access.visible_scenarios(user))}
        assert seen == {i for i, s in scenarios.items() if access.sees_scenario(user, s)}, user
        plans = {p.id for p, _ in session.exec(access.visible_plans(user))}
        assert plans == {
            i
            for i, s in plans_scenario.items()
            if access.plan_access(user, access.PlanFacts(s.prefecture_code, members[i], status[i]))
        }, user
        needs = {n.body_code for n, _ in session.exec(access.visible_needs(user))}
        assert needs == {
            b for b in ("202011", "202029", "151009") if access.sees_body(user, b, bodies[b].prefecture_code)
        }, user
        editable = {b.code for b in session.exec(access.editable_bodies_query(user))}
        assert editable == {c for c, b in bodies.items() if access.edits_body_row(user, b)}, user
