"""Users: argon2 hashes, role scopes, authentication."""

from __future__ import annotations

import pytest
from sqlmodel import Session

from planner.services.users import UserError, authenticate, create_user, hash_password, needs_rehash, verify_password


def test_hash_and_verify():
    h = hash_password("correct horse battery")
    assert h.startswith("$argon2id$") and h != hash_password("correct horse battery")
    assert verify_password(h, "correct horse battery")
    assert not verify_password(h, "wrong password!!")
    assert not verify_password("not-a-hash", "x")
    assert not needs_rehash(h)


def test_roles_and_scopes(nagano_engine):
    with Session(nagano_engine) as s:
        admin = create_user(s, "admin", "a-long-password", "admin")
        pref = create_user(s, "nagano", "a-long-password", "prefecture", prefecture_code="20")
        staff = create_user(s, "obuse", "a-long-password", "municipality", body_code="205419")
        s.commit()
        assert (admin.role, admin.prefecture_code, admin.body_code) == ("admin", None, None)
        assert (pref.prefecture_code, pref.body_code) == ("20", None)
        assert (staff.prefecture_code, staff.body_code) == ("20", "205419")
        assert authenticate(s, "obuse", "a-long-password").id == staff.id
        assert authenticate(s, "obuse", "wrong-password") is None
        assert authenticate(s, "nobody", "a-long-password") is None


@pytest.mark.parametrize(
    "args, message",
    [
        (("x1", "a-long-password", "root"), "役割「root」"),
        (("x 1", "a-long-password", "admin"), "ログイン名は英数字"),
        (("x1", "short", "admin"), "10 文字以上"),
        (("x1", "a-long-password", "prefecture"), "都道府県コードは 01〜47"),
        (("x1", "a-long-password", "municipality"), "--body"),
        (("x1", "a-long-password", "municipality", "999999"), "当たる団体がありません"),
        (("x1", "a-long-password", "municipality", "200000"), "都道府県です"),
        (("x1", "a-long-password", "admin", "202011"), "管理者には"),
    ],
)
def test_bad_users_are_refused(nagano_engine, args, message):
    with Session(nagano_engine) as s:
        with pytest.raises(UserError, match=message):
            create_user(s, *args[:3], body_code=args[3] if len(args) > 3 else None)


def test_duplicate_username_is_refused(nagano_engine):
    with Session(nagano_engine) as s:
        create_user(s, "dup", "a-long-password", "admin")
        with pytest.raises(UserError, match="既に使われています"):
            create_user(s, "dup", "a-long-password", "admin")
