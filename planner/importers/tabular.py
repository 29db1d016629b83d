"""Reading spreadsheets and CSV files into rows of cells, with helpers for messages about them."""

from __future__ import annotations

import csv
import io
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .errors import FileProblems, Problem, too_many_rows
from .sandbox import run_bounded
from .xlsx_scan import MAX_CELLS, MB, broken, scan_xlsx

Source = bytes | str | Path


def read_bytes(file_name: str, source: Source) -> bytes:
    if isinstance(source, bytes):
        return source
    try:
        return Path(source).read_bytes()
    except OSError as e:
        raise FileProblems([Problem(file_name, f"ファイルを読めません（{e.strerror}）")]) from e


OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Office files (.xls, .doc)
ZIP_SIGNATURE = b"PK"

# Files people pick by mistake, named so the message can say what was chosen. Checked before the text heuristic
# because some (PDF, RTF, HTML) begin as plain text.
_SIGNATURES = (
    (b"\x89PNG\r\n\x1a\n", "PNG 画像"),
    (b"\xff\xd8\xff", "JPEG 画像"),
    (b"GIF87a", "GIF 画像"),
    (b"GIF89a", "GIF 画像"),
    (b"BM", None),
    (b"II*\x00", "TIFF 画像"),
    (b"MM\x00*", "TIFF 画像"),
    (b"%PDF-", "PDF ファイル"),
    (b"{\\rtf", "RTF 文書"),
    (b"\x1f\x8b", "gzip 圧縮ファイル"),
    (b"7z\xbc\xaf\x27\x1c", "7-Zip 圧縮ファイル"),
    (b"Rar!", "RAR 圧縮ファイル"),
    (b"MZ", None),
    (b"\x7fELF", "実行ファイル"),
)
_ALLOWED_CONTROLS = frozenset(b"\t\n\r\x0c\x1a")  # tab, line ends, form feed, DOS end-of-file
WRONG_TYPE = (
    "CSV（.csv）でも Excel（.xlsx）でもないファイルです（{kind}）。CSV か Excel で保存したファイルを選んでください"
)


def content_kind(data: bytes) -> str | None:
    """What the bytes look like: "xlsx" (a ZIP), "xls" (old binary Office), "text", or a Japanese description of
    another kind of file ("PNG 画像", "バイナリファイル"); None for no data."""
    if not data:
        return None
    if data[:2] == ZIP_SIGNATURE:
        return "xlsx"
    if data[:8] == OLE_SIGNATURE:
        return "xls"
    for signature, label in _SIGNATURES:
        if data.startswith(signature) and label is not None:
            return label
    head = data[:8192]
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return "text"  # UTF-16 text: refused later for its encoding, which is what the user must change
    controls = sum(1 for b in head if b < 0x20 and b not in _ALLOWED_CONTROLS)
    # Neither UTF-8 nor Shift_JIS uses bytes below 0x20 inside characters, so text has (almost) none of them.
    if b"\x00" in head or controls > max(2, len(head) // 100):
        return "バイナリファイル（画像・実行ファイルなど）"
    if head[:2] == b"MZ" and controls:
        return "実行ファイル"
    if head[:2] == b"BM" and controls:
        return "BMP 画像"
    return "text"


def wrong_type(file_name: str, kind: str) -> FileProblems:
    return FileProblems([Problem(file_name, WRONG_TYPE.format(kind=kind))])


# What any of the importers' files needs at most: the national list has 1,788 bodies, a needs file at most
# needs.MAX_ROWS rows. Reading stops at these limits, so a small file declaring (or holding) millions of cells is
# refused in well under a second instead of holding a worker while openpyxl expands it.
MAX_SHEET_ROWS = 25000
MAX_SHEET_COLUMNS = 200
MAX_CSV_BYTES = 8 * MB  # a 20,000-row needs file with notes is 2-3 MB


def _check_xlsx(file_name: str, data: bytes) -> None:
    """What can be said of a file that is not a workbook at all, in the worker (cheap, exact messages)."""
    kind = content_kind(data)
    if kind == "xls":
        raise FileProblems(
            [
                Problem(
                    file_name,
                    "旧形式の Excel ファイル（.xls）です。Excel で .xlsx 形式に保存し直してから取り込んでください",
                )
            ]
        )
    if kind is None:
        raise FileProblems([Problem(file_name, "空のファイルです")])
    if kind == "text":
        raise FileProblems([Problem(file_name, "Excel（.xlsx）ファイルとして読めません（テキスト／CSV の内容です）")])
    if kind != "xlsx":
        raise wrong_type(file_name, kind)


@dataclass(frozen=True)
class SheetRows:
    title: str
    rows: list[tuple[Any, ...]]


def read_workbook(
    file_name: str, data: bytes, *, max_rows: int = MAX_SHEET_ROWS, first_sheet_only: bool = False
) -> list[SheetRows]:
    """The cell values of every sheet (or the first), read with bounded work: the parts are checked against the
    limits of :mod:`.xlsx_scan`, then openpyxl reads them in a child process with a time and memory limit. Any
    problem is FileProblems naming the file, never another exception."""
    _check_xlsx(file_name, data)
    return run_bounded(
        file_name,
        _read_workbook,
        file_name,
        data,
        max_rows,
        first_sheet_only,
        broken_message="Excel（.xlsx）ファイルとして読めません",
    )


def _read_workbook(file_name: str, data: bytes, max_rows: int, first_sheet_only: bool) -> list[SheetRows]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
                raise FileProblems([Problem(file_name, "ZIP 圧縮ファイルですが Excel（.xlsx）ファイルではありません")])
            scan_xlsx(file_name, archive, max_rows=max_rows)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error, NotImplementedError) as e:
        raise broken(file_name) from e
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except FileProblems:
        raise
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError, SyntaxError) as e:
        raise broken(file_name, type(e).__name__) from e
    try:
        sheets = workbook.worksheets[:1] if first_sheet_only else workbook.worksheets
        if not sheets:
            raise FileProblems([Problem(file_name, "シートがありません")])
        out = []
        for sheet in sheets:
            rows = sheet_rows(sheet, file_name, max_rows=max_rows)
            while rows and not any(c is not None for c in rows[-1]):
                rows.pop()
            out.append(SheetRows(sheet.title, [_trim(r) for r in rows]))
        return out
    finally:
        workbook.close()


def _trim(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """A row without its empty cells on the right (read-only sheets pad every row to the sheet's width)."""
    end = len(row)
    while end and row[end - 1] is None:
        end -= 1
    return row[:end]


def sheet_rows(
    sheet, file_name: str = "", *, max_rows: int = MAX_SHEET_ROWS, max_columns: int = MAX_SHEET_COLUMNS
) -> list[tuple[Any, ...]]:
    """The rows of a sheet, refused (FileProblems) as soon as the sheet declares or turns out to hold more than
    ``max_rows`` rows; columns beyond ``max_columns`` are not read (no importer has a column that far right)."""
    name = file_name or sheet.title
    declared = _declared_rows(sheet)
    if declared is not None and declared > max_rows:
        raise too_many_rows(name, declared, max_rows, declared=True)
    rows: list[tuple[Any, ...]] = []
    # max_row past the limit: a dimension that understates the rows must not hide them from the count
    for row in sheet.iter_rows(max_row=max_rows + 1, max_col=max_columns, values_only=True):
        if len(rows) == max_rows:
            raise too_many_rows(name, None, max_rows)
        rows.append(tuple(row))
    return rows


def _declared_rows(sheet) -> int | None:
    """The row count in the sheet's <dimension ref="A1:C200000">, read without reading the rows (None if absent)."""
    try:
        return sheet.max_row  # read-only sheets take it from the dimension element
    except Exception:  # an unparsable dimension: the row count while reading still applies
        return None


def decode_csv(file_name: str, data: bytes, *, max_rows: int = MAX_SHEET_ROWS) -> list[list[str]]:
    """CSV text as Excel in Japan writes it (UTF-8 with or without BOM, or Shift_JIS/CP932)."""
    if len(data) > MAX_CSV_BYTES:
        raise FileProblems(
            [
                Problem(
                    file_name,
                    f"CSV ファイルが大きすぎます（{len(data) / MB:,.1f} MB、上限 {MAX_CSV_BYTES // MB} MB）。"
                    "ファイルを分けてください",
                )
            ]
        )
    kind = content_kind(data)
    if kind in ("xlsx", "xls"):
        raise FileProblems([Problem(file_name, "Excel ファイルの内容です。CSV としては読めません")])
    if kind is not None and kind != "text":
        raise wrong_type(file_name, kind)
    if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        raise FileProblems(
            [Problem(file_name, "文字コードが UTF-16 です（UTF-8 または Shift_JIS で保存してください）")]
        )
    for encoding in ("utf-8-sig", "cp932"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise FileProblems(
            [Problem(file_name, "文字コードを判別できません（UTF-8 または Shift_JIS で保存してください）")]
        )
    return _csv_rows(file_name, text, max_rows)


def _csv_rows(file_name: str, text: str, max_rows: int) -> list[list[str]]:
    """The rows, stopping at the limits: the csv module's field limit (131,072 characters, which an unclosed quote
    reaches quickly), ``max_rows`` rows and MAX_CELLS cells, so the rows held never outgrow the file much."""
    rows: list[list[str]] = []
    cells = 0
    reader = csv.reader(io.StringIO(text))
    start = 1  # the line the row being read begins on: where an unclosed quote is
    try:
        for row in reader:
            start = reader.line_num + 1
            rows.append(row)
            cells += len(row)
            if len(rows) > max_rows:
                raise too_many_rows(file_name, None, max_rows)
            if cells > MAX_CELLS:
                raise FileProblems(
                    [Problem(file_name, f"欄が多すぎます（{MAX_CELLS:,}個を超えています）。ファイルを分けてください")]
                )
    except csv.Error as e:
        line = start
        if "field larger than field limit" in str(e):
            message = (
                f"欄の内容が長すぎます（{csv.field_size_limit():,}文字を超えています）。"
                '引用符（"）の閉じ忘れがないか確かめてください'
            )
        else:
            message = f"CSV として読めません（{e}）"
        raise FileProblems([Problem(file_name, message, line or None)]) from e
    return rows


def text(value: Any) -> str:
    """A cell as normalised text: full-width digits and letters folded (NFKC), spaces trimmed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return unicodedata.normalize("NFKC", str(value)).strip()


def own_text(value: Any) -> str:
    """A cell of free text (備考) as the user wrote it: only trimmed. NFKC would turn 「（」 into 「(」 and 「①」 into
    「1」, which is right for codes and numbers but changes a person's words."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def column_label(index: int, header: str = "") -> str:
    """'D（財政力指数）' for the 0-based column index 3."""
    letter = get_column_letter(index + 1)
    return f"{letter}（{header}）" if header else letter


def nonblank(rows: list[tuple[Any, ...]]) -> Iterator[tuple[int, tuple[Any, ...]]]:
    for i, row in enumerate(rows):
        if any(text(c) for c in row):
            yield i, row
