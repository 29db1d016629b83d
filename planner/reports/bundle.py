"""All of a plan's documents in one ZIP, and the file names every output uses for them."""
from __future__ import annotations

import io
import multiprocessing
import os
import re
import zipfile
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Callable

from planner.domain.model import Instance
from planner.domain.plan import Plan

from . import pdf, xlsx
from .context import ReportMeta

# Below this many documents, starting worker processes costs more than it saves.
PARALLEL_FROM = 12


def safe_name(text: str) -> str:
    """A file-name part from a group or need id: no path separators or characters some file systems refuse."""
    cleaned = re.sub(r'[\\/:*?"<>|\x00-\x1f]', "_", text).strip(" .")
    return cleaned or "_"


def group_file(group_id: str, ext: str = "pdf") -> str:
    return f"{safe_name(group_id)}.{ext}"


def member_file(need_id: str, ext: str = "pdf") -> str:
    return f"member-{safe_name(need_id)}.{ext}"


@dataclass(frozen=True)
class Document:
    kind: str  # group | member | summary
    key: str  # group id, need id, or "" for the summary


def plan_documents(plan: Plan) -> list[Document]:
    """Every document of a plan: a 負担金算定書 per joint group, a 負担額通知 per member of a joint group, the summary."""
    docs = [Document("summary", "")]
    joint = [g for g in plan.groups if g.mode != "standalone"]
    docs += [Document("group", g.id) for g in joint]
    docs += [Document("member", nid) for g in joint for nid in g.members]
    return docs


def render_document(instance: Instance, plan: Plan, meta: ReportMeta | None, doc: Document) -> list[tuple[str, bytes]]:
    """The files of one document inside the ZIP (PDF, and the workbook where there is one)."""
    if doc.kind == "summary":
        return [("summary.pdf", pdf.summary_pdf(instance, plan, meta)),
                ("summary.xlsx", xlsx.summary_workbook(instance, plan, meta))]
    if doc.kind == "group":
        return [(f"負担金算定書/{group_file(doc.key)}", pdf.group_pdf(instance, plan, doc.key, meta)),
                (f"負担金算定書/{group_file(doc.key, 'xlsx')}", xlsx.group_workbook(instance, plan, doc.key, meta))]
    return [(f"負担額通知/{member_file(doc.key)}", pdf.member_pdf(instance, plan, doc.key, meta))]


def plan_zip(instance: Instance, plan: Plan, meta: ReportMeta | None = None,
             allowed: Callable[[Document], bool] = lambda d: True, workers: int | None = None) -> bytes:
    """PDFs and workbooks of the documents ``allowed`` lets through, in folders by kind.

    A Nagano-sized plan has some 170 documents at 0.2-0.4 s each, so large bundles are rendered by worker
    processes (``workers``, default: the machine's cores, at most 4). Everything is rendered before the archive
    is written, so an error leaves no half-made file behind.
    """
    docs = [d for d in plan_documents(plan) if allowed(d)]
    if workers is None:
        workers = min(4, os.cpu_count() or 1)
    if workers > 1 and len(docs) >= PARALLEL_FROM:
        files = _render_parallel(instance, plan, meta, docs, workers)
    else:
        files = [f for d in docs for f in render_document(instance, plan, meta, d)]
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for name, data in files:
            zf.writestr(name, data)
    return buf.getvalue()


_worker_state: tuple | None = None


def _init_worker(instance: Instance, plan: Plan, meta: ReportMeta | None) -> None:
    global _worker_state
    _worker_state = (instance, plan, meta)


def _render_in_worker(doc: Document) -> list[tuple[str, bytes]]:
    instance, plan, meta = _worker_state
    return render_document(instance, plan, meta, doc)


def _render_parallel(instance, plan, meta, docs: list[Document], workers: int) -> list[tuple[str, bytes]]:
    # "spawn", not fork: the web server may run threads, and a forked child can inherit a lock held by one of them.
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context, initializer=_init_worker,
                             initargs=(instance, plan, meta)) as pool:
        return [f for files in pool.map(_render_in_worker, docs, chunksize=4) for f in files]
