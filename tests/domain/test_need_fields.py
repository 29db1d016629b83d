"""The need fields' one table (planner.domain.need_fields): a field added to it reaches the label table, the
publication snapshot and its notice, and the needs import's columns; the table agrees with the stored need and
with the instance document."""

from __future__ import annotations

import copy

import pytest

from planner.db.models import Need as NeedRow
from planner.domain import need_fields
from planner.domain.input_changes import diff, snapshot
from planner.domain.instance_io import instance_to_dict
from planner.domain.need_fields import NeedField
from planner.domain.vocabulary import NEED_FIELD_LABELS
from planner.importers import needs as needs_import
from tests.domain.test_input_changes import _base, _doc

REMOTE = NeedField(
    "serves_remote_clinic",
    "へき地診療所での利用",
    "flag",
    heading="へき地診療所",
    spellings=("診療所での利用",),
    default=False,
    editable=True,
    figure=True,
)


@pytest.fixture
def remote_field(monkeypatch):
    """The table with one more field that feeds the figures (as a new field's one entry would add it)."""
    monkeypatch.setitem(need_fields.FIELDS, REMOTE.key, REMOTE)
    return REMOTE


def test_a_field_added_to_the_table_has_its_label(remote_field):
    assert NEED_FIELD_LABELS[remote_field.key] == "へき地診療所での利用"
    assert remote_field.key in NEED_FIELD_LABELS and list(NEED_FIELD_LABELS)[-1] == remote_field.key


def test_a_field_added_to_the_table_is_in_the_snapshot_and_its_notice(remote_field):
    doc = _doc()
    for n in doc["needs"]:
        n[remote_field.key] = False
    published = snapshot(doc)
    assert all(n[remote_field.key] is False for n in published["needs"].values())
    changed = copy.deepcopy(doc)
    changed["needs"][1][remote_field.key] = True
    texts = [c.text for c in diff(published, snapshot(changed))]
    assert texts == ["ニーズの変更: 松本市のAI-OCR（2026年度）: へき地診療所での利用 不可 → 可"]


def test_a_field_that_feeds_no_figure_stays_out_of_the_snapshot(monkeypatch):
    monkeypatch.setitem(need_fields.FIELDS, "contact", NeedField("contact", "担当者", "text", heading="担当者"))
    doc = _doc()
    doc["needs"][0]["contact"] = "山田"
    assert "contact" not in snapshot(doc)["needs"]["n1"]
    assert NEED_FIELD_LABELS["contact"] == "担当者"


def test_a_field_added_to_the_table_is_a_column_of_the_needs_file(remote_field):
    headers = needs_import._headers()
    assert headers["へき地診療所"] == headers["診療所での利用"] == remote_field.key
    assert needs_import.field_labels()[remote_field.key] == "へき地診療所"
    assert need_fields.flag_defaults()[remote_field.key] is False


def test_without_the_new_field_nothing_names_it():
    assert REMOTE.key not in NEED_FIELD_LABELS
    assert REMOTE.key not in need_fields.figure_keys()


def test_the_fields_that_feed_the_figures_are_the_instance_documents_need_fields():
    record = instance_to_dict(_base())["needs"][0]
    assert set(record) - {"id"} == set(need_fields.figure_keys())


def test_every_field_a_user_changes_is_a_column_of_the_stored_need():
    columns = set(NeedRow.model_fields)
    assert set(need_fields.editable_keys()) <= columns
    assert {"status"} <= columns
    for f in need_fields.FIELDS.values():
        assert f.label and (f.kind != "flag" or f.default is not None or not f.heading), f.key
