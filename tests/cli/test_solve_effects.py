"""``planner solve`` writes each need's effect estimate (導入効果) into the plan."""

from __future__ import annotations

import json

from click.testing import CliRunner

from planner.cli import main
from tests.domain.factories import body, instance_doc, need

BODIES = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city"),
    body("202029", "松本市", 36.2380, 137.9720, kind="city"),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
]


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_solve_writes_effects(tmp_path):
    doc = instance_doc(BODIES, [need("a", "202011", volume=20.0, can_lead=True), need("b", "202029", volume=10.0)])
    doc["needs"][0]["baseline"] = {"minutes_per_unit": 3}
    doc["bodies"][2]["staff_cost_per_hour_yen"] = 3000  # the prefecture's figure, used by both cities
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "plan.json"
    result = run("solve", src, "-o", out)
    assert result.exit_code == 0, result.output
    plan = json.loads(out.read_text(encoding="utf-8"))
    effects = plan["effects"]
    assert effects["model_version"] == "effect-R7.06-3" and "好事例" in effects["caveat"]
    a, b = effects["needs"]["a"], effects["needs"]["b"]
    assert a["status"] == "estimate" and a["basis"] == "own_minutes"
    assert a["hours_per_year"] == [220.0, 570.0, 950.0]  # 20,000 sheets x 3 min / 60 x 22 / 57 / 95 %
    assert a["staff_cost_per_hour_yen"] == 3000 and a["value_yen_per_year"] == [660000, 1710000, 2850000]
    # yen per hour divides the headline net burden: the grant not awarded, the special tax counted
    net = next(g["subsidies"]["a"]["net_without_grant_yen"] for g in plan["groups"] if "a" in g["members"])
    assert a["joint"]["yearly_net_yen"] == round(net / 5)
    assert b["status"] == "needs_own_figure" and b["hours_per_year"] is None


def test_bad_effect_inputs_exit_2(tmp_path):
    doc = instance_doc(BODIES, [need("a", "202011", volume=20.0)])
    doc["needs"][0]["baseline"] = {"minutes_per_unit": -1}
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(src), "-o", str(tmp_path / "p.json")])
    assert result.exit_code == 2
    assert "needs[0].baseline.minutes_per_unit" in result.output
    model = tmp_path / "model.json"
    model.write_text(json.dumps({"schema": "kyodo-planner-effect-model/1"}), encoding="utf-8")
    doc["needs"][0]["baseline"] = None
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = CliRunner().invoke(main, ["solve", str(src), "-o", str(tmp_path / "p.json"), "--effects", str(model)])
    assert result.exit_code == 2 and "導入効果モデル" in result.output and "caveat" in result.output
