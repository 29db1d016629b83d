"""File names of the documents (issue #30): a body's name with a right-to-left override or other format
characters, and names long enough to pass what file systems hold, never reach a ZIP entry, a download's name or
``planner report``'s files as they are: format characters are removed and every name stays within 200 bytes,
with the body code and the group id kept whole."""

from __future__ import annotations

import json
import unicodedata

from click.testing import CliRunner

from planner.cli import main
from planner.domain.instance_io import instance_to_dict, parse_instance
from planner.reports import bundle
from planner.reports.names import MAX_NAME_BYTES, fitted, fitted_name, safe_name

from .fixtures import nagano_instance
from .plans import settled_plan_doc

RLO = "\u202e"
LONG_NAME = "小谷村" + RLO + "fdp" + "あ" * 150 + "\u2066\u200b.exe"  # 466 bytes of UTF-8
GROUPS = [
    ("ocr-2026-1", "unified", "202011", ["n-nagano-ocr", "n-otari-ocr"]),
    ("rpa-2026-1", "lead", "204820", ["n-nagano-rpa", "n-otari-rpa"]),
]


def hostile_instance():
    doc = instance_to_dict(nagano_instance())
    for b in doc["bodies"]:
        if b["code"] == "204820":
            b["name"] = LONG_NAME
    return doc


def assert_clean(name: str) -> None:
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES, (len(name.encode()), name)
    assert not [c for c in name if unicodedata.category(c) == "Cf"], name


def test_format_characters_are_removed_and_separators_replaced():
    assert safe_name("長野市\u202eFDP.exe") == "長野市FDP.exe"
    assert safe_name("a\u2066b\u2069c\u200bd\u200fe\ufeff") == "abcde"
    assert safe_name("a/b\u2028c") == "a_b_c"
    assert safe_name("\u202e") == "_"


def test_a_name_is_cut_on_a_character_boundary_and_codes_are_kept():
    name = fitted(
        [("204820", False), ("あ" * 300, True), ("チャットボット" * 20, True), ("2027", False)], suffix=".pdf"
    )
    assert_clean(name)
    assert name.startswith("204820_あ") and name.endswith("_2027.pdf")
    assert fitted_name("帳票一式_" + "長" * 300, ".zip").endswith(".zip")
    assert_clean(fitted_name("帳票一式_" + "長" * 300, ".zip"))


def test_every_zip_entry_is_clean_short_and_distinct():
    instance = parse_instance(hostile_instance())
    plan_doc = settled_plan_doc(instance, GROUPS)
    from planner.domain.settled_plan import settled_plan_from_dict

    plan = settled_plan_from_dict(plan_doc)
    names = [n for doc in bundle.plan_documents(plan, instance) for n in bundle.document_files(instance, plan, doc)]
    assert len(names) == len(set(names))
    for name in names:
        assert_clean(name)
    otari = [n for n in names if "小谷村" in n]
    assert otari and all("204820" in n or "rpa-2026-1" in n for n in otari)
    assert any(n.endswith("_rpa-2026-1.pdf") for n in otari)  # the lead's long name shortened, the id kept


def test_planner_report_writes_clean_short_names(tmp_path):
    doc = hostile_instance()
    inst, plan = tmp_path / "instance.json", tmp_path / "plan.json"
    inst.write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    plan.write_text(json.dumps(settled_plan_doc(parse_instance(doc), GROUPS), ensure_ascii=False), encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["report", str(plan), "--instance", str(inst), "-o", str(out), "--members"])
    assert result.exit_code == 0, result.output
    written = [p for p in out.rglob("*") if p.is_file()]
    assert any(p.name.startswith("204820_小谷村fdp") for p in written), [p.name for p in written]
    for path in written:
        assert_clean(str(path.relative_to(out)))
