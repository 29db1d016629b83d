"""Reading a plan and its instance from files, and writing a batch of documents to a folder (``planner report``)."""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

from planner.domain.instance_io import InstanceError, load_instance
from planner.domain.model import Instance
from planner.domain.plan import Plan, plan_from_dict
from planner.domain.settlement import settle_plan

from . import pdf, statements, xlsx
from .bundle import group_file, member_file
from .context import ReportError, ReportMeta

BUDGET_NAME = "年度別予算総括表"


def load_plan(path: str | Path, instance: Instance) -> Plan:
    """A plan file, checked against its instance; settled first if it has no allocation yet."""
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
        plan = plan_from_dict(doc)
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
    if any(g.allocation is None for g in plan.groups if g.mode != "standalone"):
        plan = settle_plan(instance, plan)
    return plan


def write_batch(
    plan_path: str | Path,
    instance_path: str | Path,
    out_dir: str | Path,
    *,
    members: bool = False,
    workbooks: bool = False,
    meta: ReportMeta | None = None,
) -> list[Path]:
    """The consortium PDFs (named by group id) and summary.pdf, optionally with notices and workbooks.

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
    outputs: list[tuple[str, bytes]] = []
    joint = [g for g in plan.groups if g.mode != "standalone"]
    for g in joint:
        outputs.append((group_file(g.id), pdf.group_pdf(instance, plan, g.id, meta)))
        if workbooks:
            outputs.append((group_file(g.id, "xlsx"), xlsx.group_workbook(instance, plan, g.id, meta)))
        if members:
            outputs += [(member_file(nid), pdf.member_pdf(instance, plan, nid, meta)) for nid in g.members]
    outputs.append(("summary.pdf", pdf.summary_pdf(instance, plan, meta)))
    if workbooks:
        outputs.append(("summary.xlsx", xlsx.summary_workbook(instance, plan, meta)))
    # Year-by-year statements of every member body, and the prefecture-wide budget table (PDF and workbook).
    outputs += [(f"statements/{name}", data) for name, data in statements.statement_pdfs(instance, plan, meta)]
    outputs.append((f"{BUDGET_NAME}.pdf", statements.budget_pdf(instance, plan, meta)))
    outputs.append((f"{BUDGET_NAME}.xlsx", statements.budget_workbook(instance, plan, meta)))
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
