from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, Length


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
