"""A need's fields, declared once: what each is called, how a needs file heads its column, whether the import may
change it, its limits, and whether it feeds a plan's figures.

Everything that names or lists a need's fields reads this table instead of keeping a list of its own:

- the label table (planner.domain.vocabulary.NEED_FIELD_LABELS), which screens, messages, the import preview, the
  audit log and the publication notice print;
- the publication snapshot and its "inputs changed since publication" notice (planner.domain.input_changes): every
  field with ``figure`` set, under its key in the instance document;
- the needs import (planner.importers.needs: the column headings it reads, a flag's default when the file has no
  column for it, the limits), its preview and the audit of a need's changes (planner.services.needs: the fields a
  user may change);
- the needs export and the import template's headings (planner.services.needs_export, planner.web.needs);
- the need form's labels and limits (planner.web.forms.needs).

``key`` is the stored need's attribute (planner.db.models.Need), except for the three a plan's instance document
spells its own way: ``body`` (stored as body_code), ``category`` (category_id) and ``modes`` (accepts_lead and
accepts_unified together). A file's body and category columns (団体コード, 団体名, 分野ID, 分野) say which need a
row is, and stay with the import.

The table is read when it is used (nothing copies it at import time), so a field added here reaches the label
table and, with ``figure``, the publication snapshot at once (tests/domain/test_need_fields.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

Kind = Literal["body", "category", "number", "year", "modes", "flag", "text", "status"]


@dataclass(frozen=True)
class NeedField:
    key: str
    label: str  # its name everywhere (導入希望年度: a need's start_year, docs/glossary.md)
    kind: Kind
    heading: str = ""  # the needs file's column heading (export, import template, import messages); "": none
    spellings: tuple[str, ...] = ()  # further headings the import reads as this field (besides key and heading)
    form_label: str = ""  # the need form's label where it says more than ``label``
    default: bool | None = None  # a flag's value for a new need when the file has no column for it
    largest: float | None = None  # a number's largest accepted value (import and form)
    editable: bool = False  # a user may change it on a registered need (the form, the import: its preview lists it)
    figure: bool = False  # it changes a plan's figures: the instance document and the publication snapshot hold it

    @property
    def file_label(self) -> str:
        """The name an import message gives the field's column."""
        return self.heading or self.label


FIELDS: dict[str, NeedField] = {
    f.key: f
    for f in (
        NeedField("body", "団体", "body", figure=True),
        NeedField("category", "分野", "category", figure=True),
        NeedField(
            "volume",
            "利用量",
            "number",
            heading="利用量",
            spellings=("数量", "想定利用量"),
            form_label="利用量（年間）",
            largest=100_000_000,
            editable=True,
            figure=True,
        ),
        NeedField(
            "start_year",
            "導入希望年度",
            "year",
            heading="導入希望年度",
            spellings=("開始年度", "導入年度"),  # the words older files head it with
            editable=True,
            figure=True,
        ),
        NeedField("modes", "受け入れる方式", "modes", figure=True),
        NeedField(
            "accepts_lead",
            "幹事方式を受け入れる",
            "flag",
            heading="幹事方式可",
            spellings=("幹事方式",),
            form_label="幹事方式（幹事団体がまとめて契約する方式）での共同調達に参加できる",
            default=True,
            editable=True,
        ),
        NeedField(
            "accepts_unified",
            "仕様統一方式を受け入れる",
            "flag",
            heading="仕様統一可",
            spellings=("仕様統一方式可", "仕様統一方式"),
            form_label="仕様統一方式（仕様をそろえて各団体が契約する方式）での共同調達に参加できる",
            default=True,
            editable=True,
        ),
        NeedField(
            "can_lead",
            "幹事を引き受けられる",
            "flag",
            heading="幹事可",
            spellings=("幹事希望", "幹事を引き受ける"),
            form_label="幹事団体を引き受けられる",
            default=False,
            editable=True,
            figure=True,
        ),
        NeedField(
            "serves_disadvantaged_area",
            "条件不利地域の住民サービス",
            "flag",
            heading="条件不利地域の住民サービス",
            spellings=("住民サービス(条件不利地域)",),
            form_label="条件不利地域で住民生活の維持・向上に必要なサービスを提供する（住民向けサービス）",
            default=False,
            editable=True,
            figure=True,
        ),
        NeedField("notes", "備考", "text", heading="備考", spellings=("note",), editable=True),
        NeedField("status", "状態", "status", heading="状態"),
        NeedField(
            "baseline_minutes_per_unit",
            "現状の作業時間（分/単位）",
            "number",
            heading="現状の作業時間（分/単位）",
            spellings=("現状の1単位あたり作業時間(分)", "現状作業分"),
            form_label="現状の作業時間（1単位あたり・分）",
            largest=1_000_000,
            editable=True,
        ),
        NeedField(
            "baseline_hours_per_year",
            "現状の年間作業時間",
            "number",
            heading="現状の年間作業時間",
            spellings=("現状の年間作業時間(時間)", "現状作業時間"),
            form_label="現状の年間作業時間（時間）",
            largest=10_000_000,
            editable=True,
        ),
    )
}


def field(key: str) -> NeedField:
    """The field called ``key``; KeyError for an unknown one."""
    return FIELDS[key]


def figure_keys() -> tuple[str, ...]:
    """The fields that change a plan's figures, in the table's order (the publication snapshot's need fields)."""
    return tuple(f.key for f in FIELDS.values() if f.figure)


def editable_keys() -> tuple[str, ...]:
    """The fields a user may change on a registered need, in the table's order (the import preview's)."""
    return tuple(f.key for f in FIELDS.values() if f.editable)


def flag_defaults() -> dict[str, bool]:
    """Each yes/no field a file may give, with a new need's value where the file has no column for it."""
    return {f.key: bool(f.default) for f in FIELDS.values() if f.kind == "flag" and f.default is not None}


def heading(key: str) -> str:
    """The needs file's column heading of field ``key``."""
    return FIELDS[key].heading


class Labels(Mapping[str, str]):
    """The label of each field, read from the table when asked (planner.domain.vocabulary.NEED_FIELD_LABELS)."""

    def __getitem__(self, key: str) -> str:
        return FIELDS[key].label

    def __iter__(self) -> Iterator[str]:
        return iter(FIELDS)

    def __len__(self) -> int:
        return len(FIELDS)

    def __repr__(self) -> str:
        return repr(dict(self))
