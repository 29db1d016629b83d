"""監査ログ on the demo as ``planner demo`` leaves it: entries whose before/after hold lists and dicts (a scenario's
hosts and weights, a publication's documents) are shown, not a 500."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import AuditLog
from planner.services.audit_log import diff_rows


def _logins(demo) -> dict[str, tuple[str, str]]:
    report, _plans = demo
    return {login.role: (login.username, login.password) for login in report.logins}


def _structured(value) -> bool:
    return isinstance(value, dict) and any(isinstance(v, (dict, list)) for v in value.values())


def test_the_demo_audit_log_opens_for_the_administrator_and_the_coordinator(app, client, demo):
    with Session(app.extensions["db_engine"]) as session:
        entries = session.exec(select(AuditLog)).all()
    # the demo's own history has entries of that shape: otherwise this test would prove nothing
    assert any(_structured(e.before) or _structured(e.after) for e in entries)
    logins = _logins(demo)
    for role in ("admin", "prefecture"):
        username, password = logins[role]
        client.post("/login", data={"username": username, "password": password})
        page = client.get("/admin/audit")
        assert page.status_code == 200, f"{role}: {page.status_code}"
        assert "監査ログ" in page.get_data(as_text=True)
        client.post("/logout")


def test_a_list_or_dict_value_is_shown_as_json_and_a_coded_answer_as_its_word():
    rows = {
        r.key: r
        for r in diff_rows(
            {"hosts": [{"body": "200000"}], "answer": "join", "weights": {"equal": 0.1}},
            {"hosts": [{"body": "202011"}], "answer": "decline", "weights": {"equal": 0.1}},
        )
    }
    assert rows["hosts"].before == '[{"body": "200000"}]' and rows["hosts"].changed
    assert (rows["answer"].before, rows["answer"].after) == ("参加", "不参加")
    assert rows["weights"].after == '{"equal": 0.1}' and not rows["weights"].changed
