"""Fetching the full document ZIP, which is built in the background (the first request starts the build)."""

from __future__ import annotations

import html
import re
import time

_STATUS_URL = re.compile(r'data-status-url="([^"]+)"')


def status_url(client, plan_id: int) -> str:
    """The URL the progress page polls (static/js/bundle-progress.js): its JSON state, with the page's signed token."""
    page = client.get(f"/plans/{plan_id}/reports/bundle").get_data(as_text=True)
    found = _STATUS_URL.search(page)
    return html.unescape(found.group(1)) if found else f"/plans/{plan_id}/reports/bundle?format=json"


def fetch_zip(client, plan_id: int, timeout: float = 180.0):
    """GET /plans/<id>/reports.zip, waiting for the background build the first request starts, polling as the
    progress page does."""
    r = client.get(f"/plans/{plan_id}/reports.zip")
    if r.status_code == 302:
        assert r.headers["Location"].endswith(f"/plans/{plan_id}/reports/bundle")
        wait_until_built(client, status_url(client, plan_id), timeout)
        r = client.get(f"/plans/{plan_id}/reports.zip")
    return r


def wait_until_built(client, poll: str, timeout: float = 180.0, every: float = 0.3) -> dict:
    """Poll a build's JSON state until it is done (asserting it stays queued or running until then)."""
    deadline = time.monotonic() + timeout
    while True:
        state = client.get(poll).get_json()
        assert state["status"] in ("queued", "running", "done"), state
        if state["status"] == "done":
            return state
        assert time.monotonic() < deadline, state
        time.sleep(every)
