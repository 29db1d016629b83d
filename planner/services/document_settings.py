"""A prefecture's document control settings (issuer, 担当, 連絡先, 文書番号の記号) and the data sources the documents
cite, turned into the reports' :class:`~planner.reports.control.DocumentControl`."""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from planner.db.models import DocumentSetting, utcnow
from planner.db.models import Plan as PlanRow
from planner.reports.control import (
    DocumentControl,
    draft_control,
    release_number,
)
from planner.services.access import Actor

from . import plan_lifecycle
from .audit import record

# Where the documents' issuer and data sources are read lives in publication (which the lifecycle uses at
# publication without importing this module, which builds on the lifecycle); their names here stay for callers.
from .publication import current_data_source as data_source
from .publication import plan_issuer
from .publication import prefecture_issuer as issuer

__all__ = ["data_source", "issuer"]

LIMITS = {"issuer_title": 120, "contact_person": 120, "contact": 200, "number_prefix": 20}
LABELS = {
    "issuer_title": "発行者（所属）",
    "contact_person": "担当",
    "contact": "連絡先",
    "number_prefix": "文書番号の記号",
}


class SettingError(ValueError):
    pass


def setting_row(session: Session, prefecture_code: str) -> DocumentSetting:
    return session.get(DocumentSetting, prefecture_code) or DocumentSetting(prefecture_code=prefecture_code)


def save(session: Session, prefecture_code: str, values: dict[str, str], user: Actor) -> DocumentSetting:
    """Store the settings (one transaction, audited). Values are stripped; over-long ones are refused by name."""
    clean = {}
    for key, limit in LIMITS.items():
        text = (values.get(key) or "").strip()
        if len(text) > limit:
            raise SettingError(f"{LABELS[key]}は{limit}文字以内で入力してください（{len(text)}文字）")
        clean[key] = text
    row = setting_row(session, prefecture_code)
    before = {k: getattr(row, k) for k in LIMITS}
    for key, text in clean.items():
        setattr(row, key, text)
    row.updated_at = utcnow()
    row.updated_by = user.id
    session.add(row)
    record(
        session,
        user_id=user.id,
        action="update",
        entity="document_setting",
        entity_id=prefecture_code,
        prefecture_code=prefecture_code,
        before=before,
        after=clean,
        detail="文書設定（発行者・担当・連絡先）を更新",
    )
    session.commit()
    return row


@dataclass(frozen=True)
class PlanVersion:
    """The plan's place in the lifecycle as the documents print it."""

    label: str  # 計画 No.3 第2版
    state_label: str  # 確定案（未公表） | 公表中 | 旧版
    number: str  # the plan's 文書番号 (長DX第3-2号)
    draft: bool  # not yet published: the documents carry the 案 watermark
    notices: tuple[str, ...] = ()


def plan_version(session: Session, plan_id: int, prefecture_code: str | None) -> PlanVersion | None:
    """The adopted version of ``plan_id`` (planner.services.plan_lifecycle), or None for a draft (試算)."""
    info = plan_lifecycle.release_info(session, plan_id)
    if info.release is None or info.series is None:
        return None
    prefix = plan_issuer(session, prefecture_code, plan_id).number_prefix
    number = info.release.document_number or release_number(prefix, info.series.number, info.release.version)
    notices: tuple[str, ...] = ()
    if info.changes:
        notices = (
            "この計画の公表後に入力が変わっています（"
            + "、".join(c.text for c in info.changes[:8])
            + (f" ほか{len(info.changes) - 8}件" if len(info.changes) > 8 else "")
            + "）。",
        )
    if info.state == "superseded":
        notices += ("この版は新しい版に置き換えられた旧版です。",)
    if info.state == "withdrawn":
        notices += (f"この版は取り下げられました（理由：{info.release.withdrawal_reason}）。",)
    plan_doc = session.exec(select(col(PlanRow.plan_doc)).where(col(PlanRow.id) == plan_id)).first()
    issued_on = plan_lifecycle.jst_date(info.release.published_at) if info.release.published_at else None
    warning = plan_lifecycle.supplementary_budget_warning(plan_doc or {}, issued_on or plan_lifecycle.today_jst())
    if warning:
        notices += (warning,)
    return PlanVersion(info.label, info.state_label, number, draft=info.state == "adopted", notices=notices)


def document_control(
    session: Session, prefecture_code: str | None, plan_id: int, version: PlanVersion | None = None
) -> DocumentControl:
    who = plan_issuer(session, prefecture_code, plan_id)
    source = data_source(session)
    if version is None:
        version = plan_version(session, plan_id, prefecture_code)
    if version is None:
        return draft_control(str(plan_id), who, source)
    return DocumentControl(
        plan_label=version.label,
        state_label=version.state_label,
        base_number=version.number,
        draft=version.draft,
        issuer=who,
        data_source=source,
        notices=version.notices,
    )
