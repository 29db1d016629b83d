"""Issue #15 points 2–5 and 10: Japan time, no internal ids or English, one sign convention, tables that fit, and
the inputs of a town's share beside its amount."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlmodel import Session, select

from planner.db.models import AuditLog
from planner.domain.allocation import member_names
from planner.domain.share_basis import share_basis
from planner.domain.vocabulary import jst_datetime, today_jst
from planner.services import needs_export
from planner.services.scenarios import ScenarioError, apply_overrides
from tests.domain.factories import body, make_instance, need, reference_categories
from tests.support.plans import joint_group_with
from tests.support.web import login, logout

BODIES = [
    body("202011", "長野市", 36.65, 138.18, kind="city", population=370_000),
    body("204820", "小谷村", 36.78, 137.91, kind="village", population=2_700),
]
NEEDS = [
    need("n180", "204820", "ocr", 5),
    need("n1", "202011", "ocr", 120, can_lead=True),
    need("n2", "202011", "ocr", 40, start_year=2027),
]


@pytest.fixture
def instance():
    return make_instance(BODIES, NEEDS, categories=reference_categories("ocr", "rpa"))


# --- point 2: Japan time ------------------------------------------------------------------------------------------


def test_times_are_japan_time():
    late_evening_utc = datetime(2026, 11, 30, 15, 27)  # stored naive UTC: already 1 December in Japan
    assert jst_datetime(late_evening_utc) == "2026-12-01 00:27"
    assert today_jst(datetime(2026, 11, 30, 15, 1, tzinfo=UTC)).isoformat() == "2026-12-01"
    assert jst_datetime(None) == ""


def test_needs_export_has_no_utc_column_and_writes_japan_time():
    assert not any("UTC" in h for h in needs_export.HEADERS)
    at = needs_export.HEADERS.index("更新日時")

    class Row:  # the columns rows() reads
        category_id, volume, start_year, accepts_lead, accepts_unified, can_lead = "ocr", 5.0, 2026, True, True, False
        serves_disadvantaged_area, status, notes = False, "active", ""
        baseline_minutes_per_unit = baseline_hours_per_year = None
        updated_at = datetime(2026, 11, 30, 15, 27)

    class Place:
        code, name = "204820", "小谷村"

    row = next(needs_export.rows([(Row(), Place())], {}))
    assert row[at] == "2026-12-01 00:27"


# --- point 3: names, not ids; Japanese, not English ----------------------------------------------------------------


def test_member_names_never_show_need_ids(instance):
    names = member_names(instance, ["n180", "n1"])
    assert names == ["小谷村", "長野市"]
    assert not any(re.search(r"n\d+", n) for n in names)
    # A body with two needs in one list is told apart by its fiscal year, still without an id.
    assert member_names(instance, ["n1", "n2"]) == ["長野市（令和8年度開始）", "長野市（令和9年度開始）"]


def test_override_errors_name_the_category_in_japanese(instance):
    with pytest.raises(ScenarioError) as e:
        apply_overrides(instance, [{"kind": "together", "category": "rpa", "bodies": ["202011", "204820"]}])
    assert "RPA" in str(e.value) and "、rpa" not in str(e.value) and "分野 rpa" not in str(e.value)


def test_refusal_page_is_japanese_and_the_log_keeps_the_detail(client, planned):
    view = planned["view"]
    login(client, "pref15")
    r = client.get(f"/plans/{view.id}/body/202011")
    page = r.get_data(as_text=True)
    # refused like a missing plan (issue #30): the user does not learn that the plan exists, nor whose it is
    assert r.status_code == 404
    assert "ありません" in page and "権限がありません" not in page
    assert "都道府県コード" not in page and "202011" not in page
    with Session(planned["engine"]) as session:
        entry = session.exec(
            select(AuditLog).where(AuditLog.action == "forbidden").order_by(AuditLog.id.desc())
        ).first()
    # The administrator reads in the log, in Japanese, what was refused and whose it was.
    assert f"計画 {view.id}（都道府県コード 20 のもの）" in entry.detail, entry.detail


def test_home_audit_list_names_the_user_not_its_number(client, seed):
    from planner.services import audit

    engine = client.application.extensions["db_engine"]
    uid = seed["users"]["pref20"]
    with Session(engine) as session:
        audit.record(
            session,
            user_id=seed["users"]["admin"],
            action="update",
            entity="user",
            entity_id=str(uid),
            prefecture_code="20",
            detail="",
        )
        session.commit()
    login(client, "admin")
    page = client.get("/home").get_data(as_text=True)
    assert f"利用者 {uid}<" not in page and f"利用者 {uid} " not in page
    assert "（pref20）" in page


# --- point 4: one sign convention, good news green ----------------------------------------------------------------


def test_saving_is_positive_and_green_on_the_group_and_body_pages(client, planned):
    view = planned["view"]
    login(client, "pref20")
    g = joint_group_with(view, "202011")
    page = client.get(f"/plans/{view.id}/groups/{g.id}").get_data(as_text=True)
    m = next(m for m in g.members if m.saving_yen > 0)
    assert f'<span class="better">+{m.saving_yen:,}円</span>' in page
    assert f"−{m.saving_yen:,}円" not in page
    body_page = client.get(f"/plans/{view.id}/body/202011").get_data(as_text=True)
    t = view.body_totals("202011")
    assert f'単独導入からの削減 <span class="better">+{t.saving_yen:,}円</span>' in body_page


def test_signed_amount_classes_follow_what_is_good_news(app):
    with app.test_request_context():
        macros = app.jinja_env.get_template("plans/_figures.html").module
        assert str(macros.signed_yen(-500)) == '<span class="better">−500円</span>'  # less cost
        assert str(macros.signed_yen(500)) == '<span class="worse">+500円</span>'  # more cost
        assert str(macros.signed_yen(-500, True)) == '<span class="worse">−500円</span>'  # less saving/support
        assert str(macros.signed_yen(500, True)) == '<span class="better">+500円</span>'
        assert str(macros.signed_yen(0)) == "±0円"


def test_compare_picker_shows_japan_time(client, planned):
    view = planned["view"]
    login(client, "pref20")
    page = client.get(f"/plans/compare?a={view.id}&b={view.id}").get_data(as_text=True)
    assert "UTC" not in page
    assert re.search(r"計画 \d+：.*（\d{4}-\d{2}-\d{2} \d{2}:\d{2}）", page)


# --- points 5 and 10: the town's table fits, and says why it pays its share -------------------------------------


def test_share_basis_lists_the_inputs(instance):
    lines = {
        line.label: line.value
        for line in share_basis(
            instance, ["n180", "n1"], "n180", "formula", {"equal": 0.1, "population": 0.9, "volume": 0}, 1_234_000
        )
    }
    assert lines["参加団体数"].startswith("2団体")
    assert lines["利用量"].startswith("5 ") and "グループ計 125" in lines["利用量"] and "4.0%" in lines["利用量"]
    assert lines["人口"].startswith("2,700人") and "372,700人" in lines["人口"]
    assert lines["重み"] == "均等割 10%・人口割 90%・利用量割 0%"
    assert lines["単独で導入した場合の費用"] == "1,234,000円"


def test_body_page_shows_why_the_town_pays_and_labels_cells_for_phones(client, planned):
    view = planned["view"]
    login(client, "pref20")
    page = client.get(f"/plans/{view.id}/body/202011").get_data(as_text=True)
    g = joint_group_with(view, "202011")
    m = next(m for m in g.members if m.body_code == "202011")
    assert f"{g.category_name}の負担額 {m.total_yen:,}円 の根拠" in page
    assert "参加団体数" in page and "利用量" in page and "人口" in page and "単独で導入した場合の費用" in page
    assert 'class="data body-groups cards-on-phone"' in page and 'data-label="実質負担（見込額・補助金なし）"' in page


# --- point 2 in documents: the issue date is Japan's date, in 和暦 ----------------------------------------------------


def test_documents_are_dated_in_japan_time_and_wareki():
    from planner.reports.control import DocumentControl
    from planner.reports.control import today_jst as documents_today

    day = documents_today(datetime(2026, 11, 30, 15, 27, tzinfo=UTC))  # 00:27 on 1 December in Japan
    assert day.isoformat() == "2026-12-01"
    lines = dict(DocumentControl(issued_on=day).lines("member", "n1"))
    assert lines["発行日"] == "令和8年12月1日"


# --- point 3 in the audit lists: an answer is named by its body, its values in words -------------------------------


def test_audit_lists_name_the_answering_body_not_the_answer_key(client, seed):
    from planner.services import audit

    engine = client.application.extensions["db_engine"]
    with Session(engine) as session:
        audit.record(
            session,
            user_id=seed["users"]["muni202011"],
            action="answer",
            entity="member_answer",
            entity_id="3:n174",
            before={"answer": "decline", "comment": ""},
            after={"answer": "join", "comment": "議会の承認後"},
            prefecture_code="20",
            body_code="202011",
            detail="計画 No.1 第1版：長野市のRPA（2026年度）に「参加」と回答",
        )
        session.commit()
    login(client, "pref20")
    home = client.get("/home").get_data(as_text=True)
    assert "3:n174" not in home and "参加の回答 長野市" in home
    logout(client)
    login(client, "admin")
    log = client.get("/admin/audit").get_data(as_text=True)
    assert "3:n174" not in log and "団体 202011" not in log and "長野市" in log
    assert "<del>不参加</del>" in log and "<ins>参加</ins>" in log and ">回答<" in log and ">コメント<" in log
    assert "decline" not in log and ">join<" not in log


def test_user_list_names_the_body_not_its_code(client, seed):
    login(client, "admin")
    page = client.get("/admin/users").get_data(as_text=True)
    assert '<a href="/bodies/202011">長野市</a>' in page and ">202011</a>" not in page
