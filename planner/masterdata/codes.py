"""全国地方公共団体コード: 2-digit prefecture, 3-digit body, 1 check digit."""

from __future__ import annotations

from collections.abc import Container

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


def code_problem(code: str, known: Container[str] | None = None) -> str | None:
    """None for a well-formed 6-digit code; otherwise what is wrong with it (Japanese, for users).

    A wrong check digit is answered with the corrected code only when ``known`` (the registered bodies' codes)
    holds it: a well-formed code of no body is no answer to a typing mistake."""
    if not isinstance(code, str) or len(code) != 6 or not code.isdigit():
        return f"団体コードは6桁の数字です（{code!r}）"
    if not 1 <= int(code[:2]) <= 47:
        return f"団体コード {code} の都道府県部分（先頭2桁）が 01〜47 ではありません"
    if check_digit(code[:5]) != code[5]:
        wrong = f"団体コード {code} の検査数字（6桁目）が正しくありません"
        fixed = with_check_digit(code[:5])
        if known is None:
            return wrong
        if fixed in known:
            return f"{wrong}（{fixed} の誤りではありませんか）"
        return f"{wrong}。先頭5桁 {code[:5]} に当たる団体もありません"
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
