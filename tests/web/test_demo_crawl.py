"""The demo as a user meets it: every link and document reachable from the pages, as each demo login, answers
without a server error and without a traceback in the log (tests/support/crawl.py), on the demo exactly as
``planner demo`` leaves it."""

from __future__ import annotations

import pytest

from tests.support.crawl import crawl
from tests.support.web import logout

PDF, XLSX, DOCX, ZIP = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/zip",
)
# The demo's logins by the role a person plays: the administrator, 長野県's coordinator, a city and a town.
ROLES = {
    "admin": "demo-admin",
    "coordinator": "demo-nagano-pref",
    "city": "demo-nagano-city",
    "town": "demo-obuse",
}


@pytest.fixture
def app_config(tmp_path):
    # the documents' ZIPs are built and shared by every login of one test, as in one running application
    return {"REPORT_CACHE_DIR": str(tmp_path / "report_cache")}


def _passwords(demo) -> dict[str, str]:
    report, _plans = demo
    return {login.username: login.password for login in report.logins}


def _sign_in(client, username: str, password: str) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302 and "/login" not in response.location, f"{username} could not sign in"


def _crawl_every_role(client, passwords: dict[str, str]) -> dict[str, object]:
    crawls = {}
    for role, username in ROLES.items():
        _sign_in(client, username, passwords[username])
        crawls[role] = crawl(client, username)
        logout(client)
    failures = [f for c in crawls.values() for f in c.failures]
    assert not failures, f"{len(failures)} failures:\n\n" + "\n\n".join(failures[:10])
    return crawls


def _assert_reached(crawls) -> None:
    """The crawl reached what each role has: otherwise a green crawl would prove little."""
    for role, c in crawls.items():
        reached = {kind for status, kind in [*c.fetched.values(), *c.downloads.values()] if status == 200}
        assert {PDF, XLSX, DOCX} <= reached, f"{role}: {sorted(reached)}"
        if role in ("admin", "coordinator"):  # the whole plan's ZIP is the planners'
            assert ZIP in reached, f"{role}: {sorted(reached)}"
    for role in ("admin", "coordinator"):
        assert any(url.startswith("/admin/audit") for url in crawls[role].fetched), role
        assert len(crawls[role].fetched) > max(len(crawls["city"].fetched), len(crawls["town"].fetched))


def test_every_page_and_document_of_the_fresh_demo_opens_for_every_role(client, demo):
    _assert_reached(_crawl_every_role(client, _passwords(demo)))
