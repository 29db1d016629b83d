from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from planner.services.users import MIN_PASSWORD_LENGTH


class LoginForm(FlaskForm):
    username = StringField(
        "ログイン名",
        validators=[DataRequired("ログイン名を入力してください"), Length(max=80)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    password = PasswordField(
        "パスワード",
        validators=[DataRequired("パスワードを入力してください"), Length(max=200)],
        render_kw={"autocomplete": "current-password"},
    )


class SignupForm(FlaskForm):
    username = StringField(
        "ログイン名（メールアドレス）",
        validators=[DataRequired("ログイン名を入力してください"), Length(max=80)],
        render_kw={"autocomplete": "username", "autofocus": True},
    )
    code = StringField(
        "登録コード",
        validators=[DataRequired("配られた登録コードを入力してください"), Length(max=40)],
        description="XXXX-XXXX-XXXX の 12 文字。ハイフンと大文字・小文字の違いは問いません。",
        render_kw={"autocomplete": "one-time-code", "autocapitalize": "characters", "spellcheck": "false"},
    )
    password = PasswordField(
        "新しいパスワード",
        validators=[DataRequired("パスワードを入力してください"), Length(max=200)],
        description=f"{MIN_PASSWORD_LENGTH} 文字以上",
        render_kw={"autocomplete": "new-password"},
    )
    password_again = PasswordField(
        "新しいパスワード（確認）",
        validators=[
            DataRequired("確認のためもう一度入力してください"),
            EqualTo("password", "2 つのパスワードが一致しません"),
        ],
        render_kw={"autocomplete": "new-password"},
    )
