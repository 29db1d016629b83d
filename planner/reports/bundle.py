"""All of a plan's documents in one ZIP, and the file names every output uses for them."""

from __future__ import annotations

import gc
import io
import logging
import multiprocessing
import os
import zipfile
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledPlan

from . import office_cache, pdf, stamp
from .batch import render_one_pdf, render_pdfs
from .context import ReportMeta
from .doc_cache import DocumentCache, document_key
from .kind_renderers import RENDERERS
from .kind_renderers import group_file as group_file  # planner report's names, kept importable from here
from .kind_renderers import member_file as member_file
from .kinds import KINDS
from .names import safe_name as safe_name  # the name the web imports

# Below this many documents, starting worker processes costs more than it saves.
PARALLEL_FROM = 12


@dataclass(frozen=True)
class Document:
    kind: str  # a name of planner.reports.kinds.KINDS: summary | budget | group | agreement | memorandum | ...
    key: (
        str  # group id (group, agreement, memorandum), need id (member), body code (statement), or "" (summary, budget)
    )


# The order documents are listed in (the ZIP sorts its files by name; this is the order of the work).
LISTING = ("summary", "group", "member", "budget", "agreement", "memorandum", "statement", "finance")
assert set(LISTING) == set(RENDERERS), "every document kind is listed in the ZIP and planner report"


def plan_documents(plan: SettledPlan, instance: Instance | None = None) -> list[Document]:
    """Every document of a plan: the summary and the budget table, a 負担金算定書 per joint group and its 協定書案
    (幹事団体方式) or 覚書案 (仕様統一方式), a 負担額通知 per member of a joint group, and (given the instance) a
    年度別負担額 per body with a need and a 予算見積資料 per body with a role (a need, or the lead of a lead-mode
    group)."""
    return [Document(name, key) for name in LISTING for key in RENDERERS[name].keys(plan, instance)]


def document_body(instance: Instance, plan: SettledPlan, doc: Document) -> set[str]:
    """The bodies a document is about (who may see it besides the prefecture): a group's members, a need's body."""
    return RENDERERS[doc.kind].bodies(instance, plan, doc.key)


def document_files(instance: Instance, plan: SettledPlan, doc: Document) -> list[str]:
    """The names of a document's files in the ZIP: folders by category, file names by body, category and year."""
    return RENDERERS[doc.kind].files(instance, plan, doc.key)


def render_document(
    instance: Instance, plan: SettledPlan, meta: ReportMeta | None, doc: Document
) -> list[tuple[str, bytes]]:
    """The files of one document inside the ZIP (PDF, and the workbook or Word draft where there is one)."""
    r = RENDERERS[doc.kind]
    return list(zip(r.files(instance, plan, doc.key), r.render(instance, plan, doc.key, meta), strict=True))


log = logging.getLogger(__name__)


def render_jobs(docs: list[Document]) -> list[tuple[Document, ...]]:
    """The documents in units of work: batches of one kind (its ``batch_size``), the others one by one; longest
    first (by the kinds' ``cost``)."""
    jobs: list[tuple[Document, ...]] = []
    by_kind: dict[str, list[Document]] = {}
    for d in docs:
        if KINDS[d.kind].batch_size:
            by_kind.setdefault(d.kind, []).append(d)
        else:
            jobs.append((d,))
    for kind, same in by_kind.items():
        size = KINDS[kind].batch_size or 1
        jobs += [tuple(same[i : i + size]) for i in range(0, len(same), size)]
    return sorted(jobs, key=lambda job: -sum(KINDS[d.kind].cost for d in job))


def _batch_html(instance: Instance, plan: SettledPlan, meta: ReportMeta | None, doc: Document) -> str:
    batch_html = RENDERERS[doc.kind].batch_html
    assert batch_html is not None, f"{doc.kind} is not laid out in batches"
    return batch_html(instance, plan, doc.key, meta)


def render_job(
    instance: Instance, plan: SettledPlan, meta: ReportMeta | None, job: tuple[Document, ...], font_config=None
) -> list[tuple[str, bytes]]:
    """The files of a unit of work: one document, or a batch of one kind laid out together (with ``font_config``
    when the caller keeps one for all its batches: see ``batch.render_pdfs``)."""
    if len(job) == 1:
        return render_document(instance, plan, meta, job[0])
    htmls = [_batch_html(instance, plan, meta, d) for d in job]
    try:
        pdfs = render_pdfs(htmls, [pdf._stylesheet()], font_config)
    except Exception as e:
        # Batching is only a speed-up and leans on two WeasyPrint internals (see batch.py); whatever goes wrong
        # there (a split it cannot prove, or internals changed by an upgrade), each document alone is always right,
        # and a real fault in a document surfaces again from that path.
        log.warning("batch of %d %s documents rendered one by one: %r", len(job), job[0].kind, e)
        return [f for d in job for f in render_document(instance, plan, meta, d)]
    files = []
    for d, data in zip(job, pdfs, strict=True):
        r = RENDERERS[d.kind]
        names = r.files(instance, plan, d.key)
        files.append((names[0], data))
        # The batch made the PDF; the kind's other formats (the 算定書's workbook) are rendered on their own.
        for name, ext in zip(names[1:], r.kind.zip_formats[1:], strict=True):
            files.append((name, r.downloads[ext](instance, plan, d.key, meta)))
    return files


def _pdf_html(instance: Instance, plan: SettledPlan, meta: ReportMeta | None, doc: Document) -> str | None:
    """The HTML a document's PDF is laid out from (None for a document without one: the Word draft)."""
    pdf_html = RENDERERS[doc.kind].pdf_html
    return None if pdf_html is None else pdf_html(instance, plan, doc.key, meta)


def _workbooks(
    instance: Instance,
    plan: SettledPlan,
    meta: ReportMeta | None,
    doc: Document,
    store: DocumentCache | None = None,
    inputs: str | None = None,
) -> tuple[list[bytes], int]:
    """(the files beside a document's PDF, or a Word draft's own file; how many came from ``store``).

    With a store they are kept by their inputs with the version's words as placeholders
    (planner.reports.office_cache): a version 2 or a re-publish fills in the words instead of making them again."""
    r = RENDERERS[doc.kind]
    formats = r.kind.zip_formats if r.pdf_html is None else r.kind.zip_formats[1:]
    tokened = office_cache.tokened(meta) if store is not None and meta is not None else None
    if store is None or tokened is None or not formats:
        return [r.downloads[ext](instance, plan, doc.key, meta) for ext in formats], 0
    tokened_meta, values = tokened
    inputs = inputs or office_cache.inputs_fingerprint(instance, plan)
    out, reused = [], 0
    for ext in formats:
        key = office_cache.office_key(doc.kind, ext, doc.key, inputs, tokened_meta)
        kept = store.get(key, f".{ext}")
        filled = office_cache.fill(kept, values, ext) if kept is not None else None
        if filled is not None:
            out.append(filled)
            reused += 1
            continue
        made = r.downloads[ext](instance, plan, doc.key, tokened_meta)
        filled = office_cache.fill(made, values, ext)
        if filled is None:  # a placeholder the file did not take back: made directly, and not kept
            out.append(r.downloads[ext](instance, plan, doc.key, meta))
            continue
        store.put(key, made, f".{ext}")
        out.append(filled)
    return out, reused


def document_pdf(
    instance: Instance, plan: SettledPlan, meta: ReportMeta | None, doc: Document, store: DocumentCache | None
) -> bytes:
    """One document's PDF, the one its ZIP holds: laid out from the same HTML before (by a build of the plan's
    documents or an earlier download) and kept in ``store``, else laid out now and kept. A town's notice opened
    after publication (which builds the plan's ZIP) costs its HTML, not a layout."""
    html = _pdf_html(instance, plan, meta, doc)
    if html is None or store is None:
        return RENDERERS[doc.kind].downloads["pdf"](instance, plan, doc.key, meta)
    key = document_key(doc.kind, html)
    data = store.get(key)
    if data is None:
        data = pdf.html_to_pdf(html)
        store.put(key, data)
    return data


def render_job_cached(
    instance: Instance,
    plan: SettledPlan,
    meta: ReportMeta | None,
    job: tuple[Document, ...],
    font_config=None,
    store: DocumentCache | None = None,
    inputs: str | None = None,
) -> tuple[list[tuple[str, bytes]], int]:
    """(the files of a unit of work, how many of its documents were taken from ``store`` instead of laid out or
    made).

    A PDF seen before (the same HTML, version words and all: a re-publish) is taken as it is. Otherwise it is a body
    kept by its HTML's key (planner.reports.doc_cache) with the version's stamp drawn over it
    (planner.reports.stamp): only the bodies missing from the store are laid out (still together, as a batch), so a
    new version lays out only the documents whose content changed. Should stamping fail, the job's documents are
    laid out whole, as without a store. Workbooks and Word drafts come from the store with the version's words
    filled in (``_workbooks``). ``inputs``: the instance's and plan's fingerprint, when the caller has it."""
    if store is None:
        return render_job(instance, plan, meta, job, font_config), 0
    inputs = inputs or office_cache.inputs_fingerprint(instance, plan)
    htmls = [_pdf_html(instance, plan, meta, d) for d in job]
    if all(h is None for h in htmls):  # Word drafts: no PDF
        files: list[tuple[str, bytes]] = []
        reused = 0
        for d in job:
            drafts, from_store = _workbooks(instance, plan, meta, d, store, inputs)
            files += list(zip(document_files(instance, plan, d), drafts, strict=True))
            reused += from_store == len(drafts)
        return files, reused
    if any(h is None for h in htmls):
        return render_job(instance, plan, meta, job, font_config), 0
    whole_keys = [document_key(d.kind, h) for d, h in zip(job, htmls, strict=True)]  # type: ignore[arg-type]
    pdfs: list[bytes | None] = [store.get(k) for k in whole_keys]
    todo = [i for i, data in enumerate(pdfs) if data is None]
    laid_out = 0
    if todo:
        parts = [stamp.split(htmls[i]) for i in todo]  # type: ignore[arg-type]
        keys = [document_key(job[i].kind, p.body) for i, p in zip(todo, parts, strict=True)]
        found: list[tuple[bytes, list] | None] = [store.get_body(k) for k in keys]
        missing = [i for i, body in enumerate(found) if body is None]
        try:
            if missing:
                made = _lay_out_bodies(
                    [parts[i].body for i in missing], bool(KINDS[job[0].kind].batch_size), font_config
                )
                for i, body in zip(missing, made, strict=True):
                    found[i] = body
                    store.put_body(keys[i], *body)
            stamped = _stamped(parts, found, font_config)  # type: ignore[arg-type]
        except Exception as e:  # a stamp that does not fit its body: the documents whole are always right
            log.warning("%d %s documents laid out whole, not stamped: %r", len(job), job[0].kind, e)
            return render_job(instance, plan, meta, job, font_config), 0
        for i, stamped_pdf in zip(todo, stamped, strict=True):
            pdfs[i] = stamped_pdf
            store.put(whole_keys[i], stamped_pdf)  # a re-publish, or this document downloaded alone, takes it as it is
        laid_out = len(missing)
    files = []
    for d, pdf_data in zip(job, pdfs, strict=True):
        names = document_files(instance, plan, d)
        files.append((names[0], pdf_data))  # type: ignore[arg-type]
        files += list(zip(names[1:], _workbooks(instance, plan, meta, d, store, inputs)[0], strict=True))
    return files, len(job) - laid_out


def _lay_out_bodies(bodies: list[str], batched: bool, font_config=None) -> list[tuple[bytes, list]]:
    """Each body's PDF and its stamp slots (planner.reports.stamp.slots_of), laid out together when the kind is
    laid out in batches."""
    sheets = [pdf._stylesheet(), stamp.body_stylesheet()]
    if batched and len(bodies) > 1:
        inspected: list = []
        try:
            made = render_pdfs(bodies, sheets, font_config, stamp.slots_of, inspected)
            return list(zip(made, inspected, strict=True))
        except Exception as e:  # as in render_job: each document alone is always right
            log.warning("batch of %d bodies laid out one by one: %r", len(bodies), e)
    out = []
    for body in bodies:
        alone: list = []
        data = render_pdfs([body], sheets, font_config, stamp.slots_of, alone)[0]
        out.append((data, alone[0]))
    return out


def _stamped(parts: list[stamp.Split], bodies: list[tuple[bytes, list]], font_config=None) -> list[bytes]:
    """Each body with its stamp drawn over it; the stamps of a job are laid out together."""
    from pypdf import PdfReader

    stamps = [stamp.stamp_html(p, pages) for p, (_, pages) in zip(parts, bodies, strict=True)]
    data, starts = render_one_pdf(stamps, [pdf._stylesheet(), stamp.stamp_stylesheet()], font_config)
    pages = PdfReader(io.BytesIO(data)).pages
    return [
        stamp.merge(body, [pages[p] for p in range(starts[i], starts[i + 1])]) for i, (body, _) in enumerate(bodies)
    ]


def render_files(
    instance: Instance,
    plan: SettledPlan,
    meta: ReportMeta | None,
    docs: list[Document],
    workers: int | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: str | None = None,
    stats: dict | None = None,
) -> list[tuple[str, bytes]]:
    """The files of ``docs``, named as in the ZIP (``document_files``) and sorted by name.

    Notices, statements and 算定書 are laid out in batches (``render_jobs``), and large sets are rendered by worker
    processes (``workers``, default: the machine's cores, at most 4), the longest work first. ``progress(done,
    total)`` counts documents as their batch finishes. With ``cache_dir``, a document whose page is already laid
    out there is taken from it (``render_job_cached``); ``stats`` then gets how many were laid out and how many
    reused.
    """
    jobs = render_jobs(list(docs))
    total = sum(len(job) for job in jobs)
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    # A long batch reports nothing until it ends; the background build's own heartbeat (planner.jobs.documents)
    # keeps it from being taken for dead meanwhile.
    report = progress or (lambda done, total: None)
    report(0, total)
    # what the workbooks and Word drafts are keyed by besides the metadata, hashed once for the whole build
    inputs = office_cache.inputs_fingerprint(instance, plan) if cache_dir else None
    if workers > 1 and total >= PARALLEL_FROM and len(jobs) > 1:
        files, reused = _render_parallel(instance, plan, meta, jobs, workers, report, cache_dir, inputs)
    else:
        files, done, reused = [], 0, 0
        font_config = _font_configuration()
        store = DocumentCache(cache_dir) if cache_dir else None
        for job in jobs:
            made, from_cache = render_job_cached(instance, plan, meta, job, font_config, store, inputs)
            files += made
            reused += from_cache
            done += len(job)
            report(done, total)
    if stats is not None:
        stats.update(documents=total, reused=reused, rendered=total - reused)
    files.sort(key=lambda f: f[0])
    return files


def plan_zip(
    instance: Instance,
    plan: SettledPlan,
    meta: ReportMeta | None = None,
    allowed: Callable[[Document], bool] = lambda d: True,
    workers: int | None = None,
    docs: list[Document] | None = None,
    progress: Callable[[int, int], None] | None = None,
    cache_dir: str | None = None,
    stats: dict | None = None,
) -> bytes:
    """PDFs, workbooks and Word drafts of the documents ``allowed`` lets through (or ``docs``), in folders by kind.

    A Nagano-sized plan has some 300 documents, rendered by ``render_files`` (batches, worker processes).
    Everything is rendered before the archive is written, so an error leaves no half-made file behind.
    """
    if docs is None:
        docs = [d for d in plan_documents(plan, instance) if allowed(d)]
    files = render_files(instance, plan, meta, docs, workers, progress, cache_dir, stats)
    buf = io.BytesIO()
    # Stored, not deflated again: PDF streams are compressed already, and workbooks and Word files are ZIP files
    # themselves. Deflating the demo's 25.6 MB took 0.4 s, after all the workers had finished, to save 1.3 %.
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        for name, data in files:
            zf.writestr(name, data)
    return buf.getvalue()


def _font_configuration():
    """One WeasyPrint font configuration for all the batches of a build's worker (or of a build in one thread).

    A fresh one per batch loads the fonts again and forgets the line splits and the prepared font faces that the
    batches share: with one for all, a worker's batches of notices and statements execute about 7 % fewer
    instructions (bench/README.md). Pango's objects are not for several threads at once: a configuration is only
    ever used by the thread that made it.
    """
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


# What a render worker keeps between jobs: the plan and its documents' settings, the font configuration (from
# WeasyPrint, untyped) and the document cache
_WorkerState = tuple[Instance, SettledPlan, "ReportMeta | None", Any, "DocumentCache | None", "str | None"]
_worker_state: _WorkerState | None = None


def _init_worker(
    instance: Instance,
    plan: SettledPlan,
    meta: ReportMeta | None,
    parent_pid: int,
    cache_dir: str | None = None,
    inputs: str | None = None,
) -> None:
    global _worker_state
    from .orphans import die_with_parent  # only in a render worker: it installs a parent-death signal

    die_with_parent(parent_pid)
    # The render stack now rather than in the first job, so that what lives as long as the worker (modules, the
    # plan, its font configuration) can be frozen out of the cyclic collector's view: see _render_in_worker.
    import weasyprint  # noqa: F401

    from . import batch, kind_renderers  # noqa: F401  (loaded with the rest of the render stack, then frozen)

    store = DocumentCache(cache_dir) if cache_dir else None
    _worker_state = (instance, plan, meta, _font_configuration(), store, inputs)
    gc.freeze()


def _render_in_worker(job: tuple[Document, ...]) -> tuple[list[tuple[str, bytes]], int]:
    """One unit of work with the cyclic collector paused, and one collection after it.

    WeasyPrint makes millions of short-lived objects in cycles (boxes and their styles): left on, the collector
    runs hundreds of times a batch over a heap that keeps growing. Collecting once per job takes a sixth less CPU
    for the Nagano ZIP, and no more memory, as each job's garbage goes at once (bench/README.md). Only here: a
    worker is one thread doing one job, whereas pausing the collector in the web server would pause it for every
    thread.
    """
    if _worker_state is None:
        raise RuntimeError("not a render worker: _init_worker has not run in this process")
    instance, plan, meta, font_config, store, inputs = _worker_state
    gc.disable()
    try:
        return render_job_cached(instance, plan, meta, job, font_config, store, inputs)
    finally:
        gc.enable()
        gc.collect()


def _render_parallel(
    instance,
    plan,
    meta,
    jobs: list[tuple[Document, ...]],
    workers: int,
    report: Callable[[int, int], None],
    cache_dir: str | None = None,
    inputs: str | None = None,
) -> tuple[list[tuple[str, bytes]], int]:
    # "spawn", not fork: the web server may run threads, and a forked child can inherit a lock held by one of them.
    context = multiprocessing.get_context("spawn")
    files: list[tuple[str, bytes]] = []
    total, done, reused = sum(len(job) for job in jobs), 0, 0
    workers = min(workers, len(jobs))
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=context,
        initializer=_init_worker,
        initargs=(instance, plan, meta, os.getpid(), cache_dir, inputs),
    ) as pool:
        futures = {pool.submit(_render_in_worker, job): len(job) for job in jobs}
        for future in as_completed(futures):
            made, from_cache = future.result()
            files += made
            reused += from_cache
            done += futures[future]
            report(done, total)
    return files, reused
