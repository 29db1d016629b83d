"""Reading spreadsheets and CSV files into rows of cells, with helpers for messages about them."""
from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
from pathlib import Path
from typing import Any, Iterator, Union

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .errors import FileProblems, Problem

Source = Union[bytes, str, Path]


def read_bytes(file_name: str, source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise FileProblems([Problem(file_name, f"ファイルを読めません（{e.strerror}）")]) from e


def open_workbook(file_name: str, data: bytes):
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
        raise FileProblems([Problem(file_name, "旧形式の Excel ファイル（.xls）です。Excel で .xlsx 形式に保存し直してから取り込んでください")])
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
        raise FileProblems([Problem(file_name, "Excel（.xlsx）ファイルとして読めません")]) from e


def sheet_rows(sheet) -> list[tuple[Any, ...]]:
    return [tuple(row) for row in sheet.iter_rows(values_only=True)]


def decode_csv(file_name: str, data: bytes) -> list[list[str]]:
    """CSV text as Excel in Japan writes it (UTF-8 with or without BOM, or Shift_JIS/CP932)."""
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblems([Problem(file_name, "文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）")])
    return list(csv.reader(io.StringIO(text)))


def text(value: Any) -> str:
    """A cell as normalised text: full-width digits and letters folded (NFKC), spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def column_label(index: int, header: str = "") -> str:
    """'D（財政力指数）' for the 0-based column index 3."""
    letter = get_column_letter(index + 1)
    return f"{letter}（{header}）" if header else letter


def nonblank(rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for i, row in enumerate(rows):
        if any(text(c) for c in row):
            yield i, row
