"""The web tests' small seeded world and the helpers that drive the application as a person would.

The seed has two prefectures (長野県 and 新潟県) with a few municipalities, the categories and the current price book
from the shipped reference file, and one user of each kind. Every password is ``password-123``.
"""

from __future__ import annotations

import re

from sqlmodel import Session

PASSWORD = "password-123"

# code, name, prefecture, kind, lat, lng, population, 財政力指数
SEED_BODIES = [
    ("200000", "長野県", "20", "prefecture", 36.6513, 138.1810, 2033182, 0.51),
    ("202011", "長野市", "20", "city", 36.6486, 138.1948, 369977, 0.67),
    ("202029", "松本市", "20", "city", 36.2380, 137.9720, 237447, 0.66),
    ("204820", "小谷村", "20", "village", 36.7789, 137.9063, 2654, 0.16),
    ("150002", "新潟県", "15", "prefecture", 37.9026, 139.0232, 2163908, 0.46),
    ("151009", "新潟市", "15", "designated_city", 37.9161, 139.0364, 775375, 0.72),
]

SEED_USERS = [
    # username, role, prefecture_code, body_code, display name
    ("admin", "admin", None, None, "システム管理者"),
    ("pref20", "prefecture", "20", None, "長野県 担当"),
    ("pref15", "prefecture", "15", None, "新潟県 担当"),
    ("muni202011", "municipality", None, "202011", "長野市 担当"),
    ("muni202029", "municipality", None, "202029", "松本市 担当"),
]


def seed_database(engine) -> dict:
    from planner.db.models import Body
    from planner.services.reference_data import load_price_book_file, load_subsidy_rules
    from planner.services.users import create_user

    out: dict = {"bodies": {}, "users": {}, "password": PASSWORD}
    with Session(engine, expire_on_commit=False) as session:
        for code, name, pref, kind, lat, lng, pop, fsi in SEED_BODIES:
            session.add(
                Body(
                    code=code,
                    name=name,
                    prefecture_code=pref,
                    kind=kind,
                    lat=lat,
                    lng=lng,
                    population=pop,
                    fiscal_strength_index=fsi,
                )
            )
            out["bodies"][code] = name
        session.flush()
        book = load_price_book_file(session)
        out["price_book_version"] = book.version if book else None
        load_subsidy_rules(session)
        from planner.services.effect_models import load_effect_models

        load_effect_models(session)
        for username, role, pref, body, display in SEED_USERS:
            user = create_user(
                session, username, PASSWORD, role, prefecture_code=pref, body_code=body, display_name=display
            )
            out["users"][username] = user.id
        session.commit()
    return out


def login(client, username: str, password: str = PASSWORD, *, follow: bool = False):
    """Sign in through the login form; asserts success unless the password is deliberately wrong."""
    response = client.post("/login", data={"username": username, "password": password}, follow_redirects=follow)
    if password == PASSWORD:
        assert response.status_code in (200, 302), response.status_code
        if not follow:
            assert response.status_code == 302, "login failed for " + username
    return response


def logout(client):
    return client.post("/logout")


def csrf_token_from(html: str) -> str:
    m = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="csrf_token"', html
    )
    assert m, "no CSRF token in the page"
    return m.group(1)
