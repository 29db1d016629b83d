"""The documents of the Nagano bench instance (77 bodies, nine categories), planned by the optimiser and settled by
planner.domain.settlement, read back: the largest consortium, a member's notice, the summary and the workbook."""

import pytest

from planner.domain import optimiser, settlement
from planner.domain.instance_io import load_instance
from planner.reports import pdf, xlsx
from tests.conftest import shared_path

from .helpers import Workbook, pdf_font_programs, pdf_pages, pdf_text


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


@pytest.fixture(scope="module")
def nagano():
    instance = load_instance(shared_path("bench", "nagano.json"))
    plan = settlement.settle_plan(instance, optimiser.optimise(instance, time_limit=60))
    joint = [g for g in plan.groups if g.mode != "standalone"]
    largest = max(joint, key=lambda g: (len(g.members), g.id))
    return instance, plan, largest


def test_largest_consortium_prints_every_member_exactly(nagano):
    instance, plan, g = nagano
    data = pdf.group_pdf(instance, plan, g.id)
    text = pdf_text(data)
    assert pdf_pages(data) >= 2
    for nid in g.members:
        body = instance.bodies[instance.need(nid).body]
        share, sub = g.allocation.share(nid), g.subsidies[nid]
        assert body.code + body.name in text, body.name
        assert (
            yen(share.initial_yen)
            + yen(share.annual_yen)
            + yen(share.total_yen)
            + yen(share.standalone_total_yen)
            + yen(share.standalone_total_yen - share.total_yen)
        ) in text
        # the headline (the grant not awarded), then the grant's own 「採択された場合」 columns
        tax = share.total_yen - sub.net_without_grant_yen
        assert (body.name + yen(share.total_yen) + yen(tax)) in text
        assert (
            yen(sub.net_without_grant_yen)
            + yen(sub.standalone_net_without_grant_yen)
            + yen(sub.standalone_net_without_grant_yen - sub.net_without_grant_yen)
            + yen(sub.grant_yen)
            + yen(sub.net_yen)
        ) in text
    assert "合計（" + str(len(g.members)) + "団体）" in text
    for k in ("initial_yen", "annual_yen", "total_yen"):
        assert yen(getattr(g.cost, k)) in text
    assert g.allocation.method_label in text
    assert g.allocation.rounding_rule.replace(" ", "")[:40] in text
    assert "R2-budget-2" in text and "見込額" in text and "令和8年度" in text
    lead = instance.bodies[g.lead_body]
    assert f"{lead.name}長" in text and "印" in text
    for name, programs in pdf_font_programs(data).items():
        assert programs == {"/FontFile2"} and "+IPAex" in name, name


def test_member_notice_adds_up_over_the_years(nagano):
    instance, plan, g = nagano
    nid = g.members[-1]
    share, sub = g.allocation.share(nid), g.subsidies[nid]
    data = pdf.member_pdf(instance, plan, nid)
    text = pdf_text(data)
    body = instance.bodies[instance.need(nid).body]
    assert f"{body.name}長様" in text
    first = share.initial_yen + share.annual_yen
    tax = share.total_yen - sub.net_without_grant_yen  # the headline's special tax (the grant not awarded)
    assert (
        yen(share.initial_yen)
        + yen(share.annual_yen)
        + yen(first)
        + yen(tax)
        + yen(first - tax)
        + yen(sub.grant_yen)
        + yen(first - sub.grant_yen - sub.special_tax_yen)
    ) in text
    annual_sum = share.total_yen - share.initial_yen  # H × annual, or with a rounding drift in the last year
    assert (
        "合計"
        + yen(share.initial_yen)
        + yen(annual_sum)
        + yen(share.total_yen)
        + yen(tax)
        + yen(sub.net_without_grant_yen)
        + yen(sub.grant_yen)
        + yen(sub.net_yen)
    ) in text
    assert pdf_pages(data) == 1


def test_summary_has_every_consortium_and_the_totals(nagano):
    instance, plan, _ = nagano
    text = pdf_text(pdf.summary_pdf(instance, plan))
    joint = [g for g in plan.groups if g.mode != "standalone"]
    for g in joint:
        assert g.id in text
        assert yen(g.cost.total_yen) + yen(g.standalone_total_yen) + yen(g.saving_yen) in text, g.id
    assert yen(plan.objective_yen) + "円" in text
    headline = sum(s.net_without_grant_yen for g in plan.groups for s in g.subsidies.values())
    assert f"実質負担見込額{yen(headline)}円" in text
    assert f"{len(joint)}の共同調達グループ" in text


def test_workbook_sums_match_the_plan(nagano):
    instance, plan, g = nagano
    wb = Workbook(xlsx.group_workbook(instance, plan, g.id))
    sheet = wb.wb.sheetnames[0]
    total = wb.find(sheet, "合計")
    assert wb.wb[sheet][f"G{total}"].value.startswith("=SUM(")
    assert wb.value(sheet, f"E{total}") == g.cost.initial_yen
    assert wb.value(sheet, f"F{total}") == g.cost.annual_yen
    assert wb.value(sheet, f"G{total}") == g.cost.total_yen
    assert wb.value(sheet, f"K{total}") == sum(g.subsidies[n].net_without_grant_yen for n in g.members)
    assert wb.value(sheet, f"P{total}") == sum(g.subsidies[n].net_yen for n in g.members)
    for label in (
        "検算",
        "初期負担の合計 ＝ 初期費用 計",
        "年間負担の合計 ＝ 年間費用 計",
        "期間総額の合計 ＝ 算定期間の総額",
    ):
        assert wb.value(sheet, f"B{wb.find(sheet, label)}") is True, label
