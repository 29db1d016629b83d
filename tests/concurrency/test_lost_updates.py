"""Lost updates on the newer forms (issue 30), as coordinators in parallel requests against the real database:
vendor quotes, body flags and the flags import carry versions like scenarios do. The loser gets 409 with the
current values, never a 500 and never a silent overwrite; a replayed import confirmation is refused once the data
changed under it; administrators removing each other at once never get a 500.
"""

from __future__ import annotations

import base64
import re

from sqlmodel import Session, select

from planner.db.models import Body, ScenarioQuote, User
from planner.services.users import create_user
from tests.security.conftest import PASSWORD, login
from tests.support.races import app_fixture, together, world_fixture  # noqa: F401  (the app and world fixtures)

QUOTE = {
    "vendor": "信州システム株式会社",
    "reference": "見積第 1 号",
    "quoted_on": "2026-11-20",
    "prices-fixed_initial": "3000000",
    "prices-fixed_annual": "600000",
    "prices-member_initial": "100000",
    "prices-member_annual": "120000",
    "prices-per_km_annual": "0",
    "prices-lines": "0, 900\n20000, 700\n60000, 500",
    "prices-max_members": "12",
}


def _clients(app, count: int, username: str = "pref20"):
    clients = [app.test_client() for _ in range(count)]
    for c in clients:
        login(c, username)
    return clients


def _together(clients, request):
    """``request(client, i)`` from every client at once; the responses' (status, text)."""

    def work(i: int) -> tuple[int, str]:
        r = request(clients[i], i)
        return r.status_code, r.get_data(as_text=True)

    return together(len(clients), work)


def test_concurrent_first_saves_of_one_quote_keep_one_and_answer_409(world, app):
    sid = world.scratch_scenario("20")
    url = f"/scenarios/{sid}/quotes/ocr/lead"
    clients = _clients(app, 4)
    results = _together(clients, lambda c, i: c.post(url, data={**QUOTE, "lock": "0", "vendor": f"事業者{i}"}))
    statuses = sorted(r[0] for r in results)
    assert statuses == [302, 409, 409, 409], results
    with Session(world.engine) as session:
        (quote,) = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).all()
    for status, text in results:
        if status == 409:
            assert quote.vendor in text and "他の利用者が保存しました" in text


def test_a_new_quote_form_saved_after_another_does_not_replace_it(world, app):
    sid = world.scratch_scenario("20")
    url = f"/scenarios/{sid}/quotes/ocr/lead"
    first, second = _clients(app, 2)
    form = second.get(url).get_data(as_text=True)  # opened while there is no quote
    lock = re.search(r'name="lock"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="lock"', form)
    assert lock and (lock.group(1) or lock.group(2)) == "0"
    assert first.post(url, data={**QUOTE, "lock": "0", "vendor": "先に保存した事業者"}).status_code == 302
    r = second.post(url, data={**QUOTE, "lock": "0", "vendor": "後から保存した事業者"})
    assert r.status_code == 409
    text = r.get_data(as_text=True)
    assert "先に保存した事業者" in text and "3,000,000" in text
    with Session(world.engine) as session:
        quote = session.exec(select(ScenarioQuote).where(ScenarioQuote.scenario_id == sid)).one()
        assert quote.vendor == "先に保存した事業者"
    # having seen it, the second coordinator may replace it deliberately (the page now carries its lock)
    lock = re.search(r'name="lock"[^>]*value="(\d+)"|value="(\d+)"[^>]*name="lock"', text)
    assert (
        second.post(url, data={**QUOTE, "lock": lock.group(1) or lock.group(2), "vendor": "置き換え"}).status_code
        == 302
    )


def _flags_version(engine, code: str) -> int:
    with Session(engine) as session:
        return session.get(Body, code).version


def test_parallel_flag_saves_with_one_version_give_one_save_and_409s(world, app):
    code = "202029"
    fields = ("disadvantaged", "has_data_plan", "no_allocation_tax")
    for _ in range(3):
        with Session(world.engine) as session:
            body = session.get(Body, code)
            version, now = body.version, tuple(getattr(body, f) for f in fields)
        # four different changes, none of them what is there now
        wanted = [c for c in ((a, b, c) for a in (0, 1) for b in (0, 1) for c in (0, 1)) if c != now][:4]
        clients = _clients(app, 4)

        def save(c, i, version=version, wanted=wanted):
            data = {f"b{code}-version": str(version)}
            data.update({f"b{code}-{f}": "y" for f, on in zip(fields, wanted[i], strict=True) if on})
            return c.post(f"/bodies/{code}/flags", data=data)

        results = _together(clients, save)
        assert sorted(r[0] for r in results) == [302, 409, 409, 409], results
        winner = wanted[[r[0] for r in results].index(302)]
        with Session(world.engine) as session:
            body = session.get(Body, code)
            assert body.version == version + 1
            assert tuple(getattr(body, f) for f in fields) == winner
        for status, text in results:
            if status == 409:
                assert "他の利用者が更新しました" in text


def _confirm_fields(html: str) -> dict:
    out = {}
    for name in ("file_name", "content", "basis"):
        m = re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', html)
        assert m, name
        out[name] = m.group(1) or m.group(2)
    return out


def test_a_replayed_flags_import_confirmation_does_not_revert_a_later_change(world, app):
    code = "204820"  # 小谷村
    coordinator, other = _clients(app, 2)
    data = f"団体コード,条件不利地域\n{code},1\n".encode()
    html = coordinator.post(
        "/bodies/import",
        data={"file": (__import__("io").BytesIO(data), "flags.csv")},
        content_type="multipart/form-data",
    ).get_data(as_text=True)
    fields = _confirm_fields(html)
    assert base64.b64decode(fields["content"]) == data
    assert coordinator.post("/bodies/import/confirm", data=fields).status_code == 302
    with Session(world.engine) as session:
        assert session.get(Body, code).disadvantaged is True
    # another coordinator turns it off again
    version = _flags_version(world.engine, code)
    assert other.post(f"/bodies/{code}/flags", data={f"b{code}-version": str(version)}).status_code == 302
    # the first confirmation, replayed, would turn it back on unseen: refused, with the change shown to confirm
    r = coordinator.post("/bodies/import/confirm", data=fields)
    assert r.status_code == 409
    assert "他の利用者が団体の区分を変更しました" in r.get_data(as_text=True)
    with Session(world.engine) as session:
        assert session.get(Body, code).disadvantaged is False
    # confirming the fresh preview applies it
    assert coordinator.post("/bodies/import/confirm", data=_confirm_fields(r.get_data(as_text=True))).status_code == 302
    with Session(world.engine) as session:
        assert session.get(Body, code).disadvantaged is True


def test_administrators_removing_each_other_at_once_never_get_a_500(world, app):
    with Session(world.engine) as session:
        names = []
        for i in range(4):
            name = f"admin-race-{i}"
            if session.exec(select(User).where(User.username == name)).first() is None:
                create_user(session, name, PASSWORD, "admin")
            names.append(name)
        session.commit()
        ids = [session.exec(select(User.id).where(User.username == n)).one() for n in names]
    clients = []
    for name in names:
        c = app.test_client()
        login(c, name)
        clients.append(c)

    def remove(c, i):
        target = ids[(i + 1) % len(ids)]
        if i % 2:
            return c.post(f"/admin/users/{target}/active", data={"active": "0"})
        return c.post(
            f"/admin/users/{target}", data={"role": "prefecture", "prefecture_code": "20", "display_name": ""}
        )

    results = _together(clients, remove)
    assert all(not isinstance(r, Exception) and r[0] in (200, 302, 409, 422) for r in results), results
    with Session(world.engine) as session:
        active = session.exec(select(User).where(User.role == "admin", User.is_active == True)).all()  # noqa: E712
        assert active
