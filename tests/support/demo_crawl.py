"""What the demo crawl tests share: the demo's logins by the role a person plays, signing in, and what each role
must reach for a green crawl to prove something."""

from __future__ import annotations

from tests.support.crawl import Crawl, crawl

PDF, XLSX, DOCX, CSV, ZIP = (
    "application/pdf",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "text/csv",
    "application/zip",
)
# The demo's logins by the role a person plays: the administrator, 長野県's coordinator, a city and a town.
ROLES = {
    "admin": "demo-admin",
    "coordinator": "demo-nagano-pref",
    "city": "demo-nagano-city",
    "town": "demo-obuse",
}
PLANNER_ROLES = ("admin", "coordinator")
# The planners' document links per pattern (kind, plan, format) rendered one by one; the whole plan's ZIP, which
# they fetch, renders every document of the plan (see tests/web/test_demo_crawl.py for the figures).
PLANNER_DOCUMENTS_PER_PATTERN = 3


def sign_in(client, username: str, password: str) -> None:
    response = client.post("/login", data={"username": username, "password": password})
    assert response.status_code == 302 and "/login" not in response.location, f"{username} could not sign in"


def crawl_as(world, role: str) -> Crawl:
    """Crawl ``world``'s demo as ``role`` in a client of its own; fail on any failure the crawl recorded."""
    username = ROLES[role]
    client = world.app.test_client()
    sign_in(client, username, world.password(username))
    bound = PLANNER_DOCUMENTS_PER_PATTERN if role in PLANNER_ROLES else None
    result = crawl(client, username, documents_per_pattern=bound)
    client.post("/logout")
    assert not result.failures, f"{len(result.failures)} failures:\n\n" + "\n\n".join(result.failures[:10])
    return result


def reached(result: Crawl) -> set[str]:
    return {kind for status, kind in [*result.fetched.values(), *result.downloads.values()] if status == 200}


def assert_reached(role: str, result: Crawl) -> None:
    """The crawl reached what ``role`` has: otherwise a green crawl would prove little."""
    kinds = reached(result)
    if role not in PLANNER_ROLES:
        assert not result.documents_left, f"{role}: every document is fetched"
    assert {PDF, XLSX, DOCX} <= kinds, f"{role}: {sorted(kinds)}"
    if role in PLANNER_ROLES:  # the whole plan's ZIP, the needs' CSV and the audit log are the planners'
        assert {ZIP, CSV} <= kinds, f"{role}: {sorted(kinds)}"
        assert any(url.startswith("/admin/audit") for url in result.fetched), role
        assert any("/reports/member/" in url for url in result.fetched), role  # every member's notice
    else:
        assert not any(url.startswith(("/admin", "/scenarios", "/bodies")) for url in result.fetched), role


def pages_by_kind(result: Crawl) -> dict[str, int]:
    """How many addresses of each type the crawl fetched (the figures the tests' docstrings quote)."""
    counts: dict[str, int] = {}
    for _status, kind in [*result.fetched.values(), *result.downloads.values()]:
        counts[kind] = counts.get(kind, 0) + 1
    return counts
