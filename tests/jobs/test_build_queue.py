"""ZIP builds one at a time in the order asked, each waiting build told its place and an estimate measured from the
builds before it (issue #31: 206 s queued behind publication builds with the page stuck at 「0 / 324 件」)."""

from __future__ import annotations

import json
import threading
import time
from types import SimpleNamespace

import pytest

from planner.jobs import build_queue, documents


def _write(folder, key: str, **doc) -> None:
    (folder / f"{key}.json").write_text(json.dumps(doc), encoding="utf-8")


def test_place_in_the_queue_and_estimate_from_measured_rates(tmp_path):
    now = time.time()
    # the builds before: one rendering (50 of 300 done), one asked for earlier; one asked for later does not count
    _write(tmp_path, "a", status="running", done=50, total=300, heartbeat=now, queued_at=now - 100)
    _write(tmp_path, "b", status="queued", done=0, total=120, heartbeat=now, queued_at=now - 50)
    _write(tmp_path, "c", status="queued", done=0, total=999, heartbeat=now, queued_at=now - 5)
    _write(tmp_path, "dead", status="running", done=1, total=500, heartbeat=now - 1000, queued_at=now - 900)
    mine = {"status": "queued", "done": 0, "total": 324, "heartbeat": now, "queued_at": now - 10}
    _write(tmp_path, "mine", **mine)
    st = documents.state(tmp_path, "mine")
    assert (st["position"], st["ahead_builds"], st["ahead_documents"]) == (3, 2, 250 + 120)
    assert st["estimate_seconds"] is None  # nothing measured yet: no invented figure
    # measured: 0.25, 0.30 and 0.20 s per document in three earlier builds -> the median 0.25
    build_queue.record_rate(tmp_path, 300, 75.0)
    build_queue.record_rate(tmp_path, 100, 30.0)
    build_queue.record_rate(tmp_path, 50, 10.0)
    st = documents.state(tmp_path, "mine")
    assert st["seconds_per_document"] == 0.25
    assert st["estimate_seconds"] == round((250 + 120 + 324) * 0.25)  # 174 s
    # once rendering, nothing is ahead, and after MIN_DONE_FOR_OWN_RATE documents its own pace counts
    running = {**mine, "status": "running", "done": 100, "rendering_since": now - 40}
    _write(tmp_path, "mine", **running)
    st = documents.state(tmp_path, "mine")
    assert (st["position"], st["ahead_builds"]) == (1, 0)
    assert st["estimate_seconds"] == pytest.approx((324 - 100) * 0.4, abs=2)  # 40 s / 100 documents


def test_rates_keep_the_recent_builds_only(tmp_path):
    for i in range(build_queue.RATE_HISTORY + 5):
        build_queue.record_rate(tmp_path, 100, 100.0 if i < 5 else 20.0)
    assert build_queue.seconds_per_document(tmp_path) == 0.2
    assert len(json.loads((tmp_path / build_queue.RATES_FILE).read_text())) == build_queue.RATE_HISTORY


def test_builds_render_one_at_a_time_and_the_second_waits_queued(tmp_path, monkeypatch):
    """Two real builds (with the renderer replaced by one that waits for the test): the second stays "queued",
    second in line, until the first has finished; each finished build records its measured rate."""
    from planner.domain import instance_io, settled_plan
    from planner.reports import bundle

    monkeypatch.setattr(instance_io, "parse_instance", lambda doc: doc)
    monkeypatch.setattr(settled_plan, "settled_plan_from_dict", lambda doc: doc)
    release = {"first": threading.Event(), "second": threading.Event()}
    rendering: list[str] = []

    def fake_zip(instance, plan, meta, docs, progress, **kw):
        rendering.append(plan["name"])
        progress(0, len(docs))
        release[plan["name"]].wait(20)
        progress(len(docs), len(docs))
        return b"PK"

    monkeypatch.setattr(bundle, "plan_zip", fake_zip)

    def request(name, n):
        return documents.BundleRequest(
            {}, {"name": name}, SimpleNamespace(), tuple(("member", str(i)) for i in range(n))
        )

    config: dict = {}
    documents.start(config, tmp_path, "first", request("first", 30))
    deadline = time.time() + 10
    while rendering != ["first"] and time.time() < deadline:
        time.sleep(0.05)
    documents.start(config, tmp_path, "second", request("second", 12))
    time.sleep(0.5)
    second = documents.state(tmp_path, "second")
    assert rendering == ["first"] and second["status"] == "queued"
    assert (second["position"], second["ahead_builds"], second["ahead_documents"]) == (2, 1, 30)
    release["first"].set()
    deadline = time.time() + 10
    while rendering != ["first", "second"] and time.time() < deadline:
        time.sleep(0.05)
    assert documents.state(tmp_path, "first")["status"] == "done"
    assert documents.state(tmp_path, "second")["status"] == "running"
    release["second"].set()
    deadline = time.time() + 10
    while documents.state(tmp_path, "second")["status"] != "done" and time.time() < deadline:
        time.sleep(0.05)
    rates = json.loads((tmp_path / build_queue.RATES_FILE).read_text())
    assert [r["documents"] for r in rates] == [30, 12] and all(r["seconds"] > 0 for r in rates)
