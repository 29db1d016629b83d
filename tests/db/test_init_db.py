"""init-db: schema, master bodies, reference price book and subsidy rules; a second run changes nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, Category, PriceBook, PriceEntry, SubsidyRuleSet
from planner.services.init_db import init_database
from planner.services.reference_data import ReferenceDataError, load_subsidy_rules


def _counts(engine) -> dict[str, int]:
    with Session(engine) as s:
        return {
            m.__name__: s.exec(select(func.count()).select_from(m)).one()
            for m in (Body, Category, PriceBook, PriceEntry, SubsidyRuleSet, AuditLog)
        }


def test_init_db_loads_master_bodies_and_reference_price_book(initialized_engine):
    counts = _counts(initialized_engine)
    assert counts["Body"] == 1788 and counts["Category"] == 9 and counts["PriceBook"] == 1
    assert counts["PriceEntry"] == 27
    with Session(initialized_engine) as s:
        book = s.exec(select(PriceBook)).one()
        assert (book.version, book.label, book.is_current) == ("R8-ref-1", "参考値", True)
        nagano = s.get(Body, "202011")
        # the shipped reference data (総務省's figures, planner/data/reference_bodies.json) gives real populations
        assert (nagano.name, nagano.kind, nagano.prefecture_code, nagano.population) == ("長野市", "city", "20", 371651)
        ocr = s.get(Category, "ocr")
        assert ocr.volume_per_10k_pop == 5 and ocr.name.startswith("AI-OCR")


def test_init_db_twice_is_a_no_op(initialized_engine):
    with Session(initialized_engine) as s:
        stamps = dict(s.exec(select(Body.code, Body.updated_at)).all())
    before = _counts(initialized_engine)
    report = init_database(initialized_engine)
    assert not report.changed
    assert report.bodies.added == 0 and report.bodies.updated == [] and report.price_book_loaded is None
    assert _counts(initialized_engine) == before
    with Session(initialized_engine) as s:
        assert dict(s.exec(select(Body.code, Body.updated_at)).all()) == stamps


def test_init_db_corrects_a_changed_master_attribute_but_keeps_figures(initialized_engine):
    with Session(initialized_engine) as s:
        body = s.get(Body, "202011")
        body.name, body.population, body.disadvantaged = "旧名", 123, True
        s.commit()
    report = init_database(initialized_engine)
    assert report.bodies.updated == ["202011"]
    with Session(initialized_engine) as s:
        body = s.get(Body, "202011")
        assert (body.name, body.population, body.disadvantaged) == ("長野市", 123, True)


def _rules(tmp_path, name, **doc):
    (tmp_path / name).write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def test_subsidy_rules_load_once_and_newest_fiscal_year_is_current(migrated_engine, tmp_path):
    _rules(tmp_path, "r7.json", fiscal_year=2025, version="R7-1", grant={"rate": 0.5})
    _rules(tmp_path, "r8.json", fiscal_year=2026, version="R8-1", grant={"rate": 0.5})
    with Session(migrated_engine) as s:
        report = load_subsidy_rules(s, tmp_path)
        s.commit()
        assert sorted(report.loaded) == ["R7-1", "R8-1"] and report.current == "R8-1"
        stored = s.exec(select(SubsidyRuleSet).where(SubsidyRuleSet.version == "R8-1")).one()
        assert stored.data["grant"] == {"rate": 0.5} and stored.is_current
    with Session(migrated_engine) as s:
        again = load_subsidy_rules(s, tmp_path)
        s.commit()
        assert again.loaded == [] and again.current == "R8-1"
        assert s.exec(select(func.count()).select_from(SubsidyRuleSet)).one() == 2
    _rules(tmp_path, "r9.json", fiscal_year=2027, version="R9-1")
    with Session(migrated_engine) as s:
        assert load_subsidy_rules(s, tmp_path).current == "R9-1"
        s.commit()
        assert [r.version for r in s.exec(select(SubsidyRuleSet).where(SubsidyRuleSet.is_current == True))] == ["R9-1"]  # noqa: E712


def test_broken_subsidy_rule_file_is_named_and_nothing_is_loaded(migrated_engine, tmp_path):
    _rules(tmp_path, "good.json", fiscal_year=2026, version="R8-1")
    (tmp_path / "broken.json").write_text("{not json", encoding="utf-8")
    _rules(tmp_path, "noyear.json", version="X")
    with Session(migrated_engine) as s:
        with pytest.raises(ReferenceDataError) as e:
            load_subsidy_rules(s, tmp_path)
        s.rollback()
        assert s.exec(select(func.count()).select_from(SubsidyRuleSet)).one() == 0
    text = str(e.value)
    assert "broken.json" in text and "noyear.json" in text and "fiscal_year" in text
