"""Stages after the answers (issue #29): 予算措置, 協定締結, 契約結果 → 確定負担額, 請求書, payments, the year-end
精算 and a member's 脱退, recorded through planner.services.plan_stages on a published plan, with who may record
what and the audit trail."""

from __future__ import annotations

import re
from datetime import date

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, GroupStage, Invoice, Payment, User
from planner.domain import contract_settlement as cs
from planner.services import plan_stages as stages
from planner.services.plans.loading import PlanNotFound
from tests.support.plans import publish_now
from tests.support.smtp import smtp_sink  # noqa: F401  (a fixture)


def _user(session, username):
    return session.exec(select(User).where(User.username == username)).one()


@pytest.fixture
def published(planned):
    """The planned scenario published, and one of its lead-mode consortia of two or more members."""
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    with Session(engine) as session:
        ctx = stages.group_context(session, _user(session, "pref20"), view.id, _lead_group(view).id)
    return {"engine": engine, "plan_id": view.id, "group_id": ctx.group.id, "lead": ctx.group.lead_body}


def _lead_group(view):
    return next(g for g in view.groups if g.joint and g.group.mode == "lead")


def _ctx(session, username, published):
    return stages.group_context(session, _user(session, username), published["plan_id"], published["group_id"])


def _contract_amounts(ctx, per_year=3_000_000):
    return {
        fy: per_year + (500_000 if k == 0 else 0) for k, fy in enumerate(cs.group_fiscal_years(ctx.instance, ctx.group))
    }


def test_contract_result_gives_confirmed_shares_and_the_lead_bills_its_members(published):
    engine = published["engine"]
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        assert ctx.runs_stages
        amounts = _contract_amounts(ctx)
        stages.record_agreement(session, _user(session, "pref20"), ctx, date(2026, 3, 20), "")
        stages.record_contract(session, _user(session, "pref20"), ctx, date(2026, 4, 1), "株式会社テスト", amounts)
        session.commit()
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        state = stages.progress(session, ctx)
        assert state.contract is not None and state.contract.vendor == "株式会社テスト"
        confirmed = state.confirmed
        work = cs.lead_work_by_year(ctx.instance, ctx.group)
        for fy, amount in amounts.items():
            assert sum(s.in_year(fy).confirmed_yen for s in confirmed.shares) == amount + work[fy]
        first = confirmed.fiscal_years[0]
        bills = stages.issue_bills(session, _user(session, "pref20"), ctx, first, date(2026, 5, 1), date(2026, 5, 31))
        session.commit()
        non_lead = [s for s in confirmed.shares if not s.is_lead]
        assert [b.amount_yen for b in bills] == [
            s.in_year(first).confirmed_yen for s in non_lead if s.in_year(first).confirmed_yen
        ]
        assert [b.serial for b in bills] == list(range(1, len(bills) + 1))
        assert all(b.issuer_body == ctx.group.lead_body for b in bills)
        # a second issue for the same year is refused and writes nothing
        with pytest.raises(stages.StageError, match="発行済み"):
            stages.issue_bills(session, _user(session, "pref20"), ctx, first, date(2026, 5, 2), None)
        session.rollback()
        assert len(session.exec(select(Invoice)).all()) == len(bills)
        audit = session.exec(select(AuditLog).where(AuditLog.action == "stage_contract")).one()
        assert audit.after["vendor"] == "株式会社テスト"


def test_payments_and_the_year_end_settlement_refund_what_was_billed_too_much(published):
    engine = published["engine"]
    with Session(engine) as session:
        user = _user(session, "pref20")
        ctx = _ctx(session, "pref20", published)
        amounts = _contract_amounts(ctx)
        stages.record_contract(session, user, ctx, date(2026, 4, 1), "株式会社テスト", amounts)
        session.commit()
        ctx = _ctx(session, "pref20", published)
        second = cs.group_fiscal_years(ctx.instance, ctx.group)[1]
        bills = stages.issue_bills(session, user, ctx, second, date(2027, 5, 1), None)
        stages.record_payment(session, user, ctx, bills[0].id, date(2027, 5, 20), bills[0].amount_yen, "")
        session.commit()
        with pytest.raises(stages.StageError, match="未収額"):
            stages.record_payment(session, user, ctx, bills[0].id, date(2027, 5, 21), 1, "")
        session.rollback()
        # the year cost 10 % less than contracted: every member gets back its share of the difference
        actual = amounts[second] * 9 // 10
        stages.record_year_actual(session, user, ctx, second, date(2028, 3, 31), actual)
        session.commit()
        ctx = _ctx(session, "pref20", published)
        result = stages.year_settlement(session, ctx, second)
        assert result.difference_total_yen == actual - amounts[second]
        issued = stages.settle(session, user, ctx, second, date(2028, 4, 10), None)
        session.commit()
        assert all(i.kind == "refund" for i in issued)
        lines = {line.need_id: line for line in result.lines}
        for invoice in issued:
            assert invoice.amount_yen == -lines[invoice.need_key].difference_yen
        assert session.exec(select(Payment)).one().amount_yen == bills[0].amount_yen


def test_a_member_records_its_own_budget_but_not_the_groups_stages(published):
    engine = published["engine"]
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        member = next(b for b in ctx.member_bodies() if b != ctx.group.lead_body and b in ("202011", "202029"))
        username = f"muni{member}"
        mctx = _ctx(session, username, published)
        assert not mctx.runs_stages
        year = cs.group_fiscal_years(ctx.instance, ctx.group)[0]
        stages.record_budget(session, _user(session, username), mctx, member, year, "approved", date(2026, 3, 25), "")
        with pytest.raises(stages.StageError, match="幹事団体の担当者と計画を運営する担当者"):
            stages.record_contract(session, _user(session, username), mctx, date(2026, 4, 1), "X", {})
        other = next(b for b in ctx.member_bodies() if b != member)
        with pytest.raises(stages.StageError, match="その団体の担当者か"):
            stages.record_budget(
                session, _user(session, username), mctx, other, year, "approved", date(2026, 3, 25), ""
            )
        session.commit()
        assert [(s.kind, s.body_code) for s in session.exec(select(GroupStage)).all()] == [("budget", member)]


def test_a_rejected_budget_is_warned_and_withdrawal_recomputes_the_rest(published):
    engine = published["engine"]
    with Session(engine) as session:
        user = _user(session, "pref20")
        ctx = _ctx(session, "pref20", published)
        leaver = next(n for n in ctx.group.members if ctx.body_of(n) != ctx.group.lead_body)
        years = cs.group_fiscal_years(ctx.instance, ctx.group)
        stages.record_budget(session, user, ctx, ctx.body_of(leaver), years[1], "rejected", date(2027, 3, 20), "")
        stages.record_contract(session, user, ctx, date(2026, 4, 1), "株式会社テスト", _contract_amounts(ctx))
        with pytest.raises(stages.StageError, match="理由"):
            stages.record_withdrawal(session, user, ctx, leaver, date(2027, 3, 31), years[0], 0, " ")
        stages.record_withdrawal(session, user, ctx, leaver, date(2027, 3, 31), years[0], 120_000, "予算否決のため")
        session.commit()
        state = stages.progress(session, _ctx(session, "pref20", published))
        assert any("予算が否決されています" in w for w in state.warnings)
        share = state.confirmed.share(leaver)
        assert share.termination_cost_yen == 120_000
        assert all(share.in_year(fy).confirmed_yen == 0 for fy in years[1:])
        for fy in years[1:]:
            assert sum(s.in_year(fy).confirmed_yen for s in state.confirmed.shares) == state.confirmed.cost_in(fy)


def test_contract_errors_name_the_year_and_write_nothing(published):
    engine = published["engine"]
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        amounts = _contract_amounts(ctx)
        last = max(amounts)
        amounts[last] = "12x"
        with pytest.raises(stages.StageError, match=f"{last}年度の契約金額「12x」") as e:
            stages.record_contract(session, _user(session, "pref20"), ctx, date(2026, 4, 1), "株式会社テスト", amounts)
        assert e.value.field == f"amount_{last}"
        del amounts[last]
        with pytest.raises(stages.StageError, match=f"{last}年度の契約金額がありません"):
            stages.record_contract(session, _user(session, "pref20"), ctx, date(2026, 4, 1), "株式会社テスト", amounts)
        session.rollback()
        assert session.exec(select(GroupStage)).all() == []


def test_a_contract_before_the_grant_decision_is_warned(published):
    engine = published["engine"]
    with Session(engine) as session:
        user = _user(session, "pref20")
        ctx = _ctx(session, "pref20", published)
        stages.record_grant(session, user, ctx, "grant_application", date(2026, 2, 1), 5_000_000)
        stages.record_contract(session, user, ctx, date(2026, 4, 1), "株式会社テスト", _contract_amounts(ctx))
        stages.record_grant(session, user, ctx, "grant_decision", date(2026, 6, 1), 4_000_000)
        session.commit()
        state = stages.progress(session, _ctx(session, "pref20", published))
        assert any("交付決定日 2026-06-01 より前" in w for w in state.warnings)
        assert state.granted_yen() == 4_000_000


def test_stages_need_a_published_plan_and_a_visible_group(planned):
    engine, view = planned["engine"], planned["view"]
    group = _lead_group(view)
    with Session(engine) as session:
        with pytest.raises(stages.StageError, match="公表した計画の版"):
            stages.group_context(session, _user(session, "pref20"), view.id, group.id)
        with pytest.raises(PlanNotFound):
            stages.group_context(session, _user(session, "pref15"), view.id, group.id)


def test_the_stages_page_walks_contract_bill_payment_and_settlement(app, client, published):
    from tests.support.web import login, logout

    engine, plan_id, group_id = published["engine"], published["plan_id"], published["group_id"]
    base = f"/plans/{plan_id}/groups/{group_id}/stages"
    login(client, "pref20")
    page = client.get(base).get_data(as_text=True)
    assert "契約結果" in page and "未記録" in page
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        years = cs.group_fiscal_years(ctx.instance, ctx.group)
    # a bad amount names the year, and nothing is written
    form = {"contract-occurred_on": "2026-04-01", "contract-vendor": "株式会社テスト"}
    form.update({f"amount_{fy}": "3,000,000" for fy in years})
    form[f"amount_{years[-1]}"] = "abc"
    r = client.post(f"{base}/contract", data=form, follow_redirects=True)
    assert f"{years[-1]}年度の契約金額「abc」は整数（円）ではありません" in r.get_data(as_text=True)
    with Session(engine) as session:
        assert session.exec(select(GroupStage)).all() == []
    form[f"amount_{years[-1]}"] = "3000000"
    r = client.post(f"{base}/contract", data=form, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "契約結果を記録しました" in text and "確定負担額通知（PDF）" in text
    r = client.post(
        f"{base}/bill",
        data={"bill-fiscal_year": str(years[0]), "bill-issued_on": "2026-05-01", "bill-due_on": "2026-05-31"},
        follow_redirects=True,
    )
    assert "請求書を" in r.get_data(as_text=True)
    with Session(engine) as session:
        invoice = session.exec(select(Invoice)).first()
    pdf = client.get(f"/plans/{plan_id}/groups/{group_id}/invoices/{invoice.id}.pdf")
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")
    r = client.post(
        f"{base}/payment",
        data={
            "payment-invoice_id": str(invoice.id),
            "payment-paid_on": "2026-05-20",
            "payment-amount_yen": str(invoice.amount_yen),
        },
        follow_redirects=True,
    )
    assert "入金を記録しました" in r.get_data(as_text=True)
    need = invoice.need_key
    notice = client.get(f"/plans/{plan_id}/groups/{group_id}/confirmed/{need}.pdf")
    assert notice.status_code == 200 and notice.data.startswith(b"%PDF")
    # the payer's own staff see their invoice; another member's staff do not
    logout(client)
    payer = invoice.payer_body
    if payer in ("202011", "202029"):
        login(client, f"muni{payer}")
        assert client.get(f"/plans/{plan_id}/groups/{group_id}/invoices/{invoice.id}.pdf").status_code == 200
        page = client.get(base).get_data(as_text=True)
        assert "年度の請求書を発行する" not in page


def test_stage_notices_are_mailed_to_the_members_who_must_act_and_shown_on_their_home(
    app,
    client,
    published,
    smtp_sink,  # noqa: F811
):
    """With MAIL_SERVER set, the contract result mails each member (not the lead) its 確定負担額, the year's bills
    mail each payer its own number and amount, and the 精算 and a withdrawal tell the members who stay; without it
    nothing is sent. The member's home page and its 負担額 page say where the group stands."""
    from planner.services.users import create_user
    from tests.support.smtp import subject, text
    from tests.support.web import PASSWORD, login, logout

    port, received = smtp_sink
    engine, plan_id, group_id = published["engine"], published["plan_id"], published["group_id"]
    base = f"/plans/{plan_id}/groups/{group_id}/stages"
    with Session(engine) as session:
        ctx = _ctx(session, "pref20", published)
        years = cs.group_fiscal_years(ctx.instance, ctx.group)
        members = [b for b in ctx.member_bodies() if b != ctx.group.lead_body]
        addresses = {code: f"staff@{code}.example" for code in members}
        for code, address in addresses.items():
            create_user(session, address, PASSWORD, "municipality", body_code=code)
        leaver = next(n for n in ctx.group.members if ctx.body_of(n) != ctx.group.lead_body)
        session.commit()
    login(client, "pref20")
    form = {"contract-occurred_on": "2026-04-01", "contract-vendor": "株式会社テスト"}
    form.update({f"amount_{fy}": "3,000,000" for fy in years})
    page = client.post(f"{base}/contract", data=form, follow_redirects=True).get_data(as_text=True)
    assert "契約結果を記録しました" in page and received == []  # no mail server: nothing sent, nothing said
    app.config.update(MAIL_SERVER="127.0.0.1", MAIL_PORT=port, MAIL_DEFAULT_SENDER="planner@pref.example")
    try:
        page = client.post(f"{base}/contract", data=form, follow_redirects=True).get_data(as_text=True)
        assert f"{len(members)} 団体の担当者にメールを送りました" in page
        assert sorted(m["To"] for m in received) == sorted(addresses.values())
        assert all("確定負担額のお知らせ" in subject(m) for m in received)
        assert "確定負担額（期間の合計）" in text(received[0]) and base in text(received[0])
        received.clear()
        bill = {"bill-fiscal_year": str(years[0]), "bill-issued_on": "2026-05-01", "bill-due_on": "2026-05-31"}
        assert "メールを送りました" in client.post(f"{base}/bill", data=bill, follow_redirects=True).get_data(
            as_text=True
        )
        with Session(engine) as session:
            bills = {i.payer_body: i for i in session.exec(select(Invoice)).all()}
        assert sorted(m["To"] for m in received) == sorted(addresses[c] for c in bills)
        for m in received:
            payer = next(c for c, a in addresses.items() if a == m["To"])
            assert f"金額：{bills[payer].amount_yen:,}円" in text(m) and "期限：2026-05-31" in text(m)
            assert "請求書の発行" in subject(m)
        received.clear()
        withdraw = {
            "withdrawal-need_id": leaver,
            "withdrawal-occurred_on": "2027-01-15",
            "withdrawal-last_fiscal_year": str(years[0]),
            "withdrawal-termination_cost_yen": "0",
            "withdrawal-reason": "独自に導入するため",
        }
        client.post(f"{base}/withdrawal", data=withdraw, follow_redirects=True)
        staying = {a for c, a in addresses.items() if c != ctx.body_of(leaver)}
        assert {m["To"] for m in received} == staying
        assert all("脱退" in subject(m) and "→" in text(m) for m in received)
    finally:
        app.config.update(MAIL_SERVER=None)
    # the payer's own home page and 負担額 page: the group's stages, its own bill and what is still owed
    payer = next(iter(bills))
    logout(client)
    login(client, f"staff@{payer}.example")
    home = client.get("/home").get_data(as_text=True)
    assert "契約・請求・精算の状況" in home and "契約結果 2026-04-01" in re.sub(r"<[^>]+>", "", home)
    assert f"未収 {bills[payer].amount_yen:,}円" in home and base in home
    own = client.get(f"/plans/{plan_id}/body/{payer}").get_data(as_text=True)
    assert "契約・請求・精算の状況" in own
