"""``planner solve`` and ``planner bench`` end to end (no database)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from planner.cli import main
from tests.conftest import shared_path
from tests.domain.factories import body, instance_doc, need

BODIES = [
    body("202011", "長野市", 36.6486, 138.1948, kind="city"),
    body("202029", "松本市", 36.2380, 137.9720, kind="city"),
    body("202037", "上田市", 36.4019, 138.2491, kind="city"),
    body("200000", "長野県", 36.6513, 138.1810, kind="prefecture"),
]


def good_doc() -> dict:
    return instance_doc(
        BODIES,
        [
            need("a", "202011", volume=120.0, can_lead=True),
            need("b", "202029", volume=80.0),
            need("c", "202037", volume=60.0, modes=["unified"]),
        ],
        hosts=[{"body": "200000", "categories": ["ocr"]}],
    )


def run(*args):
    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def test_solve_writes_a_plan(tmp_path):
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(good_doc(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out" / "plan.json"
    result = run("solve", src, "-o", out, "--time-limit", "30", "--gap", "0")
    assert result.exit_code == 0, result.output
    assert "status: optimal" in result.output and "Running HiGHS" not in result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    assert doc["format"] == "kyodo-planner-plan/1" and doc["status"] == "optimal"
    assert sorted(m for g in doc["groups"] for m in g["members"]) == ["a", "b", "c"]
    assert doc["objective_yen"] == sum(g["cost"]["total_yen"] for g in doc["groups"])
    assert doc["lower_bound_yen"] <= doc["objective_yen"]
    for g in doc["groups"]:
        assert "allocation" in g and "subsidies" in g  # settled when planner.domain.settlement is present
    assert list(tmp_path.joinpath("out").iterdir()) == [out]  # no temporary file left behind


def test_solve_with_cbc(tmp_path):
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(good_doc(), ensure_ascii=False), encoding="utf-8")
    highs = run("solve", src, "-o", tmp_path / "h.json")
    cbc = run("solve", src, "-o", tmp_path / "c.json", "--solver", "cbc")
    assert highs.exit_code == 0 and cbc.exit_code == 0, cbc.output
    h = json.loads((tmp_path / "h.json").read_text(encoding="utf-8"))
    c = json.loads((tmp_path / "c.json").read_text(encoding="utf-8"))
    assert h["objective_yen"] == c["objective_yen"] and c["stats"]["solver"] == "cbc"


def test_bad_instance_exits_2_naming_record_and_field(tmp_path):
    doc = good_doc()
    doc["needs"][1]["volume"] = -5
    doc["needs"][2]["body"] = "999999"
    src = tmp_path / "bad.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "plan.json"
    result = run("solve", src, "-o", out)
    assert result.exit_code == 2
    assert 'needs[1] (id "b").volume' in result.stderr
    assert "999999" in result.stderr and "needs[2]" in result.stderr
    assert not out.exists()


def test_not_json_exits_2(tmp_path):
    src = tmp_path / "broken.json"
    src.write_text("{ not json", encoding="utf-8")
    result = run("solve", src, "-o", tmp_path / "plan.json")
    assert result.exit_code == 2 and "not valid JSON" in result.stderr


def test_unsatisfiable_overrides_exit_2(tmp_path):
    doc = good_doc()
    doc["rules"]["fixed"] = [{"need": "b", "lead_body": "202037"}]  # 上田市's need only accepts unified... as lead
    doc["rules"]["fixed"][0]["mode"] = "lead"
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    result = run("solve", src, "-o", tmp_path / "plan.json")
    assert result.exit_code == 2 and "infeasible" in result.stderr


def test_bad_rules_file_exits_2(tmp_path):
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(good_doc(), ensure_ascii=False), encoding="utf-8")
    rules = tmp_path / "rules.json"
    rules.write_text("[1, 2", encoding="utf-8")
    result = run("solve", src, "-o", tmp_path / "plan.json", "--rules", rules)
    assert result.exit_code == 2 and "rules.json" in result.stderr


def test_solve_real_nagano_bench(tmp_path):
    src = shared_path("bench", "nagano.json")
    out = tmp_path / "nagano_plan.json"
    result = run("solve", src, "-o", out)
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    source = json.loads(src.read_text(encoding="utf-8"))
    assert doc["status"] == "optimal" and doc["gap"] == 0.0, json.dumps(doc["stats"])
    assert sorted(m for g in doc["groups"] for m in g["members"]) == sorted(n["id"] for n in source["needs"])
    assert doc["objective_yen"] < doc["standalone_total_yen"]


def test_bench_on_given_files(tmp_path):
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(good_doc(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "bench.json"
    result = run("bench", "--instances", src, "--json", out)
    assert result.exit_code == 0, result.output
    assert "inst.json [colgen]: needs 3" in result.output and "vs greedy" in result.output
    assert "load average" in result.output and "calibration loop" in result.output
    assert "trace (s: incumbent / bound / gap)" in result.output
    assert "phases (s wall, parent): decompose" in result.output and "enumeration: " in result.output
    row = json.loads(out.read_text(encoding="utf-8"))["rows"][0]
    assert row["needs"] == 3 and row["peak_rss_mb"] > 0
    assert row["objective_yen"] <= min(b["objective_yen"] for b in row["baselines"].values())
    assert row["trace"][-1][1:] == [row["objective_yen"], row["lower_bound_yen"]]


def test_bench_compares_methods_in_the_same_run(tmp_path):
    """--compare: the method before column generation and the plain MILP of the same model, each after the
    optimiser in the same run, all reaching the same optimum on a small instance."""
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(good_doc(), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "bench.json"
    result = run("bench", "--instances", src, "--compare", "--json", out)
    assert result.exit_code == 0, result.output
    assert "inst.json [previous]" in result.output and "inst.json [plain_milp]" in result.output
    rows = json.loads(out.read_text(encoding="utf-8"))["rows"]
    assert [r["method"] for r in rows] == ["colgen", "previous", "plain_milp"]
    # the plain MILP sums its columns' exact costs, the plans round each group's cost to the yen
    assert rows[0]["objective_yen"] == rows[1]["objective_yen"] == pytest.approx(rows[2]["objective_yen"], abs=5)
    assert rows[2]["unfinished"] == 0 and rows[2]["peak_rss_mb"] > 0


def test_allocation_that_cannot_be_computed_is_a_clear_error_and_no_file(tmp_path):
    doc = good_doc()
    doc["bodies"][1]["population"] = None  # 人口割 needs every member's population
    doc["allocation"] = {"method": "population", "weights": {}}
    src = tmp_path / "inst.json"
    src.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "plan.json"
    result = CliRunner().invoke(main, ["solve", str(src), "-o", str(out)])
    assert result.exit_code == 2
    assert "按分ができません" in result.output and "松本市" in result.output
    assert not out.exists()


def test_the_summary_names_why_each_group_is_outside_the_core(tmp_path):
    """With core "report" a group outside the core keeps its method's shares: the summary counts it as such, and
    「コアが空」 only for the groups whose least core value is negative (no split keeps every coalition)."""
    src = shared_path("bench", "nagano.json")
    out = tmp_path / "plan.json"
    result = run("solve", src, "-o", out, "--core", "report")
    assert result.exit_code == 0, result.output
    doc = json.loads(out.read_text(encoding="utf-8"))
    joint = [g for g in doc["groups"] if len(g["members"]) > 1]
    outside = [g for g in joint if not g["allocation"]["in_core"]]
    empty = [g for g in outside if (g["allocation"]["least_core_yen"] or 0) < 0]
    kept = len(outside) - len(empty)
    assert kept > 0, "the bench's method splits some groups outside a non-empty core"
    assert f"最終的にコア外 {len(outside)}（うちコアが空 {len(empty)}、実質負担の保証を優先 0、" in result.output
    assert f"コア調整なしの按分（core report） {kept}）" in result.output
