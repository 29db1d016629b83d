import json

from click.testing import CliRunner

from planner.cli import main
from planner.domain.instance_io import instance_to_dict, load_instance
from planner.domain.settled import member_lines

from .fixtures import nagano_instance
from .helpers import pdf_text
from .plans import settled_plan_doc


def write_inputs(tmp_path, groups):
    instance = nagano_instance()
    inst, plan = tmp_path / "instance.json", tmp_path / "plan.json"
    inst.write_text(json.dumps(instance_to_dict(instance), ensure_ascii=False), encoding="utf-8")
    doc = settled_plan_doc(instance, groups)
    plan.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    return inst, plan, doc


def instance_bodies(path):
    return {code: b.name for code, b in load_instance(path).bodies.items()}


def test_report_writes_one_pdf_per_joint_group_and_the_summary(tmp_path):
    inst, plan, doc = write_inputs(tmp_path, [("ocr/2026:1", "unified", "202029", ["n-matsumoto-ocr", "n-ueda-ocr"])])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(out), "--xlsx"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "finance",
        "ocr_2026_1.pdf",
        "ocr_2026_1.xlsx",
        "statements",
        "summary.pdf",
        "summary.xlsx",
        "年度別予算総括表.pdf",
        "年度別予算総括表.xlsx",
        "覚書案",
    ]
    # the 仕様統一 group's 覚書 (no 協定書: its members contract on their own), as the ZIP names it
    assert sorted(p.name for p in (out / "覚書案").iterdir()) == [
        "AI-OCR_松本市_2026_ocr_2026_1.docx",
        "AI-OCR_松本市_2026_ocr_2026_1.pdf",
    ]
    text = pdf_text((out / "ocr_2026_1.pdf").read_bytes())
    share = doc["groups"][0]["allocation"]["shares"]["n-ueda-ocr"]
    assert "上田市" in text and f"{share['total_yen']:,}" in text
    # every body with a need in the plan (the two members and the standalone needs) gets its statement
    bodies = sorted({(n.body, instance_bodies(inst)[n.body]) for n in load_instance(inst).needs})
    assert sorted(p.name for p in (out / "statements").iterdir()) == [f"{c}_{name}.pdf" for c, name in bodies]
    # 予算見積資料 (PDF and workbook) for the same bodies: no lead-mode group, so no host lead
    assert sorted(p.name for p in (out / "finance").iterdir()) == sorted(
        f"{c}_{name}.{ext}" for c, name in bodies for ext in ("pdf", "xlsx")
    )
    assert f"{4 + 2 + 2 + 3 * len(bodies)}件のファイル" in result.output  # the 覚書 as PDF and Word


def test_bad_plan_is_refused_and_nothing_is_written(tmp_path):
    inst, plan, doc = write_inputs(tmp_path, [("g1", "unified", "202029", ["n-matsumoto-ocr", "n-ueda-ocr"])])
    doc["groups"][0]["cost"]["total_yen"] += 1
    plan.write_text(json.dumps(doc), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(out)])
    assert result.exit_code == 2
    assert "グループ g1" in result.output and "一致しません" in result.output
    assert not out.exists()


def test_plan_of_another_instance_is_named(tmp_path):
    inst, plan, doc = write_inputs(tmp_path, [])
    group = doc["groups"][0]
    (old,) = group["members"]
    group["members"] = ["someone-else"]  # a plan of another instance: its records name its own needs
    group["allocation"]["shares"]["someone-else"] = group["allocation"]["shares"].pop(old)
    group["subsidies"]["someone-else"] = group["subsidies"].pop(old)
    plan.write_text(json.dumps(doc), encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "someone-else" in result.output and "--instance" in result.output


def test_not_json(tmp_path):
    inst, plan, _ = write_inputs(tmp_path, [])
    plan.write_text("{oops", encoding="utf-8")
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(tmp_path / "o")])
    assert result.exit_code == 2 and "JSON" in result.output and "1行" in result.output


def test_report_of_a_plan_settled_by_the_settlement(tmp_path):
    """The file `planner solve` writes (allocation and subsidies from settle_plan) prints as it is: one PDF per
    joint group named by its id, summary.pdf, and every member's figures exactly as the file has them."""
    from planner.domain import settlement
    from planner.domain.plan import plan_from_dict

    instance = nagano_instance()
    hand_made = settled_plan_doc(
        instance,
        [
            ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr", "n-hakuba-ocr"]),
            ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
        ],
    )
    for g in hand_made["groups"]:
        g.pop("allocation")
        g.pop("subsidies")
    plan = settlement.settle_plan(instance, plan_from_dict(hand_made))
    doc = plan.to_dict()
    inst, plan_file = tmp_path / "instance.json", tmp_path / "plan.json"
    inst.write_text(json.dumps(instance_to_dict(instance), ensure_ascii=False), encoding="utf-8")
    plan_file.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(plan_file), "--instance", str(inst), "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in out.iterdir()) == [
        "finance",
        "ocr-2026-1.pdf",
        "rpa-2026-1.pdf",
        "statements",
        "summary.pdf",
        "協定書案",
        "年度別予算総括表.pdf",
        "年度別予算総括表.xlsx",
        "覚書案",
    ]
    # the lead-mode group's 協定書 and the 仕様統一 group's 覚書, as in the ZIP
    for folder, stem in (("協定書案", "RPA_長野県_2026_rpa-2026-1"), ("覚書案", "AI-OCR_長野市_2026_ocr-2026-1")):
        assert sorted(p.name for p in (out / folder).iterdir()) == [f"{stem}.docx", f"{stem}.pdf"]
    assert "第4条" in pdf_text((out / "協定書案" / "RPA_長野県_2026_rpa-2026-1.pdf").read_bytes())
    statements = {p.name: pdf_text(p.read_bytes()) for p in (out / "statements").iterdir()}
    otari = statements["204820_小谷村.pdf"]
    lines = [ln for g in plan.groups for ln in member_lines(instance, g) if ln.body_code == "204820"]
    assert "年度別負担額" in otari and f"{sum(ln.net_without_grant_yen for ln in lines):,}" in otari
    assert f"{sum(ln.total_yen for ln in lines):,}" in otari
    for g in doc["groups"]:
        if g["mode"] == "standalone":
            continue
        text = pdf_text((out / f"{g['id']}.pdf").read_bytes())
        assert g["allocation"]["method_label"] in text
        for nid in g["members"]:
            share, sub = g["allocation"]["shares"][nid], g["subsidies"][nid]
            assert instance.bodies[instance.need(nid).body].name in text
            assert f"{share['initial_yen']:,}{share['annual_yen']:,}{share['total_yen']:,}" in text
            # the headline is the net burden without the grant; the grant is its own 「採択された場合」 column
            headline = share["total_yen"] - sub["special_tax_without_grant_yen"]
            assert headline == sub["net_without_grant_yen"]
            assert f"{sub['special_tax_without_grant_yen']:,}" in text and f"{headline:,}" in text
            assert f"{sub['grant_yen']:,}{sub['net_yen']:,}" in text
    summary = pdf_text((out / "summary.pdf").read_bytes())
    assert f"{doc['objective_yen']:,}円" in summary


def test_report_renders_on_worker_processes_the_same_files_as_in_one_process(tmp_path, monkeypatch):
    """`planner report` renders as the plan's ZIP does (batches, worker processes): with --workers 2 (the small plan
    taken over the parallel threshold) the same files, notices included, as with --workers 1, byte for byte."""
    from planner.reports import bundle

    monkeypatch.setattr(bundle, "PARALLEL_FROM", 2)
    pools = []
    render_parallel = bundle._render_parallel
    monkeypatch.setattr(bundle, "_render_parallel", lambda *args: pools.append(args[4]) or render_parallel(*args))
    inst, plan, doc = write_inputs(
        tmp_path,
        [
            ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-matsumoto-ocr", "n-otari-ocr"]),
            ("rpa-2026-1", "lead", "200000", ["n-nagano-rpa", "n-ueda-rpa", "n-otari-rpa"]),
        ],
    )
    outputs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"out{workers}"
        args = ["report", str(plan), "--instance", str(inst), "-o", str(out), "--members", "--workers", workers]
        result = CliRunner().invoke(main, args)
        assert result.exit_code == 0, result.output
        outputs[workers] = {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*.pdf")}
    assert pools == [2]  # --workers 1 rendered in this process, --workers 2 on two worker processes
    assert set(outputs["1"]) == set(outputs["2"])
    assert {"member-n-otari-ocr.pdf", "member-n-ueda-rpa.pdf", "ocr-2026-1.pdf", "summary.pdf"} <= set(outputs["1"])
    assert "statements/204820_小谷村.pdf" in outputs["1"]
    assert all(outputs["1"][name] == outputs["2"][name] for name in outputs["1"])
    notice = pdf_text(outputs["2"]["member-n-ueda-rpa.pdf"])
    share = next(g for g in doc["groups"] if g["id"] == "rpa-2026-1")["allocation"]["shares"]["n-ueda-rpa"]
    assert "上田市" in notice and f"{share['total_yen']:,}" in notice


def test_report_workers_must_be_a_positive_count(tmp_path):
    inst, plan, _ = write_inputs(tmp_path, [("ocr/2026:1", "unified", "202029", ["n-matsumoto-ocr", "n-ueda-ocr"])])
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(out), "--workers", "0"])
    assert result.exit_code != 0 and "--workers" in result.output and not out.exists()
