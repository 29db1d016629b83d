"""The form of a prefecture's document settings (発行者・担当・連絡先・文書番号の記号)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional

from planner.services.document_settings import LABELS, LIMITS

_HINTS = {
    "issuer_title": "文書の発行者として表示します（例：長野県 企画振興部 DX推進課）。",
    "contact_person": "例：共同調達担当 信州 太郎",
    "contact": "電話番号・メールアドレスなど（例：026-000-0000　dx@pref.example.lg.jp）",
    "number_prefix": "文書番号の先頭に付けます（例：長DX → 長DX第3-2号）。",
}


def _field(key: str) -> StringField:
    return StringField(
        LABELS[key],
        description=_HINTS[key],
        validators=[
            Optional(),
            Length(max=LIMITS[key], message=f"{LABELS[key]}は{LIMITS[key]}文字以内で入力してください"),
        ],
    )


class DocumentSettingForm(FlaskForm):
    issuer_title = _field("issuer_title")
    contact_person = _field("contact_person")
    contact = _field("contact")
    number_prefix = _field("number_prefix")
