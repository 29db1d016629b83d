"""The plan pages' map: two drawings (wide and phone), and the note that distances are between offices (県庁)."""

from __future__ import annotations

import re

import pytest
from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.services.plans import plan_view
from tests.support.plans import add_needs, make_scenario, solve_now
from tests.support.web import login

NOTE = "位置は各団体の庁舎（都道府県は県庁）です。距離の条件と距離に応じた費用は、庁舎間の大円距離で測ります。"


@pytest.fixture
def planned(app, seed, solver):
    engine = app.extensions["db_engine"]
    add_needs(engine)
    plan_id = solve_now(engine, make_scenario(engine))
    with Session(engine) as session:
        return plan_id, plan_view(session.get(PlanRow, plan_id))


def test_plan_group_and_body_pages_draw_the_map_twice_and_say_distances_are_between_offices(client, planned):
    plan_id, view = planned
    login(client, "pref20")
    group = next(g for g in view.groups if g.joint)
    for url in (
        f"/plans/{plan_id}?map=all",
        f"/plans/{plan_id}/groups/{group.id}",
        f"/plans/{plan_id}/body/{group.body_codes[0]}",
    ):
        page = client.get(url).get_data(as_text=True)
        assert page.count('class="chart consortium-map"') == 2, url
        wide = re.search(r'<div class="map-wide"><svg[^>]* width="(\d+)"', page)
        narrow = re.search(r'<div class="map-narrow"><svg[^>]* width="(\d+)"', page)
        assert wide and narrow and int(narrow.group(1)) == 360 < int(wide.group(1)), url
        assert NOTE in page, url
        assert page.count('class="prefectures"') == 2, url
    # Every joint group is in the legend of both drawings of the summary's map (no 「ほか N グループ」).
    page = client.get(f"/plans/{plan_id}?map=all").get_data(as_text=True)
    assert page.count('class="legend-group"') == 2 * sum(1 for g in view.groups if g.joint)


def test_scenario_form_says_distances_are_between_offices(client, seed):
    login(client, "pref20")
    page = client.get("/scenarios/new").get_data(as_text=True)
    assert "距離は庁舎間（都道府県は県庁）の大円距離です" in page
