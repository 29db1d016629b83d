"""The shipped reference figures (population, households, 財政力指数 from MIC's official files): built by the
project's importer, loaded by init-db under any newer official import, credited to 総務省 with the licence."""

from __future__ import annotations

from datetime import date

from sqlmodel import Session, select

from planner.db.models import Body, DataVintage, SubsidyRuleSet
from planner.services.bodies import import_official_files
from planner.services.init_db import init_database
from planner.services.reference_bodies import (
    FORMAT,
    REFERENCE_FILE,
    SHIPPED_FILE_NAME,
    build_reference_dataset,
    load_reference_bodies,
    read_reference_dataset,
)
from tests.conftest import shared_path

OFFICIAL = (
    "R4_jumin_kihon_daicho_jinko_shikuchoson.xlsx",
    "R3_shuyo_zaisei_shihyo_shichoson.xlsx",
    "R3_shuyo_zaisei_shihyo_todofuken.xlsx",
    "R3_shuyo_zaisei_shihyo_seirei_shitei_toshi.xlsx",
)


def test_shipped_file_names_its_source_date_and_licence_and_holds_no_official_file():
    doc = read_reference_dataset()
    assert doc["format"] == FORMAT and len(doc["rows"]) == 1788
    assert "政府標準利用規約（第2.0版）" in doc["licence"] and "総務省" in doc["credit"]
    by_dataset = {d["dataset"]: d for d in doc["datasets"]}
    assert by_dataset["population"]["as_of"] == "2022-01-01" and by_dataset["population"]["source"].startswith("総務省")
    assert set(by_dataset) == {"population", "fiscal_municipal", "fiscal_prefecture", "fiscal_designated"}
    rows = {r[0]: r for r in doc["rows"]}
    assert rows["202011"] == ["202011", 371651, 163325, 0.72, "fiscal_municipal"]  # 長野市
    assert rows["200000"][4] == "fiscal_prefecture"
    assert not list(REFERENCE_FILE.parent.glob("*.xlsx"))  # derived figures only, never MIC's files themselves


def test_building_from_the_official_layouts_reproduces_the_shipped_file():
    paths = [shared_path("data", "official", name) for name in OFFICIAL]
    built = build_reference_dataset(paths, built_on=date(2026, 11, 30))
    shipped = read_reference_dataset()
    assert built["rows"] == shipped["rows"] and built["datasets"] == shipped["datasets"]


def test_init_db_loads_it_and_a_newer_official_import_wins(initialized_engine):
    with Session(initialized_engine) as s:
        body = s.get(Body, "204820")  # 小谷村
        vintage = s.get(DataVintage, body.population_vintage_id)
        assert body.population and body.households and body.fiscal_strength_index is not None
        assert vintage.file_name == SHIPPED_FILE_NAME and vintage.source.startswith("総務省")
        # an administrator imports a newer population file (here: the same layout, its figures edited)
        body.population, body.population_vintage_id = 1, None
        newer = DataVintage(
            dataset="population", as_of=date(2025, 1, 1), source="総務省「令和7年…」", file_name="R7.xlsx", rows=1
        )
        s.add(newer)
        s.flush()
        body.population_vintage_id = newer.id
        s.commit()
    report = init_database(initialized_engine)  # a re-run leaves the newer figure alone
    assert report.reference.population == 0
    with Session(initialized_engine) as s:
        assert s.get(Body, "204820").population == 1


def test_an_official_file_imports_over_the_shipped_figures(initialized_engine):
    path = shared_path("data", "official", OFFICIAL[1])
    with Session(initialized_engine) as s:
        s.get(Body, "202011").fiscal_strength_index = 0.11  # as if the shipped file were older
        s.commit()
        import_official_files(s, [(path.name, path)])
        s.commit()
        body = s.get(Body, "202011")
        assert body.fiscal_strength_index == 0.72
        assert s.get(DataVintage, body.fiscal_vintage_id).file_name == path.name


def test_loading_twice_changes_nothing_and_the_r2_rule_set_is_current(initialized_engine):
    with Session(initialized_engine) as s:
        assert load_reference_bodies(s).population == 0
        current = s.exec(select(SubsidyRuleSet).where(SubsidyRuleSet.is_current == True)).one()  # noqa: E712
        assert current.version == "R2-budget-2"


def test_an_unusable_current_rule_set_gives_way_to_the_shipped_one(initialized_engine):
    from planner.services.reference_data import load_subsidy_rules

    with Session(initialized_engine) as s:
        for rs in s.exec(select(SubsidyRuleSet)):
            rs.is_current = False
        old = SubsidyRuleSet(
            fiscal_year=2026,
            version="R8-1",
            data={"schema": "kyodo-planner-subsidy-rules/1", "fiscal_year": 2026, "version": "R8-1"},
            is_current=True,
        )
        s.add(old)
        s.commit()
        assert load_subsidy_rules(s).current == "R2-budget-2"
