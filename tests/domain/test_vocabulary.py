"""The one vocabulary: labels, yen, 千円, 和暦 both ways, and the spreadsheet-cell guard."""

from datetime import date

import pytest

from planner.domain import vocabulary
from planner.domain.vocabulary import (
    csv_text,
    find_wareki_date,
    find_wareki_fiscal_year,
    fiscal_year_label,
    parse_fiscal_year,
    wareki_date,
    wareki_fiscal_year,
    yen,
    yen_digits,
    yen_thousand,
)


@pytest.mark.parametrize(
    "year, expected",
    [
        (2026, "令和8年度"),
        (2020, "令和2年度"),
        (2019, "令和元年度"),
        (2018, "平成30年度"),
        (1989, "平成元年度"),
        (2030, "令和12年度"),
    ],
)
def test_fiscal_years(year, expected):
    assert wareki_fiscal_year(year) == expected


def test_dates_change_era_on_the_day():
    assert wareki_date(date(2019, 4, 30)) == "平成31年4月30日"
    assert wareki_date(date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki_date(date(2026, 11, 22)) == "令和8年11月22日"
    assert wareki_date(date(1989, 1, 7)) == "昭和64年1月7日"


def test_label_gives_both_calendars():
    assert fiscal_year_label(2027) == "令和9年度（2027年度）"
    assert fiscal_year_label(None) == "—" and wareki_fiscal_year("") == "—"


def test_yen_has_one_minus_sign_everywhere():
    assert yen(1234567) == "1,234,567円" and yen(-12000) == "−12,000円" and yen(None) == "—"
    assert yen_digits(-5) == "−5" and yen_digits(0) == "0" and yen(2.5) == "3円"  # half up, as the cost model
    assert yen_thousand(1234567) == "1,235千円" and yen_thousand(1234499) == "1,234千円"
    assert yen_thousand(-2500) == "−2千円"  # half up: toward the larger number, as round_yen
    assert "-" not in yen(-1) and vocabulary.signed_yen(-5) == "−5円" and vocabulary.signed_yen(0) == "±0円"


@pytest.mark.parametrize(
    "raw, year",
    [
        ("2026", 2026),
        ("2026年度", 2026),
        ("令和8年度", 2026),
        ("令和元年度", 2019),
        ("R8", 2026),
        ("r.8", 2026),
        ("H30", 2018),
        ("平成 30 年度", 2018),
        ("令和0年度", None),
        ("大正5年", None),
        ("来年", None),
    ],
)
def test_fiscal_years_are_read_as_written(raw, year):
    assert parse_fiscal_year(raw) == year


def test_dates_and_years_in_titles():
    assert find_wareki_date("住民基本台帳人口（令和7年1月1日現在）") == date(2025, 1, 1)
    assert find_wareki_fiscal_year("令和5年度 全市町村の主要財政指標") == 2023 and find_wareki_date("なし") is None


def test_formula_like_text_stays_text():
    for hostile in ('=HYPERLINK("x")', "+cmd|x", "-1+1", "@SUM(A1)", "＝1", "\tx"):
        assert csv_text(hostile) == "'" + hostile
    assert csv_text("長野市") == "長野市" and csv_text(12) == 12 and csv_text("") == ""


def test_one_wording_for_modes_and_roles():
    assert vocabulary.mode_label("lead") == "幹事団体方式（一括調達）"
    assert vocabulary.mode_label("unified") == "仕様統一方式（各団体調達）"
    assert vocabulary.lead_role("unified") == "取りまとめ団体" and vocabulary.lead_mark("unified") == "取りまとめ"
