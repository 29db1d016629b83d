"""Forms of the administration pages: users, official data, price book, subsidy rules."""

from __future__ import annotations

import math

from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired, MultipleFileField
from wtforms import (
    BooleanField,
    FloatField,
    Form,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp, ValidationError

from planner.domain.instance_io import MAX_MEMBERS, MAX_PRICE_YEN
from planner.services.access import ADMIN, ROLE_LABELS
from planner.services.users import MIN_PASSWORD_LENGTH


class UserForm(FlaskForm):
    username = StringField(
        "ログイン名",
        validators=[
            DataRequired("ログイン名を入力してください"),
            Regexp(
                r"^[A-Za-z0-9][A-Za-z0-9._@-]{1,79}$",
                message="ログイン名は英数字と . _ @ - の 2〜80 文字にしてください",
            ),
        ],
    )
    display_name = StringField(
        "表示名", validators=[Optional(), Length(max=80, message="表示名は 80 文字以内にしてください")]
    )
    # Administrators are made on the command line only (planner create-user --role admin), never on a page.
    role = SelectField("役割", choices=[(k, v) for k, v in ROLE_LABELS.items() if k != ADMIN], validate_choice=False)
    prefecture_code = SelectField("都道府県（都道府県担当者）", choices=[], validate_choice=False)
    body_code = StringField(
        "団体コード（市区町村担当者）",
        validators=[Optional(), Regexp(r"^\d{6}$", message="団体コードは 6 桁の数字で入力してください")],
    )

    def validate_role(self, field):
        if field.data == ADMIN:
            raise ValidationError("管理者は画面では作成できません（planner create-user --role admin で作成します）")
        if field.data not in dict(field.choices):
            raise ValidationError("役割を選んでください")

    password = PasswordField(
        "初期パスワード",
        validators=[Optional()],
        description=f"{MIN_PASSWORD_LENGTH} 文字以上。空欄なら自動で作り、作成後に一度だけ表示します。",
        render_kw={"autocomplete": "new-password"},
    )


class UserEditForm(FlaskForm):
    display_name = StringField(
        "表示名", validators=[Optional(), Length(max=80, message="表示名は 80 文字以内にしてください")]
    )
    role = SelectField("役割", choices=list(ROLE_LABELS.items()))
    prefecture_code = SelectField("都道府県（都道府県担当者）", choices=[], validate_choice=False)
    body_code = StringField(
        "団体コード（市区町村担当者）",
        validators=[Optional(), Regexp(r"^\d{6}$", message="団体コードは 6 桁の数字で入力してください")],
    )


class PasswordResetForm(FlaskForm):
    password = PasswordField(
        "新しいパスワード",
        validators=[Optional()],
        description=f"{MIN_PASSWORD_LENGTH} 文字以上。空欄なら自動で作り、一度だけ表示します。",
        render_kw={"autocomplete": "new-password"},
    )


class OfficialUploadForm(FlaskForm):
    files = MultipleFileField(
        "総務省のファイル（xlsx、複数可）",
        validators=[
            FileAllowed(["xlsx", "xls", "xlsm"], "総務省が公表している Excel ファイル（.xlsx）を選んでください")
        ],
        description="住民基本台帳に基づく人口（市区町村別）、全市町村の主要財政指標、全都道府県の主要財政指標。"
        "ファイルの形式から種類を判定します。",
    )


def parse_lines(text: str) -> list[list[float]]:
    """'12000, 0.8' per line -> [[12000.0, 0.8], ...] (the volume-discount lines cost = alpha + beta × volume)."""
    lines = []
    for n, raw in enumerate((text or "").replace("，", ",").splitlines(), start=1):
        raw = raw.strip()
        if not raw:
            continue
        parts = [p.strip() for p in raw.split(",")]
        if len(parts) != 2:
            raise ValueError(f"{n}行目: 「切片, 傾き」の 2 つの数をカンマで区切って入力してください")
        try:
            alpha, beta = float(parts[0]), float(parts[1])
        except ValueError:
            raise ValueError(f"{n}行目: 数ではない値があります（{raw}）") from None
        if not (math.isfinite(alpha) and math.isfinite(beta)) or max(abs(alpha), abs(beta)) > MAX_PRICE_YEN:
            raise ValueError(f"{n}行目: 切片と傾きは {MAX_PRICE_YEN:,} 以下の数にしてください（{raw[:40]}）")
        lines.append([int(alpha) if alpha.is_integer() else alpha, int(beta) if beta.is_integer() else beta])
    return lines


def format_lines(lines) -> str:
    return "\n".join(f"{a}, {b}" for a, b in lines or [])


class LinesField(TextAreaField):
    def process_formdata(self, valuelist):
        super().process_formdata(valuelist)
        try:
            self.parsed = parse_lines(self.data or "")
        except ValueError as e:
            self.parsed = None
            self.parse_error = str(e)
        else:
            self.parse_error = None

    def pre_validate(self, form):
        if getattr(self, "parse_error", None):
            raise ValidationError(self.parse_error)


class PriceBookMetaForm(FlaskForm):
    version = StringField(
        "新しい版名",
        validators=[Optional(), Length(max=40, message="版名は 40 文字以内にしてください")],
        description="空欄なら元の版名に番号を足して作ります（例 ref-2025-2）",
    )
    label = StringField(
        "表示ラベル", validators=[DataRequired("表示ラベルを入力してください（例 参考値）"), Length(max=40)]
    )
    source = StringField("出典", validators=[Optional(), Length(max=300)])
    note = TextAreaField("変更の説明", validators=[Optional(), Length(max=2000)])
    make_current = BooleanField("作成した版を現行にする", default=True)


def price_entry_form_class(joint: bool):
    """Fields of one category × mode; max_members only for the joint modes."""
    yen = [
        InputRequired("金額を入力してください"),
        NumberRange(min=0, max=MAX_PRICE_YEN, message=f"0 以上 {MAX_PRICE_YEN:,} 以下の整数（円）にしてください"),
    ]

    class EntryForm(Form):
        fixed_initial = IntegerField("固定初期費", validators=yen)
        fixed_annual = IntegerField("固定年額", validators=yen)
        member_initial = IntegerField("参加団体ごとの初期費", validators=yen)
        member_annual = IntegerField("参加団体ごとの年額", validators=yen)
        per_km_annual = IntegerField("距離（km）あたり年額", validators=yen)
        lines = LinesField("利用量単価の直線（切片, 傾き／1行に1本）")
        if joint:
            max_members = IntegerField(
                "参加団体数の上限",
                validators=[
                    Optional(),
                    NumberRange(
                        min=2,
                        max=MAX_MEMBERS,
                        message=f"2 以上 {MAX_MEMBERS:,} 以下の整数にしてください（空欄は上限なし）",
                    ),
                ],
            )

    return EntryForm


class CorrectionRowForm(Form):
    lower = FloatField("財政力指数の下限（以上）", validators=[Optional()])
    upper = FloatField("上限（未満）", validators=[Optional()])
    coefficient = FloatField(
        "係数", validators=[Optional(), NumberRange(min=0, max=2, message="係数は 0 より大きく 2 以下です")]
    )


class RuleImportForm(FlaskForm):
    file = FileField(
        "補助制度ルールの JSON ファイル",
        validators=[
            FileRequired("取り込む JSON ファイルを選んでください"),
            FileAllowed(["json"], "JSON ファイル（.json）を選んでください"),
        ],
        description="「JSON で書き出す」で保存したファイルを編集したもの。版名（version）は新しい名前にします。",
    )
    make_current = BooleanField("取り込んだ版を現行にする")


class AccountImportForm(FlaskForm):
    file = FileField(
        "利用者の CSV ファイル（UTF-8 または Shift_JIS）",
        validators=[
            FileRequired("CSV ファイルを選んでください"),
            FileAllowed(["csv", "txt"], "CSV ファイル（.csv）を選んでください（Excel なら「CSV」で保存します）"),
        ],
    )
