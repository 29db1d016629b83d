"""The document kinds: what each kind of document is, declared once.

A :class:`DocumentKind` says what the kind is called (``name``, as URLs and the ZIP's listing carry it), its label
(the file and folder name, 負担金算定書), its 文書番号 code, what its key is (the plan, a group, a need or a body),
who may get it besides the prefecture's coordinators and administrators (``audience``, answered by
planner.services.access: ``"plan"`` the whole plan's readers only, ``"group"`` the staff of the group's member
bodies (access.sees_group), ``"body"`` the staff of the one body it is about (access.sees_member)), the formats it is
downloaded in, which of them go into the ZIP, and how it is batched. How a kind is rendered is
planner.reports.kind_renderers (kept apart so that this table, which planner.reports.control reads for labels and
codes, imports no renderer).

Adding a kind: an entry here, its renderers in kind_renderers, and the module and template that make it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Audience = Literal["plan", "group", "body"]
KeyOf = Literal["plan", "group", "need", "body"]


@dataclass(frozen=True)
class DocumentKind:
    name: str  # summary | budget | group | agreement | memorandum | member | statement | finance
    label: str  # the documents' category: folder and file names, download names
    code: str  # the 文書番号's suffix (総, 算, ...)
    key_of: KeyOf  # what a document's key names: nothing (the whole plan), a group id, a need id, a body code
    audience: Audience
    downloads: tuple[str, ...]  # the formats of a single download (the web's document route)
    zip_formats: tuple[str, ...]  # the formats the ZIP and planner report carry, in this order
    batch_size: int | None = None  # laid out many to one WeasyPrint layout (planner.reports.batch), this many a batch
    cost: float = 1.0  # rough CPU seconds a document, to start the longest work first
    # A group's or a need's document in 仕様統一方式 is named for what it holds there: each body's own expected
    # contract, no 負担金 between bodies (the document's own title: records.GroupReport.document_name)
    unified_label: str | None = None

    def label_for(self, mode: str) -> str:
        """The folder and file name of a document of a group in ``mode``."""
        return self.unified_label if mode == "unified" and self.unified_label else self.label

    @property
    def whole_plan(self) -> bool:
        return self.key_of == "plan"


KINDS: dict[str, DocumentKind] = {
    k.name: k
    for k in (
        DocumentKind("summary", "共同調達計画まとめ", "総", "plan", "plan", ("pdf", "xlsx"), ("pdf", "xlsx"), cost=5.0),
        DocumentKind("budget", "年度別予算総括表", "予", "plan", "plan", ("pdf", "xlsx"), ("pdf", "xlsx"), cost=5.0),
        DocumentKind(
            "group",
            "負担金算定書",
            "算",
            "group",
            "group",
            ("pdf", "xlsx"),
            ("pdf", "xlsx"),
            8,
            1.2,
            "契約予定額（見込）算定書",
        ),
        # the drafts as PDF to read and file, and as Word to edit: one text (planner.reports.drafts)
        DocumentKind("agreement", "協定書案", "協", "group", "group", ("pdf", "docx"), ("pdf", "docx"), cost=1.0),
        DocumentKind("memorandum", "覚書案", "覚", "group", "group", ("pdf", "docx"), ("pdf", "docx"), cost=0.6),
        DocumentKind(
            "member",
            "負担額通知",
            "通",
            "need",
            "body",
            ("pdf", "xlsx"),
            ("pdf",),
            20,
            0.4,
            "契約予定額（見込）のお知らせ",
        ),
        DocumentKind("statement", "年度別負担額", "年", "body", "body", ("pdf", "xlsx"), ("pdf",), 20, 0.35),
        # a body's budget by its role (幹事団体, 参加団体, 仕様統一方式): the finance section's working paper, so the
        # workbook goes into the ZIP too
        DocumentKind("finance", "予算見積資料", "見", "body", "body", ("pdf", "xlsx"), ("pdf", "xlsx"), 20, 0.4),
    )
}


def kind(name: str) -> DocumentKind:
    """The kind called ``name``; KeyError for an unknown one."""
    return KINDS[name]
