"""Document sets as background jobs: a plan's ZIP is built once, with progress, and served when ready.

Like the solve jobs (planner.jobs), a build runs in a daemon thread of the web process by default and on the RQ
queue (``planner worker``) when ``REDIS_URL`` is set; the rendering itself is spread over worker processes
(planner.reports.bundle). The state lives beside the cached file, in the report cache folder shared by every web
process and worker: ``<key>.json`` (status, documents done of total, heartbeat, error) next to ``<key>.zip``.
A build claims its key with an exclusive lock file, so two requests for the same documents start one build; a
build whose heartbeat stops (its process died) is taken over by the next request.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

DOCUMENT_CACHE = "documents"  # the laid-out PDFs by content, beside the ZIPs (planner.reports.doc_cache)
STALE_SECONDS = 120  # a running build writes its heartbeat with every document; none for this long: presumed dead


@dataclass(frozen=True)
class BundleRequest:
    """Everything a build needs, picklable for RQ: the stored documents, the report metadata and which documents."""

    instance_doc: dict[str, Any]
    plan_doc: dict[str, Any]
    meta: Any  # planner.reports.context.ReportMeta
    documents: tuple[tuple[str, str], ...]  # (kind, key)
    label: str = ""


def _paths(folder: Path, key: str) -> tuple[Path, Path, Path]:
    return folder / f"{key}.zip", folder / f"{key}.json", folder / f"{key}.lock"


def _write_json(path: Path, doc: dict) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-")
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(doc, f, ensure_ascii=False)
    os.replace(tmp, path)


def rq_job_id(key: str) -> str:
    return f"planner-documents-{key}"


def state(folder: str | Path, key: str, redis_url: str | None = None) -> dict[str, Any]:
    """The build's state: {"status": none|queued|running|done|failed, "done", "total", "error", ...}.

    A build waiting in the RQ queue has no heartbeat until a worker takes it (behind other builds and solves, that
    can be minutes): it stays "queued" while its job is in Redis, and is called lost only when Redis (given
    ``redis_url``) no longer holds it or holds it failed."""
    folder = Path(folder)
    zip_path, state_path, _ = _paths(folder, key)
    if zip_path.exists():
        done = {"status": "done", "done": 1, "total": 1, "size": zip_path.stat().st_size}
        try:  # how the build went: laid out or reused documents, seconds
            doc = json.loads(state_path.read_text(encoding="utf-8"))
            done.update({k: doc[k] for k in ("rendered", "reused", "seconds") if k in doc})
        except (OSError, ValueError):
            pass
        return done
    try:
        doc = json.loads(state_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {"status": "none", "done": 0, "total": 0}
    silent = time.time() - float(doc.get("heartbeat", 0)) > STALE_SECONDS
    if silent and doc.get("status") == "queued" and doc.get("runner") == "rq":
        from . import _rq_job_problem

        problem = _rq_job_problem(redis_url, rq_job_id(key), {"enqueued_at": True})
        return {**doc, "status": "failed", "error": f"作成が中断されました（{problem}）"} if problem else doc
    if silent and doc.get("status") in ("queued", "running"):
        doc = {
            **doc,
            "status": "failed",
            "error": "作成が中断されました（処理が停止した可能性があります）。もう一度お試しください。",
        }
    if doc.get("status") in ("queued", "running"):
        from .build_queue import queue_view

        doc = {**doc, **queue_view(folder, key, doc, STALE_SECONDS)}
    return doc


def zip_path(folder: str | Path, key: str) -> Path:
    return _paths(Path(folder), key)[0]


def start(config: dict[str, Any], folder: str | Path, key: str, request: BundleRequest) -> dict[str, Any]:
    """Start building ``key`` unless it is built or being built; returns the state."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    current = state(folder, key, config.get("REDIS_URL"))
    if current["status"] in ("done", "queued", "running"):
        return current
    _, state_path, lock = _paths(folder, key)
    try:
        if lock.exists() and time.time() - lock.stat().st_mtime > STALE_SECONDS:
            lock.unlink(missing_ok=True)  # the build that held it died
        fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
        os.close(fd)
    except FileExistsError:
        return state(folder, key)
    queued = {
        "status": "queued",
        "done": 0,
        "total": len(request.documents),
        "heartbeat": time.time(),
        "queued_at": time.time(),  # its place in the queue of builds (planner.jobs.build_queue)
        "label": request.label,
        "runner": "rq" if config.get("REDIS_URL") else "thread",
    }
    _write_json(state_path, queued)
    if config.get("REDIS_URL"):
        try:
            from . import rq_queue

            rq_queue(config["REDIS_URL"]).enqueue(
                "planner.jobs.documents.build",
                str(folder),
                key,
                request,
                job_id=rq_job_id(key),
                job_timeout=1800,
                result_ttl=600,
                failure_ttl=86400,
            )
        except Exception as e:  # Redis unreachable: build here rather than not at all
            log.warning("document build %s: RQ unavailable (%s), building in-process", key, e)
            queued = {**queued, "runner": "thread"}
            _write_json(state_path, queued)
            _thread(folder, key, request)
    else:
        _thread(folder, key, request)
    return queued


def _prune(folder: Path) -> None:
    """Old built files go, as the report cache's do (a week), and documents no build has used for as long."""
    from planner.reports.cache import _prune as prune_cache
    from planner.reports.doc_cache import DocumentCache

    try:
        prune_cache(folder)
        DocumentCache(folder / DOCUMENT_CACHE).prune()
    except OSError:
        pass


def _thread(folder: Path, key: str, request: BundleRequest) -> None:
    threading.Thread(
        target=build, args=(str(folder), key, request), name=f"planner-documents-{key[:8]}", daemon=True
    ).start()


def build(folder: str, key: str, request: BundleRequest) -> str:
    """Render the documents into ``<key>.zip`` (the job function, in a thread or an RQ worker)."""
    from planner.domain.instance_io import parse_instance
    from planner.domain.settled_plan import settled_plan_from_dict
    from planner.reports import bundle

    from .build_queue import build_slot, record_rate

    root = Path(folder)
    zip_file, state_path, lock = _paths(root, key)
    started = time.time()
    try:
        queued_at = json.loads(state_path.read_text(encoding="utf-8")).get("queued_at") or started
    except (OSError, ValueError):
        queued_at = started
    base: dict[str, Any] = {"label": request.label, "started_at": started, "queued_at": queued_at}
    status = {"value": "queued"}  # queued until this build holds the build slot

    def progress(done: int, total: int) -> None:
        _write_json(
            state_path, {**base, "status": status["value"], "done": done, "total": total, "heartbeat": time.time()}
        )
        try:
            os.utime(lock)
        except OSError:
            pass

    # A beat of its own while the build runs: on a busy machine starting the worker processes or one large document
    # (the summary of a whole prefecture) can take longer than STALE_SECONDS, and the page then called a live build
    # dead. The beat keeps the last progress and only refreshes the heartbeat.
    last = {"done": 0, "total": len(request.documents)}
    finished = threading.Event()

    def beat() -> None:
        while not finished.wait(STALE_SECONDS / 4):
            try:
                progress(last["done"], last["total"])
            except OSError:  # the cache folder went away: the build itself fails and says so
                return

    def progress_and_remember(done: int, total: int) -> None:
        last.update(done=done, total=total)
        progress(done, total)

    beater = threading.Thread(target=beat, name=f"planner-documents-beat-{key[:8]}", daemon=True)
    beater.start()
    try:
        instance = parse_instance(request.instance_doc)
        plan = settled_plan_from_dict(request.plan_doc)
        docs = [bundle.Document(kind, k) for kind, k in request.documents]
        stats: dict[str, int] = {}
        with build_slot(root):  # one build renders at a time; the others wait their turn, "queued"
            status["value"] = "running"
            base["rendering_since"] = rendering_since = time.time()
            # documents whose pages were laid out before (an earlier build, another ZIP of the same plan) are
            # taken from the document cache: only changed pages are laid out again (planner.reports.doc_cache)
            data = bundle.plan_zip(
                instance,
                plan,
                request.meta,
                docs=docs,
                progress=progress_and_remember,
                cache_dir=str(root / DOCUMENT_CACHE),
                stats=stats,
            )
            rendering_seconds = time.time() - rendering_since
        if not stats.get("reused"):  # the measured rate is for laying documents out, not for copying them
            record_rate(root, len(docs), rendering_seconds)
        finished.set()
        beater.join()
        fd, tmp = tempfile.mkstemp(dir=root, prefix=".tmp-")
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, zip_file)
        _prune(root)
        _write_json(
            state_path,
            {
                **base,
                "status": "done",
                "done": len(docs),
                "total": len(docs),
                "seconds": round(time.time() - started, 1),
                "rendered": stats.get("rendered", len(docs)),
                "reused": stats.get("reused", 0),
                "heartbeat": time.time(),
            },
        )
        return "done"
    except Exception as e:
        finished.set()
        beater.join()
        log.exception("document build %s failed", key)
        _write_json(
            state_path,
            {**base, "status": "failed", "error": f"帳票を作成できませんでした: {e}", "heartbeat": time.time()},
        )
        return "failed"
    finally:
        finished.set()
        lock.unlink(missing_ok=True)
