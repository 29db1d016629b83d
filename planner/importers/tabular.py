"""Reading spreadsheets and CSV files into rows of cells, with helpers for messages about them."""

from __future__ import annotations

import csv
import io
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils import get_column_letter
from openpyxl.utils.exceptions import InvalidFileException

from .errors import FileProblems, Problem

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


_ROW_TAG = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?row[\s>/]")


def _check_sheet_sizes(file_name: str, archive: zipfile.ZipFile, max_rows: int) -> None:
    """Count the rows of every worksheet in its compressed XML before openpyxl reads it (openpyxl parses a whole
    sheet just to find out its size when the <dimension> element is missing): a small file holding hundreds of
    thousands of rows is refused in a fraction of a second, whatever its <dimension> says."""
    for info in archive.infolist():
        if not (info.filename.startswith("xl/worksheets/") and info.filename.endswith(".xml")):
            continue
        rows, tail = 0, b""
        with archive.open(info) as part:
            while chunk := part.read(1 << 20):
                block = tail + chunk
                # a tag wholly inside the carried-over tail was counted with the previous chunk
                rows += sum(1 for m in _ROW_TAG.finditer(block) if m.end() > len(tail))
                tail = block[-64:]
                if rows > max_rows:
                    raise too_many_rows(file_name, None, max_rows)


def open_workbook(file_name: str, data: bytes, *, max_rows: int | None = None):
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
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
    except (zipfile.BadZipFile, OSError) as e:
        raise FileProblems(
            [Problem(file_name, "Excel（.xlsx）ファイルとして読めません（ファイルが壊れています）")]
        ) from e
    if "[Content_Types].xml" not in names or not any(n.startswith("xl/") for n in names):
        raise FileProblems([Problem(file_name, "ZIP 圧縮ファイルですが Excel（.xlsx）ファイルではありません")])
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            _check_sheet_sizes(file_name, archive, max_rows or MAX_SHEET_ROWS)
    except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as e:
        raise FileProblems(
            [Problem(file_name, "Excel（.xlsx）ファイルとして読めません（ファイルが壊れています）")]
        ) from e
    try:
        return load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as e:
        raise FileProblems([Problem(file_name, "Excel（.xlsx）ファイルとして読めません")]) from e


# What any of the importers' files needs at most: the national list has 1,788 bodies, a needs file at most
# needs.MAX_ROWS rows. Reading stops at these limits, so a small file declaring (or holding) millions of cells is
# refused in well under a second instead of holding a worker while openpyxl expands it.
MAX_SHEET_ROWS = 25000
MAX_SHEET_COLUMNS = 200


def sheet_rows(
    sheet, file_name: str = "", *, max_rows: int = MAX_SHEET_ROWS, max_columns: int = MAX_SHEET_COLUMNS
) -> list[tuple[Any, ...]]:
    """The rows of a sheet, refused (FileProblems) as soon as the sheet declares or turns out to hold more than
    ``max_rows`` rows; columns beyond ``max_columns`` are not read (no importer has a column that far right)."""
    name = file_name or sheet.title
    declared = _declared_rows(sheet)
    if declared is not None and declared > max_rows:
        raise too_many_rows(name, declared, max_rows, declared=True)
    rows = []
    # max_row past the limit: a dimension that understates the rows must not hide them from the count
    for row in sheet.iter_rows(max_row=max_rows + 1, max_col=max_columns, values_only=True):
        if len(rows) == max_rows:
            raise too_many_rows(name, None, max_rows)
        rows.append(tuple(row))
    return rows


def too_many_rows(file_name: str, rows: int | None, limit: int, *, declared: bool = False) -> FileProblems:
    count = (
        f"{rows:,}行{'あると宣言されています' if declared else ''}"
        if rows is not None
        else f"{limit:,}行を超えています"
    )
    return FileProblems([Problem(file_name, f"行が多すぎます（{count}）。{limit:,}行以下のファイルに分けてください")])


def _declared_rows(sheet) -> int | None:
    """The row count in the sheet's <dimension ref="A1:C200000">, read without reading the rows (None if absent)."""
    try:
        return sheet.max_row  # read-only sheets take it from the dimension element
    except Exception:  # an unparsable dimension: the row count while reading still applies
        return None


def decode_csv(file_name: str, data: bytes) -> list[list[str]]:
    """CSV text as Excel in Japan writes it (UTF-8 with or without BOM, or Shift_JIS/CP932)."""
    kind = content_kind(data)
    if kind in ("xlsx", "xls"):
        raise FileProblems([Problem(file_name, "Excel ファイルの内容です。CSV としては読めません")])
    if kind not in ("text", None):
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
