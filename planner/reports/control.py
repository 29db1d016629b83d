"""Document control (文書管理): what every PDF, workbook and Word draft says about itself.

文書番号, the plan's number and version (計画 No.3 第2版) or that it is a draft (試算), the issue date in JST (和暦), the
issuing body's title with its 担当 and 連絡先 (a prefecture's setting), and where the population and fiscal-index
figures come from (総務省, used under the 政府標準利用規約). Drafts carry a 案 watermark.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from planner.domain.vocabulary import today_jst, wareki_date

from .kinds import KINDS
from .names import MAX_NAME_BYTES, fitted

DATA_TERMS = "政府標準利用規約（第2.0版）"
DEFAULT_DATA_SOURCE = (
    "人口：総務省「住民基本台帳に基づく人口、人口動態及び世帯数」、財政力指数：総務省「地方公共団体の主要財政指標一覧」"
    f"（{DATA_TERMS}に基づき利用・加工）"
)

# The documents' categories, as file names and 文書番号 suffixes carry them (declared in planner.reports.kinds).
KIND_LABELS = {k.name: k.label for k in KINDS.values()}
KIND_CODES = {k.name: k.code for k in KINDS.values()}


@dataclass(frozen=True)
class Issuer:
    """The prefecture's setting: who issues the documents and whom to ask."""

    title: str = ""  # 長野県 企画振興部 DX推進課
    person: str = ""  # 担当: 共同調達担当 信州 太郎
    contact: str = ""  # 連絡先: 026-000-0000 / dx@pref.example.lg.jp
    number_prefix: str = ""  # 文書番号の記号: 長DX

    @property
    def configured(self) -> bool:
        return bool(self.title or self.person or self.contact)


@dataclass(frozen=True)
class DocumentControl:
    plan_label: str = "試算"  # 計画 No.3 第2版 | 試算（計画 12）
    state_label: str = "試算"  # 試算 | 確定案（未公表） | 公表中 | 旧版
    base_number: str = ""  # the plan's 文書番号 (without the document's own suffix)
    draft: bool = True
    issuer: Issuer = field(default_factory=Issuer)
    issued_on: date = field(default_factory=today_jst)
    data_source: str = DEFAULT_DATA_SOURCE
    notices: tuple[str, ...] = ()  # e.g. the inputs that changed since the plan was published, one line each

    @property
    def issued_wareki(self) -> str:
        return wareki_date(self.issued_on)

    @property
    def plan_text(self) -> str:
        """計画 No.3 第2版（公表中）, or 試算（計画 12） where the label already says the state."""
        return self.plan_label if self.state_label in self.plan_label else f"{self.plan_label}（{self.state_label}）"

    @property
    def issuer_title(self) -> str:
        return self.issuer.title or "（発行者未設定：都道府県の文書設定で登録してください）"

    def number(self, kind: str, key: str = "") -> str:
        """The document's own 文書番号: the plan's number, the kind's code and the item (group or body)."""
        base = self.base_number or "（番号なし）"
        suffix = KIND_CODES.get(kind, kind)
        return f"{base}-{suffix}{('-' + key) if key else ''}"

    def lines(self, kind: str, key: str = "") -> list[tuple[str, str]]:
        """(label, text) in the order the documents print them."""
        out = [
            ("文書番号", self.number(kind, key)),
            ("計画", self.plan_text),
            ("発行日", self.issued_wareki),
            ("発行", self.issuer_title),
        ]
        if self.issuer.person:
            out.append(("担当", self.issuer.person))
        if self.issuer.contact:
            out.append(("連絡先", self.issuer.contact))
        return out

    def issued_by(self, title: str) -> DocumentControl:
        """The same document control with another issuer: a group's 算定書 and notices are issued by its lead, so
        the prefecture's 担当 and 連絡先 do not stand beside it (one issuer a document); the 文書番号's prefix stays."""
        return replace(self, issuer=Issuer(title=title, number_prefix=self.issuer.number_prefix))

    def with_date(self, day: date) -> DocumentControl:
        return replace(self, issued_on=day)


def draft_control(
    plan_ref: str = "",
    issuer: Issuer | None = None,
    data_source: str = DEFAULT_DATA_SOURCE,
    issued_on: date | None = None,
) -> DocumentControl:
    """A draft's control block: no version, a 案 watermark, the number made of the plan reference."""
    label = f"試算（計画 {plan_ref}）" if plan_ref else "試算"
    issuer = issuer or Issuer()
    base = f"{issuer.number_prefix or '試'}試算{plan_ref}" if plan_ref else ""
    return DocumentControl(
        plan_label=label,
        state_label="試算",
        base_number=base,
        draft=True,
        issuer=issuer,
        issued_on=issued_on or today_jst(),
        data_source=data_source,
    )


def release_number(prefix: str, series_number: int, version: int) -> str:
    """An adopted plan's 文書番号: 長DX第3-2号 (series 3, version 2)."""
    return f"{prefix or '計画'}第{series_number}-{version}号"


def file_name(kind: str, *parts: str) -> str:
    """A file name from the document's category and the names it is about (body, category), never internal ids
    alone: 年度別負担額_202011_長野市."""
    # room for the extension the caller adds (".docx")
    return fitted([(KIND_LABELS.get(kind, kind), False)] + [(p, True) for p in parts if p], limit=MAX_NAME_BYTES - 8)
