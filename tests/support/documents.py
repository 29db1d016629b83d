"""Fetching the full document ZIP, which is built in the background (the first request starts the build)."""

from __future__ import annotations

import time


def fetch_zip(client, plan_id: int, timeout: float = 180.0):
    """GET /plans/<id>/reports.zip, waiting for the background build the first request starts."""
    r = client.get(f"/plans/{plan_id}/reports.zip")
    if r.status_code == 302:
        assert r.headers["Location"].endswith(f"/plans/{plan_id}/reports/bundle")
        deadline = time.monotonic() + timeout
        while True:
            state = client.get(f"/plans/{plan_id}/reports/bundle?format=json").get_json()
            assert state["status"] in ("queued", "running", "done"), state
            if state["status"] == "done":
                break
            assert time.monotonic() < deadline, state
            time.sleep(0.3)
        r = client.get(f"/plans/{plan_id}/reports.zip")
    return r
