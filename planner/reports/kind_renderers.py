"""How each document kind (planner.reports.kinds) is listed, named and rendered: the one table the ZIP
(planner.reports.bundle), ``planner report`` (planner.reports.files) and the web's document route
(planner.web.reports) read instead of dispatching on the kind's name.

Per kind: the documents a plan has of it (``keys``), the bodies a document is about (``bodies``, for the access
policy), whether a key names one of the plan's documents (``exists``), the file names in the ZIP (``files``, one per
``DocumentKind.zip_formats``), one renderer per download format (``downloads``), the HTML a batch lays out
(``batch_html``, for kinds with a ``batch_size``) and the name ``planner report`` gives a file (``report_file``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

from planner.domain.model import Instance
from planner.domain.settled_plan import SettledGroup, SettledPlan

from . import agreement, budget_statements, memorandum, pdf, statements, xlsx
from .context import ReportMeta
from .kinds import KINDS, DocumentKind
from .names import fitted, fitted_name

Render = Callable[[Instance, SettledPlan, str, "ReportMeta | None"], bytes]


@dataclass(frozen=True)
class KindRenderer:
    kind: DocumentKind
    keys: Callable[[SettledPlan, Instance | None], list[str]]
    bodies: Callable[[Instance, SettledPlan, str], set[str]]
    exists: Callable[[Instance, SettledPlan, str], bool]
    files: Callable[[Instance, SettledPlan, str], list[str]]
    downloads: Mapping[str, Render]
    report_file: Callable[[str, str, bool], str | None]  # (key, name in the ZIP, workbooks asked for) -> name or None
    in_report: Literal["always", "members", "never"] = "always"  # planner report: always, with --members, never
    batch_html: Callable[[Instance, SettledPlan, str, ReportMeta | None], str] | None = None
    whole_html: Callable[[Instance, SettledPlan, str, ReportMeta | None], str] | None = None  # a PDF not batched

    @property
    def pdf_html(self) -> Callable[[Instance, SettledPlan, str, ReportMeta | None], str] | None:
        """The HTML the document's PDF is laid out from (the report cache keys a PDF by it); None without a PDF."""
        return self.batch_html or self.whole_html

    def render(self, instance: Instance, plan: SettledPlan, key: str, meta: ReportMeta | None) -> list[bytes]:
        """The document's files in the ZIP's formats (``kind.zip_formats``)."""
        return [self.downloads[ext](instance, plan, key, meta) for ext in self.kind.zip_formats]


# --- file names ---------------------------------------------------------------------------------------------------


def group_file(group_id: str, ext: str = "pdf") -> str:
    """``planner report``'s name for a group's document (its id)."""
    return fitted_name(group_id, f".{ext}")


def member_file(need_id: str, ext: str = "pdf") -> str:
    """``planner report``'s name for a member's notice (member- and the need id)."""
    return fitted([(need_id, True)], prefix="member-", suffix=f".{ext}")


def _category(instance: Instance, category_id: str) -> str:
    return (
        instance.categories[category_id].name.split("（", 1)[0] if category_id in instance.categories else category_id
    )


def _group(plan: SettledPlan, group_id: str) -> SettledGroup:
    return next(g for g in plan.groups if g.id == group_id)


def _joint(plan: SettledPlan) -> list[SettledGroup]:
    return [g for g in plan.groups if g.mode != "standalone"]


def _in_mode(mode: str) -> Callable[[Instance, SettledPlan, str], bool]:
    """A group's document that only groups of one mode have: the 協定書 (lead: one contract, 負担金 between the
    bodies) or the 覚書 (unified: each body contracts on its own, nothing owed between them)."""
    return lambda instance, plan, key: any(g.id == key and g.mode == mode for g in plan.groups)


def _whole_plan_files(kind: DocumentKind) -> Callable[[Instance, SettledPlan, str], list[str]]:
    return lambda instance, plan, key: [f"{kind.label}.{ext}" for ext in kind.zip_formats]


def _group_files(kind: DocumentKind) -> Callable[[Instance, SettledPlan, str], list[str]]:
    """Folders by kind, names by category, lead, year and group id."""

    def files(instance: Instance, plan: SettledPlan, key: str) -> list[str]:
        g = _group(plan, key)
        parts = [
            (_category(instance, g.category), True),
            (instance.bodies[g.lead_body].name, True),
            (str(g.start_year), False),
            (g.id, False),
        ]
        label = kind.label_for(g.mode)
        return [fitted(parts, prefix=f"{label}/", suffix=f".{ext}") for ext in kind.zip_formats]

    return files


def _member_files(instance: Instance, plan: SettledPlan, key: str) -> list[str]:
    need = instance.need(key)
    body = instance.bodies[need.body]
    parts = [
        (body.code, False),
        (body.name, True),
        (_category(instance, need.category), True),
        (str(need.start_year), False),
    ]
    kind = KINDS["member"]
    label = kind.label_for(next((g.mode for g in plan.groups if key in g.members), "lead"))
    return [fitted(parts, prefix=f"{label}/", suffix=f".{ext}") for ext in kind.zip_formats]


def _statement_files(instance: Instance, plan: SettledPlan, key: str) -> list[str]:
    body = instance.bodies[key]
    kind = KINDS["statement"]
    return [
        fitted([(body.code, False), (body.name, True)], prefix=f"{kind.label}/", suffix=f".{ext}")
        for ext in kind.zip_formats
    ]


def _finance_files(instance: Instance, plan: SettledPlan, key: str) -> list[str]:
    body = instance.bodies[key]
    kind = KINDS["finance"]
    return [
        fitted([(body.code, False), (body.name, True)], prefix=f"{kind.label}/", suffix=f".{ext}")
        for ext in kind.zip_formats
    ]


def _plan_bodies(instance: Instance, plan: SettledPlan) -> list[str]:
    return sorted({instance.need(n).body for g in plan.groups for n in g.members})


def _group_bodies(instance: Instance, plan: SettledPlan, key: str) -> set[str]:
    return {instance.need(n).body for n in _group(plan, key).members}


def _has_group(instance: Instance, plan: SettledPlan, key: str) -> bool:
    return any(g.id == key for g in plan.groups)


def _with_workbooks(name: Callable[[str, str], str]) -> Callable[[str, str, bool], str | None]:
    """A kind whose workbooks ``planner report`` writes only when asked (--xlsx)."""
    return lambda key, zip_name, workbooks: (
        None if zip_name.endswith(".xlsx") and not workbooks else name(key, zip_name.rsplit(".", 1)[1])
    )


RENDERERS: dict[str, KindRenderer] = {
    r.kind.name: r
    for r in (
        KindRenderer(
            KINDS["summary"],
            keys=lambda plan, instance: [""],
            bodies=lambda instance, plan, key: set(),
            exists=lambda instance, plan, key: key == "",
            files=_whole_plan_files(KINDS["summary"]),
            downloads={
                "pdf": lambda i, p, k, m: pdf.summary_pdf(i, p, m),
                "xlsx": lambda i, p, k, m: xlsx.summary_workbook(i, p, m),
            },
            report_file=_with_workbooks(lambda key, ext: f"summary.{ext}"),
            whole_html=lambda i, p, k, m: pdf.summary_html(i, p, m),
        ),
        KindRenderer(
            KINDS["group"],
            keys=lambda plan, instance: [g.id for g in _joint(plan)],
            bodies=_group_bodies,
            exists=_has_group,
            files=_group_files(KINDS["group"]),
            downloads={"pdf": pdf.group_pdf, "xlsx": xlsx.group_workbook},
            report_file=_with_workbooks(group_file),
            batch_html=pdf.group_html,
        ),
        KindRenderer(
            KINDS["member"],
            keys=lambda plan, instance: [nid for g in _joint(plan) for nid in g.members],
            bodies=lambda instance, plan, key: {instance.need(key).body},
            exists=lambda instance, plan, key: (
                key in instance.needs_by_id and any(key in g.members for g in plan.groups)
            ),
            files=_member_files,
            downloads={"pdf": pdf.member_pdf, "xlsx": xlsx.member_workbook},
            report_file=_with_workbooks(member_file),
            in_report="members",
            batch_html=pdf.member_html,
        ),
        KindRenderer(
            KINDS["budget"],
            keys=lambda plan, instance: [] if instance is None else [""],
            bodies=lambda instance, plan, key: set(),
            exists=lambda instance, plan, key: key == "",
            files=_whole_plan_files(KINDS["budget"]),
            downloads={
                "pdf": lambda i, p, k, m: budget_statements.budget_pdf(i, p, m),
                "xlsx": lambda i, p, k, m: budget_statements.budget_workbook(i, p, m),
            },
            # 年度別予算総括表.pdf and .xlsx, at the top as in the ZIP, the workbook always (the finance sections')
            report_file=lambda key, zip_name, workbooks: zip_name,
            whole_html=lambda i, p, k, m: budget_statements.budget_html(i, p, m),
        ),
        KindRenderer(
            KINDS["agreement"],
            keys=lambda plan, instance: [] if instance is None else [g.id for g in plan.groups if g.mode == "lead"],
            bodies=_group_bodies,
            exists=_in_mode("lead"),
            files=_group_files(KINDS["agreement"]),
            downloads={"pdf": agreement.agreement_pdf, "docx": agreement.agreement_docx},
            # planner report writes the drafts as the ZIP holds them: 協定書案/RPA_松本市_2026_rpa-2026-1.pdf, .docx
            report_file=lambda key, zip_name, workbooks: zip_name,
            whole_html=agreement.agreement_html,
        ),
        KindRenderer(
            KINDS["memorandum"],
            keys=lambda plan, instance: [] if instance is None else [g.id for g in plan.groups if g.mode == "unified"],
            bodies=_group_bodies,
            exists=_in_mode("unified"),
            files=_group_files(KINDS["memorandum"]),
            downloads={"pdf": memorandum.memorandum_pdf, "docx": memorandum.memorandum_docx},
            report_file=lambda key, zip_name, workbooks: zip_name,
            whole_html=memorandum.memorandum_html,
        ),
        KindRenderer(
            KINDS["statement"],
            keys=lambda plan, instance: [] if instance is None else _plan_bodies(instance, plan),
            bodies=lambda instance, plan, key: {key},
            exists=lambda instance, plan, key: key in _plan_bodies(instance, plan),
            files=_statement_files,
            downloads={"pdf": statements.statement_pdf, "xlsx": statements.statement_workbook},
            report_file=lambda key, zip_name, workbooks: f"statements/{PurePosixPath(zip_name).name}",
            batch_html=lambda i, p, k, m: statements.statement_html(statements.statement_view(i, p, k, m)),
        ),
        KindRenderer(
            KINDS["finance"],
            keys=lambda plan, instance: [] if instance is None else budget_statements.budget_bodies(instance, plan),
            bodies=lambda instance, plan, key: {key},
            exists=lambda instance, plan, key: key in budget_statements.budget_bodies(instance, plan),
            files=_finance_files,
            downloads={"pdf": budget_statements.finance_pdf, "xlsx": budget_statements.finance_workbook},
            # planner report: finance/団体コード_団体名.pdf and .xlsx (the workbook always: the finance sections')
            report_file=lambda key, zip_name, workbooks: f"finance/{PurePosixPath(zip_name).name}",
            batch_html=lambda i, p, k, m: budget_statements.finance_html(budget_statements.budget_view(i, p, k, m)),
        ),
    )
}
assert RENDERERS.keys() == KINDS.keys(), "every kind declared in planner.reports.kinds has its renderers here"


def renderer(name: str) -> KindRenderer:
    """The renderers of the kind called ``name``; KeyError for an unknown one."""
    return RENDERERS[name]
