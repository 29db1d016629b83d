"""Two administrators deactivating (or demoting) each other at the same moment leave one active administrator
(issue #13, point 9). Real threads and connections; a pause between the check and the write makes the race
certain instead of lucky."""

from __future__ import annotations

import threading
import time

import pytest
from sqlmodel import Session, select

from planner.db.models import User
from planner.services import user_admin
from planner.services.users import UserError, create_user


@pytest.fixture
def two_admins(engine):
    with Session(engine) as session:
        a = create_user(session, "admin-a", "password-123", "admin")
        b = create_user(session, "admin-b", "password-123", "admin")
        session.commit()
        return a.id, b.id


def _race(engine, monkeypatch, change):
    real_record = user_admin.audit.record

    def slow_record(*args, **kwargs):  # both checks pass before either change is written
        time.sleep(0.5)
        return real_record(*args, **kwargs)

    monkeypatch.setattr(user_admin.audit, "record", slow_record)
    barrier = threading.Barrier(2)
    outcomes: dict[int, str] = {}

    def act(target_id: int, actor_id: int):
        with Session(engine) as session:
            barrier.wait(timeout=10)
            try:
                change(session, session.get(User, target_id), actor_id)
                session.commit()
                outcomes[target_id] = "done"
            except UserError as e:
                session.rollback()
                outcomes[target_id] = str(e)

    return act, outcomes


def deactivate(session, user, actor):
    user_admin.set_active(session, user, False, actor)


def demote(session, user, actor):
    user_admin.update_user(
        session, user, display_name="", role="prefecture", prefecture_code="20", body_code=None, changed_by=actor
    )


@pytest.mark.parametrize("change", [deactivate, demote])
def test_two_admins_removing_each_other_at_once_leave_one(engine, two_admins, monkeypatch, change):
    from planner.db.models import Body

    with Session(engine) as session:  # a prefecture for the demotion to go to
        session.add(Body(code="200000", name="長野県", prefecture_code="20", kind="prefecture", lat=36.6, lng=138.2))
        session.commit()
    a, b = two_admins
    act, outcomes = _race(engine, monkeypatch, change)
    threads = [threading.Thread(target=act, args=(b, a)), threading.Thread(target=act, args=(a, b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    with Session(engine) as session:
        admins = session.exec(select(User).where(User.role == "admin", User.is_active == True)).all()  # noqa: E712
    assert len(admins) == 1, outcomes
    assert sorted(v == "done" for v in outcomes.values()) == [False, True]
    assert any("有効な管理者が1人だけ" in v for v in outcomes.values())
