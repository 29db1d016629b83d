"""The needs import: files as municipalities really send them, every problem by row and column, all or nothing."""

from __future__ import annotations

import io

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlmodel import Session, func, select

from planner.db.models import AuditLog, Need
from planner.importers.errors import FileProblems
from planner.importers.needs import Lookups, fiscal_year, parse_needs_file, volume_value, yes_no
from planner.masterdata.codes import with_check_digit

BODIES = {
    "202011": ("長野市", "20"),
    "202029": ("松本市", "20"),
    "151009": ("新潟市", "15"),
    "204820": ("小谷村", "20"),
}
CATEGORIES = {
    "ocr": "AI-OCR（文字認識）",
    "rpa": "RPA",
    "genai": "生成AI（職員利用）",
    "speech": "音声認識（会議録作成）",
}


def lookups(allowed=("202011", "202029", "204820", "151009")) -> Lookups:
    return Lookups(bodies=BODIES, categories=CATEGORIES, may_edit=lambda code: code in allowed, fiscal_year=2026)


def parse(content: str | bytes, *, name="needs.csv", encoding="utf-8", allowed=None):
    data = content.encode(encoding) if isinstance(content, str) else content
    return parse_needs_file(name, data, lookups(allowed) if allowed is not None else lookups())


def xlsx(rows) -> bytes:
    wb = Workbook()
    for row in rows:
        wb.active.append(list(row))
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


HEADER = "団体コード,団体名,分野ID,利用量,開始年度,幹事方式可,仕様統一可,幹事可,備考\r\n"


# --- cells ------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw,year",
    [
        (2026, 2026),
        (2026.0, 2026),
        ("2026", 2026),
        ("2026年度", 2026),
        ("２０２６年度", 2026),
        ("令和8年度", 2026),
        ("令和８年度", 2026),
        ("令和元年度", 2019),
        ("R8", 2026),
        ("r8", 2026),
        ("Ｒ８", 2026),
        ("R08年度", 2026),
        ("R.8", 2026),
        ("令和 8 年度", 2026),
        ("H30", 2018),
        ("平成30年度", 2018),
        ("来年", None),
        ("", None),
        ("2026.5", None),
        (True, None),
        ("令和0年度", None),
    ],
)
def test_fiscal_years(raw, year):
    assert fiscal_year(raw) == year


@pytest.mark.parametrize(
    "raw,value",
    [
        ("1,200", 1200.0),
        ("１，２００", 1200.0),
        ("1200", 1200.0),
        (1200, 1200.0),
        ("12.5", 12.5),
        ("１２．５", 12.5),
        ("1 200", 1200.0),
        ("1200件", None),
        ("abc", None),
        ("-5", -5.0),
        ("−5", -5.0),
        ("nan", None),
        (float("inf"), None),
        (True, None),
    ],
)
def test_volumes(raw, value):
    assert volume_value(raw) == value


@pytest.mark.parametrize(
    "raw,value",
    [
        ("○", True),
        ("〇", True),
        ("◯", True),
        ("1", True),
        ("可", True),
        ("はい", True),
        ("TRUE", True),
        ("×", False),
        ("", False),
        ("不可", False),
        ("0", False),
        ("いいえ", False),
        ("たぶん", None),
    ],
)
def test_yes_no(raw, value):
    assert yes_no(raw) is value


# --- encodings and formats ------------------------------------------------------------------------------------------

ROWS = HEADER + '202011,長野市,ocr,"1,200",令和8年度,○,○,×,窓口で使用\r\n202029,松本市,rpa,３０,R9,1,0,はい,\r\n'


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp932", "shift_jis"])
def test_csv_in_every_encoding_municipalities_use(encoding):
    parsed = parse(ROWS, encoding=encoding)
    assert parsed.problems == []
    first, second = parsed.rows
    assert (first.row, first.body_code, first.category_id, first.volume, first.start_year) == (
        2,
        "202011",
        "ocr",
        1200.0,
        2026,
    )
    assert (first.accepts_lead, first.accepts_unified, first.can_lead, first.notes) == (True, True, False, "窓口で使用")
    assert (second.volume, second.start_year, second.accepts_unified, second.can_lead) == (30.0, 2027, False, True)


def test_xlsx_with_numbers_and_codes_that_lost_their_leading_zero():
    bodies = dict(BODIES, **{"011002": ("札幌市", "01")})
    data = xlsx(
        [
            ("団体コード", "分野", "利用量", "開始年度"),
            (11002, "RPA", 1200, 2026),
            ("202011", "AI-OCR（文字認識）", 3.5, "令和9年度"),
        ]
    )
    parsed = parse_needs_file("needs.xlsx", data, Lookups(bodies, CATEGORIES, lambda c: True, 2026))
    assert parsed.problems == []
    assert [(r.body_code, r.category_id, r.volume, r.start_year) for r in parsed.rows] == [
        ("011002", "rpa", 1200.0, 2026),
        ("202011", "ocr", 3.5, 2027),
    ]
    # missing yes/no columns keep the defaults
    assert parsed.rows[0].accepts_lead and parsed.rows[0].accepts_unified and not parsed.rows[0].can_lead


def test_english_headers_and_names_instead_of_codes():
    parsed = parse("body_name,category,volume,start_year,can_lead\n小谷村,生成AI（職員利用）,20,2027,yes\n")
    assert parsed.problems == []
    assert (parsed.rows[0].body_code, parsed.rows[0].category_id, parsed.rows[0].can_lead) == ("204820", "genai", True)


def test_resident_service_column_reads_back_and_defaults_to_no():
    with_column = parse(
        "団体コード,分野,利用量,開始年度,条件不利地域の住民サービス\n202011,ocr,10,2026,○\n202029,ocr,10,2026,\n"
    )
    assert [r.serves_disadvantaged_area for r in with_column.rows] == [True, False]
    english = parse("body_code,category_id,volume,start_year,serves_disadvantaged_area\n204820,rpa,5,R8,1\n")
    assert english.rows[0].serves_disadvantaged_area is True
    without = parse("団体コード,分野,利用量,開始年度\n202011,ocr,10,2026\n")
    assert without.rows[0].serves_disadvantaged_area is False
    bad = parse("団体コード,分野,利用量,開始年度,条件不利地域の住民サービス\n202011,ocr,10,2026,たぶん\n")
    assert bad.problems and bad.problems[0].column.endswith("（条件不利地域の住民サービス）")


def test_blank_lines_and_extra_columns_are_ignored():
    parsed = parse(
        "\r\n" + HEADER.rstrip("\r\n") + ",担当者\r\n\r\n202011,長野市,ocr,5,2026,○,○,×,,山田\r\n,,,,,,,,\r\n"
    )
    assert parsed.problems == [] and len(parsed.rows) == 1 and parsed.rows[0].row == 4


# --- problems by row and column ------------------------------------------------------------------------------------


def test_every_problem_names_row_and_column():
    content = (
        HEADER + "202011,長野市,ocr,abc,令和8年度,○,○,×,\r\n"  # 2: volume
        "202012,長野市,ocr,10,2026,○,○,×,\r\n"  # 3: check digit
        "202029,長野市,ocr,10,2026,○,○,×,\r\n"  # 4: name does not match
        "202011,長野市,ドローン,10,来年,○,たぶん,×,\r\n"  # 5: category, year, yes/no
        "202011,長野市,genai,-3,2099,○,○,×,\r\n"  # 6: volume, year range
        "151009,新潟市,ocr,10,2026,○,○,×,\r\n"  # 7: out of scope
        "202011,長野市,rpa,1,2026,○,○,×,\r\n"  # 8: fine
        "202011,長野市,RPA,2,2026,○,○,×,\r\n"
    )  # 9: duplicate of row 8
    parsed = parse(content, allowed=("202011", "202029"))
    where = {(p.row, p.column) for p in parsed.problems}
    assert (2, "D（利用量）") in where
    assert (3, "A（団体コード）") in where
    assert (4, "B（団体名）") in where
    assert {(5, "C（分野ID）"), (5, "E（開始年度）"), (5, "G（仕様統一可）")} <= where
    assert {(6, "D（利用量）"), (6, "E（開始年度）")} <= where
    assert (7, "A（団体コード）") in where
    assert (9, "C（分野ID）") in where
    assert not any(p.row == 8 for p in parsed.problems)
    texts = [str(p) for p in parsed.problems]
    assert any("2行目" in t and "D（利用量）列" in t and "数値ではありません" in t for t in texts)
    assert any("検査数字" in t for t in texts)
    assert any("新潟市（151009）のニーズを登録する権限がありません" in t for t in texts)
    assert any("8行目にもあります" in t for t in texts)
    assert not parsed.ok


def test_missing_columns_and_empty_files_are_file_problems():
    with pytest.raises(FileProblems) as e:
        parse("団体コード,備考\n202011,x\n")
    assert "利用量" in str(e.value) and "導入希望年度" in str(e.value) and "分野" in str(e.value)
    with pytest.raises(FileProblems):
        parse(b"")
    with pytest.raises(FileProblems) as e:
        parse(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, name="old.xls")
    assert ".xls" in str(e.value)
    with pytest.raises(FileProblems):
        parse(b"PK\x03\x04 not really a zip", name="x.xlsx")
    assert not parse(HEADER).ok  # a header and no data


def test_undecodable_bytes_are_reported():
    with pytest.raises(FileProblems) as e:
        parse(b"\x81\xff\xfe\x80,\x82\n")
    assert "文字コード" in str(e.value) or "CSV" in str(e.value)


# --- the service: all or nothing ------------------------------------------------------------------------------------


@pytest.fixture
def seeded(engine):
    from tests.support.web import seed_database

    world = seed_database(engine)
    return engine, world


class User:
    def __init__(self, id, role, prefecture_code=None, body_code=None):
        self.id, self.role, self.prefecture_code, self.body_code = id, role, prefecture_code, body_code
        self.is_authenticated = True


def run_import(engine, user, content: bytes, name="needs.csv"):
    from planner.services import needs as svc

    with Session(engine) as session:
        parsed = parse_needs_file(name, content, svc.import_lookups(session, user))
        if not parsed.ok:
            return parsed, None
        result = svc.import_needs(session, user, parsed, source=name)
        session.commit()
        return parsed, result


def count(engine, model) -> int:
    """Rows of the model (for the audit log: the entries about needs, since seeding logs other things)."""
    with Session(engine) as session:
        query = select(func.count()).select_from(model)
        if model is AuditLog:
            query = query.where(AuditLog.entity == "need")
        return session.exec(query).one()


def test_import_writes_every_row_with_audit(seeded):
    engine, world = seeded
    user = User(world["users"]["pref20"], "prefecture", prefecture_code="20")
    _parsed, result = run_import(engine, user, ROWS.encode("cp932"))
    assert (result.created, result.updated) == (2, 0)
    assert count(engine, Need) == 2
    # again with one change: an update and an unchanged row
    _parsed, result = run_import(engine, user, ROWS.replace('"1,200"', "1300").encode("utf-8"))
    assert (result.created, result.updated, result.unchanged) == (0, 1, 1)
    with Session(engine) as session:
        ocr = session.exec(select(Need).where(Need.category_id == "ocr")).one()
        assert (ocr.volume, ocr.version) == (1300.0, 2)
        update = session.exec(
            select(AuditLog).where(AuditLog.entity == "need", AuditLog.entity_id == str(ocr.id)).order_by(AuditLog.id)
        ).all()[-1]
        assert update.before["volume"] == 1200.0 and update.after["volume"] == 1300.0


def test_one_bad_row_means_nothing_is_written(seeded):
    engine, world = seeded
    user = User(world["users"]["muni202011"], "municipality", body_code="202011")
    parsed, result = run_import(engine, user, ROWS.encode("utf-8"))  # row 3 is 松本市: out of scope
    assert result is None
    assert [(p.row, p.column) for p in parsed.problems] == [(3, "A（団体コード）")]
    assert count(engine, Need) == 0 and count(engine, AuditLog) == 0


def test_a_failure_while_writing_rolls_everything_back(seeded, monkeypatch):
    from planner.services import needs as svc

    engine, world = seeded
    user = User(world["users"]["admin"], "admin")
    calls = {"n": 0}
    real = svc.audit.record

    def failing_record(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(svc.audit, "record", failing_record)
    with pytest.raises(RuntimeError):
        run_import(engine, user, ROWS.encode("utf-8"))
    assert count(engine, Need) == 0


# --- hypothesis: whatever arrives, no crash and no half-written database -------------------------------------------

CELLS = st.one_of(
    st.sampled_from(
        [
            "202011",
            "202029",
            "151009",
            "202012",
            "11002",
            "長野市",
            "松本市",
            "ocr",
            "RPA",
            "rpa",
            "ドローン",
            "1,200",
            "１２００",
            "-1",
            "0",
            "1e9",
            "令和8年度",
            "R9",
            "H30",
            "2026",
            "来年",
            "○",
            "×",
            "はい",
            "たぶん",
            "",
            " ",
            "=1+1",
            '"',
            "\n",
            "２０２６",
        ]
    ),
    st.text(max_size=12),
)
HEADERS = st.lists(
    st.sampled_from(
        [
            "団体コード",
            "団体名",
            "分野ID",
            "分野",
            "利用量",
            "開始年度",
            "幹事方式可",
            "仕様統一可",
            "幹事可",
            "備考",
            "body_code",
            "volume",
            "start_year",
            "x",
        ]
    ),
    min_size=0,
    max_size=9,
)


@st.composite
def csv_files(draw):
    import csv as csvmod

    header = draw(HEADERS)
    rows = draw(st.lists(st.lists(CELLS, min_size=0, max_size=len(header) + 1), max_size=6))
    buf = io.StringIO()
    writer = csvmod.writer(buf)
    writer.writerow(header)
    for row in rows:
        writer.writerow(row)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp932"]))
    return buf.getvalue().encode(encoding, errors="replace")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(csv_files(), st.binary(max_size=300)))
def test_parser_never_crashes(data):
    try:
        parsed = parse(data)
    except FileProblems as e:
        assert e.problems and all(p.file == "needs.csv" for p in e.problems)
        return
    for p in parsed.problems:
        assert p.row is not None and p.message
    assert all(r.volume > 0 and 2019 <= r.start_year <= 2060 for r in parsed.rows)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)
@given(data=csv_files())
def test_import_is_all_or_nothing_for_any_file(seeded, data):
    engine, world = seeded
    user = User(world["users"]["muni202011"], "municipality", body_code="202011")
    with Session(engine) as session:
        session.exec(Need.__table__.delete())
        session.exec(AuditLog.__table__.delete().where(AuditLog.entity == "need"))
        session.commit()
    try:
        parsed, result = run_import(engine, user, data)
    except FileProblems:
        parsed, result = None, None
    if result is None:
        assert count(engine, Need) == 0 and count(engine, AuditLog) == 0
    else:
        assert count(engine, Need) == result.created == len(parsed.rows)
        with Session(engine) as session:
            assert {n.body_code for n in session.exec(select(Need))} == {"202011"}


# --- leniency and plausibility (issue #15 point 6) -------------------------------------------------------------------


def test_usual_spellings_headers_with_notes_and_codes_without_check_digit():
    content = (
        "団体コード,分野,利用量（年間）,開始年度\r\n"
        "20201,AI-OCR,10,2026\r\n"  # 5 digits: 202011 (長野市) once the check digit is computed
        "20482,音声認識,5,2026\r\n"
        "202029,生成AI,40,2027\r\n"
        "202029,ai ocr,1,2027\r\n"
    )
    parsed = parse(content)
    assert parsed.problems == []
    assert [(r.body_code, r.category_id) for r in parsed.rows] == [
        ("202011", "ocr"),
        ("204820", "speech"),
        ("202029", "genai"),
        ("202029", "ocr"),
    ]


def test_a_five_digit_code_that_is_no_body_names_the_code_it_tried():
    parsed = parse("団体コード,分野,利用量,開始年度\r\n99999,ocr,1,2026\r\n")
    assert any("99999" in p.message and "検査数字" in p.message for p in parsed.problems)


def test_negative_volume_is_asked_to_be_positive_not_called_not_a_number():
    parsed = parse(HEADER + "202011,長野市,ocr,-5,2026,○,○,×,\r\n")
    [problem] = parsed.problems
    assert "0より大きい数値にしてください" in problem.message and "-5" in problem.message
    assert "数値ではありません" not in problem.message


def test_start_years_outside_the_window_are_refused_naming_the_window():
    parsed = parse(
        HEADER + "202011,長野市,ocr,5,令和30年度,○,○,×,\r\n202011,長野市,rpa,5,2024,○,○,×,\r\n"
        "202029,松本市,ocr,5,2025,○,○,×,\r\n202029,松本市,rpa,5,R13,○,○,×,\r\n"
    )
    messages = {p.row: p.message for p in parsed.problems}
    assert set(messages) == {2, 3}
    assert messages[2] == (
        "導入希望年度 2048年度（令和30年度） は受け付けられません。2025年度（令和7年度）から"
        "2031年度（令和13年度）までで入力してください"
    )
    assert [r.start_year for r in parsed.rows] == [2025, 2031]


def test_neither_mode_is_read_with_a_standalone_warning():
    parsed = parse(HEADER + "202011,長野市,ocr,5,2026,×,×,×,\r\n202029,松本市,ocr,5,2026,○,×,×,\r\n")
    assert parsed.problems == []
    first, second = parsed.rows
    assert len(first.warnings) == 1 and "単独導入としてだけ登録" in first.warnings[0]
    assert second.warnings == ()


def test_withdrawn_rows_of_an_export_are_skipped_and_valid_rows_kept_beside_errors():
    parsed = parse(
        "団体コード,分野ID,利用量,開始年度,状態\r\n202011,ocr,5,2026,取下げ\r\n202011,rpa,5,2026,登録中\r\n"
        "202011,genai,abc,2026,登録中\r\n"
    )
    assert [p.row for p in parsed.skipped] == [2]
    assert [r.row for r in parsed.rows] == [3] and [p.row for p in parsed.problems] == [4]


def test_an_update_keeps_the_values_of_columns_the_file_does_not_have(seeded):
    """A file with only the required columns changes the volume, not the notes or the modes it does not mention."""
    engine, world = seeded
    user = User(world["users"]["pref20"], "prefecture", prefecture_code="20")
    run_import(engine, user, ROWS.encode("utf-8"))
    _parsed, result = run_import(engine, user, "団体コード,分野ID,利用量,開始年度\r\n202029,rpa,31,R9\r\n".encode())
    assert (result.created, result.updated) == (0, 1)
    with Session(engine) as session:
        rpa = session.exec(select(Need).where(Need.category_id == "rpa")).one()
        assert (rpa.volume, rpa.accepts_unified, rpa.can_lead, rpa.notes) == (31.0, False, True, "")
        ocr = session.exec(select(Need).where(Need.category_id == "ocr")).one()
    _parsed, result = run_import(engine, user, "団体コード,分野ID,利用量,開始年度\r\n202011,ocr,1200,2026\r\n".encode())
    assert (result.updated, result.unchanged) == (0, 1)
    with Session(engine) as session:
        assert session.get(Need, ocr.id).notes == "窓口で使用"


def test_a_wrong_check_digit_is_answered_with_a_correct_code_only_when_that_body_exists():
    parsed = parse("団体コード,分野,利用量,開始年度\r\n202012,ocr,1,2026\r\n209991,ocr,1,2026\r\n")
    first, second = (p.message for p in parsed.problems)
    assert "202012 の検査数字（6桁目）が正しくありません（202011 の誤りではありませんか）" in first
    # 20999 with its check digit is well formed, but no body has it: no "correct" code is offered
    assert "209991 の検査数字（6桁目）が正しくありません。先頭5桁 20999 に当たる団体もありません" in second
    assert "正しくは" not in second and with_check_digit("20999") not in second


def test_notes_keep_the_characters_the_user_typed():
    """NFKC folds full-width digits for codes and numbers, but 備考 is the user's own text: 「（」 stays 「（」."""
    parsed = parse(HEADER + "202011,長野市,ocr,10,2026,○,○,×,申請書（様式１）をＯＣＲ化\r\n")
    assert parsed.problems == []
    assert parsed.rows[0].notes == "申請書（様式１）をＯＣＲ化"
