from datetime import date

import pytest

from planner.reports.wareki import fiscal_year_label, wareki_date, wareki_fiscal_year


@pytest.mark.parametrize("year, expected", [(2026, "令和8年度"), (2020, "令和2年度"), (2019, "令和元年度"),
                                            (2018, "平成30年度"), (1989, "平成元年度"), (2030, "令和12年度")])
def test_fiscal_years(year, expected):
    assert wareki_fiscal_year(year) == expected


def test_dates_change_era_on_the_day():
    assert wareki_date(date(2019, 4, 30)) == "平成31年4月30日"
    assert wareki_date(date(2019, 5, 1)) == "令和元年5月1日"
    assert wareki_date(date(2026, 11, 22)) == "令和8年11月22日"
    assert wareki_date(date(1989, 1, 7)) == "昭和64年1月7日"


def test_label_gives_both_calendars():
    assert fiscal_year_label(2027) == "令和9年度（2027年度）"
