"""WTForms for the stages after the answers (planner.services.plan_stages): one small form per step.

The choices (fiscal years, members, invoices) depend on the group, so the page fills them in; amounts are typed
as text and read by the service, which names the field and the year when one is not whole yen.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from planner.services.plan_stages import BUDGET_STATUSES

DATE_REQUIRED = "日付を入力してください（例 2027-04-01）。"
YEN_HINT = "円（整数）。カンマは付けても付けなくてもかまいません"


def _on(label: str) -> DateField:
    return DateField(label, validators=[InputRequired(DATE_REQUIRED)])


class BudgetForm(FlaskForm):
    body_code = SelectField("団体", choices=[])
    fiscal_year = SelectField("年度", choices=[], coerce=int)
    status = SelectField("予算措置", choices=list(BUDGET_STATUSES.items()))
    occurred_on = _on("日付（要求日・議決日）")
    note = StringField("備考", validators=[Optional(), Length(max=500)])


class DebtForm(FlaskForm):
    body_code = SelectField("団体", choices=[])
    occurred_on = _on("議決日")
    limit_yen = StringField("限度額", validators=[DataRequired("限度額を入力してください。")], description=YEN_HINT)
    note = StringField("備考", validators=[Optional(), Length(max=500)])


class AgreementForm(FlaskForm):
    occurred_on = _on("協定締結日")
    title = StringField("協定の名称", validators=[Optional(), Length(max=200)])


class ContractForm(FlaskForm):
    """The amounts by fiscal year are the inputs ``amount_<year>``, added by the page for the group's years."""

    occurred_on = _on("契約日")
    vendor = StringField(
        "契約の相手方（事業者名）", validators=[DataRequired("事業者名を入力してください。"), Length(max=200)]
    )


class GrantForm(FlaskForm):
    kind = SelectField(
        "段階",
        choices=[("grant_application", "交付申請"), ("grant_decision", "交付決定"), ("grant_final", "額の確定")],
    )
    occurred_on = _on("日付")
    amount_yen = StringField("金額", validators=[DataRequired("金額を入力してください。")], description=YEN_HINT)


class YearActualForm(FlaskForm):
    fiscal_year = SelectField("年度", choices=[], coerce=int)
    occurred_on = _on("確定日")
    actual_contract_yen = StringField(
        "その年度に事業者へ支払った額（実績額）",
        validators=[DataRequired("実績額を入力してください。")],
        description=YEN_HINT,
    )


class BillForm(FlaskForm):
    fiscal_year = SelectField("年度", choices=[], coerce=int)
    issued_on = _on("発行日")
    due_on = DateField("納期限", validators=[Optional()])


class SettleForm(BillForm):
    pass


class PaymentForm(FlaskForm):
    invoice_id = HiddenField()
    paid_on = _on("入金日")
    amount_yen = StringField("入金額", validators=[DataRequired("入金額を入力してください。")], description=YEN_HINT)
    note = StringField("備考", validators=[Optional(), Length(max=200)])


class WithdrawalForm(FlaskForm):
    need_id = SelectField("脱退する団体", choices=[])
    occurred_on = _on("脱退の申出日")
    last_fiscal_year = SelectField("最後に参加する年度", choices=[], coerce=int)
    termination_cost_yen = StringField("解約に伴う費用（脱退団体の負担）", default="0", description=YEN_HINT)
    reason = TextAreaField("理由", validators=[DataRequired("脱退の理由を入力してください。"), Length(max=500)])
