"""The published plan's inputs check is compared once per state of the inputs (issue #30: it rebuilt the instance on
every view of a plan page), and a change to any input still shows on the very next view — and a change undone
stops showing at once: the check is keyed by the content of the rows read, so nothing can be left stale."""

from __future__ import annotations

from sqlmodel import Session, select

from planner.db.models import Body, Need, Scenario
from planner.services import release_inputs
from tests.support.plans import publish_now
from tests.support.web import login

WARNING = "公表後に入力が変わっています"


def test_the_inputs_check_is_reused_until_an_input_changes_and_shows_each_change_at_once(
    app, client, planned, monkeypatch
):
    engine, view = planned["engine"], planned["view"]
    publish_now(engine, view.id)
    compared = []
    compare = release_inputs._compare
    monkeypatch.setattr(release_inputs, "_compare", lambda *a: compared.append(1) or compare(*a))
    monkeypatch.setattr(release_inputs, "_CHECKS", type(release_inputs._CHECKS)())
    login(client, "pref20")
    url = f"/plans/{view.id}"

    def page() -> str:
        return client.get(url).get_data(as_text=True)

    assert WARNING not in page()
    assert WARNING not in page() and WARNING not in client.get(f"{url}/body/202011").get_data(as_text=True)
    assert len(compared) == 1  # three views, one comparison

    def change(apply) -> None:
        with Session(engine) as session:
            apply(session)
            session.commit()

    def need(session, body, category):
        return session.exec(select(Need).where(Need.body_code == body, Need.category_id == category)).one()

    original = {}

    def edit_volume(session):
        row = need(session, "202029", "ocr")
        original["volume"] = row.volume
        row.volume, row.version = 95.0, row.version + 1
        session.add(row)

    change(edit_volume)
    text = page()
    assert WARNING in text and "ニーズの変更: 松本市のAI-OCR（2026年度）: 利用量 80 → 95" in text
    assert len(compared) == 2
    assert WARNING in page() and len(compared) == 2  # the same inputs: not compared again

    def undo_volume(session):
        row = need(session, "202029", "ocr")
        row.volume, row.version = original["volume"], row.version + 1
        session.add(row)

    change(undo_volume)
    assert WARNING not in page()  # back as published: the warning goes at once too

    def population(session):
        body = session.get(Body, "202029")
        body.population, body.version = (body.population or 0) + 1000, body.version + 1
        session.add(body)

    change(population)
    text = page()
    assert WARNING in text and "団体データの変更: 松本市: 人口" in text

    def method(session):
        scenario = session.get(Scenario, planned["scenario_id"])
        scenario.allocation_method = "equal" if scenario.allocation_method != "equal" else "population"
        scenario.version += 1
        session.add(scenario)

    change(method)
    assert "条件の変更: 按分方法" in page()
