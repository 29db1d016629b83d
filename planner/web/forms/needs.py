"""Forms of the needs pages: register/edit a need, change its status, upload a file to import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from planner.domain.vocabulary import fiscal_year_label
from planner.importers.needs import FIRST_YEAR, LAST_YEAR, MAX_NOTES, MAX_VOLUME, accepted_start_years, volume_value


class ChoiceField(SelectField):
    """A select whose "not one of the choices" message is in Japanese (WTForms' own is English)."""

    def pre_validate(self, form) -> None:
        if self.validate_choice and self.data not in {value for value, _label in self.choices or []}:
            raise ValidationError("一覧から選んでください")


def year_choices(around: int, extra: int | None = None, *, wide: bool = False) -> list[tuple[int, str]]:
    """Start years to choose from: the window the import accepts too (accepted_start_years), or with ``wide`` (the
    list's filter) ten years ahead; ``extra`` keeps a need's own year on its edit form."""
    years = (
        set(range(max(FIRST_YEAR, around - 1), min(LAST_YEAR, around + 10) + 1))
        if wide
        else set(accepted_start_years(around))
    )
    if extra:
        years.add(extra)
    return [(y, fiscal_year_label(y)) for y in sorted(years)]


class NeedForm(FlaskForm):
    body_code = ChoiceField("団体", choices=[], validators=[DataRequired("団体を選んでください")])
    category_id = ChoiceField("分野", choices=[], validators=[DataRequired("分野を選んでください")])
    volume = StringField(
        "利用量（年間）",
        validators=[DataRequired("利用量を入力してください")],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
        description="分野ごとの単位で入力します（単位は分野の選択に合わせて表示します）。"
        "全角数字・桁区切りのカンマも使えます",
    )
    start_year = ChoiceField(
        "導入希望年度", coerce=int, choices=[], validators=[DataRequired("導入希望年度を選んでください")]
    )
    accepts_lead = BooleanField("幹事方式（幹事団体がまとめて契約する方式）での共同調達に参加できる", default=True)
    accepts_unified = BooleanField(
        "仕様統一方式（仕様をそろえて各団体が契約する方式）での共同調達に参加できる", default=True
    )
    can_lead = BooleanField("幹事団体を引き受けられる")
    serves_disadvantaged_area = BooleanField(
        "条件不利地域で住民生活の維持・向上に必要なサービスを提供する（住民向けサービス）"
    )
    baseline_minutes_per_unit = StringField(
        "現状の作業時間（1単位あたり・分）",
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    baseline_hours_per_year = StringField(
        "現状の年間作業時間（時間）", validators=[Optional()], render_kw={"inputmode": "decimal", "autocomplete": "off"}
    )
    notes = TextAreaField(
        "備考",
        validators=[Optional(), Length(max=MAX_NOTES, message=f"備考は{MAX_NOTES}文字以内で入力してください")],
        render_kw={"rows": 3},
    )
    version = HiddenField()

    def validate_volume(self, field) -> None:
        value = volume_value(field.data)
        if value is None:
            raise ValidationError("利用量は数値で入力してください（例: 1,200）")
        if value <= 0:
            raise ValidationError("利用量は0より大きい数値にしてください")
        if value > MAX_VOLUME:
            raise ValidationError(f"利用量が大きすぎます（{MAX_VOLUME:,}以下）")
        self.volume_number = value

    def _baseline(self, field, largest: float) -> None:
        if not (field.data or "").strip():
            field.number = None
            return
        value = volume_value(field.data)
        if value is None or value <= 0:
            raise ValidationError("0より大きい数値で入力してください（わからなければ空欄のままで構いません）")
        if value > largest:
            raise ValidationError(f"値が大きすぎます（{largest:,.0f}以下）")
        field.number = value

    def validate_baseline_minutes_per_unit(self, field) -> None:
        self._baseline(field, 1_000_000)

    def validate_baseline_hours_per_year(self, field) -> None:
        self._baseline(field, 10_000_000)

    def baseline_values(self) -> dict:
        """The optional baseline figures as numbers (None when blank or not yet valid)."""
        out = {}
        for name in ("baseline_minutes_per_unit", "baseline_hours_per_year"):
            field = self[name]
            number = getattr(field, "number", None)
            if number is None and (field.data or "").strip():
                number = volume_value(field.data)
                number = number if number is not None and number > 0 else None
            out[name] = number
        return out

    def values(self) -> dict:
        return {
            "category_id": self.category_id.data,
            "volume": self.volume_number,
            "start_year": self.start_year.data,
            "accepts_lead": bool(self.accepts_lead.data),
            "accepts_unified": bool(self.accepts_unified.data),
            "can_lead": bool(self.can_lead.data),
            "serves_disadvantaged_area": bool(self.serves_disadvantaged_area.data),
            "notes": (self.notes.data or "").strip(),
            **self.baseline_values(),
        }


class StatusForm(FlaskForm):
    version = HiddenField()


class ImportForm(FlaskForm):
    file = FileField("取り込むファイル（CSV または Excel .xlsx）")

    def validate_file(self, field) -> None:
        upload = field.data
        if upload is None or not getattr(upload, "filename", ""):
            raise ValidationError("ファイルを選んでください")
        name = upload.filename.lower()
        if not name.endswith((".csv", ".xlsx", ".txt")):
            raise ValidationError(
                "CSV（.csv）または Excel（.xlsx）ファイルを選んでください"
                + ("。旧形式の .xls は Excel で .xlsx に保存し直してください" if name.endswith(".xls") else "")
            )


class ConfirmImportForm(FlaskForm):
    token = HiddenField()
