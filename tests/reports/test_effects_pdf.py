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
