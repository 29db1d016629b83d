"""The documents of a plan made by the real optimiser and settlement , read back."""

import json

import pytest
from click.testing import CliRunner

from planner.cli import main
from planner.domain import optimiser, settlement
from planner.domain.instance_io import instance_to_dict
from planner.reports import pdf, xlsx

from .fixtures import nagano_instance
from .helpers import Workbook, pdf_fonts, pdf_text


def yen(v: int) -> str:
    return f"{v:,}" if v >= 0 else f"−{-v:,}"


@pytest.fixture(scope="module")
def setting():
    instance = nagano_instance()
    plan = settlement.settle_plan(instance, optimiser.optimise(instance, time_limit=20))
    return instance, plan


def test_every_joint_group_prints_with_its_figures(setting):
    instance, plan = setting
    joint = [g for g in plan.groups if g.mode != "standalone"]
    assert joint, "the fixture is made so that joint procurement pays"
    for g in joint:
        data = pdf.group_pdf(instance, plan, g.id)
        assert all(pdf_fonts(data).values())
        text = pdf_text(data)
        for nid in g.members:
            share, sub = g.allocation.share(nid), g.subsidies[nid]
            assert instance.bodies[instance.need(nid).body].name in text
            assert yen(share.initial_yen) + yen(share.annual_yen) + yen(share.total_yen) in text
            assert yen(share.total_yen - sub.net_without_grant_yen) in text  # the headline's special tax
            assert yen(sub.net_without_grant_yen) in text and yen(sub.grant_yen) + yen(sub.net_yen) in text
        wb = Workbook(xlsx.group_workbook(instance, plan, g.id))
        total = wb.find(wb.wb.sheetnames[0], "合計")
        assert wb.value(wb.wb.sheetnames[0], f"G{total}") == g.cost.total_yen


def test_member_notice_and_summary(setting):
    instance, plan = setting
    g = next(g for g in plan.groups if g.mode != "standalone")
    nid = g.members[-1]
    text = pdf_text(pdf.member_pdf(instance, plan, nid))
    assert yen(g.subsidies[nid].net_yen) in text
    text = pdf_text(pdf.summary_pdf(instance, plan))
    assert yen(plan.objective_yen) in text


def test_cli_settles_an_unsettled_plan(setting, tmp_path):
    instance, _ = setting
    raw = optimiser.optimise(instance, time_limit=20)
    doc = raw.to_dict()
    for g in doc["groups"]:
        g.pop("allocation", None)
        g.pop("subsidies", None)
    (tmp_path / "plan.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "inst.json").write_text(json.dumps(instance_to_dict(instance), ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(
        main,
        ["report", str(tmp_path / "plan.json"), "--instance", str(tmp_path / "inst.json"), "-o", str(tmp_path / "out")],
    )
    assert result.exit_code == 0, result.output
    names = {p.name for p in (tmp_path / "out").iterdir()}
    assert "summary.pdf" in names
    assert {f"{g['id']}.pdf" for g in doc["groups"] if g["mode"] != "standalone"} <= names
