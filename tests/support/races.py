"""What the concurrency modules share: the security suite's planning world on a database of each module's own, and
a way to release several threads at the same moment.

A plain module, not tests/concurrency/conftest.py: an autouse ``app`` fixture there would also reach
test_live_server.py, which serves its own application. Each module imports ``world`` and ``app`` by name, which is
how pytest finds a fixture defined elsewhere;
the functions carry other names (``world_fixture``, ``app_fixture``) so that a test's ``world`` argument does not
shadow an import.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest

from tests.security import conftest as security

T = TypeVar("T")


@pytest.fixture(scope="module", name="world")
def world_fixture(request, tmp_path_factory):
    """The security suite's planning world (長野県 and 新潟県, each with a published plan), on a database of its own."""
    app = security.make_app(
        security._module_database(request, tmp_path_factory),
        REPORT_CACHE_DIR=str(tmp_path_factory.mktemp("report-cache")),
    )
    yield security.build_world(app)
    app.extensions["db_engine"].dispose()


@pytest.fixture(autouse=True, name="app")
def app_fixture(world):
    """Named ``app`` so that the PostgreSQL run keeps these tests."""
    return world.app


def together(count: int, work: Callable[[int], T], timeout: float = 60) -> list[T | Exception | None]:
    """Run ``work(i)`` in ``count`` threads released at once by a barrier, so that the requests really overlap; each
    result, or the exception it raised (the outcome under test), in order. ``None`` for a thread still running after
    ``timeout`` seconds."""
    barrier = threading.Barrier(count)
    results: list[T | Exception | None] = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = work(i)
        except Exception as e:  # the outcome under test
            results[i] = e

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    return results
