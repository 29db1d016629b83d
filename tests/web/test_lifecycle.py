"""The plan lifecycle (#14): 試算 → 確定案 → 公表 → answers → re-plan → 第2版, the input-change notice, reminders and
the deadline, and the guards that keep two concurrent transitions from making two current versions."""

from __future__ import annotations

import io
import zipfile
from datetime import timedelta

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog, MemberAnswer, Need, PlanRelease, PlanSeries, Scenario, User
from planner.db.models import Plan as PlanRow
from planner.services import answers as answer_svc
from planner.services import plan_lifecycle as lifecycle
from planner.services.plans import plan_view
from tests.support.documents import wait_until_built
from tests.support.plans import publish_now, wait_for
from tests.support.web import login, logout


def _user(session, username):
    return session.exec(select(User).where(User.username == username)).one()


def _form_of_answers(view, body, choices):
    """Form data answering each of the body's needs: choices maps category -> (answer, comment)."""
    data = {}
    for line in answer_svc.need_lines(view, body):
        category = view.instance.need(line.need_key).category
        if category in choices:
            answer, comment = choices[category]
            data[f"answer-{line.need_key}"] = answer
            data[f"comment-{line.need_key}"] = comment
    return data


def _audit(engine, action):
    with Session(engine) as session:
        return session.exec(select(AuditLog).where(AuditLog.action == action).order_by(AuditLog.id)).all()


def test_full_path_draft_adopt_publish_answers_replan_publish_v2(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    plan_id = view.id
    login(client, "pref20")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "試算" in page and "確定案にする" in page

    # a member does not see the draft
    logout(client)
    login(client, "muni202011")
    assert client.get(f"/plans/{plan_id}/body/202011").status_code == 404  # refused answers like missing
    assert client.get(f"/plans/{plan_id}/answer").status_code == 404
    logout(client)

    login(client, "pref20")
    assert client.post(f"/plans/{plan_id}/adopt", data={"confirm_rule_year": "1", "series": "new"}).status_code == 302
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "計画 No.1 第1版" in page and "確定案（未公表）" in page and "参加団体に公表する" in page
    deadline = lifecycle.today_jst() + timedelta(days=10)
    r = client.post(f"/plans/{plan_id}/publish", data={"deadline": deadline.isoformat(), "message": "ご確認ください"})
    assert r.status_code == 302 and r.headers["Location"].endswith(f"/plans/{plan_id}/answers")
    board = client.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    assert "未回答の団体（3）" in board and "長野市" in board and "松本市" in board and "小谷村" in board
    # the coordinator's recent plans call it by its number and version, as the pages and documents do
    recent = client.get("/home").get_data(as_text=True)
    assert f'<a href="/plans/{plan_id}">計画 No.1 第1版：' in recent and f">計画 {plan_id}：" not in recent
    # and so does the plan list: one name, not the database's number beside the plan's
    listing = client.get("/plans/").get_data(as_text=True)
    assert f'<a href="/plans/{plan_id}">計画 No.1 第1版</a>' in listing and f">計画 {plan_id}</a>" not in listing
    logout(client)

    # two towns answer: 長野市 joins everything, 松本市 declines its AI-OCR need
    login(client, "muni202011")
    home = client.get("/home").get_data(as_text=True)
    assert "回答をお願いしている計画" in home and "計画 No.1 第1版" in home
    form = client.get(f"/plans/{plan_id}/answer").get_data(as_text=True)
    assert "ご確認ください" in form and "参加の意向" in form
    r = client.post(
        f"/plans/{plan_id}/answer", data=_form_of_answers(view, "202011", {"ocr": ("join", ""), "rpa": ("join", "")})
    )
    assert r.status_code == 302
    logout(client)
    login(client, "muni202029")
    r = client.post(
        f"/plans/{plan_id}/answer",
        data=_form_of_answers(
            view,
            "202029",
            {
                "ocr": ("decline", "既存の OCR 契約が 2028 年まで残るため"),
                "rpa": ("conditional", "議会の承認が前提"),
                "genai": ("join", ""),
            },
        ),
    )
    assert r.status_code == 302
    logout(client)

    login(client, "pref20")
    board = client.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    assert "既存の OCR 契約が 2028 年まで残るため" in board and "議会の承認が前提" in board
    assert "未回答の団体（1）" in board and "小谷村（未回答" in board
    assert "不参加の団体を単独調達に固定して再計画する" in board
    r = client.post(f"/plans/{plan_id}/replan")
    assert r.status_code == 302
    new_scenario = int(r.headers["Location"].rstrip("/").split("/")[-1])
    done = wait_for(engine, new_scenario, ("done", "failed"))
    assert done.status == "done", done.log
    assert "単独調達に固定したニーズ：松本市（AI-OCR（文字認識））" in client.get(
        f"/scenarios/{new_scenario}"
    ).get_data(as_text=True)
    v2_plan = done.progress["plan_id"]
    # one re-plan per version: the board links it instead of the button, and pressing again leads to it
    board = client.get(f"/plans/{plan_id}/answers").get_data(as_text=True)
    assert "この版は再計画済みです" in board and "不参加の団体を単独調達に固定して再計画する" not in board
    again = client.post(f"/plans/{plan_id}/replan")
    assert again.status_code == 302 and again.headers["Location"].rstrip("/").endswith(f"/scenarios/{new_scenario}")
    with Session(engine) as session:
        v2 = plan_view(session.get(PlanRow, v2_plan))
        ocr_matsumoto = next(n for n in v2.instance.needs if n.body == "202029" and n.category == "ocr")
        group = next(g for g in v2.groups if ocr_matsumoto.id in g.group.members)
        assert group.group.mode == "standalone" and len(group.group.members) == 1  # the decliner, fixed standalone
    page = client.get(f"/plans/{v2_plan}").get_data(as_text=True)
    assert "計画 No.1（" in page and "の次の版として確定" in page  # adopting defaults to the same plan number
    with Session(engine) as session:
        series_id = lifecycle.release_of_plan(session, plan_id).series_id
    assert (
        client.post(f"/plans/{v2_plan}/adopt", data={"confirm_rule_year": "1", "series": str(series_id)}).status_code
        == 302
    )
    r = client.post(f"/plans/{v2_plan}/publish", data={"deadline": deadline.isoformat()})
    assert r.status_code == 302
    page = client.get(f"/plans/{v2_plan}").get_data(as_text=True)
    assert "計画 No.1 第2版" in page and "公表中" in page and "版の履歴（2 版）" in page
    old = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "旧版" in old and "計画 No.1 第2版に差し替えられました" in old
    api = client.get(f"/api/plans/{plan_id}").get_json()["lifecycle"]
    assert api["label"] == "計画 No.1 第1版" and api["state"] == "superseded" and api["current_version"] == 2
    logout(client)

    # the answers carried to 第2版: the decline stays; a part whose group, partners and figures did not move keeps
    # its answer (as answered then); a changed part is asked again, its 第1版 answer shown with what changed
    with Session(engine) as session:
        v1_release, v2_release = (lifecycle.release_of_plan(session, p) for p in (plan_id, v2_plan))
        v1_answers = answer_svc.answers_of(session, v1_release.id)
        v2_answers = answer_svc.answers_of(session, v2_release.id)
        v2_view = v2

    def part(plan_view_, key):
        group = next(g for g in plan_view_.groups if key in g.group.members)
        share = next(m for m in group.members if m.need_id == key)
        return group.group.mode, group.group.lead_body, frozenset(group.group.members), share.total_yen, share.net_yen

    assert v2_answers[ocr_matsumoto.id].answer == "decline"
    carried, asked_again = [], []
    for key, old in v1_answers.items():
        if old.answer == "decline":
            continue
        if part(view, key) == part(v2_view, key):
            assert (v2_answers[key].answer, v2_answers[key].answered_at) == (old.answer, old.answered_at)
            carried.append(key)
        else:
            assert key not in v2_answers
            asked_again.append(key)
    assert asked_again, "長野市's AI-OCR group lost 松本市: its share moved"
    assert len(_audit(engine, "carry")) == len(carried) + 1  # and the decline
    login(client, "pref20")
    board = client.get(f"/plans/{v2_plan}/answers").get_data(as_text=True)
    assert "第1版から引継ぎ" in board and "第1版は参加（" in board
    assert "再計画は不要です" in board  # the decliner is standalone already
    logout(client)

    login(client, "muni202029")
    api = client.get(f"/api/plans/{v2_plan}").get_json()
    assert api["lifecycle"]["state"] == "published" and api["lifecycle"]["inputs_changed"] == []
    home = client.get("/home").get_data(as_text=True)
    assert "計画 No.1 第2版" in home and f"/plans/{v2_plan}/answer" in home and f"/plans/{plan_id}/answer" not in home
    assert client.get(f"/plans/{plan_id}/body/202029").status_code == 200
    r = client.post(f"/plans/{plan_id}/answer", data=_form_of_answers(view, "202029", {"ocr": ("join", "")}))
    assert r.status_code == 409 and "公表中の版ではないため" in r.get_data(as_text=True)
    form = client.get(f"/plans/{v2_plan}/answer").get_data(as_text=True)
    assert "第1版での回答「不参加」" in form and "を引き継いでいます" in form
    logout(client)
    login(client, "muni202011")
    form = client.get(f"/plans/{v2_plan}/answer").get_data(as_text=True)
    assert "第1版では「参加」と回答されましたが、内容が変わったため改めて回答してください" in form

    with Session(engine) as session:
        series = session.get(PlanSeries, series_id)
        releases = session.exec(
            select(PlanRelease).where(PlanRelease.series_id == series_id).order_by(PlanRelease.version)
        ).all()
        assert series.current_version == 2 and [r.state for r in releases] == ["superseded", "published"]
        assert releases[1].replan_of == releases[0].id
    actions = [e.action for e in _audit(engine, "adopt")] + [e.action for e in _audit(engine, "publish")]
    assert actions == ["adopt", "adopt", "publish", "publish"]
    assert len(_audit(engine, "answer")) == 5 and len(_audit(engine, "replan")) == 1


def test_answers_after_the_deadline_are_refused_until_the_coordinator_extends_it(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    release_id = publish_now(engine, view.id, deadline=lifecycle.today_jst())
    data = _form_of_answers(view, "202011", {"ocr": ("join", "")})
    with Session(engine) as session:  # the deadline passes (checked against the JST date)
        release = session.get(PlanRelease, release_id)
        release.reply_deadline = lifecycle.today_jst() - timedelta(days=1)
        session.add(release)
        session.commit()
    login(client, "muni202011")
    r = client.post(f"/plans/{view.id}/answer", data=data)
    text = r.get_data(as_text=True)
    assert r.status_code == 409 and "回答期限" in text and "を過ぎたため回答を受け付けられません" in text
    assert "期限の延長を依頼" in text
    logout(client)
    login(client, "pref20")
    new = lifecycle.today_jst() + timedelta(days=3)
    assert client.post(f"/plans/{view.id}/deadline", data={"deadline": new.isoformat()}).status_code == 302
    assert client.post(f"/plans/{view.id}/deadline", data={"deadline": "2020-01-01"}).status_code == 302  # refused
    with Session(engine) as session:
        assert session.get(PlanRelease, release_id).reply_deadline == new
    logout(client)
    login(client, "muni202011")
    assert client.post(f"/plans/{view.id}/answer", data=data).status_code == 302
    assert next(e.detail for e in _audit(engine, "extend")).endswith(f"{new:%Y-%m-%d} に変更")


def test_a_conditional_answer_needs_a_comment_and_nothing_is_half_written(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    login(client, "muni202029")
    data = _form_of_answers(view, "202029", {"ocr": ("join", ""), "rpa": ("conditional", "  ")})
    r = client.post(f"/plans/{view.id}/answer", data=data)
    assert r.status_code == 422 and "条件付きの場合は条件をコメントに書いてください" in r.get_data(as_text=True)
    with Session(engine) as session:
        assert session.exec(select(MemberAnswer)).all() == []  # the valid OCR answer was not written either
    other = next(line for line in answer_svc.need_lines(view, "202011"))
    r = client.post(f"/plans/{view.id}/answer", data={f"answer-{other.need_key}": "decline"})
    assert r.status_code == 422  # another body's need is ignored: nothing of 松本市's own was chosen
    with Session(engine) as session:
        user = _user(session, "muni202029")
        release = lifecycle.release_of_plan(session, view.id)
        with pytest.raises(answer_svc.AnswerError, match="貴団体のこの計画のニーズではありません"):
            answer_svc.submit_answers(session, user, release, view, {other.need_key: ("decline", "")})


def test_reminders_are_audited_and_shown_on_the_members_home(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    login(client, "muni202011")
    client.post(
        f"/plans/{view.id}/answer", data=_form_of_answers(view, "202011", {"ocr": ("join", ""), "rpa": ("join", "")})
    )
    logout(client)
    login(client, "pref20")
    r = client.post(f"/plans/{view.id}/remind", follow_redirects=True)
    assert "メールサーバーが設定されていないため、メールは送られません" in r.get_data(as_text=True)
    reminded = sorted(e.body_code for e in _audit(engine, "remind"))
    assert reminded == ["202029", "204820"]  # 長野市 had answered everything
    board = client.get(f"/plans/{view.id}/answers").get_data(as_text=True)
    assert "催促 1 回" in board
    logout(client)
    login(client, "muni202029")
    assert "都道府県の担当者から回答の催促がありました" in client.get("/home").get_data(as_text=True)
    logout(client)
    login(client, "muni202011")
    assert "回答の催促がありました" not in client.get("/home").get_data(as_text=True)


def test_the_board_narrows_its_table_to_one_answer(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    login(client, "muni202029")
    client.post(
        f"/plans/{view.id}/answer",
        data=_form_of_answers(view, "202029", {"ocr": ("decline", "既存契約が残るため"), "rpa": ("join", "")}),
    )
    logout(client)
    login(client, "pref20")
    lines = answer_svc.need_lines(view)
    unanswered = len(lines) - 2

    def rows(page):
        return page.split("<tbody>")[1].split("</tbody>")[0].count("<tr>")

    everything = client.get(f"/plans/{view.id}/answers").get_data(as_text=True)
    assert rows(everything) == len(lines) and f"すべて（{len(lines)}）" in everything
    declined = client.get(f"/plans/{view.id}/answers?answer=decline").get_data(as_text=True)
    assert rows(declined) == 1 and "既存契約が残るため" in declined and "ニーズごとの回答：不参加（1 件）" in declined
    pending = client.get(f"/plans/{view.id}/answers?answer=none").get_data(as_text=True)
    assert rows(pending) == unanswered and "既存契約が残るため" not in pending
    assert f"ニーズごとの回答：未回答（{unanswered} 件）" in pending
    conditional = client.get(f"/plans/{view.id}/answers?answer=conditional").get_data(as_text=True)
    assert "<tbody>" not in conditional and "この回答のニーズはありません。" in conditional
    # an unknown filter (a hand-edited address) shows everything rather than an empty table
    assert rows(client.get(f"/plans/{view.id}/answers?answer=maybe").get_data(as_text=True)) == len(lines)


def test_a_published_plan_says_what_changed_in_its_inputs_on_every_page(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    login(client, "pref20")
    assert "公表後に入力が変わっています" not in client.get(f"/plans/{view.id}").get_data(as_text=True)
    with Session(engine) as session:
        need = session.exec(select(Need).where(Need.body_code == "202029", Need.category_id == "ocr")).one()
        need.volume = 95.0
        session.add(need)
        withdrawn = session.exec(select(Need).where(Need.body_code == "204820", Need.category_id == "rpa")).one()
        withdrawn.status = "withdrawn"
        session.add(withdrawn)
        session.add(Need(body_code="202011", category_id="genai", volume=50.0, start_year=2026))
        session.commit()
    group = next(g for g in view.groups if g.joint and "202011" in g.body_codes)
    pages = [
        f"/plans/{view.id}",
        f"/plans/{view.id}/body/202011",
        f"/plans/{view.id}/groups/{group.id}",
        f"/plans/{view.id}/answers",
    ]
    for url in pages:
        text = client.get(url).get_data(as_text=True)
        assert "公表後に入力が変わっています" in text, url
        assert "ニーズの変更: 松本市のAI-OCR（2026年度）: 利用量 80 → 95" in text, url
        assert "ニーズの取下げ・対象外: 小谷村のRPA（2026年度）" in text, url
        assert "ニーズの追加: 長野市の生成AI（2026年度）" in text, url
    logout(client)
    login(client, "muni202011")
    for url in (f"/plans/{view.id}/body/202011", f"/plans/{view.id}/answer"):
        assert "ニーズの追加: 長野市の生成AI（2026年度）" in client.get(url).get_data(as_text=True), url
    assert "公表後に入力が変わっています（3 件）" in client.get("/home").get_data(as_text=True)


def test_two_concurrent_publications_leave_the_newest_version_current(app, planned):
    """Both coordinators read the series before either writes: the conditional update on the version in force
    lets the newer version win whichever commits first, and never brings an older one back."""
    engine, view = planned["engine"], planned["view"]
    with Session(engine) as session:
        user = _user(session, "pref20")
        row = session.get(PlanRow, view.id)
        scenario = session.get(Scenario, row.scenario_id)
        first = lifecycle.adopt(session, user, row, scenario, confirm_rule_year=True)
        session.commit()
        second_row = PlanRow(
            **{
                k: getattr(row, k)
                for k in (
                    "scenario_id",
                    "status",
                    "objective_yen",
                    "lower_bound_yen",
                    "gap",
                    "standalone_total_yen",
                    "solve_seconds",
                    "price_book_version",
                    "rule_version",
                    "instance_doc",
                    "plan_doc",
                )
            }
        )
        session.add(second_row)
        session.commit()
        second = lifecycle.adopt(session, user, second_row, scenario, series_id=first.series_id, confirm_rule_year=True)
        session.commit()
        ids = (first.id, second.id)
    deadline = lifecycle.today_jst() + timedelta(days=5)
    a, b = Session(engine), Session(engine)
    try:
        ra, rb = a.get(PlanRelease, ids[0]), b.get(PlanRelease, ids[1])
        # both have read the series (lock_version 1) and keep it, as two requests running side by side do
        seen = a.get(PlanSeries, ra.series_id), b.get(PlanSeries, rb.series_id)
        assert [s.lock_version for s in seen] == [1, 1]
        lifecycle.publish(b, _user(b, "pref20"), rb, deadline=deadline)
        b.commit()
        with pytest.raises(lifecycle.LifecycleConflict, match="新しい版"):
            lifecycle.publish(a, _user(a, "pref20"), ra, deadline=deadline)
        a.rollback()
    finally:
        a.close()
        b.close()
    with Session(engine) as session:
        states = {r.id: r.state for r in session.exec(select(PlanRelease))}
        assert states == {ids[0]: "adopted", ids[1]: "published"}
        assert session.exec(select(PlanSeries)).one().current_version == 2
        # publishing the same version twice is refused too
        release = session.get(PlanRelease, ids[1])
        with pytest.raises(lifecycle.LifecycleConflict, match="既に公表中"):
            lifecycle.publish(session, _user(session, "pref20"), release, deadline=deadline)


def test_adopting_the_same_draft_twice_at_once_numbers_it_once(app, planned):
    engine, view = planned["engine"], planned["view"]
    a, b = Session(engine), Session(engine)
    try:
        row_a, row_b = a.get(PlanRow, view.id), b.get(PlanRow, view.id)
        assert lifecycle.release_of_plan(b, view.id) is None  # b has looked: not adopted yet
        lifecycle.adopt(a, _user(a, "pref20"), row_a, a.get(Scenario, row_a.scenario_id), confirm_rule_year=True)
        a.commit()
        with pytest.raises(lifecycle.LifecycleConflict):
            lifecycle.adopt(b, _user(b, "pref20"), row_b, b.get(Scenario, row_b.scenario_id), confirm_rule_year=True)
        b.rollback()
    finally:
        a.close()
        b.close()
    with Session(engine) as session:
        assert len(session.exec(select(PlanRelease)).all()) == 1
        assert len(session.exec(select(PlanSeries)).all()) == 1


def test_other_prefectures_and_members_cannot_drive_the_lifecycle(app, client, planned):
    engine, view = planned["engine"], planned["view"]
    login(client, "pref15")
    assert (
        client.post(f"/plans/{view.id}/adopt", data={"confirm_rule_year": "1", "series": "new"}).status_code == 404
    )  # refused as missing
    logout(client)
    login(client, "muni202011")
    # a member's staff may reach the lifecycle routes (a consortium's lead runs its own plans) but not this draft,
    # which is refused as missing
    assert client.post(f"/plans/{view.id}/adopt", data={"confirm_rule_year": "1", "series": "new"}).status_code == 404
    publish_now(engine, view.id)
    for url in (f"/plans/{view.id}/answers", f"/plans/{view.id}/remind", f"/plans/{view.id}/replan"):
        assert client.open(url, method="GET" if url.endswith("answers") else "POST").status_code == 403, url
    with Session(engine) as session:
        user = _user(session, "muni202011")
        with pytest.raises(lifecycle.LifecycleError, match="権限がありません"):
            lifecycle.extend_deadline(session, user, lifecycle.release_of_plan(session, view.id), lifecycle.today_jst())
        assert session.get(PlanRelease, lifecycle.release_of_plan(session, view.id).id).lock_version == 2


def test_adopting_a_plan_whose_years_the_rule_set_does_not_describe_needs_the_coordinators_confirmation(
    app, client, planned
):
    """subsidy-rules.md section 4: the rule set's fiscal year beside the plan's, and 確定 only with a confirmation."""
    engine, view = planned["engine"], planned["view"]
    years = sorted({g.group.start_year for g in view.groups})
    assert 2020 not in years  # the shipped rule set describes 令和2年度's program; the plan starts later
    login(client, "pref20")
    page = client.get(f"/plans/{view.id}").get_data(as_text=True)
    assert "補助制度ルール" in page and "（令和2年度の制度）" in page
    said = f"この計画のグループは{'・'.join(lifecycle.wareki_fiscal_year(y) for y in years)}に始まり"
    assert "補助制度ルールは令和2年度の制度条件です。" + said in page
    assert 'name="confirm_rule_year"' in page and "異なる場合があることを確認しました" in page
    # without the box: refused with the reason, nothing adopted
    r = client.post(f"/plans/{view.id}/adopt", data={"series": "new"}, follow_redirects=True)
    text = r.get_data(as_text=True)
    assert "確定するには、見込額がその年度の制度と異なる場合があることを確認する欄に印を付けてください" in text
    assert "確定案にする" in text  # back on the draft's page
    with Session(engine) as session:
        assert lifecycle.release_of_plan(session, view.id) is None
        user = _user(session, "pref20")
        row = session.get(PlanRow, view.id)
        with pytest.raises(lifecycle.LifecycleError, match="令和2年度の制度条件"):
            lifecycle.adopt(session, user, row, session.get(Scenario, row.scenario_id))
        session.rollback()
    assert _audit(engine, "adopt") == []
    # with it: adopted, and the audit log records what the coordinator confirmed
    assert client.post(f"/plans/{view.id}/adopt", data={"confirm_rule_year": "1", "series": "new"}).status_code == 302
    (entry,) = _audit(engine, "adopt")
    assert entry.after["rule_year"] == 2020 and entry.after["plan_years"] == years
    assert (
        entry.after["rule_year_confirmed"] is True and "確認済み：補助制度ルールは令和2年度の制度条件" in entry.detail
    )


def test_a_scenario_with_an_adopted_plan_cannot_be_deleted(app, client, planned):
    login(client, "pref20")
    page = client.get(f"/scenarios/{planned['scenario_id']}").get_data(as_text=True)
    assert f'action="/scenarios/{planned["scenario_id"]}/delete"' in page  # a draft may still go
    publish_now(planned["engine"], planned["view"].id)
    # the page no longer offers a deletion it would refuse, and says why
    page = client.get(f"/scenarios/{planned['scenario_id']}").get_data(as_text=True)
    assert "/delete" not in page.split("</h1>", 1)[1].split("job-panel", 1)[0]
    assert "計画 No.1 第1版として確定されているため削除できません" in page
    r = client.post(f"/scenarios/{planned['scenario_id']}/delete", follow_redirects=True)
    assert "計画 No.1 第1版として確定されているため削除できません" in r.get_data(as_text=True)
    with Session(planned["engine"]) as session:
        assert session.get(PlanRow, planned["view"].id) is not None


def _adopt_and_publish(client, plan_id):
    login(client, "pref20")
    assert client.post(f"/plans/{plan_id}/adopt", data={"confirm_rule_year": "1", "series": "new"}).status_code == 302
    deadline = lifecycle.today_jst() + timedelta(days=10)
    return client.post(f"/plans/{plan_id}/publish", data={"deadline": deadline.isoformat()}, follow_redirects=True)


def test_publishing_starts_building_the_coordinators_full_zip(app, client, planned):
    plan_id = planned["view"].id
    page = _adopt_and_publish(client, plan_id).get_data(as_text=True)
    assert "帳票一式（ZIP）の作成を始めました" in page
    # nobody has asked for the ZIP yet, and its build (the same documents the coordinator's download asks for) runs
    wait_until_built(client, f"/plans/{plan_id}/reports/bundle?format=json", timeout=120, every=0.2)
    first = client.get(f"/plans/{plan_id}/reports.zip")
    assert first.status_code == 200 and first.mimetype == "application/zip"  # served at once, no progress page
    names = zipfile.ZipFile(io.BytesIO(first.data)).namelist()
    # members' notices: 負担額通知 of lead-mode groups, 契約予定額（見込）のお知らせ of 仕様統一 ones
    assert "共同調達計画まとめ.pdf" in names
    assert any(n.startswith(("負担額通知/", "契約予定額（見込）のお知らせ/")) for n in names)
    logout(client)
    # a member's own ZIP is a set of its own, built when it asks
    login(client, "muni202011")
    assert client.get(f"/plans/{plan_id}/reports.zip").status_code == 302


@pytest.mark.parametrize("app_config", [{"BUILD_DOCUMENTS_ON_PUBLISH": False}])
def test_the_build_on_publication_can_be_switched_off(app, client, planned):
    plan_id = planned["view"].id
    page = _adopt_and_publish(client, plan_id).get_data(as_text=True)
    assert "を公表しました" in page and "帳票一式（ZIP）の作成を始めました" not in page
    assert client.get(f"/plans/{plan_id}/reports/bundle?format=json").get_json()["status"] == "none"


def test_a_build_that_cannot_start_does_not_stop_the_publication(app, client, planned, monkeypatch):
    import planner.jobs.documents

    def unwritable(*args, **kwargs):
        raise PermissionError("report cache folder is read-only")

    monkeypatch.setattr(planner.jobs.documents, "start", unwritable)
    plan_id = planned["view"].id
    page = _adopt_and_publish(client, plan_id).get_data(as_text=True)
    assert "を公表しました" in page and "帳票一式（ZIP）の作成を始めました" not in page
    with Session(app.extensions["db_engine"]) as session:
        assert session.exec(select(PlanRelease).where(PlanRelease.plan_id == plan_id)).one().state == "published"


@pytest.mark.parametrize("app_config", [{"BUILD_DOCUMENTS_ON_PUBLISH": False}])
def test_the_answer_form_says_its_amounts_are_totals_over_the_horizon(app, client, planned):
    plan_id, horizon = planned["view"].id, planned["view"].instance.horizon_years
    _adopt_and_publish(client, plan_id)
    logout(client)
    login(client, "muni202011")
    page = client.get(f"/plans/{plan_id}/answer").get_data(as_text=True)
    assert f"負担（{horizon}年間の合計）" in page and f"実質負担（見込額・補助金なし、{horizon}年間の合計）" in page
    assert f"の合計です（初期費用と{horizon}年分の運用費）" in page
