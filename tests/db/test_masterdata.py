"""Codes and the national master list (japancode's data, read offline)."""

from __future__ import annotations

import csv
from collections import Counter

import pytest

from planner.charts.basemap import point_in_ring, prefecture_outlines
from planner.domain.costs import haversine_km
from planner.masterdata.codes import check_digit, code_problem, normalize_code, prefecture_body_code
from planner.masterdata.national import PREFECTURAL_OFFICE_MUNICIPALITY, master_bodies, prefecture_names, ward_codes
from tests.conftest import shared_path


@pytest.mark.parametrize("code", ["010006", "011002", "131016", "200000", "202011", "473821", "016993"])
def test_check_digit_of_known_codes(code):
    assert check_digit(code[:5]) == code[5]
    assert code_problem(code) is None


def test_check_digit_wraps_10_and_11_to_their_last_digit():
    # weighted sums 1 (mod 11) and 0 (mod 11): 11 - 1 = 10 -> 0, 11 - 0 = 11 -> 1
    sums = {
        code[:5]: sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2), strict=False)) % 11
        for code in (b.code for b in master_bodies())
    }
    one = next(c for c, s in sums.items() if s == 1)
    zero = next(c for c, s in sums.items() if s == 0)
    assert check_digit(one) == "0" and check_digit(zero) == "1"


def test_code_problems_are_named():
    assert "検査数字" in code_problem("202012")
    assert "6桁" in code_problem("20201")
    assert "01〜47" in code_problem("482018")
    assert normalize_code(11002) == "011002" and normalize_code(202011.0) == "202011"
    assert prefecture_body_code("20") == "200000" and prefecture_body_code("1") == "010006"


def test_master_list_has_every_body_and_no_ward():
    bodies = master_bodies()
    assert len(bodies) == 1788
    assert Counter(b.kind for b in bodies) == {
        "prefecture": 47,
        "designated_city": 20,
        "city": 772,
        "special_ward": 23,
        "town": 743,
        "village": 183,
    }
    assert len(ward_codes()) == 175 and not ward_codes() & {b.code for b in bodies}
    assert all(code_problem(b.code) is None for b in bodies)
    assert prefecture_names()["20"] == "長野県"


def test_prefecture_position_is_its_office_the_capitals_position():
    bodies = master_bodies()
    by_name = {(b.prefecture_code, b.name): b for b in bodies}
    prefectures = [b for b in bodies if b.kind == "prefecture"]
    assert len(prefectures) == 47
    for pref in prefectures:
        capital = by_name[(pref.prefecture_code, PREFECTURAL_OFFICE_MUNICIPALITY[pref.prefecture_code])]
        assert capital.kind != "prefecture"
        assert (pref.lat, pref.lng) == (capital.lat, capital.lng), pref.name
    # Against the offices' published positions (国土地理院「都道府県庁の位置」), within a few kilometres.
    offices = {
        "010006": (43.0642, 141.3469),
        "130001": (35.6895, 139.6917),
        "200000": (36.6513, 138.1810),
        "470007": (26.2125, 127.6811),
    }
    got = {b.code: b for b in prefectures}
    for code, (lat, lng) in offices.items():
        assert haversine_km(got[code].lat, got[code].lng, lat, lng) < 3.0, got[code].name
    # No longer the centroid of its municipalities: 長野県's centroid is 60 km south of 長野市.
    nagano = got["200000"]
    members = [b for b in bodies if b.prefecture_code == "20" and b.kind != "prefecture"]
    centroid = (sum(b.lat for b in members) / 77, sum(b.lng for b in members) / 77)
    assert haversine_km(nagano.lat, nagano.lng, *centroid) > 40


def test_every_prefectural_office_lies_inside_its_prefectures_outline():
    """The capital table cross-checked against the shipped outlines (each is the land area holding the 県庁)."""
    outlines = prefecture_outlines()
    for b in master_bodies():
        if b.kind == "prefecture":
            assert point_in_ring(b.lng, b.lat, outlines[b.prefecture_code].ring), b.name


def test_master_list_matches_the_national_reference_csv():
    path = shared_path("data", "bodies_national.csv")
    with open(path, encoding="utf-8") as f:
        expected = {r["code"]: r for r in csv.DictReader(f)}
    got = {b.code: b for b in master_bodies()}
    assert set(got) == set(expected)
    for code, row in expected.items():
        b = got[code]
        assert (b.name, b.kind, b.prefecture_code, b.prefecture_name) == (
            row["name"],
            row["kind"],
            row["prefecture_code"],
            row["prefecture"],
        ), code
        if b.kind == "prefecture":  # the reference file has the centroid; the office is used since issue #15
            continue
        assert (b.lat, b.lng) == (float(row["lat"]), float(row["lng"])), code
        assert check_digit(code[:5]) == code[5]


def test_init_db_moves_a_prefecture_stored_at_its_old_centroid_to_its_office(initialized_engine):
    """Databases set up before the change keep the centroid until init-db runs again; then the office is used."""
    from sqlmodel import Session

    from planner.db.models import Body
    from planner.services.bodies import sync_master_bodies

    with Session(initialized_engine) as session:
        nagano = session.get(Body, "200000")
        nagano.lat, nagano.lng = 36.10879, 138.07379  # the centroid stored before issue #15
        session.add(nagano)
        session.commit()
        report = sync_master_bodies(session)
        session.commit()
        city = session.get(Body, "202011")
        nagano = session.get(Body, "200000")
    assert report.updated == ["200000"]
    assert (nagano.lat, nagano.lng) == (city.lat, city.lng)
