"""The member's notice (負担額通知) and the prefecture summary carry the effect estimates: the range, yen per hour
saved, the cases and the caveat; plans without effects print as before."""

import json

import pytest

from planner.domain.effects import Baseline, default_effect_model_doc, parse_effect_model
from planner.domain.settled import member_lines
from planner.domain.settlement import attach_effects
from planner.reports import pdf

from .fixtures import nagano_instance, nagano_plan
from .helpers import pdf_text


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    model = parse_effect_model(default_effect_model_doc())
    plan = attach_effects(
        instance,
        nagano_plan(instance),
        model,
        baselines={"n-nagano-ocr": Baseline(minutes_per_unit=3)},
        staff_costs={"202011": 3000},
    )
    return instance, plan


def flat(text: str) -> str:
    return "".join(text.split())


def test_notice_shows_the_members_effect(setting):
    instance, plan = setting
    line = next(ln for g in plan.groups for ln in member_lines(instance, g) if ln.need_id == "n-nagano-ocr")
    e = line.effect
    text = flat(pdf_text(pdf.member_pdf(instance, plan, "n-nagano-ocr")))
    assert "導入効果の見込み（参考）" in text
    assert f"年{e.hours.low:,.0f}〜{e.hours.high:,.0f}時間（中位{e.hours.central:,.0f}時間）の削減見込み" in text
    assert f"{e.joint.yen_per_hour.low:,.0f}〜{e.joint.yen_per_hour.high:,.0f}円" in text
    assert "人件費単価3,000円/時間" in text and "好事例" in text and "令和7年6月30日版" in text
    other = flat(pdf_text(pdf.member_pdf(instance, plan, "n-otari-ocr")))
    assert "現状値を入力すると見込みを示します" in other


def test_summary_has_hours_by_category_and_body(setting):
    instance, plan = setting
    html = pdf.summary_html(instance, plan)
    assert "導入効果の見込み（職員の作業時間の削減）" in html and "図4" in html and "図5" in html
    assert "団体別の削減時間の見込み" in html and "好事例" in html
    text = flat(pdf_text(pdf.summary_pdf(instance, plan)))
    assert "分野別の削減時間の見込み" in text


def test_plan_without_effects_prints_as_before():
    instance = nagano_instance()
    plan = nagano_plan(instance)
    assert "導入効果" not in pdf.member_html(instance, plan, "n-nagano-ocr")
    assert "導入効果" not in pdf.summary_html(instance, plan)
    assert json.dumps(plan.to_dict())  # no effects field written
    assert "effects" not in plan.to_dict()


def test_member_workbook_has_the_effect_with_formulas(setting):
    from io import BytesIO

    from openpyxl import load_workbook

    from planner.reports import xlsx

    instance, plan = setting
    ws = load_workbook(BytesIO(xlsx.member_workbook(instance, plan, "n-nagano-ocr"))).worksheets[0]
    rows = {r[0].value: r for r in ws.iter_rows() if r[0].value}
    assert "導入効果の見込み（参考・事例にもとづく見込み）" in rows
    line = next(ln for g in plan.groups for ln in member_lines(instance, g) if ln.need_id == "n-nagano-ocr")
    hours = rows["削減時間（時間/年）"]
    assert [c.value for c in hours[1:4]] == [line.effect.hours.low, line.effect.hours.central, line.effect.hours.high]
    assert rows["実質負担 見込額（期間合計、補助金なし）"][1].value == line.net_without_grant_yen
    assert rows["削減1時間あたりの実質負担（円）"][1].value.startswith("=ROUND(")
    assert any("好事例" in str(k) for k in rows)


def _boxes(box, parent=None):
    """Every box under ``box`` with its parent."""
    yield box, parent
    for child in getattr(box, "children", ()):
        yield from _boxes(child, box)


def _classes(box) -> set[str]:
    element = getattr(box, "element", None)
    return set((element.get("class") or "").split()) if element is not None else set()


def _drawn_bottom(svg) -> float:
    """How far down an SVG draws, as a share of its height (its lowest text, bar or line; the rest is blank)."""
    lows = [0.0]
    for e in svg.iter():
        tag = e.tag.rsplit("}", 1)[-1]
        a = e.attrib
        if tag == "text" and "y" in a:
            lows.append(float(a["y"]) + 0.25 * float(a.get("font-size", 12)))
        elif tag == "rect" and "y" in a:
            lows.append(float(a["y"]) + float(a.get("height", 0)))
        elif tag == "line":
            lows.append(max(float(a.get("y1", 0)), float(a.get("y2", 0))))
    return max(lows) / float(svg.get("viewBox").split()[3])


def test_each_figure_caption_sits_under_its_own_chart(setting):
    """Issue #31 point 6: a caption is read with the chart above it, not as the title of what follows: in the laid-out
    summary every caption is closer to its own chart than to the next block on its page."""
    from weasyprint import HTML

    from planner.reports.render import PROJECT_ROOT

    instance, plan = setting
    document = HTML(string=pdf.summary_html(instance, plan), base_url=str(PROJECT_ROOT)).render(
        stylesheets=[pdf._stylesheet()]
    )
    checked = []
    for page in document.pages:
        for box, parent in _boxes(page._page_box):
            if "figure" not in _classes(box) or type(box).__name__ != "BlockBox" or "figure" in _classes(parent):
                continue
            inside = [b for b, _ in _boxes(box)]
            chart = next((b for b in inside if str(getattr(b, "element_tag", "")).endswith("svg")), None)
            caption = next((b for b in inside if "caption" in _classes(b)), None)
            siblings = list(parent.children)
            after = siblings[siblings.index(box) + 1 :]
            if chart is None or caption is None or not after:
                continue
            chart_bottom = chart.content_box_y() + _drawn_bottom(chart.element) * chart.height
            caption_top, caption_bottom = caption.content_box_y(), caption.content_box_y() + caption.height
            following = after[0]
            next_top = following.border_box_y() if hasattr(following, "border_box_y") else following.position_y
            above, below = caption_top - chart_bottom, next_top - caption_bottom
            name = "".join(caption.element.itertext())
            checked.append(name[:2])
            assert 0 <= above < below, f"{name}: {above:.1f} px under its chart, {below:.1f} px over what follows"
    assert {"図1", "図4"} <= set(checked)
