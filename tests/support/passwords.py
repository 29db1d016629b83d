"""Password checks without the repeated argon2 work (a pytest plugin, loaded by tests/conftest.py).

An argon2 check costs about 0.4 s of CPU, and the web and security tests sign the same few seeded users in, with
the same password against the same stored hash, several hundred times. The answer for a (hash, password) pair never
changes, so the login path's ``verify_password`` keeps its answers for the session: the first check of each pair is
the real argon2 one, a wrong password or another hash is checked afresh. Tests of the function itself
(tests/db/test_users.py) import and call the real one.
"""

from __future__ import annotations

from functools import lru_cache

import pytest


@pytest.fixture(scope="session", autouse=True)
def _remembered_password_checks():
    from planner.services import users

    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(users, "verify_password", lru_cache(maxsize=1024)(users.verify_password))
        yield
