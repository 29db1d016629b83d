"""Hostile and random input (hypothesis) on the forms and importers: never a 500, never a half-written database,
and every rejection says where the problem is (the form field, or the file's row and column).

Already covered elsewhere and not repeated here: instance files (tests/domain/test_instance_fuzz.py) and the needs
file parser and its all-or-nothing import (tests/importers/test_needs_import.py). Here: the same files through
the web pages (upload, preview, confirm), the scenario and need forms, the flags importer and the official-data
importer.
"""

from __future__ import annotations

import csv
import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from sqlalchemy import func
from sqlmodel import Session, select

from planner.db.models import AuditLog, Body, Need, Scenario
from planner.importers.errors import FileProblems, Problem
from tests.security.conftest import World, login

FUZZ = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

# Text that has broken parsers before: control characters, full-width and combining characters, markup, SQL, very
# long values, formulas, numbers in odd shapes.
NASTY = st.sampled_from(
    [
        "",
        " ",
        "\x00",
        "\u3000",
        "０１２",
        "1e309",
        "-1",
        "NaN",
        "inf",
        "9" * 40,
        "1,000.5",
        "'; DROP TABLE need; --",
        "<script>alert(1)</script>",
        "=1+1",
        "令和元年度",
        "R99",
        "H30",
        "○",
        "×",
        "\u202e",
        "a\u0301",
        "🙂",
        "x" * 5000,
        "202011",
        "151009",
        "ocr",
        "2026",
    ]
)
TEXT = st.one_of(NASTY, st.text(max_size=40))
ERROR_FOR_FIELD = re.compile(r'id="([a-z_0-9-]+)-errors"')


def counts(world: World) -> dict[str, int]:
    with Session(world.engine) as session:
        out = {m.__name__: session.exec(select(func.count()).select_from(m)).one() for m in (Scenario, Need)}
        out["changes"] = session.exec(
            select(func.count())
            .select_from(AuditLog)
            .where(AuditLog.action.in_(["create", "update", "import", "delete", "withdraw"]))
        ).one()
    return out


def signed_in(world: World, user: str):
    """One signed-in client per user for the module (argon2 makes a login per example slow)."""
    cache = world.app.extensions.setdefault("hostile_clients", {})
    if user not in cache:
        cache[user] = world.app.test_client()
        login(cache[user], user)
    return cache[user]


def flagged(html: str) -> bool:
    """The page shows an error tied to a form field or a flash error naming the problem (or, for a NUL character,
    refused before any form is read, the error page naming the field that carried it)."""
    return (
        bool(ERROR_FOR_FIELD.search(html))
        or 'class="flash flash-error"' in html
        or "error-summary" in html
        or ("error-page" in html and "NUL" in html and "フォーム" in html)
    )


# --- forms -----------------------------------------------------------------------------------------------------------

scenario_forms = st.fixed_dictionaries(
    {},
    optional={
        "name": TEXT,
        "prefecture_code": st.sampled_from(["20", "15", "", "99", "2O"]) | TEXT,
        "body_codes": TEXT,
        "category_ids": st.lists(st.sampled_from(["ocr", "rpa", "genai", "nope", ""]), max_size=3),
        "fiscal_year": TEXT,
        "horizon_years": TEXT,
        "geography_type": st.sampled_from(["same_prefecture", "radius_km", "x"]),
        "radius_km": TEXT,
        "prefecture_as_host": st.sampled_from(["y", ""]),
        "extra_hosts": TEXT,
        "allocation_method": st.sampled_from(["formula", "equal", "shapley", "nucleolus", "x"]) | TEXT,
        "weight_equal": TEXT,
        "weight_population": TEXT,
        "weight_volume": TEXT,
        "price_book_id": TEXT,
        "subsidy_rule_set_id": TEXT,
        "time_limit_seconds": TEXT,
        "version": TEXT,
    },
)


@FUZZ
@given(form=scenario_forms)
def test_scenario_form_rejects_cleanly_and_creates_only_in_scope(world, form):
    client = signed_in(world, "pref20")
    before = counts(world)
    response = client.post("/scenarios/new", data=form)
    after = counts(world)
    assert response.status_code in (302, 400), response.status_code
    if response.status_code == 400:
        assert after == before, "a rejected scenario form wrote something"
        assert flagged(response.get_data(as_text=True)), f"no error shown for {form!r}"
    else:
        assert after["Scenario"] == before["Scenario"] + 1
        with Session(world.engine) as session:
            created = session.exec(select(Scenario).order_by(Scenario.id.desc())).first()
            assert created.prefecture_code == "20"  # a coordinator cannot create another prefecture's scenario
            session.delete(created)
            session.commit()


need_forms = st.fixed_dictionaries(
    {},
    optional={
        "body_code": st.sampled_from(["202011", "202029", "151009", "", "x"]) | TEXT,
        "category_id": st.sampled_from(["chatbot", "ocr", "voice", "", "nope"]) | TEXT,
        "volume": TEXT,
        "start_year": st.sampled_from(["2026", "2027", "1999", ""]) | TEXT,
        "accepts_lead": st.sampled_from(["y", ""]),
        "accepts_unified": st.sampled_from(["y", ""]),
        "can_lead": st.sampled_from(["y", ""]),
        "notes": TEXT,
        "version": TEXT,
    },
)


@FUZZ
@given(form=need_forms)
def test_need_form_rejects_cleanly_and_registers_only_the_users_body(world, form):
    client = signed_in(world, "muni202011")
    before = counts(world)
    response = client.post("/needs/new", data=form)
    after = counts(world)
    assert response.status_code in (302, 400, 403, 409, 422), response.status_code
    if response.status_code == 302:
        assert after["Need"] == before["Need"] + 1
        with Session(world.engine) as session:
            created = session.exec(select(Need).order_by(Need.id.desc())).first()
            assert created.body_code == "202011"
            session.delete(created)
            for entry in session.exec(
                select(AuditLog).where(AuditLog.entity == "need", AuditLog.entity_id == str(created.id))
            ):
                session.delete(entry)
            session.commit()
        return
    assert after == before, "a rejected need form wrote something"
    body = response.get_data(as_text=True)
    if response.status_code == 400:  # a NUL byte is refused before any form is read, naming the field it was in
        assert "U+0000" in body and any(f"フォーム {name}" in body for name in form), body
    elif response.status_code != 403:
        assert flagged(body), f"no error tied to a field for {form!r}"


# --- files through the web --------------------------------------------------------------------------------------------

HEADERS = [
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
    "code",
    "disadvantaged",
    "has_data_plan",
    "条件不利地域",
    "",
]
CELL = st.one_of(
    NASTY,
    st.sampled_from(
        ["202011", "202029", "151009", "ocr", "rpa", "10", "2027", "令和9年度", "○", "×", "1", "0", "長野市"]
    ),
    st.text(max_size=12),
)


@st.composite
def table_files(draw) -> tuple[str, bytes]:
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=1, max_size=8))
    rows = draw(st.lists(st.lists(CELL, min_size=0, max_size=len(header) + 1), max_size=6))
    kind = draw(st.sampled_from(["csv-utf8", "csv-cp932", "xlsx", "junk"]))
    if kind == "junk":
        return "needs.csv", draw(st.binary(max_size=200))
    if kind == "xlsx":
        wb = Workbook()
        for row in [header, *rows]:
            wb.active.append([_clean(c) for c in row])
        buf = io.BytesIO()
        wb.save(buf)
        return "needs.xlsx", buf.getvalue()
    buf = io.StringIO()
    csv.writer(buf).writerows([header, *rows])
    return "needs.csv", buf.getvalue().encode("utf-8-sig" if kind == "csv-utf8" else "cp932", errors="replace")


def _problem_rows(html: str) -> list[tuple[str, str]]:
    return re.findall(r'<tr class="has-problem"><td class="num">([^<]*)</td><td>([^<]*)</td>', html)


@FUZZ
@given(upload=table_files())
def test_needs_upload_never_fails_or_writes_before_confirmation(world, upload):
    name, data = upload
    client = signed_in(world, "muni202011")
    before = counts(world)
    response = client.post("/needs/import", data={"file": (io.BytesIO(data), name)}, content_type="multipart/form-data")
    assert response.status_code in (200, 422), response.status_code
    assert counts(world) == before, "the preview wrote something"
    html = response.get_data(as_text=True)
    if response.status_code == 422:
        assert "error-summary" in html or ERROR_FOR_FIELD.search(html), "a rejected file without a reason"
        for row, column in _problem_rows(html):
            # A problem of a data row names its row and column; the file-level ones (no header...) say so.
            assert (row.strip() and row.strip() != "—") or column.strip() in ("", "—"), (row, column)
        return
    token = re.search(r'name="token"[^>]*value="([^"]+)"', html) or re.search(r'value="([^"]+)"[^>]*name="token"', html)
    if token is None:
        return
    confirmed = client.post("/needs/import/confirm", data={"token": token.group(1)})
    assert confirmed.status_code in (302, 422), confirmed.status_code
    with Session(world.engine) as session:  # whatever went in is the user's own body only
        assert not session.exec(
            select(Need).where(Need.body_code != "202011", Need.id > max(world.needs.values()))
        ).first()


@FUZZ
@given(upload=table_files())
def test_flags_upload_never_fails_and_changes_nothing_before_confirmation(world, upload):
    name, data = upload
    client = signed_in(world, "pref20")
    with Session(world.engine) as session:
        before = [(b.code, b.disadvantaged, b.has_data_plan) for b in session.exec(select(Body).order_by(Body.code))]
    response = client.post(
        "/bodies/import",
        data={"file": (io.BytesIO(data), name.replace("needs", "flags"))},
        content_type="multipart/form-data",
    )
    assert response.status_code in (200, 400, 422), response.status_code
    with Session(world.engine) as session:
        after = [(b.code, b.disadvantaged, b.has_data_plan) for b in session.exec(select(Body).order_by(Body.code))]
    assert after == before


# --- importers directly ----------------------------------------------------------------------------------------------


def _check_problems(problems: list[Problem], file_name: str) -> None:
    for p in problems:
        assert p.file == file_name and p.message
        assert str(p).startswith(file_name)
        if p.column is not None:
            assert p.row is not None, f"a column without its row: {p}"


@FUZZ
@given(upload=table_files())
def test_flags_parser_answers_with_values_or_located_problems(upload):
    from planner.importers.flags import parse_flags_file

    name, data = upload
    try:
        parsed = parse_flags_file(name, data, frozenset({"202011", "202029", "151009"}))
    except FileProblems as e:
        assert e.problems
        _check_problems(e.problems, name)
        return
    for code, values in parsed.values.items():
        assert code in {"202011", "202029", "151009"} and parsed.rows[code] >= 2
        assert set(values) <= {"disadvantaged", "has_data_plan"}


def _clean(value):
    # openpyxl refuses control characters in cells: a real file cannot contain them either.
    return re.sub(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", "", value) if isinstance(value, str) else value


OFFICIAL_HEADS = [
    ["団体コード", "都道府県名", "市区町村名", "人口", "世帯数"],
    ["団体コード", "都道府県名", "団体名", "財政力指数"],
    ["都道府県名", "団体名", "財政力指数"],
    ["都道府県名", "財政力指数"],
    ["何か", "別の", "表"],
]


@st.composite
def official_files(draw) -> bytes:
    wb = Workbook()
    ws = wb.active
    for _ in range(draw(st.integers(0, 3))):
        ws.append([_clean(draw(TEXT))[:50]])
    ws.append(draw(st.sampled_from(OFFICIAL_HEADS)))
    for _ in range(draw(st.integers(0, 6))):
        cells = st.one_of(CELL, st.integers(-10, 10**9), st.floats(allow_nan=False, allow_infinity=False))
        ws.append([_clean(draw(cells)) for _ in range(5)])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


@FUZZ
@given(data=st.one_of(official_files(), st.binary(max_size=300)))
def test_official_parser_answers_with_values_or_located_problems(data):
    from planner.importers.official import BodyIndex, parse_official_file

    bodies = BodyIndex(
        names={"200000": "長野県", "202011": "長野市"},
        kinds={"200000": "prefecture", "202011": "city"},
        prefecture_codes={"200000": "20", "202011": "20"},
        ward_codes=frozenset(),
    )
    try:
        parsed = parse_official_file("official.xlsx", data, bodies)
    except FileProblems as e:
        assert e.problems
        _check_problems(e.problems, "official.xlsx")
        return
    assert set(parsed.values) <= {"200000", "202011"}
