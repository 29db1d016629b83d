"""Lead-run consortia on the pages (#29): 松本市's staff found an RPA 協議会, invite 小谷村 and 新潟市 (another
prefecture) by name, the invitees accept on their own pages, the lead makes the scenario, adopts and publishes its
plan, 新潟市 answers; 長野県 reads the consortium and its board but every action answers 403; 新潟県 gets 404.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import Need, Partnership, PartnershipMember, PlanRelease, Scenario, User
from planner.db.models import Plan as PlanRow
from planner.services import plan_lifecycle
from planner.services.users import create_user
from tests.security.conftest import PASSWORD, login, use_standin_solver
from tests.support.plans import solve_now
from tests.support.smtp import smtp_sink  # noqa: F401  (a fixture)

# The tests below walk one consortium in order (the board and the mail tests read the plan the first one publishes),
# so they share one xdist worker.
pytestmark = pytest.mark.xdist_group("partnerships_web")


def _client(app, username):
    client = app.test_client()
    login(client, username)
    return client


def _csrf(client, url):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)


@pytest.fixture(scope="module")
def flow(world):
    engine = world.engine
    with Session(engine, expire_on_commit=False) as session:
        for name, code in (("muni204820", "204820"), ("muni151009", "151009")):
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "municipality", body_code=code)
        session.add(Need(body_code="151009", category_id="rpa", volume=25.0, start_year=2026))
        session.commit()
        pref20 = session.exec(select(User).where(User.username == "pref20")).one()
        release = session.exec(select(PlanRelease).where(PlanRelease.plan_id == world.plans["20"])).one()
        plan_lifecycle.withdraw(session, pref20, release, reason="RPA は松本市の協議会で調達するため")
        session.commit()
    return {}


def test_the_consortium_flow_on_the_pages(world, flow):
    app, engine = world.app, world.engine
    lead = _client(app, "muni202029")
    token = _csrf(lead, "/consortia/new")
    r = lead.post(
        "/consortia/new",
        data={"csrf_token": token, "name": "松本地域RPA共同調達協議会", "kind": "council", "category": "rpa"},
    )
    assert r.status_code == 302, r.get_data(as_text=True)
    pid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    page = lead.get(f"/consortia/{pid}").get_data(as_text=True)
    assert "団体を招待する" in page and "幹事団体" in page
    # a name shared by no one else, a prefecture-qualified name and a code; one unknown name refuses them all
    token = _csrf(lead, f"/consortia/{pid}")
    r = lead.post(f"/consortia/{pid}/invite", data={"csrf_token": token, "bodies": "小谷村、新潟県新潟市、架空村"})
    assert r.status_code == 303
    assert "架空村（団体が見つかりません）" in lead.get(f"/consortia/{pid}").get_data(as_text=True)
    r = lead.post(f"/consortia/{pid}/invite", data={"csrf_token": token, "bodies": "小谷村\n新潟県新潟市\n202011"})
    assert r.status_code == 302
    with Session(engine) as session:
        states = dict(
            session.exec(
                select(PartnershipMember.body_code, PartnershipMember.state).where(
                    PartnershipMember.partnership_id == pid
                )
            ).all()
        )
    assert states == {"202029": "lead", "204820": "invited", "151009": "invited", "202011": "invited"}

    # the invitees see the invitation on their home page and answer it
    niigata = _client(app, "muni151009")
    assert "松本地域RPA共同調達協議会" in niigata.get("/home").get_data(as_text=True)
    for client, answer in (
        (niigata, "accept"),
        (_client(app, "muni204820"), "accept"),
        (_client(app, "muni202011"), "decline"),
    ):
        token = _csrf(client, f"/consortia/{pid}")
        assert client.post(f"/consortia/{pid}/answer", data={"csrf_token": token, "answer": answer}).status_code == 302
    assert "既に回答済み" in niigata.post(
        f"/consortia/{pid}/answer", data={"csrf_token": token, "answer": "decline"}, follow_redirects=True
    ).get_data(as_text=True)

    # the lead makes the scenario from the consortium page and runs it
    token = _csrf(lead, f"/consortia/{pid}")
    r = lead.post(
        f"/consortia/{pid}/scenarios",
        data={"csrf_token": token, "name": "松本地域RPA 令和8年度", "allocation_method": "equal"},
    )
    assert r.status_code == 302
    sid = int(r.headers["Location"].rstrip("/").split("/")[-1])
    scenario_page = lead.get(f"/scenarios/{sid}").get_data(as_text=True)
    assert "最適化を実行" in scenario_page and "協議会の幹事団体と参加団体" in scenario_page
    with pytest.MonkeyPatch.context() as mp:
        use_standin_solver(mp)
        plan_id = solve_now(engine, sid)
    token = _csrf(lead, f"/plans/{plan_id}")
    assert (
        lead.post(
            f"/plans/{plan_id}/adopt", data={"csrf_token": token, "confirm_rule_year": "1", "series": "new"}
        ).status_code
        == 302
    )
    deadline = (plan_lifecycle.today_jst() + timedelta(days=10)).isoformat()
    token = _csrf(lead, f"/plans/{plan_id}")
    r = lead.post(f"/plans/{plan_id}/publish", data={"csrf_token": token, "deadline": deadline})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{plan_id}/answers")
    board = lead.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    assert "新潟市" in board and "小谷村" in board and "長野市" not in board

    # 新潟市 (another prefecture) answers like a member of a prefecture's plan
    home = niigata.get("/home").get_data(as_text=True)
    assert f"/plans/{plan_id}/answer" in home
    form = niigata.get(f"/plans/{plan_id}/answer").get_data(as_text=True)
    need_key = re.search(r'name="answer-(n\d+)"', form).group(1)
    token = _csrf(niigata, f"/plans/{plan_id}/answer")
    r = niigata.post(f"/plans/{plan_id}/answer", data={"csrf_token": token, f"answer-{need_key}": "join"})
    assert r.status_code == 302
    assert "未回答の団体（2）" in lead.get(f"/plans/{plan_id}/answers").get_data(as_text=True)  # 松本市 and 小谷村

    # the lead sees nothing else of its prefecture: the prefecture's draft and scenario answer 404
    assert lead.get(f"/plans/{world.drafts['20']}").status_code == 404
    assert lead.get(f"/scenarios/{world.scenarios['20']}").status_code == 404

    # 長野県 reads the consortium, its scenario, plan and board, read-only; every action is refused
    pref = _client(app, "pref20")
    assert "松本地域RPA共同調達協議会" in pref.get("/home").get_data(as_text=True)
    assert "閲覧のみ" in pref.get(f"/consortia/{pid}").get_data(as_text=True)
    plan_page = pref.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "閲覧のみ" in plan_page and "取り下げる" not in plan_page
    with Session(engine) as session:
        groups = session.get(PlanRow, plan_id).plan_doc["groups"]
    group_id = next(g["id"] for g in groups if g["mode"] != "standalone")
    stages = pref.get(f"/plans/{plan_id}/groups/{group_id}/stages")
    assert stages.status_code == 200
    stages_page = stages.get_data(as_text=True)
    assert (
        '<span class="stage stage-readonly">閲覧のみ</span> 記録は協議会の幹事団体（松本市）の担当者が行います'
        in stages_page
    )
    pref_board = pref.get(f"/plans/{plan_id}/answers")
    assert pref_board.status_code == 200 and "催促する" not in pref_board.get_data(as_text=True)
    assert "最適化を実行" not in pref.get(f"/scenarios/{sid}").get_data(as_text=True)
    token = _csrf(pref, f"/plans/{plan_id}/answers")
    for url, data in (
        (f"/plans/{plan_id}/remind", {}),
        (f"/plans/{plan_id}/withdraw", {"reason": "県が取り下げ"}),
        (f"/plans/{plan_id}/deadline", {"deadline": deadline}),
        (f"/scenarios/{sid}/run", {}),
        (f"/scenarios/{sid}/delete", {}),
        (f"/consortia/{pid}/invite", {"bodies": "長野市"}),
    ):
        assert pref.post(url, data={"csrf_token": token, **data}).status_code == 403, url
    with Session(engine) as session:
        assert session.exec(select(PlanRelease.state).where(PlanRelease.plan_id == plan_id)).one() == "published"
        assert session.get(Scenario, sid) is not None and session.get(Partnership, pid) is not None

    flow.update(plan_id=plan_id, partnership_id=pid)

    # 新潟県 and the decliner see nothing of it
    other = _client(app, "pref15")
    assert other.get(f"/consortia/{pid}").status_code == 404
    assert other.get(f"/plans/{plan_id}").status_code == 404
    assert _client(app, "muni202011").get(f"/plans/{plan_id}").status_code == 404


def test_the_board_names_bodies_nobody_can_answer_for_and_the_lead_issues_their_code(world, flow):
    """小谷村's only account is switched off: the board says nobody there can answer, the pending list (CSV) says so
    for those who telephone, and the lead issues a printable sign-up code, then issues it again (the first stops
    working); the prefecture, which reads the board, is refused."""
    from planner.services.account_import import SignupError, redeem_code

    app, engine, plan_id = world.app, world.engine, flow["plan_id"]
    with Session(engine) as session:
        staff = session.exec(select(User).where(User.username == "muni204820")).one()
        staff.is_active = False
        session.add(staff)
        session.commit()
    lead = _client(app, "muni202029")
    board = lead.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    assert "アカウントなし" in board and "ログインできる担当者のアカウントがありません" in board
    csv_text = lead.get(f"/plans/{plan_id}/answers/pending.csv").get_data().decode("utf-8-sig")
    assert csv_text.splitlines()[0] == "団体コード,団体名,未回答のニーズ,担当者のアカウント,催促の回数,最後の催促"
    assert "204820,小谷村,1,なし,0," in csv_text and "202029,松本市,1,あり,0," in csv_text
    assert "151009" not in csv_text  # 新潟市 has answered

    token = _csrf(lead, f"/plans/{plan_id}/answers")
    first = lead.post(f"/plans/{plan_id}/answers/signup-code", data={"csrf_token": token, "body": "204820"})
    page = first.get_data(as_text=True)
    assert first.status_code == 200 and "登録コードを発行しました" in page and "staff-204820" in page
    code1 = re.search(r'<td class="signup-code">([A-Z0-9-]+)</td>', page).group(1)
    assert "登録待ち" in lead.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    again = lead.post(f"/plans/{plan_id}/answers/signup-code", data={"csrf_token": token, "body": "204820"})
    page = again.get_data(as_text=True)
    assert "登録コードを再発行しました" in page and "前に発行したコードは使えなくなりました" in page
    code2 = re.search(r'<td class="signup-code">([A-Z0-9-]+)</td>', page).group(1)
    assert code1 != code2
    with Session(engine) as session:
        with pytest.raises(SignupError):
            redeem_code(session, "staff-204820", code1, "a-new-password-123")
        session.rollback()
        redeem_code(session, "staff-204820", code2, "a-new-password-123")
        session.commit()
    assert "アカウントなし" not in lead.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    # a body whose staff sign in gets no code here; the prefecture reads the board and the list but issues nothing
    r = lead.post(
        f"/plans/{plan_id}/answers/signup-code", data={"csrf_token": token, "body": "204820"}, follow_redirects=True
    )
    assert "既にログインできる担当者がいます" in r.get_data(as_text=True)
    pref = _client(app, "pref20")
    assert pref.get(f"/plans/{plan_id}/answers/pending.csv").status_code == 200
    token = _csrf(pref, f"/plans/{plan_id}/answers")
    r = pref.post(f"/plans/{plan_id}/answers/signup-code", data={"csrf_token": token, "body": "202029"})
    assert r.status_code == 403


def test_invitations_and_reminders_are_mailed_only_with_a_mail_server(world, flow, smtp_sink):  # noqa: F811
    from email.header import decode_header, make_header

    port, received = smtp_sink
    app, engine, plan_id, pid = world.app, world.engine, flow["plan_id"], flow["partnership_id"]
    with Session(engine) as session:
        for name, code in (("it@city.nagano.example", "202011"), ("dx@city.matsumoto.example", "202029")):
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "municipality", body_code=code)
        session.commit()
    lead = _client(app, "muni202029")
    # without MAIL_SERVER: recorded and shown as before, nothing sent
    token = _csrf(lead, f"/plans/{plan_id}/answers")
    r = lead.post(f"/plans/{plan_id}/remind", data={"csrf_token": token, "body": "202029"}, follow_redirects=True)
    assert "メールサーバーが設定されていないため" in r.get_data(as_text=True) and received == []
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="planner@pref.example")
    try:
        r = lead.post(f"/plans/{plan_id}/remind", data={"csrf_token": token, "body": "202029"}, follow_redirects=True)
        assert "1 団体の担当者にメールを送りました" in r.get_data(as_text=True)
        # 長野市 declined before: invited again, its staff get the invitation by mail
        r = lead.post(
            f"/consortia/{pid}/invite",
            data={"csrf_token": token, "bodies": "長野市", "message": "改めてご検討ください"},
            follow_redirects=True,
        )
        assert "1 団体の担当者にメールを送りました" in r.get_data(as_text=True)
    finally:
        app.config.update(MAIL_SERVER=None)
    assert [m["To"] for m in received] == ["dx@city.matsumoto.example", "it@city.nagano.example"]
    subjects = [str(make_header(decode_header(m["Subject"]))) for m in received]
    assert "計画 No." in subjects[0] and "回答のお願い" in subjects[0]
    assert subjects[1] == "【共同調達プランナー】「松本地域RPA共同調達協議会」への参加の招待"
    invitation = received[1].get_payload(decode=True).decode(received[1].get_content_charset() or "utf-8")
    assert "長野市 ご担当者 様" in invitation and "改めてご検討ください" in invitation
    assert f"/consortia/{pid}" in invitation and "planner@pref.example" in received[1]["From"]


def test_the_administrator_reissues_a_code_for_an_account_waiting_to_sign_up(world):
    from planner.services.account_import import SignupError, issue_code, redeem_code
    from planner.services.users import hash_password

    app, engine = world.app, world.engine
    with Session(engine) as session:
        waiting = User(
            username="waiting@vill.otari.example", password_hash=hash_password("x" * 20), role="municipality"
        )
        waiting.body_code = "204820"
        first = issue_code(waiting)
        session.add(waiting)
        session.commit()
        uid = waiting.id
    admin = _client(app, "admin")
    users_page = admin.get("/admin/users").get_data(as_text=True)
    assert f'action="/admin/users/{uid}/signup-code"' in users_page
    token = _csrf(admin, "/admin/users")
    r = admin.post(f"/admin/users/{uid}/signup-code", data={"csrf_token": token})
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and "登録コードを再発行しました" in page
    second = re.search(r'<td class="signup-code">([A-Z0-9-]+)</td>', page).group(1)
    with Session(engine) as session:
        with pytest.raises(SignupError):
            redeem_code(session, "waiting@vill.otari.example", first, "a-new-password-123")
        session.rollback()
        redeem_code(session, "waiting@vill.otari.example", second, "a-new-password-123")
        session.commit()
    # signed up: nothing to re-issue any more
    r = admin.post(f"/admin/users/{uid}/signup-code", data={"csrf_token": token}, follow_redirects=True)
    assert "登録コードでの登録を待っていません" in r.get_data(as_text=True)
