"""Reading a plan and its instance from files, and writing a batch of documents to a folder (``planner report``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from planner.domain.instance_io import InstanceError, load_instance
from planner.domain.model import Instance
from planner.domain.plan import is_settled_doc, plan_from_dict
from planner.domain.settled_plan import SettledPlan, settled_plan_from_dict
from planner.domain.settlement import settle_plan

from .bundle import document_files, plan_documents, render_files
from .context import ReportError, ReportMeta
from .kind_renderers import RENDERERS


def load_plan(path: str | Path, instance: Instance) -> SettledPlan:
    """A plan file, checked against its instance. A file whose groups carry no allocation or estimates (the
    optimiser's groups written by hand) is settled here with the instance's allocation spec."""
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except json.JSONDecodeError as e:
        raise ReportError(f"{path}: JSON として読めません（{e.lineno}行 {e.colno}列: {e.msg}）") from e
    except UnicodeDecodeError as e:
        raise ReportError(f"{path}: UTF-8 のテキストではありません") from e
    if not isinstance(doc, dict):
        raise ReportError(f"{path}: 計画ファイル（kyodo-planner-plan/1）ではありません")
    try:
        settled = is_settled_doc(doc)
        plan = settled_plan_from_dict(doc) if settled else plan_from_dict(doc)
    except ValueError as e:
        raise ReportError(f"{path}: {e}") from e
    except (KeyError, TypeError) as e:
        raise ReportError(f"{path}: 計画ファイルの項目 {e} がないか、形式が違います") from e
    unknown = [nid for g in plan.groups for nid in g.members if nid not in instance.needs_by_id]
    if unknown:
        raise ReportError(
            f"{path}: ニーズ {', '.join(unknown[:5])} がインスタンスにありません"
            "（--instance に計画の元のインスタンスを指定してください）"
        )
    if isinstance(plan, SettledPlan):
        return plan
    return settle_plan(instance, plan)


def write_batch(
    plan_path: str | Path,
    instance_path: str | Path,
    out_dir: str | Path,
    *,
    members: bool = False,
    workbooks: bool = False,
    meta: ReportMeta | None = None,
    workers: int | None = None,
) -> list[Path]:
    """The consortium PDFs (named by group id), summary.pdf, every body's statement and the budget table (PDF and
    workbook), optionally with notices and workbooks; rendered as the plan's ZIP is (``bundle.render_files``, on
    ``workers`` processes).

    Every document is rendered before any file is written, and each file appears whole (written beside and then
    renamed), so a failure leaves the folder as it was.
    """
    try:
        instance = load_instance(instance_path)
    except InstanceError as e:
        raise ReportError(f"{instance_path}: {e}") from e
    except OSError as e:
        raise ReportError(f"{instance_path}: 読めません（{e.strerror}）") from e
    try:
        plan = load_plan(plan_path, instance)
    except OSError as e:
        raise ReportError(f"{plan_path}: 読めません（{e.strerror}）") from e
    wanted = ("always", "members") if members else ("always",)
    docs = [d for d in plan_documents(plan, instance) if RENDERERS[d.kind].in_report in wanted]
    # The same rendering as the plan's ZIP (batched, on worker processes): the Nagano bench plan's 105 files took
    # 22 s one by one in this process. Workbooks not asked for (--xlsx) are rendered with their PDFs and dropped.
    rendered = dict(render_files(instance, plan, meta, docs, workers))
    outputs: list[tuple[str, bytes]] = []
    for doc in docs:
        for zip_name in document_files(instance, plan, doc):
            name = RENDERERS[doc.kind].report_file(doc.key, zip_name, workbooks)
            if name:
                outputs.append((name, rendered[zip_name]))
    out = Path(out_dir)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ReportError(f"{out}: 出力フォルダを作れません（{e.strerror}）") from e
    written = []
    for name, data in outputs:
        target = out / name
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=".tmp-", suffix=target.suffix)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(data)
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        written.append(target)
    return written
