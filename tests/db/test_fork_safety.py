"""No database connection crosses a fork (issue #13, point 1): gunicorn workers, RQ's work horse and fork-server
children each open their own, even when the parent had one open in its pool when it forked."""

from __future__ import annotations

import multiprocessing

import sqlalchemy as sa


def _connection_identity(engine) -> object:
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            return conn.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()
        return id(conn.connection.dbapi_connection)


def _child(engine, queue) -> None:
    try:
        queue.put(("ok", _connection_identity(engine)))
    except Exception as e:
        queue.put(("error", repr(e)))


def test_a_forked_child_never_uses_its_parents_pooled_connection(engine):
    parent = _connection_identity(engine)  # leaves the connection in the pool, as the gunicorn master did
    assert engine.pool.checkedin() == 1
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    child = context.Process(target=_child, args=(engine, queue))
    child.start()
    outcome, value = queue.get(timeout=30)
    child.join(timeout=30)
    assert outcome == "ok", value
    assert value != parent, "the child reused the connection it inherited from its parent"
    assert _connection_identity(engine) == parent  # the parent's own connection is untouched and still usable
