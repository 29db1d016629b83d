"""MIC's official xlsx files: the real files import completely; broken copies are refused with nothing written."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, DataVintage
from planner.importers.errors import FileProblems
from planner.masterdata.codes import with_check_digit
from planner.masterdata.national import PREFECTURAL_OFFICE_MUNICIPALITY
from planner.services.bodies import bodies_csv_text, import_official_files
from planner.services.reference_bodies import SHIPPED_FILE_NAME
from tests.conftest import shared_path

OFFICIAL = (
    "R4_jumin_kihon_daicho_jinko_shikuchoson.xlsx",
    "R3_shuyo_zaisei_shihyo_shichoson.xlsx",
    "R3_shuyo_zaisei_shihyo_todofuken.xlsx",
    "R3_shuyo_zaisei_shihyo_seirei_shitei_toshi.xlsx",
)
MUNICIPAL = "R3_shuyo_zaisei_shihyo_shichoson.xlsx"


def _official(name: str) -> Path:
    return shared_path("data", "official", name)


def _edited_copy(name: str, tmp_path: Path, edits: dict[str, object]) -> Path:
    workbook = openpyxl.load_workbook(_official(name))
    sheet = workbook.worksheets[0]
    for cell, value in edits.items():
        sheet[cell] = value
    out = tmp_path / name
    workbook.save(out)
    return out


def _imported_vintages(session) -> list[DataVintage]:
    """The vintages of official imports (init-db's shipped reference data has its own, left out here)."""
    return list(
        session.exec(select(DataVintage).where(DataVintage.file_name != SHIPPED_FILE_NAME).order_by(DataVintage.id))
    )


def _nothing_written(engine) -> None:
    with Session(engine) as s:
        assert _imported_vintages(s) == []
        shipped = [v.id for v in s.exec(select(DataVintage))]
        assert (
            s.exec(
                select(func.count())
                .select_from(Body)
                .where(Body.population_vintage_id.not_in(shipped) | Body.fiscal_vintage_id.not_in(shipped))
            ).one()
            == 0
        )
        assert s.exec(select(func.count()).select_from(AuditLog).where(AuditLog.action == "import")).one() == 0


def _import(engine, files):
    with Session(engine) as s:
        try:
            report = import_official_files(s, files, None)
            s.commit()
            return report
        except BaseException:
            s.rollback()
            raise


def test_the_four_official_files_give_every_body_its_published_figures(initialized_engine):
    """The full national import (a few seconds; the only test that reads all four real files)."""
    report = _import(initialized_engine, [(n, _official(n)) for n in OFFICIAL])
    assert {f.dataset: f.bodies_updated for f in report.files} == {
        "population": 1788,
        "fiscal_municipal": 1741,
        "fiscal_prefecture": 47,
        "fiscal_designated": 20,
    }
    assert report.missing == {} and report.warnings == []
    with Session(initialized_engine) as s:
        vintages = {v.dataset: v for v in _imported_vintages(s)}
        exported = bodies_csv_text(s)
    assert vintages["population"].as_of == date(2022, 1, 1)
    assert vintages["fiscal_municipal"].as_of == date(2022, 3, 31)
    assert "住民基本台帳" in vintages["population"].source and vintages["population"].rows == 1788
    assert exported.splitlines()[0] == (
        "code,name,prefecture_code,kind,population,fiscal_strength_index,lat,lng,"
        "disadvantaged,has_data_plan,no_allocation_tax"
    )
    got = {r["code"]: r for r in csv.DictReader(io.StringIO(exported))}
    with open(shared_path("data", "bodies_national.csv"), encoding="utf-8") as f:
        expected = {r["code"]: r for r in csv.DictReader(f)}
    assert set(got) == set(expected)
    for code, row in expected.items():
        g = got[code]
        assert (g["name"], g["kind"], g["prefecture_code"]) == (row["name"], row["kind"], row["prefecture_code"])
        assert int(g["population"]) == int(row["population"]), code
        assert float(g["fiscal_strength_index"]) == float(row["fiscal_strength_index"]), code
        if row["kind"] == "prefecture":
            # ../shared places a prefecture at its municipalities' centroid; the product places it at its office (県庁),
            # the position of the municipality that hosts it (planner.masterdata.national)
            host = next(
                r
                for r in got.values()
                if r["prefecture_code"] == row["prefecture_code"]
                and r["name"] == PREFECTURAL_OFFICE_MUNICIPALITY[row["prefecture_code"]]
            )
            assert (g["lat"], g["lng"]) == (host["lat"], host["lng"]), code
        else:
            assert (float(g["lat"]), float(g["lng"])) == (float(row["lat"]), float(row["lng"])), code


def test_unknown_layout_is_refused(initialized_engine, tmp_path):
    broken = _edited_copy(MUNICIPAL, tmp_path, {"D2": "財政力"})
    with pytest.raises(FileProblems) as e:
        _import(initialized_engine, [(broken.name, broken)])
    assert MUNICIPAL in str(e.value) and "形式を認識できません" in str(e.value)
    _nothing_written(initialized_engine)


def test_bad_code_unknown_code_and_text_in_a_number_cell_are_all_named(initialized_engine, tmp_path):
    ghost = with_check_digit("01999")  # a well-formed code that no body has
    broken = _edited_copy(MUNICIPAL, tmp_path, {"A10": "012085", "A12": ghost, "D5": "不明"})  # 北見市 is 012084
    prefectures = "R3_shuyo_zaisei_shihyo_todofuken.xlsx"
    with pytest.raises(FileProblems) as e:  # a good file beside the broken one is not applied either
        _import(initialized_engine, [(prefectures, _official(prefectures)), (broken.name, broken)])
    assert e.value.messages == [
        f"{MUNICIPAL} 5行目 D（財政力指数）列: 数値ではありません: '不明'",
        f"{MUNICIPAL} 10行目 A（団体コード）列: 団体コード 012085 の検査数字（6桁目）が正しくありません（012084 の誤りではありませんか）",
        f"{MUNICIPAL} 12行目 A（団体コード）列: 団体コード {ghost}（岩見沢市）に当たる市区町村がありません",
    ]
    _nothing_written(initialized_engine)


def test_the_same_kind_twice_and_non_excel_files_are_refused(initialized_engine, tmp_path):
    text_file = tmp_path / "notes.xlsx"
    text_file.write_text("これは Excel ではありません", encoding="utf-8")
    old_excel = tmp_path / "old.xls"
    old_excel.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    prefectures = _official("R3_shuyo_zaisei_shihyo_todofuken.xlsx")
    with pytest.raises(FileProblems) as e:
        _import(
            initialized_engine,
            [
                ("a.xlsx", prefectures),
                ("b.xlsx", prefectures),
                ("notes.xlsx", text_file),
                ("old.xls", old_excel),
                ("missing.xlsx", tmp_path / "missing.xlsx"),
            ],
        )
    text = str(e.value)
    assert "b.xlsx: 「全都道府県の主要財政指標」のファイルが2つ指定されています" in text
    assert "notes.xlsx: Excel（.xlsx）ファイルとして読めません" in text
    assert "old.xls: 旧形式の Excel ファイル（.xls）です" in text
    assert "missing.xlsx: ファイルを読めません" in text
    _nothing_written(initialized_engine)


def _population_workbook(path: Path, title: str, rows: list[tuple], table: str = "総計") -> Path:
    """A small file in the published population layout (six header rows)."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = f"人口、世帯数、人口動態（市区町村別）【{table}】"
    sheet.append((title,))
    sheet.append((None, None, None, "令和4年", "令和4年", "令和4年", "令和4年"))
    sheet.append((None, None, None, "2022年", "2022年", "2022年", "2022年"))
    sheet.append((None, None, None, "人口", "人口", "人口", "世帯数"))
    sheet.append((None, None, None, "男", "女", "計", "世帯数"))
    sheet.append(("団体コード", "都道府県名", "市区町村名", "人", "人", "人", "世帯"))
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


POP_TITLE = "令和5年1月1日住民基本台帳人口・世帯数、令和4年人口動態（市区町村別）（総計）"


def test_population_layout_skips_wards_and_county_totals(initialized_engine, tmp_path):
    path = _population_workbook(
        tmp_path / "jinko.xlsx",
        POP_TITLE,
        [
            ("-", "合計", "-", 10, 10, 20, 5),
            ("200000", "長野県", "-", 990000, 1010000, 2000000, 850000),
            ("202011", "長野県", "長野市", 180000, 190000, 370000, 165000),
            ("011011", "北海道", "札幌市中央区", 1, 1, 2, 1),
            ("205401", "長野県", "上高井郡", 5000, 5000, 10000, 4000),
            ("205419", "長野県", "上高井郡小布施町", "5,100", 5200, "10,300", 3900),
            ("注：この表は試験用です",),
        ],
    )
    report = _import(initialized_engine, [("jinko.xlsx", path)])
    assert report.files[0].bodies_updated == 3 and report.files[0].skipped_rows == 4
    assert len(report.missing["住民基本台帳に基づく人口・世帯数（市区町村別）"]) == 1785
    with Session(initialized_engine) as s:
        assert (s.get(Body, "202011").population, s.get(Body, "202011").households) == (370000, 165000)
        assert s.get(Body, "205419").population == 10300 and s.get(Body, "200000").population == 2000000
        [vintage] = _imported_vintages(s)
        assert vintage.as_of == date(2023, 1, 1) and s.get(Body, "202011").population_vintage_id == vintage.id


def test_population_problems_are_all_reported(initialized_engine, tmp_path):
    path = _population_workbook(
        tmp_path / "jinko.xlsx",
        POP_TITLE,
        [
            ("202011", "長野県", "長野市", 1, 1, "約37万", 165000),
            ("202012", "長野県", "長野市", 1, 1, 2, 3),
            (None, "長野県", "松本市", 1, 1, 2, 3),
            ("202029", "長野県", "松本市", 1, 1, 2, None),
        ],
    )
    with pytest.raises(FileProblems) as e:
        _import(initialized_engine, [("jinko.xlsx", path)])
    assert e.value.messages == [
        "jinko.xlsx 7行目 F（人口 計）列: 整数ではありません: '約37万'",
        "jinko.xlsx 8行目 A（団体コード）列: 団体コード 202012 の検査数字（6桁目）が正しくありません（202011 の誤りではありませんか）",
        "jinko.xlsx 9行目 A（団体コード）列: 団体コードがありません",
        "jinko.xlsx 10行目 G（世帯数）列: 値がありません",
    ]
    _nothing_written(initialized_engine)


def test_japanese_only_population_table_is_refused(initialized_engine, tmp_path):
    path = _population_workbook(
        tmp_path / "nihonjin.xlsx",
        POP_TITLE.replace("（総計）", "（日本人住民）"),
        [("202011", "長野県", "長野市", 1, 1, 2, 1)],
        table="日本人住民",
    )
    with pytest.raises(FileProblems, match="総計"):
        _import(initialized_engine, [("nihonjin.xlsx", path)])
    _nothing_written(initialized_engine)
