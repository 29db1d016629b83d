"""Body flags (条件不利地域, 官民データ活用推進計画) from CSV and XLSX."""

from __future__ import annotations

import openpyxl
import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, DataVintage
from planner.importers.errors import FileProblems
from planner.services.bodies import StaleBodyError, import_flags, set_body_flags


def _flags(engine, name, data, prefecture_code=None):
    with Session(engine) as s:
        try:
            report = import_flags(s, name, data, None, prefecture_code=prefecture_code)
            s.commit()
            return report
        except BaseException:
            s.rollback()
            raise


def _flag_pairs(engine, *codes):
    with Session(engine) as s:
        return [(s.get(Body, c).disadvantaged, s.get(Body, c).has_data_plan) for c in codes]


def test_csv_with_every_accepted_spelling(nagano_engine):
    data = (
        "code,name,disadvantaged,has_data_plan\n"
        "202011,長野市,0,1\n205419,小布施町,true,false\n204854,白馬村,○,×\n"
        "202029,松本市,あり,なし\n20203,上田市,TRUE,\n"
    ).encode()
    with pytest.raises(FileProblems) as e:
        _flags(nagano_engine, "flags.csv", data)
    assert e.value.messages == ["flags.csv 6行目 A（code）列: 団体コードは6桁の数字です（'20203'）"]
    data = data.replace(b"20203,", b"202037,")
    report = _flags(nagano_engine, "flags.csv", data)
    assert report.rows == 5 and sorted(report.changed) == ["202011", "202029", "202037", "204854", "205419"]
    assert _flag_pairs(nagano_engine, "202011", "205419", "204854", "202029", "202037") == [
        (False, True),
        (True, False),
        (True, False),
        (True, False),
        (True, False),
    ]
    with Session(nagano_engine) as s:
        entries = s.exec(select(AuditLog).where(AuditLog.entity == "body", AuditLog.entity_id == "202011")).all()
        assert [(a.before, a.after) for a in entries] == [
            ({"disadvantaged": False, "has_data_plan": False}, {"disadvantaged": False, "has_data_plan": True})
        ]
        assert s.exec(select(DataVintage).where(DataVintage.dataset == "flags")).one().rows == 5


def test_shift_jis_csv_with_japanese_headers_and_blank_cells(nagano_engine):
    data = "団体コード,条件不利地域,官民データ活用推進計画\n204854,あり,\n".encode("cp932")
    report = _flags(nagano_engine, "flags.csv", data)
    assert report.changed == ["204854"]
    assert _flag_pairs(nagano_engine, "204854") == [(True, False)]


def test_xlsx_and_unknown_values(nagano_engine, tmp_path):
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.append(("code", "disadvantaged", "has_data_plan"))
    sheet.append((202011, 1, "たぶん"))
    sheet.append(("999999", 1, 0))
    sheet.append(("202011", 0, 0))
    workbook.save(tmp_path / "flags.xlsx")
    with pytest.raises(FileProblems) as e:
        _flags(nagano_engine, "flags.xlsx", (tmp_path / "flags.xlsx").read_bytes())
    assert e.value.messages == [
        "flags.xlsx 2行目 C（has_data_plan）列: 値「たぶん」は使えません（1/0、true/false、○/×、あり/なし のいずれか）",
        "flags.xlsx 3行目 A（code）列: 団体コード 999999 の都道府県部分（先頭2桁）が 01〜47 ではありません",
        "flags.xlsx 4行目 A（code）列: 団体コード 202011 が 2行目にもあります（重複）",
    ]
    assert _flag_pairs(nagano_engine, "202011") == [(False, False)]
    with Session(nagano_engine) as s:
        assert s.exec(select(func.count()).select_from(DataVintage)).one() == 0


def test_missing_columns_and_other_prefectures(nagano_engine):
    with pytest.raises(FileProblems, match="見出し行に code"):
        _flags(nagano_engine, "x.csv", b"code,name\n202011,x\n")
    with pytest.raises(FileProblems) as e:
        _flags(nagano_engine, "x.csv", b"code,disadvantaged\n202011,1\n011002,1\n", prefecture_code="20")
    assert e.value.messages == ["x.csv 3行目 code列: 団体コード 011002（札幌市）は管轄外の団体です"]
    assert _flag_pairs(nagano_engine, "202011") == [(False, False)]


def test_single_body_edit_with_optimistic_locking(nagano_engine):
    with Session(nagano_engine) as s:
        version = s.get(Body, "202011").version
        set_body_flags(s, "202011", user_id=None, disadvantaged=True, expected_version=version)
        s.commit()
        with pytest.raises(StaleBodyError, match="他の利用者"):
            set_body_flags(s, "202011", user_id=None, has_data_plan=True, expected_version=version)
    assert _flag_pairs(nagano_engine, "202011") == [(True, False)]


def test_no_allocation_tax_column(nagano_engine):
    data = "団体コード,不交付団体\n203211,○\n202011,0\n".encode()
    report = _flags(nagano_engine, "flags.csv", data)
    assert report.changed == ["203211"]
    with Session(nagano_engine) as s:
        assert s.get(Body, "203211").no_allocation_tax and not s.get(Body, "202011").no_allocation_tax
        set_body_flags(s, "203211", user_id=None, no_allocation_tax=False)
        s.commit()
        assert not s.get(Body, "203211").no_allocation_tax
