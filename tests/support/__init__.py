"""What the tests share, kept out of the test modules so that no test module imports another's fixtures.

- ``backend.py``: which database the run uses (SQLite, or PostgreSQL with ``PLANNER_TEST_DATABASE=postgresql``).
- ``databases.py`` (a pytest plugin): every test's database; on SQLite the expensive ones are built once per session
  and copied per test.
- ``passwords.py`` (a pytest plugin): the login path's argon2 checks remembered per (hash, password).
- ``web.py``: the web tests' seeded world, ``login``/``logout`` and the CSRF token reader.
- ``plans.py``: needs, scenarios, the synchronous solve job, publication and the optimiser stand-ins.
- ``documents.py``: fetching the document ZIP built in the background.

The fixtures built on these (``app``, ``client``, ``seed``, ``solver``, ``planned``, ...) are in the conftest.py of
the directory whose tests use them.
"""
