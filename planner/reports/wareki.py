"""和暦 (Japanese era) dates and fiscal years for the printed documents.

Finance sections budget by 年度 (April to March) and write dates in 和暦, so every date a document prints goes
through here. Only the eras a plan can touch are needed; 令和 started on 2019-05-01.
"""
from __future__ import annotations

from datetime import date

# (first day, era name), newest first
_ERAS = ((date(2019, 5, 1), "令和"), (date(1989, 1, 8), "平成"), (date(1926, 12, 25), "昭和"))


def _era_year(name: str, year: int) -> str:
    return f"{name}元" if year == 1 else f"{name}{year}"


def wareki_date(day: date) -> str:
    """2026-04-01 → 令和8年4月1日."""
    for start, name in _ERAS:
        if day >= start:
            return f"{_era_year(name, day.year - start.year + 1)}年{day.month}月{day.day}日"
    raise ValueError(f"date before 昭和: {day.isoformat()}")


def wareki_fiscal_year(year: int) -> str:
    """Fiscal year 2026 (April 2026 to March 2027) → 令和8年度.

    A fiscal year takes the era in force on its first day (April 1st), except 2019: the era changed in May and the
    government calls that whole year 令和元年度.
    """
    if year == 2019:
        return "令和元年度"
    return wareki_date(date(year, 4, 1)).split("年")[0] + "年度"


def fiscal_year_label(year: int) -> str:
    """令和8年度（2026年度）: the 和暦 that documents use, with the western year for readers who count that way."""
    return f"{wareki_fiscal_year(year)}（{year}年度）"
