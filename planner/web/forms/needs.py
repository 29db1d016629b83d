"""Forms of the needs pages: register/edit a need, change its status, upload a file to import."""

from __future__ import annotations

from flask_wtf import FlaskForm
from flask_wtf.file import FileField
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional, ValidationError

from planner.domain.need_fields import field as need_field
from planner.domain.vocabulary import fiscal_year_label
from planner.importers.needs import (
    FIRST_YEAR,
    LAST_YEAR,
    MAX_NOTES,
    MAX_VOLUME,
    accepted_start_years,
    baseline_limits,
    volume_value,
)

BASELINE_LIMITS = baseline_limits()


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
    body_code = ChoiceField(need_field("body").label, choices=[], validators=[DataRequired("団体を選んでください")])
    category_id = ChoiceField(
        need_field("category").label, choices=[], validators=[DataRequired("分野を選んでください")]
    )
    # the labels and limits are the need fields' (planner.domain.need_fields)
    volume = StringField(
        need_field("volume").form_label,
        validators=[DataRequired("利用量を入力してください")],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
        description="分野ごとの単位で入力します（単位は分野の選択に合わせて表示します）。"
        "全角数字・桁区切りのカンマも使えます",
    )
    start_year = ChoiceField(
        need_field("start_year").label,
        coerce=int,
        choices=[],
        validators=[DataRequired("導入希望年度を選んでください")],
    )
    accepts_lead = BooleanField(need_field("accepts_lead").form_label, default=need_field("accepts_lead").default)
    accepts_unified = BooleanField(
        need_field("accepts_unified").form_label, default=need_field("accepts_unified").default
    )
    can_lead = BooleanField(need_field("can_lead").form_label)
    serves_disadvantaged_area = BooleanField(need_field("serves_disadvantaged_area").form_label)
    baseline_minutes_per_unit = StringField(
        need_field("baseline_minutes_per_unit").form_label,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    baseline_hours_per_year = StringField(
        need_field("baseline_hours_per_year").form_label,
        validators=[Optional()],
        render_kw={"inputmode": "decimal", "autocomplete": "off"},
    )
    notes = TextAreaField(
        need_field("notes").label,
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
        self._baseline(field, BASELINE_LIMITS["baseline_minutes_per_unit"])

    def validate_baseline_hours_per_year(self, field) -> None:
        self._baseline(field, BASELINE_LIMITS["baseline_hours_per_year"])

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
