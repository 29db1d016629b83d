"""Accounts in bulk: a CSV (団体コード, 氏名, メール, 役割) previewed with every row's problems, created all or nothing,
each with a one-time sign-up code that is printed once, stored hashed, expires, and sets the person's own password."""

from __future__ import annotations

import io
import re
from datetime import timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, User
from planner.services.account_import import CODE_ALPHABET, SignupError, redeem_code
from planner.services.users import verify_password
from tests.support.web import login, logout

GOOD = (
    "団体コード,氏名,メール,役割\n"
    "200000,長野 花子,Hanako.Nagano@pref.example.jp,都道府県担当者\n"
    "２０４８２０,小谷 次郎,jiro@otari.example.jp,市区町村担当者\n"  # full-width digits, as typed
)


def engine_of(app):
    return app.extensions["db_engine"]


def users_count(app) -> int:
    with Session(engine_of(app)) as session:
        return session.exec(select(func.count()).select_from(User)).one()


def upload(client, text: str, name: str = "accounts.csv", encoding: str = "utf-8-sig"):
    data = {"file": (io.BytesIO(text.encode(encoding)), name)}
    return client.post("/admin/users/import", data=data, content_type="multipart/form-data")


def confirm(client, preview_html: str):
    token = re.search(r'name="token" type="hidden" value="([^"]+)"', preview_html).group(1)
    return client.post("/admin/users/import/confirm", data={"token": token})


def test_import_previews_then_creates_everyone_with_a_printable_code(app, client, seed):
    login(client, "admin")
    before = users_count(app)
    r = upload(client, GOOD, encoding="cp932")  # Excel in Japan saves Shift_JIS
    html = r.get_data(as_text=True)
    assert r.status_code == 200 and "2 人を作成して登録コードを発行する" in html
    assert "長野県" in html and "小谷村" in html and "hanako.nagano@pref.example.jp" in html
    assert users_count(app) == before  # the preview writes nothing
    r = confirm(client, html)
    page = r.get_data(as_text=True)
    assert r.status_code == 200 and r.headers["Cache-Control"] == "no-store"
    codes = re.findall(r'<td class="signup-code">([A-Z0-9-]+)</td>', page)
    assert len(codes) == 2 and all(re.fullmatch(r"[A-Z0-9]{4}-[A-Z0-9]{4}-[A-Z0-9]{4}", c) for c in codes)
    assert all(ch in CODE_ALPHABET for c in codes for ch in c.replace("-", ""))
    assert page.count('class="signup-slip"') == 2 and "印刷する" in page  # one slip per person on paper
    assert users_count(app) == before + 2
    with Session(engine_of(app)) as session:
        hanako = session.exec(select(User).where(User.username == "hanako.nagano@pref.example.jp")).one()
        jiro = session.exec(select(User).where(User.username == "jiro@otari.example.jp")).one()
        assert (hanako.role, hanako.prefecture_code, hanako.body_code) == ("prefecture", "20", None)
        assert (jiro.role, jiro.body_code, jiro.display_name) == ("municipality", "204820", "小谷 次郎")
        # only a hash of the code is kept, with an expiry; the code is nowhere in the database or the audit log
        assert verify_password(hanako.signup_code_hash, codes[0].replace("-", ""))
        assert codes[0].replace("-", "") not in hanako.signup_code_hash
        assert timedelta(days=13) < hanako.signup_expires_at - hanako.created_at <= timedelta(days=14)
        entries = session.exec(select(AuditLog).where(AuditLog.entity == "user", AuditLog.action == "create")).all()
        assert not any(c.replace("-", "") in str((e.after, e.detail)) for e in entries for c in codes)
        assert any("accounts.csv 2行目" in e.detail for e in entries)
    # the confirmation is single use: a replay creates nobody and shows no codes
    r = confirm(client, html)
    assert r.status_code == 302 and users_count(app) == before + 2
    listing = client.get("/admin/users").get_data(as_text=True)
    assert "登録待ち" in listing
    # the account cannot sign in until its person sets a password with the code
    logout(client)
    assert (
        client.post("/login", data={"username": "jiro@otari.example.jp", "password": "anything-123"}).status_code == 200
    )
    signup = client.get("/signup")
    assert signup.status_code == 200 and "登録コード" in signup.get_data(as_text=True)
    form = {
        "username": "JIRO@otari.example.jp",
        "code": codes[1].lower().replace("-", " "),
        "password": "my-own-pass-1",
        "password_again": "my-own-pass-1",
    }
    r = client.post("/signup", data=form)
    assert r.status_code == 302  # signed in
    logout(client)
    assert login(client, "jiro@otari.example.jp", "my-own-pass-1").status_code == 302
    logout(client)
    # once: the same code does nothing again
    r = client.post("/signup", data=dict(form, password="another-pass-2", password_again="another-pass-2"))
    assert r.status_code == 200 and "有効期限が切れています" in r.get_data(as_text=True)
    with Session(engine_of(app)) as session:
        jiro = session.exec(select(User).where(User.username == "jiro@otari.example.jp")).one()
        assert jiro.signup_code_hash is None and verify_password(jiro.password_hash, "my-own-pass-1")


def test_every_problem_is_shown_by_row_and_column_and_nobody_is_created(app, client, seed):
    login(client, "admin")
    before = users_count(app)
    text = (
        "団体コード,氏名,メール,役割\n"
        "200000,長野 花子,hanako@pref.example.jp,都道府県担当者\n"  # fine alone
        "202012,誤り 太郎,taro@example.jp,市区町村担当者\n"  # a bad check digit
        "202011,,admin,管理者\n"  # no name, a taken login name, an administrator
        "202029,松本 三郎,hanako@pref.example.jp,都道府県担当者\n"  # duplicate e-mail, not a prefecture
        "200000,県 四郎,not-an-email,係長\n"
    )
    r = upload(client, text)
    html = r.get_data(as_text=True)
    assert r.status_code == 422 and "誰も作成していません" in html and 'name="token"' not in html
    for expected in (
        "3行目 団体コード：団体コード 202012 の検査数字（6桁目）が正しくありません（202011 の誤りではありませんか）",
        "4行目 氏名：氏名を入力してください",
        "4行目 役割：管理者は取込では作れません（planner create-user --role admin で作成します）",
        "4行目 メール：「admin」はログイン名に使えません",
        "5行目 メール：hanako@pref.example.jp は 2行目と重複しています",
        "5行目 団体コード：松本市 は都道府県ではありません",
        "6行目 役割：「係長」は役割ではありません",
    ):
        assert expected in html, expected
    assert users_count(app) == before
    r = upload(client, "氏名,メール\n長野 花子,a@example.jp\n")
    assert r.status_code == 422 and "見出しに 団体コード・役割 がありません" in r.get_data(as_text=True)


def test_a_row_that_became_wrong_after_the_preview_stops_the_whole_import(app, client, seed):
    login(client, "admin")
    before = users_count(app)
    html = upload(client, GOOD).get_data(as_text=True)
    with Session(engine_of(app)) as session:  # someone takes one of the login names meanwhile
        from planner.services.users import create_user

        create_user(session, "jiro@otari.example.jp", "password-123", "municipality", body_code="204820")
        session.commit()
    r = confirm(client, html)
    assert r.status_code == 422 and "jiro@otari.example.jp は既に利用者がいます" in r.get_data(as_text=True)
    assert users_count(app) == before + 1  # only the one made meanwhile: nobody from the file


def test_codes_expire_and_wrong_codes_say_nothing_about_the_account(app, client, seed):
    from planner.db.models import utcnow
    from planner.services.account_import import issue_code

    with Session(engine_of(app)) as session:
        user = session.exec(select(User).where(User.username == "muni202029")).one()
        code = issue_code(user, days=14)
        session.commit()
        try:
            redeem_code(session, "muni202029", code, "a-new-password", now=utcnow() + timedelta(days=15))
        except SignupError as e:
            expired = str(e)
        try:
            redeem_code(session, "muni202029", "WRONGWRONGWR", "a-new-password")
        except SignupError as e:
            wrong = str(e)
        try:
            redeem_code(session, "nobody@example.jp", code, "a-new-password")
        except SignupError as e:
            unknown = str(e)
        assert expired == wrong == unknown
        session.rollback()
    # wrong codes count as failed logins: the throttle stops guessing
    statuses = [
        client.post(
            "/signup",
            data={
                "username": "muni202029",
                "code": f"AAAA-BBBB-CC{i:02d}",
                "password": "a-new-password",
                "password_again": "a-new-password",
            },
        ).status_code
        for i in range(12)
    ]
    assert statuses[-1] == 429
    # a weak password is refused before the code is tried
    r = client.post(
        "/signup", data={"username": "x@example.jp", "code": "x", "password": "short", "password_again": "short"}
    )
    assert r.status_code == 422 and "10 文字以上" in r.get_data(as_text=True)


def test_template_and_admin_only(app, client, seed):
    login(client, "admin")
    r = client.get("/admin/users/import/template.csv")
    assert r.status_code == 200 and r.get_data(as_text=True).lstrip("\ufeff").startswith("団体コード,氏名,メール,役割")
    logout(client)
    login(client, "pref20")
    assert client.get("/admin/users/import").status_code in (302, 403)
