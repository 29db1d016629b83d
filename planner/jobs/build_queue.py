"""Document builds one at a time, in the order they were asked for, with each waiting build's place in the queue
and an estimate of when it is done from how fast earlier builds went.

A build renders with several worker processes already; two or three at once (publication starts one per plan) only
share the same cores and all finish late. So a build takes the folder's build slot (an exclusive ``flock`` on
``build-slot.lock`` in the report cache folder, shared by every web process and RQ worker) before it renders, and
waits "queued" until then. Its place is read from the state files beside it: the builds queued or running that were
asked for before it.

The estimate is measured, not assumed: every finished build appends its documents and rendering seconds (from
taking the slot to the ZIP, the wait excluded) to ``build-rates.json``; the rate is the median seconds per document
of the last RATE_HISTORY builds. A running build's own rate (seconds so far / documents done) replaces it once it
has done MIN_DONE_FOR_OWN_RATE documents. Without any measurement there is no estimate, and the page says so.
"""

from __future__ import annotations

import fcntl
import json
import os
import statistics
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

RATES_FILE = "build-rates.json"
SLOT_FILE = "build-slot.lock"
RATE_HISTORY = 10
MIN_DONE_FOR_OWN_RATE = 20


@contextmanager
def build_slot(folder: Path) -> Iterator[None]:
    """Hold the folder's build slot (blocks until the builds before this one are done)."""
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / SLOT_FILE, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def record_rate(folder: Path, documents: int, seconds: float, now: float | None = None) -> None:
    """Keep a finished build's documents and rendering seconds (the newest RATE_HISTORY builds)."""
    if documents <= 0 or seconds <= 0:
        return
    rows = _rates(folder)
    rows.append({"documents": documents, "seconds": round(seconds, 2), "at": now or time.time()})
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(rows[-RATE_HISTORY:], f)
    os.replace(tmp, folder / RATES_FILE)


def _rates(folder: Path) -> list[dict[str, Any]]:
    try:
        rows = json.loads((folder / RATES_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    return [r for r in rows if isinstance(r, dict) and r.get("documents", 0) > 0 and r.get("seconds", 0) > 0]


def seconds_per_document(folder: Path) -> float | None:
    """The median seconds per document of the recent builds (None before the first build has finished)."""
    rows = _rates(folder)[-RATE_HISTORY:]
    if not rows:
        return None
    return statistics.median(float(r["seconds"]) / int(r["documents"]) for r in rows)


def _live_builds(folder: Path, stale_seconds: float, now: float) -> list[dict[str, Any]]:
    out = []
    for path in folder.glob("*.json"):
        if path.name == RATES_FILE:
            continue
        try:
            doc = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(doc, dict) or doc.get("status") not in ("queued", "running"):
            continue
        # a build waiting in the RQ queue has no heartbeat until a worker takes it, and is still ahead
        waiting_in_rq = doc.get("status") == "queued" and doc.get("runner") == "rq"
        if not waiting_in_rq and now - float(doc.get("heartbeat", 0)) > stale_seconds:
            continue
        out.append({**doc, "key": path.stem})
    return out


def queue_view(folder: Path, key: str, doc: dict[str, Any], stale_seconds: float, now: float | None = None) -> dict:
    """For a queued or running build: its place ("position": 1 is next or rendering now), the builds and documents
    before it, and the estimated seconds until it is done ("estimate_seconds", None without a measured rate)."""
    now = now or time.time()
    mine = float(doc.get("queued_at") or 0)
    ahead = [
        b
        for b in _live_builds(folder, stale_seconds, now)
        if b["key"] != key and (b.get("status") == "running" or float(b.get("queued_at") or 0) < mine)
    ]
    if doc.get("status") == "running":
        ahead = []  # it holds the slot: nothing renders before it
    ahead_documents = sum(max(int(b.get("total") or 0) - int(b.get("done") or 0), 0) for b in ahead)
    rate = seconds_per_document(folder)
    done, total = int(doc.get("done") or 0), int(doc.get("total") or 0)
    own_rate = None
    started = doc.get("rendering_since")
    if doc.get("status") == "running" and started and done >= MIN_DONE_FOR_OWN_RATE:
        own_rate = (now - float(started)) / done
    estimate = None
    if own_rate is not None or rate is not None:
        mine_left = (total - done) * (own_rate if own_rate is not None else rate)  # type: ignore[operator]
        estimate = mine_left + (ahead_documents * rate if rate is not None else 0.0)
        if ahead_documents and rate is None:
            estimate = None  # what is ahead cannot be timed yet
    return {
        "position": len(ahead) + 1,
        "ahead_builds": len(ahead),
        "ahead_documents": ahead_documents,
        "seconds_per_document": None if rate is None else round(rate, 3),
        "estimate_seconds": None if estimate is None else round(estimate),
    }
