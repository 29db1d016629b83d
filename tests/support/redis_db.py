"""A Redis database of a test's own on the local server (127.0.0.1:6379), emptied before and after.

Tests that queue jobs on RQ each name a slot; the suite runs on several pytest-xdist workers at once, so every worker
takes its own band of Redis's sixteen numbered databases and two workers never empty each other's queue.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import redis

# one slot per test module that queues on RQ
JOBS_SLOT, CONCURRENT_WRITES_SLOT, LIVE_SERVER_SLOT = range(3)
SLOTS = LIVE_SERVER_SLOT + 1
DATABASES = 16  # Redis's default number of databases


def worker_index() -> int:
    """0 without xdist, N for worker gwN."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    return int(worker.removeprefix("gw"))


def redis_test_url(slot: int) -> str:
    database = DATABASES - 1 - (worker_index() * SLOTS + slot)
    if not 0 <= slot < SLOTS or database < 0:
        raise RuntimeError(f"no Redis database left for slot {slot} of xdist worker {worker_index()}")
    return f"redis://127.0.0.1:6379/{database}"


@contextmanager
def empty_redis_database(slot: int) -> Iterator[str]:
    """The URL of this worker's database for ``slot``, empty; skips the test when no Redis server answers."""
    url = redis_test_url(slot)
    connection = redis.Redis.from_url(url)
    try:
        connection.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis server at 127.0.0.1:6379")
    connection.flushdb()
    try:
        yield url
    finally:
        connection.flushdb()
        connection.close()
