"""The ZIP's progress page in a real browser while another build holds the machine (issue #31: 206 s queued behind
publication builds with the page stuck at 「0 / 324 件」): it says which place the build has in the queue and how long
it should take, from the seconds per document measured in earlier builds, and then offers the download."""

from __future__ import annotations

import fcntl
import os
import re
import time

from tests.e2e import test_browser
from tests.e2e.test_browser import shot, sign_in

pytestmark = test_browser.pytestmark  # Chromium present, SQLite only, slow


def test_queue_position_and_estimate_then_the_download(server, browser_page, tmp_path):
    from planner.jobs import build_queue
    from tests.support.plans import make_scenario, solve_now

    base, engine = server
    page, console_errors = browser_page
    plan_id = solve_now(engine, make_scenario(engine))
    cache = tmp_path / "cache"
    cache.mkdir(exist_ok=True)
    # earlier builds on this machine: 324 documents in 81 s and 100 in 30 s -> median 0.275 s per document
    build_queue.record_rate(cache, 324, 81.0)
    build_queue.record_rate(cache, 100, 30.0)
    # a publication build is rendering (100 of 400 done) and holds the build slot
    now = time.time()
    (cache / "publication.json").write_text(
        f'{{"status": "running", "done": 100, "total": 400, "heartbeat": {now}, "queued_at": {now - 60}}}',
        encoding="utf-8",
    )
    slot = os.open(cache / build_queue.SLOT_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    fcntl.flock(slot, fcntl.LOCK_EX)
    try:
        page.set_viewport_size({"width": 1366, "height": 900})
        sign_in(page, base, "pref20")
        page.goto(f"{base}/plans/{plan_id}")
        page.get_by_role("link", name="全帳票（ZIP）").click()
        page.wait_for_url(f"{base}/plans/{plan_id}/reports/bundle")
        page.get_by_role("heading", name="順番を待っています").wait_for()
        queue = page.locator("#bundle-queue")
        estimate = page.locator("#bundle-estimate")
        assert "待ち順 2 番目" in queue.inner_text() and "300 文書" in queue.inner_text()
        total = int(page.locator('[data-field="total"]').inner_text())
        minutes = round((300 + total) * 0.275 / 60)
        text = estimate.inner_text()
        assert "1 文書あたり 0.28 秒" in text or "1 文書あたり 0.27 秒" in text, text
        seconds = (300 + total) * 0.275
        expected = f"約 {minutes:,} 分" if seconds >= 60 else f"約 {int(seconds)} 秒"
        assert expected in text, (expected, text)
        page.wait_for_timeout(1500)  # the page polls: the place and the estimate stay on it
        assert "待ち順 2 番目" in queue.inner_text() and re.search(r"約 \d+", estimate.inner_text())
        shot(page, "zip-queue-1366")
        page.set_viewport_size({"width": 390, "height": 844})
        shot(page, "zip-queue-390")
    finally:
        (cache / "publication.json").unlink(missing_ok=True)
        fcntl.flock(slot, fcntl.LOCK_UN)
        os.close(slot)
    page.set_viewport_size({"width": 1366, "height": 900})
    page.locator("#bundle-download").wait_for(timeout=240_000)
    shot(page, "zip-queue-done")
    assert not console_errors, console_errors
