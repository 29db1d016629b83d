"""Download names (Content-Disposition) and ZIP entries of a plan whose scenario and body names carry a
right-to-left override and run long (issue #30): no format character, at most 200 bytes, the body code whole."""

from __future__ import annotations

import io
import unicodedata
import urllib.parse
import zipfile

import pytest
from sqlmodel import Session

from planner.db.models import Plan as PlanRow
from planner.db.models import Scenario
from planner.domain.instance_io import instance_to_dict, parse_instance
from planner.reports.names import MAX_NAME_BYTES
from tests.reports.plans import settled_plan_doc
from tests.reports.test_file_names import GROUPS, hostile_instance
from tests.support.documents import fetch_zip
from tests.support.web import login


@pytest.fixture
def plan_id(app, seed, tmp_path):
    app.config["REPORT_CACHE_DIR"] = tmp_path / "report_cache"
    instance = parse_instance(hostile_instance())
    doc = settled_plan_doc(instance, GROUPS)
    with Session(app.extensions["db_engine"]) as session:
        # 120 characters, the column's length (PostgreSQL enforces it): 346 bytes of UTF-8, past the 200-byte names
        scenario = Scenario(name=("長野県\u202egpj.exe" + "計画" * 100)[:120], prefecture_code="20", status="done")
        session.add(scenario)
        session.flush()
        row = PlanRow(
            scenario_id=scenario.id,
            status=doc["status"],
            objective_yen=doc["objective_yen"],
            lower_bound_yen=doc["lower_bound_yen"],
            gap=doc["gap"],
            standalone_total_yen=doc["standalone_total_yen"],
            solve_seconds=doc["solve_seconds"],
            instance_doc=instance_to_dict(instance),
            plan_doc=doc,
        )
        session.add(row)
        session.commit()
        return row.id


def download_name(response) -> str:
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment")
    encoded = disposition.split("filename*=UTF-8''", 1)[1]
    return urllib.parse.unquote(encoded)


def assert_clean(name: str) -> None:
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES, (len(name.encode()), name)
    assert not [c for c in name if unicodedata.category(c) == "Cf"], name


def test_download_names_and_zip_entries_are_clean_and_short(client, plan_id):
    login(client, "pref20")
    for path in ("summary.pdf", "statement/204820.pdf", "member/n-otari-rpa.pdf", "agreement/rpa-2026-1.docx"):
        r = client.get(f"/plans/{plan_id}/reports/{path}")
        assert r.status_code == 200, path
        name = download_name(r)
        assert_clean(name)
        if "204820" in path:
            assert "204820_小谷村" in name
    r = fetch_zip(client, plan_id)
    assert r.status_code == 200
    name = download_name(r)
    assert_clean(name) and name.startswith("帳票一式_長野県gpj.exe") and name.endswith(".zip")
    entries = zipfile.ZipFile(io.BytesIO(r.data)).namelist()
    for entry in entries:
        assert_clean(entry)
    assert any("204820_小谷村fdp" in e for e in entries)
