"""WTForms for scenarios, overrides and the plan comparison."""

from __future__ import annotations

import re

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DecimalField,
    FloatField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError
from wtforms.widgets import CheckboxInput, ListWidget

from planner.domain.vocabulary import CORE_OPTION_LABELS, METHOD_LABELS
from planner.services.scenarios import GEOGRAPHY_LABELS, OVERRIDE_KINDS

CODE_RE = re.compile(r"^\d{6}$")


def split_codes(text: str | None) -> list[str]:
    """Body codes typed or pasted by users: separated by commas, spaces, 、 or new lines; full-width digits allowed."""
    if not text:
        return []
    text = text.translate(str.maketrans("０１２３４５６７８９，、　", "0123456789,, "))
    return list(dict.fromkeys(c for c in re.split(r"[\s,]+", text) if c))


class MultiCheckboxField(SelectMultipleField):
    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


class ActionForm(FlaskForm):
    """A button that changes something: only the CSRF token (and the row version where it matters)."""

    version = HiddenField()


class ScenarioForm(FlaskForm):
    name = StringField("シナリオ名", validators=[DataRequired("シナリオ名を入力してください。"), Length(max=120)])
    prefecture_code = SelectField("都道府県", choices=[], validate_choice=True)
    body_codes = TextAreaField(
        "対象団体（団体コード）",
        validators=[Optional()],
        description="空欄なら都道府県内の全団体。コードをカンマ・空白・改行で区切って入力します。",
    )
    category_ids = MultiCheckboxField(
        "対象分野", choices=[], validators=[Optional()], description="何も選ばなければ全分野"
    )
    is_demo = BooleanField(
        "デモのニーズで計画する",
        default=False,
        description="利用者が登録したニーズの代わりに、「デモ」の印が付いたデモのニーズを計画します（両方を混ぜることは"
        "しません）。デモのシナリオは、デモのデータを読み込み直すとデモのデータと一緒に削除されます。",
    )
    fiscal_year = IntegerField(
        "基準年度（西暦・記録用）",
        default=2026,
        validators=[InputRequired("年度を入力してください。"), NumberRange(2020, 2040)],
        description="計算結果は変わりません。費用・負担額は各グループの導入年度（ニーズの導入希望年度）から計画期間の年数分です。",
    )
    horizon_years = IntegerField(
        "計画期間（年）",
        default=5,
        validators=[InputRequired("計画期間を入力してください。"), NumberRange(1, 15)],
        description="各グループの導入年度から数えた年数です。",
    )
    max_members = IntegerField(
        "1グループの上限団体数",
        validators=[
            Optional(),
            NumberRange(2, 500, "1グループの上限団体数は2〜500の整数で入力してください（空欄なら上限なし）。"),
        ],
        description="幹事団体方式・仕様統一方式の1グループに入る団体数の上限。空欄なら上限なし（見積に上限があればその小さい方）。",
    )
    geography_type = SelectField("地理的条件", choices=list(GEOGRAPHY_LABELS.items()), default="same_prefecture")
    radius_km = FloatField(
        "半径（km）",
        validators=[Optional(), NumberRange(min=1, max=3000)],
        description="「距離以内」を選んだときに使います。距離は庁舎間（都道府県は県庁）の大円距離です",
    )
    prefecture_as_host = BooleanField("都道府県を幹事団体（受託団体）にできるようにする", default=True)
    extra_hosts = StringField(
        "その他の幹事候補団体（団体コード）", validators=[Optional()], description="ニーズがなくても幹事になれる団体"
    )
    allocation_method = SelectField("按分方法", choices=list(METHOD_LABELS.items()), default="formula")
    weight_equal = DecimalField("均等割（%）", default=10, places=1, validators=[Optional(), NumberRange(0, 100)])
    weight_population = DecimalField("人口割（%）", default=90, places=1, validators=[Optional(), NumberRange(0, 100)])
    weight_volume = DecimalField("利用量割（%）", default=0, places=1, validators=[Optional(), NumberRange(0, 100)])
    allocation_core = SelectField(
        "公平性の確保",
        choices=list(CORE_OPTION_LABELS.items()),
        default="rule",
        description="どの方法でも、補助金が採択されない場合の実質負担が単独導入を上回る団体は出しません"
        "（実質負担の保証）。",
    )
    lead_must_be_grant_eligible = BooleanField(
        "幹事は補助対象団体に限る（都道府県・指定都市は幹事団体方式の幹事にしない）",
        default=False,
        description="幹事団体が補助金の実施主体になれないと、単独なら補助を受けられる団体が不利になることがあります。",
    )
    lead_work_lead_yen = IntegerField(
        "幹事事務費（幹事団体方式、1グループ・年あたり・円）",
        default=0,
        validators=[Optional(), NumberRange(0, 1_000_000_000, "0 以上 10億 以下の円で入力してください。")],
        description="契約・請求・補助申請などの幹事の事務の費用。グループの費用に含めて按分し、幹事団体が受け取ります。",
    )
    lead_work_unified_yen = IntegerField(
        "取りまとめ事務費（仕様統一方式、1グループ・年あたり・円）",
        default=0,
        validators=[Optional(), NumberRange(0, 1_000_000_000, "0 以上 10億 以下の円で入力してください。")],
    )
    price_book_id = SelectField("単価表の版", coerce=int, choices=[])
    subsidy_rule_set_id = SelectField("補助制度ルールの版", coerce=int, choices=[])
    time_limit_seconds = FloatField(
        "計算時間の上限（秒）",
        default=60,
        validators=[InputRequired("計算時間の上限を入力してください。"), NumberRange(1, 3600)],
    )
    version = HiddenField()

    def validate_body_codes(self, field):
        bad = [c for c in split_codes(field.data) if not CODE_RE.match(c)]
        if bad:
            raise ValidationError(f"団体コードは6桁の数字です: {', '.join(bad[:5])}")

    def validate_extra_hosts(self, field):
        bad = [c for c in split_codes(field.data) if not CODE_RE.match(c)]
        if bad:
            raise ValidationError(f"団体コードは6桁の数字です: {', '.join(bad[:5])}")

    def validate_geography_type(self, field):
        # Checked here, not on radius_km: its Optional() validator stops the chain when it is empty.
        if field.data == "radius_km" and not self.radius_km.data:
            raise ValidationError("距離の条件では半径（km）を入力してください。")

    def validate_weight_equal(self, field):
        if self.allocation_method.data == "formula":
            total = sum(float(f.data or 0) for f in (self.weight_equal, self.weight_population, self.weight_volume))
            if abs(total - 100) > 0.05:
                raise ValidationError(f"均等割・人口割・利用量割の合計を100%にしてください（現在 {total:g}%）。")


class OverrideForm(FlaskForm):
    kind = SelectField("上書きの種類", choices=list(OVERRIDE_KINDS.items()))
    category = SelectField("分野", choices=[])
    body_a = SelectField("団体", choices=[])
    body_b = SelectField("相手の団体（同じ／別のグループ）", choices=[], validate_choice=False)
    group_key = SelectField("固定先のグループ", choices=[], validate_choice=False)
    replan = BooleanField("このシナリオを複製して上書きを加え、すぐに再計画する", default=False)
    version = HiddenField()

    def validate_body_b(self, field):
        if self.kind.data in ("together", "apart"):
            if not field.data:
                raise ValidationError("相手の団体を選んでください。")
            if field.data == self.body_a.data:
                raise ValidationError("異なる2団体を選んでください。")

    def validate_group_key(self, field):
        if self.kind.data == "fix_group" and not field.data:
            raise ValidationError("固定先のグループを選んでください。")


class CompareForm(FlaskForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    a = SelectField("比較元の計画", coerce=int, choices=[])
    b = SelectField("比較先の計画", coerce=int, choices=[])
