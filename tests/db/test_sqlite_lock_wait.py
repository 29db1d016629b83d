"""On SQLite, a writer that finds the database locked by another writer waits for it (the busy timeout of
planner.db.session.make_engine) instead of failing with "database is locked" (issue #30): two writers, the second
starting while the first holds the lock, both land."""

from __future__ import annotations

import threading
import time

from sqlalchemy import text

from planner.db.session import make_engine


def _engine(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'locks.sqlite'}")
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE counter (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)"))
        conn.execute(text("INSERT INTO counter VALUES (1, 0)"))
    return engine


def _second_writer(engine, read_first: bool, ready: threading.Event, outcome: list) -> None:
    try:
        with engine.begin() as conn:
            if read_first:  # a request that reads, then writes (a form saved after its checks)
                conn.execute(text("SELECT n FROM counter")).scalar()
            ready.set()
            conn.execute(text("UPDATE counter SET n = n + 1"))
        outcome.append("saved")
    except Exception as e:  # the failure is the test's answer
        ready.set()
        outcome.append(repr(e))


def _two_writers(tmp_path, read_first: bool) -> tuple[list, int]:
    engine = _engine(tmp_path)
    first = engine.connect()
    first.begin()
    first.execute(text("UPDATE counter SET n = n + 1"))  # holds SQLite's write lock until it commits
    ready, outcome = threading.Event(), []
    second = threading.Thread(target=_second_writer, args=(engine, read_first, ready, outcome))
    second.start()
    assert ready.wait(30)
    time.sleep(0.5)  # the second writer is now blocked on the lock (not a timing assertion: it orders the two)
    first.commit()
    first.close()
    second.join(60)
    with engine.connect() as conn:
        total = conn.execute(text("SELECT n FROM counter")).scalar()
    engine.dispose()
    return outcome, total


def test_a_second_writer_waits_for_the_lock(tmp_path):
    outcome, total = _two_writers(tmp_path, read_first=False)
    assert outcome == ["saved"] and total == 2


def test_a_reader_turned_writer_waits_for_the_lock(tmp_path):
    outcome, total = _two_writers(tmp_path, read_first=True)
    assert outcome == ["saved"] and total == 2
