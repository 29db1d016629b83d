"""Administrators deactivating and demoting one another at the same moment (issue #30): one active administrator
always remains, every request answers (a redirect with the refusal, never a 500), and PostgreSQL reports no
deadlock (the administrators' rows are locked in one order, in a mode that a foreign key's share lock, taken when
an audit row names an administrator, does not block)."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, select

from planner.db.models import Body, User
from planner.services import transactions, user_admin
from planner.services.users import UserError, create_user
from tests.security import conftest as security
from tests.support.backend import BACKEND
from tests.support.races import together

ADMINS = ["admin-a", "admin-b", "admin-c"]
PASSWORD = "password-123"
ROUNDS = 8


@pytest.fixture(scope="module")
def app(request, tmp_path_factory):
    app = security.make_app(security._module_database(request, tmp_path_factory))
    with Session(app.extensions["db_engine"]) as session:
        session.add(Body(code="200000", name="長野県", prefecture_code="20", kind="prefecture", lat=36.65, lng=138.18))
        for name in ADMINS:
            create_user(session, name, PASSWORD, "admin")
        session.commit()
    yield app
    app.extensions["db_engine"].dispose()


def _ids(app) -> dict[str, int]:
    with Session(app.extensions["db_engine"]) as session:
        return {u.username: u.id for u in session.exec(select(User).where(User.username.in_(ADMINS)))}


def _reset(app) -> None:
    with Session(app.extensions["db_engine"]) as session:
        for u in session.exec(select(User).where(User.username.in_(ADMINS))):
            u.is_active, u.role = True, "admin"
            session.add(u)
        session.commit()


def test_admins_removing_each_other_at_once_leave_one_and_never_fail(app):
    ids = _ids(app)
    clients = {name: app.test_client() for name in ADMINS}
    outcomes: list[tuple[str, int, str]] = []
    for round_ in range(ROUNDS):
        _reset(app)
        # Signed in again every round: a deactivation ends the account's sessions, and a client sent back to the
        # login page would race nobody.
        for name, client in clients.items():
            assert client.post("/login", data={"username": name, "password": PASSWORD}).status_code == 302
        barrier = threading.Barrier(len(ADMINS))
        # each removes the next one: deactivating in even rounds, demoting in odd ones
        targets = {name: ADMINS[(i + 1) % len(ADMINS)] for i, name in enumerate(ADMINS)}

        def act(name: str, round_: int = round_, barrier=barrier, targets=targets) -> None:
            target = ids[targets[name]]
            barrier.wait()
            if round_ % 2 == 0:
                r = clients[name].post(f"/admin/users/{target}/active", data={"active": "0"})
            else:
                r = clients[name].post(
                    f"/admin/users/{target}",
                    data={"display_name": targets[name], "role": "prefecture", "prefecture_code": "20"},
                )
            outcomes.append((name, r.status_code, r.headers.get("Location", "")))

        threads = [threading.Thread(target=act, args=(name,)) for name in ADMINS]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        with Session(app.extensions["db_engine"]) as session:
            active = session.exec(select(User).where(User.role == "admin", User.is_active == True)).all()  # noqa: E712
            assert len(active) >= 1
        # every request answered: done or refused (the form with the reason, or back to the account with it); an
        # administrator removed by another before its own request was let in gets the login page (deactivated) or
        # a 403 (demoted)
        round_outcomes = outcomes[-len(ADMINS) :]
        assert all(s in (200, 302, 403) for _, s, _ in round_outcomes), round_outcomes
        admins_now = {u.username for u in active}
        shut_out = [name for name, s, where in round_outcomes if s == 403 or "/login" in where]
        assert not set(shut_out) & admins_now, round_outcomes
    assert len(outcomes) == ROUNDS * len(ADMINS), outcomes


STRESS = [f"admin-stress-{i}" for i in range(6)]


def _stress_targets(round_: int, ids: list[int]) -> list[int]:
    """Whom each of the six removes in a round: the next one, the same one as a partner (two removals of one
    account), or the lowest id (every request but its own wanting the first row of the lock order)."""
    n = len(ids)
    if round_ % 3 == 0:
        return [ids[(i + 1) % n] for i in range(n)]
    if round_ % 3 == 1:
        return [ids[(i // 2 * 2 + 2) % n] for i in range(n)]
    return [ids[1] if i == 0 else ids[0] for i in range(n)]


def test_six_administrators_removing_each_other_never_fail_and_one_remains(app):
    """Several threads at once, each a request's transaction: deactivations and demotions mixed, cycles, two
    removals of one account, everyone at the lowest id. Every change is done or refused with the reason (never a
    database error such as a deadlock), and an administrator remains after every round."""
    engine = app.extensions["db_engine"]
    with Session(engine) as session:
        for name in STRESS:
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "admin")
        session.commit()
        ids = [session.exec(select(User.id).where(User.username == n)).one() for n in STRESS]
    for round_ in range(18):
        with Session(engine) as session:  # these six are the administrators, all active
            for u in session.exec(select(User).where((User.role == "admin") | User.id.in_(ids))):
                u.is_active, u.role, u.prefecture_code = u.id in ids, "admin", None
                session.add(u)
            session.commit()
        targets = _stress_targets(round_, ids)

        def remove(i: int, round_: int = round_, targets: list[int] = targets) -> str:
            with Session(engine) as session:
                user = session.get(User, targets[i])
                try:
                    if (i + round_) % 2:
                        transactions.run(session, user_admin.set_active, user, False, ids[i])
                    else:
                        transactions.run(
                            session,
                            user_admin.update_user,
                            user,
                            display_name="",
                            role="prefecture",
                            prefecture_code="20",
                            body_code=None,
                            changed_by=ids[i],
                        )
                except UserError as e:
                    return f"refused: {e}"
                return "done"

        outcomes = together(len(ids), remove)
        assert all(isinstance(o, str) for o in outcomes), (round_, outcomes)
        with Session(engine) as session:
            active = session.exec(select(User).where(User.role == "admin", User.is_active == True)).all()  # noqa: E712
        assert active, (round_, outcomes)


def _waiting_on_locks(engine) -> int:
    """How many of this database's connections wait for a lock now (PostgreSQL)."""
    import sqlalchemy as sa

    with engine.connect() as conn:
        return conn.execute(
            sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()


def _until(condition, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.skipif(
    BACKEND != "postgresql", reason="row lock modes and deadlocks are PostgreSQL's (SQLite has one writer)"
)
def test_an_administrator_removed_mid_request_deadlocks_nobody(app):
    """The interleaving the hostile run met on PostgreSQL, step by step. 1 and 2 are deactivated (written directly,
    so that the test decides when it commits) while a removal by 3 reads the administrators, so 3 waits for them;
    2 is also named by someone's key share (an audit row naming
    it, from a sign-in say). 1's own request, begun before it was deactivated, then removes 5 and writes its audit
    row naming 1. Locked FOR UPDATE, 3 held 1 (the newest version of a row is locked even when it no longer matches)
    and waited for 2's key share while 1's request held 3-5 and waited for 3's lock on 1: a deadlock, one request
    a 500. Locked in a mode a key share does not block, with the actor and the target in the one ordered set,
    every request answers."""
    import sqlalchemy as sa

    engine = app.extensions["db_engine"]
    names = [f"admin-order-{i}" for i in range(1, 6)]
    with Session(engine) as session:
        for name in names:
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "admin")
        session.commit()
        ids = {n: session.exec(select(User.id).where(User.username == n)).one() for n in names}
    one, two, three, four, five = (ids[n] for n in names)
    assert one < two < three < four < five
    with Session(engine) as session:  # these five are the only administrators (the module's others rest)
        for u in session.exec(select(User).where(User.role == "admin")):
            u.is_active = u.id in ids.values()
            session.add(u)
        session.commit()

    outcomes: dict[str, object] = {}

    def remove(label: str, target: int, actor: int) -> None:
        with Session(engine) as session:
            user = session.get(User, target)
            try:
                transactions.run(session, user_admin.set_active, user, False, actor)
                outcomes[label] = "done"
            except Exception as e:  # the outcome under test: a refusal is fine, a database error is not
                outcomes[label] = e

    key_share = engine.connect()
    remover = engine.connect()
    threads = []
    try:
        key_share.begin()
        key_share.execute(sa.text("SELECT id FROM app_user WHERE id = :id FOR KEY SHARE"), {"id": two})
        remover.begin()
        remover.execute(sa.text("UPDATE app_user SET is_active = false WHERE id IN (:a, :b)"), {"a": one, "b": two})
        threads.append(threading.Thread(target=remove, args=("3 removes 4", four, three)))
        threads[-1].start()
        _until(lambda: _waiting_on_locks(engine) >= 1 or "3 removes 4" in outcomes)
        remover.commit()
        time.sleep(0.3)  # 3's request goes on to the next administrator
        threads.append(threading.Thread(target=remove, args=("1 removes 5", five, one)))
        threads[-1].start()
        _until(lambda: _waiting_on_locks(engine) >= 2 or len(outcomes) == 2, timeout=3)
        key_share.commit()
        for t in threads:
            t.join(30)
    finally:
        key_share.close()
        remover.close()
    assert len(outcomes) == 2, outcomes
    assert all(v == "done" or isinstance(v, UserError) for v in outcomes.values()), outcomes
    with Session(engine) as session:
        active = session.exec(select(User).where(User.role == "admin", User.is_active == True)).all()  # noqa: E712
    assert active
