"""The effect estimates on the plan, group and body pages: the range, the caveat, the cases, per member."""

from __future__ import annotations

import re

from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.domain.effects import effects_from_plan
from planner.services.plans import plan_view
from tests.support.plans import add_needs, make_scenario, publish_now, solve_now
from tests.support.web import login, logout


def test_pages_show_the_ranges(app, client, seed, solver):
    engine = app.extensions["db_engine"]
    add_needs(engine)
    plan_id = solve_now(engine, make_scenario(engine))
    with Session(engine) as session:
        row = session.get(PlanRow, plan_id)
        view = plan_view(row)
        estimates = effects_from_plan(row.plan_doc)
        effects = estimates.needs if estimates is not None else {}
    assert effects, "the seed loads the effect model, so the plan carries estimates"
    login(client, "pref20")
    page = client.get(f"/plans/{plan_id}").get_data(as_text=True)
    assert "導入効果の見込み（職員の作業時間の削減）" in page and "好事例" in page
    assert "分野別の削減時間の見込み" in page and "<svg" in page
    # each chart's caption is its title: inside its own figure and before the chart, never after it
    section = page[page.index('class="effects-summary"') :]
    figures = re.findall(r"<figure[^>]*>(.*?)</figure>", section[: section.index("</section>")], re.S)
    assert len(figures) == 2
    for figure, title in zip(figures, ("分野別の削減時間の見込み", "団体別の削減時間の見込み"), strict=True):
        assert figure.index("<figcaption>") < figure.index("<svg") and figure.count("<figcaption>") == 1
        assert re.search(r"<figcaption>([^<]*)</figcaption>", figure).group(1).startswith(title)
        assert f"<title>{title}" in figure  # the chart inside is the one the caption names
    rpa_hours = [e.hours for e in effects.values() if e.category == "rpa" and e.hours]
    assert rpa_hours
    group = next(g for g in view.groups if g.joint and g.group.category == "rpa")
    page = client.get(f"/plans/{plan_id}/groups/{group.id}").get_data(as_text=True)
    member = group.members[0]
    e = effects[member.need_id]
    assert f"{e.hours.low:,.0f}〜{e.hours.high:,.0f}時間（中位 {e.hours.central:,.0f}時間）" in page
    assert f"{e.joint.yearly_net_yen:,}円" in page and "人件費単価が未設定" in page
    api = client.get(f"/api/plans/{plan_id}/groups/{group.id}").get_json()
    shared = next(m for m in api["member_shares"] if m["need_id"] == member.need_id)
    assert shared["effect"]["hours_per_year"] == [e.hours.low, e.hours.central, e.hours.high]
    logout(client)
    publish_now(engine, plan_id)  # a municipal user sees only a published plan
    login(client, "muni202011")
    page = client.get(f"/plans/{plan_id}/body/202011").get_data(as_text=True)
    assert "導入効果の見込み（長野市）" in page and "団体合計" in page
    assert "見込みなし（現状値が必要）" in page  # 長野市's AI-OCR need without its own figure
