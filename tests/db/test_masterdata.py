"""Codes and the national master list (japancode's data, read offline)."""
from __future__ import annotations

import csv
from collections import Counter

import pytest

from planner.masterdata.codes import check_digit, code_problem, normalize_code, prefecture_body_code
from planner.masterdata.national import master_bodies, prefecture_names, ward_codes
from tests.conftest import shared_path


@pytest.mark.parametrize("code", ["010006", "011002", "131016", "200000", "202011", "473821", "016993"])
def test_check_digit_of_known_codes(code):
    assert check_digit(code[:5]) == code[5]
    assert code_problem(code) is None


def test_check_digit_wraps_10_and_11_to_their_last_digit():
    # weighted sums 1 (mod 11) and 0 (mod 11): 11 - 1 = 10 -> 0, 11 - 0 = 11 -> 1
    sums = {code[:5]: sum(int(d) * w for d, w in zip(code[:5], (6, 5, 4, 3, 2))) % 11 for code in
            (b.code for b in master_bodies())}
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
    assert Counter(b.kind for b in bodies) == {"prefecture": 47, "designated_city": 20, "city": 772,
                                                "special_ward": 23, "town": 743, "village": 183}
    assert len(ward_codes()) == 175 and not ward_codes() & {b.code for b in bodies}
    assert all(code_problem(b.code) is None for b in bodies)
    assert prefecture_names()["20"] == "長野県"


def test_prefecture_position_is_the_mean_of_its_municipalities():
    bodies = master_bodies()
    nagano = next(b for b in bodies if b.code == "200000")
    members = [b for b in bodies if b.prefecture_code == "20" and b.kind != "prefecture"]
    assert len(members) == 77
    assert nagano.lat == pytest.approx(sum(b.lat for b in members) / 77, abs=1e-5)
    assert nagano.lng == pytest.approx(sum(b.lng for b in members) / 77, abs=1e-5)


def test_master_list_matches_the_national_reference_csv():
    path = shared_path("data", "bodies_national.csv")
    with open(path, encoding="utf-8") as f:
        expected = {r["code"]: r for r in csv.DictReader(f)}
    got = {b.code: b for b in master_bodies()}
    assert set(got) == set(expected)
    for code, row in expected.items():
        b = got[code]
        assert (b.name, b.kind, b.prefecture_code, b.prefecture_name) == \
            (row["name"], row["kind"], row["prefecture_code"], row["prefecture"]), code
        assert (b.lat, b.lng) == (float(row["lat"]), float(row["lng"])), code
        assert check_digit(code[:5]) == code[5]
