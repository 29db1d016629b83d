"""Forms of the bodies pages: one body's flags, the bulk flags import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import BooleanField, HiddenField, IntegerField
from wtforms.validators import InputRequired
from wtforms.widgets import HiddenInput


class FlagsForm(FlaskForm):
    disadvantaged = BooleanField("条件不利地域")
    has_data_plan = BooleanField("官民データ活用推進計画あり")
    no_allocation_tax = BooleanField("普通交付税の不交付団体")
    version = IntegerField(widget=HiddenInput(), validators=[InputRequired("画面を開き直してから保存してください")])


class FlagsUploadForm(FlaskForm):
    file = FileField(
        "ファイル（CSV または Excel）",
        validators=[
            FileRequired("ファイルを選んでください"),
            FileAllowed(["csv", "txt", "xlsx", "xlsm"], "CSV（.csv）または Excel（.xlsx）のファイルを選んでください"),
        ],
        description="見出し行に 団体コード と 条件不利地域・官民データ活用推進計画・不交付団体 の列（1/0、○/×、あり/なし）。"
        "空欄のセルは変更しません。",
    )


class FlagsConfirmForm(FlaskForm):
    """The previewed file travels back in the form; it is parsed and checked again before anything is written."""

    file_name = HiddenField()
    content = HiddenField()
    basis = HiddenField()  # planner.services.body_admin.flags_fingerprint when the preview was made
